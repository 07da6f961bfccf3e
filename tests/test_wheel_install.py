"""A wheel install, not the editable checkout, runs a user's tests on the QEMU twin.

What it does, offline: copy the checkout's sources, build the wheel with the
installed setuptools (`pip wheel --no-build-isolation`), make a fresh venv
*without* system site packages, install the wheel there with `--no-deps`,
and run `pytest --board=stm32f4-qemu` in a user folder outside the checkout
on `docs/writing-tests.md`'s example test file. Firmware is built from the
wheel's packaged sources in a cache folder ($HIL_CACHE), never in site-packages.

The heavy dependencies (numpy, pyOCD, ...) are not reinstalled: a
`.pth` file in the new venv appends this interpreter's site-packages to its
path. The packages of the `hil[golden]` extra (torch, onnx, librosa,
soundfile, scipy) are made unimportable there, as if the extra were not
installed: the plain install must run a board suite, `hil run` and `hil
report`, and `hil golden build` must say in one line which extra to install. A plain path line in a .pth does not process the .pth files *inside*
that folder, so the shared venv's editable hil (its finder/path .pth) stays
invisible, and the new venv's own site-packages comes first on sys.path: the
test asserts that `hil` and `golden` are imported from the wheel.
"""
from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from hil.golden_cli import GOLDEN_EXTRA

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


BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {set(GOLDEN_EXTRA)!r}
class _NoGoldenExtra(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (the [golden] extra is not installed)", name=name)
        return None
sys.meta_path.insert(0, _NoGoldenExtra())
"""


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
    (site / "_hil_no_golden_extra.py").write_text(BLOCKER)
    (site / "zz_shared_deps.pth").write_text("import _hil_no_golden_extra\n" + sysconfig.get_paths()["purelib"] + "\n")
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

    # the lean install: no [golden] extra
    r = subprocess.run([py, "-c", "import torch"], capture_output=True, text=True, cwd=user, env=env)
    assert r.returncode != 0 and "golden] extra is not installed" in r.stderr
    hil = venv / "bin" / "hil"
    _run([hil, "run", "--board", "sim", "--model", "mnist_lenet", "--vectors", "4", "--db", user / "r.db",
          "--json", user / "run.json"], cwd=user, env=env)
    _run([hil, "report", "--db", user / "r.db", "--out", user / "report.html"], cwd=user, env=env)
    assert (user / "run.json").exists() and (user / "report.html").stat().st_size > 1000
    r = subprocess.run([hil, "golden", "build", "--model", "sine_mlp", "--artifacts", user / "art"],
                       capture_output=True, text=True, cwd=user, env=env, timeout=120)
    text = " ".join((r.stdout + r.stderr).split())      # rich wraps long lines at 80 columns in a pipe
    assert r.returncode == 2 and "pip install 'hil[golden]'" in text and "Traceback" not in text
    assert text.startswith("error: ") and text.count("error") == 1, text

    with zipfile.ZipFile(wheel) as z:     # the extra's packages are required only with [golden]
        meta = email.message_from_bytes(z.read(next(n for n in z.namelist() if n.endswith("METADATA"))))
    assert "golden" in meta.get_all("Provides-Extra")
    for pkg in GOLDEN_EXTRA:
        mine = [q for q in meta.get_all("Requires-Dist") if re.match(rf"{pkg}\b", q)]
        assert mine and all('extra == "golden"' in q for q in mine), (pkg, mine)
