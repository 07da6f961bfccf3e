"""`hil bench kernels|link|fpga-build|mlperf`: benchmark commands (figures, not pass/fail tests)."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from hil.boards import DEFAULT_BOARD
from hil.cli_args import output_file, positive_int
from hil.report import stdout_console


def _write_json(path: Path | None, doc: dict, console: Console) -> None:
    if path:
        Path(path).write_text(json.dumps(doc, indent=1) + "\n")
        console.print(f"results written to {path}")


def cmd_kernels(args, console: Console) -> int:
    from hil.bench import bench_kernels, kernels_tables
    from hil.runner import default_models
    doc = bench_kernels(args.board, args.model or default_models(), args.repeats)
    out = stdout_console()
    for t in kernels_tables(doc):
        out.print(t)
    _write_json(args.json, doc, console)
    return 0


def cmd_link(args, console: Console) -> int:
    from hil.bench import bench_link, link_table
    from hil.lab_config import board_section
    cfg = board_section(args.hil_config, args.board)
    doc = bench_link(args.board, args.model or ["mnist_lenet", "kws_dscnn"], args.n, cfg)
    stdout_console().print(link_table(doc))
    _write_json(args.json, doc, console)
    return 0


def cmd_fpga_build(args, console: Console) -> int:
    from golden.registry import BUILTIN_MODELS
    from hil.targets.hls.bench_build import bench, table_text
    doc = bench(args.model or list(BUILTIN_MODELS))
    stdout_console().print(table_text(doc), markup=False, highlight=False)
    _write_json(args.json, doc, console)
    return 0


def cmd_mlperf(args, console: Console) -> int:
    from hil.mlperf.bench import bench_mlperf, tables
    doc = bench_mlperf(args.perf_model, args.model, args.vectors, args.n, args.warmup)
    out = stdout_console()
    for t in tables(doc):
        out.print(t)
    _write_json(args.json, doc, console)
    return 0


def add_parsers(sub) -> None:
    b = sub.add_parser("bench", help="benchmarks: reference vs optimised kernels, link throughput, MLPerf Tiny")
    bsub = b.add_subparsers(dest="bench", required=True)
    k = bsub.add_parser("kernels", help="instructions of the reference and optimised kernels side by side")
    k.add_argument("--board", default=DEFAULT_BOARD)
    k.add_argument("--model", action="append", help="model (repeatable; default: all built-in models)")
    k.add_argument("--repeats", type=int, default=3, help="vectors to take the median over")
    k.add_argument("--json", type=output_file, default=None, help="write the figures as JSON here")
    k.set_defaults(func=cmd_kernels)
    n = bsub.add_parser("link", help="payload bytes per second and payload share of the link")
    n.add_argument("--board", default=DEFAULT_BOARD)
    n.add_argument("--model", action="append", help="model (repeatable; default: mnist_lenet and kws_dscnn)")
    n.add_argument("-n", type=int, default=50, help="exchanges per phase")
    n.add_argument("--hil-config", default=None, help="lab config file (TOML): which board, port, baud")
    n.add_argument("--json", type=output_file, default=None, help="write the figures as JSON here")
    n.set_defaults(func=cmd_link)
    f = bsub.add_parser("fpga-build", help="fpga-sim build per model: wall time, compiler CPU time and peak RSS")
    f.add_argument("--model", action="append", help="model (repeatable; default: all built-in models)")
    f.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    f.set_defaults(func=cmd_fpga_build)
    m = bsub.add_parser("mlperf", help="MLPerf Tiny performance mode on the QEMU twin; text vs binary protocol cost")
    m.add_argument("--perf-model", default="kws_dscnn", help="model of the performance mode (default kws_dscnn)")
    m.add_argument("--model", action="append", help="models of the protocol comparison (default kws_dscnn, mnist_lenet)")
    m.add_argument("--vectors", type=positive_int, default=20, help="vectors per protocol and model")
    m.add_argument("-n", type=positive_int, default=None, help="inferences per window (default: the task's, kws01 70)")
    m.add_argument("--warmup", type=int, default=None, help="warm-ups per window (default: the task's, kws01 10)")
    m.add_argument("--json", type=output_file, default=None, help="write the figures as JSON here")
    m.set_defaults(func=cmd_mlperf)
