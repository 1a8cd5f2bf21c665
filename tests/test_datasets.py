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


# --------------------------------------------------------------------------- #
# MNIST: IDX reading and the download, offline with small files made here
# --------------------------------------------------------------------------- #
def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: 0, 0, 0x08, ndim, big-endian sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def _small_mnist(folder, n_train=12, n_test=5, seed=0) -> dict:
    """Write four small gzipped IDX files named like MNIST's; return {name: bytes}."""
    import gzip

    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    blobs = {}
    for name, array in arrays.items():
        blobs[name] = gzip.compress(_idx_bytes(array), mtime=0)
        (folder / name).write_bytes(blobs[name])
    return {"arrays": arrays, "blobs": blobs}


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local 'mirror' (file:// URLs) with small MNIST-named files, and the
    checksum table pointed at them."""
    made = _small_mnist(tmp_path / "mirror")
    table = {name: (hashlib.sha256(b).hexdigest(), len(b)) for name, b in made["blobs"].items()}
    monkeypatch.setattr(datasets, "MNIST_FILES", table)
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", ((tmp_path / "mirror").as_uri() + "/",))
    return made


def test_read_idx_plain_and_gzipped(tmp_path):
    import gzip

    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(_idx_bytes(a))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(_idx_bytes(a)))
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "a.idx"), a)
    np.testing.assert_array_equal(datasets.read_idx(str(tmp_path / "a.idx.gz")), a)


def test_read_idx_other_types(tmp_path):
    v = np.array([-1.5, 2.25, 1e9], dtype=">f8")
    (tmp_path / "f.idx").write_bytes(bytes([0, 0, 0x0E, 1]) + np.array([3], ">u4").tobytes() + v.tobytes())
    out = datasets.read_idx(tmp_path / "f.idx")
    np.testing.assert_array_equal(out, v)
    assert out.dtype == np.float64


def test_read_idx_truncated_corrupted_and_not_idx(tmp_path):
    import gzip

    good = _idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))
    (tmp_path / "short.idx").write_bytes(good[:-100])
    with pytest.raises(ValueError, match=r"truncated: shape \(3, 28, 28\) of uint8 needs 2368 bytes, the file has 2268"):
        datasets.read_idx(tmp_path / "short.idx")
    (tmp_path / "long.idx").write_bytes(good + b"\0")
    with pytest.raises(ValueError, match="longer than its header says"):
        datasets.read_idx(tmp_path / "long.idx")
    (tmp_path / "head.idx").write_bytes(good[:9])
    with pytest.raises(ValueError, match="truncated: its header needs 16 bytes, the file has 9"):
        datasets.read_idx(tmp_path / "head.idx")
    blob = bytearray(gzip.compress(good))
    (tmp_path / "cut.gz").write_bytes(bytes(blob[: len(blob) // 2]))  # an interrupted copy
    with pytest.raises(ValueError, match="damaged gzip file"):
        datasets.read_idx(tmp_path / "cut.gz")
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte
    (tmp_path / "flip.gz").write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="damaged gzip file"):
        datasets.read_idx(tmp_path / "flip.gz")
    (tmp_path / "png.idx").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(tmp_path / "png.idx")
    with pytest.raises(TypeError, match="path must be a file path"):
        datasets.read_idx(3)


def test_load_mnist_downloads_verifies_and_reads(tmp_path, mirror):
    cache = tmp_path / "cache"
    x, y = datasets.load_mnist("train", root=cache)
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x[:, 0], mirror["arrays"]["train-images-idx3-ubyte.gz"] / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(y, mirror["arrays"]["train-labels-idx1-ubyte.gz"])
    assert sorted(p.name for p in cache.iterdir()) == sorted(datasets.MNIST_FILES)  # no leftovers
    x_te, _ = datasets.load_mnist("test", root=cache, download=False)
    assert x_te.shape == (5, 1, 28, 28)
    x_all, y_all = datasets.load_mnist("all", root=cache)
    assert len(x_all) == len(y_all) == 17


def test_a_corrupted_mirror_is_skipped_and_leaves_nothing(tmp_path, mirror, monkeypatch):
    bad = tmp_path / "bad"
    _small_mnist(bad, seed=1)  # same names, other bytes: every checksum fails
    good = datasets.MNIST_MIRRORS[0]
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (bad.as_uri() + "/", good))
    cache = tmp_path / "cache"
    paths = datasets.download_mnist(cache)
    for name, path in paths.items():
        assert datasets._sha256(path) == datasets.MNIST_FILES[name][0]
    assert not [p for p in cache.iterdir() if p.suffix == ".part"]
    # Only the bad mirror: a clear error that names it, and no file at all.
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (bad.as_uri() + "/",))
    with pytest.raises(OSError, match=r"(?s)could not download train-images-idx3-ubyte.gz.*SHA-256 mismatch"):
        datasets.download_mnist(tmp_path / "cache2")
    assert list((tmp_path / "cache2").iterdir()) == []


def test_a_corrupted_cached_file_is_downloaded_again(tmp_path, mirror):
    cache = tmp_path / "cache"
    datasets.download_mnist(cache)
    target = cache / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:50])  # truncated in the cache
    with pytest.raises(ValueError, match="damaged gzip file"):
        datasets.load_mnist("test", root=cache, download=False)
    x, _ = datasets.load_mnist("test", root=cache)  # verifies, fetches again
    assert x.shape == (5, 1, 28, 28)


def test_an_interrupted_download_leaves_no_file(tmp_path, mirror, monkeypatch):
    class Broken:
        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("connection lost")
            return b"\x1f\x8b partial"

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(datasets.urllib.request, "urlopen", lambda url, timeout: Broken())
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="connection lost"):
        datasets.download_mnist(cache)
    assert list(cache.iterdir()) == []


def test_load_mnist_missing_files_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="is missing: call load_mnist"):
        datasets.load_mnist(root=tmp_path, download=False)
    with pytest.raises(ValueError, match="split must be one of 'train', 'test', 'all', got 'val'"):
        datasets.load_mnist("val")
    with pytest.raises(TypeError, match="download must be True or False, got 'yes'"):
        datasets.load_mnist(root=tmp_path, download="yes")
    with pytest.raises(TypeError, match="root must be a folder path"):
        datasets.load_mnist(root=5, download=False)


def test_mnist_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path))
    assert datasets.mnist_cache_dir() == str(tmp_path / "mnist")
    assert datasets.mnist_cache_dir(tmp_path / "x") == str(tmp_path / "x")


# --------------------------------------------------------------------------- #
# ImageData: images as p_data for the Trainer
# --------------------------------------------------------------------------- #
def test_image_data_samples_images_of_the_set():
    x, y = load_digits(8, "test")
    data = datasets.ImageData(x, y, name="digits")
    assert data.shape == (1, 8, 8) and data.dim == 64 and len(data) == len(x) and data.bounds is None
    batch = data.sample(500, seed=3)
    assert batch.shape == (500, 1, 8, 8) and batch.dtype == torch.float32
    torch.testing.assert_close(batch, data.sample(500, seed=3))
    # Every drawn image is one of the set, and draws cover it (with replacement).
    flat = torch.from_numpy(x.reshape(len(x), -1))
    dist = torch.cdist(batch.reshape(500, -1), flat)
    assert float(dist.min(dim=1).values.max()) == 0.0
    assert len(torch.unique(dist.argmin(dim=1))) > 0.6 * len(x)
    x[:] = 0.0  # the caller's array is copied, not shared
    assert float(data.images.abs().sum()) > 0


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((np.zeros((5, 8, 8)),), ValueError, r"images must have shape \(n, C, H, W\)"),
        ((np.zeros((1, 1, 8, 8)),), ValueError, "n >= 2"),
        ((np.full((3, 1, 2, 2), np.nan),), ValueError, "finite"),
        (("digits",), TypeError, "images must be a NumPy array"),
        ((np.zeros((3, 1, 2, 2)), [0, 1]), ValueError, "labels must be None or 3 integers"),
    ],
)
def test_image_data_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        datasets.ImageData(*args)


def test_the_trainer_trains_on_image_data():
    from ganlab.models import make_preset
    from ganlab.train import Trainer

    x, _ = load_digits(28, "test")
    torch.manual_seed(0)
    G, D = make_preset("dcgan-28")
    trainer = Trainer(G, D, datasets.ImageData(x), batch_size=16, lr_g=2e-4, lr_d=2e-4, seed=0,
                      snapshot_every=2, n_snapshot=8, z_grid_size=2, metrics_every=0)
    record = trainer.fit(4, progress=False)
    assert len(record) == 4 and np.isfinite(record.array("loss_d")).all()
    assert record.snapshots[-1]["x_fake"].shape == (8, 1, 28, 28)
    assert record.x_real.shape == (8, 1, 28, 28)
    assert trainer.sample(3, seed=0).shape == (3, 1, 28, 28)
    G_bad, _ = make_preset("dcgan-28")
    with pytest.raises(ValueError, match=r"the data needs \(4, 1, 8, 8\)"):
        Trainer(G_bad, D, datasets.ImageData(load_digits(8)[0]))
