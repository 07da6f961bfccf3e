"""The host side of the MLPerf Tiny (EEMBC) device-under-test text protocol, for any device that
speaks it (docs/mlperf-tiny.md): commands end with `%`, every command ends with `m-ready`, replies
are `m-...` lines, errors `e-[...]`, lines end CR LF.

A device that does not answer gets one line naming the port, the baud and what was sent (wrong baud,
no `m-ready` in time, a line cut short). A half line left from an earlier connection is flushed
before the first command.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from hil.errors import BoardError, LinkTimeout, MlperfDeviceError, MlperfNoAnswer, ProtocolError  # noqa: F401
from hil.link import SerialLink

# The MLPerf Tiny runner sends at most 31 bytes per `db` line (26 with a power manager attached).
DB_BYTES_PER_LINE = 31
COMMAND_MAX = 80                 # characters of a command in the device's buffer

NAME = re.compile(r"^m-(name)-dut-\[([^]]+)]$")          # the runner's own expressions
MODEL = re.compile(r"^m-(model|profile)-\[([^]]+)]$")
LAP = re.compile(r"^m-lap-us-([0-9]+)$")
RESULTS = re.compile(r"^m-results-\[([^]]*)]$")
EXPECTING = re.compile(r"^m-\[Expecting ([0-9]+) bytes]$")


@dataclass
class Reply:
    command: str
    lines: list[str]             # every line before m-ready, CR LF stripped

    def errors(self) -> list[str]:
        return [L for L in self.lines if L.startswith("e-")]

    def match(self, rx: re.Pattern) -> list[re.Match]:
        return [m for m in map(rx.match, self.lines) if m]


@dataclass
class Lap:
    """What `infer N W` printed."""
    n: int
    warmup: int
    t0_us: int
    t1_us: int
    results: list[str]

    @property
    def per_inference_us(self) -> float:
        return (self.t1_us - self.t0_us) / self.n


@dataclass
class TextStats:
    commands: int = 0
    errors: int = 0
    name_retries: int = 0
    flushed_bytes: int = 0       # left over from an earlier connection


class MlperfClient:
    """Commands over a SerialLink, one at a time, each read until its m-ready."""

    def __init__(self, link: SerialLink, timeout: float = 5.0, board: str = "mlperf-tiny"):
        self.link, self.timeout, self.board = link, timeout, board
        self.stats = TextStats()
        self._buf = b""

    def _where(self) -> str:
        return f"{self.board}: {self.link.url} at {self.link.baudrate} baud"

    def flush(self, quiet_s: float = 0.1, limit_s: float = 2.0) -> int:
        """Drop whatever the device sent before we asked (a half line of an earlier session)."""
        end, last = time.monotonic() + limit_s, time.monotonic()
        n = len(self._buf)
        self._buf = b""
        while time.monotonic() < end and time.monotonic() - last < quiet_s:
            got = self.link.read_some()
            if got:
                n += len(got)
                last = time.monotonic()
        self.stats.flushed_bytes += n
        return n

    def command(self, cmd: str, timeout: float | None = None, check: bool = True) -> Reply:
        """Send `cmd%`, return the lines up to m-ready; MlperfDeviceError on e-[...] when check."""
        if len(cmd) > COMMAND_MAX and check:
            raise BoardError(f"{self.board}: command of {len(cmd)} characters, the device buffer holds "
                             f"{COMMAND_MAX}: {cmd[:40]}...")
        self.stats.commands += 1
        self.link.write(cmd.encode("ascii") + b"%")
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        lines: list[str] = []
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                raw, self._buf = self._buf[:nl + 1], self._buf[nl + 1:]
                line = raw.decode("ascii", "replace").strip("\r\n")
                if line == "m-ready":
                    break
                lines.append(line)
                continue
            if time.monotonic() > deadline:
                seen = (b"\n".join(x.encode() for x in lines[-2:]) + self._buf)[-60:]
                raise MlperfNoAnswer(
                    f"{self._where()}: no m-ready within {wait:g} s after {cmd[:40]!r}% "
                    f"(received {seen!r}): check the baud rate, the port and that the firmware "
                    f"speaks the MLPerf Tiny protocol")
            self._buf += self.link.read_some()
        reply = Reply(cmd, lines)
        if reply.errors():
            self.stats.errors += 1
            if check:
                raise MlperfDeviceError(f"{self._where()}: {cmd[:40]!r}% was refused: {reply.errors()[0]}")
        return reply

    # ---- the protocol's commands -------------------------------------------
    def name(self, tries: int = 3) -> str:
        """The DUT name, asking up to 3 times as the runner does (the first may meet a half command)."""
        last = None
        for k in range(tries):
            try:
                m = self.command("name", timeout=self.timeout if k == tries - 1 else min(self.timeout, 2.0),
                                 check=False).match(NAME)
            except MlperfNoAnswer as exc:
                last = exc
                m = []
            if m:
                return m[0].group(2)
            self.stats.name_retries += 1
            self.flush()
        raise last or MlperfNoAnswer(f"{self._where()}: no m-name-dut-[...] answer to 'name%' in {tries} tries")

    def profile(self) -> tuple[str, str]:
        """(profile text, model task) from m-profile-[...] and m-model-[...]."""
        got = {m.group(1): m.group(2) for m in self.command("profile").match(MODEL)}
        if "model" not in got:
            raise BoardError(f"{self._where()}: 'profile%' gave no m-model-[...] line")
        return got.get("profile", ""), got["model"]

    def load(self, data: bytes) -> None:
        """`db load N`, then `db` lines of at most 31 bytes, as the runner loads."""
        r = self.command(f"db load {len(data)}")
        if not r.match(EXPECTING) or int(r.match(EXPECTING)[0].group(1)) != len(data):
            raise BoardError(f"{self._where()}: 'db load {len(data)}%' was not answered "
                             f"m-[Expecting {len(data)} bytes] (got {r.lines[:2]})")
        for off in range(0, len(data), DB_BYTES_PER_LINE):
            r = self.command("db " + data[off:off + DB_BYTES_PER_LINE].hex())
        if "m-load-done" not in r.lines:
            raise BoardError(f"{self._where()}: no m-load-done after {len(data)} bytes")

    def infer(self, n: int, warmup: int, timeout: float | None = None) -> Lap:
        r = self.command(f"infer {n} {warmup}", timeout=timeout)
        laps = [int(m.group(1)) for m in r.match(LAP)]
        res = r.match(RESULTS)
        if len(laps) != 2 or not res or "m-infer-done" not in r.lines:
            raise BoardError(f"{self._where()}: 'infer {n} {warmup}%' did not print two m-lap-us-, "
                             f"m-infer-done and m-results-[...] (got {r.lines[:8]})")
        return Lap(n, warmup, laps[0], laps[1], res[-1].group(1).split(","))

    def results(self) -> list[str]:
        m = self.command("results").match(RESULTS)
        if not m:
            raise BoardError(f"{self._where()}: 'results%' printed no m-results-[...]")
        return m[0].group(1).split(",")

    def timestamp(self) -> int:
        m = self.command("timestamp").match(LAP)
        if not m:
            raise BoardError(f"{self._where()}: 'timestamp%' printed no m-lap-us-")
        return int(m[0].group(1))
