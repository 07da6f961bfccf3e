"""Issue 17: broken artifacts are never blamed on the device.

Hand-edited `.qmodel.json` files and bad bundles, made from a committed small
model (mnist_lenet: conv, pool, fully connected), are refused on load with one
line naming the file, the layer and the field: by the loader every reader uses
(golden.artifact.load / golden.bundle.read), so by `hil run` on `sim` before any
vector, and by both code generators before any build. A stale bundle (its model
changed since it was built) is refused instead of reported as device mismatches."""
import json
from pathlib import Path

import numpy as np
import pytest

from golden import artifact, bundle, paths
from golden.artifact import ArtifactError
from golden.bundle import BundleError
from hil import cli
from tests.hostile_models import clone, source

SRC = "mnist_lenet"


def run_cli(capsys, *argv) -> tuple[int, str]:
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())


def layer(doc, name):
    return next(L for L in doc["layers"] if L["name"] == name)


def _set(name, key, value):
    def edit(doc):
        layer(doc, name)[key] = value
    return edit


def _graph(edit):
    """Make the chain a v2 graph (explicit inputs) first."""
    def go(doc):
        doc["layers"] = artifact.chain_inputs(doc["layers"])
        edit(doc)
    return go


def _short_weights(doc):
    layer(doc, "fc1")["weights"].pop()


def _missing_field(doc):
    del layer(doc, "conv1")["kernel"]


def _cycle(doc):
    doc["layers"][0]["inputs"] = [doc["layers"][2]["name"]]


def _missing_tensor(doc):
    doc["layers"][1]["inputs"] = ["nope"]


def _duplicate(doc):
    doc["layers"][1]["name"] = doc["layers"][0]["name"]
    doc["layers"][2]["inputs"] = [doc["layers"][0]["name"]]


def _float_weights(doc):
    w = layer(doc, "conv1")["weights"]
    w[:] = [v + 0.25 for v in w]


def _hand_edit(doc):
    layer(doc, "fc1")["weights"][0] = 1 - layer(doc, "fc1")["weights"][0]   # hash left as it was


def _act(doc):
    layer(doc, "fc1").update(act_min=100, act_max=50)


def _output_shape(doc):
    doc["output"]["shape"] = [11]


# (id, edit, rehash, words the one line must hold: file is always checked)
QMODEL_VARIANTS = [
    ("absurd out_shape", _set("conv1", "out_shape", [4, 28000, 28]), True, ["conv1", "out_shape"]),
    ("absurd in_shape", _set("conv1", "in_shape", [1, 1 << 20, 1 << 20]), True, ["conv1", "in_shape"]),
    ("huge tensor", _set("conv1", "out_shape", [4096, 4096, 28]), True, ["conv1", "out_shape"]),
    ("short weights", _short_weights, True, ["fc1", "weights"]),
    ("weight out of int8", _set("conv1", "weights", [200] * 36), True, ["conv1", "weights", "int8"]),
    ("float weights", _float_weights, True, ["conv1", "weights", "not an integer"]),
    ("float bias", _set("fc1", "bias", [0.5] * 32), True, ["fc1", "bias"]),
    ("bias beyond int32", _set("conv1", "bias", [1 << 40] * 4), True, ["conv1", "bias", "int32"]),
    ("zero multiplier", _set("conv1", "multiplier", [0, 1, 1, 1]), True, ["conv1", "multiplier", "Q31"]),
    ("multiplier 2^31", _set("conv1", "multiplier", [1 << 31] * 4), True, ["conv1", "multiplier"]),
    ("shift out of range", _set("conv1", "shift", [40] * 4), True, ["conv1", "shift"]),
    ("act_min > act_max", _act, True, ["fc1", "act_min 100 > act_max 50"]),
    ("zero point out of int8", _set("conv1", "input_zp", 300), True, ["conv1", "input_zp"]),
    ("stride vs shapes", _set("conv1", "stride", [3, 3]), True, ["conv1", "out_shape"]),
    ("missing field", _missing_field, True, ["conv1", "kernel"]),
    ("unknown op", _set("conv1", "op", "gelu"), True, ["conv1", "unknown op", "gelu"]),
    ("missing tensor", _graph(_missing_tensor), True, ["nope", "inputs"]),
    ("cycle", _graph(_cycle), True, ["inputs", "cycles"]),
    ("duplicate tensor name", _graph(_duplicate), True, ["used twice"]),
    ("hand edit, old hash", _hand_edit, False, ["hash mismatch"]),
    ("output shape", _output_shape, True, ["output shape"]),
    ("padding of 3 values", _set("conv1", "padding", [1, 1, 1]), True, ["conv1", "padding"]),
]


