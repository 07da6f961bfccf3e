"""What a run was made from: source revision, host, firmware image, compiler and flags.

Latency figures that cannot be reproduced are a common pain (clock, -O level
unknown): every run records these next to its numbers.
"""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from pathlib import Path

from hil.boards.identity import BoardIdentity

REPO = Path(__file__).resolve().parents[2]


def git_state(repo: Path = REPO) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the hil checkout; (None, None) outside a git checkout."""
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10)
        if commit.returncode != 0:
            return None, None
        st = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True, timeout=10)
        return commit.stdout.strip(), bool(st.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        return None, None


def file_hash(path: Path) -> str | None:
    try:
        return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def tool_version(tool: str) -> str | None:
    try:
        r = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=10)
        return r.stdout.splitlines()[0].strip() if r.returncode == 0 and r.stdout else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def run_meta(board: BoardIdentity, models: list[str], vectors: int | None, argv: list[str] | None = None) -> dict:
    """Everything start_run() stores about a run on an opened board (its identity)."""
    commit, dirty = git_state()
    build = board.build_info
    return dict(
        board=board.name, device_board=board.device_board, clock_hz=board.clock_hz,
        counter=board.counter or "none", fw_version=board.fw_version, build_hash=board.build_hash,
        probe_uid=board.probe_uid,
        host=socket.gethostname(), pid=os.getpid(), git_commit=commit, git_dirty=dirty,
        image_hash=build.get("image_hash"), compiler=build.get("compiler"), cflags=build.get("cflags"),
        models=list(models), vectors=vectors, argv=argv or [],
        capabilities=list(board.capabilities),
        config=dict(board.config),
        build={k: v for k, v in build.items() if k not in ("image_hash", "compiler", "cflags")})
