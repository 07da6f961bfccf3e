"""The results store: one SQLite file holding every run, vector by vector.

Each finished vector is committed as it finishes, so a run killed half-way
keeps what it did and stays `incomplete` until `hil run --resume` finishes
it. WAL mode and a busy timeout let two writers (a nightly job and a
developer's `hil run`, or two pytest sessions) share one file.

The schema carries a version (`PRAGMA user_version`); `MIGRATIONS[i]` moves
a file from version i to i+1, so old files open in new hil releases and a
file from a newer hil is refused with a clear message.

Every figure is stored with its counter kind (`icount` / `systick_icount` on
the QEMU twin, `modelled` on fpga-sim, `dwt` on silicon): a count only
compares with a count of the same kind. A count is stored as `count` next to
its kind, whatever name the results JSON gives it for its unit.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import HilError, StoreError  # noqa: F401 - StoreError is defined in hil.errors
from hil.results.baseline import Verdict
from hil.results.model_result import Accuracy, LayerFigure, LinkReport

DEFAULT_DB = "hil-results.db"
STATUSES = ("incomplete", "complete", "aborted")
BUSY_TIMEOUT_S = 30.0

MIGRATIONS: list[str] = [
    # 0 -> 1: the first schema.
    """
    CREATE TABLE runs(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started REAL NOT NULL, ended REAL,
        status TEXT NOT NULL CHECK (status IN ('incomplete', 'complete', 'aborted')),
        board TEXT NOT NULL, device_board TEXT, probe_uid TEXT, clock_hz INTEGER, counter TEXT,
        host TEXT, pid INTEGER, git_commit TEXT, git_dirty INTEGER,
        fw_version TEXT, build_hash TEXT, image_hash TEXT, compiler TEXT, cflags TEXT,
        models TEXT NOT NULL, vectors INTEGER, meta TEXT NOT NULL DEFAULT '{}');
    CREATE INDEX runs_board ON runs(board, counter, started);
    CREATE TABLE run_models(
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, model TEXT NOT NULL,
        model_hash TEXT, bundle_hash TEXT, task TEXT, planned INTEGER, counter TEXT,
        layers TEXT NOT NULL DEFAULT '[]', classes TEXT, summary TEXT, verdict TEXT,
        PRIMARY KEY (run_id, model));
    CREATE TABLE vectors(
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, model TEXT NOT NULL,
        idx INTEGER NOT NULL, int_match INTEGER NOT NULL, label TEXT, outputs TEXT NOT NULL,
        counter TEXT, count INTEGER, layer_counts TEXT, round_trip_s REAL,
        first_bad_layer TEXT, first_bad_index INTEGER, extra TEXT NOT NULL DEFAULT '{}',
        finished REAL NOT NULL,
        PRIMARY KEY (run_id, model, idx));
    CREATE TABLE baselines(
        board TEXT NOT NULL, model TEXT NOT NULL, counter TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs(id), pinned REAL NOT NULL,
        PRIMARY KEY (board, model, counter));
    CREATE TABLE logs(
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL,
        text TEXT NOT NULL, PRIMARY KEY (run_id, name));
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
LOG_LIMIT = 1_000_000     # characters of one log kept (the tail: where a failure shows)

RUN_FIELDS = ("board", "device_board", "probe_uid", "clock_hz", "counter", "host", "pid", "git_commit",
              "git_dirty", "fw_version", "build_hash", "image_hash", "compiler", "cflags", "vectors")
# Per-vector record keys the store keeps in columns; anything else goes to `extra`. A count is
# stored as `count` with its counter kind next to it, whatever the runner calls it.
VECTOR_COLUMNS = ("index", "label", "device", "int_match", "count", "layer_counts", "round_trip_s",
                  "first_bad_layer", "first_bad_index")
COUNT_KEYS = ("count", "instructions", "cycles", "modelled_cycles", "icount_ticks")
LAYER_COUNT_KEYS = ("layer_counts", "layer_instructions", "layer_cycles")


