"""Fixtures shared by several test files."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def test_requests_elf(tmp_path_factory) -> Path:
    """The QEMU firmware with the test-only requests (TEST_FAULT), built once for every test that needs it."""
    out = tmp_path_factory.mktemp("fw_test_requests")
    r = subprocess.run(["make", "-C", str(ROOT / "firmware_stm32"), "TARGET=qemu", "TEST_REQUESTS=1",
                        "MODELS=mnist_lenet sine_mlp", f"BUILD_DIR={out}", f"PYTHON={sys.executable}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "hil_fw.elf"
