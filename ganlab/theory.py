"""The theory of GANs, checked numerically.

Part 1, densities on a 1-D grid (Goodfellow et al. 2014). For a fixed G with
density p_g, the value function

    V(G, D) = E_{x ~ p_data}[log D(x)] + E_{x ~ p_g}[log(1 - D(x))]
            = integral of p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx

is maximised pointwise by D*(x) = p_data(x) / (p_data(x) + p_g(x)), and

    max_D V(G, D) = V(G, D*) = -log 4 + 2 JSD(p_data || p_g),

whose minimum -log 4 is reached exactly when p_g = p_data (then D* = 1/2).
Every integral here is the trapezoid rule on the grid you pass, with the
convention 0 log 0 = 0.

Part 2, small games that show the *dynamics* of training (Mescheder, Geiger
and Nowozin 2018, "Which training methods for GANs do actually converge?"):
the Dirac GAN and the bilinear game V = x y. Both return NumPy arrays.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._checks import check_choice, check_float, check_int

__all__ = [
    "trapezoid",
    "optimal_discriminator",
    "value_function",
    "optimal_value",
    "kl",
    "jsd",
    "DiracGAN",
    "BilinearGame",
]

LOG4 = math.log(4.0)


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------


def _vector(name: str, value, *, n: int | None = None) -> np.ndarray:
    """A finite 1-D float64 array (from NumPy, torch or a list)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes)) or value is None or np.ndim(value) == 0:
        raise TypeError(f"{name} must be a 1-D array of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of numbers") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (values on the grid), got shape {array.shape}")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} must have the same length as the other arrays ({n}), got {array.shape[0]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values")
    return array


def _density(name: str, value, n: int | None = None) -> np.ndarray:
    array = _vector(name, value, n=n)
    if np.any(array < 0):
        raise ValueError(f"{name} must be a density (values >= 0), min is {array.min():.3g}")
    return array


def _grid(x_grid, n: int) -> np.ndarray:
    grid = _vector("x_grid", x_grid, n=n)
    if n < 2 or np.any(np.diff(grid) <= 0):
        raise ValueError("x_grid must be strictly increasing with at least 2 points")
    return grid


def _xlogy(x: np.ndarray, y: np.ndarray, floor: float = -math.inf) -> np.ndarray:
    """x * max(log(y), floor) with 0 * log(anything) = 0 (so p = 0 regions cost nothing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.maximum(np.log(y), floor)
    return np.where(x > 0, out, 0.0)


# ---------------------------------------------------------------------------
# Part 1: densities on a grid
# ---------------------------------------------------------------------------


def trapezoid(f, x_grid) -> float:
    """The trapezoid rule: sum_i (f_i + f_{i+1}) / 2 * (x_{i+1} - x_i).

    (Written out because NumPy renamed ``trapz`` to ``trapezoid`` in 2.0.)
    """
    f = np.asarray(f, dtype=np.float64)
    x = _grid(x_grid, f.shape[0])
    return float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(x)))


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), pointwise.

    Where both densities are 0, D* is undefined (no sample ever lands there);
    we return 1/2 there.
    """
    p_data = _density("p_data", p_data)
    p_g = _density("p_g", p_g, n=p_data.shape[0])
    total = p_data + p_g
    with np.errstate(divide="ignore", invalid="ignore"):
        d_star = np.where(total > 0, p_data / total, 0.5)
    return d_star


def value_function(p_data, p_g, D, x_grid) -> float:
    """V(G, D) = integral of p_data log D + p_g log(1 - D) dx, trapezoid rule.

    ``D`` holds the discriminator's probabilities D(x) in [0, 1] on ``x_grid``.
    As in torch's ``BCELoss``, each log is clamped at -100: in floating point
    D saturates to exactly 0 or 1 (e.g. D* = p_data/(p_data + p_g) rounds to 1
    where p_g < 1e-16 p_data), and a clamped log keeps the value finite, off by
    at most 100 x the (negligible) mass there.
    """
    p_data = _density("p_data", p_data)
    n = p_data.shape[0]
    p_g = _density("p_g", p_g, n=n)
    D = _vector("D", D, n=n)
    if np.any((D < 0) | (D > 1)):
        raise ValueError("D must hold probabilities in [0, 1] (apply a sigmoid to logits)")
    x_grid = _grid(x_grid, n)
    integrand = _xlogy(p_data, D, floor=-100.0) + _xlogy(p_g, 1.0 - D, floor=-100.0)
    return trapezoid(integrand, x_grid)


def optimal_value(p_data, p_g, x_grid) -> float:
    """max_D V(G, D) = V(G, D*); equals -log 4 + 2 JSD(p_data || p_g)."""
    return value_function(p_data, p_g, optimal_discriminator(p_data, p_g), x_grid)


