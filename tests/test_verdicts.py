"""Verdicts are judged per recorded vector index (issue 8): a `-k` subset, vectors
that failed without a verdict, and a vector that kills the device twice."""
import json


from hil import runner
from hil.boards import BoardOptions, board_class
from hil.link import LinkError

pytest_plugins = ["pytester"]


def chosen(model: str, n: int) -> list[int]:
    """The vectors `--vectors n` runs (a seeded, class-stratified subset)."""
    from golden import bundle, subset
    from golden.paths import artifact_dir
    return subset.select(bundle.read(artifact_dir(model)).labels, n).tolist()


def user_test(lost: tuple[int, ...] = ()) -> str:
    return f"""
    from hil.runner import run_vector

    def test_vec(hil_board, hil_model, golden_vector, hil_record):
        name, i = golden_vector
        if i in {lost!r}:
            raise RuntimeError(f"lost vector {{i}}")
        v = run_vector(hil_board, hil_model, i)
        hil_record(v)
        assert v.int_match
"""


def test_k_subset_is_judged_on_its_own_rows(pytester):
    pick = chosen("mnist_lenet", 20)[5:12:3]          # three vectors from the middle of the subset
    pytester.makepyfile(test_user=user_test())
    r = pytester.runpytest_subprocess("--board=sim", "--model=mnist_lenet", "--vectors=20", "--hil-json=out.json",
                                      "-k", " or ".join(f"mnist_lenet-{i}]" for i in pick))
    r.assert_outcomes(passed=3, deselected=17)
    run = json.loads((pytester.path / "out.json").read_text())["runs"][0]
    assert run["vectors"] == 3 and run["int_mismatches"] == 0 and run["mismatched_vectors"] == []
    assert [v["index"] for v in run["per_vector"]] == pick and run["accuracy"]["device"] == 1.0
    r.stdout.fnmatch_lines(["*mnist_lenet*3*0*100.00%*"])


def test_failed_vectors_are_listed_not_misjudged(pytester):
    run8 = chosen("mnist_lenet", 8)
    lost = (run8[2], run8[4])
    pytester.makepyfile(test_user=user_test(lost))
    r = pytester.runpytest_subprocess("--board=sim", "--model=mnist_lenet", "--vectors=8", "--hil-json=out.json")
    r.assert_outcomes(passed=6, failed=2)
    run = json.loads((pytester.path / "out.json").read_text())["runs"][0]
    assert run["vectors"] == 6 and run["int_mismatches"] == 0
    assert [f["index"] for f in run["failed_vectors"]] == list(lost)
    assert f"RuntimeError: lost vector {lost[0]}" in run["failed_vectors"][0]["error"]
    r.stdout.fnmatch_lines([f"*failed: mnist_lenet vector {lost[0]}: RuntimeError: lost vector {lost[0]}*"])


def test_vector_that_kills_the_device_twice_fails_alone(monkeypatch):
    once = runner.run_vector_once

    run6 = chosen("mnist_lenet", 6)

    def deadly(board, mr, i):
        if i == run6[3]:
            raise LinkError(f"{board.name}: connection reset by vector {i}")
        return once(board, mr, i)
    monkeypatch.setattr(runner, "run_vector_once", deadly)
    board = board_class("sim")(BoardOptions(models=["mnist_lenet"]))
    with board:
        doc = runner.run_model(board, "mnist_lenet", vectors=6).to_json()
    assert doc["vectors"] == 5 and doc["int_mismatches"] == 0 and doc["aborted"] is None
    assert [f["index"] for f in doc["failed_vectors"]] == [run6[3]]
    assert [(r["vector"], r["error"]) for r in doc["restarts"]] == [(run6[3], "LinkError")] * 2
    assert [v["index"] for v in doc["per_vector"]] == run6[:3] + run6[4:]


def test_device_dead_after_its_restarts_keeps_what_is_done(monkeypatch):
    from hil import recovery
    once = runner.run_vector_once
    monkeypatch.setattr(recovery, "MAX_RESTARTS", 2)

    first4 = chosen("mnist_lenet", 8)[:4]

    def dies_from_4(board, mr, i):
        if i not in first4:
            raise LinkError(f"{board.name}: port gone")
        return once(board, mr, i)
    monkeypatch.setattr(runner, "run_vector_once", dies_from_4)
    board = board_class("sim")(BoardOptions(models=["mnist_lenet"]))
    with board:
        doc = runner.run_model(board, "mnist_lenet", vectors=8).to_json()
    assert doc["vectors"] == 4 and doc["int_mismatches"] == 0
    assert "device dead after 2 restarts" in doc["aborted"]
