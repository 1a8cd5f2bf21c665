"""Tests of ganlab.models: shapes, parameter counts, spectral norm, noise, bad inputs."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn

from ganlab.models import (
    ACTIVATIONS,
    PRESETS,
    AffineGenerator,
    ImageDiscriminator,
    ImageGenerator,
    LogisticDiscriminator,
    MLPDiscriminator,
    MLPGenerator,
    count_parameters,
    dcgan_init_,
    make_preset,
    sample_noise,
)

torch.set_num_threads(1)

N = 4  # batch size in shape tests (> 1 for BatchNorm in train mode)


# ---------------------------------------------------------------------------
# sample_noise
# ---------------------------------------------------------------------------

def test_sample_noise_shape_dtype_device():
    z = sample_noise(7, 3, seed=0)
    assert z.shape == (7, 3) and z.dtype == torch.float32 and z.device.type == "cpu"
    assert sample_noise(2, 5, device="cpu").shape == (2, 5)
    assert sample_noise(2, 5, device=torch.device("cpu")).device.type == "cpu"


def test_sample_noise_same_seed_same_numbers():
    for kind in ("gaussian", "uniform"):
        a = sample_noise(100, 2, kind, seed=123)
        b = sample_noise(100, 2, kind, seed=123)
        c = sample_noise(100, 2, kind, seed=124)
        assert torch.equal(a, b)
        assert not torch.equal(a, c)


def test_sample_noise_generator_wins_over_seed_and_advances():
    g1 = torch.Generator().manual_seed(5)
    g2 = torch.Generator().manual_seed(5)
    a = sample_noise(10, 2, seed=999, generator=g1)
    b = sample_noise(10, 2, generator=g2)
    assert torch.equal(a, b)  # the seed was ignored
    assert torch.equal(a, sample_noise(10, 2, seed=5))  # seed 5 == generator seeded with 5
    assert not torch.equal(sample_noise(10, 2, generator=g1), a)  # the generator moved on


def test_sample_noise_global_rng_follows_manual_seed():
    torch.manual_seed(7)
    a = sample_noise(10, 2)
    torch.manual_seed(7)
    assert torch.equal(a, sample_noise(10, 2))


def test_sample_noise_distributions():
    z = sample_noise(200_000, 2, "gaussian", seed=0)
    assert abs(z.mean().item()) < 0.01 and abs(z.std().item() - 1.0) < 0.01
    u = sample_noise(200_000, 2, "uniform", seed=0)
    assert u.min().item() >= -1.0 and u.max().item() <= 1.0
    assert u.min().item() < -0.999 and u.max().item() > 0.999
    assert abs(u.std().item() - 1.0 / math.sqrt(3.0)) < 0.01  # std of U[-1, 1]


# ---------------------------------------------------------------------------
# MLPs
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [0, 1, 3])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_mlp_shapes(depth, activation):
    G = MLPGenerator(z_dim=3, out_dim=2, depth=depth, width=16, activation=activation)
    D = MLPDiscriminator(in_dim=2, depth=depth, width=16, activation=activation)
    z = sample_noise(5, 3, seed=0)
    x = G(z)
    assert x.shape == (5, 2) and D(x).shape == (5, 1)
    assert G.z_dim == 3 and G.out_dim == 2 and D.in_dim == 2
    n_linear = sum(isinstance(m, nn.Linear) for m in G.modules())
    assert n_linear == depth + 1


def test_mlp_depth_zero_is_affine():
    G = MLPGenerator(z_dim=2, out_dim=2, depth=0)
    assert len(G) == 1 and isinstance(G[0], nn.Linear)
    assert count_parameters(G) == 2 * 2 + 2


def test_mlp_parameter_count():
    G = MLPGenerator(z_dim=2, out_dim=2, depth=3, width=128)
    assert count_parameters(G) == (2 * 128 + 128) + 2 * (128 * 128 + 128) + (128 * 2 + 2)
    D = MLPDiscriminator(in_dim=2, depth=3, width=128)
    assert count_parameters(D) == (2 * 128 + 128) + 2 * (128 * 128 + 128) + (128 + 1)


@pytest.mark.parametrize("out_activation, lo, hi", [("tanh", -1.0, 1.0), ("sigmoid", 0.0, 1.0)])
def test_generator_out_activation_bounds(out_activation, lo, hi):
    G = MLPGenerator(z_dim=2, out_dim=2, depth=1, width=8, out_activation=out_activation)
    x = G(100.0 * sample_noise(256, 2, seed=1))
    assert x.min().item() >= lo and x.max().item() <= hi


def test_discriminator_flattens_images():
    D = MLPDiscriminator(in_dim=784, depth=1, width=8)
    assert D(torch.rand(3, 1, 28, 28)).shape == (3, 1)


def _sigma_max(W: torch.Tensor) -> float:
    return torch.linalg.matrix_norm(W.detach().reshape(W.shape[0], -1), ord=2).item()


@pytest.mark.parametrize("make", [
    lambda: MLPDiscriminator(in_dim=2, depth=2, width=64, spectral_norm=True),
    lambda: MLPGenerator(z_dim=2, out_dim=2, depth=2, width=64, spectral_norm=True),
])
def test_spectral_norm_bounds_largest_singular_value(make):
    torch.manual_seed(0)
    net = make()
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 3
    with torch.no_grad():  # make the raw weights far from 1-Lipschitz
        for m in linears:
            m.parametrizations.weight.original.mul_(10.0)
    assert max(_sigma_max(m.parametrizations.weight.original) for m in linears) > 5.0
    net.train()
    for _ in range(20):  # each train-mode forward does one power iteration per layer
        net(torch.randn(32, 2))
    net.eval()  # read the weights without another power-iteration step
    for m in linears:
        assert _sigma_max(m.weight) == pytest.approx(1.0, abs=0.02)
    # so the whole network is (about) 1-Lipschitz: ReLU is 1-Lipschitz
    x, y = torch.randn(500, 2), torch.randn(500, 2)
    ratio = (net(x) - net(y)).norm(dim=1) / (x - y).norm(dim=1)
    assert ratio.max().item() <= 1.03


def test_packed_discriminator_judges_m_samples_together():
    """PacGAN: in training, pack j is rows m*j .. m*j+m-1, and each row gets its pack's logit."""
    torch.manual_seed(0)
    D = MLPDiscriminator(in_dim=2, depth=1, width=16, pack=4).train()
    assert D[0].in_features == 8
    x = torch.randn(12, 2)
    logits = D(x)
    assert logits.shape == (12, 1)
    plain = nn.Sequential(*list(D))  # the same layers without the packing
    by_pack = plain(x.reshape(3, 8))
    assert torch.equal(logits, by_pack.repeat_interleave(4, dim=0))
    # a change in one sample moves the logit of its whole pack, and only that pack
    y = x.clone()
    y[5] += 1.0
    changed = (D(y) != logits).reshape(3, 4).all(dim=1)
    assert changed.tolist() == [False, True, False]
    # eval mode (figures): each point judged as a pack of 4 copies of itself
    D.eval()
    assert torch.equal(D(x[:3]), plain(x[:3].repeat(1, 4)))


