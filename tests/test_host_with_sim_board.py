"""Host protocol code, runner and plugin against the `sim` board: the real wire
protocol over a real TCP socket, answered by the integer simulator."""
import json

import numpy as np
import pytest

from hil.errors import InputError

from golden import bundle
from golden.build import artifact_dir
from hil.boards import BoardOptions, board_class
from hil.errors import DeviceError
from hil.runner import describe_mismatch, run_model, run_vector, prepare

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def board():
    b = board_class("sim")(BoardOptions(models=["mnist_lenet", "sine_mlp"], timeout=5))
    b.open()
    yield b
    b.close()


def test_info_lists_models_with_shapes(board):
    m = board.info.model("mnist_lenet")
    assert m.in_shape == (1, 28, 28) and m.out_shape == (10,) and len(m.layers) == 6
    assert board.info.counter == "none"


def test_run_model_has_documented_json_keys(board):
    doc = run_model(board, "mnist_lenet", vectors=10).to_json()
    for key in ("board", "model", "vectors", "int_mismatches", "accuracy", "counter", "unit", "total",
                "layers", "latency_ms", "link", "per_vector"):
        assert key in doc
    assert doc["int_mismatches"] == 0 and doc["vectors"] == 10
    assert set(doc["accuracy"]) >= {"device", "float", "int"}
    assert doc["link"]["wire_bytes"] > doc["link"]["payload_bytes"] > 10 * 784


def test_link_survives_garbage_and_truncated_frame(board):
    d = board.device
    board.link.write(b"\x13\x37 garbage without delimiter \xff\xfe")
    assert d.request("PING").proto_version == 1
    from hil.protocol import codec, spec
    frame = codec.encode_message("INFO", 999)
    board.link.write(frame[: len(frame) // 2])        # half a frame, never finished
    assert d.request("PING").max_payload == spec.MAX_PAYLOAD
    mr = prepare(board, "mnist_lenet")
    assert run_vector(board, mr, 3).int_match


def test_wrong_model_id_and_wrong_input_size_are_clear_errors(board):
    with pytest.raises(DeviceError, match="UNKNOWN_MODEL"):
        board.device.request("MODEL_INFO", model_id=9)
    with pytest.raises(DeviceError, match="WRONG_INPUT_SIZE.*detail 784"):
        board.device.load_input(0, bytes(100))
    m = board.info.model("mnist_lenet")
    with pytest.raises(InputError, match="does not match model 'mnist_lenet'"):
        board.device.run(m, np.zeros((1, 28, 27), np.int8))


def test_reconnect_mid_stream(board):
    """A new host connection after an abandoned one (stale bytes left behind)."""
    board.link.write(b"\x05\x06\x07")
    board.link.close()
    from hil.device import Device
    from hil.link import SerialLink
    board.link = SerialLink(board.link.url, board=board.name)
    board.device = Device(board.link, timeout=5)
    board.device.sync()
    assert board.device.info().model("sine_mlp").out_shape == (1,)


def test_mismatch_names_vector_and_first_differing_layer(board, monkeypatch):
    """Corrupt one layer inside the device: the report must name it."""
    mr = prepare(board, "mnist_lenet")
    sim_dev = board._server.device
    real = sim_dev.sims[0].run_one

    def broken(x, keep_layers=False):
        layers = [t.copy() for t in real(x, True)[1]]
        layers[2].reshape(-1)[5] += 1               # conv2 output, index 5
        out = layers[-1]
        return out, layers if keep_layers else []
    monkeypatch.setattr(sim_dev.sims[0], "run_one", broken)
    v = run_vector(board, mr, 0)
    # the corrupted tensor is reported even when the logits happen to survive
    if not v.int_match:
        assert v.first_bad_layer == "conv2" and v.first_bad_index == 5
        assert "vector 0" in describe_mismatch(mr, v) and "conv2" in describe_mismatch(mr, v)
    deep = board.device.run(mr.device_model, mr.bundle.inputs[0], "LAYER_TENSORS")
    from hil.compare import first_differing_layer
    _, sim_layers = mr.sim.run_one(mr.bundle.inputs[0], keep_layers=True)
    assert first_differing_layer(deep.layer_tensors, sim_layers, [L.name for L in mr.qmodel.layers]) == ("conv2", 5)


def test_plugin_in_a_users_repo(pytester):
    pytester.makepyfile(test_user="""
                from hil.runner import run_vector

        def test_vec(hil_board, hil_model, golden_vector, hil_record):
            v = run_vector(hil_board, hil_model, golden_vector[1])
            hil_record(v)
            assert v.int_match

        def test_dut_info(dut):
            assert dut.info().board == "sim"
    """)
    r = pytester.runpytest_subprocess("--board=sim", "--vectors=3", "--model=mnist_lenet,sine_mlp",
                                      "--hil-json=out.json")
    r.assert_outcomes(passed=7)
    r.stdout.fnmatch_lines(["*hil results on sim*", "*mnist_lenet*", "*results written to out.json*"])
    doc = json.loads((pytester.path / "out.json").read_text())
    assert [run["model"] for run in doc["runs"]] == ["mnist_lenet", "sine_mlp"]
    assert all(run["int_mismatches"] == 0 and run["vectors"] == 3 for run in doc["runs"])


def test_unknown_board_lists_known_ones(pytester):
    pytester.makepyfile(test_x="def test_x(dut):\n    pass\n")
    r = pytester.runpytest_subprocess("--board=nosuch")
    r.stdout.fnmatch_lines(["*unknown board 'nosuch'*known boards*sim*"])
