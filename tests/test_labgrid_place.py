"""The `labgrid` board through a real labgrid coordinator and exporter on
loopback, exporting QEMU twins (tests/lab_loopback.py): places by name and by
tag, RFC 2217 through ser2net, the lock released on every way out."""
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hil.boards import BoardOptions, known_boards
from hil.boards.base import BoardError
from golden.registry import DEFAULT_MODELS
from hil.lab_config import BoardConfig
from hil.pytest_plugin import suite_args
from hil.runner import run_model
from lab_loopback import LoopbackLab, missing

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None, reason=missing() or "")]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from hil.targets.stm32.firmware import build_stm32
    elf = build_stm32("qemu", list(DEFAULT_MODELS), board="stm32f4-qemu")
    lab = LoopbackLab(tmp_path_factory.mktemp("lab"), elf, twins=2)
    try:
        yield lab.start()
    finally:
        lab.stop()


def _board(lab, **config):
    from hil.boards.labgrid_place import LabgridPlaceBoard
    return LabgridPlaceBoard(BoardOptions(models=list(DEFAULT_MODELS),
                                          config=BoardConfig(coordinator=lab.address, **config)))


def _holder(lab, place) -> str:
    for line in lab.client("-p", place, "show").splitlines():
        if line.strip().startswith("acquired:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no acquired: line")


def test_vectors_run_through_a_place_by_name(lab):
    b = _board(lab, place="hil-twin-0")
    with b:
        assert _holder(lab, "hil-twin-0") == b.lock.me
        assert b.link.url.startswith("rfc2217://127.0.0.1:")          # ser2net, started by the exporter
        listening = lab.listeners()                   # coordinator and ser2net, on loopback only
        assert {name for _, name in listening} >= {"ser2net"}, listening
        assert all(addr.startswith(("127.0.0.1:", "[::1]:", "[::ffff:127.0.0.1]:")) for addr, _ in listening), listening
        assert b.info.counter == "icount" and b.info.board == "qemu-netduinoplus2"
        doc = run_model(b, "sine_mlp", vectors=5).to_json()
        assert doc["int_mismatches"] == 0 and doc["vectors"] == 5
    assert _holder(lab, "hil-twin-0") == "None"


def test_places_by_tag_are_reserved_one_per_board(lab):
    a, b = _board(lab, tags={"board": "stm32f4-qemu"}), _board(lab, tags={"board": "stm32f4-qemu"})
    try:
        a.open()
        b.open()
        assert {a.lock.place, b.lock.place} == set(lab.places)
        assert run_model(b, "mnist_lenet", vectors=2).int_mismatches == 0
    finally:
        a.close()
        b.close()
    assert [_holder(lab, p) for p in lab.places] == ["None", "None"]


def test_a_place_held_by_someone_else_is_a_clear_error(lab):
    lab.client("-p", "hil-twin-1", "acquire", user="alice")
    try:
        with pytest.raises(BoardError, match=r"hil-twin-1' is acquired by .*/alice"):
            _board(lab, place="hil-twin-1").open()
    finally:
        lab.client("-p", "hil-twin-1", "release", user="alice")


def test_own_stale_lock_from_a_killed_run_is_taken_back(lab):
    lab.client("-p", "hil-twin-1", "acquire")          # as if a run of ours was SIGKILLed holding it
    with _board(lab, place="hil-twin-1") as b:
        assert b.device.request("PING").proto_version == 1
    assert _holder(lab, "hil-twin-1") == "None"


def test_own_stale_lock_is_taken_back_when_reserving_by_tag(lab):
    lab.client("-p", "hil-twin-0", "acquire")          # ours, left by a killed run
    lab.client("-p", "hil-twin-1", "acquire", user="alice")
    try:
        with _board(lab, tags={"board": "stm32f4-qemu"}) as b:
            assert b.lock.place == "hil-twin-0"
    finally:
        lab.client("-p", "hil-twin-1", "release", user="alice")
    assert _holder(lab, "hil-twin-0") == "None"


@pytest.mark.parametrize("sig, exit_codes", [(signal.SIGTERM, {128 + signal.SIGTERM}),   # a cancelled CI job
                                              (signal.SIGINT, {130, -signal.SIGINT})])     # Ctrl-C
def test_signals_release_the_place(lab, tmp_path, sig, exit_codes):
    script = tmp_path / "hold.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from hil.boards import BoardOptions
        from hil.boards.labgrid_place import LabgridPlaceBoard
        from hil.lab_config import BoardConfig
        b = LabgridPlaceBoard(BoardOptions(models=["sine_mlp"],
                                           config=BoardConfig(coordinator={lab.address!r}, place="hil-twin-0")))
        b.acquire()
        print("acquired", flush=True)
        time.sleep(60)
    """))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=lab.env)
    try:
        assert p.stdout.readline().strip() == "acquired"
        assert _holder(lab, "hil-twin-0") != "None"
        p.send_signal(sig)
        assert p.wait(timeout=20) in exit_codes
    finally:
        if p.poll() is None:
            p.kill()
    assert _holder(lab, "hil-twin-0") == "None"


def test_board_suite_through_places_one_per_worker(lab, tmp_path):
    if "labgrid" not in known_boards():
        pytest.skip("the labgrid board entry point is not installed: pip install -e '.[lab]'")
    pytest.importorskip("xdist")
    cfg = tmp_path / "lab.toml"
    cfg.write_text(f'[boards.labgrid]\ncoordinator = "{lab.address}"\ntags = {{ board = "stm32f4-qemu" }}\n')
    out = tmp_path / "results.json"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                        str(REPO / "tests/board"), *suite_args("labgrid", 2, json_path=out, config=cfg)],
                       capture_output=True, text=True, cwd=REPO, env=lab.env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert r.stdout.count("hil results on labgrid") == 1 and out.exists()
    log = (lab.dir / "coordinator.log").read_text()
    holders = {p: re.findall(rf"{p}: place acquired by (\S+)", log) for p in lab.places}
    workers = {h.rsplit("-", 1)[-1] for hs in holders.values() for h in hs if "-gw" in h}
    assert workers == {"gw0", "gw1"}, holders          # each worker reserved a place of its own
    assert [_holder(lab, p) for p in lab.places] == ["None", "None"]
