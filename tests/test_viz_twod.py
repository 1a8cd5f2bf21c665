"""Figures of the 2-D game, curves and image grids, built from real (short) recorded runs."""

import base64
import struct
import zlib

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from ganlab.data import ring
from ganlab.models import MLPDiscriminator, MLPGenerator
from ganlab.train import RunRecord, Trainer
from ganlab.viz import (
    LAYERS,
    animate_2d,
    animate_images,
    available_layers,
    contour_lines,
    d_output_curves,
    game_figure_2d,
    grad_norm_curves,
    image_grid,
    kde_2d,
    loss_curves,
    metric_curves,
    optimal_discriminator_grid,
    tile_images,
)
from ganlab.viz.style import png_data_uri


def _train(data, steps, **overrides):
    torch.manual_seed(0)
    G = MLPGenerator(z_dim=2, out_dim=2, depth=2, width=32)
    D = MLPDiscriminator(in_dim=2, depth=2, width=32)
    config = dict(lr_g=1e-3, lr_d=1e-3, batch_size=64, n_snapshot=300, grid_size=40, seed=0)
    config.update(overrides)
    return Trainer(G, D, data, **config).fit(steps, progress=False)


@pytest.fixture(scope="module")
def run():
    """A ring run: exact p_data known, 4 snapshots (steps 0, 20, 40, 60), metrics."""
    return _train(ring(), 60, snapshot_every=20, metrics_every=20)


@pytest.fixture(scope="module")
def empirical_run():
    """Data given as points: no exact density, so no D* layer."""
    points = ring().sample(500, seed=1)
    return _train(points, 20, snapshot_every=10, metrics_every=0)


@pytest.fixture(scope="module")
def score_run():
    """A critic (Wasserstein): D outputs scores, the boundary is D = 0."""
    return _train(ring(), 20, snapshot_every=10, metrics_every=0, objective="wasserstein", penalty="gp")


def _groups(fig):
    """Layer names present in a figure: legend groups of its traces and shapes."""
    return {t.legendgroup for t in fig.data if t.legendgroup} | {s.legendgroup for s in fig.layout.shapes}


def _index(fig, group):
    return next(i for i, t in enumerate(fig.data) if t.legendgroup == group)


# --------------------------------------------------------------------------- #
# The 2-D figure
# --------------------------------------------------------------------------- #
def test_every_layer_by_default_each_one_switchable(run):
    assert available_layers(run) == LAYERS
    assert _groups(game_figure_2d(run)) == set(LAYERS)
    for layer in LAYERS:
        assert _groups(game_figure_2d(run, layers=[layer])) == {layer}
        assert _groups(game_figure_2d(run, layers=[name for name in LAYERS if name != layer])) == set(LAYERS) - {layer}
    # Every layer is a legend entry (clicking it hides the layer).
    fig = game_figure_2d(run)
    shown = {t.legendgroup for t in fig.data if t.showlegend is not False}
    shown |= {s.legendgroup for s in fig.layout.shapes if s.showlegend}
    assert shown == set(LAYERS)


def test_trace_names_and_layout(run):
    fig = game_figure_2d(run, index=1)
    names = {t.name for t in fig.data} | {s.name for s in fig.layout.shapes}
    assert {"real x", "fake G(z)", "D(x) = P(real | x)", "boundary D = 1/2", "D* = 1/2 (optimal D)",
            "G's warped z grid", "p_g (darker = denser)"} <= names
    assert fig.layout.yaxis.scaleanchor == "x"  # square units
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert fig.layout.title.text == "The 2-D game at step 20"
    heat = fig.data[_index(fig, "heatmap")]
    assert np.shape(heat.z) == (40, 40) and heat.zmin == 0 and heat.zmax == 1
    # The figure is valid plotly: rebuilding it with full validation accepts every property.
    go.Figure(fig.to_dict())


def _bilinear(z, gx, gy, pts):
    ix = np.clip(np.searchsorted(gx, pts[:, 0]) - 1, 0, len(gx) - 2)
    iy = np.clip(np.searchsorted(gy, pts[:, 1]) - 1, 0, len(gy) - 2)
    tx = (pts[:, 0] - gx[ix]) / (gx[ix + 1] - gx[ix])
    ty = (pts[:, 1] - gy[iy]) / (gy[iy + 1] - gy[iy])
    return ((1 - ty) * ((1 - tx) * z[iy, ix] + tx * z[iy, ix + 1])
            + ty * ((1 - tx) * z[iy + 1, ix] + tx * z[iy + 1, ix + 1]))


