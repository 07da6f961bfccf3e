"""Where golden artifacts live. Torch-free: the run path (hil run, the pytest
plugin, the boards) imports this, never golden.build."""
from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def artifact_dir(name: str, root: Path | None = None) -> Path:
    return Path(root or ARTIFACTS) / name


def qmodel_path(name: str, root: Path | None = None) -> Path:
    return artifact_dir(name, root) / f"{name}.qmodel.json"
