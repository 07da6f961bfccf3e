"""The emulated FPGA board `fpga-sim` through its board class: the HLS tops behind
the real wire protocol on a TCP socket, modelled cycle counts, the same error
codes as every other device, survival of garbage, and no process left behind."""
import os
import shutil
import time

import numpy as np
import pytest

from golden import artifact
from golden.build import qmodel_path
from hil.targets.hls import design as hls_design
from hil.boards import BoardOptions, board_class
from hil.errors import DeviceError
from hil.targets.hls.build import AP_TYPES_HINT, ap_types_dir
from hil.protocol import codec, spec
from hil.runner import prepare, run_vector

MODELS = ["kws_dscnn_fpga", "mnist_lenet"]
ERR = {n: i for n, i, _ in spec.ERRORS}

pytestmark = [
    pytest.mark.skipif(ap_types_dir() is None, reason=f"Xilinx ap_int headers not installed: {AP_TYPES_HINT}"),
    pytest.mark.skipif(shutil.which("g++") is None, reason="no host g++: install build-essential"),
]


@pytest.fixture(scope="module")
def board():
    b = board_class("fpga-sim")(BoardOptions(models=MODELS, timeout=10))
    b.open()
    yield b
    b.close()


def raw_request(board, type_: int, payload: bytes = b"", version: int = spec.PROTOCOL_VERSION, seq: int = 4242):
    """Send a frame the Device API would never build; return the device's answer to it."""
    decoder = codec.FrameDecoder()
    board.link.write(b"\x00" + codec.encode_frame(type_, seq, payload, version))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for item in decoder.feed(board.link.read_some()):
            if isinstance(item, codec.Frame) and item.seq == seq:
                return item
    raise AssertionError("no answer")


def error_of(frame) -> tuple[str, int]:
    with pytest.raises(DeviceError) as e:
        codec.raise_for_error(frame)
    return e.value.name, e.value.detail


def test_info_reports_design_clock_and_modelled_counter(board):
    info = board.info
    assert (info.board, info.clock_hz, info.counter, info.run_modes) == ("fpga-sim", 100_000_000, "modelled", 0b1111)
    assert [m.name for m in info.models] == MODELS and [m.id for m in info.models] == [0, 1]
    for m in info.models:
        doc = artifact.load(qmodel_path(m.name))
        assert m.model_hash == doc["hash"] and m.macs == doc["macs"]
        assert [L.name for L in m.layers] == [L["name"] for L in doc["layers"]]
    kws = info.model("kws_dscnn_fpga")
    assert (kws.in_shape, kws.in_bytes, kws.out_dtype, kws.out_shape) == ((1, 49, 10), 490, "int32", (4,))
    assert [L.dtype for L in kws.layers] == ["int32"] * 5
    assert [L.dtype for L in info.model("mnist_lenet").layers] == ["int8"] * 6


@pytest.mark.parametrize("name", MODELS)
def test_vectors_bit_exact_with_modelled_counts(board, name):
    mr = prepare(board, name)
    plan = hls_design.plan_model(mr.qmodel)
    for i in (0, 1, 7):
        v = run_vector(board, mr, i)
        assert v.int_match, v.describe()
        assert v.count == plan.total
        assert v.layer_counts == [s.count for s in plan.layers]
    deep = board.device.run(mr.device_model, mr.bundle.inputs[3], "LAYER_TENSORS")
    for got, want in zip(deep.layer_tensors, mr.sim.run_one(mr.bundle.inputs[3], keep_layers=True)[1]):
        assert np.array_equal(got.reshape(-1), want.reshape(-1))
    timing = board.device.infer(mr.device_model, "TIMING", repeat=3)
    assert (timing.total_sum, timing.total_min, timing.total_max) == (3 * plan.total, plan.total, plan.total)
    assert timing.counter == "modelled"


def test_unknown_model_and_wrong_input_size(board):
    with pytest.raises(DeviceError, match="UNKNOWN_MODEL") as e:
        board.device.request("MODEL_INFO", model_id=7)
    assert e.value.detail == 2
    with pytest.raises(DeviceError, match="WRONG_INPUT_SIZE.*detail 490"):
        board.device.load_input(0, bytes(100))
    with pytest.raises(DeviceError, match="BAD_LAYER") as e:
        board.device.request("LAYER_INFO", model_id=0, layer=5)
    assert e.value.detail == 5


