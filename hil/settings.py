"""Where a setting comes from, in one place: option > environment > lab config > default.

`resolve()` returns a typed `Settings` for the CLI, the pytest plugin and `hil nightly`:
the board, models, vectors, the artifacts root, the results store, the lab config and the
regression thresholds. The lab config (TOML) is parsed once per process (hil.lab_config.load).

| setting | option | environment | ini (pytest) | lab config | default |
|---|---|---|---|---|---|
| board | --board / --hil-board | | hil_board | | stm32f4-qemu |
| models | --model / --hil-model | | hil_models | | the board's defaults |
| vectors | --vectors / --hil-vectors | | hil_vectors | | all |
| artifacts root | --artifacts / --hil-artifacts | $HIL_ARTIFACTS | hil_artifacts | artifacts | golden/artifacts |
| results store | --db / --hil-db | $HIL_DB | | db (CLI only) | ./hil-results.db (CLI), none (pytest) |
| lab config | --hil-config | $HIL_CONFIG | | | ./hil-lab.toml if present |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hil.lab_config import BoardConfig, LabConfig, config_path, load
from hil.results.baseline import Thresholds
from hil.results.store import DEFAULT_DB


@dataclass(frozen=True)
class Settings:
    board: str
    models: tuple[str, ...] = ()            # () : the board's default models
    vectors: int | None = None              # None: all
    artifacts: Path | None = None           # the artifacts root (golden.paths)
    db: Path | None = None                  # the results store; None: not recorded
    config: Path | None = None              # the lab config file, if any
    lab: LabConfig = field(default_factory=LabConfig)
    thresholds: Thresholds = field(default_factory=Thresholds)

    def board_config(self, name: str | None = None) -> BoardConfig:
        """This board's table of the lab config."""
        return self.lab.board(name or self.board)

    def apply_artifacts(self) -> Path:
        """Make the artifacts root this process's (golden.paths, seen by the firmware builds too)."""
        from golden import paths
        if self.artifacts is not None:
            paths.set_root(self.artifacts)
        return paths.root()


def _first(*values):
    return next((v for v in values if v not in (None, "", [], ())), None)


def resolve(*, board: str | None = None, models=None, vectors: int | None = None,
            artifacts: str | Path | None = None, db: str | Path | None = None, config: str | None = None,
            ini_board: str | None = None, ini_models=None, ini_vectors: int | None = None,
            ini_artifacts: str | Path | None = None, db_from_lab: bool = True,
            db_default: str | Path | None = DEFAULT_DB) -> Settings:
    """The settings of one command or session (see the table above); a bad lab config raises
    ConfigError (one line)."""
    from hil.boards import DEFAULT_BOARD
    path = config_path(config)
    lab = load(config)
    chosen = _first(models, ini_models) or ()
    names = tuple(m for c in chosen for m in str(c).split(",") if m)
    root = _first(artifacts, os.environ.get("HIL_ARTIFACTS"), ini_artifacts, lab.artifacts)
    store = _first(db, os.environ.get("HIL_DB"), lab.raw.get("db") if db_from_lab else None, db_default)
    return Settings(board=_first(board, ini_board, DEFAULT_BOARD), models=names,
                    vectors=_first(vectors, ini_vectors), artifacts=Path(root) if root else None,
                    db=Path(store) if store else None, config=path, lab=lab,
                    thresholds=Thresholds.from_config(lab.raw.get("thresholds")))
