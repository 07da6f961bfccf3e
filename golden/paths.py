"""Where golden artifacts live. Torch-free: the run path (hil run, the pytest
plugin, the boards) imports this, never golden.build.

One artifacts root is shared by `hil golden build/show`, `hil run`, `hil
profile`, the pytest plugin and the firmware builds: `--artifacts` (pytest:
`--hil-artifacts`, ini `hil_artifacts`), else `$HIL_ARTIFACTS`, else the lab
config's top-level `artifacts` key, else the built-in `golden/artifacts`.
A user's repository thus keeps its models in its own folder. Builds write
into the root; reads look in the root first and then among the built-in
models, so `mnist_lenet` and friends stay available whatever the root.
The root is a value of this process (`set_root`), never written into the
environment: a child process gets it as an argument (make gets the qmodel
paths themselves in a models list; `hil bench fpga-build` passes
`--artifacts` to its build children). `$HIL_ARTIFACTS` is only read, as an input.
"""
from __future__ import annotations

import os
from pathlib import Path

from golden.names import check as check_name

BUILTIN = Path(__file__).resolve().parent / "artifacts"
ARTIFACTS = BUILTIN   # the built-in root (older name)
ENV = "HIL_ARTIFACTS"

_given: Path | None = None      # set_root()'s value; None: $HIL_ARTIFACTS, else the built-in root


def set_root(path: str | Path | None) -> None:
    """Make ``path`` the artifacts root of this process (None: back to $HIL_ARTIFACTS / the built-in one)."""
    global _given
    _given = None if path is None else Path(path).expanduser().resolve()


def given_root() -> Path | None:
    """What set_root() was given (None if nothing), so a caller can put it back."""
    return _given


def root() -> Path:
    """The artifacts root: where builds go and user models are found."""
    if _given is not None:
        return _given
    env = os.environ.get(ENV)
    return Path(env).expanduser().resolve() if env else BUILTIN


def search_roots() -> list[Path]:
    """Where a model is looked for, in order: the root, then the built-in models."""
    r = root()
    return [r] if r == BUILTIN else [r, BUILTIN]


def artifact_dir(name: str, root: Path | None = None) -> Path:
    """`<root>/<name>`; the name is checked first (golden.names), so no path leaves the root."""
    check_name(name)
    if root is not None:
        return Path(root) / name
    for r in search_roots():
        if (r / name).is_dir():
            return r / name
    return search_roots()[0] / name


def qmodel_path(name: str, root: Path | None = None) -> Path:
    return artifact_dir(name, root) / f"{name}.qmodel.json"


def cache_root() -> Path:
    """A writable folder for what hil makes at run time outside a checkout:
    `$HIL_CACHE`, else `$XDG_CACHE_HOME/hil`, else `~/.cache/hil`."""
    env = os.environ.get("HIL_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hil"


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None for an installed wheel."""
    top = Path(__file__).resolve().parents[1]
    return top if (top / "pyproject.toml").is_file() and (top / "golden").is_dir() else None


def data_root() -> Path:
    """Data sets (downloads, syntheses, feature caches): `$HIL_DATA`, else the
    checkout's `.cache`, else `<cache_root>/data` (never inside site-packages)."""
    env = os.environ.get("HIL_DATA")
    if env:
        return Path(env)
    top = checkout_root()
    return top / ".cache" if top else cache_root() / "data"
