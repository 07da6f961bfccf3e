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

The session's state lives on one `HilSession` object, registered as a plugin
(`config.pluginmanager.register`) in `pytest_configure`; the hooks are its
methods, and the fixtures reach it through `config.stash`.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hil.boards import DEFAULT_BOARD, BoardOptions, board_class
from hil.cli_args import positive_int

if TYPE_CHECKING:
    from hil.results.baseline import Verdict

# (alias, dest, addoption keywords): added after the initial conftests, and only if free.
_ALIASES = (
    ("--board", "hil_board", dict(default=None, help="alias of --hil-board")),
    ("--vectors", "hil_vectors", dict(type=positive_int, default=None, help="alias of --hil-vectors")),
    ("--model", "hil_model", dict(action="append", default=None, help="alias of --hil-model")),
)
SESSION_KEY = pytest.StashKey["HilSession"]()


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
    """--board/--vectors/--model, each only if no plugin or conftest has the name: pytest (>= 9)
    adds an option to argparse at once, which refuses a name that is taken."""
    g = parser.getgroup("hil")
    for alias, dest, kw in _ALIASES:
        try:
            g.addoption(alias, dest=dest, **kw)
        except (argparse.ArgumentError, ValueError):     # taken: the repository's own option stays
            pass


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


def pytest_configure(config):
    from hil.errors import HilError
    from hil.settings import resolve
    ini_vectors, ini_artifacts = config.getini("hil_vectors"), config.getini("hil_artifacts")
    try:
        settings = resolve(
            board=config.getoption("hil_board"), models=config.getoption("hil_model"),
            vectors=config.getoption("hil_vectors"), artifacts=config.getoption("--hil-artifacts"),
            db=config.getoption("--hil-db"), config=config.getoption("--hil-config"),
            ini_board=config.getini("hil_board"), ini_models=config.getini("hil_models"),
            ini_vectors=positive_int(ini_vectors) if ini_vectors else None,
            ini_artifacts=Path(config.inipath).parent / ini_artifacts if ini_artifacts else None,
            # the store as the session was started (--hil-db, else $HIL_DB then): fixtures that change
            # the environment later (a suite's own tmp $HIL_DB for the CLI runs it starts) do not move it
            db_from_lab=False, db_default=None)
        settings.apply_artifacts()
    except (HilError, ValueError, argparse.ArgumentTypeError) as exc:   # a bad lab config or ini value: one line
        raise pytest.UsageError(f"hil: {exc}") from None
    from golden.names import BadName, check as check_name
    for m in settings.models:
        try:
            check_name(m)
        except BadName as exc:
            raise pytest.UsageError(f"--hil-model: {exc}") from None
    config.addinivalue_line("markers", "hil_capability(name): skip unless the board has this capability")
    config.addinivalue_line("markers", "hil_model(name, ...): run this test's golden vectors on these models")
    session = HilSession(config, settings)
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "hil-session")


def hil_session(config) -> "HilSession":
    """The session object of this pytest run."""
    return config.stash[SESSION_KEY]


