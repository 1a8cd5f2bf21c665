"""Figures of small two-player games: vector fields, trajectories, eigenvalues.

The games are the planar ones of :mod:`ganlab.theory` (``DiracGAN``,
``BilinearGame``) and :mod:`ganlab.games` (``NoisyDiracGAN``): two scalars,
one per player, moved by gradient steps along a vector field v(a, b). What
is drawn:

- :func:`quiver_trace`: the field as arrows, ONE scatter trace of line
  segments separated by ``None`` (shaft and two head strokes per arrow), so
  a figure with hundreds of arrows stays one light trace;
- :func:`field_figure`: the field with trajectories (from ``game.simulate``)
  and the equilibrium;
- :func:`animate_trajectories`: panels of trajectories drawn step by step, a
  recorded animation (plotly frames, Play/slider) that plays on the static site;
- :func:`eigenvalue_figure`: the Jacobian's eigenvalues at the equilibrium
  as a penalty weight gamma grows (where they are, and the decay rate);
- :func:`payoff_figure`: a 2 x 2 zero-sum matrix game over mixed strategies,
  with both players' best responses.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab._checks import check_float, check_int
from ganlab.games import pure_equilibria, solve_2x2
from ganlab.viz import style

__all__ = [
    "MODE_COLOURS",
    "quiver_trace",
    "field_figure",
    "animate_trajectories",
    "eigenvalue_figure",
    "payoff_figure",
]

SKY = "#56B4E9"  # Okabe & Ito's sky blue
# One colour per way of training, the same in every figure of a chapter.
MODE_COLOURS = {
    "simultaneous": style.LOSS_G,  # vermillion: the one that blows up
    "alternating": SKY,
    "R1": style.DISC,  # green: a penalty on D
    "instance noise": style.FAKE,  # orange: noise on the samples
}
_FALLBACK = [style.REAL, style.OPTIMAL, style.GREY, style.LOSS_G, SKY, style.DISC, style.FAKE]
_AXES = ("θ (generator)", "ψ (discriminator)")


def _colour(name: str, i: int) -> str:
    for key, colour in MODE_COLOURS.items():
        if name.startswith(key):
            return colour
    return _FALLBACK[i % len(_FALLBACK)]


def _path(name: str, path) -> np.ndarray:
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] < 1:
        raise ValueError(f"{name} must be an array of shape (steps + 1, 2) (from game.simulate), got {path.shape}")
    return path


def _lim(lim) -> float:
    return check_float("lim", lim, minimum=0.0, strict_min=True)


def quiver_trace(game, lim: float = 2.0, n: int = 13, *, colour: str = style.GREY,
                 name: str = "update direction", xref: str = "x", yref: str = "y") -> go.Scatter:
    """The vector field of ``game`` on an n x n grid inside [-lim, lim]^2, as arrows.

    Arrow length is proportional to the field's speed, the longest arrow 0.9
    grid cells long; each arrow is a shaft and two head strokes, all in one
    trace with ``None`` between segments.
    """
    lim = _lim(lim)
    n = check_int("n", n, minimum=2)
    ticks = np.linspace(-0.92 * lim, 0.92 * lim, n)  # inset, so the arrows stay in view
    a, b = np.meshgrid(ticks, ticks)
    u, v = np.asarray(game.vector_field(a, b), dtype=float)
    speed = np.hypot(u, v)
    top = np.nanmax(speed)
    scale = 0.9 * (ticks[1] - ticks[0]) / top if top > 0 else 0.0
    u, v = u * scale, v * scale
    length = np.hypot(u, v)
    keep = length > 1e-9
    a, b, u, v, length = a[keep], b[keep], u[keep], v[keep], length[keep]
    head = 0.35 * length
    angle = np.arctan2(v, u)
    tip_x, tip_y = a + u, b + v
    xs, ys = [], []
    for sign in (None, 1.0, -1.0):
        if sign is None:  # the shaft, tail to tip
            seg = [(a, b), (tip_x, tip_y)]
        else:  # a head stroke: from the tip, back at 150 degrees from the arrow
            back = angle + sign * math.radians(150.0)
            seg = [(tip_x, tip_y), (tip_x + head * np.cos(back), tip_y + head * np.sin(back))]
        (x0, y0), (x1, y1) = seg
        xs.append(np.stack([x0, x1, np.full_like(x0, np.nan)], axis=1).ravel())
        ys.append(np.stack([y0, y1, np.full_like(y0, np.nan)], axis=1).ravel())
    x = [None if math.isnan(t) else t for t in style.rounded(np.concatenate(xs), 3)]
    y = [None if math.isnan(t) else t for t in style.rounded(np.concatenate(ys), 3)]
    return go.Scatter(x=x, y=y, mode="lines", name=name, line=dict(color=colour, width=1.2),
                      hoverinfo="skip", xaxis=xref, yaxis=yref)


def _equilibrium_trace(xref="x", yref="y", showlegend=True) -> go.Scatter:
    return go.Scatter(x=[0.0], y=[0.0], mode="markers", name="equilibrium (0, 0)", showlegend=showlegend,
                      marker=dict(symbol="star", size=16, color=style.OPTIMAL, line=dict(color="white", width=1)),
                      xaxis=xref, yaxis=yref)


def _square_axes(fig, lim, axis_titles, rows=None, cols=None):
    """Both axes over [-lim, lim]; titles on the bottom row and left column of a grid."""
    if rows is None:  # a figure without subplots
        fig.update_xaxes(range=[-lim, lim], zeroline=True, title_text=axis_titles[0])
        fig.update_yaxes(range=[-lim, lim], zeroline=True, title_text=axis_titles[1])
        return
    for r in range(1, rows + 1):
        for c in range(1, cols + 1):
            fig.update_xaxes(range=[-lim, lim], zeroline=True, row=r, col=c,
                             title_text=axis_titles[0] if r == rows else None)
            fig.update_yaxes(range=[-lim, lim], zeroline=True, row=r, col=c,
                             title_text=axis_titles[1] if c == 1 else None)


def field_figure(game, paths: dict | None = None, *, lim: float = 2.0, n: int = 13,
                 title: str = "The vector field", axis_titles=_AXES, height: int = 520) -> go.Figure:
    """The field of ``game`` (grey arrows), the equilibrium (star) and trajectories.

    ``paths`` maps a legend name to an array (steps + 1, 2) from ``game.simulate``;
    names starting with a key of :data:`MODE_COLOURS` get that colour. Each path
    is a line with a dot at its start.
    """
    lim = _lim(lim)
    traces = [quiver_trace(game, lim, n)]
    for i, (name, path) in enumerate((paths or {}).items()):
        path = _path(f"paths[{name!r}]", path)
        colour = _colour(name, i)
        traces.append(go.Scatter(x=style.rounded(path[:, 0]), y=style.rounded(path[:, 1]), mode="lines",
                                 name=name, line=dict(color=colour, width=2.5)))
        traces.append(go.Scatter(x=[path[0, 0]], y=[path[0, 1]], mode="markers", showlegend=False,
                                 marker=dict(color=colour, size=10), hoverinfo="skip"))
    traces.append(_equilibrium_trace())
    fig = go.Figure(traces)
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.5, xanchor="center", y=0.97),
                                          height=height, margin=dict(l=60, r=30, t=100, b=50)))
    fig.update_layout(legend=dict(y=1.02))
    _square_axes(fig, lim, axis_titles)
    fig.update_xaxes(constrain="domain")
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def animate_trajectories(panels: list, *, lim: float = 2.0, n: int = 11, max_frames: int = 60,
                         frame_ms: int = 80, title: str = "Gradient steps, one after another",
                         axis_titles=_AXES, cols: int = 2, label: str = "step ") -> go.Figure:
    """Trajectories drawn step by step: a recorded animation with Play and a slider.

    ``panels``: a list of dicts, one subplot each, with keys ``path`` (an array
    (steps + 1, 2) from ``game.simulate``), ``title``, and optionally ``game``
    (draws its field behind) and ``colour``. All paths must have the same
    number of steps. Each frame stores only the trail and the current point
    of each panel, so the page stays small.
    """
    lim = _lim(lim)
    max_frames = check_int("max_frames", max_frames, minimum=1)
    cols = check_int("cols", cols, minimum=1)
    if not panels:
        raise ValueError("panels must hold at least one panel (a dict with 'path' and 'title')")
    paths = [_path(f"panels[{i}]['path']", p.get("path")) for i, p in enumerate(panels)]
    steps = {p.shape[0] for p in paths}
    if len(steps) != 1:
        raise ValueError(f"every panel's path must have the same number of steps, got lengths {sorted(steps)}")
    n_points = steps.pop()
    cols = min(cols, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p.get("title", "") for p in panels],
                        horizontal_spacing=0.08, vertical_spacing=0.12)
    show = np.sort(np.unique(np.linspace(0, n_points - 1, max_frames).round().astype(int)))
    changing = []
    for i, (panel, path) in enumerate(zip(panels, paths)):
        r, c = divmod(i, cols)
        colour = panel.get("colour") or _colour(panel.get("title", ""), i)
        if panel.get("game") is not None:
            fig.add_trace(quiver_trace(panel["game"], lim, n, name="update direction"), r + 1, c + 1)
            fig.data[-1].showlegend = i == 0
        fig.add_trace(_equilibrium_trace(showlegend=i == 0), r + 1, c + 1)
        fig.add_trace(go.Scatter(x=[path[0, 0]], y=[path[0, 1]], mode="lines", showlegend=False,
                                 line=dict(color=colour, width=2.5, shape="spline"), hoverinfo="skip"),
                      r + 1, c + 1)
        fig.add_trace(go.Scatter(x=[path[0, 0]], y=[path[0, 1]], mode="markers", showlegend=False,
                                 marker=dict(color=colour, size=11, line=dict(color="white", width=1))),
                      r + 1, c + 1)
        changing += [len(fig.data) - 2, len(fig.data) - 1]
    stride = max(1, math.ceil(n_points / 150))  # at most ~150 points per trail and frame
    frames = []
    for t in show:
        data = []
        for path in paths:
            # Far outside the view a point is clipped: the trail looks the same, the page stays light.
            trail = np.clip(np.concatenate([path[:t:stride], path[t:t + 1]]), -50 * lim, 50 * lim)
            data.append(go.Scatter(x=style.rounded(trail[:, 0]), y=style.rounded(trail[:, 1])))
            data.append(go.Scatter(x=style.rounded(trail[-1:, 0]), y=style.rounded(trail[-1:, 1])))
        frames.append(go.Frame(data=data, traces=changing, name=str(int(t))))
    fig.frames = frames
    # Start at the last frame, so a still copy of the page shows where the steps lead.
    for k, trace_data in zip(changing, frames[-1].data):
        fig.data[k].x, fig.data[k].y = trace_data.x, trace_data.y
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.5, xanchor="center", y=0.98),
                                          height=330 * rows + 180, margin=dict(l=60, r=30, t=110, b=60)))
    fig.update_layout(legend=dict(y=1.03 + 0.02 * (2 - rows)))
    _square_axes(fig, lim, axis_titles, rows, cols)
    style.add_player(fig, [f.name for f in frames], frame_ms=frame_ms, label=label, transition_ms=0)
    fig.layout.sliders[0].active = len(frames) - 1
    return fig


def eigenvalue_figure(gammas, eigenvalues, *, critical: float | None = None, extra: dict | None = None,
                      title: str = "Eigenvalues of the Jacobian at the equilibrium",
                      x_title: str = "penalty weight γ") -> go.Figure:
    """Left: the two eigenvalues in the complex plane as ``gammas`` grow (the first,
    the last and the ``critical`` gamma labelled). Right: their real parts against gamma (steps converge where both
    are < 0; the larger one sets the speed). ``critical`` marks a gamma with a
    dotted line; ``extra`` maps a legend name to (gammas, eigenvalues) drawn as
    markers (e.g. instance noise at gamma = sigma^2 / 2).
    """
    gammas = np.asarray(gammas, dtype=float).ravel()
    eig = np.asarray(eigenvalues, dtype=complex)
    if eig.shape != (gammas.size, 2):
        raise ValueError(f"eigenvalues must have shape (len(gammas), 2) = ({gammas.size}, 2), got {eig.shape}")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=("in the complex plane", "real parts: below 0 converges"))
    for k in range(2):  # the two branches of the locus
        fig.add_trace(go.Scatter(x=style.rounded(eig[:, k].real), y=style.rounded(eig[:, k].imag),
                                 mode="lines", line=dict(color=style.REAL, width=3), showlegend=k == 0,
                                 name="eigenvalues as γ grows", customdata=style.rounded(gammas),
                                 hovertemplate="γ = %{customdata}: λ = %{x} %{y:+}i<extra></extra>"), 1, 1)
    # Label a few values of gamma on the locus: the first, the critical one, the last.
    marks = {0, gammas.size - 1}
    if critical is not None:
        marks.add(int(np.abs(gammas - critical).argmin()))
    points = {}
    for m in sorted(marks):
        for k in range(2):
            key = (round(eig[m, k].real, 3), round(eig[m, k].imag, 3))
            points.setdefault(key, f"γ = {gammas[m]:g}")  # a double eigenvalue is labelled once
    fig.add_trace(go.Scatter(x=[k[0] for k in points], y=[k[1] for k in points], mode="markers+text",
                             text=list(points.values()), showlegend=False, hoverinfo="skip",
                             textposition=["bottom center" if k[1] < 0 else "top center" for k in points],
                             marker=dict(color=style.REAL, size=8)), 1, 1)
    fig.add_trace(go.Scatter(x=style.rounded(gammas), y=style.rounded(eig.real.max(axis=1)), mode="lines",
                             name="larger real part (the slow one)", line=dict(color=style.LOSS_G, width=3)), 1, 2)
    fig.add_trace(go.Scatter(x=style.rounded(gammas), y=style.rounded(eig.real.min(axis=1)), mode="lines",
                             name="smaller real part", line=dict(color=SKY, width=3, dash="dash")), 1, 2)
    for j, (name, (g, e)) in enumerate((extra or {}).items()):
        g, e = np.asarray(g, dtype=float).ravel(), np.asarray(e, dtype=complex).reshape(-1, 2)
        colour = _colour(name, j + 1)
        fig.add_trace(go.Scatter(x=np.concatenate([e[:, 0].real, e[:, 1].real]),
                                 y=np.concatenate([e[:, 0].imag, e[:, 1].imag]), mode="markers",
                                 name=name, marker=dict(symbol="x", size=10, color=colour)), 1, 1)
        fig.add_trace(go.Scatter(x=g, y=e.real.max(axis=1), mode="markers", showlegend=False,
                                 marker=dict(symbol="x", size=10, color=colour)), 1, 2)
    if critical is not None:
        fig.add_vline(x=critical, line=dict(color=style.GREY, dash="dot"), row=1, col=2,
                      annotation_text=f"γ = {critical:g}", annotation_position="bottom right")
    fig.add_hline(y=0, line=dict(color=style.GREY, width=1), row=1, col=2)
    fig.update_xaxes(title_text="Re λ", row=1, col=1, zeroline=True)
    fig.update_yaxes(title_text="Im λ", row=1, col=1, zeroline=True, scaleanchor="x", scaleratio=1)
    fig.update_xaxes(title_text=x_title, row=1, col=2)
    fig.update_yaxes(title_text="Re λ", row=1, col=2)
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.5, xanchor="center"), height=500,
                                          margin=dict(l=60, r=30, t=80, b=130)))
    fig.update_layout(legend=dict(y=-0.2, yanchor="top"))
    return fig


def _best_response(gain_at_0: float, gain_at_1: float) -> tuple[list, list]:
    """A best-response line (t, best probability of the first action) for a gain that is
    linear in the other player's probability t: 1 where the gain is > 0, 0 where < 0,
    and the whole segment [0, 1] where it crosses 0 (indifference)."""
    best = lambda gain: 1.0 if gain > 0 else 0.0  # noqa: E731
    if gain_at_0 == gain_at_1 == 0:  # always indifferent: every response is best
        return [0.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0, 0.0]
    if gain_at_0 * gain_at_1 < 0 or (gain_at_0 == 0) != (gain_at_1 == 0):
        t0 = gain_at_0 / (gain_at_0 - gain_at_1)
        y0 = best(gain_at_0) if gain_at_0 != 0 else 1.0 - best(gain_at_1)
        y1 = best(gain_at_1) if gain_at_1 != 0 else 1.0 - best(gain_at_0)
        return [0.0, t0, t0, 1.0], [y0, y0, y1, y1]
    return [0.0, 1.0], [best(gain_at_0)] * 2


def payoff_figure(A, *, actions=("heads", "tails"), players=("row player", "column player"),
                  title: str = "Expected payoff over mixed strategies", n: int = 101) -> go.Figure:
    """A 2 x 2 zero-sum game A (row player's payoff) over mixed strategies.

    The heatmap is V(p, q) = p^T A q, with p = P(row player plays its first action)
    on the x axis and q = P(column player plays its first action) on the y axis.
    The lines are the best responses: the row player's best p for each q, the
    column player's best q for each p (``players`` names them in the legend).
    Where they cross neither player wants to move: the Nash equilibria, marked
    with a star (the pure ones, or the mixed one of :func:`ganlab.games.solve_2x2`).
    """
    A = np.asarray(A, dtype=float)
    if A.shape != (2, 2):
        raise ValueError(f"A must be a 2 x 2 payoff matrix, got shape {A.shape}")
    n = check_int("n", n, minimum=3)
    t = np.linspace(0.0, 1.0, n)
    p, q = np.meshgrid(t, t)  # rows of the heatmap are q, columns p
    value = (p * q * A[0, 0] + p * (1 - q) * A[0, 1] + (1 - p) * q * A[1, 0]
             + (1 - p) * (1 - q) * A[1, 1])
    fig = go.Figure()
    span = float(np.abs(value).max()) or 1.0
    fig.add_trace(go.Heatmap(x=style.rounded(t), y=style.rounded(t), z=style.rounded(value), zmin=-span,
                             zmax=span, colorscale="RdBu", reversescale=True,
                             colorbar=dict(title="V(p, q)", thickness=12),
                             hovertemplate="p = %{x}, q = %{y}: V = %{z}<extra></extra>"))
    # What the first action gains over the second, linear in the other player's probability:
    # for the row player as a function of q, for the column player (who minimises) of p.
    row_t, row_p = _best_response(A[0, 1] - A[1, 1], A[0, 0] - A[1, 0])
    col_t, col_q = _best_response(A[1, 1] - A[1, 0], A[0, 1] - A[0, 0])
    fig.add_trace(go.Scatter(x=row_p, y=row_t, mode="lines", name=f"{players[0]}'s best p, given q",
                             line=dict(color=style.REAL, width=4)))
    fig.add_trace(go.Scatter(x=col_t, y=col_q, mode="lines", name=f"{players[1]}'s best q, given p",
                             line=dict(color=style.LOSS_G, width=4, dash="dash")))
    # The equilibria: where the best responses cross.
    pure = pure_equilibria(A)
    eq = [(1.0 - i, 1.0 - j) for i, j in pure] if pure else [solve_2x2(A)[:2]]
    fig.add_trace(go.Scatter(x=[e[0] for e in eq], y=[e[1] for e in eq], mode="markers", name="equilibrium",
                             marker=dict(symbol="star", size=18, color=style.OPTIMAL,
                                         line=dict(color="white", width=1))))
    fig.update_xaxes(title_text=f"p = P({players[0]}: {actions[0]})", range=[-0.03, 1.03],
                     showgrid=False, zeroline=False)
    fig.update_yaxes(title_text=f"q = P({players[1]}: {actions[0]})", range=[-0.03, 1.03],
                     showgrid=False, zeroline=False)
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.5, xanchor="center"), height=480,
                                          margin=dict(l=60, r=30, t=110, b=50)))
    fig.update_layout(legend=dict(y=1.04))
    return fig
