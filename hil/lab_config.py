"""The lab config file: which physical board is which.

TOML, one table per board name, e.g.

    [boards.stm32f4]
    probe_uid = "066DFF485550755187121723"   # ST-LINK unique ID (`hil boards` lists attached probes)
    port = "/dev/ttyACM0"                     # optional: found from the probe's USB serial if omitted
    baud = 115200

Boards are bound by probe unique ID, not by port name, because identical
boards swap /dev/ttyACM* names between boots. Looked up from --hil-config,
else $HIL_CONFIG, else ./hil-lab.toml; no file means defaults.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from hil.errors import HilError


class ConfigError(HilError):
    """The lab config file is missing or malformed."""


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


def board_section(explicit: str | None, board: str) -> dict:
    p = config_path(explicit)
    if p is None:
        return {}
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"lab config {p}: {exc}") from None
    return dict(data.get("boards", {}).get(board, {}))
