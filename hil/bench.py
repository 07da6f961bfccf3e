"""`hil bench kernels`: the plain C reference kernels against the optimised ones.

Builds the STM32 firmware twice (KERNELS=ref and KERNELS=opt, separate build
directories), runs every model on the QEMU twin with each, and reports per
model and per layer the guest instructions of both (exact under -icount,
median over the first vectors), instructions per MAC and the ratio. A
benchmark, not a test: it prints figures and writes JSON
(`format: hil-bench-kernels`, docs/performance.md).
"""
from __future__ import annotations

from rich.table import Table

from hil.boards import BoardOptions, board_class
from hil.boards.base import BoardError
from hil.lab_config import BoardConfig

BENCH_FORMAT, BENCH_VERSION = "hil-bench-kernels", 1
VARIANTS = ("ref", "opt")


def _per_mac(instr, macs):
    return (instr / macs) if instr and macs else None


def bench_kernels(board_name: str, models: list[str], repeats: int = 3) -> dict:
    """Profile `models` with both kernel builds on `board_name` (an STM32 board)."""
    from hil.runner import profile_model
    cls = board_class(board_name)
    if not hasattr(cls, "target"):
        raise BoardError(f"{board_name}: `hil bench kernels` needs an STM32 board (stm32f4-qemu)")
    prof = {}
    for variant in VARIANTS:
        with cls(BoardOptions(models=list(models), config=BoardConfig(kernels=variant))) as board:
            for m in models:
                prof[(variant, m)] = profile_model(board, m, repeats)
    unit = prof[(VARIANTS[0], models[0])]["unit"]
    out = []
    for m in models:
        ref, opt = prof[("ref", m)], prof[("opt", m)]
        layers = []
        for lr, lo in zip(ref["layers"], opt["layers"]):
            layers.append(dict(name=lr["name"], type=lr["type"], macs=lr["macs"],
                               ref=lr[unit], opt=lo[unit],
                               ref_per_mac=_per_mac(lr[unit], lr["macs"]),
                               opt_per_mac=_per_mac(lo[unit], lo["macs"]),
                               speedup=(lr[unit] / lo[unit]) if lo[unit] else None))
        out.append(dict(model=m, macs=ref["macs"], ref=ref[unit], opt=opt[unit],
                        ref_per_mac=_per_mac(ref[unit], ref["macs"]),
                        opt_per_mac=_per_mac(opt[unit], opt["macs"]),
                        speedup=ref[unit] / opt[unit], layers=layers))
    first = prof[("opt", models[0])]
    return dict(format=BENCH_FORMAT, version=BENCH_VERSION, board=board_name, unit=unit,
                counter=first["counter"], counter_note=first["counter_note"], repeats=repeats,
                build_hashes={v: prof[(v, models[0])]["build_hash"] for v in VARIANTS}, models=out)


def _f(v, spec=",.0f"):
    return "-" if v is None else format(v, spec)


def kernels_tables(doc: dict) -> list[Table]:
    u = doc["unit"].replace("_", " ")
    summary = Table(title=f"reference vs optimised kernels on {doc['board']} ({doc['counter_note']})")
    for col in ("model", "MACs", f"ref {u}", f"opt {u}", "ref per MAC", "opt per MAC", "speed-up"):
        summary.add_column(col, justify="left" if col == "model" else "right")
    tables = [summary]
    for m in doc["models"]:
        summary.add_row(m["model"], f"{m['macs']:,}", _f(m["ref"]), _f(m["opt"]),
                        _f(m["ref_per_mac"], ".2f"), _f(m["opt_per_mac"], ".2f"), f"{m['speedup']:.2f}x")
        t = Table(title=f"{m['model']}: {u} per layer")
        for col in ("layer", "type", "MACs", "ref", "opt", "ref/MAC", "opt/MAC", "speed-up"):
            t.add_column(col, justify="left" if col in ("layer", "type") else "right")
        for L in m["layers"]:
            t.add_row(L["name"], L["type"], f"{L['macs']:,}", _f(L["ref"]), _f(L["opt"]),
                      _f(L["ref_per_mac"], ".2f"), _f(L["opt_per_mac"], ".2f"),
                      "-" if L["speedup"] is None else f"{L['speedup']:.2f}x")
        tables.append(t)
    return tables
