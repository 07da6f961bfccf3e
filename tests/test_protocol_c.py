"""The device library's C frame layer (hil/device_lib/src/hil_frame.c, built with the host gcc under
AddressSanitizer + UBSan) gives the Python codec's results, bit for bit."""

import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hil import device_lib
from hil.protocol import codec, gen_c, spec
from hil.protocol.codec import Frame, FrameDecoder
from hil.protocol.vectors import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "protocol_frames.json").read_text())["cases"]
LIB_SOURCES = [device_lib.ROOT / "src" / "hil_frame.c", device_lib.ROOT / "src" / "hil_device.c",
               device_lib.ROOT / "src" / "hil_mlperf.c"]
SOURCES = [LIB_SOURCES[0], ROOT / "tests" / "c" / "frame_vectors_main.c"]
INCLUDE = device_lib.INCLUDE_DIR
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow", "-Werror"]


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """Path of the test driver, built with AddressSanitizer and UBSan: any memory or UB error aborts it."""
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc: install build-essential to test the C frame layer")
    exe = tmp_path_factory.mktemp("cframe") / "frame_vectors"
    subprocess.run(["gcc", "-O1", "-g", *SANITIZE, f"-I{INCLUDE}", *map(str, SOURCES), "-o", str(exe)], check=True)
    return exe


def run_driver(driver, tmp_path, commands):
    """Run command lines through the driver; returns {name: [output lines]}."""
    script = tmp_path / "commands.txt"
    script.write_text("\n".join(commands) + "\n")
    proc = subprocess.run([str(driver), str(script)], capture_output=True, text=True, check=True)
    out = {}
    for line in proc.stdout.splitlines():
        kind, name, *rest = line.split(" ")
        out.setdefault(name, []).append((kind, *rest))
    return out


def c_events(lines):
    """Driver D output in the vectors' event shape."""
    assert lines[-1] == ("END",)
    events = []
    for kind, *rest in lines[:-1]:
        if kind == "F":
            version, type_, seq, payload = rest
            events.append({"frame": {"version": int(version), "type": int(type_), "seq": int(seq),
                                     "payload": "" if payload == "-" else payload}})
        else:
            code = int(rest[0])
            events.append({"error": codec.ERROR_NAMES[code], "code": code})
    return events


def py_events(stream: bytes):
    return [{"frame": {"version": e.version, "type": e.type, "seq": e.seq, "payload": e.payload.hex()}}
            if isinstance(e, Frame) else {"error": e.name, "code": e.code} for e in FrameDecoder().feed(stream)]


def hexarg(data: bytes) -> str:
    return data.hex() or "-"


def test_c_decoder_matches_every_vector(driver, tmp_path):
    out = run_driver(driver, tmp_path, [f"D {c['name']} {c['stream'] or '-'}" for c in VECTORS])
    for case in VECTORS:
        expected = [{"frame": e["frame"]} if "frame" in e else {"error": e["error"], "code": e["code"]}
                    for e in case["expect"]]
        assert c_events(out[case["name"]]) == expected, case["name"]


def test_c_encoder_matches_python(driver, tmp_path):
    cases = [c for c in VECTORS if c["roundtrip"] and c["expect"][0]["frame"]["version"] == spec.PROTOCOL_VERSION]
    commands = [f"E {c['name']} {c['expect'][0]['frame']['type']} {c['expect'][0]['frame']['seq']} "
                f"{c['expect'][0]['frame']['payload'] or '-'}" for c in cases]
    commands.append(f"E too_long 1 0 {bytes(spec.MAX_PAYLOAD + 1).hex()}")
    err = SAMPLES["ERROR"]
    commands.append(f"R error 513 {err['code']} {err['request_type']} {err['detail']}")
    commands.append("C check " + b"123456789".hex())
    out = run_driver(driver, tmp_path, commands)
    for case in cases:
        assert out[case["name"]] == [("E", case["stream"])], case["name"]
    assert out["too_long"] == [("E", "FAIL")]
    assert out["error"] == [("R", codec.encode_message("ERROR", 513, **err).hex())]
    assert out["check"] == [("C", str(spec.CRC["check"]))]


