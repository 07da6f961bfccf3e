"""The device under test (`--board`, default stm32f4-qemu) against the wire
protocol: discovery, clear errors, recovery, repeatable counts."""
import numpy as np
import pytest

from hil.boards.base import Capability
from hil.errors import DeviceError
from hil.protocol import codec, spec
from hil.runner import MEASURED, prepare, run_vector


@pytest.fixture(autouse=True)
def _binary_protocol(hil_board):
    if Capability.MLPERF_TEXT in hil_board.capabilities:
        pytest.skip(f"board {hil_board.name} speaks only the MLPerf Tiny text protocol (tests/test_mlperf_text.py)")


@pytest.fixture
def first_model(hil_board):
    return hil_board.info.models[0]


def test_info_describes_board_and_models(hil_board):
    info = hil_board.info
    assert info.board and info.fw_version and info.models
    assert info.counter in MEASURED | {"none"}
    for m in info.models:
        assert m.model_hash.startswith("sha256:") and len(m.model_hash) == 7 + 64
        assert m.in_bytes == int(np.prod(m.in_shape)) * np.dtype(m.in_dtype).itemsize
        assert len(m.layers) > 0 and sum(L.macs for L in m.layers) == m.macs


def test_unknown_model_id_is_a_clear_error(dut, hil_board):
    n = len(hil_board.info.models)
    with pytest.raises(DeviceError, match=f"UNKNOWN_MODEL.*detail {n}"):
        dut.request("INFER", model_id=n + 3, mode=0, repeat=1)


def test_wrong_input_size_is_a_clear_error(dut, first_model):
    with pytest.raises(DeviceError, match=f"WRONG_INPUT_SIZE.*detail {first_model.in_bytes}"):
        dut.load_input(first_model.id, bytes(first_model.in_bytes + 1))


def test_infer_without_complete_input_is_refused(dut, first_model):
    dut.request("LOAD_INPUT", model_id=first_model.id, total=first_model.in_bytes, offset=0, data=b"\x01")
    with pytest.raises(DeviceError, match="INPUT_NOT_LOADED.*detail 1"):
        dut.request("INFER", model_id=first_model.id, mode=0, repeat=1)


def test_unknown_type_and_bad_payload(dut):
    dut.link.write(b"\x00" + codec.encode_frame(0x42, 77))
    dut.link.write(b"\x00" + codec.encode_frame(codec.layout("INFER").id, 78, b"\x00"))
    got = {}
    import time
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        for f in dut._decoder.feed(dut.link.read_some()):
            if isinstance(f, codec.Frame) and f.seq in (77, 78):
                got[f.seq] = codec.unpack_payload("ERROR", f.payload)
    assert got[77].code == 0x10 and got[77].detail == 0x42          # UNKNOWN_TYPE
    assert got[78].code == 0x11 and got[78].detail == 4             # BAD_PAYLOAD, INFER is 4 bytes


