"""`hil nightly --hil-config lab.toml`: every board and model of the lab, recorded and judged.

    db = "nightly.db"                 # results store (else --db, $HIL_DB, ./hil-results.db)

    [nightly]
    vectors = 200                     # per model (default: all)
    report = "nightly-report.html"

    [[nightly.run]]
    board = "stm32f4-qemu"
    models = ["mnist_lenet", "kws_dscnn"]

    [[nightly.run]]
    board = "fpga-sim"                # models default to what the board's image holds

    [thresholds]                      # optional, see hil/results/baseline.py
    total = 0.02

Each board is one run in the store (built, deployed and opened once); a
board that fails to come up is reported and the others still run. Exit
status: 0 all good, 1 a regression or an integer mismatch, 2 a board failed.
"""
from __future__ import annotations

import logging
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hil.errors import HilError, NightlyConfigError
from hil.lab_config import NightlyConfig, load
from hil.report import stdout_console
from hil.results.recording import db_path, thresholds
from hil.results.store import Store

log = logging.getLogger(__name__)


def plan(night: NightlyConfig, boards) -> list[tuple[str, list[str] | None]]:
    """[(board, models or None for the board's defaults)] from the lab config's [nightly] table
    (checked by hil.lab_config), by default every board the lab config names."""
    if night.run is None:       # no `run` key: every board the lab config names
        out = [(b, None) for b in boards]
    else:
        out = [(r.board, list(r.models) if r.models is not None else None) for r in night.run]
    if not out:                 # `run = []`, or neither run tables nor boards
        raise NightlyConfigError("lab config: add [[nightly.run]] tables (board = ..., models = [...]) "
                                 "or [boards.<name>] tables to say what the nightly job runs")
    return out


def _board(name: str, models: list[str] | None, args):
    from hil.boards import BoardOptions, board_class
    from hil.lab_config import board_section
    from hil.runner import default_models
    cls = board_class(name)
    models = models or list(cls.default_models or default_models())
    return cls(BoardOptions(models=models, config=board_section(args.hil_config, name))), models


def run_nightly(args, console: Console) -> int:
    from hil.results.html_report import write_report
    from hil.results.recorder import RunRecorder
    from hil.runner import run_model
    lab = load(args.hil_config)
    night = lab.nightly
    vectors = args.vectors if args.vectors is not None else night.vectors
    out = Path(args.out or night.report or "hil-report.html")
    th = thresholds(args)
    failed_boards, bad = [], False
    summary = Table(title="hil nightly")
    for col in ("board", "model", "run", "vectors", "int mismatches", "baseline", "verdict"):
        summary.add_column(col)
    with Store.open(db_path(args)) as store:
        for board_name, models in plan(night, lab.boards):
            try:
                board, models = _board(board_name, models, args)
                with board, RunRecorder(store, board.identity(), models, vectors, th, argv=["nightly", board_name],
                                                 logs=board.logs) as rec:
                    for m in models:
                        res = run_model(board, m, vectors, sink=rec.sink)
                        v = rec.finish_model(m, res)
                        bad |= bool(res.int_mismatches) or v.regression
                        summary.add_row(escape(board_name), escape(m), str(rec.run_id), str(res.vectors),
                                        str(res.int_mismatches), str(v.baseline or "-"),
                                        "[red]REGRESSION[/]" if v.regression else "[green]ok[/]")
                for line in rec.regression_lines():
                    console.print(f"[red]{escape(line)}[/]", highlight=False)
            except (HilError, OSError) as exc:      # one board down must not hide the others' results
                log.error("nightly: board %s failed: %s", board_name, exc)
                failed_boards.append(board_name)
                summary.add_row(escape(board_name), "-", "-", "-", "-", "-",
                                f"[red]board failed: {escape(str(exc)[:80])}[/]")
        write_report(store, out)
    stdout_console().print(summary)
    console.print(escape(f"results in {db_path(args)}, report written to {out}"))
    return 2 if failed_boards else (1 if bad else 0)
