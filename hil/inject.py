"""Fault injection on the byte link: `--inject corrupt=0.01,drop=0.001,dup=0.001,stall=0.0001,seed=1`.

`FaultyLink` wraps whatever link a board opened (a socket to an emulator, a
board's /dev/ttyACM0) and damages the bytes in both directions, so every
board gets the same noisy cable. Each byte draws one seeded random number:
it is corrupted (XOR with a random non-zero byte), dropped, duplicated, or
the stream stalls for `stall_ms` before it, with the given probabilities.
The same seed gives the same damage for the same byte stream.

What the host did about it (NAKs, corrupt answers, timeouts, retries) is in
`Device.stats`; whether anything slipped through is judged against the golden
outputs by `hil soak` (docs/reliability.md).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, fields

from hil.errors import HilError

DIRECTIONS = ("both", "h2d", "d2h")
PROBABILITIES = ("corrupt", "drop", "dup", "stall")


class InjectError(HilError):
    """The --inject specification is malformed."""


@dataclass(frozen=True)
class FaultSpec:
    corrupt: float = 0.0     # probability per byte
    drop: float = 0.0
    dup: float = 0.0
    stall: float = 0.0
    stall_ms: float = 300.0  # how long a stall holds the stream
    seed: int = 0
    dir: str = "both"        # both | h2d (host to device) | d2h

    @classmethod
    def parse(cls, text: str) -> "FaultSpec":
        """`corrupt=0.01,drop=0.001,seed=1` -> FaultSpec; InjectError saying what is wrong."""
        known = {f.name: f for f in fields(cls)}
        values: dict = {}
        items = [part.strip() for part in text.split(",")]
        if not any(items):
            raise InjectError("--inject: empty spec; give the damage, e.g. corrupt=0.01,drop=0.001,seed=1")
        for item in filter(None, items):
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or key not in known:
                raise InjectError(f"--inject: '{item}' is not KEY=VALUE with KEY one of {', '.join(known)} "
                                  f"(e.g. corrupt=0.01,drop=0.001,seed=1)")
            try:
                values[key] = raw.strip() if key == "dir" else (int(raw) if key == "seed" else float(raw))
            except ValueError:
                raise InjectError(f"--inject: {key}={raw!r} is not a number") from None
            if key in PROBABILITIES and values[key] == 0.0 and any(c in "123456789" for c in raw.lower().split("e")[0]):
                raise InjectError(f"--inject: {key}={raw.strip()} is too small for a float (it reads as 0)")
        spec = cls(**values)
        for name in PROBABILITIES:
            if not 0.0 <= getattr(spec, name) <= 0.5:
                raise InjectError(f"--inject: {name}={getattr(spec, name)} must be a per-byte probability "
                                  f"in 0..0.5")
        if spec.corrupt + spec.drop + spec.dup + spec.stall > 0.5:
            raise InjectError("--inject: the probabilities add up to more than 0.5 per byte")
        if not 0 <= spec.stall_ms <= 60_000:
            raise InjectError(f"--inject: stall_ms={spec.stall_ms} must be 0..60000")
        if spec.dir not in DIRECTIONS:
            raise InjectError(f"--inject: dir={spec.dir} must be one of {', '.join(DIRECTIONS)}")
        if not 0 <= spec.seed < 2**63:
            raise InjectError(f"--inject: seed={spec.seed} must be 0..{2**63 - 1}")
        if not any(getattr(spec, name) for name in PROBABILITIES):
            raise InjectError(f"--inject: {text.strip()} injects no fault; give a per-byte probability "
                              f"({'=P, '.join(PROBABILITIES)}=P), e.g. corrupt=0.01")
        return spec

    def __str__(self) -> str:
        parts = [f"{n}={getattr(self, n)}" for n in ("corrupt", "drop", "dup", "stall") if getattr(self, n)]
        if self.stall:
            parts.append(f"stall_ms={self.stall_ms:g}")
        if self.dir != "both":
            parts.append(f"dir={self.dir}")
        return ",".join(parts + [f"seed={self.seed}"])


@dataclass
class FaultCounts:
    """Injected events in one direction, and how many frames they touched."""
    corrupt: int = 0
    drop: int = 0
    dup: int = 0
    stall: int = 0
    frames: int = 0            # delimited chunks that passed through
    frames_damaged: int = 0    # of which had at least one injected fault

    @property
    def total(self) -> int:
        return self.corrupt + self.drop + self.dup + self.stall


class _Damager:
    """One direction's seeded damage, tracking which frames it touched."""

    def __init__(self, spec: FaultSpec, rng: random.Random, active: bool):
        self.spec, self.rng, self.active = spec, rng, active
        self.counts = FaultCounts()
        self._dirty = False
        self._chunk_len = 0
        c = spec
        self._edges = (c.corrupt, c.corrupt + c.drop, c.corrupt + c.drop + c.dup,
                       c.corrupt + c.drop + c.dup + c.stall)

    def apply(self, data: bytes) -> bytes:
        if not data:
            return data
        out = bytearray()
        rnd, counts = self.rng.random, self.counts
        e_corrupt, e_drop, e_dup, e_stall = self._edges
        for byte in data:
            r = rnd() if self.active else 1.0
            if r < e_stall:
                self._dirty = True
                if r < e_corrupt:
                    counts.corrupt += 1
                    out.append(byte ^ self.rng.randrange(1, 256))
                elif r < e_drop:
                    counts.drop += 1
                elif r < e_dup:
                    counts.dup += 1
                    out += bytes((byte, byte))
                else:
                    counts.stall += 1
                    self._dirty = False          # a stall delays, it damages nothing
                    before = bytes(out)
                    out.clear()
                    self._flush(before)
                    time.sleep(self.spec.stall_ms / 1000)
                    out.append(byte)
            else:
                out.append(byte)
            if byte == 0:                        # the sender's delimiter: one frame passed
                if self._chunk_len:
                    counts.frames += 1
                    counts.frames_damaged += self._dirty
                self._dirty, self._chunk_len = False, 0
            else:
                self._chunk_len += 1
        return bytes(out)

    def _flush(self, data: bytes) -> None:
        """Overridden per direction: deliver the bytes before a stall."""


