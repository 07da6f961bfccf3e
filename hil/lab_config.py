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

Every key is declared once in BoardConfig: an unknown key (a typo) or a value
of the wrong type is a ConfigError that names the file, the table and the key.
"""
from __future__ import annotations

import dataclasses
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


@dataclass(frozen=True)
class LabConfig:
    path: Path | None = None
    boards: dict[str, BoardConfig] = field(default_factory=dict)
    artifacts: Path | None = None     # artifacts root (golden.paths), resolved against the file's folder

    def board(self, name: str) -> BoardConfig:
        return self.boards.get(name, BoardConfig())


# db, nightly and thresholds belong to the results store and are checked there
# (hil/results: default_path, nightly.plan, Thresholds.from_config); artifacts
# is the artifacts root (golden.paths), read by apply_artifacts_root().
_TOP_KEYS = {"boards", "artifacts", "db", "nightly", "thresholds"}


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


def board_config(table: dict, where: str) -> BoardConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table ([{where.split(' ')[-1]}]), got {type(table).__name__}")
    fields = {f.name: f for f in dataclasses.fields(BoardConfig)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(fields)}")
    return BoardConfig(**{k: _typed(v, fields[k].type, f"{where}.{k}") for k, v in table.items()})


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
    artifacts = data.get("artifacts")
    if artifacts is not None:
        if not isinstance(artifacts, str):
            raise ConfigError(f"lab config {name}: 'artifacts' must be a folder path (a string)")
        artifacts = (Path(path).parent if path else Path.cwd()) / artifacts
    return LabConfig(path, {b: board_config(t, f"lab config {name}: boards.{b}") for b, t in boards.items()},
                     artifacts)


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
    """The lab config from --hil-config, $HIL_CONFIG or ./hil-lab.toml; defaults when there is none."""
    p = config_path(explicit)
    if p is None:
        return LabConfig()
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"lab config {p}: cannot read: {exc.strerror}") from None
    return parse(text, p)


def board_section(explicit: str | None, board: str) -> BoardConfig:
    return load(explicit).board(board)


def apply_artifacts_root(option: str | Path | None, config: str | None = None) -> Path:
    """Settle the artifacts root: the option, else $HIL_ARTIFACTS, else the lab config's
    `artifacts`, else the built-in folder; returns it (golden.paths.root())."""
    from golden import paths
    if option:
        paths.set_root(option)
    elif not os.environ.get(paths.ENV):
        lab = load(config)
        if lab.artifacts is not None:
            paths.set_root(lab.artifacts)
    return paths.root()
