"""The seed-001 shift scheme: the fake-quantized PyTorch model (what QAT
trains) computes exactly what the integer simulator computes."""
import numpy as np
import torch

from golden import artifact, bundle
from golden.build import artifact_dir, load_float_model, qmodel_path
from golden.intsim.run import IntegerSimulator
from golden.quant.shift import W_MAX, W_MIN


def test_fake_quant_model_equals_integer_simulator():
    b = bundle.read(artifact_dir("kws_dscnn_fpga"))
    doc = artifact.load(qmodel_path("kws_dscnn_fpga"))
    model = load_float_model("kws_dscnn_fpga").double()
    model.quantized = True
    with torch.no_grad():
        fake = model(torch.from_numpy(b.inputs.astype(np.float64))).numpy()
    sim = IntegerSimulator(doc).run(b.inputs).outputs
    assert np.array_equal(fake.astype(np.int64), sim.astype(np.int64))
    assert np.array_equal(fake, np.round(fake)), "fake-quant logits must be integers"


def test_artifact_respects_6_bit_ranges():
    b = bundle.read(artifact_dir("kws_dscnn_fpga"))
    doc = artifact.load(qmodel_path("kws_dscnn_fpga"))
    assert b.inputs.min() >= -32 and b.inputs.max() <= 31
    for L in doc["layers"]:
        if "weights" in L:
            assert W_MIN <= min(L["weights"]) and max(L["weights"]) <= W_MAX, L["name"]
    assert [L.get("rshift") for L in doc["layers"]] == [3, 4, None, 8, 0]
    assert doc["layers"][3]["macs"] == 768, "the seed's 768-MAC pointwise dataflow"
