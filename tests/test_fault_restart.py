"""A device that reports a CPU fault (the firmware's HardFault frame) is treated
as dead: restarted, and the restart recorded with the fault registers and the
function the PC was in (issue 8). Needs the device library's FAULT frame and a
TEST_REQUESTS=1 firmware build."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hil import runner
from hil.boards.base import BoardOptions
from hil.boards.stm32_qemu import Stm32QemuBoard
from hil.protocol import codec, spec

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm (`make setup`)")


@pytest.fixture(scope="module")
def test_elf(test_requests_elf) -> Path:
    return test_requests_elf


def test_hardfault_mid_run_is_restarted_and_recorded(test_elf, monkeypatch):
    class Board(Stm32QemuBoard):
        def build(self) -> None:
            self.elf = test_elf
    board = Board(BoardOptions(models=["mnist_lenet"]))
    test_fault = dict((n, i) for n, i, _ in spec.TEST_REQUESTS)["TEST_FAULT"]
    once = runner.run_vector_once
    calls, fired = [], []

    def faulting(b, mr, i):
        calls.append(i)
        if len(calls) == 3 and not fired:
            fired.append(i)           # the device faults now; the next request learns it
            b.link.write(b"\x00" + codec.encode_frame(test_fault, 4242))
        return once(b, mr, i)
    monkeypatch.setattr(runner, "run_vector_once", faulting)
    with board:
        doc = runner.run_model(board, "mnist_lenet", vectors=4).to_json()
    assert doc["vectors"] == 4 and doc["int_mismatches"] == 0
    (r,) = doc["restarts"]
    assert r["vector"] == fired[0] and r["error"] == "DeviceFault" and r["registers"]["exception"] == 3
    assert r["where"] and r["where"].startswith("hil_test_request")
