"""The host layout keeps its promises: the run path never imports torch, the
lab config is validated into typed records, errors share one tree."""
import subprocess
import sys

import pytest

from golden import errors as golden_errors
from golden.registry import DEFAULT_MODELS, built_models, check_built
from hil import errors, lab_config
from hil.boards import BoardOptions
from hil.lab_config import BoardConfig


@pytest.mark.parametrize("modules", [
    "hil.runner, hil.pytest_plugin, hil.cli, hil.board_cli, hil.golden_cli",
    "hil.boards.sim, hil.boards.stm32_qemu, hil.boards.fpga_sim, hil.boards.stm32_disc1, hil.boards.arty_a7",
    "hil.targets.stm32.firmware, hil.targets.hls.build, hil.targets.hls.codegen",
])
def test_run_path_never_imports_torch(modules):
    code = f"import sys; import {modules}; sys.exit('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, f"importing {modules} loaded torch: {r.stderr[-500:]}"


def test_one_exception_tree():
    assert errors.HilError is golden_errors.HilError
    for cls in (errors.BoardError, errors.ConfigError, errors.CodegenError, errors.FrameError,
                errors.LinkTimeout, golden_errors.UnknownModel, golden_errors.DatasetError):
        assert issubclass(cls, errors.HilError)
    from golden.artifact import ArtifactError
    from golden.bundle import BundleError
    from golden.graph import UnsupportedLayer
    for cls in (ArtifactError, BundleError, UnsupportedLayer):
        assert issubclass(cls, golden_errors.GoldenError) and not issubclass(cls, ValueError)


def test_default_models_in_one_place():
    assert BoardOptions().models == list(DEFAULT_MODELS)
    out = subprocess.run([sys.executable, "-m", "golden.registry"], capture_output=True, text=True, check=True)
    assert out.stdout.split() == list(DEFAULT_MODELS)          # what the firmware Makefile uses
    assert set(DEFAULT_MODELS) <= set(built_models())


def test_unknown_model_names_the_root():
    with pytest.raises(golden_errors.UnknownModel, match="no_such_model.*hil golden build"):
        check_built("no_such_model")


def test_lab_config_typed_records(tmp_path):
    p = tmp_path / "lab.toml"
    p.write_text('[boards.stm32f4]\nprobe_uid = "066D"\nbaud = 921600\n[boards.fpga-sim]\ncalibration = "c.json"\n')
    cfg = lab_config.load(str(p))
    assert cfg.board("stm32f4") == BoardConfig(probe_uid="066D", baud=921600)
    assert cfg.board("fpga-sim").calibration == ("c.json",)
    assert cfg.board("not-listed") == BoardConfig()


@pytest.mark.parametrize("text, message", [
    ('[boards.stm32f4]\nprobe_id = "x"\n', r"boards\.stm32f4: unknown key\(s\) probe_id; known keys: probe_uid"),
    ('[boards.stm32f4]\nbaud = "fast"\n', r"boards\.stm32f4\.baud: expected an integer, got str 'fast'"),
    ('[boards.stm32f4]\nbaud = true\n', r"boards\.stm32f4\.baud: expected an integer, got bool"),
    ('boards = 3\n', r"'boards' must be a table"),
    ('[boards]\nstm32f4 = "x"\n', r"boards\.stm32f4: expected a table"),
    ('[board.stm32f4]\nbaud = 1\n', r"unknown top-level key\(s\) board"),
    ('[boards.stm32f4\n', r"lab config .*lab\.toml"),
])
def test_lab_config_errors_name_the_key(tmp_path, text, message):
    p = tmp_path / "lab.toml"
    p.write_text(text)
    with pytest.raises(errors.ConfigError, match=message):
        lab_config.load(str(p))


def test_bad_lab_config_is_one_line_from_the_cli(tmp_path):
    p = tmp_path / "lab.toml"
    p.write_text('[boards.sim]\nbuad = 1\n')
    r = subprocess.run([sys.executable, "-m", "hil.cli", "run", "--board", "sim", "--model", "mnist_lenet",
                        "--vectors", "1", "--hil-config", str(p)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "unknown key(s) buad" in r.stderr
