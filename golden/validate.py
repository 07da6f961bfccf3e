"""Validation of a quantized-model artifact on load: the one place every reader relies on.

golden.artifact.load() calls `check_model()` (so the integer simulator, both
code generators, the boards and the runner only ever see checked documents),
golden.bundle.read() calls `check_bundle()` against the model next to it. A
failure is one ArtifactError line naming the file, the layer and the field;
a broken reference never reaches a device verdict.

Per-op checks are a table (`OPS`): each op lists its fields with a kind
(int8, int32, Q31 multiplier, shift, ...) and a shape rule. A new op is one
table entry; an op not in the table is refused with its name.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from golden.errors import GoldenError
from golden.names import is_valid as name_ok, PATTERN

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
MAX_ELEMS = 1 << 24           # elements of one tensor or one weight table (16 Mi): far above any MCU model
MAX_DIM = 0xFFFF              # a dimension, kernel, stride or padding (the C tables hold uint16)
SCHEMES = ("int8", "shift")


class ArtifactError(GoldenError):
    """A quantized-model artifact is missing, malformed or altered."""


class Invalid(Exception):
    """Raised inside the checks with the field's problem; turned into one ArtifactError line."""


# ---- value kinds ---------------------------------------------------------------------

def _is_int(v) -> bool:
    return type(v) is int          # not bool, not a float that happens to be whole


def _ints(values, lo: int, hi: int, what: str) -> None:
    if not isinstance(values, list):
        raise Invalid(f"expected a list of integers, got {type(values).__name__}")
    if not set(map(type, values)) <= {int}:        # one C-level pass; bools and floats are refused
        bad = next(v for v in values if type(v) is not int)
        raise Invalid(f"holds {bad!r}, not an integer ({what})")
    if values and (min(values) < lo or max(values) > hi):
        v = min(values) if min(values) < lo else max(values)
        raise Invalid(f"holds {v}, outside {what} [{lo}, {hi}]")


def _int_in(lo: int, hi: int, what: str) -> Callable:
    def check(v):
        if not _is_int(v):
            raise Invalid(f"{v!r} is not an integer ({what})")
        if not lo <= v <= hi:
            raise Invalid(f"{v} is outside {what} [{lo}, {hi}]")
    return check


def _list_of(lo: int, hi: int, what: str) -> Callable:
    return lambda v: _ints(v, lo, hi, what)


def _bool(v) -> None:
    if not isinstance(v, bool):
        raise Invalid(f"{v!r} is not true/false")


def _number(v) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise Invalid(f"{v!r} is not a finite number")


def _positive_number(v) -> None:
    _number(v)
    if v <= 0:
        raise Invalid(f"{v!r} must be > 0")


def _pair(v) -> None:
    _ints(v, 1, MAX_DIM, "kernel/stride")
    if len(v) != 2:
        raise Invalid(f"{v} needs 2 values")


def _padding(v) -> None:
    _ints(v, 0, MAX_DIM, "padding")
    if len(v) not in (2, 4):
        raise Invalid(f"{v} needs 2 values [ph, pw] or 4 [top, bottom, left, right]")


def _shape(v) -> None:
    _ints(v, 1, MAX_DIM, "dimension")
    if not 1 <= len(v) <= 4 or math.prod(v) > MAX_ELEMS:
        raise Invalid(f"{v} needs 1..4 dimensions and at most {MAX_ELEMS} elements")


I8 = _int_in(-128, 127, "int8")
I32 = _int_in(INT32_MIN, INT32_MAX, "int32")
SHIFT = _int_in(-31, 31, "shift")
Q31 = _int_in(1, INT32_MAX, "Q31 multiplier")
COUNT = _int_in(0, 1 << 62, "count")
POS = _int_in(1, MAX_DIM, "positive")
NONNEG = _int_in(0, MAX_DIM, "non-negative")
LIST_I8, LIST_I32 = _list_of(-128, 127, "int8"), _list_of(INT32_MIN, INT32_MAX, "int32")
LIST_Q31, LIST_SHIFT = _list_of(1, INT32_MAX, "Q31 multiplier"), _list_of(-31, 31, "shift")
LIST_LEFT = _list_of(-31, 31, "shift")


