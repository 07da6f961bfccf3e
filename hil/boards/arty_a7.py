"""`arty-a7`: a Digilent Arty A7 running the HLS design, reached over its USB-UART.

There is nothing to compile here: the bitstream comes from Vivado (docs/fpga.md
says what the design must contain and how to build it). deploy() loads it
into the FPGA's SRAM with openFPGALoader (`openFPGALoader -b arty <bitstream>`)
and returns the board's serial port. The Arty's FTDI FT2232H (USB 0403:6010)
has two channels: A is JTAG (openFPGALoader), B is the UART the design's
protocol front end listens on. Lab config:

    [boards.arty-a7]
    bitstream = "hil_arty_a7.bit"      # required
    serial = "210319A8C2D1"            # FTDI serial number: picks the board (and its JTAG) when several are attached
    port = "/dev/ttyUSB1"              # optional: skip the USB lookup
    baud = 115200                      # must match the design's UART

Only a board can prove this path; it has been tested only as far as a machine
without one allows (missing tool, missing bitstream, no board attached).
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from hil.boards.base import Board, BoardError, Capability

OPENFPGALOADER = "openFPGALoader"
FTDI_VID, FTDI_PID = 0x0403, 0x6010
UART_INTERFACE = 1          # FT2232H channel B
NO_BOARD_MARKERS = ("unable to open ftdi device", "device not found", "no device found", "JTAG init failed",
                    "cable not found")


def _ports():
    from serial.tools import list_ports
    return list(list_ports.comports())


def _interface(port) -> int | None:
    """USB interface number of a serial port ('1-1.4:1.1' -> 1), None if unknown."""
    loc = getattr(port, "location", None) or ""
    try:
        return int(loc.rsplit(":", 1)[1].rsplit(".", 1)[1]) if ":" in loc else None
    except (IndexError, ValueError):
        return None


class ArtyA7Board(Board):
    name = "arty-a7"
    description = "Digilent Arty A7: bitstream loaded with openFPGALoader, protocol over the FTDI USB-UART"
    capabilities = frozenset({Capability.FLASH})

    def baudrate(self) -> int:
        return self.options.config.baud

    def bitstream(self) -> Path:
        bit = self.options.config.bitstream
        if not bit:
            raise BoardError(f"{self.name}: no bitstream configured: set [boards.{self.name}] bitstream = "
                             f"\"path/to/design.bit\" in the lab config (docs/fpga.md says how to build it)")
        path = Path(bit).expanduser()
        if not path.is_file():
            raise BoardError(f"{self.name}: bitstream {path} not found (lab config [boards.{self.name}] bitstream); "
                             f"build it with Vivado as in docs/fpga.md")
        return path

    def build(self) -> None:
        self._bitstream = self.bitstream()      # Vivado builds it; here we only check it is there

    def load_command(self, bitstream: Path) -> list[str]:
        tool = shutil.which(OPENFPGALOADER)
        if tool is None:
            raise BoardError(f"{self.name}: {OPENFPGALOADER} not found on PATH: install it "
                             f"(Debian/Ubuntu: `apt-get install openfpgaloader`)")
        cmd = [tool, "-b", "arty"]
        if self.options.config.serial:
            cmd += ["--ftdi-serial", self.options.config.serial]
        return cmd + [str(bitstream)]

    def deploy(self) -> str:
        bit = getattr(self, "_bitstream", None) or self.bitstream()
        cmd = self.load_command(bit)
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=self.options.config.load_timeout)
        except subprocess.TimeoutExpired as exc:
            raise BoardError(f"{self.name}: `{' '.join(cmd)}` did not finish in {exc.timeout:.0f} s") from None
        out = "\n".join((r.stdout + r.stderr).strip().splitlines()[-12:]) or "(no output)"
        if r.returncode != 0:
            hint = ""
            if any(m.lower() in out.lower() for m in NO_BOARD_MARKERS):
                hint = (" No board attached? Check the USB cable and power, `openFPGALoader --scan-usb`, "
                        "and the udev rules for 0403:6010.")
            raise BoardError(f"{self.name}: loading the bitstream failed: `{' '.join(cmd)}` exited with "
                             f"{r.returncode}:\n{out}\n{hint}".rstrip())
        time.sleep(self.options.config.boot_delay)   # soft CPU boots from BRAM
        return self.port()

    def port(self) -> str:
        """The board's UART: the configured port, else FTDI 0403:6010 channel B (by serial number)."""
        if self.options.config.port:
            return self.options.config.port
        serial = self.options.config.serial
        ports = [p for p in _ports() if p.vid == FTDI_VID and p.pid == FTDI_PID]
        if serial:
            ports = [p for p in ports if (p.serial_number or "").upper() == str(serial).upper()]
        if not ports:
            what = f"with serial number {serial}" if serial else "(USB 0403:6010)"
            raise BoardError(f"{self.name}: no Arty FTDI serial port {what} attached. {self.attached_text()}")
        boards = sorted({p.serial_number or "?" for p in ports})
        if len(boards) > 1:
            raise BoardError(f"{self.name}: {len(boards)} FTDI 0403:6010 boards attached ({', '.join(boards)}) and "
                             f"no serial in the lab config; set [boards.{self.name}] serial. {self.attached_text()}")
        uart = [p for p in ports if _interface(p) == UART_INTERFACE]
        if not uart:      # interface unknown: channel B enumerates after channel A
            uart = sorted(ports, key=lambda p: p.device)[-1:]
        return uart[0].device

    @classmethod
    def attached(cls) -> list[str]:
        out = []
        for p in _ports():
            if p.vid == FTDI_VID and p.pid == FTDI_PID:
                out.append(f"FTDI {p.device} (serial {p.serial_number}, interface {_interface(p)})")
        return out
