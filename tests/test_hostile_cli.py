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
from concurrent.futures import ThreadPoolExecutor
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
    r = hil(["run", "--board", "sim", "--model", "mnist_lenet", "--vectors", "2", "--db", "h.db"], root)
    assert r.returncode == 0, r.stderr
    Store.open(root / "empty.db").close()
    return root


def hil(argv: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    run_env = {**os.environ, "HIL_CONFIG": "", **(env or {})}
    return subprocess.run([sys.executable, "-m", "hil.cli", *argv], cwd=cwd, env=run_env, capture_output=True,
                          text=True, timeout=120)


def run_case(case: str, folder: Path, stores: Path) -> subprocess.CompletedProcess:
    """One line of cases.txt (`[VAR=value ...] hil ARGS`), run in `folder` with the files it names."""
    words = shlex.split(case)
    env = {}
    while "=" in words[0]:
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    assert words.pop(0) == "hil"
    folder.mkdir()
    for f in DATA.glob("*.toml"):
        shutil.copy(f, folder)
    for db in ("h.db", "empty.db"):
        shutil.copy(stores / db, folder)
    shutil.copy(ONNX, folder / "any-model.onnx")
    (folder / "some-folder").mkdir()
    return hil(words, folder, env)


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory, stores) -> dict:
    """The selected cases, run 4 at a time (each is mostly interpreter start-up): case -> CompletedProcess."""
    selected = [item.callspec.params["case"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_hostile_invocation_is_one_clear_error"]
    root = tmp_path_factory.mktemp("cases")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case: pool.submit(run_case, case, root / f"case{CASES.index(case) + 1:02d}", stores)
                   for case in selected}
        return {case: f.result() for case, f in futures.items()}


def error_lines(stderr: str) -> list[str]:
    """stderr without argparse's usage text (a `usage:` line and its indented continuation lines)."""
    return [ln.rstrip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith(("usage:", " "))]


@pytest.mark.parametrize("case,expect", list(zip(CASES, EXPECT)), ids=[f"{i + 1:02d}" for i in range(len(CASES))])
def test_hostile_invocation_is_one_clear_error(case, expect, outcomes):
    r = outcomes[case]
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr[-2000:]}{r.stdout[-2000:]}"
    lines = error_lines(r.stderr)
    assert len(lines) == 1, r.stderr                                  # one line, however long
    assert lines[0].startswith(("error:", "hil ")) and expect in lines[0], r.stderr
    assert "None" not in lines[0], lines[0]                           # "board None": a message about nothing
