"""Chapter 7, stabilising GANs: a critic trained alone, and the self-checks of the exercises.

:func:`train_critic` reproduces, in 2-D, the experiment behind Figure 1 of
Gulrajani et al. (2017): train a Wasserstein critic against FIXED fakes, once
with weight clipping and once with the gradient penalty, and look at its
gradient norms ||nabla_x D(x_hat)|| between the real and the fake points. A
1-Lipschitz critic that is optimal has norm 1 there; clipping gets nowhere near
it (the weights pile up at +-c and D is far flatter than allowed), the penalty
gets it right.

Self-checks (call them on your own implementation, as in the chapter):

* :func:`check_gradient_penalty`: your E[(||grad D(x_hat)|| - 1)^2];
* :func:`check_ema_update`: your in-place G_ema <- beta G_ema + (1 - beta) G;
* :func:`check_pack`: your PacGAN packing of a batch.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import losses
from ._checks import _describe, check_choice, check_float, check_int, check_seed
from .loop import _check_callable, _report, _wrong_value

__all__ = ["train_critic", "lipschitz_bound_clipped", "check_gradient_penalty", "check_ema_update", "check_pack"]


# --------------------------------------------------------------------------- #
# A Wasserstein critic against fixed fakes
# --------------------------------------------------------------------------- #
def train_critic(x_real, x_fake, constraint: str = "gp", *, steps: int = 500, clip: float = 0.01,
                 lam: float = 10.0, lr: float = 1e-4, seed: int = 0, depth: int = 3, width: int = 128) -> dict:
    """Train a Wasserstein critic D on fixed samples; return what the constraint did to it.

    D maximises E[D(x_real)] - E[D(x_fake)] (it minimises the negative), with
    ``constraint="clip"``: every weight clamped to [-clip, clip] after each step
    (WGAN, RMSprop lr as given), or ``constraint="gp"``: lam * E[(||grad D(x_hat)|| - 1)^2]
    added to the loss (WGAN-GP, Adam (0, 0.9)). Full-batch steps on the given samples.

    Returns ``{"grad_norms"}`` (||nabla_x D|| at 1000 fixed points x_hat between
    random real/fake pairs), ``"weights"`` (every weight of D, flattened),
    ``"estimate"`` (E[D(x_real)] - E[D(x_fake)] at the end: the critic's estimate
    of the Wasserstein-1 distance, a true lower bound only if D is 1-Lipschitz).
    """
    from .models import MLPDiscriminator

    x_real = _samples("x_real", x_real)
    x_fake = _samples("x_fake", x_fake, dim=x_real.shape[1])
    constraint = check_choice("constraint", constraint, ("clip", "gp"))
    steps = check_int("steps", steps, minimum=1)
    clip = check_float("clip", clip, minimum=0.0, strict_min=True)
    lam = check_float("lam", lam, minimum=0.0)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    seed = check_seed("seed", seed)
    gen = torch.Generator().manual_seed(seed or 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed or 0)
        D = MLPDiscriminator(in_dim=x_real.shape[1], depth=depth, width=width)
    if constraint == "clip":
        opt = torch.optim.RMSprop(D.parameters(), lr=lr)
    else:
        opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.0, 0.9))
    wasserstein = losses.get_objective("wasserstein")
    for _ in range(steps):
        loss = wasserstein.d_loss(D(x_real), D(x_fake))
        if constraint == "gp":
            loss = loss + lam * losses.gradient_penalty(D, x_real, x_fake, generator=gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if constraint == "clip":
            losses.clip_weights_(D, clip)
    return _critic_summary(D, x_real, x_fake)


def _critic_summary(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> dict:
    gen = torch.Generator().manual_seed(1234)
    i = torch.randint(len(x_real), (1000,), generator=gen)
    j = torch.randint(len(x_fake), (1000,), generator=gen)
    eps = torch.rand(1000, 1, generator=gen)
    x_hat = (eps * x_real[i] + (1 - eps) * x_fake[j]).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat)
    with torch.no_grad():
        estimate = (D(x_real).mean() - D(x_fake).mean()).item()
        weights = torch.cat([p.flatten() for name, p in D.named_parameters() if name.endswith("weight")])
    return {"grad_norms": grad.norm(dim=1).numpy(), "weights": weights.numpy(), "estimate": estimate}


def _samples(name: str, x, dim: int | None = None) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or len(x) < 2 or not x.is_floating_point():
        raise TypeError(f"{name} must be a float array or tensor of shape (n, d) with n >= 2, got {_describe(x)}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} columns like x_real, got shape {tuple(x.shape)}")
    return x.float()


# --------------------------------------------------------------------------- #
# Self-checks
# --------------------------------------------------------------------------- #
def _check_D() -> nn.Module:
    """A small, fixed D whose gradient norms are far from 1 (so mistakes show)."""
    torch.manual_seed(7)
    D = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    with torch.no_grad():
        D[0].weight.mul_(3.0)
    return D


def _gp_reference(D, x_real, x_fake, eps, *, one_sided=False, squared_norm=False, no_root=False):
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (g,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    norm = g.pow(2).sum(dim=1) if squared_norm else g.norm(dim=1)
    gap = (norm - 1).clamp(min=0) if one_sided else norm - 1
    return gap.mean() if no_root else gap.pow(2).mean()


def check_gradient_penalty(gradient_penalty: Callable) -> bool:
    """Self-check: is ``gradient_penalty(D, x_real, x_fake, eps)`` WGAN-GP's penalty?

    Expected: x_hat = eps * x_real + (1 - eps) * x_fake (eps of shape (n, 1), given),
    then E[(||nabla_x D(x_hat)||_2 - 1)^2], differentiable in D's weights
    (``create_graph=True``), so that adding it to D's loss trains D.
    """
    _check_callable("gradient_penalty", gradient_penalty)
    D = _check_D()
    gen = torch.Generator().manual_seed(3)
    x_real, x_fake = torch.randn(64, 2, generator=gen), torch.randn(64, 2, generator=gen) + 2.0
    eps = torch.rand(64, 1, generator=gen)
    right = _gp_reference(D, x_real, x_fake, eps)
    try:
        got = gradient_penalty(D, x_real, x_fake, eps)
    except Exception as error:
        return _report(False, f"gradient_penalty raised {type(error).__name__}: {error}. It is called as "
                              "gradient_penalty(D, x_real, x_fake, eps) with x of shape (64, 2), eps (64, 1).")
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        return _report(False, f"gradient_penalty must return one number as a tensor, got {_describe(got)}")
    got = got.reshape(())
    mistakes = [
        (_gp_reference(D, x_real, x_fake, eps, one_sided=True),
         "that is the one-sided penalty max(0, ||g|| - 1)^2; WGAN-GP pulls the norm towards 1 from both sides."),
        (_gp_reference(D, x_real, x_fake, eps, squared_norm=True),
         "you used the squared norm ||g||^2; the penalty is on the norm itself: (||g||_2 - 1)^2."),
        (_gp_reference(D, x_real, x_fake, eps, no_root=True),
         "you took the mean of (||g|| - 1) without squaring it."),
        (_gp_reference(D, x_real, x_fake, 1 - eps),
         "you swapped the roles of eps and 1 - eps: x_hat = eps * x_real + (1 - eps) * x_fake."),
        (_gp_reference(D, x_real, x_fake, torch.ones_like(eps)),
         "that is the penalty at the real points only: evaluate D between the two, at x_hat."),
    ]
    if not torch.allclose(got.detach(), right.detach(), rtol=1e-4, atol=1e-6):
        return _wrong_value("penalty", got, right, mistakes, "x_hat needs requires_grad_(True), then "
                            "torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True), the norm of each "
                            "row, and the mean of (norm - 1)^2.", atol=1e-6, rtol=1e-4)
    if not got.requires_grad:
        return _report(False, "the value is right, but it does not depend on D's weights: compute the gradient "
                              "with create_graph=True so that the penalty can train D.")
    params = list(D.parameters())  # the last bias does not change grad_x D: its gradient is None (zero)
    grads = torch.autograd.grad(got, params, allow_unused=True)
    expected = torch.autograd.grad(right, params, allow_unused=True)
    zero = [torch.zeros_like(p) for p in params]
    grads, expected = ([z if g is None else g for g, z in zip(gs, zero)] for gs in (grads, expected))
    if not all(torch.allclose(g, e, rtol=1e-4, atol=1e-6) for g, e in zip(grads, expected)):
        return _report(False, "the value is right but its gradient in D's weights is not: keep the whole "
                              "computation in torch, with create_graph=True.")
    return _report(True, f"right: penalty = {got.item():.4f}, and its gradient trains D.")


def check_ema_update(ema_update: Callable) -> bool:
    """Self-check: does ``ema_update(G_ema, G, beta)`` do G_ema <- beta G_ema + (1 - beta) G in place?"""
    _check_callable("ema_update", ema_update)
    torch.manual_seed(0)
    G, G_ema = nn.Linear(3, 2), nn.Linear(3, 2)
    start = [p.detach().clone() for p in G_ema.parameters()]
    live = [p.detach().clone() for p in G.parameters()]
    beta = 0.9
    try:
        out = ema_update(G_ema, G, beta)
    except Exception as error:
        return _report(False, f"ema_update raised {type(error).__name__}: {error}. It is called as "
                              "ema_update(G_ema, G, beta) with two nn.Modules of the same shape.")
    if out is not None and out is not G_ema:
        return _report(False, "update G_ema in place (with torch.no_grad() and p_ema.mul_(...).add_(...) or "
                              "lerp_); a new module that you return is lost by the caller.")
    now = [p.detach() for p in G_ema.parameters()]
    if any(not torch.equal(p.detach(), q) for p, q in zip(G.parameters(), live)):
        return _report(False, "G changed: the average follows G, it must not move G itself.")
    right = [beta * s + (1 - beta) * g for s, g in zip(start, live)]
    if all(torch.allclose(n, r, atol=1e-6) for n, r in zip(now, right)):
        if any(p.requires_grad and p.grad_fn is not None for p in G_ema.parameters()):
            return _report(False, "the values are right, but G_ema's weights now carry a graph: update them "
                                  "under torch.no_grad().")
        return _report(True, "right: G_ema <- beta * G_ema + (1 - beta) * G, in place.")
    swapped = [(1 - beta) * s + beta * g for s, g in zip(start, live)]
    if all(torch.allclose(n, r, atol=1e-6) for n, r in zip(now, swapped)):
        return _report(False, "beta and 1 - beta are swapped: the OLD average keeps the weight beta (0.999), "
                              "the current G gets 1 - beta, so the average moves slowly.")
    if all(torch.allclose(n, g) for n, g in zip(now, live)):
        return _report(False, "G_ema is now a copy of G: that is beta = 0, no averaging at all.")
    if all(torch.equal(n, s) for n, s in zip(now, start)):
        return _report(False, "G_ema did not change: update its parameters in place (p_ema.mul_(beta)"
                              ".add_((1 - beta) * p)), not a copy of them.")
    return _report(False, "G_ema is not beta * G_ema + (1 - beta) * G. Hint: for each pair of parameters, "
                          "p_ema.mul_(beta).add_(p, alpha=1 - beta) under torch.no_grad().")


def check_pack(pack: Callable) -> bool:
    """Self-check: does ``pack(x, m)`` turn a batch (n, d) into packs (n // m, m * d), rows in order?"""
    _check_callable("pack", pack)
    x = torch.arange(24.0).reshape(12, 2)
    right = x.reshape(3, 8)
    try:
        got = pack(x, 4)
    except Exception as error:
        return _report(False, f"pack raised {type(error).__name__}: {error}. It is called as pack(x, m) with x "
                              "of shape (12, 2) and m = 4.")
    if not isinstance(got, torch.Tensor):
        return _report(False, f"pack must return a tensor, got {_describe(got)}")
    if tuple(got.shape) != (3, 8):
        if tuple(got.shape) == (4, 6):
            return _report(False, "you made 4 packs of 3 samples: pack m = 4 samples together, giving n // m "
                                  "rows of m * d numbers.")
        return _report(False, f"the packs have shape {tuple(got.shape)}, expected (3, 8): n // m rows of m * d.")
    if torch.equal(got, right):
        return _report(True, "right: pack j holds samples m*j ... m*j + m - 1, side by side.")
    if torch.equal(got, x.T.reshape(2, 4, 3).permute(2, 1, 0).reshape(3, 8)) or \
            torch.equal(got, x.reshape(4, 3, 2).transpose(0, 1).reshape(3, 8)):
        return _report(False, "the shape is right but each pack mixes samples from across the batch: keep "
                              "consecutive rows together (x.reshape(n // m, m * d)), so that a pack never mixes "
                              "real and fake samples of a stacked [x_real; x_fake].")
    return _report(False, "the shape is right but not the order. Hint: x.reshape(len(x) // m, m * x.shape[1]).")


def lipschitz_bound_clipped(widths: list[int], c: float) -> float:
    """An upper bound on the Lipschitz constant of a ReLU MLP whose weights are in [-c, c].

    Each layer W (n_out x n_in) has spectral norm <= ||W||_F <= c * sqrt(n_in * n_out),
    ReLU is 1-Lipschitz, so the network is at most prod_l c * sqrt(n_in * n_out)
    Lipschitz. ``widths`` are the layer sizes, input first, e.g. [2, 128, 128, 128, 1].
    """
    if not isinstance(widths, (list, tuple)) or len(widths) < 2:
        raise TypeError(f"widths must be a list of at least 2 layer sizes, got {_describe(widths)}")
    widths = [check_int(f"widths[{i}]", w, minimum=1) for i, w in enumerate(widths)]
    c = check_float("c", c, minimum=0.0, strict_min=True)
    return math.prod(c * math.sqrt(a * b) for a, b in zip(widths, widths[1:]))
