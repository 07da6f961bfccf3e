"""The one interface every board implements: build -> deploy -> open link -> close.

The pytest plugin and the CLI only ever see this interface; whether a board
is real or emulated is the board class's business. Capabilities tell tests
what a board can do, so a test that needs one is skipped with a reason on
boards without it instead of branching on a board name.
"""
from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field, replace

from golden.registry import DEFAULT_MODELS
from hil.device import Device, DeviceInfo, Timing
from hil.errors import BoardError  # noqa: F401 - boards raise it; re-exported for them
from hil.inject import FaultSpec, FaultyLink
from hil.lab_config import BoardConfig
from hil.link import SerialLink


class Capability(str, enum.Enum):
    EMULATED = "emulated"                  # runs on this machine, no hardware
    CYCLE_COUNTER = "cycle_counter"        # counts are measured or instruction based
    LAYER_TENSORS = "layer_tensors"        # can return every layer's output tensor
    FLASH = "flash"                        # writes firmware to a real device
    MLPERF_TEXT = "mlperf_text"            # speaks only the MLPerf Tiny text protocol (hil/boards/mlperf_tiny.py)


@dataclass
class BoardOptions:
    """What a user chose on the command line or in the lab config."""
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    config: BoardConfig = field(default_factory=BoardConfig)   # this board's table of the lab config
    timeout: float | None = None    # base wait of one request attempt (default: hil.device.Timing)
    inject: FaultSpec | None = None  # damage the link's bytes (hil/inject.py)


class Board(abc.ABC):
    name: str = "?"
    description: str = ""
    capabilities: frozenset[Capability] = frozenset()
    default_models: tuple[str, ...] = tuple(DEFAULT_MODELS)   # what its image holds unless told otherwise
    pyocd_target: str | None = None     # boards flashed by pyOCD: the target name
    elf: str | None = None              # boards with a firmware ELF: its path once built

    def __init__(self, options: BoardOptions | None = None):
        self.options = options or BoardOptions()
        self.link: SerialLink | None = None
        self.device: Device | None = None
        self.info: DeviceInfo | None = None
        self.restarts = 0
        self.restart_log: list = []   # one hil.results.model_result.Restart per restart (hil/recovery.py)
        self._wire_carry = 0       # wire bytes of links closed by restarts

    @abc.abstractmethod
    def build(self) -> None:
        """Produce what deploy() needs (firmware image, emulator binary)."""

    @abc.abstractmethod
    def deploy(self) -> str:
        """Put the build on the target and start it; returns the link URL."""

    def baudrate(self) -> int:
        return 115200

    def timing(self) -> Timing:
        """How long requests may take on this board; boards with slow links override."""
        t = Timing(per_byte_s=max(Timing.per_byte_s, 30 / self.baudrate()))   # 3x the wire time of a byte
        return t if self.options.timeout is None else replace(t, base_s=self.options.timeout)

    def open(self) -> Device:
        """build, deploy, connect and resynchronise; returns the Device."""
        try:
            self.build()
            self._connect(self.deploy())
        except BaseException:
            self.close()
            raise
        return self.device

    def _connect(self, url: str) -> None:
        link = SerialLink(url, self.baudrate(), board=self.name)
        if isinstance(self.link, FaultyLink):
            link = self.link.reattach(link)     # the same seeded damage goes on
        elif self.options.inject is not None:
            link = FaultyLink(link, self.options.inject)
        self.link = link
        old = self.device
        self.device = Device(self.link, timing=self.timing())
        if old is not None:                     # counters run on across restarts
            self.device.stats, self.device.payload_bytes = old.stats, old.payload_bytes
        self.device.sync()
        self.info = self.device.info()

    def identity(self):
        """The opened board as a frozen `hil.boards.identity.BoardIdentity`: what results read."""
        from hil.boards.identity import BoardIdentity
        return BoardIdentity.of(self)

    def wire_bytes(self) -> int:
        """Bytes on the wire both ways since open(), across restarts."""
        return self._wire_carry + (self.link.bytes_in + self.link.bytes_out if self.link else 0)

    def restart(self) -> None:
        """Bring back a dead or hung device: reset or restart it, reconnect, resync."""
        if self.link is not None:
            self._wire_carry += self.link.bytes_in + self.link.bytes_out
            self.link.close()
        self.restarts += 1
        self._connect(self.reset_target())

    def locate(self, address: int) -> str | None:
        """Where a code address of the running image is (function, file), for fault reports."""
        return None

    def reset_target(self) -> str:
        """Restart the target, return the link URL. Default: stop and deploy again
        (a new emulator process); real boards reset through their probe."""
        self.stop()
        return self.deploy()

    def close(self) -> None:
        """Always safe to call, also twice and after a failed open()."""
        if self.link is not None:
            self.link.close()     # the object stays: its byte counters feed the results
        self.stop()

    def stop(self) -> None:
        """Stop whatever deploy() started (emulator processes); default: nothing."""

    def build_info(self) -> dict:
        """What build() made, for the results store: `image_hash`, `compiler`, `cflags` (any may be missing)."""
        return {}

    def logs(self) -> dict[str, str]:
        """Text a run keeps next to its results (emulator output, device console), by name."""
        return {}

    def __enter__(self) -> "Board":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def memory(self) -> dict | None:
        """Flash and RAM of what build() made, per model (docs/results-json.md), if known."""
        return None

    @classmethod
    def attached(cls) -> list[str]:
        """Human-readable lines about what is attached for this board kind."""
        return []

    @classmethod
    def attached_text(cls) -> str:
        """`attached()` as one clause for error messages."""
        lines = cls.attached()
        return "Attached: " + ("; ".join(lines) if lines else "nothing")
