"""The modelled HLS cycle counts (hil/targets/hls/cycles.py): hand-computed small cases,
the committed seed-001 model against its 768-cycle pointwise target, and the
csynth report parser + calibration on hand-written sample reports (tests/data)."""
from pathlib import Path

import pytest

from hil.errors import CodegenError

from golden import artifact
from golden.build import qmodel_path
from hil.targets.hls import cycles as hc, design as hd

DATA = Path(__file__).parent / "data"


def tiny_doc() -> dict:
    """input 1x4x4 -> conv 2@3x3 pad 1 (>>2, ReLU) -> global max pool -> fc 2->3 + bias."""
    return {
        "model": "tiny", "hash": "sha256:" + "0" * 64, "scheme": "shift", "input": {"shape": [1, 4, 4]},
        "layers": [
            dict(name="conv", op="conv2d", in_shape=[1, 4, 4], out_shape=[2, 4, 4], kernel=[3, 3], stride=[1, 1],
                 padding=[1, 1], weights_shape=[2, 1, 3, 3], weights=[1] * 18, bias=None, rshift=2, relu=True,
                 macs=288),
            dict(name="pool", op="maxpool2d", **{"global": True}, in_shape=[2, 4, 4], out_shape=[2, 1, 1],
                 kernel=[4, 4], stride=[4, 4], padding=[0, 0], macs=0),
            dict(name="fc", op="fully_connected", in_shape=[2, 1, 1], out_shape=[3], weights_shape=[3, 2],
                 weights=[1] * 6, bias=[1, 2, 3], rshift=0, relu=False, macs=6),
        ],
    }


def test_loop_latency_is_trip_minus_one_times_ii_plus_depth():
    assert hd.Loop("L", 10, 1, 5).latency == 14
    assert hd.Loop("L", 4, 2, 3).latency == 3 * 2 + 3
    assert hd.Loop("L", 1, 1, 7).latency == 7
    assert hd.Loop("L", 0, 1, 7).latency == 0
    assert [hc.levels(n) for n in (1, 2, 3, 9, 16, 17)] == [0, 1, 2, 4, 4, 5]


def test_matvec_parallelism_balances_against_the_slowest_convolution():
    assert hd.matvec_parallel(48, 16, 4416) == 1        # seed 001 pointwise: 1 MAC/cycle
    assert hd.matvec_parallel(392, 32, 3136) == 4       # mnist fc1 no slower than conv1
    assert hd.matvec_parallel(3840, 6, 7680) == 3
    assert hd.matvec_parallel(2, 3, 0) == 3             # no convolution: fully parallel


def test_tiny_model_by_hand():
    plan = hd.plan_model(tiny_doc())
    load, conv, pool, fc = plan.stages
    # LOAD_IN: 16 x II 1, depth read 2 + write 1 = 3 -> 15 + 3, + 1 process overhead
    assert (load.loops[0].trip, load.loops[0].depth, load.latency) == (16, 3, 19)
    # CONV_PIX: 2*4*4 = 32 pixels; depth read 2 + mul 1 + tree(9 taps) 4 + shift/ReLU 1 + write 1 = 9
    assert (conv.loops[0].label, conv.loops[0].trip, conv.loops[0].depth) == ("CONV_PIX", 32, 9)
    assert conv.latency == 1 + 31 + 9 == 41
    assert (conv.in_edge, conv.start, conv.end, conv.count) == ("pipo", 19, 60, 41)
    # GPOOL_IN reads a FIFO: starts when the conv's first pixel is out (19 + 1 + 9), tail = depth 3
    assert pool.in_edge == "fifo" and pool.latency == 1 + 31 + 3 == 35
    assert (pool.start, pool.end, pool.count) == (29, max(29 + 35, 60 + 3), 64 - 60)
    # fc 2->3: P = 1, FC_MAC 6 x (read 2 + mul 1 + add 1) -> 9; FC_OUT 3 x (reg 1 + bias 1 + write 1) -> 5
    assert (fc.parallel, fc.groups) == (1, 3)
    assert [lp.latency for lp in fc.loops] == [5 + 4, 2 + 3] and fc.latency == 15
    # starts at the first pooled value (29 + 1 + 15 + 3 = 48); tail = (3-1) + 4 + 5 = 11 after the pool ends
    assert (fc.start, fc.tail, fc.end, fc.count) == (48, 11, max(48 + 15, 64 + 11), 11)
    assert plan.total == 75 == load.count + conv.count + pool.count + fc.count
    assert plan.interval == 41
    assert plan.latency_us() == pytest.approx(0.75)            # 75 cycles at 100 MHz
    assert (pool.fifo_depth, fc.fifo_depth) == (2, 2)


def test_pipo_when_the_consumer_needs_random_access():
    doc = tiny_doc()
    doc["layers"][1] = dict(name="pool", op="maxpool2d", in_shape=[2, 4, 4], out_shape=[2, 2, 2], kernel=[2, 2],
                            stride=[2, 2], padding=[0, 0], macs=0)
    doc["layers"][2]["weights_shape"] = [3, 8]
    doc["layers"][2]["weights"] = [1] * 24
    plan = hd.plan_model(doc)
    pool = plan.layer("pool")
    assert pool.in_edge == "pipo" and pool.start == plan.layer("conv").end
    # POOL_PIX: 8 outputs, depth read 2 + max tree(4) 2 + write 1
    assert pool.latency == 1 + 7 + 5 and pool.count == pool.latency