@pytest.mark.parametrize("what, edit, rehash, words", QMODEL_VARIANTS, ids=[v[0] for v in QMODEL_VARIANTS])
def test_broken_qmodel_is_one_line_on_load(tmp_path, what, edit, rehash, words):
    path = clone(tmp_path, "broken", SRC, edit=edit, rehash=rehash)
    with pytest.raises(ArtifactError) as exc:
        artifact.load(path)
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize("what, edit, rehash, words", QMODEL_VARIANTS[::4], ids=[v[0] for v in QMODEL_VARIANTS[::4]])
def test_broken_qmodel_never_reaches_a_device(tmp_path, capsys, what, edit, rehash, words):
    """`hil run` on sim, and both code generators, refuse it with the loader's line."""
    path = clone(tmp_path, "broken", SRC, edit=edit, rehash=rehash)
    code, text = run_cli(capsys, "run", "--board", "sim", "--model", "broken", "--artifacts", tmp_path,
                         "--vectors", "3", "--no-db")
    assert code == 2 and words[-1] in text and "Traceback" not in text and "differ" not in text
    from hil.targets.stm32 import codegen as c_gen
    assert c_gen.main(["-q", "--out", str(tmp_path / "gen"), str(path)]) == 1
    from hil.errors import CodegenError
    from hil.targets.hls import codegen as hls_gen
    with pytest.raises((ArtifactError, CodegenError)):
        hls_gen.generate([str(path)], tmp_path / "hls")


def test_valid_tflite_contract_fields_are_accepted():
    """The fields tflite-import/tflite-arith add (docs: tflite contract) pass: 4-value padding,
    depth_multiplier, softmax, mean and pad layers; a new op is one table entry."""
    from golden.validate import OPS, check_layer
    doc, _, _ = source(SRC)
    conv = dict(layer(doc, "conv1"), padding=[1, 1, 1, 1], inputs=["input"])
    shapes = {"input": [1, 28, 28]}
    check_layer("f", 0, conv, "int8", shapes)
    asym = dict(conv, padding=[0, 1, 0, 1], out_shape=[4, 27, 27])
    check_layer("f", 0, asym, "int8", shapes)
    dw = dict(conv, op="depthwise_conv2d", depth_multiplier=4)
    check_layer("f", 0, dw, "int8", shapes)
    sm = dict(name="sm", op="softmax", inputs=["input"], in_shape=[10], out_shape=[10], input_zp=3,
              output_zp=-128, beta=1.0, input_scale=0.1, input_multiplier=1 << 30, input_left_shift=23,
              diff_min=-248)
    check_layer("f", 0, sm, "int8", {"input": [10]})
    mean = dict(name="m", op="mean", inputs=["input"], in_shape=[4, 7, 7], out_shape=[4, 1, 1], input_zp=0,
                output_zp=0, multiplier=[1 << 30], shift=[-5], input_scale=0.1, output_scale=0.1)
    check_layer("f", 0, mean, "int8", {"input": [4, 7, 7]})
    pad = dict(name="p", op="pad", inputs=["input"], in_shape=[4, 7, 7], out_shape=[4, 8, 9], pads=[0, 1, 1, 1],
               input_zp=0, output_zp=0)
    check_layer("f", 0, pad, "int8", {"input": [4, 7, 7]})
    assert {"softmax", "mean", "pad"} <= set(OPS)


def test_every_builtin_artifact_passes():
    from golden.registry import BUILTIN_MODELS
    for m in BUILTIN_MODELS:
        artifact.load(paths.qmodel_path(m))


# ---- bundles -------------------------------------------------------------------------

def _arr(key, fn):
    def edit(manifest, arrays):
        arrays[key] = fn(arrays[key])
    return edit


def _empty(manifest, arrays):
    for k in list(arrays):
        arrays[k] = arrays[k][:0]
    manifest["test_vectors"] = 0
    manifest["per_layer_vectors"] = 0


def _drop(key):
    def edit(manifest, arrays):
        del arrays[key]
    return edit


def _manifest(key, value):
    def edit(manifest, arrays):
        manifest[key] = value
    return edit


def _fewer_labels(manifest, arrays):
    arrays["labels"] = arrays["labels"][:-1]


def _object_array(manifest, arrays):
    arrays["labels"] = np.array([{"x": 1}] * len(arrays["labels"]), dtype=object)


