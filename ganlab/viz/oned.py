"""Figures of a one-dimensional GAN: densities, the discriminator D(x), losses.

Everything here draws a :class:`ganlab.train.RunRecord` (or arrays), so a run
trained live and a run loaded from a file look the same. The recorded animation
is one plotly figure with frames: it plays on the static site with no kernel.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab._checks import check_int
from ganlab.metrics import kde_1d
from ganlab.viz import style


def kde(samples, grid) -> np.ndarray:
    """The fakes' density p_g on ``grid``: a Gaussian KDE (:func:`ganlab.metrics.kde_1d`)."""
    return kde_1d(np.asarray(samples, dtype=float).reshape(-1, 1), np.asarray(grid, dtype=float).reshape(-1, 1))


def _history(record, key):
    return np.asarray(record.history[key], dtype=float)


def _pick_frames(n_snapshots: int, max_frames: int) -> list[int]:
    """Indices of at most ``max_frames`` snapshots, evenly spread, first and last kept."""
    if n_snapshots <= max_frames:
        return list(range(n_snapshots))
    return sorted(set(np.linspace(0, n_snapshots - 1, max_frames).round().astype(int).tolist()))


def optimal_d(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), the best possible police for this p_g.

    Where both densities vanish (far tails) D* is undefined; we draw 1/2 there.
    """
    p_data, p_g = np.asarray(p_data, dtype=float), np.asarray(p_g, dtype=float)
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 1e-12, p_data / np.where(total > 0, total, 1.0), 0.5)


def _game_traces(record, data, snap: dict, *, x_grid, p_fake_max, p_data) -> list[go.Scatter]:
    """The traces that change from round to round, in a fixed order."""
    x_fake = np.asarray(snap["x_fake"], dtype=float).ravel()
    p_fake = kde(x_fake, x_grid)
    d_x = np.asarray(snap["d_grid"], dtype=float).ravel()
    rug_y = np.full(x_fake.size, -0.04 * p_fake_max)
    # D* from the exact p_data and the fakes' estimated p_g: what the police could reach.
    d_star = optimal_d(p_data, p_fake)
    return [
        go.Scatter(x=style.rounded(x_grid), y=style.rounded(p_fake), name="p_g (fakes)",
                   line=dict(color=style.FAKE, width=3), fill="tozeroy",
                   fillcolor="rgba(230,159,0,0.18)"),
        go.Scatter(x=style.rounded(x_fake), y=style.rounded(rug_y), mode="markers",
                   name="fake samples", marker=dict(color=style.FAKE, symbol="line-ns-open", size=9),
                   showlegend=False, hoverinfo="x"),
        go.Scatter(x=style.rounded(x_grid), y=style.rounded(d_x), name="D(x)",
                   line=dict(color=style.DISC, width=3), yaxis="y2"),
        go.Scatter(x=style.rounded(x_grid), y=style.rounded(d_star), name="D*(x), optimal",
                   line=dict(color=style.OPTIMAL, width=2, dash="dash"), yaxis="y2"),
    ]


def _static_traces(data, x_grid, *, d_star=None) -> list[go.Scatter]:
    """Traces that stay: the real density and the line D = 1/2."""
    p_data = np.asarray(data.density(x_grid.reshape(-1, 1)), dtype=float).ravel()
    traces = [
        go.Scatter(x=style.rounded(x_grid), y=style.rounded(p_data), name="p_data (real)",
                   line=dict(color=style.REAL, width=3), fill="tozeroy",
                   fillcolor="rgba(0,114,178,0.15)"),
        go.Scatter(x=[x_grid[0], x_grid[-1]], y=[0.5, 0.5], name="D = 1/2", yaxis="y2",
                   mode="lines", line=dict(color=style.GREY, dash="dot", width=1.5)),
    ]
    return traces


def game_figure(record, data, index: int = -1, *, title: str | None = None) -> go.Figure:
    """One round of the 1-D game: p_data, p_g (KDE of the fakes), D(x), fake samples."""
    snap = record.snapshots[index]
    return animate_game(record, data, indices=[index if index >= 0 else len(record.snapshots) + index],
                        title=title or f"Round {snap['step']}", losses=False)


def _loss_traces(record) -> list[go.Scatter]:
    steps = _history(record, "step")
    return [
        go.Scatter(x=style.rounded(steps, 6), y=style.rounded(_history(record, "loss_d")),
                   name="D loss", line=dict(color=style.LOSS_D, width=2),
                   xaxis="x2", yaxis="y3"),
        go.Scatter(x=style.rounded(steps, 6), y=style.rounded(_history(record, "loss_g")),
                   name="G loss", line=dict(color=style.LOSS_G, width=2),
                   xaxis="x2", yaxis="y3"),
    ]


def animate_game(
    record,
    data,
    *,
    max_frames: int = 60,
    indices: list[int] | None = None,
    title: str = "The game, round by round",
    losses: bool = True,
    frame_ms: int = 120,
) -> go.Figure:
    """A recorded 1-D run as one plotly figure with frames, Play/Pause and a slider.

    Top panel: the real density p_data, the fakes' density p_g (a KDE of the fixed-z
    fake batch, so the same fakes are followed from frame to frame), the fakes
    themselves as a rug, and D(x) = P(real | x) on the right axis with the line 1/2,
    next to the optimal D*(x) = p_data / (p_data + p_g) for that round's p_g (dashed).
    Bottom panel (``losses=True``): both losses per round, with a marker at the frame's round.
    Only the changing traces are stored per frame, so the page stays small.
    """
    max_frames = check_int("max_frames", max_frames, minimum=1)
    n = len(record.snapshots)
    if n == 0:
        raise ValueError("record has no snapshots: train with snapshot_every > 0 first")
    if indices is None:
        indices = _pick_frames(n, max_frames)
    x_grid = np.asarray(record.grid_x, dtype=float).ravel()
    p_data = np.asarray(data.density(x_grid.reshape(-1, 1)), dtype=float).ravel()
    # One y-range for every frame, so the reader sees the densities move, not the axes.
    p_max = max(p_data.max(), *(kde(record.snapshots[i]["x_fake"], x_grid).max() for i in indices))
    p_max = min(p_max, 4 * p_data.max())

    static = _static_traces(data, x_grid)
    first = _game_traces(record, data, record.snapshots[indices[0]], x_grid=x_grid, p_fake_max=p_max,
                         p_data=p_data)
    traces = static + first
    layout = style.base_layout(title=dict(text=title, x=0.5, xanchor="center", y=0.98))
    top_domain = [0.5, 1.0] if losses else [0.0, 1.0]
    layout.update(
        xaxis=dict(title="x (the measured feature)", range=[x_grid[0], x_grid[-1]], anchor="y"),
        yaxis=dict(title="density", range=[-0.08 * p_max, 1.08 * p_max], domain=top_domain),
        yaxis2=dict(title="D(x)", range=[-0.04, 1.04], overlaying="y", side="right",
                    showgrid=False, tickvals=[0, 0.5, 1]),
        height=620 if losses else 440,
        legend=dict(orientation="h", yanchor="bottom", y=1.04, xanchor="left", x=0),
        margin=dict(l=60, r=60, t=110, b=60),
    )
    changing = list(range(len(static), len(traces)))
    if losses:
        steps = _history(record, "step")
        loss_traces = _loss_traces(record)
        y_all = np.concatenate([_history(record, "loss_d"), _history(record, "loss_g")])
        y_all = y_all[np.isfinite(y_all)]
        lo, hi = float(np.percentile(y_all, 1)), float(np.percentile(y_all, 99))
        marker = go.Scatter(x=[record.snapshots[indices[0]]["step"]] * 2, y=[lo, hi], mode="lines",
                            line=dict(color=style.GREY, width=1.5), xaxis="x2", yaxis="y3",
                            showlegend=False, hoverinfo="skip")
        traces += loss_traces + [marker]
        changing.append(len(traces) - 1)
        layout.update(
            xaxis2=dict(anchor="y3", range=[steps.min(), steps.max()]),
            yaxis3=dict(title="loss", domain=[0.0, 0.3], range=[lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)]),
        )
    fig = go.Figure(data=traces, layout=layout)
    if len(indices) == 1:
        return fig

    frames = []
    for i in indices:
        snap = record.snapshots[i]
        data_i = _game_traces(record, data, snap, x_grid=x_grid, p_fake_max=p_max, p_data=p_data)
        if losses:
            data_i.append(go.Scatter(x=[snap["step"]] * 2))
        frames.append(go.Frame(data=data_i, traces=changing, name=str(snap["step"])))
    fig.frames = frames
    style.add_player(fig, [f.name for f in frames], frame_ms=frame_ms, label="round ")
    return fig


def losses_figure(record, *, title: str = "Losses and the police's verdicts") -> go.Figure:
    """Both losses per step, and D's mean output on real and on fake samples.

    At the game's equilibrium D(x) = 1/2 everywhere, so both losses approach
    log 2 ≈ 0.693 per term (the D loss, a sum of two terms, approaches log 4) and
    both mean outputs approach 1/2.
    """
    steps = style.rounded(_history(record, "step"), 6)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("losses", "mean D output"),
                        horizontal_spacing=0.12)
    fig.add_trace(go.Scatter(x=steps, y=style.rounded(_history(record, "loss_d")), name="D loss",
                             line=dict(color=style.LOSS_D)), 1, 1)
    fig.add_trace(go.Scatter(x=steps, y=style.rounded(_history(record, "loss_g")), name="G loss",
                             line=dict(color=style.LOSS_G)), 1, 1)
    fig.add_trace(go.Scatter(x=steps, y=style.rounded(_history(record, "d_real")), name="D(x_real)",
                             line=dict(color=style.REAL)), 1, 2)
    fig.add_trace(go.Scatter(x=steps, y=style.rounded(_history(record, "d_fake")), name="D(G(z))",
                             line=dict(color=style.FAKE)), 1, 2)
    fig.add_hline(y=math.log(4), line=dict(color=style.GREY, dash="dot"), row=1, col=1,
                  annotation_text="log 4", annotation_position="top right")
    fig.add_hline(y=math.log(2), line=dict(color=style.GREY, dash="dot"), row=1, col=1,
                  annotation_text="log 2", annotation_position="bottom right")
    fig.add_hline(y=0.5, line=dict(color=style.GREY, dash="dot"), row=1, col=2,
                  annotation_text="1/2", annotation_position="top right")
    fig.update_xaxes(title_text="round")
    fig.update_yaxes(range=[-0.02, 1.02], row=1, col=2)
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.5, xanchor="center"), height=400,
                                          margin=dict(l=60, r=30, t=100, b=50)))
    fig.update_layout(legend=dict(y=1.12))
    return fig


def rounds_figure(record, data, rounds, *, title: str = "Round by round") -> go.Figure:
    """Small multiples: the 1-D game at the snapshots nearest to each round in ``rounds``.

    Each panel shows p_data (blue), p_g (orange, a KDE of the fixed-z fakes) and the
    police's D(x) (green, scaled to the panel's density axis: 1/2 is the dotted line).
    """
    if len(rounds) == 0 or len(rounds) > 6:
        raise ValueError(f"rounds must list 1 to 6 rounds, got {len(rounds)}")
    steps = np.array([s["step"] for s in record.snapshots])
    picks = [int(np.abs(steps - r).argmin()) for r in rounds]
    x_grid = np.asarray(record.grid_x, dtype=float).ravel()
    p_data = np.asarray(data.density(x_grid.reshape(-1, 1)), dtype=float).ravel()
    top = 1.15 * max(p_data.max(), *(kde(record.snapshots[i]["x_fake"], x_grid).max() for i in picks))
    top = min(top, 4 * p_data.max())
    fig = make_subplots(rows=1, cols=len(picks), shared_yaxes=True, horizontal_spacing=0.02,
                        subplot_titles=[f"round {record.snapshots[i]['step']}" for i in picks])
    for col, i in enumerate(picks, start=1):
        snap = record.snapshots[i]
        legend = col == 1
        fig.add_trace(go.Scatter(x=style.rounded(x_grid), y=style.rounded(p_data), name="p_data (real)",
                                 line=dict(color=style.REAL, width=2.5), fill="tozeroy",
                                 fillcolor="rgba(0,114,178,0.15)", showlegend=legend), 1, col)
        fig.add_trace(go.Scatter(x=style.rounded(x_grid), y=style.rounded(kde(snap["x_fake"], x_grid)),
                                 name="p_g: fakes", line=dict(color=style.FAKE, width=2.5), fill="tozeroy",
                                 fillcolor="rgba(230,159,0,0.18)", showlegend=legend), 1, col)
        d_x = np.asarray(snap["d_grid"], dtype=float).ravel()
        fig.add_trace(go.Scatter(x=style.rounded(x_grid), y=style.rounded(d_x * top), name="D(x) (1/2 = dotted)",
                                 line=dict(color=style.DISC, width=2.5), showlegend=legend), 1, col)
        fig.add_trace(go.Scatter(x=[x_grid[0], x_grid[-1]], y=[top / 2, top / 2], mode="lines",
                                 line=dict(color=style.GREY, dash="dot", width=1), showlegend=False,
                                 hoverinfo="skip"), 1, col)
    fig.update_yaxes(range=[0, top], showticklabels=False)
    fig.update_yaxes(title_text="density / D(x)", row=1, col=1)
    fig.update_xaxes(title_text="x")
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.5, xanchor="center"), height=340,
                                          margin=dict(l=60, r=20, t=110, b=50)))
    fig.update_layout(legend=dict(y=1.18))
    return fig


def mapping_figure(record, data=None, rounds=None, *, n_reference: int = 200_000,
                   title: str = "What G does to the noise: x = G(z)") -> go.Figure:
    """The generator as a function: x = G(z) on the recorded z lattice, at several rounds.

    With ``data`` (a 1-D distribution) the map G should learn is drawn too: the
    quantile transform x*(z) = F_data^{-1}(Φ(z)) that sends N(0, 1) noise exactly onto
    p_data (for uniform noise on [-1, 1], Φ is replaced by (z + 1)/2). It is estimated
    from ``n_reference`` samples of p_data.
    """
    if record.z_grid is None or record.z_grid.ndim != 2 or record.z_grid.shape[1] != 1:
        raise ValueError("record must come from a generator with 1-D noise (record.z_grid of shape (L, 1))")
    n_reference = check_int("n_reference", n_reference, minimum=100)
    z = np.asarray(record.z_grid, dtype=float).ravel()
    steps = np.array([s["step"] for s in record.snapshots])
    picks = (np.linspace(0, len(steps) - 1, min(5, len(steps))).round().astype(int) if rounds is None
             else [int(np.abs(steps - r).argmin()) for r in rounds])
    fig = go.Figure()
    shades = np.linspace(0.25, 1.0, len(picks))
    for shade, i in zip(shades, picks):
        x = np.asarray(record.snapshots[i]["g_grid"], dtype=float).ravel()
        fig.add_trace(go.Scatter(x=style.rounded(z), y=style.rounded(x), mode="lines+markers",
                                 name=f"round {record.snapshots[i]['step']}", opacity=float(shade),
                                 line=dict(color=style.FAKE, width=2.5), marker=dict(size=5)))
    if data is not None:
        uniform = record.config.get("noise") == "uniform"
        u = (z + 1) / 2 if uniform else 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
        reference = data.sample(n_reference, seed=0).numpy().ravel()
        fig.add_trace(go.Scatter(x=style.rounded(z), y=style.rounded(np.quantile(reference, np.clip(u, 0, 1))),
                                 name="the ideal map F⁻¹(Φ(z))", line=dict(color=style.REAL, width=3, dash="dash")))
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.5, xanchor="center"), height=400,
                                          xaxis_title="noise z", yaxis_title="sample x = G(z)",
                                          margin=dict(l=60, r=30, t=100, b=50)))
    fig.update_layout(legend=dict(y=1.1))
    return fig
