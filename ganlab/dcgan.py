"""DCGAN: convolutional G and D for images, after Radford, Metz & Chintala (2016).

The DCGAN rules, each visible in :func:`dcgan` below:

1. No pooling: D shrinks images with **strided convolutions** (stride 2 halves
   the height and width), G grows them with **transposed convolutions**
   (stride 2 doubles them).  Each network learns its own resampling.
2. **BatchNorm** in G after every layer but the output: it keeps each layer's
   activations at mean 0, variance 1 over the batch, so signals neither die
   nor explode in a deep G.  (Not in D here: see below.)
3. **ReLU** in G, **tanh** on G's output (images in [-1, 1]); **LeakyReLU(0.2)**
   in D, so D passes a gradient for every input, also where a ReLU is flat.
4. No fully connected hidden layers: one linear map from z to the first,
   smallest feature map, and one from D's last feature map to the logit.
5. Weights ~ N(0, 0.02) (:func:`ganlab.models.dcgan_init_`), Adam with
   lr 2e-4 and beta1 = 0.5.

Shapes, for ``size = 28`` and ``width = 64`` (the ``dcgan-28`` preset of
:mod:`ganlab.models` is exactly this)::

    G: z (100) -> 128 x 7 x 7 -> 64 x 14 x 14 -> 1 x 28 x 28
    D: 1 x 28 x 28 -> 64 x 14 x 14 -> 128 x 7 x 7 -> logit

A 4 x 4 kernel with stride 2 and padding 1 maps h to exactly 2h (transposed)
or h / 2 (strided): out = (h - 1) * 2 - 2 + 4 = 2h, and out = (h + 2 - 4) / 2 + 1
= h / 2.  That is why pytorch/examples' ``dcgan/main.py`` uses it everywhere.

D has no BatchNorm by default (``d_batchnorm=False``): batch statistics make
D's output for one image depend on the others in its batch, which breaks the
per-sample gradients that R1 and the gradient penalty measure (Gulrajani et
al. 2017 drop it from the critic for this reason).
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import _describe, check_int
from .models import ImageDiscriminator, ImageGenerator, dcgan_init_

__all__ = ["dcgan", "feature_map_sizes"]


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return value


def feature_map_sizes(size: int, n_up: int) -> list[int]:
    """Heights of G's feature maps, smallest first: [size / 2^n_up, ..., size]."""
    size = check_int("size", size, minimum=2)
    n_up = check_int("n_up", n_up, minimum=1, maximum=8)
    if size % (2**n_up) != 0:
        raise ValueError(f"size must be divisible by 2**n_up = {2**n_up} (n_up={n_up}), got {size}")
    return [size // 2 ** (n_up - i) for i in range(n_up + 1)]


def dcgan(size=28, channels=1, *, z_dim=100, width=64, n_up=2, d_batchnorm=False,
          init=True) -> tuple[nn.Module, nn.Module]:
    """A DCGAN pair (G, D) for ``channels`` x ``size`` x ``size`` images in [-1, 1].

    Args:
        size: image height = width; divisible by 2**n_up (8, 28, 32, 64, ...).
        channels: 1 (grey) or 3 (colour).
        z_dim: the noise dimension (100 in the DCGAN paper).
        width: channels of G's last hidden map and D's first; each stage
            nearer the small end has twice as many (DCGAN's ngf = ndf).
        n_up: number of stride-2 stages (each doubles G's maps, halves D's).
            pytorch/examples uses 4 for 64 x 64 images (4 -> 8 -> ... -> 64).
        d_batchnorm: BatchNorm in D's hidden layers (as in the paper), off by
            default (see the module docstring).
        init: DCGAN's N(0, 0.02) initialisation.

    G: ``Linear(z_dim -> c0 * s0 * s0)``, BatchNorm, ReLU, then ``n_up``
    transposed convolutions (4 x 4, stride 2) with BatchNorm and ReLU between,
    tanh at the end.  D mirrors it with strided convolutions and LeakyReLU(0.2),
    then ``Linear -> 1`` (a logit, no sigmoid: it lives in the loss).
    """
    sizes = feature_map_sizes(size, n_up)
    channels = check_int("channels", channels, minimum=1, maximum=4)
    z_dim = check_int("z_dim", z_dim, minimum=1)
    width = check_int("width", width, minimum=1)
    d_batchnorm = _check_bool("d_batchnorm", d_batchnorm)
    init = _check_bool("init", init)
    widths = [width * 2 ** (n_up - 1 - i) for i in range(n_up)]  # G's hidden maps, big to small channels
    s0, c0 = sizes[0], widths[0]
    shape = (channels, size, size)

    g_layers: list[nn.Module] = [
        nn.Linear(z_dim, c0 * s0 * s0, bias=False),  # no bias: BatchNorm's shift replaces it
        nn.Unflatten(1, (c0, s0, s0)),
        nn.BatchNorm2d(c0), nn.ReLU(),
    ]
    for c_in, c_out in zip(widths, widths[1:]):
        g_layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                     nn.BatchNorm2d(c_out), nn.ReLU()]
    g_layers += [nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1), nn.Tanh()]
    G = ImageGenerator(*g_layers, z_dim=z_dim, out_shape=shape, output_range=(-1.0, 1.0))

    d_widths = widths[::-1]  # small to big channels
    d_layers: list[nn.Module] = [nn.Conv2d(channels, d_widths[0], 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
    for c_in, c_out in zip(d_widths, d_widths[1:]):
        d_layers.append(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=not d_batchnorm))
        if d_batchnorm:
            d_layers.append(nn.BatchNorm2d(c_out))
        d_layers.append(nn.LeakyReLU(0.2))
    d_layers += [nn.Flatten(), nn.Linear(d_widths[-1] * s0 * s0, 1)]
    D = ImageDiscriminator(*d_layers, in_shape=shape)
    if init:
        dcgan_init_(G)
        dcgan_init_(D)
    return G, D
