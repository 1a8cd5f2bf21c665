"""Objectives and penalties of GAN training, all computed from D's logits.

Notation: ``l = D_logit(x)`` is what a discriminator of :mod:`ganlab.models` returns and
``D(x) = sigmoid(l)``. ``E`` is the mean over the batch. Real samples ``x ~ p_data``,
fake samples ``G(z)`` with ``z ~ p_z``.

Why logits: the log-loss objectives need ``log D`` and ``log(1 - D)``. Written as
``log(sigmoid(l))`` they round to ``log(0) = -inf`` once ``|l| > ~17`` in float32. The
identities

    log D(x)     = log sigmoid(l)  = -softplus(-l)
    log(1 - D(x)) = log sigmoid(-l) = -softplus(l)

with ``softplus(t) = log(1 + e^t)`` computed stably by torch, give finite values and
gradients for any finite logit (try +-100).

Each objective is an object with ``.name``, ``.d_loss(real_logits, fake_logits)`` and
``.g_loss(fake_logits)``; both losses are *minimised* (D by its optimiser, G by its).
:func:`get_objective` builds one by name; :data:`OBJECTIVES` lists the names.

Penalties on D: :func:`gradient_penalty` (WGAN-GP), :func:`r1_penalty`, :func:`r2_penalty`,
:func:`clip_weights_` (the original WGAN); and :func:`instance_noise` on D's inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import _describe, check_choice, check_float
from .models import _draw, _resolve_generator

__all__ = [
    "OBJECTIVES",
    "Objective",
    "Minimax",
    "NonSaturating",
    "LeastSquares",
    "Hinge",
    "Wasserstein",
    "get_objective",
    "gradient_penalty",
    "r1_penalty",
    "r2_penalty",
    "clip_weights_",
    "instance_noise",
]


def _check_logits(name: str, logits) -> torch.Tensor:
    """Logits are a floating tensor of shape (n,) or (n, 1), n >= 1: one number per sample."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of logits, got {_describe(logits)}")
    if not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {logits.dtype}")
    shape = tuple(logits.shape)
    if not (len(shape) in (1, 2) and shape[0] >= 1 and shape[1:] in ((), (1,))):
        raise ValueError(f"{name} must have shape (n,) or (n, 1) with n >= 1, got shape {shape}")
    return logits


# ---------------------------------------------------------------------------
# Objectives
# ---------------------------------------------------------------------------

class Objective:
    """Base class: a GAN objective as two losses, both minimised."""

    name = ""

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Minimax(Objective):
    """The original game of Goodfellow et al. 2014: min_G max_D V(D, G),

        V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))].

    D loss (= -V, the binary cross-entropy with labels real 1, fake 0):
        E[softplus(-l_real)] + E[softplus(l_fake)]
    G loss (the *saturating* one, G minimises V's second term):
        E[log(1 - D(G(z)))] = -E[softplus(l_fake)]
    Its gradient with respect to l_fake is -sigmoid(l_fake)/n, which vanishes when D
    rejects the fakes confidently (D(G(z)) -> 0): early in training G learns nothing.
    """

    name = "minimax"

    def d_loss(self, real_logits, fake_logits):
        _check_logits("real_logits", real_logits)
        _check_logits("fake_logits", fake_logits)
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

    def g_loss(self, fake_logits):
        _check_logits("fake_logits", fake_logits)
        return -F.softplus(fake_logits).mean()


class NonSaturating(Minimax):
    """The non-saturating GAN (Goodfellow et al. 2014, section 3): D as in the minimax game
    (its ``d_loss`` is inherited from :class:`Minimax`), only G's loss changes,

        D loss: -E[log D(x)] - E[log(1 - D(G(z)))] = E[softplus(-l_real)] + E[softplus(l_fake)]
        G loss: -E[log D(G(z))]                    = E[softplus(-l_fake)]

    G maximises log D(G(z)) instead of minimising log(1 - D(G(z))): same fixed point,
    but the gradient -sigmoid(-l_fake)/n tends to -1/n (not 0) when D(G(z)) -> 0.
    """

    name = "nonsaturating"

    def g_loss(self, fake_logits):
        _check_logits("fake_logits", fake_logits)
        return F.softplus(-fake_logits).mean()


