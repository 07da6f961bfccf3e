"""`hil history`, `hil compare`, `hil baseline`, `hil report`, `hil nightly`: the results store
from the command line (docs/nightly.md)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hil.cli_args import output_file, positive_int
from hil.report import stdout_console
from hil.results.recorder import still_running
from hil.results.recording import add_db_options, db_path
from hil.results.store import Store


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%m-%d %H:%M", time.localtime(t))




def history_rows(store: Store, board: str | None, model: str | None, limit: int | None) -> list[dict]:
    """One JSON-able row per run and model, newest first."""
    rows = []
    for r in store.runs(board, model, limit):
        base = {k: r[k] for k in ("id", "status", "board", "device_board", "counter", "clock_hz", "host",
                                  "git_commit", "git_dirty", "build_hash", "image_hash", "compiler", "cflags",
                                  "probe_uid", "vectors")}
        base.update(started=r["started"], ended=r["ended"], running=still_running(r))
        models = [m for m in r["models"] if model in (None, m["model"])] or [dict(model=None)]
        for m in models:
            s, v = m.get("summary") or {}, m.get("verdict") or {}
            rows.append(dict(base, model=m["model"], vectors_done=m.get("done"),
                             int_mismatches=s.get("int_mismatches"), accuracy=s.get("accuracy"),
                             total_count_median=(store.count_stats(r["id"], m["model"]) or {}).get("median")
                             if m["model"] else None, counter_unit=m.get("counter") or r["counter"],
                             baseline=v.get("baseline"), regression=v.get("regression"),
                             layers_moved=v.get("layers_moved", [])))
    return rows


def cmd_history(args, console: Console) -> int:
    with Store.open(db_path(args), create=False) as store:
        rows = history_rows(store, args.board, args.model, args.limit)
    if args.json:
        sys.stdout.write(json.dumps(dict(format="hil-history", version=1, runs=rows), indent=1) + "\n")
        return 0
    t = Table(title=f"hil history ({len(rows)} rows)")
    for col in ("run", "started", "status", "board", "model", "vectors", "int mism.", "accuracy",
                "count (median)", "counter", "cflags", "vs run", "verdict"):
        t.add_column(col, justify="right" if col in ("run", "vectors", "int mism.", "count (median)") else "left")
    for r in rows:
        acc = r["accuracy"] or {}
        acc_s = "-" if not acc else (f"{acc['device']:.2%}" if acc.get("metric") == "accuracy"
                                     else f"MAE {acc['device']:.4f}")
        verdict = ("-" if r["regression"] is None else
                   f"[red]REGRESSION ({len(r['layers_moved'])} layers)[/]" if r["regression"] else "[green]ok[/]")
        colour = {"complete": "green", "incomplete": "yellow", "aborted": "red"}.get(r["status"], "white")
        status = "[cyan]running[/]" if r["running"] else f"[{colour}]{r['status']}[/]"
        t.add_row(str(r["id"]), _when(r["started"]), status, escape(r["board"]), escape(r["model"] or "-"),
                  f"{r['vectors_done'] or 0}", "-" if r["int_mismatches"] is None else str(r["int_mismatches"]),
                  acc_s, "-" if r["total_count_median"] is None else f"{r['total_count_median']:,.0f}",
                  escape(r["counter"] or "-"), escape(_short_flags(r["cflags"])), str(r["baseline"] or "-"), verdict)
    stdout_console().print(t)
    return 0


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
        shared = [m["model"] for m in b["models"] if m["model"] in {x["model"] for x in a["models"]}]
        if not shared:
            console.print(f"[red]runs {a['id']} and {b['id']} have no model in common[/]")
            return 2
        out, regressed, docs = stdout_console(), False, []
        for model in shared:
            v = compare_model(store, b, model, a["id"], th)
            regressed |= v["regression"]
            docs.append(dict(model=model, **v))
            if args.json:
                continue
            t = Table(title=escape(f"{model}: run {a['id']} ({a['board']}, {_short_flags(a['cflags'])}) -> run "
                                   f"{b['id']} ({b['board']}, {_short_flags(b['cflags'])}), counter {v['counter']}"))
            for col in ("what", "kind", "before", "after", "change", "threshold", "verdict"):
                t.add_column(col, justify="left" if col in ("what", "kind", "verdict") else "right")
            for f in v["findings"]:
                t.add_row(escape(str(f["what"])), f["kind"], fmt(f["before"]), fmt(f["after"]),
                          "-" if f["change"] is None else f"{f['change']:+.2%}",
                          f"{f['threshold']:.0%}", "[red]regression[/]" if f["regression"] else "change")
            if not v["findings"]:
                t.caption = "no differences"
            if v.get("layers"):
                lt = Table(title=escape(f"{model}: per-layer counts ({v['counter']}, {v['total']['how']})"))
                for col in ("layer", f"run {a['id']}", f"run {b['id']}", "delta", "change"):
                    lt.add_column(col, justify="left" if col == "layer" else "right")
                for L in v["layers"] + [dict(name="total", **v["total"])]:
                    d = L["after"] - L["before"]
                    lt.add_row(escape(L["name"]), fmt(L["before"]), fmt(L["after"]), f"{d:+,.1f}",
                               f"{d / L['before']:+.2%}" if L["before"] else "-")
                out.print(lt)
            out.print(t)
            for line in describe(b["board"], model, v):
                out.print(f"[red]{escape(line)}[/]", highlight=False)
        if args.json:
            sys.stdout.write(json.dumps(dict(format="hil-compare", version=1, run_a=a["id"], run_b=b["id"],
                                             models=docs), indent=1) + "\n")
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
                t.add_row(escape(b["board"]), escape(b["model"]), escape(b["counter"]), str(b["run_id"]),
                          _when(b["pinned"]))
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
    p = sub.add_parser("history", help="runs in the results store (rich table, or --json)")
    add_db_options(p, run=False)
    p.add_argument("--board", default=None)
    p.add_argument("--model", default=None)
    p.add_argument("--limit", type=positive_int, default=None, help="newest N runs")
    p.add_argument("--json", action="store_true", help="JSON on stdout (format hil-history)")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("compare", help="per-layer deltas between two runs (exit 1 on a regression)")
    add_db_options(p, run=False)
    p.add_argument("run_a", type=int, help="the earlier (reference) run")
    p.add_argument("run_b", type=int, help="the later run")
    p.add_argument("--hil-config", default=None, help="lab config with [thresholds]")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("baseline", help="pin a run as the baseline, or list pinned baselines")
    bs = p.add_subparsers(dest="action", required=True)
    pin = bs.add_parser("pin", help="pin RUN as the baseline of its board, model(s) and counter kind")
    pin.add_argument("run", type=int)
    pin.add_argument("--model", default=None, help="only this model of the run")
    add_db_options(pin, run=False)
    ls = bs.add_parser("list", help="pinned baselines")
    add_db_options(ls, run=False)
    p.set_defaults(func=cmd_baseline)

    p = sub.add_parser("report", help="one self-contained HTML report of the results store")
    add_db_options(p, run=False)
    p.add_argument("--out", type=output_file, default="hil-report.html")
    p.add_argument("--limit", type=int, default=200, help="newest N runs in the report")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("nightly", help="every board and model of the lab config; history, report, "
                                       "exit 1 on a regression")
    add_db_options(p, run=False)
    p.add_argument("--hil-config", required=True, help="lab config (TOML) with a [nightly] table")
    p.add_argument("--out", type=output_file, default=None,
                   help="report path (default: the lab config's, else hil-report.html)")
    p.add_argument("--vectors", type=positive_int, default=None, help="vectors per model (default: the lab config's)")
    p.set_defaults(func=cmd_nightly)
