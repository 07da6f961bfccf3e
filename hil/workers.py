"""Which parallel worker this process is, and the CPU its emulator gets.

pytest-xdist runs worker k as `gwk` and says so in the environment; outside
xdist this process is worker 0 of 1. Kept free of pytest so boards can use it.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
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


def runtime_dir() -> Path:
    """This user's private folder for locks and emulator logs: $XDG_RUNTIME_DIR/hil, else
    /tmp/hil-<uid>; made 0700 and checked to be a real folder of this user, private to them
    (another user could otherwise plant symlinks or read the logs)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(xdg) / "hil" if xdg and Path(xdg).is_dir() else Path(tempfile.gettempdir()) / f"hil-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(base)
    except OSError as exc:
        raise BoardError(f"cannot make hil's private folder {base}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise BoardError(f"{base} is not a private folder of this user (a symlink, another user's, or open to "
                         f"others): remove it, or set XDG_RUNTIME_DIR to a folder of your own")
    return base


def open_lock(path: Path):
    """Open (create) a lock file for flock without following a symlink and without truncating."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        hint = ": it is a symlink, remove it" if exc.errno == errno.ELOOP else ""
        raise BoardError(f"cannot open lock file {path}: {exc.strerror}{hint}") from None
    return os.fdopen(fd, "r+")


def hold_exclusive(key: str, what: str):
    """Hold an OS lock named `key` (e.g. a probe's unique ID) until the returned file is closed.

    A real board belongs to one session on this host at a time: a second
    worker or session asking for the same probe gets a BoardError at once.
    """
    path = runtime_dir() / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}.lock"
    f = open_lock(path)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise BoardError(f"{what} is in use by another hil session on this host (lock {path}); "
                         f"give each parallel worker its own unit ([[boards.<name>.units]])") from None
    return f
