"""A model's constant tables, compiled once per model hash.

`<model>_tables.cpp` (codegen.py) is a self-contained file of plain integer
arrays: it needs only <stdint.h>, so it is compiled here, outside make, into
`<build root>/cache/tables/<model>-<key>.o`. The key hashes everything the
object depends on: the qmodel hash, the generator version, the file's text,
the compiler's identity and the flags. A rebuild of the same model (in any
image, or after its generated directory was removed or rewritten for another
model and back) links the cached object instead of compiling again; a stale
object is never reused because any change of input gives another key.

Callers hold the build lock (build.py), so no two processes write one entry.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hil.errors import BoardError
from hil.targets.hls.codegen import GEN_VERSION

FLAGS = ("-std=c++14", "-O2", "-Wall")
KEEP_PER_MODEL = 8           # newest cached objects kept per model name


@dataclass(frozen=True)
class TablesObject:
    model: str
    path: Path
    reused: bool             # True: taken from the cache, no compiler run


def compiler() -> str:
    return os.environ.get("CXX", "g++")


@lru_cache(maxsize=4)
def _compiler_identity(cxx: str) -> str:
    try:
        r = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BoardError(f"cannot run the C++ compiler {cxx}: {exc}") from None
    return f"{shutil.which(cxx) or cxx}\n{(r.stdout.splitlines() or [''])[0]}"


def cache_key(qmodel_hash: str, source_text: str, cxx: str | None = None) -> str:
    cxx = cxx or compiler()
    h = hashlib.sha256()
    for part in (qmodel_hash, f"gen v{GEN_VERSION}", source_text, _compiler_identity(cxx), " ".join(FLAGS)):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:20]


def _prune(cache_dir: Path, model: str) -> None:
    entries = sorted(cache_dir.glob(f"{model}-*.o"), key=lambda p: p.stat().st_mtime, reverse=True)
    for p in entries[KEEP_PER_MODEL:]:
        p.unlink(missing_ok=True)


def tables_object(model: str, qmodel_hash: str, source: Path, cache_dir: Path) -> TablesObject:
    """The object of `source` (a generated <model>_tables.cpp): cached, or compiled now."""
    cxx = compiler()
    key = cache_key(qmodel_hash, Path(source).read_text(), cxx)
    cache_dir.mkdir(parents=True, exist_ok=True)
    obj = cache_dir / f"{model}-{key}.o"
    if obj.exists():
        os.utime(obj)                      # most recently used: kept by _prune
        return TablesObject(model, obj, True)
    tmp = obj.with_suffix(f".o.tmp{os.getpid()}")
    r = subprocess.run([cxx, *FLAGS, "-c", str(source), "-o", str(tmp)], capture_output=True, text=True)
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        tail = " | ".join((r.stdout + r.stderr).strip().splitlines()[-3:])
        raise BoardError(f"compiling the tables of {model} failed ({cxx} -c {source}): {tail}")
    os.replace(tmp, obj)
    _prune(cache_dir, model)
    return TablesObject(model, obj, False)
