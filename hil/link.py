"""The byte link to a device: pyserial, for real ports and emulators alike.

`socket://127.0.0.1:PORT` reaches QEMU's or the FPGA twin's TCP serial port,
`/dev/ttyACM0` a board's USB-UART, `rfc2217://host:port` a port exported by
ser2net (a labgrid exporter); the code above this never knows which. Works
with pyserial and with labgrid's fork pyserial-labgrid (same `serial` module).
"""
from __future__ import annotations

import socket
import time

import serial

from hil.errors import HilError, LinkError  # noqa: F401 - LinkError is defined in hil.errors



def _no_delay(port) -> None:
    """Small request frames must not wait for Nagle + delayed ACK (~40 ms each)."""
    sock = getattr(port, "_socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class SerialLink:
    def __init__(self, url: str, baudrate: int = 115200, board: str = "?",
                 open_timeout: float = 10.0):
        self.url, self.board, self.baudrate = url, board, baudrate
        self.bytes_out = self.bytes_in = 0
        deadline = time.monotonic() + open_timeout
        # pyserial's RFC 2217 client refuses a write timeout (NotImplementedError)
        extra = {} if url.startswith("rfc2217://") else {"write_timeout": 10}
        while True:   # an emulator's listening socket may take a moment to appear
            try:
                self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.02, **extra)
                _no_delay(self._port)
                break
            except (serial.SerialException, OSError) as exc:
                if time.monotonic() > deadline or not url.startswith("socket://"):
                    raise LinkError(f"{board}: cannot open {url} at {baudrate} baud: {exc}") from None
                time.sleep(0.05)

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.board}: write to {self.url} failed: {exc}") from None
        self.bytes_out += len(data)

    def read_some(self) -> bytes:
        """Whatever arrived, waiting at most the short poll timeout."""
        try:
            n = self._port.in_waiting
            data = self._port.read(max(1, n))
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.board}: read from {self.url} failed: {exc}") from None
        self.bytes_in += len(data)
        return data

    def close(self) -> None:
        try:
            self._port.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must not mask the real error
            pass
