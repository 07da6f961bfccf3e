"""AUC for the anomaly-detection task (ad01), as MLPerf Tiny scores it: each input's anomaly score
(the single value an ad01 device prints in m-results-) against its label (1 anomalous, 0 normal),
area under the ROC curve = the probability that a random anomalous input scores above a random
normal one, ties counting half (Mann-Whitney U / (n_anomalous x n_normal)).

No ad01 model ships with hil, so the runner does not call this yet: a lab's ad01 model gets it where
its per-vector scores are summarised (next to the reference hook in hil/mlperf/reference.py).
"""
from __future__ import annotations

import numpy as np

from hil.errors import InputError


def anomaly_auc(scores, labels) -> float:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels).reshape(-1).astype(bool)
    if s.size != y.size:
        raise InputError(f"AUC: {s.size} scores for {y.size} labels")
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        raise InputError(f"AUC needs anomalous and normal inputs ({pos} anomalous, {neg} normal)")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < s.size:                       # average ranks over ties
        j = i
        while j + 1 < s.size and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[y].sum() - pos * (pos + 1) / 2.0
    return float(u / (pos * neg))
