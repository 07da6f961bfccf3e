"""Options shared by the `hil` commands (and the pytest plugin's argument types), each declared once.

A command takes the options it shares with others as argparse *parent parsers*
(as pyOCD's subcommands share `CommonOptions`): `--board`, `--model`,
`--hil-config`, `--json FILE` with `--format json`, `--inject`, `--vectors`
and `-v/-q` mean the same in every command that has them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def positive_int(text: str) -> int:
    """A count such as --vectors: a whole number of at least 1 (the option left out means all)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more (leave the option out for all)")
    return value


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def board(default: str | None = "", help: str | None = None) -> argparse.ArgumentParser:
    """--board NAME (default: the emulated stm32f4-qemu; None: no default)."""
    from hil.boards import DEFAULT_BOARD
    p = _parent()
    p.add_argument("--board", default=DEFAULT_BOARD if default == "" else default,
                   help=help or f"board (default {DEFAULT_BOARD}; `hil boards` lists them)")
    return p


def model(required: bool = False, repeat: bool = False, default=None, help: str | None = None):
    """--model NAME: one model, or with `repeat` a list (repeatable)."""
    p = _parent()
    p.add_argument("--model", required=required, default=default, action="append" if repeat else "store",
                   help=help or ("model (repeatable)" if repeat else "model name"))
    return p


def hil_config(required: bool = False, help: str = "lab config file (TOML)") -> argparse.ArgumentParser:
    """--hil-config FILE: the lab config (boards, ports, thresholds, nightly)."""
    p = _parent()
    p.add_argument("--hil-config", required=required, default=None, help=help)
    return p


def output() -> argparse.ArgumentParser:
    """--json FILE (write the command's JSON document there) and --format table|json (stdout)."""
    p = _parent()
    p.add_argument("--json", type=output_file, default=None, metavar="FILE",
                   help="also write the results as JSON to FILE")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="what to print on stdout: rich tables (default) or the JSON document")
    return p


def vectors(default: int | None = None, help: str = "number of vectors (default all)",
            aliases: tuple[str, ...] = ()) -> argparse.ArgumentParser:
    """--vectors N: always a whole number of at least 1 (positive_int)."""
    p = _parent()
    p.add_argument("--vectors", *aliases, dest="vectors", type=positive_int, default=default, help=help)
    return p


def inject() -> argparse.ArgumentParser:
    """--inject SPEC: damage the link's bytes (hil/inject.py)."""
    p = _parent()
    p.add_argument("--inject", type=_inject_arg, default=None, metavar="SPEC",
                   help="damage the link: corrupt=P,drop=P,dup=P,stall=P,stall_ms=MS,seed=N "
                        "(per-byte probabilities; docs/reliability.md)")
    return p


def verbosity(top: bool = False) -> argparse.ArgumentParser:
    """-v (more log lines, repeatable) and -q (warnings and errors only)."""
    p = _parent()
    kw = {} if top else dict(default=argparse.SUPPRESS)      # after the command: only when given
    p.add_argument("-v", "--verbose", action="count", dest="verbose", help="more output (debug log lines)",
                   **({"default": 0} if top else kw))
    p.add_argument("-q", "--quiet", action="count", dest="quiet", help="less output (warnings and errors only)",
                   **({"default": 0} if top else kw))
    return p


def _inject_arg(text: str):
    from hil.inject import FaultSpec, InjectError
    try:
        return FaultSpec.parse(text)
    except InjectError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--inject: ")) from None


def emit(args, doc, console, render=None) -> None:
    """Print `doc` as the command's output (--format) and write it to --json FILE if given.

    `render(doc)` prints the tables; `doc` is a JSON-ready dict or list."""
    if getattr(args, "format", "table") == "json":
        sys.stdout.write(json.dumps(doc, indent=1, default=float) + "\n")
    elif render is not None:
        render(doc)
    write_json(getattr(args, "json", None), doc, console)


def write_json(path: Path | None, doc, console) -> None:
    """Write `doc` to --json FILE (nothing without one)."""
    if path:
        from rich.markup import escape
        Path(path).write_text(json.dumps(doc, indent=1, default=float) + "\n")
        console.print(f"results written to {escape(str(path))}")


def output_file(text: str) -> Path:
    """A file to write (e.g. --json): its folder must exist, checked before any work is done."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give a file path")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: folder {path.parent} does not exist")
    return path


def existing_dir(text: str) -> Path:
    """A folder that must already exist (e.g. --artifacts to read models from)."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {'not a folder' if path.exists() else 'no such folder'}")
    return path