def random_stream(rng: random.Random) -> bytes:
    """Frames, garbage, truncations and corruptions in random order: what a bad UART gives."""
    parts = []
    for _ in range(rng.randrange(1, 8)):
        payload = bytes(rng.choice((0, 0xA5, rng.randrange(256))) for _ in range(rng.randrange(spec.MAX_PAYLOAD + 40)))
        wire = codec.encode_frame(rng.randrange(256), rng.randrange(0x10000), payload[:spec.MAX_PAYLOAD])[:-1]
        kind = rng.randrange(6)
        if kind == 0:
            wire = bytes(rng.randrange(256) for _ in range(rng.randrange(700)))
        elif kind == 1:
            wire = wire[:rng.randrange(len(wire))]
        elif kind == 2 and wire:
            damaged = bytearray(wire)
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
            wire = bytes(damaged)
        elif kind == 3:
            raw = codec.crc16(payload).to_bytes(2, "little") + payload  # not even a header: any length
            wire = codec.cobs_encode(raw)
        parts.append(wire)
        parts.append(b"\x00" if rng.random() < 0.85 else b"")
    return b"".join(parts)


def test_c_decoder_matches_python_on_random_streams(driver, tmp_path):
    rng = random.Random(20240607)
    streams = {f"r{i}": random_stream(rng) for i in range(300)}
    out = run_driver(driver, tmp_path, [f"D {name} {hexarg(s)}" for name, s in streams.items()])
    for name, stream in streams.items():
        assert c_events(out[name]) == py_events(stream), name


def test_c_decoder_on_all_vectors_in_one_stream(driver, tmp_path):
    stream = b"".join(bytes.fromhex(c["stream"]) for c in VECTORS)
    out = run_driver(driver, tmp_path, [f"D all {hexarg(stream)}"])
    assert c_events(out["all"]) == py_events(stream)


def test_c_crc_matches_python(driver, tmp_path):
    rng = random.Random(7)
    blobs = {f"c{i}": bytes(rng.randrange(256) for _ in range(rng.randrange(600))) for i in range(50)}
    out = run_driver(driver, tmp_path, [f"C {name} {hexarg(b)}" for name, b in blobs.items()])
    for name, blob in blobs.items():
        assert out[name] == [("C", str(codec.crc16(blob)))]


@pytest.mark.parametrize("compiler,flags", [("gcc", STRICT), ("g++", ["-x", "c++", "-std=c++11", "-Wall", "-Wextra",
                                                                        "-Wpedantic", "-Werror"])])
def test_device_library_compiles_warning_free(compiler, flags, tmp_path):
    """Both library files build with strict flags, and also as C++ (a lab's firmware may be C++)."""
    if shutil.which(compiler) is None:
        pytest.skip(f"no {compiler} on this machine")
    for src in LIB_SOURCES:
        subprocess.run([compiler, *flags, f"-I{INCLUDE}", "-c", str(src), "-o", str(tmp_path / "lib.o")], check=True)


def test_generated_files_are_not_stale():
    stale = [str(p.relative_to(ROOT)) for p in gen_c.stale_files()]
    assert not stale, f"regenerate with: python -m hil.protocol.gen_c ({stale})"
    proc = subprocess.run([sys.executable, "-m", "hil.protocol.gen_c", "--check"], cwd=ROOT)
    assert proc.returncode == 0


def test_header_carries_spec_hash():
    from hil.protocol.spec_hash import spec_hash
    header = gen_c.HEADER_PATH.read_text()
    assert f'#define HIL_SPEC_HASH                        "{spec_hash()}"' in header
    assert spec_hash() in gen_c.TABLES_PATH.read_text()
    assert spec_hash() in json.loads((ROOT / "tests" / "vectors" / "protocol_frames.json").read_text())["spec_hash"]


def test_limits_quoted_in_prose_match_the_header():
    header = gen_c.HEADER_PATH.read_text()
    quoted = re.findall(r"(\d+) bytes \(`(HIL_\w+_TAIL_MAX)`\)", (ROOT / "docs" / "protocol.md").read_text())
    assert len(quoted) == 3
    for value, name in quoted:
        assert re.search(rf"#define {name} +{value}u", header), f"docs/protocol.md quotes {name} = {value}"
