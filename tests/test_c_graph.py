"""The C engine runs graph models bit for bit as golden/intsim does: the new ops
(add, concat, channel shuffle/slice, grouped conv, global average pool; pad, softmax,
mean, 4-value padding, depth multiplier 2, pooling with padding), the
graph executor and the liveness arena plan, on hand-made blocks quantized
here (tests/graph_nets.py), built with the host gcc (plain and ASan+UBSan)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from golden import artifact
from hil import device_lib
from golden.intsim.run import IntegerSimulator
from hil.targets.stm32 import codegen as codegen_c
from hil.targets.stm32 import memory_plan
from tests.graph_nets import Fire, Residual, ShuffleUnit, TinyGraphNet, randomize_bn
from tests.test_graph_ops import _quantized

ROOT = Path(__file__).resolve().parents[1]
FW = ROOT / "firmware_stm32"
NN_SRCS = sorted((FW / "src" / "nn").glob("*.c"))
RUNNER = ROOT / "tests" / "c" / "nn_runner_main.c"
FLAGS = {"c": ["-O2", "-DHIL_NN_KERNELS_OPT=0"], "opt": ["-O2", "-DHIL_NN_KERNELS_OPT=1"],
         "asan": ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-DHIL_NN_KERNELS_OPT=0"]}

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc: install build-essential")


def _blocks():
    torch.manual_seed(1)
    return {
        "fire": (randomize_bn(Fire(4, 4, 6)), (4, 6, 6)),
        "residual": (randomize_bn(Residual(4)), (4, 6, 6)),
        "shuffle_unit": (randomize_bn(ShuffleUnit(8)), (8, 5, 5)),
        "grouped_relu6_gap": (nn.Sequential(nn.Conv2d(6, 9, 3, padding=1, groups=3), nn.ReLU6(),
                                            nn.AdaptiveAvgPool2d(1)), (6, 6, 6)),
        "tiny_graph": (randomize_bn(TinyGraphNet()), (1, 28, 28)),
    }


def _tflm_ops_doc() -> dict:
    """A hand-made chain of the TFLite Micro ops: PAD, conv with 4-value padding and
    stride 2, depthwise with depth multiplier 2, max and average pooling with padding,
    MEAN and SOFTMAX (no torch module has them all)."""
    from golden.intsim.arith import quantize_multiplier, softmax_params
    rng = np.random.default_rng(18)

    def weighted(name, op, in_shape, out_shape, wshape, pad, stride, zps, reals, relu):
        q = [quantize_multiplier(r) for r in reals]
        return dict(name=name, op=op, in_shape=in_shape, out_shape=out_shape, kernel=list(wshape[2:]),
                    stride=stride, padding=pad, weights_shape=wshape,
                    weights=rng.integers(-127, 128, wshape).reshape(-1).tolist(),
                    bias=rng.integers(-2000, 2000, wshape[0]).tolist(), input_zp=zps[0], output_zp=zps[1],
                    act_min=zps[1] if relu else -128, act_max=127, multiplier=[m for m, _ in q],
                    shift=[sh for _, sh in q], macs=0)

    m, ls, dmin = softmax_params(1.0, 0.1)
    mm, ms = quantize_multiplier(0.8)
    layers = [
        dict(name="pad", op="pad", in_shape=[3, 9, 8], out_shape=[3, 10, 11], pads=[1, 0, 2, 1],
             input_zp=-3, output_zp=-3, macs=0),
        weighted("conv", "conv2d", [3, 10, 11], [4, 5, 5], [4, 3, 3, 3], [0, 1, 1, 0], [2, 2], (-3, 5),
                 rng.uniform(0.001, 0.01, 4), True),
        weighted("dw", "depthwise_conv2d", [4, 5, 5], [8, 5, 5], [8, 1, 3, 3], [1, 1, 1, 1], [1, 1], (5, -10),
                 rng.uniform(0.005, 0.05, 8), False),
        dict(name="maxpool", op="maxpool2d", in_shape=[8, 5, 5], out_shape=[8, 3, 3], kernel=[3, 3],
             stride=[2, 2], padding=[1, 1, 1, 1], macs=0),
        dict(name="avgpool", op="avgpool2d", in_shape=[8, 3, 3], out_shape=[8, 3, 3], kernel=[2, 2],
             stride=[1, 1], padding=[0, 1, 0, 1], macs=0),
        dict(name="mean", op="mean", in_shape=[8, 3, 3], out_shape=[8, 1, 1], input_zp=-10, output_zp=3,
             multiplier=[mm], shift=[ms], macs=0),
        dict(name="softmax", op="softmax", in_shape=[8, 1, 1], out_shape=[8, 1, 1], input_zp=3, beta=1.0,
             input_multiplier=m, input_left_shift=ls, diff_min=dmin, output_zp=-128, macs=0),
    ]
    layers[2]["depth_multiplier"] = 2
    return dict(model="tflm_ops", scheme="int8", layers=layers,
                input=dict(shape=[3, 9, 8], dtype="int8", scale=0.05, zero_point=-3),
                output=dict(shape=[8, 1, 1], dtype="int8", scale=1 / 256, zero_point=-128))


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    """(docs by name, build(variant) -> runner exe); ids in _blocks() order."""
    work = tmp_path_factory.mktemp("cgraph")
    docs = {}
    for name, (model, shape) in _blocks().items():
        doc, _ = _quantized(model, shape)
        doc = artifact.finalize(dict(doc, model=name))
        artifact.save(doc, work / f"{name}.qmodel.json")
        docs[name] = doc
    doc = artifact.finalize(_tflm_ops_doc())
    artifact.save(doc, work / "tflm_ops.qmodel.json")
    docs["tflm_ops"] = doc
    codegen_c.generate([str(work / f"{n}.qmodel.json") for n in docs], work / "gen")

    def build(variant: str) -> Path:
        exe = work / f"runner_{variant}"
        if not exe.exists():
            cmd = ["gcc", *FLAGS[variant], "-Wall", "-Wextra", "-Werror", "-std=c99", f"-I{FW / 'include'}",
                   f"-I{FW / 'src' / 'nn'}", f"-I{device_lib.INCLUDE_DIR}", f"-I{work / 'gen'}", *map(str, NN_SRCS),
                   str(work / "gen" / "hil_models.c"), str(RUNNER), "-o", str(exe)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0 and variant == "asan" and "sanitize" in r.stderr:
                pytest.skip("host gcc lacks sanitizers")
            assert r.returncode == 0, r.stderr
        return exe
    return docs, build


def _inputs(doc, n, seed):
    rng = np.random.default_rng(seed)
    xs = rng.integers(-128, 128, (n, *doc["input"]["shape"]))
    xs[0] = -128
    xs[1] = 127
    return xs.astype(np.int8)


@pytest.mark.parametrize("variant", ["c", "opt", "asan"])
def test_graph_models_bit_exact_with_every_layer(graphs, variant):
    docs, build = graphs
    exe = build(variant)
    for mid, (name, doc) in enumerate(docs.items()):
        xs = _inputs(doc, 12, mid)
        r = subprocess.run([str(exe), "model", str(mid), str(len(xs)), str(len(xs))],
                           input=xs.tobytes(), capture_output=True)
        assert r.returncode == 0, f"{name}: {r.stderr.decode()}"
        buf = np.frombuffer(r.stdout, np.int8)
        sim = IntegerSimulator(doc)
        pos = 0
        for v, x in enumerate(xs):
            out, layers = sim.run_one(x, keep_layers=True)
            n_out = out.size
            assert np.array_equal(buf[pos:pos + n_out], out.ravel()), f"{name} vector {v}: output differs"
            pos += n_out
            for i, (L, t) in enumerate(zip(doc["layers"], layers)):
                got = buf[pos:pos + t.size]
                pos += t.size
                bad = np.flatnonzero(got != t.ravel())
                assert bad.size == 0, (f"{name} vector {v}: layer {i} '{L['name']}' ({L['op']}) differs at "
                                       f"{bad[0]}: C {got[bad[0]]}, golden {t.ravel()[bad[0]]}")
        assert pos == len(buf)


def test_run_until_reads_any_layer_of_a_graph(graphs):
    docs, build = graphs
    exe = build("c")
    mid, doc = 2, docs["shuffle_unit"]
    x = _inputs(doc, 3, 9)[2]
    _, layers = IntegerSimulator(doc).run_one(x, keep_layers=True)
    for i, t in enumerate(layers):
        r = subprocess.run([str(exe), "until", str(mid), str(i)], input=x.tobytes(), capture_output=True)
        assert r.returncode == 0 and np.array_equal(np.frombuffer(r.stdout, np.int8), t.ravel()), \
            f"run_until({i}) '{doc['layers'][i]['name']}'"


def test_arena_plan_is_safe_and_beats_the_naive_sum(graphs):
    docs, build = graphs
    for name, doc in docs.items():
        p = memory_plan.plan(doc)
        memory_plan.check(doc, p)
        assert p.peak <= p.naive
    p = memory_plan.plan(docs["tiny_graph"])
    assert p.peak < 0.6 * p.naive, f"tiny_graph: planned {p.peak} B vs naive {p.naive} B"
    info = subprocess.run([str(build("c")), "info"], capture_output=True, text=True).stdout.splitlines()
    arenas = [int(ln.split()[6]) for ln in info if ln.startswith("model ")]
    assert arenas == [memory_plan.plan(d).peak for d in docs.values()]


def test_codegen_rejects_broken_graphs(graphs):
    docs, _ = graphs
    doc = docs["fire"]
    cat = next(i for i, L in enumerate(doc["layers"]) if L["op"] == "concat")
    layers = [dict(L) for L in doc["layers"]]
    layers[cat] = dict(layers[cat], inputs=[layers[cat]["inputs"][0], "nowhere"])
    with pytest.raises(codegen_c.CodegenError, match="reads 'nowhere'"):
        codegen_c.check_model(dict(doc, layers=layers))
    layers = [dict(L) for L in doc["layers"]]
    layers[cat] = dict(layers[cat], out_shape=[layers[cat]["out_shape"][0] + 1, *layers[cat]["out_shape"][1:]])
    with pytest.raises(codegen_c.CodegenError, match="concat"):
        codegen_c.check_model(dict(doc, layers=layers, output=dict(doc["output"], shape=layers[-1]["out_shape"])))



@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not on PATH")
def test_activation_arena_too_big_for_ram_names_the_model_and_sizes(tmp_path):
    """16 x 96 x 96 activations (147 KB) cannot fit the F405's 128 KiB RAM."""
    torch.manual_seed(0)
    doc, _ = _quantized(nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)), (1, 96, 96), n=4)
    doc = artifact.finalize(dict(doc, model="wide"))
    path = tmp_path / "wide.qmodel.json"
    artifact.save(doc, path)
    from hil.targets.stm32.firmware import FIRMWARE_DIR
    r = subprocess.run(["make", "-C", str(FIRMWARE_DIR), "TARGET=qemu", f"BUILD_DIR={tmp_path / 'b'}",
                        f"MODELS={path}"], capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "RAM overflow" in out, out[-2000:]
    p = memory_plan.plan(doc)
    assert f"arena wide: planned {p.peak} B, naive sum {p.naive} B" in out, out[-2000:]
