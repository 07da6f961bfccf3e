"""One run of a board, recorded in the results store as it goes.

    with RunRecorder(store, board.identity(), models, vectors, logs=board.logs) as rec:   # board open
        for m in models:
            result = run_model(board, m, vectors, sink=rec.sink, done=rec.done(m))
            verdict = rec.finish_model(m, result)

Leaving the block normally marks the run complete; an exception (device
dead, Ctrl-C) leaves it incomplete with every finished vector kept (aborted
if none had finished), and `resume=RUN_ID` continues it on a board running
the same firmware image. A process killed outright leaves it incomplete.
The emulator's output and the host's log lines are kept with the run.
"""
from __future__ import annotations

import logging
import os
from typing import Callable

import numpy as np

from hil.boards.identity import BoardIdentity
from hil.errors import HilError
from hil.results import baseline
from hil.results.model_result import ModelResult
from hil.results.provenance import run_meta
from hil.results.store import Store, StoredRun, StoreError


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))


class RunRecorder:
    def __init__(self, store: Store, board: BoardIdentity, models: list[str], vectors: int | None,
                 thresholds: baseline.Thresholds | None = None, argv: list[str] | None = None,
                 resume: int | None = None, logs: Callable[[], dict[str, str]] = dict):
        self.store, self.board, self.models, self.vectors = store, board, list(models), vectors
        self.logs = logs      # the board's logs (emulator output, device console), read at the end
        self.thresholds = thresholds or baseline.Thresholds()
        self.argv, self.resume = argv, resume
        self.run_id: int | None = None
        self.verdicts: dict[str, baseline.Verdict] = {}
        self._started: set[str] = set()
        self._log = _ListHandler()
        self._stopped = False        # a model's run ended early (device dead after its restarts)

    def __enter__(self) -> "RunRecorder":
        meta = run_meta(self.board, self.models, self.vectors, self.argv)
        if self.resume is not None:
            self.run_id = self.resume
            check_resumable(self.store.run(self.resume), meta)
            self.store.reopen_run(self.resume, os.getpid())
        else:
            self.run_id = self.store.start_run(meta)
        logging.getLogger().addHandler(self._log)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        logging.getLogger().removeHandler(self._log)
        logs = dict(self.logs())
        if self._log.lines:
            logs["host"] = "\n".join(self._log.lines)
        if exc is not None:
            logs["host"] = (logs.get("host", "") + f"\nrun stopped: {type(exc).__name__}: {exc}").lstrip()
        for name, text in logs.items():
            self.store.add_log(self.run_id, name, text)
        if exc is None and not self._stopped:
            status = "complete"
        else:     # nothing finished: nothing to resume either
            status = "incomplete" if self.store.vector_count(self.run_id) else "aborted"
        self.store.finish_run(self.run_id, status)

    def done(self, model: str) -> list:
        """Verdicts of this model already recorded (resume), rebuilt against the golden bundle."""
        if self.resume is None:
            return []
        from golden import bundle
        from golden.paths import artifact_dir
        from hil.compare import VectorVerdict
        b = bundle.read(artifact_dir(model))
        row = self.store.run_model(self.run_id, model)
        if row is not None and row.bundle_hash not in (None, b.info.hash):
            raise HilError(f"run {self.run_id} cannot be resumed: the golden bundle of {model} changed since "
                           f"(was {row.bundle_hash[:19]}, now {b.info.hash[:19]}); start a new run")
        return [VectorVerdict.from_wire(v.to_json(), b.int_logits)
                for v in self.store.vectors(self.run_id, model)]

    def sink(self, mr, record) -> None:
        """Commit one finished vector (runner callback)."""
        if mr.name not in self._started:
            self.store.start_model(
                self.run_id, mr.name, model_hash=mr.model_hash, bundle_hash=mr.bundle.info.hash,
                task=mr.task, planned=self.vectors, counter=self.board.counter or "none",
                layers=[dict(name=L.name, type=L.type, macs=L.macs) for L in mr.layers],
                classes=mr.classes)
            self._started.add(mr.name)
        i = int(record.index)
        extra = {}
        if mr.task == "classification":      # for the device-vs-float confusion matrix
            extra["float_pred"] = int(np.argmax(mr.bundle.float_logits[i]))
        self.store.record_vector(self.run_id, mr.name, record, counter=self.board.counter or "none",
                                 extra=extra)

    def finish_model(self, model: str, result: ModelResult) -> baseline.Verdict:
        """Store the model's summary, compare it with its baseline; returns the verdict."""
        if model not in self._started:      # a resumed run whose model was already complete
            self._started.add(model)
        self._stopped |= bool(result.aborted)      # the runner's "gave up" mark: resumable
        self.store.finish_model(self.run_id, model, result)
        self.verdicts[model] = baseline.judge(self.store, self.run_id, model, self.thresholds)
        return self.verdicts[model]

    def regression_lines(self) -> list[str]:
        return [line for m, v in self.verdicts.items() for line in baseline.describe(self.board.name, m, v)]


def check_resumable(run: StoredRun, meta: dict) -> None:
    """A run resumes only on the same board, counter kind and firmware image (`meta`: what
    provenance.run_meta() says of the board now)."""
    if run.status != "incomplete":
        raise StoreError(f"run {run.id} is {run.status}, nothing to resume")
    if still_running(run):
        raise StoreError(f"run {run.id} is still running (pid {run.pid} on {run.host}): "
                         f"wait for it or stop it first")
    for key, was in (("board", run.board), ("counter", run.counter), ("image_hash", run.image_hash),
                     ("build_hash", run.build_hash)):
        if was != meta.get(key):
            raise HilError(f"run {run.id} cannot be resumed: its {key} was {was!r}, now "
                           f"{meta.get(key)!r}; start a new run (without --resume)")


def still_running(run: StoredRun) -> bool:
    """Is the process that owns this incomplete run alive (on this host)?"""
    import socket
    if run.status != "incomplete" or not run.pid or run.host != socket.gethostname():
        return False
    if run.pid == os.getpid():
        return False
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:     # a zombie (killed, not yet reaped by its parent) is not running
        with open(f"/proc/{run.pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
