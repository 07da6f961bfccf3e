"""pytest plugin: `pytest --board=<name>` in any repository that installs hil.

Options all start with `--hil-` so they cannot collide with a repository's
own: --hil-board (default: the emulated stm32f4-qemu), --hil-config (lab
config file), --hil-vectors N (a seeded, class-stratified subset; default:
all), --hil-model (repeatable), --hil-json (results file), --hil-db
(results store: every vector committed as it finishes, the session judged
against its baseline; a regression fails the session, and per-model metrics
go into the JUnit XML as testsuite properties `hil.<model>.*`). The short
spellings --board, --vectors and --model are added as aliases only when no
conftest of the repository has taken them. ini options `hil_board`,
`hil_models`, `hil_vectors` set defaults; `@pytest.mark.hil_model(name, ...)`
picks the models of one test. Fixtures (docs/writing-tests.md):

* `hil_board`  session-scoped `hil.boards.base.Board`: built, deployed and connected once
* `dut`        the connected `hil.device.Device`
* `hil_model`  `hil.runner.ModelRun`: golden references + the device's model entry
* `golden_vector`  parametrised `(model, index)`: a failing test names its vector
* `hil_record` records a vector's verdict for the summary table and the JSON

A rich summary table is printed at the end and results are written as JSON.

A board-level problem (unknown board, no probe, toolchain missing, firmware
build failed, device dead after its restarts) fails the first test that needs
the board with one clear message; every later board test is skipped with a
one-line reason pointing at it, instead of repeating the error per test.

With `pytest -n N` (pytest-xdist) every worker has its own board and the
results merge into one table, one JSON and one run in the results store
(hil/xdist.py).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hil.boards import DEFAULT_BOARD, BoardOptions, board_class
from hil.cli_args import positive_int

_STATE: dict = {"records": {}, "failed": {}, "board": None, "link0": {}, "marked": [], "board_down": None,
                "layer_vectors": {}}


# (alias, dest, addoption keywords): added after the initial conftests, and only if free.
_ALIASES = (
    ("--board", "hil_board", dict(default=None, help="alias of --hil-board")),
    ("--vectors", "hil_vectors", dict(type=positive_int, default=None, help="alias of --hil-vectors")),
    ("--model", "hil_model", dict(action="append", default=None, help="alias of --hil-model")),
)


def pytest_addoption(parser):
    g = parser.getgroup("hil", "hardware-in-the-loop")
    g.addoption("--hil-board", dest="hil_board", default=None,
                help=f"board to test on (default {DEFAULT_BOARD}; `hil boards` lists them)")
    g.addoption("--hil-config", default=None, help="lab config file (TOML) binding boards to probes and ports")
    g.addoption("--hil-vectors", dest="hil_vectors", type=positive_int, default=None,
                help="golden vectors per model: a seeded, class-stratified subset (default: all)")
    g.addoption("--hil-model", dest="hil_model", action="append", default=None,
                help="model(s) to test (default: all on the board)")
    g.addoption("--hil-json", default="hil-results.json", help="where to write the results JSON")
    g.addoption("--hil-artifacts", default=None,
                help="artifacts root with the golden models (default: $HIL_ARTIFACTS, ini hil_artifacts, "
                     "the lab config's `artifacts`, else the built-in ones)")
    g.addoption("--hil-db", default=None, help="record the session in this results store (SQLite; "
                "default $HIL_DB if set, else not recorded); a regression against the baseline fails the session")
    parser.addini("hil_board", "default board for --hil-board")
    parser.addini("hil_artifacts", "artifacts root, relative to the ini file")
    parser.addini("hil_models", "default models for --hil-model", type="linelist")
    parser.addini("hil_vectors", "default for --hil-vectors")


def add_aliases(parser) -> None:
    """--board/--vectors/--model, each only if no plugin or conftest has the name."""
    taken = {n for grp in parser._groups for opt in grp.options for n in opt.names()}
    taken |= {n for opt in parser._anonymous.options for n in opt.names()}
    g = parser.getgroup("hil")
    for alias, dest, kw in _ALIASES:
        if alias not in taken:
            g.addoption(alias, dest=dest, **kw)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # After the repository's own conftest.py has added its options: a repo
    # whose conftest defines --model keeps it, and --hil-model still works.
    result = yield
    add_aliases(parser)
    return result


def suite_args(board: str, vectors: int | None = None, models: list[str] | None = None,
               json_path=None, config=None) -> list[str]:
    """Command-line options of this plugin for a board-suite run (benchmarks and tests that
    start `pytest` themselves): the option names live here only."""
    args = [f"--hil-board={board}"]
    if vectors is not None:
        args.append(f"--hil-vectors={vectors}")
    if models:
        args.append(f"--hil-model={','.join(models)}")
    if json_path is not None:
        args.append(f"--hil-json={json_path}")
    if config is not None:
        args.append(f"--hil-config={config}")
    return args


def _board_name(config) -> str:
    return config.getoption("hil_board") or config.getini("hil_board") or DEFAULT_BOARD


def _vectors(config) -> int | None:
    n = config.getoption("hil_vectors")
    if n is None and config.getini("hil_vectors"):
        n = int(config.getini("hil_vectors"))
    return n


def _models(config) -> list[str]:
    from hil.runner import default_models
    chosen = config.getoption("hil_model") or config.getini("hil_models")
    if not chosen:
        try:   # a board whose image holds other models (fpga-sim) declares them
            models = list(getattr(board_class(_board_name(config)), "default_models", None) or default_models())
        except Exception:  # noqa: BLE001 - an unknown board is reported by the hil_board fixture
            models = default_models()
    else:
        models = [m for c in chosen for m in c.split(",") if m]
    return models + [m for m in _STATE["marked"] if m not in models]


def pytest_configure(config):
    from hil.lab_config import apply_artifacts_root
    # the store as the session was started (--hil-db, else $HIL_DB then): fixtures that change the
    # environment later (a test suite's own tmp $HIL_DB for the CLI runs it starts) do not move it
    _STATE["db_path"] = config.getoption("--hil-db") or os.environ.get("HIL_DB")
    option = config.getoption("--hil-artifacts")
    if not option and config.getini("hil_artifacts") and not os.environ.get("HIL_ARTIFACTS"):
        option = Path(config.inipath).parent / config.getini("hil_artifacts")
    try:
        apply_artifacts_root(option, config.getoption("--hil-config"))
    except Exception:  # noqa: BLE001 - a bad lab config is reported by the hil_board fixture
        pass
    from golden.names import BadName, check as check_name
    for m in [m for c in (config.getoption("hil_model") or []) for m in c.split(",") if m]:
        try:
            check_name(m)
        except BadName as exc:
            raise pytest.UsageError(f"--hil-model: {exc}") from None
    config.addinivalue_line("markers", "hil_capability(name): skip unless the board has this capability")
    config.addinivalue_line("markers", "hil_model(name, ...): run this test's golden vectors on these models")
    if config.pluginmanager.hasplugin("xdist"):
        from hil.xdist import XdistCollector
        _STATE["xdist"] = XdistCollector(_STATE)
        config.pluginmanager.register(_STATE["xdist"], "hil-xdist")


def pytest_generate_tests(metafunc):
    if "golden_vector" not in metafunc.fixturenames:
        return
    from golden import bundle, subset
    from golden.paths import artifact_dir
    marker = metafunc.definition.get_closest_marker("hil_model")
    names = list(marker.args) if marker else _models(metafunc.config)
    if marker:   # the board's firmware must hold them too
        _STATE["marked"] += [m for m in marker.args if m not in _STATE["marked"]]
    n = _vectors(metafunc.config)
    params, ids = [], []
    for name in names:
        labels = bundle.read(artifact_dir(name)).labels
        for i in subset.select(labels, n).tolist():
            params.append((name, i))
            ids.append(f"{name}-{i}")
    metafunc.parametrize("golden_vector", params, ids=ids)


def pytest_collection_finish(session):
    """Per model, the first LAYER_COUNT_VECTORS golden vectors collected (after -k and other
    deselection) read per-layer figures. Every xdist worker collects the same items, so the
    workers' shares add up to these, whichever worker runs them."""
    from hil.runner import first_vectors
    order: dict[str, dict[int, None]] = {}      # model -> indices in collection order (dict: ordered set)
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "golden_vector" in params:
            name, index = params["golden_vector"]
            order.setdefault(name, {})[index] = None
    _STATE["layer_vectors"] = {name: first_vectors(list(idx)) for name, idx in order.items()}


