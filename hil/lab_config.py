"""The lab config file: which physical board is which, validated into typed records.

TOML, one table per board name, e.g.

    [boards.stm32f4]
    probe_uid = "066DFF485550755187121723"   # ST-LINK unique ID (`hil boards` lists attached probes)
    port = "/dev/ttyACM0"                     # optional: found from the probe's USB serial if omitted
    baud = 115200

An optional top-level key names the artifacts root of the lab's models
(golden.paths; relative to the config file):

    artifacts = "models"

Boards are bound by probe unique ID, not by port name, because identical
boards swap /dev/ttyACM* names between boots. Looked up from --hil-config,
else $HIL_CONFIG, else ./hil-lab.toml; no file means defaults.

Several boards of one kind on this host (`pytest -n N`: worker k takes unit k):

    [[boards.stm32f4.units]]
    probe_uid = "066DFF485550755187121723"
    [[boards.stm32f4.units]]
    probe_uid = "0670FF495051717867221842"
    clock_hz = 180000000

Boards on labgrid places, anywhere in the lab (hil/boards/labgrid_place.py):

    [boards.labgrid]
    coordinator = "labhost:20408"
    tags = { board = "stm32f4" }         # or: place = "bench-3"
    [boards.labgrid.places.bench-3]
    probe_uid = "066DFF485550755187121723"
    clock_hz = 180000000

What the nightly run tests (the schema of `hil nightly`, issue 9):

    [nightly]
    vectors = 200                          # per model; omit for all
    report = "nightly-report.html"
    [[nightly.run]]
    board = "labgrid"
    models = ["mnist_lenet", "kws_dscnn"]  # omit for the board's default models
"""
from __future__ import annotations

import dataclasses
import functools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hil.errors import ConfigError


@dataclass(frozen=True)
class BoardConfig:
    """One `[boards.<name>]` table. Each board class reads the fields it needs."""
    probe_uid: str | None = None      # debug probe unique ID (real STM32 boards)
    port: str | None = None           # serial port; found from the probe / FTDI serial if omitted
    baud: int = 115200
    clock_hz: int | None = None       # core clock, if the board runs at another than the firmware's default
    serial: str | None = None         # FTDI serial number (FPGA boards)
    bitstream: str | None = None      # FPGA bitstream file
    load_timeout: float = 120.0       # seconds for openFPGALoader
    boot_delay: float = 0.5           # seconds after loading a bitstream
    calibration: tuple[str, ...] = () # csynth calibration JSON files (fpga-sim)
    kernels: str = "opt"              # STM32 firmware: "opt" (Cortex-M4 DSP kernels) or "ref" (plain C)
    coordinator: str | None = None    # labgrid coordinator HOST:PORT (labgrid board)
    place: str | None = None          # labgrid place name (labgrid board) ...
    tags: dict[str, str] = field(default_factory=dict)    # ... or the tags of a place to reserve
    wait: float = 300.0               # seconds to wait for a reserved place
    places: dict[str, "PlaceConfig"] = field(default_factory=dict)   # [boards.labgrid.places.<name>]
    units: tuple[dict, ...] = ()      # [[boards.<name>.units]]: one board each, keys as above
    usb: str | None = None            # USB "VID:PID" (hex) that finds the port (MLPerf Tiny boards)
    model: str | None = None          # the model an MLPerf Tiny device's firmware runs

    def for_worker(self, index: int, count: int, name: str = "?") -> "BoardConfig":
        """Unit `index` of `count` parallel workers (its keys over the table's); no units: self."""
        if not self.units:
            return self
        if count > len(self.units):
            raise ConfigError(f"lab config: {count} parallel workers need {count} units of board '{name}' "
                              f"([[boards.{name}.units]]), the lab config has {len(self.units)}")
        return dataclasses.replace(self, units=(), **self.units[index])

    def place_config(self, place: str) -> "PlaceConfig":
        return self.places.get(place, PlaceConfig())


@dataclass(frozen=True)
class PlaceConfig:
    """One `[boards.labgrid.places.<name>]` table: what hil knows of a labgrid place."""
    board: str | None = None          # the hil board kind on it (checked against the place's board tag)
    probe_uid: str | None = None      # its debug probe (the exporter's USBDebugger matches the same ID)
    clock_hz: int | None = None


