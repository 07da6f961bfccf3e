"""`hil bench kernels|link|fpga-build|mlperf`: benchmark commands (figures, not pass/fail tests)."""
from __future__ import annotations

from rich.console import Console

from hil import cli_args
from hil.cli_args import emit, positive_int
from hil.report import stdout_console


def cmd_kernels(args, console: Console) -> int:
    from hil.bench import bench_kernels, kernels_tables
    from hil.runner import default_models
    from hil.lab_config import board_section
    bench = bench_kernels(args.board, args.model or default_models(), args.repeats,
                          board_section(args.hil_config, args.board))
    emit(args, bench.to_json(), console, lambda _: [stdout_console().print(t) for t in kernels_tables(bench)])
    return 0


def cmd_link(args, console: Console) -> int:
    from hil.bench import bench_link, link_table
    from hil.lab_config import board_section
    cfg = board_section(args.hil_config, args.board)
    bench = bench_link(args.board, args.model or ["mnist_lenet", "kws_dscnn"], args.n, cfg)
    emit(args, bench.to_json(), console, lambda _: stdout_console().print(link_table(bench)))
    return 0


def cmd_fpga_build(args, console: Console) -> int:
    from golden.registry import BUILTIN_MODELS
    from hil.targets.hls.bench_build import bench, table_text
    figures = bench(args.model or list(BUILTIN_MODELS))
    emit(args, figures.to_json(), console,
         lambda _: stdout_console().print(table_text(figures), markup=False, highlight=False))
    return 0


def cmd_mlperf(args, console: Console) -> int:
    from hil.mlperf.bench import bench_mlperf, tables
    bench = bench_mlperf(args.perf_model, args.model, args.vectors, args.n, args.warmup)
    emit(args, bench.to_json(), console, lambda _: [stdout_console().print(t) for t in tables(bench)])
    return 0


def add_parsers(sub) -> None:
    b = sub.add_parser("bench", help="benchmarks: reference vs optimised kernels, link throughput, MLPerf Tiny")
    bsub = b.add_subparsers(dest="bench", required=True)
    shared = [cli_args.board(), cli_args.hil_config(help="lab config file (TOML): which board, port, baud"),
              cli_args.output(), cli_args.verbosity()]
    k = bsub.add_parser("kernels", help="instructions of the reference and optimised kernels side by side",
                        parents=shared + [cli_args.model(repeat=True, help="model (repeatable; default: all "
                                                                            "built-in models)")])
    k.add_argument("--repeats", type=positive_int, default=3, help="vectors to take the median over")
    k.set_defaults(func=cmd_kernels)
    n = bsub.add_parser("link", help="payload bytes per second and payload share of the link",
                        parents=shared + [cli_args.model(repeat=True, help="model (repeatable; default: "
                                                                            "mnist_lenet and kws_dscnn)")])
    n.add_argument("-n", type=positive_int, default=50, help="exchanges per phase")
    n.set_defaults(func=cmd_link)
    f = bsub.add_parser("fpga-build", help="fpga-sim build per model: wall time, compiler CPU time and peak RSS",
                        parents=[cli_args.model(repeat=True, help="model (repeatable; default: all built-in models)"),
                                 cli_args.output(), cli_args.verbosity()])
    f.set_defaults(func=cmd_fpga_build)
    m = bsub.add_parser("mlperf", help="MLPerf Tiny performance mode on the QEMU twin; text vs binary protocol cost",
                        parents=[cli_args.model(repeat=True, help="models of the protocol comparison "
                                                                  "(default kws_dscnn, mnist_lenet)"),
                                 cli_args.vectors(20, "vectors per protocol and model"), cli_args.output(),
                                 cli_args.verbosity()])
    m.add_argument("--perf-model", default="kws_dscnn", help="model of the performance mode (default kws_dscnn)")
    m.add_argument("-n", type=positive_int, default=None, help="inferences per window (default: the task's, kws01 70)")
    m.add_argument("--warmup", type=int, default=None, help="warm-ups per window (default: the task's, kws01 10)")
    m.set_defaults(func=cmd_mlperf)
