"""Toy data distributions p_data: exact densities where they exist, fast sampling.

Every distribution is a :class:`Distribution` with

- ``dim`` (1 or 2) and ``name`` (its key in :data:`DISTRIBUTIONS`);
- ``sample(n, seed=None, *, generator=None)``: a ``(n, dim)`` float32 CPU tensor.
  It is called at every training step (n = 256), so it is made of a few
  vectorised torch calls on the given generator, never a Python loop;
- ``density(x)`` / ``log_density(x)``: the exact p(x) / log p(x) as float64
  NumPy arrays, where a closed form exists (``has_density``); otherwise
  ``NotImplementedError``;
- ``bounds``: a plotting box ``((lo, hi),)`` or ``((x_lo, x_hi), (y_lo, y_hi))``
  holding essentially all the mass.

Randomness follows the package rule: ``generator`` if given, else a fresh
``torch.Generator().manual_seed(seed)`` if ``seed`` is given, else torch's global
RNG. Same seed, same tensor.

The catalogue (all names are keys of :data:`DISTRIBUTIONS`):

=================  ==========================================================
1-D                ``gaussian_1d``, ``uniform_1d``, ``mixture_1d``
benchmarks (2-D)   ``ring`` (8 Gaussians, radius 1, std 0.01),
                   ``grid`` (25 Gaussians on {-4,-2,0,2,4}^2, std 0.05)
GAN Lab presets    ``line``, ``two_gaussians``, ``ring_ganlab``, ``three_blobs``
                   (all inside the unit square, like GAN Lab)
shapes (2-D)       ``moons``, ``circles``, ``spiral``, ``checkerboard``
=================  ==========================================================

Your own points: :class:`Empirical` (a NumPy array, a torch tensor or a CSV file).
"""

from __future__ import annotations

import math
import os
import re
from typing import Callable, Dict, Tuple

import numpy as np
import torch

from ._checks import check_array, check_float, check_int, check_seed

__all__ = [
    "Distribution",
    "GaussianMixture",
    "Gaussian1D",
    "Uniform1D",
    "LineSegment",
    "NoisyCircles",
    "Moons",
    "Spiral",
    "Checkerboard",
    "Empirical",
    "mixture_1d",
    "ring",
    "grid",
    "line",
    "two_gaussians",
    "ring_ganlab",
    "three_blobs",
    "moons",
    "circles",
    "spiral",
    "checkerboard",
    "DISTRIBUTIONS",
    "get_distribution",
    "resolve_generator",
]

_LOG_2PI = math.log(2.0 * math.pi)
_UNIT_SQUARE = ((0.0, 1.0), (0.0, 1.0))
# Densities are evaluated in chunks of points, so that a fine 2-D grid times
# many mixture components never needs a huge temporary array (~4M floats each).
_CHUNK_ELEMENTS = 2**22


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def resolve_generator(seed=None, generator=None) -> torch.Generator | None:
    """The package's randomness rule: ``generator``, else a seeded one, else None.

    ``None`` means "use torch's global RNG" (torch functions accept
    ``generator=None``).
    """
    seed = check_seed("seed", seed)
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"generator must be a torch.Generator or None, got {type(generator).__name__}"
            )
        return generator
    if seed is not None:
        return torch.Generator().manual_seed(seed)
    return None


def _float_array(name: str, value, *, ndim: Tuple[int, ...]) -> np.ndarray:
    """``value`` (array-like or tensor) as a finite float64 array with ndim in ``ndim``."""
    array = check_array(name, value, ndim=ndim)
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values (no nan or inf)")
    return array.copy()  # ours: later changes to the caller's array do not leak in


def _as_float_tensor(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)


def _box(lo: np.ndarray, hi: np.ndarray, margin: float) -> tuple:
    """A tuple of (lo, hi) pairs, one per dimension, widened by ``margin``."""
    return tuple((float(a - margin), float(b + margin)) for a, b in zip(lo, hi))


def _normal_logcdf(t: torch.Tensor) -> torch.Tensor:
    """log Phi(t) for the standard normal, accurate in the far left tail."""
    return torch.special.log_ndtr(t)


# ---------------------------------------------------------------------------
# the base class
# ---------------------------------------------------------------------------


