"""What a failed build shows: the first error line and the tail of the output (make, gcc, g++)."""
from __future__ import annotations

import re

from hil.errors import BoardError

TAIL_LINES = 15
_ERROR = re.compile(r"error\b:", re.IGNORECASE)        # gcc/g++/ld `error:`, `fatal error:`, `XError:`
_MAKE_STOP = re.compile(r"\*\*\*")                      # make: *** [rule] Error 1
_MAKE_ERROR = re.compile(r"\bError\b")
_OVERFLOW = re.compile(r"^check_size:\s+(\w+ overflow: .* bytes over)$")   # firmware_stm32/tools/check_size.py


def overflow_line(text: str) -> str | None:
    """Every memory region an image overflows, by how many bytes, on one line (None: it fits)."""
    found = [m.group(1) for m in map(_OVERFLOW.match, text.splitlines()) if m]
    return "image does not fit: " + "; ".join(found) if found else None


def first_error_line(stdout: str, stderr: str = "") -> str | None:
    """The line that says what went wrong, skipping warnings before it: the regions an image
    overflows and by how many bytes (check_size); else the first `error:` line;
    else the last message on stderr before make's first `***` line (a generator's own message);
    else that `***` line; else the first line naming an Error."""
    lines = (stderr + "\n" + stdout).splitlines()
    overflow = overflow_line(stderr + "\n" + stdout)
    if overflow:
        return overflow
    for line in lines:
        if _ERROR.search(line):
            return line.strip()
    err = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for i, line in enumerate(err):
        if _MAKE_STOP.search(line):
            before = [ln for ln in err[:i] if not ln.startswith("make")]
            return before[-1] if before else line
    for pattern in (_MAKE_STOP, _MAKE_ERROR):
        for line in lines:
            if pattern.search(line):
                return line.strip()
    return None


def build_failed(what: str, cmd: list[str], stdout: str, stderr: str = "") -> BoardError:
    """BoardError for a failed build: the tail of its output, then one line naming the first error.

    The summary line comes last so that it is the last line a terminal shows (`hil` prints the
    message as it is); the tail above it gives the context, which can be all warnings."""
    tail = "\n".join((stdout + stderr).strip().splitlines()[-TAIL_LINES:])
    first = first_error_line(stdout, stderr) or "no error line in the output"
    return BoardError(f"{what}: last {TAIL_LINES} lines of `{' '.join(cmd[:3])} ...`:\n{tail}\n"
                      f"{what} failed; first error: {first}")