def test_kws_dscnn_fpga_against_the_seed_768_cycle_pointwise():
    plan = hd.plan_model(artifact.load(qmodel_path("kws_dscnn_fpga")))
    counts = {s.name: s.count for s in plan.stages}
    assert counts == {"load": 493, "conv1": 4425, "depthwise": 4425, "pool": 4, "pointwise": 37, "fc1": 13}
    assert plan.total == 9397 and plan.interval == 4425
    assert plan.latency_us() == pytest.approx(93.97)
    sp = hc.seed_pointwise(plan)
    # 48 x 16 MACs at 1 MAC/cycle: the seed's 768-cycle dataflow plus pipeline fill ...
    assert (sp["macs"], sp["macs_per_cycle"], sp["mac_loop_trip"]) == (768, 1, 768)
    assert sp["mac_loop_latency"] == 767 + 4
    # ... hidden behind the global max pool's stream: only the tail is on the critical path
    assert sp["in_edge"] == "fifo" and sp["exposed"] == 37 < sp["target"]
    assert "768-cycle target" in hc.format_plan(plan)


def test_csynth_text_report_is_parsed():
    rep = hc.parse_csynth(DATA / "kws_dscnn_fpga_csynth.rpt")
    assert rep.top == "kws_dscnn_fpga_top" and rep.version.startswith("2023.2")
    assert (rep.target_ns, rep.estimated_ns, rep.part) == (10.0, 7.912, "xc7a35ticsg324-1L")
    top = rep.module("kws_dscnn_fpga_top")
    assert (top.latency_min, top.latency_max, top.interval_max, top.pipeline_type) == (9403, 9403, 4428, "dataflow")
    assert len(top.instances) == 6 and top.instances[1]["module"] == "conv2d_shift_conv1_cfg_ap_int_13_s"
    assert top.instances[1]["latency_max"] == 4428
    conv = rep.module("conv2d_shift_conv1_cfg_ap_int_13_s").loops
    assert [(lp.name, lp.latency_max, lp.iteration_latency, lp.ii_achieved, lp.ii_target, lp.trip, lp.pipelined)
            for lp in conv] == [("CONV_PIX", 4426, 11, 1, 1, 4416, True)]
    fc1 = rep.module("fully_connected_shift_fc1_cfg_s").loops
    assert [(lp.name, lp.trip) for lp in fc1] == [("FC_MAC", 64), ("FC_OUT", 4)]


def test_csynth_xml_report_is_parsed():
    rep = hc.parse_csynth(DATA / "conv2d_shift_conv1_cfg_ap_int_13_s_csynth.xml")
    m = rep.modules[0]
    assert (rep.top, rep.version, rep.target_ns, rep.estimated_ns) == (m.name, "2023.2", 10.0, 7.912)
    assert (m.latency_max, m.interval_min) == (4428, 4428)
    assert [(lp.name, lp.trip, lp.latency_max, lp.iteration_latency, lp.ii_achieved) for lp in m.loops] == \
        [("CONV_PIX", 4416, 4426, 11, 1)]


def test_a_report_directory_merges_every_module(tmp_path):
    (tmp_path / "a_csynth.rpt").write_text((DATA / "kws_dscnn_fpga_csynth.rpt").read_text())
    (tmp_path / "b_csynth.rpt").write_text("== Vitis HLS Report for 'extra'\n")
    assert [m.name for m in hc.parse_csynth(tmp_path).modules][-1] == "extra"
    with pytest.raises(CodegenError, match="not a csynth report"):
        (tmp_path / "x.rpt").write_text("hello")
        hc.parse_csynth(tmp_path / "x.rpt")


def test_calibration_takes_ii_and_depth_from_csynth():
    doc = artifact.load(qmodel_path("kws_dscnn_fpga"))
    plan = hd.plan_model(doc)
    cal = hc.calibration_from_report(plan, hc.parse_csynth(DATA / "kws_dscnn_fpga_csynth.rpt"))
    assert set(cal["stages"]) == {"load", "conv1", "depthwise", "pool", "pointwise", "fc1"}
    assert cal["stages"]["conv1"]["CONV_PIX"]["depth"] == 11
    assert cal["stages"]["pointwise"]["FC_MAC"]["module"].endswith("_Pipeline_FC_MAC")
    cp = hd.plan_model(doc, cal)
    assert cp.calibrated_from.endswith("kws_dscnn_fpga_csynth.rpt")
    c = {s.name: s for s in cp.stages}
    assert c["load"].latency == 1 + 489 + 2                 # depth 2 instead of the modelled 3
    assert c["conv1"].latency == 1 + 4415 + 11
    # the pool now ends 1 + 4415 + 2 after it starts (10 cycles into the depthwise): 3 past the depthwise
    assert c["pool"].count == (c["depthwise"].start + 10 + 4418) - c["depthwise"].end == 3
    assert cp.total == sum(s.count for s in cp.stages)
    # a report from another design (different trip count) is refused
    cal["stages"]["conv1"]["CONV_PIX"]["trip"] = 4000
    with pytest.raises(CodegenError, match="trip count"):
        hd.plan_model(doc, cal)
    cal["qmodel_hash"] = "sha256:" + "1" * 64
    with pytest.raises(CodegenError, match="calibration is for"):
        hd.plan_model(doc, cal)


def test_cli_prints_the_plan_and_writes_a_calibration(tmp_path, capsys):
    out = tmp_path / "cal.json"
    assert hc.main(["kws_dscnn_fpga", "--csynth", str(DATA / "kws_dscnn_fpga_csynth.rpt"),
                    "--write-calibration", str(out)]) == 0
    text = capsys.readouterr().out
    assert "calibrated from" in text and "pointwise" in text and out.exists()
    assert hc.main(["kws_dscnn_fpga", "--calibration", str(out), "--json"]) == 0
    assert '"counter": "modelled"' in capsys.readouterr().out
