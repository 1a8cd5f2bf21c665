"""Several recorded 2-D runs side by side, as one animation: compare mode for the static site.

The live :class:`ganlab.viz.compare.Compare` widget trains recipes in lockstep in
Jupyter or Colab; :func:`animate_side_by_side` plays runs that were recorded the
same way (same data, same seed, the same ``snapshot_every``) in a page without a
kernel. Each panel shows the real points (blue, fixed) and the fakes of the run's
fixed noise batch (orange, gliding from frame to frame); its title gives the run's
name and, when the run measured them, the modes covered and the high-quality
fraction at that step.

    >>> runs = {name: get_recipe(name).trainer(ring(), seed=0).fit(3000) for name in ("textbook", "r1")}
    >>> animate_side_by_side(list(runs.values()), list(runs))
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab._checks import _describe, check_int
from ganlab.viz import style

__all__ = ["animate_side_by_side", "metrics_at"]


def _check_records(records, labels) -> tuple[list, list[str]]:
    if not isinstance(records, (list, tuple)) or not 1 <= len(records) <= 12:
        raise TypeError(f"records must be a list of 1 to 12 RunRecords, got {_describe(records)}")
    for i, record in enumerate(records):
        if not hasattr(record, "snapshots") or not hasattr(record, "metrics"):
            raise TypeError(f"records[{i}] must be a ganlab.train.RunRecord, got {_describe(record)}")
        if not record.snapshots:
            raise ValueError(f"records[{i}] has no snapshots: train it with snapshot_every > 0")
        if np.asarray(record.snapshots[0]["x_fake"]).shape[1] != 2:
            raise ValueError(f"records[{i}] is not a 2-D run (its fakes have shape "
                             f"{np.asarray(record.snapshots[0]['x_fake']).shape})")
    steps = [[s["step"] for s in r.snapshots] for r in records]
    if any(s != steps[0] for s in steps):
        raise ValueError("records must have their snapshots at the same steps "
                         "(same snapshot_every and number of iterations)")
    if not isinstance(labels, (list, tuple)) or len(labels) != len(records) \
            or not all(isinstance(t, str) for t in labels):
        raise ValueError(f"labels must be {len(records)} strings, one per record, got {_describe(labels)}")
    return list(records), list(labels)


def metrics_at(record, step: int) -> dict | None:
    """The last metrics row of ``record`` measured at or before ``step`` (None if none)."""
    rows = [m for m in record.metrics if m["step"] <= step]
    return rows[-1] if rows else None


def _title(label: str, record, step: int, n_modes: int | None) -> str:
    m = metrics_at(record, step)
    if m is None or "modes" not in m:
        return f"<b>{label}</b>"
    return f"<b>{label}</b><br>{m['modes']} of {n_modes} modes, HQ {m['hq']:.0%}"


def animate_side_by_side(records, labels, *, max_frames: int = 40, max_points: int = 256, columns: int = 4,
                         frame_ms: int = 300, title: str = "Side by side") -> go.Figure:
    """One animation of several 2-D runs: a panel per run, one frame per snapshot step.

    Args:
        records: RunRecords of 2-D runs with snapshots at the same steps.
        labels: a name per record (the panel titles).
        max_frames: at most this many frames, evenly spread (first and last kept).
        max_points: fakes (and reals) drawn per panel.
        columns: panels per row.
        frame_ms: time per frame when playing.
        title: the figure's title.
    """
    records, labels = _check_records(records, labels)
    max_frames = check_int("max_frames", max_frames, minimum=1)
    max_points = check_int("max_points", max_points, minimum=1)
    columns = check_int("columns", columns, minimum=1, maximum=12)
    frame_ms = check_int("frame_ms", frame_ms, minimum=1)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")

    n = len(records)
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    snapshots = records[0].snapshots
    picks = _pick(len(snapshots), max_frames)
    steps = [snapshots[i]["step"] for i in picks]
    centres = records[0].data_info.get("centres")
    n_modes = None if centres is None else len(centres)

    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.03, vertical_spacing=0.12,
                        subplot_titles=[_title(t, r, steps[0], n_modes) for t, r in zip(labels, records)])
    box = _box(records)
    for k, record in enumerate(records):
        row, col = divmod(k, cols)
        real = np.asarray(record.x_real, dtype=float)[:max_points]
        fig.add_trace(go.Scatter(x=style.rounded(real[:, 0], 3), y=style.rounded(real[:, 1], 3), mode="markers",
                                 marker=dict(color=style.REAL, size=4, opacity=0.5), name="real x",
                                 hoverinfo="skip"),
                      row=row + 1, col=col + 1)
        fig.add_trace(go.Scatter(mode="markers", marker=dict(color=style.FAKE, size=4, opacity=0.8),
                                 name="fake G(z)", hoverinfo="skip",
                                 **_fakes(record, picks[0], max_points)),
                      row=row + 1, col=col + 1)
        axis = dict(range=box, showticklabels=False, showgrid=False, zeroline=False, mirror=True,
                    showline=True, linecolor="#999")
        fig.update_xaxes(axis, row=row + 1, col=col + 1)
        fig.update_yaxes(axis, scaleanchor=f"x{k + 1 if k else ''}", scaleratio=1, row=row + 1, col=col + 1)

    fake_traces = [2 * k + 1 for k in range(n)]
    titles = [dict(a.to_plotly_json(), font=dict(size=12)) for a in fig.layout.annotations]
    key = dict(text=f"<span style='color:{style.REAL}'>●</span> real x &nbsp; "
                    f"<span style='color:{style.FAKE}'>●</span> fakes G(z) of a fixed batch of z",
               xref="paper", yref="paper", x=0.5, y=1.0, yshift=62, showarrow=False, font=dict(size=13))
    frames = []
    for i, step in zip(picks, steps):
        # a frame's annotations replace the figure's: the key is repeated in each
        annotations = [dict(a, text=_title(t, r, step, n_modes)) for a, t, r in zip(titles, labels, records)]
        annotations.append(key)
        frames.append(go.Frame(name=str(step), traces=fake_traces,
                               data=[go.Scatter(**_fakes(r, i, max_points)) for r in records],
                               layout=dict(annotations=annotations)))
    fig.frames = frames
    fig.update_layout(annotations=frames[0].layout.annotations)
    # fit the book's text column (about 700 px): smaller panels when there are many
    panel = min(230, (700 - 40) // cols)
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.5, xanchor="center", y=0.995, yanchor="top"),
        width=max(520, 40 + panel * cols), height=160 + round(panel * 1.15) * rows,
        margin=dict(l=20, r=20, t=110, b=140), showlegend=False))
    style.add_player(fig, [f.name for f in frames], frame_ms=frame_ms, label="step ", redraw=True)
    return fig


def _pick(n: int, max_frames: int) -> list[int]:
    if n <= max_frames:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, max_frames).round().astype(int).tolist()))


def _fakes(record, index: int, max_points: int) -> dict:
    x = np.asarray(record.snapshots[index]["x_fake"], dtype=float)[:max_points]
    return dict(x=style.rounded(x[:, 0], 3), y=style.rounded(x[:, 1], 3))


def _box(records) -> list[float]:
    """One range for both axes: the data's bounds, ``[(lo, hi) per axis]``, made square."""
    bounds = np.asarray(records[0].data_info.get("bounds", [(-2.0, 2.0), (-2.0, 2.0)]), dtype=float)
    return [float(bounds[:, 0].min()), float(bounds[:, 1].max())]