class LeastSquares(Objective):
    """Least-squares GAN (Mao et al. 2017) with labels a = 0 (fake), b = 1 (real), c = 1:

        D loss: 1/2 E[(l_real - 1)^2] + 1/2 E[l_fake^2]
        G loss: 1/2 E[(l_fake - 1)^2]

    applied to D's RAW output l (the "logit"), as in the paper, whose D has a linear
    last layer: squashing it through a sigmoid first would bring back the vanishing
    gradients that least squares is meant to avoid. (With this objective
    sigmoid(l) is no longer a probability; D(x) = l is a score aiming at 1 for real
    and 0 for fake.)
    """

    name = "least_squares"

    def d_loss(self, real_logits, fake_logits):
        _check_logits("real_logits", real_logits)
        _check_logits("fake_logits", fake_logits)
        return 0.5 * (real_logits - 1.0).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()

    def g_loss(self, fake_logits):
        _check_logits("fake_logits", fake_logits)
        return 0.5 * (fake_logits - 1.0).pow(2).mean()


class Hinge(Objective):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018, SN-GAN):

        D loss: E[relu(1 - l_real)] + E[relu(1 + l_fake)]
        G loss: -E[l_fake]

    D stops pushing a sample once it is classified with margin 1.
    """

    name = "hinge"

    def d_loss(self, real_logits, fake_logits):
        _check_logits("real_logits", real_logits)
        _check_logits("fake_logits", fake_logits)
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def g_loss(self, fake_logits):
        _check_logits("fake_logits", fake_logits)
        return -fake_logits.mean()


class Wasserstein(Objective):
    """Wasserstein GAN (Arjovsky et al. 2017): D is a critic f with real-valued output l,

        D loss: E[l_fake] - E[l_real]     (the critic maximises E[f(x)] - E[f(G(z))])
        G loss: -E[l_fake]

    -D loss estimates the Wasserstein-1 distance only if f is 1-Lipschitz: pair this
    objective with clip_weights_, gradient_penalty or spectral normalisation.
    """

    name = "wasserstein"

    def d_loss(self, real_logits, fake_logits):
        _check_logits("real_logits", real_logits)
        _check_logits("fake_logits", fake_logits)
        return fake_logits.mean() - real_logits.mean()

    def g_loss(self, fake_logits):
        _check_logits("fake_logits", fake_logits)
        return -fake_logits.mean()


_OBJECTIVES = {cls.name: cls for cls in (Minimax, NonSaturating, LeastSquares, Hinge, Wasserstein)}
OBJECTIVES = tuple(_OBJECTIVES)


def get_objective(name) -> Objective:
    """The objective called ``name`` (one of :data:`OBJECTIVES`); an Objective is returned as is."""
    if isinstance(name, Objective):
        return name
    name = check_choice("name", name, OBJECTIVES)
    return _OBJECTIVES[name]()


# ---------------------------------------------------------------------------
# Penalties and regularisers on D
# ---------------------------------------------------------------------------

def _check_D(D) -> None:
    if not callable(D):
        raise TypeError(f"D must be a callable discriminator (an nn.Module), got {_describe(D)}")


def _check_samples(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(x)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() < 1 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, ...) with n >= 1, got shape {tuple(x.shape)}")
    return x


def _grad_of_D(D, x: torch.Tensor) -> torch.Tensor:
    """nabla_x D_logit(x) for each sample, kept in the graph (create_graph=True).

    Summing the logits before differentiating gives each sample's own gradient because
    sample i's logit depends only on x_i (true for D without batch statistics).
    create_graph=True makes the penalty itself differentiable in D's weights, so that
    adding it to D's loss trains D.
    """
    x = x.detach().requires_grad_(True)
    logits = _check_logits("D(x)", D(x))
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True, allow_unused=True)
    if grad is None:  # D ignores its input: the gradient is zero
        grad = torch.zeros_like(x)
    return grad.reshape(x.shape[0], -1)  # one row per sample, all non-batch dims flattened


def gradient_penalty(D, x_real, x_fake, *, generator=None) -> torch.Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017): E[(||nabla_x D(x_hat)||_2 - 1)^2].

    x_hat = eps * x_real + (1 - eps) * x_fake with eps ~ U[0, 1], one eps per sample:
    points on the segments between real and fake samples. Two-sided, as in the paper
    (the norm is pulled towards 1 from both sides). The norm is over all non-batch
    dimensions (2-D points and images alike). The caller multiplies by lambda
    (10 in the paper) and adds it to D's loss; it trains D (create_graph=True), and
    x_real, x_fake are detached (the penalty does not train G).
    """
    _check_D(D)
    _check_samples("x_real", x_real)
    _check_samples("x_fake", x_fake)
    if x_fake.shape != x_real.shape:
        raise ValueError(
            f"x_fake must have the same shape as x_real, got {tuple(x_fake.shape)} and {tuple(x_real.shape)}"
        )
    gen = _resolve_generator(None, generator)
    eps_shape = (x_real.shape[0],) + (1,) * (x_real.dim() - 1)  # broadcast over the sample
    eps = torch.rand(eps_shape, generator=gen, device=gen.device if gen is not None else "cpu",
                     dtype=x_real.dtype).to(x_real.device)
    x_hat = eps * x_real.detach() + (1.0 - eps) * x_fake.detach()
    grad_norm = _grad_of_D(D, x_hat).norm(2, dim=1)
    return (grad_norm - 1.0).pow(2).mean()


