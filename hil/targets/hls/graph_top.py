"""The synthesis top of a graph model (int8): a DATAFLOW region of PIPO buffers.

Layers run in the artifact's topological order, each reading its input
tensors; every (tensor, reader) pair gets its own buffer, because a DATAFLOW
buffer may have one consumer only: a tensor with several readers is copied by
hil::fanout2/3 (FANOUT loop, timed as part of its producer's stage in
design.py). The kernels are in firmware_fpga_hls/include/hil_hls/graph_ops.h.
"""
from __future__ import annotations

import math

from golden.intsim.arith import mean_requant_params
from golden.qmodel import Layer, QModel
from hil.errors import CodegenError
from hil.targets.hls import codegen as cg
from hil.targets.hls.cycles import cfg_ident
from hil.targets.hls.design import ModelPlan, shape3


def _c_i32(v: int) -> str:
    return "(-2147483647 - 1)" if v == cg.INT32_MIN else str(int(v))


def graph_cfg(qm: QModel, L: Layer) -> list[str]:
    """Config constants of the graph ops (hil_hls/graph_ops.h)."""
    op = L.op
    if op == "grouped_conv2d":
        return [f"    static const int GROUPS = {L['groups']}, IN_CG = {L['weights_shape'][1]};"]
    if op == "channel_shuffle":
        return [f"    static const int GROUPS = {L['groups']};"]
    if op == "channel_slice":
        return [f"    static const int START = {L['start']};"]
    if op == "pad":
        return [f"    static const int PAD_T = {L['pads'][0]}, PAD_L = {L['pads'][2]}, ZP = {L['output_zp']};"]
    if op == "mean":
        _, h, w = shape3(L.in_shape)
        m, sh = mean_requant_params(int(L["multiplier"][0]), int(L["shift"][0]), h * w)
        return [f"    static const int IN_ZP = {L['input_zp']}, OUT_ZP = {L['output_zp']};",
                f"    static const int MULT = {_c_i32(m)}, SHIFT = {sh};  /* 1/(H*W) folded in */"]
    if op == "softmax":
        return [f"    static const int IN_MULT = {_c_i32(L['input_multiplier'])}, "
                f"IN_LSHIFT = {L['input_left_shift']}, DIFF_MIN = {L['diff_min']};"]
    if op not in ("add", "concat"):
        return []
    zps, ms, shs = L["input_zps"], L["input_multipliers"], L["input_shifts"]
    out = [f"    static const int A_ZP = {zps[0]}, B_ZP = {zps[1]}, OUT_ZP = {L['output_zp']};",
           f"    static const int A_MULT = {_c_i32(ms[0])}, A_SHIFT = {shs[0]};",
           f"    static const int B_MULT = {_c_i32(ms[1])}, B_SHIFT = {shs[1]};"]
    if op == "add":
        out += [f"    static const int LEFT_SHIFT = {L['left_shift']};",
                f"    static const int OUT_MULT = {_c_i32(L['multiplier'][0])}, OUT_SHIFT = {L['shift'][0]};",
                f"    static const int ACT_MIN = {L['act_min']}, ACT_MAX = {L['act_max']};"]
    else:
        shapes = qm.tensor_shapes()
        out.append(f"    static const int A_C = {shape3(shapes[L.inputs[0]])[0]}, "
                   f"B_C = {shape3(shapes[L.inputs[1]])[0]};")
    return out


def gen_top_cpp(qm: QModel, plan: ModelPlan, codes: list) -> str:
    """The DATAFLOW top of a graph model: PIPO buffers, one per (tensor, reader), FANOUT copies."""
    ns = cfg_ident(qm.model)
    n_in, n_out = math.prod(qm.input.shape), math.prod(qm.output.shape)
    shapes = qm.tensor_shapes()
    names = ["input"] + [lc.L.name for lc in codes]
    idents = ["input"] + [lc.ident for lc in codes]
    readers: dict[int, list[tuple[int, int]]] = {k: [] for k in range(len(names))}
    for i, st in enumerate(plan.layers):
        for slot, k in enumerate(st.sources):
            readers[k].append((i, slot))
    body, calls = [], []
    feed: dict[tuple[int, int], str] = {}      # (reader layer, input slot) -> buffer it reads

    def buffer(name: str, k: int, consumers: list[int]) -> None:
        c, h, w = shape3(shapes[names[k]])
        body.append(f"    hil::s8_t {name}[{c}][{h}][{w}];")
        for j in consumers:
            body.extend(cg._partition(name, codes[j]))

    def produce(k: int, first: str) -> None:
        """Buffers after tensor k's producer wrote `first`: fan-out copies if several readers."""
        rd = readers[k]
        if len(rd) == 1:
            feed[rd[0]] = first
            return
        if len(rd) > 3:
            raise CodegenError(f"{qm.model}: tensor '{names[k]}' has {len(rd)} readers; the HLS fan-out "
                               f"takes at most 3")
        outs = []
        for j, slot in rd:
            b = f"buf_{idents[k]}_to_{codes[j].ident}_{slot}"
            buffer(b, k, [j])
            feed[(j, slot)] = b
            outs.append(b)
        c, h, w = shape3(shapes[names[k]])
        calls.append(f"    hil::fanout{len(rd)}<{k - 1}, {c}, {h}, {w}>({first}, {', '.join(outs)});")

    ic, ih, iw = shape3(qm.input.shape)
    first = "buf_input"
    buffer(first, 0, [j for j, _ in readers[0]] if len(readers[0]) == 1 else [])
    calls.append(f"    hil::load_input<{ic}, {ih}, {iw}>(in, {first});")
    produce(0, first)
    for i, lc in enumerate(codes):
        k = i + 1
        if i == len(codes) - 1:
            dst = "out"
        else:
            dst = f"buf_{lc.ident}"
            buffer(dst, k, [j for j, _ in readers[k]] if len(readers[k]) == 1 else [])
        ins = [feed[(i, slot)] for slot in range(len(lc.L.inputs))]
        args = ins[:1] + [dst] + ins[1:] if lc.L.op not in ("add", "concat") else ins + [dst]
        if "weights" in lc.L:
            args += [f"{lc.ident}_w", f"{lc.ident}_b", f"{lc.ident}_mult", f"{lc.ident}_shift"]
        calls.append(f"    {lc.stage.kernel}<{lc.ident}_cfg>({', '.join(args)});")
        if dst != "out":
            produce(k, dst)
    return (cg.stamp(qm, f"{ns}_top.cpp: the synthesis top of {qm.model} (a graph).")
            + f"#include \"{ns}.h\"\n#include \"{ns}_tables.h\"\n#include \"hil_hls/kernels.h\"\n\n"
            f"using namespace hil::gen::{ns};\n\n"
            f"void {ns}_top(const hil::s8_t in[{n_in}], {cg._out_c_type(qm)} out[{n_out}])\n{{\n"
            f"#pragma HLS INTERFACE ap_memory port = in\n#pragma HLS INTERFACE ap_memory port = out\n"
            f"#pragma HLS INTERFACE ap_ctrl_chain port = return\n#pragma HLS DATAFLOW\n"
            + "\n".join(body) + "\n\n" + "\n".join(calls) + "\n}\n")