class Distribution:
    """A data distribution p_data on R^dim (dim = 1 or 2).

    Subclasses implement ``_sample(n, generator)`` (float32, shape (n, dim))
    and, when p(x) has a closed form, ``_log_density(x)`` on a float64 tensor
    of shape (m, dim), returning shape (m,).
    """

    dim: int = 2
    name: str = "distribution"
    #: whether ``density`` / ``log_density`` are exact and available
    has_density: bool = True

    # -- sampling ----------------------------------------------------------
    def sample(self, n, seed=None, *, generator=None) -> torch.Tensor:
        """Draw ``n`` points x ~ p_data: a float32 CPU tensor of shape (n, dim).

        Same ``seed`` -> the same tensor; ``generator`` (a torch.Generator)
        takes precedence over ``seed``.
        """
        n = check_int("n", n, minimum=1)
        g = resolve_generator(seed, generator)
        return self._sample(n, g)

    def _sample(self, n: int, g: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError

    # -- densities ---------------------------------------------------------
    def log_density(self, x) -> np.ndarray:
        """log p_data(x) for points x, as a float64 NumPy array.

        ``x`` is a NumPy array or torch tensor of shape (..., dim); in 1-D a
        plain vector of shape (m,) is read as m points. The result has the
        leading shape: (m, 2) -> (m,), a meshgrid stack (H, W, 2) -> (H, W).
        """
        if not self.has_density:
            raise NotImplementedError(
                f"{self.name!r} has no closed-form density; use its samples instead "
                "(e.g. a histogram or ganlab.metrics.kde_1d)"
            )
        points, shape = self._as_points(x)
        rows = max(256, _CHUNK_ELEMENTS // self._work_per_point())
        out = torch.cat([self._log_density(c) for c in torch.split(points, rows)])
        return out.reshape(shape).numpy()

    def density(self, x) -> np.ndarray:
        """p_data(x) = exp(log p_data(x)); same input and output rules as ``log_density``."""
        return np.exp(self.log_density(x))

    def _log_density(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _work_per_point(self) -> int:
        """Size of the temporaries ``_log_density`` makes per point (for chunking)."""
        return 16

    def _as_points(self, x) -> Tuple[torch.Tensor, tuple]:
        """x -> (float64 tensor of shape (m, dim), the output shape)."""
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
        if isinstance(x, (str, bytes)) or x is None:
            raise TypeError(f"x must be an array of points, got {type(x).__name__}")
        try:
            array = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"x must be an array of numbers, got {x!r:.80}") from None
        if not np.all(np.isfinite(array)):
            raise ValueError("x must contain only finite values (no nan or inf)")
        if self.dim == 1:
            shape = array.shape[:-1] if (array.ndim >= 2 and array.shape[-1] == 1) else array.shape
        else:
            if array.ndim == 0 or array.shape[-1] != self.dim:
                raise ValueError(
                    f"x must have shape (..., {self.dim}) for this {self.dim}-D distribution, "
                    f"got shape {tuple(array.shape)}"
                )
            shape = array.shape[:-1]
        points = torch.from_numpy(np.ascontiguousarray(array).reshape(-1, self.dim))
        return points, tuple(shape)

    # -- plotting box ------------------------------------------------------
    @property
    def bounds(self) -> tuple:
        """A plotting box: one (lo, hi) pair per dimension, holding ~all the mass."""
        return self._bounds

    def _with_bounds(self, bounds) -> "Distribution":
        """Replace the plotting box (the GAN Lab presets use the unit square)."""
        self._bounds = bounds
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}, dim={self.dim}>"


# ---------------------------------------------------------------------------
# Gaussian mixtures (1-D and 2-D), and the 1-D basics
# ---------------------------------------------------------------------------


class GaussianMixture(Distribution):
    """p(x) = sum_k w_k N(x; c_k, diag(s_k^2)), in 1-D or 2-D.

    Parameters
    ----------
    centres : array (k, d) with d in {1, 2}; a plain vector of k numbers is a
        1-D mixture.
    std : one positive float shared by every mode and axis (the benchmarks), or
        an array (k,) (one std per mode) or (k, d) (per mode and axis).
    weights : None (equal weights) or k non-negative numbers (normalised here).

    Attributes: ``centres`` (k, d) and ``weights`` (k,) as float64 NumPy arrays,
    ``stds`` (k, d), ``std`` (the shared std as a float, or None when the modes
    differ), ``n_modes``.
    """

    def __init__(self, centres, std, weights=None, *, name: str = "mixture"):
        centres = _float_array("centres", centres, ndim=(1, 2))
        if centres.ndim == 1:
            centres = centres[:, None]
        k, d = centres.shape
        if d not in (1, 2):
            raise ValueError(f"centres must have shape (k, 1) or (k, 2), got {centres.shape}")
        self.centres = centres
        self.stds = self._check_std(std, k, d)
        self.weights = self._check_weights(weights, k)
        self.dim = d
        self.name = name
        self.n_modes = k
        shared = np.all(self.stds == self.stds[0, 0])
        self.std = float(self.stds[0, 0]) if shared else None
        self._equal_weights = bool(np.all(self.weights == self.weights[0]))
        # float32 copies for sampling, float64 for exact densities
        self._c32, self._s32 = _as_float_tensor(centres), _as_float_tensor(self.stds)
        self._w32 = _as_float_tensor(self.weights)
        self._c64, self._s64 = torch.from_numpy(centres), torch.from_numpy(self.stds)
        with np.errstate(divide="ignore"):  # a weight of 0 gives log w = -inf: that mode drops out
            self._logw64 = torch.from_numpy(np.log(self.weights))
        span = float(np.max(centres.max(0) - centres.min(0)))
        margin = max(4.0 * float(self.stds.max()), 0.1 * span)
        self._bounds = _box(centres.min(0), centres.max(0), margin)

    @staticmethod
    def _check_std(std, k: int, d: int) -> np.ndarray:
        if not isinstance(std, (list, tuple, np.ndarray, torch.Tensor)):
            std = check_float("std", std, minimum=0.0, strict_min=True)
            return np.full((k, d), std)
        array = _float_array("std", std, ndim=(1, 2))
        if array.shape == (k,):
            array = np.repeat(array[:, None], d, axis=1)
        if array.shape != (k, d):
            raise ValueError(f"std must be a number, or have shape ({k},) or ({k}, {d}), got {array.shape}")
        if np.any(array <= 0):
            raise ValueError("std must be > 0 everywhere")
        return array.copy()

    @staticmethod
    def _check_weights(weights, k: int) -> np.ndarray:
        if weights is None:
            return np.full(k, 1.0 / k)
        w = _float_array("weights", weights, ndim=(1,))
        if w.shape != (k,):
            raise ValueError(f"weights must have one entry per centre ({k}), got shape {w.shape}")
        if np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return w / w.sum()

    def _sample(self, n, g):
        # Pick a mode per sample, then add its Gaussian noise: two torch calls.
        if self._equal_weights:
            k = torch.randint(self.n_modes, (n,), generator=g)
        else:
            k = torch.multinomial(self._w32, n, replacement=True, generator=g)
        eps = torch.randn(n, self.dim, generator=g)
        if self.std is not None:
            return self._c32[k] + self.std * eps
        return self._c32[k] + self._s32[k] * eps

    def _work_per_point(self) -> int:
        return self.n_modes * max(self.dim, 2)

    def _log_density(self, x):
        # log N(x; c_k, diag s_k^2) for every (point, mode), then log-sum-exp over modes
        z = (x[:, None, :] - self._c64[None]) / self._s64[None]  # (m, k, d)
        log_norm = -0.5 * self.dim * _LOG_2PI - torch.log(self._s64).sum(-1)  # (k,)
        log_comp = -0.5 * (z**2).sum(-1) + log_norm + self._logw64  # (m, k)
        return torch.logsumexp(log_comp, dim=1)

    def __repr__(self) -> str:
        return f"<GaussianMixture {self.name!r}: {self.n_modes} modes in {self.dim}-D, std={self.std}>"


class Gaussian1D(GaussianMixture):
    """p(x) = N(x; mean, std^2) on the line: a one-mode mixture."""

    def __init__(self, mean=0.0, std=1.0, *, name: str = "gaussian_1d"):
        mean = check_float("mean", mean)
        std = check_float("std", std, minimum=0.0, strict_min=True)
        super().__init__([[mean]], std, name=name)
        self.mean = mean

    def _sample(self, n, g):
        return self.mean + self.std * torch.randn(n, 1, generator=g)


class Uniform1D(Distribution):
    """p(x) = 1 / (high - low) on [low, high], 0 elsewhere."""

    dim = 1

    def __init__(self, low=0.0, high=1.0, *, name: str = "uniform_1d"):
        self.low = check_float("low", low)
        self.high = check_float("high", high)
        if self.high <= self.low:
            raise ValueError(f"high must be > low, got low={self.low}, high={self.high}")
        self.name = name
        width = self.high - self.low
        self._bounds = ((self.low - 0.1 * width, self.high + 0.1 * width),)

    def _sample(self, n, g):
        return self.low + (self.high - self.low) * torch.rand(n, 1, generator=g)

    def _log_density(self, x):
        x = x[:, 0]
        inside = (x >= self.low) & (x <= self.high)
        return torch.where(inside, torch.tensor(-math.log(self.high - self.low), dtype=x.dtype),
                           torch.tensor(-math.inf, dtype=x.dtype))


def mixture_1d(centres=(-2.0, 2.0), std=0.5, weights=None) -> GaussianMixture:
    """A 1-D Gaussian mixture (default: two equal modes at -2 and 2, std 0.5)."""
    shape = np.shape(centres) if isinstance(centres, (list, tuple, np.ndarray, torch.Tensor)) else None
    if shape is not None and not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
        raise ValueError(f"centres must be a vector of numbers for a 1-D mixture, got shape {tuple(shape)}")
    return GaussianMixture(centres, std, weights, name="mixture_1d")


# ---------------------------------------------------------------------------
# the two benchmarks of the mode-collapse literature
# ---------------------------------------------------------------------------


def ring(n_modes=8, radius=1.0, std=0.01) -> GaussianMixture:
    """The ring benchmark: ``n_modes`` Gaussians at angles 2*pi*k/n_modes, k = 0..n_modes-1.

    Defaults are those of VEEGAN / PacGAN: 8 modes, radius 1, std 0.01. Note
    ``2*pi*k/n``, not ``linspace(0, 2*pi, n)``, which puts two modes at angle 0.
    """
    n_modes = check_int("n_modes", n_modes, minimum=1)
    radius = check_float("radius", radius, minimum=0.0, strict_min=True)
    angles = 2.0 * np.pi * np.arange(n_modes) / n_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture(centres, std, name="ring")


def grid(n_side=5, spacing=2.0, std=0.05) -> GaussianMixture:
    """The grid benchmark: n_side^2 Gaussians on a square lattice centred at 0.

    Defaults (VEEGAN / PacGAN): 25 modes at {-4, -2, 0, 2, 4}^2, std 0.05.
    """
    n_side = check_int("n_side", n_side, minimum=1)
    spacing = check_float("spacing", spacing, minimum=0.0, strict_min=True)
    axis = (np.arange(n_side) - (n_side - 1) / 2.0) * spacing
    gx, gy = np.meshgrid(axis, axis, indexing="ij")
    return GaussianMixture(np.stack([gx.ravel(), gy.ravel()], axis=1), std, name="grid")


# ---------------------------------------------------------------------------
# other shapes
# ---------------------------------------------------------------------------


class LineSegment(Distribution):
    """A segment from ``start`` to ``end``, blurred by isotropic Gaussian noise.

    x = start + u (end - start) + noise * eps,  u ~ U(0, 1), eps ~ N(0, I).
    Exact density: with L the length, s the coordinate along the segment and
    r the distance across it,
    p(x) = N(r; 0, noise^2) * [Phi((L - s)/noise) - Phi(-s/noise)] / L.
    """

    def __init__(self, start, end, noise=0.01, *, name: str = "line", bounds=None):
        self.start = _float_array("start", start, ndim=(1,))
        self.end = _float_array("end", end, ndim=(1,))
        for label, point in (("start", self.start), ("end", self.end)):
            if point.shape != (2,):
                raise ValueError(f"{label} must be a 2-D point (x, y), got shape {point.shape}")
        self.length = float(np.linalg.norm(self.end - self.start))
        if self.length == 0:
            raise ValueError("end must differ from start")
        self.noise = check_float("noise", noise, minimum=0.0, strict_min=True)
        self.name = name
        self._u = torch.from_numpy((self.end - self.start) / self.length)  # unit direction
        lo, hi = np.minimum(self.start, self.end), np.maximum(self.start, self.end)
        self._bounds = bounds or _box(lo, hi, max(4 * self.noise, 0.1 * float(np.max(hi - lo))))

    def _sample(self, n, g):
        u = torch.rand(n, 1, generator=g)
        eps = torch.randn(n, 2, generator=g)
        start, delta = _as_float_tensor(self.start), _as_float_tensor(self.end - self.start)
        return start + u * delta + self.noise * eps

    def _log_density(self, x):
        rel = x - torch.from_numpy(self.start)
        s = rel @ self._u  # coordinate along the segment
        r2 = (rel**2).sum(-1) - s**2  # squared distance across it
        sig, L = self.noise, self.length
        log_across = -0.5 * r2.clamp_min(0) / sig**2 - math.log(sig) - 0.5 * _LOG_2PI
        # log(Phi(b) - Phi(a)), a = -s/sig < b = (L - s)/sig. Phi(b) - Phi(a) also equals
        # Phi(-a) - Phi(-b); use the form whose terms sit in the left tail, where
        # log Phi is accurate (points far past either end of the segment).
        a, b = -s / sig, (L - s) / sig
        log_along = torch.where(
            s < L / 2,
            _normal_logcdf(-a) + torch.log1p(-torch.exp(_normal_logcdf(-b) - _normal_logcdf(-a))),
            _normal_logcdf(b) + torch.log1p(-torch.exp(_normal_logcdf(a) - _normal_logcdf(b))),
        )
        return log_across + log_along - math.log(L)


class NoisyCircles(Distribution):
    """Concentric circles with radial Gaussian noise.

    Pick circle j with weight w_j, an angle t ~ U(0, 2 pi) and a radius
    r ~ N(R_j, noise^2); x = centre + r (cos t, sin t). (Noise is radial, not
    isotropic as in scikit-learn's make_circles: that is what makes the density
    exact.) In polar coordinates |r| is a folded normal and the angle is uniform:
    p(x) = sum_j w_j [N(rho; R_j, noise^2) + N(rho; -R_j, noise^2)] / (2 pi rho),
    rho = |x - centre|.
    """

    def __init__(self, radii=(1.0,), noise=0.05, centre=(0.0, 0.0), weights=None, *,
                 name: str = "circles", bounds=None):
        self.radii = _float_array("radii", radii, ndim=(1,))
        if np.any(self.radii <= 0):
            raise ValueError(f"radii must all be > 0, got {self.radii.tolist()}")
        self.noise = check_float("noise", noise, minimum=0.0, strict_min=True)
        self.centre = _float_array("centre", centre, ndim=(1,))
        if self.centre.shape != (2,):
            raise ValueError(f"centre must be a 2-D point (x, y), got shape {self.centre.shape}")
        self.weights = GaussianMixture._check_weights(weights, len(self.radii))
        self.name = name
        self._r32, self._w32 = _as_float_tensor(self.radii), _as_float_tensor(self.weights)
        reach = float(self.radii.max()) + 4 * self.noise
        self._bounds = bounds or _box(self.centre - reach, self.centre + reach, 0.1 * reach)

    def _sample(self, n, g):
        j = torch.multinomial(self._w32, n, replacement=True, generator=g)
        t = 2 * math.pi * torch.rand(n, generator=g)
        r = self._r32[j] + self.noise * torch.randn(n, generator=g)
        return _as_float_tensor(self.centre) + r[:, None] * torch.stack([torch.cos(t), torch.sin(t)], 1)

    def _log_density(self, x):
        # p has an integrable 1/rho peak at the centre, of mass ~ Phi(-R/noise) (1e-23
        # for the defaults); capping rho keeps it finite where a grid hits the centre.
        rho = (x - torch.from_numpy(self.centre)).norm(dim=-1).clamp_min(1e-3 * self.noise)[:, None]
        radii = torch.from_numpy(self.radii)[None]
        sig = self.noise

        def log_normal(mu):  # log N(rho; mu, noise^2)
            return -0.5 * ((rho - mu) / sig) ** 2 - math.log(sig) - 0.5 * _LOG_2PI

        log_folded = torch.logaddexp(log_normal(radii), log_normal(-radii))  # (m, J): folded normal
        with np.errstate(divide="ignore"):
            log_comp = log_folded + torch.from_numpy(np.log(self.weights))[None]
        return torch.logsumexp(log_comp, 1) - math.log(2 * math.pi) - torch.log(rho[:, 0])


class Moons(Distribution):
    """scikit-learn's two interleaving half circles, centred at the origin.

    Upper moon (cos t, sin t), lower moon (1 - cos t, 0.5 - sin t), t ~ U(0, pi),
    shifted by (-0.5, -0.25), plus isotropic N(0, noise^2) noise. No closed-form
    density (a half circle blurred by a Gaussian).
    """

    has_density = False

    def __init__(self, noise=0.05, *, name: str = "moons"):
        self.noise = check_float("noise", noise, minimum=0.0, strict_min=True)
        self.name = name
        self._bounds = _box(np.array([-1.5, -0.75]), np.array([1.5, 0.75]), 0.3 + 4 * self.noise)

    def _sample(self, n, g):
        t = math.pi * torch.rand(n, generator=g)
        lower = torch.rand(n, generator=g) < 0.5
        sign = 1.0 - 2.0 * lower.float()  # +1 upper moon, -1 lower moon
        x = lower.float() + sign * torch.cos(t) - 0.5
        y = sign * torch.sin(t) + 0.5 * lower.float() - 0.25
        return torch.stack([x, y], 1) + self.noise * torch.randn(n, 2, generator=g)


class Spiral(Distribution):
    """An Archimedean spiral r = radius * t, angle = 2 pi turns t, t in [0, 1].

    t = sqrt(u), u ~ U(0, 1), so points spread roughly evenly along the arc
    (its length grows like t^2); plus isotropic N(0, noise^2) noise. No closed
    form density.
    """

    has_density = False

    def __init__(self, turns=1.5, radius=1.0, noise=0.02, *, name: str = "spiral"):
        self.turns = check_float("turns", turns, minimum=0.0, strict_min=True)
        self.radius = check_float("radius", radius, minimum=0.0, strict_min=True)
        self.noise = check_float("noise", noise, minimum=0.0, strict_min=True)
        self.name = name
        reach = self.radius + 4 * self.noise
        self._bounds = _box(np.array([-reach, -reach]), np.array([reach, reach]), 0.1 * reach)

    def _sample(self, n, g):
        t = torch.sqrt(torch.rand(n, generator=g))
        angle = 2 * math.pi * self.turns * t
        r = self.radius * t
        xy = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], 1)
        return xy + self.noise * torch.randn(n, 2, generator=g)


