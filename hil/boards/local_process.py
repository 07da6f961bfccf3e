"""Emulated boards that are a local process serving USART on a TCP port
(QEMU, the fpga-sim program): start on a free port, wait until it listens,
always kill it on close (also on Ctrl-C, through the board's close() and an
atexit hook). Under `pytest -n N` each worker's emulator is pinned to its
own CPU (hil/workers.py)."""
from __future__ import annotations

import atexit
import socket
import subprocess
import tempfile
import time
from typing import Callable

from hil.boards.base import Board, BoardError
from hil.workers import pin_process, worker_cpu


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalProcessBoard(Board):
    """Board whose deploy() starts `command(port)` and connects to it."""

    proc: subprocess.Popen | None = None
    log = None

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def is_listening(self, port: int) -> bool:
        raise NotImplementedError

    def deploy(self) -> str:
        for _ in range(3):   # the free port can be taken between probe and bind: retry
            port = free_port()
            cmd = self.command(port)
            self.log = tempfile.NamedTemporaryFile(prefix=f"hil-{self.name}-", suffix=".log", delete=False)
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            atexit.register(self.stop)
            pin_process(self.proc.pid, worker_cpu())
            if self._wait(lambda: self.is_listening(port)):
                pin_process(self.proc.pid, worker_cpu())    # threads started meanwhile
                return f"socket://127.0.0.1:{port}"
            self.stop()
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

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
