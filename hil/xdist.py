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

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pytest

from hil.workers import worker_id

PAYLOAD_KEY = "hil"


# -- worker side ------------------------------------------------------------

def _plain(o):
    """numpy scalars and the like, for json.dumps."""
    return o.item() if hasattr(o, "item") else float(o)


def worker_payload(board, records: dict, link0: dict) -> str:
    """What a worker sends the controller: records, link counters, INFO, as JSON."""
    info = board.info
    models = {}
    from hil.runner import link_report
    for name, (recs, _mr) in records.items():
        models[name] = dict(records=[dict(v.to_json(), layer_counts=v.layer_counts) for v in recs],
                            link=link_report(board, link0[name]),
                            restarts=[r for r in board.restart_log if r["model"] == name])
    cfg = board.options.config
    return json.dumps(dict(worker=worker_id(), board=board.name,
                           info=dict(board=info.board, fw_version=info.fw_version, build_hash=info.build_hash,
                                     clock_hz=info.clock_hz, counter=info.counter),
                           build=board.build_info(), logs=board.logs(),
                           config=dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(cfg),
                           capabilities=sorted(c.value for c in board.capabilities),
                           models=models), default=_plain)


# -- controller side --------------------------------------------------------

class BoardSnapshot:
    """The controller's record of the workers' boards (one kind, one firmware): what
    `assemble()` and the results store read from a board, as the workers reported it."""

    def __init__(self, parts: list[dict], links: list[dict] = ()):
        first = parts[0]
        self.name = first["board"]
        self.info = SimpleNamespace(**first["info"])
        self.options = SimpleNamespace(config=first.get("config", {}))
        self.capabilities = first.get("capabilities", [])
        self._build = first.get("build", {})
        self._logs = {f"{p['worker']} {k}": v for p in parts for k, v in p.get("logs", {}).items()}
        self.link = SimpleNamespace(bytes_in=sum(L["wire_bytes"] for L in links), bytes_out=0)
        self.device = SimpleNamespace(payload_bytes=sum(L["payload_bytes"] for L in links),
                                      dropped_frames=sum(L["dropped_frames"] for L in links))

    def build_info(self) -> dict:
        return self._build

    def logs(self) -> dict:
        return self._logs


def merge(payloads: list[str], runs: dict | None = None) -> tuple[list[dict], list[str]]:
    """One `hil-run` document per model from the workers' payloads, and warnings.

    The link figures are summed over the boards (`link.seconds` is board-seconds);
    `boards` says how many boards ran the model's vectors. `runs`, if given, gets
    model -> (ModelRun, verdicts) for the results store.
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
        snapshot = BoardSnapshot(mine, links)
        snapshot.restart_log = [r for p in mine for r in p["models"][name].get("restarts", [])]
        if runs is not None:
            runs[name] = (mr, records)
        doc = assemble(snapshot, mr, records, _sum_links(links))
        doc["boards"] = len(mine)
        docs.append(doc)
    return docs, warnings


def _sum_links(links: list[dict]) -> dict:
    """The workers' `link` reports summed key by key (seconds become board-seconds)."""
    out: dict = {}
    for link in links:
        for k, v in link.items():
            if isinstance(v, dict):
                d = out.setdefault(k, {})
                for kk, vv in v.items():
                    d[kk] = d.get(kk, 0) + vv
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + v
            else:
                out.setdefault(k, v)
    return out


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
        self.warnings: list[str] = []

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
        if payload:
            self.payloads.append(payload)

    def pytest_sessionfinish(self, session):
        out = getattr(session.config, "workeroutput", None)
        if out is not None:         # a worker: hand the controller what it ran
            board = self.state.get("board")
            if board is not None and board.info is not None and self.state["records"]:
                out[PAYLOAD_KEY] = worker_payload(board, self.state["records"], self.state["link0"])
        elif self.payloads:         # the controller: the plugin's summary prints these docs
            runs: dict = {}
            self.state["docs"], self.warnings = merge(self.payloads, runs)
            self._record(session, runs)

    def _record(self, session, runs: dict) -> None:
        """With --hil-db: the merged session as ONE run in the results store, judged against its baseline."""
        config = session.config
        path = self.state.get("db_path")       # --hil-db, else $HIL_DB as the session started
        if not path:
            return
        from hil.results.baseline import Thresholds
        from hil.results.recorder import RunRecorder
        from hil.results.recording import lab_doc
        from hil.results.store import Store
        parts = [json.loads(p) for p in self.payloads]
        th = Thresholds.from_config(lab_doc(config.getoption("--hil-config")).get("thresholds"))
        store = Store.open(path)
        try:
            with RunRecorder(store, BoardSnapshot(parts), list(runs), config.getoption("hil_vectors"), th,
                             argv=list(config.invocation_params.args)) as rec:
                for doc in self.state["docs"]:
                    mr, verdicts = runs[doc["model"]]
                    for v in verdicts:
                        rec.sink(mr, v)
                    rec.finish_model(doc["model"], doc)
        finally:
            store.close()
        self.state["db"] = str(store.path)
        self.state["regressions"] = rec.regression_lines()
        if self.state["regressions"] and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        for w in self.warnings:
            terminalreporter.write_line(f"hil: warning: {w}", yellow=True)
