"""Fixtures shared by several test files.

Tests never write into the checkout: the session points `$HIL_DB` (the results store `hil run`
records into without --db, docs/nightly.md) at a session tmp dir, and `make test` ends with
scripts/check_clean_tree.sh, which fails if the suite left anything outside the build/cache folders.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# hypothesis keeps its example database in .cache/ (a documented cache folder), not ./.hypothesis
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(ROOT / ".cache" / "hypothesis"))


@pytest.fixture(scope="session", autouse=True)
def _results_store_outside_the_checkout(tmp_path_factory):
    """`$HIL_DB` for the whole session (in-process CLI calls and the processes they start), never
    ./hil-results.db: the user's store stays as it was. The plugin took its store (--hil-db, the
    user's own $HIL_DB) when the session started: this session's board suite is not moved here."""
    old = os.environ.get("HIL_DB")
    os.environ["HIL_DB"] = str(tmp_path_factory.mktemp("store") / "hil-results.db")
    yield
    if old is None:
        os.environ.pop("HIL_DB", None)
    else:
        os.environ["HIL_DB"] = old


@pytest.fixture(autouse=True)
def _pytester_records_as_a_user_would(request, monkeypatch):
    """A pytest session started by pytester runs in its own tmp dir and records only with --hil-db,
    as a user's would: it does not inherit the session's `$HIL_DB`."""
    if "pytester" in request.fixturenames:
        monkeypatch.delenv("HIL_DB", raising=False)


@pytest.fixture(autouse=True)
def _artifacts_root_restored():
    """A CLI called in-process (`--artifacts`, `hil golden build --out`) sets the artifacts root of
    the process (golden.paths.set_root): each test starts from the session's."""
    from golden import paths
    given = paths.given_root()
    yield
    paths.set_root(given)


@pytest.fixture(scope="session")
def test_requests_elf(tmp_path_factory) -> Path:
    """The QEMU firmware with the test-only requests (TEST_FAULT), built once for every test that needs it."""
    out = tmp_path_factory.mktemp("fw_test_requests")
    r = subprocess.run(["make", "-C", str(ROOT / "firmware_stm32"), "TARGET=qemu", "TEST_REQUESTS=1",
                        "MODELS=mnist_lenet sine_mlp", f"BUILD_DIR={out}", f"PYTHON={sys.executable}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "hil_fw.elf"


def copy_checkout(dest: Path, git: bool = False) -> Path:
    """A copy of this checkout's sources (tracked and untracked, not ignored: no .venv, no builds) at
    `dest`; with `git`, committed in a fresh repository so `git status` there shows what changed.
    Run its code with PYTHONPATH=dest (`checkout_env`)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(src.read_bytes())
            (dest / name).chmod(src.stat().st_mode)
    if git:
        for cmd in (["init", "-q"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "copy"]):
            subprocess.run(["git", *cmd], cwd=dest, check=True, capture_output=True)
    return dest


def checkout_env(copy: Path, **extra: str) -> dict:
    """The environment of a process running the copy's code, as a user's shell would have it:
    no $HIL_DB from this session."""
    env = {k: v for k, v in os.environ.items() if k not in ("HIL_DB", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    env.update(PYTHONPATH=str(copy), **extra)
    return env
