"""Conformance of hil's firmware to the MLPerf Tiny (EEMBC) text protocol, on both twins
(stm32f4-qemu and fpga-sim), in the same image and on the same connection as hil's binary protocol.

The regular expressions are the MLPerf Tiny runner's own (mlcommons/tiny benchmark/runner), written
out here again so the device is held to them, not to hil's client. Each twin serves its image's
first model in text mode: mnist_lenet on the QEMU twin (default image), kws_dscnn_fpga on fpga-sim.
"""
import re
import shutil
import time

import numpy as np
import pytest

from golden import artifact, bundle
from golden.paths import artifact_dir, qmodel_path
from hil.boards import BoardOptions, board_class
from hil.mlperf.tasks import OutputFormat
from hil.targets.hls.build import ap_types_dir

NAME = re.compile(r"^m-(name)-dut-\[([^]]+)]$")             # runner: the DUT's name
MODEL = re.compile(r"^m-(model|profile)-\[([^]]+)]$")        # runner: task and profile
LAP = re.compile(r"^m-lap-us-([0-9]+)$")
RESULTS = re.compile(r"^m-results-\[([^]]+)]$")
EXPECTING = re.compile(r"^m-\[Expecting ([0-9]+) bytes]$")
ERROR = re.compile(r"^e-\[[^]]*]$")
VALUE = re.compile(r"^-?[0-9]+\.[0-9]{3}$")                  # %.3f

TWINS = {
    "stm32f4-qemu": (["mnist_lenet", "kws_dscnn", "sine_mlp"], "ic01"),
    "fpga-sim": (["kws_dscnn_fpga", "mnist_lenet"], "kws01"),
}


def _available(name: str) -> str | None:
    if name == "stm32f4-qemu" and not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        return "qemu-system-arm / arm-none-eabi-gcc not installed"
    if name == "fpga-sim" and (ap_types_dir() is None or shutil.which("g++") is None):
        return "ap_int headers or g++ not installed"
    return None


@pytest.fixture(scope="module", params=sorted(TWINS))
def twin(request):
    why = _available(request.param)
    if why:
        pytest.skip(why)
    models, _ = TWINS[request.param]
    b = board_class(request.param)(BoardOptions(models=models, timeout=10))
    b.open()                   # the binary protocol first: PING, INFO, MODEL_INFO on this connection
    yield b
    b.close()


class Text:
    """Raw text commands on the twin's link: every line up to m-ready."""

    def __init__(self, board):
        self.link = board.link
        self.buf = b""

    def __call__(self, cmd: str | bytes, timeout: float = 20.0) -> list[str]:
        self.link.write(cmd if isinstance(cmd, bytes) else cmd.encode() + b"%")
        lines, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\n" in self.buf:
                raw, self.buf = self.buf.split(b"\n", 1)
                assert raw.endswith(b"\r"), f"line not ended CR LF: {raw!r}"
                line = raw[:-1].decode("ascii")
                assert line.startswith(("m-", "e-")), line
                if line == "m-ready":
                    return lines
                lines.append(line)
            self.buf += self.link.read_some()
        raise AssertionError(f"no m-ready after {cmd!r}: {lines}")


def _vector(model: str, i: int = 0):
    b = bundle.read(artifact_dir(model))
    fmt = OutputFormat.of(artifact.load(qmodel_path(model)))
    return b.inputs[i].astype(np.int8).tobytes(), fmt.text(b.int_logits[i])


def _load(text: Text, data: bytes) -> None:
    assert EXPECTING.match(text(f"db load {len(data)}")[0]).group(1) == str(len(data))
    for off in range(0, len(data), 31):                     # the runner's 31 bytes per db line
        out = text("db " + data[off:off + 31].hex())
        assert out == (["m-load-done"] if off + 31 >= len(data) else [])


