"""The HLS design description: which dataflow processes and pipelined loop nests
the C++ kernels in firmware_fpga_hls/include/hil_hls/ build for a qmodel.

This is what the code generator (codegen.py) emits and what the cycle model
(cycles.py) times; the C simulation testbench checks that the trip counts
described here are the ones the C++ loops really execute.

* every layer is one dataflow process with one pipelined loop nest (II=1),
  manually flattened and labelled (CONV_PIX, DW_PIX, POOL_PIX, GPOOL_IN,
  FC_MAC + FC_OUT, LOAD_IN): the label is what csynth reports;
* convolutions are output-stationary: one output pixel per cycle, the whole
  window (Cin/groups x KH x KW multiply-accumulates) unrolled into an adder tree;
* fully connected layers and 1x1 convolutions on a 1x1 map are
  input-stationary matrix-vector products: one input value per
  ceil(Out/P) cycles, P multiply-accumulates per cycle (P = 1 for the seed's
  768-cycle pointwise; P grows only until the layer is no slower than the
  slowest convolution of the model);
* the top is a DATAFLOW region: an input copy (LOAD_IN) then the layers.
  Layers that read their input once in order (global max pool, matrix-vector
  products) get an hls::stream (FIFO) and overlap with their producer; all
  other edges are ping-pong buffers (PIPO), so the consumer starts when the
  producer is done.
* graph models (int8; add, concat, channel shuffle/slice, grouped convolution,
  branches): every edge is a PIPO buffer; a layer starts when all its inputs
  are done, so parallel branches overlap. A tensor read by several layers is
  copied into one buffer per reader by a fan-out process (FANOUT, one value
  per cycle), timed as a second loop of its producer's stage.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from golden.qmodel import Layer, QModel
from hil.errors import CodegenError
from hil.targets.hls.cycles import (DEPTH, DESIGN_CLOCK_HZ, KERNEL_OVERHEAD, apply_calibration, levels,
                                    schedule)


@dataclass(frozen=True)
class Loop:
    label: str     # C++ loop label == loop name in csynth reports
    trip: int
    ii: int
    depth: int     # iteration latency

    @property
    def latency(self) -> int:
        return 0 if self.trip == 0 else (self.trip - 1) * self.ii + self.depth


@dataclass
class Stage:
    """One dataflow process: the input copy or a layer."""
    name: str
    op: str                 # qmodel op, or "load"
    kind: str               # window | gpool | matvec | load
    kernel: str             # C++ function, e.g. hil::conv2d_shift
    loops: list[Loop]
    macs: int = 0
    parallel: int = 1       # multiply-accumulates (or compares) per cycle
    groups: int = 1         # matvec: output groups per input value = ceil(Out / P)
    pool_hw: int = 1        # gpool: values per channel
    in_edge: str = "pipo"   # pipo | fifo
    fifo_depth: int = 0
    start: int = 0
    end: int = 0
    count: int = 0          # cycles added to the inference (exclusive)
    sources: list[int] | None = None   # graph: stage indices of the inputs (0 = load); None = chain
    fanout: int = 1         # readers of this stage's output (> 1: a FANOUT copy follows)

    @property
    def latency(self) -> int:
        """Standalone latency of the process (what csynth reports for its instance)."""
        return KERNEL_OVERHEAD + sum(lp.latency for lp in self.loops)

    @property
    def trips(self) -> int:
        return sum(lp.trip for lp in self.loops)

    @property
    def first_out(self) -> int:
        """Cycles from the process's start to its first output value."""
        lp = self.loops
        if self.kind == "gpool":
            return KERNEL_OVERHEAD + (self.pool_hw - 1) * lp[0].ii + lp[0].depth
        if self.kind == "matvec":
            return KERNEL_OVERHEAD + lp[0].latency + lp[1].depth
        return KERNEL_OVERHEAD + lp[0].depth

    @property
    def tail(self) -> int:
        """Cycles from the arrival of the last input value to the process's end."""
        lp = self.loops
        if self.kind == "matvec":
            return (self.groups - 1) * lp[0].ii + lp[0].depth + lp[1].latency
        return lp[0].depth

    @property
    def period_in(self) -> int:
        """Cycles between two input values consumed (streaming consumers)."""
        return self.groups * self.loops[0].ii if self.kind == "matvec" else self.loops[0].ii

    @property
    def period_out(self) -> int:
        """Cycles between two output values produced."""
        if self.kind == "gpool":
            return self.pool_hw * self.loops[0].ii
        return self.loops[-1].ii


@dataclass
class ModelPlan:
    model: str
    qmodel_hash: str
    scheme: str
    clock_hz: int
    load: Stage
    layers: list[Stage]
    calibrated_from: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def stages(self) -> list[Stage]:
        return [self.load] + self.layers

    @property
    def total(self) -> int:
        return self.layers[-1].end if self.layers else self.load.end

    @property
    def interval(self) -> int:
        return max(s.latency for s in self.stages)

    def latency_us(self, cycles: int | None = None) -> float:
        return (self.total if cycles is None else cycles) / self.clock_hz * 1e6

    def layer(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)


