"""Plugin options in a user's repository: prefixed names that cannot collide,
aliases only when free, model choice by ini option and marker (sim board)."""
import json

pytest_plugins = ["pytester"]

VECTOR_TEST = """
    import pytest
    from hil.runner import run_vector

    def test_vec(hil_board, hil_model, golden_vector, hil_record):
        v = run_vector(hil_board, hil_model, golden_vector[1])
        hil_record(v)
        assert v.int_match, v.describe()
"""


def test_repo_conftest_owning_model_and_vectors_still_runs(pytester):
    pytester.makeconftest("""
        def pytest_addoption(parser):
            parser.addoption("--model", default="resnet", help="the repo's own option")
            parser.addoption("--vectors", default="x")

        import pytest
        @pytest.fixture
        def own(request):
            return request.config.getoption("--model"), request.config.getoption("--vectors")
    """)
    pytester.makepyfile(test_user=VECTOR_TEST + """
    def test_own_options(own):
        assert own == ("mine", "x")
    """)
    r = pytester.runpytest_subprocess("--board=sim", "--model=mine", "--hil-model=sine_mlp",
                                      "--hil-vectors=4", "--hil-json=out.json")
    r.assert_outcomes(passed=5)
    doc = json.loads((pytester.path / "out.json").read_text())
    assert [(run["model"], run["vectors"]) for run in doc["runs"]] == [("sine_mlp", 4)]


def test_ini_models_and_marker(pytester):
    pytester.makeini("""
        [pytest]
        hil_board = sim
        hil_models = sine_mlp
        hil_vectors = 3
    """)
    pytester.makepyfile(test_user=VECTOR_TEST + """
    @pytest.mark.hil_model("mnist_lenet")
    def test_marked(golden_vector):
        assert golden_vector[0] == "mnist_lenet"
    """)
    r = pytester.runpytest_subprocess("--hil-json=out.json", "-v")
    r.assert_outcomes(passed=6)
    r.stdout.fnmatch_lines(["*test_vec?sine_mlp-*", "*test_marked?mnist_lenet-*"])
    doc = json.loads((pytester.path / "out.json").read_text())
    assert doc["runs"][0]["board"] == "sim" and doc["runs"][0]["vectors"] == 3


def test_vectors_subset_is_stratified_in_pytest(pytester):
    pytester.makepyfile(test_user=VECTOR_TEST)
    r = pytester.runpytest_subprocess("--hil-board=sim", "--hil-model=mnist_lenet", "--hil-vectors=10",
                                      "--hil-json=out.json")
    r.assert_outcomes(passed=10)
    run = json.loads((pytester.path / "out.json").read_text())["runs"][0]
    assert sorted(v["label"] for v in run["per_vector"]) == list(range(10))
    assert [row["cls"] for row in run["per_class"]] == [str(d) for d in range(10)]
