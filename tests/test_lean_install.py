"""The plain install (no [golden] extra) is enough for a lab's CI runner: a board suite, `hil run`
and `hil report` run without torch, onnx, librosa, soundfile and scipy; `hil golden build` says in
one line which extra to install.

Offline, as tests/test_wheel_install.py: build the wheel, install it with `--no-deps` into a fresh
venv that borrows this interpreter's site-packages through a `.pth` line, and make the [golden]
packages unimportable there (a `.pth` import line installs a finder that refuses them), as if the
extra were not installed. The wheel's metadata must list them under the extra only.
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
pytestmark = pytest.mark.wheel

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
USER_TEST = """
from hil.runner import run_vector

def test_vec(hil_board, hil_model, golden_vector, hil_record):
    v = run_vector(hil_board, hil_model, golden_vector[1])
    hil_record(v)
    assert v.int_match
"""


def _run(cmd, ok=True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    if ok:
        assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def lean(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lean")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "-q",
          "-w", tmp / "dist"], cwd=tmp)
    wheel = next((tmp / "dist").glob("hil-*.whl"))
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    py = venv / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "_hil_no_golden_extra.py").write_text(BLOCKER)
    (site / "zz_shared_deps.pth").write_text("import _hil_no_golden_extra\n" + sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheel])
    user = tmp / "user_repo"
    user.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HIL_ARTIFACTS", "HIL_DATA", "HIL_DB")}
    env["HIL_CACHE"] = str(tmp / "cache")
    return dict(wheel=wheel, py=py, user=user, env=env, bin=venv / "bin")


def test_golden_packages_are_an_extra_of_the_wheel(lean):
    with zipfile.ZipFile(lean["wheel"]) as z:
        meta = email.message_from_bytes(z.read(next(n for n in z.namelist() if n.endswith("METADATA"))))
    reqs = meta.get_all("Requires-Dist")
    for pkg in GOLDEN_EXTRA:
        mine = [r for r in reqs if re.match(rf"{pkg}\b", r)]
        assert mine and all('extra == "golden"' in r for r in mine), (pkg, mine)
    assert "golden" in meta.get_all("Provides-Extra")


def test_board_suite_and_hil_run_without_the_golden_extra(lean):
    py, user, env = lean["py"], lean["user"], lean["env"]
    r = _run([py, "-c", "import torch"], ok=False, cwd=user, env=env)
    assert r.returncode != 0 and "golden] extra is not installed" in r.stderr
    (user / "test_golden.py").write_text(USER_TEST)
    r = _run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--board=sim", "--hil-vectors=5",
              "--hil-model=mnist_lenet,sine_mlp", "--hil-json=results.json"], cwd=user, env=env)
    assert re.search(r"\b10 passed\b", r.stdout), r.stdout[-2000:]
    r = _run([lean["bin"] / "hil", "run", "--board", "sim", "--model", "mnist_lenet", "--vectors", "4",
              "--db", user / "r.db", "--json", user / "run.json"], cwd=user, env=env)
    assert (user / "run.json").exists()
    _run([lean["bin"] / "hil", "report", "--db", user / "r.db", "--out", user / "report.html"], cwd=user, env=env)
    assert (user / "report.html").stat().st_size > 1000


def test_golden_build_without_the_extra_names_it_in_one_line(lean):
    r = _run([lean["bin"] / "hil", "golden", "build", "--model", "sine_mlp", "--artifacts", lean["user"] / "art"],
             ok=False, cwd=lean["user"], env=lean["env"])
    text = " ".join((r.stdout + r.stderr).split())      # rich wraps long lines at 80 columns in a pipe
    assert r.returncode == 2 and "pip install 'hil[golden]'" in text and "Traceback" not in text
    assert text.startswith("error: ") and text.count("error") == 1, text
