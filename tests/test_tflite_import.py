"""The `.tflite` importer held to TFLite Micro, on the TensorFlow-made fixtures of tests/data/tflite/.

Layer by layer: each imported layer, run by hil's integer simulator on TFLM's own input tensors
(kPreserveAllTensors), must give TFLM's output tensor bit for bit. Whole model: the simulator's
outputs equal TFLM's on every fixture vector (SOFTMAX, MEAN, PAD, asymmetric padding, depth
multiplier 2 and padded pooling included).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from golden import bundle, tflm_ref, user_data
from golden.artifact import INPUT, layer_arrays
from golden.errors import DatasetError, HilError
from golden.intsim.kernels import KERNELS, MULTI_INPUT
from golden.intsim.run import IntegerSimulator
from golden.tflite import convert, reader
from golden.tflite.errors import TfliteError, UnsupportedOp
from golden.tflite.importer import artifact_doc, device_inputs, import_tflite

DATA = Path(__file__).parent / "data" / "tflite"
FIXTURES = ("kws_dscnn_tfl", "resnet8_tfl", "mobilenet_v1_025_tfl", "ad_autoencoder_tfl", "ops_mix_tfl",
            "flatten_fc_tfl")
def imported(name: str):
    m = reader.read(DATA / f"{name}.tflite")
    g = convert.convert(m)
    data = user_data.load(DATA / f"{name}.npz", tuple(g.shapes[g.input_q.index]))
    classes = None if data.y.dtype.kind == "f" else [str(i) for i in range(int(np.prod(g.layers[-1]["out_shape"])))]
    doc = artifact_doc(m, g, name, f"{name}.tflite", classes, DATA / f"{name}.npz")
    return m, doc, device_inputs(doc, data)


_CACHE: dict = {}


def tflm_layers(name: str, vectors: int = 3):
    """(doc, [(input, TFLM output, {tensor name: CHW tensor})] for the first vectors)."""
    if name not in _CACHE:
        m, doc, xs = imported(name)
        ref = tflm_ref.TflmReference(DATA / f"{name}.tflite", doc)
        runs = []
        for x in xs[:vectors]:
            out, layers = ref.run_one(x, keep_layers=True)
            tensors = {INPUT: x.astype(np.int64)}
            tensors |= {L["name"]: t.astype(np.int64) for L, t in zip(doc["layers"], layers)}
            runs.append((x, out, tensors))
        _CACHE[name] = (doc, xs, runs)
    return _CACHE[name]


def layer_cases():
    out = []
    for name in FIXTURES:
        if not (DATA / f"{name}.tflite").exists():
            continue
        doc = imported(name)[1]
        for k, L in enumerate(doc["layers"]):
            out.append(pytest.param(name, k, id=f"{name}-{L['name']}"))
    return out


@pytest.mark.parametrize("name,k", layer_cases())
def test_each_layer_matches_tflm_on_tflm_inputs(name, k):
    doc, _, runs = tflm_layers(name)
    L = layer_arrays(doc["layers"][k])
    kernel = KERNELS[("int8", L["op"])]
    for _, _, tensors in runs:
        ins = [tensors[n] for n in L["inputs"]]
        got = kernel(ins if L["op"] in MULTI_INPUT else ins[0], L).reshape(L["out_shape"])
        want = tensors[L["name"]]
        bad = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
        assert bad.size == 0, (f"{L['name']} ({L['op']}): {bad.size} of {want.size} values differ from TFLM, "
                               f"first at {bad[0]}: hil {got.reshape(-1)[bad[0]]}, TFLM {want.reshape(-1)[bad[0]]}")


def model_cases():
    out = []
    for name in FIXTURES:
        if not (DATA / f"{name}.tflite").exists():
            continue
        doc = imported(name)[1]
        out.append(pytest.param(name, id=name))
    return out


@pytest.mark.parametrize("name", model_cases())
def test_whole_model_matches_tflm_on_every_fixture_vector(name):
    doc, xs, _ = tflm_layers(name)
    ref = tflm_ref.TflmReference(DATA / f"{name}.tflite", doc)
    want = ref.outputs(xs)
    got = IntegerSimulator(doc).run(xs).outputs
    bad = np.flatnonzero((got.reshape(len(xs), -1) != want.reshape(len(xs), -1)).any(axis=1))
    assert bad.size == 0, f"{name}: {bad.size} of {len(xs)} vectors differ from TFLM (first {bad[0]})"


def test_kws_fixture_is_the_mlperf_shape():
    """The DS-CNN's first conv is 10x4 stride 2 SAME on 49x10: 4 rows above, 5 below (asymmetric),
    and the FC after the average pool reads the flattened NHWC tensor."""
    m, doc, _ = imported("kws_dscnn_tfl")
    ops = [o.op for o in m.operators]
    assert ops.count("CONV_2D") == 5 and ops.count("DEPTHWISE_CONV_2D") == 4 and "SOFTMAX" in ops
    first = doc["layers"][0]
    assert first["op"] == "conv2d" and first["kernel"] == [10, 4] and first["stride"] == [2, 2]
    assert first["padding"] == [4, 5, 1, 1] and first["out_shape"] == [64, 25, 5]
    assert doc["input"]["shape"] == [1, 49, 10] and doc["output"]["shape"] == [6]
    assert doc["layers"][-1]["op"] == "softmax" and doc["layers"][-1]["output_zp"] == -128
    # Keras 3's Flatten: SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE, all folded; 12 layers remain
    assert {"SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"} <= set(ops) and len(doc["layers"]) == 12
    assert doc["layers"][-2]["op"] == "fully_connected" and doc["layers"][-2]["in_shape"] == [64]


def test_multipliers_come_from_the_files_scales():
    """No requantization: a conv's per-channel (multiplier, shift) is QuantizeMultiplier of the file's
    float32 scales, input * filter / output, in double."""
    from golden.intsim.arith import quantize_multiplier
    m, doc, _ = imported("resnet8_tfl")
    op = next(o for o in m.operators if o.op == "CONV_2D")
    x, w, y = (m.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    L = doc["layers"][0]
    want = [quantize_multiplier(float(x.scales[0]) * float(s) / float(y.scales[0])) for s in w.scales]
    assert [(a, b) for a, b in zip(L["multiplier"], L["shift"])] == want
    assert len(set(L["multiplier"])) > 1                 # per-channel weights
    assert doc["source"]["format"] == "tflite" and len(doc["source"]["sha256"]) == 64


def test_fc_columns_follow_chw_flatten_order():
    """A FULLY_CONNECTED after a Flatten of 3x3x4 NHWC data: its columns are permuted to hil's CHW order
    (the whole-model test of flatten_fc_tfl holds it to TFLM; without the permutation all 30 vectors
    differ). The layer reads the 36 values of the conv as one vector."""
    m, doc, _ = imported("flatten_fc_tfl")
    conv, fc = doc["layers"]
    assert conv["out_shape"] == [4, 3, 3] and fc["in_shape"] == [36] and fc["weights_shape"] == [5, 36]
    w_file = next(t for t in m.tensors if t.data is not None and t.shape == (5, 36)).data
    w_hil = np.asarray(fc["weights"]).reshape(5, 36)
    assert np.array_equal(w_hil, w_file.reshape(5, 3, 3, 4).transpose(0, 3, 1, 2).reshape(5, 36))
    assert not np.array_equal(w_hil, w_file)


def test_import_writes_artifact_bundle_and_copy(tmp_path):
    manifest = import_tflite(DATA / "ad_autoencoder_tfl.tflite", "my_ad", DATA / "ad_autoencoder_tfl.npz", tmp_path)
    out = tmp_path / "my_ad"
    assert (out / "my_ad.tflite").read_bytes() == (DATA / "ad_autoencoder_tfl.tflite").read_bytes()
    b = bundle.read(out)
    assert b.inputs.dtype == np.int8 and b.inputs.shape[1:] == (640,)
    assert b.float_logits is None                         # no --float-model: no float column
    assert manifest["metrics"]["tflm_mismatches"] == 0
    assert json.loads((out / "source.json").read_text())["kind"] == "tflite"


@pytest.mark.skipif(not (DATA / "ops_mix_tfl.float.tflite").exists(), reason="no float fixture")
def test_float_model_gives_the_float_column(tmp_path):
    pytest.importorskip("ai_edge_litert")
    m, doc, xs = imported("ops_mix_tfl")
    out = tflm_ref.float_outputs(DATA / "ops_mix_tfl.float.tflite", doc, xs[:5])
    assert out.shape == (5, 4) and np.allclose(out.sum(1), 1.0, atol=1e-4)     # softmax probabilities


def test_unsupported_op_is_one_line_naming_op_index_and_tensor():
    with pytest.raises(UnsupportedOp) as e:
        convert.convert(reader.read(DATA / "unsupported_tanh_tfl.tflite"))
    msg = str(e.value)
    assert "\n" not in msg and "TANH" in msg and "operator 1" in msg and "output tensor '" in msg


def test_not_a_tflite_file(tmp_path):
    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"\0" * 64)
    with pytest.raises(TfliteError, match="not a .tflite flatbuffer"):
        reader.read(bad)
    bad.write_bytes((DATA / "ops_mix_tfl.tflite").read_bytes()[:200])
    with pytest.raises(HilError) as e:
        convert.convert(reader.read(bad))
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("arrays,match", [
    (dict(y=np.zeros(3)), "no array named 'x'"),
    (dict(x=np.zeros((3, 5, 5, 1), np.float32)), "the model takes"),
    (dict(x=np.full((3, 49, 10, 1), np.nan, np.float32)), "NaN"),
    (dict(x=np.zeros((3, 49, 10, 1), np.float32), y=np.array([0, 1, 7])), "labels out of range"),
    (dict(x=np.zeros((3, 49, 10, 1), np.int32)), "want float"),
    (dict(x=np.zeros((3, 49, 10, 1), np.float32), y=np.zeros(2, np.int64)), "y has 2 entries"),
])
def test_bad_data_files_get_one_line(tmp_path, arrays, match):
    f = tmp_path / "d.npz"
    np.savez(f, **arrays)
    with pytest.raises(DatasetError, match=match) as e:
        user_data.load(f, (1, 49, 10), classes=6)
    assert "\n" not in str(e.value)


def test_data_layouts_agree(tmp_path):
    x = np.random.default_rng(0).normal(size=(4, 8, 6, 3)).astype(np.float32)
    np.savez(tmp_path / "a.npz", x=x)
    np.savez(tmp_path / "b.npz", x=x.transpose(0, 3, 1, 2))
    a = user_data.load(tmp_path / "a.npz", (3, 8, 6), layout="nhwc")
    b = user_data.load(tmp_path / "b.npz", (3, 8, 6), layout="nchw")
    assert np.array_equal(a.x, b.x) and a.x.shape == (4, 3, 8, 6)


def test_quantize_input_rounds_half_away_from_zero():
    q = user_data.quantize_input(np.array([0.5, 1.5, -0.5, -1.5, 300.0]), 1.0, 0)
    assert q.tolist() == [1, 2, -1, -2, 127]