# ---- shapes --------------------------------------------------------------------------

def pad4(L: dict) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from 2- or 4-value padding (contract: golden.intsim.padding.pad4)."""
    p = L.get("padding") or [0, 0]
    return (p[0], p[0], p[1], p[1]) if len(p) == 2 else tuple(p)


def _chw(shape: list[int]) -> tuple[int, int, int]:
    d = list(shape) + [1] * (3 - len(shape))
    return d[0], d[1], math.prod(d[2:])


def _window(L: dict, ins: list) -> None:
    """CHW in and out, out = floor((in + pads - k) / s) + 1 per axis."""
    if len(L["in_shape"]) != 3 or len(L["out_shape"]) != 3:
        raise Invalid("in_shape and out_shape must be CHW (3 dims)")
    (_, h, w), (_, oh, ow) = L["in_shape"], L["out_shape"]
    if L.get("global"):
        if (oh, ow) != (1, 1):
            raise Invalid(f"out_shape {L['out_shape']}: a global pool gives (C, 1, 1)")
        return
    (kh, kw), (sh, sw) = L["kernel"], L["stride"]
    t, b, left, r = pad4(L)
    want = [(h + t + b - kh) // sh + 1 if h + t + b >= kh else 0,
            (w + left + r - kw) // sw + 1 if w + left + r >= kw else 0]
    if [oh, ow] != want:
        raise Invalid(f"out_shape {L['out_shape']} disagrees with in_shape {L['in_shape']}, kernel "
                      f"{L['kernel']}, stride {L['stride']}, padding {L.get('padding')} (H, W = {want})")


def _same_channels(L: dict, ins: list) -> None:
    if L["in_shape"][0] != L["out_shape"][0]:
        raise Invalid(f"channels {L['in_shape'][0]} -> {L['out_shape'][0]}: this op keeps them")


def _weights(L: dict, expect: list[int]) -> None:
    if list(L["weights_shape"]) != expect:
        raise Invalid(f"weights_shape {L['weights_shape']} != {expect} (from the shapes)")
    if len(L["weights"]) != math.prod(expect):
        raise Invalid(f"weights has {len(L['weights'])} values, weights_shape {expect} needs {math.prod(expect)}")


def _per_channel(L: dict, n: int, keys: tuple) -> None:
    for k in keys:
        if L.get(k) is not None and len(L[k]) != n:
            raise Invalid(f"{k} has {len(L[k])} values, needs {n} (one per output channel)")


def _conv_shape(L: dict, ins: list) -> None:
    _window(L, ins)
    cin, cout = L["in_shape"][0], L["out_shape"][0]
    kh, kw = L["kernel"]
    if L["op"] == "depthwise_conv2d":
        m = L.get("depth_multiplier", 1)
        if cout != cin * m:
            raise Invalid(f"out channels {cout} != in channels {cin} x depth_multiplier {m}")
        expect = [cout, 1, kh, kw]
    else:
        g = L.get("groups", 1) if L["op"] == "grouped_conv2d" else 1
        if cin % g or cout % g:
            raise Invalid(f"groups {g} must divide in channels {cin} and out channels {cout}")
        expect = [cout, cin // g, kh, kw]
    _weights(L, expect)
    _per_channel(L, cout, ("bias", "multiplier", "shift"))


def _fc_shape(L: dict, ins: list) -> None:
    n_in, n_out = math.prod(L["in_shape"]), math.prod(L["out_shape"])
    _weights(L, [n_out, n_in])
    _per_channel(L, n_out, ("bias", "multiplier", "shift"))


def _pool_shape(L: dict, ins: list) -> None:
    _window(L, ins)
    _same_channels(L, ins)


def _elementwise(L: dict, ins: list) -> None:
    if L["in_shape"] != L["out_shape"]:
        raise Invalid(f"in_shape {L['in_shape']} != out_shape {L['out_shape']}")


def _per_input(L: dict, keys=("input_zps", "input_multipliers", "input_shifts")) -> None:
    for k in keys:
        if k not in L and L.get("identity"):        # concat with identity: true needs no requantization
            continue
        if k not in L:
            raise Invalid(f"{k} is missing (one value per input, or identity: true)")
        if len(L[k]) != len(L["inputs"]):
            raise Invalid(f"{k} has {len(L[k])} values for {len(L['inputs'])} inputs")


def _add_shape(L: dict, ins: list) -> None:
    if len(ins) != 2:
        raise Invalid(f"add reads 2 tensors, this one {len(ins)}")
    if any(math.prod(s) != math.prod(L["out_shape"]) for s in ins):
        raise Invalid(f"inputs {ins} must match out_shape {L['out_shape']}")
    _elementwise(L, ins)
    _per_input(L)
    if len(L["multiplier"]) != 1 or len(L["shift"]) != 1:
        raise Invalid("multiplier and shift take one value each")


def _concat_shape(L: dict, ins: list) -> None:
    if len(ins) < 2:
        raise Invalid(f"concat reads 2 or more tensors, this one {len(ins)}")
    c = sum(_chw(s)[0] for s in ins)
    if c != _chw(L["out_shape"])[0] or any(_chw(s)[1:] != _chw(L["out_shape"])[1:] for s in ins):
        raise Invalid(f"concat of {ins} on channels cannot give {L['out_shape']}")
    _per_input(L)


def _shuffle_shape(L: dict, ins: list) -> None:
    _elementwise(L, ins)
    if L["in_shape"][0] % L["groups"]:
        raise Invalid(f"groups {L['groups']} must divide the {L['in_shape'][0]} channels")


def _slice_shape(L: dict, ins: list) -> None:
    c, h, w = _chw(L["in_shape"])
    if L["start"] + L["length"] > c or list(_chw(L["out_shape"])) != [L["length"], h, w]:
        raise Invalid(f"slice [{L['start']}, {L['start']} + {L['length']}) of {L['in_shape']} "
                      f"cannot give {L['out_shape']}")


def _mean_shape(L: dict, ins: list) -> None:
    if len(L["in_shape"]) != 3 or list(L["out_shape"]) != [L["in_shape"][0], 1, 1]:
        raise Invalid(f"mean over H, W of {L['in_shape']} gives [C, 1, 1], not {L['out_shape']}")


def _pad_shape(L: dict, ins: list) -> None:
    c, h, w = _chw(L["in_shape"])
    t, b, left, r = L["pads"]
    if list(L["out_shape"]) != [c, h + t + b, w + left + r]:
        raise Invalid(f"pads {L['pads']} of {L['in_shape']} give {[c, h + t + b, w + left + r]}, "
                      f"not {L['out_shape']}")


def _pads(v) -> None:
    _ints(v, 0, MAX_DIM, "padding")
    if len(v) != 4:
        raise Invalid(f"{v} needs 4 values [top, bottom, left, right]")


@dataclass(frozen=True)
class OpRule:
    """What one op's layer must hold: required and optional fields by scheme, a shape rule."""
    fields: dict                                   # field -> kind check (both schemes)
    int8: dict                                     # + required in the int8 scheme
    shift: dict | None                             # + required in the shift scheme; None: int8 only
    shape: Callable[[dict, list], None]
    optional: dict = None                          # checked when present


