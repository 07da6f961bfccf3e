"""Building firmware_fpga_hls for the host: code generation + make + g++ (no Vivado).

One image per model list (ids in list order) under firmware_fpga_hls/build/:

    build/models/<model>/   generated code and objects of one model (shared by images)
    build/cache/tables/     each model's constant tables, compiled once per model hash (tables_cache.py)
    build/common/           objects of the device library, backend, TCP main, testbench
    build/<image>/gen/      the image's registry, models.mk, manifest.json
    build/<image>/fpga_sim  the emulated board        build/<image>/csim_tb  the testbench

The ap_int headers come from the pinned hls4ml wheel (hls4ml/templates/vivado/
ap_types/); HIL_AP_TYPES overrides the directory. Builds are serialised with a
file lock, so parallel test sessions never write the same objects at once.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from golden.registry import DEFAULT_MODELS_HLS
from hil import device_lib
from hil.errors import BoardError
from hil.targets import source_dir
from hil.targets.build_output import build_failed



def __getattr__(name: str):
    # looked up when used: outside a checkout the sources are first copied to the cache
    if name == "FPGA_DIR":
        return source_dir("firmware_fpga_hls")
    if name == "BUILD_ROOT":
        return source_dir("firmware_fpga_hls") / "build"
    raise AttributeError(name)

AP_TYPES_HINT = "pip install hls4ml==1.3.0 (its wheel ships Xilinx's ap_types headers), or set HIL_AP_TYPES"


def ap_types_dir() -> Path | None:
    """Directory holding ap_int.h, or None."""
    env = os.environ.get("HIL_AP_TYPES")
    if env:
        return Path(env) if (Path(env) / "ap_int.h").exists() else None
    spec = importlib.util.find_spec("hls4ml")      # locate without importing it (slow, optional deps)
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        d = Path(loc) / "templates" / "vivado" / "ap_types"
        if (d / "ap_int.h").exists():
            return d
    return None


@dataclass
class FpgaImage:
    models: list[str]
    dir: Path
    gen_dir: Path
    fpga_sim: Path
    csim_tb: Path

    @property
    def manifest(self) -> dict:
        return json.loads((self.gen_dir / "manifest.json").read_text())


def image_dir(models: list[str]) -> Path:
    name = "+".join(re.sub(r"[^\w.-]", "_", Path(m).name.removesuffix(".qmodel.json")) for m in models)
    if len(name) > 80:
        name = name[:60] + "-" + hashlib.sha1(name.encode()).hexdigest()[:10]
    return source_dir("firmware_fpga_hls") / "build" / name


def build_image(models: list[str], board: str = "fpga-sim", calibrations: dict | None = None,
                build_root: Path | None = None) -> FpgaImage:
    """Generate and compile the emulator and the testbench for `models`; BoardError on any failure.

    `build_root` (default firmware_fpga_hls/build) holds everything built; the
    benchmark passes an empty directory to time a cold build."""
    from hil.targets.hls.codegen import CodegenError, generate
    from hil.mlperf.gen_c import write as mlperf_table
    from hil.targets.hls.tables_cache import tables_object
    if not models:
        raise BoardError(f"{board}: no models to build")
    for tool in ("make", "g++", "gcc"):
        if shutil.which(tool) is None:
            raise BoardError(f"{board}: {tool} not found on PATH: install build-essential (`make setup`)")
    ap = ap_types_dir()
    if ap is None:
        raise BoardError(f"{board}: the ap_int headers are not installed: {AP_TYPES_HINT}")
    fpga_dir = source_dir("firmware_fpga_hls")
    build_root = Path(build_root).resolve() if build_root else fpga_dir / "build"
    img = build_root / image_dir(models).name
    gen_dir = img / "gen"
    build_root.mkdir(parents=True, exist_ok=True)
    with open(build_root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            generate(models, gen_dir, build_root / "models", calibrations)
            mlperf_table(models, gen_dir / "hil_mlperf_models.c")    # the MLPerf text front end's table
        except (CodegenError, ValueError, OSError) as exc:
            raise BoardError(f"{board}: cannot generate HLS code for {', '.join(models)}: {exc}") from None
        manifest = json.loads((gen_dir / "manifest.json").read_text())
        tables = [tables_object(e["ident"], e["qmodel_hash"], Path(e["tables"]), build_root / "cache" / "tables")
                  for e in manifest["models"]]
        cmd = ["make", "-C", str(fpga_dir), f"-j{max(2, os.cpu_count() or 2)}", f"AP_TYPES={ap}",
               f"DEVICE_LIB={device_lib.ROOT}", "TABLE_OBJS=" + " ".join(str(t.path) for t in tables),
               f"BUILD_DIR={img}", f"GEN_DIR={gen_dir}", f"COMMON_DIR={build_root / 'common'}"]
        r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise build_failed(f"{board}: HLS C simulation build", cmd, r.stdout, r.stderr)
    return FpgaImage(list(models), img, gen_dir, img / "fpga_sim", img / "csim_tb")


if __name__ == "__main__":       # python -m hil.targets.hls.build MODEL... : build and print where
    im = build_image(sys.argv[1:] or list(DEFAULT_MODELS_HLS))
    print(im.fpga_sim, im.csim_tb, sep="\n")
