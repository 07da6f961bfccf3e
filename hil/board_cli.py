"""`hil boards`, `hil run`, `hil profile`: boards from the command line."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hil.boards import DEFAULT_BOARD, BoardOptions, board_class, known_boards
from hil.cli_args import output_file, positive_int
from hil.errors import InputError
from hil.golden_cli import add_artifacts_option
from hil.inject import FaultSpec, InjectError
from hil.lab_config import apply_artifacts_root, board_section
from hil.report import layer_table, link_line, per_class_table, run_table, stdout_console
from hil.results.recording import add_db_options


def bundle_size(model: str) -> int | None:
    """Test vectors in a model's golden bundle, from its manifest (None if it has none yet)."""
    from golden.paths import artifact_dir
    try:
        return int(json.loads((artifact_dir(model) / "bundle.json").read_text())["test_vectors"])
    except (OSError, ValueError, KeyError, TypeError):
        return None     # a missing or damaged bundle is reported when it is loaded


def check_vectors(models: list[str], vectors: int | None) -> None:
    """--vectors above a bundle's size is an error naming the size (not a quiet run of fewer)."""
    for m in models:
        n = bundle_size(m) if vectors is not None else None
        if n is not None and vectors > n:
            raise InputError(f"--vectors {vectors}: the golden bundle of {m} has {n} test vectors; "
                             f"give --vectors {n} or fewer (or leave it out for all)")


def open_board(args, models: list[str], vectors: int | None = None):
    """The board of --board for `models`, every check that needs no build done first; `vectors`
    (run, profile: a subset of the bundle) must not exceed a bundle (soak goes round robin)."""
    from golden.registry import check_built
    cls = board_class(args.board)     # an unknown board first: nothing else matters then
    if hasattr(args, "artifacts"):
        apply_artifacts_root(args.artifacts, args.hil_config)
    for m in models:   # before any build: the error names the roots searched and what helps
        check_built(m)
    check_vectors(models, vectors)
    return cls(BoardOptions(models=models, config=board_section(args.hil_config, args.board),
                            inject=getattr(args, "inject", None)))


def write_json(path: Path | None, doc: dict, console: Console) -> None:
    if path:
        Path(path).write_text(json.dumps(doc, indent=1, default=float) + "\n")
        console.print(f"results written to {escape(str(path))}")


def progress_bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


def inject_arg(text: str) -> FaultSpec:
    try:
        return FaultSpec.parse(text)
    except InjectError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--inject: ")) from None


INJECT_HELP = ("damage the link: corrupt=P,drop=P,dup=P,stall=P,stall_ms=MS,seed=N "
               "(per-byte probabilities; docs/reliability.md)")


def add_board_args(p) -> None:
    """Options of `hil soak` (run and profile add the results-store options too)."""
    p.add_argument("--board", default=DEFAULT_BOARD)
    p.add_argument("--model", required=True)
    p.add_argument("--hil-config", default=None, help="lab config file (TOML)")
    p.add_argument("--json", type=output_file, default=None, help="write results JSON here")
    p.add_argument("--inject", type=inject_arg, default=None, metavar="SPEC", help=INJECT_HELP)


def cmd_boards(args, console: Console) -> int:
    t = Table(title="known boards")
    for col in ("board", "kind", "capabilities", "description"):
        t.add_column(col)
    attached = []
    for name, ep in sorted(known_boards().items()):
        try:
            cls = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the others
            t.add_row(name, "?", "-", f"[red]cannot load: {escape(str(exc))}[/]")
            continue
        caps = ", ".join(sorted(c.value for c in cls.capabilities))
        t.add_row(name, "emulated" if "emulated" in caps else "real", caps, cls.description)
        attached += cls.attached()
    out = stdout_console()
    out.print(t)
    out.print("attached: " + ("\n  ".join([""] + attached) if attached else "no probes or serial ports found"))
    return 0


