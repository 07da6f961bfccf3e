#!/usr/bin/env bash
# Prove hil's link works with both `serial` modules a lab may have installed:
# pyserial (hil's own dependency) and pyserial-labgrid (what labgrid, hil[lab],
# installs over it). Each gets a throwaway venv with nothing else but pytest,
# then tests/test_link_rfc2217.py runs there (rfc2217:// through ser2net,
# socket:// to an echo). Needs the package registry and ser2net (make setup).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for flavour in "pyserial==3.5" "pyserial-labgrid>=3.5.0.2"; do
    venv="$tmp/venv-${flavour%%[=>]*}"
    "$PY" -m venv "$venv"
    "$venv/bin/python" -m pip install -q "$flavour" pytest 2>&1 | grep -v "is ignored" || true
    version=$("$venv/bin/python" -c 'import serial; print(serial.__version__)')
    echo "== $flavour (serial $version)"
    PYTHONPATH=$PWD "$venv/bin/python" -m pytest -q --noconftest -p no:hil -p no:cacheprovider -o addopts="" \
        -W ignore::DeprecationWarning tests/test_link_rfc2217.py
done