def r1_penalty(D, x_real) -> torch.Tensor:
    """R1 (Mescheder, Geiger, Nowozin 2018): E_{x ~ p_data}[ ||nabla_x D_logit(x)||^2 ].

    Returned UN-scaled. Convention of this package: the trainer adds (gamma / 2) * R1 to
    D's loss, as in the paper's equation (the Dirac-GAN analysis: critically damped at
    gamma = 1). The paper's code adds gamma * R1 (no 1/2): to reproduce one of its runs
    with gamma_code, use gamma = 2 * gamma_code here.
    Squared norm over all non-batch dimensions; differentiable in D's weights.
    """
    _check_D(D)
    _check_samples("x_real", x_real)
    return _grad_of_D(D, x_real).pow(2).sum(dim=1).mean()


def r2_penalty(D, x_fake) -> torch.Tensor:
    """R2: the same as :func:`r1_penalty` on fake samples, E_{x ~ p_g}[ ||nabla_x D_logit(x)||^2 ].

    Un-scaled; the trainer applies gamma / 2. x_fake is detached (R2 trains D only).
    """
    _check_D(D)
    _check_samples("x_fake", x_fake)
    return _grad_of_D(D, x_fake).pow(2).sum(dim=1).mean()


@torch.no_grad()
def clip_weights_(D, c) -> nn.Module:
    """Clamp every parameter of D to [-c, c], in place (the original WGAN's Lipschitz fix,
    c = 0.01 in Arjovsky et al. 2017). Call it after each D step. Returns D.
    """
    if not isinstance(D, nn.Module):
        raise TypeError(f"D must be a torch.nn.Module, got {_describe(D)}")
    c = check_float("c", c, minimum=0.0, strict_min=True)
    for p in D.parameters():
        p.clamp_(-c, c)
    return D


def instance_noise(x, sigma, *, generator=None, seed=None) -> torch.Tensor:
    """x + sigma * N(0, I): instance noise (Sonderby et al. 2017), blurs p_data and p_g alike.

    Add it to both real and fake samples before D sees them. Returns a new tensor; the
    gradient flows through to x (so G still learns through noisy fakes). sigma = 0
    returns x unchanged. Mescheder et al. 2018: it acts like R1 with gamma ~ sigma^2 / 2.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {_describe(x)}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    sigma = check_float("sigma", sigma, minimum=0.0)
    gen = _resolve_generator(seed, generator)
    if sigma == 0.0:
        return x
    return x + sigma * _draw("gaussian", tuple(x.shape), gen, x.device, x.dtype)
