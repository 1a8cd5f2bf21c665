"""Tests of ganlab.data: sampling, exact densities, benchmarks, presets, own points."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from ganlab.data import (
    DISTRIBUTIONS,
    Distribution,
    Empirical,
    Gaussian1D,
    GaussianMixture,
    Uniform1D,
    get_distribution,
    grid,
    mixture_1d,
    ring,
)
from ganlab.theory import trapezoid

NAMES = sorted(DISTRIBUTIONS)
WITH_DENSITY = [n for n in NAMES if get_distribution(n).has_density]


def _own_points() -> Empirical:
    return Empirical(np.array([[0.0, 0.0], [1.0, 0.5], [0.2, 0.9], [0.7, 0.1]]), noise=0.05)


def _all_distributions():
    return [get_distribution(n) for n in NAMES] + [_own_points(), Empirical([0.0, 1.0, 3.0])]


def _integrate(dist: Distribution, n: int = 801) -> float:
    """Integral of the exact density over the plotting box widened by 25% per side."""
    axes = []
    for lo, hi in dist.bounds:
        pad = 0.25 * (hi - lo)
        axes.append(np.linspace(lo - pad, hi + pad, n if dist.dim == 2 else 20 * n))
    if dist.dim == 1:
        return trapezoid(dist.density(axes[0]), axes[0])
    p = dist.density(np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1))
    inner = np.array([trapezoid(row, axes[1]) for row in p])
    return trapezoid(inner, axes[0])


def test_registry_has_the_required_names():
    required = {"gaussian_1d", "uniform_1d", "mixture_1d", "ring", "grid", "line", "two_gaussians",
                "ring_ganlab", "three_blobs", "moons", "circles", "spiral", "checkerboard"}
    assert required <= set(DISTRIBUTIONS)
    for name in NAMES:
        assert get_distribution(name).name == name


@pytest.mark.parametrize("dist", _all_distributions(), ids=lambda d: d.name + f"-{d.dim}d")
def test_sample_is_deterministic_and_typed(dist):
    a = dist.sample(300, seed=7)
    assert a.shape == (300, dist.dim) and a.dtype == torch.float32 and a.device.type == "cpu"
    assert torch.equal(a, dist.sample(300, seed=7))
    assert not torch.equal(a, dist.sample(300, seed=8))
    # a generator takes precedence and follows the same stream as the seed
    assert torch.equal(a, dist.sample(300, seed=123, generator=torch.Generator().manual_seed(7)))
    # no seed, no generator: torch's global RNG, reproducible with torch.manual_seed
    torch.manual_seed(3)
    b = dist.sample(50)
    torch.manual_seed(3)
    assert torch.equal(b, dist.sample(50))
    assert torch.isfinite(a).all()


@pytest.mark.parametrize("dist", _all_distributions(), ids=lambda d: d.name + f"-{d.dim}d")
def test_samples_fall_in_bounds(dist):
    x = dist.sample(5000, seed=1).numpy()
    assert len(dist.bounds) == dist.dim
    inside = np.ones(len(x), dtype=bool)
    for j, (lo, hi) in enumerate(dist.bounds):
        assert lo < hi
        inside &= (x[:, j] >= lo) & (x[:, j] <= hi)
    assert inside.mean() > 0.995


def test_sampling_is_fast():
    torch.set_num_threads(1)
    for dist in _all_distributions():
        dist.sample(256, seed=0)
        start = time.perf_counter()
        for _ in range(100):
            dist.sample(256)
        per_call = (time.perf_counter() - start) / 100
        assert per_call < 5e-3, f"{dist.name}: {per_call * 1e3:.2f} ms per sample(256)"


@pytest.mark.parametrize("name", WITH_DENSITY)
def test_density_integrates_to_one(name):
    dist = get_distribution(name)
    tol = 5e-3 if name in ("checkerboard", "uniform_1d") else 1e-4  # jumps: trapezoid error O(step)
    assert _integrate(dist) == pytest.approx(1.0, abs=tol)


def test_empirical_with_noise_has_a_normalised_density():
    assert _integrate(_own_points()) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(NotImplementedError, match="noise"):
        Empirical([[0.0, 0.0], [1.0, 1.0]]).density([[0.0, 0.0]])


@pytest.mark.parametrize("name", WITH_DENSITY)
def test_density_agrees_with_samples(name):
    """Mean and mean squared norm from the density on a grid match those of 100k samples."""
    dist = get_distribution(name)
    x = dist.sample(100_000, seed=0).double().numpy()
    n = 20001 if dist.dim == 1 else 801
    axes = [np.linspace(lo - 0.25 * (hi - lo), hi + 0.25 * (hi - lo), n) for lo, hi in dist.bounds]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, dist.dim)
    w = dist.density(pts)
    w = w / w.sum()
    spread = max(hi - lo for lo, hi in dist.bounds)
    assert np.allclose(w @ pts, x.mean(0), atol=0.01 * spread)
    assert w @ (pts**2).sum(1) == pytest.approx((x**2).sum(1).mean(), rel=0.02, abs=1e-3 * spread**2)


def test_density_shapes_and_inputs():
    g = Gaussian1D(1.0, 2.0)
    x = np.linspace(-3, 3, 7)
    expected = np.exp(-0.5 * ((x - 1) / 2) ** 2) / (2 * math.sqrt(2 * math.pi))
    assert np.allclose(g.density(x), expected)
    assert g.density(x[:, None]).shape == (7,)
    assert np.allclose(g.density(torch.tensor(x)), expected)
    assert np.allclose(g.log_density(x), np.log(expected))
    r = ring()
    mesh = np.zeros((4, 5, 2))
    assert r.density(mesh).shape == (4, 5)
    assert r.density(torch.zeros(3, 2)).dtype == np.float64
    u = Uniform1D(-1.0, 1.0)
    assert np.allclose(u.density([-2.0, 0.0, 0.5, 2.0]), [0.0, 0.5, 0.5, 0.0])


def test_densities_stay_finite_far_away():
    for name in ("line", "ring_ganlab", "circles", "ring", "grid", "two_gaussians"):
        lp = get_distribution(name).log_density(np.array([[5.0, 5.0], [-3.0, 0.7], [0.0, 0.0]]))
        assert not np.any(np.isnan(lp)), name
    assert np.all(np.isneginf(get_distribution("checkerboard").log_density([[5.0, 5.0]])))
    with pytest.raises(NotImplementedError):
        get_distribution("moons").density([[0.0, 0.0]])


def test_ring_modes_at_angles_2pi_k_over_8():
    r = ring()
    assert r.centres.shape == (8, 2) and r.std == 0.01 and r.n_modes == 8
    assert np.allclose(np.linalg.norm(r.centres, axis=1), 1.0)
    angles = np.mod(np.arctan2(r.centres[:, 1], r.centres[:, 0]), 2 * np.pi)
    assert np.allclose(np.sort(angles), 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    gaps = np.linalg.norm(r.centres[:, None] - r.centres[None], axis=-1) + np.eye(8)
    assert gaps.min() > 0.7  # 8 distinct modes (linspace(0, 2 pi, 8) would repeat one)
    assert np.allclose(r.weights, 1 / 8)


def test_grid_modes():
    g = grid()
    assert g.centres.shape == (25, 2) and g.std == 0.05
    values = {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert {tuple(c) for c in g.centres} == {(a, b) for a in values for b in values}


def test_ganlab_presets_live_in_the_unit_square():
    for name in ("line", "two_gaussians", "ring_ganlab", "three_blobs"):
        dist = get_distribution(name)
        assert dist.bounds == ((0.0, 1.0), (0.0, 1.0))
        x = dist.sample(5000, seed=0).numpy()
        assert ((x >= 0) & (x <= 1)).all(1).mean() > 0.999, name
    blobs = get_distribution("three_blobs")
    assert blobs.n_modes == 3 and blobs.std == 0.03


def test_mixtures_with_weights_and_per_mode_stds():
    m = GaussianMixture([0.0, 10.0], [1.0, 2.0], weights=[3, 1])
    assert m.dim == 1 and m.std is None and np.allclose(m.weights, [0.75, 0.25])
    x = m.sample(20000, seed=0).numpy()[:, 0]
    assert (x > 5).mean() == pytest.approx(0.25, abs=0.02)
    assert x[x > 5].std() == pytest.approx(2.0, rel=0.05)
    assert mixture_1d().centres.shape == (2, 1)


def test_get_distribution():
    r = ring()
    assert get_distribution(r) is r
    assert get_distribution("ring", n_modes=6).n_modes == 6
    with pytest.raises(ValueError, match="'ring'") as info:
        get_distribution("rings")
    assert "name" in str(info.value)
    with pytest.raises(TypeError):
        get_distribution("ring", wrong_kwarg=1)


# ---------------------------------------------------------------------------
# your own points
# ---------------------------------------------------------------------------


def test_empirical_from_arrays_tensors_and_lists():
    pts = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    for source in (pts, torch.tensor(pts, dtype=torch.float32), pts.tolist()):
        e = Empirical(source)
        assert e.dim == 2 and e.points.shape == (3, 2)
        x = e.sample(100, seed=0).numpy()
        assert {tuple(row) for row in x} <= {tuple(row) for row in pts}
    one_d = Empirical(np.array([1.0, 2.0, 5.0]))
    assert one_d.dim == 1 and one_d.sample(4, seed=0).shape == (4, 1)
    assert Empirical(np.array([[1.0], [2.0]])).dim == 1


def test_empirical_from_csv(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,y\n# a comment\n0.1, 0.2\n\n0.3;0.4\n0.5\t0.6\n")
    e = Empirical(path)
    assert np.allclose(e.points, [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    assert Empirical(str(path)).dim == 2
    one_col = tmp_path / "one.csv"
    one_col.write_text("1\n2\n3\n")
    assert Empirical(one_col).dim == 1


@pytest.mark.parametrize(
    "content, match",
    [
        ("0,1\n2,abc\n", "line 2: 'abc' is not a number"),
        ("0,1\n2,3,4\n", "line 2 has 3 values"),
        ("x,y\n", "no numeric rows"),
        ("", "no numeric rows"),
        ("0,1\n", "at least 2 points"),
        ("0,1,2\n3,4,5\n", r"shape \(n, 1\), \(n, 2\)"),
        ("0,1\nnan,2\n", "finite"),
        ("a,b\nc,d\n1,2\n", "line 2"),
    ],
)
def test_bad_csv_files_give_clear_errors(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=match) as info:
        Empirical(path)
    assert "points" in str(info.value)


def test_missing_csv_file():
    with pytest.raises(FileNotFoundError, match="points"):
        Empirical("/nonexistent/points.csv")


# ---------------------------------------------------------------------------
# bad inputs: each raises with a message naming the parameter
# ---------------------------------------------------------------------------

BAD_INPUTS = [
    (lambda: Gaussian1D(std=0.0), ValueError, "std"),
    (lambda: Gaussian1D(mean="0"), TypeError, "mean"),
    (lambda: Gaussian1D(std=float("nan")), ValueError, "std"),
    (lambda: Uniform1D(low=1.0, high=0.0), ValueError, "high"),
    (lambda: GaussianMixture([[0.0, 0.0]], std=-1.0), ValueError, "std"),
    (lambda: GaussianMixture(np.zeros((2, 3)), std=1.0), ValueError, "centres"),
    (lambda: GaussianMixture([[0.0], [1.0]], std=1.0, weights=[1.0, -1.0]), ValueError, "weights"),
    (lambda: GaussianMixture([[0.0], [1.0]], std=1.0, weights=[1.0]), ValueError, "weights"),
    (lambda: GaussianMixture([[0.0], [np.inf]], std=1.0), ValueError, "centres"),
    (lambda: GaussianMixture([[0.0], [1.0]], std=[1.0, 2.0, 3.0]), ValueError, "std"),
    (lambda: mixture_1d(centres=[[0.0, 1.0]]), ValueError, "centres"),
    (lambda: ring(n_modes=0), ValueError, "n_modes"),
    (lambda: ring(radius=-1.0), ValueError, "radius"),
    (lambda: grid(n_side=2.5), TypeError, "n_side"),
    (lambda: get_distribution("spiral", noise=0.0), ValueError, "noise"),
    (lambda: get_distribution("checkerboard", n_cells=1), ValueError, "n_cells"),
    (lambda: ring().sample(0), ValueError, "n"),
    (lambda: ring().sample(10.0), TypeError, "n"),
    (lambda: ring().sample(10, seed=-1), ValueError, "seed"),
    (lambda: ring().sample(10, generator="gen"), TypeError, "generator"),
    (lambda: ring().density(np.zeros((3, 3))), ValueError, "x"),
    (lambda: ring().density("abc"), TypeError, "x"),
    (lambda: Empirical(np.zeros((1, 2))), ValueError, "points"),
    (lambda: Empirical(np.zeros((3, 3))), ValueError, "points"),
    (lambda: Empirical(np.array([[0.0, np.nan], [1.0, 1.0]])), ValueError, "points"),
    (lambda: Empirical(np.array([["a", "b"], ["c", "d"]])), TypeError, "points"),
    (lambda: Empirical({"x": 1}), TypeError, "points"),
    (lambda: Empirical(np.zeros((3, 2)), noise=-0.1), ValueError, "noise"),
    (lambda: get_distribution("nope"), ValueError, "name"),
    (lambda: get_distribution(3), TypeError, "name"),
]


@pytest.mark.parametrize("call, error, parameter", BAD_INPUTS)
def test_bad_inputs_raise_naming_the_parameter(call, error, parameter):
    with pytest.raises(error) as info:
        call()
    assert parameter in str(info.value)
