"""The results JSON is the same document it was before the typed core (issue 19): `hil run --json`
and the pytest plugin's `--hil-json` are compared key for key with documents written by the old
code (tests/data/results/), leaving out timings; `ModelResult.from_json` / `to_json` round-trip them."""
import json
from pathlib import Path

import pytest

from hil import cli
from hil.results.model_result import LinkReport, ModelResult

pytest_plugins = ["pytester"]

STORED = Path(__file__).parent / "data" / "results"
TIMINGS = {("latency_ms", "round_trip"), ("link", "seconds")}     # host wall clock: differs run to run
TIMING_KEYS = {"round_trip_s", "restart_s"}


def without_timings(doc, path=()):
    if isinstance(doc, dict):
        return {k: without_timings(v, path + (k,)) for k, v in doc.items()
                if (path[-1:] + (k,)) not in TIMINGS and k not in TIMING_KEYS}
    if isinstance(doc, list):
        return [without_timings(x, path) for x in doc]
    return doc


def stored(name: str) -> dict:
    return json.loads((STORED / name).read_text())


@pytest.mark.parametrize("model", ["mnist_lenet", "sine_mlp"])
def test_hil_run_json_is_the_stored_document(tmp_path, capsys, model):
    out = tmp_path / "run.json"
    assert cli.main(["run", "--no-db", "--board", "sim", "--model", model, "--vectors", "12",
                     "--json", str(out)]) == 0
    now, before = json.loads(out.read_text()), stored(f"run-sim-{model}.json")
    assert list(now) == list(before)                 # the same keys in the same order
    assert without_timings(now) == without_timings(before)


def test_plugin_json_is_the_stored_document(pytester):
    pytester.makepyfile(test_golden="""
        from hil.runner import run_vector

        def test_vec(hil_board, hil_model, golden_vector, hil_record):
            v = run_vector(hil_board, hil_model, golden_vector[1])
            hil_record(v)
            assert v.int_match
    """)
    r = pytester.runpytest_subprocess("--board=sim", "--vectors=12", "--model=mnist_lenet,sine_mlp",
                                      "--hil-json=out.json", "-p", "no:cacheprovider")
    r.assert_outcomes(passed=24)
    now, before = json.loads((pytester.path / "out.json").read_text()), stored("session-sim.json")
    assert [list(d) for d in now["runs"]] == [list(d) for d in before["runs"]]
    assert without_timings(now) == without_timings(before)


@pytest.mark.parametrize("name", sorted(p.name for p in STORED.glob("run-*.json")))
def test_model_result_round_trips_a_stored_document(name):
    doc = stored(name)
    again = ModelResult.from_json(doc).to_json()
    assert again == doc and list(again) == list(doc)


def test_stored_qemu_document_names_its_figures_by_unit():
    r = ModelResult.from_json(stored("run-stm32f4-qemu-mnist_lenet.json"))
    assert r.unit == "instructions" and r.figure == r.total.median > 0
    assert all(L.figure is not None for L in r.layers) and all(v.count for v in r.per_vector)


def test_link_reports_add_up_with_sum():
    a = LinkReport(payload_bytes=10, wire_bytes=12, seconds=1.0, requests=2, naks=1, dropped_frames=1,
                   injected=dict(corrupt=3), inject_spec="corrupt=0.1")
    b = LinkReport(payload_bytes=5, wire_bytes=6, seconds=0.5, requests=1, retries=4)
    total = sum([a, b])
    assert (total.payload_bytes, total.wire_bytes, total.requests, total.retries, total.naks) == (15, 18, 3, 4, 1)
    assert total.seconds == 1.5 and total.injected == dict(corrupt=3) and total.inject_spec == "corrupt=0.1"
    assert "injected" not in b.to_json() and total.to_json()["injected"] == dict(corrupt=3)
