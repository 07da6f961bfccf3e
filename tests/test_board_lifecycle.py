"""Board classes as a lab engineer meets them: clean-up always, clear errors
for missing boards and models too big for the board."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from hil.lab_config import BoardConfig

from golden import artifact
from hil.boards import BoardError, BoardOptions, board_class

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="qemu-system-arm / arm-none-eabi-gcc not on PATH (make setup)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:          # a zombie is gone for our purposes
        return f.read().split()[2] != "Z"


@needs_qemu
def test_qemu_is_gone_after_close():
    board = board_class("stm32f4-qemu")(BoardOptions(models=["sine_mlp"]))
    board.open()
    pid = board.proc.pid
    assert _alive(pid) and board.info.counter == "icount"
    board.close()
    assert not _alive(pid)
    board.close()                                   # twice is harmless


@needs_qemu
def test_ctrl_c_kills_qemu(tmp_path):
    """SIGINT in the middle of a session: the emulator must not outlive the host."""
    script = tmp_path / "session.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from hil.boards import BoardOptions, board_class
        b = board_class("stm32f4-qemu")(BoardOptions(models=["sine_mlp"]))
        with b:
            print(b.proc.pid, flush=True)
            while True:
                b.device.request("PING")
                time.sleep(0.01)
    """))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    pid = int(p.stdout.readline())
    assert _alive(pid)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "QEMU survived Ctrl-C of the host"


def test_real_board_without_probe_says_what_is_attached(monkeypatch):
    from hil.boards import stm32_disc1
    monkeypatch.setattr(stm32_disc1, "_probes", lambda: [])
    board = stm32_disc1.Stm32Disc1Board(BoardOptions(models=["sine_mlp"]))
    board.elf = "unused.elf"
    with pytest.raises(BoardError, match=r"stm32f4: no debug probe attached\. Attached:"):
        board.deploy()


def test_configured_probe_missing_is_named(monkeypatch):
    from hil.boards import stm32_disc1

    class Probe:
        unique_id, description = "0669FF111", "STM32 STLink"
    monkeypatch.setattr(stm32_disc1, "_probes", lambda: [Probe()])
    board = stm32_disc1.Stm32Disc1Board(BoardOptions(models=["sine_mlp"], config=BoardConfig(probe_uid="ABC")))
    with pytest.raises(BoardError, match=r"probe ABC from the lab config is not attached.*0669FF111"):
        board._choose_probe()


def test_unknown_board_and_model_errors():
    with pytest.raises(BoardError, match="unknown board 'nope'.*stm32f4-qemu"):
        board_class("nope")
    from hil.targets.stm32.firmware import build_stm32
    with pytest.raises(BoardError, match="no quantized artifact for model 'ghost'"):
        build_stm32("qemu", ["ghost"], board="stm32f4-qemu")


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not on PATH")
def test_model_too_big_for_the_board_fails_the_build_clearly(tmp_path):
    """A 1.2 MB fully connected layer cannot fit the F405's 1 MiB flash."""
    n_in, n_out = 1200, 1000
    layer = dict(name="huge", op="fully_connected", in_shape=[n_in], out_shape=[n_out], macs=n_in * n_out,
                 weights_shape=[n_out, n_in], weights=np.ones(n_in * n_out, np.int64).tolist(),
                 bias=[0] * n_out, input_scale=1.0, input_zp=0, output_scale=1.0, output_zp=0,
                 weight_scale=[1.0] * n_out, multiplier=[1 << 30] * n_out, shift=[0] * n_out,
                 act_min=-128, act_max=127, relu=False)
    doc = artifact.finalize(dict(model="huge", scheme="int8", rounding="tflm-double-rounding", layout="CHW",
                                 classes=None, input=dict(shape=[n_in], dtype="int8", scale=1.0, zero_point=0),
                                 output=dict(shape=[n_out], dtype="int8", scale=1.0, zero_point=0),
                                 layers=[layer], params=n_in * n_out, macs=n_in * n_out))
    path = tmp_path / "huge.qmodel.json"
    artifact.save(doc, path)
    from hil.targets.stm32.firmware import FIRMWARE_DIR
    r = subprocess.run(["make", "-C", str(FIRMWARE_DIR), "TARGET=qemu", f"BUILD_DIR={tmp_path / 'b'}",
                        f"MODELS={path}"], capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "firmware for TARGET=qemu does not fit" in out and "FLASH overflow" in out, out[-2000:]