BUNDLE_VARIANTS = [
    ("empty", _empty, ["no test vectors"]),
    ("inputs wrong shape", _arr("inputs", lambda a: a[:, :, :, :27]), ["inputs", "(N, 1, 28, 28)"]),
    ("inputs float", _arr("inputs", lambda a: a.astype(np.float32)), ["inputs", "float32"]),
    ("inputs beyond int8", _arr("inputs", lambda a: a.astype(np.int16) + 300), ["inputs", "outside int8"]),
    ("labels out of range", _arr("labels", lambda a: np.where(np.arange(len(a)) == 3, 10, a)), ["labels", "classes"]),
    ("labels negative", _arr("labels", lambda a: a - 1), ["labels", "classes"]),
    ("labels float", _arr("labels", lambda a: a.astype(np.float64)), ["labels", "integer"]),
    ("labels count", _fewer_labels, ["labels", "one per vector"]),
    ("int_logits missing", _drop("int_logits"), ["int_logits", "missing"]),
    ("int_logits shape", _arr("int_logits", lambda a: a[:, :5]), ["int_logits"]),
    ("vector count", _manifest("test_vectors", 5), ["test vectors"]),
    ("per-layer tensor shape", _arr("layer_00", lambda a: a[:, :2]), ["layer_00", "conv1"]),
    ("pickled objects", _object_array, ["npz"]),
]


@pytest.mark.parametrize("what, edit, words", BUNDLE_VARIANTS, ids=[v[0] for v in BUNDLE_VARIANTS])
def test_bad_bundle_is_one_line(tmp_path, capsys, what, edit, words):
    clone(tmp_path, "badb", SRC, edit_bundle=edit)
    with pytest.raises(BundleError) as exc:
        bundle.read(tmp_path / "badb")
    msg = str(exc.value)
    assert "\n" not in msg and str(tmp_path / "badb") in msg
    for w in words:
        assert w in msg, msg
    code, text = run_cli(capsys, "run", "--board", "sim", "--model", "badb", "--artifacts", tmp_path,
                         "--vectors", "3", "--no-db")
    assert code == 2 and "Traceback" not in text and words[0] in text


def test_garbage_npz_is_one_line(tmp_path):
    clone(tmp_path, "badb", SRC)
    npz, mjson = tmp_path / "badb" / "bundle.npz", tmp_path / "badb" / "bundle.json"
    npz.write_bytes(b"PK\x03\x04 not a zip at all" * 10)
    import hashlib
    m = json.loads(mjson.read_text())
    m["npz_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    m["hash"] = artifact.content_hash(m)
    mjson.write_text(json.dumps(m))
    with pytest.raises(BundleError, match="not a readable npz"):
        bundle.read(tmp_path / "badb")


def test_stale_bundle_is_refused_not_blamed_on_the_device(tmp_path, capsys):
    """The reproducer: one weight changed and the model's own hash recomputed; the bundle still
    records the old model. Before: 16 of 20 vectors 'differ from the integer simulator'."""
    def one_weight(doc):
        w = layer(doc, "fc1")["weights"]
        w[0] = 127 if w[0] != 127 else -128
    clone(tmp_path, "stale", SRC, edit=one_weight, stale=True)
    with pytest.raises(BundleError, match="stale"):
        bundle.read(tmp_path / "stale")
    code, text = run_cli(capsys, "run", "--board", "sim", "--model", "stale", "--artifacts", tmp_path,
                         "--vectors", "20", "--no-db")
    assert code == 2 and "stale" in text and "hil golden build --model stale" in text
    assert "differ" not in text and "mismatch" not in text


def test_a_good_clone_still_runs(tmp_path, capsys):
    """The clone helper itself makes a valid model: the checks above fail for their edit only."""
    clone(tmp_path, "fine", SRC)
    out = tmp_path / "r.json"
    code, text = run_cli(capsys, "run", "--board", "sim", "--model", "fine", "--artifacts", tmp_path,
                         "--vectors", "3", "--no-db", "--json", out)
    assert code == 0, text


def test_random_field_mutations_are_refused_or_run():
    """300 seeded mutations (1-3 fields of the model or a layer set to junk): each is refused with one
    ArtifactError line, or it is a document the integer simulator runs without an exception."""
    import copy
    import random
    from golden.intsim.run import IntegerSimulator
    from golden.validate import check_model
    base, _, _ = source(SRC)
    base["layers"] = artifact.chain_inputs(base["layers"])
    rng = random.Random(17)
    junk = [None, "x", [], {}, -1, 0, 1e9, [1, 2], [1, 2, 3, 4], True, 2 ** 40, -129, 0.5, [[1]]]
    refused = 0
    for _ in range(300):
        d = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.2:
                d[rng.choice(["input", "output", "classes", "scheme", "model", "layers"])] = rng.choice(junk)
            elif isinstance(d.get("layers"), list) and d["layers"] and isinstance(d["layers"][0], dict):
                L = rng.choice(d["layers"])
                L[rng.choice(sorted(L))] = rng.choice(junk)
        try:
            check_model(d, "f")
        except ArtifactError as exc:
            refused += 1
            assert "\n" not in str(exc)
            continue
        IntegerSimulator(d).run_one(np.zeros(d["input"]["shape"], np.int8))
    assert refused > 200
