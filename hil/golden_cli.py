"""`hil golden build|show`: the reference side from the command line."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from golden import artifact, bundle, paths, qmodel
from golden.bundle import BundleManifest, Metrics
from golden.data.names import dataset_name, dataset_short
from golden.names import check as check_name
from golden.paths import artifact_dir, qmodel_path
from golden.registry import BUILTIN_DATASETS, BUILTIN_MODELS, built_models, check_built, known_models
from hil import cli_args
from hil.cli_args import existing_dir
from hil.errors import MissingExtra, UsageError
from hil.lab_config import apply_artifacts_root
from hil.report import stdout_console

if TYPE_CHECKING:
    from hil.targets.stm32.memory_plan import ArenaPlan


def _names(model: str) -> list[str]:
    """Models to show: built-in ones and every model built under the artifacts root."""
    if model == "all":   # a half-built folder (no bundle yet) is not listed
        return [m for m in known_models() if (artifact_dir(m) / "bundle.json").exists()]
    if model not in BUILTIN_MODELS:
        check_built(model)   # names the roots searched and what is built there
    return [model]


def _build_names(model: str) -> list[str]:
    """Models to build: 'all' is the built-in set in the built-in root, else what the root holds."""
    root = paths.root()
    if model == "all":
        return list(BUILTIN_MODELS) if root == paths.BUILTIN else built_models(root)
    if model not in BUILTIN_MODELS:
        _register_recorded(model)
    return [model]


def _register_recorded(name: str) -> None:
    """A user model rebuilt by name, from the source its artifact folder recorded."""
    from golden import models
    from golden.errors import UnknownModel
    from golden.user_models import SOURCE_FILE, register_from_source
    if name in models.REGISTRY:
        return
    out = artifact_dir(name, paths.root())
    if register_from_source(name, out) is None:
        raise UnknownModel(
            f"model '{name}' is not built in and {out / SOURCE_FILE} does not exist (artifacts root "
            f"{paths.root()}); add it with `hil golden build --onnx F.onnx --name {name} --dataset D` "
            f"or `--torch F.py:Class --weights W.pt --name {name} --dataset D`")


@dataclass(frozen=True)
class GoldenSummary:
    """One model's `golden show` record: its bundle's figures, or (trained but not quantized
    yet, or nothing built) its float figures from `float.json`. `dataset` names the data
    every figure was measured on; `arena` is the STM32 engine's plan (int8 models)."""
    model: str
    status: str                                  # "bundle", "float only" or "not built"
    dataset: str
    dataset_name: str
    manifest: BundleManifest | None = None       # status "bundle"
    test_vectors: int | None = None
    float_accuracy: float | None = None          # float.json's (no bundle yet)
    float_validation_accuracy: float | None = None
    arena: ArenaPlan | None = None

    def to_json(self) -> dict:
        data = dict(dataset=self.dataset, dataset_name=self.dataset_name)
        m = self.manifest
        if m is None:
            return dict(model=self.model, status=self.status, scheme=None, params=None, macs=None,
                        test_vectors=self.test_vectors, bundle_hash=None, qmodel_hash=None,
                        float_accuracy=self.float_accuracy,
                        float_validation_accuracy=self.float_validation_accuracy,
                        int_accuracy=None, agreement=None, **data)
        rec = dict(model=self.model, status=self.status, scheme=m.scheme, params=m.params, macs=m.macs,
                   test_vectors=m.test_vectors, bundle_hash=m.hash, qmodel_hash=m.qmodel_hash)
        rec.update(m.metrics.to_json())
        if self.float_validation_accuracy is not None:
            rec["float_validation_accuracy"] = self.float_validation_accuracy
        if self.arena is not None:
            rec.update(arena_planned_bytes=self.arena.peak, arena_naive_bytes=self.arena.naive)
        rec.update(data)
        return rec


