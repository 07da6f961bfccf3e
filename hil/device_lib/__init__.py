"""The device side of the hil wire protocol as one portable C library.

C sources, not Python: they ship inside the package so a lab's own firmware
build can find them wherever hil is installed (`python -m hil.device_lib
--path`). Layout under ROOT:

    include/hil_protocol.h   generated from hil/protocol/spec.py (python -m hil.protocol.gen_c)
    include/hil_frame.h      frame layer: COBS + CRC-16 + header
    include/hil_device.h     the request dispatcher and the backend interface a target provides
    include/hil_mlperf.h     the MLPerf Tiny text protocol beside the binary one (docs/mlperf-tiny.md)
    src/hil_frame.c, src/hil_device.c, src/hil_mlperf.c
    device_lib.mk            make fragment: HIL_DEVICE_LIB_SRCS, HIL_DEVICE_LIB_CFLAGS
    examples/host_example/   a backend for the host over TCP (docs/own-firmware.md)
    fuzz/                    libFuzzer harnesses (make fuzz)
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
INCLUDE_DIR = ROOT / "include"
SOURCES = (ROOT / "src" / "hil_frame.c", ROOT / "src" / "hil_device.c", ROOT / "src" / "hil_mlperf.c")
MAKE_FRAGMENT = ROOT / "device_lib.mk"
