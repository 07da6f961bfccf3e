"""`pytest -n N` (pytest-xdist): N boards at once, one merged result.

Each xdist worker is its own pytest session with its own board (an emulated
board starts its own emulator on its own port; a real board is the worker's
own unit from the lab config, see `worker_index`). xdist spreads the golden
vectors over the workers. At the end every worker sends its raw per-vector
records, link counters and what its device said in INFO to the controller
(xdist's `workeroutput`: its `BoardIdentity`, verdicts, `LinkReport`s and
restarts as JSON), and the controller (`HilSession.merge_workers`) assembles
ONE `ModelResult` per model with the same `hil.runner.assemble` a single-board
run uses, so the summary table and the results JSON look the same with or
without `-n`.

An emulator is pinned to one CPU per worker (`worker_cpu`): its threads then
hand bytes over without crossing CPUs, which is most of an emulated run's
time (docs/lab-farm.md has the figures).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from hil.boards.identity import BoardIdentity
from hil.results.model_result import LinkReport, ModelResult, Restart
from hil.workers import worker_id

PAYLOAD_KEY = "hil"


# -- worker side ------------------------------------------------------------

def _plain(o):
    """numpy scalars and the like, for json.dumps."""
    return o.item() if hasattr(o, "item") else float(o)


def worker_payload(board, records: dict, link0: dict) -> str:
    """What a worker sends the controller: its board's identity, records, links, restarts, as JSON."""
    from hil.runner import link_report, restarts_of
    models = {}
    for name, recs in records.items():
        models[name] = dict(records=[dict(v.to_json(), layer_counts=v.layer_counts) for v in recs],
                            link=link_report(board, link0[name]).to_json(),
                            restarts=[r.to_json() for r in restarts_of(board, name)])
    return json.dumps(dict(worker=worker_id(), identity=board.identity().to_json(), logs=board.logs(),
                           models=models), default=_plain)


# -- controller side --------------------------------------------------------

@dataclass
class Merged:
    """The workers' results: one ModelResult per model, the board they ran on, warnings."""
    identity: BoardIdentity
    results: list[ModelResult] = field(default_factory=list)
    runs: dict = field(default_factory=dict)           # model -> (ModelRun, verdicts), for the results store
    logs: dict[str, str] = field(default_factory=dict)  # "<worker> <log name>" -> text
    warnings: list[str] = field(default_factory=list)


def merge(payloads: list[str]) -> Merged:
    """One `hil-run` result per model from the workers' payloads, and warnings.

    The link figures are summed over the boards (`link.seconds` is board-seconds);
    `boards` says how many boards ran the model's vectors.
    """
    from golden import artifact, bundle
    from golden.paths import artifact_dir, qmodel_path
    from hil.runner import ModelRun, assemble

    parts = [json.loads(p) for p in payloads]
    ids = [BoardIdentity.from_json(p["identity"]) for p in parts]
    out = Merged(ids[0], logs={f"{p['worker']} {k}": v for p in parts for k, v in p.get("logs", {}).items()})
    builds = {(i.build_hash, i.fw_version) for i in ids}
    if len(builds) > 1:
        out.warnings.append(f"the workers' boards ran different firmware builds: {sorted(builds)}")
    names = list(dict.fromkeys(n for p in parts for n in p["models"]))
    for name in names:
        mine = [(p, i) for p, i in zip(parts, ids) if name in p["models"]]
        mr = ModelRun(name, bundle.read(artifact_dir(name)), artifact.load(qmodel_path(name)), None)
        records = [_verdict(r, mr) for p, _ in mine for r in p["models"][name]["records"]]
        link = sum(LinkReport.from_json(p["models"][name]["link"]) for p, _ in mine)
        restarts = [Restart.from_json(r) for p, _ in mine for r in p["models"][name].get("restarts", [])]
        out.runs[name] = (mr, records)
        out.results.append(assemble(mine[0][1], mr, records, link, restarts=restarts, boards=len(mine)))
    return out


def _verdict(r: dict, mr):
    """A worker's per-vector entry back as a VectorVerdict, judged against the bundle here."""
    from hil.compare import VectorVerdict
    return VectorVerdict(index=r["index"], label=r["label"], device=np.asarray(r["device"]),
                         expected=mr.bundle.int_logits[r["index"]].reshape(-1), count=r["count"],
                         layer_counts=r["layer_counts"], round_trip_s=r["round_trip_s"],
                         first_bad_layer=r.get("first_bad_layer"), first_bad_index=r.get("first_bad_index"))
