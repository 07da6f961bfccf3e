"""Every `.tflite` fixture on the device twins, a few vectors each, judged against TFLite Micro and the
integer simulator: all six fixtures in one STM32 image on stm32f4-qemu (MobileNetV1-0.25's 27,648-byte
input loads in chunks), KWS and ResNet-8 on fpga-sim. Every vector: `make tflite-check`."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from golden import paths
from hil.boards import BoardOptions, board_class
from hil.cli import main
from hil.runner import run_model
from hil.targets.hls.build import AP_TYPES_HINT, ap_types_dir

DATA = Path(__file__).parent / "data" / "tflite"
FIXTURES = ("kws_dscnn_tfl", "resnet8_tfl", "mobilenet_v1_025_tfl", "ad_autoencoder_tfl", "ops_mix_tfl",
            "flatten_fc_tfl")
VECTORS = 3

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="qemu-system-arm / arm-none-eabi-gcc not on PATH (make setup)")
needs_hls = pytest.mark.skipif(ap_types_dir() is None or shutil.which("g++") is None,
                               reason=f"g++ or the Xilinx ap_int headers missing: {AP_TYPES_HINT}")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Each fixture imported from its first 8 vectors (the import runs TFLM over every vector)."""
    root = tmp_path_factory.mktemp("tfl")
    for name in FIXTURES:
        with np.load(DATA / f"{name}.npz") as z:
            np.savez(root / f"{name}.npz", **{k: z[k][:8] for k in z.files})
        assert main(["golden", "build", "--tflite", str(DATA / f"{name}.tflite"), "--name", name,
                     "--data", str(root / f"{name}.npz"), "--artifacts", str(root)]) == 0
    return root


def _check(board_name: str, names: tuple[str, ...], root: Path, monkeypatch) -> dict:
    monkeypatch.setenv(paths.ENV, str(root))
    with board_class(board_name)(BoardOptions(models=list(names))) as board:
        for name in names:
            doc = run_model(board, name, VECTORS).to_json()
            t = doc["tflm"]
            assert doc["vectors"] == VECTORS and not doc["failed_vectors"] and doc["aborted"] is None, name
            assert doc["int_mismatches"] == 0, doc["mismatch_details"]
            assert t["vectors"] == VECTORS and t["device_mismatches"] == 0 and t["intsim_mismatches"] == 0, t
        return board.memory()


@needs_qemu
def test_every_fixture_in_one_stm32_image_matches_tflm(root, monkeypatch):
    mem = _check("stm32f4-qemu", FIXTURES, root, monkeypatch)
    for region in ("flash", "sram", "ccm"):
        r = mem["regions"][region]
        assert r["used_bytes"] <= r["size_bytes"], (region, r)
    assert mem["flash_bytes"] > 500_000          # MobileNet + autoencoder tables really are in this image


@needs_hls
def test_kws_and_resnet_on_fpga_sim_match_tflm(root, monkeypatch):
    _check("fpga-sim", ("kws_dscnn_tfl", "resnet8_tfl"), root, monkeypatch)
