"""A labgrid lab on loopback: a real coordinator, a real exporter, QEMU twins.

Each twin is the stm32f4-qemu firmware in QEMU with its USART on a pty; the
exporter exports that pty as a `RawSerialPort`, which labgrid serves through
ser2net as RFC 2217 once a place holding it is acquired: the same path a lab
board's USB-UART takes. Places `hil-twin-<k>` carry the tag board=stm32f4-qemu.
Every process started here is killed on stop(), by its own id.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
EXPORTER = "hil-loopback"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing() -> str | None:
    """Why the loopback lab cannot run here, or None."""
    try:
        import labgrid  # noqa: F401
    except ImportError:
        return "labgrid not installed: pip install -e '.[lab]'"
    for tool, how in (("ser2net", "apt-get install ser2net (make setup)"),
                      ("qemu-system-arm", "make setup"), ("arm-none-eabi-gcc", "make setup")):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} not found: {how}"
    return None


class LoopbackLab:
    def __init__(self, workdir: Path, elf: Path, twins: int = 1):
        self.dir, self.elf, self.twins = Path(workdir), Path(elf), twins
        self.procs: list[subprocess.Popen] = []
        self.address = f"127.0.0.1:{_free_port()}"
        self.places = [f"hil-twin-{k}" for k in range(twins)]
        self.env = {**os.environ, "LG_COORDINATOR": self.address,
                    "PATH": os.environ.get("PATH", "") + ":/usr/sbin"}

    def _start(self, name: str, cmd: list[str], ready: str | None, timeout: float = 20.0) -> str:
        log = self.dir / f"{name}.log"
        p = subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=open(log, "w"),
                             stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        self.procs.append(p)
        deadline = time.monotonic() + timeout
        while ready is not None:
            text = log.read_text()
            m = re.search(ready, text)
            if m:
                return m.group(0)
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {text[-800:]}")
            time.sleep(0.05)
        return ""

    def client(self, *args: str, user: str | None = None) -> str:
        env = self.env if user is None else {**self.env, "LG_USERNAME": user}
        r = subprocess.run([str(BIN / "labgrid-client"), "-x", self.address, *args], capture_output=True,
                           text=True, env=env, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"labgrid-client {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def start(self) -> "LoopbackLab":
        self._start("coordinator", [str(BIN / "labgrid-coordinator"), "-l", self.address], r"listening on")
        groups = []
        for k in range(self.twins):
            line = self._start(f"qemu-{k}", ["qemu-system-arm", "-M", "netduinoplus2", "-nographic",
                                             "-monitor", "none", "-icount", "shift=0", "-serial", "pty",
                                             "-kernel", str(self.elf)], r"/dev/pts/\d+")
            groups.append(f"twin-{k}:\n  location: QEMU twin {k} on loopback\n"
                          f"  RawSerialPort:\n    port: {line}\n    speed: 115200\n")
        (self.dir / "exporter.yaml").write_text("".join(groups))
        self.env = {**self.env, "PATH": f"{self._ser2net_on_loopback()}:{self.env['PATH']}"}
        self._start("exporter", [str(BIN / "labgrid-exporter"), "-c", self.address, "-n", EXPORTER,
                                 "--hostname", "127.0.0.1", "exporter.yaml"], r"creating poll task")
        deadline = time.monotonic() + 20
        while self.client("resources").count(f"{EXPORTER}/twin-") < self.twins:
            if time.monotonic() > deadline:
                raise RuntimeError(f"exporter resources did not appear: {self.client('resources')}")
            time.sleep(0.2)
        for k, place in enumerate(self.places):
            self.client("-p", place, "create")
            self.client("-p", place, "add-match", f"{EXPORTER}/twin-{k}/*")
            self.client("-p", place, "set-tags", "board=stm32f4-qemu")
        return self

    def _ser2net_on_loopback(self) -> Path:
        """A folder whose `ser2net` runs the real one bound to 127.0.0.1.

        labgrid's exporter (26.x) starts ser2net with the accepter `telnet(rfc2217,mode=server),tcp,PORT`,
        which listens on every interface, and its config has no bind address; this wrapper, first on the
        exporter's PATH, turns it into `...,tcp,127.0.0.1,PORT` (gensio's host,port form) and execs
        ser2net (same pid, so the exporter still stops it)."""
        real = shutil.which("ser2net") or "/usr/sbin/ser2net"
        wrap = self.dir / "bin" / "ser2net"
        wrap.parent.mkdir(exist_ok=True)
        wrap.write_text(f"#!{sys.executable}\n"
                        "import os, re, sys\n"
                        f"real = {real!r}\n"
                        "args = [re.sub(r'\\),tcp,(\\d+)$', r'),tcp,127.0.0.1,\\1', a) for a in sys.argv[1:]]\n"
                        "os.execv(real, [real] + args)\n")
        wrap.chmod(0o755)
        return wrap.parent

    def listeners(self) -> list[tuple[str, str]]:
        """(local address, process name) of every TCP socket listening in a process started here
        (and its children, e.g. ser2net under the exporter), from `ss -ltnpH`."""
        groups = {p.pid for p in self.procs}
        pids = set()
        for line in subprocess.run(["ps", "-eo", "pid=,pgid="], capture_output=True, text=True).stdout.splitlines():
            pid, pgid = line.split()
            if int(pgid) in groups:
                pids.add(int(pid))
        out = []
        for line in subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines():
            users = re.findall(r'"([^"]+)",pid=(\d+)', line)
            if any(int(pid) in pids for _, pid in users):
                out.append((line.split()[3], users[0][0]))
        return out

    def stop(self) -> None:
        """SIGTERM to every process group started here (ser2net is in its exporter's),
        SIGKILL to what is left after 3 s."""
        def signal_all(sig):
            for p in self.procs:
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, sig)
                    except ProcessLookupError:
                        pass
        signal_all(signal.SIGTERM)
        deadline = time.monotonic() + 3
        while any(p.poll() is None for p in self.procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        signal_all(signal.SIGKILL)
        for p in self.procs:
            p.wait()
        self.procs.clear()