def test_packed_discriminator_needs_a_multiple_of_the_pack_in_training():
    D = MLPDiscriminator(pack=4).train()
    with pytest.raises(ValueError, match="multiple of 4"):
        D(torch.zeros(6, 2))
    assert D.eval()(torch.zeros(6, 2)).shape == (6, 1)


def test_without_spectral_norm_weights_are_plain():
    D = MLPDiscriminator(spectral_norm=False)
    assert not any(hasattr(m, "parametrizations") for m in D.modules())


# ---------------------------------------------------------------------------
# Chapter 1 models
# ---------------------------------------------------------------------------

def test_affine_generator_formula():
    G = AffineGenerator(mu=2.0, sigma=0.5)
    z = sample_noise(6, 1, seed=0)
    assert torch.allclose(G(z), 2.0 + 0.5 * z)
    assert G.sigma.item() == pytest.approx(0.5)
    assert {n for n, _ in G.named_parameters()} == {"mu", "log_sigma"}
    assert G.z_dim == 1 and G.out_dim == 1


def test_affine_generator_sigma_stays_positive():
    G = AffineGenerator(mu=0.0, sigma=0.1)
    opt = torch.optim.SGD(G.parameters(), lr=1.0)
    opt.zero_grad()
    G(torch.ones(4, 1)).mean().backward()  # d loss / d sigma = 1
    opt.step()
    # a step on sigma itself would give 0.1 - 1.0 < 0; on log sigma: 0.1 * exp(-0.1)
    assert G.sigma.item() == pytest.approx(0.1 * math.exp(-0.1), rel=1e-5)