def kl(p, q, x_grid) -> float:
    """KL(p || q) = integral of p log(p / q) dx (nats), trapezoid rule.

    0 log(0 / q) = 0; +inf if q = 0 somewhere p > 0 (q misses mass of p).
    """
    p = _density("p", p)
    n = p.shape[0]
    q = _density("q", q, n=n)
    x_grid = _grid(x_grid, n)
    if np.any((p > 0) & (q == 0)):
        return math.inf
    integrand = _xlogy(p, p) - _xlogy(p, q)
    return trapezoid(integrand, x_grid)


def jsd(p, q, x_grid) -> float:
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2; in [0, log 2] nats."""
    p = _density("p", p)
    n = p.shape[0]
    q = _density("q", q, n=n)
    x_grid = _grid(x_grid, n)
    m = 0.5 * (p + q)
    return 0.5 * kl(p, m, x_grid) + 0.5 * kl(q, m, x_grid)


# ---------------------------------------------------------------------------
# Part 2: two-player games in the plane
# ---------------------------------------------------------------------------


class _PlaneGame:
    """A game in two scalars (a, b): player 1 moves a, player 2 moves b.

    Subclasses define ``vector_field(a, b)`` = (update direction of a, of b),
    i.e. minus the gradient of the loss each player minimises, and
    ``jacobian(a, b)``. Training is gradient steps along the field.
    """

    _names = ("a", "b")

    def vector_field(self, a, b) -> np.ndarray:
        raise NotImplementedError

    def jacobian(self, a=0.0, b=0.0) -> np.ndarray:
        raise NotImplementedError

    def jacobian_eigenvalues(self, a=0.0, b=0.0) -> np.ndarray:
        """Eigenvalues of the Jacobian of the vector field at (a, b), default the equilibrium (0, 0).

        Complex array of 2, sorted by imaginary part. Gradient steps with a
        small learning rate converge locally iff every real part is < 0 (and
        they spiral when the imaginary parts are non-zero).
        """
        a = check_float(self._names[0], a)
        b = check_float(self._names[1], b)
        eig = np.linalg.eigvals(self.jacobian(a, b)).astype(np.complex128)
        return eig[np.lexsort((eig.real, eig.imag))]

    def simulate(self, steps, lr, mode="simultaneous", a0=1.0, b0=1.0) -> np.ndarray:
        """Run ``steps`` gradient steps of size ``lr`` from (a0, b0); returns (steps + 1, 2).

        - ``"simultaneous"``: both players step from the same point,
          (a, b) <- (a, b) + lr v(a, b). Each step adds lr^2 |v|^2 to the squared
          norm when the field is a pure rotation, so the iterates spiral out.
        - ``"alternating"``: player 2 (the discriminator) steps first, then
          player 1 uses the *new* b, as GAN training loops do (D step, G step).
        """
        steps = check_int("steps", steps, minimum=0)
        lr = check_float("lr", lr, minimum=0.0, strict_min=True)
        mode = check_choice("mode", mode, ("simultaneous", "alternating"))
        a = check_float(self._names[0] + "0", a0)
        b = check_float(self._names[1] + "0", b0)
        path = np.empty((steps + 1, 2))
        path[0] = a, b
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is a result, not an error
            for t in range(1, steps + 1):
                if mode == "simultaneous":
                    va, vb = self.vector_field(a, b)
                    a, b = a + lr * va, b + lr * vb
                else:
                    b = b + lr * self.vector_field(a, b)[1]
                    a = a + lr * self.vector_field(a, b)[0]
                path[t] = a, b
        return path


_F_CHOICES = ("log", "wasserstein")


class DiracGAN(_PlaneGame):
    """The Dirac GAN (Mescheder et al. 2018), the smallest GAN that fails to converge.

    Data p_data = delta_0, generator p_g = delta_theta, linear discriminator
    D(x) = psi x. The game is

        L(theta, psi) = f(psi theta) + f(0),   f(t) = -log(1 + e^{-t})  (f="log"),
                                               f(t) = t                  (f="wasserstein"),

    with G minimising L over theta and D maximising L - R1 over psi, where

        R1(psi) = (gamma / 2) E_{x ~ p_data} |grad_x D(x)|^2 = (gamma / 2) psi^2.

    Convention: the penalty carries gamma/2 (Mescheder's paper); the paper's
    *code* uses gamma |grad|^2 without the 1/2, i.e. our gamma is twice theirs.

    Vector field (update directions):
        v_theta = -dL/dtheta = -f'(psi theta) psi
        v_psi   = +dL/dpsi - gamma psi = f'(psi theta) theta - gamma psi

    At the unique equilibrium (0, 0) the Jacobian is [[0, -f'(0)], [f'(0), -gamma]]
    with eigenvalues -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2): +-0.5 i for gamma = 0
    and f = log (f'(0) = 1/2), so plain training orbits or spirals out; any
    gamma > 0 makes it converge, fastest (critically damped) at gamma = 2 f'(0).
    """

    _names = ("theta", "psi")

    def __init__(self, gamma=0.0, f="log"):
        self.gamma = check_float("gamma", gamma, minimum=0.0)
        self.f = check_choice("f", f, _F_CHOICES)

    def _f_prime(self, t):
        # f = log: f'(t) = e^{-t} / (1 + e^{-t}) = sigmoid(-t); f = wasserstein: f' = 1
        if self.f == "log":
            return 0.5 * (1.0 - np.tanh(0.5 * np.asarray(t, dtype=np.float64)))  # stable sigmoid(-t)
        return np.ones_like(np.asarray(t, dtype=np.float64))

    def _f_second(self, t):
        if self.f == "log":
            s = self._f_prime(t)
            return -s * (1.0 - s)  # d/dt sigmoid(-t) = -sigmoid(t) sigmoid(-t)
        return np.zeros_like(np.asarray(t, dtype=np.float64))

    @property
    def f_prime_0(self) -> float:
        """f'(0): 1/2 for the log loss, 1 for the Wasserstein (linear) loss."""
        return float(self._f_prime(0.0))

    def loss(self, theta, psi):
        """L(theta, psi) = f(psi theta) + f(0) (without the R1 term)."""
        t = np.asarray(psi, dtype=np.float64) * np.asarray(theta, dtype=np.float64)
        if self.f == "log":
            return -np.logaddexp(0.0, -t) - math.log(2.0)
        return t

    def vector_field(self, theta, psi) -> np.ndarray:
        """(v_theta, v_psi) at (theta, psi); scalars or same-shape arrays (for quiver plots).

        Returns an array of shape (2, *shape).
        """
        theta = np.asarray(theta, dtype=np.float64)
        psi = np.asarray(psi, dtype=np.float64)
        fp = self._f_prime(psi * theta)
        return np.stack([-fp * psi, fp * theta - self.gamma * psi])

    def jacobian(self, theta=0.0, psi=0.0) -> np.ndarray:
        """d(v_theta, v_psi) / d(theta, psi) at a point, a (2, 2) array."""
        t = psi * theta
        fp, fpp = float(self._f_prime(t)), float(self._f_second(t))
        return np.array([
            [-fpp * psi**2, -fp - fpp * psi * theta],
            [fp + fpp * psi * theta, fpp * theta**2 - self.gamma],
        ])

    def jacobian_eigenvalues(self, theta=0.0, psi=0.0) -> np.ndarray:
        """Eigenvalues at (theta, psi); at (0, 0): -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)."""
        return super().jacobian_eigenvalues(theta, psi)

    def simulate(self, steps, lr, mode="simultaneous", theta0=1.0, psi0=1.0) -> np.ndarray:
        """Gradient steps from (theta0, psi0): an array (steps + 1, 2) of (theta, psi).

        ``mode="alternating"`` updates D (psi) first, then G (theta).
        """
        return super().simulate(steps, lr, mode, theta0, psi0)


class BilinearGame(_PlaneGame):
    """V(x, y) = x y: x minimises, y maximises (Goodfellow's 2016 tutorial exercise).

    Vector field v = (-dV/dx, dV/dy) = (-y, x): a pure rotation about the
    equilibrium (0, 0), Jacobian [[0, -1], [1, 0]] with eigenvalues +-i.
    Simultaneous gradient descent-ascent multiplies |(x, y)|^2 by (1 + lr^2)
    at every step, so it spirals out and never converges; alternating steps
    circle on a closed orbit when lr < 2.
    """

    _names = ("x", "y")

    def value(self, x, y):
        """V(x, y) = x y."""
        return np.asarray(x, dtype=np.float64) * np.asarray(y, dtype=np.float64)

    def vector_field(self, x, y) -> np.ndarray:
        """(-y, x) at (x, y); scalars or same-shape arrays. Returns shape (2, *shape)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        return np.stack([-y, x])

    def jacobian(self, x=0.0, y=0.0) -> np.ndarray:
        """[[0, -1], [1, 0]] everywhere."""
        return np.array([[0.0, -1.0], [1.0, 0.0]])

    def jacobian_eigenvalues(self, x=0.0, y=0.0) -> np.ndarray:
        """+-i (sorted: -i, +i)."""
        return super().jacobian_eigenvalues(x, y)

    def simulate(self, steps, lr, mode="simultaneous", x0=1.0, y0=1.0) -> np.ndarray:
        """Gradient descent (x) / ascent (y) from (x0, y0): an array (steps + 1, 2).

        ``mode="alternating"`` updates y first, then x.
        """
        return super().simulate(steps, lr, mode, x0, y0)
