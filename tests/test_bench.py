"""`hil bench kernels` on one small model: both kernel builds run on the QEMU
twin and report exact instruction counts side by side (figures, no timing)."""
import json
import shutil

import pytest

from hil.cli import main

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="qemu-system-arm / arm-none-eabi-gcc not on PATH (make setup)")


@needs_qemu
def test_bench_kernels_reports_ref_and_opt_instructions(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "kernels", "--model", "sine_mlp", "--repeats", "1", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert (doc["format"], doc["unit"], doc["counter"]) == ("hil-bench-kernels", "instructions", "icount")
    (m,) = doc["models"]
    assert m["model"] == "sine_mlp" and m["macs"] == 288
    assert sum(L["ref"] for L in m["layers"]) <= m["ref"] and sum(L["opt"] for L in m["layers"]) <= m["opt"]
    assert m["opt"] < m["ref"], "the optimised kernels must need fewer instructions"
    assert doc["build_hashes"]["ref"] and doc["build_hashes"]["opt"]
    text = capsys.readouterr().out
    assert "ref instructions" in text and "opt instructions" in text and "speed-up" in text