# ---- what the store returns ------------------------------------------------------------------------

@dataclass(frozen=True)
class RunMeta:
    """A run's `meta` blob: what start_run() got beyond the run's columns (hil/results/provenance.py)."""
    argv: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)      # the board's lab-config table as plain data
    build: dict = field(default_factory=dict)       # the firmware build's record beyond image, compiler, flags

    @classmethod
    def from_json(cls, j: dict) -> "RunMeta":
        return cls(list(j.get("argv") or []), list(j.get("capabilities") or []), dict(j.get("config") or {}),
                   dict(j.get("build") or {}))


@dataclass(frozen=True)
class StoredSummary:
    """A model's `summary` blob, the results document (ModelResult.to_json() without per_vector):
    the parts the store's readers use, in model_result's types."""
    vectors: int | None = None
    int_mismatches: int | None = None
    unit: str | None = None
    accuracy: Accuracy | None = None         # None: none recorded
    link: LinkReport = field(default_factory=LinkReport)

    @classmethod
    def from_json(cls, j: dict) -> "StoredSummary":
        return cls(j.get("vectors"), j.get("int_mismatches"), j.get("unit"),
                   Accuracy.from_json(j["accuracy"]) if j.get("accuracy") else None, LinkReport.from_json(j.get("link")))


@dataclass(frozen=True)
class StoredModel:
    """One model of a run: what start_model() registered, its summary and verdict, vectors done."""
    run_id: int
    model: str
    model_hash: str | None = None
    bundle_hash: str | None = None
    task: str | None = None
    planned: int | None = None
    counter: str | None = None
    layers: list[LayerFigure] = field(default_factory=list)     # name, type, MACs (no figures)
    classes: list | None = None
    summary: StoredSummary | None = None
    verdict: Verdict | None = None
    done: int = 0                                                # vectors recorded


@dataclass(frozen=True)
class StoredRun:
    """A run (its columns, meta blob) with its per-model rows."""
    id: int
    status: str
    board: str
    started: float | None = None
    ended: float | None = None
    device_board: str | None = None
    probe_uid: str | None = None
    clock_hz: int | None = None
    counter: str | None = None
    host: str | None = None
    pid: int | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    fw_version: str | None = None
    build_hash: str | None = None
    image_hash: str | None = None
    compiler: str | None = None
    cflags: str | None = None
    model_names: list[str] = field(default_factory=list)        # as asked for, in order
    vectors: int | None = None
    meta: RunMeta = field(default_factory=RunMeta)
    models: list[StoredModel] = field(default_factory=list)     # registered so far, in order


@dataclass(frozen=True)
class StoredVector:
    """One recorded vector, with the runner's record in typed form."""
    index: int
    label: Any
    device: list
    int_match: bool
    count: int | None = None
    layer_counts: list | None = None
    round_trip_s: float | None = None
    counter: str | None = None
    first_bad_layer: str | None = None
    first_bad_index: int | None = None
    float_pred: int | None = None       # the float model's class (classification)
    extra: dict = field(default_factory=dict)     # any other keys the record carried

    def to_json(self) -> dict:
        """The runner's record keys (hil.compare.VectorVerdict.from_wire reads them)."""
        out = dict(index=self.index, label=self.label, device=self.device, int_match=self.int_match,
                   count=self.count, layer_counts=self.layer_counts, round_trip_s=self.round_trip_s,
                   counter=self.counter)
        if self.first_bad_layer is not None:
            out.update(first_bad_layer=self.first_bad_layer, first_bad_index=self.first_bad_index)
        if self.float_pred is not None:
            out["float_pred"] = self.float_pred
        return {**out, **self.extra}


@dataclass(frozen=True)
class CountStats:
    """Median whole-inference count and per-layer medians of a run's model over its vectors."""
    median: float
    n: int
    layers: list[float]


@dataclass(frozen=True)
class PinnedBaseline:
    board: str
    model: str
    counter: str
    run_id: int
    pinned: float


# ---- the store's row mapping: the only code that knows rows' columns and records' keys ----------

