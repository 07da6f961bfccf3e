"""Make the int8 `.tflite` fixtures of tests/data/tflite/ with TensorFlow (the only TensorFlow user).

Runs in its own venv, outside the repository and outside hil's dependencies:

    python3 -m venv /work/tfvenv && /work/tfvenv/bin/pip install tensorflow-cpu==2.21.0 numpy
    .venv/bin/python scripts/export_tflite_training_data.py --out /tmp/hil-tfdata   # hil's data, NHWC
    /work/tfvenv/bin/python scripts/make_tflite_fixtures.py --data /tmp/hil-tfdata --out tests/data/tflite

Each fixture is a Keras model converted by `tf.lite.TFLiteConverter` the way labs do it (a
representative data set, `Optimize.DEFAULT`, `TFLITE_BUILTINS_INT8`, int8 input and output), plus a
small test set `<name>.npz` (`x` float NHWC as the float model takes it, `y` labels or targets) and,
where small, the float model as `<name>.float.tflite`. Everything is seeded; `MANIFEST.json`
records what made each file (versions, recipe, sha256, accuracy of the float model on the test set).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

L = tf.keras.layers
SEED = 0


def seed_all(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)


def bn_relu(x, momentum: float = 0.99):
    return L.ReLU()(L.BatchNormalization(momentum=momentum)(x))


# Brief training (a few hundred steps): Keras' default moving-average momentum 0.99 would leave the
# inference-time statistics near their initial values, so the short recipes use 0.9.
SHORT_BN = 0.9


def kws_dscnn(classes: int) -> tf.keras.Model:
    """MLPerf Tiny's KWS DS-CNN: conv 64 (10,4) stride 2 same, 4x (dw 3x3 same + pw 64), avg pool, FC."""
    inp = L.Input((49, 10, 1))
    x = bn_relu(L.Conv2D(64, (10, 4), strides=2, padding="same", use_bias=False)(inp))
    for _ in range(4):
        x = bn_relu(L.DepthwiseConv2D(3, padding="same", use_bias=False)(x))
        x = bn_relu(L.Conv2D(64, 1, use_bias=False)(x))
    x = L.AveragePooling2D(pool_size=(25, 5))(x)
    x = L.Flatten()(x)
    return tf.keras.Model(inp, L.Softmax()(L.Dense(classes)(x)), name="kws_dscnn_tfl")


def resnet8(classes: int) -> tf.keras.Model:
    """MLPerf Tiny's ResNet-8 (16/32/64 filters) on 32x32x3."""
    inp = L.Input((32, 32, 3))
    x = bn_relu(L.Conv2D(16, 3, padding="same")(inp), SHORT_BN)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = bn_relu(L.Conv2D(filters, 3, strides=stride, padding="same")(x), SHORT_BN)
        y = L.BatchNormalization(momentum=SHORT_BN)(L.Conv2D(filters, 3, padding="same")(y))
        if stride != 1:
            x = L.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = L.ReLU()(L.Add()([x, y]))
    x = L.Flatten()(L.AveragePooling2D(pool_size=8)(x))
    return tf.keras.Model(inp, L.Softmax()(L.Dense(classes)(x)), name="resnet8_tfl")


def mobilenet_v1_025(classes: int) -> tf.keras.Model:
    """MobileNetV1 alpha 0.25 at 96x96x3 (MLPerf Tiny's visual wake words shape)."""
    inp = L.Input((96, 96, 3))
    x = bn_relu(L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inp), SHORT_BN)
    for filters, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1),
                            (128, 1), (128, 1), (128, 1), (256, 2), (256, 1)):
        x = bn_relu(L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x), SHORT_BN)
        x = bn_relu(L.Conv2D(filters, 1, use_bias=False)(x), SHORT_BN)
    x = L.Flatten()(L.AveragePooling2D(pool_size=3)(x))
    return tf.keras.Model(inp, L.Softmax()(L.Dense(classes)(x)), name="mobilenet_v1_025_tfl")


def ad_autoencoder() -> tf.keras.Model:
    """MLPerf Tiny's anomaly-detection autoencoder: 640-128x4-8-128x4-640, fully connected."""
    inp = L.Input((640,))
    x = inp
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = L.Dense(units, activation="relu")(x)
    return tf.keras.Model(inp, L.Dense(640)(x), name="ad_autoencoder_tfl")


def ops_mix(classes: int) -> tf.keras.Model:
    """One small model holding MEAN, CONCATENATION, PAD, MAX_POOL_2D and a depthwise conv with
    depth_multiplier=2 (plus a stride-2 SAME conv: asymmetric padding)."""
    inp = L.Input((16, 16, 3))
    x = L.Conv2D(8, 3, activation="relu")(inp)                               # 14x14x8, VALID
    x = L.ZeroPadding2D(((1, 1), (1, 1)))(x)                                  # PAD -> 16x16
    x = L.MaxPooling2D(2)(x)                                                  # 8x8
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(x)   # 8x8x16
    a = L.Conv2D(8, 1, activation="relu")(x)
    b = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)      # 4x4x8, asymmetric
    a = L.MaxPooling2D(2)(a)                                                  # 4x4x8
    x = L.Concatenate()([a, b])                                               # 4x4x16
    x = L.GlobalAveragePooling2D()(x)                                         # MEAN over H, W
    return tf.keras.Model(inp, L.Softmax()(L.Dense(classes)(x)), name="ops_mix_tfl")


