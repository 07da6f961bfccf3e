"""The `hil` console script."""
from __future__ import annotations

import argparse
import logging
import sys

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from hil import bench_cli, board_cli, golden_cli, history_cli, soak
from hil.errors import HilError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hil", description="hardware-in-the-loop tests for tiny neural networks")
    sub = p.add_subparsers(dest="cmd", required=True)
    golden_cli.add_parser(sub)
    board_cli.add_parsers(sub)
    bench_cli.add_parsers(sub)
    history_cli.add_parsers(sub)
    soak.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    console = Console(stderr=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, console) or 0
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130
    except (HilError, OSError) as exc:
        # escape: messages quote [brackets]; soft_wrap: one line, however long (not wrapped at 80 columns)
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
