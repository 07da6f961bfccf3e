"""hil's link over the two URLs a lab uses, with whichever `serial` module is
installed: pyserial, or labgrid's fork pyserial-labgrid (hil[lab]).
scripts/check_serial_flavours.sh runs this file once under each.

`rfc2217://` goes through a real ser2net, configured as a labgrid exporter
configures it, in front of a pty whose other end echoes; `socket://` goes to a
TCP echo server. Needs only hil.link, so it runs in a bare venv too.
"""
import os
import select
import shutil
import socket
import subprocess
import threading
import time
import tty

import pytest
import serial

from hil.link import SerialLink

SER2NET = shutil.which("ser2net") or ("/usr/sbin/ser2net" if os.path.exists("/usr/sbin/ser2net") else None)
DATA = bytes(range(256)) * 8          # every byte value, 2 KiB


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _echo_fd(fd: int, stop: threading.Event) -> None:
    while not stop.is_set():
        if select.select([fd], [], [], 0.05)[0]:
            try:
                os.write(fd, os.read(fd, 4096))
            except OSError:
                return


def _roundtrip(link: SerialLink) -> bytes:
    link.write(DATA)
    got, deadline = b"", time.monotonic() + 10
    while len(got) < len(DATA) and time.monotonic() < deadline:
        got += link.read_some()
    return got


@pytest.fixture
def rfc2217_url():
    if SER2NET is None:
        pytest.skip("ser2net not installed (make setup)")
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()
    threading.Thread(target=_echo_fd, args=(master, stop), daemon=True).start()
    port = _free_port()
    cmd = [SER2NET, "-d", "-n", "-Y", "connection: &hil",
           "-Y", f"  accepter: telnet(rfc2217,mode=server),tcp,127.0.0.1,{port}",
           "-Y", f"  connector: serialdev(nouucplock=true),{os.ttyname(slave)},115200n81,local"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"rfc2217://127.0.0.1:{port}?ign_set_control&timeout=3"
    finally:
        proc.kill()
        proc.wait()
        stop.set()
        os.close(master)
        os.close(slave)


def test_rfc2217_through_ser2net(rfc2217_url, record_property):
    record_property("serial_version", serial.__version__)
    link = SerialLink(rfc2217_url, 115200, board="t")
    try:
        assert _roundtrip(link) == DATA
        assert link.bytes_out == link.bytes_in == len(DATA)
    finally:
        link.close()


def test_socket_url_to_a_tcp_echo():
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def serve():
        c, _ = srv.accept()
        with c:
            while data := c.recv(4096):
                c.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    link = SerialLink(f"socket://127.0.0.1:{port}", board="t")
    try:
        assert _roundtrip(link) == DATA
    finally:
        link.close()
        srv.close()
