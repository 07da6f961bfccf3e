"""Generate the HLS model code of firmware_fpga_hls from quantized-model artifacts.

Reads `<model>.qmodel.json` (golden.artifact.load) and the design/cycle plan
of design.py / cycles.py, and writes into a build directory (never committed),
per model (in `<models root>/<model>/`, shared by every image holding it):

  <model>_tables.h    layer config structs (shapes, shifts, zero points, ap_int
                      widths) + extern declarations of the constant tables
  <model>_tables.cpp  the tables as plain integer arrays (int8_t weights,
                      int32_t biases and Q31 multipliers, int8_t shifts; the
                      kernels read them as ap_int); compiled once per model
                      hash (tables_cache.py)
  <model>.h           the synthesis top's prototype + modelled cycle constants
  <model>_top.cpp     the synthesis top `<model>_top`: a DATAFLOW region that
                      copies the input, then chains hil::<op>_<dtype> kernels
                      through ping-pong buffers or FIFOs (graphs: graph_top.py)
  <model>_desc.cpp    shapes, hash and modelled cycles for the emulator and the
                      testbench (not synthesised; no ap_int, so it compiles fast:
                      its run() is at the end of <model>_top.cpp, outside synthesis)

and per image (the model list, ids in list order): hil_models.cpp (the
registry), models.mk (sources for the Makefile) and manifest.json (the plans).
Every file is stamped with the qmodel hash it came from. Activation widths are
derived from the weights: each buffer is exactly wide enough for every value
any int8 input can produce, so nothing is ever truncated (shift scheme).

    python -m hil.targets.hls.codegen --out build/x/gen --models-root build/models kws_dscnn_fpga mnist_lenet
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from golden import artifact
from golden.intsim.padding import pad4
from golden.qmodel import Layer, QModel
from hil.errors import CodegenError
from hil.targets.c_text import c_comment, c_string
from hil.targets.hls import cycles, design, graph_top
from hil.targets.hls.cycles import cfg_ident
from hil.targets.hls.design import ModelPlan, Stage, is_matvec, shape3
from hil.protocol import spec

GENERATOR = "hil/targets/hls/codegen.py"
GEN_VERSION = 2
FW_VERSION = "hil-hls 0.1"
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
OP_MACROS = {n: f"HIL_OP_{n.upper()}" for n, _, _ in spec.OPS}
DTYPE_MACROS = {"int8": "HIL_DTYPE_INT8", "int32": "HIL_DTYPE_INT32"}


def bits_for(lo: int, hi: int) -> int:
    """Smallest signed width holding every value in [lo, hi]."""
    n = 1
    while lo < -(1 << (n - 1)) or hi > (1 << (n - 1)) - 1:
        n += 1
    return n


@dataclass
class LayerCode:
    L: Layer
    stage: Stage
    ident: str
    in_bits: int
    out_bits: int
    w_bits: int
    acc_range: tuple[int, int] | None
    out_range: tuple[int, int]


def _weights(L: Layer) -> np.ndarray:
    return np.asarray(L["weights"], np.int64).reshape(L["weights_shape"])


def _acc_range(L: Layer, lo: int, hi: int) -> tuple[int, int]:
    """Bounds of the int32 accumulators over every input in [lo, hi]."""
    w = _weights(L)
    wf = w.reshape(w.shape[0], -1)
    zp = L.get("input_zp", 0)
    a, b = wf * (lo - zp), wf * (hi - zp)
    mn, mx = np.minimum(a, b), np.maximum(a, b)
    if any(L.get("padding", [0, 0])):        # padded taps contribute exactly 0
        mn, mx = np.minimum(mn, 0), np.maximum(mx, 0)
    bias = np.asarray(L["bias"], np.int64) if L.get("bias") is not None else 0
    return int((mn.sum(1) + bias).min()), int((mx.sum(1) + bias).max())


def layer_codes(qm: QModel, plan: ModelPlan) -> list[LayerCode]:
    scheme = qm.scheme
    out = []
    lo, hi = -128, 127                       # any int8 byte the host may send
    in_bits = 8
    n = len(qm.layers)
    for i, (L, st) in enumerate(zip(qm.layers, plan.layers)):
        acc = None
        w_bits = 0
        if "weights" in L:
            w = _weights(L)
            w_bits = 8 if scheme == "int8" else max(2, bits_for(int(w.min()), int(w.max())))
            acc = _acc_range(L, lo, hi)
        if scheme == "int8":
            olo, ohi = -128, 127
        elif L.op == "maxpool2d":
            olo, ohi = lo, hi
        else:
            r = L.get("rshift", 0)
            olo, ohi = acc[0] >> r, acc[1] >> r
            if L.get("relu"):
                olo, ohi = max(olo, 0), max(ohi, 0)
        out_bits = 8 if scheme == "int8" else min(32, bits_for(olo, ohi))
        if i == n - 1:
            out_bits = 8 if qm.output.dtype == "int8" else 32
        out.append(LayerCode(L, st, cfg_ident(L.name), in_bits, out_bits, w_bits, acc, (olo, ohi)))
        lo, hi, in_bits = olo, ohi, out_bits
    return out


def check_supported(doc: QModel | dict) -> None:
    qm = QModel.of(doc)
    if qm.scheme not in ("shift", "int8"):
        raise CodegenError(f"{qm.model}: scheme {qm.scheme} has no HLS kernels")
    graph = design.is_graph(qm)
    if graph and qm.scheme != "int8":
        raise CodegenError(f"{qm.model}: graph models (branches, add, concat, shuffle) need the int8 "
                           f"scheme in the HLS flow; the shift scheme runs chains only")
    for L in qm.layers:
        if L.op == "concat" and len(L.inputs) != 2:
            raise CodegenError(f"{qm.model}/{L.name}: the HLS concat kernel takes 2 inputs, "
                               f"this one has {len(L.inputs)}")
        design.kernel_name(L, qm.scheme)      # raises for unknown ops
        if L.op == "depthwise_conv2d" and (L["weights_shape"][1] != 1 or
                                           L.out_shape[0] % L.in_shape[0] != 0):
            raise CodegenError(f"{qm.model}/{L.name}: depthwise weights must be [C*M, 1, KH, KW] "
                               f"for {L.in_shape[0]} input channels")
        pad4(L)     # a malformed padding is named here
        if L.op == "avgpool2d" and qm.scheme != "int8":
            raise CodegenError(f"{qm.model}/{L.name}: avgpool2d exists only in the int8 scheme")
        for shape in (L.in_shape, L.out_shape):
            shape3(shape)
    idents: dict[str, str] = {}        # C++ identifiers of layer names (c_text) must stay distinct
    for L in qm.layers:
        other = idents.setdefault(cfg_ident(L.name), L.name)
        if other != L.name:
            raise CodegenError(f"{qm.model}: layers {other!r} and {L.name!r} both become the C++ "
                               f"identifier {cfg_ident(L.name)}; rename one")


# ---- C text helpers ------------------------------------------------------------

def c_array(values, shape, indent: str = "    ", per_line: int = 24) -> str:
    """Nested-brace initializer of a row-major array."""
    flat = [int(v) for v in np.asarray(values).reshape(-1)]
    if len(shape) == 1:
        rows = [", ".join(map(str, flat[i:i + per_line])) for i in range(0, len(flat), per_line)]
        return "{" + (",\n" + indent + " ").join(rows) + "}"
    step = math.prod(shape[1:])
    inner = [c_array(flat[k * step:(k + 1) * step], shape[1:], indent + " ", per_line) for k in range(shape[0])]
    return "{" + (",\n" + indent).join(inner) + "}"


def _dims(shape) -> str:
    s = list(shape) + [0] * (4 - len(shape))
    return "{" + ", ".join(map(str, s)) + "}"


def stamp(qm: QModel, what: str) -> str:
    return (f"/* {c_comment(what)}\n * GENERATED by {GENERATOR} (v{GEN_VERSION}) from {c_comment(qm.model)}"
            f".qmodel.json: do not edit.\n * qmodel {c_comment(qm.hash)}\n"
            f" * cycles: modelled by hil/targets/hls/cycles.py v{cycles.MODEL_VERSION}, not measured. */\n")


# ---- per-model files -------------------------------------------------------------

def _cfg_struct(qm: QModel, lc: LayerCode, index: int) -> str:
    L, st, scheme = lc.L, lc.stage, qm.scheme
    ic, ih, iw = shape3(L.in_shape)
    oc, oh, ow = shape3(L.out_shape)
    lines = [f"struct {lc.ident}_cfg {{  /* {c_comment(L.name)}: {c_comment(L.op)} -> {st.kernel} */",
             f"    static const int LAYER = {index};",
             f"    typedef ap_int<{lc.in_bits}> in_t;",
             f"    typedef ap_int<{lc.out_bits}> out_t;",
             f"    static const int IN_BITS = {lc.in_bits};"]
    if lc.w_bits:
        lines.append(f"    typedef ap_int<{lc.w_bits}> w_t;")
    if is_matvec(L):
        n_out, n_in = L["weights_shape"][0], math.prod(L["weights_shape"][1:])
        lines += [f"    static const int IN_N = {n_in}, OUT_N = {n_out};",
                  f"    static const int P = {st.parallel}, G = {st.groups};  /* MACs per cycle, cycles per input */"]
    else:
        lines += [f"    static const int IN_C = {ic}, IN_H = {ih}, IN_W = {iw};",
                  f"    static const int OUT_C = {oc}, OUT_H = {oh}, OUT_W = {ow};"]
        if "kernel" in L and (L.op != "maxpool2d" or not L.get("global")):
            kh, kw = L["kernel"]
            sh, sw = L["stride"]
            pt, pb, pl, pr = pad4(L)
            lines.append(f"    static const int K_H = {kh}, K_W = {kw}, S_H = {sh}, S_W = {sw}, "
                         f"P_T = {pt}, P_B = {pb}, P_L = {pl}, P_R = {pr};")
    lines += graph_top.graph_cfg(qm, L)
    if "weights" in L:
        has_bias = L.get("bias") is not None
        blen = L["weights_shape"][0] if has_bias else 1
        lines.append(f"    static const int B_LEN = {blen};")
        lines.append(f"    static const bool HAS_BIAS = {'true' if has_bias else 'false'};")
        if scheme == "shift":
            lines.append(f"    static const int RSHIFT = {L.get('rshift', 0)};")
            lines.append(f"    static const bool RELU = {'true' if L.get('relu') else 'false'};")
        else:
            lines.append(f"    static const int IN_ZP = {L['input_zp']}, OUT_ZP = {L['output_zp']};")
            lines.append(f"    static const int ACT_MIN = {L['act_min']}, ACT_MAX = {L['act_max']};")
    if lc.acc_range:
        lines.append(f"    /* accumulators in [{lc.acc_range[0]}, {lc.acc_range[1]}], "
                     f"outputs in [{lc.out_range[0]}, {lc.out_range[1]}] for any int8 input */")
    lines.append("};")
    return "\n".join(lines)


@dataclass(frozen=True)
class Table:
    """One constant table of a layer: a plain C integer array (hil_hls/types.h says why)."""
    name: str
    ctype: str                   # int8_t or int32_t: the storage type, never ap_int
    shape: list[int]
    values: object
    lo: int                      # the range the kernel's ap_int view of an element holds
    hi: int

    def declarator(self) -> str:
        return f"{self.ctype} {self.name}{''.join(f'[{d}]' for d in self.shape)}"


def _tables(qm: QModel, lc: LayerCode) -> list[Table]:
    """A layer's constant tables: weights int8_t (read as CFG::w_t), biases and Q31
    multipliers int32_t (read as acc_t), shifts int8_t."""
    L, ident = lc.L, lc.ident
    if "weights" not in L:       # add: its scalars are config constants
        return []
    if lc.w_bits > 8:
        raise CodegenError(f"{L.name}: weights need {lc.w_bits} bits; the HLS tables hold at most 8")
    w = _weights(L)
    if is_matvec(L):
        shape = [w.shape[0], int(np.prod(w.shape[1:]))]
    else:
        shape = list(w.shape)
    wlo, whi = -(1 << (lc.w_bits - 1)), (1 << (lc.w_bits - 1)) - 1
    out = [Table(f"{ident}_w", "int8_t", shape, w.reshape(shape), wlo, whi)]
    bias = L.get("bias")
    out.append(Table(f"{ident}_b", "int32_t", [len(bias) if bias is not None else 1],
                     bias if bias is not None else [0], INT32_MIN, INT32_MAX))
    if qm.scheme == "int8":
        out.append(Table(f"{ident}_mult", "int32_t", [len(L["multiplier"])], L["multiplier"], INT32_MIN, INT32_MAX))
        out.append(Table(f"{ident}_shift", "int8_t", [len(L["shift"])], L["shift"], -128, 127))
    return out


def _check_tables(lc: LayerCode, tables: list[Table]) -> None:
    for tb in tables:
        v = np.asarray(tb.values, np.int64)
        if v.size and (v.min() < tb.lo or v.max() > tb.hi):
            raise CodegenError(f"{lc.L.name}: {tb.name} has values outside [{tb.lo}, {tb.hi}]")


def gen_tables_h(qm: QModel, codes: list[LayerCode]) -> str:
    ns = cfg_ident(qm.model)
    guard = f"HIL_GEN_{ns.upper()}_TABLES_H"
    parts = [stamp(qm, f"{ns}_tables.h: layer configs and constant tables of {qm.model} ({qm.scheme} scheme)."),
             f"#ifndef {guard}\n#define {guard}\n\n#include \"hil_hls/types.h\"\n",
             f"namespace hil {{\nnamespace gen {{\nnamespace {ns} {{\n"]
    for i, lc in enumerate(codes):
        parts.append(_cfg_struct(qm, lc, i))
        for tb in _tables(qm, lc):
            parts.append(f"extern const {tb.declarator()};")
        parts.append("")
    parts.append(f"}}  // namespace {ns}\n}}  // namespace gen\n}}  // namespace hil\n\n#endif /* {guard} */\n")
    return "\n".join(parts)


def gen_tables_cpp(qm: QModel, codes: list[LayerCode]) -> str:
    """The tables as plain integer arrays; self-contained (only <stdint.h>), so it compiles in
    a fraction of a second and its object is cached per model hash (hil/targets/hls/tables_cache.py)."""
    ns = cfg_ident(qm.model)
    parts = [stamp(qm, f"{ns}_tables.cpp: the constant tables of {qm.model}, plain integer arrays "
                        f"(declared with their configs in {ns}_tables.h)."),
             "#include <stdint.h>\n", f"namespace hil {{\nnamespace gen {{\nnamespace {ns} {{\n"]
    for lc in codes:
        tables = _tables(qm, lc)
        _check_tables(lc, tables)
        for tb in tables:
            parts.append(f"extern const {tb.declarator()};\n"
                         f"const {tb.declarator()} = {c_array(tb.values, tb.shape)};\n")
    parts.append(f"}}  // namespace {ns}\n}}  // namespace gen\n}}  // namespace hil\n")
    return "\n".join(parts)


def _out_c_type(qm: QModel) -> str:
    return "hil::s8_t" if qm.output.dtype == "int8" else "ap_int<32>"


def gen_model_h(qm: QModel, plan: ModelPlan) -> str:
    ns = cfg_ident(qm.model)
    guard = f"HIL_GEN_{ns.upper()}_H"
    n_in, n_out = math.prod(qm.input.shape), math.prod(qm.output.shape)
    cyc = "\n".join(f"static const uint32_t CYCLES_{cfg_ident(s.name).upper()} = {s.count};  "
                    f"/* {s.kernel}, standalone {s.latency} */" for s in plan.stages)
    return (stamp(qm, f"{ns}.h: the synthesis top of {qm.model} and its modelled cycles.")
            + f"#ifndef {guard}\n#define {guard}\n\n#include \"hil_hls/types.h\"\n\n"
            f"/* Vitis HLS: set_top {ns}_top; ap_memory ports, ap_ctrl_chain, DATAFLOW inside. */\n"
            f"void {ns}_top(const hil::s8_t in[{n_in}], {_out_c_type(qm)} out[{n_out}]);\n\n"
            f"namespace hil {{\nnamespace gen {{\nnamespace {ns} {{\n\n"
            f"static const int IN_ELEMS = {n_in}, OUT_ELEMS = {n_out};\n"
            f"static const uint32_t CLOCK_HZ = {plan.clock_hz}u;\n"
            f"/* modelled cycles each stage adds to one inference (hil/targets/hls/cycles.py) */\n{cyc}\n"
            f"static const uint32_t CYCLES_TOTAL = {plan.total}u;\n"
            f"static const uint32_t CYCLES_INTERVAL = {plan.interval}u;  /* back-to-back inferences */\n\n"
            f"}}  // namespace {ns}\n}}  // namespace gen\n}}  // namespace hil\n\n#endif /* {guard} */\n")


def _partition(buf: str, consumer: LayerCode) -> list[str]:
    """ARRAY_PARTITION pragmas so a window consumer reads its whole window in one cycle."""
    L = consumer.L
    if consumer.stage.kind != "window" or "kernel" not in L:
        return []
    kh, kw = L["kernel"]
    dims = []
    if L.op in ("conv2d", "grouped_conv2d") and L["weights_shape"][1] > 1:
        dims.append(1)
    if kh > 1:
        dims.append(2)
    if kw > 1:
        dims.append(3)
    return [f"#pragma HLS ARRAY_PARTITION variable = {buf} complete dim = {d}" for d in dims]


def _call(qm: QModel, lc: LayerCode, src: str, dst: str) -> str:
    st, ident = lc.stage, lc.ident
    args = [src, dst]
    if "weights" in lc.L:
        args += [f"{ident}_w", f"{ident}_b"]
        if qm.scheme == "int8":
            args += [f"{ident}_mult", f"{ident}_shift"]
    return f"    {st.kernel}<{ident}_cfg>({', '.join(args)});"


def gen_top_cpp(qm: QModel, plan: ModelPlan, codes: list[LayerCode]) -> str:
    ns = cfg_ident(qm.model)
    n_in, n_out = math.prod(qm.input.shape), math.prod(qm.output.shape)
    ic, ih, iw = shape3(qm.input.shape)
    body = [f"    hil::s8_t buf_input[{ic}][{ih}][{iw}];"] + _partition("buf_input", codes[0])
    calls = [f"    hil::load_input<{ic}, {ih}, {iw}>(in, buf_input);"]
    src = "buf_input"
    for i, lc in enumerate(codes):
        if i == len(codes) - 1:
            dst = "out"
        elif codes[i + 1].stage.in_edge == "fifo":
            dst = f"fifo_{lc.ident}"
            body.append(f"    hls::stream<{lc.ident}_cfg::out_t> {dst}(\"{dst}\");")
            body.append(f"#pragma HLS STREAM variable = {dst} depth = {codes[i + 1].stage.fifo_depth}")
        else:
            dst = f"buf_{lc.ident}"
            c, h, w = shape3(lc.L.out_shape)
            body.append(f"    {lc.ident}_cfg::out_t {dst}[{c}][{h}][{w}];")
            body += _partition(dst, codes[i + 1])
        calls.append(_call(qm, lc, src, dst))
        src = dst
    return (stamp(qm, f"{ns}_top.cpp: the synthesis top of {qm.model}.")
            + f"#include \"{ns}.h\"\n#include \"{ns}_tables.h\"\n#include \"hil_hls/kernels.h\"\n\n"
            f"using namespace hil::gen::{ns};\n\n"
            f"void {ns}_top(const hil::s8_t in[{n_in}], {_out_c_type(qm)} out[{n_out}])\n{{\n"
            f"#pragma HLS INTERFACE ap_memory port = in\n#pragma HLS INTERFACE ap_memory port = out\n"
            f"#pragma HLS INTERFACE ap_ctrl_chain port = return\n#pragma HLS DATAFLOW\n"
            + "\n".join(body) + "\n\n" + "\n".join(calls) + "\n}\n")


def gen_desc_cpp(qm: QModel, plan: ModelPlan, codes: list[LayerCode]) -> str:
    ns = cfg_ident(qm.model)
    n_in, n_out = math.prod(qm.input.shape), math.prod(qm.output.shape)
    dt = "int8" if qm.scheme == "int8" else "int32"
    layers = []
    for lc in codes:
        L, st = lc.L, lc.stage
        layers.append(f"    {{{c_string(L.name)}, {OP_MACROS.get(L.op, 'HIL_OP_OTHER')}, {DTYPE_MACROS[dt]}, "
                      f"{len(L.out_shape)}, {_dims(L.out_shape)}, {math.prod(L.out_shape)}u, "
                      f"{L.macs}u, {st.count}u, {st.latency}u, {st.trips}u, {c_string(st.kernel)}}},")
    digest = qm.digest
    i, o = qm.input, qm.output
    return (stamp(qm, f"{ns}_desc.cpp: what the emulator and testbench know about {qm.model} (not synthesised).")
            + "#include \"hil_hls/model.h\"\n#include \"hil_protocol.h\"\n\n"
            f"namespace hil {{\nnamespace gen {{\nnamespace {ns} {{\n\n"
            f"void run(const int8_t *in, int32_t *out);  /* {ns}_top.cpp (C simulation only) */\n\n"
            f"static const hil::LayerDesc layers[] = {{\n" + "\n".join(layers) + "\n};\n\n"
            f"extern const hil::ModelDesc desc;\nconst hil::ModelDesc desc = {{\n"
            f"    {c_string(qm.model)}, {c_string(qm.hash)},\n"
            f"    {{{', '.join(f'0x{b:02x}' for b in digest)}}},\n"
            f"    {c_string(qm.scheme)}, {len(i.shape)}, {_dims(i.shape)}, {n_in}u,\n"
            f"    {DTYPE_MACROS[o.dtype]}, {len(o.shape)}, {_dims(o.shape)}, {n_out}u,\n"
            f"    {qm.macs}u, {len(codes)}, layers,\n"
            f"    {plan.load.count}u, {plan.total}u, {plan.interval}u, run,\n}};\n\n"
            f"}}  // namespace {ns}\n}}  // namespace gen\n}}  // namespace hil\n")


def gen_csim_run(qm: QModel) -> str:
    """The plain-int entry of the top for the emulator and the testbench, appended to
    <model>_top.cpp outside synthesis: <model>_desc.cpp then needs no ap_int header."""
    ns = cfg_ident(qm.model)
    n_in, n_out = math.prod(qm.input.shape), math.prod(qm.output.shape)
    return (f"\n#ifndef __SYNTHESIS__\n/* C simulation only: one inference from plain ints (ModelDesc::run). */\n"
            f"namespace hil {{\nnamespace gen {{\nnamespace {ns} {{\n\n"
            f"void run(const int8_t *in, int32_t *out)\n{{\n"
            f"    static hil::s8_t x[{n_in}];\n    static {_out_c_type(qm)} y[{n_out}];\n"
            f"    for (int k = 0; k < {n_in}; k++) {{\n        x[k] = in[k];\n    }}\n"
            f"    ::{ns}_top(x, y);\n"
            f"    for (int k = 0; k < {n_out}; k++) {{\n        out[k] = (int32_t)y[k].to_int();\n    }}\n}}\n\n"
            f"}}  // namespace {ns}\n}}  // namespace gen\n}}  // namespace hil\n#endif\n")


def gen_registry(docs: list[QModel], build_hash: str) -> str:
    names = [cfg_ident(q.model) for q in docs]
    decls = "\n".join(f"namespace {n} {{\nextern const hil::ModelDesc desc;\n}}" for n in names)
    return ("/* hil_models.cpp: the models of this image, in model-id order.\n"
            f" * GENERATED by {GENERATOR} (v{GEN_VERSION}): do not edit.\n"
            + "".join(f" * {i}: {c_comment(q.model)} {c_comment(q.hash)}\n" for i, q in enumerate(docs))
            + " */\n"
            "#include \"hil_hls/model.h\"\n\nnamespace hil {\nnamespace gen {\n" + decls + "\n}  // namespace gen\n\n"
            "static const ModelDesc *const kModels[] = {\n"
            + "".join(f"    &gen::{n}::desc,\n" for n in names) + "};\n\n"
            f"int model_count() {{ return {len(names)}; }}\n\n"
            f"const ModelDesc *model(int index)\n{{\n    return (index >= 0 && index < {len(names)}) ? kModels[index] : 0;\n}}\n\n"
            f"const char *fw_version() {{ return \"{FW_VERSION}\"; }}\n"
            f"const char *build_hash() {{ return {c_string(build_hash)}; }}\n\n}}  // namespace hil\n")


def git_build_hash(repo: Path) -> str:
    """Short git revision of the sources, '+' if the work tree is dirty; 'unknown' outside git."""
    try:
        rev = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (rev.stdout.strip() + ("+" if dirty else ""))[:20]
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def model_files(doc: QModel | dict, calibration: dict | None = None) -> tuple[dict[str, str], dict]:
    """{file name: text} of one model (independent of the image it goes into) and its manifest entry."""
    qm = QModel.of(doc)
    check_supported(qm)
    ns = cfg_ident(qm.model)
    plan = design.plan_model(qm, calibration)
    codes = layer_codes(qm, plan)
    files = {f"{ns}_tables.h": gen_tables_h(qm, codes), f"{ns}_tables.cpp": gen_tables_cpp(qm, codes),
             f"{ns}.h": gen_model_h(qm, plan),
             f"{ns}_top.cpp": (graph_top.gen_top_cpp if design.is_graph(qm) else gen_top_cpp)(qm, plan, codes)
             + gen_csim_run(qm),
             f"{ns}_desc.cpp": gen_desc_cpp(qm, plan, codes)}
    entry = dict(cycles.plan_dict(plan), ident=ns, widths={lc.L.name: lc.out_bits for lc in codes})
    return files, entry


def write_files(files: dict[str, str], out_dir: Path) -> list[str]:
    """Write only files whose text changed (keeps make incremental); drop stale generated sources."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in files.items():
        p = out_dir / name
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
            changed.append(name)
    for p in out_dir.iterdir():
        if p.is_file() and p.name not in files and p.suffix in (".h", ".cpp", ".mk", ".json"):
            p.unlink()
    return changed


