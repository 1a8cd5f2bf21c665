"""Figures of the 1-D game, built from a real (short) recorded run."""

import numpy as np
import plotly.graph_objects as go
import pytest

from ganlab.data import Gaussian1D
from ganlab.models import AffineGenerator, LogisticDiscriminator
from ganlab.train import Trainer
from ganlab.viz import animate_game, game_figure, kde, losses_figure, rounds_figure
from ganlab.viz.style import rounded


@pytest.fixture(scope="module")
def run():
    p_data = Gaussian1D(4.0, 0.5)
    trainer = Trainer(AffineGenerator(0.0, 1.0), LogisticDiscriminator(), p_data, opt_g="sgd", opt_d="sgd",
                      lr_g=0.1, lr_d=0.1, batch_size=64, snapshot_every=10, seed=0)
    return trainer.fit(100, progress=False), p_data


def test_animation_has_one_frame_per_snapshot_and_a_player(run):
    record, p_data = run
    fig = animate_game(record, p_data)
    assert len(fig.frames) == len(record.snapshots) == 11
    assert [f.name for f in fig.frames] == [str(s["step"]) for s in record.snapshots]
    assert fig.layout.updatemenus[0].buttons[0].label.endswith("Play")
    assert len(fig.layout.sliders[0].steps) == 11
    # Frames carry only the changing traces: p_g, the fakes, D(x), D*(x) and the round marker.
    assert list(fig.frames[0].traces) == [2, 3, 4, 5, 8]
    names = [t.name for t in fig.data]
    assert "p_data (real)" in names and "D(x)" in names


def test_frames_follow_the_record(run):
    record, p_data = run
    fig = animate_game(record, p_data)
    last = fig.frames[-1]
    d_frame = np.array(last.data[2].y)
    assert np.allclose(d_frame, record.snapshots[-1]["d_grid"], rtol=1e-3, atol=1e-6)
    fakes = np.array(last.data[1].x)
    assert np.allclose(np.sort(fakes), np.sort(np.ravel(record.snapshots[-1]["x_fake"])), rtol=1e-3, atol=1e-5)


def test_max_frames_thins_the_animation(run):
    record, p_data = run
    fig = animate_game(record, p_data, max_frames=4)
    names = [f.name for f in fig.frames]
    assert len(names) == 4 and names[0] == "0" and names[-1] == "100"


def test_static_figures(run):
    record, p_data = run
    assert isinstance(game_figure(record, p_data), go.Figure)
    fig = rounds_figure(record, p_data, rounds=[0, 50, 100])
    assert len(fig.data) == 12
    fig = losses_figure(record)
    assert [t.name for t in fig.data] == ["D loss", "G loss", "D(x_real)", "D(G(z))"]


def test_optimal_d_is_half_where_the_densities_agree_and_follows_the_ratio():
    from ganlab.viz import optimal_d

    assert np.allclose(optimal_d([0.2, 0.4, 0.0], [0.2, 0.1, 0.0]), [0.5, 0.8, 0.5])


def test_the_animation_draws_d_star_from_the_fakes(run):
    record, p_data = run
    fig = animate_game(record, p_data)
    grid = np.asarray(record.grid_x, dtype=float)
    expected = p_data.density(grid.reshape(-1, 1)) / (
        p_data.density(grid.reshape(-1, 1)) + kde(record.snapshots[-1]["x_fake"], grid))
    assert np.allclose(fig.frames[-1].data[3].y, expected, rtol=1e-3, atol=1e-4)


def test_mapping_figure_draws_g_and_the_ideal_map(run):
    from ganlab.viz import mapping_figure

    record, p_data = run
    fig = mapping_figure(record, p_data, rounds=[0, 100])
    assert [t.name for t in fig.data] == ["round 0", "round 100", "the ideal map F⁻¹(Φ(z))"]
    z = np.asarray(record.z_grid).ravel()
    # For N(4, 0.5^2) the ideal map is exactly x = 4 + 0.5 z.
    assert np.allclose(fig.data[-1].y, 4 + 0.5 * z, atol=0.03)
    with pytest.raises(ValueError, match="n_reference"):
        mapping_figure(record, p_data, n_reference=5)


def test_kde_integrates_to_one():
    x = np.random.default_rng(0).normal(4, 0.5, 500)
    grid = np.linspace(0, 8, 801)
    assert np.trapezoid(kde(x, grid), grid) == pytest.approx(1.0, abs=1e-3)


def test_rounded_keeps_four_significant_digits():
    assert rounded([1234.5678, 0.000123456, 0.0, -2.71828]) == [1235.0, 0.0001235, 0.0, -2.718]


def test_rounded_survives_subnormal_values():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rounded([5e-320, -1e-310])[0] == pytest.approx(5e-320, rel=0.01)


@pytest.mark.parametrize("kwargs, error", [
    (dict(max_frames=0), ValueError),
    (dict(max_frames=2.5), TypeError),
])
def test_bad_animation_arguments(run, kwargs, error):
    record, p_data = run
    with pytest.raises(error, match="max_frames"):
        animate_game(record, p_data, **kwargs)


def test_rounds_figure_needs_one_to_six_rounds(run):
    record, p_data = run
    with pytest.raises(ValueError, match="rounds"):
        rounds_figure(record, p_data, rounds=[])
