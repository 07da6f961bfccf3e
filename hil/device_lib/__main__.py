"""`python -m hil.device_lib [--path | --include | --sources | --cflags | --mk]`: where the C library is."""
from __future__ import annotations

import argparse
import sys

from hil.device_lib import INCLUDE_DIR, MAKE_FRAGMENT, ROOT, SOURCES


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m hil.device_lib", description=__doc__.split(":")[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--path", action="store_true", help="the library's root directory (default)")
    g.add_argument("--include", action="store_true", help="the directory to pass with -I")
    g.add_argument("--sources", action="store_true", help="the C sources to compile, one per line")
    g.add_argument("--cflags", action="store_true", help="-I flag for a compiler command line")
    g.add_argument("--mk", action="store_true", help="the make fragment to include")
    a = p.parse_args(argv)
    if a.include:
        out = str(INCLUDE_DIR)
    elif a.sources:
        out = "\n".join(str(s) for s in SOURCES)
    elif a.cflags:
        out = f"-I{INCLUDE_DIR}"
    elif a.mk:
        out = str(MAKE_FRAGMENT)
    else:
        out = str(ROOT)
    sys.stdout.write(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
