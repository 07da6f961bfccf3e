"""`fpga-sim`: the HLS kernels compiled for the host, behind the real wire protocol.

build() generates the model code (hil/targets/hls/codegen.py) and compiles
firmware_fpga_hls/sim with g++ and the ap_int headers: the very top functions
Vitis would synthesise, plus the protocol dispatcher and hil_frame.c. deploy()
starts that program on a free 127.0.0.1 port and returns its socket:// URL;
stop() always kills it (the program also exits when its parent dies).

Counts are MODELLED HLS cycles at the design clock (100 MHz), from the loop
structure (hil/targets/hls/cycles.py), deterministic and never measured; a lab-config
`calibration` entry (JSON from `python -m hil.targets.hls.cycles MODEL --csynth R
--write-calibration F`) replaces modelled II and depths with csynth's.

    [boards.fpga-sim]
    calibration = ["kws_dscnn_fpga.cal.json"]   # optional
"""
from __future__ import annotations

import json
from pathlib import Path

from golden.registry import DEFAULT_MODELS_HLS
from hil.boards.base import BoardError, BoardOptions, Capability
from hil.boards.local_process import LocalProcessBoard
from hil.targets.hls.build import FpgaImage, build_image


class FpgaSimBoard(LocalProcessBoard):
    name = "fpga-sim"
    description = "HLS kernels (C simulation build) behind the wire protocol; modelled cycles at 100 MHz"
    capabilities = frozenset({Capability.EMULATED, Capability.CYCLE_COUNTER, Capability.LAYER_TENSORS})
    default_models = DEFAULT_MODELS_HLS

    def __init__(self, options: BoardOptions | None = None):
        super().__init__(options)
        self.image: FpgaImage | None = None

    def models(self) -> list[str]:
        """The image's models, ids in this order; the FPGA set unless the user chose models."""
        chosen = list(self.options.models)
        return list(self.default_models) if chosen == BoardOptions().models else chosen

    def _calibrations(self) -> dict:
        paths = list(self.options.config.calibration)
        out = {}
        for p in [paths] if isinstance(paths, str) else paths:
            try:
                cal = json.loads(Path(p).read_text())
            except (OSError, ValueError) as exc:
                raise BoardError(f"{self.name}: calibration file {p}: {exc}") from None
            out[cal.get("model")] = cal
        return out

    def build(self) -> None:
        self.image = build_image(self.models(), self.name, self._calibrations())

    def build_info(self) -> dict:
        from hil.results.provenance import file_hash, tool_version
        if self.image is None:
            return {}
        return dict(image_hash=file_hash(self.image.fpga_sim), compiler=tool_version("g++"))

    def command(self, port: int) -> list[str]:
        return [str(self.image.fpga_sim), "--port", str(port)]

    def is_listening(self, port: int) -> bool:
        return "listening on" in self.log_text()