def cmd_run(args, console: Console) -> int:
    from hil.results.recording import recording, resolve_resume, resume_models, store_for
    from hil.runner import run_model
    with store_for(args) as store:
        resume = resolve_resume(args, store) if store is not None else None
        if resume is not None and len(args.resume_models) > 1:      # a nightly or pytest run
            return resume_models(args, store, resume, console)
        with open_board(args, [args.model], args.vectors) as board, \
                recording(store, board, [args.model], args.vectors, args, resume) as rec:
            with progress_bar(console) as prog:
                task = prog.add_task(escape(f"{args.model} on {args.board}"), total=None)
                doc = run_model(board, args.model, args.vectors,
                                progress=lambda i, n: prog.update(task, completed=i, total=n),
                                sink=rec.sink, done=rec.done(args.model))
            rec.finish_model(args.model, doc)
    out = stdout_console()
    out.print(run_table([doc]))
    if doc.get("per_class"):
        out.print(per_class_table(doc))
    for line in doc["mismatch_details"]:
        out.print(f"  [red]{escape(line)}[/]")
    _print_tflm(out, doc)
    for r in doc["restarts"]:
        out.print(f"  [yellow]restart[/] at vector {r['vector']} during {r['request']}: {escape(r['message'])}")
    out.print(f"link: {escape(link_line(doc))}")
    if doc["unit"] and doc["layers"] and doc["layers"][0].get(doc["unit"]) is not None:
        out.print(layer_table(doc))
    for f in doc["failed_vectors"]:
        out.print(f"  [red]failed[/] vector {f['index']}: {escape(f['error'])}")
    if rec.run_id is not None:
        doc["run_id"] = rec.run_id
    write_json(args.json, doc, console)
    if rec.run_id is not None:
        console.print(f"run {rec.run_id} recorded in {escape(str(store.path))}")
    for line in rec.regression_lines():
        out.print(f"[red]{escape(line)}[/]", highlight=False)
    if doc["aborted"]:
        console.print(f"[red]error:[/] {escape(doc['aborted'])} (results of the {doc['vectors']} vectors done "
                      f"are above{' and in ' + escape(str(args.json)) if args.json else ''})")
        return 2
    return 1 if (doc["int_mismatches"] or doc["failed_vectors"] or tflm_failed(doc)
                 or any(v["regression"] for v in rec.verdicts.values())) else 0


def _print_tflm(out: Console, doc: dict) -> None:
    """A .tflite model: device and integer simulator against TFLite Micro (hil/tflm_check.py)."""
    from hil.tflm_check import summary_line
    line = summary_line(doc)
    if line:
        out.print(escape(line), style="red" if tflm_failed(doc) else None, highlight=False)
        for d in doc["tflm"]["details"]:
            out.print(f"  [red]{escape(d)}[/]")


def tflm_failed(doc: dict) -> bool:
    t = doc.get("tflm")
    return bool(t and (t["device_mismatches"] or t["intsim_mismatches"]))


def cmd_profile(args, console: Console) -> int:
    from hil.runner import profile_model
    with open_board(args, [args.model], args.vectors) as board:
        doc = profile_model(board, args.model, args.vectors)
    stdout_console().print(layer_table(doc))
    write_json(args.json, doc, console)
    return 0


def add_parsers(sub) -> None:
    b = sub.add_parser("boards", help="known boards, attached probes and ports")
    b.set_defaults(func=cmd_boards)
    for name, func, helptext in (("run", cmd_run, "run golden vectors on a board and compare"),
                                 ("profile", cmd_profile, "per-layer counts of a model on a board")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--board", default=None if name == "run" else DEFAULT_BOARD,
                       help=f"board (default {DEFAULT_BOARD}; with --resume the run's)")
        p.add_argument("--model", required=(name != "run"))
        p.add_argument("--hil-config", default=None, help="lab config file (TOML)")
        p.add_argument("--json", type=output_file, default=None, help="write results JSON here")
        p.add_argument("--inject", type=inject_arg, default=None, metavar="SPEC", help=INJECT_HELP)
        add_artifacts_option(p, must_exist=True)
        subset_help = "a seeded, class-stratified subset (docs/results-json.md)"
        if name == "run":
            p.add_argument("--vectors", type=positive_int, default=None,
                           help=f"number of vectors (default all): {subset_help}")
            add_db_options(p)
        else:
            p.add_argument("--vectors", "--repeats", dest="vectors", type=positive_int, default=5,
                           help=f"vectors to take the median over: {subset_help}")
        p.set_defaults(func=func)
