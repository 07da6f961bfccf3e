"""`stm32f4-qemu`: the real firmware on QEMU's netduinoplus2 (STM32F405).

The same application code as the real board, built with TARGET=qemu. QEMU
runs with `-icount shift=0`, so the firmware's TIM2 counter is the exact guest
instruction count (DWT CYCCNT reads 0 in QEMU); USART1 is a TCP server
socket with `wait=on`, so nothing the firmware sends is lost before the host
connects. QEMU is always killed on close, also on Ctrl-C or a failed open.

QEMU's threads are pinned to one CPU (taskset): its USART hands over one byte
per main-loop turn, and each turn wakes the vCPU thread; on one CPU that is a
cheap switch, across CPUs a cross-CPU wake-up each time (docs/performance.md).
HIL_QEMU_CPU=N picks the CPU, HIL_QEMU_CPU=none turns pinning off.
"""
from __future__ import annotations

import itertools
import os
import shutil

from hil.boards.base import BoardError, Capability
from hil.boards.local_process import LocalProcessBoard
from hil.targets.stm32.firmware import build_stm32, image_info, locate
from hil.workers import worker_cpu

QEMU = "qemu-system-arm"
_turn = itertools.count()     # twins of one process take turns over the CPUs


def pin_prefix() -> list[str]:
    """`taskset -c N` for the next twin, or nothing (one CPU, no taskset, HIL_QEMU_CPU=none)."""
    choice = os.environ.get("HIL_QEMU_CPU", "")
    cpus = sorted(os.sched_getaffinity(0))
    if choice == "none" or shutil.which("taskset") is None or len(cpus) < 2:
        return []
    if choice:
        if not choice.isdigit() or int(choice) not in cpus:
            raise BoardError(f"stm32f4-qemu: HIL_QEMU_CPU={choice} is not one of this process's CPUs "
                             f"{cpus} (or 'none')")
        return ["taskset", "-c", choice]
    cpu = worker_cpu()          # pytest -n N: worker k's twin on the k-th CPU
    if cpu is not None:
        return ["taskset", "-c", str(cpu)]
    return ["taskset", "-c", str(cpus[(os.getpid() + next(_turn)) % len(cpus)])]


class Stm32QemuBoard(LocalProcessBoard):
    name = "stm32f4-qemu"
    description = "STM32F4 firmware in QEMU netduinoplus2 (exact guest instruction counts)"
    capabilities = frozenset({Capability.EMULATED, Capability.CYCLE_COUNTER, Capability.LAYER_TENSORS})
    target = "qemu"
    build_tag = ""       # a separate build directory (the MLPerf twin's one-model images)

    def __init__(self, options=None):
        super().__init__(options)
        self.elf = None

    def locate(self, address: int) -> str | None:
        return locate(self.elf, address)

    def build(self) -> None:
        self.elf = build_stm32(self.target, self.options.models, board=self.name,
                               kernels=self.options.config.kernels, tag=self.build_tag)

    def memory(self) -> dict | None:
        from hil.targets.stm32.memory import elf_memory
        return elf_memory(self.elf, self.options.models) if self.elf else None

    def build_info(self) -> dict:
        return image_info(self.elf) if self.elf else {}

    def command(self, port: int) -> list[str]:
        if shutil.which(QEMU) is None:
            raise BoardError(f"{self.name}: {QEMU} not found on PATH: run `make setup` (installs qemu-system-arm)")
        return [*pin_prefix(), QEMU, "-M", "netduinoplus2", "-nographic", "-monitor", "none", "-icount", "shift=0",
                "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on", "-kernel", str(self.elf)]

    def is_listening(self, port: int) -> bool:
        # Connecting to probe would use up the one wait=on connection, so
        # watch the kernel's socket table instead, and make sure the listener
        # is our QEMU, not another process that took the port first.
        return _listening(port, self.proc.pid)


def _listening(port: int, pid: int) -> bool:
    """Does process `pid` hold a socket listening on 127.0.0.1:port (Linux /proc)?"""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        inodes = {cols[9] for cols in (line.split() for line in f.readlines()[1:])
                  if cols[1] == want and cols[3] == "0A"}
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False
