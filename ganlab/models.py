"""Generators G and discriminators D.

Notation follows the book: the generator maps noise ``z ~ p_z`` to a sample
``x_fake = G(z)``; the discriminator maps a sample ``x`` to a *logit* ``D_logit(x)``
and ``D(x) = sigmoid(D_logit(x))`` is its belief that ``x`` came from ``p_data``.

Every discriminator here returns LOGITS of shape ``(n, 1)``, never probabilities:
the sigmoid lives inside the objectives of :mod:`ganlab.losses`, where it can be
combined with the logarithm stably (``log sigmoid(t) = -softplus(-t)``). A network
that ends in ``Sigmoid`` and is fed to ``log`` saturates to ``log 0 = -inf`` as soon
as D is confident, which is exactly when training needs a gradient.

What is here:

- :func:`sample_noise`: draws the noise batch ``z``;
- :class:`MLPGenerator`, :class:`MLPDiscriminator`: the fully connected networks
  of the 1-D and 2-D chapters (optionally spectrally normalised);
- :class:`AffineGenerator`, :class:`LogisticDiscriminator`: the one-parameter
  "counterfeiter" and "police" of chapter 1;
- :func:`make_preset`: the image architectures quoted in the course's sources
  (:data:`PRESETS` lists their names);
- :func:`count_parameters`.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ._checks import _describe, check_choice, check_float, check_int, check_seed

__all__ = [
    "ACTIVATIONS",
    "NOISE_KINDS",
    "PRESETS",
    "sample_noise",
    "MLPGenerator",
    "MLPDiscriminator",
    "AffineGenerator",
    "LogisticDiscriminator",
    "ImageGenerator",
    "ImageDiscriminator",
    "make_preset",
    "dcgan_init_",
    "count_parameters",
]


# ---------------------------------------------------------------------------
# Randomness (the package-wide rule: generator, else seed, else torch's global RNG)
# ---------------------------------------------------------------------------

def _resolve_generator(seed, generator) -> torch.Generator | None:
    """Return the torch.Generator to draw from, or None for torch's global RNG."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {_describe(generator)}")
        return generator
    seed = check_seed("seed", seed)
    if seed is not None:
        return torch.Generator().manual_seed(seed)
    return None


def _check_device(device) -> torch.device:
    if device is None:
        return torch.device("cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str, a torch.device or None, got {_describe(device)}")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}") from err


def _draw(kind: str, shape: tuple, gen: torch.Generator | None, device, dtype) -> torch.Tensor:
    """Draw standard normal or U[-1, 1] numbers on the generator's device, then move.

    Drawing on the generator's device (the CPU unless you pass a CUDA generator)
    is what makes "same seed, same numbers" hold whatever device the result goes to.
    """
    where = gen.device if gen is not None else torch.device("cpu")
    if kind == "gaussian":
        out = torch.randn(shape, generator=gen, device=where, dtype=dtype)
    else:  # uniform on [-1, 1]
        out = torch.rand(shape, generator=gen, device=where, dtype=dtype).mul_(2.0).sub_(1.0)
    return out.to(device)


NOISE_KINDS = ("gaussian", "uniform")


def sample_noise(n, z_dim, kind="gaussian", seed=None, *, generator=None, device=None) -> torch.Tensor:
    """Draw a noise batch ``z`` of shape ``(n, z_dim)`` (float32).

    ``kind="gaussian"``: z ~ N(0, I).  ``kind="uniform"``: z ~ U[-1, 1]^z_dim
    (GAN Lab's uniform noise).

    Randomness: ``generator`` if given, else a fresh generator seeded with ``seed``,
    else torch's global RNG. Numbers are drawn on the CPU (or on the generator's own
    device) and then moved to ``device``, so a seed gives the same z everywhere.
    """
    n = check_int("n", n, minimum=1)
    z_dim = check_int("z_dim", z_dim, minimum=1)
    kind = check_choice("kind", kind, NOISE_KINDS)
    gen = _resolve_generator(seed, generator)
    device = _check_device(device)
    return _draw(kind, (n, z_dim), gen, device, torch.float32)


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------