class HilSession:
    """What one pytest session knows about its board and its results; its methods are hooks."""

    def __init__(self, config, settings):
        self.config = config
        self.settings = settings                # hil.settings.Settings: board, models, vectors, db, lab config
        self.db_path = settings.db
        self.board = None                       # the opened hil.boards.base.Board
        self.board_down: str | None = None      # why board tests are skipped from now on
        self.records: dict = {}                 # model -> [VectorVerdict]
        self.model_runs: dict = {}              # model -> ModelRun
        self.failed: dict = {}                  # model -> [FailedVector]
        self.link0: dict = {}                   # model -> hil.runner.link_mark()
        self.marked: list[str] = []             # models named by @pytest.mark.hil_model
        self.layer_vectors: dict = {}           # model -> indices reading per-layer figures
        self.recorder = None                    # RunRecorder with --hil-db
        self.suite_property = None              # record_testsuite_property (JUnit XML)
        self.results: list = []                 # ModelResult per model, at the end
        self.regressions: list[str] = []
        self.db: str | None = None
        self.payloads: list[str] = []           # pytest -n: the workers' results (controller)
        self.warnings: list[str] = []

    # -- what the options say ------------------------------------------------------------------

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def board_name(self) -> str:
        return self.settings.board

    def vectors(self) -> int | None:
        return self.settings.vectors

    def models(self) -> list[str]:
        from hil.errors import HilError
        from hil.runner import default_models
        models = list(self.settings.models)
        if not models:
            try:   # a board whose image holds other models (fpga-sim) declares them
                models = list(board_class(self.board_name()).default_models or default_models())
            except HilError:      # an unknown board is reported by the hil_board fixture
                models = default_models()
        return models + [m for m in self.marked if m not in models]

    # -- collection ------------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc):
        if "golden_vector" not in metafunc.fixturenames:
            return
        from golden import bundle, subset
        from golden.paths import artifact_dir
        marker = metafunc.definition.get_closest_marker("hil_model")
        names = list(marker.args) if marker else self.models()
        if marker:   # the board's firmware must hold them too
            self.marked += [m for m in marker.args if m not in self.marked]
        n = self.vectors()
        params, ids = [], []
        for name in names:
            labels = bundle.read(artifact_dir(name)).labels
            for i in subset.select(labels, n).tolist():
                params.append((name, i))
                ids.append(f"{name}-{i}")
        metafunc.parametrize("golden_vector", params, ids=ids)

    def pytest_collection_finish(self, session):
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
        self.layer_vectors = {name: first_vectors(list(idx)) for name, idx in order.items()}

    # -- the board -------------------------------------------------------------------------------

    def open_board(self):
        """Build, deploy and open the session's board; a problem fails this test in one line."""
        from hil.errors import HilError
        from hil.workers import worker_count, worker_index
        name = self.board_name()
        board, problem = None, None
        try:
            cls = board_class(name)
            section = self.settings.board_config(name).for_worker(
                worker_index(), worker_count(), name)     # pytest -n N: worker k takes unit k
            board = cls(BoardOptions(models=self.models(), config=section))
            board.open()
            self.board = board
            self.start_recording(board)
        except HilError as exc:
            problem = str(exc)
        if problem:
            if board is not None:
                board.close()
            self.fail_board(problem)     # outside the except: one line, no chained traceback
        return board

    def fail_board(self, message: str) -> None:
        """Fail this test with `message` (no traceback); later board tests are skipped."""
        self.board_down = message
        pytest.fail(f"hil: {message}", pytrace=False)

    def start_recording(self, board) -> None:
        """With --hil-db (or $HIL_DB), commit every vector to the results store as it finishes."""
        if not self.db_path or self.is_worker:   # pytest -n: the controller records the merged run
            return
        from hil.results.recorder import RunRecorder
        from hil.results.store import Store
        store = Store.open(self.db_path)
        rec = RunRecorder(store, board.identity(), self.models(), self.vectors(), self.thresholds(),
                          argv=list(self.config.invocation_params.args), logs=board.logs)
        self.recorder = rec.__enter__()

    def thresholds(self):
        return self.settings.thresholds

    def model_run(self, board, name: str):
        """The ModelRun of `name` on the session's board, prepared once."""
        from hil.runner import link_mark, prepare
        if name not in self.model_runs:
            self.model_runs[name] = prepare(board, name)
            self.model_runs[name].layer_vectors = self.layer_vectors.get(name)
            self.link0[name] = link_mark(board)
        return self.model_runs[name]

    def record(self, model_run, verdict) -> None:
        """Keep a vector's verdict for the summary, the JSON results and the results store."""
        self.model_runs.setdefault(model_run.name, model_run)
        self.records.setdefault(model_run.name, []).append(verdict)
        if self.recorder is not None:
            self.recorder.sink(model_run, verdict)

    # -- per test --------------------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        outcome = yield
        from hil.boards.base import BoardError
        exc = outcome.excinfo[1] if outcome.excinfo else None
        if isinstance(exc, BoardError) and "hil_board" in getattr(item, "fixturenames", ()):
            self.board_down = str(exc)    # e.g. dead after its restarts: skip the rest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        """A golden-vector test that failed without recording a verdict (an error, a
        device that died on it) is listed as a failed vector, not judged."""
        from hil.results.model_result import FailedVector
        outcome = yield
        report = outcome.get_result()
        params = getattr(getattr(item, "callspec", None), "params", {})
        if call.when != "call" or not report.failed or "golden_vector" not in params:
            return
        name, index = params["golden_vector"]
        mr = self.model_runs.get(name) or item.funcargs.get("hil_model")
        if mr is None or any(v.index == index for v in self.records.get(name, [])):
            return
        self.model_runs.setdefault(name, mr)
        self.records.setdefault(name, [])
        first = str(call.excinfo.value).strip().splitlines()
        self.failed.setdefault(name, []).append(
            FailedVector(index, f"{call.excinfo.typename}: {first[0] if first else ''}"))

    # -- the end ---------------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        """pytest -n (controller): a worker's results (hil/xdist.py)."""
        from hil.xdist import PAYLOAD_KEY
        payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
        if payload:
            self.payloads.append(payload)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus):
        """Assemble per-model results, judge them against the baseline, and put the metrics into the
        JUnit XML before it is written (tryfirst: ahead of the junitxml plugin)."""
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:       # an xdist worker: hand the controller what it ran
            if self.board is not None and self.board.info is not None and self.records:
                from hil.xdist import PAYLOAD_KEY, worker_payload
                workeroutput[PAYLOAD_KEY] = worker_payload(self.board, self.records, self.link0)
            return
        if self.payloads:                  # the xdist controller: one merged result
            self.merge_workers(session)
            return
        board, rec, self.recorder = self.board, self.recorder, None
        if not self.records or board is None or board.info is None:
            if rec is not None:
                _finish_recording(rec, exitstatus)
            return
        from hil.runner import assemble, link_report, restarts_of
        identity = board.identity()
        self.results = [assemble(identity, self.model_runs[name], records, link_report(board, self.link0[name]),
                                 self.failed.get(name, []), restarts_of(board, name),
                                 aborted=self.board_down)   # dead after its restarts: the stored run stays resumable
                        for name, records in self.records.items()]
        if rec is not None:
            for r in self.results:
                rec.finish_model(r.model, r)
            _finish_recording(rec, exitstatus)
            self.regressions = rec.regression_lines()
            self.db = str(rec.store.path)
        if self.suite_property is not None:
            for r in self.results:
                self._suite_properties(r, identity.counter, rec.verdicts.get(r.model) if rec is not None else None)
        self.fail_on_findings(session)

    def fail_on_findings(self, session) -> None:
        """A regression against the baseline, or a .tflite model not bit-exact against TFLite Micro,
        fails a session whose tests passed."""
        from hil.board_cli import tflm_failed
        failed = self.regressions or any(tflm_failed(r) for r in self.results)
        if failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _suite_properties(self, r, counter: str, verdict: Verdict | None) -> None:
        prop, m = self.suite_property, r.model
        counts = [v.count for v in self.records[m] if v.count is not None]
        prop(f"hil.{m}.vectors", r.vectors)
        prop(f"hil.{m}.int_mismatches", r.int_mismatches)
        prop(f"hil.{m}.accuracy.{r.accuracy.metric}", r.accuracy.device)
        if counts:
            prop(f"hil.{m}.median_count", statistics.median(counts))
            prop(f"hil.{m}.counter", counter)
        if verdict is not None:
            prop(f"hil.{m}.regression", "yes" if verdict.regression else "no")
            prop(f"hil.{m}.layers_moved", ",".join(verdict.layers_moved))

    def merge_workers(self, session) -> None:
        """pytest -n: the workers' results as one per model, and with --hil-db ONE run in the
        results store, judged against its baseline."""
        from hil.xdist import merge
        merged = merge(self.payloads)
        self.results, self.warnings = merged.results, merged.warnings
        if not self.db_path:       # --hil-db, else $HIL_DB as the session started
            self.fail_on_findings(session)
            return
        from hil.results.recorder import RunRecorder
        from hil.results.store import Store
        store = Store.open(self.db_path)
        try:
            with RunRecorder(store, merged.identity, list(merged.runs), self.settings.vectors,
                             self.thresholds(), argv=list(self.config.invocation_params.args),
                             logs=lambda: merged.logs) as rec:
                for r in self.results:
                    mr, verdicts = merged.runs[r.model]
                    for v in verdicts:
                        rec.sink(mr, v)
                    rec.finish_model(r.model, r)
        finally:
            store.close()
        self.db = str(store.path)
        self.regressions = rec.regression_lines()
        self.fail_on_findings(session)

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        for w in self.warnings:
            terminalreporter.write_line(f"hil: warning: {w}", yellow=True)
        if self.is_worker or not self.results:
            return                      # pytest -n: the controller merges and writes (hil/xdist.py)
        from hil.report import results_table
        path = Path(config.getoption("--hil-json"))
        path.write_text(json.dumps(dict(format="hil-session", version=1, runs=[r.to_json() for r in self.results]),
                                   indent=1, default=float) + "\n")
        results_table(self.results, terminalreporter, config.get_terminal_writer().fullwidth)
        self._write_tflm_lines(terminalreporter)
        terminalreporter.write_line(f"hil: results written to {path}")
        if self.db:
            terminalreporter.write_line(f"hil: run recorded in {self.db}")
        for line in self.regressions:
            terminalreporter.write_line(f"hil: {line}", red=True, bold=True)
        if self.regressions:
            terminalreporter.write_line(f"hil: {len(self.regressions)} regression finding(s) against the baseline: "
                                        f"the session fails (`hil compare` shows the deltas)", red=True, bold=True)


    def _write_tflm_lines(self, terminalreporter) -> None:
        """Models imported from a .tflite: device and integer simulator against TFLite Micro."""
        from hil.board_cli import tflm_failed
        from hil.tflm_check import summary_line
        for r in self.results:
            line = summary_line(r)
            if line:
                terminalreporter.write_line(f"hil: {line}", red=tflm_failed(r), green=not tflm_failed(r))
                for detail in r.tflm.details:
                    terminalreporter.write_line(f"hil:   {detail}", red=True)


