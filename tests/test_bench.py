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
    for v in ("ref", "opt"):   # layers timed by a hook between them, the total without it
        assert abs(sum(L[v] for L in m["layers"]) - m[v]) <= 50 * len(m["layers"]), v
    assert m["opt"] < m["ref"], "the optimised kernels must need fewer instructions"
    assert doc["build_hashes"]["ref"] and doc["build_hashes"]["opt"]
    assert all(L["requant_pairs"] >= 1 and "padding" in L for L in m["layers"])   # what each kernel was given
    text = capsys.readouterr().out
    assert "ref instructions" in text and "opt instructions" in text and "speed-up" in text
    assert "requant" in text and "padding" in text


@needs_qemu
def test_profile_names_instructions_and_memory(tmp_path):
    out = tmp_path / "prof.json"
    assert main(["profile", "--board", "stm32f4-qemu", "--model", "sine_mlp", "--repeats", "2",
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert (doc["version"], doc["unit"], doc["counter"]) == (2, "instructions", "icount")
    assert doc["instructions"] == doc["total"]["median"] and doc["macs_per_instruction"] == 288 / doc["instructions"]
    assert all(L["instructions"] > 0 and "count" not in L for L in doc["layers"])
    # the layers are timed by a hook between them, the total without it: they agree
    # up to the hook's own few dozen instructions per layer
    assert abs(sum(L["instructions"] for L in doc["layers"]) - doc["instructions"]) <= 50 * len(doc["layers"])
    mem = doc["memory"]
    assert mem["flash_bytes"] > mem["model"]["tables_flash_bytes"] > 288
    assert mem["model"]["activation_ram_bytes"] == mem["model"]["arena_bytes"] + mem["scratch_bytes"]
    assert mem["ram_bytes"] >= mem["arena_bytes"] + mem["scratch_bytes"] + mem["stack_bytes"]


def test_kws_activation_ram_fits_30_kib():
    """The arena kws_dscnn needs plus the optimised kernels' scratch (as `hil profile` adds them)."""
    import re
    from pathlib import Path

    from golden import artifact
    from golden.paths import qmodel_path
    from hil.targets.stm32.codegen import arena_need
    header = Path(__file__).resolve().parents[1] / "firmware_stm32" / "src" / "nn" / "hil_nn_opt.h"
    scratch = int(re.search(r"#define HIL_NN_SCRATCH_BYTES (\d+)u", header.read_text()).group(1))
    assert arena_need(artifact.load(qmodel_path("kws_dscnn"))) + scratch <= 30 * 1024


def test_bench_link_on_the_sim_board(tmp_path):
    """One MNIST input is one frame; its exchange is at least 95 % payload."""
    out = tmp_path / "link.json"
    assert main(["bench", "link", "--board", "sim", "--model", "mnist_lenet", "--model", "kws_dscnn",
                 "-n", "5", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    for m in doc["models"]:
        assert m["frames_per_input"] == 1
        assert m["load"]["payload_share"] >= 0.95, m
        assert m["load"]["payload_bytes_per_s"] > 0 and m["vector"]["calls"] == 5
    assert m["load"]["floor_bytes_per_s"] is None and doc["floor"] is None      # no raw floor on sim


@needs_qemu
def test_bench_link_measures_the_raw_floor_of_the_qemu_twin(tmp_path, capsys):
    """The same twin's USART streamed raw (bring-up app, SINK) after each exchange: hil's payload
    bytes/s is printed as a fraction of it. All default models: the protocol image is the usual one."""
    out = tmp_path / "link.json"
    assert main(["bench", "link", "--board", "stm32f4-qemu", "--model", "mnist_lenet", "--model", "kws_dscnn",
                 "--model", "sine_mlp", "-n", "2", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert "SINK" in doc["floor"]
    for m in doc["models"]:
        for phase in ("load", "vector"):
            p = m[phase]
            assert p["floor_bytes_per_s"] > 0, m
            assert p["of_floor"] == pytest.approx(p["payload_bytes_per_s"] / p["floor_bytes_per_s"])
    text = capsys.readouterr().out
    assert "raw floor B/s" in text and "of floor" in text
