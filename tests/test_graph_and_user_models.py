"""Supported-layer extraction, clear errors for unsupported layers, and a
user's ONNX model going through the same quantize -> simulate pipeline."""
import numpy as np
import pytest
import torch
from torch import nn

from golden import artifact, models
from golden.build import artifact_dir, build_model, load_float_model, qmodel_path
from golden.graph import UnsupportedLayer, extract_layers
from golden.onnx_io import export_onnx, module_from_onnx


def test_seed_models_extract_expected_layers():
    ops = [L.op for L in extract_layers(models.get("kws_dscnn").build(), (1, 49, 10))]
    assert ops == ["conv2d"] + ["depthwise_conv2d", "conv2d"] * 4 + ["maxpool2d", "fully_connected"]
    lenet = extract_layers(models.get("mnist_lenet").build(), (1, 28, 28))
    assert [(L.name, L.relu) for L in lenet] == [("conv1", True), ("pool1", False), ("conv2", True),
                                                 ("pool2", False), ("fc1", True), ("fc2", False)]
    assert sum(L.macs for L in lenet) == 4 * 784 * 9 + 8 * 196 * 36 + 392 * 32 + 320


@pytest.mark.parametrize("layer, name", [(nn.Sigmoid(), "Sigmoid"),
                                         (nn.Conv2d(4, 4, 3, padding=2, dilation=2), "dilation")])
def test_unsupported_layer_is_named(layer, name):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), layer, nn.Flatten(), nn.Linear(4 * 28 * 28, 10))
    with pytest.raises(UnsupportedLayer, match=name):
        extract_layers(model, (1, 28, 28))


def test_unsupported_onnx_node_is_named(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(2 * 26 * 26, 10))
    export_onnx(model, (1, 28, 28), tmp_path / "tanh.onnx")
    with pytest.raises(UnsupportedLayer, match="Tanh"):
        module_from_onnx(tmp_path / "tanh.onnx")


def test_user_onnx_model_through_the_pipeline(tmp_path):
    """The committed mnist_lenet, exported and re-imported as a user's ONNX model,
    must quantize to the same integer parameters and produce the same logits."""
    from golden.user_models import register_onnx
    export_onnx(load_float_model("mnist_lenet"), (1, 28, 28), tmp_path / "mine.onnx")
    register_onnx("user_lenet", tmp_path / "mine.onnx", "mnist")
    try:
        manifest = build_model("user_lenet", root=tmp_path / "out")
    finally:
        models.REGISTRY.pop("user_lenet")
    ref = artifact.load(qmodel_path("mnist_lenet"))
    mine = artifact.load(qmodel_path("user_lenet", tmp_path / "out"))
    assert [L["weights"] for L in mine["layers"] if "weights" in L] == \
           [L["weights"] for L in ref["layers"] if "weights" in L]
    assert manifest["metrics"]["int_accuracy"] >= 0.96
    ours = np.load(tmp_path / "out" / "user_lenet" / "bundle.npz")["int_logits"]
    committed = np.load(artifact_dir("mnist_lenet") / "bundle.npz")["int_logits"]
    assert np.array_equal(ours, committed)
