"""golden/intsim held bit for bit to TensorFlow Lite Micro (the tflite-micro package's
interpreter and reference kernels), through `.tflite` files written by golden.tflite_export.

Single-op models (softmax, mean, pad, asymmetric-padding conv, depth multiplier 2,
pooling with SAME padding) get float32 scales and the multipliers TFLM derives from
them; the built-in models are exported as they are (hil's quantizer stores float32
scales and derives its multipliers TFLM's way, golden.tflite.tflm_params) and TFLM's
outputs must equal the committed bundle's int_logits and golden/intsim on the artifact.
"""
import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from golden import artifact, bundle  # noqa: E402
from golden.build import artifact_dir, qmodel_path  # noqa: E402
from golden.errors import GoldenError  # noqa: E402
from golden.intsim.arith import quantize_multiplier, softmax_params  # noqa: E402
from golden.tflite.tflm_params import conv_multiplier, f32, ratio_multiplier  # noqa: E402
from golden.intsim.padding import pad4  # noqa: E402
from golden.intsim.run import IntegerSimulator  # noqa: E402
from golden.subset import select  # noqa: E402
from golden.tflite_export import ExportError, export  # noqa: E402
from golden.tflm_run import tflm_outputs  # noqa: E402

RNG_SEED = 18


def _inputs(shape, n=28, seed=RNG_SEED) -> np.ndarray:
    """Seeded random int8 inputs plus the edges: all -128, all 127, all 0, alternating extremes."""
    rng = np.random.default_rng(seed)
    xs = rng.integers(-128, 128, size=(n,) + tuple(shape))
    edges = [np.full(shape, -128), np.full(shape, 127), np.zeros(shape, int),
             np.where(np.indices(shape).sum(axis=0) % 2 == 0, 127, -128)]
    return np.concatenate([np.stack(edges), xs]).astype(np.int64)


def _doc(layer: dict, in_shape, in_scale=0.05, in_zp=-3) -> dict:
    return dict(model="op_" + layer["op"], scheme="int8", layers=[dict(layer, inputs=["input"])],
                input=dict(shape=list(in_shape), scale=f32(in_scale), zero_point=in_zp))


def _check_against_tflm(doc: dict) -> None:
    e = export(doc)     # raises if TFLM would derive another multiplier than the layer's
    xs = _inputs(doc["input"]["shape"])
    want = IntegerSimulator(doc).run(xs).outputs
    got = tflm_outputs(e.data, xs, doc["layers"][-1]["out_shape"])
    bad = np.flatnonzero((got.reshape(len(xs), -1) != want.reshape(len(xs), -1)).any(axis=1))
    assert bad.size == 0, f"{doc['model']}: vectors {bad[:8].tolist()} differ from TFLM ({e.operators})"


def _weighted(op, rng, cout, cin_w, kernel, stride, padding, in_shape, out_shape, in_scale=0.05,
              out_scale=0.07, out_zp=5, relu=False):
    """A conv / depthwise layer whose multipliers are the ones TFLM derives from float32 scales."""
    ws = [f32(v) for v in rng.uniform(0.002, 0.02, cout)]
    mults = [conv_multiplier(in_scale, w, out_scale) for w in ws]
    shape = [cout, cin_w, *kernel]
    return dict(name=op, op=op, kernel=list(kernel), stride=list(stride), padding=list(padding),
                weights_shape=shape, weights=rng.integers(-127, 128, size=shape).reshape(-1).tolist(),
                bias=rng.integers(-3000, 3000, size=cout).tolist(), weight_scale=ws,
                multiplier=[m for m, _ in mults], shift=[s for _, s in mults],
                input_scale=f32(in_scale), input_zp=-3, output_scale=f32(out_scale), output_zp=out_zp,
                act_min=out_zp if relu else -128, act_max=127, relu=relu,
                in_shape=list(in_shape), out_shape=list(out_shape))


def test_pad4_normalises_and_rejects():
    assert pad4({"padding": [1, 2]}) == (1, 1, 2, 2)
    assert pad4({"padding": [4, 5, 1, 2]}) == (4, 5, 1, 2)
    assert pad4({}) == (0, 0, 0, 0)
    with pytest.raises(GoldenError, match="padding"):
        pad4({"name": "c", "padding": [1, 2, 3]})


def test_quantize_multiplier_rounds_halves_away_from_zero_like_std_round():
    # mantissa * 2**31 is exactly 2**30 + 0.5: std::round gives 2**30 + 1 (Python's round 2**30)
    assert quantize_multiplier((2 ** 30 + 0.5) / 2 ** 31) == (2 ** 30 + 1, 0)