class Checkerboard(Distribution):
    """Uniform on the dark cells of an n_cells x n_cells board of side ``size``, centred at 0.

    Cell (i, j) (counted from the lower-left corner) is dark when i + j is even.
    Exact density: 1 / (n_dark * cell^2) on dark cells, 0 elsewhere.
    """

    def __init__(self, n_cells=4, size=2.0, *, name: str = "checkerboard"):
        self.n_cells = check_int("n_cells", n_cells, minimum=2)
        self.size = check_float("size", size, minimum=0.0, strict_min=True)
        self.name = name
        self.cell = self.size / self.n_cells
        ij = [(i, j) for i in range(self.n_cells) for j in range(self.n_cells) if (i + j) % 2 == 0]
        self._dark = torch.tensor(ij, dtype=torch.float32)  # (n_dark, 2) cell indices
        self._log_p = -math.log(len(ij) * self.cell**2)
        half = self.size / 2
        self._bounds = _box(np.array([-half, -half]), np.array([half, half]), 0.1 * self.size)

    def _sample(self, n, g):
        k = torch.randint(len(self._dark), (n,), generator=g)
        corner = self._dark[k] * self.cell - self.size / 2
        return corner + self.cell * torch.rand(n, 2, generator=g)

    def _log_density(self, x):
        idx = torch.floor((x + self.size / 2) / self.cell)
        inside = ((idx >= 0) & (idx < self.n_cells)).all(-1)
        dark = inside & (idx.sum(-1) % 2 == 0)
        return torch.where(dark, torch.tensor(self._log_p, dtype=x.dtype), torch.tensor(-math.inf, dtype=x.dtype))