def test_decision_boundary_lies_where_d_is_one_half(run):
    fig = game_figure_2d(run)
    shape = next(s for s in fig.layout.shapes if s.legendgroup == "boundary")
    assert shape.type == "path" and shape.path.startswith("M") and "L" in shape.path
    numbers = shape.path.replace("Z", "").replace("M", " ").replace("L", " ").split()
    pts = np.array([[float(v) for v in p.split(",")] for p in numbers])
    z = np.asarray(run.snapshots[-1]["d_grid"], dtype=float)
    on_curve = _bilinear(z, np.asarray(run.grid_x), np.asarray(run.grid_y), pts)
    assert np.abs(on_curve - 0.5).max() < 0.05  # up to rounding of the path's coordinates


def test_contour_lines_trace_a_circle():
    g = np.linspace(-1, 1, 41)
    X, Y = np.meshgrid(g, g)
    lines = contour_lines(np.hypot(X, Y), g, g, 0.5)
    assert len(lines) == 1 and np.array_equal(lines[0][0], lines[0][-1])  # one closed curve
    assert np.abs(np.hypot(*lines[0].T) - 0.5).max() < 1e-3
    assert contour_lines(np.zeros((3, 3)), [0, 1, 2], [0, 1, 2], 1.0) == []


def test_arrows_are_one_trace_of_segments_along_minus_the_gradient(run):
    fig = game_figure_2d(run, layers=["arrows"], max_arrows=None)
    arrows = fig.data[0]
    n = len(run.snapshots[-1]["x_fake"])
    assert len(fig.data) == 1 and len(arrows.x) == len(arrows.y) == 3 * n
    assert all(v is None for v in arrows.x[2::3])
    start = np.array([arrows.x[0::3], arrows.y[0::3]], dtype=float).T
    end = np.array([arrows.x[1::3], arrows.y[1::3]], dtype=float).T
    assert np.allclose(start, run.snapshots[-1]["x_fake"], atol=0.01)
    step, minus_grad = end - start, -np.asarray(run.snapshots[-1]["grad_fake"], dtype=float)
    long = np.hypot(*step.T) > 0.03  # long enough for rounding not to matter
    cosine = (step * minus_grad).sum(1) / (np.hypot(*step.T) * np.hypot(*minus_grad.T) + 1e-12)
    assert long.sum() > n // 4 and cosine[long].min() > 0.95
    assert len(game_figure_2d(run, layers=["arrows"]).data[0].x) == 3 * 128  # the default cap


def test_optimal_layer_only_where_the_density_is_known(run, empirical_run):
    assert run.p_data_grid is not None and "optimal" in available_layers(run)
    assert empirical_run.p_data_grid is None and "optimal" not in available_layers(empirical_run)
    assert "optimal" not in _groups(game_figure_2d(empirical_run))
    assert "optimal" not in _groups(animate_2d(empirical_run))
    with pytest.raises(ValueError, match="layers.*optimal.*p_data"):
        game_figure_2d(empirical_run, layers=["fake", "optimal"])
    with pytest.raises(ValueError, match="p_data"):
        optimal_discriminator_grid(empirical_run)
    # D* = p_data / (p_data + p_g), p_g the KDE of the fakes on the grid.
    d_star = optimal_discriminator_grid(run, index=0)
    p_g = kde_2d(run.snapshots[0]["x_fake"], run.grid_x, run.grid_y)
    p_data = np.asarray(run.p_data_grid, dtype=float)
    inside = p_data + p_g > 1e-6
    assert np.allclose(d_star[inside], (p_data / (p_data + p_g))[inside])
    assert d_star.min() >= 0 and d_star.max() <= 1


def test_kde_2d_integrates_to_one():
    x = np.random.default_rng(0).normal(0, 0.5, size=(400, 2))
    g = np.linspace(-4, 4, 161)
    p = kde_2d(x, g, g)
    assert p.shape == (161, 161) and p.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=1e-3)


def test_scores_use_a_diverging_scale_centred_at_zero(score_run):
    assert score_run.d_output == "score"
    fig = game_figure_2d(score_run)
    heat = fig.data[_index(fig, "heatmap")]
    assert heat.zmin == -heat.zmax < 0
    assert any(s.name == "boundary D = 0" for s in fig.layout.shapes)