@dataclass(frozen=True)
class NightlyRun:
    """One `[[nightly.run]]` table: a board and the models the nightly job runs on it."""
    board: str = ""
    models: tuple[str, ...] | None = None    # None: the board's default models

    @classmethod
    def from_toml(cls, table, where: str, known: list[str]) -> "NightlyRun":
        """The run of one `[[nightly.run]]` table (`where` names it in errors); `known`: the built models."""
        if isinstance(table, dict) and not table.get("board"):
            odd = sorted(set(table) - {"board", "models"})
            raise ConfigError(f"{where}: needs board = \"<name>\" (`hil boards` lists them)"
                              + (f"; unknown key(s) {', '.join(odd)}" if odd else ""))
        run = cls(**_record(cls, table, where))
        _name(run.board, "board", f"{where}.board")
        _check_board_name(run.board, f"{where}.board")
        for m in run.models or ():
            _name(m, "model", f"{where}.models")
        bad = [m for m in run.models or () if m not in known]
        if bad:
            raise ConfigError(f"{where}.models: no quantized artifact for {', '.join(bad)}; built: "
                              f"{', '.join(known) or 'none'} (`hil golden build`)")
        return run


@dataclass(frozen=True)
class NightlyConfig:
    """The `[nightly]` table: what the nightly regression run tests."""
    vectors: int | None = None        # per model; None: all
    report: str | None = None         # HTML report path
    run: tuple[NightlyRun, ...] | None = None     # None (no `run` key): every board the lab config names


@dataclass(frozen=True)
class LabConfig:
    path: Path | None = None
    boards: dict[str, BoardConfig] = field(default_factory=dict)
    nightly: NightlyConfig = field(default_factory=NightlyConfig)
    artifacts: Path | None = None     # artifacts root (golden.paths), resolved against the file's folder
    raw: dict = field(default_factory=dict)    # the parsed TOML (db, thresholds: read by hil/results)

    def board(self, name: str) -> BoardConfig:
        return self.boards.get(name, BoardConfig())


# db and thresholds belong to the results store and are checked there (hil/results:
# default_path, Thresholds.from_config); [nightly] is typed here (NightlyConfig) and
# run by hil/results/nightly.py; artifacts is the artifacts root (golden.paths), read
# by apply_artifacts_root().
_TOP_KEYS = {"boards", "artifacts", "db", "nightly", "thresholds"}
_NESTED = {"places", "units", "tags"}       # BoardConfig fields checked by _nested()
_POSITIVE = {"baud", "clock_hz", "load_timeout", "vectors"}   # numbers that must be > 0 (the rest >= 0)


def _typed(value, ftype: str, where: str):
    """Check a TOML value against the annotation `ftype` (as written in BoardConfig)."""
    kinds = {"str": str, "int": int, "float": (int, float)}
    base = ftype.replace(" | None", "")
    if value is None and "None" in ftype:
        return None
    if base.startswith("tuple["):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    want = kinds[base]
    if isinstance(value, bool) or not isinstance(value, want):
        raise ConfigError(f"{where}: expected {'a number' if base == 'float' else 'an integer' if base == 'int' else 'a string'}, "
                          f"got {type(value).__name__} {value!r}")
    return float(value) if base == "float" else value


