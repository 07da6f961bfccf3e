"""Modelled HLS cycles of the firmware_fpga_hls design, computed from its loop structure.

No free tool reports true HLS latency (that needs Vitis csynth), so the FPGA
emulator reports **modelled** cycles (counter kind MODELLED), computed here and
nowhere else: codegen.py stamps these numbers into the generated C++
as constants, the emulator reports them per layer, and the C simulation
testbench checks that the trip counts assumed here are the ones the C++ loops
really execute. docs/fpga.md explains the model; a Vitis csynth report
(parsed by csynth.py) calibrates it: `calibration_from_report()`,
`plan_model(doc, calibration)`, or `python -m hil.targets.hls.cycles MODEL --csynth R`.

The design itself (dataflow processes, loop nests, kernels) is described in
design.py; this module times it.

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
* graph models (every edge PIPO): ``start = max(end of the stages it reads)``;
  a layer's count is what it adds to the running critical path,
  ``max(0, end - max(end of every earlier stage))``, so parallel branches
  overlap and total = LOAD_IN + sum of layer counts still holds.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from hil.errors import CodegenError
from hil.targets.c_text import c_identifier
from hil.targets.hls.csynth import CsynthReport, parse_csynth

if TYPE_CHECKING:
    from hil.targets.hls.design import ModelPlan

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



def schedule(plan: ModelPlan) -> ModelPlan:
    """Start/end/count of every stage under the dataflow rules in the module docstring."""
    load = plan.load
    load.start, load.end = 0, load.latency
    load.count = load.latency
    if any(st.sources is not None for st in plan.layers):
        stages, running = plan.stages, load.end
        for st in plan.layers:
            st.start = max(stages[k].end for k in st.sources)
            st.end = st.start + st.latency
            st.count = max(0, st.end - running)
            running = max(running, st.end)
        return plan
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


# ---- calibration from csynth reports (parsed by csynth.py) -----------------

def cfg_ident(name: str) -> str:
    """C++ identifier of a layer (codegen names its config struct `<ident>_cfg`): hil/targets/c_text.py."""
    return c_identifier(name)


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
        raise CodegenError(f"calibration is for {cal.get('qmodel_hash')}, the model is {plan.qmodel_hash}")
    for st in plan.stages:
        loops = cal.get("stages", {}).get(st.name, {})
        new = []
        for lp in st.loops:
            c = loops.get(lp.label)
            if c is None:
                new.append(lp)
                continue
            if c.get("trip") not in (None, lp.trip):
                raise CodegenError(f"{st.name}/{lp.label}: csynth trip count {c['trip']} != modelled {lp.trip}: "
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
    ap = argparse.ArgumentParser(prog="python -m hil.targets.hls.cycles", description=__doc__.split("\n")[0])
    ap.add_argument("model", help="model name (golden artifact) or path to a .qmodel.json")
    ap.add_argument("--csynth", help="Vitis csynth report (.rpt, .xml or solution1/syn/report) to calibrate from")
    ap.add_argument("--calibration", help="calibration JSON written earlier with --write-calibration")
    ap.add_argument("--write-calibration", help="write the calibration taken from --csynth here")
    ap.add_argument("--json", action="store_true", help="print the plan as JSON")
    args = ap.parse_args(argv)
    from golden import artifact
    from hil.targets.hls.design import plan_model
    path = Path(args.model)
    if not path.exists():
        from golden.paths import qmodel_path
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

