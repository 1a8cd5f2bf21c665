"""Real images for the image chapters: handwritten digits, offline and online.

* :func:`load_digits`: 1797 handwritten digits, 8 x 8 pixels, shipped inside
  the package (no download, no extra dependency), at 8 x 8 or resized to
  28 x 28 so that the MNIST-sized architectures of the course's sources
  train on real data.
* :func:`load_mnist`: the 70 000 MNIST digits (28 x 28) for readers with
  internet (Colab): the four IDX files are downloaded once from the canonical
  mirrors, verified with SHA-256, written atomically to a cache and read by
  :func:`read_idx` (no torchvision needed).
* :class:`ImageData`: images as a distribution the
  :class:`~ganlab.train.Trainer` can sample minibatches from.

Every loader returns ``(x, y)``: ``x`` float32 of shape (n, 1, H, W) scaled to
[-1, 1] (the range of a generator that ends in tanh), ``y`` int64 labels 0..9.

The digits data
---------------
``data_files/digits.csv.gz`` is scikit-learn's copy (``sklearn.datasets.
load_digits``) of the test set of the UCI ML "Optical Recognition of
Handwritten Digits" data set (E. Alpaydin and C. Kaynak, 1998; licence CC BY
4.0; see ``data_files/README.md``).  43 people wrote digits on forms; each
32 x 32 bitmap was cut into 4 x 4 blocks and the "on" pixels of each block
counted, giving 8 x 8 images of integers 0..16.  One CSV row per image: 64
pixel values, row by row, then the label.
"""

from __future__ import annotations

import gzip
import io
from importlib import resources

import numpy as np
import torch

from ._checks import _describe, check_choice

__all__ = [
    "DIGITS_SIZES",
    "SPLITS",
    "load_digits",
    "digits_split_indices",
]

DIGITS_SIZES = (8, 28)
SPLITS = ("train", "test", "all")
_DIGITS_FILE = "digits.csv.gz"
_DIGITS_MAX = 16.0  # pixel values are counts of "on" pixels in a 4 x 4 block: 0..16


def _read_digits_file() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 x 65 table (64 pixels + label) from the package's data folder."""
    # importlib.resources reads the file from the installed package (or the
    # source tree of an editable install), wherever that is on disk.
    blob = resources.files("ganlab").joinpath("data_files", _DIGITS_FILE).read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(blob)), delimiter=",", dtype=np.int64)
    return table[:, :64], table[:, 64]


def digits_split_indices(labels: np.ndarray, split: str) -> np.ndarray:
    """Row indices of ``split`` in a fixed, stratified 80/20 split.

    The rule, with no randomness at all: within each digit class, in file
    order, every fifth image (the 5th, 10th, 15th, ... of that class) is a
    test image; the other four in five are training images.  So both splits
    hold each digit in the same proportion as the whole data set, and the
    split is the same on every machine and every version of every library.
    (1797 images: 1442 train, 355 test.)
    """
    split = check_choice("split", split, SPLITS)
    labels = np.asarray(labels)
    if split == "all":
        return np.arange(len(labels))
    is_test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        is_test[rows[4::5]] = True
    return np.flatnonzero(is_test if split == "test" else ~is_test)


def _resize(x: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (n, 1, h, w) images to (n, 1, size, size).

    ``antialias=True`` low-pass filters when shrinking (no aliasing); when
    enlarging (8 -> 28) it is plain bilinear interpolation.  Each output pixel
    is a convex combination of input pixels, so [-1, 1] stays [-1, 1].
    """
    images = torch.from_numpy(x)
    out = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear",
                                          align_corners=False, antialias=True)
    return out.clamp_(-1.0, 1.0).numpy()


def load_digits(size=8, split="all") -> tuple[np.ndarray, np.ndarray]:
    """The handwritten digits: ``(x, y)`` with ``x`` (n, 1, size, size) float32 in [-1, 1].

    Args:
        size: 8 (the data as it is) or 28 (bilinearly resized, MNIST-sized).
        split: "train" (1442 images), "test" (355) or "all" (1797); the fixed
            stratified 80/20 split of :func:`digits_split_indices`.

    Pixel values v in 0..16 become ``x = v / 8 - 1``: 0 -> -1 (background,
    black), 16 -> +1 (ink, white).  ``y`` holds the int64 labels 0..9.
    Nothing is downloaded: the data ship with the package.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) not in DIGITS_SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, DIGITS_SIZES))}, got {_describe(size)}")
    split = check_choice("split", split, SPLITS)
    pixels, labels = _read_digits_file()
    rows = digits_split_indices(labels, split)
    x = (pixels[rows].astype(np.float32) * (2.0 / _DIGITS_MAX) - 1.0).reshape(-1, 1, 8, 8)
    if int(size) != 8:
        x = _resize(x, int(size))
    return np.ascontiguousarray(x, dtype=np.float32), labels[rows].astype(np.int64)