_REQUANT = {"input_zp": I8, "output_zp": I8, "multiplier": LIST_Q31, "shift": LIST_SHIFT,
            "act_min": I8, "act_max": I8}
_SHIFT = {"rshift": _int_in(0, 31, "rshift"), "relu": _bool}
_WEIGHTED = {"weights": LIST_I8, "weights_shape": _shape}
_WINDOW = {"kernel": _pair, "stride": _pair}
_BIAS = {"bias": lambda v: v is None or LIST_I32(v), "padding": _padding}

OPS: dict[str, OpRule] = {
    "conv2d": OpRule({**_WEIGHTED, **_WINDOW}, _REQUANT, _SHIFT, _conv_shape, _BIAS),
    "depthwise_conv2d": OpRule({**_WEIGHTED, **_WINDOW}, _REQUANT, _SHIFT, _conv_shape,
                               {**_BIAS, "depth_multiplier": POS}),
    "grouped_conv2d": OpRule({**_WEIGHTED, **_WINDOW, "groups": POS}, _REQUANT, None, _conv_shape, _BIAS),
    "fully_connected": OpRule(_WEIGHTED, _REQUANT, _SHIFT, _fc_shape, {"bias": _BIAS["bias"]}),
    "maxpool2d": OpRule(_WINDOW, {}, {}, _pool_shape, {"padding": _padding, "global": _bool}),
    "avgpool2d": OpRule(_WINDOW, {}, None, _pool_shape, {"padding": _padding, "global": _bool}),
    "add": OpRule({"input_zps": LIST_I8, "input_multipliers": LIST_Q31, "input_shifts": LIST_SHIFT,
                   "left_shift": _int_in(0, 30, "left_shift")}, _REQUANT, None, _add_shape),
    "concat": OpRule({"input_zps": LIST_I8, "output_zp": I8}, {}, None, _concat_shape,
                     {"input_multipliers": LIST_Q31, "input_shifts": LIST_SHIFT, "act_min": I8, "act_max": I8,
                      "identity": _bool}),
    "channel_shuffle": OpRule({"groups": POS}, {}, None, _shuffle_shape),
    "channel_slice": OpRule({"start": NONNEG, "length": POS}, {}, None, _slice_shape),
    # tflite-arith's ops (docs/tflite-contract): the fields their kernels read
    "softmax": OpRule({"input_zp": I8, "output_zp": I8}, {}, None, _elementwise,
                      {"beta": _number, "input_scale": _positive_number, "input_multiplier": I32,
                       "input_left_shift": SHIFT, "diff_min": I32}),
    "mean": OpRule({"input_zp": I8, "output_zp": I8, "multiplier": LIST_Q31, "shift": LIST_SHIFT},
                   {}, None, _mean_shape, {"input_scale": _positive_number, "output_scale": _positive_number}),
    "pad": OpRule({"pads": _pads}, {}, None, _pad_shape),
}


