"""HLS graph models: a tiny net with every graph op (residual add, grouped conv,
fire concat, channel split and shuffle, global average pool; fan-out copies),
quantized here, generated as a DATAFLOW top with branches, compiled with g++
and the ap_int headers, equals the integer simulator bit for bit on every layer;
its loops run the trip counts the cycle model assumes, and parallel branches
overlap in the modelled schedule."""
import shutil
import subprocess

import numpy as np
import pytest

from golden import artifact
from golden.intsim.run import IntegerSimulator
from hil.errors import CodegenError
from hil.targets.hls import codegen as codegen_hls, design
from hil.targets.hls.build import AP_TYPES_HINT, ap_types_dir, build_image
from tests.graph_nets import TinyGraphNet, randomize_bn
from tests.test_graph_ops import _quantized

pytestmark = [
    pytest.mark.skipif(ap_types_dir() is None, reason=f"Xilinx ap_int headers not installed: {AP_TYPES_HINT}"),
    pytest.mark.skipif(shutil.which("g++") is None or shutil.which("make") is None,
                       reason="no host g++/make: install build-essential"),
]
NAME = "hls_graph_test"


@pytest.fixture(scope="module")
def graph_doc(tmp_path_factory):
    doc, _ = _quantized(randomize_bn(TinyGraphNet()), (1, 28, 28))
    doc = artifact.finalize(dict(doc, model=NAME))
    path = tmp_path_factory.mktemp("hlsg") / f"{NAME}.qmodel.json"
    artifact.save(doc, path)
    return doc, path


def test_graph_top_bit_exact_in_c_simulation(graph_doc, tmp_path):
    doc, path = graph_doc
    img = build_image([str(path)], board="csim")
    rng = np.random.default_rng(5)
    xs = rng.integers(-128, 128, (6, 1, 28, 28)).astype(np.int8)
    xs[0] = -128
    sim = IntegerSimulator(doc)
    res = sim.run(xs, keep_layers=True)
    base = tmp_path / NAME
    (tmp_path / f"{NAME}.meta").write_text(f"vectors {len(xs)}\nlayer_vectors {len(xs)}\n")
    xs.tofile(f"{base}.inputs.bin")
    res.outputs.astype("<i4").tofile(f"{base}.logits.bin")
    for i, t in enumerate(res.layers):
        t.astype("<i4").tofile(f"{base}.layer_{i:02d}.bin")
    r = subprocess.run([str(img.csim_tb), NAME, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().endswith("PASS"), r.stdout + r.stderr
    assert "0 with output mismatches" in r.stdout and "0 differ" in r.stdout
    from pathlib import Path
    text = (Path(img.manifest["models"][0]["dir"]) / f"{NAME}_top.cpp").read_text()
    for kernel in ("add_s8", "concat2_s8", "channel_shuffle", "channel_slice", "grouped_conv2d_s8",
                   "fanout2", "DATAFLOW"):
        assert kernel in text


def test_branches_overlap_in_the_modelled_schedule(graph_doc):
    doc, _ = graph_doc
    plan = design.plan_model(doc)
    assert plan.total == plan.load.count + sum(s.count for s in plan.layers)
    e1, e3 = plan.layer("fire.e1"), plan.layer("fire.e3")
    assert e1.start == e3.start, "fire expand branches start together"
    assert plan.total < plan.load.latency + sum(s.latency for s in plan.layers)
    assert any(lp.label == "FANOUT" for lp in plan.layer("fire.squeeze").loops)


def test_hls_rejects_what_it_cannot_build(graph_doc):
    doc, _ = graph_doc
    layers = [dict(L) for L in doc["layers"]]
    cat = next(i for i, L in enumerate(layers) if L["op"] == "concat")
    layers[cat]["inputs"] = layers[cat]["inputs"] + layers[cat]["inputs"][:1]
    with pytest.raises(CodegenError, match="concat kernel takes 2 inputs"):
        codegen_hls.check_supported(dict(doc, layers=layers))
    with pytest.raises(CodegenError, match="int8"):
        codegen_hls.check_supported(dict(doc, scheme="shift"))
