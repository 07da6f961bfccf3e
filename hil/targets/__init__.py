"""Target build tools: what turns golden artifacts into firmware for one kind of target.

One sub-package per target: `stm32` (C model tables + the arm-none-eabi-gcc
firmware build) and `hls` (C++ model code, the HLS design description, its
modelled cycles, csynth calibration, the fpga-sim / bitstream-side build).
The host run-time (protocol, link, device, boards, runner, plugin, CLI) lives
in `hil/` itself and only calls into a target package from a board's build().

Where the sources are: in a checkout, the top-level `firmware_stm32/` and
`firmware_fpga_hls/`, built in place. A wheel ships them as package data
(`hil/_sources/`, copied there by setup.py); they are then copied once into
a writable cache folder (golden.paths.cache_root(): `$HIL_CACHE`, else
`~/.cache/hil`) and built there, never inside site-packages.
"""
from __future__ import annotations

import fcntl
import hashlib
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TREES = ("firmware_stm32", "firmware_fpga_hls")
PACKAGED = Path(__file__).resolve().parents[1] / "_sources"


def _packaged_key() -> str:
    """Content hash of the packaged trees: a new hil version gets a fresh copy."""
    h = hashlib.sha256()
    for p in sorted(PACKAGED.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(PACKAGED)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def _cached_copy() -> Path:
    from golden.paths import cache_root
    dest = cache_root() / f"src-{_packaged_key()}"
    if (dest / ".complete").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / ".lock", "w") as lock:     # parallel sessions copy once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (dest / ".complete").exists():
            for tree in TREES:
                shutil.rmtree(dest / tree, ignore_errors=True)
                shutil.copytree(PACKAGED / tree, dest / tree)
            # the trees include the device library as ../hil/device_lib, as in a checkout
            lib = Path(__file__).resolve().parents[1] / "device_lib"
            shutil.rmtree(dest / "hil" / "device_lib", ignore_errors=True)
            shutil.copytree(lib, dest / "hil" / "device_lib", ignore=shutil.ignore_patterns("__pycache__"))
            (dest / ".complete").write_text("")
    return dest


def source_dir(name: str) -> Path:
    """Where a target's sources live (`firmware_stm32`, `firmware_fpga_hls`): the one place that knows."""
    if (REPO / name / "Makefile").is_file():
        return REPO / name
    if (PACKAGED / name / "Makefile").is_file():
        return _cached_copy() / name
    raise FileNotFoundError(f"{name}/ not found in {REPO} nor in the installed package ({PACKAGED}): "
                            f"reinstall hil from a wheel or sdist built with setup.py")