# ---- the design: layer -> loop nest ------------------------------------------

def shape3(shape) -> tuple[int, int, int]:
    s = list(shape)
    if len(s) == 1:
        return s[0], 1, 1
    if len(s) == 3:
        return tuple(s)
    raise CodegenError(f"unsupported tensor shape {shape} (CHW or flat only)")


def is_matvec(L: Layer) -> bool:
    """fully connected, or a 1x1 convolution on a 1x1 map (the seed's pointwise)."""
    if L.op == "fully_connected":
        return True
    if L.op == "conv2d":
        _, h, w = shape3(L.in_shape)
        return (h, w) == (1, 1) and list(L["kernel"]) == [1, 1] and not any(L.get("padding", [0, 0]))
    return False


def kernel_name(L: Layer, scheme: str) -> str:
    dtype = "shift" if scheme == "shift" else "s8"
    if is_matvec(L):
        return f"hil::fully_connected_{dtype}"
    if L.op == "maxpool2d":
        return "hil::maxpool2d_global" if L.get("global") else "hil::maxpool2d"
    if L.op == "avgpool2d":
        return "hil::avgpool2d_s8"
    if L.op in ("conv2d", "depthwise_conv2d"):
        return f"hil::{L.op}_{dtype}"
    if scheme == "int8" and L.op in GRAPH_KERNELS:
        return GRAPH_KERNELS[L.op][0]
    raise CodegenError(f"layer '{L.name}': op {L.op} has no HLS kernel")


# graph ops (int8 only): kernel and loop label, each one output value per cycle
GRAPH_KERNELS = {"add": ("hil::add_s8", "ADD_PIX"), "concat": ("hil::concat2_s8", "CAT_PIX"),
                 "channel_shuffle": ("hil::channel_shuffle", "SHUF_PIX"),
                 "channel_slice": ("hil::channel_slice", "SLICE_PIX"),
                 "grouped_conv2d": ("hil::grouped_conv2d_s8", "GCONV_PIX"),
                 "pad": ("hil::pad_s8", "PAD_PIX"), "mean": ("hil::mean_s8", "MEAN_IN"),
                 "softmax": ("hil::softmax_s8", "SMAX_C")}


def is_graph(doc: QModel | dict) -> bool:
    """Anything but a plain chain of the seed ops: branches, joins or a graph op."""
    prev = "input"
    for L in QModel.of(doc).layers:
        if L.op in GRAPH_KERNELS or L.inputs != (prev,):
            return True
        prev = L.name
    return False


def _epilogue_depth(L: Layer, scheme: str) -> int:
    if scheme == "int8":
        return DEPTH["requant_s8"]
    return DEPTH["shift_relu"] if (L.get("rshift") or L.get("relu")) else 0


def _matvec_sizes(L: Layer) -> tuple[int, int]:
    n_out, n_in = L["weights_shape"][0], math.prod(L["weights_shape"][1:])
    return n_in, n_out


def conv_trip_max(qm: QModel) -> int:
    """Longest output-pixel loop among the model's convolutions (0 if none)."""
    trips = [math.prod(shape3(L.out_shape)) for L in qm.layers
             if L.op in ("conv2d", "depthwise_conv2d") and not is_matvec(L)]
    return max(trips, default=0)


def matvec_parallel(n_in: int, n_out: int, budget: int) -> int:
    """Outputs computed per cycle: the smallest divisor P of n_out with n_in*n_out/P <= budget."""
    for p in range(1, n_out + 1):
        if n_out % p == 0 and n_in * n_out // p <= max(budget, 1):
            return p
    return n_out