def test_link_recovers_from_garbage_and_truncated_frame(hil_board, dut, first_model):
    dut.link.write(bytes(range(1, 200)) + b"no delimiter here")
    assert dut.request("PING").proto_version == 1
    half = codec.encode_message("INFO", 500)
    dut.link.write(half[: len(half) // 2])
    assert dut.request("PING").max_payload == spec.MAX_PAYLOAD
    mr = prepare(hil_board, first_model.name)
    assert run_vector(hil_board, mr, 0).int_match


@pytest.mark.hil_capability("cycle_counter")
def test_two_runs_give_identical_per_layer_counts(hil_board, dut):
    for m in hil_board.info.models:
        mr = prepare(hil_board, m.name)
        a = dut.run(m, mr.bundle.inputs[1], "LAYER_COUNTS")
        b = dut.run(m, mr.bundle.inputs[1], "LAYER_COUNTS")
        assert a.layer_counts == b.layer_counts and a.total_sum == b.total_sum, m.name
        assert sum(a.layer_counts) <= a.total_sum and a.total_sum > 0


@pytest.mark.hil_capability("cycle_counter")
def test_timing_mode_repeats(dut, hil_board, first_model):
    mr = prepare(hil_board, first_model.name)
    dut.load_input(first_model.id, mr.bundle.inputs[0].tobytes())
    r = dut.infer(first_model, "TIMING", repeat=5)
    assert r.repeat == 5 and r.total_min <= r.total_sum / 5 <= r.total_max


@pytest.mark.hil_capability("layer_tensors")
def test_layer_tensors_match_the_integer_simulator(hil_board, dut, first_model):
    mr = prepare(hil_board, first_model.name)
    r = dut.run(first_model, mr.bundle.inputs[2], "LAYER_TENSORS")
    _, sim = mr.sim.run_one(mr.bundle.inputs[2], keep_layers=True)
    for i, (t, s) in enumerate(zip(r.layer_tensors, sim)):
        assert np.array_equal(t.astype(np.int64), s), f"layer {i} {mr.qmodel.layers[i].name}"


def _errors_with_seq(dut, seq, timeout=5.0):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in dut._decoder.feed(dut.link.read_some()):
            if isinstance(f, codec.Frame) and f.seq == seq and f.type == 0xFF:
                return codec.unpack_payload("ERROR", f.payload)
    raise AssertionError(f"no ERROR frame with seq {seq}")


def test_read_tensor_past_the_last_layer_is_bad_layer(hil_board, dut, first_model):
    mr = prepare(hil_board, first_model.name)
    dut.run(first_model, mr.bundle.inputs[0], "LAYER_TENSORS")
    n = len(first_model.layers)
    with pytest.raises(DeviceError, match=f"BAD_LAYER.*detail {n}"):
        dut.request("READ_TENSOR", tensor=n + 1, offset=0)


def test_over_long_chunk_is_reported_with_max_payload(dut):
    dut.link.write(b"\x00" + b"\x01" * (spec.MAX_FRAME_WIRE + 100) + b"\x00")   # longer than any frame
    err = _errors_with_seq(dut, 0xFFFF)
    assert err.code == 0x04 and err.detail == spec.MAX_PAYLOAD    # PAYLOAD_TOO_LARGE, MAX_PAYLOAD
    assert dut.request("PING").proto_version == 1


def _output_of_a_run(dut, hil_board, model):
    """Load vector 0 and INFER (mode OUTPUTS): the output bytes a READ_TENSOR returns afterwards."""
    mr = prepare(hil_board, model.name)
    dut.load_input(model.id, mr.bundle.inputs[0].tobytes())
    dut.request("INFER", model_id=model.id, mode=0, repeat=1)
    return dut.read_tensor(0xFFFF)


def test_refused_load_input_keeps_input_and_results(dut, hil_board, first_model):
    m, n = first_model, first_model.in_bytes
    before = _output_of_a_run(dut, hil_board, m)
    refused = [dict(offset=n + 1, data=b"\x01"), dict(offset=n - 1, data=b"\x01\x02")]   # a gap, past the end
    if n + 1 <= codec.layout("LOAD_INPUT").tail_max:
        refused.append(dict(offset=0, data=bytes(n + 1)))       # a new input, too long
    for fields in refused:
        with pytest.raises(DeviceError, match=f"BAD_OFFSET.*detail {n}"):
            dut.request("LOAD_INPUT", model_id=m.id, total=n, **fields)
    with pytest.raises(DeviceError, match="WRONG_INPUT_SIZE"):
        dut.request("LOAD_INPUT", model_id=m.id, total=n + 1, offset=0, data=b"\x01")
    assert dut.read_tensor(0xFFFF) == before                    # the last results are kept ...
    dut.request("INFER", model_id=m.id, mode=0, repeat=1)       # ... and so is the loaded input
    assert dut.read_tensor(0xFFFF) == before


def test_infer_over_the_repeat_cap_is_refused_at_once(dut, hil_board, first_model):
    from hil.protocol.limits import max_repeat
    m = first_model
    if not hil_board.info.run_modes & (1 << 3):
        pytest.skip(f"board {hil_board.name} has no TIMING mode")
    before = _output_of_a_run(dut, hil_board, m)
    cap = max_repeat(m.macs)
    for repeat in (cap + 1, 0xFFFF):
        # 65,535 runs took minutes before the cap: an answer within 5 s means nothing ran.
        with pytest.raises(DeviceError, match=f"REPEAT_TOO_LARGE.*detail {cap}"):
            dut.request("INFER", model_id=m.id, mode=3, repeat=repeat, timeout=5.0)
    assert dut.read_tensor(0xFFFF) == before                    # a refused INFER keeps the results
