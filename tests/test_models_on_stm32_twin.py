"""Every built-in int8 model builds and runs bit-exact on the STM32 twin (stm32f4-qemu).

Each model alone in its own image, a few class-stratified vectors (golden.subset) against the
integer simulator, then all of them in one image, the largest model set the F405 takes. The
three 32x32x3 graph models once overflowed SRAM and nothing here ran them, so the regression
went unseen (docs/models.md, "On the STM32 twin"). The shift-scheme model is refused in one line.
"""
import json
import shutil

import numpy as np
import pytest

from golden import artifact
from golden.paths import qmodel_path
from golden.registry import BUILTIN_MODELS
from hil.boards import BoardOptions, board_class
from hil.cli import main
from hil.runner import prepare, run_model
from hil.targets.stm32.memory import elf_memory
from hil.targets.stm32.memory_plan import plan

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="qemu-system-arm / arm-none-eabi-gcc not on PATH")

INT8_MODELS = [m for m in BUILTIN_MODELS if artifact.load(qmodel_path(m))["scheme"] == "int8"]
VECTORS_ALONE = 5       # per model in its own image
VECTORS_TOGETHER = 2    # per model in the image with all of them
# whose every layer tensor is read in that image: a graph model with residual adds (tests/board
# reads the default models' layers; all of shufflenetv2_mini's 285 KB took half a minute more)
LAYERS_MODEL = "resnet8"


def mobilenet_v1_025_96_shapes() -> dict:
    """The activation shapes of MLPerf Tiny's VWW MobileNetV1-0.25 at 96x96x3 (a chain; weights
    do not matter to the arena plan): the headroom a later issue needs."""
    widths = [8, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256, 256]
    strides = [2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    h = 96 // 2
    layers = [dict(name="conv0", out_shape=[widths[0], h, h])]
    for i in range(13):
        h = -(-h // strides[i + 1])
        layers.append(dict(name=f"dw{i}", out_shape=[widths[i], h, h]))
        layers.append(dict(name=f"pw{i}", out_shape=[widths[i + 1], h, h]))
    layers += [dict(name="pool", out_shape=[256, 1, 1]), dict(name="fc", out_shape=[2])]
    return dict(input=dict(shape=[3, 96, 96]), layers=layers)


def test_mobilenet_v1_025_arena_plan():
    """Input slot 96x96x3 + the 8x48x48 depthwise output + the 16x48x48 pointwise output."""
    p = plan(mobilenet_v1_025_96_shapes())
    assert (p.input_bytes, p.peak) == (27_648, 27_648 + 18_432 + 36_864)


def test_the_int8_models_are_the_six_built_in():
    assert INT8_MODELS == ["mnist_lenet", "kws_dscnn", "sine_mlp", "squeezenet_mini", "shufflenetv2_mini",
                           "resnet8"]


@needs_qemu
@pytest.mark.parametrize("model", INT8_MODELS)
def test_model_alone_is_bit_exact_on_the_twin(model, tmp_path):
    out = tmp_path / "run.json"
    assert main(["run", "--board", "stm32f4-qemu", "--model", model, "--vectors", str(VECTORS_ALONE),
                 "--no-db", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["model"] == model and doc["vectors"] == VECTORS_ALONE, doc
    assert doc["int_mismatches"] == 0, doc.get("mismatch_details")
    assert doc["instructions"] > 0 and doc["counter"] == "icount"


@needs_qemu
def test_all_int8_models_in_one_image_fit_and_run():
    """The biggest multi-model image: every int8 model in one firmware, each still bit-exact,
    outputs and every layer's tensor."""
    with board_class("stm32f4-qemu")(BoardOptions(models=list(INT8_MODELS))) as board:
        mem = elf_memory(board.elf, INT8_MODELS)
        for region, r in mem["regions"].items():
            assert 0 < r["used_bytes"] <= r["size_bytes"], f"{region}: {r}"
        # one arena for all, sized by the model that needs most; kernel scratch and protocol buffers in CCM
        assert mem["arena_bytes"] == max(m["arena_bytes"] for m in mem["models"].values())
        assert mem["regions"]["ccm"]["used_bytes"] >= mem["scratch_bytes"] > 0
        # headroom: everything in SRAM but the arena, plus a MobileNetV1-0.25 96x96 arena, still fits
        sram = mem["regions"]["sram"]
        assert sram["used_bytes"] - mem["arena_bytes"] + plan(mobilenet_v1_025_96_shapes()).peak <= sram["size_bytes"]
        for model in INT8_MODELS:
            doc = run_model(board, model, vectors=VECTORS_TOGETHER).to_json()
            assert doc["vectors"] == VECTORS_TOGETHER and doc["int_mismatches"] == 0, (model, doc)
            if model != LAYERS_MODEL:
                continue
            # every layer's tensor, re-run from the input slot and sent straight from the arena
            mr = prepare(board, model)
            x = mr.bundle.inputs[0]
            deep = board.device.run(mr.device_model, x, "LAYER_TENSORS")
            _, sim_layers = mr.sim.run_one(x, keep_layers=True)
            assert len(deep.layer_tensors) == len(sim_layers)
            for i, (got, want) in enumerate(zip(deep.layer_tensors, sim_layers)):
                assert np.array_equal(np.asarray(got).ravel(), np.asarray(want).ravel()), \
                    f"{model} layer {i} '{mr.qmodel.layers[i].name}'"


def test_shift_scheme_model_is_refused_in_one_line(capsys):
    assert main(["run", "--board", "stm32f4-qemu", "--model", "kws_dscnn_fpga", "--vectors", "1", "--no-db"]) != 0
    err = " ".join(capsys.readouterr().err.split())     # rich wraps long lines
    assert "kws_dscnn_fpga" in err and "'shift' scheme" in err and "int8 artifacts only" in err, err
    assert "Traceback" not in err and "make" not in err
