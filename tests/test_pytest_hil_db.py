"""pytest --hil-db: the session recorded in the results store, metrics in the JUnit XML, and a
regression against the baseline failing the session (sim board over a real socket)."""
import xml.etree.ElementTree as ET

import numpy as np

from golden import bundle, subset
from golden.paths import artifact_dir
from hil.results.store import Store

pytest_plugins = ["pytester"]

TEST = """
from hil.runner import run_vector

def test_vec(hil_board, hil_model, golden_vector, hil_record, record_property):
    v = run_vector(hil_board, hil_model, golden_vector[1])
    hil_record(v)
    assert v.int_match
"""


def _props(path):
    root = ET.parse(path).getroot()
    return {p.get("name"): p.get("value") for p in root.iter("property") if p.get("name", "").startswith("hil.")}


def test_session_recorded_with_junit_metrics(pytester):
    pytester.makepyfile(test_user=TEST)
    r = pytester.runpytest_subprocess("--board=sim", "--vectors=4", "--model=mnist_lenet", "--hil-db=r.db",
                                      "--junitxml=j.xml")
    r.assert_outcomes(passed=4)
    r.stdout.fnmatch_lines(["*run recorded in r.db*"])
    props = _props(pytester.path / "j.xml")
    assert props["hil.mnist_lenet.int_mismatches"] == "0" and props["hil.mnist_lenet.vectors"] == "4"
    assert props["hil.mnist_lenet.regression"] == "no" and "hil.mnist_lenet.accuracy.accuracy" in props
    with Store.open(pytester.path / "r.db") as s:
        (run,) = s.runs()
        assert run.status == "complete" and run.board == "sim" and run.models[0].done == 4


def test_regression_fails_the_session(pytester):
    """A pinned baseline whose link was far faster: the same passing tests now fail the session."""
    b = bundle.read(artifact_dir("mnist_lenet"))
    with Store.open(pytester.path / "r.db") as s:
        rid = s.start_run(dict(board="sim", counter="none", models=["mnist_lenet"], vectors=4))
        s.start_model(rid, "mnist_lenet", task="classification", counter="none")
        for i in subset.select(b.labels, 4).tolist():
            s.record_vector(rid, "mnist_lenet", dict(index=i, label=int(b.labels[i]), device=b.int_logits[i],
                                                     int_match=True, round_trip_s=1e-6), counter="none")
        s.finish_model(rid, "mnist_lenet", dict(vectors=4, int_mismatches=0, link=dict(payload_bytes=10**12,
                                                                                         seconds=1.0)))
        s.finish_run(rid, "complete")
        s.pin_baseline(rid)
    pytester.makepyfile(test_user=TEST)
    # the sim board is emulated: its link is judged only when the lab config asks for it
    pytester.makefile(".toml", lab="[thresholds]\nlink_emulated = true\n")
    r = pytester.runpytest_subprocess("--board=sim", "--vectors=4", "--model=mnist_lenet", "--hil-db=r.db",
                                      "--junitxml=j.xml", "--hil-config=lab.toml")
    r.assert_outcomes(passed=4)
    assert r.ret == 1
    r.stdout.fnmatch_lines(["*REGRESSION sim / mnist_lenet vs run 1: link payload throughput*",
                            "*the session fails*"])
    assert _props(pytester.path / "j.xml")["hil.mnist_lenet.regression"] == "yes"
    assert np.isfinite(float(_props(pytester.path / "j.xml")["hil.mnist_lenet.accuracy.accuracy"]))
