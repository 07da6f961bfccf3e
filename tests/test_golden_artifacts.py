"""The committed golden artifacts: bars, bit-exactness and integrity.

Everything is recomputed from committed files (weights, qmodel artifact,
bundle inputs); the metrics stored in the manifests are checked, not trusted.
"""
import functools
import hashlib
import json

import numpy as np
import pytest
import torch

from golden import artifact, bundle, models
from golden.build import artifact_dir, float_reference, load_float_model, qmodel_path
from golden.datasets import prepare
from golden.train import accuracy
from golden.intsim.run import IntegerSimulator, dequantize

# models whose golden bundle is built; float.json: a float model's validation and test accuracy
# (written by golden.build.train_float, the only record of a model not quantized yet)
MODELS = [m for m in models.REGISTRY if (artifact_dir(m) / "bundle.json").exists()]
WITH_FLOAT_RECORD = [m for m in models.REGISTRY if (artifact_dir(m) / "float.json").exists()]


@pytest.fixture(scope="module", params=MODELS)
def built(request):
    name = request.param
    b = bundle.read(artifact_dir(name))
    doc = artifact.load(qmodel_path(name))
    return name, b, doc


def test_bundle_was_built_from_committed_qmodel(built):
    name, b, doc = built
    assert b.manifest["qmodel_hash"] == doc["hash"]
    assert b.manifest["test_vectors"] == len(b) > 0


def test_integer_simulator_reproduces_committed_logits_bit_for_bit(built):
    name, b, doc = built
    res = _simulated(name)
    diff = np.flatnonzero((res.outputs != b.int_logits).any(axis=1))
    assert diff.size == 0, f"{name}: vectors {diff[:10].tolist()} differ from the committed integer logits"


def test_per_layer_tensors_reproduce_bit_for_bit(built):
    name, b, doc = built
    k = b.manifest["per_layer_vectors"]
    layers = IntegerSimulator(doc).run(b.inputs[:k], keep_layers=True).layers
    for i, (t, meta) in enumerate(zip(layers, b.manifest["layers"])):
        assert np.array_equal(t, b.layer(i)), f"{name}: layer {i} {meta['name']} differs"


def test_float_model_reproduces_committed_float_logits(built):
    name, b, doc = built
    model = load_float_model(name)
    out = float_reference(model, doc, b.inputs)
    np.testing.assert_allclose(out, b.float_logits, rtol=1e-4, atol=1e-4 * np.abs(out).max())


@functools.lru_cache(maxsize=None)
def _simulated(name):
    """One integer-simulator run over a model's whole bundle, shared by the tests below
    (ResNet-8 on 999 vectors takes about 20 s of CPU)."""
    b = bundle.read(artifact_dir(name))
    return IntegerSimulator(artifact.load(qmodel_path(name))).run(b.inputs)


def _recomputed(name, b, doc):
    model = load_float_model(name)
    fl = float_reference(model, doc, b.inputs)
    il = _simulated(name).outputs
    return fl, il.reshape(len(il), -1)      # global-pool heads give (N, classes, 1, 1)


BARS = {  # model: (min float accuracy, max int drop in points, min agreement)
    "mnist_lenet": (0.965, 0.5, 0.99),
    "kws_dscnn": (0.90, 1.0, None),   # and at most 0.97: see test_kws_reference_is_not_saturated
    "kws_dscnn_fpga": (None, 3.0, None),
    # Colour-MNIST-32 stand-in, not CIFAR-10 (issue 10: float >= 90 %, int8 within 1 point)
    "squeezenet_mini": (0.90, 1.0, None),
    "shufflenetv2_mini": (0.90, 1.0, None),
    "resnet8": (0.90, 1.0, None),
}


