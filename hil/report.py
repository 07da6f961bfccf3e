"""Human-readable result tables (rich), shared by the CLI and the pytest plugin."""
from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hil.results.model_result import ModelResult, ProfileResult


def stdout_console() -> Console:
    """Tables go to stdout; wide enough not to truncate names when piped."""
    c = Console()
    return c if c.is_terminal else Console(width=160)


def _pct(v):
    return "-" if v is None else f"{v:.2%}"


def _num(v):
    return "-" if v is None else f"{v:,.0f}"


def run_table(results: list[ModelResult]) -> Table:
    t = Table(title=escape(f"hil results on {results[0].board} ({results[0].counter_note})") if results
              else "hil results")
    for col in ("model", "vectors", "int mismatches", "device", "float", "int", "agreement",
                "per inference (median)", "device ms", "round trip ms"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for r in results:
        acc, tc = r.accuracy, r.total
        if acc.metric == "mae":
            dev, fl, it = ("-" if v is None else f"MAE {v:.4f}" for v in (acc.device, acc.float, acc.int))
            agree = "-"
        else:
            dev, fl, it, agree = _pct(acc.device), _pct(acc.float), _pct(acc.int), _pct(r.vs_float.agreement)
        lat = r.latency_ms
        t.add_row(escape(r.model), str(r.vectors),
                  ("[green]0[/]" if r.int_mismatches == 0 else f"[red]{r.int_mismatches}[/]"),
                  dev, fl, it, agree, f"{_num(tc.median)} {_unit_label(r.unit)}" if tc else "-",
                  "-" if lat.device is None else f"{lat.device:.3f}",
                  "-" if lat.round_trip is None else f"{lat.round_trip:.1f}")
    return t


def link_line(result: ModelResult) -> str:
    """One line on what the link needed: retries, NAKs, stale frames, restarts."""
    link = result.link
    text = (f"{result.model}: {link.requests:,} requests, {link.retries:,} retries, {link.naks:,} NAKs, "
            f"{link.corrupt_frames:,} corrupt answers, {link.timeouts:,} timeouts, "
            f"{link.stale_frames:,} stale frames, {len(result.restarts)} restarts")
    if link.injected is not None:
        text += (f"; injected ({link.inject_spec}): "
                 + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in link.injected.items()))
    return text


def per_class_table(result: ModelResult) -> Table:
    """Accuracy per class of one classification run (device, float model, integer model)."""
    t = Table(title=escape(f"{result.model} on {result.board}: accuracy per class"))
    for col in ("class", "vectors", "device", "float", "int"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for row in result.per_class:
        t.add_row(escape(str(row.cls)), str(row.vectors), _pct(row.device), _pct(row.float), _pct(row.int))
    return t


def _unit_label(unit: str | None) -> str:
    return (unit or "").replace("_", " ")


def layer_table(result: ModelResult | ProfileResult) -> Table:
    """Per-layer figures in the result's unit (instructions, cycles, ...)."""
    one = result.singular
    label = _unit_label(result.unit)
    t = Table(title=escape(f"{result.model} on {result.board}: {label} per layer ({result.counter_note})"))
    per = {"instruction": "instr", "cycle": "cycle"}.get(one, one.replace("_", " "))
    for col in ("layer", "type", "MACs", label, "share", f"MACs/{per}", f"{per}/MAC"):
        t.add_column(col, justify="left" if col in ("layer", "type") else "right")
    for L in result.layers:
        mpu = L.macs_per
        t.add_row(escape(L.name), escape(L.type), f"{L.macs:,}", _num(L.figure),
                  "-" if L.share is None else f"{L.share:.1%}",
                  "-" if mpu is None else f"{mpu:.3f}",
                  "-" if not mpu else f"{1 / mpu:.2f}")
    tc = result.total
    if tc:
        mpu = result.macs_per
        per_mac = f", {1 / mpu:.3f} {label} per MAC" if mpu else ""
        t.caption = (f"total per inference: median {tc.median:,.0f} {label} "
                     f"(min {tc.min:,}, max {tc.max:,}){per_mac}")
    if isinstance(result, ProfileResult) and result.memory:
        t.caption += "\n" + memory_line(result.memory)
    return t


def memory_line(mem: dict) -> str:
    m = mem.get("model") or {}
    app = sum(mem.get("app_buffers", {}).values())
    ram = (f"RAM {mem['ram_bytes']:,} B (SRAM {mem['sram_bytes']:,} B + CCM {mem['ccm_bytes']:,} B)"
           if "sram_bytes" in mem else f"RAM {mem['ram_bytes']:,} B")
    return (f"memory (from the ELF): flash {mem['flash_bytes']:,} B (this model's tables "
            f"{m.get('tables_flash_bytes', 0):,} B), {ram}; this model's "
            f"activation RAM {m.get('activation_ram_bytes', 0):,} B = arena {m.get('arena_bytes', 0):,} B "
            f"+ kernel scratch {mem['scratch_bytes']:,} B; stack {mem['stack_bytes']:,} B, "
            f"protocol buffers {app:,} B")


def results_table(results: list[ModelResult], reporter, width: int = 140) -> None:
    """Print the run table through pytest's terminal reporter."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=reporter.hasmarkup, width=max(140, width))
    console.print(run_table(results))
    for r in results:
        if r.per_class:
            console.print(per_class_table(r))
    for r in results:
        for line in r.mismatch_details[:5]:
            buf.write(f"  {line}\n")
        for f in r.failed_vectors[:5]:
            buf.write(f"  failed: {r.model} vector {f.index}: {f.error}\n")
        buf.write(f"  link: {link_line(r)}\n")
        for x in r.restarts:
            buf.write(f"  restart: {r.model} vector {x.vector} during {x.request}: {x.message}\n")
    reporter.write(buf.getvalue())
