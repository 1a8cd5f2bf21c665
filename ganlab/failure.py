"""When GANs fail: the measurements of the course's chapter on failure modes.

Each function reads a :class:`ganlab.train.RunRecord` (trained live or loaded
from a file) and turns one failure into numbers:

- :func:`mode_shares`: where the fakes are, snapshot by snapshot: the share of
  the fixed batch of fakes whose nearest mode centre is mode k.  A collapsed
  generator puts nearly all of them near one centre; a generator that *hops*
  moves that share from one mode to another.
- :func:`dominant_modes` and :func:`count_hops`: the mode that holds the most
  fakes in each snapshot, and how often it changes.
- :func:`curve_signature`: the few numbers a reader takes from the training
  curves (losses against their value at D = 1/2, D's verdicts, G's gradient
  norm, how much the losses swing, the mode statistics) that tell the failure
  modes apart.
- :func:`check_covered_modes`: the self-check of the chapter's exercise
  "Count the covered modes".

The definitions of the benchmarks are those of VEEGAN (Srivastava et al. 2017)
and PacGAN (Lin et al. 2018): a sample is high quality (HQ) when it lies within
3 standard deviations of its nearest mode centre, and a mode is covered when it
is the nearest centre of at least one HQ sample (:func:`ganlab.metrics.mode_stats`).
"""

from __future__ import annotations

import math
import numbers
import textwrap
from typing import Callable

import numpy as np
import torch

from ._checks import _describe, check_float, check_int

__all__ = ["mode_shares", "dominant_modes", "count_hops", "curve_signature", "check_covered_modes"]


# --------------------------------------------------------------------------- #
# Where the fakes are
# --------------------------------------------------------------------------- #
def _check_record(record, need: str = "snapshots") -> None:
    if not hasattr(record, "history") or not hasattr(record, "snapshots"):
        raise TypeError(f"record must be a ganlab.train.RunRecord, got {_describe(record)}")
    if need == "snapshots" and not record.snapshots:
        raise ValueError("record has no snapshots: train with snapshot_every > 0")
    if need == "history" and not record.history.get("step"):
        raise ValueError("record has no iterations yet: train it first (trainer.fit(steps))")


def _centres(record, centres) -> np.ndarray:
    if centres is None:
        centres = (getattr(record, "data_info", None) or {}).get("centres")
        if centres is None:
            raise ValueError("the record's data has no known mode centres (a ring or a grid has): "
                             "pass centres=")
    array = np.asarray(centres, dtype=float)
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"centres must be a (K, d) array of mode centres, got shape {array.shape}")
    return array


