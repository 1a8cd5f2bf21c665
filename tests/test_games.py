"""Tests of ganlab.games: zero-sum matrix games, the Dirac GAN with instance noise, self-checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.games import (
    NoisyDiracGAN,
    check_critical_sigma,
    check_dirac_jacobian,
    check_equilibrium,
    deviation_gains,
    expected_payoff,
    is_equilibrium,
    pure_equilibria,
    solve_2x2,
)
from ganlab.theory import BilinearGame, DiracGAN

PENNIES = np.array([[1.0, -1.0], [-1.0, 1.0]])


# ---------------------------------------------------------------------------
# matrix games
# ---------------------------------------------------------------------------


def test_matching_pennies_has_only_the_mixed_equilibrium():
    assert pure_equilibria(PENNIES) == []
    p, q, value = solve_2x2(PENNIES)
    assert (p, q, value) == pytest.approx((0.5, 0.5, 0.0))
    assert deviation_gains(PENNIES, p, q) == pytest.approx((0.0, 0.0))
    assert is_equilibrium(PENNIES, [0.5, 0.5], [0.5, 0.5])
    assert not is_equilibrium(PENNIES, 0.6, 0.5)


def test_mixed_payoff_of_pennies_is_the_bilinear_game():
    rng = np.random.default_rng(0)
    for p, q in rng.uniform(0, 1, (20, 2)):
        assert expected_payoff(PENNIES, p, q) == pytest.approx((2 * p - 1) * (2 * q - 1))
        assert expected_payoff(PENNIES, p, q) == pytest.approx(float(BilinearGame().value(2 * q - 1, 2 * p - 1)))


def test_saddle_point_is_found_and_solve_2x2_refuses_it():
    A = np.array([[3.0, 1.0], [4.0, 2.0]])  # row 1 dominates; column 1 is cheaper: saddle at (1, 1)
    assert pure_equilibria(A) == [(1, 1)]
    assert is_equilibrium(A, 0.0, 0.0)  # p = P(row 0) = 0, q = P(col 0) = 0
    with pytest.raises(ValueError, match="pure equilibrium"):
        solve_2x2(A)


@pytest.mark.parametrize("A", [[[2, -1], [-1, 1]], [[0, 3], [2, 1]], [[5, -2], [-3, 4]]])
def test_mixed_equilibrium_leaves_nobody_a_gain(A):
    p, q, value = solve_2x2(A)
    assert 0 < p < 1 and 0 < q < 1
    assert max(deviation_gains(A, p, q)) < 1e-12
    for other in np.linspace(0, 1, 11):  # every deviation pays the same: indifference
        assert expected_payoff(A, other, q) == pytest.approx(value)
        assert expected_payoff(A, p, other) == pytest.approx(value)


def test_three_by_three_rock_paper_scissors():
    rps = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    uniform = np.full(3, 1 / 3)
    assert pure_equilibria(rps) == []
    assert is_equilibrium(rps, uniform, uniform)
    assert not is_equilibrium(rps, [1, 0, 0], uniform)


@pytest.mark.parametrize("call, error, match", [
    (lambda: expected_payoff([1, 2], 0.5, 0.5), ValueError, "2-D"),
    (lambda: expected_payoff(PENNIES, 1.5, 0.5), ValueError, "p must be"),
    (lambda: expected_payoff(PENNIES, [0.2, 0.2], 0.5), ValueError, "sum to 1"),
    (lambda: expected_payoff(PENNIES, 0.5, [1, 0, 0]), ValueError, "length 2"),
    (lambda: solve_2x2(np.eye(3)), ValueError, "2 x 2"),
    (lambda: is_equilibrium(PENNIES, 0.5, 0.5, tol=-1), ValueError, "tol"),
    (lambda: expected_payoff([["a", "b"], ["c", "d"]], 0.5, 0.5), TypeError, "A must be"),
])
def test_bad_arguments_name_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------
# the Dirac GAN with instance noise
# ---------------------------------------------------------------------------


def test_no_noise_is_the_plain_dirac_gan():
    theta, psi = np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-2, 2, 7))
    for gamma in (0.0, 0.7):
        plain, noisy = DiracGAN(gamma=gamma), NoisyDiracGAN(sigma=0.0, gamma=gamma)
        assert np.allclose(noisy.vector_field(theta, psi), plain.vector_field(theta, psi), atol=1e-12)
        assert np.allclose(noisy.jacobian(0.3, -0.4), plain.jacobian(0.3, -0.4), atol=1e-12)


@pytest.mark.parametrize("sigma", [0.5, 1.0, math.sqrt(2.0), 2.5])
def test_instance_noise_is_r1_with_gamma_sigma_squared_over_two(sigma):
    noisy = NoisyDiracGAN(sigma=sigma)
    assert noisy.r1_equivalent_gamma == pytest.approx(sigma**2 / 2)
    assert np.allclose(noisy.jacobian(), DiracGAN(gamma=sigma**2 / 2).jacobian(), atol=1e-10)
    # Mescheder et al. (2018): f''(0) sigma^2 +- sqrt(f''(0)^2 sigma^4 - f'(0)^2), f''(0) = -1/4
    root = np.sqrt(complex(sigma**4 / 16 - 0.25))
    expected = np.sort_complex(np.array([-sigma**2 / 4 - root, -sigma**2 / 4 + root]))
    assert np.allclose(np.sort_complex(noisy.jacobian_eigenvalues()), expected, atol=1e-8)


def test_noisy_jacobian_matches_finite_differences_of_the_field():
    game, h = NoisyDiracGAN(sigma=0.8, gamma=0.3), 1e-6
    for theta, psi in [(0.4, -0.8), (-1.2, 0.5), (0.0, 1.0)]:
        d_theta = (game.vector_field(theta + h, psi) - game.vector_field(theta - h, psi)) / (2 * h)
        d_psi = (game.vector_field(theta, psi + h) - game.vector_field(theta, psi - h)) / (2 * h)
        assert np.allclose(np.stack([d_theta, d_psi], axis=1), game.jacobian(theta, psi), atol=1e-7)


def test_noisy_field_matches_monte_carlo():
    game = NoisyDiracGAN(sigma=1.0)
    eps = np.random.default_rng(0).normal(0.0, 1.0, 400_000)
    theta, psi = 0.7, -0.6
    fp = lambda t: 1 / (1 + np.exp(t))  # noqa: E731  f'(t) = sigmoid(-t)
    v_theta = -np.mean(fp(psi * (theta + eps))) * psi
    v_psi = np.mean(fp(psi * (theta + eps)) * (theta + eps)) - np.mean(fp(-psi * eps) * eps)
    assert np.allclose(game.vector_field(theta, psi), [v_theta, v_psi], atol=5e-3)


def test_noise_makes_the_steps_converge():
    path = NoisyDiracGAN(sigma=1.0).simulate(400, 0.2)
    assert np.hypot(*path[-1]) < 1e-4
    assert np.hypot(*DiracGAN().simulate(400, 0.2)[-1]) > 1.4


def test_noisy_dirac_checks_its_arguments():
    with pytest.raises(ValueError, match="sigma"):
        NoisyDiracGAN(sigma=-1.0)
    with pytest.raises(ValueError, match="n_quad"):
        NoisyDiracGAN(n_quad=0)


# ---------------------------------------------------------------------------
# self-checks
# ---------------------------------------------------------------------------


def test_check_dirac_jacobian(capsys):
    assert check_dirac_jacobian(torch.tensor([[0.0, -0.5], [0.5, 0.0]]))
    assert "right" in capsys.readouterr().out
    assert check_dirac_jacobian(np.array([[0.0, -0.5], [0.5, -1.0]]), gamma=1.0)
    assert not check_dirac_jacobian(np.array([[0.0, 0.5], [-0.5, 0.0]]))
    assert "opposite sign" in capsys.readouterr().out
    assert not check_dirac_jacobian(np.array([[0.0, -0.5], [0.5, 0.0]]), gamma=1.0)
    assert "without the penalty" in capsys.readouterr().out
    assert not check_dirac_jacobian(np.zeros(3))
    assert "2 x 2" in capsys.readouterr().out
    assert not check_dirac_jacobian(np.eye(2))
    assert "Hint" in capsys.readouterr().out


def test_check_equilibrium(capsys):
    assert check_equilibrium([[2, -1], [-1, 1]], 0.4, 0.4)
    assert "0.2000" in capsys.readouterr().out
    assert not check_equilibrium(PENNIES, 0.5, 0.7)
    out = capsys.readouterr().out
    assert "row player would gain" in out and "Hint" in out


def test_check_critical_sigma(capsys):
    assert check_critical_sigma(math.sqrt(2.0))
    assert not check_critical_sigma(1.0)
    assert "spirals in" in capsys.readouterr().out
    assert not check_critical_sigma(3.0)
    assert "over-damped" in capsys.readouterr().out