def summary(name: str) -> GoldenSummary:
    """The `show` record of one model, from its committed bundle; a model trained but
    not quantized yet shows its float figures from `float.json` (which also gives the float
    validation accuracy)."""
    fpath = artifact_dir(name) / "float.json"
    f = json.loads(fpath.read_text()) if fpath.exists() else {}
    ds = BUILTIN_DATASETS.get(name) or f.get("dataset") or "user"
    if not (artifact_dir(name) / "bundle.json").exists():
        return GoldenSummary(name, "float only" if f else "not built", ds, dataset_name(ds),
                             test_vectors=f.get("test_vectors"), float_accuracy=f.get("float_test_accuracy"),
                             float_validation_accuracy=f.get("float_validation_accuracy"))
    m = bundle.read(artifact_dir(name)).info
    return GoldenSummary(name, "bundle", ds, dataset_name(ds), manifest=m, test_vectors=m.test_vectors,
                         float_validation_accuracy=f.get("float_validation_accuracy"),
                         arena=arena_summary(name))


def arena_summary(name: str) -> ArenaPlan | None:
    """Activation memory of the STM32 engine (peak: liveness-planned, naive: every tensor its own
    bytes); None for a model it does not run (shift scheme)."""
    from hil.targets.stm32.memory_plan import plan
    qm = qmodel.load(qmodel_path(name))
    if qm.scheme != "int8":
        return None
    return plan(qm)


def _register_new(args) -> None:
    """--onnx / --torch: register the user's model and record its source in its artifact folder."""
    what = "--onnx" if args.onnx else "--torch"
    if args.onnx and args.torch:
        raise UsageError("give --onnx or --torch, not both")
    if not args.name or not (args.dataset or args.data):
        raise UsageError(f"{what} needs --name and --dataset (mnist, kws, sine or colour_mnist) or --data FILE.npz")
    if args.dataset and args.data:
        raise UsageError("give --dataset or --data, not both")
    if args.data:          # the user's own test vectors instead of a built-in data set
        from golden.user_models import DataFile
        args.dataset = DataFile(args.data, args.layout)
    check_name(args.name)      # before anything is registered, built or written
    if args.name in BUILTIN_MODELS:
        raise UsageError(f"--name {args.name} is a built-in model; pick another name")
    from golden.user_models import register_onnx, register_torch, write_source   # torch: after the checks
    out = artifact_dir(args.name, paths.root())
    if args.onnx:
        register_onnx(args.name, args.onnx, args.dataset)
        write_source(out, dataset=args.dataset, onnx=args.onnx)
    else:
        if not args.weights:
            raise UsageError("--torch needs --weights (a state_dict saved with torch.save)")
        register_torch(args.name, args.torch, args.weights, args.dataset)
        write_source(out, dataset=args.dataset, torch_spec=args.torch, weights=args.weights)
    args.model = args.name


def _import_tflite(args, console: Console) -> int:
    """--tflite: a lab's int8 .tflite imported as it is (no torch, no requantization); docs/tflite.md."""
    from golden.tflite.importer import import_tflite
    if args.onnx or args.torch:
        raise UsageError("give one of --tflite, --onnx or --torch")
    if not args.name or not args.data:
        raise UsageError("--tflite needs --name and --data FILE.npz (x: test inputs, y: labels or targets)")
    check_name(args.name)      # before anything is read, built or written
    if args.name in BUILTIN_MODELS:
        raise UsageError(f"--name {args.name} is a built-in model; pick another name")
    manifest = import_tflite(args.tflite, args.name, args.data, paths.root(), layout=args.layout,
                             float_model=args.float_model, say=console.log if args.verbose else (lambda m: None))
    _say_built(console, args.name, manifest)
    return 0


def _say_built(console: Console, name: str, manifest: dict) -> None:
    m = BundleManifest.from_json(manifest)
    console.log(f"[green]{name}[/]: {_metrics_text(m.metrics)}, {m.test_vectors} vectors, bundle {m.hash[:19]}")


GOLDEN_EXTRA = ("torch", "onnx", "librosa", "soundfile", "scipy")    # pyproject.toml [golden]


def cmd_build(args, console: Console) -> int:
    try:
        return _build(args, console)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in GOLDEN_EXTRA:
            raise
        raise MissingExtra(f"hil golden build needs the golden extra ({exc.name} is not installed): "
                           f"pip install 'hil[golden]'") from None


