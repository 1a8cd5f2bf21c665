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
import hashlib
import io
import os
import tempfile
import urllib.request
from importlib import resources

import numpy as np
import torch

from ._checks import _describe, check_choice
from .data import Distribution

__all__ = [
    "DIGITS_SIZES",
    "SPLITS",
    "load_digits",
    "digits_split_indices",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "mnist_cache_dir",
    "download_mnist",
    "read_idx",
    "load_mnist",
    "ImageData",
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


# --------------------------------------------------------------------------- #
# MNIST (LeCun, Cortes & Burges 1998): download once, verify, read IDX
# --------------------------------------------------------------------------- #
# name -> (SHA-256, size in bytes) of the four gzipped IDX files, as published
# with torchvision's MNIST datasets and checked by many projects since.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
}
# Tried in order.  The original page (LeCun's) often refuses downloads now,
# so the mirrors that torchvision and TensorFlow use come first.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_MNIST_SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                 "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
# IDX type codes (the third byte of the magic number) -> big-endian dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def mnist_cache_dir(root=None) -> str:
    """Where MNIST is kept: ``root`` if given, else $GANLAB_DATA/mnist, else
    ~/.cache/ganlab/mnist."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a folder path (str or os.PathLike) or None, got {_describe(root)}")
        return os.fspath(root)
    base = os.environ.get("GANLAB_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "ganlab")
    return os.path.join(base, "mnist")


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(url: str, dest: str, sha256: str, timeout: float) -> None:
    """Download ``url`` to ``dest`` atomically: into a temporary file in the
    same folder, hashed while it streams, renamed onto ``dest`` only when the
    SHA-256 matches.  An interrupted or corrupted download leaves no file."""
    folder = os.path.dirname(dest) or "."
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(dest) + ".", suffix=".part", dir=folder)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(1 << 16), b""):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != sha256:
            raise ValueError(f"SHA-256 mismatch for {url}: got {h.hexdigest()}, expected {sha256}")
        os.replace(tmp, dest)  # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def download_mnist(root=None, *, mirrors=None, timeout=60.0) -> dict:
    """Make sure the four MNIST files are in the cache; return {name: path}.

    A cached file is used when its SHA-256 is right; a missing or wrong one is
    downloaded from the first mirror that serves the right bytes.  Raises
    ``OSError`` naming every mirror tried when none does.
    """
    folder = mnist_cache_dir(root)
    mirrors = MNIST_MIRRORS if mirrors is None else tuple(mirrors)
    if not mirrors or not all(isinstance(m, str) for m in mirrors):
        raise TypeError(f"mirrors must be a non-empty list of URL prefixes, got {_describe(mirrors)}")
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for name, (sha256, _size) in MNIST_FILES.items():
        path = os.path.join(folder, name)
        if not (os.path.isfile(path) and _sha256(path) == sha256):
            errors = []
            for mirror in mirrors:
                try:
                    _fetch(mirror.rstrip("/") + "/" + name, path, sha256, timeout)
                    break
                except (OSError, ValueError) as err:  # URLError is an OSError
                    errors.append(f"{mirror}: {err}")
            else:
                raise OSError(f"could not download {name} into {folder}; tried:\n  " + "\n  ".join(errors))
        paths[name] = path
    return paths


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a NumPy array.

    Format: two zero bytes, a type code (0x08 = unsigned byte, ...), the
    number of dimensions d, then d big-endian uint32 sizes, then the values
    in row-major order.  A file that is not IDX, is truncated or has extra
    bytes raises ``ValueError`` naming the file and what is wrong.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike), got {_describe(path)}")
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip magic
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:  # BadGzipFile is an OSError
            raise ValueError(f"{path!r} is a damaged gzip file ({err}); delete it and download it again") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path!r} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path!r} is truncated: its header needs {header} bytes, the file has {len(raw)}")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(f"{path!r} is {what}: shape {shape} of {dtype.name} needs {expected} bytes, "
                         f"the file has {len(raw)}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_mnist(split="train", *, root=None, download=True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST: ``(x, y)`` with ``x`` (n, 1, 28, 28) float32 in [-1, 1], ``y`` int64.

    Args:
        split: "train" (60 000 images), "test" (10 000) or "all" (both).
        root: the cache folder (default :func:`mnist_cache_dir`).
        download: fetch missing files (needs internet: fine on Colab); with
            False a missing file raises FileNotFoundError.

    Pixel values v in 0..255 become ``x = v / 127.5 - 1``.
    """
    split = check_choice("split", split, SPLITS)
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {_describe(download)}")
    folder = mnist_cache_dir(root)
    if download:
        download_mnist(folder)
    parts = ("train", "test") if split == "all" else (split,)
    xs, ys = [], []
    for part in parts:
        images_name, labels_name = _MNIST_SPLITS[part]
        images_path, labels_path = (os.path.join(folder, n) for n in (images_name, labels_name))
        for p in (images_path, labels_path):
            if not os.path.isfile(p):
                raise FileNotFoundError(f"{p!r} is missing: call load_mnist(download=True) (needs internet) "
                                        f"or put the MNIST files in {folder!r}")
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{images_path!r} and {labels_path!r} do not hold MNIST: images {images.shape} "
                             f"{images.dtype}, labels {labels.shape} {labels.dtype}")
        if labels.size and int(labels.max()) > 9:
            raise ValueError(f"{labels_path!r} holds labels above 9 ({int(labels.max())}): not MNIST labels")
        xs.append(images.astype(np.float32)[:, None] / 127.5 - 1.0)
        ys.append(labels.astype(np.int64))
    return np.concatenate(xs), np.concatenate(ys)


