"""Every built-in model on the fpga-sim twin: one image holding all seven (the
generated HLS tops compiled with g++ and the ap_int headers, tables from the
per-model-hash cache), a few class-stratified golden vectors per model through
the real wire protocol, 0 integer mismatches against the integer simulator,
per-layer tensors equal on one vector, and the modelled cycle counts of
hil/targets/hls/cycles.py."""
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from golden import artifact
from golden.build import qmodel_path
from golden.registry import BUILTIN_MODELS
from hil.boards import BoardOptions, board_class
from hil.runner import prepare, run_model
from hil.targets.hls import design as hls_design
from hil.targets.hls.build import AP_TYPES_HINT, ap_types_dir

VECTORS = 5

pytestmark = [
    pytest.mark.skipif(ap_types_dir() is None, reason=f"Xilinx ap_int headers not installed: {AP_TYPES_HINT}"),
    pytest.mark.skipif(shutil.which("g++") is None or shutil.which("make") is None,
                       reason="no host g++/make: install build-essential"),
]


@pytest.fixture(scope="module")
def board():
    b = board_class("fpga-sim")(BoardOptions(models=list(BUILTIN_MODELS), timeout=20))
    b.open()
    yield b
    b.close()


@pytest.mark.parametrize("name", BUILTIN_MODELS)
def test_builtin_model_bit_exact_on_fpga_sim(board, name):
    doc = run_model(board, name, vectors=VECTORS).to_json()
    assert doc["vectors"] == VECTORS and not doc["failed_vectors"] and not doc["aborted"]
    assert doc["int_mismatches"] == 0, doc["mismatch_details"]
    mr = prepare(board, name)
    plan = hls_design.plan_model(mr.qmodel)
    assert doc["counter"] == "modelled" and doc["total"]["median"] == plan.total
    i = int(doc["per_vector"][0]["index"])
    deep = board.device.run(mr.device_model, mr.bundle.inputs[i], "LAYER_TENSORS")
    _, want = mr.sim.run_one(mr.bundle.inputs[i], keep_layers=True)
    assert len(deep.layer_tensors) == len(want) == len(mr.qmodel.layers)
    for k, (got, exp) in enumerate(zip(deep.layer_tensors, want)):
        assert np.array_equal(got.reshape(-1), exp.reshape(-1)), f"{name}: layer {mr.qmodel.layers[k].name}"


def test_docs_table_of_modelled_cycles_is_the_cycle_model():
    """docs/models.md "On fpga-sim": each row's modelled cycles are hil/targets/hls/cycles.py's total."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "models.md").read_text()
    section = text.split("### On fpga-sim", 1)[1]
    rows = dict(re.findall(r"^\| (\w+) \| [^|]+ \| \d+ \| 0 \| ([\d,]+) \|$", section, re.M))
    assert sorted(rows) == sorted(BUILTIN_MODELS)
    for name, cycles in rows.items():
        assert int(cycles.replace(",", "")) == hls_design.plan_model(artifact.load(qmodel_path(name))).total, name
