"""Verdicts are judged per recorded vector index (issue 8): a `-k` subset, vectors
that failed without a verdict, and a vector that kills the device twice."""
import json


from hil import runner
from hil.boards import BoardOptions, board_class
from hil.link import LinkError

pytest_plugins = ["pytester"]

USER_TEST = """
    import pytest
    from hil.pytest_plugin import record_vector
    from hil.runner import run_vector

    def test_vec(hil_board, hil_model, golden_vector):
        name, i = golden_vector
        if i in (2, 4):
            raise RuntimeError(f"lost vector {i}")
        v = run_vector(hil_board, hil_model, i)
        record_vector(name, v, hil_model)
        assert v.int_match
"""


def test_k_subset_is_judged_on_its_own_rows(pytester):
    pytester.makepyfile(test_user=USER_TEST)
    r = pytester.runpytest_subprocess("--board=sim", "--model=mnist_lenet", "--vectors=20", "--hil-json=out.json",
                                      "-k", "mnist_lenet-5 or mnist_lenet-7 or mnist_lenet-11")
    r.assert_outcomes(passed=3, deselected=17)
    run = json.loads((pytester.path / "out.json").read_text())["runs"][0]
    assert run["vectors"] == 3 and run["int_mismatches"] == 0 and run["mismatched_vectors"] == []
    assert [v["index"] for v in run["per_vector"]] == [5, 7, 11] and run["accuracy"]["device"] == 1.0
    r.stdout.fnmatch_lines(["*mnist_lenet*3*0*100.00%*"])


def test_failed_vectors_are_listed_not_misjudged(pytester):
    pytester.makepyfile(test_user=USER_TEST)
    r = pytester.runpytest_subprocess("--board=sim", "--model=mnist_lenet", "--vectors=8", "--hil-json=out.json")
    r.assert_outcomes(passed=6, failed=2)
    run = json.loads((pytester.path / "out.json").read_text())["runs"][0]
    assert run["vectors"] == 6 and run["int_mismatches"] == 0
    assert [f["index"] for f in run["failed_vectors"]] == [2, 4]
    assert "RuntimeError: lost vector 2" in run["failed_vectors"][0]["error"]
    r.stdout.fnmatch_lines(["*failed: mnist_lenet vector 2: RuntimeError: lost vector 2*"])


def test_vector_that_kills_the_device_twice_fails_alone(monkeypatch):
    once = runner.run_vector_once

    def deadly(board, mr, i):
        if i == 3:
            raise LinkError(f"{board.name}: connection reset by vector {i}")
        return once(board, mr, i)
    monkeypatch.setattr(runner, "run_vector_once", deadly)
    board = board_class("sim")(BoardOptions(models=["mnist_lenet"]))
    with board:
        doc = runner.run_model(board, "mnist_lenet", vectors=6)
    assert doc["vectors"] == 5 and doc["int_mismatches"] == 0 and doc["aborted"] is None
    assert [f["index"] for f in doc["failed_vectors"]] == [3]
    assert [(r["vector"], r["error"]) for r in doc["restarts"]] == [(3, "LinkError"), (3, "LinkError")]
    assert [v["index"] for v in doc["per_vector"]] == [0, 1, 2, 4, 5]


def test_device_dead_after_its_restarts_keeps_what_is_done(monkeypatch):
    from hil import recovery
    once = runner.run_vector_once
    monkeypatch.setattr(recovery, "MAX_RESTARTS", 2)

    def dies_from_4(board, mr, i):
        if i >= 4:
            raise LinkError(f"{board.name}: port gone")
        return once(board, mr, i)
    monkeypatch.setattr(runner, "run_vector_once", dies_from_4)
    board = board_class("sim")(BoardOptions(models=["mnist_lenet"]))
    with board:
        doc = runner.run_model(board, "mnist_lenet", vectors=8)
    assert doc["vectors"] == 4 and doc["int_mismatches"] == 0
    assert "device dead after 2 restarts" in doc["aborted"]
