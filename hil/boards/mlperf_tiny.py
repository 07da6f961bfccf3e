"""`mlperf-tiny`: any device that speaks only the MLPerf Tiny (EEMBC) text protocol, e.g. a lab's
MLPerf Tiny submission firmware; `mlperf-qemu`: hil's own firmware on the QEMU twin, spoken to in
that protocol only (docs/mlperf-tiny.md).

    [boards.mlperf-tiny]
    port = "/dev/ttyACM0"          # or socket://host:port, rfc2217://host:port
    usb = "0483:374b"              # or find the port by USB VID:PID (the runner's way)
    baud = 115200
    model = "kws_dscnn"            # the model its firmware runs (default: the first --model)

Nothing is built or flashed: the lab's image is already on the device. The device cannot prove
which model it runs (the protocol has no model hash): hil checks its `m-model-[task]` against the
model's declared task and judges every answer against the reference. Counts are `lap_us`,
microseconds of the device's own clock (`m-lap-us-`).
"""
from __future__ import annotations

import numpy as np

from golden import qmodel
from golden.paths import qmodel_path
from golden.registry import check_built
from hil.boards.base import Board, BoardError, BoardOptions, Capability
from hil.device import DeviceInfo, ModelInfo
from hil.link import SerialLink
from hil.mlperf.client import MlperfClient
from hil.mlperf.dut import COUNTER, MlperfDevice
from hil.mlperf.reference import check_reference
from hil.mlperf.tasks import OutputFormat, task_of

LAP_CLOCK_HZ = 1_000_000         # lap_us counts microseconds


def find_usb_port(vid_pid: str, board: str) -> str:
    """The serial port of the one attached USB device VID:PID (hex), as the MLPerf runner finds it."""
    from serial.tools import list_ports
    try:
        vid, pid = (int(x, 16) for x in vid_pid.split(":"))
    except ValueError:
        raise BoardError(f"{board}: usb = '{vid_pid}' is not VID:PID in hex (e.g. 0483:374b)") from None
    ports = [p.device for p in list_ports.comports() if p.vid == vid and p.pid == pid]
    if len(ports) != 1:
        raise BoardError(f"{board}: {len(ports)} serial ports with USB {vid_pid} ({', '.join(ports) or 'none'}): "
                         f"set `port` in the lab config")
    return ports[0]


def model_info(name: str, model_id: int = 0) -> tuple[ModelInfo, OutputFormat]:
    """The runner's view of `name` from its golden artifact (the device reports no descriptor)."""
    check_built(name)
    check_reference(name)
    qm = qmodel.load(qmodel_path(name))
    fmt = OutputFormat.of(qm)
    if (fmt.inverse() is None) if fmt.dtype == "int8" else float(fmt.scale) <= 0.001:
        raise BoardError(f"model '{name}': output scale {float(fmt.scale):g} prints two int8 values alike at "
                         f"%.3f, so equal text would not prove equal outputs: not judged over MLPerf text")
    ishape, oshape = qm.input.shape, qm.output.shape
    width = 4 if fmt.dtype == "int32" else 1
    mi = ModelInfo(model_id, name, qm.hash, ishape, "int8", int(np.prod(ishape)), oshape, fmt.dtype,
                   int(np.prod(oshape)) * width, int(qm.macs))
    return mi, fmt