def load_docs(models: list[str]) -> list[QModel]:
    from golden.paths import qmodel_path
    docs = []
    for m in models:
        p = Path(m)
        docs.append(QModel.from_json(artifact.load(p if p.suffix == ".json" and p.exists() else qmodel_path(m))))
    return docs


def generate(models: list[str], gen_dir: Path, models_root: Path | None = None,
             calibrations: dict | None = None, build_hash: str | None = None) -> list[str]:
    """Generate an image of `models` (names or qmodel paths, ids in this order).

    Each model's code goes to `models_root/<model>/` (default: gen_dir/<model>/;
    shared by every image that contains the model, so its objects are compiled
    once); the registry hil_models.cpp, models.mk (the source list for the
    Makefile) and manifest.json go to gen_dir. Returns the files that changed.
    """
    gen_dir = Path(gen_dir).resolve()
    models_root = Path(models_root).resolve() if models_root else gen_dir
    docs = load_docs(models)
    if len({q.model for q in docs}) != len(docs):
        raise CodegenError(f"a model is listed twice: {models}")
    if len({cfg_ident(q.model) for q in docs}) != len(docs):     # `a-b` and `a_b` share a namespace
        raise CodegenError(f"two models of {[q.model for q in docs]} differ only in '-' vs '_'; "
                           f"build them into separate images or rename one")
    repo = Path(__file__).resolve().parents[1]
    changed, srcs, tables, entries = [], [], [], []
    for qm in docs:
        files, entry = model_files(qm, (calibrations or {}).get(qm.model))
        mdir = models_root / entry["ident"]
        changed += [str(mdir / f) for f in write_files(files, mdir)]
        srcs += [str(mdir / f) for f in sorted(files) if f.endswith(".cpp") and not f.endswith("_tables.cpp")]
        tables.append(str(mdir / f"{entry['ident']}_tables.cpp"))
        entries.append(dict(entry, dir=str(mdir), tables=tables[-1]))
    manifest = dict(generator=GENERATOR, version=GEN_VERSION, cycle_model=cycles.MODEL_VERSION, models=entries)
    registry = gen_dir / "hil_models.cpp"
    set_files = {"hil_models.cpp": gen_registry(docs, build_hash or git_build_hash(repo)),
                 "models.mk": "# GENERATED by hil/targets/hls/codegen.py: the model sources of this image.\n"
                              "MODEL_SRCS := " + " ".join(srcs + [str(registry)]) + "\n"
                              "MODEL_TABLES := " + " ".join(tables) + "\n",
                 "manifest.json": json.dumps(manifest, indent=1) + "\n"}
    changed += [str(gen_dir / f) for f in write_files(set_files, gen_dir)]
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hil.targets.hls.codegen", description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", help="model names (golden artifacts) or .qmodel.json paths, in id order")
    ap.add_argument("--out", required=True, type=Path, help="output directory (a build directory)")
    ap.add_argument("--models-root", type=Path, default=None,
                    help="put each model's files in MODELS_ROOT/<model>/ (default: OUT/<model>/)")
    ap.add_argument("--calibration", action="append", default=[],
                    help="calibration JSON from `python -m hil.targets.hls.cycles MODEL --csynth R --write-calibration F`")
    args = ap.parse_args(argv)
    cals = {}
    for path in args.calibration:
        c = json.loads(Path(path).read_text())
        cals[c["model"]] = c
    changed = generate(args.models, args.out, args.models_root, cals)
    print(f"{args.out}: {len(changed)} file(s) changed" + (f": {', '.join(changed)}" if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
