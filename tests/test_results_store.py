"""The results store: a real SQLite file, two writer processes, migrations, baselines and alarms."""
import json
import multiprocessing
import sqlite3
from dataclasses import replace

import numpy as np
import pytest

from hil.results import baseline
from hil.results.store import SCHEMA_VERSION, Store, StoredRun, StoreError, default_path

LAYERS = [dict(name="conv1", type="conv2d", macs=100), dict(name="fc1", type="fully_connected", macs=10)]


def _meta(**kw):
    m = dict(board="stm32f4-qemu", counter="systick_icount", models=["m"], vectors=4, device_board="qemu",
             clock_hz=168_000_000, cflags="-O2", image_hash="sha256:aa", build_hash="abc")
    m.update(kw)
    return m


def _vec(i, count=1000, layers=(900, 100), match=True, label=None, top=None):
    dev = np.zeros(10, np.int8)
    dev[(i % 10) if top is None else top] = 100
    return dict(index=i, label=i % 10 if label is None else label, device=dev, int_match=match,
                count=count, layer_counts=list(layers), round_trip_s=0.01)


def _run(store, vectors, status="complete", **meta):
    rid = store.start_run(_meta(**meta))
    store.start_model(rid, "m", task="classification", counter=meta.get("counter", "systick_icount"),
                      layers=LAYERS)
    for v in vectors:
        store.record_vector(rid, "m", v, counter=meta.get("counter", "systick_icount"))
    store.finish_model(rid, "m", dict(vectors=len(vectors), int_mismatches=sum(not v["int_match"] for v in vectors),
                                      accuracy=dict(metric="accuracy", device=1.0)))
    store.finish_run(rid, status)
    return rid


def test_open_sets_wal_and_version(tmp_path):
    with Store.open(tmp_path / "r.db") as s:
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with Store.open(tmp_path / "r.db") as s:          # reopening migrates nothing and keeps data
        assert s.runs() == []


def test_newer_schema_and_garbage_are_refused(tmp_path):
    p = tmp_path / "new.db"
    c = sqlite3.connect(p)
    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    c.close()
    with pytest.raises(StoreError, match="upgrade hil"):
        Store.open(p)
    g = tmp_path / "garbage.db"
    g.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="hil results file"):
        Store.open(g)
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


def test_default_path_order(tmp_path, monkeypatch):
    monkeypatch.delenv("HIL_DB", raising=False)
    assert str(default_path()) == "hil-results.db"
    assert str(default_path(None, {"db": "lab.db"})) == "lab.db"
    monkeypatch.setenv("HIL_DB", "env.db")
    assert str(default_path(None, {"db": "lab.db"})) == "env.db"
    assert str(default_path("opt.db", {"db": "lab.db"})) == "opt.db"


def test_vectors_round_trip_and_count_aliases(tmp_path):
    with Store.open(tmp_path / "r.db") as s:
        rid = s.start_run(_meta())
        s.start_model(rid, "m", layers=LAYERS)
        s.record_vector(rid, "m", _vec(0), counter="systick_icount", extra=dict(float_pred=0))
        # a runner that names the count for its unit is stored the same way
        s.record_vector(rid, "m", dict(index=1, label=1, device=[1, 2], int_match=False, instructions=77,
                                       layer_instructions=[70, 7], round_trip_s=0.5, first_bad_layer="fc1",
                                       first_bad_index=3), counter="systick_icount")
        v = s.vectors(rid, "m")
        assert [x.index for x in v] == [0, 1]
        assert v[0].count == 1000 and v[0].float_pred == 0 and v[0].device[0] == 100
        assert v[1].count == 77 and v[1].layer_counts == [70, 7] and v[1].first_bad_layer == "fc1"
        assert v[1].counter == "systick_icount" and v[1].first_bad_index == 3 and not v[1].int_match
        assert s.run(rid).status == "incomplete"       # until finish_run