class MlperfTinyBoard(Board):
    name = "mlperf-tiny"
    description = "a device speaking only the MLPerf Tiny text protocol (lab config: port or usb, baud, model)"
    capabilities = frozenset({Capability.CYCLE_COUNTER, Capability.MLPERF_TEXT})

    def __init__(self, options: BoardOptions | None = None):
        super().__init__(options)
        self.client: MlperfClient | None = None
        self.dut_name = self.dut_profile = self.dut_task = ""

    def served_model(self) -> str:
        return self.options.config.model or self.options.models[0]

    def build(self) -> None:
        """Nothing to build: the lab's MLPerf firmware is on the device."""

    def deploy(self) -> str:
        cfg = self.options.config
        if cfg.port:
            return cfg.port                              # a device path or a pyserial URL
        if cfg.usb:
            return find_usb_port(cfg.usb, self.name)
        raise BoardError(f"{self.name}: give `port` (or `usb = \"VID:PID\"`) in [boards.{self.name}] of the lab config")

    def baudrate(self) -> int:
        return self.options.config.baud

    def _text_client(self, url: str) -> MlperfClient:
        link = SerialLink(url, self.baudrate(), board=self.name)
        if self.link is not None:
            self._wire_carry += self.link.bytes_in + self.link.bytes_out
            self.link.close()
        self.link = link
        client = MlperfClient(link, timeout=self.options.timeout or 5.0, board=self.name)
        client.flush()                                  # a half line left by an earlier connection
        self.dut_name = client.name()
        self.dut_profile, self.dut_task = client.profile()
        return client

    def _check_task(self, model: str) -> None:
        want = task_of(model)
        if self.dut_task != want:
            raise BoardError(f"{self.name}: the device at {self.link.url} runs task {self.dut_task} "
                             f"(m-model-), model '{model}' is {want}: set `model` in the lab config")

    def switch(self) -> object | None:
        """How to serve another model (None: the device serves one model; a twin redeploys)."""
        return None

    def _connect(self, url: str) -> None:
        served = self.served_model()
        self.client = self._text_client(url)
        self._check_task(served)
        names = [served] + [m for m in self.options.models if m != served and self.switch() is not None]
        infos, formats = [], {}
        for k, m in enumerate(names):
            infos.append(model_info(m, k)[0])
            formats[m] = model_info(m, k)[1]
        self.info = DeviceInfo(fw_version=self.dut_profile[:40], build_hash="", board=self.dut_name,
                               clock_hz=LAP_CLOCK_HZ, counter=COUNTER, run_modes=1, models=infos)
        old = self.device
        self.device = MlperfDevice(self.client, self.info, served, formats, switch=self.switch(),
                                   timeout_per_mac_s=2e-6)
        if old is not None:
            self.device.stats, self.device.payload_bytes = old.stats, old.payload_bytes


class MlperfQemuBoard(MlperfTinyBoard):
    """hil's STM32 firmware on the QEMU twin, driven in the MLPerf text protocol only. Each model
    gets its own one-model image (it serves that model after reset); another model redeploys."""
    name = "mlperf-qemu"
    description = "hil's STM32 firmware on QEMU, spoken to only in the MLPerf Tiny text protocol"
    capabilities = frozenset({Capability.EMULATED, Capability.CYCLE_COUNTER, Capability.MLPERF_TEXT})

    def __init__(self, options: BoardOptions | None = None):
        super().__init__(options)
        self.twin = None
        self._serving = self.served_model()

    def served_model(self) -> str:
        return getattr(self, "_serving", None) or self.options.config.model or self.options.models[0]

    def _twin(self, model: str):
        from hil.boards.stm32_qemu import Stm32QemuBoard
        twin = Stm32QemuBoard(BoardOptions(models=[model], config=self.options.config))
        twin.name = self.name
        twin.build_tag = f"mlperf-{model}"         # one build directory per model: switching rebuilds nothing
        return twin

    def build(self) -> None:
        if self.twin is None:
            self.twin = self._twin(self._serving)
        self.twin.build()

    def deploy(self) -> str:
        return self.twin.deploy()

    def stop(self) -> None:
        if self.twin is not None:
            self.twin.stop()

    def logs(self) -> dict[str, str]:
        return self.twin.logs() if self.twin is not None else {}

    def build_info(self) -> dict:
        return self.twin.build_info() if self.twin is not None else {}

    def switch(self):
        return self._serve

    def _serve(self, model: str) -> MlperfClient:
        """Stop the twin, start the one-model image of `model`, talk text to it."""
        self.stop()
        self._serving = model
        self.twin = self._twin(model)
        self.twin.build()
        self.client = self._text_client(self.twin.deploy())
        self._check_task(model)
        return self.client
