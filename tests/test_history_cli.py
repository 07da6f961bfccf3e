"""`hil run --db/--resume`, `hil history`, `hil compare`, `hil report` end to end: the sim board over
a real socket, a real SQLite file, real process kills, the report opened in headless Chromium."""
import json
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from hil.results.html_report import write_report
from hil.results.store import Store

HIL = [sys.executable, "-m", "hil.cli"]


def hil(capsys, *args, check=None):
    """`hil ARGS` in this process (a subprocess would pay torch's import each time)."""
    from hil.cli import main
    capsys.readouterr()
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    if check is not None:
        assert rc == check, out.out + out.err
    return out


def test_killed_run_is_incomplete_and_resume_finishes_it(tmp_path, capsys):
    db = tmp_path / "r.db"
    proc = subprocess.Popen(HIL + ["run", "--board", "sim", "--model", "mnist_lenet", "--vectors", "300",
                                   "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, done = time.monotonic() + 120, 0
    while time.monotonic() < deadline and done < 40:
        time.sleep(0.02)
        if db.exists():
            try:
                with Store.open(db) as s:
                    done = s.conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            except Exception:  # noqa: BLE001 - the schema may not exist yet
                pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store.open(db) as s:
        run = s.runs()[0]
        first = {v.index: v for v in s.vectors(run.id, "mnist_lenet")}
        stamps = dict(s.conn.execute("SELECT idx, finished FROM vectors").fetchall())
    assert run.status == "incomplete" and 40 <= len(first) < 300, len(first)

    r = hil(capsys, "run", "--resume", "--db", str(db), check=0)
    assert f"run {run.id} recorded" in r.err
    with Store.open(db) as s:
        again = s.run(run.id)
        assert again.status == "complete" and len(s.runs()) == 1
        assert again.models[0].done == 300
        assert again.models[0].summary.int_mismatches == 0
        # the vectors of the killed process were kept, not run again
        now = dict(s.conn.execute("SELECT idx, finished FROM vectors").fetchall())
        assert all(now[i] == stamps[i] for i in stamps)
    r = hil(capsys, "run", "--resume", "--db", str(db), check=2)
    assert "no incomplete run" in r.err


def test_history_json_and_compare_after_two_runs(tmp_path, capsys):
    db = tmp_path / "r.db"
    for _ in range(2):
        hil(capsys, "run", "--board", "sim", "--model", "sine_mlp", "--vectors", "20", "--db", str(db), check=0)
    rows = json.loads(hil(capsys, "history", "--db", str(db), "--format", "json", check=0).out)["runs"]
    assert [r["id"] for r in rows] == [2, 1]
    assert rows[0]["baseline"] == 1 and rows[0]["regression"] is False and rows[0]["counter"] == "none"
    assert rows[0]["git_commit"] and rows[0]["status"] == "complete" and rows[0]["vectors_done"] == 20
    assert list(rows[0]) == ["id", "status", "board", "device_board", "counter", "clock_hz", "host", "git_commit",
                             "git_dirty", "build_hash", "image_hash", "compiler", "cflags", "probe_uid", "vectors",
                             "started", "ended", "running", "model", "vectors_done", "int_mismatches", "accuracy",
                             "total_count_median", "counter_unit", "baseline", "regression", "layers_moved"]
    assert list(rows[0]["accuracy"]) == ["metric", "device", "float", "int"]
    doc = json.loads(hil(capsys, "compare", "--db", str(db), "1", "2", "--format", "json", check=0).out)
    assert [list(m)[:6] for m in doc["models"]] == [["model", "baseline", "counter", "regression", "findings",
                                                      "layers_moved"]]
    assert "hil history" in hil(capsys, "history", "--db", str(db), check=0).out
    hil(capsys, "compare", "--db", str(db), "1", "2", check=0)
    hil(capsys, "baseline", "pin", "1", "--db", str(db), check=0)
    assert "stm32" not in hil(capsys, "baseline", "list", "--db", str(db), check=0).out
    r = hil(capsys, "history", "--db", str(tmp_path / "nope.db"), check=2)
    assert "no results store at" in " ".join(r.err.split()) and not (tmp_path / "nope.db").exists()
    r = hil(capsys, "run", "--board", "sim", "--model", "sine_mlp", "--db", str(tmp_path / "no" / "x.db"), check=2)
    assert "does not exist" in " ".join(r.err.split())       # rich wraps long lines


def _synthetic_store(path):
    """Three runs of one board and model; the third slows conv1 by 50 %."""
    layers = [dict(name="conv1", type="conv2d", macs=1000), dict(name="fc1", type="fully_connected", macs=100)]
    with Store.open(path) as s:
        for k, conv in enumerate((1000, 1000, 1500)):
            rid = s.start_run(dict(board="stm32f4-qemu", counter="icount", models=["m"], vectors=30,
                                   cflags="-O2" if k < 2 else "-O2 -O0"))
            s.start_model(rid, "m", task="classification", counter="icount", layers=layers,
                          classes=[str(c) for c in range(10)])
            rng = np.random.default_rng(k)
            for i in range(30):
                out = np.zeros(10, int)
                out[i % 10 if i % 7 else (i + 1) % 10] = 50
                s.record_vector(rid, "m", dict(index=i, label=i % 10, device=out, int_match=True,
                                               count=conv + 200, layer_counts=[conv, 200],
                                               round_trip_s=0.02 + 0.01 * rng.random()),
                                counter="icount", extra=dict(float_pred=i % 10))
            s.finish_model(rid, "m", dict(vectors=30, int_mismatches=0, counter="icount", unit="instructions",
                                          accuracy=dict(metric="accuracy", device=26 / 30, float=1.0, int=26 / 30),
                                          link=dict(payload_bytes=30_000, seconds=1.0)))
            from hil.results.baseline import Thresholds, judge
            judge(s, rid, "m", Thresholds())
            s.add_log(rid, "emulator", f"qemu output of run {rid}")
            s.finish_run(rid, "complete")


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (scripts/setup.sh installs it)")
def test_report_renders_offline_in_headless_chromium(tmp_path):
    db, out = tmp_path / "r.db", tmp_path / "report.html"
    _synthetic_store(db)
    with Store.open(db) as s:
        write_report(s, out)
    text = out.read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=['\"]?https?:", text), "report must not load anything"
    assert "REGRESSION" in text and "layer conv1" in text and "id='log-3-emulator'" in text
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=10000", "--dump-dom", out.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    # every figure was drawn by plotly (an SVG per plot), with the right series
    plots = re.findall(r"class=\"[^\"]*js-plotly-plot", dom)
    assert len(plots) == 6, len(plots)       # count trend, accuracy, latency, layers, 2 confusion matrices
    assert dom.count("class=\"main-svg\"") >= 12
    legends = set(re.findall(r"class=\"legendtext\"[^>]*>([^<]+)<", dom))
    assert "stm32f4-qemu / m (instructions)" in legends
    assert {"baseline run 2", "latest run 3"} <= legends
    assert any(x.startswith("stm32f4-qemu / m (instructions) run 3") for x in legends)   # latency
    # the unit of the records (results JSON `unit`) names the axes, legends and the introduction
    axes = set(re.findall(r"class=\"(?:y|x)title\"[^>]*>([^<]+)<", dom))
    assert "instructions per inference" in axes, axes
    intro = re.search(r"<h1>hil results</h1><p>(.*?)</p>", dom, re.S).group(1)
    assert "<code>instructions</code> on stm32f4-qemu" in intro, intro
    assert "icount" not in " ".join([intro, *axes, *legends]), "a counter kind, not a unit"
    assert "icount" not in re.sub(r"<script.*?</script>", "", dom, flags=re.S)
    # the layer plot's two bar series: conv1 1000 -> 1500 drawn as bars
    assert dom.count("class=\"point\"") >= 4


def test_error_before_any_vector_aborts_the_run(tmp_path):
    from hil.boards import BoardOptions, board_class
    from hil.results.recorder import RunRecorder
    with Store.open(tmp_path / "r.db") as s, board_class("sim")(BoardOptions(models=["sine_mlp"])) as b:
        with pytest.raises(RuntimeError):
            with RunRecorder(s, b.identity(), ["sine_mlp"], 5, logs=b.logs) as rec:
                raise RuntimeError("device died")
        assert s.run(rec.run_id).status == "aborted"
        assert "device died" in s.logs(rec.run_id)["host"]


def test_nightly_on_the_sim_board(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HIL_DB", raising=False)      # the lab config's `db` (the session sets $HIL_DB)
    lab = tmp_path / "lab.toml"
    lab.write_text(f'db = "{tmp_path / "n.db"}"\n[nightly]\nvectors = 5\nreport = "{tmp_path / "n.html"}"\n'
                   '[[nightly.run]]\nboard = "sim"\nmodels = ["mnist_lenet", "sine_mlp"]\n')
    hil(capsys, "nightly", "--hil-config", lab, check=0)
    hil(capsys, "nightly", "--hil-config", lab, check=0)
    with Store.open(tmp_path / "n.db") as s:
        runs = s.runs()
        assert [r.status for r in runs] == ["complete", "complete"]
        assert [m.verdict.baseline for m in runs[0].models] == [runs[1].id] * 2
    assert (tmp_path / "n.html").stat().st_size > 1_000_000          # plotly.js embedded
    # a board name that is no board: a lab config error before anything runs (as an unknown model is)
    lab.write_text(lab.read_text() + '[[nightly.run]]\nboard = "nosuch"\n')
    out = hil(capsys, "nightly", "--hil-config", lab, check=2)
    assert "nightly.run[1].board: unknown board 'nosuch'" in out.out + out.err
    with Store.open(tmp_path / "n.db") as s:
        assert len(s.runs()) == 2
    lab.write_text(lab.read_text().replace('board = "nosuch"', 'bord = "x"'))
    out = hil(capsys, "nightly", "--hil-config", lab, check=2)
    assert "needs board" in out.err


def test_resume_a_run_of_several_models(tmp_path, capsys):
    """A pytest --hil-db or nightly run holds several models: --resume finishes each."""
    from hil.boards import BoardOptions, board_class
    from hil.results.recorder import RunRecorder
    from hil.runner import run_model
    db = tmp_path / "r.db"
    models = ["mnist_lenet", "sine_mlp"]
    with Store.open(db) as s, board_class("sim")(BoardOptions(models=models)) as b:
        with pytest.raises(KeyboardInterrupt):
            with RunRecorder(s, b.identity(), models, 6, logs=b.logs) as rec:
                run_model(b, "mnist_lenet", 6, sink=rec.sink)
                run_model(b, "sine_mlp", 6, sink=rec.sink, progress=lambda i, n: _stop_at(i, 3))
        assert s.run(rec.run_id).status == "incomplete" and s.vector_count(rec.run_id) == 9
    hil(capsys, "run", "--resume", "--db", db, check=0)
    with Store.open(db) as s:
        run = s.run(rec.run_id)
        assert run.status == "complete" and [m.done for m in run.models] == [6, 6]


def _stop_at(i, k):
    if i == k:
        raise KeyboardInterrupt


def test_nightly_plan_defaults_to_every_board_and_refuses_an_empty_run_list():
    from hil.errors import NightlyConfigError
    from hil.lab_config import parse
    from hil.results.nightly import plan
    lab = parse('[boards.sim]\n[boards.fpga-sim]\n')
    assert plan(lab.nightly, lab.boards) == [("sim", None), ("fpga-sim", None)]
    lab = parse('[boards.sim]\n[nightly]\nrun = []\n')
    with pytest.raises(NightlyConfigError, match="add \\[\\[nightly.run\\]\\] tables"):
        plan(lab.nightly, lab.boards)
