"""Self-checks for the exercises of chapters 2 and 3.

Each function takes your answer, prints what is right or wrong with a hint (never
the solution), and returns True when the answer is right, False otherwise. Call
them in the chapter's notebook after writing your answer, e.g.::

    from ganlab.selfcheck import check_parameter_count
    check_parameter_count(my_count)

Chapter 2 (the generator and the discriminator): :func:`check_parameter_count`,
:func:`check_transposed_size`, :func:`check_small_generator`.
Chapter 3 (the minimax objective): :func:`check_logit_gradients`,
:func:`check_optimal_value`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from ._checks import _describe, check_choice

__all__ = [
    "check_parameter_count",
    "check_transposed_size",
    "check_small_generator",
    "check_logit_gradients",
    "check_optimal_value",
]

_OK = "✔ "
_NO = "✘ "


def _say(ok: bool, message: str) -> bool:
    print((_OK if ok else _NO) + message)
    return ok


def _number(name: str, value) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    return float(value)


# ---------------------------------------------------------------------------
# Chapter 2
# ---------------------------------------------------------------------------

def check_parameter_count(answer, preset="dense-512-1024", net="G") -> bool:
    """Is ``answer`` the number of parameters of the preset's ``net`` ("G" or "D")?

    Exercise "Count the parameters" of chapter 2: count by hand, with
    n_in * n_out weights and n_out biases per dense layer.
    """
    from .models import PRESETS, count_parameters, make_preset

    preset = check_choice("preset", preset, PRESETS)
    net = check_choice("net", net, ("G", "D"))
    answer = _number("answer", answer)
    module = make_preset(preset)[0 if net == "G" else 1]
    truth = count_parameters(module)
    biases = sum(p.numel() for name, p in module.named_parameters() if name.endswith("bias"))
    if answer == truth:
        return _say(True, f"right: {preset} {net} has {truth:,} parameters.")
    if answer == truth - biases:
        return _say(False, "you counted the weights only: every layer also has one bias per output unit.")
    if answer < truth:
        return _say(False, f"too few ({answer:,.0f}): did you count every dense layer, the last one included? "
                           "Each has n_in * n_out weights and n_out biases.")
    return _say(False, f"too many ({answer:,.0f}): activations, reshapes and Flatten have no parameters; "
                       "count only the dense (and convolution) layers.")


def check_transposed_size(out_size) -> bool:
    """Does ``out_size(n, k, s, p)`` give the output side of ``ConvTranspose2d``?

    Exercise "The size rule of transposed convolution" of chapter 2. The check runs
    torch's ``ConvTranspose2d`` on inputs of side n with kernel k, stride s and
    padding p, and compares.
    """
    if not callable(out_size):
        raise TypeError(f"out_size must be a function out_size(n, k, s, p), got {_describe(out_size)}")
    cases = [(2, 2, 2, 0), (7, 4, 2, 1), (14, 4, 2, 1), (3, 3, 1, 0), (3, 3, 1, 1), (4, 5, 3, 2), (1, 4, 2, 0)]
    for n, k, s, p in cases:
        layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, bias=False)
        with torch.no_grad():
            truth = layer(torch.zeros(1, 1, n, n)).shape[-1]
        try:
            got = out_size(n, k, s, p)
        except Exception as error:  # the student's code: report, do not crash
            return _say(False, f"out_size({n}, {k}, {s}, {p}) raised {type(error).__name__}: {error}")
        if got != truth:
            hint = ("the n stamps start s pixels apart, so the last one starts at (n - 1) * s and is k wide; "
                    "then padding crops p pixels from EACH side.")
            return _say(False, f"out_size(n={n}, k={k}, s={s}, p={p}) gave {got!r}, torch gives {truth}. Hint: {hint}")
    return _say(True, f"right on all {len(cases)} cases, including DCGAN's k=4, s=2, p=1 (7 → 14 → 28).")


def check_small_generator(G, z_dim=16) -> bool:
    """Is ``G`` a generator of 14 x 14 grey images in [-1, 1] that upsamples by
    transposed convolution?

    Exercise "Build a small generator" of chapter 2: G maps z of shape (n, z_dim)
    to images of shape (n, 1, 14, 14), ends in tanh and uses ``ConvTranspose2d``.
    """
    if not isinstance(G, nn.Module):
        raise TypeError(f"G must be a torch.nn.Module, got {_describe(G)}")
    z = torch.randn(8, z_dim, generator=torch.Generator().manual_seed(0)) * 3.0
    try:
        with torch.no_grad():
            G.eval()
            x = G(z)
    except Exception as error:
        return _say(False, f"G failed on z of shape (8, {z_dim}): {type(error).__name__}: {error}. "
                           "Hint: a dense layer first, then nn.Unflatten(1, (channels, 7, 7)).")
    finally:
        G.train()
    if tuple(x.shape) != (8, 1, 14, 14):
        return _say(False, f"G(z) has shape {tuple(x.shape)}, want (8, 1, 14, 14). Hint: a ConvTranspose2d "
                           "with kernel 4, stride 2, padding 1 doubles the side: 7 → 14.")
    if not any(isinstance(m, nn.ConvTranspose2d) for m in G.modules()):
        return _say(False, "the shape is right, but G has no ConvTranspose2d: upsample with one.")
    if x.min() < -1 or x.max() > 1 or not any(isinstance(m, nn.Tanh) for m in G.modules()):
        return _say(False, "the images must lie in [-1, 1] like the scaled data: end G with nn.Tanh().")
    n = sum(p.numel() for p in G.parameters())
    return _say(True, f"right: z ({z_dim}) → 1×14×14 images in [-1, 1], with {n:,} parameters.")


# ---------------------------------------------------------------------------
# Chapter 3
# ---------------------------------------------------------------------------

def check_logit_gradients(saturating, nonsaturating) -> bool:
    """Do the two functions give d loss / d l for one fake sample with logit l?

    Exercise "The two generator gradients" of chapter 3: with D = sigmoid(l),
    ``saturating(l)`` = d/dl log(1 - D) (what G minimises in the minimax game) and
    ``nonsaturating(l)`` = d/dl (-log D). Both take and return tensors of the same shape.
    """
    for name, fn in (("saturating", saturating), ("nonsaturating", nonsaturating)):
        if not callable(fn):
            raise TypeError(f"{name} must be a function of a tensor of logits, got {_describe(fn)}")
    logits = torch.linspace(-8.0, 8.0, 33, dtype=torch.float64)
    l = logits.clone().requires_grad_(True)
    truth_sat = torch.autograd.grad((-torch.nn.functional.softplus(l)).sum(), l)[0]
    l = logits.clone().requires_grad_(True)
    truth_ns = torch.autograd.grad(torch.nn.functional.softplus(-l).sum(), l)[0]
    ok = True
    for name, fn, truth in (("saturating", saturating, truth_sat), ("nonsaturating", nonsaturating, truth_ns)):
        try:
            got = torch.as_tensor(fn(logits.clone()), dtype=torch.float64)
        except Exception as error:
            ok = _say(False, f"{name}(l) raised {type(error).__name__}: {error}") and ok
            continue
        if got.shape != truth.shape:
            ok = _say(False, f"{name}(l) returned shape {tuple(got.shape)} for logits of shape {tuple(truth.shape)}")
            continue
        if torch.allclose(got, truth, atol=1e-6):
            _say(True, f"{name}: right.")
        elif torch.allclose(got, -truth, atol=1e-6):
            ok = _say(False, f"{name}: right size, wrong sign. Is the loss increasing or decreasing in l?")
        elif torch.allclose(got.abs(), (truth_ns if name == "saturating" else truth_sat).abs(), atol=1e-6):
            ok = _say(False, f"{name}: you have the OTHER loss's gradient. d sigmoid(l)/dl = D (1 - D).")
        else:
            i = int((got - truth).abs().argmax())
            ok = _say(False, f"{name}: at l = {logits[i].item():.1f} you give {got[i].item():.4g}. "
                             "Hint: d sigmoid(l)/dl = sigmoid(l) (1 - sigmoid(l)); use the chain rule.")
    return ok


def check_optimal_value(value) -> bool:
    """Is ``value`` max_D V(D, G) for p_data = N(0, 1) and p_g = N(2, 1) (natural logs)?

    Exercise "The value of the game for two Gaussians" of chapter 3.
    """
    from .data import Gaussian1D
    from .theory import jsd, optimal_value

    value = _number("value", value)
    x = np.linspace(-10.0, 12.0, 8801)
    p_data, p_g = Gaussian1D(0.0, 1.0).density(x[:, None]), Gaussian1D(2.0, 1.0).density(x[:, None])
    truth = optimal_value(p_data, p_g, x)
    j = jsd(p_data, p_g, x)
    if abs(value - truth) < 1e-3:
        return _say(True, f"right: max_D V = {truth:.4f} = -log 4 + 2 JSD, with JSD = {j:.4f}.")
    if abs(value - j) < 1e-3:
        return _say(False, "that is the JSD itself; max_D V adds -log 4 and doubles it.")
    if abs(value - (-math.log(4) + j)) < 1e-3:
        return _say(False, "close: the JSD enters max_D V twice (2 JSD).")
    if abs(value + math.log(4)) < 1e-3:
        return _say(False, "-log 4 is the value when p_g = p_data; here the Gaussians differ.")
    if value > 0 or value < -math.log(4):
        return _say(False, f"{value:.4f} is impossible: max_D V always lies in [-log 4, 0].")
    return _say(False, f"{value:.4f} is not it. Hint: ganlab.theory.optimal_value on a grid that holds "
                       "both densities (say -10 to 12, thousands of points).")