# ---------------------------------------------------------------------------
# GAN Lab's presets (Kahng et al. 2018), all inside the unit square
# ---------------------------------------------------------------------------


def line(noise=0.01) -> LineSegment:
    """GAN Lab's "Line": the segment (0.8, 0.6) -> (0.05, 0.9), noise std 0.01."""
    return LineSegment((0.8, 0.6), (0.05, 0.9), noise, name="line", bounds=_UNIT_SQUARE)


def two_gaussians() -> GaussianMixture:
    """GAN Lab's "Two Gaussian hills", kept inside the unit square.

    Equal weights; a round hill at (0.3, 0.7) with std 0.08 and an upright one at
    (0.7, 0.4) with stds (0.05, 0.1). (GAN Lab's hills have stds 0.1 and
    (0.05, 0.2), which spill out of the square; these keep ~4 std inside.)
    """
    return GaussianMixture([[0.3, 0.7], [0.7, 0.4]], [[0.08, 0.08], [0.05, 0.1]],
                           name="two_gaussians")._with_bounds(_UNIT_SQUARE)


def ring_ganlab(noise=0.03) -> NoisyCircles:
    """GAN Lab's "Ring" preset, with our parameters: a continuous ring of radius 0.3
    around (0.5, 0.5), radial noise std 0.03 (see :class:`NoisyCircles`)."""
    return NoisyCircles((0.3,), noise, centre=(0.5, 0.5), name="ring_ganlab", bounds=_UNIT_SQUARE)