def _blob(text: str | None, parse=None, empty=None):
    if not text:
        return empty
    j = json.loads(text)
    return parse(j) if parse else j


def _vector_columns(run_id: int, model: str, verdict, counter: str | None, extra: dict | None) -> tuple:
    """The vectors row of a runner record (hil.compare.VectorVerdict, or its JSON dict); a count
    goes to `count` whatever the runner calls it, keys without a column to `extra`."""
    d = _plain(verdict) if not isinstance(verdict, dict) else {k: _plain(x) for k, x in verdict.items()}
    if not isinstance(verdict, dict):
        d["int_match"] = bool(verdict.int_match)     # a property, not a field
        d.pop("expected", None)                      # the golden bundle's row: kept there, not here
    if d.get("device") is not None:
        d["device"] = np.asarray(d["device"]).reshape(-1).tolist()
    for name, keys in (("count", COUNT_KEYS), ("layer_counts", LAYER_COUNT_KEYS)):
        if d.get(name) is None:
            d[name] = next((d.pop(k) for k in keys if d.get(k) is not None), None)
    rest = {k: x for k, x in d.items() if k not in VECTOR_COLUMNS}
    rest.update(extra or {})
    return (run_id, model, int(d["index"]), int(bool(d["int_match"])), _json(d.get("label")),
            _json(d.get("device")), counter, d.get("count"),
            _json(d["layer_counts"]) if d.get("layer_counts") else None, d.get("round_trip_s"),
            d.get("first_bad_layer"), d.get("first_bad_index"), _json(rest), time.time())


def _run_columns(meta: dict) -> tuple[dict, str, str]:
    """(the runs columns of RUN_FIELDS, the models JSON, the meta JSON) of start_run()'s meta."""
    cols = {k: meta.get(k) for k in RUN_FIELDS}
    if cols["git_dirty"] is not None:
        cols["git_dirty"] = int(bool(cols["git_dirty"]))
    rest = {k: v for k, v in meta.items() if k not in RUN_FIELDS and k != "models"}
    return cols, _json(list(meta.get("models", []))), _json(rest)


def _run_row(row: sqlite3.Row, models: list[StoredModel]) -> StoredRun:
    dirty = row["git_dirty"]
    return StoredRun(
        id=row["id"], status=row["status"], board=row["board"], started=row["started"], ended=row["ended"],
        device_board=row["device_board"], probe_uid=row["probe_uid"], clock_hz=row["clock_hz"],
        counter=row["counter"], host=row["host"], pid=row["pid"], git_commit=row["git_commit"],
        git_dirty=None if dirty is None else bool(dirty), fw_version=row["fw_version"],
        build_hash=row["build_hash"], image_hash=row["image_hash"], compiler=row["compiler"],
        cflags=row["cflags"], model_names=json.loads(row["models"]), vectors=row["vectors"],
        meta=RunMeta.from_json(json.loads(row["meta"])), models=models)


def _model_row(row: sqlite3.Row) -> StoredModel:
    return StoredModel(
        run_id=row["run_id"], model=row["model"], model_hash=row["model_hash"], bundle_hash=row["bundle_hash"],
        task=row["task"], planned=row["planned"], counter=row["counter"],
        layers=_blob(row["layers"], lambda j: [LayerFigure.from_json(L, None) for L in j], []),
        classes=_blob(row["classes"]), summary=_blob(row["summary"], StoredSummary.from_json),
        verdict=_blob(row["verdict"], Verdict.from_json), done=row["done"])


def _vector_row(row: sqlite3.Row) -> StoredVector:
    extra = json.loads(row["extra"])
    float_pred = extra.pop("float_pred", None)
    return StoredVector(
        index=row["idx"], label=_blob(row["label"]), device=json.loads(row["outputs"]),
        int_match=bool(row["int_match"]), count=row["count"], layer_counts=_blob(row["layer_counts"]),
        round_trip_s=row["round_trip_s"], counter=row["counter"], first_bad_layer=row["first_bad_layer"],
        first_bad_index=row["first_bad_index"] if row["first_bad_layer"] is not None else None,
        float_pred=float_pred, extra=extra)


