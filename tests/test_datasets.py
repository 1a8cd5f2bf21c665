"""Tests of ganlab.datasets: the shipped digits, the MNIST loader (offline), ImageData."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from ganlab import datasets
from ganlab.datasets import digits_split_indices, load_digits


# --------------------------------------------------------------------------- #
# load_digits
# --------------------------------------------------------------------------- #
def test_digits_file_is_the_published_one():
    """The shipped file is scikit-learn's copy of the UCI test set, unchanged."""
    from importlib import resources

    blob = resources.files("ganlab").joinpath("data_files", "digits.csv.gz").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


@pytest.mark.parametrize("size", [8, 28])
def test_load_digits_shapes_range_and_labels(size):
    x, y = load_digits(size=size)
    assert x.shape == (1797, 1, size, size) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    # The class sizes of the UCI test set (scikit-learn's description of it).
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_scaling_maps_0_to_minus_1_and_16_to_plus_1():
    x, _ = load_digits(8)
    levels = np.unique(x)
    np.testing.assert_allclose(levels, np.arange(17) / 8.0 - 1.0, atol=1e-7)
    # The first image of the file, pixel (0, 2) is 5 and pixel (0, 3) is 13.
    np.testing.assert_allclose(x[0, 0, 0, 2:4], [5 / 8 - 1, 13 / 8 - 1])


def test_digits_28_is_a_resize_of_8():
    """Downsampling the 28 x 28 images back to 8 x 8 gives nearly the originals,
    and the mean brightness of each image is kept."""
    x8, _ = load_digits(8)
    x28, _ = load_digits(28)
    back = torch.nn.functional.interpolate(torch.from_numpy(x28), size=(8, 8), mode="area").numpy()
    assert np.abs(back - x8).mean() < 0.2  # bilinear blurs a little: 0.16 of a range of 2
    np.testing.assert_allclose(x28.mean(axis=(1, 2, 3)), x8.mean(axis=(1, 2, 3)), atol=0.05)


def test_split_is_fixed_stratified_and_disjoint():
    _, y = load_digits(8)
    train, test = digits_split_indices(y, "train"), digits_split_indices(y, "test")
    assert len(train) + len(test) == len(y) and not set(train) & set(test)
    assert (len(train), len(test)) == (1442, 355)
    counts = np.bincount(y)
    # Every class: floor(n_c / 5) images in the test split (every fifth one).
    assert np.bincount(y[test], minlength=10).tolist() == (counts // 5).tolist()
    x_tr, y_tr = load_digits(8, "train")
    x_te, y_te = load_digits(8, "test")
    x_all, _ = load_digits(8, "all")
    np.testing.assert_array_equal(x_tr, x_all[train])
    np.testing.assert_array_equal(x_te, x_all[test])
    np.testing.assert_array_equal(y_te, y[test])
    # The same call gives the same split.
    np.testing.assert_array_equal(load_digits(8, "test")[0], x_te)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"size": 16}, ValueError, "size must be one of 8, 28, got 16"),
        ({"size": "8"}, ValueError, "size must be one of 8, 28"),
        ({"size": True}, ValueError, "size must be one of"),
        ({"split": "valid"}, ValueError, "split must be one of 'train', 'test', 'all', got 'valid'"),
        ({"split": None}, ValueError, "split must be one of"),
    ],
)
def test_load_digits_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits(**kwargs)