def three_blobs(std=0.03) -> GaussianMixture:
    """GAN Lab's three disjoint blobs ("Three dots"): (0.35, 0.75), (0.75, 0.6), (0.45, 0.35), std 0.03."""
    return GaussianMixture([[0.35, 0.75], [0.75, 0.6], [0.45, 0.35]], std,
                           name="three_blobs")._with_bounds(_UNIT_SQUARE)


def moons(noise=0.05) -> Moons:
    """Two interleaving moons (scikit-learn's shape), centred at 0; see :class:`Moons`."""
    return Moons(noise)


def circles(radii=(1.0, 0.5), noise=0.05) -> NoisyCircles:
    """Two concentric circles, radii 1 and 0.5 (scikit-learn's factor 0.5), radial noise 0.05."""
    return NoisyCircles(radii, noise, name="circles")


def spiral(turns=1.5, radius=1.0, noise=0.02) -> Spiral:
    """An Archimedean spiral of 1.5 turns and radius 1; see :class:`Spiral`."""
    return Spiral(turns, radius, noise)


def checkerboard(n_cells=4, size=2.0) -> Checkerboard:
    """A 4 x 4 checkerboard on [-1, 1]^2, uniform on its 8 dark cells; see :class:`Checkerboard`."""
    return Checkerboard(n_cells, size)


