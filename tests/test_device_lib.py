"""The device library (hil/device_lib): sanitizer builds, the host example a lab copies, the layout rules.

The example in docs/own-firmware.md is run here exactly as written; the fuzz
harnesses are replayed over their seeds under gcc's AddressSanitizer + UBSan
(libFuzzer itself runs in `make fuzz`).
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hil import device_lib
from hil.device_lib.fuzz import seeds
from hil.errors import DeviceError
from hil.protocol import codec, spec

ROOT = Path(__file__).resolve().parents[1]
FUZZ = device_lib.ROOT / "fuzz"
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc: install build-essential")


def test_library_location_is_printed_for_firmware_builds():
    r = subprocess.run([sys.executable, "-m", "hil.device_lib", "--path"], capture_output=True, text=True, check=True)
    assert Path(r.stdout.strip()) == device_lib.ROOT
    r = subprocess.run([sys.executable, "-m", "hil.device_lib", "--sources"], capture_output=True, text=True,
                       check=True)
    assert [Path(p) for p in r.stdout.split()] == list(device_lib.SOURCES)
    assert (device_lib.INCLUDE_DIR / "hil_device.h").exists() and device_lib.MAKE_FRAGMENT.exists()


def test_target_trees_do_not_refer_to_each_other():
    def refs(tree: str, other: str) -> list[str]:
        hits = []
        for p in (ROOT / tree).rglob("*"):
            if p.is_file() and "build" not in p.relative_to(ROOT / tree).parts[:1] and p.suffix != ".o":
                if other in p.read_text(errors="ignore"):
                    hits.append(str(p.relative_to(ROOT)))
        return hits
    assert refs("firmware_fpga_hls", "firmware_stm32") == []
    assert refs("firmware_stm32", "firmware_fpga_hls") == []


def test_both_targets_compile_the_one_dispatcher():
    for mk in (ROOT / "firmware_stm32" / "Makefile", ROOT / "firmware_fpga_hls" / "Makefile"):
        text = mk.read_text()
        assert "hil/device_lib" in text and "hil_device" in text, mk
    sources = [p for p in ROOT.glob("firmware_*/**/dispatcher.*") if "build" not in p.relative_to(ROOT).parts]
    assert not sources and not (ROOT / "firmware_stm32/src/app_protocol.c").exists()
    assert "#ifdef" not in (device_lib.ROOT / "src" / "hil_device.c").read_text()


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seeds")
    seeds.main([str(out)])
    return out


@needs_gcc
@pytest.mark.parametrize("harness,sources", [
    ("fuzz_frame", ["fuzz_frame.c", "../src/hil_frame.c"]),
    ("fuzz_dispatch", ["fuzz_dispatch.c", "test_backend.c", "../src/hil_frame.c", "../src/hil_device.c"]),
    ("fuzz_mlperf", ["fuzz_mlperf.c", "test_backend.c", "../src/hil_frame.c", "../src/hil_device.c",
                     "../src/hil_mlperf.c"]),
])
def test_library_under_asan_ubsan_on_frame_vectors_and_sessions(harness, sources, seed_dir, tmp_path):
    """Every frame vector and every seed session through the library built with -fsanitize=address,undefined;
    the harnesses also check one response per request and well-formed response frames."""
    exe = tmp_path / harness
    subprocess.run(["gcc", "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", *SANITIZE,
                    f"-I{device_lib.INCLUDE_DIR}", f"-I{FUZZ}", *[str(FUZZ / s) for s in sources],
                    str(FUZZ / "replay_main.c"), "-o", str(exe)], check=True)
    files = sorted(seed_dir.iterdir())
    vectors = [f for f in files if f.name.startswith("vec_")]
    assert len(vectors) >= 40 and any(f.name.startswith("session_") for f in files)
    r = subprocess.run([str(exe), *map(str, files)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"replayed {len(files)} input(s)" in r.stdout


def _doc_command() -> list[str]:
    doc = (ROOT / "docs" / "own-firmware.md").read_text()
    m = re.search(r"<!-- own-firmware-example -->\n```\n(pytest [^\n]+)\n```", doc)
    assert m, "docs/own-firmware.md lost its marked example command"
    return shlex.split(m.group(1))


@needs_gcc
def test_own_firmware_doc_example_runs(tmp_path):
    """The command of docs/own-firmware.md, as written: the board suite on the host example."""
    cmd = _doc_command()
    r = subprocess.run([sys.executable, "-m", *cmd, "-q", "-p", "no:cacheprovider",
                        f"--hil-json={tmp_path / 'results.json'}"], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert re.search(r"\d+ passed", r.stdout) and "failed" not in r.stdout.splitlines()[-1]


@needs_gcc
def test_host_example_answers_unknown_and_test_only_types_unknown_type():
    """A production build (no extra_request) answers TEST_FAULT and device-to-host types with UNKNOWN_TYPE."""
    from hil.boards.base import BoardOptions
    from hil.device_lib.examples.host_example.board import HostExampleBoard
    test_fault = dict((n, i) for n, i, _ in spec.TEST_REQUESTS)["TEST_FAULT"]
    with HostExampleBoard(BoardOptions(models=list(HostExampleBoard.default_models))) as board:
        dev = board.device
        for seq, type_ in ((501, test_fault), (502, codec.layout("FAULT").id), (503, codec.layout("PING_RSP").id)):
            dev.link.write(b"\x00" + codec.encode_frame(type_, seq))
            with pytest.raises(DeviceError, match=f"UNKNOWN_TYPE.*detail {type_}"):
                _raise_for_seq(dev, seq)
        assert dev.request("PING").proto_version == spec.PROTOCOL_VERSION


def _raise_for_seq(dev, seq: int, timeout: float = 5.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in dev._decoder.feed(dev.link.read_some()):
            if isinstance(f, codec.Frame) and f.seq == seq:
                codec.raise_for_error(f)
                return
    raise AssertionError(f"no answer with seq {seq}")


def test_board_by_import_path_errors_are_one_line():
    from hil.boards import board_class
    from hil.device_lib.examples.host_example.board import HostExampleBoard
    from hil.errors import BoardError
    assert board_class("hil.device_lib.examples.host_example.board:HostExampleBoard") is HostExampleBoard
    with pytest.raises(BoardError, match="cannot be loaded.*importable `module:Class`"):
        board_class("no_such_lab.boards:Mine")
    with pytest.raises(BoardError, match="not a hil.boards.Board subclass"):
        board_class("hil.errors:HilError")