# Slope 0.2 for leaky ReLU: the value of the DCGAN paper (Radford et al. 2016),
# used by almost every GAN since.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "sigmoid": nn.Sigmoid,
}

_OUT_ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return value


def _linear(n_in: int, n_out: int, spectral_norm: bool) -> nn.Module:
    layer = nn.Linear(n_in, n_out)
    # torch's own spectral normalisation (Miyato et al. 2018): weight / sigma_max(weight),
    # sigma_max estimated by one power iteration per forward pass in train mode.
    return _spectral_norm(layer) if spectral_norm else layer


def _mlp_layers(n_in, n_out, depth, width, activation, spectral_norm) -> list[nn.Module]:
    """``depth`` hidden layers of ``width`` units, then a linear output layer."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [_linear(n_in, width, spectral_norm), ACTIVATIONS[activation]()]
        n_in = width
    layers.append(_linear(n_in, n_out, spectral_norm))
    return layers


def _check_batch(name: str, x, tail: tuple) -> torch.Tensor:
    """``x`` must be a floating tensor of shape ``(n, *tail)`` with n >= 1."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(x)}")
    if x.dim() != 1 + len(tail) or tuple(x.shape[1:]) != tuple(tail) or x.shape[0] < 1:
        want = ", ".join(["n"] + [str(t) for t in tail])
        raise ValueError(f"{name} must have shape ({want}) with n >= 1, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


# ---------------------------------------------------------------------------
# MLPs of the 1-D and 2-D chapters
# ---------------------------------------------------------------------------

class MLPGenerator(nn.Sequential):
    """G: z (n, z_dim) -> x (n, out_dim), a fully connected network.

    ``depth`` hidden layers (``depth = 0`` gives the affine map ``x = W z + b``), each
    ``Linear(width) -> activation``, then ``Linear(out_dim)`` and the optional
    ``out_activation`` (``None``: unbounded samples, right for most toy data;
    ``"tanh"``: samples in (-1, 1); ``"sigmoid"``: samples in (0, 1)).
    ``spectral_norm=True`` divides each weight matrix by its largest singular value.

    It is an ``nn.Sequential``, so ``print(G)`` shows the layers and ``G[i]`` is layer i.
    """

    def __init__(self, z_dim=2, out_dim=2, depth=3, width=128, activation="relu",
                 out_activation=None, spectral_norm=False):
        z_dim = check_int("z_dim", z_dim, minimum=1)
        out_dim = check_int("out_dim", out_dim, minimum=1)
        depth = check_int("depth", depth, minimum=0)
        width = check_int("width", width, minimum=1)
        activation = check_choice("activation", activation, ACTIVATIONS)
        if out_activation is not None:
            out_activation = check_choice("out_activation", out_activation, [None, *_OUT_ACTIVATIONS])
        spectral_norm = _check_bool("spectral_norm", spectral_norm)

        layers = _mlp_layers(z_dim, out_dim, depth, width, activation, spectral_norm)
        if out_activation is not None:
            layers.append(_OUT_ACTIVATIONS[out_activation]())
        super().__init__(*layers)
        self.z_dim, self.out_dim = z_dim, out_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_batch("z", z, (self.z_dim,))
        return super().forward(z)


class MLPDiscriminator(nn.Sequential):
    """D: x (n, in_dim) -> logits (n, 1), a fully connected network.

    ``depth`` hidden layers ``Linear(width) -> activation``, then ``Linear(1)``. The output
    is the logit ``D_logit(x)``; ``D(x) = sigmoid(D_logit(x))``. Inputs of shape
    ``(n, *shape)`` with ``prod(shape) == in_dim`` (e.g. images) are flattened first.
    ``spectral_norm=True`` makes each layer 1-Lipschitz (so D is, with 1-Lipschitz
    activations): the constraint of SN-GAN, and a critic for the Wasserstein objective.

    ``pack=m`` (PacGAN, Lin et al. 2018): D judges ``m`` samples at once,
    ``D_logit(x_1, ..., x_m)`` on their concatenation (``m * in_dim`` inputs), all real
    or all fake. A collapsed G gives itself away: m fakes that are all alike are an
    unlikely pack of real samples. In training mode rows ``m*j ... m*j + m - 1`` of the
    batch form pack j (so n must be a multiple of m, and a stacked ``[x_real; x_fake]``
    never mixes the two when the batch size is), and each pack's logit is returned for
    each of its m rows: the shape stays ``(n, 1)`` and a mean over rows is the mean over
    packs. In eval mode (figures: D on a grid) D judges a pack of m copies of each x.
    Note: a gradient penalty on such a D sees each pack's logit m times, so R1 with
    ``pack=m`` is m times the R1 of the packed D.
    """

    def __init__(self, in_dim=2, depth=3, width=128, activation="relu", spectral_norm=False, pack=1):
        in_dim = check_int("in_dim", in_dim, minimum=1)
        depth = check_int("depth", depth, minimum=0)
        width = check_int("width", width, minimum=1)
        activation = check_choice("activation", activation, ACTIVATIONS)
        spectral_norm = _check_bool("spectral_norm", spectral_norm)
        pack = check_int("pack", pack, minimum=1)
        super().__init__(*_mlp_layers(in_dim * pack, 1, depth, width, activation, spectral_norm))
        self.in_dim, self.pack = in_dim, pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.dim() > 2:
            x = x.flatten(1)
        _check_batch("x", x, (self.in_dim,))
        m = self.pack
        if m == 1:
            return super().forward(x)
        if not self.training:  # a pack of m copies of each point
            return super().forward(x.repeat(1, m))
        if len(x) % m:
            raise ValueError(f"a packed D (pack={m}) in training mode needs a batch that is a multiple of {m}, "
                             f"got {len(x)} rows: choose batch_size as a multiple of pack")
        packs = x.reshape(len(x) // m, m * self.in_dim)  # row j = (x_{mj}, ..., x_{mj+m-1})
        return super().forward(packs).repeat_interleave(m, dim=0)

    def extra_repr(self) -> str:
        return f"pack={self.pack}" if self.pack > 1 else ""


# ---------------------------------------------------------------------------
# Chapter 1: the counterfeiter and the police, one number each
# ---------------------------------------------------------------------------

class AffineGenerator(nn.Module):
    """The 1-D counterfeiter: ``x = mu + sigma * z`` with z ~ N(0, 1), so p_g = N(mu, sigma^2).

    Learnable parameters are ``mu`` and ``log_sigma``; ``sigma = exp(log_sigma)`` is a
    property. Why the log: a gradient step on sigma itself can push it through zero
    to a negative value, while ``exp`` keeps sigma > 0 for every real log_sigma (and a
    step on log_sigma changes sigma by a *relative* amount, which suits a scale).
    """

    z_dim = 1
    out_dim = 1

    def __init__(self, mu=0.0, sigma=1.0):
        super().__init__()
        mu = check_float("mu", mu)
        sigma = check_float("sigma", sigma, minimum=0.0, strict_min=True)
        self.mu = nn.Parameter(torch.tensor([mu], dtype=torch.float32))
        self.log_sigma = nn.Parameter(torch.tensor([math.log(sigma)], dtype=torch.float32))

    @property
    def sigma(self) -> torch.Tensor:
        return self.log_sigma.exp()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_batch("z", z, (1,))
        return self.mu + self.sigma * z

    def extra_repr(self) -> str:
        return f"mu={self.mu.item():.4g}, sigma={self.sigma.item():.4g}"


class LogisticDiscriminator(nn.Module):
    """The 1-D police: ``D_logit(x) = w * x + b``, so ``D(x) = sigmoid(w x + b)``.

    Logistic regression on the line: D says "real" to the right of ``x = -b / w`` when
    w > 0. Learnable parameters ``w`` and ``b``; returns logits of shape (n, 1).
    """

    in_dim = 1

    def __init__(self, w=0.0, b=0.0):
        super().__init__()
        w = check_float("w", w)
        b = check_float("b", b)
        self.w = nn.Parameter(torch.tensor([w], dtype=torch.float32))
        self.b = nn.Parameter(torch.tensor([b], dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_batch("x", x, (1,))
        return self.w * x + self.b

    def extra_repr(self) -> str:
        return f"w={self.w.item():.4g}, b={self.b.item():.4g}"


# ---------------------------------------------------------------------------
# Image presets (28 x 28, MNIST-sized)
# ---------------------------------------------------------------------------

class ImageGenerator(nn.Sequential):
    """G: z (n, z_dim) -> images (n, *out_shape), a stack of layers (used by the presets).

    ``output_range`` records what the last activation produces ((0, 1) for sigmoid,
    (-1, 1) for tanh), so the real images can be scaled to the same range.
    """

    def __init__(self, *layers: nn.Module, z_dim: int, out_shape: Sequence[int], output_range=(-1.0, 1.0)):
        super().__init__(*layers)
        self.z_dim = check_int("z_dim", z_dim, minimum=1)
        self.out_shape = tuple(check_int("out_shape", s, minimum=1) for s in out_shape)
        self.out_dim = math.prod(self.out_shape)
        self.output_range = tuple(output_range)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_batch("z", z, (self.z_dim,))
        return super().forward(z)


class ImageDiscriminator(nn.Sequential):
    """D: images (n, *in_shape) -> logits (n, 1), a stack of layers (used by the presets)."""

    def __init__(self, *layers: nn.Module, in_shape: Sequence[int]):
        super().__init__(*layers)
        self.in_shape = tuple(check_int("in_shape", s, minimum=1) for s in in_shape)
        self.in_dim = math.prod(self.in_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_batch("x", x, self.in_shape)
        return super().forward(x)


def dcgan_init_(module: nn.Module) -> nn.Module:
    """DCGAN initialisation, in place: weights ~ N(0, 0.02), BatchNorm scales ~ N(1, 0.02), biases 0.

    Radford et al. 2016, section 4: "All weights were initialized from a zero-centered
    Normal distribution with standard deviation 0.02" (as pytorch/examples dcgan does).
    Returns the module.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {_describe(module)}")
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


_IMAGE = (1, 28, 28)


def _dense_128() -> tuple[nn.Module, nn.Module]:
    """The vanilla GAN on MNIST: G 100 -> 128 ReLU -> 784 sigmoid; D 784 -> 128 ReLU -> 1.

    Source: Agustinus Kristiadi's "generative-models", GAN/vanilla_gan
    (github.com/wiseodd/generative-models), Z_dim = 100, h_dim = 128, X_dim = 784.
    There D ends in a sigmoid and is trained with binary cross-entropy; here D stops
    at the logit and the sigmoid lives in the objective (BCE on logits is the same
    function, computed stably). G's sigmoid stays: images in [0, 1].
    """
    G = ImageGenerator(
        nn.Linear(100, 128), nn.ReLU(),
        nn.Linear(128, 784), nn.Sigmoid(),
        nn.Unflatten(1, _IMAGE),
        z_dim=100, out_shape=_IMAGE, output_range=(0.0, 1.0),
    )
    D = ImageDiscriminator(
        nn.Flatten(),
        nn.Linear(784, 128), nn.ReLU(),
        nn.Linear(128, 1),  # logit: no sigmoid (see the docstring)
        in_shape=_IMAGE,
    )
    return G, D


def _dense_512_1024() -> tuple[nn.Module, nn.Module]:
    """A deeper dense G against a small convolutional D.

    G: z 100 -> 512 -> 1024 -> 784 (LeakyReLU 0.2 between, tanh out) -> 1 x 28 x 28.
    D: conv 32 -> conv 64 (5 x 5, stride 2: 28 -> 14 -> 7, LeakyReLU 0.2) -> flatten
    -> dense 128 -> 1 (logit).
    Source: the layer sizes quoted in the course's sources (the project issue); the
    kernels, strides and activations, which the quote leaves open, follow DCGAN
    conventions (Radford et al. 2016).
    """
    lrelu = lambda: nn.LeakyReLU(0.2)  # noqa: E731
    G = ImageGenerator(
        nn.Linear(100, 512), lrelu(),
        nn.Linear(512, 1024), lrelu(),
        nn.Linear(1024, 784), nn.Tanh(),
        nn.Unflatten(1, _IMAGE),
        z_dim=100, out_shape=_IMAGE, output_range=(-1.0, 1.0),
    )
    D = ImageDiscriminator(
        nn.Conv2d(1, 32, 5, stride=2, padding=2), lrelu(),   # 32 x 14 x 14
        nn.Conv2d(32, 64, 5, stride=2, padding=2), lrelu(),  # 64 x 7 x 7
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), lrelu(),
        nn.Linear(128, 1),
        in_shape=_IMAGE,
    )
    return G, D


def _dcgan_28() -> tuple[nn.Module, nn.Module]:
    """A small DCGAN for 28 x 28 images.

    G: dense 100 -> 128 x 7 x 7, BatchNorm, ReLU -> transposed conv to 64 x 14 x 14,
    BatchNorm, ReLU -> transposed conv to 1 x 28 x 28, tanh.
    D: conv to 64 x 14 x 14, LeakyReLU 0.2 -> conv to 128 x 7 x 7, LeakyReLU 0.2 ->
    flatten -> dense -> logit. All weights N(0, 0.02).
    Source: the DCGAN rules of Radford et al. 2016 (transposed/strided convolutions
    instead of pooling, BatchNorm in G, ReLU in G and tanh out, LeakyReLU 0.2 in D,
    N(0, 0.02) init) with pytorch/examples dcgan's 4 x 4 kernels, shrunk from 64 x 64
    to the 7 -> 14 -> 28 plan of the TensorFlow DCGAN tutorial so that it runs on a CPU.
    D has no BatchNorm on purpose: batch statistics couple the samples of a batch, so
    the per-sample gradients that R1 and the gradient penalty measure are no longer
    per-sample (Gulrajani et al. 2017 drop BatchNorm from the critic for this reason).
    """
    G = ImageGenerator(
        nn.Linear(100, 128 * 7 * 7, bias=False),
        nn.Unflatten(1, (128, 7, 7)),
        nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False),  # 64 x 14 x 14
        nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1),  # 1 x 28 x 28
        nn.Tanh(),
        z_dim=100, out_shape=_IMAGE, output_range=(-1.0, 1.0),
    )
    D = ImageDiscriminator(
        nn.Conv2d(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),    # 64 x 14 x 14
        nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 128 x 7 x 7
        nn.Flatten(),
        nn.Linear(128 * 7 * 7, 1),
        in_shape=_IMAGE,
    )
    return dcgan_init_(G), dcgan_init_(D)


_PRESET_BUILDERS = {
    "dense-128": _dense_128,
    "dense-512-1024": _dense_512_1024,
    "dcgan-28": _dcgan_28,
}
PRESETS = tuple(_PRESET_BUILDERS)


def make_preset(name) -> tuple[nn.Module, nn.Module]:
    """Build the named (G, D) pair; :data:`PRESETS` lists the names.

    - ``"dense-128"``: the vanilla GAN, G 100 -> 128 -> 784 (sigmoid), D 784 -> 128 -> 1
      (wiseodd/generative-models, GAN/vanilla_gan);
    - ``"dense-512-1024"``: G 100 -> 512 -> 1024 -> 784 (tanh), D conv 32 -> conv 64 -> 128 -> 1
      (sizes as quoted in the course's sources; DCGAN conventions for the rest);
    - ``"dcgan-28"``: a small DCGAN, G dense -> 128x7x7 -> 64x14x14 -> 1x28x28 (tanh),
      D strided convs 64 -> 128 -> dense -> logit (Radford et al. 2016, pytorch/examples
      dcgan, sized like the TensorFlow DCGAN tutorial).

    Every G maps z of shape (n, 100) to images (n, 1, 28, 28); every D maps such images
    to logits (n, 1). Each builder's docstring names its source.
    """
    name = check_choice("name", name, PRESETS)
    return _PRESET_BUILDERS[name]()


def count_parameters(module, *, trainable_only=False) -> int:
    """Number of scalar parameters of ``module`` (only those with requires_grad if asked)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {_describe(module)}")
    trainable_only = _check_bool("trainable_only", trainable_only)
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