# ---- the model -----------------------------------------------------------------------

def _field(where: str, key: str, check: Callable, value) -> None:
    try:
        check(value)
    except Invalid as exc:
        raise ArtifactError(f"{where}: {key}: {exc}") from None
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise ArtifactError(f"{where}: {key}: malformed ({type(exc).__name__}: {exc})") from None


def _tensor_desc(path, key: str, t, dtypes: tuple) -> None:
    where = f"{path}: {key}"
    if not isinstance(t, dict):
        raise ArtifactError(f"{where}: expected an object with shape, dtype, scale, zero_point")
    for k, check in (("shape", _shape), ("scale", _positive_number),
                     ("zero_point", _int_in(INT32_MIN, INT32_MAX, "int32"))):
        if k not in t:
            raise ArtifactError(f"{where}: missing field '{k}'")
        _field(where, k, check, t[k])
    if t.get("dtype") not in dtypes:
        raise ArtifactError(f"{where}: dtype {t.get('dtype')!r}, expected {' or '.join(dtypes)}")


def check_layer(path, i: int, L, scheme: str, shapes: dict) -> None:
    """One layer: its fields by the op table, then its shapes against its inputs."""
    if not isinstance(L, dict):
        raise ArtifactError(f"{path}: layer {i}: expected an object, got {type(L).__name__}")
    where = f"{path}: layer {i} {L.get('name')!r} ({L.get('op')})"
    rule = OPS.get(L.get("op")) if isinstance(L.get("op"), str) else None
    if rule is None:
        raise ArtifactError(f"{where}: unknown op {L.get('op')!r}; known: {', '.join(OPS)}")
    if rule.shift is None and scheme != "int8":
        raise ArtifactError(f"{where}: op {L['op']} exists only in the int8 scheme")
    need = {"in_shape": _shape, "out_shape": _shape, **rule.fields,
            **(rule.int8 if scheme == "int8" else rule.shift)}
    for key, check in need.items():
        if key not in L:
            raise ArtifactError(f"{where}: missing field '{key}'")
        _field(where, key, check, L[key])
    for key, check in (rule.optional or {}).items():
        if key in L and not (key in need):
            _field(where, key, check, L[key])
    if "macs" in L:
        _field(where, "macs", COUNT, L["macs"])
    if scheme == "int8" and "act_min" in L and "act_max" in L and L["act_min"] > L["act_max"]:
        raise ArtifactError(f"{where}: act_min {L['act_min']} > act_max {L['act_max']}")
    ins = [shapes[n] for n in L["inputs"]]
    if math.prod(ins[0]) != math.prod(L["in_shape"]):
        raise ArtifactError(f"{where}: in_shape {L['in_shape']} does not hold its input "
                            f"{L['inputs'][0]!r} of shape {ins[0]}")
    try:
        rule.shape(L, ins)
    except Invalid as exc:
        raise ArtifactError(f"{where}: {exc}") from None
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise ArtifactError(f"{where}: malformed ({type(exc).__name__}: {exc})") from None