def _writer(path, board, n):
    with Store.open(path) as s:
        rid = s.start_run(_meta(board=board))
        s.start_model(rid, "m", layers=LAYERS)
        for i in range(n):
            s.record_vector(rid, "m", _vec(i), counter="systick_icount")
        s.add_log(rid, "host", f"{board} done")
        s.finish_run(rid, "complete")


def test_two_processes_write_one_file(tmp_path):
    p = tmp_path / "shared.db"
    Store.open(p).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(p, f"board{k}", 150)) for k in range(2)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join(60)
        assert pr.exitcode == 0
    with Store.open(p) as s:
        runs = s.runs()
        assert sorted(r.board for r in runs) == ["board0", "board1"]
        for r in runs:
            assert r.status == "complete" and len(s.vectors(r.id, "m")) == 150
        assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_baseline_is_last_good_or_pinned(tmp_path):
    with Store.open(tmp_path / "r.db") as s:
        r1 = _run(s, [_vec(i) for i in range(4)])
        r2 = _run(s, [_vec(i, match=(i != 2)) for i in range(4)])      # a mismatch: not a good run
        r3 = _run(s, [_vec(i) for i in range(4)], status="incomplete")
        r4 = _run(s, [_vec(i) for i in range(4)], counter="dwt")         # other counter kind
        r5 = _run(s, [_vec(i) for i in range(4)])
        assert s.baseline_for(s.run(r5), "m") == r1
        assert s.baseline_for(s.run(r4), "m") is None
        v2 = baseline.judge(s, r2, "m", baseline.Thresholds())
        assert v2.regression and v2.findings[0].kind == "int_mismatch"
        assert r3 not in (s.baseline_for(s.run(r5), "m"),)
        s.pin_baseline(r5)
        r6 = _run(s, [_vec(i) for i in range(4)])
        assert s.baseline_for(s.run(r6), "m") == r5
        with pytest.raises(StoreError, match="no run 99"):
            s.pin_baseline(99)


def test_count_regression_names_the_layer(tmp_path):
    with Store.open(tmp_path / "r.db") as s:
        r1 = _run(s, [_vec(i) for i in range(4)])
        r2 = _run(s, [_vec(i, count=1010, layers=(905, 105)) for i in range(4)])     # +1 %: below 2 %
        v = baseline.judge(s, r2, "m", baseline.Thresholds())
        assert not v.regression, v
        assert {f.what for f in v.findings} >= {"layer conv1", "layer fc1"}   # changes are reported
        # fc1 up 600 %, conv1 unchanged: the total rises 60 %
        r3 = _run(s, [_vec(i, count=1600, layers=(900, 700)) for i in range(4)])
        v = baseline.judge(s, r3, "m", baseline.Thresholds())
        assert v.regression and v.baseline == r2 and v.layers_moved == ["fc1"]
        lines = baseline.describe("stm32f4-qemu", "m", v)
        assert any("layer fc1: 105.0 -> 700.0" in x and "stm32f4-qemu / m" in x for x in lines), lines
        # per-layer threshold and minimum absolute rise
        th = baseline.Thresholds(layers={"fc1": 10.0}, total=1.0)
        assert not baseline.compare_model(s, s.run(r3), "m", r2, th).regression


def test_measured_counters_use_median_and_tolerance(tmp_path):
    with Store.open(tmp_path / "r.db") as s:
        r1 = _run(s, [_vec(i, count=c) for i, c in enumerate((1000, 1001, 999, 1000))], counter="dwt")
        # one outlier vector does not move the median; +2.5 % is inside 2 % + 1 % tolerance
        r2 = _run(s, [_vec(i, count=c) for i, c in enumerate((1025, 1024, 1026, 5000))], counter="dwt")
        v = baseline.judge(s, r2, "m", baseline.Thresholds())
        assert not v.regression, v


