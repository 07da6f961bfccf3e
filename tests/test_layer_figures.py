"""Per-layer figures are read for the first N vectors that run (hil.runner.LAYER_COUNT_VECTORS), in
every path: `hil run` (run_model), a resumed run, pytest with two xdist workers and a deselected
vector, and a regression of mnist_lenet built with EXTRA_CFLAGS=-O0 names every layer with its
before and after figures. fpga-sim (modelled cycles, g++) and the QEMU twin (instructions)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, checkout_env, copy_checkout
from golden import artifact, bundle, subset
from golden.paths import artifact_dir, qmodel_path
from hil.boards import BoardOptions, board_class
from hil.results.store import Store
from hil.runner import LAYER_COUNT_VECTORS, run_model

MODEL = "mnist_lenet"
N = 20

needs_gpp = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not on PATH (make setup)")
needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="qemu-system-arm / arm-none-eabi-gcc not on PATH (make setup)")


def _chosen(n=N):
    return subset.select(bundle.read(artifact_dir(MODEL)).labels, n).tolist()


@pytest.fixture(scope="module")
def fpga_sim():
    with board_class("fpga-sim")(BoardOptions(models=[MODEL])) as board:
        yield board


class _Stop(Exception):
    pass


@needs_gpp
def test_run_reads_layers_for_the_first_n_vectors_run(fpga_sim):
    """A stratified 20-vector run has no bundle index below 10: the layers still come from its first 10."""
    chosen = _chosen()
    assert min(chosen) >= LAYER_COUNT_VECTORS      # what made the old rule (index < 10) read none
    seen = []
    doc = run_model(fpga_sim, MODEL, N, sink=lambda mr, v: seen.append(v)).to_json()
    assert [v.index for v in seen if v.layer_counts] == chosen[:LAYER_COUNT_VECTORS]
    assert all(L["modelled_cycles"] > 0 for L in doc["layers"]), doc["layers"]


@needs_gpp
def test_resumed_run_keeps_counting_from_what_was_recorded(fpga_sim):
    chosen, first = _chosen(), []

    def stop_after_4(mr, v):
        first.append(v)
        if len(first) == 4:
            raise _Stop

    with pytest.raises(_Stop):
        run_model(fpga_sim, MODEL, N, sink=stop_after_4)
    rest = []
    doc = run_model(fpga_sim, MODEL, N, sink=lambda mr, v: rest.append(v), done=first).to_json()
    assert [v.index for v in rest] == chosen[4:]
    layered = [v.index for v in first + rest if v.layer_counts]
    assert layered == chosen[:LAYER_COUNT_VECTORS] and doc["vectors"] == N


@needs_gpp
def test_xdist_workers_share_the_first_n_collected(tmp_path):
    """Two workers, one vector deselected: the vectors with layer figures are the first 10 of those
    that ran, however xdist spread them."""
    chosen = _chosen()
    dropped = chosen[1]
    db = tmp_path / "r.db"
    node = f"tests/board/test_golden_vectors.py::test_golden_vector[{MODEL}-{dropped}]"   # rootdir-relative
    r = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q",
                        str(ROOT / "tests/board/test_golden_vectors.py"), "--deselect", node,
                        "--hil-board=fpga-sim", f"--hil-vectors={N}", f"--hil-model={MODEL}",
                        f"--hil-json={tmp_path / 'r.json'}", f"--hil-db={db}"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=600,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    ran = [i for i in chosen if i != dropped]
    with Store.open(db) as s:
        (run,) = s.runs()
        vs = s.vectors(run.id, MODEL)
    assert sorted(v.index for v in vs) == ran
    assert sorted(v.index for v in vs if v.layer_counts) == ran[:LAYER_COUNT_VECTORS]
    doc = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert all(L["modelled_cycles"] for L in doc["layers"])


@needs_qemu
def test_O0_regression_names_every_layer(tmp_path):
    """docs/nightly.md: a normal 20-vector run, then the same run built with EXTRA_CFLAGS=-O0 into the
    same store: exit 1, every layer of mnist_lenet named with its before and after figures. In a copy
    of the checkout, so the -O0 build does not replace the checkout's firmware build."""
    copy = copy_checkout(tmp_path / "checkout")
    db = tmp_path / "r.db"
    cmd = [sys.executable, "-m", "hil.cli", "run", "--board", "stm32f4-qemu", "--model", MODEL,
           "--vectors", str(N), "--db", str(db)]
    first = subprocess.run(cmd, cwd=copy, env=checkout_env(copy), capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    slow = subprocess.run(cmd, cwd=copy, env=checkout_env(copy, EXTRA_CFLAGS="-O0"), capture_output=True,
                          text=True, timeout=900)
    assert slow.returncode == 1, slow.stdout[-2000:] + slow.stderr[-2000:]
    assert (copy / "firmware_stm32" / "build" / "qemu" / "hil_fw.elf").is_file()   # built in the copy
    text = " ".join(slow.stdout.split())
    layers = [L["name"] for L in artifact.load(qmodel_path(MODEL))["layers"]]
    for name in layers:
        line = f"REGRESSION stm32f4-qemu / {MODEL} vs run 1: layer {name}: "
        assert line in text, f"layer {name} not named:\n{slow.stdout[-3000:]}"
        before, after = text.split(line)[1].split(" instructions")[0].split(" -> ")
        assert float(after.replace(",", "")) > float(before.replace(",", "")) > 0
    with Store.open(db) as s:
        run = s.run(2)
        assert "-O0" in run.cflags and run.models[0].verdict.layers_moved == layers
        paired = [v for v in s.vectors(2, MODEL) if v.layer_counts]
        assert [v.index for v in paired] == _chosen()[:LAYER_COUNT_VECTORS]