def _record(cls, table, where: str, skip: set = frozenset()) -> dict:
    """Validated keyword arguments for dataclass `cls` from a TOML table."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {type(table).__name__} {table!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(fields)}")
    out = {k: _typed(v, fields[k].type, f"{where}.{k}") for k, v in table.items()}
    for k, v in out.items():
        if isinstance(v, (int, float)) and (v < 0 or (v == 0 and k in _POSITIVE)):
            raise ConfigError(f"{where}.{k}: {v} must be {'more than 0' if k in _POSITIVE else '0 or more'}")
    return out


def _check_board_name(name: str, where: str) -> None:
    """A board name in the config must name a known board (a typo would otherwise be ignored)."""
    import difflib

    from hil.boards import known_boards
    known = sorted(known_boards())
    if ":" not in name and name not in known:      # `module:Class` boards are checked when loaded
        close = difflib.get_close_matches(name, known, n=1)
        raise ConfigError(f"{where}: unknown board {name!r}" + (f" (did you mean {close[0]}?)" if close else "")
                          + f"; known boards: {', '.join(known)}")


def _nested(key: str, value, where: str):
    if key == "tags":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where}: expected a table of strings, e.g. {{ board = \"stm32f4\" }}, got {value!r}")
        return dict(value)
    if key == "places":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected [boards.<name>.places.<place>] tables, got {value!r}")
        return {_name(p, "place", where): PlaceConfig(**_record(PlaceConfig, t, f"{where}.{p}"))
                for p, t in value.items()}
    if not isinstance(value, list):        # units
        raise ConfigError(f"{where}: expected [[boards.<name>.units]] tables, got {value!r}")
    return tuple(_record(BoardConfig, t, f"{where}[{i}]", skip=_NESTED) for i, t in enumerate(value))


def _name(name: str, what: str, where: str) -> str:
    """A board, place or model name under the one name rule (golden.names), else a ConfigError."""
    from golden.names import BadName, check
    try:
        return check(name, what)
    except BadName as exc:
        raise ConfigError(f"{where}: {exc}") from None


def board_config(table: dict, where: str) -> BoardConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table ([{where.split(' ')[-1]}]), got {type(table).__name__}")
    plain = _record(BoardConfig, {k: v for k, v in table.items() if k not in _NESTED}, where, skip=_NESTED)
    nested = {k: _nested(k, v, f"{where}.{k}") for k, v in table.items() if k in _NESTED}
    return BoardConfig(**plain, **nested)


def nightly_config(table, where: str) -> NightlyConfig:
    from golden.registry import built_models
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a [nightly] table, got {table!r}")
    runs = table.get("run")
    rec = _record(NightlyConfig, {k: v for k, v in table.items() if k != "run"}, where, skip={"run"})
    if runs is None:
        return NightlyConfig(**rec)
    if not isinstance(runs, list):
        raise ConfigError(f"{where}.run: expected [[nightly.run]] tables, got {runs!r}")
    known = built_models()
    out = tuple(NightlyRun.from_toml(t, f"{where}.run[{i}]", known) for i, t in enumerate(runs))
    return NightlyConfig(**rec, run=out)


def parse(text: str, path: Path | None = None) -> LabConfig:
    name = str(path or "<lab config>")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"lab config {name}: {exc}") from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"lab config {name}: unknown top-level key(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(_TOP_KEYS))}")
    boards = data.get("boards", {})
    if not isinstance(boards, dict):
        raise ConfigError(f"lab config {name}: 'boards' must be a table of [boards.<name>] tables")
    for b in boards:
        _name(b, "board", f"lab config {name}: boards")    # the name rule first, then is it a known board
        _check_board_name(b, f"lab config {name}: boards.{b}")
    artifacts = data.get("artifacts")
    if artifacts is not None:
        if not isinstance(artifacts, str):
            raise ConfigError(f"lab config {name}: 'artifacts' must be a folder path (a string)")
        artifacts = (Path(path).parent if path else Path.cwd()) / artifacts
    return LabConfig(path, {_name(b, "board", f"lab config {name}: boards"):
                            board_config(t, f"lab config {name}: boards.{b}") for b, t in boards.items()},
                     nightly_config(data.get("nightly", {}), f"lab config {name}: nightly"), artifacts, data)


def config_path(explicit: str | None) -> Path | None:
    if explicit:
        p = Path(explicit)
        if not p.exists():
            raise ConfigError(f"lab config {p} not found")
        return p
    env = os.environ.get("HIL_CONFIG")
    if env:
        return config_path(env)
    p = Path("hil-lab.toml")
    return p if p.exists() else None


def load(explicit: str | None = None) -> LabConfig:
    """The lab config from --hil-config, $HIL_CONFIG or ./hil-lab.toml; defaults when there is none.
    A file is parsed once per process (again only if it changed on disk)."""
    p = config_path(explicit)
    if p is None:
        return LabConfig()
    try:
        st = p.stat()
    except OSError as exc:
        raise ConfigError(f"lab config {p}: cannot read: {exc.strerror}") from None
    return _load(str(p), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int, size: int) -> LabConfig:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"lab config {p}: cannot read: {exc.strerror}") from None
    return parse(text, p)


def board_section(explicit: str | None, board: str) -> BoardConfig:
    return load(explicit).board(board)


def apply_artifacts_root(option: str | Path | None, config: str | None = None) -> Path:
    """Settle the artifacts root (hil.settings: the option, else $HIL_ARTIFACTS, else the lab
    config's `artifacts`, else the built-in folder); returns it (golden.paths.root())."""
    from hil.settings import resolve
    return resolve(artifacts=option, config=config).apply_artifacts()