def test_transcript_every_command(twin):
    text = Text(twin)
    models, task = TWINS[twin.name]
    name = text("name")
    assert len(name) == 1 and NAME.match(name[0]) and "(emulated)" in name[0]
    prof = {m.group(1): m.group(2) for m in map(MODEL.match, text("profile")) if m}
    assert prof["model"] == task and models[0] in prof["profile"] and "emulated" in prof["profile"]
    helps = text("help")
    assert helps and all(h.startswith("m-") for h in helps)
    for cmd in ("name", "profile", "db", "infer", "results", "timestamp"):
        assert any(cmd in h for h in helps), cmd

    data, expected = _vector(models[0], 0)
    _load(text, data)
    shown = text("db print 16 8")
    assert shown == [f"m-buffer-[{data[8:24].hex()}]"]
    t_before = int(LAP.match(text("timestamp")[0]).group(1))

    out = text("infer 1 0")                                 # accuracy mode, as the runner sends it
    assert out[:3] == ["m-warmup-start-0", "m-warmup-done", "m-infer-start-1"]
    t0, t1 = (int(LAP.match(L).group(1)) for L in out[3:5])
    assert out[5] == "m-infer-done" and RESULTS.match(out[6]) and len(out) == 7
    values = RESULTS.match(out[6]).group(1).split(",")
    assert all(VALUE.match(v) for v in values)
    assert values == expected                               # the integer simulator, printed the same way
    assert t_before == t0 < t1

    out = text("infer 3 2")                                 # performance-mode shape: N and W
    assert out[0] == "m-warmup-start-2" and out[2] == "m-infer-start-3"
    u0, u1 = (int(LAP.match(L).group(1)) for L in out[3:5])
    assert u0 > t1 and abs((u1 - u0) - 3 * (t1 - t0)) <= 3  # deterministic twins: 3 runs = 3 x one run (us)
    assert RESULTS.match(out[-1]).group(1).split(",") == expected
    assert text("results") == [out[-1]]
    assert int(LAP.match(text("timestamp")[0]).group(1)) == u1


def test_errors_then_still_usable(twin):
    text = Text(twin)
    twin.device.sync()          # a binary PING on the same connection ends any text load
    models, _ = TWINS[twin.name]

    def error(cmd) -> str:
        out = text(cmd)
        assert len(out) == 1 and ERROR.match(out[0]), (cmd, out)
        return out[0]

    assert error("bogus").startswith("e-[Unknown command: bogus")
    assert error("x[1]") == "e-[Unknown command: x?1?]"   # no bracket inside e-[...]
    assert "80" in error("name " + "x" * 80)                # over the 80-character buffer
    assert "db load" in error("db 0011")                    # db before db load
    assert "nothing loaded" in error("infer 1 0")           # infer with nothing loaded
    assert EXPECTING.match(text("db load 4")[0])
    assert "hex" in error("db 0g")                          # bad hex
    assert "hex" in error("db 001")                         # odd digit count
    assert "too many" in error("db 0011223344")             # 5 bytes into 4
    assert "not complete" in error("infer 1 0")             # 0 of 4 bytes
    assert text("db 00112233") == ["m-load-done"]
    assert "bytes" in error("infer 1 0")                    # 4 bytes, the model takes more
    error("infer 0 1")
    error("db load 99999999")

    assert NAME.match(text("name")[0])                      # still usable: a whole accuracy run
    data, expected = _vector(models[0], 1)
    _load(text, data)
    assert RESULTS.match(text("infer 1 0")[-1]).group(1).split(",") == expected
    assert twin.device.info().board                         # and the binary protocol after text


def test_lap_is_the_hil_count_at_the_nominal_clock(twin):
    """m-lap-us- is the same counter hil reads in binary (instructions / modelled cycles), in us."""
    text = Text(twin)
    models, _ = TWINS[twin.name]
    data, _ = _vector(models[0], 2)
    dm = twin.info.model(models[0])
    count = twin.device.run(dm, np.frombuffer(data, np.int8).reshape(dm.in_shape)).total_sum
    _load(text, data)
    out = text("infer 1 0")
    t0, t1 = (int(LAP.match(L).group(1)) for L in out[3:5])
    assert abs((t1 - t0) - count * 1e6 / twin.info.clock_hz) <= 1


def test_half_line_left_by_an_earlier_session_is_flushed(twin):
    """An earlier session stopped reading mid-answer: hil's client drops the rest and finds the DUT."""
    from hil.mlperf.client import MlperfClient
    twin.link.write(b"help%")
    deadline = time.monotonic() + 10
    got = b""
    while len(got) < 10 and time.monotonic() < deadline:
        got += twin.link.read_some()
    client = MlperfClient(twin.link, timeout=10, board=twin.name)
    client.flush()
    assert client.stats.flushed_bytes > 0
    assert "(emulated)" in client.name()
    assert client.profile()[1] == TWINS[twin.name][1]


