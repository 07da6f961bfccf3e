#!/usr/bin/env python3
"""Wall time of the board validation suite with 1, 2, 4 ... emulated boards.

    .venv/bin/python scripts/bench_parallel.py                  # tests/board, all vectors, 1/2/4 boards
    .venv/bin/python scripts/bench_parallel.py --boards 1,2 --vectors 100
    HIL_QEMU_CPU=none .venv/bin/python scripts/bench_parallel.py   # without CPU pinning

One board is a plain `pytest tests/board --board=B` session; N > 1 is the same
with `-n N` (pytest-xdist, one emulator per worker, pinned to a CPU, results
merged). The firmware is built once before timing. Figures are host wall
time on this machine: label them with the load shown, which the script prints
before and after each run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))          # this checkout's hil, also without PYTHONPATH


def _run(board: str, n: int, vectors: int | None, out: Path) -> tuple[float, dict, str]:
    from hil.pytest_plugin import suite_args
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(REPO / "tests/board"),
           *suite_args(board, vectors, json_path=out)]
    if n > 1:
        cmd[3:3] = ["-n", str(n)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd[3:])} failed:\n{r.stdout[-2000:]}{r.stderr[-1000:]}")
    return wall, json.loads(out.read_text()), r.stdout.strip().splitlines()[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32f4-qemu")
    ap.add_argument("--boards", default="1,2,4", help="comma-separated board counts (default 1,2,4)")
    ap.add_argument("--vectors", type=int, default=None, help="vectors per model (default: all)")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()
    con = Console(width=max(120, Console().width))
    counts = [int(c) for c in args.boards.split(",")]
    cpus = len(os.sched_getaffinity(0))
    con.print(f"{args.board}: tests/board, {'all' if args.vectors is None else args.vectors} vectors per model; "
              f"{cpus} CPUs; pinning {'off' if os.environ.get('HIL_QEMU_CPU') == 'none' else 'on'}")
    with tempfile.TemporaryDirectory() as tmp:
        _run(args.board, 1, 1, Path(tmp) / "warm.json")      # builds the firmware once, outside the timing
        rows = []
        for n in counts:
            load0 = os.getloadavg()[0]
            wall, doc, tail = _run(args.board, n, args.vectors, Path(tmp) / f"n{n}.json")
            vectors = sum(r["vectors"] for r in doc["runs"])
            mism = sum(r["int_mismatches"] for r in doc["runs"])
            rows.append(dict(boards=n, wall_s=wall, vectors=vectors, int_mismatches=mism,
                             load_before=load0, load_after=os.getloadavg()[0], pytest=tail))
    base = rows[0]["wall_s"] if rows and rows[0]["boards"] == 1 else None
    t = Table(title=f"tests/board on {args.board}: host wall time (this machine, load as shown)")
    for col in ("boards", "wall s", "vectors", "vectors/s", "speed-up vs 1", "int mismatches", "load 1-min"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(str(r["boards"]), f"{r['wall_s']:.1f}", str(r["vectors"]), f"{r['vectors'] / r['wall_s']:.1f}",
                  "-" if base is None else f"{base / r['wall_s']:.2f}x", str(r["int_mismatches"]),
                  f"{r['load_before']:.1f} -> {r['load_after']:.1f}")
    con.print(t)
    if args.json:
        Path(args.json).write_text(json.dumps(dict(board=args.board, cpus=cpus, runs=rows), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