def test_logistic_discriminator_formula():
    D = LogisticDiscriminator(w=3.0, b=-1.0)
    x = torch.tensor([[0.0], [1.0], [-2.0]])
    assert torch.allclose(D(x), torch.tensor([[-1.0], [2.0], [-7.0]]))
    assert count_parameters(D) == 2


# ---------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------

IMG = (1, 28, 28)
PRESET_SHAPES = {
    "dense-128": (
        [(128,), (128,), (784,), (784,), IMG],
        [(784,), (128,), (128,), (1,)],
    ),
    "dense-512-1024": (
        [(512,), (512,), (1024,), (1024,), (784,), (784,), IMG],
        [(32, 14, 14), (32, 14, 14), (64, 7, 7), (64, 7, 7), (3136,), (128,), (128,), (1,)],
    ),
    "dcgan-28": (
        [(6272,), (128, 7, 7), (128, 7, 7), (128, 7, 7),
         (64, 14, 14), (64, 14, 14), (64, 14, 14), IMG, IMG],
        [(64, 14, 14), (64, 14, 14), (128, 7, 7), (128, 7, 7), (6272,), (1,)],
    ),
}


def test_preset_names():
    assert set(PRESETS) == set(PRESET_SHAPES)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_shapes_layer_by_layer(name):
    torch.manual_seed(0)
    G, D = make_preset(name)
    assert isinstance(G, ImageGenerator) and isinstance(D, ImageDiscriminator)
    g_shapes, d_shapes = PRESET_SHAPES[name]
    z = sample_noise(N, G.z_dim, seed=0)
    h = z
    assert G.z_dim == 100
    assert len(G) == len(g_shapes)
    for layer, shape in zip(G, g_shapes):
        h = layer(h)
        assert tuple(h.shape) == (N, *shape), (name, "G", layer)
    assert torch.allclose(h, G(z))  # the layers are all there is to G
    assert len(D) == len(d_shapes)
    for layer, shape in zip(D, d_shapes):
        h = layer(h)
        assert tuple(h.shape) == (N, *shape), (name, "D", layer)
    assert D(G(sample_noise(N, 100, seed=1))).shape == (N, 1)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_output_range(name):
    G, _ = make_preset(name)
    x = G(sample_noise(8, 100, seed=0))
    lo, hi = G.output_range
    assert x.min().item() >= lo and x.max().item() <= hi
    assert G.out_shape == IMG


def test_preset_dense_128_parameter_counts():
    G, D = make_preset("dense-128")
    assert count_parameters(G) == (100 * 128 + 128) + (128 * 784 + 784)  # 114,064
    assert count_parameters(D) == (784 * 128 + 128) + (128 * 1 + 1)      # 100,609
    assert G.output_range == (0.0, 1.0)  # the source's sigmoid output


def test_preset_other_parameter_counts():
    G, D = make_preset("dense-512-1024")
    assert count_parameters(G) == (100 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 784 + 784)
    assert count_parameters(D) == ((1 * 32 * 25 + 32) + (32 * 64 * 25 + 64)
                                   + (64 * 7 * 7 * 128 + 128) + (128 + 1))
    G, D = make_preset("dcgan-28")
    assert count_parameters(G) == (100 * 6272 + 2 * 128 + 128 * 64 * 16 + 2 * 64 + 64 * 16 + 1)
    assert count_parameters(D) == (16 * 64 + 64) + (64 * 128 * 16 + 128) + (6272 + 1)


def test_count_parameters_trainable_only():
    G, _ = make_preset("dense-128")
    G[0].weight.requires_grad_(False)
    assert count_parameters(G, trainable_only=True) == count_parameters(G) - 100 * 128


def test_dcgan_init():
    torch.manual_seed(0)
    G, D = make_preset("dcgan-28")
    assert G[0].weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert D[2].weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert G[2].weight.mean().item() == pytest.approx(1.0, abs=0.01)  # BatchNorm scale
    assert torch.all(D[0].bias == 0)
    lin = dcgan_init_(nn.Linear(500, 400))
    assert lin.weight.std().item() == pytest.approx(0.02, rel=0.05)


