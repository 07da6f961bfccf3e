"""`hil soak`: many vectors over a (deliberately) noisy link, and what got through.

    hil soak --board stm32f4-qemu --model mnist_lenet --vectors 1000 --inject corrupt=0.01,seed=1

Runs the model's golden vectors (round robin over the bundle) in OUTPUTS mode
and prints requests, injected faults, faults detected by the protocol (NAKs,
corrupt answers, timeouts), retransmissions, restarts, *undetected* faults
(results that differ from the golden integer outputs) and throughput. A
benchmark command: docs/reliability.md has the figures; the tests run a
bounded smoke version.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hil import recovery
from hil.boards.base import Board
from hil.results.model_result import LinkReport, Restart

SOAK_FORMAT, SOAK_VERSION = "hil-soak", 1


@dataclass
class SoakResult:
    """What `hil soak` found (`format: hil-soak`); `to_json()` is the only code that knows its keys."""
    board: str
    model: str
    vectors: int
    link: LinkReport
    wrong_results: list[int] = field(default_factory=list)     # run numbers whose outputs differ from golden
    failed_vectors: list[int] = field(default_factory=list)    # bundle indices that left the device dead twice
    restarts: list[Restart] = field(default_factory=list)

    @property
    def injected(self) -> int:
        inj = self.link.injected or {}
        return sum(inj.get(k, 0) for k in ("corrupt", "drop", "dup", "stall"))

    @property
    def detected(self) -> int:
        return self.link.naks + self.link.corrupt_frames + self.link.timeouts

    @property
    def undetected(self) -> int:
        return len(self.wrong_results)

    @property
    def vectors_per_s(self) -> float | None:
        return self.vectors / self.link.seconds if self.link.seconds else None

    @property
    def payload_bytes_per_s(self) -> float | None:
        return self.link.payload_bytes / self.link.seconds if self.link.seconds else None

    def to_json(self) -> dict:
        link = self.link
        return dict(
            format=SOAK_FORMAT, version=SOAK_VERSION, board=self.board, model=self.model, vectors=self.vectors,
            inject=link.inject_spec, requests=link.requests, retries=link.retries, injected=self.injected,
            frames_damaged=(link.injected or {}).get("frames_damaged", 0), detected=self.detected,
            undetected=self.undetected, wrong_results=list(self.wrong_results),
            failed_vectors=list(self.failed_vectors), restarts=[r.to_json() for r in self.restarts],
            seconds=link.seconds, vectors_per_s=self.vectors_per_s, payload_bytes_per_s=self.payload_bytes_per_s,
            link=link.to_json())


def soak(board: Board, model: str, vectors: int, progress=None) -> SoakResult:
    from hil.runner import link_mark, link_report, prepare, restarts_of
    mr = prepare(board, model)
    mark = link_mark(board)
    wrong, failed = [], []
    for k in range(vectors):
        i = k % len(mr.bundle)
        try:
            res = recovery.with_restarts(board, model, i, lambda: board.device.run(
                mr.device_model, mr.bundle.inputs[i], "OUTPUTS"))
        except recovery.VectorFailed:
            failed.append(i)
        else:
            if not np.array_equal(res.output.reshape(-1), mr.bundle.int_logits[i].reshape(-1)):
                wrong.append(k)
        if progress:
            progress(k + 1, vectors)
    return SoakResult(board.name, model, vectors, link_report(board, mark), wrong, failed, restarts_of(board, model))


def soak_table(r: SoakResult) -> Table:
    link = r.link
    t = Table(title=escape(f"soak: {r.model} on {r.board}, inject {link.inject_spec or 'nothing'}"))
    t.add_column("what")
    t.add_column("value", justify="right")
    inj = link.injected or {}
    rows = [
        ("vectors", f"{r.vectors:,}"),
        ("requests", f"{link.requests:,}"),
        ("injected faults (corrupt/drop/dup/stall)",
         f"{r.injected:,} ({inj.get('corrupt', 0)}/{inj.get('drop', 0)}/{inj.get('dup', 0)}/"
         f"{inj.get('stall', 0)})"),
        ("frames damaged", f"{inj.get('frames_damaged', 0):,}"),
        ("detected (NAKs + corrupt answers + timeouts)",
         f"{r.detected:,} ({link.naks}/{link.corrupt_frames}/{link.timeouts})"),
        ("retried (retransmissions)", f"{link.retries:,}"),
        ("restarts", str(len(r.restarts))),
        ("failed vectors (device dead twice)", str(len(r.failed_vectors))),
        ("undetected (results differing from golden)",
         "[green]0[/]" if r.undetected == 0 else f"[red]{r.undetected}[/]"),
        ("throughput", f"{r.vectors_per_s:.1f} vectors/s, {r.payload_bytes_per_s / 1e3:.1f} kB/s payload"
         if r.vectors_per_s else "-"),
        ("time", f"{link.seconds:.1f} s (host wall clock)"),
    ]
    for what, value in rows:
        t.add_row(what, value)
    return t


def cmd_soak(args, console: Console) -> int:
    from hil.board_cli import open_board, progress_bar
    from hil.cli_args import emit
    from hil.report import stdout_console
    with open_board(args, [args.model]) as board, progress_bar(console) as prog:
        task = prog.add_task(escape(f"soak {args.model} on {args.board}"), total=args.vectors)
        result = soak(board, args.model, args.vectors, progress=lambda i, n: prog.update(task, completed=i))
    emit(args, result.to_json(), console, lambda _: stdout_console().print(soak_table(result)))
    return 1 if result.undetected or result.failed_vectors else 0


def add_parser(sub) -> None:
    from hil import cli_args
    from hil.board_cli import board_parents
    p = sub.add_parser("soak", help="many vectors over a noisy link: faults injected, detected, undetected",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       parents=board_parents() + [cli_args.vectors(1000, "vectors to run, round robin (default 1000)")])
    p.set_defaults(func=cmd_soak)