def check_graph(doc: dict, path) -> dict[str, list[int]]:
    """Layers in a topological order, reading known tensors, names unique; returns tensor shapes."""
    shapes = {"input": doc["input"]["shape"]}
    for i, L in enumerate(doc["layers"]):
        if not isinstance(L, dict):
            raise ArtifactError(f"{path}: layer {i}: expected an object, got {type(L).__name__}")
        name, inputs = L.get("name"), L.get("inputs")
        if not isinstance(name, str) or not name:
            raise ArtifactError(f"{path}: layer {i}: name {name!r} must be a non-empty string")
        if not isinstance(inputs, list) or not inputs or not all(isinstance(n, str) for n in inputs):
            raise ArtifactError(f"{path}: layer {i} {name!r}: inputs {inputs!r} must be a non-empty list of "
                                f"tensor names")
        missing = [n for n in inputs if n not in shapes]
        if missing:
            raise ArtifactError(f"{path}: layer {i} {name!r}: inputs: reads {missing}, not an earlier tensor "
                                f"(layers must be in topological order, without cycles)")
        if name in shapes:
            raise ArtifactError(f"{path}: layer {i} {name!r}: tensor name used twice")
        _field(f"{path}: layer {i} {name!r}", "out_shape", _shape, L.get("out_shape"))
        shapes[name] = L["out_shape"]
    return shapes


def check_model(doc, path="artifact") -> None:
    """Raise ArtifactError (one line: file, layer, field) unless `doc` is a well-formed artifact.
    The format, version and content hash are checked by the reader (golden.artifact.read_checked)."""
    if not isinstance(doc, dict):
        raise ArtifactError(f"{path}: expected a JSON object")
    if not name_ok(doc.get("model")):
        raise ArtifactError(f"{path}: model name {doc.get('model')!r} does not follow {PATTERN}")
    if doc.get("scheme") not in SCHEMES:
        raise ArtifactError(f"{path}: scheme {doc.get('scheme')!r}, expected {' or '.join(SCHEMES)}")
    _tensor_desc(path, "input", doc.get("input"), ("int8",))
    _tensor_desc(path, "output", doc.get("output"), ("int8", "int32"))
    classes = doc.get("classes")
    if classes is not None and (not isinstance(classes, list) or not classes
                                or not all(isinstance(c, str) for c in classes)):
        raise ArtifactError(f"{path}: classes must be null (regression) or a non-empty list of names")
    layers = doc.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ArtifactError(f"{path}: layers must be a non-empty list")
    shapes = check_graph(doc, path)
    for i, L in enumerate(layers):
        check_layer(path, i, L, doc["scheme"], shapes)
    last = layers[-1]
    if math.prod(last["out_shape"]) != math.prod(doc["output"]["shape"]):
        raise ArtifactError(f"{path}: output shape {doc['output']['shape']} does not hold the last layer "
                            f"{last['name']!r} ({last['out_shape']})")
    if classes is not None and len(classes) != math.prod(doc["output"]["shape"]):
        raise ArtifactError(f"{path}: {len(classes)} classes for {math.prod(doc['output']['shape'])} outputs")


