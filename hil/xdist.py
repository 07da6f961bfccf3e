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


@dataclass
class WorkerModel:
    """One model's share of a worker: its verdicts (VectorVerdict.to_wire), link and restarts."""
    records: list[dict]
    link: LinkReport
    restarts: list[Restart] = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(records=self.records, link=self.link.to_json(), restarts=[r.to_json() for r in self.restarts])

    @classmethod
    def from_json(cls, j: dict) -> "WorkerModel":
        return cls(j["records"], LinkReport.from_json(j["link"]),
                   [Restart.from_json(r) for r in j.get("restarts", [])])


@dataclass
class WorkerPayload:
    """What a worker sends the controller (xdist's `workeroutput`, as JSON text)."""
    worker: str | None
    identity: BoardIdentity
    logs: dict[str, str] = field(default_factory=dict)
    models: dict[str, WorkerModel] = field(default_factory=dict)

    def to_json(self) -> str:
        models = {name: m.to_json() for name, m in self.models.items()}
        return json.dumps(dict(worker=self.worker, identity=self.identity.to_json(), logs=self.logs,
                               models=models), default=_plain)

    @classmethod
    def from_json(cls, text: str) -> "WorkerPayload":
        j = json.loads(text)
        models = {name: WorkerModel.from_json(m) for name, m in j["models"].items()}
        return cls(j.get("worker"), BoardIdentity.from_json(j["identity"]), j.get("logs", {}), models)


def worker_payload(board, records: dict, link0: dict) -> str:
    """What a worker sends the controller: its board's identity, records, links, restarts, as JSON."""
    from hil.runner import link_report, restarts_of
    models = {name: WorkerModel([v.to_wire() for v in recs], link_report(board, link0[name]),
                                restarts_of(board, name))
              for name, recs in records.items()}
    return WorkerPayload(worker_id(), board.identity(), board.logs(), models).to_json()


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
    from hil.compare import VectorVerdict
    from hil.runner import ModelRun, assemble

    parts = [WorkerPayload.from_json(p) for p in payloads]
    out = Merged(parts[0].identity, logs={f"{p.worker} {k}": v for p in parts for k, v in p.logs.items()})
    builds = {(p.identity.build_hash, p.identity.fw_version) for p in parts}
    if len(builds) > 1:
        out.warnings.append(f"the workers' boards ran different firmware builds: {sorted(builds)}")
    for name in dict.fromkeys(n for p in parts for n in p.models):
        mine = [p for p in parts if name in p.models]
        mr = ModelRun(name, bundle.read(artifact_dir(name)), artifact.load(qmodel_path(name)), None)
        records = [VectorVerdict.from_wire(r, mr.bundle.int_logits) for p in mine for r in p.models[name].records]
        link = sum(p.models[name].link for p in mine)
        restarts = [r for p in mine for r in p.models[name].restarts]
        out.runs[name] = (mr, records)
        out.results.append(assemble(mine[0].identity, mr, records, link, restarts=restarts, boards=len(mine)))
    return out
