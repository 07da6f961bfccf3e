"""`stm32f4-qemu`: the real firmware on QEMU's netduinoplus2 (STM32F405).

The same application code as the real board, built with TARGET=qemu. QEMU
runs with `-icount shift=0`, so SysTick counts are deterministic and
instruction-count based (DWT CYCCNT reads 0 in QEMU); USART1 is a TCP server
socket with `wait=on`, so nothing the firmware sends is lost before the host
connects. QEMU is always killed on close, also on Ctrl-C or a failed open.
"""
from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time

from hil.boards.base import Board, BoardError, Capability
from hil.firmware import build_stm32

QEMU = "qemu-system-arm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stm32QemuBoard(Board):
    name = "stm32f4-qemu"
    description = "STM32F4 firmware in QEMU netduinoplus2 (instruction-count based SysTick counts)"
    capabilities = frozenset({Capability.EMULATED, Capability.CYCLE_COUNTER, Capability.LAYER_TENSORS})
    target = "qemu"

    def __init__(self, options=None):
        super().__init__(options)
        self.proc: subprocess.Popen | None = None
        self.elf = None
        self.log = None

    def build(self) -> None:
        self.elf = build_stm32(self.target, self.options.models, board=self.name)

    def deploy(self) -> str:
        if shutil.which(QEMU) is None:
            raise BoardError(f"{self.name}: {QEMU} not found on PATH: run `make setup` (installs qemu-system-arm)")
        for _ in range(3):   # the free port can be taken between probe and bind: retry
            port = free_port()
            self.log = tempfile.NamedTemporaryFile(prefix="hil-qemu-", suffix=".log", delete=False)
            cmd = [QEMU, "-M", "netduinoplus2", "-nographic", "-monitor", "none", "-icount", "shift=0",
                   "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on", "-kernel", str(self.elf)]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            atexit.register(self.stop)
            if self._wait_listening(port):
                return f"socket://127.0.0.1:{port}"
            self.stop()
        raise BoardError(f"{self.name}: QEMU did not start listening: {self._log_tail()}")

    def _wait_listening(self, port: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False          # e.g. the port was taken: QEMU exits at once
            # Connecting to probe would use up the one wait=on connection, so
            # watch the kernel's socket table instead.
            if _listening(port):
                return True
            time.sleep(0.02)
        return False

    def _log_tail(self) -> str:
        try:
            with open(self.log.name) as f:
                return f.read()[-500:].strip() or "(no output)"
        except (OSError, AttributeError):
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None


def _listening(port: int) -> bool:
    """Is 127.0.0.1:port in LISTEN state (Linux /proc/net/tcp)?"""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == want and line.split()[3] == "0A" for line in f.readlines()[1:])
