"""Figures of the failure modes (the course's chapter "When GANs fail").

- :func:`mode_timeline`: where the fakes are, snapshot by snapshot: one row per
  mode of a mixture, one column per snapshot, coloured by the share of the fakes
  nearest that mode (:func:`ganlab.failure.mode_shares`). A collapsed generator
  is one dark cell per column; a hopping one moves it from row to row.
- :func:`sweep_curves`: the runs of a sweep (:func:`ganlab.loop.sweep`) as small
  multiples, one panel per cell, a metric against the iteration: which settings
  get there, which get there slowly, which never do.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab._checks import _describe
from ganlab.failure import mode_shares
from ganlab.viz import style

__all__ = ["mode_timeline", "sweep_curves"]

# white (no fakes) -> the fakes' orange -> dark brown (all of them)
_SCALE = [[0.0, "#ffffff"], [0.15, "#fbe3b3"], [0.5, style.FAKE], [1.0, "#5c3c00"]]


def _check_title(title) -> str:
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")
    return title


def mode_timeline(record, *, hq_only: bool = False, mode_labels=None,
                  title: str = "Where the fakes are, mode by mode") -> go.Figure:
    """A heatmap of :func:`ganlab.failure.mode_shares`: modes (rows) by snapshots (columns).

    Colour: the share of the snapshot's fixed batch of fakes whose nearest mode
    centre is that mode (only the high-quality ones with ``hq_only``, the colour
    scale then running from 0 to the largest share after the first snapshot; larger
    shares are drawn in the darkest colour).

    Args:
        record: a RunRecord with snapshots, of a mixture with known centres.
        hq_only: count only fakes within 3 std of their centre.
        mode_labels: one string per mode (default "mode 0", "mode 1", ...).
    """
    title = _check_title(title)
    steps, shares = mode_shares(record, hq_only=hq_only)
    k = shares.shape[1]
    if mode_labels is None:
        mode_labels = [f"mode {i}" for i in range(k)]
    mode_labels = list(mode_labels)
    if len(mode_labels) != k or not all(isinstance(s, str) for s in mode_labels):
        raise ValueError(f"mode_labels must be {k} strings (one per mode), got {_describe(mode_labels)}")
    what = "high-quality fakes" if hq_only else "fakes"
    # HQ shares are often a few percent: scale the colours to the largest share after the
    # first snapshot (an untrained G's blob can put ~all its fakes on one mode), so they show
    zmax = max(float(shares[1:].max() if len(shares) > 1 else shares.max()), 1e-3) if hq_only else 1.0
    fig = go.Figure(go.Heatmap(
        z=[style.rounded(row, 3) for row in shares.T], x=steps.tolist(), y=mode_labels,
        zmin=0, zmax=zmax, colorscale=_SCALE, xgap=1, ygap=2,
        colorbar=dict(title=dict(text=f"share of {what}", side="right"), thickness=14, tickformat=".0%"),
        hovertemplate="iteration %{x}, %{y}: %{z:.0%}<extra></extra>",
    ))
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.5, xanchor="center"), height=max(300, 120 + 22 * k),
        xaxis=dict(title="iteration", showgrid=False), yaxis=dict(autorange="reversed", showgrid=False),
        margin=dict(l=90, r=30, t=70, b=55)))
    return fig


def sweep_curves(result, key: str = "modes", *, row_labels=None, col_labels=None,
                 title: str = "Each run of the sweep over time") -> go.Figure:
    """Small multiples of a sweep: one panel per cell, ``key`` ("modes" or "hq")
    against the iteration, with the line of a perfect outcome (all modes, or the
    HQ fraction of a perfect 2-D sampler, 1 - e^{-9/2}).

    Args:
        result: a :class:`ganlab.loop.SweepResult` (its ``records``).
        row_labels, col_labels: a title per row / column of the sweep
            (default "field = value").
    """
    title = _check_title(title)
    for attribute in ("rows", "cols", "records", "n_modes"):
        if not hasattr(result, attribute):
            raise TypeError(f"result must be a ganlab.loop.SweepResult, got {_describe(result)}")
    if key not in ("modes", "hq"):
        raise ValueError(f"key must be 'modes' or 'hq', got {_describe(key)}")
    (row_field, row_values), (col_field, col_values) = result.rows, result.cols
    rows = list(row_labels) if row_labels is not None else [f"{row_field} = {v:g}" for v in row_values]
    cols = list(col_labels) if col_labels is not None else [f"{col_field} = {v:g}" for v in col_values]
    if len(rows) != len(row_values) or len(cols) != len(col_values):
        raise ValueError(f"row_labels / col_labels must have {len(row_values)} / {len(col_values)} entries")
    top = result.n_modes if key == "modes" else 1 - math.exp(-4.5)
    fig = make_subplots(rows=len(rows), cols=len(cols), shared_xaxes=True, shared_yaxes=True,
                        horizontal_spacing=0.04, vertical_spacing=0.08,
                        subplot_titles=[f"{r}, {c}" for r in rows for c in cols])
    for i, records in enumerate(result.records):
        for j, record in enumerate(records):
            if record is None:  # diverged: an empty panel with a word in it
                fig.add_annotation(text="diverged", showarrow=False, row=i + 1, col=j + 1,
                                   x=0.5, y=0.5, xref="x domain", yref="y domain")
                continue
            points = [(m["step"], m[key]) for m in record.metrics if key in m]
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=style.rounded([p[1] for p in points]),
                                     mode="lines+markers", line=dict(color=style.FAKE, width=2),
                                     marker=dict(size=4), showlegend=False,
                                     hovertemplate="iteration %{x}: %{y:.3g}<extra></extra>"),
                          row=i + 1, col=j + 1)
            fig.add_hline(y=top, line=dict(color=style.GREY, dash="dot", width=1), row=i + 1, col=j + 1)
    fig.update_annotations(font_size=12)
    fig.update_yaxes(range=[-0.05 * top, 1.08 * top])
    for i in range(len(rows)):
        fig.update_yaxes(title_text="modes" if key == "modes" else "HQ", row=i + 1, col=1)
    for j in range(len(cols)):
        fig.update_xaxes(title_text="iteration", row=len(rows), col=j + 1)
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.5, xanchor="center"),
                                          height=140 + 190 * len(rows), margin=dict(l=60, r=20, t=100, b=55)))
    return fig
