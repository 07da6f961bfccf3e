"""One exception tree for the harness: catch HilError to catch them all."""


class HilError(Exception):
    """Base of every error hil raises on purpose."""


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


class LinkTimeout(HilError):
    """No response arrived in time: check the port, baud rate and that the firmware runs."""
