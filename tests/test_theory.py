"""Tests of ganlab.theory: Goodfellow's optimal D, and the dynamics of small games."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganlab.data import Gaussian1D, GaussianMixture, mixture_1d
from ganlab.theory import (
    BilinearGame,
    DiracGAN,
    jsd,
    kl,
    optimal_discriminator,
    optimal_value,
    trapezoid,
    value_function,
)

X = np.linspace(-15.0, 15.0, 30001)
LOG4 = math.log(4.0)

PAIRS = [
    (mixture_1d(), Gaussian1D(0.0, 1.0)),
    (mixture_1d(), mixture_1d(centres=(-1.0, 3.0), std=0.8)),
    (GaussianMixture([-3.0, 0.0, 4.0], [0.5, 1.0, 0.3], weights=[1, 2, 1]), Gaussian1D(1.0, 2.5)),
    (Gaussian1D(0.0, 1.0), Gaussian1D(6.0, 0.5)),
]


# ---------------------------------------------------------------------------
# Goodfellow et al. 2014
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("data, model", PAIRS)
def test_value_at_optimal_d_is_minus_log4_plus_2_jsd(data, model):
    p_data, p_g = data.density(X), model.density(X)
    v_star = value_function(p_data, p_g, optimal_discriminator(p_data, p_g), X)
    assert v_star == pytest.approx(-LOG4 + 2 * jsd(p_data, p_g, X), abs=1e-6)
    assert optimal_value(p_data, p_g, X) == pytest.approx(v_star, abs=1e-12)


@pytest.mark.parametrize("data, model", PAIRS)
def test_optimal_d_beats_any_other_d(data, model):
    p_data, p_g = data.density(X), model.density(X)
    v_star = optimal_value(p_data, p_g, X)
    rng = np.random.default_rng(0)
    for _ in range(5):
        other = np.clip(optimal_discriminator(p_data, p_g) + rng.uniform(-0.2, 0.2, X.shape), 1e-6, 1 - 1e-6)
        assert value_function(p_data, p_g, other, X) < v_star
    assert value_function(p_data, p_g, np.full(X.shape, 0.5), X) == pytest.approx(-LOG4, abs=1e-6)


@pytest.mark.parametrize("data", [p[0] for p in PAIRS])
def test_when_p_g_equals_p_data(data):
    p = data.density(X)
    assert np.allclose(optimal_discriminator(p, p), 0.5)
    assert optimal_value(p, p, X) == pytest.approx(-LOG4, abs=1e-6)
    assert jsd(p, p, X) == pytest.approx(0.0, abs=1e-12)
    assert kl(p, p, X) == pytest.approx(0.0, abs=1e-12)


def test_kl_and_jsd_known_values():
    p, q = Gaussian1D(0.0, 1.0).density(X), Gaussian1D(1.0, 2.0).density(X)
    # KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2/s1) + (s1^2 + (m1-m2)^2) / (2 s2^2) - 1/2
    assert kl(p, q, X) == pytest.approx(math.log(2) + 2 / 8 - 0.5, abs=1e-8)
    assert jsd(p, q, X) == pytest.approx(jsd(q, p, X), abs=1e-12)
    far = Gaussian1D(12.0, 0.5).density(X)
    assert jsd(p, far, X) == pytest.approx(math.log(2), abs=1e-8)  # disjoint supports
    d_star = optimal_discriminator(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 3.0]))
    assert list(d_star) == [0.5, 1.0, 0.0]  # 1/2 where neither density has mass
    assert kl(np.array([1.0, 1.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0])) == math.inf
    assert trapezoid(np.ones(11), np.linspace(0, 2, 11)) == pytest.approx(2.0)


# ---------------------------------------------------------------------------
# Dirac GAN (Mescheder et al. 2018)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("f, f0", [("log", 0.5), ("wasserstein", 1.0)])
def test_dirac_eigenvalues(gamma, f, f0):
    game = DiracGAN(gamma=gamma, f=f)
    assert game.f_prime_0 == f0
    root = np.sqrt(complex(gamma**2 / 4 - f0**2))
    expected = np.array([-gamma / 2 - root, -gamma / 2 + root])
    got = game.jacobian_eigenvalues()
    assert got.dtype == np.complex128
    assert np.allclose(sorted(got, key=lambda z: (z.imag, z.real)),
                       sorted(expected, key=lambda z: (z.imag, z.real)), atol=1e-12)
    if gamma == 0:
        assert np.allclose(got, [-1j * f0, 1j * f0])
    else:
        assert np.all(got.real < 0)


def test_dirac_jacobian_matches_finite_differences():
    game = DiracGAN(gamma=0.7)
    theta, psi, eps = 0.8, -1.3, 1e-6
    numeric = np.empty((2, 2))
    for j, (dt, dp) in enumerate([(eps, 0.0), (0.0, eps)]):
        numeric[:, j] = (game.vector_field(theta + dt, psi + dp) - game.vector_field(theta - dt, psi - dp)) / (2 * eps)
    assert np.allclose(game.jacobian(theta, psi), numeric, atol=1e-7)
    assert game.vector_field(np.zeros((3, 4)), np.ones((3, 4))).shape == (2, 3, 4)


def test_dirac_simultaneous_steps_spiral_out():
    path = DiracGAN().simulate(3000, 0.1, "simultaneous", theta0=1.0, psi0=1.0)
    assert path.shape == (3001, 2) and np.allclose(path[0], [1.0, 1.0])
    norms = np.linalg.norm(path, axis=1)
    assert np.all(np.diff(norms) > 0)
    assert norms[-1] > 1.5 * norms[0]


def test_dirac_alternating_steps_stay_bounded():
    path = DiracGAN().simulate(5000, 0.1, "alternating")
    norms = np.linalg.norm(path, axis=1)
    assert norms.max() < 1.1 * norms[0]
    assert norms.min() > 0.9 * norms[0]  # it orbits: no convergence either


@pytest.mark.parametrize("gamma", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("mode", ["simultaneous", "alternating"])
def test_dirac_with_r1_converges(gamma, mode):
    path = DiracGAN(gamma=gamma).simulate(3000, 0.1, mode, theta0=1.0, psi0=1.0)
    assert np.linalg.norm(path[-1]) < 1e-3


# ---------------------------------------------------------------------------
# Bilinear game V = x y
# ---------------------------------------------------------------------------


def test_bilinear_game():
    game = BilinearGame()
    assert np.allclose(game.jacobian_eigenvalues(), [-1j, 1j])
    lr, steps = 0.1, 400
    path = game.simulate(steps, lr, "simultaneous", x0=1.0, y0=0.5)
    norms = np.linalg.norm(path, axis=1)
    assert np.all(np.diff(norms) > 0)  # gradient descent-ascent does not converge
    assert norms[-1] == pytest.approx(norms[0] * (1 + lr**2) ** (steps / 2), rel=1e-9)
    alt = np.linalg.norm(game.simulate(2000, lr, "alternating"), axis=1)
    assert alt.max() < 1.2 * alt[0] and alt.min() > 0.8 * alt[0]
    assert game.value(2.0, 3.0) == 6.0


# ---------------------------------------------------------------------------
# bad inputs: each raises with a message naming the parameter
# ---------------------------------------------------------------------------

_P = Gaussian1D().density(X)

BAD_INPUTS = [
    (lambda: optimal_discriminator(-_P, _P), ValueError, "p_data"),
    (lambda: optimal_discriminator(_P, _P[:-1]), ValueError, "p_g"),
    (lambda: optimal_discriminator("p", _P), TypeError, "p_data"),
    (lambda: value_function(_P, _P, np.full(X.shape, 1.5), X), ValueError, "D"),
    (lambda: value_function(_P, _P, np.full(X.shape, 0.5), X[::-1]), ValueError, "x_grid"),
    (lambda: kl(_P, _P, X[:10]), ValueError, "x_grid"),
    (lambda: kl(_P, np.full(X.shape, np.nan), X), ValueError, "q"),
    (lambda: jsd(np.ones((3, 3)), np.ones(3), np.arange(3.0)), ValueError, "p"),
    (lambda: DiracGAN(gamma=-1.0), ValueError, "gamma"),
    (lambda: DiracGAN(gamma="1"), TypeError, "gamma"),
    (lambda: DiracGAN(f="hinge"), ValueError, "f"),
    (lambda: DiracGAN().simulate(10, 0.1, mode="sideways"), ValueError, "mode"),
    (lambda: DiracGAN().simulate(10, 0.0), ValueError, "lr"),
    (lambda: DiracGAN().simulate(2.5, 0.1), TypeError, "steps"),
    (lambda: DiracGAN().simulate(10, 0.1, theta0=float("inf")), ValueError, "theta0"),
    (lambda: DiracGAN().jacobian_eigenvalues(psi="x"), TypeError, "psi"),
    (lambda: BilinearGame().simulate(-1, 0.1), ValueError, "steps"),
    (lambda: BilinearGame().simulate(10, 0.1, y0=None), TypeError, "y0"),
]


@pytest.mark.parametrize("call, error, parameter", BAD_INPUTS)
def test_bad_inputs_raise_naming_the_parameter(call, error, parameter):
    with pytest.raises(error) as info:
        call()
    assert parameter in str(info.value)