# --------------------------------------------------------------------------- #
# Images as p_data for the Trainer
# --------------------------------------------------------------------------- #
class ImageData(Distribution):
    """A set of images as the data distribution p_data of a GAN.

    ``sample(n)`` draws n images uniformly at random, with replacement (the
    empirical distribution of the set), as a float32 CPU tensor of shape
    (n, C, H, W): what :class:`~ganlab.train.Trainer` feeds D as ``x_real``.

    Args:
        images: (n, C, H, W) array or tensor (e.g. ``load_digits(28)[0]``),
            finite, usually in [-1, 1] to match a tanh generator.
        labels: optional (n,) labels, kept for evaluation (never trained on).
        name: a name for the run record.

    ``shape`` is (C, H, W) and ``dim`` = C * H * W.  There is no density and
    no plotting box (``bounds`` is None): the Trainer then records images
    but no D heatmap.
    """

    has_density = False

    def __init__(self, images, labels=None, *, name: str = "images"):
        if isinstance(images, torch.Tensor):
            images = images.detach().cpu().numpy()
        if not isinstance(images, np.ndarray) or images.dtype.kind not in "biuf":
            raise TypeError(f"images must be a NumPy array or tensor of numbers, got {_describe(images)}")
        if images.ndim != 4 or images.shape[0] < 2 or min(images.shape) < 1:
            raise ValueError(f"images must have shape (n, C, H, W) with n >= 2, got {tuple(images.shape)}")
        if not np.isfinite(images).all():
            raise ValueError("images must contain only finite values (no nan or inf)")
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (images.shape[0],) or labels.dtype.kind not in "iu":
                raise ValueError(f"labels must be None or {images.shape[0]} integers, one per image, got "
                                 f"shape {labels.shape} of {labels.dtype}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {_describe(name)}")
        self.images = torch.tensor(images, dtype=torch.float32)  # a copy, ours
        self.labels = None if labels is None else labels.astype(np.int64)
        self.shape = tuple(int(s) for s in images.shape[1:])
        self.dim = int(np.prod(self.shape))
        self.name = name
        self._bounds = None

    def __len__(self) -> int:
        return len(self.images)

    def _sample(self, n, g):
        return self.images[torch.randint(len(self.images), (n,), generator=g)]

    def __repr__(self) -> str:
        return f"<ImageData {self.name!r}: {len(self)} images of shape {self.shape}>"
