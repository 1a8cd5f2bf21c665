"""Tests of ganlab.losses: objectives against hand-computed numbers, stability, penalties."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.losses import (
    OBJECTIVES,
    Objective,
    clip_weights_,
    get_objective,
    gradient_penalty,
    instance_noise,
    r1_penalty,
    r2_penalty,
)
from ganlab.models import AffineGenerator, LogisticDiscriminator, MLPDiscriminator, MLPGenerator

torch.set_num_threads(1)


# ---------------------------------------------------------------------------
# Objectives: values by hand
# ---------------------------------------------------------------------------

REAL = [0.0, 2.0, -1.0]
FAKE = [0.0, -3.0, 1.5]


def softplus(t: float) -> float:  # log(1 + e^t), by hand
    return math.log(1.0 + math.exp(t))


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


EXPECTED = {  # name -> (d_loss, g_loss) at REAL, FAKE, written from each formula
    "minimax": (
        mean(softplus(-r) for r in REAL) + mean(softplus(f) for f in FAKE),
        -mean(softplus(f) for f in FAKE),
    ),
    "nonsaturating": (
        mean(softplus(-r) for r in REAL) + mean(softplus(f) for f in FAKE),
        mean(softplus(-f) for f in FAKE),
    ),
    "least_squares": (
        0.5 * mean((r - 1.0) ** 2 for r in REAL) + 0.5 * mean(f**2 for f in FAKE),
        0.5 * mean((f - 1.0) ** 2 for f in FAKE),
    ),
    "hinge": (
        mean(max(0.0, 1.0 - r) for r in REAL) + mean(max(0.0, 1.0 + f) for f in FAKE),
        -mean(FAKE),
    ),
    "wasserstein": (mean(FAKE) - mean(REAL), -mean(FAKE)),
}


def test_objective_names():
    assert OBJECTIVES == ("minimax", "nonsaturating", "least_squares", "hinge", "wasserstein")
    for name in OBJECTIVES:
        obj = get_objective(name)
        assert isinstance(obj, Objective) and obj.name == name
        assert obj.__doc__ and "loss" in obj.__doc__  # the formula is written down
    obj = get_objective("hinge")
    assert get_objective(obj) is obj


@pytest.mark.parametrize("name", OBJECTIVES)
@pytest.mark.parametrize("column", [False, True])
def test_objective_values_by_hand(name, column):
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    if column:  # D's output shape (n, 1) and a flat (n,) give the same numbers
        real, fake = real[:, None], fake[:, None]
    obj = get_objective(name)
    d_expected, g_expected = EXPECTED[name]
    assert obj.d_loss(real, fake).item() == pytest.approx(d_expected, rel=1e-6, abs=1e-7)
    assert obj.g_loss(fake).item() == pytest.approx(g_expected, rel=1e-6, abs=1e-7)
    assert obj.d_loss(real, fake).shape == ()


def test_literal_values():
    zero = torch.zeros(5, 1)
    # D = 1/2 everywhere: the minimax D loss is log 4 (so max_D V = -log 4 at p_g = p_data)
    assert get_objective("minimax").d_loss(zero, zero).item() == pytest.approx(math.log(4.0))
    assert get_objective("nonsaturating").g_loss(zero).item() == pytest.approx(math.log(2.0))
    assert get_objective("minimax").g_loss(zero).item() == pytest.approx(-math.log(2.0))
    one = torch.ones(5, 1)
    assert get_objective("least_squares").d_loss(one, zero).item() == 0.0  # a perfect LSGAN D
    assert get_objective("least_squares").g_loss(one).item() == 0.0
    assert get_objective("hinge").d_loss(one, -one).item() == 0.0  # margins met
    assert get_objective("hinge").d_loss(zero, zero).item() == 2.0


def test_log_loss_is_binary_cross_entropy():
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    bce = (F.binary_cross_entropy_with_logits(real, torch.ones(3))
           + F.binary_cross_entropy_with_logits(fake, torch.zeros(3)))
    assert torch.allclose(get_objective("minimax").d_loss(real, fake), bce)
    ns = F.binary_cross_entropy_with_logits(fake, torch.ones(3))
    assert torch.allclose(get_objective("nonsaturating").g_loss(fake), ns)


# ---------------------------------------------------------------------------
# Stability at logits of +-100
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", OBJECTIVES)
def test_stable_at_extreme_logits(name):
    obj = get_objective(name)
    for sign in (1.0, -1.0):
        real = torch.tensor([[100.0 * sign], [-100.0 * sign]], requires_grad=True)
        fake = torch.tensor([[-100.0 * sign], [100.0 * sign]], requires_grad=True)
        d, g = obj.d_loss(real, fake), obj.g_loss(fake)
        assert torch.isfinite(d) and torch.isfinite(g)
        gr, gf = torch.autograd.grad(d, (real, fake))
        (gg,) = torch.autograd.grad(g, fake)
        for grad in (gr, gf, gg):
            assert torch.isfinite(grad).all()


def test_extreme_values_are_exact():
    big = torch.full((3, 1), 100.0)
    # D completely wrong: -log D(x_real) = 100 and -log(1 - D(G(z))) = 100
    assert get_objective("minimax").d_loss(-big, big).item() == pytest.approx(200.0)
    assert get_objective("minimax").d_loss(big, -big).item() == pytest.approx(0.0, abs=1e-30)
    assert get_objective("nonsaturating").g_loss(-big).item() == pytest.approx(100.0)
    assert get_objective("minimax").g_loss(big).item() == pytest.approx(-100.0)


# ---------------------------------------------------------------------------
# Saturation: minimax G loss vs non-saturating
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("logit", [-5.0, -10.0, -20.0, -100.0])
def test_minimax_saturates_nonsaturating_does_not(logit):
    n = 4
    fake = torch.full((n, 1), logit, requires_grad=True)  # D(G(z)) = sigmoid(logit) -> 0
    (g_mm,) = torch.autograd.grad(get_objective("minimax").g_loss(fake), fake)
    (g_ns,) = torch.autograd.grad(get_objective("nonsaturating").g_loss(fake), fake)
    d_fake = 1.0 / (1.0 + math.exp(-logit))
    # d/dl E[log(1 - sigmoid(l))] = -sigmoid(l) / n  -> 0
    assert torch.allclose(g_mm, torch.full_like(fake, -d_fake / n), rtol=1e-4, atol=0.0)
    assert g_mm.abs().max().item() < 2e-3
    # d/dl E[-log sigmoid(l)] = -(1 - sigmoid(l)) / n -> -1/n
    assert torch.allclose(g_ns, torch.full_like(fake, -(1.0 - d_fake) / n), rtol=1e-4)
    assert g_ns.abs().min().item() > 0.99 / n


def test_saturation_reaches_the_generator():
    """Chapter 1: a confident police officer stops teaching the minimax counterfeiter."""
    z = torch.randn(64, 1, generator=torch.Generator().manual_seed(0))
    grads = {}
    for name in ("minimax", "nonsaturating"):
        G, D = AffineGenerator(mu=-3.0, sigma=0.1), LogisticDiscriminator(w=5.0, b=0.0)
        get_objective(name).g_loss(D(G(z))).backward()  # D(G(z)) ~ sigmoid(-15)
        grads[name] = G.mu.grad.item()
    assert abs(grads["minimax"]) < 1e-4
    assert grads["nonsaturating"] == pytest.approx(-5.0, rel=1e-3)  # -w: move mu right


# ---------------------------------------------------------------------------
# Gradient penalty (WGAN-GP)
# ---------------------------------------------------------------------------

def _linear_D(in_shape, norm, seed=0):
    """D(x) = w . flatten(x) + b with ||w|| = norm: its input gradient is w everywhere."""
    d = int(np.prod(in_shape))
    lin = nn.Linear(d, 1)
    with torch.no_grad():
        w = torch.randn(1, d, generator=torch.Generator().manual_seed(seed))
        lin.weight.copy_(norm * w / w.norm())
    return nn.Sequential(nn.Flatten(), lin) if len(in_shape) > 1 else lin


@pytest.mark.parametrize("in_shape", [(2,), (1, 28, 28)])
def test_gradient_penalty_zero_for_unit_gradient(in_shape):
    D = _linear_D(in_shape, norm=1.0)
    x_real, x_fake = torch.randn(16, *in_shape), torch.rand(16, *in_shape)
    gp = gradient_penalty(D, x_real, x_fake, generator=torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("in_shape", [(2,), (1, 28, 28)])
def test_gradient_penalty_value_and_gradient(in_shape):
    D = _linear_D(in_shape, norm=2.0)
    lin = D if isinstance(D, nn.Linear) else D[1]
    gp = gradient_penalty(D, torch.randn(8, *in_shape), torch.randn(8, *in_shape))
    assert gp.item() == pytest.approx(1.0, rel=1e-5)  # (||w|| - 1)^2 = 1
    gp.backward()  # create_graph=True: the penalty trains D
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = w at ||w|| = 2
    assert torch.allclose(lin.weight.grad, lin.weight.detach(), atol=1e-5)


def test_gradient_penalty_trains_D_not_G():
    torch.manual_seed(0)
    G, D = MLPGenerator(depth=1, width=16), MLPDiscriminator(depth=2, width=16)
    x_fake = G(torch.randn(32, 2))
    gp = gradient_penalty(D, torch.randn(32, 2), x_fake)
    assert gp.requires_grad
    gp.backward()
    # every weight matrix gets a gradient (the output bias cannot: it does not move nabla_x D)
    d_grads = [m.weight.grad for m in D if isinstance(m, nn.Linear)]
    assert all(g is not None and g.abs().sum().item() > 0.0 for g in d_grads)
    assert all(p.grad is None for p in G.parameters())


def test_gradient_penalty_interpolates_and_determinism():
    seen = []

    class Recorder(nn.Module):  # D(x) = sum(x^2), records the points it is asked about
        def forward(self, x):
            seen.append(x.detach().clone())
            return x.pow(2).sum(dim=1, keepdim=True)

    x_real, x_fake = torch.randn(50, 2), torch.randn(50, 2)
    a = gradient_penalty(Recorder(), x_real, x_fake, generator=torch.Generator().manual_seed(3))
    b = gradient_penalty(Recorder(), x_real, x_fake, generator=torch.Generator().manual_seed(3))
    assert a.item() == b.item()
    x_hat = seen[0]
    eps = (x_hat - x_fake)[:, :1] / (x_real - x_fake)[:, :1]  # one eps per sample
    assert torch.allclose(x_hat, eps * x_real + (1 - eps) * x_fake, atol=1e-5)
    assert eps.min().item() >= -1e-5 and eps.max().item() <= 1 + 1e-5
    assert eps.std().item() > 0.1  # really random, not one eps for the batch


# ---------------------------------------------------------------------------
# R1 / R2
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("in_shape", [(2,), (1, 28, 28)])
@pytest.mark.parametrize("penalty", [r1_penalty, r2_penalty])
def test_r1_r2_on_linear_D_is_squared_weight_norm(in_shape, penalty):
    D = _linear_D(in_shape, norm=3.0)
    lin = D if isinstance(D, nn.Linear) else D[1]
    value = penalty(D, torch.randn(10, *in_shape))
    assert value.item() == pytest.approx(9.0, rel=1e-5)  # ||w||^2
    value.backward()
    assert torch.allclose(lin.weight.grad, 2 * lin.weight.detach(), atol=1e-4)  # trains D


def test_r1_chapter_one_and_quadratic_D():
    assert r1_penalty(LogisticDiscriminator(w=-3.0, b=1.0), torch.randn(7, 1)).item() == pytest.approx(9.0)

    class Quadratic(nn.Module):  # D_logit(x) = ||x||^2, gradient 2x
        def forward(self, x):
            return x.pow(2).flatten(1).sum(dim=1, keepdim=True)

    x = torch.randn(20, 3, 4)
    expected = (4.0 * x.pow(2).flatten(1).sum(dim=1)).mean()
    assert r1_penalty(Quadratic(), x).item() == pytest.approx(expected.item(), rel=1e-5)


def test_r2_does_not_reach_G():
    G, D = MLPGenerator(depth=1, width=8), MLPDiscriminator(depth=1, width=8)
    r2_penalty(D, G(torch.randn(16, 2))).backward()
    assert all(p.grad is None for p in G.parameters())


# ---------------------------------------------------------------------------
# Weight clipping and instance noise
# ---------------------------------------------------------------------------

def test_clip_weights_clips_in_place():
    torch.manual_seed(0)
    D = MLPDiscriminator(depth=2, width=16)
    with torch.no_grad():
        for p in D.parameters():
            p.mul_(5.0)
    before = [p.detach().clone() for p in D.parameters()]
    assert clip_weights_(D, 0.01) is D
    for p, old in zip(D.parameters(), before):
        assert p.abs().max().item() <= 0.01
        assert torch.equal(p, old.clamp(-0.01, 0.01))  # small entries untouched
    assert any((old.abs() < 0.01).any() for old in before)


def test_instance_noise_std_and_determinism():
    x = torch.zeros(200_000, 2)
    noisy = instance_noise(x, 0.5, seed=0)
    assert noisy.std().item() == pytest.approx(0.5, rel=0.01)
    assert abs(noisy.mean().item()) < 0.005
    assert torch.equal(x, torch.zeros(200_000, 2))  # not in place
    assert torch.equal(noisy, instance_noise(x, 0.5, generator=torch.Generator().manual_seed(0)))
    assert not torch.equal(noisy, instance_noise(x, 0.5, seed=1))
    assert instance_noise(x, 0.0) is x


def test_instance_noise_images_and_gradient():
    x = torch.rand(8, 1, 28, 28, requires_grad=True)
    y = instance_noise(x, 0.1, seed=0)
    assert y.shape == x.shape
    y.sum().backward()  # G still learns through noisy fakes
    assert torch.equal(x.grad, torch.ones_like(x))


# ---------------------------------------------------------------------------
# Bad inputs: each raises at once, naming the parameter
# ---------------------------------------------------------------------------

_D = nn.Linear(2, 1)
_X = torch.zeros(4, 2)
_L = torch.zeros(4, 1)

BAD_INPUTS = [
    (lambda: get_objective("gan"), ValueError, "name"),
    (lambda: get_objective("Minimax"), ValueError, "name"),
    (lambda: get_objective(None), ValueError, "name"),
    (lambda: get_objective("minimax").d_loss(torch.zeros(4, 2), _L), ValueError, "real_logits"),
    (lambda: get_objective("hinge").d_loss(_L, torch.zeros(4, 1, 1)), ValueError, "fake_logits"),
    (lambda: get_objective("wasserstein").d_loss(torch.tensor(0.0), _L), ValueError, "real_logits"),
    (lambda: get_objective("least_squares").d_loss(torch.zeros(0, 1), _L), ValueError, "real_logits"),
    (lambda: get_objective("nonsaturating").g_loss([0.0, 1.0]), TypeError, "fake_logits"),
    (lambda: get_objective("minimax").g_loss(torch.zeros(4, 1, dtype=torch.long)), TypeError, "fake_logits"),
    (lambda: get_objective("hinge").g_loss(torch.zeros(1, 4)), ValueError, "fake_logits"),
    (lambda: gradient_penalty("D", _X, _X), TypeError, "D"),
    (lambda: gradient_penalty(_D, np.zeros((4, 2)), _X), TypeError, "x_real"),
    (lambda: gradient_penalty(_D, _X, torch.zeros(5, 2)), ValueError, "x_fake"),
    (lambda: gradient_penalty(_D, _X, _X, generator=0), TypeError, "generator"),
    (lambda: r1_penalty(_D, np.zeros((4, 2))), TypeError, "x_real"),
    (lambda: r1_penalty(nn.Linear(2, 2), _X), ValueError, "D(x)"),
    (lambda: r2_penalty(_D, torch.zeros(4, 2, dtype=torch.long)), TypeError, "x_fake"),
    (lambda: r2_penalty(_D, torch.zeros(0, 2)), ValueError, "x_fake"),
    (lambda: clip_weights_(_D, 0.0), ValueError, "c"),
    (lambda: clip_weights_(_D, -0.01), ValueError, "c"),
    (lambda: clip_weights_(_D, "0.01"), TypeError, "c"),
    (lambda: clip_weights_(lambda x: x, 0.01), TypeError, "D"),
    (lambda: instance_noise(_X, -0.1), ValueError, "sigma"),
    (lambda: instance_noise(_X, float("nan")), ValueError, "sigma"),
    (lambda: instance_noise(np.zeros(3), 0.1), TypeError, "x"),
    (lambda: instance_noise(_X, 0.1, seed=-3), ValueError, "seed"),
]


@pytest.mark.parametrize("call, exc, param", BAD_INPUTS)
def test_bad_inputs_raise_naming_the_parameter(call, exc, param):
    with pytest.raises(exc) as info:
        call()
    assert re.match(rf"{re.escape(param)} must", str(info.value)), str(info.value)


def test_unknown_objective_lists_the_names():
    with pytest.raises(ValueError) as info:
        get_objective("vanilla")
    for name in OBJECTIVES:
        assert repr(name) in str(info.value)