@pytest.mark.parametrize("name", WITH_FLOAT_RECORD)
def test_float_record_reproduces_from_the_weights(name):
    """float.json (validation and test accuracy of the float model) recomputed from the
    committed weights; a model not quantized yet must meet its float bar here."""
    rec = json.loads((artifact_dir(name) / "float.json").read_text())
    wpath = artifact_dir(name) / "weights.pt"
    assert rec["weights_sha256"] == hashlib.sha256(wpath.read_bytes()).hexdigest(), "float.json is stale"
    info = models.get(name)
    assert rec["dataset"] == info.dataset
    data = prepare(info)
    model = load_float_model(name)
    for split in ("validation", "test"):
        x, y = data.splits[split]
        acc = accuracy(model, x, y)
        assert len(y) == rec[f"{split}_vectors"] and acc == pytest.approx(rec[f"float_{split}_accuracy"])
    assert rec["float_test_accuracy"] >= BARS[name][0], f"{name}: float accuracy below {BARS[name][0]}"


@pytest.mark.parametrize("name", [m for m in MODELS if models.get(m).task == "classification"])
def test_classification_bars(name):
    b = bundle.read(artifact_dir(name))
    doc = artifact.load(qmodel_path(name))
    fl, il = _recomputed(name, b, doc)
    y = b.labels
    fa, ia = (fl.argmax(1) == y).mean(), (il.argmax(1) == y).mean()
    agree = (fl.argmax(1) == il.argmax(1)).mean()
    min_float, max_drop, min_agree = BARS[name]
    if min_float is not None:
        assert fa >= min_float, f"{name}: float accuracy {fa:.4f} < {min_float}"
    assert (fa - ia) * 100 <= max_drop, f"{name}: int {ia:.4f} more than {max_drop} points below float {fa:.4f}"
    if min_agree is not None:
        assert agree >= min_agree, f"{name}: agreement {agree:.4f} < {min_agree}"
    m = b.manifest["metrics"]
    assert m["float_accuracy"] == pytest.approx(fa) and m["int_accuracy"] == pytest.approx(ia)
    assert set(np.unique(y)) == set(range(len(models.get(name).classes))), "every class in the test split"


def test_kws_reference_is_not_saturated():
    """A reference at 100 % can show no regression: the synthetic KWS set is made
    hard enough (docs/data.md) that kws_dscnn lands between 90 % and 97 %, with
    the integer model within one point either way."""
    b = bundle.read(artifact_dir("kws_dscnn"))
    m = b.manifest["metrics"]
    assert 0.90 <= m["float_accuracy"] <= 0.97, m
    assert abs(m["float_accuracy"] - m["int_accuracy"]) <= 0.01, m


def test_sine_int8_mae_against_float():
    name = "sine_mlp"
    b = bundle.read(artifact_dir(name))
    doc = artifact.load(qmodel_path(name))
    fl, il = _recomputed(name, b, doc)
    mae = np.abs(dequantize(doc, il) - fl).mean()
    assert mae <= 0.05, f"sine_mlp int8 MAE vs float {mae:.4f} > 0.05"
    assert b.manifest["metrics"]["int_vs_float_mae"] == pytest.approx(mae)


def test_artifact_hash_detects_tampering(tmp_path):
    doc = artifact.load(qmodel_path("sine_mlp"))
    doc["layers"][0]["weights"][0] += 1
    p = tmp_path / "x.qmodel.json"
    artifact.save(doc, p)
    with pytest.raises(artifact.ArtifactError, match="hash mismatch"):
        artifact.load(p)


def test_bundle_detects_corrupted_npz(tmp_path):
    src = artifact_dir("sine_mlp")
    for f in ("bundle.json", "bundle.npz"):
        (tmp_path / f).write_bytes((src / f).read_bytes())
    data = bytearray((tmp_path / "bundle.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "bundle.npz").write_bytes(bytes(data))
    with pytest.raises(bundle.BundleError, match="sha256"):
        bundle.read(tmp_path)


def test_onnx_export_matches_float_model():
    onnx = pytest.importorskip("onnx")
    from golden.onnx_io import module_from_onnx
    for name in MODELS:
        path = artifact_dir(name) / f"{name}.onnx"
        assert path.exists(), f"{name}: ONNX export missing"
        onnx.checker.check_model(onnx.load(str(path)))
        if models.get(name).scheme == "int8":
            module, shape = module_from_onnx(path)
            x = torch.randn((3,) + tuple(shape), generator=torch.Generator().manual_seed(0))
            torch.testing.assert_close(module(x), load_float_model(name)(x), rtol=1e-4, atol=1e-4)