class FaultyLink:
    """A link (same interface as hil.link.SerialLink) that damages bytes per a FaultSpec."""

    def __init__(self, link, spec: FaultSpec):
        self.inner, self.spec = link, spec
        root = random.Random(spec.seed)
        self.h2d = _Damager(spec, random.Random(root.getrandbits(64)), spec.dir in ("both", "h2d"))
        self.d2h = _Damager(spec, random.Random(root.getrandbits(64)), spec.dir in ("both", "d2h"))
        self.h2d._flush = lambda data: self.inner.write(data)   # bytes before a stall go out first
        self._held = bytearray()
        self.d2h._flush = self._held.extend

    # what callers read off a link
    url = property(lambda self: self.inner.url)
    board = property(lambda self: self.inner.board)
    baudrate = property(lambda self: self.inner.baudrate)
    bytes_in = property(lambda self: self.inner.bytes_in)
    bytes_out = property(lambda self: self.inner.bytes_out)

    def write(self, data: bytes) -> None:
        self.inner.write(self.h2d.apply(bytes(data)))

    def read_some(self) -> bytes:
        data = self.d2h.apply(self.inner.read_some())
        if self._held:
            data, self._held[:] = bytes(self._held) + data, b""
        return data

    def close(self) -> None:
        self.inner.close()

    def reattach(self, inner) -> "FaultyLink":
        """The same damage on a new link (after a device restart); returns self."""
        self.inner = inner
        self._held.clear()
        return self

    def counts(self) -> dict:
        """Injected faults per direction and in total, for results and `hil soak`."""
        out = {d: dict(vars(getattr(self, d).counts)) for d in ("h2d", "d2h")}
        out["total"] = {k: out["h2d"][k] + out["d2h"][k] for k in out["h2d"]}
        return out


def injected(link) -> dict | None:
    """The injected-fault counts of a link, or None if it is a clean link."""
    return link.counts() if isinstance(link, FaultyLink) else None
