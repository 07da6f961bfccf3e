"""Every built-in int8 model builds and runs bit-exact on the STM32 twin (stm32f4-qemu).

Each model alone in its own image, a few class-stratified vectors (golden.subset) against the
integer simulator, then all of them in one image, the largest model set the F405 takes. The
three 32x32x3 graph models once overflowed SRAM and nothing here ran them, so the regression
went unseen (docs/models.md, "On the STM32 twin"). The shift-scheme model is refused in one line.
"""
import json
import shutil

import pytest

from golden import artifact
from golden.paths import qmodel_path
from golden.registry import BUILTIN_MODELS
from hil.boards import BoardOptions, board_class
from hil.cli import main
from hil.runner import run_model
from hil.targets.stm32.memory import elf_memory

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="qemu-system-arm / arm-none-eabi-gcc not on PATH")

INT8_MODELS = [m for m in BUILTIN_MODELS if artifact.load(qmodel_path(m))["scheme"] == "int8"]
VECTORS_ALONE = 5       # per model in its own image
VECTORS_TOGETHER = 2    # per model in the image with all of them


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
    """The biggest multi-model image: every int8 model in one firmware, each still bit-exact."""
    with board_class("stm32f4-qemu")(BoardOptions(models=list(INT8_MODELS))) as board:
        mem = elf_memory(board.elf, INT8_MODELS)
        for region, r in mem["regions"].items():
            assert 0 < r["used_bytes"] <= r["size_bytes"], f"{region}: {r}"
        # one arena for all, sized by the model that needs most; kernel scratch and protocol buffers in CCM
        assert mem["arena_bytes"] == max(m["arena_bytes"] for m in mem["models"].values())
        assert mem["regions"]["ccm"]["used_bytes"] >= mem["scratch_bytes"] > 0
        for model in INT8_MODELS:
            doc = run_model(board, model, vectors=VECTORS_TOGETHER)
            assert doc["vectors"] == VECTORS_TOGETHER and doc["int_mismatches"] == 0, (model, doc)


def test_shift_scheme_model_is_refused_in_one_line(capsys):
    assert main(["run", "--board", "stm32f4-qemu", "--model", "kws_dscnn_fpga", "--vectors", "1", "--no-db"]) != 0
    err = " ".join(capsys.readouterr().err.split())     # rich wraps long lines
    assert "kws_dscnn_fpga" in err and "'shift' scheme" in err and "int8 artifacts only" in err, err
    assert "Traceback" not in err and "make" not in err
