"""How good is G? Metrics on samples.

- :func:`mode_stats`: the mode-collapse benchmarks (ring, grid): modes covered,
  high-quality fraction, reverse KL, exactly as VEEGAN / PacGAN define them.
- :func:`energy_distance` and :func:`sample_distance_with_floor`: a distance
  between sample sets, with the value two *real* sample sets of the same size
  already reach (the floor), so that "small" means something.
- :func:`kl_1d`, :func:`js_1d`, :func:`optimal_value_1d`: divergences between an
  exact 1-D density p_data and G's samples, through a kernel density estimate.
- :func:`value_estimate`, :func:`discriminator_accuracy`: what D's logits say.

Inputs may be NumPy arrays or torch tensors; outputs are Python floats / ints
(ready for a JSON record).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ._checks import check_choice, check_float, check_int, check_seed
from .data import Distribution, GaussianMixture
from .theory import jsd, trapezoid

__all__ = [
    "mode_counts",
    "mode_stats",
    "energy_distance",
    "sample_distance_with_floor",
    "silverman_bandwidth",
    "kde_1d",
    "kl_1d",
    "js_1d",
    "optimal_value_1d",
    "value_estimate",
    "discriminator_accuracy",
]


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------


def _points(name: str, x, dim: int | None = None, min_rows: int = 1) -> np.ndarray:
    """Samples as a finite float64 array of shape (n, d); a vector (n,) is n 1-D points."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if not isinstance(x, (np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be a NumPy array or torch tensor, got {type(x).__name__}")
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) or (n,), got {array.shape}")
    if dim is not None and array.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} column(s) to match, got shape {array.shape}")
    if array.shape[0] < min_rows:
        raise ValueError(f"{name} must hold at least {min_rows} point(s), got {array.shape[0]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values (no nan or inf)")
    return array


def _logits(name: str, x) -> torch.Tensor:
    """Logits as a finite float64 vector; shapes (n,) and (n, 1) accepted."""
    array = _points(name, x)
    if array.shape[1] != 1:
        raise ValueError(f"{name} must have shape (n,) or (n, 1), got {array.shape}")
    return torch.from_numpy(array[:, 0])


# ---------------------------------------------------------------------------
# mode collapse benchmarks
# ---------------------------------------------------------------------------


def _centres_and_std(centres, std):
    if isinstance(centres, GaussianMixture):
        if std is None:
            if centres.std is None:
                raise ValueError("std must be given: this mixture's modes have different stds")
            std = centres.std
        centres = centres.centres
    if std is None:
        raise TypeError("std must be a positive number (the modes' std), got None")
    std = check_float("std", std, minimum=0.0, strict_min=True)
    return _points("centres", centres), std


def _mode_counts(samples, centres, std, threshold):
    """(counts of HQ samples per centre, number of samples)."""
    centres, std = _centres_and_std(centres, std)
    x = _points("samples", samples, dim=centres.shape[1])
    threshold = check_float("threshold", threshold, minimum=0.0, strict_min=True)
    dist = torch.cdist(torch.from_numpy(x), torch.from_numpy(centres),
                       compute_mode="donot_use_mm_for_euclid_dist")
    nearest_dist, nearest = dist.min(dim=1)
    hq = nearest_dist <= threshold * std
    return np.bincount(nearest[hq].numpy(), minlength=len(centres)), x.shape[0]


def mode_counts(samples, centres, std=None, *, threshold=3.0) -> np.ndarray:
    """Number of high-quality samples nearest to each centre: an int array (k,).

    A sample is high quality (HQ) if its distance to the nearest centre is at
    most ``threshold * std``. ``centres`` is a (k, d) array or a
    :class:`~ganlab.data.GaussianMixture` (then ``std`` defaults to its std).
    """
    return _mode_counts(samples, centres, std, threshold)[0]


