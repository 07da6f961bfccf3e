"""The CIFAR-10 python-batch reader, on small files written in that format by the test."""
import pickle

import numpy as np
import pytest

from golden.data import cifar10

PER_BATCH = 20     # 2 images per class per batch


def _write_batch(path, seed, n=PER_BATCH, protocol=2):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [i % 10 for i in range(n)]
    with open(path, "wb") as f:   # CIFAR's own batches: protocol-2 pickles of a bytes-keyed dict
        pickle.dump({b"batch_label": b"testing", b"labels": labels, b"data": data,
                     b"filenames": [b"x.png"] * n}, f, protocol=protocol)
    return data, np.asarray(labels)


@pytest.fixture
def cifar_dir(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    batches = [_write_batch(root / name, i) for i, name in enumerate(cifar10.TRAIN_BATCHES)]
    test = _write_batch(root / cifar10.TEST_BATCH, 99, protocol=5)
    with open(root / cifar10.META, "wb") as f:
        pickle.dump({b"label_names": [c.encode() for c in cifar10.CLASSES], b"num_vis": 3072}, f, protocol=2)
    return root, batches, test


def test_batch_layout_is_chw(cifar_dir):
    root, batches, _ = cifar_dir
    x, y = cifar10.read_batch(root / "data_batch_1")
    data, labels = batches[0]
    assert x.shape == (PER_BATCH, 3, 32, 32) and x.dtype == np.uint8
    # the 3072 bytes are 1024 red, 1024 green, 1024 blue, each row-major 32x32
    assert x[3, 1, 2, 5] == data[3, 1024 + 2 * 32 + 5]
    assert np.array_equal(y, labels)


def test_splits_and_meta(cifar_dir, monkeypatch):
    root, batches, test = cifar_dir
    monkeypatch.setenv(cifar10.ENV, str(root))
    assert cifar10.load_meta() == cifar10.CLASSES
    tr, va, te = (cifar10.load_split(s) for s in ("train", "validation", "test"))
    assert len(tr[0]) + len(va[0]) == 5 * PER_BATCH and len(te[0]) == PER_BATCH
    assert len(va[0]) == 10 and np.bincount(va[1]).tolist() == [1] * 10   # last 10 % of each class
    assert np.array_equal(te[0].reshape(PER_BATCH, -1), test[0])
    # train + validation together are exactly the five training batches, nothing lost or repeated
    all_train = np.concatenate([b[0] for b in batches])
    got = np.concatenate([tr[0], va[0]]).reshape(-1, 3072)
    assert sorted(map(bytes, got)) == sorted(map(bytes, all_train))


def test_prepare_feeds_models_from_cifar(cifar_dir, monkeypatch):
    from golden import models
    from golden.datasets import prepare
    root, _, _ = cifar_dir
    monkeypatch.setenv(cifar10.ENV, str(root))
    info = models.ModelInfo("c", lambda: None, (3, 32, 32), "cifar10", classes=cifar10.CLASSES)
    p = prepare(info)
    x, y = p.splits["test"]
    assert tuple(x.shape) == (PER_BATCH, 3, 32, 32) and float(x.max()) <= 1.0
    dev = p.device_input(x, p.input_scale, p.input_zp)
    raw, _ = cifar10.read_batch(root / "test_batch")
    assert np.array_equal(dev.astype(np.int16) + 128, raw)     # every 8-bit value exact
    assert "CIFAR-10" in p.preprocessing["dataset"]


def test_clear_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(cifar10.ENV, raising=False)
    with pytest.raises(cifar10.CifarDataError, match="set HIL_CIFAR10"):
        cifar10.load_split("test")
    with pytest.raises(cifar10.CifarDataError, match="missing"):
        cifar10.load_split("test", tmp_path)
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(cifar10.CifarDataError, match="not a CIFAR-10 python batch"):
        cifar10.load_split("test", tmp_path)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(cifar10.CifarDataError, match=r"expected uint8 \[N, 3072\]"):
        cifar10.load_split("test", tmp_path)


def test_refuses_pickles_that_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": []}, f)
    with pytest.raises(cifar10.CifarDataError, match="refusing to unpickle builtins.print"):
        cifar10.read_batch(tmp_path / "test_batch")