# ---------------------------------------------------------------------------
# your own points
# ---------------------------------------------------------------------------


class Empirical(Distribution):
    """The distribution of your own points: sampling picks rows at random (with replacement).

    Parameters
    ----------
    points : a NumPy array, a torch tensor, a list, or the path of a CSV file,
        of shape (n, 1), (n, 2), or a plain vector of n numbers (1-D data).
        At least 2 points, all finite. A CSV file has one point per line,
        values separated by commas (or semicolons, tabs, spaces); an optional
        header line and blank or ``#`` lines are skipped.
    noise : std of Gaussian noise added to each drawn point (GAN Lab adds 0.02
        to drawn points). With noise > 0 the distribution is a Gaussian mixture
        with a mode at every point, so it has an exact density; with noise = 0
        it is discrete and has none.
    """

    def __init__(self, points, noise=0.0, *, name: str = "points"):
        self.noise = check_float("noise", noise, minimum=0.0)
        self.source = os.fspath(points) if isinstance(points, (str, os.PathLike)) else None
        array = _read_csv(self.source) if self.source is not None else self._check_points(points)
        if array.ndim == 1:
            array = array[:, None]
        self.points = array
        self.dim = array.shape[1]
        self.name = name
        self.has_density = self.noise > 0
        self._points32 = _as_float_tensor(array)
        if self.has_density:
            self._mixture = GaussianMixture(array, self.noise, name=name)
        lo, hi = array.min(0), array.max(0)
        extent = float(np.max(hi - lo))
        margin = max(4 * self.noise, 0.1 * extent) if extent > 0 or self.noise > 0 else 0.5
        self._bounds = _box(lo, hi, margin)

    @staticmethod
    def _check_points(points) -> np.ndarray:
        if isinstance(points, torch.Tensor):
            points = points.detach().cpu().numpy()
        if not isinstance(points, (np.ndarray, list, tuple)):
            raise TypeError(
                "points must be a NumPy array, a torch tensor, a list or a CSV path, "
                f"got {type(points).__name__}"
            )
        array = np.asarray(points)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"points must hold numbers, got an array of dtype {array.dtype}")
        return _validate_points(array.astype(np.float64), "points")

    def _sample(self, n, g):
        idx = torch.randint(len(self._points32), (n,), generator=g)
        x = self._points32[idx]
        if self.noise > 0:
            x = x + self.noise * torch.randn(n, self.dim, generator=g)
        return x

    def _log_density(self, x):
        return self._mixture._log_density(x)

    def _work_per_point(self) -> int:
        return self._mixture._work_per_point()

    def log_density(self, x) -> np.ndarray:  # a clearer message than the base class's
        if not self.has_density:
            raise NotImplementedError(
                "Empirical(points) with noise=0 is discrete and has no density; "
                "pass noise > 0 for a smooth version"
            )
        return super().log_density(x)

    def __repr__(self) -> str:
        return f"<Empirical {self.name!r}: {len(self.points)} points in {self.dim}-D, noise={self.noise}>"