@pytest.mark.parametrize("in_shape,kernel,stride,padding,out_hw", [
    ((1, 49, 10), (10, 4), (2, 2), (4, 5, 1, 1), (25, 5)),     # Keras SAME, stride 2: odd row at the bottom
    ((3, 8, 8), (3, 3), (2, 2), (0, 1, 0, 1), (4, 4)),          # SAME with total padding 1
    ((2, 7, 6), (3, 2), (1, 1), (2, 0, 1, 3), (7, 9)),          # not SAME: exported as PAD + VALID
])
def test_conv2d_asymmetric_padding_matches_tflm(in_shape, kernel, stride, padding, out_hw):
    rng = np.random.default_rng(1)
    L = _weighted("conv2d", rng, 6, in_shape[0], kernel, stride, padding, in_shape, (6, *out_hw), relu=True)
    _check_against_tflm(_doc(L, in_shape))


@pytest.mark.parametrize("in_shape,stride,padding,out_hw", [
    ((3, 8, 8), (2, 2), (0, 1, 0, 1), (4, 4)),
    ((3, 9, 7), (1, 1), (1, 1, 1, 1), (9, 7)),
])
def test_depthwise_depth_multiplier_2_matches_tflm(in_shape, stride, padding, out_hw):
    rng = np.random.default_rng(2)
    c = in_shape[0]
    L = _weighted("depthwise_conv2d", rng, 2 * c, 1, (3, 3), stride, padding, in_shape, (2 * c, *out_hw))
    L["depth_multiplier"] = 2
    _check_against_tflm(_doc(L, in_shape))


@pytest.mark.parametrize("op", ["maxpool2d", "avgpool2d"])
@pytest.mark.parametrize("in_hw,kernel,stride,padding,out_hw", [
    ((8, 8), (3, 3), (2, 2), (0, 1, 0, 1), (4, 4)),
    ((7, 7), (3, 3), (2, 2), (1, 1, 1, 1), (4, 4)),
    ((5, 6), (3, 3), (1, 1), (1, 1, 1, 1), (5, 6)),
    ((6, 6), (2, 2), (2, 2), (0, 0), (3, 3)),
])
def test_pooling_with_same_padding_matches_tflm(op, in_hw, kernel, stride, padding, out_hw):
    L = dict(name=op, op=op, kernel=list(kernel), stride=list(stride), padding=list(padding),
             in_shape=[4, *in_hw], out_shape=[4, *out_hw], input_scale=f32(0.05), input_zp=-3,
             output_scale=f32(0.05), output_zp=-3)
    _check_against_tflm(_doc(L, (4, *in_hw)))


@pytest.mark.parametrize("shape", [(10,), (12, 1, 1), (5, 2, 3)])
@pytest.mark.parametrize("in_scale,beta", [(0.1, 1.0), (0.5, 1.0), (1 / 16, 0.5), (0.0123, 2.0)])
def test_softmax_matches_tflm(shape, in_scale, beta):
    m, ls, dmin = softmax_params(f32(beta), f32(in_scale))
    L = dict(name="softmax", op="softmax", input_scale=f32(in_scale), input_zp=7, beta=beta,
             input_multiplier=m, input_left_shift=ls, diff_min=dmin, output_scale=1 / 256,
             output_zp=-128, in_shape=list(shape), out_shape=list(shape))
    _check_against_tflm(_doc(L, shape, in_scale, 7))


@pytest.mark.parametrize("shape", [(8, 5, 5), (4, 7, 3), (3, 8, 8), (6, 1, 1)])
@pytest.mark.parametrize("in_scale,out_scale,out_zp", [(0.05, 0.03, 4), (0.05, 0.05, -3), (0.2, 0.011, -100)])
def test_mean_matches_tflm(shape, in_scale, out_scale, out_zp):
    m, s = ratio_multiplier(in_scale, out_scale)
    L = dict(name="mean", op="mean", input_scale=f32(in_scale), input_zp=-3, output_scale=f32(out_scale),
             output_zp=out_zp, multiplier=[m], shift=[s], in_shape=list(shape),
             out_shape=[shape[0], 1, 1])
    _check_against_tflm(_doc(L, shape, in_scale))


@pytest.mark.parametrize("pads", [(1, 2, 0, 3), (0, 0, 2, 2), (4, 5, 1, 1)])
def test_pad_matches_tflm(pads):
    t, b, l, r = pads
    L = dict(name="pad", op="pad", pads=list(pads), input_scale=f32(0.05), input_zp=-3,
             output_scale=f32(0.05), output_zp=-3, in_shape=[3, 5, 4], out_shape=[3, 5 + t + b, 4 + l + r])
    _check_against_tflm(_doc(L, (3, 5, 4)))


