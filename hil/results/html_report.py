"""`hil report`: one self-contained HTML file from the results store.

Opens offline: plotly's JavaScript is embedded once in the page (no CDN, no
server), logs are embedded as collapsible sections the run table links to.
Figures: count trend per board and model, per-layer counts of the latest run
against its baseline, round-trip latency histogram, accuracy trend, confusion
matrices (device vs labels, device vs float model); tables: regression
verdicts and every run's metadata.
"""
from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from hil.results.baseline import describe
from hil.results.store import Store, StoredModel, StoredRun

LOG_TAIL = 200_000          # characters of each log shown in the report
LOG_RUNS = 30               # newest runs whose logs are embedded
STATUS_COLOR = {"complete": "#1a7f37", "incomplete": "#9a6700", "aborted": "#cf222e"}


def unit(run: StoredRun, m: StoredModel | None = None) -> str:
    """The unit of a run's figures as its records name it (results JSON `unit`: `instructions`,
    `modelled_cycles`, `cycles`, ...); for a model without a stored summary, the runner's unit of
    the run's counter kind."""
    from hil.runner import unit_of
    stored = m.summary.unit if m is not None and m.summary is not None else None
    if stored:
        return stored
    u = unit_of(run.counter or "none")
    return u[0] if u else "no counter"


def _key(run: StoredRun, model: str, m: StoredModel | None = None) -> str:
    return f"{run.board} / {model} ({unit(run, m)})"


def _fig_html(fig: go.Figure, div_id: str) -> str:
    # showlegend: a one-series plot still names its series (a reader, and the report tests, see it)
    fig.update_layout(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), height=420,
                      showlegend=not all(isinstance(t, go.Heatmap) for t in fig.data),
                      legend=dict(orientation="h", yanchor="top", y=-0.22))
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=dict(displaylogo=False, responsive=True))


def _series(store: Store, runs: list[StoredRun]) -> dict[tuple, list[tuple[StoredRun, StoredModel]]]:
    """(board, model, counter) -> [(run, run_model row)], oldest first."""
    out: dict[tuple, list] = {}
    for r in sorted(runs, key=lambda r: r.id):
        for m in r.models:
            # grouped by counter kind (a count only compares with its own kind), named by unit
            out.setdefault((r.board, m.model, r.counter or "none"), []).append((r, m))
    return out


def count_trends(store: Store, series: dict) -> list[go.Figure]:
    """One figure per counter kind (a count only compares with a count of its kind), named by its
    unit, log scale: models differ by orders of magnitude."""
    by_kind: dict[str, go.Figure] = {}
    units: dict[str, str] = {}
    for items in series.values():
        key = _key(items[-1][0], items[-1][1].model, items[-1][1])
        pts = [(r, store.count_stats(r.id, m.model), m) for r, m in items]
        pts = [p for p in pts if p[1]]
        if not pts:
            continue
        kind = pts[0][0].counter or "none"
        units.setdefault(kind, unit(pts[-1][0], pts[-1][2]))
        fig = by_kind.setdefault(kind, go.Figure())
        reg = [_regressed(m) for _, _, m in pts]
        fig.add_trace(go.Scatter(
            x=[r.id for r, _, _ in pts], y=[s.median for _, s, _ in pts], name=key,
            mode="lines+markers", marker=dict(size=[13 if g else 8 for g in reg],
                                              symbol=["x" if g else "circle" for g in reg]),
            text=[f"{r.cflags or ''}" for r, _, _ in pts],
            hovertemplate="run %{x}: %{y:,.0f}<br>%{text}<extra>" + html.escape(key) + "</extra>"))
    for kind, fig in by_kind.items():
        fig.update_layout(title=f"{units[kind]} per inference across runs (median over vectors; "
                          f"x marks a regression)", xaxis_title="run id", yaxis_title=f"{units[kind]} per inference",
                          yaxis_type="log", xaxis=dict(tickformat="d", dtick=1))
    return list(by_kind.values())


def accuracy_trends(series: dict) -> list[go.Figure]:
    """Accuracy (classification) and MAE (regression models) in their own figures."""
    figs: dict[str, go.Figure] = {}
    for items in series.values():
        key = _key(items[-1][0], items[-1][1].model, items[-1][1])
        pts = [(r, m.summary.accuracy) for r, m in items if m.summary is not None and m.summary.accuracy]
        if not pts:
            continue
        metric = pts[0][1].metric
        fig = figs.setdefault(metric, go.Figure())
        fig.add_trace(go.Scatter(x=[r.id for r, _ in pts], y=[a.device for _, a in pts],
                                 name=f"{key} device {metric}", mode="lines+markers"))
    for metric, fig in figs.items():
        what = "accuracy against the labels" if metric == "accuracy" else "mean absolute error against the labels"
        fig.update_layout(title=f"Device {what} across runs", xaxis_title="run id", yaxis_title=metric,
                          xaxis=dict(tickformat="d", dtick=1))
    return list(figs.values())


