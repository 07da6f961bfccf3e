"""A wheel install, not the editable checkout, runs a user's tests on the QEMU twin.

What it does, offline: copy the checkout's sources, build the wheel with the
installed setuptools (`pip wheel --no-build-isolation`), make a fresh venv
*without* system site packages, install the wheel there with `--no-deps`,
and run `pytest --board=stm32f4-qemu` in a user folder outside the checkout
on `docs/writing-tests.md`'s example test file. Firmware is built from the
wheel's packaged sources in a cache folder ($HIL_CACHE), never in site-packages.

The heavy dependencies (torch, numpy, scipy, ...) are not reinstalled: a
`.pth` file in the new venv appends this interpreter's site-packages to its
path. A plain path line in a .pth does not process the .pth files *inside*
that folder, so the shared venv's editable hil (its finder/path .pth) stays
invisible, and the new venv's own site-packages comes first on sys.path: the
test asserts that `hil` and `golden` are imported from the wheel.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv", ".cache", "build", "dist", "__pycache__", "*.egg-info",
                              ".pytest_cache", "hil-results*.json", "tests")

pytestmark = [pytest.mark.wheel, pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
    reason="needs qemu-system-arm and arm-none-eabi-gcc: run `make setup`")]


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def _example_test() -> str:
    """The example test file of docs/writing-tests.md (the first ```python block)."""
    text = (ROOT / "docs" / "writing-tests.md").read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def test_wheel_runs_a_users_tests_on_qemu(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "-q",
          "-w", tmp_path / "dist"], cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("hil-*.whl"))

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    py = venv / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "zz_shared_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheel])

    user = tmp_path / "user_repo"
    user.mkdir()
    (user / "test_my_checks.py").write_text(_example_test())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HIL_ARTIFACTS", "HIL_DATA")}
    env["HIL_CACHE"] = str(tmp_path / "cache")
    where = _run([py, "-c", "import hil, golden; print(hil.__file__); print(golden.__file__)"],
                 cwd=user, env=env).stdout.split()
    assert all(w.startswith(str(site)) for w in where), where

    r = _run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--board=stm32f4-qemu",
              "--hil-vectors=10", "--hil-model=mnist_lenet", "--hil-json=results.json"], cwd=user, env=env)
    assert re.search(r"\b20 passed\b", r.stdout), r.stdout[-2000:]
    assert "accuracy per class" in r.stdout
    built = list((tmp_path / "cache").glob("src-*/firmware_stm32/build/qemu/hil_fw.elf"))
    assert built, "firmware was not built in the cache folder"
    assert not list(site.rglob("hil_fw.elf")), "something was built inside site-packages"
