"""Lab config records for a farm: board units for parallel workers, labgrid
places, the nightly table; each mistake a one-line ConfigError naming the key."""
import subprocess
import sys

import pytest

from hil import lab_config
from hil.errors import BoardError, ConfigError
from hil.workers import hold_exclusive

FARM = """
[boards.stm32f4]
baud = 921600
[[boards.stm32f4.units]]
probe_uid = "066DFF485550755187121723"
[[boards.stm32f4.units]]
probe_uid = "0670FF495051717867221842"
clock_hz = 180000000

[boards.labgrid]
coordinator = "labhost:20408"
tags = { board = "stm32f4" }
wait = 60
[boards.labgrid.places.bench-3]
board = "stm32f4"
probe_uid = "066DFF485550755187121723"

[nightly]
vectors = 200
[[nightly.run]]
board = "labgrid"
models = ["mnist_lenet", "sine_mlp"]
[[nightly.run]]
board = "fpga-sim"
"""


def test_farm_config_is_typed():
    cfg = lab_config.parse(FARM)
    st = cfg.board("stm32f4")
    assert len(st.units) == 2
    w1 = st.for_worker(1, 2, "stm32f4")
    assert (w1.probe_uid, w1.clock_hz, w1.baud, w1.units) == ("0670FF495051717867221842", 180000000, 921600, ())
    assert st.for_worker(0, 2, "stm32f4").probe_uid == "066DFF485550755187121723"
    lg = cfg.board("labgrid")
    assert lg.coordinator == "labhost:20408" and lg.tags == {"board": "stm32f4"} and lg.wait == 60.0
    assert lg.place_config("bench-3").probe_uid == "066DFF485550755187121723"
    assert lg.place_config("elsewhere").probe_uid is None
    assert cfg.nightly.vectors == 200 and cfg.nightly.report is None
    assert cfg.nightly.run == (lab_config.NightlyRun("labgrid", ("mnist_lenet", "sine_mlp")),
                               lab_config.NightlyRun("fpga-sim", None))
    assert cfg.board("stm32f4-qemu").for_worker(3, 4) == lab_config.BoardConfig()   # emulated: no units needed


def test_more_workers_than_units_is_a_clear_error():
    st = lab_config.parse(FARM).board("stm32f4")
    with pytest.raises(ConfigError, match=r"4 parallel workers need 4 units of board 'stm32f4'.*has 2"):
        st.for_worker(0, 4, "stm32f4")


@pytest.mark.parametrize("text, message", [
    ('[[boards.stm32f4.units]]\nprobe_id = "x"\n', r"boards.stm32f4.units\[0\]: unknown key\(s\) probe_id"),
    ('[boards.stm32f4]\nunits = "x"\n', r"boards.stm32f4.units: expected \[\[boards"),
    ('[boards.labgrid]\ntags = { board = 4 }\n', r"boards.labgrid.tags: expected a table of strings"),
    ('[boards.labgrid.places.b1]\nprobe = "x"\n', r"boards.labgrid.places.b1: unknown key\(s\) probe;"),
    ('[boards.labgrid.places.b1]\nclock_hz = "fast"\n', r"places.b1.clock_hz: expected an integer"),
    ('[[nightly.run]]\nboard = "sim"\nmodels = ["resnet_nope"]\n',
     r"nightly.run\[0\].models: no quantized artifact for resnet_nope; built: "),
    ('[[nightly.run]]\nmodels = ["sine_mlp"]\n', r"nightly.run\[0\]: needs board = "),
    ('[nightly]\nvector = 3\n', r"nightly: unknown key\(s\) vector"),
    ('nightly = 3\n', r"nightly: expected a \[nightly\] table"),
    ('[nightly]\nrun = 3\n', r"nightly.run: expected \[\[nightly.run\]\] tables"),
])
def test_farm_mistakes_name_the_key(text, message):
    with pytest.raises(ConfigError, match=message):
        lab_config.parse(text)


def test_a_probe_is_held_by_one_session_at_a_time(tmp_path):
    held = hold_exclusive("probe-TESTUID-labfarm", "stm32f4: probe TESTUID")
    try:
        other = subprocess.run([sys.executable, "-c", "from hil.workers import hold_exclusive\n"
                                "hold_exclusive('probe-TESTUID-labfarm', 'stm32f4: probe TESTUID')"],
                               capture_output=True, text=True)
        assert other.returncode != 0 and "in use by another hil session" in other.stderr
        with pytest.raises(BoardError, match="probe TESTUID is in use"):
            hold_exclusive("probe-TESTUID-labfarm", "stm32f4: probe TESTUID")   # also within one process
    finally:
        held.close()
    hold_exclusive("probe-TESTUID-labfarm", "x").close()        # free again once closed


def test_the_places_probe_uid_reaches_pyocd_on_the_exporter():
    from types import SimpleNamespace

    from hil.boards import BoardOptions
    from hil.boards.labgrid_place import LabgridPlaceBoard
    from hil.boards.stm32_disc1 import Stm32Disc1Board
    cfg = lab_config.parse(FARM).board("labgrid")
    b = LabgridPlaceBoard(BoardOptions(config=cfg))
    b.inner, b.lock = Stm32Disc1Board(b.options), SimpleNamespace(place="bench-3")
    assert b.flash_command("/var/cache/labgrid/u/abc/hil_fw.elf") == [
        "pyocd", "flash", "--target", "stm32f429xi", "--uid", "066DFF485550755187121723",
        "--format", "elf", "/var/cache/labgrid/u/abc/hil_fw.elf"]
    b.lock = SimpleNamespace(place="bench-9")       # no probe_uid anywhere for this place
    with pytest.raises(BoardError, match=r"needs its probe_uid in \[boards.labgrid.places.bench-9\]"):
        b.flash_command("x.elf")
