"""The fixes of chapter 7 as recipes, the side-by-side animation, and the recommended recipe.

Each fix must really change the training (a no-op would pass a test that only
checks it runs), so these tests look at what it changes: D's layers, the
penalty's effect on D's gradients, the EMA weights, the noise D sees, the pack.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.cli import _recipe_steps, main
from ganlab.data import ring
from ganlab.recipes import RECIPES, get_recipe
from ganlab.viz.side_by_side import animate_side_by_side, metrics_at

FIXES = ["textbook", "r1", "wgan_clip", "wgan_gp", "sngan", "ttur", "ema", "instance_noise", "pacgan4",
         "recommended"]


def _short(name, steps=30, **kw):
    kw = dict(dict(snapshot_every=10, metrics_every=10, grid_size=8, n_metrics=256, n_snapshot=64), **kw)
    trainer = get_recipe(name).trainer(ring(), seed=0, **kw)
    return trainer, trainer.fit(steps, progress=False)


@pytest.mark.parametrize("name", FIXES)
def test_every_fix_is_a_recipe_that_trains(name):
    assert name in RECIPES and get_recipe(name).sources
    trainer, record = _short(name)
    assert len(record) == 30 and all(math.isfinite(v) for v in record.history["loss_d"])


def test_sngan_bounds_every_layer_of_D():
    trainer, _ = _short("sngan")
    linears = [m for m in trainer.D.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 4
    assert all(hasattr(m, "parametrizations") for m in linears)
    trainer.D.eval()  # one power iteration per training step: close to 1 after 30 steps
    for m in linears:
        assert torch.linalg.matrix_norm(m.weight, ord=2).item() == pytest.approx(1.0, abs=0.15)


def test_wgan_clip_keeps_weights_in_the_box():
    trainer, _ = _short("wgan_clip")
    assert max(p.abs().max().item() for p in trainer.D.parameters()) <= 0.01 + 1e-7
    textbook, _ = _short("textbook")
    assert max(p.abs().max().item() for p in textbook.D.parameters()) > 0.05


def test_ema_weights_lag_behind_G():
    trainer, _ = _short("ema")
    gaps = [(e - p).abs().max().item() for e, p in zip(trainer.G_ema.parameters(), trainer.G.parameters())]
    assert max(gaps) > 1e-5  # a no-op EMA would be a copy of G
    assert get_recipe("textbook").config.ema is None


def test_instance_noise_changes_what_D_sees():
    noisy, rec_noisy = _short("instance_noise")
    plain, rec_plain = _short("textbook")
    # same seed, same nets, same batches: only the noise differs
    assert rec_noisy.history["loss_d"][0] != rec_plain.history["loss_d"][0]
    assert noisy.config.instance_noise == 0.1


def test_pacgan4_packs_four_samples():
    trainer, _ = _short("pacgan4")
    assert trainer.D.pack == 4 and trainer.D[0].in_features == 8


def test_r1_penalty_shrinks_D_gradients_on_real_data():
    """R1 is not a no-op: after the same iterations D is flatter on real points."""
    def grad_norm(name, **kw):
        trainer, _ = _short(name, steps=150, lr_d=1e-3, lr_g=1e-4, **kw)
        x = ring().sample(512, seed=5).requires_grad_(True)
        (g,) = torch.autograd.grad(trainer.D(x).sum(), x)
        return g.norm(dim=1).mean().item()

    assert grad_norm("textbook", penalty="r1", gamma=10.0) < 0.5 * grad_norm("textbook")


def test_recommended_recipe_defaults():
    r = get_recipe("recommended")
    assert r.steps == 20000 and r.config.penalty == "r1" and r.config.ema == 0.999
    assert _recipe_steps("recommended") == 20000 and _recipe_steps("textbook") == 2000
    assert _recipe_steps("no-such-recipe") == 2000
    assert "steps=20000" in r.describe()


def test_cli_train_defaults_to_the_recipes_steps(tmp_path, capsys, monkeypatch):
    import dataclasses

    from ganlab import recipes

    short = dataclasses.replace(recipes.RECIPES["textbook"], name="short", steps=40)
    monkeypatch.setitem(recipes.RECIPES, "short", short)
    run = str(tmp_path / "run")
    assert main(["train", "--data", "ring", "--recipe", "short", "--out", run, "--no-progress",
                 "--set", "snapshot_every=20"]) == 0
    assert '"steps_done": 40' in capsys.readouterr().out


def test_recommended_recipe_covers_the_ring_quickly():
    """Smoke check, not the benchmark: 5000 of its 20000 iterations, one seed, find all 8 modes."""
    trainer = get_recipe("recommended").trainer(ring(), seed=0, snapshot_every=0, metrics_every=0)
    trainer.fit(5000, progress=False)
    result = trainer.evaluate()
    assert result["modes"] == 8 and result["hq"] > 0.6, result


# --------------------------------------------------------------------------- #
# The side-by-side animation
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def two_runs():
    return [_short(name, steps=40)[1] for name in ("textbook", "r1")]


def test_side_by_side_has_a_panel_per_run_and_a_frame_per_snapshot(two_runs):
    fig = animate_side_by_side(two_runs, ["textbook", "r1"], max_points=50)
    assert len(fig.data) == 4  # real + fakes per panel
    assert [f.name for f in fig.frames] == ["0", "10", "20", "30", "40"]
    last = fig.frames[-1]
    assert list(last.traces) == [1, 3]
    np.testing.assert_allclose(last.data[1].x, np.round(two_runs[1].snapshots[-1]["x_fake"][:50, 0], 3),
                               atol=1e-3)
    titles = [a.text for a in last.layout.annotations]
    m = metrics_at(two_runs[1], 40)
    assert any(f"{m['modes']} of 8 modes, HQ {m['hq']:.0%}" in t for t in titles)
    assert any("real x" in t for t in titles)  # the colour key survives every frame


def test_side_by_side_thins_frames(two_runs):
    fig = animate_side_by_side(two_runs, ["a", "b"], max_frames=3)
    assert [f.name for f in fig.frames] == ["0", "20", "40"]


def test_metrics_at_picks_the_last_row_at_or_before():
    class R:
        metrics = [{"step": 0, "modes": 1}, {"step": 10, "modes": 3}]

    assert metrics_at(R, 9)["modes"] == 1 and metrics_at(R, 10)["modes"] == 3 and metrics_at(R, -1) is None


@pytest.mark.parametrize("call, match", [
    (lambda r: animate_side_by_side("runs", ["a"]), "records must be a list"),
    (lambda r: animate_side_by_side([r[0], "x"], ["a", "b"]), r"records\[1\] must be"),
    (lambda r: animate_side_by_side(r, ["a"]), "labels must be 2 strings"),
    (lambda r: animate_side_by_side(r, ["a", "b"], max_frames=0), "max_frames must"),
    (lambda r: animate_side_by_side(r, ["a", "b"], title=3), "title must"),
])
def test_side_by_side_bad_input(two_runs, call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call(two_runs)


def test_side_by_side_needs_the_same_snapshot_steps(two_runs):
    other = _short("r1", steps=40, snapshot_every=20)[1]
    with pytest.raises(ValueError, match="same steps"):
        animate_side_by_side([two_runs[0], other], ["a", "b"])