def test_accuracy_drop_is_a_regression(tmp_path):
    with Store.open(tmp_path / "r.db") as s:
        _run(s, [_vec(i) for i in range(10)])
        r2 = _run(s, [_vec(i, top=0) for i in range(10)])      # device always says class 0: 10 % right
        v = baseline.judge(s, r2, "m", baseline.Thresholds())
        acc = [f for f in v.findings if f.kind == "accuracy"]
        assert acc and acc[0].before == 1.0 and acc[0].after == pytest.approx(0.1) and acc[0].regression


def test_thresholds_from_config_rejects_unknown_keys():
    assert baseline.Thresholds.from_config({"total": 0.05}).total == 0.05
    from hil.errors import ConfigError
    with pytest.raises(ConfigError, match="unknown threshold"):
        baseline.Thresholds.from_config({"totl": 0.05})
    with pytest.raises(ConfigError, match="total: expected a number"):
        baseline.Thresholds.from_config({"total": "2%"})
    with pytest.raises(ConfigError, match="conv1: expected a number"):
        baseline.Thresholds.from_config({"layers": {"conv1": "x"}})
    assert baseline.Thresholds.from_config({"link_emulated": True, "layers": {"fc1": 1}}).link_emulated


def test_a_run_owned_by_a_live_process_is_not_resumed(tmp_path):
    import socket
    import subprocess
    import sys

    from hil.results.recorder import check_resumable, still_running
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        run = StoredRun(id=1, status="incomplete", board="b", pid=proc.pid, host=socket.gethostname())
        assert still_running(run)
        with pytest.raises(StoreError, match="still running"):
            check_resumable(run, {})
    finally:
        proc.kill()
        proc.wait()
    assert not still_running(run)
    assert not still_running(replace(run, host="another-host"))


def test_resume_refuses_another_firmware_image():
    from hil.errors import HilError
    from hil.results.recorder import check_resumable
    meta = dict(board="stm32f4-qemu", counter="systick_icount", image_hash="sha256:aa", build_hash="abc")
    run = StoredRun(id=3, status="incomplete", pid=None, host=None, **meta)
    check_resumable(run, meta)
    with pytest.raises(HilError, match="image_hash was 'sha256:aa', now 'sha256:bb'; start a new run"):
        check_resumable(run, dict(meta, image_hash="sha256:bb"))
    with pytest.raises(StoreError, match="is complete, nothing to resume"):
        check_resumable(replace(run, status="complete"), meta)


def test_stored_verdicts_read_back_as_written(tmp_path):
    """The verdict blob is Verdict.to_json() byte for byte, and reads back as the same Verdict."""
    with Store.open(tmp_path / "r.db") as s:
        r1 = _run(s, [_vec(i) for i in range(4)])
        r2 = _run(s, [_vec(i, count=1600, layers=(900, 700)) for i in range(4)])
        for rid in (r1, r2):
            v = baseline.judge(s, rid, "m", baseline.Thresholds())
            blob = s.conn.execute("SELECT verdict FROM run_models WHERE run_id = ?", (rid,)).fetchone()[0]
            assert json.loads(blob) == v.to_json() and baseline.Verdict.from_json(json.loads(blob)) == v
            assert s.run(rid).models[0].verdict == v
        assert list(s.run(r1).models[0].verdict.to_json()) == [
            "baseline", "counter", "regression", "findings", "layers_moved", "note"]
        assert list(v.to_json()) == ["baseline", "counter", "regression", "findings", "layers_moved",
                                     "shared_vectors", "total", "layers"]
        assert list(v.findings[0].to_json()) == ["kind", "what", "before", "after", "change", "threshold",
                                                 "regression", "unit"]
        m = s.run(r2).models[0]
        assert [L.name for L in m.layers] == ["conv1", "fc1"] and m.summary.int_mismatches == 0
        assert m.summary.accuracy.device == 1.0 and s.count_stats(r2, "m").layers == [900.0, 700.0]
