"""The one interface every board implements: build -> deploy -> open link -> close.

The pytest plugin and the CLI only ever see this interface; whether a board
is real or emulated is the board class's business. Capabilities tell tests
what a board can do, so a test that needs one is skipped with a reason on
boards without it instead of branching on a board name.
"""
from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field

from golden.registry import DEFAULT_MODELS
from hil.device import Device, DeviceInfo
from hil.errors import BoardError  # noqa: F401 - boards raise it; re-exported for them
from hil.lab_config import BoardConfig
from hil.link import SerialLink


class Capability(str, enum.Enum):
    EMULATED = "emulated"                  # runs on this machine, no hardware
    CYCLE_COUNTER = "cycle_counter"        # counts are measured or instruction based
    LAYER_TENSORS = "layer_tensors"        # can return every layer's output tensor
    FLASH = "flash"                        # writes firmware to a real device


@dataclass
class BoardOptions:
    """What a user chose on the command line or in the lab config."""
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    config: BoardConfig = field(default_factory=BoardConfig)   # this board's table of the lab config
    timeout: float = 20.0


class Board(abc.ABC):
    name: str = "?"
    description: str = ""
    capabilities: frozenset[Capability] = frozenset()

    def __init__(self, options: BoardOptions | None = None):
        self.options = options or BoardOptions()
        self.link: SerialLink | None = None
        self.device: Device | None = None
        self.info: DeviceInfo | None = None

    @abc.abstractmethod
    def build(self) -> None:
        """Produce what deploy() needs (firmware image, emulator binary)."""

    @abc.abstractmethod
    def deploy(self) -> str:
        """Put the build on the target and start it; returns the link URL."""

    def baudrate(self) -> int:
        return 115200

    def open(self) -> Device:
        """build, deploy, connect and resynchronise; returns the Device."""
        try:
            self.build()
            url = self.deploy()
            self.link = SerialLink(url, self.baudrate(), board=self.name)
            self.device = Device(self.link, timeout=self.options.timeout)
            self.device.sync()
            self.info = self.device.info()
        except BaseException:
            self.close()
            raise
        return self.device

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
