"""Figures of small games: quiver, trajectories, animation, eigenvalues, payoffs."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from ganlab.games import NoisyDiracGAN
from ganlab.theory import BilinearGame, DiracGAN
from ganlab.viz.games import (
    MODE_COLOURS,
    animate_trajectories,
    eigenvalue_figure,
    field_figure,
    payoff_figure,
    quiver_trace,
)


def _segments(trace):
    """The (start, end) pairs of a None-separated line trace."""
    x, y = list(trace.x), list(trace.y)
    out = []
    for i in range(0, len(x), 3):
        assert x[i + 2] is None and y[i + 2] is None
        out.append(((x[i], y[i]), (x[i + 1], y[i + 1])))
    return out


def test_quiver_is_one_trace_of_segments_along_the_field():
    game = BilinearGame()
    trace = quiver_trace(game, lim=2.0, n=5)
    segments = _segments(trace)
    shafts = segments[: len(segments) // 3]  # shafts first, then the two head strokes
    assert len(segments) == 3 * len(shafts) and len(shafts) == 24  # 25 points, the centre has no arrow
    for (x0, y0), (x1, y1) in shafts:
        u, v = game.vector_field(x0, y0)
        # The arrow points along the field: a positive multiple of (u, v).
        assert (x1 - x0) * u + (y1 - y0) * v > 0
        assert abs((x1 - x0) * v - (y1 - y0) * u) < 2e-2
    longest = max(math.hypot(x1 - x0, y1 - y0) for (x0, y0), (x1, y1) in shafts)
    assert longest == pytest.approx(0.9 * (2 * 0.92 * 2.0 / 4), rel=2e-2)  # 3 digits stored


def test_field_figure_draws_paths_with_mode_colours():
    game = DiracGAN()
    paths = {mode: game.simulate(50, 0.2, mode) for mode in ("simultaneous", "alternating")}
    fig = field_figure(game, paths, lim=3)
    names = [t.name for t in fig.data]
    assert names[0] == "update direction" and "equilibrium (0, 0)" in names
    line = {t.name: t for t in fig.data if t.name in paths}
    assert line["simultaneous"].line.color == MODE_COLOURS["simultaneous"]
    assert line["alternating"].line.color == MODE_COLOURS["alternating"]
    assert np.allclose(line["alternating"].x, paths["alternating"][:, 0], rtol=1e-3, atol=1e-4)
    assert list(fig.layout.xaxis.range) == [-3, 3]


def test_animation_frames_follow_the_paths():
    games = [DiracGAN(), DiracGAN(gamma=1.0), NoisyDiracGAN(sigma=1.0)]
    panels = [dict(title=f"panel {i}", game=g, path=g.simulate(100, 0.2)) for i, g in enumerate(games)]
    fig = animate_trajectories(panels, lim=3, max_frames=11)
    assert len(fig.frames) == 11
    assert [f.name for f in fig.frames] == [str(s) for s in range(0, 101, 10)]
    assert fig.layout.updatemenus[0].buttons[0].label.endswith("Play")
    assert len(fig.layout.sliders[0].steps) == 11 and fig.layout.sliders[0].active == 10
    # Each frame updates a trail and a head per panel; the head is the path at the frame's step.
    assert len(fig.frames[0].traces) == 2 * len(panels)
    for frame in fig.frames:
        step = int(frame.name)
        for k, panel in enumerate(panels):
            head = frame.data[2 * k + 1]
            assert np.allclose([head.x[0], head.y[0]], panel["path"][step], rtol=1e-3, atol=1e-4)
            trail = frame.data[2 * k]
            assert np.allclose([trail.x[-1], trail.y[-1]], panel["path"][step], rtol=1e-3, atol=1e-4)
    # The figure opens at the last frame (what a still copy of the page shows).
    head = fig.data[fig.frames[-1].traces[1]]
    assert np.allclose([head.x[0], head.y[0]], panels[0]["path"][-1], rtol=1e-3, atol=1e-4)


def test_animation_survives_a_diverging_path():
    path = BilinearGame().simulate(300, 1.5)  # spirals out far beyond the view
    fig = animate_trajectories([dict(title="simultaneous", path=path)], lim=2)
    xs = np.array(fig.frames[-1].data[0].x, dtype=float)
    assert np.all(np.abs(xs[np.isfinite(xs)]) <= 100)
    fig.to_json()  # serialisable


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(panels=[]), ValueError, "at least one"),
    (dict(panels=[dict(title="a", path=np.zeros((5, 3)))]), ValueError, "shape"),
    (dict(panels=[dict(path=np.zeros((5, 2))), dict(path=np.zeros((6, 2)))]), ValueError, "same number"),
    (dict(panels=[dict(path=np.zeros((5, 2)))], max_frames=0), ValueError, "max_frames"),
    (dict(panels=[dict(path=np.zeros((5, 2)))], lim=-1), ValueError, "lim"),
])
def test_bad_animation_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        animate_trajectories(**kwargs)


def test_eigenvalue_figure():
    gammas = np.linspace(0, 3, 31)
    eig = np.array([DiracGAN(gamma=g).jacobian_eigenvalues() for g in gammas])
    sigmas = np.array([1.0, 2.0])
    noise = np.array([NoisyDiracGAN(sigma=s).jacobian_eigenvalues() for s in sigmas])
    fig = eigenvalue_figure(gammas, eig, critical=1.0, extra={"instance noise": (sigmas**2 / 2, noise)})
    assert isinstance(fig, go.Figure)
    slow = next(t for t in fig.data if t.name and t.name.startswith("larger real part"))
    assert np.allclose(slow.y, eig.real.max(axis=1), atol=1e-3)
    labels = [t for t in fig.data if t.mode == "markers+text"][0].text
    assert "γ = 0" in labels and "γ = 1" in labels and "γ = 3" in labels
    assert list(labels).count("γ = 1") == 1  # the double eigenvalue is labelled once
    with pytest.raises(ValueError, match="eigenvalues must have shape"):
        eigenvalue_figure(gammas, eig[:-1])


def test_payoff_figure_best_responses_cross_at_the_equilibrium():
    fig = payoff_figure([[2, -1], [-1, 1]], players=("matcher", "mismatcher"))
    heat, row, col, star = fig.data
    assert row.name == "matcher's best p, given q" and col.name == "mismatcher's best q, given p"
    assert np.allclose([star.x[0], star.y[0]], [0.4, 0.4])
    # The row player's line jumps at q = 0.4 (plotted as y), the column player's at p = 0.4.
    assert list(row.y) == pytest.approx([0.0, 0.4, 0.4, 1.0]) and list(row.x) == [0.0, 0.0, 1.0, 1.0]
    assert list(col.x) == pytest.approx([0.0, 0.4, 0.4, 1.0]) and list(col.y) == [1.0, 1.0, 0.0, 0.0]
    z = np.array(heat.z)
    assert z[0, 0] == pytest.approx(1.0) and z[-1, -1] == pytest.approx(2.0)  # (p, q) = (0, 0) and (1, 1)


def test_payoff_figure_with_a_saddle_point():
    fig = payoff_figure([[3, 1], [4, 2]])
    star = fig.data[-1]
    assert (star.x[0], star.y[0]) == (0.0, 0.0)
    with pytest.raises(ValueError, match="2 x 2"):
        payoff_figure(np.eye(3))
