"""A grid of short runs as one picture: which settings train, which do not.

:func:`sweep_figure` draws a :class:`ganlab.loop.SweepResult` (from
:func:`ganlab.loop.sweep`) as a heatmap: one cell per pair of settings,
coloured by the modes covered (0 to all of them) and labelled with the modes
and the high-quality fraction.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ganlab._checks import _describe
from ganlab.viz import style

__all__ = ["sweep_figure"]

# white (no mode) -> the fakes' orange (every mode)
_SCALE = [[0.0, "#ffffff"], [0.5, "#f6d28b"], [1.0, style.FAKE]]


def _labels(name: str, given, values: list, field: str) -> list[str]:
    if given is None:
        return [f"{field} = {v:g}" if isinstance(v, (int, float)) else f"{field} = {v}" for v in values]
    given = list(given)
    if len(given) != len(values) or not all(isinstance(g, str) for g in given):
        raise ValueError(f"{name} must be {len(values)} strings (one per value of {field}), got {_describe(given)}")
    return given


def sweep_figure(result, *, row_labels=None, col_labels=None, row_title=None, col_title=None,
                 title: str = "What each setting reached") -> go.Figure:
    """A heatmap of a sweep: rows x columns of settings, colour = modes covered.

    Each cell shows the modes covered (of ``result.n_modes``) and the
    high-quality fraction (HQ: samples within 3 std of a mode), both averaged
    over the last measurements of the run; "diverged" where the run blew up.

    Args:
        result: a :class:`ganlab.loop.SweepResult`.
        row_labels, col_labels: text for each row / column (default
            "field = value").
        row_title, col_title: axis titles (default: the field names).
        title: the figure's title.
    """
    for attribute in ("rows", "cols", "modes", "hq", "n_modes"):
        if not hasattr(result, attribute):
            raise TypeError(f"result must be a ganlab.loop.SweepResult, got {_describe(result)}")
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")
    (row_field, row_values), (col_field, col_values) = result.rows, result.cols
    rows = _labels("row_labels", row_labels, row_values, row_field)
    cols = _labels("col_labels", col_labels, col_values, col_field)
    modes, hq = np.asarray(result.modes, dtype=float), np.asarray(result.hq, dtype=float)
    text = [[("diverged" if math.isnan(m) else f"<b>{m:.3g}</b> of {result.n_modes} modes<br>HQ {h:.0%}")
             for m, h in zip(mrow, hrow)] for mrow, hrow in zip(modes, hq)]
    z = [[None if math.isnan(m) else round(float(m), 3) for m in mrow] for mrow in modes]
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, text=text, texttemplate="%{text}", textfont=dict(size=15),
        zmin=0, zmax=result.n_modes, colorscale=_SCALE, xgap=3, ygap=3,
        colorbar=dict(title=dict(text="modes", side="right"), thickness=14),
        hovertemplate="%{y}, %{x}<br>%{text}<extra></extra>",
    ))
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.5, xanchor="center"), height=120 + 110 * len(rows),
        xaxis=dict(title=col_title or col_field, side="bottom", showgrid=False),
        yaxis=dict(title=row_title or row_field, autorange="reversed", showgrid=False),
        margin=dict(l=150, r=30, t=70, b=60)))
    return fig
