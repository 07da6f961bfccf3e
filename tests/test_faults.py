"""Runs that survive faults (issue 8): retransmission over a damaged link,
restarts of a dead or hung device, no orphan emulators, no port races."""
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from hil.boards import BoardOptions, board_class
from hil.device import Device, LinkRetriesExhausted, Timing
from hil.inject import FaultSpec, FaultyLink, InjectError
from hil.link import SerialLink
from hil.runner import run_model
from hil.soak import soak

pytest_plugins = ["pytester"]

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="qemu-system-arm / arm-none-eabi-gcc not on PATH (make setup)")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int, comm: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name, rest = stat.split("(", 1)[1].rsplit(")", 1)
            if name == comm and int(rest.split()[1]) == pid:
                out.append(int(entry))
    return out


# ---- the link under injected faults -------------------------------------------

def test_fault_spec_parses_and_rejects_clearly():
    spec = FaultSpec.parse("corrupt=0.01, drop=0.001,dup=0.002,stall=0.0001,stall_ms=50,seed=7")
    assert (spec.corrupt, spec.drop, spec.dup, spec.stall, spec.stall_ms, spec.seed) == (0.01, 0.001, 0.002,
                                                                                           0.0001, 50, 7)
    assert FaultSpec.parse(str(spec)) == spec
    for bad, msg in (("corupt=0.1", "KEY=VALUE"), ("corrupt=x", "not a number"), ("drop=0.9", "0..0.5"),
                     ("dir=up", "dir=up")):
        with pytest.raises(InjectError, match=msg):
            FaultSpec.parse(bad)


def test_same_seed_same_damage():
    data = bytes(range(256)) * 40
    a, b = (FaultyLink(None, FaultSpec(corrupt=0.02, drop=0.01, dup=0.01, seed=5)) for _ in range(2))
    assert a.h2d.apply(data) == b.h2d.apply(data) != data
    assert a.h2d.counts.corrupt > 100 and a.h2d.counts.frames == 39      # the first 0x00 ends no frame


@pytest.mark.parametrize("inject", ["corrupt=0.01,seed=1", "drop=0.01,seed=2", "dup=0.01,seed=3",
                                    "corrupt=0.003,drop=0.003,dup=0.003,stall=0.0005,stall_ms=100,seed=4"])
def test_run_on_a_noisy_link_is_exact_and_counts_retries(inject):
    board = board_class("sim")(BoardOptions(models=["mnist_lenet"], inject=FaultSpec.parse(inject)))
    with board:
        doc = run_model(board, "mnist_lenet", vectors=12).to_json()
    assert doc["vectors"] == 12 and doc["int_mismatches"] == 0
    link = doc["link"]
    assert link["retries"] > 0 and link["naks"] + link["corrupt_frames"] + link["timeouts"] > 0
    assert link["injected"]["frames_damaged"] > 0 and link["inject_spec"] == str(FaultSpec.parse(inject))


def test_soak_smoke_reports_zero_undetected():
    board = board_class("sim")(BoardOptions(models=["sine_mlp"],
                                            inject=FaultSpec.parse("corrupt=0.01,drop=0.002,dup=0.002,seed=9")))
    with board:
        doc = soak(board, "sine_mlp", 80).to_json()
    assert doc["vectors"] == 80 and doc["undetected"] == 0 and doc["failed_vectors"] == []
    assert doc["injected"] > 0 and doc["detected"] > 0 and doc["retries"] > 0 and doc["requests"] >= 160
    assert doc["vectors_per_s"] > 0


def test_silent_device_fails_in_seconds_not_twenty():
    """A PING to a listener that never answers: bounded retries with short timeouts."""
    with socket.create_server(("127.0.0.1", 0)) as srv:
        link = SerialLink(f"socket://127.0.0.1:{srv.getsockname()[1]}", board="mute")
        conn, _ = srv.accept()
        dev = Device(link, timing=Timing(base_s=0.1))
        t0 = time.monotonic()
        with pytest.raises(LinkRetriesExhausted, match="no valid answer to PING"):
            dev.request("PING")
        assert time.monotonic() - t0 < 4 and dev.stats.timeouts == 4 and dev.stats.retries == 3
        assert conn.recv(4096).count(b"\x00") >= 8          # four attempts, two delimiters each at least
        conn.close()
        link.close()


def test_sequence_numbers_start_at_random():
    starts = {Device(link=None)._next_seq() for _ in range(5)}
    assert len(starts) > 1 and 0xFFFF not in starts


# ---- the real firmware: noisy link, dead devices, orphans, ports (QEMU twin) -------

@needs_qemu
def test_firmware_on_a_noisy_link_is_exact():
    """The Done-when of issue 8 in small (the 200-vector run is in docs/reliability.md)."""
    board = board_class("stm32f4-qemu")(BoardOptions(models=["mnist_lenet"],
                                                     inject=FaultSpec.parse("corrupt=0.01,seed=1")))
    with board:
        doc = run_model(board, "mnist_lenet", vectors=8).to_json()
    assert doc["vectors"] == 8 and doc["int_mismatches"] == 0 and doc["link"]["retries"] > 0