def _build(args, console: Console) -> int:
    apply_artifacts_root(args.artifacts)
    if getattr(args, "tflite", None):
        return _import_tflite(args, console)
    from golden.tflite.importer import rebuild      # a .tflite import is rebuilt by name without torch
    if args.model != "all" and args.model not in BUILTIN_MODELS:
        manifest = rebuild(args.model, paths.root())
        if manifest is not None:
            _say_built(console, args.model, manifest)
            return 0
    if args.onnx or args.torch:
        _register_new(args)
    from golden.build import build_model    # torch: only the build command needs it, after its checks
    names = _build_names(args.model)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} models"), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("building", total=len(names))
        for name in names:
            def say(msg: str) -> None:
                progress.update(task, description=msg)
                if args.verbose:
                    progress.console.log(msg)
            manifest = None if name in BUILTIN_MODELS else rebuild(name, paths.root())    # a .tflite import
            if manifest is None:
                if name not in BUILTIN_MODELS:
                    _register_recorded(name)
                manifest = build_model(name, retrain=args.retrain, say=say, root=paths.root())
            _say_built(progress.console, name, manifest)
            progress.advance(task)
    return 0


def _metrics_text(m: Metrics) -> str:
    if m.tflm_mismatches is not None:      # a .tflite import: the float column only with --float-model
        parts = [f"{k.replace('_', ' ')} {v:.2%}" if "accuracy" in k or k == "agreement" else
                 f"{k.replace('_', ' ')} {v:.4f}" for k, v in m.items() if k != "tflm_mismatches"]
        return ", ".join([f"integer simulator vs TFLite Micro: {m.tflm_mismatches} vectors differ"] + parts)
    if m.float_accuracy is not None:
        return f"float {m.float_accuracy:.2%}, int {m.int_accuracy:.2%}, agreement {m.agreement:.2%}"
    return f"float MAE {m.float_mae:.4f}, int MAE {m.int_mae:.4f}, int-vs-float {m.int_vs_float_mae:.4f}"


def cmd_show(args, console: Console) -> int:
    apply_artifacts_root(args.artifacts)
    recs = [summary(n) for n in _names(args.model)]
    cli_args.emit(args, [r.to_json() for r in recs], console, lambda _: stdout_console().print(show_table(recs)))
    return 0


def show_table(recs: list[GoldenSummary]) -> Table:
    legend = {dataset_short(r.dataset): dataset_name(r.dataset) for r in recs}
    t = Table(title="golden references (figures on each data set's held-out test split)",
              caption="data sets: " + "; ".join(f"{k} = {v}" for k, v in legend.items()) + " (docs/data.md)")
    for col in ("model", "data set", "scheme", "params", "MACs", "vectors", "float", "int", "agreement",
                "arena B (plan/naive)", "bundle"):
        t.add_column(col, justify="left" if col in ("model", "data set", "scheme", "bundle") else "right")
    for r in recs:
        m = r.manifest
        if m is None:     # trained but not quantized yet, or nothing built
            fl = "-" if r.float_accuracy is None else f"{r.float_accuracy:.2%}"
            t.add_row(r.model, dataset_short(r.dataset), "-", "-", "-", str(r.test_vectors or "-"),
                      fl, "-", "-", "-", r.status)
            continue
        x = m.metrics
        if x.tflm_mismatches is not None:      # a .tflite import: figures that exist, '-' for the rest
            pct = lambda v: "-" if v is None else f"{v:.2%}"                       # noqa: E731
            mae = lambda v: "-" if v is None else f"MAE {v:.4f}"                   # noqa: E731
            cls = x.int_accuracy is not None or x.float_accuracy is not None
            fl, it, ag = ((pct(x.float_accuracy), pct(x.int_accuracy), pct(x.agreement)) if cls else
                          (mae(x.float_mae), mae(x.int_mae), mae(x.int_vs_float_mae)))
        elif x.float_accuracy is not None:
            fl, it, ag = (f"{x.float_accuracy:.2%}", f"{x.int_accuracy:.2%}", f"{x.agreement:.2%}")
        else:
            fl, it, ag = f"MAE {x.float_mae:.4f}", f"MAE {x.int_mae:.4f}", f"Δ {x.int_vs_float_mae:.4f}"
        t.add_row(r.model, dataset_short(r.dataset), m.scheme, f"{m.params:,}", f"{m.macs:,}",
                  str(m.test_vectors), fl, it, ag, _arena_text(r.arena), m.hash[7:19])
    return t


