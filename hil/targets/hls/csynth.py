"""Vitis HLS csynth reports: the latency tables of `csynth.rpt` / `<module>_csynth.rpt`
(text) and `csynth.xml` / `<module>_csynth.xml`, for calibrating the modelled
cycles of hil/targets/hls/cycles.py.

Written from the report layout Vitis HLS documents and prints (2020.x-2023.x:
"Vitis HLS Report for '<module>'" sections with Timing, Latency summary,
Instance and Loop tables; XML <profile> with UserAssignments and
PerformanceEstimates/SummaryOfLoopLatency). It has been checked against the
hand-written samples in tests/data only, not against output of a real run.
Pipelined loops that Vitis outlines into `<function>_Pipeline_<LABEL>` modules
appear as modules of their own; a report directory merges every module.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from hil.errors import CodegenError


@dataclass
class ReportLoop:
    name: str
    latency_min: int | None
    latency_max: int | None
    iteration_latency: int | None
    ii_achieved: int | None
    ii_target: int | None
    trip: int | None
    pipelined: bool | None


@dataclass
class ReportModule:
    name: str
    latency_min: int | None = None
    latency_max: int | None = None
    interval_min: int | None = None
    interval_max: int | None = None
    pipeline_type: str | None = None
    loops: list[ReportLoop] = field(default_factory=list)
    instances: list[dict] = field(default_factory=list)


@dataclass
class CsynthReport:
    path: str
    top: str | None = None
    version: str | None = None
    part: str | None = None
    target_ns: float | None = None
    estimated_ns: float | None = None
    modules: list[ReportModule] = field(default_factory=list)

    def module(self, name: str) -> ReportModule:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    m = re.fullmatch(r"(\d+)(?:\s*~\s*(\d+))?", text)
    return int(m.group(2) or m.group(1)) if m else None


def _float(text: str | None) -> float | None:
    m = re.search(r"[-+]?\d+(?:\.\d+)?", text or "")
    return float(m.group(0)) if m else None


def _table_rows(lines: list[str], start: int) -> tuple[list[list[str]], int]:
    """Data rows of the +---+ table starting at lines[start]; returns (rows, next index)."""
    rows, seps, i = [], 0, start
    while i < len(lines):
        s = lines[i].strip()
        if s.startswith("+-"):
            seps += 1
            if seps == 3:
                return rows, i + 1
        elif s.startswith("|") and seps == 2:
            rows.append([c.strip() for c in s.strip("|").split("|")])
        elif not s.startswith("|"):
            break
        i += 1
    return rows, i


def parse_csynth_rpt(text: str, path: str = "<text>") -> CsynthReport:
    """Vitis HLS text report (csynth.rpt / <module>_csynth.rpt), one or more module sections."""
    rep = CsynthReport(path)
    lines = text.splitlines()
    mod: ReportModule | None = None
    context = None
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        m = re.match(r"== Vitis HLS Report for '([^']+)'|== Vivado HLS Report for '([^']+)'", s)
        if m:
            mod = ReportModule(m.group(1) or m.group(2))
            rep.modules.append(mod)
            rep.top = rep.top or mod.name
            context = None
        elif s.startswith("* Version:"):
            rep.version = rep.version or s.split(":", 1)[1].strip()
        elif s.startswith("* Target device:"):
            rep.part = rep.part or s.split(":", 1)[1].strip()
        elif s.startswith("+ Timing"):
            context = "timing"
        elif s.startswith("+ Latency"):
            context = "latency"
        elif s.startswith("* Instance:"):
            context = "instance"
        elif s.startswith("* Loop:"):
            context = "loop"
        elif s.startswith("+-") and mod is not None and context:
            rows, nxt = _table_rows(lines, i)
            if context == "timing":
                for r in rows:
                    if r and r[0].startswith("ap_clk") and len(r) >= 3:
                        rep.target_ns = rep.target_ns or _float(r[1])
                        rep.estimated_ns = rep.estimated_ns or _float(r[2])
            elif context == "latency":
                for r in rows:
                    if len(r) >= 7 and _int(r[0]) is not None:
                        mod.latency_min, mod.latency_max = _int(r[0]), _int(r[1])
                        mod.interval_min, mod.interval_max = _int(r[4]), _int(r[5])
                        mod.pipeline_type = r[6]
            elif context == "instance":
                for r in rows:
                    if len(r) >= 8 and _int(r[2]) is not None:
                        mod.instances.append(dict(instance=r[0], module=r[1], latency_min=_int(r[2]),
                                                  latency_max=_int(r[3]), interval_min=_int(r[6]),
                                                  interval_max=_int(r[7])))
            elif context == "loop":
                for r in rows:
                    if len(r) >= 8 and r[0].lstrip("|").strip().startswith(("-", "+", "o")):
                        name = r[0].lstrip("-+o ").strip()
                        mod.loops.append(ReportLoop(name, _int(r[1]), _int(r[2]), _int(r[3]), _int(r[4]),
                                                    _int(r[5]), _int(r[6]), r[7].strip().lower() == "yes"))
            context = None if context in ("latency", "instance", "loop", "timing") else context
            i = nxt
            continue
        i += 1
    if not rep.modules:
        raise CodegenError(f"{path}: no 'Vitis HLS Report for' section: not a csynth report")
    return rep


_LOOP_FIELDS = {"TripCount", "Latency", "IterationLatency", "PipelineII", "PipelineDepth", "Slack",
                "AbsoluteTimeLatency", "InstanceList", "Name", "PipelineType", "AchievedII", "LatencyMin",
                "LatencyMax", "TripCountMin", "TripCountMax", "range", "min", "max"}


def parse_csynth_xml(text: str, path: str = "<text>") -> CsynthReport:
    """Vitis HLS XML report (csynth.xml / <module>_csynth.xml)."""
    root = ET.fromstring(text)
    rep = CsynthReport(path)
    rep.version = root.findtext("ReportVersion/Version")
    ua = root.find("UserAssignments")
    if ua is not None:
        rep.top = ua.findtext("TopModelName")
        rep.part = ua.findtext("Part")
        rep.target_ns = _float(ua.findtext("TargetClockPeriod"))
    pe = root.find("PerformanceEstimates")
    if pe is None or rep.top is None:
        raise CodegenError(f"{path}: no UserAssignments/TopModelName or PerformanceEstimates: not a csynth XML report")
    rep.estimated_ns = _float(pe.findtext("SummaryOfTimingAnalysis/EstimatedClockPeriod"))
    mod = ReportModule(rep.top, pipeline_type=pe.findtext("PipelineType"))
    ov = pe.find("SummaryOfOverallLatency")
    if ov is not None:
        mod.latency_min = _int(ov.findtext("Best-caseLatency"))
        mod.latency_max = _int(ov.findtext("Worst-caseLatency"))
        mod.interval_min = _int(ov.findtext("Interval-min"))
        mod.interval_max = _int(ov.findtext("Interval-max"))

    def walk(node):
        for child in node:
            if child.tag in _LOOP_FIELDS:
                continue
            it = _int(child.findtext("IterationLatency")) or _int(child.findtext("PipelineDepth"))
            lat = _int(child.findtext("Latency"))
            ii = _int(child.findtext("PipelineII"))
            mod.loops.append(ReportLoop(child.findtext("Name") or child.tag, lat, lat, it, ii, ii,
                                        _int(child.findtext("TripCount")), ii is not None))
            walk(child)
    sl = pe.find("SummaryOfLoopLatency")
    if sl is not None:
        walk(sl)
    rep.modules.append(mod)
    return rep


def parse_csynth(path) -> CsynthReport:
    """A csynth report: a .rpt or .xml file, or a report directory (every *_csynth.* in it)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*csynth.rpt")) or sorted(p.glob("*csynth.xml"))
        if not files:
            raise CodegenError(f"{p}: no *csynth.rpt or *csynth.xml (look in <project>/solution1/syn/report)")
        reps = [parse_csynth(f) for f in files]
        out = reps[0]
        for r in reps[1:]:
            out.modules += r.modules
        out.path = str(p)
        return out
    text = p.read_text(errors="replace")
    return parse_csynth_xml(text, str(p)) if text.lstrip().startswith("<") else parse_csynth_rpt(text, str(p))
