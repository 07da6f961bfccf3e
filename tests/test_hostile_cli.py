"""50 wrong invocations of `hil` (tests/data/hostile_cli/cases.txt, README.md there): each ends in one
clear line naming the problem, exit status 2; never a traceback, a silent success or a misleading message.

Each case runs `hil` as a subprocess in its own tmp folder holding the lab configs it names, h.db (a
store with one complete run), empty.db (an empty store), any-model.onnx and some-folder. Cases that
would build firmware must fail before building, so the whole table takes well under a minute or two.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "hostile_cli"
CASES = [line.strip() for line in (DATA / "cases.txt").read_text().splitlines() if line.strip()]
ONNX = Path(__file__).resolve().parents[1] / "golden" / "artifacts" / "mnist_lenet" / "mnist_lenet.onnx"

# A word of the problem each case's last line must name, in the order of cases.txt.
EXPECT = [
    "expected one argument", "nosuch", "nosuch", "--vectors", "--vectors", "--vectors",
    "has 999 test vectors",             # --vectors 5000: an error naming the bundle size
    "--model", "/nonexistent.toml", "kernel", "artefacts", "baud", "stm32f4-qenu", "bad_toml.toml", "kernels",
    "baud", "066DFF485550755187121723",  # the lab config's probe is not attached
    "no debug probe", "arty", "127.0.0.1:1",
    "junk", "corrupt", "0.5", "seed", "dir", "stall_ms", "empty spec", "injects no fault", "corrupt=1e-400",
    "holds no runs", "99999", "some-folder", "/nonexistent/dir", "cycle counter", "/nonexistent/dir",
    "no run 1", "abc", "none.db", "--vectors",
    "/etc/passwd", "cifar", "--dataset", "os:system", "HIL_QEMU_CPU", "/nonexistent",
    "[/oops]", "nosuch", "kws_dscnn_fpga", "some-folder/cli",
    "none2.db",                         # no store there: the first problem, before the board
]
assert len(EXPECT) == len(CASES)


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> Path:
    """h.db with one complete run (2 vectors of mnist_lenet on sim) and an empty store, made once."""
    from hil.results.store import Store
    root = tmp_path_factory.mktemp("stores")
    hil(["run", "--board", "sim", "--model", "mnist_lenet", "--vectors", "2", "--db", "h.db"], root, check=True)
    Store.open(root / "empty.db").close()
    return root


def hil(argv: list[str], cwd: Path, env: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
    run_env = {**os.environ, "HIL_CONFIG": "", **(env or {})}
    r = subprocess.run([sys.executable, "-m", "hil.cli", *argv], cwd=cwd, env=run_env, capture_output=True,
                       text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def last_line(stderr: str) -> str:
    """stderr's last line that is not part of argparse's usage text."""
    lines = [ln.rstrip() for ln in stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize("case,expect", list(zip(CASES, EXPECT)), ids=[f"{i + 1:02d}" for i in range(len(CASES))])
def test_hostile_invocation_is_one_clear_error(case, expect, tmp_path, stores):
    words = shlex.split(case)
    env = {}
    while "=" in words[0]:
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    assert words.pop(0) == "hil"
    for f in DATA.glob("*.toml"):
        shutil.copy(f, tmp_path)
    for db in ("h.db", "empty.db"):
        shutil.copy(stores / db, tmp_path)
    shutil.copy(ONNX, tmp_path / "any-model.onnx")
    (tmp_path / "some-folder").mkdir()
    r = hil(words, tmp_path, env)
    line = last_line(r.stderr)
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr[-2000:]}{r.stdout[-2000:]}"
    assert line.startswith(("error:", "hil ")) and expect in line, r.stderr
    assert "None" not in line, line      # "board None": a message about nothing
