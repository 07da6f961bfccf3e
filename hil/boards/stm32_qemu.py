"""`stm32f4-qemu`: the real firmware on QEMU's netduinoplus2 (STM32F405).

The same application code as the real board, built with TARGET=qemu. QEMU
runs with `-icount shift=0`, so SysTick counts are deterministic and
instruction-count based (DWT CYCCNT reads 0 in QEMU); USART1 is a TCP server
socket with `wait=on`, so nothing the firmware sends is lost before the host
connects. QEMU is always killed on close, also on Ctrl-C or a failed open.
"""
from __future__ import annotations

import shutil

from hil.boards.base import BoardError, Capability
from hil.boards.local_process import LocalProcessBoard
from hil.targets.stm32.firmware import build_stm32

QEMU = "qemu-system-arm"


class Stm32QemuBoard(LocalProcessBoard):
    name = "stm32f4-qemu"
    description = "STM32F4 firmware in QEMU netduinoplus2 (instruction-count based SysTick counts)"
    capabilities = frozenset({Capability.EMULATED, Capability.CYCLE_COUNTER, Capability.LAYER_TENSORS})
    target = "qemu"

    def __init__(self, options=None):
        super().__init__(options)
        self.elf = None

    def build(self) -> None:
        self.elf = build_stm32(self.target, self.options.models, board=self.name)

    def command(self, port: int) -> list[str]:
        if shutil.which(QEMU) is None:
            raise BoardError(f"{self.name}: {QEMU} not found on PATH: run `make setup` (installs qemu-system-arm)")
        return [QEMU, "-M", "netduinoplus2", "-nographic", "-monitor", "none", "-icount", "shift=0",
                "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on", "-kernel", str(self.elf)]

    def is_listening(self, port: int) -> bool:
        # Connecting to probe would use up the one wait=on connection, so
        # watch the kernel's socket table instead.
        return _listening(port)


def _listening(port: int) -> bool:
    """Is 127.0.0.1:port in LISTEN state (Linux /proc/net/tcp)?"""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == want and line.split()[3] == "0A" for line in f.readlines()[1:])