def plan_layer(L: Layer, scheme: str, budget: int) -> Stage:
    name, op = L.name, L.op
    sub_zp = DEPTH["add"] if scheme == "int8" else 0
    kern = kernel_name(L, scheme)
    if is_matvec(L):
        n_in, n_out = _matvec_sizes(L)
        p = matvec_parallel(n_in, n_out, budget)
        g = -(-n_out // p)
        mac = Loop("FC_MAC", n_in * g, 1, DEPTH["read"] + sub_zp + DEPTH["mul"] + DEPTH["add"])
        has_bias = L.get("bias") is not None
        out = Loop("FC_OUT", n_out, 1, DEPTH["reg_read"] + (DEPTH["add"] if has_bias else 0)
                   + _epilogue_depth(L, scheme) + DEPTH["write"])
        return Stage(name, op, "matvec", kern, [mac, out], macs=L.macs, parallel=p, groups=g)
    c, oh, ow = shape3(L.out_shape)
    if op == "maxpool2d" and L.get("global"):
        ic, ih, iw = shape3(L.in_shape)
        lp = Loop("GPOOL_IN", ic * ih * iw, 1, DEPTH["fifo_read"] + DEPTH["max"] + DEPTH["write"])
        return Stage(name, op, "gpool", kern, [lp], parallel=1, pool_hw=ih * iw)
    if op in ("maxpool2d", "avgpool2d"):
        kh, kw = L["kernel"]
        post = DEPTH["div_const"] if op == "avgpool2d" else 0
        lp = Loop("POOL_PIX", c * oh * ow, 1, DEPTH["read"] + levels(kh * kw) + post + DEPTH["write"])
        return Stage(name, op, "window", kern, [lp], parallel=kh * kw)
    if op in ("conv2d", "depthwise_conv2d"):
        kh, kw = L["kernel"]
        cin = 1 if op == "depthwise_conv2d" else L["weights_shape"][1]
        taps = cin * kh * kw
        has_bias = L.get("bias") is not None
        label = "DW_PIX" if op == "depthwise_conv2d" else "CONV_PIX"
        lp = Loop(label, c * oh * ow, 1, DEPTH["read"] + sub_zp + DEPTH["mul"] + levels(taps + has_bias)
                  + _epilogue_depth(L, scheme) + DEPTH["write"])
        return Stage(name, op, "window", kern, [lp], macs=L.macs, parallel=taps)
    if op in GRAPH_KERNELS:
        kern, label = GRAPH_KERNELS[op]
        if op == "grouped_conv2d":
            kh, kw = L["kernel"]
            taps = L["weights_shape"][1] * kh * kw
            depth = DEPTH["read"] + sub_zp + DEPTH["mul"] + levels(taps + (L.get("bias") is not None)) \
                + _epilogue_depth(L, scheme) + DEPTH["write"]
            return Stage(name, op, "window", kern, [Loop(label, c * oh * ow, 1, depth)], macs=L.macs,
                         parallel=taps)
        requant = {"add": 3 * DEPTH["requant_s8"] + DEPTH["add"], "concat": DEPTH["add"] + DEPTH["requant_s8"],
                   "mean": DEPTH["add"] + DEPTH["requant_s8"], "softmax": 4 * DEPTH["requant_s8"]}
        depth = DEPTH["read"] + requant.get(op, 0) + DEPTH["write"]
        # one loop turn per output value; mean per input value, softmax three passes over the channels
        trip = {"mean": math.prod(shape3(L.in_shape)), "softmax": 3 * c * oh * ow}.get(op, c * oh * ow)
        return Stage(name, op, "window", kern, [Loop(label, trip, 1, depth)])
    raise CodegenError(f"layer '{name}': op {op} has no HLS kernel")


def _fanout_loop(elems: int) -> Loop:
    return Loop("FANOUT", elems, 1, DEPTH["read"] + DEPTH["write"])


def plan_graph(qm: QModel, load: Stage, layers: list[Stage]) -> None:
    """Graph wiring: PIPO inputs by stage index, FANOUT loops where a tensor has several readers."""
    index = {"input": 0} | {L.name: i + 1 for i, L in enumerate(qm.layers)}
    readers = {k: 0 for k in index.values()}
    stages = [load] + layers
    for L, st in zip(qm.layers, layers):
        st.sources = [index[t] for t in L.inputs]
        for k in st.sources:
            readers[k] += 1
    sizes = [math.prod(qm.input.shape)] + [math.prod(L.out_shape) for L in qm.layers]
    for k, st in enumerate(stages):
        st.fanout = readers[k]
        if readers[k] > 1:
            st.loops = st.loops + [_fanout_loop(sizes[k])]


def plan_model(doc: QModel | dict, calibration: dict | None = None,
               clock_hz: int = DESIGN_CLOCK_HZ) -> ModelPlan:
    """The design and its modelled schedule for one qmodel artifact."""
    qm = QModel.of(doc)
    scheme = qm.scheme
    budget = conv_trip_max(qm)
    n_in = math.prod(qm.input.shape)
    load = Stage("load", "load", "load", "hil::load_input",
                 [Loop("LOAD_IN", n_in, 1, DEPTH["read"] + DEPTH["write"])])
    layers = [plan_layer(L, scheme, budget) for L in qm.layers]
    graph = is_graph(qm)
    if graph:
        plan_graph(qm, load, layers)
    for i, st in enumerate(layers):
        if i > 0 and st.kind in ("gpool", "matvec") and not graph:
            st.in_edge = "fifo"
    plan = ModelPlan(qm.model, qm.hash, scheme, clock_hz, load, layers)
    if calibration:
        apply_calibration(plan, calibration)
    for i, st in enumerate(layers):
        if st.in_edge == "fifo":
            tokens = math.prod(shape3(qm.layers[i - 1].out_shape))
            # a consumer slower than its producer gets room for every value, so the producer never stalls
            st.fifo_depth = tokens if st.period_in > layers[i - 1].period_out else 2
    schedule(plan)
    return plan

