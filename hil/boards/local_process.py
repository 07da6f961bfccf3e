"""Emulated boards that are a local process serving USART on a TCP port
(QEMU, the fpga-sim program): start on a free port, wait until it listens,
always kill it on close (also on Ctrl-C, through the board's close() and an
atexit hook). Under `pytest -n N` each worker's emulator is pinned to its
own CPU (hil/workers.py).

No orphans: the process gets a parent-death signal (SIGKILL when the host
dies, even by SIGKILL; `setpriv --pdeathsig`, else prctl in the child), so
no emulator outlives its host. No port races: a port another process took
between our probe and the emulator's bind makes the emulator exit with
"Address already in use"; deploy() notices and tries a new port.

Emulator output goes to a log in a folder of this board's own under the
user's private runtime folder (hil/workers.py runtime_dir()), removed when
the board is closed: what a run keeps of it is in the results store (logs())
and, when the emulator did not start, in the error message itself."""
from __future__ import annotations

import atexit
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Callable

from hil.boards.base import Board, BoardError
from hil.workers import pin_process, runtime_dir, worker_cpu


log = logging.getLogger(__name__)
PORT_TRIES = 5
PORT_TAKEN = "Address already in use"
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:   # pragma: no cover - runs in the child between fork and exec
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _spawn(cmd: list[str], logfile) -> subprocess.Popen:
    """Start `cmd` so that it is killed when this process dies, however it dies."""
    setpriv = shutil.which("setpriv")
    if setpriv:      # util-linux: sets the parent-death signal, then execs cmd (same pid)
        cmd, preexec = [setpriv, "--pdeathsig", "KILL", "--"] + cmd, None
    else:
        preexec = _die_with_parent
    # The parent-death signal fires when the *thread* that started the child
    # ends: boards start emulators from the thread that runs the session.
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=preexec)


def _sweep_dead_logs(base) -> None:
    """Remove log folders (`logs-<pid>-...`) left by a host process that no longer exists (SIGKILL
    skips close() and atexit)."""
    for d in base.glob("logs-*-*"):
        pid = d.name.split("-")[1]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(d, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalProcessBoard(Board):
    """Board whose deploy() starts `command(port)` and connects to it."""

    proc: subprocess.Popen | None = None
    log = None
    log_dir: str | None = None      # this board's folder of emulator logs, removed by close()
    closed_log: str | None = None   # the last log's text, kept when close() removed the folder

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def is_listening(self, port: int) -> bool:
        raise NotImplementedError

    def deploy(self) -> str:
        for _ in range(PORT_TRIES):   # the free port can be taken between probe and bind: retry
            port = free_port()
            cmd = self.command(port)
            if self.log_dir is None:
                self.closed_log = None
                _sweep_dead_logs(runtime_dir())
                self.log_dir = tempfile.mkdtemp(prefix=f"logs-{os.getpid()}-{self.name}-", dir=runtime_dir())
                atexit.register(self._remove_logs)
            self.log = tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", dir=self.log_dir, delete=False)
            self.proc = _spawn(cmd, self.log)
            atexit.register(self.stop)
            pin_process(self.proc.pid, worker_cpu())
            if self._wait(lambda: self.is_listening(port)):
                pin_process(self.proc.pid, worker_cpu())    # threads started meanwhile
                return f"socket://127.0.0.1:{port}"
            taken = PORT_TAKEN in self.log_text()
            self.stop()
            if not taken:
                break
            log.warning("%s: port %d was taken by another process (%s); trying a new port",
                        self.name, port, PORT_TAKEN)
        raise BoardError(f"{self.name}: `{' '.join(cmd)}` did not start listening: {self.log_tail()}")

    def _wait(self, ready: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False          # e.g. the port was taken: the process exits at once
            if ready():
                return True
            time.sleep(0.01)
        return False

    def log_text(self) -> str:
        if self.log_dir is None and self.closed_log is not None:
            return self.closed_log
        try:
            with open(self.log.name) as f:
                return f.read()
        except (OSError, AttributeError):
            return ""

    def logs(self) -> dict[str, str]:
        """The emulator's own output (stdout and stderr), captured since deploy()."""
        return {"emulator": self.log_text()} if self.log is not None else {}

    def log_tail(self) -> str:
        return self.log_text()[-500:].strip() or "(no output)"

    def close(self) -> None:
        super().close()
        self._remove_logs()

    def _remove_logs(self) -> None:
        if self.log is not None:
            self.closed_log = self.log_text()
            self.log.close()
        if self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self.log_dir = None

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
