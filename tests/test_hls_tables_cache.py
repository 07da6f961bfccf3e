"""The fpga-sim tables: plain integer arrays compiled once per model hash.

A generated <model>_tables.cpp holds no ap_int and compiles on its own; its
object is cached under a key of qmodel hash, generator version, text, compiler
and flags, reused for the same inputs and never for different ones; and
`hil bench fpga-build` shows a rebuild taking the tables from the cache, with
the compiler's peak RSS well under 1 GiB."""
import json
import shutil

import pytest

from golden import artifact
from golden.build import qmodel_path
from hil.cli import main
from hil.errors import BoardError
from hil.targets.hls import codegen, tables_cache
from hil.targets.hls.build import AP_TYPES_HINT, ap_types_dir

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None or shutil.which("make") is None,
                               reason="no host g++/make: install build-essential")


@pytest.fixture(scope="module")
def mnist_tables(tmp_path_factory):
    doc = artifact.load(qmodel_path("mnist_lenet"))
    files, _ = codegen.model_files(doc)
    path = tmp_path_factory.mktemp("tables") / "mnist_lenet_tables.cpp"
    path.write_text(files["mnist_lenet_tables.cpp"])
    return doc, path, files


def test_tables_are_plain_integer_arrays(mnist_tables):
    doc, path, files = mnist_tables
    text = path.read_text()
    assert "ap_int" not in text and "#include <stdint.h>" in text and doc["hash"] in text
    assert "const int8_t fc1_w[32][392] = {" in text and "const int32_t fc1_mult[32] = {" in text
    h = files["mnist_lenet_tables.h"]
    assert "extern const int8_t fc1_w[32][392];" in h and "typedef ap_int<8> w_t;" in h


@needs_gxx
def test_tables_object_is_reused_for_the_same_model_only(mnist_tables, tmp_path):
    doc, path, _ = mnist_tables
    cache = tmp_path / "cache"
    first = tables_cache.tables_object("mnist_lenet", doc["hash"], path, cache)
    again = tables_cache.tables_object("mnist_lenet", doc["hash"], path, cache)
    assert (first.reused, again.reused) == (False, True) and first.path == again.path
    assert first.path.stat().st_size > 13_000          # 13,188 int8 weights and more
    other = tables_cache.tables_object("mnist_lenet", "sha256:" + "0" * 64, path, cache)
    assert not other.reused and other.path != first.path
    path2 = tmp_path / "t.cpp"
    path2.write_text(path.read_text().replace("{", "{1, ", 1))     # any change of text: another key
    assert tables_cache.cache_key(doc["hash"], path2.read_text()) != tables_cache.cache_key(doc["hash"], path.read_text())


@needs_gxx
def test_tables_compile_failure_is_one_line(tmp_path):
    bad = tmp_path / "bad_tables.cpp"
    bad.write_text("const int8_t x[2] = {1, 2};\n")      # no <stdint.h>
    with pytest.raises(BoardError, match=r"compiling the tables of bad failed") as e:
        tables_cache.tables_object("bad", "sha256:" + "1" * 64, bad, tmp_path / "c")
    assert "\n" not in str(e.value)
    assert not list((tmp_path / "c").glob("*"))         # nothing half-written is left to be reused


@needs_gxx
@pytest.mark.skipif(ap_types_dir() is None, reason=f"Xilinx ap_int headers not installed: {AP_TYPES_HINT}")
def test_bench_fpga_build_reuses_the_tables(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "fpga-build", "--model", "sine_mlp", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["format"] == "hil-bench-fpga-build"
    phases = {f["phase"]: f for f in doc["figures"]}
    assert list(phases) == ["cold", "cached", "no-op"]
    assert not phases["cold"]["tables_reused"] and phases["cached"]["tables_reused"]
    for f in doc["figures"]:
        assert 0 < f["compiler_peak_kib"] < 1024 * 1024, f     # KiB: under 1 GiB
    assert phases["no-op"]["compiler_cpu_s"] < phases["cold"]["compiler_cpu_s"]
    assert "compiler peak MiB" in capsys.readouterr().out