def mode_stats(samples, centres, std=None, *, threshold=3.0) -> dict:
    """Modes covered, high-quality fraction and reverse KL (VEEGAN / PacGAN).

    - HQ sample: within ``threshold`` (3) std of its nearest centre;
    - ``modes``: centres that are the nearest centre of at least one HQ sample;
    - ``hq``: fraction of samples that are HQ, in [0, 1] (a perfect 2-D
      sampler scores 1 - e^{-4.5} ~ 0.989);
    - ``rkl``: KL(h || uniform) = sum_k h_k log(K h_k), h the histogram of the
      HQ samples over the K modes (PacGAN). 0 when HQ samples spread evenly,
      log K when they all sit at one mode; nan if no sample is HQ.

    ``centres`` is a (K, d) array or a :class:`~ganlab.data.GaussianMixture`
    (then ``std`` defaults to its std). Benchmarks draw 2500 samples.
    Returns ``{"modes": int, "hq": float, "rkl": float}``.
    """
    counts, n = _mode_counts(samples, centres, std, threshold)
    n_hq = int(counts.sum())
    rkl = math.nan
    if n_hq > 0:
        h = counts[counts > 0] / n_hq
        rkl = max(float(np.sum(h * np.log(h * len(counts)))), 0.0)  # >= 0; clip rounding
    return {"modes": int(np.count_nonzero(counts)), "hq": n_hq / n, "rkl": rkl}


# ---------------------------------------------------------------------------
# sample distances
# ---------------------------------------------------------------------------


def _mean_distance(a: torch.Tensor, b: torch.Tensor, rows: int = 1024) -> float:
    """Mean Euclidean distance over all pairs (a_i, b_j), in row chunks to bound memory."""
    total = 0.0
    for chunk in torch.split(a, rows):
        total += torch.cdist(chunk, b, compute_mode="donot_use_mm_for_euclid_dist").sum().item()
    return total / (a.shape[0] * b.shape[0])


def energy_distance(x, y) -> float:
    """Energy distance between two sample sets (Szekely & Rizzo), in data units.

    D(x, y) = sqrt(2 E|X - Y| - E|X - X'| - E|Y - Y'|), with every expectation
    the mean over *all* pairs of the two finite sets (the V-statistic; the
    scipy convention). It is the distance between the two empirical
    distributions: 0 for identical sets, > 0 otherwise. Between two finite
    samples of the same distribution it is still > 0: compare with the floor
    of :func:`sample_distance_with_floor`.
    """
    x = _points("x", x)
    y = _points("y", y, dim=x.shape[1])
    a, b = torch.from_numpy(x), torch.from_numpy(y)
    d2 = 2 * _mean_distance(a, b) - _mean_distance(a, a) - _mean_distance(b, b)
    return math.sqrt(max(d2, 0.0))


def sample_distance_with_floor(x_fake, distribution, n=None, seed=0) -> dict:
    """Energy distance from G's samples to p_data, and the real-vs-real floor.

    ``distance`` = energy_distance(x_fake, x_real), x_real = ``n`` points of
    ``distribution`` (default n = len(x_fake)) drawn with ``seed``.
    ``floor`` = energy_distance(x_ref, x_real), x_ref = len(x_fake) more real
    points drawn with ``seed + 1``: what a perfect G would score at these sample
    sizes. The seeds are fixed, so the floor is the same at every call and
    distances along a run are comparable. Returns ``{"distance", "floor"}``.
    """
    if not isinstance(distribution, Distribution):
        raise TypeError(f"distribution must be a ganlab.data.Distribution, got {type(distribution).__name__}")
    x_fake = _points("x_fake", x_fake, dim=distribution.dim)
    m = x_fake.shape[0]
    n = m if n is None else check_int("n", n, minimum=1)
    seed = check_seed("seed", seed)
    seed = 0 if seed is None else seed
    x_real = distribution.sample(n, seed=seed)
    x_ref = distribution.sample(m, seed=seed + 1)
    return {"distance": energy_distance(x_fake, x_real), "floor": energy_distance(x_ref, x_real)}


# ---------------------------------------------------------------------------
# 1-D divergences through a kernel density estimate
# ---------------------------------------------------------------------------


def silverman_bandwidth(x) -> float:
    """Silverman's rule of thumb: h = 0.9 min(sigma, IQR / 1.34) n^{-1/5}.

    Falls back to sigma (or 1e-3 when every sample is equal, e.g. a fully
    collapsed G) so that h > 0.
    """
    x = _points("x", x, dim=1, min_rows=1)[:, 0]
    sigma = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
    iqr = float(np.subtract(*np.percentile(x, [75, 25])))
    spread = min(sigma, iqr / 1.34) if iqr > 0 else sigma
    h = 0.9 * spread * len(x) ** (-0.2)
    return h if h > 0 else 1e-3