def test_request_errors_follow_the_protocol(board):
    d = board.device
    d.load_input(0, bytes(490))
    for fields, name, detail in [
        (dict(model_id=0, mode=9, repeat=1), "BAD_MODE", 0b1111),
        (dict(model_id=0, mode=3, repeat=0), "BAD_PAYLOAD", 4),
        (dict(model_id=0, mode=0, repeat=2), "BAD_PAYLOAD", 4),
        (dict(model_id=1, mode=0, repeat=1), "INPUT_NOT_LOADED", 0),
        (dict(model_id=2, mode=0, repeat=1), "UNKNOWN_MODEL", 2),
    ]:
        with pytest.raises(DeviceError) as e:
            d.request("INFER", **fields)
        assert (e.value.name, e.value.detail) == (name, detail), fields
    with pytest.raises(DeviceError, match="NO_RESULT"):          # a new input discards results
        d.request("READ_TENSOR", tensor=0xFFFF, offset=0)
    with pytest.raises(DeviceError, match="BAD_OFFSET") as e:     # a gap after 10 bytes
        d.request("LOAD_INPUT", model_id=1, total=784, offset=0, data=bytes(10))
        d.request("LOAD_INPUT", model_id=1, total=784, offset=20, data=bytes(10))
    assert e.value.detail == 10
    with pytest.raises(DeviceError, match="INPUT_NOT_LOADED") as e:
        d.request("INFER", model_id=1, mode=0, repeat=1)
    assert e.value.detail == 10
    d.load_input(0, bytes(490))
    d.request("INFER", model_id=0, mode=0, repeat=1)
    with pytest.raises(DeviceError, match="NO_RESULT"):          # mode 0 captures no layer tensor
        d.request("READ_TENSOR", tensor=0, offset=0)
    with pytest.raises(DeviceError, match="BAD_LAYER"):
        d.request("READ_TENSOR", tensor=99, offset=0)
    with pytest.raises(DeviceError, match="BAD_OFFSET") as e:
        d.request("READ_TENSOR", tensor=0xFFFF, offset=17)
    assert e.value.detail == 16
    assert d.request("READ_TENSOR", tensor=0xFFFF, offset=16).data == b""
    assert error_of(raw_request(board, 0x40)) == ("UNKNOWN_TYPE", 0x40)
    assert error_of(raw_request(board, 0x81)) == ("UNKNOWN_TYPE", 0x81)
    assert error_of(raw_request(board, 0x02, version=9)) == ("BAD_VERSION", 1)
    assert error_of(raw_request(board, 0x03, b"\x00\x00")) == ("BAD_PAYLOAD", 1)


def test_garbage_and_a_truncated_frame_are_survived(board):
    d = board.device
    board.link.write(b"\x13\x37 garbage without delimiter \xff\xfe")
    assert d.request("PING").proto_version == 1
    frame = codec.encode_message("INFO", 999)
    board.link.write(frame[: len(frame) // 2])                   # half a frame, never finished
    assert d.request("PING").max_payload == spec.MAX_PAYLOAD
    board.link.write(b"\x05" + bytes(range(1, 200)) * 3 + b"\x00")   # an overlong chunk
    assert d.request("INFO").board == "fpga-sim"
    assert d.dropped_frames >= 2                                 # the device NAKed the junk
    assert run_vector(board, prepare(board, "mnist_lenet"), 4).int_match


def test_reconnect_keeps_the_device_serving(board):
    from hil.device import Device
    from hil.link import SerialLink
    board.link.write(b"\x05\x06\x07")
    board.link.close()
    board.link = SerialLink(board.link.url, board=board.name)
    board.device = Device(board.link, timeout=10)
    board.device.sync()
    assert board.device.info().model("kws_dscnn_fpga").out_shape == (4,)


def test_default_image_and_process_cleanup():
    cls = board_class("fpga-sim")
    assert cls(BoardOptions()).models() == ["kws_dscnn_fpga", "mnist_lenet"]
    b = cls(BoardOptions(models=["kws_dscnn_fpga"], timeout=10))
    b.open()
    pid = b.proc.pid
    assert b.device.info().models[0].name == "kws_dscnn_fpga"
    b.close()
    b.close()                                                    # twice is fine
    assert b.proc is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
