"""Building the STM32 firmware for a set of models (make + arm-none-eabi-gcc).

Builds are serialised with a file lock: parallel sessions (`pytest -n N`, one
board per worker) build once and the others find make's output up to date.
"""
from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

from golden import artifact
from golden.paths import qmodel_path
from hil.errors import BoardError, CodegenError
from hil.targets import source_dir
from hil.targets.build_output import build_failed
from hil.targets.stm32.codegen import write_models_list



def __getattr__(name: str):
    # FIRMWARE_DIR is looked up when used: outside a checkout that copies the sources to the cache
    if name == "FIRMWARE_DIR":
        return source_dir("firmware_stm32")
    raise AttributeError(name)


KERNELS = ("opt", "ref")


def build_stm32(target: str, models: list[str], baud: int = 115200, board: str = "?",
                kernels: str = "opt", tag: str = "") -> Path:
    """Generate model tables for `models` (ids in this order) and build; returns the ELF.
    kernels: "opt" (Cortex-M4 DSP kernels) or "ref" (plain C reference), each in its own
    build directory so both can exist side by side."""
    if kernels not in KERNELS:
        raise BoardError(f"{board}: kernels must be one of {', '.join(KERNELS)}, got '{kernels}'")
    for tool in ("make", "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            raise BoardError(f"{board}: {tool} not found on PATH: run `make setup` "
                             f"(installs gcc-arm-none-eabi)")
    paths = [str(qmodel_path(m)) for m in models]
    for m, p in zip(models, paths):
        if not Path(p).exists():
            raise BoardError(f"{board}: no quantized artifact for model '{m}' ({p}): run `hil golden build`")
        _check_scheme(board, m, p)     # validates the artifact: a broken one is its one line, not make's output
    firmware_dir = source_dir("firmware_stm32")
    build_dir = f"build/{target}" if kernels == "opt" else f"build/{target}-{kernels}"
    build_dir += f"-{tag}" if tag else ""      # e.g. the MLPerf twin's one-model images
    # artifact paths reach make as data: a list file the make fragment hands to the generator
    # (firmware_stm32/nn.mk MODELS_LIST), never words on a make or shell command line
    models_list = f"{build_dir}/models.list"
    cmd = ["make", "-C", str(firmware_dir), f"TARGET={target}", f"BAUD={baud}", f"KERNELS={kernels}",
           f"MODELS_LIST={models_list}", f"BUILD_DIR={build_dir}", "PYTHON=" + _python()]
    (firmware_dir / "build").mkdir(exist_ok=True)
    with open(firmware_dir / "build" / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            write_models_list(firmware_dir / models_list, [Path(p) for p in paths])
        except (CodegenError, OSError) as exc:
            raise BoardError(f"{board}: cannot write {firmware_dir / models_list}: {exc}") from None
        r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise build_failed(f"{board}: firmware build", cmd, r.stdout, r.stderr)
    return firmware_dir / build_dir / "hil_fw.elf"


def _check_scheme(board: str, model: str, path: str) -> None:
    """One line, before make, for an artifact the int8 engine cannot run (codegen would say it in a build log)."""
    try:
        scheme = artifact.load(path)["scheme"]
    except (artifact.ArtifactError, KeyError) as exc:
        raise BoardError(f"{board}: model '{model}': {exc}") from None
    if scheme != "int8":
        raise BoardError(f"{board}: model '{model}' is a '{scheme}' scheme artifact (the FPGA flow); the STM32 "
                         f"engine runs int8 artifacts only: run it on fpga-sim")


def _python() -> str:
    import sys
    return sys.executable


def image_info(elf: Path) -> dict:
    """Hash, compiler and the exact CFLAGS (EXTRA_CFLAGS included) of a built image, for the results store."""
    from hil.results.provenance import file_hash, tool_version
    flags = Path(elf).parent / "flags.txt"      # written by the Makefile: CFLAGS, LDFLAGS, sources
    try:
        cflags = flags.read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        cflags = None
    return dict(image_hash=file_hash(elf), compiler=tool_version("arm-none-eabi-gcc"), cflags=cflags)


def locate(elf: Path | None, address: int) -> str | None:
    """`function (file:line)` of a code address in the firmware ELF, for fault reports; None if unknown."""
    tool = shutil.which("arm-none-eabi-addr2line")
    if elf is None or tool is None or not Path(elf).exists():
        return None
    try:
        out = subprocess.run([tool, "-f", "-e", str(elf), hex(address & ~1)], capture_output=True, text=True,
                             timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    if len(out) < 2 or out[0] == "??":
        return None
    return f"{out[0]} ({Path(out[1].split(' ')[0]).name})"
