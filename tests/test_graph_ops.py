"""Graph models: the new ops in the integer simulator against float/torch
references, hand-made blocks end to end, ONNX path = torch.fx path, clear errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from golden import artifact
from golden.graph import UnsupportedLayer, extract_layers
from golden.intsim import kernels as K
from golden.intsim.run import IntegerSimulator
from golden.onnx_io import export_onnx, module_from_onnx
from golden.quant import int8 as q8
from tests.graph_nets import Fire, Residual, ShuffleUnit, TinyGraphNet, randomize_bn

RNG = np.random.default_rng(0)


def _quantized(model, shape, n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    calib = torch.rand((n,) + shape, generator=g) * 2 - 1
    layers = extract_layers(model, shape)
    inq, qlayers = q8.quantize_model(layers, calib)
    last = qlayers[-1]
    doc = artifact.finalize(dict(
        model="t", scheme="int8", rounding="tflm-double-rounding", layout="CHW", classes=None,
        input=dict(shape=list(shape), dtype="int8", **inq),
        output=dict(shape=last["out_shape"], dtype="int8", scale=last["output_scale"],
                    zero_point=last["output_zp"]), layers=qlayers, params=0, macs=0))
    return doc, calib


def _sim_vs_float(model, shape):
    doc, calib = _quantized(model, shape)
    i, o = doc["input"], doc["output"]
    xq = np.clip(np.round(calib.double().numpy() / i["scale"]) + i["zero_point"], -128, 127)
    out = IntegerSimulator(doc).run(xq[:16]).outputs
    deq = (out.astype(np.float64) - o["zero_point"]) * o["scale"]
    with torch.no_grad():
        ref = model(torch.from_numpy((xq[:16] - i["zero_point"]) * i["scale"]).float()).double().numpy()
    return deq, ref.reshape(deq.shape), o["scale"]


# ---- single ops against exact / float references --------------------------------

def _q(x, s, zp):
    return np.clip(np.round(x / s) + zp, -128, 127).astype(np.int64)


def test_add_s8_matches_float_within_one_step():
    s1, z1, s2, z2, so, zo = 0.05, 3, 0.11, -7, 0.09, 10
    a = RNG.integers(-128, 128, (4, 5, 5))
    b = RNG.integers(-128, 128, (4, 5, 5))
    L = q8._quantize_add(type("L", (), dict(name="add", op="add", inputs=["a", "b"], in_shape=(4, 5, 5),
                                            out_shape=(4, 5, 5), macs=0, clamp=None))(),
                         [(s1, z1), (s2, z2)], so, zo)
    got = K.add_s8([a, b], L)
    want = np.clip(np.round(((a - z1) * s1 + (b - z2) * s2) / so) + zo, -128, 127)
    assert np.abs(got - want).max() <= 1
    assert L["left_shift"] == 20 and all(sh <= 0 for sh in L["input_shifts"])


def test_concat_s8_requantizes_each_input_and_copies_equal_scales():
    a = RNG.integers(-128, 128, (2, 3, 3))
    b = RNG.integers(-128, 128, (3, 3, 3))
    L = q8._quantize_concat(type("L", (), dict(name="cat", op="concat", inputs=["a", "b"], in_shape=(2, 3, 3),
                                               out_shape=(5, 3, 3), macs=0, clamp=None))(),
                            [(0.1, 4), (0.2, -3)], 0.1, 4)
    got = K.concat_s8([a, b], L)
    assert np.array_equal(got[:2], a)                      # same scale: exact copy
    want_b = np.clip(np.round((b + 3) * 2.0) + 4, -128, 127)
    assert np.abs(got[2:] - want_b).max() <= 1


def test_channel_shuffle_and_slice_match_torch():
    x = RNG.integers(-128, 128, (12, 2, 3))
    from tests.graph_nets import channel_shuffle
    ref = channel_shuffle(torch.from_numpy(x)[None], 3)[0].numpy()
    assert np.array_equal(K.channel_shuffle(x, {"groups": 3}), ref)
    assert np.array_equal(K.channel_slice(x, {"start": 4, "length": 5}), x[4:9])


@pytest.mark.parametrize("shape, module", [
    ((4, 8, 8), nn.Sequential(nn.Conv2d(4, 6, 3, padding=1, groups=2), nn.ReLU6())),
    ((4, 8, 8), nn.Sequential(nn.Conv2d(4, 4, 3, padding="same"), nn.Hardtanh(-1.0, 1.0))),
    ((4, 8, 8), nn.Sequential(nn.Conv2d(4, 4, 1), nn.AdaptiveAvgPool2d(2))),
    ((4, 8, 8), nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4), nn.AdaptiveAvgPool2d(1))),
    ((4, 8, 8), Fire(4, 4, 6)), ((4, 8, 8), randomize_bn(Residual(4))),
    ((8, 6, 6), randomize_bn(ShuffleUnit(8))),
])
def test_block_integer_simulation_tracks_float(shape, module):
    torch.manual_seed(0)
    module = randomize_bn(module)
    deq, ref, scale = _sim_vs_float(module, shape)
    assert np.abs(deq - ref).max() <= 6 * scale + 0.06 * np.abs(ref).max()


def test_relu6_and_clamps_become_int8_clamps():
    torch.manual_seed(0)
    doc, _ = _quantized(nn.Sequential(nn.Conv2d(1, 2, 1), nn.Hardtanh(-0.25, 0.5)), (1, 4, 4))
    L = doc["layers"][0]
    s, zp = L["output_scale"], L["output_zp"]
    assert L["act_min"] == round(-0.25 / s) + zp and L["act_max"] == min(127, round(0.5 / s) + zp)


# ---- graphs: fx and ONNX ---------------------------------------------------------

def test_tiny_graph_layers_and_inputs():
    layers = extract_layers(randomize_bn(TinyGraphNet()), (1, 28, 28))
    ops = [L.op for L in layers]
    for op in ("add", "concat", "channel_shuffle", "channel_slice", "grouped_conv2d", "avgpool2d"):
        assert op in ops
    add = next(L for L in layers if L.op == "add")
    assert add.inputs == ["stem", "res.bn2"] or add.inputs[0] == "stem"
    assert "bn" not in ops and all(L.op != "batchnorm" for L in layers)


def test_onnx_path_gives_identical_integer_parameters(tmp_path):
    torch.manual_seed(0)
    model = randomize_bn(TinyGraphNet())
    export_onnx(model, (1, 28, 28), tmp_path / "t.onnx")
    gm, shape = module_from_onnx(tmp_path / "t.onnx")
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(gm(x), model(x), rtol=1e-4, atol=1e-5)
    a, _ = _quantized(model, (1, 28, 28))
    b, _ = _quantized(gm, shape)
    keys = ("op", "weights", "bias", "multiplier", "shift", "input_zp", "output_zp", "act_min",
            "act_max", "input_multipliers", "input_shifts", "input_zps", "groups", "start", "length",
            "kernel", "stride", "padding", "out_shape")
    assert [[L.get(k) for k in keys] for L in a["layers"]] == [[L.get(k) for k in keys] for L in b["layers"]]


def test_onnx_same_padding(tmp_path):
    import onnx
    from onnx import helper, TensorProto, numpy_helper
    w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")

    def model(auto, stride):
        node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", auto_pad=auto, strides=[stride, stride])
        g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "m.onnx")
        return module_from_onnx(tmp_path / "m.onnx")

    for auto, stride in (("SAME_UPPER", 1), ("SAME_LOWER", 1), ("SAME_LOWER", 2)):
        gm, shape = model(auto, stride)
        assert extract_layers(gm, shape)[0].attrs["padding"] == (1, 1)
    with pytest.raises(UnsupportedLayer, match="'c'.*asymmetric"):
        model("SAME_UPPER", 2)


# ---- errors ----------------------------------------------------------------------

@pytest.mark.parametrize("model, match", [
    (nn.Sequential(nn.Conv2d(1, 2, 1), nn.Sigmoid()), "Sigmoid"),
    (nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.BatchNorm2d(2)), "BatchNorm2d"),
    (nn.Sequential(nn.MaxPool2d(2), nn.ReLU()), "activation"),
])
def test_unsupported_layers_are_named(model, match):
    with pytest.raises(UnsupportedLayer, match=match):
        extract_layers(model, (1, 8, 8))


class _BadShuffle(nn.Module):
    def forward(self, x):
        b, c, h, w = x.size()
        return x.view(b, 2, c // 2, h, w).permute(0, 1, 2, 4, 3).reshape(b, c, w, h)


def test_broken_shuffle_pattern_is_named():
    with pytest.raises(UnsupportedLayer, match="permute.*channel shuffle"):
        extract_layers(nn.Sequential(nn.Conv2d(1, 4, 1), _BadShuffle()), (1, 4, 4))


def test_chain_artifacts_v1_still_load():
    doc = artifact.load(artifact.Path(__file__).resolve().parents[1] / "golden/artifacts/mnist_lenet/mnist_lenet.qmodel.json")
    assert [L["inputs"] for L in doc["layers"]][:2] == [["input"], ["conv1"]]


def test_every_int8_op_has_a_protocol_op_id():
    from hil.protocol import spec
    ids = {name for name, _, _ in spec.OPS}
    assert {op for scheme, op in K.KERNELS if scheme == "int8"} <= ids
