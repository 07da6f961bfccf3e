"""Issue 17: names never become code or commands.

The reproducers: a model name that ran shell commands in the STM32 build, names
that write outside the artifacts root, names too long for the protocol, names
with spaces; layer names that closed a comment or a string in generated C/C++.
Each now gives one line naming the rule, or builds and runs correctly."""
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from golden import names
from golden.names import BadName
from hil import cli
from hil.errors import ConfigError
from hil.lab_config import parse
from hil.protocol import spec
from hil.targets.c_text import c_comment, c_identifier, c_string
from tests.hostile_models import clone

ROOT = Path(__file__).resolve().parents[1]
PWNED_NAME = ".;id>PWNED;#"
HOSTILE = ["*/ #error INJECTED", 'a"b', "back\\slash", 'x\n#include "/etc/hostname"', "??/ trigraph ??=",
           "caf\u00e9 \u2603", "tab\there", "/* open", "end\\", "a.b", "0digit", "int"]


def run_cli(capsys, *argv) -> tuple[int, str]:
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())


def no_pwned(*dirs: Path) -> bool:
    return not any(list(Path(d).rglob("PWNED")) for d in dirs if Path(d).exists())


# ---- the rule --------------------------------------------------------------------------

def test_name_length_is_what_the_protocol_carries():
    size = {f[0]: f[2] for m in spec.MESSAGES if m.name == "MODEL_INFO_RSP" for f in m.fields}["name"]
    assert names.NAME_MAX == size == 24
    assert names.is_valid("a" * 24) and not names.is_valid("a" * 25)


@pytest.mark.parametrize("good", ["mnist_lenet", "kws_dscnn_fpga", "shufflenetv2_mini", "stm32f4-qemu", "x",
                                  "bench-3", "A1_b-2"])
def test_good_names(good):
    assert names.check(good) == good


@pytest.mark.parametrize("bad", [PWNED_NAME, "../x", "/abs/x", "a b", "a" * 25, "", "1abc", "_x", "-x", "a/b",
                                 "a.b", "a$(id)", "a'b", "caf\u00e9", "a\nb", None, 3])
def test_bad_names_are_one_line_with_the_pattern(bad):
    with pytest.raises(BadName) as exc:
        names.check(bad)
    msg = str(exc.value)
    assert "\n" not in msg and names.PATTERN in msg


# ---- where names enter -------------------------------------------------------------------

@pytest.mark.parametrize("bad", [PWNED_NAME, "../x", "/abs/x", "a b", "n" * 25])
def test_golden_build_name_refused_before_anything(tmp_path, capsys, bad):
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"not even read")
    root = tmp_path / "A"
    code, text = run_cli(capsys, "golden", "build", "--onnx", onnx, "--name", bad, "--dataset", "mnist",
                         "--artifacts", root)
    assert code == 2 and names.PATTERN in text and "Traceback" not in text
    assert not root.exists() or not any(root.iterdir())     # nothing written, in or out of the root
    assert not (tmp_path / "x").exists() and not Path("/abs").exists()
    assert no_pwned(tmp_path, ROOT / "firmware_stm32", Path.cwd())


@pytest.mark.parametrize("board", ["stm32f4-qemu", "sim", "fpga-sim"])
@pytest.mark.parametrize("bad", [PWNED_NAME, "a b", "n" * 25, "../mnist_lenet"])
def test_run_model_name_refused_before_any_build(tmp_path, capsys, board, bad):
    code, text = run_cli(capsys, "run", "--board", board, "--model", bad, "--artifacts", tmp_path,
                         "--vectors", "2", "--no-db")
    assert code == 2 and names.PATTERN in text and "Traceback" not in text
    assert no_pwned(tmp_path, ROOT / "firmware_stm32", Path.cwd())


def test_pytest_model_option_refused_as_a_usage_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", str(ROOT / "tests" / "board"), "--board=sim",
                        f"--model={PWNED_NAME}", "-p", "no:cacheprovider", f"--hil-json={tmp_path / 'r.json'}"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 4 and names.PATTERN in r.stderr and "Traceback" not in r.stdout + r.stderr
    assert no_pwned(tmp_path, ROOT / "firmware_stm32")


def test_root_scan_skips_a_folder_with_a_bad_name(tmp_path, capsys, caplog):
    clone(tmp_path, "good_one")
    bad = tmp_path / "bad name"
    shutil.copytree(tmp_path / "good_one", bad)
    (bad / "good_one.qmodel.json").rename(bad / "bad name.qmodel.json")
    from golden.registry import built_models
    with caplog.at_level(logging.WARNING):
        assert built_models(tmp_path) == ["good_one"]
    assert any("bad name" in r.getMessage() and names.PATTERN in r.getMessage() for r in caplog.records)
    code, text = run_cli(capsys, "golden", "show", "--artifacts", tmp_path, "--format", "json")
    assert code == 0 and "good_one" in text


