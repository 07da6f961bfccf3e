"""Every bad input of issue 8's "unclear errors" list: one line that says what to
do, never a traceback, a hang or silent acceptance."""
import sys
import types

import pytest
from torch import nn

from golden import models
from golden.errors import DatasetError
from golden.graph import UnsupportedLayer
from golden.onnx_io import export_onnx
from hil import cli
from hil.boards import BoardError, BoardOptions, board_class
from hil.errors import InputError
from hil.lab_config import BoardConfig


def run_cli(capsys, *argv) -> tuple[int, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:         # argparse usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())      # rich wraps long lines


def test_hil_run_vectors_zero(capsys):
    code, text = run_cli(capsys, "run", "--board", "sim", "--model", "mnist_lenet", "--vectors", "0")
    assert code == 2 and "--vectors: 0: give 1 or more" in text and "Traceback" not in text


def test_bad_inject_spec(capsys):
    code, text = run_cli(capsys, "run", "--board", "sim", "--model", "mnist_lenet", "--inject", "corrupt")
    assert code == 2 and "argument --inject: 'corrupt' is not KEY=VALUE" in text


def test_brackets_in_error_messages_survive_rich_markup(capsys):
    code, text = run_cli(capsys, "run", "--no-db", "--board", "[nope]", "--model", "mnist_lenet")
    assert code == 2 and "unknown board '[nope]'" in text


def test_garbage_onnx(tmp_path, capsys):
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"\x08\x07 not a protobuf \xff\xfe" * 20)
    code, text = run_cli(capsys, "golden", "build", "--onnx", str(bad), "--name", "u1", "--dataset", "mnist",
                         "--out", str(tmp_path))
    assert code == 2 and "not an ONNX model this importer can read" in text and "Traceback" not in text
    models.REGISTRY.pop("u1", None)


def test_onnx_same_upper_padding_gives_no_traceback(tmp_path, capsys):
    """auto_pad=SAME_UPPER: supported (graph helper) or one clear line, never torch's traceback."""
    import onnx
    path = tmp_path / "same.onnx"
    export_onnx(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 28 * 28, 10)),
                (1, 28, 28), path)
    g = onnx.load(str(path))
    conv = next(n for n in g.graph.node if n.op_type == "Conv")
    for a in [a for a in conv.attribute if a.name == "pads"]:
        conv.attribute.remove(a)
    conv.attribute.append(onnx.helper.make_attribute("auto_pad", "SAME_UPPER"))
    onnx.save(g, str(path))
    from golden.user_models import register_onnx
    try:
        register_onnx("u_same", path, "mnist")
    except UnsupportedLayer as exc:
        assert "\n" not in str(exc)
    finally:
        models.REGISTRY.pop("u_same", None)
    assert "Traceback" not in capsys.readouterr().err


def test_seven_class_model_on_ten_class_mnist():
    from golden.user_models import register_module
    seven = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 26 * 26, 7))
    with pytest.raises(DatasetError, match="has 7 outputs, but the mnist data set has the 10 classes"):
        register_module("u7", seven, "mnist")
    assert "u7" not in models.REGISTRY


def test_timing_repeat_is_bounded_before_anything_is_sent():
    board = board_class("sim")(BoardOptions(models=["kws_dscnn"]))
    with board:
        m = board.info.model("kws_dscnn")
        sent = board.link.bytes_out
        with pytest.raises(InputError, match="x65535 is .* MACs, more than .* use repeat <= 77"):
            board.device.infer(m, "TIMING", repeat=65535)
        with pytest.raises(InputError, match="repeat 2: use 1 for mode OUTPUTS"):
            board.device.infer(m, "OUTPUTS", repeat=2)
        assert board.link.bytes_out == sent


class _Probe:
    unique_id, description = "0669ff485550755187121723", "STM32 STLink"


def test_probe_uid_matches_ignoring_case(monkeypatch):
    from hil.boards import stm32_disc1
    monkeypatch.setattr(stm32_disc1, "_probes", lambda: [_Probe()])
    board = stm32_disc1.Stm32Disc1Board(BoardOptions(config=BoardConfig(probe_uid="0669FF485550755187121723")))
    assert board._choose_probe() is not None


def test_pyocd_session_never_blocks(monkeypatch):
    """A probe that vanished between listing and opening: a clear error, not a wait for a probe."""
    from hil.boards import stm32_disc1
    calls = {}

    def session_with_chosen_probe(**kw):
        calls.update(kw)
        return None                     # what pyOCD returns with blocking=False and no probe
    helpers = types.SimpleNamespace(ConnectHelper=types.SimpleNamespace(
        session_with_chosen_probe=session_with_chosen_probe))
    monkeypatch.setitem(sys.modules, "pyocd.core.helpers", helpers)
    monkeypatch.setattr(stm32_disc1, "_probes", lambda: [_Probe()])
    board = stm32_disc1.Stm32Disc1Board(BoardOptions())
    board.elf = types.SimpleNamespace(name="fw.elf")
    with pytest.raises(BoardError, match="went away before pyOCD could open it"):
        board.deploy()
    assert calls["blocking"] is False


@pytest.mark.parametrize("text, msg", [
    ("boards = 5", "'boards' must be a table"),
    ("[boards]\nstm32f4 = 'x'", "boards.stm32f4: expected a table"),
    ("[boards.stm32f4]\nbaud = 'fast'", "boards.stm32f4.baud: expected an integer"),
    ("[boards.stm32f4]\nprobe_id = 'abc'", "unknown key(s) probe_id"),
    ("[boards.stm32f4.extra]\nx = 1", "unknown key(s) extra"),
    ("[boards.fpga-sim]\ncalibration = [1, 2]", "expected a list of strings"),
    ("[board.stm32f4]\nbaud = 1", "unknown top-level key(s) board"),
    ("boards = [", "lab config"),
])
def test_lab_config_of_the_wrong_structure(tmp_path, capsys, text, msg):
    path = tmp_path / "lab.toml"
    path.write_text(text)
    code, out = run_cli(capsys, "run", "--no-db", "--board", "stm32f4", "--model", "mnist_lenet",
                        "--hil-config", str(path))
    assert code == 2 and msg in out and "Traceback" not in out