def convert(model: tf.keras.Model, rep: np.ndarray) -> bytes:
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rep[i:i + 1].astype(np.float32)] for i in range(len(rep)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def convert_float(model: tf.keras.Model) -> bytes:
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def train(model, x, y, epochs: int, loss="sparse_categorical_crossentropy", batch=64) -> None:
    model.compile(optimizer=tf.keras.optimizers.Adam(0.003), loss=loss,
                  metrics=["accuracy"] if "categorical" in loss else [])
    model.fit(x, y, epochs=epochs, batch_size=batch, verbose=2, shuffle=True)


def stratified(y: np.ndarray, n: int, seed: int = SEED) -> np.ndarray:
    """n indices, about the same number per class, sorted."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    out, k = [], 0
    while len(out) < n:
        for p in per:
            if k < len(p) and len(out) < n:
                out.append(p[k])
        k += 1
    return np.sort(np.array(out))


def upsample3(x: np.ndarray) -> np.ndarray:
    """32x32 -> 96x96 by pixel repetition (Colour-MNIST-32 at MobileNet's input size)."""
    return x.repeat(3, axis=1).repeat(3, axis=2)


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="folder with kws.npz and colour_mnist.npz")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--merge", nargs="*", type=Path, default=None,
                    help="only merge these folders' MANIFEST.json into --out's (fixtures made in parallel runs)")
    args = ap.parse_args()
    if args.merge is not None:
        return merge(args.out, args.merge)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    class Lazy(dict):       # data sets are loaded when a fixture needs one
        def __missing__(self, key):
            if args.data is None:
                raise SystemExit(f"--data: a folder with {key}.npz is needed (scripts/export_tflite_training_data.py)")
            self[key] = np.load(args.data / f"{key}.npz")
            return self[key]
    sets = Lazy()

    def rec_float_acc(model, x, y):
        return float((model.predict(x, verbose=0).argmax(-1) == y).mean())

    recipes = {}

    def kws_fixture():
        kws = sets["kws"]
        seed_all()
        m = kws_dscnn(6)
        train(m, kws["x_train"], kws["y_train"], epochs=8)
        idx = stratified(kws["y_test"], 120)
        return m, kws["x_train"][:200], kws["x_test"][idx], kws["y_test"][idx], True, dict(
            data="hil kws (synthetic Speech-Commands-style, 6 classes, 49x10 MFCC, normalised)",
            training="8 epochs, Adam 0.003, batch 64, on the train split", test="120 of the test split")

    def resnet_fixture():
        cm = sets["colour_mnist"]
        seed_all()
        m = resnet8(10)
        train(m, cm["x_train"][:4000], cm["y_train"][:4000], epochs=3)
        idx = stratified(cm["y_test"], 60)
        return m, cm["x_train"][:200], cm["x_test"][idx], cm["y_test"][idx], True, dict(
            data="Colour-MNIST-32 (hil's stand-in, not CIFAR-10), pixel/255, NHWC",
            training="3 epochs, Adam 0.003, batch 64, on 4000 training images", test="60 of the test split")

    def mobilenet_fixture():
        cm = sets["colour_mnist"]
        seed_all()
        m = mobilenet_v1_025(2)
        ytr = (cm["y_train"][:2000] >= 5).astype(np.int64)
        train(m, upsample3(cm["x_train"][:2000]), ytr, epochs=2)
        idx = stratified(cm["y_test"], 24)
        return m, upsample3(cm["x_train"][:100]), upsample3(cm["x_test"][idx]), \
            (cm["y_test"][idx] >= 5).astype(np.int64), False, dict(
                data="Colour-MNIST-32 upsampled 3x to 96x96; class = digit >= 5",
                training="2 epochs, Adam 0.003, batch 64, on 2000 images", test="24 of the test split")

    def ad_fixture():
        seed_all()
        m = ad_autoencoder()              # random weights: arithmetic, not accuracy, is the point
        rng = np.random.default_rng(SEED)
        x = rng.normal(0, 1, (200, 640)).astype(np.float32)
        return m, x[:100], x[100:150], x[100:150], False, dict(
            data="seeded N(0, 1) vectors of 640 floats; y = x (reconstruction target)",
            training="none (Keras' seeded initial weights)", test="50 vectors")

    def ops_fixture():
        seed_all()
        m = ops_mix(4)
        rng = np.random.default_rng(SEED + 1)
        x = rng.uniform(-1, 1, (140, 16, 16, 3)).astype(np.float32)
        y = rng.integers(0, 4, 140)
        return m, x[:100], x[100:], y[100:], True, dict(
            data="seeded uniform(-1, 1) 16x16x3 inputs, random labels (accuracy is not the point)",
            training="none (Keras' seeded initial weights)", test="40 vectors")

    def flatten_fixture():
        seed_all()
        inp = L.Input((8, 8, 3))
        x = L.Conv2D(4, 3, strides=2, activation="relu")(inp)                     # 3x3x4, VALID
        m = tf.keras.Model(inp, L.Dense(5)(L.Flatten()(x)), name="flatten_fc_tfl")
        rng = np.random.default_rng(SEED + 3)
        x = rng.uniform(-1, 1, (130, 8, 8, 3)).astype(np.float32)
        return m, x[:100], x[100:], rng.integers(0, 5, 30), True, dict(
            data="seeded uniform(-1, 1) 8x8x3 inputs, random labels",
            training="none (Keras' seeded initial weights)",
            test="30 vectors: a FULLY_CONNECTED reading a flattened 3x3x4 NHWC tensor (column order)")

    def tanh_fixture():
        seed_all()
        inp = L.Input((8,))
        m = tf.keras.Model(inp, L.Dense(4, activation="tanh")(inp), name="unsupported_tanh_tfl")
        rng = np.random.default_rng(SEED + 2)
        x = rng.uniform(-1, 1, (40, 8)).astype(np.float32)
        return m, x[:30], x[30:], np.zeros(10, np.int64), False, dict(
            data="seeded uniform(-1, 1) vectors of 8", training="none",
            test="10 vectors (the import refuses the TANH operator first)")

    makers = {"kws_dscnn_tfl": kws_fixture, "resnet8_tfl": resnet_fixture,
              "mobilenet_v1_025_tfl": mobilenet_fixture, "ad_autoencoder_tfl": ad_fixture,
              "ops_mix_tfl": ops_fixture, "flatten_fc_tfl": flatten_fixture,
              "unsupported_tanh_tfl": tanh_fixture}
    for name, make in makers.items():
        if args.only and name not in args.only:
            continue
        model, rep, x, y, keep_float, how = make()
        q = convert(model, rep.astype(np.float32))
        (args.out / f"{name}.tflite").write_bytes(q)
        buf = args.out / f"{name}.npz"
        np.savez_compressed(buf, x=x.astype(np.float32), y=y)
        files = {f"{name}.tflite": sha256(q), f"{name}.npz": sha256(buf.read_bytes())}
        if keep_float:
            f = convert_float(model)
            (args.out / f"{name}.float.tflite").write_bytes(f)
            files[f"{name}.float.tflite"] = sha256(f)
        rec = dict(how, keras_model=model.name, params=int(model.count_params()), files=files,
                   converter="tf.lite.TFLiteConverter.from_keras_model, optimizations=[Optimize.DEFAULT], "
                             f"representative_dataset={len(rep)} training inputs, "
                             "supported_ops=[TFLITE_BUILTINS_INT8], inference_input/output_type=int8",
                   tensorflow=tf.__version__, numpy=np.__version__, seed=SEED, vectors=int(len(x)))
        if y.ndim == 1:
            rec["float_test_accuracy"] = rec_float_acc(model, x, y)
        manifest[name] = rec
        print(name, {k: v for k, v in rec.items() if k in ("params", "float_test_accuracy")}, flush=True)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    write_readme(args.out, manifest)


