"""Tests of ganlab.train (Trainer, TrainConfig, RunRecord) and ganlab.recipes.

Small nets and a few dozen steps each: the whole file runs in well under a minute.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.data import Gaussian1D, ring
from ganlab.models import AffineGenerator, LogisticDiscriminator, MLPDiscriminator, MLPGenerator
from ganlab.recipes import RECIPES, build_models, get_recipe
from ganlab.train import HISTORY_KEYS, RunRecord, TrainConfig, Trainer, TrainingDiverged, resolve_device

SMALL = {"depth": 2, "width": 16}


def small_nets(seed=0, z_dim=2, dim=2):
    g = {"class": "MLPGenerator", "z_dim": z_dim, "out_dim": dim, **SMALL}
    d = {"class": "MLPDiscriminator", "in_dim": dim, **SMALL}
    return build_models(g, d, seed=seed)


def make_trainer(seed=0, data=None, net_seed=None, **overrides):
    overrides.setdefault("batch_size", 64)
    overrides.setdefault("snapshot_every", 0)
    overrides.setdefault("metrics_every", 0)
    G, D = small_nets(seed if net_seed is None else net_seed)
    return Trainer(G, D, data if data is not None else ring(), seed=seed, **overrides)


def weights(trainer):
    return [t.detach().clone() for t in [*trainer.G.state_dict().values(), *trainer.D.state_dict().values()]]


def same(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


# --------------------------------------------------------------------------- #
# determinism, continuation, checkpoints
# --------------------------------------------------------------------------- #
def test_same_seed_is_bitwise_reproducible_and_seeds_differ():
    a, b, c = make_trainer(seed=3), make_trainer(seed=3), make_trainer(seed=4)
    for t in (a, b, c):
        t.fit(25, progress=False)
    assert same(weights(a), weights(b))
    assert a.record.history == b.record.history
    assert not same(weights(a), weights(c))
    # same nets, different seed: the data and noise streams alone make runs differ
    d = make_trainer(seed=4, net_seed=3)
    d.fit(25, progress=False)
    assert not same(weights(a), weights(d))


def test_fit_continues_where_it_stopped():
    a, b = make_trainer(ema=0.9), make_trainer(ema=0.9)
    a.fit(20, progress=False)
    b.fit(7, progress=False)
    b.fit(13, progress=False)
    assert same(weights(a), weights(b))
    assert a.record.history == b.record.history
    assert b.steps_done == 20 and b.record.history["step"] == list(range(1, 21))


def test_checkpoint_resume_is_bitwise_identical(tmp_path):
    cfg = dict(ema=0.95, instance_noise=0.05, penalty="r1", snapshot_every=5, metrics_every=10)
    uninterrupted = make_trainer(**cfg)
    uninterrupted.fit(24, progress=False)

    first = make_trainer(**cfg)
    first.fit(12, progress=False)
    path = first.save_checkpoint(tmp_path / "run.pt")
    # the checkpoint holds only tensors and plain values
    state = torch.load(path, weights_only=True)
    assert state["steps_done"] == 12
    G, D = small_nets(seed=99)  # fresh nets with other weights: all overwritten
    resumed = Trainer.load_checkpoint(path, G, D, ring())
    resumed.fit(12, progress=False)

    assert same(weights(uninterrupted), weights(resumed))
    assert same(list(uninterrupted.G_ema.state_dict().values()), list(resumed.G_ema.state_dict().values()))
    for opt_a, opt_b in ((uninterrupted.opt_g, resumed.opt_g), (uninterrupted.opt_d, resumed.opt_d)):
        for sa, sb in zip(opt_a.state.values(), opt_b.state.values()):
            assert all(torch.equal(sa[k], sb[k]) for k in sa)
    ra, rb = uninterrupted.record, resumed.record
    assert ra.history == rb.history
    assert ra.snapshot_steps == rb.snapshot_steps == [0, 5, 10, 15, 20]
    assert [m["step"] for m in rb.metrics] == [0, 10, 20]
    assert np.array_equal(ra.snapshots[-1]["x_fake"], rb.snapshots[-1]["x_fake"])


def test_checkpoint_without_record(tmp_path):
    t = make_trainer()
    t.fit(5, progress=False)
    path = t.save_checkpoint(tmp_path / "w.pt", record=False)
    resumed = Trainer.load_checkpoint(path, *small_nets(1), ring())
    assert resumed.steps_done == 5 and len(resumed.record) == 0
    resumed.fit(2, progress=False)
    assert resumed.record.history["step"] == [6, 7]


def test_reinit_draws_weights_from_the_seed():
    G1, D1 = small_nets(seed=1)
    G2, D2 = small_nets(seed=2)
    a = Trainer(G1, D1, ring(), seed=5, reinit=True, batch_size=32)
    b = Trainer(G2, D2, ring(), seed=5, reinit=True, batch_size=32)
    assert same(weights(a), weights(b))


# --------------------------------------------------------------------------- #
# the game: alternating / simultaneous, k D-steps, stepping one player
# --------------------------------------------------------------------------- #
def test_d_steps_and_g_steps_count_updates():
    t = make_trainer(d_steps=3, g_steps=2)
    t.fit(4, progress=False)
    step_d = {float(s["step"]) for s in t.opt_d.state.values()}
    step_g = {float(s["step"]) for s in t.opt_g.state.values()}
    assert step_d == {12.0} and step_g == {8.0}
    assert t.steps_done == 4 and len(t.record) == 4


def test_simultaneous_differs_from_alternating():
    alt, sim = make_trainer(), make_trainer(simultaneous=True)
    alt.fit(5, progress=False)
    sim.fit(5, progress=False)
    assert not same(weights(alt), weights(sim))
    assert all(math.isfinite(v) for v in sim.record.history["loss_g"])


def test_reuse_fake_false_draws_fresh_noise():
    a, b = make_trainer(), make_trainer(reuse_fake=False)
    a.fit(3, progress=False)
    b.fit(3, progress=False)
    assert not same(weights(a), weights(b))


def test_d_step_and_g_step_move_one_player():
    t = make_trainer()
    g_before, d_before = [p.clone() for p in t.G.parameters()], [p.clone() for p in t.D.parameters()]
    row = t.d_step()
    assert same(g_before, list(t.G.parameters())) and not same(d_before, list(t.D.parameters()))
    assert math.isnan(row["loss_g"]) and math.isfinite(row["loss_d"]) and row["step"] == 1
    d_now = [p.clone() for p in t.D.parameters()]
    row = t.g_step()
    assert same(d_now, list(t.D.parameters())) and not same(g_before, list(t.G.parameters()))
    assert math.isnan(row["loss_d"]) and math.isnan(row["d_real"]) and math.isfinite(row["loss_g"])
    t.step()
    assert t.record.history["step"] == [1, 2, 3]


def test_set_lr_keeps_optimiser_state():
    t = make_trainer()
    t.fit(5, progress=False)
    state_before = {id(p): {k: v.clone() for k, v in s.items()} for p, s in t.opt_d.state.items()}
    tensors_before = {id(p): s["exp_avg"] for p, s in t.opt_d.state.items()}
    t.set_lr(d=3e-4, g=2e-4)
    assert all(g["lr"] == 3e-4 for g in t.opt_d.param_groups)
    assert all(g["lr"] == 2e-4 for g in t.opt_g.param_groups)
    assert t.config.lr_d == 3e-4 and t.record.config["lr_g"] == 2e-4
    for p, s in t.opt_d.state.items():
        assert s["exp_avg"] is tensors_before[id(p)]
        assert all(torch.equal(s[k], state_before[id(p)][k]) for k in s)
    t.fit(1, progress=False)  # and training goes on from that state
    assert {float(s["step"]) for s in t.opt_d.state.values()} == {6.0}


def test_ema_is_kept_and_used():
    t = make_trainer(ema=0.9)
    g0 = [p.clone() for p in t.G.parameters()]
    t.step()
    expected = [0.9 * a + 0.1 * b for a, b in zip(g0, t.G.parameters())]
    assert all(torch.allclose(e, x, atol=1e-6) for e, x in zip(t.G_ema.parameters(), expected))
    t.fit(10, progress=False)
    assert not same(list(t.G_ema.parameters()), list(t.G.parameters()))
    x_ema, x_raw = t.sample(100, seed=0), t.sample(100, seed=0, ema=False)
    assert x_ema.shape == (100, 2) and not torch.equal(x_ema, x_raw)
    assert torch.equal(x_ema, t.sample(100, seed=0))


@pytest.mark.parametrize(
    "overrides",
    [
        {"objective": "minimax"},
        {"objective": "least_squares", "penalty": "r2"},
        {"objective": "hinge", "instance_noise": 0.1},
        {"objective": "wasserstein", "penalty": "gp", "d_steps": 2},
        {"objective": "wasserstein", "penalty": "clip", "opt_d": "rmsprop", "opt_g": "rmsprop"},
        {"penalty": "r1", "gamma": 2.0, "opt_g": "sgd", "opt_d": "sgd", "lr_g": 0.01, "lr_d": 0.05},
        {"simultaneous": True, "penalty": "gp", "noise": "uniform"},
    ],
)
def test_objectives_penalties_optimisers_run(overrides):
    t = make_trainer(**overrides)
    t.fit(3, progress=False)
    for key in HISTORY_KEYS:
        assert all(math.isfinite(v) for v in t.record.history[key])
    if overrides.get("penalty") == "clip":
        assert all(p.abs().max() <= 0.01 + 1e-7 for p in t.D.parameters())
    assert t.record.d_output == ("probability" if overrides.get("objective", "nonsaturating") in
                                 ("minimax", "nonsaturating") else "score")


# --------------------------------------------------------------------------- #
# divergence guard
# --------------------------------------------------------------------------- #
def _remember_states(store):
    def callback(trainer):
        store[trainer.steps_done] = weights(trainer)

    return callback


@pytest.mark.parametrize("guard_every", [1, 10])
def test_divergence_rolls_back_to_the_last_good_step(guard_every):
    t = make_trainer(guard_every=guard_every, opt_g="sgd", opt_d="sgd", lr_g=0.01, lr_d=0.01)
    states = {}
    t.fit(13, progress=False, callbacks=[_remember_states(states)])
    t.set_lr(g=1e30, d=1e30)  # a step this size overflows float32 within a few steps
    with pytest.raises(TrainingDiverged) as info:
        t.fit(50, progress=False, callbacks=[_remember_states(states)])
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.rolled_back_to == err.step - 1 == t.steps_done
    assert f"step {err.step}" in str(err) and "last finite losses" in str(err)
    assert err.last_losses["step"] == t.steps_done and math.isfinite(err.last_losses["loss_d"])
    assert all(torch.isfinite(w).all() for w in weights(t))
    assert same(weights(t), states[t.steps_done])  # exactly the last good state
    assert len(t.record) == t.steps_done and all(math.isfinite(v) for v in t.record.history["loss_d"])
    t.set_lr(g=0.01, d=0.01)  # and training can go on from there
    t.fit(3, progress=False)
    assert t.steps_done == err.step + 2


def test_injected_nan_is_caught_and_rolled_back():
    t = make_trainer(guard_every=1)

    def poison(trainer):
        if trainer.steps_done == 6:
            with torch.no_grad():
                next(trainer.D.parameters())[0, 0] = float("nan")

    states = {}
    with pytest.raises(TrainingDiverged) as info:
        t.fit(20, progress=False, callbacks=[_remember_states(states), poison])
    assert info.value.step == 7 and t.steps_done == 6 and "outside the training step" in str(info.value)
    assert same(weights(t), states[6])  # the copy was taken before the callback poisoned D


def test_injected_nan_between_checks_is_reported():
    t = make_trainer(guard_every=10)

    def poison(trainer):
        if trainer.steps_done == 4:
            with torch.no_grad():
                next(trainer.G.parameters())[0, 0] = float("inf")

    with pytest.raises(TrainingDiverged, match="outside the training step"):
        t.fit(20, progress=False, callbacks=[poison])
    assert t.steps_done == 0 and len(t.record) == 0  # the last state checked before the poison
    assert all(torch.isfinite(w).all() for w in weights(t))


def test_keyboard_interrupt_leaves_a_consistent_state():
    reference = make_trainer(guard_every=5)
    reference.fit(7, progress=False)
    t = make_trainer(guard_every=5)

    def interrupt(trainer):
        if trainer.steps_done == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        t.fit(20, progress=False, callbacks=[interrupt])
    assert t.steps_done == 7 and same(weights(t), weights(reference))
    assert t.record.history == reference.record.history


# --------------------------------------------------------------------------- #
# callbacks and progress
# --------------------------------------------------------------------------- #
def test_callbacks_can_stop_and_fit_resumes():
    t = make_trainer()
    seen = []
    t.fit(50, progress=False, callbacks=[lambda tr: seen.append(tr.steps_done), lambda tr: tr.steps_done < 5])
    assert t.steps_done == 5 and seen == [1, 2, 3, 4, 5]
    t.fit(50, progress=False, callbacks=lambda tr: tr.stop() if tr.steps_done == 8 else None)
    assert t.steps_done == 8
    t.fit(2, progress=True)  # with a tqdm bar
    assert t.steps_done == 10


# --------------------------------------------------------------------------- #
# the run record
# --------------------------------------------------------------------------- #
def test_snapshots_2d_shapes_and_steps():
    t = make_trainer(snapshot_every=4, n_snapshot=50, grid_size=16, z_grid_size=5)
    t.fit(8, progress=False)
    rec = t.record
    assert rec.snapshot_steps == [0, 4, 8]
    snap = rec.snapshots[-1]
    assert snap["x_fake"].shape == (50, 2) and snap["grad_fake"].shape == (50, 2)
    assert snap["d_grid"].shape == (16, 16) and snap["g_grid"].shape == (5, 5, 2)
    for key in ("x_fake", "grad_fake", "d_grid", "g_grid"):
        assert snap[key].dtype == np.float32 and np.isfinite(snap[key]).all()
    assert ((snap["d_grid"] > 0) & (snap["d_grid"] < 1)).all()  # D(x) is a probability
    assert rec.grid_x.shape == (16,) and rec.grid_y.shape == (16,) and rec.z_grid.shape == (5, 5, 2)
    assert rec.x_real.shape == (50, 2) and rec.p_data_grid.shape == (16, 16)
    # the fixed z batch: the first snapshot is G at step 0, then the points move
    assert not np.array_equal(rec.snapshots[0]["x_fake"], snap["x_fake"])
    # d_grid[iy, ix] is D at (grid_x[ix], grid_y[iy])
    ix, iy = 3, 11
    point = torch.tensor([[rec.grid_x[ix], rec.grid_y[iy]]])
    with torch.no_grad():
        expected = torch.sigmoid(t.D(point)).item()
    assert snap["d_grid"][iy, ix] == pytest.approx(expected, abs=1e-6)


def test_snapshot_grad_fake_is_the_per_sample_gradient():
    t = make_trainer(n_snapshot=8)
    snap = t.snapshot()
    x = torch.from_numpy(snap["x_fake"]).requires_grad_(True)
    loss = torch.nn.functional.softplus(-t.D(x)).sum()  # the non-saturating G-loss, per sample
    (grad,) = torch.autograd.grad(loss, x)
    assert np.allclose(snap["grad_fake"], grad.numpy(), atol=1e-6)


def test_one_dimensional_chapter_run():
    recipe = get_recipe("affine1d")
    data = Gaussian1D(mean=2.0, std=0.5)
    G, D = recipe.build(data, seed=0)
    assert isinstance(G, AffineGenerator) and isinstance(D, LogisticDiscriminator)
    t = Trainer(G, D, data, recipe.config, seed=0, snapshot_every=10, grid_size=33, z_grid_size=7, n_snapshot=40)
    t.fit(20, progress=False)
    rec = t.record
    snap = rec.snapshots[-1]
    assert snap["x_fake"].shape == (40, 1) and snap["grad_fake"].shape == (40, 1)
    assert snap["d_grid"].shape == (33,) and snap["g_grid"].shape == (7, 1)
    assert rec.grid_y is None and rec.grid_x.shape == (33,) and rec.p_data_grid.shape == (33,)
    assert rec.z_grid.shape == (7, 1)
    assert G.mu.item() > 0.0  # the counterfeiter moved towards the data mean
    assert all(math.isfinite(v) for v in rec.history["loss_g"])


def test_record_save_load_round_trip(tmp_path):
    t = make_trainer(snapshot_every=5, metrics_every=5, n_snapshot=20, grid_size=8)
    t.fit(10, progress=False)
    t.d_step()  # a row with NaN for G
    rec = t.record
    path = rec.save(tmp_path / "record.npz")
    with np.load(path, allow_pickle=False) as npz:  # no pickle anywhere
        assert "header" in npz.files
    back = RunRecord.load(path)
    assert back.history["step"] == rec.history["step"]
    for key in HISTORY_KEYS:
        assert np.array_equal(back.array(key), rec.array(key), equal_nan=True)
    assert [m.keys() for m in back.metrics] == [m.keys() for m in rec.metrics]
    assert all(np.array_equal(list(a.values()), list(b.values()), equal_nan=True)
               for a, b in zip(back.metrics, rec.metrics))
    assert back.config == rec.config and back.data_name == "ring" and back.seed == rec.seed
    assert back.data_info["centres"] == rec.data_info["centres"] and back.d_output == "probability"
    assert back.snapshot_steps == [0, 5, 10]
    for a, b in zip(rec.snapshots, back.snapshots):
        for key in ("x_fake", "d_grid", "g_grid", "grad_fake"):
            assert b[key].dtype == np.float32 and np.array_equal(a[key], b[key])
    for key in ("grid_x", "grid_y", "z_grid", "x_real", "p_data_grid"):
        assert np.array_equal(getattr(rec, key), getattr(back, key))


def test_textbook_recipe_on_ring_gives_finite_losses():
    recipe = get_recipe("textbook")
    assert recipe.config.lr_g == recipe.config.lr_d == 1e-4 and recipe.config.betas == (0.5, 0.999)
    assert recipe.config.batch_size == 256 and recipe.generator["width"] == 128
    trainer = recipe.trainer("ring", seed=0, snapshot_every=100, metrics_every=100)
    record = trainer.fit(200, progress=False)
    assert len(record) == 200
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"):
        assert all(math.isfinite(v) for v in record.history[key])
    assert record.snapshot_steps == [0, 100, 200]
    assert [m["step"] for m in record.metrics] == [0, 100, 200]
    assert 0 <= record.metrics[-1]["modes"] <= 8 and 0.0 <= record.metrics[-1]["hq"] <= 1.0


def test_recipes_registry():
    assert {"textbook", "r1"} <= set(RECIPES)
    r1 = get_recipe("r1")
    assert r1.config.penalty == "r1" and r1.config.gamma == 1.0
    r1.config.lr_g = 0.5  # a copy: the registry is unchanged
    assert get_recipe("r1").config.lr_g == 1e-4
    for name in RECIPES:
        assert name in get_recipe(name).describe()


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
    with pytest.warns(UserWarning, match="amp"):
        make_trainer(amp=True)


# --------------------------------------------------------------------------- #
# bad inputs: every public entry point names the parameter it rejects
# --------------------------------------------------------------------------- #
def _trainer(**kw):
    return make_trainer(**kw)


BAD_CONFIG = [
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"objective": "vanilla"}, ValueError, "objective"),
    ({"penalty": "l2"}, ValueError, "penalty"),
    ({"gamma": -1.0}, ValueError, "gamma"),
    ({"lr_g": 0.0}, ValueError, "lr_g"),
    ({"lr_d": "fast"}, TypeError, "lr_d"),
    ({"betas": (0.5,)}, TypeError, "betas"),
    ({"betas": (0.5, 1.5)}, ValueError, r"betas\[1\]"),
    ({"opt_g": "adagrad"}, ValueError, "opt_g"),
    ({"d_steps": 0}, ValueError, "d_steps"),
    ({"simultaneous": "yes"}, TypeError, "simultaneous"),
    ({"simultaneous": True, "d_steps": 2}, ValueError, "d_steps"),
    ({"ema": 1.0}, ValueError, "ema"),
    ({"noise": "cauchy"}, ValueError, "noise"),
    ({"device": "tpu"}, ValueError, "device"),
    ({"seed": -1}, ValueError, "seed"),
    ({"snapshot_every": -5}, ValueError, "snapshot_every"),
    ({"grid_size": 1}, ValueError, "grid_size"),
    ({"instance_noise": float("nan")}, ValueError, "instance_noise"),
    ({"guard_every": 0}, ValueError, "guard_every"),
]


@pytest.mark.parametrize("kwargs, error, name", BAD_CONFIG)
def test_bad_config_values(kwargs, error, name):
    with pytest.raises(error, match=name):
        TrainConfig(**kwargs)
    with pytest.raises(error, match=name):  # the same checks through the Trainer
        _trainer(**kwargs)


def _affine_nets():
    return AffineGenerator(), LogisticDiscriminator()


BAD_CALLS = [
    (lambda: Trainer("G", MLPDiscriminator(), ring()), TypeError, "G must be a torch.nn.Module"),
    (lambda: Trainer(MLPGenerator(), None, ring()), TypeError, "D must be"),
    (lambda: Trainer(torch.nn.Linear(2, 2), MLPDiscriminator(), ring()), TypeError, "z_dim"),
    (lambda: Trainer(*small_nets(), 42), TypeError, "data must be"),
    (lambda: Trainer(*small_nets(), "no_such_data"), ValueError, "name must be one of"),
    (lambda: Trainer(*small_nets(), ring(), batch_sise=3), ValueError, "batch_sise"),
    (lambda: Trainer(*small_nets(), ring(), config=3.0), TypeError, "config must be"),
    (lambda: Trainer(*small_nets(), ring(), config="no_such_recipe"), ValueError, "name must be one of"),
    (lambda: Trainer(*_affine_nets(), ring()), ValueError, "G maps z"),
    (lambda: Trainer(*small_nets(dim=2), Gaussian1D()), ValueError, "G maps z"),
    (lambda: make_trainer().fit(-1), ValueError, "steps"),
    (lambda: make_trainer().fit(2.5), TypeError, "steps"),
    (lambda: make_trainer().fit(1, progress="yes"), TypeError, "progress"),
    (lambda: make_trainer().fit(1, callbacks=[print, 3]), TypeError, r"callbacks\[1\]"),
    (lambda: make_trainer().set_lr(), ValueError, "set_lr"),
    (lambda: make_trainer().set_lr(g=-1.0), ValueError, "g must be"),
    (lambda: make_trainer().sample(0), ValueError, "n must be"),
    (lambda: make_trainer().sample(5, seed="a"), TypeError, "seed"),
    (lambda: RunRecord.load("/no/such/record.npz"), FileNotFoundError, "path"),
    (lambda: RunRecord.load(3), TypeError, "path"),
    (lambda: Trainer.load_checkpoint("/no/such.pt", *small_nets(), ring()), FileNotFoundError, "path"),
    (lambda: get_recipe("fast"), ValueError, "name must be one of"),
    (lambda: get_recipe("r1").build(ring(), seed=-2), ValueError, "seed"),
]


@pytest.mark.parametrize("call, error, message", BAD_CALLS)
def test_bad_calls(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_checkpoint_rejects_other_files(tmp_path):
    path = tmp_path / "not_a_checkpoint.pt"
    torch.save({"hello": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="not a ganlab checkpoint"):
        Trainer.load_checkpoint(path, *small_nets(), ring())


def test_view_sets_the_grid_box_and_is_validated():
    from ganlab.data import Gaussian1D
    from ganlab.models import AffineGenerator, LogisticDiscriminator
    from ganlab.train import TrainConfig, Trainer

    trainer = Trainer(AffineGenerator(), LogisticDiscriminator(), Gaussian1D(4.0, 0.5), view=(-2.0, 7.0),
                      grid_size=10, snapshot_every=5, seed=0)
    record = trainer.fit(5, progress=False)
    assert record.grid_x[0] == -2.0 and record.grid_x[-1] == 7.0
    assert TrainConfig.from_dict(TrainConfig(view=(0, 1)).to_dict()).view == ((0.0, 1.0),)
    for bad, error in [((1, 0), ValueError), ("wide", TypeError), ((0, float("inf")), ValueError)]:
        with pytest.raises(error, match="view"):
            TrainConfig(view=bad)
    with pytest.raises(ValueError, match="view"):
        Trainer(AffineGenerator(), LogisticDiscriminator(), Gaussian1D(), view=((0, 1), (0, 1)))
