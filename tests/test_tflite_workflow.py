"""A lab's path with its own `.tflite`: a folder holding only the model, its test data and a test
file; `hil golden build --tflite` into the folder's artifacts root, `hil run`, and
`pytest --board=sim|stm32f4-qemu` through the installed plugin, judged against TFLite Micro (docs/tflite.md)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hil.cli import main

DATA = Path(__file__).parent / "data" / "tflite"
MODEL = "ad_autoencoder_tfl"          # 640-wide FC autoencoder (about 270 KB of weights on the STM32)

TEST_FILE = '''
from hil.runner import run_vector


def test_bit_exact(hil_board, hil_model, golden_vector, hil_record):
    verdict = run_vector(hil_board, hil_model, golden_vector[1])
    hil_record(verdict)
    assert verdict.int_match, verdict.describe()
'''


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.setenv("HIL_ARTIFACTS", "")
    monkeypatch.delenv("HIL_ARTIFACTS")
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / f"{MODEL}.tflite", tmp_path / "model.tflite")
    shutil.copy(DATA / f"{MODEL}.npz", tmp_path / "test.npz")
    (tmp_path / "test_model.py").write_text(TEST_FILE)
    return tmp_path


def test_import_show_rebuild_and_run_against_tflm(lab, capsys):
    assert main(["golden", "build", "--tflite", "model.tflite", "--name", "lab_ad", "--data", "test.npz",
                 "--artifacts", "art"]) == 0
    out = lab / "art" / "lab_ad"
    assert (out / "lab_ad.tflite").is_file() and (out / "lab_ad.qmodel.json").is_file()
    capsys.readouterr()
    assert main(["golden", "show", "--format", "json", "--artifacts", "art", "--model", "lab_ad"]) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    assert rec["tflm_mismatches"] == 0 and rec["test_vectors"] == 50 and "float_accuracy" not in rec
    assert main(["golden", "build", "--model", "lab_ad", "--artifacts", "art"]) == 0     # by name
    assert main(["run", "--board", "sim", "--model", "lab_ad", "--artifacts", "art", "--vectors", "5",
                 "--json", "r.json", "--no-db"]) == 0
    doc = json.loads((lab / "r.json").read_text())
    assert doc["tflm"]["device_mismatches"] == 0 and doc["tflm"]["intsim_mismatches"] == 0
    assert doc["tflm"]["vectors"] == 5 and all(v["tflm_match"] for v in doc["per_vector"])
    assert doc["accuracy"]["float"] is None and doc["vs_float"] == {}      # no float model: no float column


def test_cli_errors_are_one_line(lab, capsys):
    assert main(["golden", "build", "--tflite", "model.tflite", "--name", "x", "--artifacts", "art"]) == 2
    assert "--data" in capsys.readouterr().err
    (lab / "bad.npz").write_bytes(b"not a zip")
    assert main(["golden", "build", "--tflite", "model.tflite", "--name", "x", "--data", "bad.npz",
                 "--artifacts", "art"]) == 2
    err = capsys.readouterr().err
    assert "not a readable .npz" in err and "Traceback" not in err
    assert main(["golden", "build", "--tflite", str(DATA / "unsupported_tanh_tfl.tflite"), "--name", "x",
                 "--data", "test.npz", "--artifacts", "art"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "TANH" in err and "operator 1" in err and "Traceback" not in err


@pytest.mark.parametrize("board", ["sim", "stm32f4-qemu"])
def test_user_folder_passes_pytest_on_a_board_through_the_plugin(lab, board):
    """The lab's folder holds only model.tflite, test.npz and test_model.py (plus what the import writes)."""
    assert main(["golden", "build", "--tflite", "model.tflite", "--name", "lab_ad", "--data", "test.npz",
                 "--artifacts", "art"]) == 0
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_model.py",
                        f"--board={board}", "--hil-artifacts=art", "--hil-model=lab_ad", "--hil-vectors=8",
                        "--hil-json=res.json"], cwd=lab, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "against TFLite Micro" in r.stdout and "device 8/8 bit-exact" in r.stdout
    run = json.loads((lab / "res.json").read_text())["runs"][0]
    assert run["tflm"]["device_mismatches"] == 0 and run["vectors"] == 8


def test_onnx_with_own_data_file(lab, capsys):
    """--data for --onnx: the user's vectors (NCHW here) calibrate and test; labels checked."""
    from golden import bundle, paths
    b = bundle.read(paths.BUILTIN / "mnist_lenet")
    import numpy as np
    x = ((b.inputs[:60].astype(np.float32) + 128) / 255.0)            # [N, 1, 28, 28] pixels / 255
    np.savez(lab / "digits.npz", x=x, y=b.labels[:60])
    onnx = paths.BUILTIN / "mnist_lenet" / "mnist_lenet.onnx"
    assert main(["golden", "build", "--onnx", str(onnx), "--name", "lab_lenet", "--data", "digits.npz",
                 "--layout", "nchw", "--artifacts", "art"]) == 0
    got = bundle.read(lab / "art" / "lab_lenet")
    assert len(got) == 60 and got.manifest["classes"] == [str(i) for i in range(10)]
    assert got.manifest["metrics"]["int_accuracy"] > 0.8
    np.savez(lab / "bad.npz", x=x, y=b.labels[:60] + 10)
    assert main(["golden", "build", "--onnx", str(onnx), "--name", "lab_bad", "--data", "bad.npz",
                 "--layout", "nchw", "--artifacts", "art"]) == 2
    assert "labels out of range" in " ".join(capsys.readouterr().err.split())


def test_tflm_mismatch_names_the_first_differing_layer(lab, monkeypatch):
    """An artifact whose 4th layer no longer computes what the .tflite does: every vector differs from
    TFLM, and the detail names that layer from TFLM's preserved tensors."""
    from types import SimpleNamespace

    import numpy as np

    from golden import artifact, bundle
    from golden.intsim.run import IntegerSimulator
    from golden.qmodel import QModel
    from hil import tflm_check
    assert main(["golden", "build", "--tflite", "model.tflite", "--name", "lab_ad", "--data", "test.npz",
                 "--artifacts", "art"]) == 0
    monkeypatch.setenv("HIL_ARTIFACTS", str(lab / "art"))
    path = lab / "art" / "lab_ad" / "lab_ad.qmodel.json"
    b = bundle.read(lab / "art" / "lab_ad")      # before the edit: the bundle check would call it stale after
    doc = artifact.load(path)
    doc["layers"][3]["multiplier"] = [m * 9 // 10 for m in doc["layers"][3]["multiplier"]]
    doc = artifact.finalize({k: v for k, v in doc.items() if k != "hash"})
    artifact.save(doc, path)
    sim = IntegerSimulator(doc)
    b.arrays["int_logits"] = sim.run(b.inputs).outputs
    idx = np.arange(4)
    fig = tflm_check.figures(SimpleNamespace(qmodel=QModel.from_json(doc), bundle=b, sim=sim),
                             [SimpleNamespace(first_bad_layer=None)] * 4, idx, b.int_logits[idx])
    t = fig.report
    assert t.device_mismatches == 4 and t.intsim_mismatches == 4 and t.mismatched_vectors == [0, 1, 2, 3]
    assert "first layer where the integer simulator differs from TFLM: fully_connected_3" in t.details[0]
