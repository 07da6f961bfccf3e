"""Benchmark of the fpga-sim build: wall time and the compiler's peak memory, per model.

For each model, in a fresh temporary build root (nothing shared with
firmware_fpga_hls/build, so the figures are a user's first build):

  cold     generate + compile everything: device library, backend, TCP main,
           testbench, the model's top / descriptor, its tables; link both programs
  cached   the model's generated directory and the image removed, the build cache
           kept: everything of the model is regenerated and recompiled except the
           tables, whose object is taken from the cache (same qmodel hash)
  no-op    the same build again: nothing to do

Each build runs in its own child process, which reports the peak resident set
of its own children (make, g++, cc1plus, as), from getrusage(RUSAGE_CHILDREN)
(ru_maxrss, the largest single process, in KiB): the compiler's peak RSS, and
their CPU seconds (user + system), which do not depend on the machine's load
the way wall times do (make runs two compiles at once). Wall times are seconds
on this machine and vary with load; compare ratios measured side by side.

    python -m hil.targets.hls.bench_build [MODEL...] [--json out.json]
    hil bench fpga-build [--model M ...] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from golden import paths
from golden.registry import BUILTIN_MODELS
from hil.errors import BoardError, HilError

FORMAT, VERSION = "hil-bench-fpga-build", 1
PHASES = ("cold", "cached", "no-op")


@dataclass(frozen=True)
class BuildFigure:
    model: str
    phase: str
    wall_s: float              # seconds, wall clock of build_image()
    compiler_peak_kib: int     # peak RSS of the largest child process (make/g++/cc1plus), KiB
    compiler_cpu_s: float      # user + system CPU seconds of all children: the load-independent figure
    tables_reused: bool        # the tables object came from the cache

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, j: dict, model: str, phase: str) -> "BuildFigure":
        """From what a child build prints (`_child`); its other keys are not figures."""
        return cls(model, phase, j["wall_s"], j["compiler_peak_kib"], j["compiler_cpu_s"], j["tables_reused"])


@dataclass(frozen=True)
class BuildBench:
    """`hil bench fpga-build` (`format: hil-bench-fpga-build`)."""
    figures: list[BuildFigure]

    def to_json(self) -> dict:
        return dict(format=FORMAT, version=VERSION, unit_wall="s", unit_cpu="s (children's user + system)",
                    unit_peak="KiB (ru_maxrss of children)", figures=[f.to_json() for f in self.figures])


def _child(model: str, root: Path) -> dict:
    """Run in a fresh process: one build, its wall time and its children's peak RSS."""
    from hil.targets.hls.build import build_image
    from hil.targets.hls.tables_cache import compiler
    cache = root / "cache" / "tables"
    before = set(cache.glob("*.o")) if cache.exists() else set()
    t0 = time.perf_counter()
    build_image([model], board="bench", build_root=root)
    wall = time.perf_counter() - t0
    after = set(cache.glob("*.o"))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dict(wall_s=round(wall, 3), compiler_peak_kib=ru.ru_maxrss, compiler_cpu_s=round(ru.ru_utime + ru.ru_stime, 2),
                tables_reused=bool(after) and after == before, compiler=compiler())


def _run_child(model: str, root: Path, phase: str) -> BuildFigure:
    r = subprocess.run([sys.executable, "-m", "hil.targets.hls.bench_build", "--child", model,
                        "--build-root", str(root), "--artifacts", str(paths.root())],
                       capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1].removeprefix("error: ")
        raise BoardError(f"bench fpga-build: {model} ({phase}) failed: {last}")
    return BuildFigure.from_json(json.loads(r.stdout.strip().splitlines()[-1]), model, phase)


def bench_model(model: str) -> list[BuildFigure]:
    from hil.targets.hls.cycles import cfg_ident
    out = []
    with tempfile.TemporaryDirectory(prefix="hil-fpga-bench-") as tmp:
        root = Path(tmp)
        out.append(_run_child(model, root, "cold"))
        shutil.rmtree(root / "models" / cfg_ident(model), ignore_errors=True)
        for d in root.iterdir():
            if d.is_dir() and d.name not in ("models", "cache", "common"):
                shutil.rmtree(d)
        out.append(_run_child(model, root, "cached"))
        out.append(_run_child(model, root, "no-op"))
    return out


def bench(models: list[str]) -> BuildBench:
    return BuildBench([f for m in models for f in bench_model(m)])


def table_text(bench: BuildBench) -> str:
    rows = [f"{'model':<20} {'phase':<7} {'wall s':>7} {'compiler CPU s':>15} {'compiler peak MiB':>18} {'tables':>7}"]
    for f in bench.figures:
        rows.append(f"{f.model:<20} {f.phase:<7} {f.wall_s:>7.1f} {f.compiler_cpu_s:>15.1f} "
                    f"{f.compiler_peak_kib / 1024:>18.0f} {'cached' if f.tables_reused else 'built':>7}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hil.targets.hls.bench_build", description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", help="models (default: every built-in model)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--build-root", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--artifacts", type=Path, default=None, help=argparse.SUPPRESS)   # the parent's root, as a value
    args = ap.parse_args(argv)
    try:
        if args.child:
            paths.set_root(args.artifacts)
            print(json.dumps(_child(args.child, args.build_root)))
            return 0
        figures = bench(args.models or list(BUILTIN_MODELS))
    except HilError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table_text(figures))
    if args.json:
        args.json.write_text(json.dumps(figures.to_json(), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