def _baseline_row(row: sqlite3.Row) -> PinnedBaseline:
    return PinnedBaseline(row["board"], row["model"], row["counter"], row["run_id"], row["pinned"])


def _good_row(row: sqlite3.Row) -> int | None:
    """The run id of a (run, model) row that is a good baseline: no integer mismatch, no regression."""
    summary = _blob(row["summary"], StoredSummary.from_json)
    verdict = _blob(row["verdict"], Verdict.from_json)
    good = summary is not None and summary.int_mismatches == 0 and not (verdict and verdict.regression)
    return row["id"] if good else None


def default_path(explicit: str | os.PathLike | None = None, config: dict | None = None) -> Path:
    """--db, else $HIL_DB, else the lab config's `db` key, else ./hil-results.db."""
    for p in (explicit, os.environ.get("HIL_DB"), (config or {}).get("db")):
        if p:
            return Path(p)
    return Path(DEFAULT_DB)


def _json(v) -> str:
    return json.dumps(_plain(v), separators=(",", ":"))


def _plain(v):
    """numpy scalars/arrays and dataclasses -> JSON-able Python values."""
    if is_dataclass(v) and not isinstance(v, type):
        return _plain(asdict(v))
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


class Store:
    """One results file. Use `Store.open(path)`; close() or use as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path, self.conn = path, conn

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, create: bool = True) -> "Store":
        """Open (and with `create`, make) a results file; readers pass create=False."""
        path = Path(path) if path else default_path()
        if not create and not path.exists():
            raise StoreError(f"no results store at {path}: record runs first (`hil run`, `hil nightly`) "
                             f"or pass --db / set $HIL_DB")
        if path.exists() and path.is_dir():
            raise StoreError(f"results store {path} is a directory: pass a file path with --db")
        if path.parent and not path.parent.exists():
            raise StoreError(f"results store {path}: directory {path.parent} does not exist")
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")   # WAL + NORMAL: durable across a killed process
            store = cls(path, conn)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"results store {path} cannot be opened ({exc}): is it a hil results file?") from None
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _tx(self):
        # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on the
        # busy timeout instead of failing with "database is locked" half-way.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _migrate(self) -> None:
        with self._tx() as c:
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"results store {self.path} has schema version {version}, this hil knows "
                                 f"up to {SCHEMA_VERSION}: upgrade hil or use another --db")
            for v in range(version, SCHEMA_VERSION):
                for stmt in MIGRATIONS[v].split(";"):
                    if stmt.strip():
                        c.execute(stmt)
            if version != SCHEMA_VERSION:
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # ---- writing ---------------------------------------------------------------------------------

    def start_run(self, meta: dict) -> int:
        """A new run in state `incomplete`; meta holds RUN_FIELDS, `models` and anything else."""
        cols, models, rest = _run_columns(meta)
        with self._tx() as c:
            cur = c.execute(
                f"INSERT INTO runs(started, status, models, meta, {', '.join(cols)}) "
                f"VALUES (?, 'incomplete', ?, ?, {', '.join('?' * len(cols))})",
                (time.time(), models, rest, *cols.values()))
            return int(cur.lastrowid)

    def start_model(self, run_id: int, model: str, *, model_hash: str | None = None,
                    bundle_hash: str | None = None, task: str | None = None, planned: int | None = None,
                    counter: str | None = None, layers: list[dict] | None = None,
                    classes: list | None = None) -> None:
        """Register a model of a run (its layer names, types and MACs, class names); idempotent."""
        with self._tx() as c:
            c.execute("INSERT INTO run_models(run_id, model, model_hash, bundle_hash, task, planned, counter, layers, "
                      "classes) VALUES (?,?,?,?,?,?,?,?,?) "
                      "ON CONFLICT(run_id, model) DO UPDATE SET planned = excluded.planned",
                      (run_id, model, model_hash, bundle_hash, task, planned, counter, _json(layers or []),
                       _json(classes)))

    def record_vector(self, run_id: int, model: str, verdict, counter: str | None = None,
                      extra: dict | None = None) -> None:
        """Commit one finished vector (a runner record: dict or typed verdict)."""
        row = _vector_columns(run_id, model, verdict, counter, extra)
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO vectors(run_id, model, idx, int_match, label, outputs, counter, "
                      "count, layer_counts, round_trip_s, first_bad_layer, first_bad_index, extra, finished) "
                      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row)

    def finish_model(self, run_id: int, model: str, summary, verdict: Verdict | None = None) -> None:
        """The model's results document (a ModelResult or its JSON; kept without per-vector records)
        and its regression verdict."""
        summary = summary.to_json() if hasattr(summary, "to_json") else summary
        summary = {k: v for k, v in summary.items() if k != "per_vector"}
        with self._tx() as c:
            c.execute("UPDATE run_models SET summary = ?, verdict = ? WHERE run_id = ? AND model = ?",
                      (_json(summary), _json(verdict.to_json()) if verdict is not None else None, run_id, model))

    def set_verdict(self, run_id: int, model: str, verdict: Verdict) -> None:
        with self._tx() as c:
            c.execute("UPDATE run_models SET verdict = ? WHERE run_id = ? AND model = ?",
                      (_json(verdict.to_json()), run_id, model))

    def add_log(self, run_id: int, name: str, text: str) -> None:
        """Keep a log (emulator output, host log) with the run; appended to on resume."""
        with self._tx() as c:
            row = c.execute("SELECT text FROM logs WHERE run_id = ? AND name = ?", (run_id, name)).fetchone()
            if row is not None and row[0]:
                text = row[0] + "\n----- resumed -----\n" + text
            c.execute("INSERT OR REPLACE INTO logs(run_id, name, text) VALUES (?,?,?)",
                      (run_id, name, text[-LOG_LIMIT:]))

    def finish_run(self, run_id: int, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"run status must be one of {STATUSES}, got {status!r}")
        with self._tx() as c:
            c.execute("UPDATE runs SET status = ?, ended = ? WHERE id = ?", (status, time.time(), run_id))

    def reopen_run(self, run_id: int, pid: int) -> None:
        """A resumed run belongs to the resuming process."""
        with self._tx() as c:
            c.execute("UPDATE runs SET status = 'incomplete', ended = NULL, pid = ? WHERE id = ?", (pid, run_id))

    def pin_baseline(self, run_id: int, model: str | None = None) -> list[tuple[str, str, str]]:
        """Pin a run as the baseline of its board and counter kind, for one or all of its models."""
        run = self.run(run_id)
        models = [m.model for m in run.models if model in (None, m.model)]
        if not models:
            raise StoreError(f"run {run_id} has no model {model!r} (it has "
                             f"{', '.join(m.model for m in run.models) or 'none'})")
        keys = [(run.board, m, run.counter or "none") for m in models]
        with self._tx() as c:
            for b, m, k in keys:
                c.execute("INSERT OR REPLACE INTO baselines(board, model, counter, run_id, pinned) VALUES (?,?,?,?,?)",
                          (b, m, k, run_id, time.time()))
        return keys

    def unpin_baseline(self, board: str, model: str, counter: str) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM baselines WHERE board = ? AND model = ? AND counter = ?", (board, model, counter))

    # ---- reading ---------------------------------------------------------------------------------

    def run(self, run_id: int) -> StoredRun:
        """A run with its per-model rows (summary, verdict, layers, vector count)."""
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id} in {self.path} (`hil history --db {self.path}` lists the runs)")
        return _run_row(row, self.run_models(run_id))

    def run_models(self, run_id: int) -> list[StoredModel]:
        return [_model_row(r) for r in self.conn.execute(
                "SELECT m.*, (SELECT COUNT(*) FROM vectors v WHERE v.run_id = m.run_id AND v.model = m.model) AS done "
                "FROM run_models m WHERE run_id = ? ORDER BY rowid", (run_id,))]

    def run_model(self, run_id: int, model: str) -> StoredModel | None:
        return next((m for m in self.run_models(run_id) if m.model == model), None)

    def runs(self, board: str | None = None, model: str | None = None, limit: int | None = None) -> list[StoredRun]:
        """Runs, newest first, each with its per-model rows."""
        q, args = "SELECT * FROM runs WHERE 1=1", []
        if board:
            q, args = q + " AND board = ?", args + [board]
        if model:
            q, args = q + " AND id IN (SELECT run_id FROM run_models WHERE model = ?)", args + [model]
        q += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        rows = self.conn.execute(q, args).fetchall()
        return [_run_row(row, self.run_models(row[0])) for row in rows]

    def vectors(self, run_id: int, model: str) -> list[StoredVector]:
        """Per-vector records of a run, in index order."""
        return [_vector_row(r) for r in self.conn.execute(
            "SELECT * FROM vectors WHERE run_id = ? AND model = ? ORDER BY idx", (run_id, model))]

    def count_stats(self, run_id: int, model: str) -> CountStats | None:
        """Median whole-inference count and per-layer medians of a run's model, from its vectors."""
        rows = self.conn.execute("SELECT count, layer_counts FROM vectors WHERE run_id = ? AND model = ? "
                                 "AND count IS NOT NULL", (run_id, model)).fetchall()
        if not rows:
            return None
        lay = [json.loads(c) for _, c in rows if c]
        return CountStats(median=float(np.median([n for n, _ in rows])), n=len(rows),
                          layers=[float(np.median([c[k] for c in lay])) for k in range(len(lay[0]))] if lay else [])

    def vector_count(self, run_id: int) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM vectors WHERE run_id = ?", (run_id,)).fetchone()[0]

    def logs(self, run_id: int) -> dict[str, str]:
        return {name: text for name, text in
                self.conn.execute("SELECT name, text FROM logs WHERE run_id = ? ORDER BY name", (run_id,))}

    def incomplete_run(self, board: str | None = None, run_id: int | None = None) -> StoredRun | None:
        """The newest incomplete run (of this board), or the given one if it is incomplete."""
        if run_id is not None:
            run = self.run(run_id)
            return run if run.status == "incomplete" else None
        q, args = "SELECT id FROM runs WHERE status = 'incomplete'", []
        if board:
            q, args = q + " AND board = ?", [board]
        row = self.conn.execute(q + " ORDER BY id DESC LIMIT 1", args).fetchone()
        return self.run(row[0]) if row else None

    def pinned_baseline(self, board: str, model: str, counter: str) -> int | None:
        row = self.conn.execute("SELECT run_id FROM baselines WHERE board = ? AND model = ? AND counter = ?",
                                (board, model, counter or "none")).fetchone()
        return row[0] if row else None

    def baselines(self) -> list[PinnedBaseline]:
        return [_baseline_row(r) for r in self.conn.execute("SELECT * FROM baselines ORDER BY board, model")]

    def last_good_run(self, board: str, model: str, counter: str, before: int) -> int | None:
        """The newest complete run before `before` of the same board, model and counter kind whose
        model had no integer mismatch and no regression."""
        for r in self.conn.execute(
                "SELECT r.id, m.summary, m.verdict FROM runs r JOIN run_models m ON m.run_id = r.id "
                "WHERE r.board = ? AND m.model = ? AND IFNULL(r.counter, 'none') = ? AND r.status = 'complete' "
                "AND r.id < ? ORDER BY r.id DESC", (board, model, counter or "none", before)):
            good = _good_row(r)
            if good is not None:
                return good
        return None

    def baseline_for(self, run: StoredRun, model: str) -> int | None:
        """Pinned baseline of (board, model, counter), else the last good earlier run."""
        counter = run.counter or "none"
        pinned = self.pinned_baseline(run.board, model, counter)
        if pinned is not None and pinned != run.id:
            return pinned
        return self.last_good_run(run.board, model, counter, run.id)
