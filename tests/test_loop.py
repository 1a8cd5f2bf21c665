"""Tests of ganlab.loop (the training loop taken apart) and ganlab.viz.sweep."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from ganlab.data import moons, ring
from ganlab.loop import (
    Minibatches,
    SweepResult,
    check_d_loss,
    check_iteration,
    record_minibatches,
    sweep,
)
from ganlab.recipes import build_models, get_recipe
from ganlab.train import Trainer
from ganlab.viz.sweep import sweep_figure

SMALL_G = {"class": "MLPGenerator", "z_dim": 2, "out_dim": 2, "depth": 2, "width": 16}
SMALL_D = {"class": "MLPDiscriminator", "in_dim": 2, "depth": 2, "width": 16}


def small_trainer(seed=0, **overrides):
    G, D = build_models(SMALL_G, SMALL_D, seed=seed)
    overrides = {"batch_size": 64, "snapshot_every": 0, "metrics_every": 0, **overrides}
    return Trainer(G, D, ring(), "textbook", seed=seed, **overrides)


# --------------------------------------------------------------------------- #
# record_minibatches
# --------------------------------------------------------------------------- #
def test_recording_changes_nothing_and_counts_every_draw():
    plain = small_trainer().fit(30, progress=False)
    trainer = small_trainer(d_steps=2)
    reference = small_trainer(d_steps=2).fit(30, progress=False)
    with record_minibatches(trainer) as batches:
        record = trainer.fit(30, progress=False)
    assert isinstance(batches, Minibatches)
    assert len(batches) == len(batches.z) == 60  # k = 2 D steps per iteration, G reuses the last fakes
    assert record.history["loss_d"] == reference.history["loss_d"]
    assert plain.history["loss_d"] != record.history["loss_d"]  # d_steps matters: a sanity check
    assert batches.x_real[0].shape == (64, 2) and batches.z[0].shape == (64, 2)
    # the trainer's own methods are back
    assert "next" not in vars(trainer._real) and "next" not in vars(trainer._noise)
    x_real, z = next(batches.pairs())
    assert torch.equal(x_real, batches.x_real[0]) and torch.equal(z, batches.z[0])


def test_recording_with_fresh_noise_for_g():
    trainer = small_trainer(reuse_fake=False)
    with record_minibatches(trainer) as batches:
        trainer.fit(5, progress=False)
    assert len(batches.x_real) == 5 and len(batches.z) == 10


def test_record_minibatches_rejects_other_objects():
    with pytest.raises(TypeError, match="Trainer"):
        with record_minibatches(object()):
            pass


def test_a_plain_loop_fed_the_same_minibatches_computes_the_trainers_numbers():
    """The Trainer is Algorithm 1: the same maths as six lines of PyTorch."""
    data = ring()
    trainer = get_recipe("textbook").trainer(data, seed=0, snapshot_every=0, metrics_every=0)
    with record_minibatches(trainer) as batches:
        record = trainer.fit(60, progress=False)
    G, D = get_recipe("textbook").build(data, seed=0)
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))
    losses = []
    for x_real, z in batches.pairs():
        x_fake = G(z)
        loss_D = F.softplus(-D(x_real)).mean() + F.softplus(D(x_fake.detach())).mean()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        loss_G = F.softplus(-D(x_fake)).mean()
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()
        losses.append((loss_D.item(), loss_G.item()))
    ours = np.array(losses)
    theirs = np.stack([record.history["loss_d"], record.history["loss_g"]], axis=1)
    assert np.abs(ours - theirs).max() < 1e-4
    for a, b in zip(G.parameters(), trainer.G.parameters()):
        assert torch.allclose(a, b, atol=1e-4)


# --------------------------------------------------------------------------- #
# sweep and its figure
# --------------------------------------------------------------------------- #
def test_sweep_fills_a_grid():
    result = sweep(ring(), "textbook", rows=("lr_d", [1e-4, 4e-4]), cols=("d_steps", [1, 2]),
                   steps=12, metrics_every=4, last=2, batch_size=32)
    assert isinstance(result, SweepResult)
    assert result.modes.shape == result.hq.shape == result.seconds.shape == (2, 2)
    assert result.n_modes == 8
    assert np.all((result.modes >= 0) & (result.modes <= 8))
    assert np.all((result.hq >= 0) & (result.hq <= 1))
    record = result.records[1][1]
    assert record.config["lr_d"] == 4e-4 and record.config["d_steps"] == 2
    assert record.config["batch_size"] == 32
    # each cell is the mean of the last `last` measurements (steps 8 and 12)
    expected = np.mean([m["modes"] for m in record.metrics if m["step"] in (8, 12)])
    assert result.modes[1, 1] == pytest.approx(expected)
    assert result.cell(4e-4, 2)["modes"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="row_value"):
        result.cell(1.0, 2)

    fig = sweep_figure(result, row_labels=["slow D", "fast D"], title="t")
    assert isinstance(fig, go.Figure) and fig.data[0].type == "heatmap"
    assert list(fig.data[0].y) == ["slow D", "fast D"]
    assert list(fig.data[0].x) == ["d_steps = 1", "d_steps = 2"]
    assert "modes" in fig.data[0].text[0][0]
    with pytest.raises(ValueError, match="row_labels"):
        sweep_figure(result, row_labels=["one"])
    with pytest.raises(TypeError, match="SweepResult"):
        sweep_figure({"modes": 1})


def test_sweep_figure_marks_a_diverged_run():
    result = SweepResult(rows=("lr_d", [1.0]), cols=("d_steps", [1, 2]),
                         modes=np.array([[np.nan, 8.0]]), hq=np.array([[np.nan, 0.5]]), n_modes=8,
                         seconds=np.zeros((1, 2)), records=[[None, None]], steps=1, seed=0,
                         recipe="r1", overrides={})
    fig = sweep_figure(result)
    assert fig.data[0].text[0][0] == "diverged"
    assert fig.data[0].z[0][0] is None


def test_sweep_checks_its_arguments():
    with pytest.raises(ValueError, match="centres"):
        sweep(moons(), rows=("lr_d", [1e-4]), cols=("d_steps", [1]), steps=1)
    with pytest.raises(ValueError, match="TrainConfig field"):
        sweep(ring(), rows=("learning_rate", [1e-4]), cols=("d_steps", [1]), steps=1)
    with pytest.raises(TypeError, match="rows"):
        sweep(ring(), rows="lr_d", cols=("d_steps", [1]), steps=1)
    with pytest.raises(TypeError, match="cols"):
        sweep(ring(), rows=("lr_d", [1e-4]), cols=("d_steps", []), steps=1)
    with pytest.raises(ValueError, match="different fields"):
        sweep(ring(), rows=("lr_d", [1e-4]), cols=("lr_d", [1e-3]), steps=1)
    with pytest.raises(ValueError, match="steps"):
        sweep(ring(), rows=("lr_d", [1e-4]), cols=("d_steps", [1]), steps=0)


# --------------------------------------------------------------------------- #
# Self-checks
# --------------------------------------------------------------------------- #
def right_d_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


D_LOSS_MISTAKES = {
    "sign": (lambda r, f: -right_d_loss(r, f), "sign is flipped"),
    "swapped": (lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean(), "labels are swapped"),
    "real only": (lambda r, f: F.softplus(-r).mean(), "only the real term"),
    "fake only": (lambda r, f: F.softplus(f).mean(), "only the fake term"),
    "g loss": (lambda r, f: F.softplus(-f).mean(), "G's loss"),
    "sum": (lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(), "summed over the batch"),
    "bce": (lambda r, f: F.binary_cross_entropy_with_logits(
        torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])), "SUM"),
    "naive": (lambda r, f: -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean(),
              "log(sigmoid(l)) rounds to log(0)"),
    "probabilities": (lambda r, f: -torch.log(r).mean() - torch.log(1 - f).mean(), "not probabilities"),
    "float": (lambda r, f: right_d_loss(r, f).item(), "return a torch tensor"),
    "detached": (lambda r, f: right_d_loss(r, f).detach(), "no gradient"),
    "vector": (lambda r, f: F.softplus(-r) + F.softplus(f), "one number"),
    "raises": (lambda r, f: 1 / 0, "ZeroDivisionError"),
}


def test_check_d_loss_accepts_the_right_answer(capsys):
    assert check_d_loss(right_d_loss) is True
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("name", sorted(D_LOSS_MISTAKES))
def test_check_d_loss_names_each_mistake(name, capsys):
    fn, hint = D_LOSS_MISTAKES[name]
    assert check_d_loss(fn) is False
    out = " ".join(capsys.readouterr().out.split())  # the message is wrapped
    assert out.startswith("✘") and hint in out, out


def test_check_d_loss_rejects_a_non_function():
    with pytest.raises(TypeError, match="d_loss"):
        check_d_loss(1.0)


def right_iteration(G, D, opt_G, opt_D, x_reals, zs):
    for x_real, z in zip(x_reals, zs):
        x_fake = G(z)
        loss_D = F.softplus(-D(x_real)).mean() + F.softplus(D(x_fake.detach())).mean()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
    loss_G = F.softplus(-D(x_fake)).mean()
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()


def g_first(G, D, opt_G, opt_D, x_reals, zs):
    loss_G = F.softplus(-D(G(zs[-1]))).mean()
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    for x_real, z in zip(x_reals, zs):
        loss_D = F.softplus(-D(x_real)).mean() + F.softplus(D(G(z).detach())).mean()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()


def one_d_step(G, D, opt_G, opt_D, x_reals, zs):
    right_iteration(G, D, opt_G, opt_D, x_reals[-1:], zs[-1:])


def saturating(G, D, opt_G, opt_D, x_reals, zs):
    for x_real, z in zip(x_reals, zs):
        loss_D = F.softplus(-D(x_real)).mean() + F.softplus(D(G(z).detach())).mean()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
    loss_G = -F.softplus(D(G(zs[-1]))).mean()
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()


def no_detach(G, D, opt_G, opt_D, x_reals, zs):
    for x_real, z in zip(x_reals, zs):
        x_fake = G(z)
        loss_D = F.softplus(-D(x_real)).mean() + F.softplus(D(x_fake)).mean()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
    loss_G = F.softplus(-D(x_fake)).mean()
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()


def no_g_step(G, D, opt_G, opt_D, x_reals, zs):
    for x_real, z in zip(x_reals, zs):
        loss_D = F.softplus(-D(x_real)).mean() + F.softplus(D(G(z).detach())).mean()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()


ITERATION_MISTAKES = {
    "g_first": (g_first, "G moved before D"),
    "one_d_step": (one_d_step, "one step instead of k"),
    "saturating": (saturating, "minimax loss"),
    "no_detach": (no_detach, "x_fake.detach()"),
    "no_g_step": (no_g_step, "G's step is not"),
    "nothing": (lambda *args: None, "neither G nor D changed"),
}


def test_check_iteration_accepts_the_right_answer(capsys):
    assert check_iteration(right_iteration) is True
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("name", sorted(ITERATION_MISTAKES))
def test_check_iteration_names_each_mistake(name, capsys):
    fn, hint = ITERATION_MISTAKES[name]
    assert check_iteration(fn) is False
    out = " ".join(capsys.readouterr().out.split())  # the message is wrapped
    assert out.startswith("✘") and hint in out, out


def test_check_iteration_rejects_a_non_function():
    with pytest.raises(TypeError, match="iteration"):
        check_iteration("loop")
