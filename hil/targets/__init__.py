"""Target build tools: what turns golden artifacts into firmware for one kind of target.

One sub-package per target: `stm32` (C model tables + the arm-none-eabi-gcc
firmware build) and `hls` (C++ model code, the HLS design description, its
modelled cycles, csynth calibration, the fpga-sim / bitstream-side build).
The host run-time (protocol, link, device, boards, runner, plugin, CLI) lives
in `hil/` itself and only calls into a target package from a board's build().
"""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def source_dir(name: str) -> Path:
    """Where a target's sources live (`firmware_stm32`, `firmware_fpga_hls`): the one place that knows."""
    return REPO / name
