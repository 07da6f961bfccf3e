"""`fpga-sim`: the HLS kernels compiled for the host, behind the real wire protocol.

build() generates the model code (hil/codegen_hls.py) and compiles
firmware_fpga_hls/sim with g++ and the ap_int headers: the very top functions
Vitis would synthesise, plus the protocol dispatcher and hil_frame.c. deploy()
starts that program on a free 127.0.0.1 port and returns its socket:// URL;
stop() always kills it (the program also exits when its parent dies).

Counts are MODELLED HLS cycles at the design clock (100 MHz), from the loop
structure (hil/hls_cycles.py), deterministic and never measured; a lab-config
`calibration` entry (JSON from `python -m hil.hls_cycles MODEL --csynth R
--write-calibration F`) replaces modelled II and depths with csynth's.

    [boards.fpga-sim]
    calibration = ["kws_dscnn_fpga.cal.json"]   # optional
"""
from __future__ import annotations

import atexit
import json
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from hil.boards.base import Board, BoardError, BoardOptions, Capability
from hil.fpga_build import FpgaImage, build_image


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FpgaSimBoard(Board):
    name = "fpga-sim"
    description = "HLS kernels (C simulation build) behind the wire protocol; modelled cycles at 100 MHz"
    capabilities = frozenset({Capability.EMULATED, Capability.CYCLE_COUNTER, Capability.LAYER_TENSORS})
    default_models = ("kws_dscnn_fpga", "mnist_lenet")

    def __init__(self, options: BoardOptions | None = None):
        super().__init__(options)
        self.proc: subprocess.Popen | None = None
        self.image: FpgaImage | None = None
        self.log = None

    def models(self) -> list[str]:
        """The image's models, ids in this order; the FPGA set unless the user chose models."""
        chosen = list(self.options.models)
        return list(self.default_models) if chosen == BoardOptions().models else chosen

    def _calibrations(self) -> dict:
        paths = self.options.config.get("calibration") or []
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

    def deploy(self) -> str:
        for _ in range(3):   # the free port can be taken between probe and bind: retry
            port = free_port()
            self.log = tempfile.NamedTemporaryFile(prefix="hil-fpga-sim-", suffix=".log", delete=False)
            self.proc = subprocess.Popen([str(self.image.fpga_sim), "--port", str(port)], stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
            atexit.register(self.stop)
            if self._wait_listening():
                return f"socket://127.0.0.1:{port}"
            self.stop()
        raise BoardError(f"{self.name}: {self.image.fpga_sim.name} did not start listening: {self._log_tail()}")

    def _wait_listening(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False          # e.g. the port was taken: it exits at once
            if "listening on" in self._log_text():
                return True
            time.sleep(0.01)
        return False

    def _log_text(self) -> str:
        try:
            with open(self.log.name) as f:
                return f.read()
        except (OSError, AttributeError):
            return ""

    def _log_tail(self) -> str:
        return self._log_text()[-500:].strip() or "(no output)"

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
