"""Tests leave the checkout as they found it: a board suite run in a copy of the checkout, as
`make test` runs it (results under build/), changes nothing outside the build/cache folders that
scripts/check_clean_tree.sh allows, and that check fails on a stray results file."""
import subprocess
import sys

from conftest import checkout_env, copy_checkout


def test_board_suite_leaves_the_tree_clean(tmp_path):
    copy = copy_checkout(tmp_path / "checkout", git=True)
    check = ["bash", str(copy / "scripts" / "check_clean_tree.sh")]
    snap = copy / "build" / "before.txt"
    subprocess.run([*check, "snapshot", str(snap)], cwd=copy, check=True)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/board", "--board=sim", "--vectors=3",
                        "--model=mnist_lenet", "--hil-json=build/hil-results-sim.json"],
                       cwd=copy, env=checkout_env(copy), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (copy / "build" / "hil-results-sim.json").is_file()
    ok = subprocess.run([*check, "check", str(snap)], cwd=copy, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # the check is not blind: a results store left in the tree fails it
    (copy / "hil-results.db").write_bytes(b"")
    bad = subprocess.run([*check, "check", str(snap)], cwd=copy, capture_output=True, text=True)
    assert bad.returncode == 1 and "hil-results.db" in bad.stdout, bad.stdout
