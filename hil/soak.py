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

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hil import recovery
from hil.boards.base import Board

SOAK_FORMAT, SOAK_VERSION = "hil-soak", 1


def soak(board: Board, model: str, vectors: int, progress=None) -> dict:
    from hil.runner import link_mark, link_report, prepare
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
    link = link_report(board, mark)
    inj = link.get("injected", {})
    return dict(
        format=SOAK_FORMAT, version=SOAK_VERSION, board=board.name, model=model, vectors=vectors,
        inject=link.get("inject_spec"), requests=link["requests"], retries=link["retries"],
        injected=inj.get("corrupt", 0) + inj.get("drop", 0) + inj.get("dup", 0) + inj.get("stall", 0),
        frames_damaged=inj.get("frames_damaged", 0),
        detected=link["naks"] + link["corrupt_frames"] + link["timeouts"],
        undetected=len(wrong), wrong_results=wrong, failed_vectors=failed,
        restarts=[r for r in board.restart_log if r["model"] == model],
        seconds=link["seconds"], vectors_per_s=vectors / link["seconds"] if link["seconds"] else None,
        payload_bytes_per_s=link["payload_bytes"] / link["seconds"] if link["seconds"] else None,
        link=link)


def soak_table(doc: dict) -> Table:
    t = Table(title=escape(f"soak: {doc['model']} on {doc['board']}, inject {doc['inject'] or 'nothing'}"))
    t.add_column("what")
    t.add_column("value", justify="right")
    inj = doc["link"].get("injected", {})
    rows = [
        ("vectors", f"{doc['vectors']:,}"),
        ("requests", f"{doc['requests']:,}"),
        ("injected faults (corrupt/drop/dup/stall)",
         f"{doc['injected']:,} ({inj.get('corrupt', 0)}/{inj.get('drop', 0)}/{inj.get('dup', 0)}/"
         f"{inj.get('stall', 0)})"),
        ("frames damaged", f"{doc['frames_damaged']:,}"),
        ("detected (NAKs + corrupt answers + timeouts)",
         f"{doc['detected']:,} ({doc['link']['naks']}/{doc['link']['corrupt_frames']}/{doc['link']['timeouts']})"),
        ("retried (retransmissions)", f"{doc['retries']:,}"),
        ("restarts", str(len(doc["restarts"]))),
        ("failed vectors (device dead twice)", str(len(doc["failed_vectors"]))),
        ("undetected (results differing from golden)",
         f"[green]0[/]" if doc["undetected"] == 0 else f"[red]{doc['undetected']}[/]"),
        ("throughput", f"{doc['vectors_per_s']:.1f} vectors/s, {doc['payload_bytes_per_s'] / 1e3:.1f} kB/s payload"
         if doc["vectors_per_s"] else "-"),
        ("time", f"{doc['seconds']:.1f} s (host wall clock)"),
    ]
    for what, value in rows:
        t.add_row(what, value)
    return t


def cmd_soak(args, console: Console) -> int:
    from hil.board_cli import open_board, progress_bar, write_json
    from hil.report import stdout_console
    with open_board(args, [args.model]) as board, progress_bar(console) as prog:
        task = prog.add_task(escape(f"soak {args.model} on {args.board}"), total=args.vectors)
        doc = soak(board, args.model, args.vectors, progress=lambda i, n: prog.update(task, completed=i))
    stdout_console().print(soak_table(doc))
    write_json(args.json, doc, console)
    return 1 if doc["undetected"] or doc["failed_vectors"] else 0


def add_parser(sub) -> None:
    from hil.board_cli import add_board_args, positive_int
    p = sub.add_parser("soak", help="many vectors over a noisy link: faults injected, detected, undetected",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_board_args(p)
    p.add_argument("--vectors", type=positive_int, default=1000, help="vectors to run, round robin (default 1000)")
    p.set_defaults(func=cmd_soak)