def test_preset_discriminator_rejects_flat_input():
    _, D = make_preset("dense-128")
    with pytest.raises(ValueError, match=re.escape("x must have shape (n, 1, 28, 28)")):
        D(torch.rand(3, 784))


# ---------------------------------------------------------------------------
# Bad inputs: each raises at once, naming the parameter
# ---------------------------------------------------------------------------

BAD_INPUTS = [
    # (call, exception, parameter named in the message)
    (lambda: MLPGenerator(width=-1), ValueError, "width"),
    (lambda: MLPGenerator(width=0), ValueError, "width"),
    (lambda: MLPGenerator(depth=-1), ValueError, "depth"),
    (lambda: MLPGenerator(depth=2.0), TypeError, "depth"),
    (lambda: MLPGenerator(z_dim=0), ValueError, "z_dim"),
    (lambda: MLPGenerator(out_dim="2"), TypeError, "out_dim"),
    (lambda: MLPGenerator(activation="swish"), ValueError, "activation"),
    (lambda: MLPGenerator(out_activation="softmax"), ValueError, "out_activation"),
    (lambda: MLPGenerator(spectral_norm=1), TypeError, "spectral_norm"),
    (lambda: MLPDiscriminator(in_dim=2.5), TypeError, "in_dim"),
    (lambda: MLPDiscriminator(activation="ReLU"), ValueError, "activation"),
    (lambda: MLPDiscriminator(width=True), TypeError, "width"),
    (lambda: MLPDiscriminator(pack=0), ValueError, "pack"),
    (lambda: MLPDiscriminator(pack=2.0), TypeError, "pack"),
    (lambda: MLPGenerator(z_dim=3)(torch.zeros(4, 2)), ValueError, "z"),
    (lambda: MLPGenerator(z_dim=2)(torch.zeros(4, 2, dtype=torch.long)), TypeError, "z"),
    (lambda: MLPDiscriminator(in_dim=2)([[0.0, 1.0]]), TypeError, "x"),
    (lambda: MLPDiscriminator(in_dim=2)(torch.zeros(4, 3)), ValueError, "x"),
    (lambda: AffineGenerator(sigma=0.0), ValueError, "sigma"),
    (lambda: AffineGenerator(sigma=-1.0), ValueError, "sigma"),
    (lambda: AffineGenerator(mu=float("nan")), ValueError, "mu"),
    (lambda: AffineGenerator(mu="0"), TypeError, "mu"),
    (lambda: AffineGenerator()(torch.zeros(4)), ValueError, "z"),
    (lambda: LogisticDiscriminator(w="1"), TypeError, "w"),
    (lambda: LogisticDiscriminator(b=float("inf")), ValueError, "b"),
    (lambda: sample_noise(0, 2), ValueError, "n"),
    (lambda: sample_noise(5, 0), ValueError, "z_dim"),
    (lambda: sample_noise(5, 2, kind="cauchy"), ValueError, "kind"),
    (lambda: sample_noise(5, 2, seed=-1), ValueError, "seed"),
    (lambda: sample_noise(5, 2, seed=1.5), TypeError, "seed"),
    (lambda: sample_noise(5, 2, generator=42), TypeError, "generator"),
    (lambda: sample_noise(5, 2, device="gpu0"), ValueError, "device"),
    (lambda: sample_noise(5, 2, device=0.5), TypeError, "device"),
    (lambda: make_preset("dcgan-64"), ValueError, "name"),
    (lambda: count_parameters("G"), TypeError, "module"),
    (lambda: dcgan_init_(None), TypeError, "module"),
]


@pytest.mark.parametrize("call, exc, param", BAD_INPUTS)
def test_bad_inputs_raise_naming_the_parameter(call, exc, param):
    with pytest.raises(exc) as info:
        call()
    assert re.match(rf"{re.escape(param)} must", str(info.value)), str(info.value)


def test_unknown_preset_lists_the_names():
    with pytest.raises(ValueError) as info:
        make_preset("nope")
    for name in PRESETS:
        assert repr(name) in str(info.value)


def test_unknown_activation_lists_the_names():
    with pytest.raises(ValueError) as info:
        MLPDiscriminator(activation="nope")
    for name in ACTIVATIONS:
        assert repr(name) in str(info.value)
