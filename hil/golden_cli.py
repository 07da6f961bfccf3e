"""`hil golden build|show`: the reference side from the command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from golden import bundle
from golden.paths import artifact_dir
from golden.registry import BUILTIN_MODELS
from hil.errors import UsageError
from hil.report import stdout_console


def _names(model: str) -> list[str]:
    if model == "all":
        return list(BUILTIN_MODELS)
    if model not in BUILTIN_MODELS:
        from golden import models        # torch: only when a name is not a built-in one
        models.get(model)   # raises UnknownModel with the list of known models
    return [model]


def summary(name: str) -> dict:
    """The `show --json` record of one model, from its committed bundle."""
    b = bundle.read(artifact_dir(name))
    m = b.manifest
    rec = dict(model=name, scheme=m["scheme"], params=m["params"], macs=m["macs"],
               test_vectors=m["test_vectors"], bundle_hash=m["hash"], qmodel_hash=m["qmodel_hash"])
    rec.update(m["metrics"])
    return rec


def cmd_build(args, console: Console) -> int:
    from golden.build import build_model    # torch: only the build command needs it
    if args.onnx:
        from golden.user_models import register_onnx
        if not args.name or not args.dataset:
            raise UsageError("--onnx needs --name and --dataset (mnist, kws or sine)")
        register_onnx(args.name, args.onnx, args.dataset)
        args.model = args.name
    names = _names(args.model)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} models"), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("building", total=len(names))
        for name in names:
            def say(msg: str) -> None:
                progress.update(task, description=msg)
                if args.verbose:
                    progress.console.log(msg)
            manifest = build_model(name, retrain=args.retrain, say=say, root=args.out)
            progress.console.log(f"[green]{name}[/]: {_metrics_text(manifest['metrics'])}, "
                                 f"{manifest['test_vectors']} vectors, bundle {manifest['hash'][:19]}")
            progress.advance(task)
    return 0


def _metrics_text(m: dict) -> str:
    if "float_accuracy" in m:
        return (f"float {m['float_accuracy']:.2%}, int {m['int_accuracy']:.2%}, "
                f"agreement {m['agreement']:.2%}")
    return f"float MAE {m['float_mae']:.4f}, int MAE {m['int_mae']:.4f}, int-vs-float {m['int_vs_float_mae']:.4f}"


def cmd_show(args, console: Console) -> int:
    recs = [summary(n) for n in _names(args.model)]
    if args.json:
        sys.stdout.write(json.dumps(recs, indent=2) + "\n")
        return 0
    t = Table(title="golden references")
    for col in ("model", "scheme", "params", "MACs", "vectors", "float", "int", "agreement", "bundle"):
        t.add_column(col, justify="right" if col not in ("model", "scheme", "bundle") else "left")
    for r in recs:
        if "float_accuracy" in r:
            fl, it, ag = (f"{r['float_accuracy']:.2%}", f"{r['int_accuracy']:.2%}", f"{r['agreement']:.2%}")
        else:
            fl, it, ag = f"MAE {r['float_mae']:.4f}", f"MAE {r['int_mae']:.4f}", f"Δ {r['int_vs_float_mae']:.4f}"
        t.add_row(r["model"], r["scheme"], f"{r['params']:,}", f"{r['macs']:,}", str(r["test_vectors"]),
                  fl, it, ag, r["bundle_hash"][7:19])
    stdout_console().print(t)
    return 0


def add_parser(sub) -> None:
    g = sub.add_parser("golden", help="golden references: build and show")
    gs = g.add_subparsers(dest="golden_cmd", required=True)
    b = gs.add_parser("build", help="train if weights are missing, quantize, write bundles")
    b.add_argument("--model", default="all", help="model name or 'all'")
    b.add_argument("--retrain", action="store_true", help="train even if weights are committed")
    b.add_argument("--onnx", type=Path, help="a user's ONNX model to put through the pipeline")
    b.add_argument("--name", help="registry name for --onnx")
    b.add_argument("--dataset", choices=["mnist", "kws", "sine"], help="data set for --onnx")
    b.add_argument("--out", type=Path, default=None, help="artifact root (default: golden/artifacts)")
    b.add_argument("-v", "--verbose", action="store_true")
    b.set_defaults(func=cmd_build)
    s = gs.add_parser("show", help="summarise the committed golden bundles")
    s.add_argument("--model", default="all")
    s.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    s.set_defaults(func=cmd_show)
