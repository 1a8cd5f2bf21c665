"""Curves of a run over time: losses, D's verdicts, quality metrics, gradient norms.

One function per figure, each drawing a :class:`ganlab.train.RunRecord`
(trained live or loaded from a file). Long runs are thinned for the page: each
plotted point is the mean of a block of consecutive iterations (at most
``max_points`` points per curve), which also smooths the step-to-step noise of
minibatch losses. NaN entries (a player that did not move in that iteration,
see ``Trainer.d_step`` / ``g_step``) are left out of the means.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab._checks import _describe, check_int
from ganlab.viz import style

__all__ = ["loss_curves", "d_output_curves", "metric_curves", "grad_norm_curves"]

_METRIC_NAMES = {
    "modes": "modes covered",
    "hq": "high-quality fraction",
    "rkl": "reverse KL of the mode histogram",
    "distance": "energy distance to p_data",
}


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _check_record(record) -> None:
    if not hasattr(record, "history") or not isinstance(getattr(record, "history"), dict):
        raise TypeError(f"record must be a ganlab.train.RunRecord, got {_describe(record)}")
    if not record.history.get("step"):
        raise ValueError("record has no iterations yet: train it first (trainer.fit(steps))")


def _check_common(record, max_points, title) -> int:
    _check_record(record)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")
    return check_int("max_points", max_points, minimum=2)


def _thinned(steps, values, max_points: int) -> tuple[list, list]:
    """Block means: at most ``max_points`` (step, value) pairs, NaNs ignored."""
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    if len(steps) > max_points:
        edges = np.linspace(0, len(steps), max_points + 1).round().astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks stay NaN
            values = np.array([np.nanmean(values[a:b]) for a, b in zip(edges[:-1], edges[1:])])
        steps = np.array([steps[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
    # NaN -> None: plotly leaves a gap (JSON has no NaN).
    ys = [None if not math.isfinite(v) else v for v in style.rounded(values)]
    return style.rounded(steps, 6), ys


def _history(record, key) -> np.ndarray:
    return np.asarray(record.history[key], dtype=float)


def _layout(title: str, height: int, **extra) -> dict:
    return style.base_layout(title=dict(text=title, x=0.5, xanchor="center"), height=height,
                             margin=dict(l=70, r=30, t=100, b=55), **extra)


def _equilibrium_losses(record) -> dict | None:
    """Both losses when D(x) = 1/2 everywhere (logit 0), for the log-loss objectives."""
    if getattr(record, "d_output", "probability") != "probability":
        return None
    name = (getattr(record, "config", None) or {}).get("objective")
    try:
        import torch

        from ganlab.losses import get_objective

        objective = get_objective(name)
        zero = torch.zeros(4, 1)
        return {"loss_d": float(objective.d_loss(zero, zero)), "loss_g": float(objective.g_loss(zero))}
    except Exception:  # unknown or missing objective: draw no reference line
        return None


# --------------------------------------------------------------------------- #
# The figures
# --------------------------------------------------------------------------- #
def loss_curves(record, *, max_points: int = 1000, title: str = "Losses") -> go.Figure:
    """Both players' losses against the iteration.

    For the log-loss objectives, dotted lines mark each loss when D(x) = 1/2
    everywhere, the value at the game's equilibrium p_g = p_data (e.g. log 4 for
    D's loss, a sum of two terms, and log 2 for the non-saturating G loss).
    """
    max_points = _check_common(record, max_points, title)
    steps = _history(record, "step")
    fig = go.Figure()
    for key, name, colour in (("loss_d", "D loss", style.LOSS_D), ("loss_g", "G loss", style.LOSS_G)):
        x, y = _thinned(steps, _history(record, key), max_points)
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line=dict(color=colour, width=2)))
    equilibrium = _equilibrium_losses(record)
    if equilibrium:
        for key, colour in (("loss_d", style.LOSS_D), ("loss_g", style.LOSS_G)):
            value = equilibrium[key]
            fig.add_hline(y=value, line=dict(color=colour, dash="dot", width=1.5),
                          annotation_text=f"{'D' if key == 'loss_d' else 'G'} loss at D = 1/2: {value:.3f}",
                          annotation_position="top right", annotation_font=dict(size=12, color=colour))
    fig.update_layout(**_layout(title, 380), xaxis_title="iteration", yaxis_title="loss")
    return fig


def d_output_curves(record, *, max_points: int = 1000,
                    title: str = "The discriminator's verdicts") -> go.Figure:
    """D's mean output on real samples and on fakes, against the iteration.

    For the log-loss objectives these are probabilities and the line 1/2 is
    where D can no longer tell real from fake (the equilibrium); for the other
    objectives they are raw scores and the line marks 0.
    """
    max_points = _check_common(record, max_points, title)
    probability = getattr(record, "d_output", "probability") == "probability"
    steps = _history(record, "step")
    fig = go.Figure()
    for key, name, colour in (("d_real", "mean D(x_real)", style.REAL), ("d_fake", "mean D(G(z))", style.FAKE)):
        x, y = _thinned(steps, _history(record, key), max_points)
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line=dict(color=colour, width=2)))
    level = 0.5 if probability else 0.0
    fig.add_hline(y=level, line=dict(color=style.GREY, dash="dot", width=1.5),
                  annotation_text="1/2: D cannot tell" if probability else "0",
                  annotation_position="top right", annotation_font=dict(size=12, color=style.GREY))
    fig.update_layout(**_layout(title, 380), xaxis_title="iteration",
                      yaxis_title="mean D(x) = P(real)" if probability else "mean critic score")
    if probability:
        fig.update_yaxes(range=[-0.02, 1.02])
    return fig


def grad_norm_curves(record, *, max_points: int = 1000, log_y: bool = True,
                     title: str = "Gradient norms") -> go.Figure:
    """The norm of each player's gradient (all its weights), against the iteration.

    A collapsing norm means a player has stopped learning (e.g. the vanishing
    gradient of the minimax G loss when D wins); an exploding one precedes a
    divergence. Log scale by default (``log_y``).
    """
    max_points = _check_common(record, max_points, title)
    if not isinstance(log_y, (bool, np.bool_)):
        raise TypeError(f"log_y must be True or False, got {_describe(log_y)}")
    steps = _history(record, "step")
    fig = go.Figure()
    for key, name, colour in (("grad_norm_d", "|∇ D loss|", style.LOSS_D),
                              ("grad_norm_g", "|∇ G loss|", style.LOSS_G)):
        x, y = _thinned(steps, _history(record, key), max_points)
        if log_y:  # a log axis cannot show 0
            y = [None if v is None or v <= 0 else v for v in y]
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line=dict(color=colour, width=2)))
    fig.update_layout(**_layout(title, 380), xaxis_title="iteration", yaxis_title="gradient norm")
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def metric_curves(record, keys=None, *, title: str = "Sample quality") -> go.Figure:
    """The metrics the trainer recorded (``record.metrics``), one panel each.

    Reference lines where the record knows them: the number of modes of the
    mixture ("all K modes"), the high-quality fraction of a perfect sampler
    (1 - e^{-9/2} ~ 0.989 in 2-D, 0.997 in 1-D: "within 3 std" of a Gaussian),
    0 for the reverse KL (modes evenly covered), and the real-vs-real floor of
    a sample distance (``floor``: what two samples of p_data itself score, so
    ``distance`` near the floor is as good as the sample size can tell).

    Args:
        keys: which metrics to draw (default: every numeric key but ``step``
            and ``floor``, which is drawn with ``distance``).
    """
    _check_record(record)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")
    rows = [m for m in (getattr(record, "metrics", None) or []) if isinstance(m, dict) and "step" in m]
    found = []
    for m in rows:
        for k, v in m.items():
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
            if numeric and k not in ("step", "floor") and k not in found:
                found.append(k)
    if not found:
        raise ValueError("record has no metrics: train with metrics_every > 0 on a distribution whose mode "
                         "centres are known (e.g. ganlab.data.ring()), or add metric dicts to record.metrics")
    if keys is None:
        keys = found
    else:
        keys = [keys] if isinstance(keys, str) else list(keys)
        for k in keys:
            if k not in found:
                raise ValueError(f"keys: unknown metric {_describe(k)}; this record has: {', '.join(found)}")
    fig = make_subplots(rows=len(keys), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[_METRIC_NAMES.get(k, k) for k in keys])
    info = getattr(record, "data_info", None) or {}
    for row, key in enumerate(keys, start=1):
        pts = [(m["step"], m[key]) for m in rows if isinstance(m.get(key), (int, float))]
        x = [p[0] for p in pts]
        y = [v if math.isfinite(v) else None for v in style.rounded([float(p[1]) for p in pts])]
        fig.add_trace(go.Scatter(x=x, y=y,
                                 name=key, mode="lines+markers", line=dict(color=style.FAKE, width=2),
                                 marker=dict(size=5), showlegend=False), row, 1)
        if key == "distance":
            floor = [(m["step"], m["floor"]) for m in rows if isinstance(m.get("floor"), (int, float))]
            if floor:
                fig.add_trace(go.Scatter(x=[p[0] for p in floor], y=style.rounded([p[1] for p in floor]),
                                         name="real-vs-real floor", mode="lines",
                                         line=dict(color=style.REAL, dash="dash", width=2)), row, 1)
        reference = _reference(key, info)
        if reference is not None:
            value, text = reference
            fig.add_hline(y=value, line=dict(color=style.GREY, dash="dot", width=1.5), row=row, col=1,
                          annotation_text=text, annotation_position="bottom right",
                          annotation_font=dict(size=12, color=style.GREY))
    fig.update_xaxes(title_text="iteration", row=len(keys), col=1)
    fig.update_layout(**_layout(title, 120 + 200 * len(keys)))
    return fig


def _reference(key: str, info: dict):
    """(value, label) of the line that means "as good as it gets", or None."""
    if key == "modes" and info.get("centres") is not None:
        k = len(info["centres"])
        return k, f"all {k} modes"
    if key == "hq":
        dim = info.get("dim", 2)
        perfect = 1 - math.exp(-4.5) if dim == 2 else math.erf(3 / math.sqrt(2)) if dim == 1 else None
        return (perfect, f"a perfect sampler: {perfect:.3f}") if perfect is not None else None
    if key == "rkl":
        return 0.0, "0: modes evenly covered"
    return None