def _arena_text(p: ArenaPlan | None) -> str:
    if p is None:
        return "-"
    return f"{p.peak:,} / {p.naive:,}"


def cmd_export(args, console: Console) -> int:
    """`hil golden export --tflite`: each model as <out>/<model>.tflite for TFLite Micro."""
    from golden.tflite_export import ExportError, export
    if not args.tflite:
        raise UsageError("give the format to export: --tflite")
    apply_artifacts_root(args.artifacts)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in _names(args.model):
        try:
            e = export(artifact.load(qmodel_path(name)))
        except ExportError as exc:
            if args.model != "all":
                raise
            console.print(f"{name}: skipped: {exc}", markup=False, highlight=False, soft_wrap=True)
            continue
        path = args.out / f"{name}.tflite"
        path.write_bytes(e.data)
        console.print(f"{name}: {path} ({len(e.data):,} bytes, {len(e.operators)} operators); TFLM derives "
                      f"all {e.scales.multipliers} requantization parameters exactly as the artifact holds them",
                      markup=False, highlight=False, soft_wrap=True)
    return 0


def add_parser(sub) -> None:
    g = sub.add_parser("golden", help="golden references: build and show")
    gs = g.add_subparsers(dest="golden_cmd", required=True)
    b = gs.add_parser("build", help="train if weights are missing, quantize, write bundles",
                      parents=[cli_args.model(default="all", help="model name or 'all'"), cli_args.verbosity()])
    b.add_argument("--retrain", action="store_true", help="train even if weights are committed")
    b.add_argument("--onnx", type=Path, help="a user's ONNX model to put through the pipeline")
    b.add_argument("--torch", metavar="FILE.py:CLASS",
                   help="a user's PyTorch module (built with no arguments) to put through the pipeline")
    b.add_argument("--weights", type=Path, help="state_dict for --torch (torch.save(model.state_dict(), F))")
    b.add_argument("--name", help="model name for --onnx/--torch (later: --model NAME rebuilds it)")
    b.add_argument("--dataset", choices=["mnist", "kws", "sine", "colour_mnist"],
                   help="data set for --onnx/--torch")
    b.add_argument("--tflite", type=Path, help="a lab's int8 .tflite model, imported with its own quantization "
                   "and checked against TFLite Micro (docs/tflite.md); needs --name and --data")
    b.add_argument("--data", type=Path, metavar="FILE.npz",
                   help="your own test data (instead of --dataset): x (float; for --tflite also int8 already "
                        "quantized), y labels or targets (optional for --tflite)")
    b.add_argument("--layout", choices=["nhwc", "nchw"], default="nhwc", help="layout of x in --data")
    b.add_argument("--float-model", type=Path, metavar="F.tflite",
                   help="the float .tflite of a --tflite model: the float column (LiteRT); without it none")
    add_artifacts_option(b, "--out")
    b.set_defaults(func=cmd_build)
    s = gs.add_parser("show", help="summarise the committed golden bundles",
                      parents=[cli_args.model(default="all", help="model name or 'all'"), cli_args.output(),
                               cli_args.verbosity()])
    add_artifacts_option(s, must_exist=True)
    s.set_defaults(func=cmd_show)
    e = gs.add_parser("export", help="write int8 models as .tflite files TFLite Micro runs",
                      parents=[cli_args.model(default="all", help="model name or 'all'"), cli_args.verbosity()])
    e.add_argument("--tflite", action="store_true", help="export as a TFLite flatbuffer (the only format)")
    e.add_argument("--out", type=Path, default=Path("."), help="output folder (default: the current one)")
    add_artifacts_option(e)
    e.set_defaults(func=cmd_export)


def add_artifacts_option(p, *aliases: str, must_exist: bool = False) -> None:
    """--artifacts: where models are read from (must_exist) or built into (created if missing)."""
    p.add_argument("--artifacts", *aliases, dest="artifacts", type=existing_dir if must_exist else Path, default=None,
                   help=f"artifacts root (default: ${paths.ENV}, the lab config's `artifacts`, "
                        f"else the built-in golden/artifacts)")
