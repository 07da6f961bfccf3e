#!/usr/bin/env python3
"""Check that a linked firmware image fits its target's flash and RAM.

Usage: check_size.py --target NAME [--objdump TOOL] [--nm TOOL] [--models-header H] ELF

With --models-header (the generated hil_models.h), the per-model activation
arena lines (liveness-planned peak vs naive sum) are printed too, so a model
that makes RAM overflow is named with its sizes.

Region bounds come from the ELF itself (symbols __hil_flash_start/size,
__hil_ram_start/size and __hil_ccm_start/size, defined by
ld/stm32f4_sections.ld from the MEMORY regions), section sizes from
`objdump -h`:

  flash = every loaded section whose load address (LMA) is in flash,
          i.e. vectors + .text/.rodata + the initial values of .data
  CCM   = the .ccmram section (src/memory_regions.h: kernel scratch,
          protocol buffers)
  SRAM  = every other allocated section whose run address (VMA) is in the
          SRAM window, i.e. .stack + .data + .bss (the activation arena)

Prints one usage line and a breakdown (activation arena, stack, other SRAM;
kernel scratch, protocol buffers, other CCM; flash of each model's tables,
from `nm -S`) and exits 0 when every region fits; otherwise prints each
region that overflows, by how many bytes, for which target, and exits 1. The
Makefile also runs this on an image relinked with --noinhibit-exec when the
linker itself rejects an overflowing image, so the reader gets these numbers
instead of only ld's "region `FLASH' overflowed".
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    name: str
    size: int
    vma: int
    lma: int
    flags: frozenset[str]


def read_sections(objdump: str, elf: str) -> list[Section]:
    out = subprocess.run([objdump, "-h", "-w", elf], check=True, capture_output=True, text=True).stdout
    sections = []
    for line in out.splitlines():
        parts = line.split()
        # Idx Name Size VMA LMA File-off Algn Flags
        if len(parts) < 7 or not parts[0].isdigit():
            continue
        flags = frozenset(f.strip(",") for f in parts[7:]) if len(parts) > 7 else frozenset()
        sections.append(Section(parts[1], int(parts[2], 16), int(parts[3], 16), int(parts[4], 16), flags))
    return sections


def read_symbols(nm: str, elf: str) -> dict[str, int]:
    out = subprocess.run([nm, elf], check=True, capture_output=True, text=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("__hil_"):
            symbols[parts[2]] = int(parts[0], 16)
    return symbols


def symbol_sizes(nm: str, elf: str) -> dict[str, int]:
    out = subprocess.run([nm, "-S", elf], check=True, capture_output=True, text=True).stdout
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            sizes[parts[3]] = sizes.get(parts[3], 0) + int(parts[1], 16)
    return sizes


# The protocol app's buffers (backend.c, uart.c; s_dev is the dispatcher with its frame buffers).
APP_BUFFERS = ("s_dev", "s_output", "s_counts", "s_ring")
CCM_SECTION = ".ccmram"


def breakdown(sizes: dict[str, int], sram_used: int, ccm_used: int, stack: int) -> str:
    """SRAM and CCM by purpose and flash of each model's generated tables (m<id>_<name>_*).
    The arena (input slot included) is in SRAM, the kernel scratch and protocol buffers in CCM."""
    arena, scratch = sizes.get("hil_nn_arena", 0), sizes.get("hil_nn_scratch", 0)
    app = sum(sizes.get(k, 0) for k in APP_BUFFERS if k != "s_ring")
    ring = sizes.get("s_ring", 0)
    models: dict[str, int] = {}
    for name, size in sizes.items():
        m = re.match(r"^m(\d+)_(\w+?)(?:_l\d+_\w+|_layers)?$", name)
        if m:
            models[m.group(2)] = models.get(m.group(2), 0) + size
    tables = ", ".join(f"{k} {v}" for k, v in models.items()) or "none"
    return (f"SRAM: activation arena {arena} (input slot included), stack {stack}, UART ring {ring}, "
            f"other {sram_used - arena - stack - ring}; "
            f"CCM: kernel scratch {scratch}, protocol buffers {app}, other {ccm_used - scratch - app}; "
            f"flash of model tables: {tables}")


def in_window(addr: int, start: int) -> bool:
    # Overflowing sections lie past the region's end, so classify by the
    # 256 MiB address window the region lives in (flash 0x08.., SRAM 0x20..).
    return (addr & 0xF0000000) == (start & 0xF0000000) and addr >= start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True)
    ap.add_argument("--objdump", default="arm-none-eabi-objdump")
    ap.add_argument("--nm", default="arm-none-eabi-nm")
    ap.add_argument("--models-header", help="generated hil_models.h: print its per-model arena lines")
    ap.add_argument("elf")
    args = ap.parse_args(argv)
    arena_lines = []
    if args.models_header:
        try:
            with open(args.models_header) as f:
                arena_lines = [ln.strip(" *\n") for ln in f if ln.startswith(" *   arena ")]
        except OSError:
            pass

    sections = read_sections(args.objdump, args.elf)
    sym = read_symbols(args.nm, args.elf)
    try:
        flash_start, flash_size = sym["__hil_flash_start"], sym["__hil_flash_size"]
        ram_start, ram_size = sym["__hil_ram_start"], sym["__hil_ram_size"]
        ccm_size = sym["__hil_ccm_size"]
    except KeyError as missing:
        print(f"check_size: {args.elf} lacks symbol {missing}; link with ld/stm32f4_sections.ld", file=sys.stderr)
        return 2

    flash = [s for s in sections if "LOAD" in s.flags and s.size and in_window(s.lma, flash_start)]
    ccm = [s for s in sections if "ALLOC" in s.flags and s.size and s.name == CCM_SECTION]
    ram = [s for s in sections if "ALLOC" in s.flags and s.size and s.name != CCM_SECTION
           and in_window(s.vma, ram_start)]
    flash_used = sum(s.size for s in flash)
    ram_used = sum(s.size for s in ram)
    ccm_used = sum(s.size for s in ccm)

    def parts(secs: list[Section]) -> str:
        return " + ".join(f"{s.name} {s.size}" for s in secs) or "nothing"

    errors = []
    for region, used, size, secs in (("FLASH", flash_used, flash_size, flash), ("SRAM", ram_used, ram_size, ram),
                                     ("CCM", ccm_used, ccm_size, ccm)):
        if used > size:
            errors.append(f"{region} overflow: needs {used} bytes ({parts(secs)}), has {size}: "
                          f"{used - size} bytes over")
    if errors:
        print(f"check_size: ERROR: firmware for TARGET={args.target} does not fit:", file=sys.stderr)
        for e in errors:
            print(f"check_size:   {e}", file=sys.stderr)
        for a in arena_lines:
            print(f"check_size:   {a}", file=sys.stderr)
        print(
            "check_size:   shrink the model tables / buffers, lower STACK_SIZE, or build for a larger target",
            file=sys.stderr,
        )
        return 1

    print(
        f"check_size: TARGET={args.target}: flash {flash_used}/{flash_size} bytes "
        f"({100.0 * flash_used / flash_size:.1f}%), SRAM {ram_used}/{ram_size} bytes "
        f"({100.0 * ram_used / ram_size:.1f}%) [{parts(ram)}], CCM {ccm_used}/{ccm_size} bytes "
        f"({100.0 * ccm_used / ccm_size:.1f}%)"
    )
    stack = sum(s.size for s in ram if s.name == ".stack")
    print(f"check_size: {breakdown(symbol_sizes(args.nm, args.elf), ram_used, ccm_used, stack)}")
    for a in arena_lines:
        print(f"check_size:   {a}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