# ---- the golden bundle against its model -----------------------------------------------

def check_bundle(manifest: dict, arrays: dict, doc: dict, path) -> None:
    """A bundle fits the model it claims: same qmodel hash (not stale), at least one vector, inputs
    of the model's shape and int8 values, one label each (class labels in [0, classes)), outputs and
    per-layer tensors of the model's shapes. BundleError-worthy problems raise Invalid."""
    if manifest.get("qmodel_hash") != doc["hash"]:
        raise Invalid(f"stale: built from qmodel {str(manifest.get('qmodel_hash'))[:19]}, the model is "
                      f"{doc['hash'][:19]}; rebuild it with `hil golden build --model {doc['model']}`")
    for key in ("inputs", "labels", "int_logits"):      # float_logits only where there is a float model
        if key not in arrays:
            raise Invalid(f"array '{key}' is missing")
    x, y = arrays["inputs"], arrays["labels"]
    n = len(x) if x.ndim else 0
    if n == 0:
        raise Invalid("holds no test vectors (empty bundle)")
    in_shape = tuple(doc["input"]["shape"])
    if tuple(x.shape) != (n, *in_shape) or x.dtype.kind not in "iu":
        raise Invalid(f"inputs are {x.dtype} {tuple(x.shape)}, the model takes int8 (N, {', '.join(map(str, in_shape))})")
    if x.min() < -128 or x.max() > 127:
        raise Invalid(f"inputs hold {int(x.min())}..{int(x.max())}, outside int8")
    if manifest.get("test_vectors") != n:
        raise Invalid(f"manifest says {manifest.get('test_vectors')} test vectors, the arrays hold {n}")
    if y.shape[:1] != (n,):
        raise Invalid(f"labels are {tuple(y.shape)}, expected one per vector ({n})")
    classes = doc.get("classes")
    if classes is not None:
        if y.dtype.kind not in "iu" or y.ndim != 1:
            raise Invalid(f"labels are {y.dtype} {tuple(y.shape)}, expected integer class indices")
        if y.min() < 0 or y.max() >= len(classes):
            raise Invalid(f"labels hold {int(y.min())}..{int(y.max())}, outside the model's "
                          f"{len(classes)} classes [0, {len(classes) - 1}]")
    elif y.dtype.kind != "f" or not bool(np.isfinite(y).all()):
        raise Invalid(f"labels are {y.dtype}, expected finite regression targets")
    n_out = math.prod(doc["output"]["shape"])
    for key in ("int_logits", "float_logits"):
        if key not in arrays:
            continue
        a = arrays[key]
        if a.shape[:1] != (n,) or math.prod(a.shape[1:]) != n_out:
            raise Invalid(f"{key} are {tuple(a.shape)}, expected ({n}, {n_out} values)")
    if arrays["int_logits"].dtype.kind not in "iu":
        raise Invalid(f"int_logits are {arrays['int_logits'].dtype}, expected integers")
    k = manifest.get("per_layer_vectors", 0)
    if not _is_int(k) or not 0 <= k <= n:
        raise Invalid(f"per_layer_vectors {k!r} must be in [0, {n}]")
    for i, L in enumerate(doc["layers"]):
        a = arrays.get(f"layer_{i:02d}")
        if k and (a is None or a.shape[:1] != (k,) or math.prod(a.shape[1:]) != math.prod(L["out_shape"])):
            got = "missing" if a is None else tuple(a.shape)
            raise Invalid(f"layer_{i:02d} ({L['name']!r}) is {got}, expected ({k}, {L['out_shape']})")