@needs_qemu
def test_killed_and_hung_emulator_is_restarted_and_recorded():
    board = board_class("stm32f4-qemu")(BoardOptions(models=["mnist_lenet"], timeout=0.2))

    def chaos(i, n):
        if i == 3:
            os.kill(board.proc.pid, signal.SIGKILL)           # a dead device: socket closed
        if i == 6:
            os.kill(board.proc.pid, signal.SIGSTOP)           # a hung one: only timeouts tell
    with board:
        first = board.proc.pid
        doc = run_model(board, "mnist_lenet", vectors=9, progress=chaos).to_json()
        assert board.proc.pid != first
    assert doc["vectors"] == 9 and doc["int_mismatches"] == 0
    from golden import bundle, subset
    from golden.paths import artifact_dir
    run9 = subset.select(bundle.read(artifact_dir("mnist_lenet")).labels, 9).tolist()
    kinds = [(r["vector"], r["error"]) for r in doc["restarts"]]
    assert kinds == [(run9[3], "LinkError"), (run9[6], "LinkRetriesExhausted")]    # the 4th and 7th vector
    assert all(r["request"] in ("LOAD_INPUT", "INFER", "READ_TENSOR") for r in doc["restarts"])
    assert not _alive(first)


@needs_qemu
def test_sigkilled_host_leaves_no_emulator(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])))
    host = subprocess.Popen([sys.executable, "-m", "hil.cli", "run", "--board", "stm32f4-qemu", "--model",
                             "sine_mlp", "--json", str(tmp_path / "x.json")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 300                      # includes a firmware build on a clean tree
    qemu = []
    while not qemu and time.monotonic() < deadline and host.poll() is None:
        qemu = _children(host.pid, "qemu-system-arm")
        time.sleep(0.1)
    assert qemu, "the host never started QEMU"
    host.kill()
    host.wait()
    deadline = time.monotonic() + 5
    while _alive(qemu[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(qemu[0]), "qemu-system-arm outlived its SIGKILLed host"


@needs_qemu
def test_port_taken_by_another_process_is_retried(monkeypatch, caplog):
    from hil.boards import local_process
    squatter = socket.create_server(("127.0.0.1", 0))
    taken = squatter.getsockname()[1]
    ports = iter([taken])
    real = local_process.free_port
    monkeypatch.setattr(local_process, "free_port", lambda: next(ports, None) or real())
    board = board_class("stm32f4-qemu")(BoardOptions(models=["sine_mlp"]))
    with caplog.at_level(logging.WARNING), board:
        assert board.device.request("PING").proto_version == 1
        assert f":{taken}" not in board.link.url
    assert f"port {taken} was taken" in caplog.text and "Address already in use" in caplog.text
    squatter.close()


# ---- pytest: one failure for a board-level problem ------------------------------

def test_board_problem_fails_once_and_skips_the_rest(pytester):
    pytester.makepyfile(test_many="""
        import pytest

        @pytest.mark.parametrize("i", range(40))
        def test_vec(hil_board, i):
            pass

        def test_dut(dut):
            pass

        def test_no_board():
            pass
    """)
    r = pytester.runpytest_subprocess("--board=nosuch", "-ra")
    r.assert_outcomes(passed=1, errors=1, skipped=40)
    r.stdout.fnmatch_lines(["*hil: unknown board 'nosuch'*known boards*", "*SKIPPED [[]39[]]*board unavailable*"])
    assert len(r.stdout.lines) < 40 and "Traceback" not in r.stdout.str()


def test_pytest_vectors_zero_is_a_usage_error(pytester):
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    r = pytester.runpytest_subprocess("--vectors=0")
    assert r.ret == 4
    r.stderr.fnmatch_lines(["*--vectors*0: give 1 or more*"])


def test_device_dead_after_its_restarts_fails_once(pytester):
    pytester.makeconftest("""
        from hil import recovery, runner
        from hil.link import LinkError

        recovery.MAX_RESTARTS = 1

        def dead(board, mr, i):
            raise LinkError(f"{board.name}: read failed: connection reset")
        runner.run_vector_once = dead
    """)
    pytester.makepyfile(test_user="""
        from hil.runner import run_vector

        def test_vec(hil_board, hil_model, golden_vector):
            run_vector(hil_board, hil_model, golden_vector[1])
    """)
    r = pytester.runpytest_subprocess("--board=sim", "--model=sine_mlp", "--vectors=6", "-ra")
    r.assert_outcomes(failed=1, skipped=5)
    r.stdout.fnmatch_lines(["*device dead after 1 restarts*", "*SKIPPED [[]5[]]*board unavailable*"])
