"""Tests of ganlab.metrics on hand-made sample sets with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.data import Gaussian1D, Uniform1D, grid, mixture_1d, ring
from ganlab.metrics import (
    discriminator_accuracy,
    energy_distance,
    js_1d,
    kde_1d,
    kl_1d,
    mode_counts,
    mode_stats,
    optimal_value_1d,
    sample_distance_with_floor,
    silverman_bandwidth,
    value_estimate,
)
from ganlab.theory import trapezoid

PERFECT_HQ = 1 - math.exp(-4.5)  # P(|N(0, I_2)| <= 3)


# ---------------------------------------------------------------------------
# mode coverage, HQ, rKL
# ---------------------------------------------------------------------------


def test_samples_exactly_at_the_centres():
    r = ring()
    samples = np.repeat(r.centres, 5, axis=0)
    stats = mode_stats(samples, r.centres, r.std)
    assert stats == {"modes": 8, "hq": 1.0, "rkl": 0.0}
    assert isinstance(stats["modes"], int) and isinstance(stats["hq"], float)
    assert mode_stats(torch.tensor(samples, dtype=torch.float32), r) == stats  # torch in, mixture as centres


def test_all_samples_at_one_centre():
    r = ring()
    stats = mode_stats(np.tile(r.centres[3], (100, 1)), r.centres, 0.01)
    assert stats["modes"] == 1 and stats["hq"] == 1.0
    assert stats["rkl"] == pytest.approx(math.log(8), abs=1e-12)
    assert list(mode_counts(np.tile(r.centres[3], (100, 1)), r)) == [0, 0, 0, 100, 0, 0, 0, 0]


def test_points_far_away_are_not_high_quality():
    stats = mode_stats(np.full((50, 2), 10.0), ring())
    assert stats["modes"] == 0 and stats["hq"] == 0.0 and math.isnan(stats["rkl"])


def test_hq_threshold_is_three_std_of_the_nearest_centre():
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[2.9, 0.0], [0.0, -3.1], [10.0, 2.99], [5.0, 0.0]])
    counts = mode_counts(samples, centres, 1.0)
    assert list(counts) == [1, 1]
    assert mode_stats(samples, centres, 1.0)["hq"] == 0.5
    assert mode_stats(samples, centres, 1.0, threshold=4.0)["hq"] == 0.75


@pytest.mark.parametrize("make", [ring, grid], ids=["ring", "grid"])
def test_a_perfect_sampler(make):
    data = make()
    stats = mode_stats(data.sample(2500, seed=11), data)
    assert stats["modes"] == data.n_modes
    assert stats["hq"] == pytest.approx(PERFECT_HQ, abs=0.01)
    assert 0 <= stats["rkl"] < 0.02


def test_mode_stats_in_1d():
    m = mixture_1d(centres=(-2.0, 2.0), std=0.1)
    stats = mode_stats(np.array([-2.0, -2.05, 1.9, 7.0]), m)
    assert stats["modes"] == 2 and stats["hq"] == 0.75


# ---------------------------------------------------------------------------
# sample distances
# ---------------------------------------------------------------------------


def test_energy_distance_known_values():
    x = np.random.default_rng(0).normal(size=(200, 2))
    assert energy_distance(x, x) == 0.0
    assert energy_distance(torch.tensor(x), x) == 0.0
    assert energy_distance([0.0], [1.0]) == pytest.approx(math.sqrt(2.0))  # 2|0-1| - 0 - 0
    y = x + 0.3
    assert energy_distance(x, y) == pytest.approx(energy_distance(y, x))
    assert energy_distance(x, y) > 0


def test_floor_is_below_the_distance_to_a_shifted_set():
    r = ring()
    perfect = r.sample(1000, seed=100)
    shifted = perfect + torch.tensor([0.2, 0.0])
    good = sample_distance_with_floor(perfect, r)
    bad = sample_distance_with_floor(shifted, r)
    assert good["floor"] == bad["floor"]  # fixed seeds: one floor for the whole run
    assert 0 < bad["floor"] < bad["distance"]
    assert good["distance"] < 2 * good["floor"]
    assert sample_distance_with_floor(perfect, r, n=500, seed=3) == sample_distance_with_floor(perfect, r, n=500, seed=3)


# ---------------------------------------------------------------------------
# 1-D divergences
# ---------------------------------------------------------------------------


def test_kde_integrates_to_one():
    x = Gaussian1D(0.0, 1.0).sample(500, seed=0)
    grid_ = np.linspace(-8, 8, 4001)
    assert trapezoid(kde_1d(x, grid_), grid_) == pytest.approx(1.0, abs=1e-6)
    assert silverman_bandwidth(np.zeros(10)) > 0  # a collapsed G still gets a kernel


def test_divergences_of_a_perfect_g_are_near_zero():
    data = mixture_1d()
    x = data.sample(2500, seed=1)
    assert kl_1d(x, data) < 0.01
    assert kl_1d(x, data, direction="reverse") < 0.01
    assert js_1d(x, data) < 0.005
    assert optimal_value_1d(x, data) == pytest.approx(-math.log(4), abs=0.01)
    u = Uniform1D()
    assert kl_1d(u.sample(2500, seed=0), u, direction="reverse") < 0.01  # finite: both sides smoothed


def test_divergences_grow_with_the_error():
    data = mixture_1d()
    good, shifted = data.sample(2500, seed=1), data.sample(2500, seed=1) + 0.5
    one_mode = Gaussian1D(2.0, 0.5).sample(2500, seed=1)
    assert kl_1d(good, data) < kl_1d(shifted, data) < kl_1d(one_mode, data)
    assert js_1d(good, data) < js_1d(shifted, data) < js_1d(one_mode, data) <= math.log(2)
    # missing one of two equal modes: reverse KL ~ log 2, JSD well above 0
    assert kl_1d(one_mode, data, direction="reverse") == pytest.approx(math.log(2), abs=0.02)
    far = Gaussian1D(30.0, 0.5).sample(500, seed=0)
    assert js_1d(far, data) == pytest.approx(math.log(2), abs=1e-6)
    assert math.isfinite(kl_1d(far, data))


# ---------------------------------------------------------------------------
# what D's logits say
# ---------------------------------------------------------------------------


def test_value_estimate():
    assert value_estimate(torch.zeros(10, 1), np.zeros(7)) == pytest.approx(-math.log(4))
    real, fake = np.array([2.0, -1.0]), np.array([0.5])
    expected = np.mean(np.log(1 / (1 + np.exp(-real)))) + np.log(1 - 1 / (1 + np.exp(-fake[0])))
    assert value_estimate(real, fake) == pytest.approx(expected)
    assert math.isfinite(value_estimate([1000.0], [-1000.0]))


def test_discriminator_accuracy():
    acc = discriminator_accuracy(torch.tensor([[1.0], [2.0], [-1.0]]), torch.tensor([-1.0, -3.0]))
    assert acc == {"accuracy": 0.8, "real": pytest.approx(2 / 3), "fake": 1.0}
    assert discriminator_accuracy(np.zeros(4), np.zeros(4))["accuracy"] == 0.5  # D = 1/2: a coin
    assert discriminator_accuracy([-1.0], [1.0])["accuracy"] == 0.0


# ---------------------------------------------------------------------------
# bad inputs: each raises with a message naming the parameter
# ---------------------------------------------------------------------------

_R = ring()
_X = np.zeros((10, 2))

BAD_INPUTS = [
    (lambda: mode_stats(np.zeros((10, 3)), _R.centres, 0.01), ValueError, "samples"),
    (lambda: mode_stats(_X, _R.centres, 0.0), ValueError, "std"),
    (lambda: mode_stats(_X, _R.centres, "0.01"), TypeError, "std"),
    (lambda: mode_stats(_X, _R.centres), TypeError, "std"),
    (lambda: mode_stats(_X, "centres", 0.01), TypeError, "centres"),
    (lambda: mode_stats(_X, _R, threshold=-1.0), ValueError, "threshold"),
    (lambda: mode_stats(np.full((3, 2), np.nan), _R), ValueError, "samples"),
    (lambda: mode_stats("samples", _R), TypeError, "samples"),
    (lambda: mode_stats(np.zeros((0, 2)), _R), ValueError, "samples"),
    (lambda: energy_distance(_X, np.zeros((5, 1))), ValueError, "y"),
    (lambda: energy_distance(np.zeros((2, 2, 2)), _X), ValueError, "x"),
    (lambda: sample_distance_with_floor(_X, "ring"), TypeError, "distribution"),
    (lambda: sample_distance_with_floor(np.zeros((10, 1)), _R), ValueError, "x_fake"),
    (lambda: sample_distance_with_floor(_X, _R, n=0), ValueError, "n"),
    (lambda: sample_distance_with_floor(_X, _R, seed=-2), ValueError, "seed"),
    (lambda: kl_1d(np.zeros(10), _R), ValueError, "distribution"),
    (lambda: kl_1d(np.zeros(10), Gaussian1D(), direction="both"), ValueError, "direction"),
    (lambda: kl_1d(np.zeros(10), Gaussian1D(), bandwidth=0.0), ValueError, "bandwidth"),
    (lambda: js_1d(np.zeros(10), Gaussian1D(), n_grid=3), ValueError, "n_grid"),
    (lambda: js_1d(np.zeros(10), Gaussian1D(), smooth_data="yes"), TypeError, "smooth_data"),
    (lambda: js_1d(np.zeros((10, 2)), Gaussian1D()), ValueError, "x_fake"),
    (lambda: kde_1d(np.zeros(10), np.linspace(0, 1, 5), bandwidth=-1.0), ValueError, "bandwidth"),
    (lambda: value_estimate(np.zeros((4, 2)), np.zeros(4)), ValueError, "real_logits"),
    (lambda: value_estimate(np.zeros(4), [np.inf]), ValueError, "fake_logits"),
    (lambda: discriminator_accuracy([], np.zeros(4)), ValueError, "real_logits"),
    (lambda: discriminator_accuracy(np.zeros(4), None), TypeError, "fake_logits"),
]


@pytest.mark.parametrize("call, error, parameter", BAD_INPUTS)
def test_bad_inputs_raise_naming_the_parameter(call, error, parameter):
    with pytest.raises(error) as info:
        call()
    assert parameter in str(info.value)