def layer_breakdown(store: Store, run: StoredRun, m: StoredModel) -> go.Figure | None:
    stats = store.count_stats(run.id, m.model)
    if not stats or not stats.layers:
        return None
    names = [L.name for L in m.layers] or [f"layer{k}" for k in range(len(stats.layers))]
    fig = go.Figure()
    base_id = m.verdict.baseline if m.verdict is not None else None
    if base_id is not None:
        bstats = store.count_stats(base_id, m.model)
        if bstats and len(bstats.layers) == len(names):
            fig.add_trace(go.Bar(x=names, y=bstats.layers, name=f"baseline run {base_id}"))
    fig.add_trace(go.Bar(x=names, y=stats.layers, name=f"latest run {run.id}"))
    u = unit(run, m)
    fig.update_layout(barmode="group", title=f"Per-layer {u}, {_key(run, m.model, m)}: latest vs baseline "
                      f"(median over the vectors that read per-layer figures)", xaxis_title="layer",
                      yaxis_title=f"{u} per inference")
    return fig


def latency_histogram(store: Store, latest: list[tuple[StoredRun, StoredModel]]) -> go.Figure:
    fig = go.Figure()
    for r, m in latest:
        rtt = [v.round_trip_s * 1e3 for v in store.vectors(r.id, m.model) if v.round_trip_s]
        if rtt:
            fig.add_trace(go.Histogram(x=rtt, name=f"{_key(r, m.model, m)} run {r.id}", opacity=0.7,
                                       nbinsx=30))
    fig.update_layout(barmode="overlay", title="Round-trip latency per vector, latest run (host clock, "
                      "includes the link)", xaxis_title="round trip (ms)", yaxis_title="vectors")
    return fig


def confusion(store: Store, run: StoredRun, m: StoredModel) -> list[go.Figure]:
    vs = store.vectors(run.id, m.model)
    if m.task != "classification" or not vs:
        return []
    k = len(vs[0].device)
    classes = m.classes or [str(i) for i in range(k)]
    classes = [str(c) for c in classes][:k]
    dev = [int(np.argmax(v.device)) for v in vs]
    figs = []
    for title, ref in (("labels", [v.label for v in vs]), ("float model", [v.float_pred for v in vs])):
        if any(x is None for x in ref):
            continue
        cm = np.zeros((k, k), int)
        for d, t in zip(dev, ref):
            cm[int(t), d] += 1
        fig = go.Figure(go.Heatmap(z=cm, x=classes, y=classes, colorscale="Blues", text=cm,
                                   texttemplate="%{text}", name=f"device vs {title}",
                                   hovertemplate=f"{title} %{{y}}, device %{{x}}: %{{z}}<extra></extra>"))
        fig.update_layout(title=f"{m.model} run {run.id}: device vs {title} ({len(vs)} vectors)",
                          xaxis_title="device", yaxis_title=title, yaxis_autorange="reversed")
        figs.append(fig)
    return figs


def _regressed(m: StoredModel) -> bool:
    return m.verdict is not None and m.verdict.regression


def _verdict_rows(runs: list[StoredRun]) -> str:
    rows = []
    for r in runs:
        for m in r.models:
            v = m.verdict
            if v is None:
                continue
            lines = describe(r.board, m.model, v, all_changes=True) or ["no change against the baseline"
                                                                      if v.baseline else v.note or ""]
            cls = "bad" if v.regression else "ok"
            rows.append(f"<tr class='{cls}'><td><a href='#run-{r.id}'>{r.id}</a></td>"
                        f"<td>{html.escape(r.board)}</td><td>{html.escape(m.model)}</td>"
                        f"<td>{v.baseline or '-'}</td><td>{'REGRESSION' if v.regression else 'ok'}</td>"
                        f"<td>{'<br>'.join(html.escape(x) for x in lines)}</td></tr>")
    return ("<table id='verdicts'><tr><th>run</th><th>board</th><th>model</th><th>baseline</th><th>verdict</th>"
            "<th>findings</th></tr>" + "".join(rows) + "</table>")


def _when(t):
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


# the runs table's columns: StoredRun fields, and the units of its models
RUN_COLUMNS = ("id", "status", "started", "ended", "board", "device_board", "probe_uid", "clock_hz", "unit",
               "host", "git_commit", "git_dirty", "fw_version", "build_hash", "image_hash", "compiler", "cflags")


def _run_rows(store: Store, runs: list[StoredRun], with_logs: set[int]) -> str:
    out = ["<table id='runs'><tr>" + "".join(f"<th>{c}</th>" for c in RUN_COLUMNS)
           + "<th>models</th><th>logs</th></tr>"]
    for r in runs:
        cells = []
        for c in RUN_COLUMNS:
            val = ", ".join(dict.fromkeys(unit(r, m) for m in r.models) or [unit(r)]) if c == "unit" else getattr(r, c)
            if c in ("started", "ended"):
                val = _when(val)
            style = f" style='color:{STATUS_COLOR.get(val, '#000')}'" if c == "status" else ""
            text = "-" if val is None else str(val)
            if c in ("git_commit", "image_hash") and len(text) > 19:    # full value on hover
                style, text = f" title='{html.escape(text)}'", text.removeprefix("sha256:")[:12] + "…"
            if c == "cflags":
                style = " style='min-width:30em;font-family:monospace'"
            cells.append(f"<td{style}>{html.escape(text)}</td>")
        models = ", ".join(f"{html.escape(m.model)} ({m.done} vectors)" for m in r.models)
        logs = (" ".join(f"<a href='#log-{r.id}-{html.escape(n)}'>{html.escape(n)}</a>"
                         for n in store.logs(r.id)) if r.id in with_logs else "-")
        out.append(f"<tr id='run-{r.id}'>" + "".join(cells) + f"<td>{models}</td><td>{logs}</td></tr>")
    return "".join(out) + "</table>"


