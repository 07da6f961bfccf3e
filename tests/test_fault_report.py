"""A CPU fault on the STM32 twin reaches the host as a FAULT frame with the fault registers.

The firmware is built with TEST_REQUESTS=1, which adds the test-only request
TEST_FAULT (a load from an unmapped address: a precise BusFault escalated to
HardFault). The fault handler (firmware_stm32/src/fault.c) sends FAULT; the
host's next request raises DeviceFault naming the registers.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hil.boards.base import BoardOptions
from hil.boards.stm32_qemu import Stm32QemuBoard
from hil.errors import DeviceFault
from hil.protocol import codec, spec

TEST_FAULT = dict((n, i) for n, i, _ in spec.TEST_REQUESTS)["TEST_FAULT"]
UNMAPPED_ADDR = 0x30000000          # firmware_stm32/src/test_requests.c
HFSR_FORCED = 1 << 30
CFSR_PRECISERR, CFSR_BFARVALID = 1 << 9, 1 << 15

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                                reason="needs arm-none-eabi-gcc and qemu-system-arm (`make setup`)")


@pytest.fixture(scope="module")
def test_elf(test_requests_elf) -> Path:
    return test_requests_elf


class _TestBuildBoard(Stm32QemuBoard):
    """The QEMU twin running a TEST_REQUESTS=1 build."""
    elf_path: Path

    def build(self) -> None:
        self.elf = self.elf_path


def _symbol_range(elf: Path, name: str) -> range:
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            start = int(parts[0], 16) & ~1
            return range(start, start + int(parts[1], 16))
    raise AssertionError(f"{name} not in {elf}")


def test_hardfault_registers_reach_the_host(test_elf):
    board = _TestBuildBoard(BoardOptions(models=["sine_mlp"], timeout=10.0))
    board.elf_path = test_elf
    dev = board.open()
    try:
        assert dev.request("PING").proto_version == spec.PROTOCOL_VERSION   # alive before
        dev.link.write(b"\x00" + codec.encode_frame(TEST_FAULT, 4242))
        with pytest.raises(DeviceFault) as info:
            dev.request("PING")
    finally:
        board.close()
    regs = info.value.registers
    assert regs["exception"] == 3                                   # HardFault
    assert regs["hfsr"] & HFSR_FORCED                               # escalated from BusFault
    assert regs["cfsr"] & CFSR_PRECISERR and regs["cfsr"] & CFSR_BFARVALID
    assert regs["bfar"] == UNMAPPED_ADDR
    assert regs["pc"] in _symbol_range(test_elf, "hil_test_request")   # the faulting load
    caller = subprocess.run(["arm-none-eabi-addr2line", "-e", str(test_elf), hex(regs["lr"] & ~1)],
                            capture_output=True, text=True, check=True).stdout
    assert "hil_device.c" in caller                                   # called from the dispatcher
    msg = str(info.value)
    for name in ("CFSR=", "HFSR=", "MMFAR=", "BFAR=", f"BFAR=0x{UNMAPPED_ADDR:08X}", "PC=", "LR="):
        assert name in msg
