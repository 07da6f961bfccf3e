"""The raw floor of a twin's UART, for `hil bench link`: bytes streamed through the same emulated
USART with no protocol work, so that hil's payload throughput can be stated as a fraction of it.
Milliseconds on an emulator are the host's speed and load; the fraction travels between machines.

On `stm32f4-qemu` the floor is the firmware's bring-up app (`APP=bringup`,
firmware_stm32/src/app_bringup.c): the same USART driver, RX interrupt, ring and WFI main loop as
the protocol firmware, echoing every byte and doing nothing else, on the same QEMU command line
(same `-icount`, same CPU pinning). The host writes a block of the model input's size and reads
its echo back, block after block, over the same kind of socket link hil uses. The echo sends
every byte back (the protocol answers a LOAD_INPUT with a few bytes), so the floor moves twice the
bytes of a load: a fraction near 1 means hil adds next to nothing to what the UART can carry.
"""
from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from hil.boards.base import BoardError
from hil.boards.stm32_qemu import Stm32QemuBoard
from hil.targets import source_dir

BANNER = b"HIL-FW boot"


@dataclass
class Floor:
    """Bytes streamed through the twin's UART with no protocol: `bytes_per_s` of blocks written
    and read back (echo), on the host's wall clock."""
    board: str
    mechanism: str
    block_bytes: int
    blocks: int
    seconds: float
    bytes_per_s: float

    def to_json(self) -> dict:
        return asdict(self)


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


def _read_exactly(link, n: int, what: str) -> bytes:
    data = link.read(n)
    if len(data) != n:
        raise BoardError(f"stm32f4-qemu: echo floor: {what}: got {len(data)} of {n} bytes back")
    return data


def qemu_echo_floor(block_bytes: int, blocks: int, timeout: float = 30.0) -> Floor:
    """Stream `blocks` blocks of `block_bytes` through the QEMU twin's USART (echo app)."""
    import serial
    twin = _EchoTwin()
    twin.build()
    url = twin.deploy()
    try:
        link = serial.serial_for_url(url, timeout=timeout)
        try:
            line = link.read_until(b"\n")
            if BANNER not in line:
                raise BoardError(f"stm32f4-qemu: echo floor: no boot banner from the bring-up app, got {line[:60]!r}")
            # no newline in a block: the app runs its text commands only at a line end
            block = bytes((i * 7 + 1) % 256 or 1 for i in range(block_bytes)).replace(b"\n", b"\x0b")
            t0 = time.perf_counter()
            for _ in range(blocks):
                link.write(block)
                if _read_exactly(link, block_bytes, "echo") != block:
                    raise BoardError("stm32f4-qemu: echo floor: the echo differs from what was sent")
            seconds = time.perf_counter() - t0
        finally:
            link.close()
    finally:
        twin.stop()
    return Floor(board="stm32f4-qemu", mechanism="bring-up echo app (APP=bringup) on the same QEMU twin",
                 block_bytes=block_bytes, blocks=blocks, seconds=seconds, bytes_per_s=block_bytes * blocks / seconds)


# board name -> how its raw floor is measured; boards not listed have none (yet)
FLOORS = {"stm32f4-qemu": qemu_echo_floor}


def measure_floor(board: str, block_bytes: int, blocks: int) -> Floor | None:
    fn = FLOORS.get(board)
    return fn(block_bytes, blocks) if fn else None