@pytest.mark.parametrize("toml, what", [
    ('[boards."a;b"]\nbaud = 9600\n', "board name"),
    ('[boards.labgrid]\ncoordinator = "h:1"\n[boards.labgrid.places."../p"]\nclock_hz = 1\n', "place name"),
    ('[nightly]\n[[nightly.run]]\nboard = "sim"\nmodels = ["x y"]\n', "model name"),
])
def test_lab_config_names(toml, what):
    with pytest.raises(ConfigError) as exc:
        parse(toml)
    assert what in str(exc.value) and names.PATTERN in str(exc.value) and "\n" not in str(exc.value)


def test_subprocesses_never_take_a_shell_string():
    """Commands are argument lists: no shell=True, os.system or os.popen anywhere in hil or golden."""
    bad = [f"{p.relative_to(ROOT)}: {w}" for d in ("hil", "golden", "scripts") for p in (ROOT / d).rglob("*.py")
           for w in ("shell=True", "os.system(", "os.popen(") if w in p.read_text()]
    assert bad == []


# ---- text into C and C++ ---------------------------------------------------------------------

def test_c_text_output_is_plain_ascii():
    for text in HOSTILE:
        for out in (c_comment(text), c_string(text)[1:-1], c_identifier(text)):
            assert out.isascii() and out.isprintable() and "*/" not in out and "/*" not in out
            assert "??" not in out and "\n" not in out
        assert "\\" not in c_comment(text) and '"' not in c_string(text)[1:-1].replace('\\042', '')
    assert c_identifier("blocks.0.conv") == "blocks_0_conv" and c_identifier("fc1") == "fc1"
    assert c_identifier("0digit").startswith("l_0digit") and c_identifier("int") == "int_"
    assert c_identifier("a b") != c_identifier("a_b")          # lossy mappings stay apart


@pytest.mark.parametrize("std, tool", [("-std=c11", "gcc"), ("-std=c++14", "g++")])
def test_c_strings_round_trip_through_a_compiler(tmp_path, std, tool):
    """Every hostile text as a string literal and in a comment, compiled with trigraphs on
    (-std=c11 / c++14): the program prints exactly the UTF-8 bytes of each text."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")
    body = "\n".join(f"    /* {c_comment(t)} */ fputs({c_string(t)}, stdout); fputc(0, stdout);" for t in HOSTILE)
    src = tmp_path / ("t.c" if tool == "gcc" else "t.cpp")
    src.write_text(f"#include <stdio.h>\nint main(void)\n{{\n{body}\n    return 0;\n}}\n")
    exe = tmp_path / "t"
    r = subprocess.run([tool, std, "-Wall", "-Werror", "-Wno-trigraphs", str(src), "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [t.encode() for t in HOSTILE]


def _hostile_sine(doc: dict) -> None:
    """sine_mlp's three layers renamed with the worst texts seen (comment end, quote, newline +
    #include, trigraph, non-ASCII)."""
    renames = ["*/ #error X", 'q"\\ \n#include "/etc/hostname"', "??/ caf\u00e9 */"]
    for L, new in zip(doc["layers"], renames):
        L["name"] = new
    for prev, L in zip(doc["layers"], doc["layers"][1:]):
        if "inputs" in L:
            L["inputs"] = [prev["name"]]