def _logs(store: Store, runs: list[StoredRun]) -> str:
    parts = []
    for r in runs:
        for name, text in store.logs(r.id).items():
            cut = "" if len(text) <= LOG_TAIL else f"[... first {len(text) - LOG_TAIL} characters cut ...]\n"
            parts.append(f"<details id='log-{r.id}-{html.escape(name)}'><summary>run {r.id} "
                         f"({html.escape(r.board)}): {html.escape(name)} log, {len(text)} characters</summary>"
                         f"<pre>{html.escape(cut + text[-LOG_TAIL:])}</pre></details>")
    return "".join(parts) or "<p>no logs recorded</p>"


CSS = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#1f2328}table{border-collapse:collapse;
font-size:12px;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
tr.bad td{background:#ffebe9}tr.ok td{background:#f6fff8}pre{background:#f6f8fa;padding:.5em;max-height:30em;
overflow:auto;font-size:11px}.fig{border:1px solid #d0d7de;margin:.8em 0}h2{border-bottom:1px solid #d0d7de}"""
JS = """function openHash(){var e=document.getElementById(location.hash.slice(1));
if(e&&e.tagName==='DETAILS'){e.open=true;}}window.addEventListener('hashchange',openHash);openHash();"""


UNIT_MEANING = {"instructions": "guest instructions on the QEMU twin, exact, not silicon cycles",
                "modelled_cycles": "HLS cycles modelled from the loop structure, not measured",
                "cycles": "silicon core clock cycles, measured"}


def _units_intro(runs: list[StoredRun]) -> str:
    """Which units the figures of these runs are in, as their records name them."""
    boards: dict[str, list[str]] = {}
    for r in runs:
        for m in r.models or [None]:
            boards.setdefault(unit(r, m), [])
            if r.board not in boards[unit(r, m)]:
                boards[unit(r, m)].append(r.board)
    parts = [f"<code>{html.escape(u)}</code> on {html.escape(', '.join(b))}"
             + (f" ({UNIT_MEANING[u]})" if u in UNIT_MEANING else "") for u, b in boards.items()]
    return ("Every figure is in the unit its run recorded (the results JSON's <code>unit</code>): "
            + ("; ".join(parts) or "no runs") + ". Figures are only compared within one unit and board.")


def render(store: Store, limit: int | None = 200) -> str:
    runs = store.runs(limit=limit)                    # newest first
    series = _series(store, runs)
    latest = [items[-1] for items in series.values()]
    figs = ([(f"count-trend-{i}", f) for i, f in enumerate(count_trends(store, series))]
            + [(f"accuracy-trend-{i}", f) for i, f in enumerate(accuracy_trends(series))]
            + [("latency-histogram", latency_histogram(store, latest))])
    for n, (r, m) in enumerate(latest):
        lb = layer_breakdown(store, r, m)
        if lb is not None:
            figs.append((f"layers-{n}", lb))
        for j, f in enumerate(confusion(store, r, m)):
            figs.append((f"confusion-{n}-{j}", f))
    regressions = [(r, m) for r, m in latest if _regressed(m)]
    head = (f"<p><b>{len(regressions)} regression(s)</b> in the latest run of {len(latest)} board/model "
            f"series: " + (", ".join(html.escape(f"{_key(r, m.model, m)} run {r.id} "
                                                 f"({', '.join(m.verdict.layers_moved) or 'no layer'})")
                                     for r, m in regressions) or "none") + "</p>")
    body = "".join(f"<div class='fig'>{_fig_html(f, fid)}</div>" for fid, f in figs)
    with_logs = {r.id for r in runs[:LOG_RUNS]}
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>hil report</title><style>{CSS}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
            f"<h1>hil results</h1><p>store {html.escape(str(store.path))}, {len(runs)} runs, generated "
            f"{_when(time.time())}. {_units_intro(runs)}</p>{head}"
            f"<h2>Regression verdicts</h2>{_verdict_rows(runs)}<h2>Plots</h2>{body}"
            f"<h2>Runs</h2>{_run_rows(store, runs, with_logs)}<h2>Logs</h2>"
            f"{_logs(store, [r for r in runs if r.id in with_logs])}"
            f"<script>{JS}</script></body></html>")


def write_report(store: Store, out: Path, limit: int | None = 200) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render(store, limit), encoding="utf-8")
    tmp.replace(out)          # a half-written report never replaces a good one
    return out
