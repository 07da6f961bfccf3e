"""`hil boards`, `hil run`, `hil profile`: boards from the command line."""
from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hil.boards import DEFAULT_BOARD, BoardOptions, board_class, known_boards
from hil import cli_args
from hil.cli_args import positive_int  # noqa: F401 - soak's --vectors
from hil.errors import InputError
from hil.golden_cli import add_artifacts_option
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
        if n is not None and n > 0 and vectors > n:     # an empty bundle: refused when it is loaded
            raise InputError(f"--vectors {vectors}: the golden bundle of {m} has {n} test vectors; "
                             f"give --vectors {n} or fewer (or leave it out for all)")


def open_board(args, models: list[str], vectors: int | None = None):
    """The board of --board for `models`, every check that needs no build done first; `vectors`
    (run, profile: a subset of the bundle) must not exceed a bundle (soak goes round robin)."""
    from golden.registry import check_built
    from hil.settings import resolve
    cls = board_class(args.board)     # an unknown board first: nothing else matters then
    settings = resolve(board=args.board, artifacts=getattr(args, "artifacts", None), config=args.hil_config)
    settings.apply_artifacts()
    for m in models:   # before any build: the error names the roots searched and what helps
        check_built(m)
    check_vectors(models, vectors)
    return cls(BoardOptions(models=models, config=settings.board_config(), inject=getattr(args, "inject", None)))


def progress_bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


def board_parents(model_required: bool = True, board_default: str | None = "") -> list:
    """The options `hil run`, `hil profile` and `hil soak` share (hil/cli_args.py)."""
    return [cli_args.board(board_default, help=None if board_default == "" else
                           f"board (default {DEFAULT_BOARD}; with --resume the run's)"),
            cli_args.model(required=model_required), cli_args.hil_config(), cli_args.output(),
            cli_args.inject(), cli_args.verbosity()]


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
                result = run_model(board, args.model, args.vectors,
                                   progress=lambda i, n: prog.update(task, completed=i, total=n),
                                   sink=rec.sink, done=rec.done(args.model))
            rec.finish_model(args.model, result)
    result.run_id = rec.run_id
    cli_args.emit(args, result.to_json(), console, lambda _: print_run(result))
    if rec.run_id is not None:
        console.print(f"run {rec.run_id} recorded in {escape(str(store.path))}")
    out = console if args.format == "json" else stdout_console()     # stdout holds only the JSON then
    for line in rec.regression_lines():
        out.print(f"[red]{escape(line)}[/]", highlight=False)
    if result.aborted:
        console.print(f"[red]error:[/] {escape(result.aborted)} (results of the {result.vectors} vectors done "
                      f"are above{' and in ' + escape(str(args.json)) if args.json else ''})")
        return 2
    return 1 if (result.int_mismatches or result.failed_vectors or tflm_failed(result)
                 or any(v.regression for v in rec.verdicts.values())) else 0


def _print_tflm(out: Console, result) -> None:
    """A .tflite model: device and integer simulator against TFLite Micro (hil/tflm_check.py)."""
    from hil.tflm_check import summary_line
    line = summary_line(result)
    if line:
        out.print(escape(line), style="red" if tflm_failed(result) else None, highlight=False)
        for d in result.tflm.details:
            out.print(f"  [red]{escape(d)}[/]")


def tflm_failed(result) -> bool:
    t = result.tflm
    return bool(t and (t.device_mismatches or t.intsim_mismatches))


def cmd_profile(args, console: Console) -> int:
    from hil.runner import profile_model
    with open_board(args, [args.model], args.vectors) as board:
        result = profile_model(board, args.model, args.vectors)
    cli_args.emit(args, result.to_json(), console, lambda _: stdout_console().print(layer_table(result)))
    return 0


def print_run(result) -> None:
    """The tables of one `hil run` on stdout."""
    out = stdout_console()
    out.print(run_table([result]))
    if result.per_class:
        out.print(per_class_table(result))
    for line in result.mismatch_details:
        out.print(f"  [red]{escape(line)}[/]")
    _print_tflm(out, result)
    for r in result.restarts:
        out.print(f"  [yellow]restart[/] at vector {r.vector} during {r.request}: {escape(r.message)}")
    out.print(f"link: {escape(link_line(result))}")
    if result.unit and result.layers and result.layers[0].figure is not None:
        out.print(layer_table(result))
    for f in result.failed_vectors:
        out.print(f"  [red]failed[/] vector {f.index}: {escape(f.error)}")


def add_parsers(sub) -> None:
    b = sub.add_parser("boards", help="known boards, attached probes and ports", parents=[cli_args.verbosity()])
    b.set_defaults(func=cmd_boards)
    subset_help = "a seeded, class-stratified subset (docs/results-json.md)"
    p = sub.add_parser("run", help="run golden vectors on a board and compare",
                       parents=board_parents(model_required=False, board_default=None)
                       + [cli_args.vectors(help=f"number of vectors (default all): {subset_help}")])
    add_artifacts_option(p, must_exist=True)
    add_db_options(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("profile", help="per-layer counts of a model on a board",
                       parents=board_parents() + [cli_args.vectors(
                           5, f"vectors to take the median over: {subset_help}", aliases=("--repeats",))])
    add_artifacts_option(p, must_exist=True)
    p.set_defaults(func=cmd_profile)
