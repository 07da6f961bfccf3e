"""Host hygiene: private lock files that never follow a symlink, emulator logs that do not pile up in
/tmp, user-provided names that never reach rich markup unescaped, build failures that show their error."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from hil.errors import BoardError
from hil.targets.build_output import build_failed, first_error_line
from hil.workers import hold_exclusive, runtime_dir

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("make") is None,
                               reason="gcc and make are needed (make setup)")


@pytest.fixture
def private_dir(tmp_path, monkeypatch) -> Path:
    """XDG_RUNTIME_DIR in tmp_path: runtime_dir() is then tmp_path/run/hil."""
    (tmp_path / "run").mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    return tmp_path / "run" / "hil"


def test_lock_in_a_private_folder_and_never_through_a_symlink(private_dir, tmp_path):
    with hold_exclusive("probe-HYGIENE1", "probe HYGIENE1"):
        assert (private_dir / "probe-HYGIENE1.lock").is_file() and private_dir == runtime_dir()
    assert private_dir.stat().st_mode & 0o777 == 0o700
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (private_dir / "probe-PLANTED.lock").symlink_to(victim)          # planted by someone else
    with pytest.raises(BoardError, match="probe-PLANTED.lock.*symlink"):
        hold_exclusive("probe-PLANTED", "probe PLANTED")
    assert victim.read_text() == "precious\n"                        # not truncated, not locked


def test_a_runtime_folder_that_is_not_private_is_refused(private_dir, tmp_path):
    private_dir.mkdir(mode=0o755)
    private_dir.chmod(0o755)
    with pytest.raises(BoardError, match="not a private folder"):
        runtime_dir()
    private_dir.rmdir()
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    private_dir.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BoardError, match="not a private folder"):
        runtime_dir()


@needs_gcc
def test_emulator_log_is_removed_when_the_board_closes(private_dir):
    """A real emulator process (the host example of docs/own-firmware.md, a LocalProcessBoard)."""
    from hil.boards.base import BoardOptions
    from hil.device_lib.examples.host_example.board import HostExampleBoard

    def tmp_logs() -> set[str]:
        return {p.name for p in Path(tempfile.gettempdir()).glob("hil-host-example-*.log")}

    before = tmp_logs()
    dead = subprocess.Popen(["true"])
    dead.wait()                                                       # its pid no longer exists
    private_dir.mkdir(mode=0o700)
    (private_dir / f"logs-{dead.pid}-stm32f4-qemu-x").mkdir()       # left by a SIGKILLed run
    (private_dir / f"logs-{os.getpid()}-other-y").mkdir()            # a live process's (this one's)
    board = HostExampleBoard(BoardOptions(models=["sine_mlp"]))
    with board:
        log = Path(board.log.name)
        assert log.parent.parent == private_dir and log.exists()
        assert board.device.request("PING").proto_version == 1
    assert not log.parent.exists()
    assert [p.name for p in private_dir.iterdir()] == [f"logs-{os.getpid()}-other-y"]   # the dead one swept
    assert "listening on" in board.logs()["emulator"]                # still there for the results store
    assert tmp_logs() <= before                                       # nothing new in /tmp


def test_first_error_line_skips_warnings():
    out = "\n".join([f"x.c:{i}:1: warning: unused variable 'v{i}'" for i in range(30)])
    err = "x.c:40:5: error: 'y' undeclared\nmake: *** [Makefile:3: x.o] Error 1"
    assert first_error_line(out, err) == "x.c:40:5: error: 'y' undeclared"
    assert first_error_line("", "codegen_c: m: scheme 'shift' is for the FPGA\nmake: *** [nn.mk:95: g] Error 2") \
        == "codegen_c: m: scheme 'shift' is for the FPGA"


@needs_gcc
def test_an_image_that_does_not_fit_says_each_region_and_by_how_many_bytes():
    """check_size's lines (firmware_stm32/tools/check_size.py) become the summary, not ld's collect2."""
    err = ("ld: region `FLASH' overflowed by 147488 bytes\ncollect2: error: ld returned 1 exit status\n"
           "check_size: ERROR: firmware for TARGET=qemu does not fit:\n"
           "check_size:   FLASH overflow: needs 1196044 bytes (.text 1195608), has 1048576: 147468 bytes over\n"
           "check_size:   SRAM overflow: needs 140000 bytes (.bss 131808 + .stack 8192), has 131072: 8928 bytes over\n"
           "check_size:   CCM overflow: needs 70000 bytes (.ccmram 70000), has 65536: 4464 bytes over\n"
           "make: *** [Makefile:117: build/qemu/hil_fw.elf] Error 1")
    line = first_error_line("", err)
    assert line.startswith("image does not fit: FLASH overflow") and "\n" not in line
    assert "147468 bytes over" in line and "8928 bytes over" in line and "4464 bytes over" in line


def test_a_real_failed_build_names_its_first_error_after_many_warnings(tmp_path):
    src = "".join(f"int f{i}(void) {{ int unused{i}; return 0; }}\n" for i in range(20))
    (tmp_path / "bad.c").write_text(src + "int g(void) { return missing_symbol; }\n")
    (tmp_path / "Makefile").write_text("bad.o: bad.c\n\tgcc -Wall -c bad.c -o bad.o\n")
    cmd = ["make", "-C", str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode != 0
    exc = build_failed("test: firmware build", cmd, r.stdout, r.stderr)
    last = str(exc).splitlines()[-1]
    assert last.startswith("test: firmware build failed; first error: ") and "missing_symbol" in last
    assert "error:" in last and "warning" not in last


def test_names_with_markup_are_printed_as_written(tmp_path, capsys):
    """A board or model name like `[/oops]` reaches history, baseline and compare tables verbatim."""
    from hil.cli import main
    from hil.results.store import Store
    db = tmp_path / "m.db"
    with Store.open(db) as store:
        for _ in range(2):
            run = store.start_run(dict(board="[/oops]", counter="none", vectors=1, argv=["x"]))
            store.start_model(run, "[bold]m")
            store.finish_model(run, "[bold]m", dict(vectors=1, int_mismatches=0, accuracy=dict(
                metric="mae", device=0.5, float=0.5, int=0.5)))
            store.finish_run(run, "complete")
    for argv in (["history"], ["baseline", "pin", "1"], ["baseline", "list"], ["compare", "1", "2"]):
        code = main([*argv, "--db", str(db)])
        out = capsys.readouterr()
        assert code in (0, 1), (argv, out.err)
        assert "[/oops]" in out.out + out.err and "Traceback" not in out.err, argv