def write_readme(out: Path, manifest: dict) -> None:
    readme = ["# tests/data/tflite: int8 `.tflite` fixtures", "",
              "Made by `scripts/make_tflite_fixtures.py` (TensorFlow, in its own venv; see its docstring).",
              "`MANIFEST.json` records what made each file. Per fixture: `<name>.tflite` (int8 in, int8 out),",
              "`<name>.npz` (`x` float NHWC, `y` labels or targets), and `<name>.float.tflite` where small.", "",
              "| fixture | params | data | training | test set | float accuracy |", "|---|---|---|---|---|---|"]
    for n, r in sorted(manifest.items()):
        acc = f"{r['float_test_accuracy']:.1%}" if "float_test_accuracy" in r else "-"
        readme.append(f"| `{n}` | {r['params']:,} | {r['data']} | {r['training']} | {r['test']} | {acc} |")
    (out / "README.md").write_text("\n".join(readme) + "\n")


def merge(out: Path, parts: list[Path]) -> None:
    """Merge the manifests of fixtures made in separate runs (--out folders) into out's."""
    path = out / "MANIFEST.json"
    manifest = json.loads(path.read_text()) if path.exists() else {}
    for p in parts:
        manifest.update(json.loads((p / "MANIFEST.json").read_text()))
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    write_readme(out, manifest)


if __name__ == "__main__":
    main()
