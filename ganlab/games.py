"""Small games for the chapter on Nash equilibrium.

Part 1, two-player zero-sum *matrix* games. The row player picks row i, the
column player column j, and the column player pays the row player A[i, j]:
the row player maximises A[i, j], the column player minimises it. With mixed
strategies (probability vectors p over rows, q over columns) the expected
payoff is

    V(p, q) = p^T A q.

A pair (p, q) is a Nash equilibrium when neither player gains by deviating
alone: max_i (A q)_i = V(p, q) = min_j (p^T A)_j. Matching pennies,
A = [[1, -1], [-1, 1]], has no pure equilibrium and one mixed equilibrium,
p = q = (1/2, 1/2), value 0. With x = 2 p_1 - 1 and y = 2 q_1 - 1 its payoff
is V = x y: the bilinear game of :class:`ganlab.theory.BilinearGame`.

Part 2, the Dirac GAN with *instance noise* (Mescheder, Geiger and Nowozin
2018, section 3): the same game as :class:`ganlab.theory.DiracGAN`, but D sees
every sample with Gaussian noise eps ~ N(0, sigma^2) added,

    L(theta, psi) = E_eps[f(psi (theta + eps))] + E_eps[f(-psi eps)],

whose Jacobian at the equilibrium has eigenvalues
f''(0) sigma^2 +- sqrt(f''(0)^2 sigma^4 - f'(0)^2): for the log loss
(f''(0) = -1/4) the same as the R1 penalty with gamma = sigma^2 / 2.

Part 3, self-checks for the chapter's exercises: each prints what is right or
wrong, with a hint, and returns True or False. They never raise on a wrong
answer, only on an argument that is not an answer at all.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._checks import check_float, check_int
from .theory import DiracGAN

__all__ = [
    "expected_payoff",
    "deviation_gains",
    "is_equilibrium",
    "pure_equilibria",
    "solve_2x2",
    "NoisyDiracGAN",
    "check_dirac_jacobian",
    "check_equilibrium",
    "check_critical_sigma",
]


# ---------------------------------------------------------------------------
# Part 1: zero-sum matrix games
# ---------------------------------------------------------------------------


def _payoff_matrix(A) -> np.ndarray:
    if isinstance(A, torch.Tensor):
        A = A.detach().cpu().numpy()
    try:
        A = np.asarray(A, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("A must be a 2-D array of numbers (the row player's payoffs)") from None
    if A.ndim != 2 or min(A.shape) < 1:
        raise ValueError(f"A must be a 2-D array (rows x columns) of payoffs, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("A must contain only finite payoffs")
    return A


def _strategy(name: str, s, n: int) -> np.ndarray:
    """A mixed strategy over n actions; for n = 2 a number is P(first action)."""
    if isinstance(s, torch.Tensor):
        s = s.detach().cpu().numpy()
    if np.ndim(s) == 0 and n == 2:
        t = check_float(name, float(s) if not isinstance(s, bool) else s, minimum=0.0, maximum=1.0)
        return np.array([t, 1.0 - t])
    try:
        s = np.asarray(s, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a probability vector of length {n}") from None
    if s.shape != (n,):
        raise ValueError(f"{name} must be a probability vector of length {n}, got shape {s.shape}")
    if np.any(~np.isfinite(s)) or np.any(s < -1e-12) or abs(s.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must be >= 0 and sum to 1 (a mixed strategy), got {s.tolist()}")
    return np.clip(s, 0.0, 1.0)


def expected_payoff(A, p, q) -> float:
    """V(p, q) = p^T A q: what the row player expects to win (the column player to lose).

    ``p`` and ``q`` are probability vectors over rows and columns; for a 2 x 2
    game a number is the probability of the first action.
    """
    A = _payoff_matrix(A)
    p, q = _strategy("p", p, A.shape[0]), _strategy("q", q, A.shape[1])
    return float(p @ A @ q)


def deviation_gains(A, p, q) -> tuple[float, float]:
    """What each player gains by its best deviation, the other one held fixed.

    Returns ``(row_gain, col_gain)`` with
    row_gain = max_i (A q)_i - V(p, q) and col_gain = V(p, q) - min_j (p^T A)_j,
    both >= 0. (A pure deviation is enough: a mixture of pure moves cannot
    beat the best of them.) Both are 0 exactly at a Nash equilibrium.
    """
    A = _payoff_matrix(A)
    p, q = _strategy("p", p, A.shape[0]), _strategy("q", q, A.shape[1])
    value = float(p @ A @ q)
    return float(np.max(A @ q) - value), float(value - np.min(p @ A))


def is_equilibrium(A, p, q, tol: float = 1e-9) -> bool:
    """True when neither player gains more than ``tol`` by deviating alone."""
    tol = check_float("tol", tol, minimum=0.0)
    return max(deviation_gains(A, p, q)) <= tol


def pure_equilibria(A) -> list[tuple[int, int]]:
    """The pure Nash equilibria (i, j): A[i, j] is the largest entry of its column
    (the row player's best response to j) and the smallest of its row (the
    column player's best response to i). A saddle point of the matrix.
    """
    A = _payoff_matrix(A)
    row_best = A == A.max(axis=0, keepdims=True)
    col_best = A == A.min(axis=1, keepdims=True)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(row_best & col_best))]


def solve_2x2(A) -> tuple[float, float, float]:
    """The mixed equilibrium of a 2 x 2 zero-sum game without a pure one.

    Each player mixes so that the *other* one is indifferent between its two
    actions (otherwise the other would play the better one for sure):

        p = (A22 - A21) / (A11 - A12 - A21 + A22),
        q = (A22 - A12) / (A11 - A12 - A21 + A22),

    Returns ``(p, q, value)``: the probabilities of the first row and of the
    first column, and V(p, q).
    """
    A = _payoff_matrix(A)
    if A.shape != (2, 2):
        raise ValueError(f"A must be 2 x 2 for solve_2x2, got shape {A.shape}")
    if pure_equilibria(A):
        raise ValueError(f"A has a pure equilibrium at {pure_equilibria(A)}: no mixing is needed")
    (a, b), (c, d) = A
    denominator = a - b - c + d  # never 0 without a pure equilibrium
    p, q = (d - c) / denominator, (d - b) / denominator
    return float(p), float(q), expected_payoff(A, p, q)


# ---------------------------------------------------------------------------
# Part 2: the Dirac GAN with instance noise
# ---------------------------------------------------------------------------


class NoisyDiracGAN(DiracGAN):
    """The Dirac GAN where D sees samples plus noise eps ~ N(0, sigma^2) (instance noise).

    Data delta_0, generator delta_theta, D(x) = psi x, and

        L(theta, psi) = E_eps[f(psi (theta + eps))] + E_eps[f(-psi eps)]  (- R1, as in DiracGAN).

    The expected (noise-averaged) vector field, what gradient steps follow on
    average, is

        v_theta = -E[f'(psi (theta + eps))] psi
        v_psi   =  E[f'(psi (theta + eps)) (theta + eps)] - E[f'(-psi eps) eps] - gamma psi,

    the expectations computed with ``n_quad``-point Gauss-Hermite quadrature
    (exact to rounding for these smooth integrands). At (0, 0) the Jacobian is
    [[0, -f'(0)], [f'(0), 2 f''(0) sigma^2 - gamma]]: noise adds the damping
    -2 f''(0) sigma^2 = sigma^2 / 2 (log loss), exactly what R1 with
    gamma = sigma^2 / 2 adds. ``sigma = 0`` is :class:`~ganlab.theory.DiracGAN`.
    """

    def __init__(self, sigma=1.0, gamma=0.0, f="log", n_quad: int = 41):
        super().__init__(gamma=gamma, f=f)
        self.sigma = check_float("sigma", sigma, minimum=0.0)
        n_quad = check_int("n_quad", n_quad, minimum=1)
        nodes, weights = np.polynomial.hermite_e.hermegauss(n_quad)
        self._eps = self.sigma * nodes  # probabilists' Hermite: nodes of N(0, 1)
        self._w = weights / weights.sum()

    @property
    def r1_equivalent_gamma(self) -> float:
        """-2 f''(0) sigma^2: the R1 gamma with the same damping at the equilibrium (sigma^2/2 for f=log)."""
        return float(-2.0 * self._f_second(0.0) * self.sigma**2)

    def _mean(self, values) -> np.ndarray:
        return np.tensordot(values, self._w, axes=([-1], [0]))

    def vector_field(self, theta, psi) -> np.ndarray:
        """Noise-averaged (v_theta, v_psi); scalars or same-shape arrays, returns (2, *shape)."""
        theta = np.asarray(theta, dtype=np.float64)[..., None]
        psi = np.asarray(psi, dtype=np.float64)[..., None]
        x_fake = theta + self._eps
        fp_fake = self._f_prime(psi * x_fake)
        fp_real = self._f_prime(-psi * self._eps)
        v_theta = -self._mean(fp_fake * psi)
        v_psi = self._mean(fp_fake * x_fake) - self._mean(fp_real * self._eps) - self.gamma * psi[..., 0]
        return np.stack([v_theta, v_psi])

    def jacobian(self, theta=0.0, psi=0.0) -> np.ndarray:
        """d(v_theta, v_psi) / d(theta, psi) of the noise-averaged field, a (2, 2) array."""
        x_fake = theta + self._eps
        u = psi * x_fake
        fp, fpp = self._f_prime(u), self._f_second(u)
        fpp_real = self._f_second(-psi * self._eps)
        return np.array([
            [-self._mean(fpp * psi**2), -self._mean(fp + fpp * u)],
            [self._mean(fp + fpp * u), self._mean(fpp * x_fake**2) + self._mean(fpp_real * self._eps**2)
             - self.gamma],
        ])


# ---------------------------------------------------------------------------
# Part 3: self-checks for the exercises
# ---------------------------------------------------------------------------


def _report(ok: bool, message: str) -> bool:
    print(("✔ " if ok else "✘ ") + message)
    return ok


def _rounded(values) -> list:
    """Values rounded to 4 decimals for messages, without the sign of a zero (-0.0)."""
    return (np.round(np.asarray(values), 4) + 0.0).tolist()


def _matrix_2x2(name: str, J) -> np.ndarray | None:
    if isinstance(J, torch.Tensor):
        J = J.detach().cpu().numpy()
    try:
        J = np.asarray(J, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 2 x 2 array or tensor of numbers") from None
    return J


def check_dirac_jacobian(J, gamma: float = 0.0) -> bool:
    """Self-check: is ``J`` the Jacobian of the Dirac GAN's vector field at (0, 0)?

    ``J`` is d(v_theta, v_psi)/d(theta, psi), rows = (v_theta, v_psi), columns =
    (theta, psi), for the log loss and R1 weight ``gamma`` (a tensor from
    ``torch.autograd.functional.jacobian`` or an array).
    """
    gamma = check_float("gamma", gamma, minimum=0.0)
    J = _matrix_2x2("J", J)
    if J.shape != (2, 2):
        return _report(False, f"J should be 2 x 2 (two outputs, two inputs), got shape {J.shape}. "
                              "Hint: jacobian(field, torch.zeros(2)) with field returning a tensor of 2.")
    expected = DiracGAN(gamma=gamma).jacobian(0.0, 0.0)
    eig = np.linalg.eigvals(J)
    if np.allclose(J, expected, atol=1e-5):
        eig_text = ", ".join(f"{round(e.real, 3) + 0.0:.3f} {round(e.imag, 3) + 0.0:+.3f}i"
                             for e in sorted(eig, key=lambda e: e.imag))
        return _report(True, f"J = {_rounded(J)}, eigenvalues {eig_text}: right.")
    if np.allclose(J, -expected, atol=1e-5):
        return _report(False, "J has the right size but the opposite sign: the field is the direction the "
                              "players MOVE: minus G's gradient of L, plus D's gradient of L (minus R1).")
    if np.allclose(J, expected.T, atol=1e-5) or np.allclose(J, expected[::-1, ::-1], atol=1e-5):
        return _report(False, "J is transposed or its order is swapped: row i is output i (v_theta, v_psi), "
                              "column j is input j (theta, psi).")
    if gamma > 0 and np.allclose(J, DiracGAN().jacobian(0.0, 0.0), atol=1e-5):
        return _report(False, f"this is the Jacobian without the penalty: add -gamma * psi to v_psi (gamma = {gamma}).")
    return _report(False, f"J = {_rounded(J)} is not the Jacobian at (0, 0). Hint: v_theta = "
                          "-f'(psi theta) psi and v_psi = f'(psi theta) theta - gamma psi with "
                          "f'(t) = sigmoid(-t), so f'(0) = 1/2.")


def check_equilibrium(A, p, q) -> bool:
    """Self-check: is (p, q) a Nash equilibrium of the zero-sum game A (row player maximises)?"""
    A = _payoff_matrix(A)
    row_gain, col_gain = deviation_gains(A, p, q)
    value = expected_payoff(A, p, q)
    if max(row_gain, col_gain) <= 1e-6:
        return _report(True, f"neither player gains by deviating: an equilibrium, value {value:.4f}.")
    who = []
    if row_gain > 1e-6:
        who.append(f"the row player would gain {row_gain:.4f} by playing row "
                   f"{int(np.argmax(A @ _strategy('q', q, A.shape[1])))} for sure")
    if col_gain > 1e-6:
        who.append(f"the column player would gain {col_gain:.4f} by playing column "
                   f"{int(np.argmin(_strategy('p', p, A.shape[0]) @ A))} for sure")
    return _report(False, "not an equilibrium: " + "; ".join(who) + ". Hint: choose p so that the "
                          "column player is indifferent between its columns, and q likewise for the rows.")


def check_critical_sigma(sigma) -> bool:
    """Self-check: the instance-noise sigma that makes the Dirac GAN (log loss) critically damped."""
    sigma = check_float("sigma", sigma, minimum=0.0)
    eig = NoisyDiracGAN(sigma).jacobian_eigenvalues()
    right = math.sqrt(2.0)
    if abs(sigma - right) < 1e-3:
        return _report(True, f"sigma = {sigma:.4f}: a double eigenvalue {eig[0].real:.4f} "
                             "(critically damped), like R1 with gamma = sigma^2/2 = 1.")
    kind = "spirals in (complex eigenvalues)" if sigma < right else "is over-damped (two real eigenvalues)"
    return _report(False, f"with sigma = {sigma:.4f} the game {kind}: eigenvalues "
                          f"{_rounded(eig)}. Hint: the damping is sigma^2/2 in place of "
                          "gamma; critical damping for R1 is gamma = 2 f'(0) = 1.")
