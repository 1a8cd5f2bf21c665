"""ganlab.stabilise: the critic alone (clipping vs gradient penalty) and chapter 7's self-checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.data import ring
from ganlab.stabilise import (check_ema_update, check_gradient_penalty, check_pack, lipschitz_bound_clipped,
                              train_critic)


@pytest.fixture(scope="module")
def samples():
    return ring().sample(256, seed=0), 0.3 * torch.randn(256, 2, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def critics(samples):
    x_real, x_fake = samples
    return {"clip": train_critic(x_real, x_fake, "clip", steps=300, lr=5e-5),
            "gp": train_critic(x_real, x_fake, "gp", steps=300)}


def test_gradient_penalty_makes_the_critic_1_lipschitz_where_it_matters(critics):
    norms = critics["gp"]["grad_norms"]
    assert norms.shape == (1000,) and abs(np.median(norms) - 1.0) < 0.15


def test_weight_clipping_flattens_the_critic_and_piles_weights_at_the_bound(critics):
    clip = critics["clip"]
    assert np.abs(clip["weights"]).max() <= 0.01 + 1e-7
    assert (np.abs(clip["weights"]) > 0.0099).mean() > 0.5  # most weights sit at +-c
    assert clip["grad_norms"].max() < 0.05  # far below the allowed slope of 1
    assert clip["estimate"] < 0.1 * critics["gp"]["estimate"]


def test_lipschitz_bound_of_a_clipped_mlp():
    assert lipschitz_bound_clipped([2, 1], 0.5) == pytest.approx(0.5 * math.sqrt(2))
    bound = lipschitz_bound_clipped([2, 128, 128, 128, 1], 0.01)
    assert bound == pytest.approx(0.01 ** 4 * math.sqrt(2 * 128) * 128 * 128 * math.sqrt(128))
    torch.manual_seed(0)  # a clipped network really is below the bound
    D = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in D.parameters():
            p.copy_(torch.sign(torch.randn_like(p)) * 0.5)
    x = torch.randn(2000, 2, requires_grad=True)
    (g,) = torch.autograd.grad(D(x).sum(), x)
    assert g.norm(dim=1).max().item() <= lipschitz_bound_clipped([2, 8, 1], 0.5) + 1e-6


@pytest.mark.parametrize("call, exc, match", [
    (lambda s: train_critic(s[0], s[1], "spectral"), ValueError, "constraint must be one of"),
    (lambda s: train_critic(s[0][:, :1], s[1]), ValueError, "x_fake must have 1 columns"),
    (lambda s: train_critic("x", s[1]), TypeError, "x_real must be"),
    (lambda s: train_critic(s[0], s[1], steps=0), ValueError, "steps must"),
    (lambda s: train_critic(s[0], s[1], clip=-1.0), ValueError, "clip must"),
    (lambda s: lipschitz_bound_clipped([2], 0.1), TypeError, "widths must"),
    (lambda s: lipschitz_bound_clipped([2, 3], 0.0), ValueError, "c must"),
])
def test_bad_input(samples, call, exc, match):
    with pytest.raises(exc, match=match):
        call(samples)


# --------------------------------------------------------------------------- #
# Self-checks: the reference passes, typical mistakes fail with the right hint
# --------------------------------------------------------------------------- #
def _gp(D, x_real, x_fake, eps, *, one_sided=False, squared=False, detach=False, at_real=False):
    x_hat = x_real if at_real else eps * x_real + (1 - eps) * x_fake
    x_hat = x_hat.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=not detach)
    norm = g.pow(2).sum(dim=1) if squared else g.norm(dim=1)
    gap = (norm - 1).clamp(min=0) if one_sided else norm - 1
    return gap.pow(2).mean()


@pytest.mark.parametrize("answer, ok, hint", [
    (_gp, True, "right"),
    (lambda *a: _gp(*a, one_sided=True), False, "one-sided"),
    (lambda *a: _gp(*a, squared=True), False, "squared norm"),
    (lambda *a: _gp(*a, at_real=True), False, "real points only"),
    (lambda D, r, f, e: _gp(D, r, f, 1 - e), False, "swapped"),
    (lambda *a: _gp(*a, detach=True), False, "create_graph"),
    (lambda *a: torch.tensor(0.5), False, "expected"),
    (lambda *a: 1 / 0, False, "raised ZeroDivisionError"),
])
def test_check_gradient_penalty(answer, ok, hint, capsys):
    assert check_gradient_penalty(answer) is ok
    assert hint in capsys.readouterr().out.replace("\n  ", " ")


def _ema(G_ema, G, beta):
    with torch.no_grad():
        for e, p in zip(G_ema.parameters(), G.parameters()):
            e.mul_(beta).add_(p, alpha=1 - beta)


def _ema_swapped(G_ema, G, beta):
    _ema(G_ema, G, 1 - beta)


def _ema_copy(G_ema, G, beta):
    G_ema.load_state_dict(G.state_dict())


def _ema_new_module(G_ema, G, beta):
    import copy

    out = copy.deepcopy(G_ema)
    _ema(out, G, beta)
    return out


def _ema_moves_G(G_ema, G, beta):
    _ema(G_ema, G, beta)
    with torch.no_grad():
        for p in G.parameters():
            p.mul_(0.5)


@pytest.mark.parametrize("answer, ok, hint", [
    (_ema, True, "right"),
    (_ema_swapped, False, "swapped"),
    (_ema_copy, False, "copy of G"),
    (_ema_new_module, False, "in place"),
    (_ema_moves_G, False, "G changed"),
    (lambda G_ema, G, beta: None, False, "did not change"),
])
def test_check_ema_update(answer, ok, hint, capsys):
    assert check_ema_update(answer) is ok
    assert hint in capsys.readouterr().out.replace("\n  ", " ")


@pytest.mark.parametrize("answer, ok, hint", [
    (lambda x, m: x.reshape(len(x) // m, m * x.shape[1]), True, "right"),
    (lambda x, m: x.reshape(m, -1), False, "4 packs of 3"),
    (lambda x, m: x.reshape(m, len(x) // m, 2).transpose(0, 1).reshape(len(x) // m, -1), False, "mixes"),
    (lambda x, m: x.flip(0).reshape(3, 8), False, "order"),
    (lambda x, m: x.numpy(), False, "tensor"),
])
def test_check_pack(answer, ok, hint, capsys):
    assert check_pack(answer) is ok
    assert hint in capsys.readouterr().out.replace("\n  ", " ")


def test_self_checks_need_a_function():
    for check in (check_gradient_penalty, check_ema_update, check_pack):
        with pytest.raises(TypeError, match="must be a function"):
            check("not a function")
