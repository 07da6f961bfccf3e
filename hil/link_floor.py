"""The raw floor of a twin's UART, for `hil bench link`: bytes streamed through the same emulated
USART with no protocol work, so that hil's payload throughput can be stated as a fraction of it.
Milliseconds on an emulator are the host's speed and load; the fraction travels between machines.

On `stm32f4-qemu` the floor is the firmware's bring-up app (`APP=bringup`,
firmware_stm32/src/app_bringup.c): the same USART driver, RX interrupt, ring and WFI main loop as
the protocol firmware, on the same QEMU command line (same `-icount`, same CPU pinning). Its
`SINK n` command takes the next n bytes with no echo and no other work and then answers one short
line, as a LOAD_INPUT is answered by one short frame. `hil bench link` keeps this twin running next
to the protocol twin and, after each of its own exchanges, sinks a block of the model input's size
over the same kind of socket link hil uses: both are measured side by side, under the same load.
(An echo is no floor: sending every byte back, the twin reached about two thirds of SINK's
bytes/s in runs here.)
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
    """The bring-up app for the QEMU twin, built next to the protocol image."""
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


class _BringupTwin(Stm32QemuBoard):
    """The stm32f4-qemu twin's emulator running the bring-up app instead of the protocol."""

    def build(self) -> None:
        self.elf = _build_bringup(self.name)


class SinkFloor:
    """The QEMU twin running the bring-up app, open for `block()` calls between hil's own exchanges,
    so that both are measured side by side under the same host load."""
    mechanism = "bring-up app's SINK command (APP=bringup) on the same QEMU twin"

    def __init__(self, block_bytes: int, timeout: float = 30.0):
        self.data = bytes((i * 7 + 1) % 256 for i in range(block_bytes))
        self.command = f"SINK {block_bytes}\n".encode()
        self.done = f"SINK n={block_bytes}\r\n".encode()
        self.timeout = timeout
        self.twin = _BringupTwin()
        self.link = None

    def __enter__(self) -> "SinkFloor":
        import serial
        self.twin.build()
        try:
            self.link = serial.serial_for_url(self.twin.deploy(), timeout=self.timeout)
            line = self.link.read_until(b"\n")
            if BANNER not in line:
                raise BoardError(f"stm32f4-qemu: raw floor: no boot banner from the bring-up app, "
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
        """SINK one block: the seconds from writing its first byte to the app's "SINK n=" line
        (host wall clock; the command line before it, echoed, is not timed)."""
        self.link.write(self.command)
        echo = self.link.read(len(self.command))
        if echo != self.command:
            raise BoardError(f"stm32f4-qemu: raw floor: the bring-up app echoed {echo[:40]!r} to the SINK "
                             f"command: is it a firmware without SINK? (rebuild: APP=bringup)")
        t0 = time.perf_counter()
        self.link.write(self.data)
        done = self.link.read_until(b"\n")
        seconds = time.perf_counter() - t0
        if done != self.done:
            raise BoardError(f"stm32f4-qemu: raw floor: expected {self.done!r} after {len(self.data)} bytes, "
                             f"got {done[:40]!r}")
        return seconds


# board name -> how its raw floor is measured; boards not listed have none (yet)
FLOORS = {"stm32f4-qemu": SinkFloor}


def open_floor(board: str, block_bytes: int):
    """A context manager with `block()`, or a null context (None) for a board without a floor."""
    from contextlib import nullcontext
    cls = FLOORS.get(board)
    return cls(block_bytes) if cls else nullcontext()