# --------------------------------------------------------------------------- #
# The animation
# --------------------------------------------------------------------------- #
def test_animation_frames_keep_the_fakes_identity(run):
    fig = animate_2d(run)
    assert [f.name for f in fig.frames] == [str(s["step"]) for s in run.snapshots]
    fake = _index(fig, "fake")
    real = _index(fig, "real")
    for frame, snap in zip(fig.frames, run.snapshots):
        assert real not in frame.traces  # frames carry only what changes
        k = list(frame.traces).index(fake)
        x_fake = np.asarray(snap["x_fake"], dtype=float)[:256]
        got = np.array([frame.data[k].x, frame.data[k].y], dtype=float).T
        assert got.shape == x_fake.shape  # at most 256 fakes, the same ones, in the same order
        assert np.allclose(got, x_fake, atol=2e-3)
        # D's heatmap and p_g are pictures (layout images), the contours are shapes.
        assert len(frame.layout.images) == 2 and frame.layout.images[0].source.startswith("data:image/png")
        assert {s.path[:1] for s in frame.layout.shapes} == {"M"}
    assert len(fig.layout.images) == 2 and len(fig.layout.shapes) == 2


def test_animation_player_and_thinning(run):
    fig = animate_2d(run, max_frames=2, frame_ms=300)
    assert [f.name for f in fig.frames] == ["0", "60"]  # first and last kept
    play = fig.layout.updatemenus[0].buttons[0]
    assert play.label.endswith("Play")
    options = play.args[1]
    assert options["transition"]["duration"] > 0  # the points glide...
    assert options["frame"]["redraw"] is True  # ...then the pictures and contours are swapped
    assert len(fig.layout.sliders[0].steps) == 2
    only_points = animate_2d(run, layers=["fake", "real", "arrows", "manifold"])
    assert only_points.layout.updatemenus[0].buttons[0].args[1]["frame"]["redraw"] is False
    go.Figure(fig.to_dict())  # valid plotly


def test_animation_stays_small(run):
    size = len(animate_2d(run).to_json())
    assert size < 4 * 25_000 + 60_000  # ~25 KB per frame at most, plus the first frame and layout


# --------------------------------------------------------------------------- #
# Curves
# --------------------------------------------------------------------------- #
def test_curves(run):
    fig = loss_curves(run)
    assert [t.name for t in fig.data] == ["D loss", "G loss"]
    assert len(fig.layout.shapes) == 2  # the losses at D = 1/2 (log 4 for D, log 2 for G)
    assert sorted(round(s.y0, 4) for s in fig.layout.shapes) == [round(np.log(2), 4), round(np.log(4), 4)]
    assert len(loss_curves(run, max_points=10).data[0].x) == 10
    fig = d_output_curves(run)
    assert [t.name for t in fig.data] == ["mean D(x_real)", "mean D(G(z))"] and fig.layout.shapes[0].y0 == 0.5
    assert [t.name for t in grad_norm_curves(run).data] == ["|∇ D loss|", "|∇ G loss|"]
    fig = metric_curves(run)
    assert [t.name for t in fig.data] == ["modes", "hq", "rkl"]
    assert "all 8 modes" in [a.text for a in fig.layout.annotations]


def test_metric_curves_draw_the_real_vs_real_floor():
    record = RunRecord(data_info={"dim": 2})
    record.history["step"] = [0, 1]
    record.metrics = [{"step": 0, "distance": 0.5, "floor": 0.01}, {"step": 100, "distance": 0.1, "floor": 0.01}]
    fig = metric_curves(record)
    assert [t.name for t in fig.data] == ["distance", "real-vs-real floor"]


# --------------------------------------------------------------------------- #
# Image grids
# --------------------------------------------------------------------------- #
def _decode_png(uri):
    """Pixels of a PNG written by png_data_uri (8-bit, Sub filter), to check it."""
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, colour = struct.unpack(">IIBB", data[16:26])
    channels = {0: 1, 2: 3, 6: 4}[colour]
    pos, idat = 8, b""
    while pos < len(data):
        (length,), tag = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        if tag == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * channels)
    assert (rows[:, 0] == 1).all()
    return np.cumsum(rows[:, 1:].reshape(h, w, channels), axis=1, dtype=np.uint64).astype(np.uint8).squeeze()


def test_tile_images_shapes_and_range():
    grey = torch.linspace(-1, 1, 10 * 28 * 28).reshape(10, 1, 28, 28)
    pixels = tile_images(grey, nrow=4)
    assert pixels.shape == (3 * 29 + 1, 4 * 29 + 1) and pixels.dtype == np.uint8
    assert pixels[1, 1] == 0 and pixels[0, 0] == 255  # -1 is black; the padding is white
    rgb = np.random.default_rng(0).uniform(0, 1, (5, 3, 8, 8))
    assert tile_images(rgb, padding=0).shape == (2 * 8, 3 * 8, 3)
    uri = png_data_uri(pixels)
    assert np.array_equal(_decode_png(uri), pixels)