def _kde_log_density(x: np.ndarray, grid: np.ndarray, h: float) -> np.ndarray:
    """log q(grid) for the Gaussian KDE q(t) = mean_i N(t; x_i, h^2), via log-sum-exp.

    In log space the far tails stay finite (no log 0), so KL(p_data || q) of a
    collapsed G is large but finite.
    """
    t = torch.from_numpy(grid)[:, None]
    xs = torch.from_numpy(x)[None, :]
    out = []
    for chunk in torch.split(t, max(1, 2**22 // len(x))):
        z = (chunk - xs) / h
        out.append(torch.logsumexp(-0.5 * z**2, dim=1))
    log_q = torch.cat(out).numpy()
    return log_q - math.log(len(x)) - math.log(h) - 0.5 * math.log(2 * math.pi)


def kde_1d(x, x_grid, bandwidth=None) -> np.ndarray:
    """Gaussian kernel density estimate of 1-D samples on ``x_grid``.

    q(t) = (1/n) sum_i N(t; x_i, h^2), h = ``bandwidth`` or Silverman's rule.
    Use it to draw G's density next to p_data in the 1-D chapter.
    """
    x = _points("x", x, dim=1)[:, 0]
    grid = _points("x_grid", x_grid, dim=1)[:, 0]
    if bandwidth is None:
        h = silverman_bandwidth(x)
    else:
        h = check_float("bandwidth", bandwidth, minimum=0.0, strict_min=True)
    return np.exp(_kde_log_density(x, grid, h))


def _log_smooth(grid: np.ndarray, log_p: np.ndarray, h: float) -> np.ndarray:
    """log of (p * N(0, h^2))(grid): p smoothed by the KDE's kernel, numerically.

    (p * k)(t_i) = sum_j c_j p(t_j) N(t_i - t_j; 0, h^2), c_j the trapezoid
    weights, computed with log-sum-exp so the tails stay finite.
    """
    dx = np.diff(grid)
    c = np.concatenate([[dx[0] / 2], (dx[1:] + dx[:-1]) / 2, [dx[-1] / 2]])
    with np.errstate(divide="ignore"):
        log_w = torch.from_numpy(log_p + np.log(c))[None, :]
    t = torch.from_numpy(grid)
    out = []
    for chunk in torch.split(t, 512):
        z = (chunk[:, None] - t[None, :]) / h
        out.append(torch.logsumexp(log_w - 0.5 * z**2, dim=1))
    return torch.cat(out).numpy() - math.log(h) - 0.5 * math.log(2 * math.pi)


def _densities_on_grid(x_fake, distribution, bandwidth, n_grid, smooth_data):
    """Shared set-up of kl_1d / js_1d: the grid, log p_data and log q on it."""
    if not isinstance(distribution, Distribution):
        raise TypeError(f"distribution must be a ganlab.data.Distribution, got {type(distribution).__name__}")
    if distribution.dim != 1 or not distribution.has_density:
        raise ValueError(f"distribution must be 1-D with an exact density, got {distribution!r}")
    x = _points("x_fake", x_fake, dim=1, min_rows=2)[:, 0]
    if bandwidth is None:
        h = silverman_bandwidth(x)
    else:
        h = check_float("bandwidth", bandwidth, minimum=0.0, strict_min=True)
    n_grid = check_int("n_grid", n_grid, minimum=16)
    if not isinstance(smooth_data, bool):
        raise TypeError(f"smooth_data must be True or False, got {smooth_data!r}")
    (lo, hi), = distribution.bounds
    lo, hi = min(lo, x.min()) - 5 * h, max(hi, x.max()) + 5 * h
    # the kernel must span a few grid steps for the sums to be integrals
    h = max(h, 2 * (hi - lo) / (n_grid - 1))
    grid = np.linspace(lo, hi, n_grid)
    log_p = distribution.log_density(grid)
    if smooth_data:
        log_p = _log_smooth(grid, log_p, h)
    return grid, log_p, _kde_log_density(x, grid, h)


_ESTIMATOR = """
    Estimator: G's density is the Gaussian kernel density estimate
    q = (1/n) sum_i N(x_i, h^2) of ``x_fake``, h = ``bandwidth`` or Silverman's
    rule. With ``smooth_data=True`` (default) p_data is smoothed by the same
    kernel, p_h = p_data * N(0, h^2), and the divergence is taken between p_h
    and q: both sides carry the same smoothing bias, so samples from p_data
    itself score ~0 (sampling noise only), and the value tends to the exact
    divergence as h -> 0. ``smooth_data=False`` compares the exact p_data with
    q (then even perfect samples score clearly above 0). Integrals: trapezoid
    rule on ``n_grid`` equal steps over ``distribution.bounds`` and the samples,
    5 h beyond; h is raised to at least 2 grid steps.
"""


def kl_1d(x_fake, distribution, *, direction="forward", bandwidth=None, n_grid=2001,
          smooth_data=True) -> float:
    """KL between an exact 1-D p_data and G's samples, in nats.

    ``direction="forward"``: KL(p_data || p_g) (large when G misses a mode);
    ``"reverse"``: KL(p_g || p_data) (large when G puts mass where there is no
    data; with ``smooth_data=False`` it is +inf when p_data has bounded
    support, e.g. a uniform, since a KDE always spills over the edges).
    """
    direction = check_choice("direction", direction, ("forward", "reverse"))
    grid, log_p, log_q = _densities_on_grid(x_fake, distribution, bandwidth, n_grid, smooth_data)
    if direction == "reverse":
        log_p, log_q = log_q, log_p
    p = np.exp(log_p)
    with np.errstate(invalid="ignore"):
        integrand = np.where(p > 0, p * (log_p - log_q), 0.0)
    return max(trapezoid(integrand, grid), 0.0)


def js_1d(x_fake, distribution, *, bandwidth=None, n_grid=2001, smooth_data=True) -> float:
    """JSD(p_data || p_g) in nats (between 0 and log 2), from G's samples. Always finite."""
    grid, log_p, log_q = _densities_on_grid(x_fake, distribution, bandwidth, n_grid, smooth_data)
    return min(max(jsd(np.exp(log_p), np.exp(log_q), grid), 0.0), math.log(2.0))


def optimal_value_1d(x_fake, distribution, *, bandwidth=None, n_grid=2001, smooth_data=True) -> float:
    """max_D V(G, D) = -log 4 + 2 JSD(p_data || p_g), estimated from G's samples.

    What a perfect discriminator would score against this G (Goodfellow et al.
    2014); -log 4 ~ -1.386 means G is perfect. Same estimator as :func:`js_1d`.
    """
    js = js_1d(x_fake, distribution, bandwidth=bandwidth, n_grid=n_grid, smooth_data=smooth_data)
    return -math.log(4.0) + 2.0 * js


for _f in (kl_1d, js_1d, optimal_value_1d):
    _f.__doc__ += _ESTIMATOR
del _f


# ---------------------------------------------------------------------------
# what D's logits say
# ---------------------------------------------------------------------------


def value_estimate(real_logits, fake_logits) -> float:
    """V(G, D) estimated from samples: mean log D(x_real) + mean log(1 - D(x_fake)).

    From logits l, with D = sigmoid(l): log D = logsigmoid(l) and
    log(1 - D) = logsigmoid(-l), which is stable for large |l|. At the
    equilibrium (D = 1/2 everywhere) V = -log 4.
    """
    real = _logits("real_logits", real_logits)
    fake = _logits("fake_logits", fake_logits)
    return float(F.logsigmoid(real).mean() + F.logsigmoid(-fake).mean())


def discriminator_accuracy(real_logits, fake_logits) -> dict:
    """D's accuracy: real counted right when logit > 0, fake when logit < 0.

    A logit of exactly 0 (D = 1/2) counts as half right, so the D* = 1/2 of a
    perfect G scores 0.5. Returns ``{"accuracy", "real", "fake"}`` in [0, 1],
    ``accuracy`` being the mean over all real and fake samples.
    """
    real = _logits("real_logits", real_logits)
    fake = _logits("fake_logits", fake_logits)
    right_real = (real > 0).double() + 0.5 * (real == 0).double()
    right_fake = (fake < 0).double() + 0.5 * (fake == 0).double()
    total = (right_real.sum() + right_fake.sum()) / (len(real) + len(fake))
    return {"accuracy": float(total), "real": float(right_real.mean()), "fake": float(right_fake.mean())}
