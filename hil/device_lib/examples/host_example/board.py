"""Board class for the host example: the example firmware as a local process on a TCP port.

Not an installed board (it is not in `hil boards`): select it by import path,

    pytest tests/board --board=hil.device_lib.examples.host_example.board:HostExampleBoard --vectors 20

the way a lab selects a board class from its own repository. build() runs the
example's Makefile (gcc); deploy() starts the program on a free port.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hil.boards.base import BoardError, Capability
from hil.boards.local_process import LocalProcessBoard

HERE = Path(__file__).resolve().parent


class HostExampleBoard(LocalProcessBoard):
    name = "host-example"
    description = "hil/device_lib/examples/host_example: the device library + an example backend, on the host"
    capabilities = frozenset({Capability.EMULATED, Capability.LAYER_TENSORS})
    default_models = ("mnist_lenet", "sine_mlp")

    exe: Path | None = None

    def build_dir(self) -> Path:
        # the checkout in the name too: two checkouts' builds in one folder would pass for up to date
        tag = "+".join(self.options.models) + "-" + hashlib.sha256(str(HERE).encode()).hexdigest()[:8]
        return Path(os.environ.get("HIL_HOST_EXAMPLE_BUILD", tempfile.gettempdir())) / f"hil-host-example-{tag}"

    def build(self) -> None:
        out = self.build_dir()
        cmd = ["make", "-C", str(HERE), f"BUILD_DIR={out}", f"MODELS={' '.join(self.options.models)}",
               f"PYTHON={sys.executable}"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:])
            raise BoardError(f"{self.name}: example build failed ({' '.join(cmd[:3])} ...):\n{tail}")
        self.exe = out / "host_example"

    def command(self, port: int) -> list[str]:
        return [str(self.exe), str(port)]

    def is_listening(self, port: int) -> bool:
        return f"listening on 127.0.0.1:{port}" in self.log_text()