def test_image_grid_and_animation():
    batches = [np.random.default_rng(k).uniform(-1, 1, (16, 1, 28, 28)) for k in range(3)]
    fig = image_grid(batches[0])
    assert fig.data[0].type == "image" and fig.data[0].source.startswith("data:image/png;base64,")
    assert np.array_equal(_decode_png(fig.data[0].source), tile_images(batches[0]))
    fig = animate_images(batches, steps=[0, 500, 1000])
    assert [f.name for f in fig.frames] == ["0", "500", "1000"]
    assert len(fig.layout.sliders[0].steps) == 3


# --------------------------------------------------------------------------- #
# Bad arguments
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("call, error, match", [
    (lambda r: game_figure_2d(r, layers=["fake", "heatmpa"]), ValueError, "layers.*heatmpa.*known layers"),
    (lambda r: game_figure_2d(r, layers=3), TypeError, "layers"),
    (lambda r: game_figure_2d(r, index=9), ValueError, "index"),
    (lambda r: game_figure_2d(r, index=1.0), TypeError, "index"),
    (lambda r: game_figure_2d(r, max_points=0), ValueError, "max_points"),
    (lambda r: game_figure_2d(r, heatmap_size=1), ValueError, "heatmap_size"),
    (lambda r: animate_2d(r, max_frames=0), ValueError, "max_frames"),
    (lambda r: animate_2d(r, max_frames=2.5), TypeError, "max_frames"),
    (lambda r: animate_2d(r, layers=["optimal", "nope"]), ValueError, "layers"),
    (lambda r: animate_2d(r, frame_ms=0), ValueError, "frame_ms"),
    (lambda r: game_figure_2d("record"), TypeError, "record"),
    (lambda r: game_figure_2d(RunRecord()), ValueError, "snapshots"),
    (lambda r: loss_curves(r, max_points=1), ValueError, "max_points"),
    (lambda r: metric_curves(r, keys=["fid"]), ValueError, "keys.*fid"),
    (lambda r: metric_curves(RunRecord(data_info={"dim": 2})), ValueError, "iterations"),
])
def test_bad_arguments(run, call, error, match):
    with pytest.raises(error, match=match):
        call(run)


@pytest.mark.parametrize("call, error, match", [
    (lambda: tile_images(np.zeros((4, 28, 28))), ValueError, r"images.*\(N, C, H, W\)"),
    (lambda: tile_images(np.zeros((4, 2, 28, 28))), ValueError, "images"),
    (lambda: tile_images([[1, 2]]), TypeError, "images"),
    (lambda: tile_images(np.full((1, 1, 2, 2), np.nan)), ValueError, "NaN"),
    (lambda: tile_images(np.zeros((4, 1, 8, 8)), nrow=0), ValueError, "nrow"),
    (lambda: tile_images(np.zeros((4, 1, 8, 8)), value_range=(1, 0)), ValueError, "value_range"),
    (lambda: image_grid(np.zeros((4, 1, 8, 8)), scale=-1), ValueError, "scale"),
    (lambda: animate_images([np.zeros((4, 1, 8, 8)), np.zeros((5, 1, 8, 8))]), ValueError, "batches"),
    (lambda: animate_images([np.zeros((4, 1, 8, 8))], steps=[0, 1]), ValueError, "steps"),
    (lambda: animate_images(np.zeros((4, 1, 8, 8))), TypeError, "batches"),
    (lambda: animate_images([]), ValueError, "batches"),
    (lambda: kde_2d(np.zeros((5, 3)), [0, 1], [0, 1]), ValueError, "samples"),
    (lambda: kde_2d(np.zeros((5, 2)), [1, 0], [0, 1]), ValueError, "grid_x"),
    (lambda: contour_lines(np.zeros((3, 4)), [0, 1, 2], [0, 1, 2], 0.5), ValueError, "z must have shape"),
])
def test_bad_image_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_one_dimensional_records_are_refused():
    from ganlab.data import Gaussian1D
    from ganlab.models import AffineGenerator, LogisticDiscriminator

    record = Trainer(AffineGenerator(), LogisticDiscriminator(), Gaussian1D(4.0, 0.5), batch_size=16,
                     snapshot_every=5, seed=0).fit(5, progress=False)
    with pytest.raises(ValueError, match="2-D"):
        game_figure_2d(record)
