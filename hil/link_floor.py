"""The raw floor of a twin's UART, for `hil bench link`: bytes streamed through the same emulated
USART with no protocol work, so that hil's payload throughput can be stated as a fraction of it.
Milliseconds on an emulator are the host's speed and load; the fraction travels between machines.

On `stm32f4-qemu` the floor is the firmware's bring-up app (`APP=bringup`,
firmware_stm32/src/app_bringup.c): the same USART driver, RX interrupt, ring and WFI main loop as
the protocol firmware, echoing every byte and doing nothing else, on the same QEMU command line
(same `-icount`, same CPU pinning). `hil bench link` keeps it running next to the protocol twin and,
after each of its own exchanges, writes a block of the model input's size and reads its echo back
over the same kind of socket link hil uses: both are measured side by side, under the same load. The echo sends
every byte back (the protocol answers a LOAD_INPUT with a few bytes), so the floor moves twice the
bytes of a load: a fraction near 1 means hil adds next to nothing to what the UART can carry.
"""
from __future__ import annotations

import fcntl
import subprocess
import sys
import time

from hil.boards.base import BoardError
from hil.boards.stm32_qemu import Stm32QemuBoard
from hil.targets import source_dir

BANNER = b"HIL-FW boot"


def _build_bringup(board: str):
    """The bring-up echo app for the QEMU twin, built next to the protocol image."""
    fw = source_dir("firmware_stm32")
    cmd = ["make", "-C", str(fw), "TARGET=qemu", "APP=bringup", "BUILD_DIR=build/qemu-bringup",
           "PYTHON=" + sys.executable]
    (fw / "build").mkdir(exist_ok=True)
    with open(fw / "build" / ".lock", "w") as lock:        # the lock firmware builds share
        fcntl.flock(lock, fcntl.LOCK_EX)
        r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-10:])
        raise BoardError(f"{board}: bring-up app build failed ({' '.join(cmd[:4])} ...):\n{tail}")
    return fw / "build" / "qemu-bringup" / "hil_fw.elf"


class _EchoTwin(Stm32QemuBoard):
    """The stm32f4-qemu twin's emulator running the bring-up echo app instead of the protocol."""

    def build(self) -> None:
        self.elf = _build_bringup(self.name)


class EchoFloor:
    """The QEMU twin running the bring-up echo app, open for `block()` calls between hil's own
    exchanges, so that both are measured side by side under the same host load."""
    mechanism = "bring-up echo app (APP=bringup) on the same QEMU twin"

    def __init__(self, block_bytes: int, timeout: float = 30.0):
        # no newline in a block: the app runs its text commands only at a line end
        self.data = bytes((i * 7 + 1) % 256 or 1 for i in range(block_bytes)).replace(b"\n", b"\x0b")
        self.timeout = timeout
        self.twin = _EchoTwin()
        self.link = None

    def __enter__(self) -> "EchoFloor":
        import serial
        self.twin.build()
        try:
            self.link = serial.serial_for_url(self.twin.deploy(), timeout=self.timeout)
            line = self.link.read_until(b"\n")
            if BANNER not in line:
                raise BoardError(f"stm32f4-qemu: echo floor: no boot banner from the bring-up app, "
                                 f"got {line[:60]!r}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None
        self.twin.stop()

    def block(self) -> float:
        """Write one block, read its echo back: the seconds it took (host wall clock)."""
        t0 = time.perf_counter()
        self.link.write(self.data)
        back = self.link.read(len(self.data))
        seconds = time.perf_counter() - t0
        if back != self.data:
            raise BoardError(f"stm32f4-qemu: echo floor: {len(back)} of {len(self.data)} bytes came back"
                             + (", different from what was sent" if len(back) == len(self.data) else ""))
        return seconds


# board name -> how its raw floor is measured; boards not listed have none (yet)
FLOORS = {"stm32f4-qemu": EchoFloor}


def open_floor(board: str, block_bytes: int):
    """A context manager with `block()`, or a null context (None) for a board without a floor."""
    from contextlib import nullcontext
    cls = FLOORS.get(board)
    return cls(block_bytes) if cls else nullcontext()