def _board_down(message: str) -> None:
    """Fail this test with `message` (no traceback); later board tests are skipped."""
    _STATE["board_down"] = message
    pytest.fail(f"hil: {message}", pytrace=False)


@pytest.fixture(scope="session")
def _hil_session_board(request):
    from hil.errors import HilError
    from hil.lab_config import board_section
    name = _board_name(request.config)
    board, problem = None, None
    try:
        cls = board_class(name)
        from hil.workers import worker_count, worker_index
        section = board_section(request.config.getoption("--hil-config"), name).for_worker(
            worker_index(), worker_count(), name)     # pytest -n N: worker k takes unit k
        board = cls(BoardOptions(models=_models(request.config), config=section))
        board.open()
        _STATE["board"] = board
        _start_recording(request.config, board)
    except HilError as exc:
        problem = str(exc)
    if problem:
        if board is not None:
            board.close()
        _board_down(problem)     # outside the except: one line, no chained traceback
    try:      # JUnit XML metrics (absent with -p no:junitxml)
        _STATE["suite_property"] = request.getfixturevalue("record_testsuite_property")
    except pytest.FixtureLookupError:
        pass
    try:
        yield board
    finally:
        board.close()


@pytest.fixture
def hil_board(request):
    """The board under test, opened once for the session and always closed."""
    if _STATE["board_down"]:
        pytest.skip(f"hil: board unavailable: {_STATE['board_down'][:160]} (see the first failure)")
    return request.getfixturevalue("_hil_session_board")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    outcome = yield
    from hil.boards.base import BoardError
    exc = outcome.excinfo[1] if outcome.excinfo else None
    if isinstance(exc, BoardError) and "hil_board" in getattr(item, "fixturenames", ()):
        _STATE["board_down"] = str(exc)    # e.g. dead after its restarts: skip the rest


