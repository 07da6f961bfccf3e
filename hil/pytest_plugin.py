"""pytest plugin: `pytest --board=<name>` in any repository that installs hil.

Options: --board (default: the emulated stm32f4-qemu), --hil-config (lab
config file), --vectors N (default: all), --model (repeatable), --hil-json
(results file), --hil-db (results store: every vector committed as it
finishes, the session judged against its baseline; a regression fails the
session, and per-model metrics go into the JUnit XML as testsuite
properties `hil.<model>.*`). Fixtures:

* `hil_board`  session-scoped: built, deployed and connected once
* `dut`        the connected `hil.device.Device`
* `hil_model`  per model: golden references + the device's model entry
* `golden_vector`  parametrised (model, index): a failing test names its vector

A rich summary table is printed at the end and results are written as JSON.
With `pytest -n N` (pytest-xdist) every worker has its own board and the
results merge into one table and one JSON (hil/xdist.py).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hil.boards import DEFAULT_BOARD, BoardOptions, board_class

_STATE: dict = {"records": {}, "board": None, "link0": {}}


def pytest_addoption(parser):
    g = parser.getgroup("hil", "hardware-in-the-loop")
    g.addoption("--board", default=None, help=f"board to test on (default {DEFAULT_BOARD}; `hil boards` lists them)")
    g.addoption("--hil-config", default=None, help="lab config file (TOML) binding boards to probes and ports")
    g.addoption("--vectors", type=int, default=None, help="golden vectors per model (default: all)")
    g.addoption("--model", action="append", default=None, help="model(s) to test (default: all on the board)")
    g.addoption("--hil-json", default="hil-results.json", help="where to write the results JSON")
    g.addoption("--hil-db", default=None, help="record the session in this results store (SQLite; "
                "default $HIL_DB if set, else not recorded); a regression against the baseline fails the session")


def suite_args(board: str, vectors: int | None = None, models: list[str] | None = None,
               json_path=None, config=None) -> list[str]:
    """Command-line options of this plugin for a board-suite run (benchmarks and tests that
    start `pytest` themselves): the option names live here only."""
    args = [f"--board={board}"]
    if vectors is not None:
        args.append(f"--vectors={vectors}")
    if models:
        args.append(f"--model={','.join(models)}")
    if json_path is not None:
        args.append(f"--hil-json={json_path}")
    if config is not None:
        args.append(f"--hil-config={config}")
    return args


def _board_name(config) -> str:
    return config.getoption("--board") or DEFAULT_BOARD


def _models(config) -> list[str]:
    from hil.runner import default_models
    chosen = config.getoption("--model")
    if not chosen:
        try:   # a board whose image holds other models (fpga-sim) declares them
            return list(getattr(board_class(_board_name(config)), "default_models", None) or default_models())
        except Exception:  # noqa: BLE001 - an unknown board is reported by the hil_board fixture
            return default_models()
    return [m for c in chosen for m in c.split(",")]


def pytest_configure(config):
    config.addinivalue_line("markers", "hil_capability(name): skip unless the board has this capability")
    if config.pluginmanager.hasplugin("xdist"):
        from hil.xdist import XdistCollector
        _STATE["xdist"] = XdistCollector(_STATE)
        config.pluginmanager.register(_STATE["xdist"], "hil-xdist")


def pytest_generate_tests(metafunc):
    if "golden_vector" not in metafunc.fixturenames:
        return
    from golden import bundle
    from golden.paths import artifact_dir
    n = metafunc.config.getoption("--vectors")
    params, ids = [], []
    for name in _models(metafunc.config):
        total = bundle.read(artifact_dir(name)).manifest["test_vectors"]
        for i in range(total if n is None else min(n, total)):
            params.append((name, i))
            ids.append(f"{name}-{i}")
    metafunc.parametrize("golden_vector", params, ids=ids)


@pytest.fixture(scope="session")
def hil_board(request):
    """The board under test, opened once for the session and always closed."""
    from hil.lab_config import board_section
    name = _board_name(request.config)
    cls = board_class(name)
    from hil.workers import worker_count, worker_index
    section = board_section(request.config.getoption("--hil-config"), name).for_worker(
        worker_index(), worker_count(), name)     # pytest -n N: worker k takes unit k
    board = cls(BoardOptions(models=_models(request.config), config=section))
    board.open()
    _STATE["board"] = board
    try:      # JUnit XML metrics (absent with -p no:junitxml)
        _STATE["suite_property"] = request.getfixturevalue("record_testsuite_property")
    except pytest.FixtureLookupError:
        pass
    try:
        _start_recording(request.config, board)
        yield board
    finally:
        board.close()


def _start_recording(config, board) -> None:
    """With --hil-db (or $HIL_DB), commit every vector to the results store as it finishes."""
    import os
    path = config.getoption("--hil-db") or os.environ.get("HIL_DB")
    if not path or hasattr(config, "workerinput"):   # pytest -n: the controller records the merged run
        return
    from hil.results.baseline import Thresholds
    from hil.results.recorder import RunRecorder
    from hil.results.recording import lab_doc
    from hil.results.store import Store
    store = Store.open(path)
    th = Thresholds.from_config(lab_doc(config.getoption("--hil-config")).get("thresholds"))
    rec = RunRecorder(store, board, _models(config), config.getoption("--vectors"), th,
                      argv=list(config.invocation_params.args))
    _STATE["recorder"] = rec.__enter__()


@pytest.fixture(scope="session")
def dut(hil_board):
    return hil_board.device


@pytest.fixture(autouse=True)
def _hil_capability(request):
    marker = request.node.get_closest_marker("hil_capability")
    if marker is None:
        return
    board = request.getfixturevalue("hil_board")
    if marker.args[0] not in {c.value for c in board.capabilities}:
        pytest.skip(f"board {board.name} lacks capability '{marker.args[0]}'")


@pytest.fixture(scope="session")
def _model_runs(hil_board):
    return {}


@pytest.fixture
def hil_model(hil_board, _model_runs, golden_vector):
    from hil.runner import prepare
    name = golden_vector[0]
    if name not in _model_runs:
        _model_runs[name] = prepare(hil_board, name)
        _STATE["link0"][name] = (hil_board.link.bytes_in + hil_board.link.bytes_out,
                                 hil_board.device.payload_bytes, time.perf_counter())
    return _model_runs[name]


def record_vector(model: str, record, model_run) -> None:
    """Keep a vector's verdict (hil.compare.VectorVerdict) for the summary, the JSON results and the
    results store (--hil-db)."""
    _STATE["records"].setdefault(model, ([], model_run))[0].append(record)
    if _STATE.get("recorder") is not None:
        _STATE["recorder"].sink(model_run, record)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Assemble per-model results, judge them against the baseline, and put the metrics into the
    JUnit XML before it is written (tryfirst: ahead of the junitxml plugin)."""
    board, rec = _STATE.get("board"), _STATE.pop("recorder", None)
    if not _STATE["records"] or board is None or board.info is None:
        if rec is not None:
            _finish_recording(rec, exitstatus)
        return
    from hil.runner import assemble
    docs = []
    for name, (records, mr) in _STATE["records"].items():
        docs.append(assemble(board, mr, records, _STATE["link0"][name]))
    _STATE["docs"] = docs
    if rec is not None:
        for d in docs:
            rec.finish_model(d["model"], d)
        _finish_recording(rec, exitstatus)
        _STATE["regressions"] = rec.regression_lines()
        _STATE["db"] = str(rec.store.path)
    prop = _STATE.get("suite_property")
    if prop is not None:
        for d in docs:
            counts = [v.count for v in _STATE["records"][d["model"]][0] if v.count is not None]
            verdict = rec.verdicts.get(d["model"]) if rec is not None else None
            prop(f"hil.{d['model']}.vectors", d["vectors"])
            prop(f"hil.{d['model']}.int_mismatches", d["int_mismatches"])
            prop(f"hil.{d['model']}.accuracy.{d['accuracy'].get('metric', 'accuracy')}", d["accuracy"]["device"])
            if counts:
                import statistics
                prop(f"hil.{d['model']}.median_count", statistics.median(counts))
                prop(f"hil.{d['model']}.counter", board.info.counter)
            if verdict is not None:
                prop(f"hil.{d['model']}.regression", "yes" if verdict["regression"] else "no")
                prop(f"hil.{d['model']}.layers_moved", ",".join(verdict["layers_moved"]))
    if _STATE.get("regressions") and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _finish_recording(rec, exitstatus) -> None:
    """An interrupted session stays incomplete (resumable from the CLI); anything else is complete."""
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        rec.__exit__(KeyboardInterrupt, KeyboardInterrupt("pytest session interrupted"), None)
    else:
        rec.__exit__(None, None, None)
    rec.store.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput"):
        return                      # pytest -n: the controller merges and writes (hil/xdist.py)
    docs = _STATE.get("docs")
    if not docs:
        return
    from hil.report import results_table
    path = Path(config.getoption("--hil-json"))
    path.write_text(json.dumps(dict(format="hil-session", version=1, runs=docs), indent=1, default=float) + "\n")
    results_table(docs, terminalreporter._tw)
    terminalreporter.write_line(f"hil: results written to {path}")
    if _STATE.get("db"):
        terminalreporter.write_line(f"hil: run recorded in {_STATE['db']}")
    regressions = _STATE.get("regressions") or []
    for line in regressions:
        terminalreporter.write_line(f"hil: {line}", red=True, bold=True)
    if regressions:
        terminalreporter.write_line(f"hil: {len(regressions)} regression finding(s) against the baseline: "
                                    f"the session fails (`hil compare` shows the deltas)", red=True, bold=True)
