"""golden/qmodel.py: the typed view holds exactly what the checked artifact holds."""
from __future__ import annotations

import pytest

from golden import artifact, bundle, qmodel
from golden.paths import artifact_dir, qmodel_path
from golden.registry import BUILTIN_MODELS


@pytest.mark.parametrize("name", BUILTIN_MODELS)
def test_view_matches_the_document(name):
    doc = artifact.load(qmodel_path(name))
    q = qmodel.QModel.from_json(doc)
    assert q.to_json() is doc
    if q.version == 2:      # load() gives a version 1 chain its `inputs` after checking the hash
        assert artifact.content_hash(q.to_json()) == q.hash
    assert (q.model, q.scheme, q.macs, q.params) == (doc["model"], doc["scheme"], doc["macs"], doc["params"])
    assert list(q.input.shape) == doc["input"]["shape"] and q.output.scale == doc["output"]["scale"]
    assert q.tensor_shapes() == artifact.tensor_shapes(doc)
    for L, d in zip(q.layers, doc["layers"], strict=True):
        assert (L.name, L.op, list(L.inputs), list(L.in_shape), list(L.out_shape), L.macs) == \
            (d["name"], d["op"], d["inputs"], d["in_shape"], d["out_shape"], d["macs"])
        assert dict(L) == d and L.get("weights") is d.get("weights")
    with pytest.raises(TypeError):
        q.layers[0].fields["op"] = "x"          # read-only
    m = bundle.read(artifact_dir(name)).info
    assert m.qmodel_hash == q.hash and m.metrics.to_json() == bundle.read(artifact_dir(name)).manifest["metrics"]