def _nearest(x: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centre, distance to it) for every row of x."""
    dist = np.sqrt(((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1))
    nearest = dist.argmin(axis=1)
    return nearest, dist[np.arange(len(x)), nearest]


def mode_shares(record, centres=None, *, hq_only: bool = False, threshold: float = 3.0):
    """The share of the snapshot fakes nearest each mode, snapshot by snapshot.

        share[t, k] = #{i : the nearest centre of x_fake_i(t) is c_k} / n

    over the fixed batch of n fakes of snapshot t.  With ``hq_only`` only the
    high-quality fakes count (within ``threshold`` std of that centre; the
    record's data must know its std), so the shares of a snapshot sum to its
    HQ fraction instead of 1.

    Args:
        record: a RunRecord with snapshots (``snapshot_every > 0``).
        centres: (K, d) mode centres; default: those of the record's data
            (a ring or a grid).

    Returns ``(steps, shares)``: an int array (T,) and a float array (T, K).
    """
    _check_record(record)
    centres = _centres(record, centres)
    if not isinstance(hq_only, (bool, np.bool_)):
        raise TypeError(f"hq_only must be True or False, got {_describe(hq_only)}")
    threshold = check_float("threshold", threshold, minimum=0.0, strict_min=True)
    std = (getattr(record, "data_info", None) or {}).get("std")
    if hq_only and std is None:
        raise ValueError("hq_only=True needs the modes' std, and the record's data has none")
    steps, shares = [], []
    for snap in record.snapshots:
        x = np.asarray(snap["x_fake"], dtype=float)
        if x.ndim != 2 or x.shape[1] != centres.shape[1]:
            raise ValueError(f"the snapshot fakes have shape {x.shape}, the centres {centres.shape}")
        nearest, dist = _nearest(x, centres)
        keep = dist <= threshold * std if hq_only else np.ones(len(x), dtype=bool)
        shares.append(np.bincount(nearest[keep], minlength=len(centres)) / len(x))
        steps.append(int(snap["step"]))
    return np.asarray(steps, dtype=int), np.asarray(shares, dtype=float)


def dominant_modes(shares, *, min_share: float = 0.5) -> np.ndarray:
    """The mode holding the most fakes in each row of ``shares``, or -1 where
    no mode holds at least ``min_share`` of them (the fakes are spread out).

    ``shares``: the (T, K) array of :func:`mode_shares`.
    """
    shares = np.asarray(shares, dtype=float)
    if shares.ndim != 2 or shares.shape[1] == 0:
        raise ValueError(f"shares must be a (T, K) array (see mode_shares), got shape {shares.shape}")
    min_share = check_float("min_share", min_share, minimum=0.0, maximum=1.0)
    top = shares.argmax(axis=1)
    return np.where(shares.max(axis=1) >= min_share, top, -1)


def count_hops(dominant) -> int:
    """How often the dominant mode changes from one snapshot to the next.

    Only changes between two snapshots that both have a dominant mode count
    (-1, "spread out", is skipped over): a hop is the clump of fakes leaving
    one mode for another.
    """
    dominant = np.asarray(dominant)
    if dominant.ndim != 1:
        raise ValueError(f"dominant must be a 1-D array (see dominant_modes), got shape {dominant.shape}")
    held = dominant[dominant >= 0]
    return int(np.count_nonzero(held[1:] != held[:-1]))


# --------------------------------------------------------------------------- #
# Reading the curves
# --------------------------------------------------------------------------- #
def _equilibrium(record) -> tuple[float, float]:
    """Both losses at D = 1/2 everywhere (logit 0), NaN when undefined."""
    from .losses import get_objective

    name = (getattr(record, "config", None) or {}).get("objective", "nonsaturating")
    if getattr(record, "d_output", "probability") != "probability":
        return math.nan, math.nan
    objective = get_objective(name)
    zero = torch.zeros(4, 1)
    return float(objective.d_loss(zero, zero)), float(objective.g_loss(zero))


def curve_signature(record, window=None, block: int = 50) -> dict:
    """The numbers behind "reading the training curves", over a window of iterations.

    ``window``: None (the last half of the run, at most its last 1000
    iterations) or ``(first, last)``, the steps to read, both included. Only
    iterations that moved both players count. Over the window:

    - ``loss_d_gap``: mean L_D minus its value at D = 1/2 (log 4 for the
      log-loss objectives). Below 0: D wins the rounds; near 0: D cannot tell.
    - ``loss_g_gap``: the same for G's loss (log 2 for both log-loss G losses).
    - ``verdict_gap``: mean of D(x_real) - D(G(z)): 0 at the equilibrium, near
      1 when D separates real from fake outright.
    - ``grad_norm_g``: the median norm of G's gradient (all its weights): how
      hard the loss pulls G. Compare it between runs, not with a fixed number.
    - ``loss_swing``: the standard deviation of L_D's block means (blocks of
      ``block`` iterations): slow swings of the losses, with the minibatch
      noise averaged out. Large for a game that cycles; NaN when the window
      holds fewer than two blocks.
    - ``modes``, ``modes_min``, ``modes_max``, ``hq``: the mode statistics of
      the measurements in the window (mean, min, max; mean), when the record
      has them.

    Returns a dict of floats (``modes*`` and ``hq`` are NaN without metrics).
    """
    _check_record(record, need="history")
    block = check_int("block", block, minimum=1)
    h = {k: np.asarray(v, dtype=float) for k, v in record.history.items()}
    both = np.isfinite(h["loss_d"]) & np.isfinite(h["loss_g"])
    rows = np.flatnonzero(both)
    if window is None:
        rows = rows[-min(1000, max(1, len(rows) // 2)):]
    else:
        if not isinstance(window, (tuple, list)) or len(window) != 2:
            raise TypeError(f"window must be None or a pair (first, last) of steps, got {_describe(window)}")
        first, last = (check_int(f"window[{i}]", w, minimum=0) for i, w in enumerate(window))
        rows = rows[(h["step"][rows] >= first) & (h["step"][rows] <= last)]
    if len(rows) == 0:
        raise ValueError(f"no iteration in which both players moved lies in window={window!r}")
    d_half, g_half = _equilibrium(record)
    loss_d = h["loss_d"][rows]
    n_blocks = len(loss_d) // block  # whole blocks, counted back from the end
    tail = loss_d[len(loss_d) - n_blocks * block:] if n_blocks else loss_d
    block_means = tail.reshape(max(n_blocks, 1), -1).mean(axis=1)
    lo, hi = h["step"][rows[0]], h["step"][rows[-1]]
    window = [m for m in (record.metrics or []) if lo <= m.get("step", -1) <= hi and "modes" in m]
    modes = np.asarray([m["modes"] for m in window], dtype=float)
    hq = np.asarray([m["hq"] for m in window], dtype=float)
    empty = len(window) == 0
    return {
        "loss_d_gap": float(loss_d.mean() - d_half),
        "loss_g_gap": float(h["loss_g"][rows].mean() - g_half),
        "verdict_gap": float(np.mean(h["d_real"][rows] - h["d_fake"][rows])),
        "grad_norm_g": float(np.median(h["grad_norm_g"][rows])),
        "loss_swing": float(block_means.std()) if n_blocks >= 2 else math.nan,
        "modes": math.nan if empty else float(modes.mean()),
        "modes_min": math.nan if empty else float(modes.min()),
        "modes_max": math.nan if empty else float(modes.max()),
        "hq": math.nan if empty else float(hq.mean()),
    }


# --------------------------------------------------------------------------- #
# Self-check: "Count the covered modes"
# --------------------------------------------------------------------------- #
def _report(ok: bool, message: str) -> bool:
    print(textwrap.fill(("✔ " if ok else "✘ ") + message, width=76, subsequent_indent="  "))
    return ok


def _reference_covered(x_fake, centres, std) -> int:
    # HQ: within 3 std of the nearest centre; covered: nearest centre of >= 1 HQ sample
    nearest, dist = _nearest(np.asarray(x_fake, float), np.asarray(centres, float))
    return int(len(np.unique(nearest[dist <= 3 * std])))


def _test_case():
    """Fakes around an 8-mode ring (std 0.01), built so that every usual
    mistake gives a different count from the right one (3)."""
    from .data import ring

    data = ring()
    c, std = np.asarray(data.centres, dtype=float), float(data.std)
    gen = np.random.default_rng(7)

    def around(k, radius, n):  # n points at `radius` std from centre k
        angle = gen.uniform(0, 2 * math.pi, n)
        return c[k] + radius * std * np.stack([np.cos(angle), np.sin(angle)], axis=1)

    x = np.concatenate([
        around(0, 1.5, 5),            # HQ, mode 0
        around(1, 2.5, 3),            # HQ, mode 1 (outside 1 std)
        around(5, 0.5, 1),            # HQ, mode 5: one sample is enough
        around(2, 6.0, 4),            # near mode 2 but not HQ (6 std)
        (c[3] + c[4]) / 2 + np.zeros((2, 2)),  # half-way between modes 3 and 4
    ])
    return x, c, std


def _covered_mistakes(x, c, std) -> list[tuple[float, str]]:
    nearest, dist = _nearest(x, c)
    hq = dist <= 3 * std
    return [
        (len(np.unique(nearest)), "you counted every sample's nearest mode. Only high-quality samples "
                                  "count: those within 3 * std (not 3) of their nearest centre."),
        (len(np.unique(nearest[dist <= std])), "your threshold is 1 std: a sample is high quality "
                                               "within 3 standard deviations (3 * std) of its centre."),
        (len(np.unique(nearest[dist ** 2 <= 3 * std])), "you compared a SQUARED distance with 3 * std: "
                                                        "take the square root first (or compare with (3 * std)**2)."),
        (int(hq.sum()), "that is the number of high-quality samples; count the distinct modes they are nearest to."),
        (float(hq.mean()), "that is the high-quality fraction; count the distinct modes the HQ samples are nearest to."),
    ]


def _as_count(value):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def check_covered_modes(covered_modes: Callable) -> bool:
    """Self-check: does ``covered_modes(x_fake, centres, std)`` count the modes covered?

    Expected (VEEGAN / PacGAN): a sample is high quality when its distance to
    its nearest centre is at most 3 * std; the answer is the number of
    distinct centres that are the nearest centre of at least one HQ sample.
    ``x_fake`` is (n, d), ``centres`` (K, d), both NumPy arrays; ``std`` a float.
    Tried on fakes built so that each usual mistake gives a different number,
    then on a collapsed generator and on one with no HQ sample at all.
    Prints what is right or wrong, with a hint; returns True or False.
    """
    if not callable(covered_modes):
        raise TypeError(f"covered_modes must be a function (your answer), got {_describe(covered_modes)}")
    x, c, std = _test_case()
    right = _reference_covered(x, c, std)
    try:
        got = covered_modes(x.copy(), c.copy(), std)
    except Exception as error:  # the student's code failed: say so, do not raise
        return _report(False, f"covered_modes raised {type(error).__name__}: {error}. It is called as "
                              "covered_modes(x_fake, centres, std) with NumPy arrays (n, 2), (8, 2) and a float.")
    count = _as_count(got)
    if count is None:
        return _report(False, f"covered_modes returned {_describe(got)}; return one number, the count of modes.")
    if count != right:
        for wrong, hint in _covered_mistakes(x, c, std):
            if count == wrong:
                return _report(False, f"you found {count:g} modes, the answer is {right}: {hint}")
        return _report(False, f"you found {count:g} modes, the answer is {right}. Hint: for each fake, find "
                              "the nearest centre and its distance; keep the fakes within 3 * std; count "
                              "the distinct centres left.")
    collapsed = c[4] + 0.5 * std * np.ones((50, 2)) / math.sqrt(2)
    nothing = np.zeros((20, 2))  # the centre of the ring: far from every mode
    for name, case, expected in (("a collapsed generator (all 50 fakes on one mode)", collapsed, 1),
                                 ("fakes that are all far from every mode", nothing, 0)):
        try:
            got = _as_count(covered_modes(case, c.copy(), std))
        except Exception as error:
            return _report(False, f"right on the first test, but on {name} covered_modes raised "
                                  f"{type(error).__name__}: {error}")
        if got != expected:
            return _report(False, f"right on the first test, but on {name} you found {got}, "
                                  f"expected {expected}.")
    return _report(True, f"{right} modes covered: right, and right for a collapsed generator (1) and "
                         "for fakes far from every mode (0).")
