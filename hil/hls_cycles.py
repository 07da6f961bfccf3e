"""Modelled HLS cycles of the firmware_fpga_hls design, computed from its loop structure.

No free tool reports true HLS latency (that needs Vitis csynth), so the FPGA
emulator reports **modelled** cycles (counter kind MODELLED), computed here and
nowhere else: hil/codegen_hls.py stamps these numbers into the generated C++
as constants, the emulator reports them per layer, and the C simulation
testbench checks that the trip counts assumed here are the ones the C++ loops
really execute. docs/fpga.md explains the model; a Vitis csynth report
(parsed by hil/hls_csynth.py) calibrates it: `calibration_from_report()`,
`plan_model(doc, calibration)`, or `python -m hil.hls_cycles MODEL --csynth R`.

The design (what the C++ kernels in firmware_fpga_hls/include/hil_hls/ do):

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

Cycle rules (all *modelled*; csynth is the authority):

* a pipelined loop takes ``(trip - 1) * II + depth`` cycles;
* a process takes ``KERNEL_OVERHEAD + sum(its loops)`` cycles (its standalone latency);
* PIPO edge: ``start = producer.end``, ``end = start + latency``;
* FIFO edge: ``start = producer.start + producer.first_out`` and
  ``end = max(start + latency, producer.end + tail)``, where ``first_out`` is
  when the producer writes its first value and ``tail`` is how long the
  consumer still runs after its last input value arrives;
* a layer's reported count is what it adds to the critical path:
  ``end - producer.end``; the inference total is the end of the last layer
  (so total = LOAD_IN + sum of layer counts);
* interval (back-to-back inferences under ap_ctrl_chain) = the longest process.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from hil.hls_csynth import CsynthReport, parse_csynth

MODEL_VERSION = 1
DESIGN_CLOCK_HZ = 100_000_000      # Arty A7 on-board 100 MHz oscillator; 10 ns target in csynth
SEED_POINTWISE_TARGET = 768        # seed 001: a 48 x 16 pointwise dataflow in 768 cycles

# Pipeline depth components (cycles). Estimates for a 7-series part at 100 MHz;
# calibrate() replaces the resulting depths with csynth's iteration latencies.
DEPTH = {
    "read": 2,          # address + one-cycle BRAM/LUTRAM/ROM read
    "fifo_read": 1,     # hls::stream read
    "reg_read": 1,      # read of a partitioned (register) array
    "mul": 1,           # one multiplier stage (<= 9 x 8 bits)
    "add": 1,           # one adder level / subtract the zero point
    "max": 1,           # compare + select
    "shift_relu": 1,    # arithmetic right shift (wiring) + ReLU select
    "requant_s8": 6,    # 32x32->64 multiply (3 DSP stages), nudge, rounding shift, zero point + clamp
    "div_const": 3,     # division of a window sum by its constant size
    "write": 1,
}
KERNEL_OVERHEAD = 1   # the state that starts a dataflow process


def levels(n: int) -> int:
    """Adder/compare tree levels for n operands."""
    return max(0, math.ceil(math.log2(n))) if n > 1 else 0


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
    raise ValueError(f"unsupported tensor shape {shape} (CHW or flat only)")


def is_matvec(L: dict) -> bool:
    """fully connected, or a 1x1 convolution on a 1x1 map (the seed's pointwise)."""
    if L["op"] == "fully_connected":
        return True
    if L["op"] == "conv2d":
        _, h, w = shape3(L["in_shape"])
        return (h, w) == (1, 1) and list(L["kernel"]) == [1, 1] and list(L.get("padding", [0, 0])) == [0, 0]
    return False


def kernel_name(L: dict, scheme: str) -> str:
    dtype = "shift" if scheme == "shift" else "s8"
    if is_matvec(L):
        return f"hil::fully_connected_{dtype}"
    if L["op"] == "maxpool2d":
        return "hil::maxpool2d_global" if L.get("global") else "hil::maxpool2d"
    if L["op"] == "avgpool2d":
        return "hil::avgpool2d_s8"
    if L["op"] in ("conv2d", "depthwise_conv2d"):
        return f"hil::{L['op']}_{dtype}"
    raise ValueError(f"layer '{L['name']}': op {L['op']} has no HLS kernel")


def _epilogue_depth(L: dict, scheme: str) -> int:
    if scheme == "int8":
        return DEPTH["requant_s8"]
    return DEPTH["shift_relu"] if (L.get("rshift") or L.get("relu")) else 0


def _matvec_sizes(L: dict) -> tuple[int, int]:
    n_out, n_in = L["weights_shape"][0], math.prod(L["weights_shape"][1:])
    return n_in, n_out


def conv_trip_max(doc: dict) -> int:
    """Longest output-pixel loop among the model's convolutions (0 if none)."""
    trips = [math.prod(shape3(L["out_shape"])) for L in doc["layers"]
             if L["op"] in ("conv2d", "depthwise_conv2d") and not is_matvec(L)]
    return max(trips, default=0)


def matvec_parallel(n_in: int, n_out: int, budget: int) -> int:
    """Outputs computed per cycle: the smallest divisor P of n_out with n_in*n_out/P <= budget."""
    for p in range(1, n_out + 1):
        if n_out % p == 0 and n_in * n_out // p <= max(budget, 1):
            return p
    return n_out


def plan_layer(L: dict, scheme: str, budget: int) -> Stage:
    name, op = L["name"], L["op"]
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
        return Stage(name, op, "matvec", kern, [mac, out], macs=L["macs"], parallel=p, groups=g)
    c, oh, ow = shape3(L["out_shape"])
    if op == "maxpool2d" and L.get("global"):
        ic, ih, iw = shape3(L["in_shape"])
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
        return Stage(name, op, "window", kern, [lp], macs=L["macs"], parallel=taps)
    raise ValueError(f"layer '{name}': op {op} has no HLS kernel")


def plan_model(doc: dict, calibration: dict | None = None, clock_hz: int = DESIGN_CLOCK_HZ) -> ModelPlan:
    """The design and its modelled schedule for one qmodel artifact."""
    scheme = doc["scheme"]
    budget = conv_trip_max(doc)
    n_in = math.prod(doc["input"]["shape"])
    load = Stage("load", "load", "load", "hil::load_input",
                 [Loop("LOAD_IN", n_in, 1, DEPTH["read"] + DEPTH["write"])])
    layers = [plan_layer(L, scheme, budget) for L in doc["layers"]]
    for i, st in enumerate(layers):
        if i > 0 and st.kind in ("gpool", "matvec"):
            st.in_edge = "fifo"
    plan = ModelPlan(doc["model"], doc["hash"], scheme, clock_hz, load, layers)
    if calibration:
        apply_calibration(plan, calibration)
    for i, st in enumerate(layers):
        if st.in_edge == "fifo":
            tokens = math.prod(shape3(doc["layers"][i - 1]["out_shape"]))
            # a consumer slower than its producer gets room for every value, so the producer never stalls
            st.fifo_depth = tokens if st.period_in > layers[i - 1].period_out else 2
    schedule(plan)
    return plan


def schedule(plan: ModelPlan) -> ModelPlan:
    """Start/end/count of every stage under the dataflow rules in the module docstring."""
    load = plan.load
    load.start, load.end = 0, load.latency
    load.count = load.latency
    prev = load
    for st in plan.layers:
        if st.in_edge == "fifo":
            st.start = prev.start + prev.first_out
            st.end = max(st.start + st.latency, prev.end + st.tail)
        else:
            st.start = prev.end
            st.end = st.start + st.latency
        st.count = st.end - prev.end
        prev = st
    return plan


# ---- calibration from csynth reports (parsed by hil/hls_csynth.py) -----------------

def cfg_ident(name: str) -> str:
    """C++ identifier of a layer (codegen names its config struct `<ident>_cfg`)."""
    ident = re.sub(r"\W", "_", name)
    return ident if not ident[0].isdigit() else "l_" + ident


def calibration_from_report(plan: ModelPlan, report: CsynthReport) -> dict:
    """{stage: {loop label: {ii, depth, trip}}} for every modelled loop csynth reports.

    A layer's loops are looked up in the report modules whose name contains
    `<layer>_cfg` (Vitis names a template instance after its arguments, and
    outlines pipelined loops into `<function>_Pipeline_<LABEL>` modules), the
    input copy in modules containing `load_input`.
    """
    cal: dict = {"model": plan.model, "qmodel_hash": plan.qmodel_hash, "report": report.path,
                 "clock_ns": report.target_ns, "stages": {}}
    for st in plan.stages:
        key = "load_input" if st.kind == "load" else cfg_ident(st.name) + "_cfg"
        pat = re.compile(rf"(^|_){re.escape(key)}(_|$)")
        mods = [m for m in report.modules if pat.search(m.name)]
        found = {}
        for lp in st.loops:
            for m in mods:
                hit = next((r for r in m.loops if r.name == lp.label), None)
                if hit is not None:
                    found[lp.label] = dict(ii=hit.ii_achieved, depth=hit.iteration_latency, trip=hit.trip,
                                           latency=hit.latency_max, module=m.name)
                    break
        if found:
            cal["stages"][st.name] = found
    return cal


def apply_calibration(plan: ModelPlan, cal: dict) -> ModelPlan:
    """Replace modelled II/depth by csynth's (trip counts must agree: they come from the same C++)."""
    if cal.get("qmodel_hash") not in (None, plan.qmodel_hash):
        raise ValueError(f"calibration is for {cal.get('qmodel_hash')}, the model is {plan.qmodel_hash}")
    for st in plan.stages:
        loops = cal.get("stages", {}).get(st.name, {})
        new = []
        for lp in st.loops:
            c = loops.get(lp.label)
            if c is None:
                new.append(lp)
                continue
            if c.get("trip") not in (None, lp.trip):
                raise ValueError(f"{st.name}/{lp.label}: csynth trip count {c['trip']} != modelled {lp.trip}: "
                                 f"the report is from another version of the design")
            new.append(replace(lp, ii=c.get("ii") or lp.ii, depth=c.get("depth") or lp.depth))
        st.loops = new
    plan.calibrated_from = cal.get("report")
    return plan


# ---- reporting -----------------------------------------------------------------

def seed_pointwise(plan: ModelPlan) -> dict | None:
    """Where the seed-001 pointwise layer stands against its 768-cycle target."""
    try:
        st = plan.layer("pointwise")
    except KeyError:
        return None
    mac = st.loops[0]
    return dict(target=SEED_POINTWISE_TARGET, macs=st.macs, macs_per_cycle=st.parallel, mac_loop_trip=mac.trip,
                mac_loop_latency=mac.latency, kernel_latency=st.latency, exposed=st.count,
                in_edge=st.in_edge)


def plan_dict(plan: ModelPlan) -> dict:
    return dict(
        model=plan.model, qmodel_hash=plan.qmodel_hash, counter="modelled", model_version=MODEL_VERSION,
        clock_hz=plan.clock_hz, calibrated_from=plan.calibrated_from, total=plan.total,
        latency_us=plan.latency_us(), interval=plan.interval,
        stages=[dict(name=s.name, op=s.op, kernel=s.kernel, in_edge=s.in_edge, fifo_depth=s.fifo_depth,
                     parallel=s.parallel, macs=s.macs, latency=s.latency, start=s.start, end=s.end,
                     count=s.count, loops=[dict(label=lp.label, trip=lp.trip, ii=lp.ii, depth=lp.depth,
                                                latency=lp.latency) for lp in s.loops]) for s in plan.stages],
        seed_pointwise=seed_pointwise(plan))


def format_plan(plan: ModelPlan) -> str:
    out = [f"{plan.model}: modelled HLS cycles at {plan.clock_hz / 1e6:g} MHz"
           + (f" (calibrated from {plan.calibrated_from})" if plan.calibrated_from else " (not calibrated)")]
    out.append(f"{'stage':<12}{'kernel':<28}{'edge':<6}{'MAC/c':>6}{'loops (trip x II + depth)':>34}"
               f"{'latency':>9}{'count':>8}")
    for s in plan.stages:
        loops = ", ".join(f"{lp.label} {lp.trip}x{lp.ii}+{lp.depth}" for lp in s.loops)
        out.append(f"{s.name:<12}{s.kernel:<28}{s.in_edge:<6}{s.parallel:>6}{loops:>34}{s.latency:>9}{s.count:>8}")
    out.append(f"total {plan.total} cycles = {plan.latency_us():.2f} us; interval {plan.interval} cycles "
               f"({plan.clock_hz / plan.interval:,.0f} inferences/s back to back)")
    sp = seed_pointwise(plan)
    if sp:
        out.append(f"pointwise vs the seed's {sp['target']}-cycle target: {sp['macs']} MACs at "
                   f"{sp['macs_per_cycle']}/cycle -> MAC loop {sp['mac_loop_latency']} cycles, kernel "
                   f"{sp['kernel_latency']}, {sp['exposed']} on the critical path ({sp['in_edge']} input)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hil.hls_cycles", description=__doc__.split("\n")[0])
    ap.add_argument("model", help="model name (golden artifact) or path to a .qmodel.json")
    ap.add_argument("--csynth", help="Vitis csynth report (.rpt, .xml or solution1/syn/report) to calibrate from")
    ap.add_argument("--calibration", help="calibration JSON written earlier with --write-calibration")
    ap.add_argument("--write-calibration", help="write the calibration taken from --csynth here")
    ap.add_argument("--json", action="store_true", help="print the plan as JSON")
    args = ap.parse_args(argv)
    from golden import artifact
    path = Path(args.model)
    if not path.exists():
        from golden.build import qmodel_path
        path = qmodel_path(args.model)
    doc = artifact.load(path)
    cal = json.loads(Path(args.calibration).read_text()) if args.calibration else None
    if args.csynth:
        cal = calibration_from_report(plan_model(doc), parse_csynth(args.csynth))
        if args.write_calibration:
            Path(args.write_calibration).write_text(json.dumps(cal, indent=1) + "\n")
    plan = plan_model(doc, cal)
    print(json.dumps(plan_dict(plan), indent=1) if args.json else format_plan(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
