"""Tests of ganlab.numpy_gan: every hand-written gradient against torch autograd (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganlab import numpy_gan as ng
from ganlab.data import Gaussian1D
from ganlab.train import RunRecord

TOL = 1e-10  # float64: hand-written and autograd gradients differ only by rounding


def _rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- #
# layers
# --------------------------------------------------------------------------- #
def test_linear_forward_and_backward_match_autograd():
    rng = _rng()
    layer = ng.Linear(3, 4, rng)
    x, dy = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    y = layer.forward(x)
    dx = layer.backward(dy)
    W = torch.tensor(layer.W, requires_grad=True)
    b = torch.tensor(layer.b, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yt = xt @ W + b
    yt.backward(torch.tensor(dy))
    assert np.allclose(y, yt.detach().numpy(), rtol=0, atol=1e-14)
    assert ng.relative_error(dx, xt.grad.numpy()) < TOL
    assert ng.relative_error(layer.dW, W.grad.numpy()) < TOL
    assert ng.relative_error(layer.db, b.grad.numpy()) < TOL
    assert layer.grads()[0] is layer.dW and layer.params()[0] is layer.W


def test_linear_init_is_torch_like():
    layer = ng.Linear(16, 8, _rng())
    assert layer.W.shape == (16, 8) and layer.b.shape == (8,)
    assert np.abs(layer.W).max() <= 0.25 and np.abs(layer.b).max() <= 0.25


@pytest.mark.parametrize("layer, torch_fn", [
    (ng.ReLU(), torch.relu),
    (ng.LeakyReLU(0.2), lambda a: F.leaky_relu(a, 0.2)),
    (ng.Tanh(), torch.tanh),
])
def test_activation_backward_matches_autograd(layer, torch_fn):
    rng = _rng(1)
    a, dh = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    h = layer.forward(a)
    da = layer.backward(dh)
    at = torch.tensor(a, requires_grad=True)
    ht = torch_fn(at)
    ht.backward(torch.tensor(dh))
    assert np.allclose(h, ht.detach().numpy(), rtol=0, atol=1e-14)
    assert ng.relative_error(da, at.grad.numpy()) < TOL
    assert layer.params() == [] and layer.grads() == []


def test_mlp_structure_names_and_validation():
    net = ng.mlp([2, 8, 8, 1], "leaky_relu", seed=0, slope=0.1)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear"]
    assert net.layers[1].slope == 0.1
    assert net.param_names() == ["layer0.W", "layer0.b", "layer2.W", "layer2.b", "layer4.W", "layer4.b"]
    assert [p.shape for p in net.params()] == [(2, 8), (8,), (8, 8), (8,), (8, 1), (1,)]
    assert net([[0.0, 1.0]]).shape == (1, 1)
    same = ng.mlp([2, 8, 8, 1], "leaky_relu", seed=0, slope=0.1)
    assert all(np.array_equal(p, q) for p, q in zip(net.params(), same.params()))
    assert "(0): Linear(2, 8)" in repr(net) and "(4): Linear(8, 1)" in repr(net)
    with pytest.raises(ValueError, match="activation must be one of"):
        ng.mlp([1, 4, 1], "sigmoid")
    with pytest.raises(ValueError, match="sizes must list at least 2"):
        ng.mlp([3])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be an integer >= 1, got 0"):
        ng.mlp([1, 0, 1])
    with pytest.raises(ValueError, match="seed"):
        ng.mlp([1, 4, 1], seed=-1)
    with pytest.raises(ValueError, match="slope"):
        ng.LeakyReLU(2.0)


# --------------------------------------------------------------------------- #
# losses
# --------------------------------------------------------------------------- #
def test_softplus_and_sigmoid_are_stable_and_match_torch():
    t = np.array([-1000.0, -40.0, -3.0, 0.0, 2.5, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow warning
        sp, sg = ng.softplus(t), ng.sigmoid(t)
    assert np.allclose(sp, F.softplus(torch.tensor(t)).numpy(), rtol=1e-15, atol=0)
    assert np.allclose(sg, torch.sigmoid(torch.tensor(t)).numpy(), rtol=1e-15, atol=0)
    assert sp[-1] == 1000.0 and sg[0] == 0.0 and sg[-1] == 1.0


def test_d_loss_and_g_loss_and_their_logit_gradients():
    rng = _rng(2)
    lr_, lf_ = rng.normal(size=(6, 1)) * 3, rng.normal(size=(4, 1)) * 3
    loss, d_real, d_fake = ng.d_loss(lr_, lf_)
    lr_t = torch.tensor(lr_, requires_grad=True)
    lf_t = torch.tensor(lf_, requires_grad=True)
    loss_t = F.softplus(-lr_t).mean() + F.softplus(lf_t).mean()
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-14
    assert ng.relative_error(d_real, lr_t.grad.numpy()) < TOL
    assert ng.relative_error(d_fake, lf_t.grad.numpy()) < TOL
    loss, d_fake = ng.g_loss(lf_)
    lf_t = torch.tensor(lf_, requires_grad=True)
    loss_t = F.softplus(-lf_t).mean()
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-14
    assert ng.relative_error(d_fake, lf_t.grad.numpy()) < TOL
    # D(x) = 1/2 everywhere: log 4 and log 2
    assert np.isclose(ng.d_loss(np.zeros((3, 1)), np.zeros((3, 1)))[0], np.log(4))
    assert np.isclose(ng.g_loss(np.zeros((3, 1)))[0], np.log(2))


# --------------------------------------------------------------------------- #
# the players' gradients against autograd
# --------------------------------------------------------------------------- #
def _players(act_g, act_d, z_dim=2, x_dim=1, seed=0):
    G = ng.mlp([z_dim, 8, 8, x_dim], act_g, seed=seed)
    D = ng.mlp([x_dim, 16, 16, 1], act_d, seed=seed + 1)
    rng = _rng(seed + 2)
    return G, D, rng.normal(size=(32, x_dim)) + 1.0, rng.normal(size=(24, z_dim))


@pytest.mark.parametrize("act_g, act_d, x_dim", [
    ("tanh", "leaky_relu", 1), ("relu", "tanh", 1), ("leaky_relu", "relu", 2)])
def test_player_gradients_match_autograd(act_g, act_d, x_dim):
    G, D, x_real, z = _players(act_g, act_d, x_dim=x_dim)
    loss_d, grads_d = ng.d_gradients(G, D, x_real, z)
    loss_g, grads_g = ng.g_gradients(G, D, z)
    assert len(grads_d) == len(D.params()) and len(grads_g) == len(G.params())

    G_t, D_t = ng.to_torch(G), ng.to_torch(D)
    xr, zt = torch.from_numpy(x_real), torch.from_numpy(z)
    loss_d_t = F.softplus(-D_t(xr)).mean() + F.softplus(D_t(G_t(zt).detach())).mean()
    loss_d_t.backward()
    assert abs(loss_d - loss_d_t.item()) < 1e-12
    for ours, theirs in zip(grads_d, ng.torch_grads(D_t)):
        assert ng.relative_error(ours, theirs) < TOL
    assert all(p.grad is None for p in G_t.parameters())  # the detach: G gets nothing from L_D

    D_t.zero_grad()
    loss_g_t = F.softplus(-D_t(G_t(zt))).mean()
    loss_g_t.backward()
    assert abs(loss_g - loss_g_t.item()) < 1e-12
    for ours, theirs in zip(grads_g, ng.torch_grads(G_t)):
        assert ng.relative_error(ours, theirs) < TOL


def test_player_gradient_arguments_are_checked():
    G, D, x_real, z = _players("tanh", "relu")
    with pytest.raises(ValueError, match=r"x_real must have shape \(m, 1\)"):
        ng.d_gradients(G, D, np.zeros((4, 3)), z)
    with pytest.raises(ValueError, match=r"z must have shape \(m, 2\)"):
        ng.g_gradients(G, D, np.zeros((4, 1)))
    with pytest.raises(ValueError, match="z must have 2 dimension"):
        ng.g_gradients(G, D, np.zeros(4))
    with pytest.raises(TypeError, match="D must be a ganlab.numpy_gan.MLP"):
        ng.d_gradients(G, "D", x_real, z)
    with pytest.raises(TypeError, match="x_real must be a NumPy array"):
        ng.d_gradients(G, D, "data", z)


# --------------------------------------------------------------------------- #
# optimisers
# --------------------------------------------------------------------------- #
def test_adam_matches_torch_adam_in_place():
    rng = _rng(3)
    params = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    held = list(params)  # the same objects: the update must be in place
    torch_params = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    ours = ng.Adam(params, lr=0.01, betas=(0.5, 0.999))
    theirs = torch.optim.Adam(torch_params, lr=0.01, betas=(0.5, 0.999))
    for _ in range(5):
        grads = [rng.normal(size=p.shape) for p in params]
        ours.step(grads)
        for p, g in zip(torch_params, grads):
            p.grad = torch.tensor(g)
        theirs.step()
    assert all(a is b for a, b in zip(ours.params, held))
    for p, q in zip(params, torch_params):
        assert ng.relative_error(p, q.detach().numpy()) < 1e-12


def test_sgd_and_optimiser_validation():
    p = np.ones(3)
    ng.SGD([p], lr=0.5).step([np.array([1.0, 2.0, -2.0])])
    assert np.allclose(p, [0.5, 0.0, 2.0])
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        ng.Adam([p], lr=0.0)
    with pytest.raises(TypeError, match=r"params\[0\] must be a float NumPy array"):
        ng.Adam([[1.0, 2.0]])
    with pytest.raises(ValueError, match="params must be a non-empty list"):
        ng.SGD([])
    with pytest.raises(TypeError, match=r"layers\[1\] must be a layer"):
        ng.MLP([ng.Linear(1, 2, _rng()), "relu"])
    with pytest.raises(ValueError, match="betas must be a pair"):
        ng.Adam([p], betas=0.9)
    with pytest.raises(ValueError, match="grads must hold one array per parameter"):
        ng.Adam([p]).step([])
    with pytest.raises(ValueError, match="grads must hold one array per parameter"):
        ng.SGD([p]).step([p, p])
    with pytest.raises(ValueError, match=r"grads\[0\] must have the shape of its parameter \(3,\)"):
        ng.Adam([p]).step([np.ones(2)])


def test_one_full_iteration_matches_torch():
    """D step then G step with Adam: NumPy and PyTorch end with the same weights."""
    G, D, x_real, z = _players("tanh", "leaky_relu")
    G_t, D_t = ng.to_torch(G), ng.to_torch(D)
    opt = dict(lr=0.01, betas=(0.5, 0.999))
    opt_G, opt_D = ng.Adam(G.params(), **opt), ng.Adam(D.params(), **opt)
    opt_G_t, opt_D_t = torch.optim.Adam(G_t.parameters(), **opt), torch.optim.Adam(D_t.parameters(), **opt)
    xr, zt = torch.from_numpy(x_real), torch.from_numpy(z)
    for _ in range(3):
        opt_D.step(ng.d_gradients(G, D, x_real, z)[1])
        opt_G.step(ng.g_gradients(G, D, z)[1])
        opt_D_t.zero_grad()
        (F.softplus(-D_t(xr)).mean() + F.softplus(D_t(G_t(zt).detach())).mean()).backward()
        opt_D_t.step()
        opt_G_t.zero_grad()
        F.softplus(-D_t(G_t(zt))).mean().backward()
        opt_G_t.step()
    for net, net_t in ((G, G_t), (D, D_t)):
        theirs = [m.weight.detach().numpy().T if i % 2 == 0 else m.bias.detach().numpy()
                  for m in net_t if hasattr(m, "weight") for i in (0, 1)]
        for ours, t in zip(net.params(), theirs):
            assert ng.relative_error(ours, t) < 1e-9


# --------------------------------------------------------------------------- #
# training and recording
# --------------------------------------------------------------------------- #
def test_short_training_moves_the_fakes_to_the_data_and_records_a_run():
    from ganlab.viz import animate_game

    p_data = Gaussian1D(3.0, 0.5)
    G, D = ng.mlp([1, 8, 1], "tanh", seed=0), ng.mlp([1, 16, 1], "leaky_relu", seed=1)
    rng, gen = _rng(0), torch.Generator().manual_seed(0)
    opt_G, opt_D = ng.Adam(G.params(), lr=5e-3, betas=(0.5, 0.999)), ng.Adam(D.params(), lr=5e-3, betas=(0.5, 0.999))
    rec = ng.Recorder(np.linspace(0, 5, 51), rng.normal(size=(200, 1)), data_name="gaussian_1d")
    rec.snapshot(0, G, D)
    for step in range(1, 601):
        x_real = p_data.sample(128, generator=gen).numpy().astype(np.float64)
        loss_d, grads_d = ng.d_gradients(G, D, x_real, rng.normal(size=(128, 1)))
        opt_D.step(grads_d)
        loss_g, grads_g = ng.g_gradients(G, D, rng.normal(size=(128, 1)))
        opt_G.step(grads_g)
        rec.log(step, loss_d, loss_g, grads_d, grads_g)
        if step % 100 == 0:
            rec.snapshot(step, G, D)
    record = rec.record
    assert isinstance(record, RunRecord) and len(record) == 600 and len(record.snapshots) == 7
    x_fake = G(rng.normal(size=(4000, 1)))
    assert abs(x_fake.mean() - 3.0) < 0.2, x_fake.mean()
    assert record.snapshots[-1]["x_fake"].shape == (200, 1) and record.snapshots[-1]["d_grid"].shape == (51,)
    assert np.isfinite(record.array("grad_norm_d")).all() and np.isnan(record.array("d_real")).all()
    fig = animate_game(record, p_data)
    assert len(fig.frames) == 7
    # a record without gradients: the norms are NaN
    rec.log(601, 1.0, 1.0)
    assert np.isnan(rec.record.history["grad_norm_g"][-1])
    with pytest.raises(ValueError, match="step must be an integer >= 0"):
        rec.log(-1, 1.0, 1.0)
    with pytest.raises(TypeError, match="G must be"):
        rec.snapshot(602, D.layers, D)
    restored = RunRecord.from_bytes(record.to_bytes())
    assert len(restored.snapshots) == 7


def test_torch_helpers_validation():
    net = ng.mlp([1, 4, 1], seed=0)
    with pytest.raises(ValueError, match="no gradients yet"):
        ng.torch_grads(ng.to_torch(net))
    net.layers.append(object())
    with pytest.raises(TypeError, match="does not know the layer"):
        ng.to_torch(net)
    with pytest.raises(TypeError, match="net must be"):
        ng.to_torch("net")
    with pytest.raises(ValueError, match="same shape"):
        ng.relative_error(np.zeros(2), np.zeros(3))
    assert ng.relative_error(np.zeros(2), np.zeros(2)) == 0.0


# --------------------------------------------------------------------------- #
# self-checks
# --------------------------------------------------------------------------- #
def _said(capsys) -> str:
    """What a self-check printed, with its line wrapping undone."""
    out = capsys.readouterr().out
    assert all(len(line) <= 78 for line in out.splitlines()), out  # fits a notebook
    return " ".join(out.split())


def _right_linear(x, W, dy):
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


@pytest.mark.parametrize("fn, hint", [
    (_right_linear, "right"),
    (lambda x, W, dy: (dy @ W, x.T @ dy, dy.sum(0)), "check the shapes"),
    (lambda x, W, dy: (dy @ W.T[:, :1], x.T @ dy, dy.sum(0)), "dx must have x's shape"),
    (lambda x, W, dy: (dy @ W.T, dy.T @ x, dy.sum(0)), "the transpose"),
    (lambda x, W, dy: (dy @ W.T, x.T @ dy / len(x), dy.sum(0)), "Do not average"),
    (lambda x, W, dy: (dy @ W.T, x.T @ dy, dy), "SUM over the batch"),
    (lambda x, W, dy: (dy @ W.T, x.T @ dy, dy.mean(0)), "MEAN of dy"),
    (lambda x, W, dy: (dy @ W.T, x.T @ dy, dy.sum(1)), "wrong axis"),
    (lambda x, W, dy: (dy @ W.T, x.T @ dy), "three arrays"),
    (lambda x, W, dy: 1 / 0, "ZeroDivisionError"),
])
def test_check_linear_backward(fn, hint, capsys):
    assert ng.check_linear_backward(fn) is (hint == "right")
    assert hint in _said(capsys)


def test_check_linear_backward_catches_a_batch_of_one_only_bug(capsys):
    def first_sample_only(x, W, dy):  # right shapes, but uses one sample
        return dy @ W.T, np.outer(x[0], dy[0]), dy[0]
    assert not ng.check_linear_backward(first_sample_only)
    assert "sum_k x_ki dy_kj" in _said(capsys)
    with pytest.raises(TypeError, match="linear_backward must be a function"):
        ng.check_linear_backward(3)


@pytest.mark.parametrize("fn, hint", [
    (lambda a, dh, s: dh * np.where(a > 0, 1.0, s), "right"),
    (lambda a, dh, s: np.where(a > 0, 1.0, s), "local derivative"),
    (lambda a, dh, s: dh * (a > 0), "ReLU's backward"),
    (lambda a, dh, s: dh * np.where(a > 0, s, 1.0), "wrong side"),
    (lambda a, dh, s: dh * np.where(a > 0, a, s * a), "not by its derivative"),
    (lambda a, dh, s: dh * np.where(a > 0, 1.0, 0.2), "use the slope argument"),
    (lambda a, dh, s: dh.sum(0), "a's shape"),
    (lambda a, dh, s: -dh, "Hint"),
])
def test_check_leaky_relu_backward(fn, hint, capsys):
    assert ng.check_leaky_relu_backward(fn) is (hint == "right")
    assert hint in _said(capsys)


def _adam(kind):
    def fn(p, g, m, v, t, lr, b1, b2, eps):
        m = (b2 if kind == "beta_swap" else b1) * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g if kind == "g" else g * g)
        m_hat = m if kind == "no_bias" else m / (1 - b1**t)
        v_hat = v if kind == "no_bias" else v / (1 - b2**t)
        step = m_hat / (np.sqrt(np.abs(v_hat) + eps) if kind == "eps" else np.sqrt(np.abs(v_hat)) + eps)
        return (p + lr * step if kind == "sign" else p - lr * step), m, v
    return fn


@pytest.mark.parametrize("kind, hint", [
    ("right", "right"), ("no_bias", "bias correction"), ("eps", "OUTSIDE the square root"),
    ("sign", "AGAINST the gradient"), ("g", "SQUARED gradient"), ("beta_swap", "m is wrong"),
])
def test_check_adam_update(kind, hint, capsys):
    assert ng.check_adam_update(_adam(kind)) is (kind == "right")
    assert hint in _said(capsys)


def test_check_adam_update_accepts_the_reference_and_reports_bad_returns(capsys):
    assert ng.check_adam_update(ng.adam_update)
    assert not ng.check_adam_update(lambda *args: args[0])
    assert "three arrays" in _said(capsys)
