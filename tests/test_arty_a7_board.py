"""The real FPGA board class `arty-a7` as far as a machine without the board can
test it: clear errors for a missing bitstream, a missing openFPGALoader and no
board attached (command and output included), and the choice of serial port."""
import shutil
from types import SimpleNamespace

import pytest

from hil.boards import BoardError, BoardOptions, Capability, board_class
from hil.boards import arty_a7
from hil.lab_config import BoardConfig


def make(config):
    return board_class("arty-a7")(BoardOptions(config=BoardConfig(**dict(config, boot_delay=0))))


@pytest.fixture
def bitfile(tmp_path):
    p = tmp_path / "hil_arty_a7.bit"
    p.write_bytes(b"\x00\x09\x0f\xf0" + bytes(100))
    return p


def fake_loader(tmp_path, monkeypatch, script: str):
    d = tmp_path / "bin"
    d.mkdir()
    exe = d / "openFPGALoader"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{d}:/usr/bin:/bin")
    return exe


def port(device, serial, interface):
    return SimpleNamespace(device=device, vid=0x0403, pid=0x6010, serial_number=serial,
                           location=f"1-1.{device[-1]}:1.{interface}", description="Digilent USB Device")


def test_registered_as_a_flashing_board():
    cls = board_class("arty-a7")
    assert cls.name == "arty-a7" and Capability.FLASH in cls.capabilities
    assert Capability.EMULATED not in cls.capabilities


def test_bitstream_must_be_configured_and_exist(tmp_path):
    with pytest.raises(BoardError, match=r"no bitstream configured: set \[boards.arty-a7\] bitstream"):
        make({}).build()
    with pytest.raises(BoardError, match="missing.bit not found"):
        make({"bitstream": str(tmp_path / "missing.bit")}).build()


def test_missing_openfpgaloader_says_how_to_install(bitfile, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    b = make({"bitstream": str(bitfile)})
    b.build()
    with pytest.raises(BoardError, match="openFPGALoader not found on PATH.*apt-get install openfpgaloader"):
        b.deploy()


def test_no_board_attached_shows_command_and_output(bitfile, monkeypatch, tmp_path):
    fake_loader(tmp_path, monkeypatch, 'echo "unable to open ftdi device: -3 (device not found)" >&2\n'
                                       'echo "JTAG init failed with: unable to open ftdi device" >&2\nexit 1\n')
    b = make({"bitstream": str(bitfile), "serial": "210319A8C2D1"})
    b.build()
    with pytest.raises(BoardError) as e:
        b.deploy()
    msg = str(e.value)
    assert f"-b arty --ftdi-serial 210319A8C2D1 {bitfile}` exited with 1" in msg
    assert "unable to open ftdi device: -3 (device not found)" in msg and "No board attached?" in msg


@pytest.mark.skipif(shutil.which("openFPGALoader") is None, reason="openFPGALoader not installed")
def test_real_openfpgaloader_without_a_board(bitfile):
    b = make({"bitstream": str(bitfile)})
    b.build()
    with pytest.raises(BoardError, match=r"(?s)loading the bitstream failed: `\S*openFPGALoader -b arty .*` exited"):
        b.deploy()


def test_loaded_bitstream_then_the_uart_channel_is_found(bitfile, monkeypatch, tmp_path):
    fake_loader(tmp_path, monkeypatch, 'echo "Load SRAM: [==========] 100.00%"; echo "Done"\n')
    monkeypatch.setattr(arty_a7, "_ports", lambda: [port("/dev/ttyUSB0", "A1", 0), port("/dev/ttyUSB1", "A1", 1)])
    assert make({"bitstream": str(bitfile)}).deploy() == "/dev/ttyUSB1"        # channel B, not JTAG
    assert make({"bitstream": str(bitfile), "port": "/dev/ttyX"}).deploy() == "/dev/ttyX"


def test_several_boards_need_a_serial_number(monkeypatch):
    ports = [port("/dev/ttyUSB0", "A1", 0), port("/dev/ttyUSB1", "A1", 1),
             port("/dev/ttyUSB2", "B2", 0), port("/dev/ttyUSB3", "B2", 1)]
    monkeypatch.setattr(arty_a7, "_ports", lambda: ports)
    with pytest.raises(BoardError, match=r"2 FTDI 0403:6010 boards attached \(A1, B2\).*set \[boards.arty-a7\] serial"):
        make({}).port()
    assert make({"serial": "b2"}).port() == "/dev/ttyUSB3"
    with pytest.raises(BoardError, match="no Arty FTDI serial port with serial number C3"):
        make({"serial": "C3"}).port()
    assert "FTDI /dev/ttyUSB2 (serial B2, interface 0)" in arty_a7.ArtyA7Board.attached()
