"""Ship the firmware and HLS sources inside the wheel (as `hil/_sources/`).

Why a setup.py: the top-level `firmware_stm32/` and `firmware_fpga_hls/`
folders are not Python packages, yet a wheel install must be able to build
firmware. `build_py` copies them into the built package; at run time
`hil.sources` finds them there (or in a checkout) and builds from a copy in
a writable cache folder, never inside site-packages. Everything else is in
pyproject.toml.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE_TREES = ("firmware_stm32", "firmware_fpga_hls")
SKIP = shutil.ignore_patterns("build", "__pycache__", "*.pyc", "*.o", "*.elf")


class BuildPyWithSources(build_py):
    def run(self):
        super().run()
        here = Path(__file__).resolve().parent
        for tree in SOURCE_TREES:
            dest = Path(self.build_lib) / "hil" / "_sources" / tree
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(here / tree, dest, ignore=SKIP)


setup(cmdclass={"build_py": BuildPyWithSources})
