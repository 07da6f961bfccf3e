"""Bring-up of the STM32 firmware (firmware_stm32/): both targets build, the size
check rejects an image that does not fit, and the qemu twin boots, echoes every
byte value and counts cycles deterministically.

Needs arm-none-eabi-gcc (+ newlib) and qemu-system-arm; skipped without them.
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

FW_DIR = Path(__file__).resolve().parents[1] / "firmware_stm32"
BUSY_LOOP_ITERS = 1_000_000  # HIL_BUSY_LOOP_ITERS default in src/app_bringup.c
USART1_VECTOR = 16 + 37

needs_gcc = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None,
    reason="arm-none-eabi-gcc not on PATH (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)",
)
needs_qemu = pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None,
    reason="qemu-system-arm not on PATH (apt-get install qemu-system-arm)",
)


def make(target: str, build_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # The bring-up app (echo, CYCLES, boot banner) unless a test asks for APP=protocol.
    app = [] if any(e.startswith("APP=") for e in extra) else ["APP=bringup"]
    return subprocess.run(
        ["make", "-C", str(FW_DIR), f"TARGET={target}", f"BUILD_DIR={build_dir}", *app, *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def build(target: str, build_dir: Path, *extra: str) -> Path:
    result = make(target, build_dir, *extra)
    assert result.returncode == 0, f"make TARGET={target} failed:\n{result.stdout}\n{result.stderr}"
    elf = build_dir / "hil_fw.elf"
    assert elf.is_file() and (build_dir / "hil_fw.bin").is_file() and (build_dir / "hil_fw.map").is_file()
    return elf


@pytest.fixture(scope="module")
def qemu_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not on PATH")
    return build("qemu", tmp_path_factory.mktemp("fw") / "qemu")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_command(elf: Path, port: int) -> list[str]:
    # Same command as firmware_stm32/tools/run_qemu.sh.
    return [
        "qemu-system-arm", "-M", "netduinoplus2", "-nographic", "-monitor", "none",
        "-icount", "shift=0",
        "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on",
        "-kernel", str(elf),
    ]  # fmt: skip


class QemuLink:
    """A running QEMU with the host end of USART1 open."""

    def __init__(self, proc: subprocess.Popen[bytes], port: serial.SerialBase, started: float) -> None:
        self.proc = proc
        self.port = port
        self.started = started

    def read_exact(self, n: int, timeout: float = 10.0) -> bytes:
        data = bytearray()
        deadline = time.monotonic() + timeout
        while len(data) < n and time.monotonic() < deadline:
            data += self.port.read(n - len(data))
        assert len(data) == n, f"got {len(data)} of {n} bytes: {bytes(data[-80:])!r}"
        return bytes(data)

    def read_line(self) -> str:
        line = self.port.readline()
        assert line.endswith(b"\r\n"), f"no complete line: {line!r}"
        return line.decode("ascii").rstrip("\r\n")

    def command(self, name: str) -> str:
        """Send a text command; return its reply line (after the echo)."""
        sent = name.encode("ascii") + b"\n"
        self.port.write(sent)
        assert self.read_exact(len(sent)) == sent
        return self.read_line()


@contextlib.contextmanager
def run_qemu(elf: Path, connect_timeout: float = 10.0) -> Iterator[QemuLink]:
    for _attempt in range(3):  # the port may be taken between free_port() and QEMU's bind
        port = free_port()
        started = time.monotonic()
        proc = subprocess.Popen(
            qemu_command(elf, port), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        link = None
        try:
            deadline = started + connect_timeout
            while link is None and proc.poll() is None and time.monotonic() < deadline:
                try:
                    link = QemuLink(proc, serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=10), started)
                except serial.SerialException:
                    time.sleep(0.02)
            if link is None:
                if proc.poll() is not None and b"Address already in use" in proc.stderr.read():
                    continue
                raise AssertionError(f"could not connect to QEMU on port {port}")
            yield link
            return
        finally:
            if link is not None:
                link.port.close()
            proc.kill()
            proc.wait(timeout=10)
            proc.stdout.close()
            proc.stderr.close()
    raise AssertionError("no free TCP port for QEMU after 3 attempts")


BANNER = re.compile(r"HIL-FW boot board=qemu-netduinoplus2 hz=168000000 kind=ICOUNT clock=.+")
CYCLES = re.compile(r"CYCLES count=(\d+) kind=(\w+) iters=(\d+) hz=(\d+)")


def boot(link: QemuLink) -> str:
    banner = link.read_line()
    assert BANNER.fullmatch(banner), banner
    return banner


def measure_cycles(link: QemuLink) -> tuple[int, str]:
    reply = link.command("CYCLES")
    m = CYCLES.fullmatch(reply)
    assert m, reply
    assert int(m.group(3)) == BUSY_LOOP_ITERS
    return int(m.group(1)), m.group(2)


# ---- builds ----------------------------------------------------------------


def vector(bin_path: Path, index: int) -> int:
    return struct.unpack_from("<I", bin_path.read_bytes(), 4 * index)[0]


def symbol(elf: Path, name: str) -> int:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        addr, _kind, sym = line.split(maxsplit=2)
        if sym == name:
            return int(addr, 16)
    raise AssertionError(f"{name} not in {elf}")


@needs_gcc
@pytest.mark.parametrize("target", ["qemu", "disc1"])
def test_target_builds_with_vector_table(target: str, tmp_path: Path) -> None:
    elf = build(target, tmp_path / target)
    bin_path = elf.with_suffix(".bin")
    assert vector(bin_path, 0) == symbol(elf, "__hil_stack_top")  # initial SP
    assert vector(bin_path, 1) == symbol(elf, "Reset_Handler") | 1  # Thumb bit
    assert vector(bin_path, 15) == symbol(elf, "SysTick_Handler") | 1
    assert vector(bin_path, USART1_VECTOR) == symbol(elf, "USART1_IRQHandler") | 1


@needs_gcc
@needs_gcc
def test_disc1_builds_the_protocol_app_with_all_models(tmp_path: Path) -> None:
    """The real board's image: dispatcher, int8 engine and the three models' tables."""
    result = make("disc1", tmp_path / "disc1", "APP=protocol", "MODELS=mnist_lenet kws_dscnn sine_mlp")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check_size: TARGET=disc1" in result.stdout + result.stderr


def test_disc1_builds_with_other_baud(tmp_path: Path) -> None:
    build("disc1", tmp_path / "disc1", "BAUD=921600")
    assert "-DHIL_UART_BAUD=921600u" in (tmp_path / "disc1" / "flags.txt").read_text()


@needs_gcc
@pytest.mark.parametrize(
    ("target", "flag", "region"),
    [
        ("qemu", "-DHIL_TEST_BLOAT=2000000", "FLASH"),  # 2 MB const array vs 1 MiB flash
        ("disc1", "-DHIL_TEST_BLOAT_RAM=190000", "SRAM"),  # 190 kB .bss + 8 KiB stack vs 192 KiB
        ("qemu", "-DHIL_TEST_BLOAT_CCM=70000", "CCM"),  # 70 kB .ccmram vs 64 KiB
    ],
)
def test_oversized_image_fails_with_readable_message(target: str, flag: str, region: str, tmp_path: Path) -> None:
    result = make(target, tmp_path / target, f"EXTRA_CFLAGS={flag}")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert f"firmware for TARGET={target} does not fit" in out, out
    m = re.search(rf"{region} overflow: needs (\d+) bytes .*, has (\d+): (\d+) bytes over", out)
    assert m, out
    needs, has, over = map(int, m.groups())
    assert needs - has == over > 0
    assert not (tmp_path / target / "hil_fw.elf").exists()


# ---- the qemu twin -----------------------------------------------------------


@needs_qemu
def test_qemu_boots_and_prints_banner(qemu_elf: Path) -> None:
    with run_qemu(qemu_elf) as link:
        boot(link)
        assert time.monotonic() - link.started < 10


@needs_qemu
def test_qemu_echoes_every_byte_value(qemu_elf: Path) -> None:
    rng = random.Random(1234)
    payload = bytes(range(256)) + bytes(range(255, -1, -1)) + bytes(rng.randrange(256) for _ in range(300))
    with run_qemu(qemu_elf) as link:
        boot(link)
        link.port.write(payload)
        assert link.read_exact(len(payload)) == payload
        link.port.write(b"\n")  # end whatever line the payload left open
        assert link.read_exact(1) == b"\n"
        assert link.command("STATS") == "STATS rx_dropped=0 rx_overruns=0"


@needs_qemu
def test_qemu_cycle_counts_are_deterministic(qemu_elf: Path) -> None:
    counts = []
    for _run in range(2):
        with run_qemu(qemu_elf) as link:
            boot(link)
            for _ in range(2):
                count, kind = measure_cycles(link)
                assert kind == "ICOUNT"  # QEMU's DWT CYCCNT reads 0: TIM2 under -icount
                counts.append(count)
    assert len(set(counts)) == 1, f"counts differ between commands/runs: {counts}"
    # exactly 2 instructions per iteration, plus a few instructions of the
    # measurement itself (exact guest instructions, no rounding)
    expected = 2 * BUSY_LOOP_ITERS
    assert expected <= counts[0] <= expected + 20, counts[0]


@needs_gcc
@needs_qemu
def test_disc1_image_falls_back_to_hsi_when_clocks_never_start(tmp_path: Path) -> None:
    """The F405 model has no RCC: HSERDY/PLLRDY never set. The disc1 image must
    time out, stay on HSI 16 MHz and still talk, not hang (a dead crystal on a
    real board takes the same path)."""
    elf = build("disc1", tmp_path / "disc1")
    with run_qemu(elf) as link:
        banner = link.read_line()
        assert banner.startswith("HIL-FW boot board=stm32f429i-disc1 hz=16000000 kind=SYSTICK"), banner
        assert "clock=HSI 16 MHz" in banner
        assert link.command("STATS") == "STATS rx_dropped=0 rx_overruns=0"
