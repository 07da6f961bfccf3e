"""`pytest -n N` (pytest-xdist): N boards at once, one merged result.

Each xdist worker is its own pytest session with its own board (an emulated
board starts its own emulator on its own port; a real board is the worker's
own unit from the lab config, see `worker_index`). xdist spreads the golden
vectors over the workers. At the end every worker sends its raw per-vector
records, link counters and what its device said in INFO to the controller
(xdist's `workeroutput`), and the controller assembles ONE results document
per model with the same `hil.runner.assemble` a single-board run uses, so the
summary table and the results JSON look the same with or without `-n`.

An emulator is pinned to one CPU per worker (`worker_cpu`): its threads then
hand bytes over without crossing CPUs, which is most of an emulated run's
time (docs/lab-farm.md has the figures).
"""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import numpy as np
import pytest

from hil.errors import HilError
from hil.workers import worker_id

PAYLOAD_KEY = "hil"


class ParallelError(HilError):
    """The parallel run cannot be set up or merged."""


# -- worker side ------------------------------------------------------------

def _plain(o):
    """numpy scalars and the like, for json.dumps."""
    return o.item() if hasattr(o, "item") else float(o)


def worker_payload(board, records: dict, link0: dict) -> str:
    """What a worker sends the controller: records, link counters, INFO, as JSON."""
    info = board.info
    models = {}
    now = time.perf_counter()
    for name, (recs, _mr) in records.items():
        wire0, pay0, t0 = link0[name]
        models[name] = dict(records=[dict(v.to_json(), layer_counts=v.layer_counts) for v in recs], link=dict(
            wire_bytes=board.link.bytes_in + board.link.bytes_out - wire0,
            payload_bytes=board.device.payload_bytes - pay0,
            seconds=now - t0, dropped_frames=board.device.dropped_frames))
    return json.dumps(dict(worker=worker_id(), board=board.name,
                           info=dict(board=info.board, fw_version=info.fw_version, build_hash=info.build_hash,
                                     clock_hz=info.clock_hz, counter=info.counter),
                           models=models), default=_plain)


# -- controller side --------------------------------------------------------

def merge(payloads: list[str]) -> tuple[list[dict], list[str]]:
    """One `hil-run` document per model from the workers' payloads, and warnings.

    The link figures are summed over the boards (`link.seconds` is board-seconds);
    `boards` says how many boards ran the model's vectors.
    """
    from golden import artifact, bundle
    from golden.paths import artifact_dir, qmodel_path
    from hil.runner import ModelRun, assemble

    parts = [json.loads(p) for p in payloads]
    warnings = []
    builds = {(p["info"]["build_hash"], p["info"]["fw_version"]) for p in parts}
    if len(builds) > 1:
        warnings.append(f"the workers' boards ran different firmware builds: {sorted(builds)}")
    names = list(dict.fromkeys(n for p in parts for n in p["models"]))
    docs = []
    for name in names:
        mine = [p for p in parts if name in p["models"]]
        mr = ModelRun(name, bundle.read(artifact_dir(name)), artifact.load(qmodel_path(name)), None)
        records = [_verdict(r, mr) for p in mine for r in p["models"][name]["records"]]
        links = [p["models"][name]["link"] for p in mine]
        snapshot = SimpleNamespace(
            name=mine[0]["board"], info=SimpleNamespace(**mine[0]["info"]),
            link=SimpleNamespace(bytes_in=sum(L["wire_bytes"] for L in links), bytes_out=0),
            device=SimpleNamespace(payload_bytes=sum(L["payload_bytes"] for L in links),
                                   dropped_frames=sum(L["dropped_frames"] for L in links)))
        # assemble() measures seconds as now - t0: hand it the summed board-seconds that way
        doc = assemble(snapshot, mr, records, (0, 0, time.perf_counter() - sum(L["seconds"] for L in links)))
        doc["boards"] = len(mine)
        docs.append(doc)
    return docs, warnings


def _verdict(r: dict, mr):
    """A worker's per-vector entry back as a VectorVerdict, judged against the bundle here."""
    from hil.compare import VectorVerdict
    return VectorVerdict(index=r["index"], label=r["label"], device=np.asarray(r["device"]),
                         expected=mr.bundle.int_logits[r["index"]].reshape(-1), count=r["count"],
                         layer_counts=r["layer_counts"], round_trip_s=r["round_trip_s"],
                         first_bad_layer=r.get("first_bad_layer"), first_bad_index=r.get("first_bad_index"))


class XdistCollector:
    """Registered on the controller and in workers when pytest-xdist is active."""

    def __init__(self, state: dict):
        self.state = state          # the plugin's session state (board, records, link0)
        self.payloads: list[str] = []

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
        if payload:
            self.payloads.append(payload)

    def pytest_sessionfinish(self, session):
        board = self.state.get("board")
        out = getattr(session.config, "workeroutput", None)
        if out is not None and board is not None and board.info is not None and self.state["records"]:
            out[PAYLOAD_KEY] = worker_payload(board, self.state["records"], self.state["link0"])


def is_controller(config) -> bool:
    """True in the process that runs workers (`-n N`, N > 0)."""
    return (not hasattr(config, "workerinput") and config.pluginmanager.hasplugin("xdist")
            and bool(getattr(config.option, "numprocesses", None)))


def is_worker(config) -> bool:
    return hasattr(config, "workerinput")