def _validate_points(array: np.ndarray, label: str) -> np.ndarray:
    """Shape (n,), (n, 1) or (n, 2); n >= 2; finite."""
    if array.ndim not in (1, 2) or (array.ndim == 2 and array.shape[1] not in (1, 2)):
        raise ValueError(f"{label} must have shape (n, 1), (n, 2) or (n,), got {tuple(array.shape)}")
    if array.shape[0] < 2:
        raise ValueError(f"{label} must hold at least 2 points, got {array.shape[0]}")
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ValueError(f"{label} must contain only finite values; row {row} is {array[row].tolist()}")
    return array


_SEPARATORS = re.compile(r"[,;\s]+")


def _read_csv(path: str) -> np.ndarray:
    """Read points from a small CSV file with clear messages for every problem."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"points: no such CSV file: {path!r}")
    with open(path, encoding="utf-8-sig") as handle:
        lines = handle.read().splitlines()
    rows, width, first_line = [], None, None
    for number, text in enumerate(lines, start=1):
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        fields = [f for f in _SEPARATORS.split(text) if f]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            if not rows and first_line is None:  # the first non-blank line may be a header
                first_line = number
                continue
            bad = next(f for f in fields if not _is_number(f))
            raise ValueError(
                f"points: CSV file {path!r}, line {number}: {bad!r} is not a number"
            ) from None
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise ValueError(
                f"points: CSV file {path!r}, line {number} has {len(values)} values, "
                f"the lines above have {width}"
            )
        rows.append(values)
    if not rows:
        raise ValueError(f"points: CSV file {path!r} holds no numeric rows")
    return _validate_points(np.asarray(rows, dtype=np.float64), f"points (CSV file {path!r})")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------

#: Names -> factories. Each factory's keyword arguments are its parameters,
#: e.g. ``DISTRIBUTIONS["ring"](n_modes=6)``. Your own points: :class:`Empirical`.
DISTRIBUTIONS: Dict[str, Callable[..., Distribution]] = {
    "gaussian_1d": Gaussian1D,
    "uniform_1d": Uniform1D,
    "mixture_1d": mixture_1d,
    "ring": ring,
    "grid": grid,
    "line": line,
    "two_gaussians": two_gaussians,
    "ring_ganlab": ring_ganlab,
    "three_blobs": three_blobs,
    "moons": moons,
    "circles": circles,
    "spiral": spiral,
    "checkerboard": checkerboard,
}


def get_distribution(name, **kwargs) -> Distribution:
    """The distribution called ``name`` (a key of :data:`DISTRIBUTIONS`), built with ``kwargs``.

    A :class:`Distribution` passed as ``name`` is returned as it is, so callers
    can accept either a name or a ready-made distribution.
    """
    if isinstance(name, Distribution):
        if kwargs:
            raise TypeError("kwargs can only be given with a distribution name, not an instance")
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a string or a Distribution, got {type(name).__name__}")
    if name not in DISTRIBUTIONS:
        known = ", ".join(repr(k) for k in DISTRIBUTIONS)
        raise ValueError(f"name must be one of {known}, got {name!r} (own points: use Empirical(points))")
    return DISTRIBUTIONS[name](**kwargs)