def test_shift_scheme_model_is_refused_with_its_reason():
    with pytest.raises(ExportError, match="shift scheme"):
        export(artifact.load(qmodel_path("kws_dscnn_fpga")))


def test_an_artifact_whose_multiplier_tflm_would_not_derive_is_refused():
    """A multiplier one Q31 step off what the float32 scales give (an artifact quantized from
    float64 scales) would make TFLM compute another model: export names the layer and channel."""
    rng = np.random.default_rng(3)
    L = _weighted("conv2d", rng, 4, 2, (3, 3), (1, 1), (1, 1), (2, 6, 6), (4, 6, 6))
    L["multiplier"][2] += 1
    with pytest.raises(ExportError, match=r"layer 'conv2d': channel 2 multiplier/shift .*`hil golden build`"):
        export(_doc(L, (2, 6, 6)))


def test_quantizer_stores_float32_scales_and_tflm_multipliers():
    """Every scale of every built-in int8 artifact is a float32 value, and every weighted layer's
    multipliers are what TFLM's Prepare derives from them (the exporter checks the rest)."""
    for name in MODEL_VECTORS:
        doc = artifact.load(qmodel_path(name))
        assert doc["input"]["scale"] == f32(doc["input"]["scale"]), name
        for L in doc["layers"]:
            scales = [L[k] for k in ("input_scale", "output_scale") if k in L] + L.get("input_scales", [])
            assert scales and all(v == f32(v) for v in scales), (name, L["name"])
            if "weight_scale" in L:
                assert all(v == f32(v) for v in L["weight_scale"]), (name, L["name"])
                got = [conv_multiplier(L["input_scale"], w, L["output_scale"]) for w in L["weight_scale"]]
                assert got == list(zip(L["multiplier"], L["shift"])), (name, L["name"])


# Vectors per built-in model in the default run: every vector of the small models, a seeded
# stratified subset of the big ones (TFLM's reference kernels take about 70 ms a ResNet-8 vector
# here). `make tflm-check` runs every vector of every model.
MODEL_VECTORS = {"sine_mlp": None, "mnist_lenet": None, "kws_dscnn": None, "squeezenet_mini": 100,
                 "shufflenetv2_mini": 100, "resnet8": 60}


LIVE_INTSIM_VECTORS = 40     # of those, re-run through golden/intsim here (the rest: its committed outputs)


@pytest.mark.parametrize("name", list(MODEL_VECTORS))
def test_exported_builtin_model_runs_in_tflm_bit_identical_to_intsim(name):
    """TFLM on the exported file == golden/intsim on the artifact. The bundle's int_logits are
    golden/intsim's outputs for this very artifact (same hash; test_golden_artifacts re-runs the
    simulator over every vector), so they are the reference for every vector; a stratified part
    is re-run through the simulator here as well."""
    doc = artifact.load(qmodel_path(name))
    b = bundle.read(artifact_dir(name))
    assert b.manifest["qmodel_hash"] == doc["hash"], f"{name}: bundle made from another artifact"
    idx = select(b.labels, MODEL_VECTORS[name])
    e = export(doc)      # raises unless TFLM derives every multiplier exactly as the artifact holds it
    assert e.scales.multipliers > 0
    got = tflm_outputs(e.data, b.inputs[idx], doc["layers"][-1]["out_shape"]).reshape(len(idx), -1)
    bad = np.flatnonzero((got != b.int_logits[idx].reshape(len(idx), -1)).any(axis=1))
    assert bad.size == 0, f"{name}: vectors {idx[bad][:8].tolist()} differ between TFLM and the bundle"
    live = select(b.labels[idx], LIVE_INTSIM_VECTORS)
    sim = IntegerSimulator(doc).run(b.inputs[idx[live]]).outputs.reshape(len(live), -1)
    bad = np.flatnonzero((got[live] != sim).any(axis=1))
    assert bad.size == 0, f"{name}: vectors {idx[live][bad][:8].tolist()} differ between TFLM and golden/intsim"


def test_malformed_tflm_layers_are_named_on_load():
    from golden.intsim.run import IntegerSimulator
    base = dict(name="sm", op="softmax", in_shape=[10], out_shape=[10], input_zp=0)
    with pytest.raises(GoldenError, match="'sm': op softmax needs input_multiplier"):
        IntegerSimulator(_doc(base, (10,)))
    pad = dict(name="p", op="pad", pads=[1, -1, 0, 0], output_zp=0, in_shape=[1, 2, 2], out_shape=[1, 2, 2])
    with pytest.raises(GoldenError, match="'p': pads"):
        IntegerSimulator(_doc(pad, (1, 2, 2)))
