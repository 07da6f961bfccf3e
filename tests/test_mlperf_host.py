"""The MLPerf Tiny host side without a twin: the device's %.3f printer against Python's, reading
printed values back into integers (and catching every wrong one), the one-line errors of a device
that does not answer, the lab config of an MLPerf board, the generated C table."""
import shutil
import socket
import subprocess
import threading

import numpy as np
import pytest

from golden import artifact
from golden.paths import qmodel_path
from hil import device_lib
from hil.boards import BoardOptions, board_class
from hil.errors import BoardError, LinkTimeout
from hil.lab_config import BoardConfig
from hil.link import SerialLink
from hil.mlperf import gen_c
from hil.mlperf.client import MlperfClient, MlperfNoAnswer
from hil.mlperf.dut import NOT_PRINTED, parse_outputs
from hil.mlperf.tasks import OutputFormat

FORMAT_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "hil_mlperf.h"
int main(void) {
    unsigned bits;
    char buf[32];
    while (scanf("%x", &bits) == 1) {
        float v;
        memcpy(&v, &bits, sizeof v);
        hil_mlperf_format_milli(buf, v);
        puts(buf);
    }
    return 0;
}
"""


def _floats() -> np.ndarray:
    """Every printed value of the built-in models, exact ties, signs, tiny and large values, random bits."""
    vals = []
    for m in ("kws_dscnn", "mnist_lenet", "sine_mlp", "resnet8"):
        vals.append(OutputFormat.of(artifact.load(qmodel_path(m))).values(np.arange(-128, 128)))
    ties = np.array([0.0625, -0.0625, 0.5, 1.0625, 2.5e-4, 0.0005, -0.0, 0.0, 1e-45, 3.4e38 / 1e23, 123456.789,
                     -0.0004, 0.9995, 0.0015, 8.0e15], dtype=np.float32)
    rng = np.random.default_rng(20)
    bits = rng.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32)
    rand = bits.view(np.float32)
    rand = rand[np.isfinite(rand) & (np.abs(rand) < 1e15)]
    scaled = (rng.integers(-2**20, 2**20, 5000) / 2.0**rng.integers(0, 14, 5000)).astype(np.float32)
    return np.concatenate(vals + [ties, rand, scaled]).astype(np.float32)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")
def test_device_prints_like_python(tmp_path):
    """hil_mlperf_format_milli is %.3f correctly rounded: every value prints as Python prints it."""
    src = tmp_path / "fmt.c"
    src.write_text(FORMAT_MAIN)
    exe = tmp_path / "fmt"
    subprocess.run(["gcc", "-std=c99", "-O1", f"-I{device_lib.INCLUDE_DIR}", str(src),
                    *map(str, device_lib.SOURCES), "-o", str(exe)], check=True)
    vals = _floats()
    out = subprocess.run([str(exe)], input="\n".join(f"{b:x}" for b in vals.view(np.uint32)), capture_output=True,
                         text=True, check=True).stdout.split()
    want = ["%.3f" % float(v) for v in vals]
    bad = [(float(v), o, w) for v, o, w in zip(vals, out, want) if o != w]
    assert len(out) == len(vals) and not bad, bad[:5]


def test_printed_values_read_back_and_wrong_ones_are_caught():
    fmt = OutputFormat.of(artifact.load(qmodel_path("kws_dscnn")))
    q = np.array([-128, -3, 0, 35, 36, 127])
    texts = fmt.text(q)
    assert parse_outputs(fmt, texts).tolist() == q.tolist()
    off_by_digit = texts[:3] + [texts[3][:-1] + str((int(texts[3][-1]) + 1) % 10)] + texts[4:]
    assert parse_outputs(fmt, off_by_digit)[3] == NOT_PRINTED          # no int8 prints so: a mismatch
    assert parse_outputs(fmt, texts[:1] + ["nan", "1e3", ""] + texts[4:])[1:4].tolist() == [NOT_PRINTED] * 3
    assert parse_outputs(fmt, fmt.text([1, 2]))[0] == 1                 # another integer: a mismatch too


def test_equal_text_proves_equal_int8_only_above_a_thousandth():
    for m in ("kws_dscnn", "mnist_lenet", "sine_mlp"):
        assert OutputFormat.of(artifact.load(qmodel_path(m))).inverse() is not None, m
    tiny = OutputFormat(np.float32(0.0009), 0, "int8")
    assert tiny.inverse() is None


def test_silent_device_is_one_line_naming_port_baud_and_command():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    conns = []
    t = threading.Thread(target=lambda: conns.append(srv.accept()[0]), daemon=True)
    t.start()
    link = SerialLink(f"socket://127.0.0.1:{port}", 115200, board="mlperf-tiny")
    try:
        client = MlperfClient(link, timeout=0.3)
        with pytest.raises(MlperfNoAnswer) as e:
            client.name()
        msg = str(e.value)
        assert "\n" not in msg and f"socket://127.0.0.1:{port}" in msg and "115200 baud" in msg and "'name'%" in msg
        assert isinstance(e.value, LinkTimeout) and client.stats.name_retries == 3
    finally:
        link.close()
        srv.close()


def test_lab_config_of_an_mlperf_board():
    b = board_class("mlperf-tiny")(BoardOptions(models=["kws_dscnn"], config=BoardConfig()))
    with pytest.raises(BoardError, match=r"give `port` \(or `usb"):
        b.deploy()
    b = board_class("mlperf-tiny")(BoardOptions(config=BoardConfig(usb="zz:1")))
    with pytest.raises(BoardError, match="VID:PID in hex"):
        b.deploy()
    b = board_class("mlperf-tiny")(BoardOptions(config=BoardConfig(usb="dead:beef")))
    with pytest.raises(BoardError, match="0 serial ports with USB dead:beef"):
        b.deploy()
    b = board_class("mlperf-tiny")(BoardOptions(models=["mnist_lenet"],
                                                config=BoardConfig(port="socket://x:1", baud=921600,
                                                                   model="kws_dscnn")))
    assert (b.deploy(), b.baudrate(), b.served_model()) == ("socket://x:1", 921600, "kws_dscnn")


def test_generated_table_and_bad_names(tmp_path):
    out = tmp_path / "t.c"
    assert gen_c.write(["kws_dscnn", "mnist_lenet"], out) and not gen_c.write(["kws_dscnn", "mnist_lenet"], out)
    text = out.read_text()
    assert '{"kws_dscnn", "kws01", ' in text and '{"mnist_lenet", "ic01", ' in text
    doc = artifact.load(qmodel_path("kws_dscnn"))
    # a hostile name goes in as data (an escaped literal, equal to the model table's), never as code
    text = gen_c.render([dict(doc, model='x"; evil(); "/*')])
    assert '{"x\\042; evil(); \\042\\057\\052", ' in text and text.count("*/") == 2   # header + the row's


def test_anomaly_auc_against_every_pair():
    from hil.errors import InputError
    from hil.mlperf.auc import anomaly_auc
    rng = np.random.default_rng(7)
    scores = np.round(rng.normal(size=200), 1)               # rounded: many ties
    labels = rng.integers(0, 2, 200)
    pairs = [(a > b) + 0.5 * (a == b) for a in scores[labels == 1] for b in scores[labels == 0]]
    assert anomaly_auc(scores, labels) == pytest.approx(np.mean(pairs), abs=1e-12)
    assert anomaly_auc([0.1, 0.9], [0, 1]) == 1.0 and anomaly_auc([0.9, 0.1], [0, 1]) == 0.0
    with pytest.raises(InputError, match="anomalous and normal"):
        anomaly_auc([1.0, 2.0], [1, 1])


def test_performance_mode_score_is_the_median_window():
    from hil.mlperf.dut import Performance
    p = Performance("kws_dscnn", 70, 10, [1_400_000, 1_578_302, 1_600_000, 2_000_000, 1_500_000])
    assert p.median_throughput == pytest.approx(70 / 1.578302)
    assert p.median_latency_us == pytest.approx(1_578_302 / 70)
    assert p.to_json()["windows"] == 5
