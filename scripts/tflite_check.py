"""Every vector of every `.tflite` fixture on the device twins, judged against TFLite Micro
(`make tflite-check`; docs/tflite.md's measured-results table).

Imports each fixture of tests/data/tflite/ into a fresh artifacts root (`hil golden build --tflite`),
runs all its vectors with `hil run`'s runner on stm32f4-qemu (one firmware image per fixture, so the
memory figures are the fixture's own) and, for KWS and ResNet-8, on fpga-sim, and prints per fixture
and board: vectors, device vs TFLM and integer simulator vs TFLM mismatches, device vs integer
simulator mismatches, instructions per inference (QEMU guest instructions, -icount shift=0) or
modelled HLS cycles, per MAC, and on the STM32 twin flash / SRAM / CCM bytes of the linked image.
Exits 1 if any vector differs anywhere. Usage: tflite_check.py [--json OUT] [FIXTURE ...]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "tflite"
FIXTURES = ("kws_dscnn_tfl", "resnet8_tfl", "mobilenet_v1_025_tfl", "ad_autoencoder_tfl", "ops_mix_tfl",
            "flatten_fc_tfl")
FPGA = ("kws_dscnn_tfl", "resnet8_tfl")


def run_on(board_name: str, name: str) -> dict:
    from hil.boards import BoardOptions, board_class
    from hil.runner import run_model
    with board_class(board_name)(BoardOptions(models=[name])) as board:
        doc = run_model(board, name)
        mem = board.memory()
    t = doc["tflm"]
    return dict(fixture=name, board=board_name, vectors=doc["vectors"], device_vs_intsim=doc["int_mismatches"],
                device_vs_tflm=t["device_mismatches"], intsim_vs_tflm=t["intsim_mismatches"],
                tflm_vectors=t["vectors"], unit=doc["unit"], per_inference=(doc["total"] or {}).get("median"),
                macs=None, failed=len(doc["failed_vectors"]), aborted=doc["aborted"],
                flash=mem and mem["flash_bytes"], sram=mem and mem["sram_bytes"], ccm=mem and mem["ccm_bytes"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fixtures", nargs="*", default=list(FIXTURES))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from golden import artifact, paths
    from hil.cli import main as hil_main
    rows = []
    with tempfile.TemporaryDirectory(prefix="hil-tflite-check-") as root:
        for name in args.fixtures:
            rc = hil_main(["golden", "build", "--tflite", str(DATA / f"{name}.tflite"), "--name", name,
                           "--data", str(DATA / f"{name}.npz"), "--artifacts", root])
            if rc:
                print(f"{name}: import failed (exit {rc})")
                return 1
        paths.set_root(root)
        for name in args.fixtures:
            macs = artifact.load(paths.qmodel_path(name))["macs"]
            for board in ("stm32f4-qemu",) + (("fpga-sim",) if name in FPGA else ()):
                r = run_on(board, name)
                r["macs"] = macs
                rows.append(r)
                per = r["per_inference"]
                mem = (f"; flash {r['flash']:,} B, SRAM {r['sram']:,} B, CCM {r['ccm']:,} B"
                       if r["flash"] is not None else "")
                print(f"{name} on {board}: {r['vectors']} vectors; device vs TFLM {r['device_vs_tflm']} differ, "
                      f"intsim vs TFLM {r['intsim_vs_tflm']} differ, device vs intsim {r['device_vs_intsim']} "
                      f"differ; {per:,.0f} {r['unit']} per inference ({per / macs:.3f} per MAC){mem}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    bad = [r for r in rows if r["device_vs_tflm"] or r["intsim_vs_tflm"] or r["device_vs_intsim"] or r["failed"]
           or r["aborted"] or r["tflm_vectors"] != r["vectors"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