def _finish_recording(rec, exitstatus) -> None:
    """An interrupted session stays incomplete (resumable from the CLI); anything else is complete."""
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        rec.__exit__(KeyboardInterrupt, KeyboardInterrupt("pytest session interrupted"), None)
    else:
        rec.__exit__(None, None, None)
    rec.store.close()


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _hil_session_board(request):
    session = hil_session(request.config)
    board = session.open_board()
    try:      # JUnit XML metrics (absent with -p no:junitxml)
        session.suite_property = request.getfixturevalue("record_testsuite_property")
    except pytest.FixtureLookupError:
        pass
    try:
        yield board
    finally:
        board.close()


@pytest.fixture
def hil_board(request):
    """The board under test, opened once for the session and always closed."""
    down = hil_session(request.config).board_down
    if down:
        pytest.skip(f"hil: board unavailable: {down[:160]} (see the first failure)")
    return request.getfixturevalue("_hil_session_board")


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


@pytest.fixture
def hil_model(request, hil_board, golden_vector):
    return hil_session(request.config).model_run(hil_board, golden_vector[0])


@pytest.fixture
def hil_record(request):
    """`hil_record(verdict, model_run=None)`: count a vector in the summary and the JSON.

    ``verdict`` is what `hil.runner.run_vector` returns; ``model_run``
    defaults to this test's `hil_model`.
    """
    session = hil_session(request.config)

    def record(verdict, model_run=None) -> None:
        session.record(model_run if model_run is not None else request.getfixturevalue("hil_model"), verdict)
    return record