@pytest.fixture(scope="module")
def qemu_url():
    """The default QEMU image started as a lab would start any MLPerf device: only its socket is used."""
    why = _available("stm32f4-qemu")
    if why:
        pytest.skip(why)
    twin = board_class("stm32f4-qemu")(BoardOptions(models=TWINS["stm32f4-qemu"][0]))
    try:
        twin.build()
        yield twin.deploy()
    finally:
        twin.stop()


def test_mlperf_tiny_board_from_a_lab_config_url(qemu_url):
    """`mlperf-tiny` with `port = "socket://..."`: the runner's accuracy pass, judged and recorded like any run."""
    from hil.errors import BoardError
    from hil.lab_config import BoardConfig
    from hil.runner import run_model
    cfg = BoardConfig(port=qemu_url, model="kws_dscnn")
    with pytest.raises(BoardError, match="runs task ic01.*'kws_dscnn' is kws01"):
        board_class("mlperf-tiny")(BoardOptions(models=["kws_dscnn"], config=cfg)).open()
    cfg = BoardConfig(port=qemu_url, model="mnist_lenet")
    with board_class("mlperf-tiny")(BoardOptions(models=["mnist_lenet"], config=cfg, timeout=10)) as b:
        assert b.info.counter == "lap_us" and "(emulated)" in b.info.board
        doc = run_model(b, "mnist_lenet", vectors=4).to_json()
    assert (doc["vectors"], doc["int_mismatches"], doc["unit"]) == (4, 0, "microseconds")
    assert 2000 < doc["microseconds"] < 10000          # mnist_lenet: about 0.5 M instructions at 168 MHz


def test_tflite_model_judged_against_tflm_over_text(tmp_path, monkeypatch):
    """A `.tflite` imported into a tmp artifacts root, served by the QEMU twin in text only: its
    printed outputs are held to TFLite Micro's (hil/mlperf/reference.py), a few vectors."""
    why = _available("stm32f4-qemu")
    if why:
        pytest.skip(why)
    import json
    from pathlib import Path

    from hil.cli import main
    from hil.errors import BoardError
    from hil.mlperf.dut import NOT_PRINTED
    from hil.mlperf.reference import TFLM, check_reference, printed_mismatches, reference_outputs
    data = Path(__file__).parent / "data" / "tflite"
    monkeypatch.setenv("HIL_ARTIFACTS", "")
    monkeypatch.delenv("HIL_ARTIFACTS")
    monkeypatch.chdir(tmp_path)
    assert main(["golden", "build", "--tflite", str(data / "flatten_fc_tfl.tflite"), "--name", "lab_fc",
                 "--data", str(data / "flatten_fc_tfl.npz"), "--artifacts", "art"]) == 0
    assert main(["run", "--board", "mlperf-qemu", "--model", "lab_fc", "--artifacts", "art", "--vectors", "3",
                 "--json", "r.json", "--no-db"]) == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["counter"] == "lap_us" and doc["int_mismatches"] == 0
    assert doc["tflm"]["vectors"] == 3 and doc["tflm"]["device_mismatches"] == 0
    assert all(v["tflm_match"] for v in doc["per_vector"])
    # the printed comparison itself: TFLM's outputs print as themselves, one step off does not
    monkeypatch.setenv("HIL_ARTIFACTS", str(tmp_path / "art"))
    assert check_reference("lab_fc") == TFLM
    qdoc = artifact.load(qmodel_path("lab_fc"))
    ref = reference_outputs("lab_fc", bundle.read(artifact_dir("lab_fc")).inputs[:3])
    fmt = OutputFormat.of(qdoc)
    off = ref.astype(np.int64).copy()
    off[1, 0] += 1 if off[1, 0] < 127 else -1
    unprinted = ref.astype(np.int64).copy()
    unprinted[2, -1] = NOT_PRINTED
    assert printed_mismatches(fmt, ref, ref).tolist() == [False] * 3
    assert printed_mismatches(fmt, off, ref).tolist() == [False, True, False]
    assert printed_mismatches(fmt, unprinted, ref).tolist() == [False, False, True]
    # the imported file changed: refused in one line, never judged against another reference
    (tmp_path / "art" / "lab_fc" / qdoc["source"]["file"]).write_bytes(b"not the model")
    from hil import tflm_check
    tflm_check._reference.cache_clear()
    with pytest.raises(BoardError, match="sha256 differs") as e:
        check_reference("lab_fc")
    assert "\n" not in str(e.value)
