"""`pytest -n 2` on the board suite: two boards, one merged summary and JSON that
agree with a single-board run of the same vectors (hil/xdist.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hil.boards import BoardOptions, board_class
from hil.pytest_plugin import suite_args
from hil.runner import run_model
from hil.workers import pin_process, worker_cpu

REPO = Path(__file__).resolve().parents[1]
MODELS = ["mnist_lenet", "sine_mlp"]
VECTORS = 6

pytest.importorskip("xdist")


def _subset(model: str) -> list[int]:
    """The vectors `--hil-vectors VECTORS` runs: golden.subset's stratified choice, sorted."""
    from golden import bundle, subset
    from golden.paths import artifact_dir
    return sorted(int(i) for i in subset.select(bundle.read(artifact_dir(model)).labels, VECTORS))


@pytest.fixture(scope="module")
def parallel_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xdist")
    out = tmp / "results.json"
    cmd = [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q",
           str(REPO / "tests/board/test_golden_vectors.py"), *suite_args("sim", VECTORS, MODELS, out),
           f"--hil-db={tmp / 'hil.db'}"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    return r.stdout, json.loads(out.read_text()), tmp / "hil.db"


def test_two_workers_merge_into_one_summary(parallel_run):
    stdout, doc, _ = parallel_run
    assert stdout.count("hil results on sim") == 1
    assert stdout.count("hil: results written to") == 1
    assert [r["model"] for r in doc["runs"]] == MODELS
    for run in doc["runs"]:
        assert [v["index"] for v in run["per_vector"]] == _subset(run["model"])
        assert run["vectors"] == VECTORS and 1 <= run["boards"] <= 2


def test_merged_results_equal_a_single_board_run(parallel_run):
    _, doc, _ = parallel_run
    b = board_class("sim")(BoardOptions(models=MODELS, timeout=5))
    with b:
        single = {m: run_model(b, m, vectors=VECTORS).to_json() for m in MODELS}
    for run in doc["runs"]:
        one = single[run["model"]]
        for key in ("int_mismatches", "accuracy", "vs_float", "total", "unit", "model_hash", "build_hash"):
            assert run[key] == one[key], key     # the same arithmetic on the same outputs
        assert [v["device"] for v in run["per_vector"]] == [v["device"] for v in one["per_vector"]]


def test_two_workers_are_one_run_in_the_results_store(parallel_run):
    from hil.results.store import Store
    stdout, doc, db = parallel_run
    with Store.open(db, create=False) as store:
        runs = store.runs()
        assert len(runs) == 1 and runs[0].status == "complete"
        rid = runs[0].id
        for m in MODELS:
            assert sorted(v.index for v in store.vectors(rid, m)) == _subset(m)
        assert {k.split()[0] for k in store.logs(rid)} <= {"gw0", "gw1"}
    assert f"hil: run recorded in {db}" in stdout


def test_worker_cpu_follows_the_worker_index(monkeypatch):
    cpus = sorted(os.sched_getaffinity(0))
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("HIL_QEMU_CPU", raising=False)
    assert worker_cpu() is None
    for k in range(4):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{k}")
        assert worker_cpu() == cpus[k % len(cpus)]
    monkeypatch.setenv("HIL_QEMU_CPU", "none")
    assert worker_cpu() is None                  # the twin's own switch turns it off


def test_pin_process_pins_every_thread_of_a_child():
    cpu = sorted(os.sched_getaffinity(0))[-1]
    child = subprocess.Popen([sys.executable, "-c", "import threading,time\n"
                              "[threading.Thread(target=time.sleep, args=(5,)).start() for _ in range(3)]\n"
                              "time.sleep(5)"])
    try:
        import time
        time.sleep(0.5)
        pin_process(child.pid, cpu)
        tids = [int(t) for t in os.listdir(f"/proc/{child.pid}/task")]
        assert len(tids) >= 4 and all(os.sched_getaffinity(t) == {cpu} for t in tids)
    finally:
        child.kill()
        child.wait()