def _start_recording(config, board) -> None:
    """With --hil-db (or $HIL_DB), commit every vector to the results store as it finishes."""
    path = _STATE.get("db_path")
    if not path or hasattr(config, "workerinput"):   # pytest -n: the controller records the merged run
        return
    from hil.results.baseline import Thresholds
    from hil.results.recorder import RunRecorder
    from hil.results.recording import lab_doc
    from hil.results.store import Store
    store = Store.open(path)
    th = Thresholds.from_config(lab_doc(config.getoption("--hil-config")).get("thresholds"))
    rec = RunRecorder(store, board, _models(config), _vectors(config), th,
                      argv=list(config.invocation_params.args))
    _STATE["recorder"] = rec.__enter__()


@pytest.fixture
def dut(hil_board):
    return hil_board.device       # per test: a restart replaces the Device


@pytest.fixture(autouse=True)
def _hil_capability(request):
    marker = request.node.get_closest_marker("hil_capability")
    if marker is None:
        return
    board = request.getfixturevalue("hil_board")
    if marker.args[0] not in {c.value for c in board.capabilities}:
        pytest.skip(f"board {board.name} lacks capability '{marker.args[0]}'")


@pytest.fixture(scope="session")
def _model_runs(_hil_session_board):
    return {}


@pytest.fixture
def hil_model(hil_board, _model_runs, golden_vector):
    from hil.runner import link_mark, prepare
    name = golden_vector[0]
    if name not in _model_runs:
        _model_runs[name] = prepare(hil_board, name)
        _model_runs[name].layer_vectors = _STATE["layer_vectors"].get(name)
        _STATE["link0"][name] = link_mark(hil_board)
    return _model_runs[name]


def record_vector(model: str, record, model_run) -> None:
    """Keep a vector's verdict (hil.compare.VectorVerdict) for the summary, the JSON results and the
    results store (--hil-db)."""
    _STATE["records"].setdefault(model, ([], model_run))[0].append(record)
    if _STATE.get("recorder") is not None:
        _STATE["recorder"].sink(model_run, record)


@pytest.fixture
def hil_record(request):
    """`hil_record(verdict, model_run=None)`: count a vector in the summary and the JSON.

    ``verdict`` is what `hil.runner.run_vector` returns; ``model_run``
    defaults to this test's `hil_model`.
    """
    def record(verdict, model_run=None) -> None:
        mr = model_run if model_run is not None else request.getfixturevalue("hil_model")
        record_vector(mr.name, verdict, mr)
    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A golden-vector test that failed without recording a verdict (an error, a
    device that died on it) is listed as a failed vector, not judged."""
    outcome = yield
    report = outcome.get_result()
    params = getattr(getattr(item, "callspec", None), "params", {})
    if call.when != "call" or not report.failed or "golden_vector" not in params:
        return
    name, index = params["golden_vector"]
    records, mr = _STATE["records"].get(name, ([], None))
    mr = mr or item.funcargs.get("hil_model")
    if mr is None or any(r.index == index for r in records):
        return
    _STATE["records"].setdefault(name, ([], mr))
    first = str(call.excinfo.value).strip().splitlines()
    _STATE["failed"].setdefault(name, []).append(
        dict(index=index, error=f"{call.excinfo.typename}: {first[0] if first else ''}"))


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
        docs.append(assemble(board, mr, records, _STATE["link0"][name], _STATE["failed"].get(name, [])))
        docs[-1]["aborted"] = _STATE["board_down"]     # dead after its restarts: the stored run stays resumable
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
    from hil.board_cli import tflm_failed      # a .tflite model not bit-exact against TFLite Micro fails too
    if any(tflm_failed(d) for d in docs) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _write_tflm_lines(terminalreporter, docs: list[dict]) -> None:
    """Models imported from a .tflite: device and integer simulator against TFLite Micro."""
    from hil.board_cli import tflm_failed
    from hil.tflm_check import summary_line
    for d in docs:
        line = summary_line(d)
        if line:
            terminalreporter.write_line(f"hil: {line}", red=tflm_failed(d), green=not tflm_failed(d))
            for detail in d["tflm"]["details"]:
                terminalreporter.write_line(f"hil:   {detail}", red=True)


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
    _write_tflm_lines(terminalreporter, docs)
    terminalreporter.write_line(f"hil: results written to {path}")
    if _STATE.get("db"):
        terminalreporter.write_line(f"hil: run recorded in {_STATE['db']}")
    regressions = _STATE.get("regressions") or []
    for line in regressions:
        terminalreporter.write_line(f"hil: {line}", red=True, bold=True)
    if regressions:
        terminalreporter.write_line(f"hil: {len(regressions)} regression finding(s) against the baseline: "
                                    f"the session fails (`hil compare` shows the deltas)", red=True, bold=True)
