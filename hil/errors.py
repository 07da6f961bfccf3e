"""One exception tree for the harness: catch HilError to catch them all.

The root `HilError` lives in golden.errors (golden sits below hil and never
imports it); the reference side's errors (UnknownModel, DatasetError,
ArtifactError, BundleError, UnsupportedLayer, ...) derive from it too. Every
error class of hil is defined in this file and every golden one in
golden/errors.py (tests/test_error_tree.py); the modules that raise them import
them from here. Every error carries a one-line message that names the board,
port or file and says what to do.
"""
from golden.errors import DatasetError, GoldenError, HilError, UnknownModel  # noqa: F401 - re-exported


class ProtocolError(HilError):
    """A peer broke the wire protocol (see docs/protocol.md)."""


class FrameError(ProtocolError):
    """A frame or payload could not be encoded/decoded; `code` is the ERRORS id or None."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class DeviceError(ProtocolError):
    """The device answered a request with an ERROR frame."""

    def __init__(self, code: int, name: str, detail: int = 0, request: str = "?", message: str = ""):
        super().__init__(f"device error {name} (0x{code:02x}) to {request}, detail {detail}: {message}")
        self.code, self.name, self.detail, self.request = code, name, detail, request


class DeviceFault(ProtocolError):
    """The device's fault handler reported a CPU fault (a FAULT frame) and stopped.

    `registers` holds the FAULT fields (exception, cfsr, hfsr, mmfar, bfar, pc, lr)."""

    def __init__(self, board: str, request: str, registers: dict):
        regs = " ".join(f"{k.upper()}=0x{v:08X}" for k, v in registers.items() if k != "exception")
        super().__init__(f"{board}: the device faulted (exception {registers.get('exception', '?')}) while "
                         f"handling {request}: {regs}; look the PC up in the firmware's .map/ELF "
                         f"(arm-none-eabi-addr2line -e hil_fw.elf PC) and restart the board")
        self.board, self.request, self.registers = board, request, dict(registers)


class LinkTimeout(HilError):
    """No response arrived in time: check the port, baud rate and that the firmware runs."""


class BoardError(HilError):
    """A board could not be built, deployed or reached."""


class ModelNotOnDevice(BoardError):
    """The firmware on the device was built without the requested model."""


class InputError(HilError):
    """An input tensor does not fit the model it is sent to."""


class ConfigError(HilError):
    """The lab config file is missing or malformed."""


class CodegenError(HilError):
    """A qmodel artifact cannot be turned into code for a target (unsupported op, shape or scheme)."""


class UsageError(HilError):
    """A command was called with options that do not go together."""


class MissingExtra(UsageError):
    """A command needs packages of an optional extra that is not installed (pyproject.toml)."""


class LinkError(HilError):
    """The port could not be opened or failed while in use."""


class VectorFailed(HilError):
    """One vector killed the device on every try; the run goes on without it."""


class NightlyConfigError(HilError):
    """The [nightly] table of the lab config is malformed."""


class StoreError(HilError):
    """The results store cannot be opened or does not hold what was asked for."""


class InjectError(HilError):
    """The --inject specification is malformed."""


class MlperfNoAnswer(LinkTimeout):
    """An MLPerf Tiny device did not finish a command with m-ready in time (hil/mlperf/client.py)."""


class MlperfDeviceError(ProtocolError):
    """An MLPerf Tiny device answered a command with e-[...] (hil/mlperf/client.py)."""
