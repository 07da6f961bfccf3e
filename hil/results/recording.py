"""`hil run` options for the results store: --db, --no-db, --resume, --hil-config thresholds."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from hil.errors import HilError
from hil.results.baseline import Thresholds
from hil.results.store import Store, StoreError, default_path


def add_db_options(p, run: bool = True) -> None:
    p.add_argument("--db", default=None, help="results store (default: $HIL_DB, the lab config's `db`, "
                   "else ./hil-results.db)")
    if run:
        p.add_argument("--no-db", action="store_true", help="do not record this run in the results store")
        p.add_argument("--resume", nargs="?", const="last", default=None, metavar="RUN",
                       help="finish an incomplete run (default: the newest incomplete run of --board) "
                            "without redoing its vectors")


def db_path(args) -> Path:
    from hil.settings import resolve
    return resolve(db=getattr(args, "db", None), config=getattr(args, "hil_config", None)).db


def thresholds(args) -> Thresholds:
    from hil.settings import resolve
    return resolve(config=getattr(args, "hil_config", None)).thresholds


def resolve_resume(args, store: Store) -> int | None:
    """With --resume, take board, model and vector count from the stored run; returns its id."""
    if args.resume is None:
        from hil.boards import DEFAULT_BOARD
        args.board = args.board or DEFAULT_BOARD
        if not args.model:
            raise HilError("hil run: --model is required (or --resume to finish an incomplete run)")
        return None
    if args.resume == "last":
        run = store.incomplete_run(board=args.board)
        if run is None:
            which = f" of board {args.board}" if args.board else ""
            raise StoreError(f"no incomplete run{which} in {store.path}: nothing to resume"
                             + ("" if store.runs(limit=1) else " (the store holds no runs at all)"))
    else:
        try:
            run = store.incomplete_run(run_id=int(args.resume))
        except ValueError:
            raise HilError(f"--resume takes a run id, got {args.resume!r}") from None
        if run is None:
            raise StoreError(f"run {args.resume} in {store.path} is not incomplete: nothing to resume")
    if args.model and args.model not in run.model_names:
        raise HilError(f"run {run.id} ran {', '.join(run.model_names)}, not {args.model}")
    args.board, args.model, args.vectors = run.board, run.model_names[0], run.vectors
    args.resume_models = run.model_names
    return run.id


def resume_models(args, store: Store, run_id: int, console) -> int:
    """Finish a run of several models (`hil nightly`, `pytest --hil-db`) on one board."""
    from rich.markup import escape

    from hil.boards import BoardOptions, board_class
    from hil.lab_config import board_section
    from hil.report import run_table, stdout_console
    from hil.runner import run_model
    models = args.resume_models
    board = board_class(args.board)(BoardOptions(models=models, config=board_section(args.hil_config, args.board)))
    results = []
    with board, recording(store, board, models, args.vectors, args, run_id) as rec:
        for m in models:
            results.append(run_model(board, m, args.vectors, sink=rec.sink, done=rec.done(m)))
            rec.finish_model(m, results[-1])
    out = stdout_console()
    out.print(run_table(results))
    console.print(f"run {run_id} finished in {store.path}")
    for line in rec.regression_lines():
        out.print(f"[red]{escape(line)}[/]", highlight=False)
    return 1 if any(r.int_mismatches for r in results) or any(v.regression for v in rec.verdicts.values()) else 0


class _NoRecorder:
    run_id = None
    sink = None
    verdicts: dict = {}

    def done(self, model):
        return None

    def finish_model(self, model, doc):
        return None

    def regression_lines(self):
        return []


@contextmanager
def store_for(args):
    """The store `hil run` records into, or None with --no-db."""
    if getattr(args, "no_db", False):
        if args.resume:
            raise HilError("--resume needs the results store: drop --no-db")
        from hil.boards import DEFAULT_BOARD
        args.board = args.board or DEFAULT_BOARD
        if not args.model:
            raise HilError("hil run: --model is required")
        yield None
        return
    if args.resume is None and not args.model:      # before creating a store file for nothing
        raise HilError("hil run: --model is required (or --resume to finish an incomplete run)")
    store = Store.open(db_path(args))
    try:
        yield store
    finally:
        store.close()


@contextmanager
def recording(store: Store | None, board, models: list[str], vectors: int | None, args, resume: int | None):
    if store is None:
        yield _NoRecorder()
        return
    from hil.results.recorder import RunRecorder
    with RunRecorder(store, board.identity(), models, vectors, thresholds(args), argv=sys.argv[1:], resume=resume,
                     logs=board.logs) as rec:
        yield rec
