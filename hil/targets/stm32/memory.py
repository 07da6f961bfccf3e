"""Flash and RAM of a built STM32 image, per model, read from the ELF.

Sections from `objdump -h` (flash = loaded sections in the flash window, CCM =
the .ccmram section, SRAM = the other allocated sections in the SRAM window, as
firmware_stm32/tools/check_size.py counts them), region sizes from the
linker script's __hil_* symbols, buffer sizes from `nm -S`: the engine's
activation arena (hil_nn_arena in SRAM, sized for the largest model, its
input slot included), the optimised kernels' scratch (hil_nn_scratch, CCM),
the stack, and the protocol app's own buffers (CCM). Per model: its generated
tables (m<id>_<name>_* symbols) and the arena it needs (the generator's
arena_need()), so its activation RAM is arena need + scratch.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from golden import artifact
from golden.paths import qmodel_path
from hil.targets.stm32.codegen import arena_need

APP_BUFFERS = ("s_dev", "s_output", "s_counts", "s_ring")
CCM_SECTION = ".ccmram"
REGION_SYMBOLS = {"flash": "__hil_flash_size", "sram": "__hil_ram_size", "ccm": "__hil_ccm_size"}


def _run(tool: str, *args: str) -> str:
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


def _sections(elf: Path) -> dict[str, tuple[int, int, int, set[str]]]:
    out = {}
    for line in _run("arm-none-eabi-objdump", "-h", "-w", str(elf)).splitlines():
        p = line.split()
        if len(p) >= 7 and p[0].isdigit():
            flags = {f.strip(",") for f in p[7:]}
            out[p[1]] = (int(p[2], 16), int(p[3], 16), int(p[4], 16), flags)
    return out


def _symbols(elf: Path) -> dict[str, int]:
    sizes = {}
    for line in _run("arm-none-eabi-nm", "-S", str(elf)).splitlines():
        p = line.split()
        if len(p) == 4:
            sizes[p[3]] = sizes.get(p[3], 0) + int(p[1], 16)
    return sizes


def _values(elf: Path) -> dict[str, int]:
    """Absolute symbols (the linker script's region bounds) by name."""
    out = {}
    for line in _run("arm-none-eabi-nm", str(elf)).splitlines():
        p = line.split()
        if len(p) == 3 and p[2].startswith("__hil_"):
            out[p[2]] = int(p[0], 16)
    return out


def elf_memory(elf: Path, models: list[str]) -> dict | None:
    """The memory record of `hil profile` (docs/results-json.md), or None without binutils."""
    if shutil.which("arm-none-eabi-nm") is None or not Path(elf).exists():
        return None
    secs, syms, values = _sections(elf), _symbols(elf), _values(elf)
    flash = sum(s for s, _vma, lma, f in secs.values() if "LOAD" in f and s and lma >> 28 == 0x0)
    ccm = sum(s for name, (s, _vma, _lma, f) in secs.items() if "ALLOC" in f and name == CCM_SECTION)
    sram = sum(s for name, (s, vma, _lma, f) in secs.items()
               if "ALLOC" in f and s and vma >> 28 == 0x2 and name != CCM_SECTION)
    used = {"flash": flash, "sram": sram, "ccm": ccm}
    regions = {k: dict(used_bytes=used[k], size_bytes=values.get(sym)) for k, sym in REGION_SYMBOLS.items()}
    scratch = syms.get("hil_nn_scratch", 0)
    per_model = {}
    for i, m in enumerate(models):
        pat = re.compile(rf"^m{i}_{re.escape(m)}(_|$)")
        need = arena_need(artifact.load(qmodel_path(m)))
        per_model[m] = dict(tables_flash_bytes=sum(v for k, v in syms.items() if pat.match(k)),
                            arena_bytes=need, activation_ram_bytes=need + scratch)
    return dict(source=str(elf), flash_bytes=flash, ram_bytes=sram + ccm, sram_bytes=sram, ccm_bytes=ccm,
                regions=regions,
                sections={k: v[0] for k, v in secs.items() if v[0] and ("LOAD" in v[3] or "ALLOC" in v[3])},
                arena_bytes=syms.get("hil_nn_arena", 0), scratch_bytes=scratch,
                stack_bytes=secs.get(".stack", (0,))[0],
                app_buffers={k: syms[k] for k in APP_BUFFERS if k in syms}, models=per_model)
