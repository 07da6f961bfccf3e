"""`hil history`, `hil compare`, `hil baseline`, `hil report`, `hil nightly`: the results store
from the command line (docs/nightly.md)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hil import cli_args
from hil.cli_args import output_file, positive_int
from hil.report import stdout_console
from hil.results.model_result import Accuracy
from hil.results.recorder import still_running
from hil.results.recording import add_db_options, db_path
from hil.results.store import Store, StoredModel, StoredRun


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%m-%d %H:%M", time.localtime(t))




@dataclass(frozen=True)
class HistoryRow:
    """One run and model of `hil history` (`--format json`: `runs`, in this order)."""
    id: int
    status: str
    board: str
    device_board: str | None
    counter: str | None
    clock_hz: int | None
    host: str | None
    git_commit: str | None
    git_dirty: bool | None
    build_hash: str | None
    image_hash: str | None
    compiler: str | None
    cflags: str | None
    probe_uid: str | None
    vectors: int | None
    started: float | None
    ended: float | None
    running: bool
    model: str | None                     # None: a run with no model yet
    vectors_done: int | None
    int_mismatches: int | None
    accuracy: Accuracy | None
    total_count_median: float | None
    counter_unit: str | None
    baseline: int | None
    regression: bool | None
    layers_moved: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, store: Store, r: StoredRun, m: StoredModel | None) -> "HistoryRow":
        s, v = (m.summary if m else None), (m.verdict if m else None)
        stats = store.count_stats(r.id, m.model) if m else None
        return cls(id=r.id, status=r.status, board=r.board, device_board=r.device_board, counter=r.counter,
                   clock_hz=r.clock_hz, host=r.host, git_commit=r.git_commit, git_dirty=r.git_dirty,
                   build_hash=r.build_hash, image_hash=r.image_hash, compiler=r.compiler, cflags=r.cflags,
                   probe_uid=r.probe_uid, vectors=r.vectors, started=r.started, ended=r.ended,
                   running=still_running(r), model=m.model if m else None, vectors_done=m.done if m else None,
                   int_mismatches=s.int_mismatches if s else None, accuracy=s.accuracy if s else None,
                   total_count_median=stats.median if stats else None,
                   counter_unit=(m.counter if m else None) or r.counter,
                   baseline=v.baseline if v else None, regression=v.regression if v else None,
                   layers_moved=list(v.layers_moved) if v else [])

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["accuracy"] = self.accuracy.to_json() if self.accuracy is not None else None
        return out


def history_rows(store: Store, board: str | None, model: str | None, limit: int | None) -> list[HistoryRow]:
    """One row per run and model, newest first."""
    rows = []
    for r in store.runs(board, model, limit):
        models = [m for m in r.models if model in (None, m.model)] or [None]
        rows.extend(HistoryRow.of(store, r, m) for m in models)
    return rows


def cmd_history(args, console: Console) -> int:
    with Store.open(db_path(args), create=False) as store:
        rows = history_rows(store, args.board, args.model, args.limit)
    cli_args.emit(args, dict(format="hil-history", version=1, runs=[r.to_json() for r in rows]), console,
                  lambda _: stdout_console().print(history_table(rows, console)))
    return 0


def history_table(rows: list[HistoryRow], console: Console) -> Table:
    t = Table(title=f"hil history ({len(rows)} rows)")
    for col in ("run", "started", "status", "board", "model", "vectors", "int mism.", "accuracy",
                "count (median)", "counter", "cflags", "vs run", "verdict"):
        t.add_column(col, justify="right" if col in ("run", "vectors", "int mism.", "count (median)") else "left")
    for r in rows:
        acc = r.accuracy
        acc_s = "-" if acc is None else (f"{acc.device:.2%}" if acc.metric == "accuracy" else f"MAE {acc.device:.4f}")
        verdict = ("-" if r.regression is None else
                   f"[red]REGRESSION ({len(r.layers_moved)} layers)[/]" if r.regression else "[green]ok[/]")
        colour = {"complete": "green", "incomplete": "yellow", "aborted": "red"}.get(r.status, "white")
        status = "[cyan]running[/]" if r.running else f"[{colour}]{r.status}[/]"
        t.add_row(str(r.id), _when(r.started), status, escape(r.board), escape(r.model or "-"),
                  f"{r.vectors_done or 0}", "-" if r.int_mismatches is None else str(r.int_mismatches),
                  acc_s, "-" if r.total_count_median is None else f"{r.total_count_median:,.0f}",
                  escape(r.counter or "-"), escape(_short_flags(r.cflags)), str(r.baseline or "-"), verdict)
    return t


def _short_flags(cflags: str | None) -> str:
    """The -O level and whatever follows the include paths (EXTRA_CFLAGS), not the whole line."""
    if not cflags:
        return "-"
    tok = cflags.split()
    last_inc = max((i for i, t in enumerate(tok) if t.startswith("-I")), default=len(tok) - 1)
    keep = [t for t in tok if t.startswith("-O")] + tok[last_inc + 1:]
    return " ".join(dict.fromkeys(keep)) or "-"


def cmd_compare(args, console: Console) -> int:
    from hil.results.baseline import Thresholds, fmt, compare_model, describe
    from hil.results.recording import thresholds
    th = thresholds(args) if args.hil_config else Thresholds()
    with Store.open(db_path(args), create=False) as store:
        a, b = store.run(args.run_a), store.run(args.run_b)
        shared = [m.model for m in b.models if m.model in {x.model for x in a.models}]
        if not shared:
            console.print(f"[red]runs {a.id} and {b.id} have no model in common[/]")
            return 2
        out, regressed, docs = stdout_console(), False, []
        for model in shared:
            v = compare_model(store, b, model, a.id, th)
            regressed |= v.regression
            docs.append(dict(model=model, **v.to_json()))
            if args.format == "json":
                continue
            t = Table(title=escape(f"{model}: run {a.id} ({a.board}, {_short_flags(a.cflags)}) -> run "
                                   f"{b.id} ({b.board}, {_short_flags(b.cflags)}), counter {v.counter}"))
            for col in ("what", "kind", "before", "after", "change", "threshold", "verdict"):
                t.add_column(col, justify="left" if col in ("what", "kind", "verdict") else "right")
            for f in v.findings:
                t.add_row(escape(str(f.what)), f.kind, fmt(f.before), fmt(f.after),
                          "-" if f.change is None else f"{f.change:+.2%}",
                          f"{f.threshold:.0%}", "[red]regression[/]" if f.regression else "change")
            if not v.findings:
                t.caption = "no differences"
            if v.layers:
                lt = Table(title=escape(f"{model}: per-layer counts ({v.counter}, {v.total.how})"))
                for col in ("layer", f"run {a.id}", f"run {b.id}", "delta", "change"):
                    lt.add_column(col, justify="left" if col == "layer" else "right")
                for name, before, after in ([(L.name, L.before, L.after) for L in v.layers]
                                            + [("total", v.total.before, v.total.after)]):
                    d = after - before
                    lt.add_row(escape(name), fmt(before), fmt(after), f"{d:+,.1f}",
                               f"{d / before:+.2%}" if before else "-")
                out.print(lt)
            out.print(t)
            for line in describe(b.board, model, v):
                out.print(f"[red]{escape(line)}[/]", highlight=False)
        cli_args.emit(args, dict(format="hil-compare", version=1, run_a=a.id, run_b=b.id, models=docs),
                      console)
    return 1 if regressed else 0


def cmd_baseline(args, console: Console) -> int:
    with Store.open(db_path(args), create=False) as store:
        if args.action == "pin":
            for board, model, counter in store.pin_baseline(args.run, args.model):
                console.print(escape(f"baseline of {board} / {model} ({counter}): run {args.run}"))
        else:
            t = Table(title="pinned baselines (others: the last good run)")
            for col in ("board", "model", "counter", "run", "pinned"):
                t.add_column(col)
            for b in store.baselines():
                t.add_row(escape(b.board), escape(b.model), escape(b.counter), str(b.run_id), _when(b.pinned))
            stdout_console().print(t)
    return 0


def cmd_report(args, console: Console) -> int:
    from hil.results.html_report import write_report
    with Store.open(db_path(args), create=False) as store:
        path = write_report(store, Path(args.out), limit=args.limit)
    console.print(f"report written to {escape(str(path))}")
    return 0


def cmd_nightly(args, console: Console) -> int:
    from hil.results.nightly import run_nightly
    return run_nightly(args, console)


def add_parsers(sub) -> None:
    v = cli_args.verbosity()
    p = sub.add_parser("history", help="runs in the results store (rich table, or --format json)",
                       parents=[cli_args.board(None, help="only runs of this board"),
                                cli_args.model(help="only runs of this model"), cli_args.output(), v])
    add_db_options(p, run=False)
    p.add_argument("--limit", type=positive_int, default=None, help="newest N runs")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("compare", help="per-layer deltas between two runs (exit 1 on a regression)",
                       parents=[cli_args.hil_config(help="lab config with [thresholds]"), cli_args.output(), v])
    add_db_options(p, run=False)
    p.add_argument("run_a", type=int, help="the earlier (reference) run")
    p.add_argument("run_b", type=int, help="the later run")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("baseline", help="pin a run as the baseline, or list pinned baselines")
    bs = p.add_subparsers(dest="action", required=True)
    pin = bs.add_parser("pin", help="pin RUN as the baseline of its board, model(s) and counter kind",
                        parents=[cli_args.model(help="only this model of the run"), v])
    pin.add_argument("run", type=int)
    add_db_options(pin, run=False)
    ls = bs.add_parser("list", help="pinned baselines", parents=[v])
    add_db_options(ls, run=False)
    p.set_defaults(func=cmd_baseline)

    p = sub.add_parser("report", help="one self-contained HTML report of the results store", parents=[v])
    add_db_options(p, run=False)
    p.add_argument("--out", type=output_file, default="hil-report.html")
    p.add_argument("--limit", type=positive_int, default=200, help="newest N runs in the report")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("nightly", help="every board and model of the lab config; history, report, "
                                       "exit 1 on a regression",
                       parents=[cli_args.hil_config(required=True, help="lab config (TOML) with a [nightly] table"),
                                cli_args.vectors(help="vectors per model (default: the lab config's)"), v])
    add_db_options(p, run=False)
    p.add_argument("--out", type=output_file, default=None,
                   help="report path (default: the lab config's, else hil-report.html)")
    p.set_defaults(func=cmd_nightly)
