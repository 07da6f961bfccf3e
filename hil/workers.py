"""Which parallel worker this process is, and the CPU its emulator gets.

pytest-xdist runs worker k as `gwk` and says so in the environment; outside
xdist this process is worker 0 of 1. Kept free of pytest so boards can use it.
"""
from __future__ import annotations

import fcntl
import os
import re
import tempfile
from pathlib import Path

from hil.errors import BoardError


def worker_id() -> str | None:
    """`gw0`, `gw1`, ... inside an xdist worker, None otherwise (xdist sets the variable)."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def worker_index() -> int:
    """0 outside xdist; k in worker gwk. A real board's k-th unit belongs to worker k."""
    w = worker_id()
    return int(w[2:]) if w and w.startswith("gw") and w[2:].isdigit() else 0


def worker_count() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def worker_cpu() -> int | None:
    """The CPU this worker's emulator is pinned to, or None outside xdist.

    Worker k gets the k-th CPU the session may use; with more workers than
    CPUs they share round-robin, each emulator still on a single CPU.
    HIL_QEMU_CPU (stm32_qemu.pin_prefix) wins: `none` turns pinning off, N pins
    every twin to CPU N.
    """
    if worker_id() is None or os.environ.get("HIL_QEMU_CPU"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[worker_index() % len(cpus)]


def pin_process(pid: int, cpu: int | None) -> None:
    """Pin every thread of process `pid` to `cpu` (threads started later inherit it)."""
    if cpu is None:
        return
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    for tid in tids:
        try:
            os.sched_setaffinity(tid, {cpu})
        except OSError:      # a thread that just exited
            pass


def hold_exclusive(key: str, what: str):
    """Hold an OS lock named `key` (e.g. a probe's unique ID) until the returned file is closed.

    A real board belongs to one session on this host at a time: a second
    worker or session asking for the same probe gets a BoardError at once.
    """
    path = Path(tempfile.gettempdir()) / f"hil-{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}.lock"
    f = open(path, "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise BoardError(f"{what} is in use by another hil session on this host (lock {path}); "
                         f"give each parallel worker its own unit ([[boards.<name>.units]])") from None
    return f