def test_stm32_tables_with_hostile_layer_names_compile(tmp_path):
    """The generated STM32 tables hold every hostile name only escaped (arm-none-eabi-gcc -Werror)."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    from hil.targets.stm32 import codegen
    q = clone(tmp_path, "hostile_sine", edit=_hostile_sine)
    codegen.generate([str(q)], tmp_path / "gen")
    fw = ROOT / "firmware_stm32"
    r = subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-std=gnu11", "-Wall", "-Wextra",
                        "-Werror", "-trigraphs", "-c", str(tmp_path / "gen" / "hil_models.c"), "-o",
                        str(tmp_path / "m.o"), f"-I{fw / 'include'}", f"-I{tmp_path / 'gen'}",
                        f"-I{ROOT / 'hil' / 'device_lib' / 'include'}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "gen" / "hil_models.c").read_text()
    assert not re.search(r'^\s*#\s*(error|include\s*"/etc)', text, re.M)     # no directive of a name's


def test_hls_code_with_hostile_layer_names_compiles(tmp_path):
    """The generated HLS C++ of a model with hostile layer names compiles (g++ -std=c++14 -Werror on
    our code's warnings about text: trigraphs, multi-line comments)."""
    from hil.targets.hls import codegen
    from hil.targets.hls.build import ap_types_dir
    ap = ap_types_dir()
    if ap is None or shutil.which("g++") is None:
        pytest.skip("ap_int headers or g++ missing")
    q = clone(tmp_path, "hostile_sine", edit=_hostile_sine)
    files, _ = codegen.model_files(json.loads(q.read_text()))
    out = tmp_path / "gen"
    codegen.write_files(files, out)
    hls = ROOT / "firmware_fpga_hls"
    for cpp in sorted(out.glob("*.cpp")):
        r = subprocess.run(["g++", "-std=c++14", "-Wtrigraphs", "-Wcomment", "-Werror=trigraphs",
                            "-Werror=comment", "-Wno-unknown-pragmas", "-c", str(cpp), "-o", str(cpp.with_suffix(".o")),
                            f"-I{hls / 'include'}", f"-I{hls / 'sim'}", f"-I{out}",
                            f"-I{ROOT / 'hil' / 'device_lib' / 'include'}", "-isystem", str(ap)],
                           capture_output=True, text=True)
        assert r.returncode == 0, cpp.name + ": " + r.stderr[-2000:]


def test_nn_mk_models_words_are_quoted(tmp_path):
    """`make MODELS=PATH` (nn.mk by hand): a path with a quote, ';' and '#' generates the tables, runs
    nothing, and a second make has nothing to do (no restart loop)."""
    q = clone(tmp_path / "q'x;y#z", "qsine")
    (tmp_path / "Makefile").write_text(f"include {ROOT / 'firmware_stm32' / 'nn.mk'}\nall: $(NN_GEN)\n")
    cmd = ["make", "-C", str(tmp_path), f"MODELS={q}", "NN_GEN_DIR=gen", f"PYTHON={sys.executable}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "HIL_MODEL_ID_QSINE 0u" in (tmp_path / "gen" / "hil_models.h").read_text()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "GEN" not in r.stdout and no_pwned(tmp_path)


# ---- end to end: a hostile artifacts root and layer names on both twins -----------------------

HOSTILE_ROOT = "a b;$(touch PWNED)'q\"`touch PWNED`"


@pytest.mark.parametrize("board", ["stm32f4-qemu", "fpga-sim"])
def test_hostile_root_and_layer_names_build_and_run(tmp_path, capsys, board):
    """A model under an artifacts root named with a space, ';', '$()', quotes and backquotes, whose
    layers are named `*/ #error X`, a quote + newline + #include, and a trigraph: the firmware /
    fpga-sim image builds, runs 5 vectors with 0 integer mismatches, and no PWNED file appears."""
    root = tmp_path / HOSTILE_ROOT
    clone(root, "hostile_sine", edit=_hostile_sine)
    out = tmp_path / "run.json"
    code, text = run_cli(capsys, "run", "--board", board, "--model", "hostile_sine", "--artifacts", root,
                         "--vectors", "5", "--no-db", "--json", out)
    assert code == 0, text
    doc = json.loads(out.read_text())
    run = doc["runs"][0] if "runs" in doc else doc
    assert run["model"] == "hostile_sine" and run["vectors"] == 5 and run["int_mismatches"] == 0
    assert no_pwned(tmp_path, ROOT / "firmware_stm32", ROOT / "firmware_fpga_hls", Path.cwd())


TORCH_NET = '''
from torch import nn


class Net(nn.Sequential):
    def __init__(self):
        super().__init__()
        self.add_module("*/ #error X", nn.Linear(1, 16))
        self.add_module("relu", nn.ReLU())
        self.add_module("??/ caf\\u00e9", nn.Linear(16, 1))
'''


def test_torch_layer_names_arrive_escaped(tmp_path, capsys):
    """The way such names arrive: `hil golden build --torch` keeps them as layer names (torch
    allows any attribute name without '.'), the artifact holds them, the generated tables escape
    them, and the model runs on `sim` (the twins: test_hostile_root_and_layer_names_build_and_run)."""
    import torch
    (tmp_path / "net.py").write_text(TORCH_NET)
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib
        net = importlib.import_module("net").Net()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("net", None)
    torch.save(net.state_dict(), tmp_path / "w.pt")
    root = tmp_path / "A"
    code, text = run_cli(capsys, "golden", "build", "--torch", f"{tmp_path / 'net.py'}:Net", "--weights",
                         tmp_path / "w.pt", "--name", "torch_hostile", "--dataset", "sine", "--artifacts", root)
    assert code == 0, text
    doc = json.loads((root / "torch_hostile" / "torch_hostile.qmodel.json").read_text())
    assert [L["name"] for L in doc["layers"]] == ["*/ #error X", "??/ caf\u00e9"]
    from hil.targets.stm32 import codegen
    codegen.generate([str(root / "torch_hostile" / "torch_hostile.qmodel.json")], tmp_path / "gen")
    assert "/* 0: __ #error X */" in (tmp_path / "gen" / "hil_models.c").read_text()
    code, text = run_cli(capsys, "run", "--board", "sim", "--model", "torch_hostile", "--artifacts", root,
                         "--vectors", "5", "--no-db")
    assert code == 0, text
