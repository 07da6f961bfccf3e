"""Human-readable result tables (rich), shared by the CLI and the pytest plugin."""
from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def stdout_console() -> Console:
    """Tables go to stdout; wide enough not to truncate names when piped."""
    c = Console()
    return c if c.is_terminal else Console(width=160)


def _pct(v):
    return "-" if v is None else f"{v:.2%}"


def _num(v):
    return "-" if v is None else f"{v:,.0f}"


def run_table(docs: list[dict]) -> Table:
    t = Table(title=escape(f"hil results on {docs[0]['board']} ({docs[0]['counter_note']})") if docs else "hil results")
    for col in ("model", "vectors", "int mismatches", "device", "float", "int", "agreement",
                "per inference (median)", "device ms", "round trip ms"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for d in docs:
        acc, tc = d["accuracy"], d["total"]
        if acc.get("metric") == "mae":
            dev, fl, it = ("-" if acc[k] is None else f"MAE {acc[k]:.4f}" for k in ("device", "float", "int"))
            agree = "-"
        else:
            dev, fl, it, agree = _pct(acc["device"]), _pct(acc["float"]), _pct(acc["int"]), _pct(d["vs_float"].get("agreement"))
        lat = d["latency_ms"]
        t.add_row(escape(d["model"]), str(d["vectors"]),
                  ("[green]0[/]" if d["int_mismatches"] == 0 else f"[red]{d['int_mismatches']}[/]"),
                  dev, fl, it, agree, f"{_num(tc['median'])} {_unit_label(d)}" if tc else "-",
                  "-" if lat["device"] is None else f"{lat['device']:.3f}",
                  "-" if lat["round_trip"] is None else f"{lat['round_trip']:.1f}")
    return t


def link_line(doc: dict) -> str:
    """One line on what the link needed: retries, NAKs, stale frames, restarts."""
    link = doc.get("link", {})
    if "retries" not in link:
        return ""
    text = (f"{doc['model']}: {link['requests']:,} requests, {link['retries']:,} retries, {link['naks']:,} NAKs, "
            f"{link['corrupt_frames']:,} corrupt answers, {link['timeouts']:,} timeouts, "
            f"{link['stale_frames']:,} stale frames, {len(doc.get('restarts', []))} restarts")
    if "injected" in link:
        text += (f"; injected ({link['inject_spec']}): "
                 + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in link["injected"].items()))
    return text


def per_class_table(doc: dict) -> Table:
    """Accuracy per class of one classification run (device, float model, integer model)."""
    t = Table(title=escape(f"{doc['model']} on {doc['board']}: accuracy per class"))
    for col in ("class", "vectors", "device", "float", "int"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for row in doc.get("per_class") or []:
        t.add_row(escape(str(row["cls"])), str(row["vectors"]), _pct(row["device"]), _pct(row["float"]),
                  _pct(row["int"]))
    return t


def _unit_label(doc: dict) -> str:
    return (doc.get("unit") or "").replace("_", " ")


def _singular(doc: dict) -> str:
    return {"instructions": "instruction", "cycles": "cycle", "modelled_cycles": "modelled_cycle",
            "icount_ticks": "icount_tick"}[doc["unit"]]


def layer_table(doc: dict) -> Table:
    """Per-layer figures in the document's unit (instructions, cycles, ...)."""
    unit, one = doc["unit"], _singular(doc)
    label = _unit_label(doc)
    t = Table(title=escape(f"{doc['model']} on {doc['board']}: {label} per layer ({doc['counter_note']})"))
    per = {"instruction": "instr", "cycle": "cycle"}.get(one, one.replace("_", " "))
    for col in ("layer", "type", "MACs", label, "share", f"MACs/{per}", f"{per}/MAC"):
        t.add_column(col, justify="left" if col in ("layer", "type") else "right")
    for L in doc["layers"]:
        mpu = L.get(f"macs_per_{one}")
        t.add_row(escape(L["name"]), escape(L["type"]), f"{L['macs']:,}", _num(L.get(unit)),
                  "-" if L["share"] is None else f"{L['share']:.1%}",
                  "-" if mpu is None else f"{mpu:.3f}",
                  "-" if not mpu else f"{1 / mpu:.2f}")
    tc = doc.get("total")
    if tc:
        mpu = doc.get(f"macs_per_{one}")
        per_mac = f", {1 / mpu:.3f} {label} per MAC" if mpu else ""
        t.caption = (f"total per inference: median {tc['median']:,.0f} {label} "
                     f"(min {tc['min']:,}, max {tc['max']:,}){per_mac}")
    mem = doc.get("memory")
    if mem:
        t.caption += "\n" + memory_line(mem)
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


def results_table(docs: list[dict], tw) -> None:
    """Print the run table through pytest's terminal writer."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=tw.hasmarkup, width=max(140, tw.fullwidth))
    console.print(run_table(docs))
    for d in docs:
        if d.get("per_class"):
            console.print(per_class_table(d))
    for d in docs:
        for line in d["mismatch_details"][:5]:
            buf.write(f"  {line}\n")
        for f in d.get("failed_vectors", [])[:5]:
            buf.write(f"  failed: {d['model']} vector {f['index']}: {f['error']}\n")
        buf.write(f"  link: {link_line(d)}\n")
        for r in d.get("restarts", []):
            buf.write(f"  restart: {d['model']} vector {r['vector']} during {r['request']}: {r['message']}\n")
    tw.write(buf.getvalue())
