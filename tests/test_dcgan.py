"""Tests of ganlab.dcgan, ganlab.image_metrics and the Trainer's GPU speed settings (on CPU)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.datasets import ImageData, load_digits
from ganlab.dcgan import dcgan, feature_map_sizes
from ganlab.image_metrics import DigitClassifier, accuracy, frechet_distance, score_images, train_digit_classifier
from ganlab.models import count_parameters, make_preset
from ganlab.train import TrainConfig, Trainer


# --------------------------------------------------------------------------- #
# dcgan
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("size, channels, n_up", [(8, 1, 2), (28, 1, 2), (32, 3, 3), (64, 3, 4)])
def test_dcgan_shapes(size, channels, n_up):
    G, D = dcgan(size, channels, n_up=n_up, width=8)
    z = torch.randn(5, 100)
    with torch.no_grad():
        x = G(z)
    assert x.shape == (5, channels, size, size)
    assert float(x.abs().max()) <= 1.0  # tanh
    assert D(x).shape == (5, 1)


def test_dcgan_28_is_the_preset():
    """dcgan(28) builds exactly the dcgan-28 preset: same layers, same weights from a seed."""
    torch.manual_seed(0)
    G1, D1 = dcgan(28)
    torch.manual_seed(0)
    G2, D2 = make_preset("dcgan-28")
    for a, b in ((G1, G2), (D1, D2)):
        assert [type(m) for m in a] == [type(m) for m in b]
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            torch.testing.assert_close(sa[k], sb[k])


def test_stride_2_kernel_4_padding_1_doubles_and_halves():
    """(h - 1) * 2 - 2 + 4 = 2h for the transposed convolution, (h + 2 - 4) / 2 + 1 = h / 2 for the strided one."""
    up = torch.nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1)
    down = torch.nn.Conv2d(1, 1, 4, stride=2, padding=1)
    for h in (2, 4, 7, 14):
        assert up(torch.zeros(1, 1, h, h)).shape[-1] == 2 * h
        assert down(torch.zeros(1, 1, 2 * h, 2 * h)).shape[-1] == h


def test_dcgan_init_and_batchnorm_option():
    G, D = dcgan(8, width=16)
    weights = torch.cat([m.weight.detach().flatten() for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(float(weights.std()) - 0.02) < 0.004
    _, D_bn = dcgan(8, width=16, d_batchnorm=True)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in D_bn)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in D)
    assert count_parameters(D_bn) > 0


def test_feature_map_sizes_and_errors():
    assert feature_map_sizes(28, 2) == [7, 14, 28]
    assert feature_map_sizes(64, 4) == [4, 8, 16, 32, 64]
    with pytest.raises(ValueError, match=r"size must be divisible by 2\*\*n_up = 4 \(n_up=2\), got 10"):
        dcgan(10)
    with pytest.raises(ValueError, match="channels must be an integer >= 1 and <= 4, got 0"):
        dcgan(8, 0)
    with pytest.raises(TypeError, match="d_batchnorm must be True or False"):
        dcgan(8, d_batchnorm="no")


# --------------------------------------------------------------------------- #
# image metrics
# --------------------------------------------------------------------------- #
def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    assert abs(frechet_distance(a, a)) < 1e-8
    shift = np.arange(6.0)
    # Same covariance, means apart by c: FD = ||c||^2 exactly.
    assert math.isclose(frechet_distance(a, a + shift), float(shift @ shift), rel_tol=1e-9)
    # b = s a: Sigma_b = s^2 Sigma_a, FD = (1 - s)^2 tr Sigma_a (means both ~0, add theirs).
    s = 3.0
    expected = (1 - s) ** 2 * np.trace(np.cov(a, rowvar=False)) + np.sum((a.mean(0) * (1 - s)) ** 2)
    assert math.isclose(frechet_distance(a, s * a), expected, rel_tol=1e-7)
    with pytest.raises(ValueError, match="same k"):
        frechet_distance(a, a[:, :3])


@pytest.fixture(scope="module")
def classifier():
    x8, y8 = load_digits(8, "train")
    x28, y28 = load_digits(28, "train")
    return train_digit_classifier([x8, x28], [y8, y28], steps=250)


def test_the_classifier_reads_real_digits(classifier):
    x, y = load_digits(8, "test")
    assert accuracy(classifier, x, y) > 0.9
    x28, y28 = load_digits(28, "test")
    assert accuracy(classifier, x28, y28) > 0.9


def test_scores_of_real_and_of_collapsed_images(classifier):
    x_ref, _ = load_digits(8, "train")
    x, y = load_digits(8, "test")
    real = score_images(x, classifier, x_ref)
    assert real["covered"] == 10 and real["rkl"] < 0.05 and real["confidence"] > 0.85
    assert math.isclose(sum(real["histogram"]), 1.0)
    # Mode collapse in images: one image repeated.  One class, rkl = log 10, and far in FD.
    one = np.repeat(x[:1], 200, axis=0)
    collapsed = score_images(one, classifier, x_ref)
    assert collapsed["covered"] <= 1 and math.isclose(collapsed["rkl"], math.log(10))
    assert collapsed["fd"] > 10 * real["fd"]
    noise = np.random.default_rng(0).uniform(-1, 1, size=(300, 1, 8, 8)).astype(np.float32)
    assert score_images(noise, classifier, x_ref)["fd"] > 10 * real["fd"]


def test_score_images_bad_arguments(classifier):
    x, _ = load_digits(8, "test")
    with pytest.raises(ValueError, match=r"images must be grey images of shape \(n, 1, H, W\)"):
        score_images(x[:, 0], classifier, x)
    with pytest.raises(TypeError, match="classifier must be a DigitClassifier"):
        score_images(x, torch.nn.Linear(2, 2), x)
    with pytest.raises(ValueError, match="y must hold 355 labels in 0..9"):
        train_digit_classifier(x, np.zeros(3), steps=1)
    assert isinstance(classifier, DigitClassifier)


# --------------------------------------------------------------------------- #
# The Trainer's speed settings (checked on CPU; the GPU benchmark times them)
# --------------------------------------------------------------------------- #
def _digits_trainer(**overrides):
    x, _ = load_digits(8, "test")
    torch.manual_seed(0)
    G, D = dcgan(8, width=8)
    return Trainer(G, D, ImageData(x), batch_size=16, seed=0, snapshot_every=3, n_snapshot=8, z_grid_size=2,
                   metrics_every=0, **overrides)


def test_channels_last_changes_the_layout_not_the_maths():
    plain = _digits_trainer().fit(6, progress=False)
    fast = _digits_trainer(channels_last=True)
    record = fast.fit(6, progress=False)
    assert fast._real.next().is_contiguous(memory_format=torch.channels_last)
    conv = next(m for m in fast.D.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(record.array("loss_d"), plain.array("loss_d"), rtol=1e-4, atol=1e-5)


def test_speed_settings_are_checked():
    with pytest.raises(ValueError, match="compile must be None or one of 'default', 'reduce-overhead'"):
        TrainConfig(compile="fast")
    with pytest.raises(TypeError, match="channels_last must be True or False"):
        TrainConfig(channels_last=1)
    with pytest.warns(UserWarning, match="amp=True only applies on CUDA"):
        _digits_trainer(amp=True)


def test_roughness_sees_speckle_that_the_8x8_classifier_does_not(classifier):
    x28, _ = load_digits(28, "test")
    smooth = score_images(x28, classifier, x28)
    speckle = np.clip(x28 + np.random.default_rng(0).choice([-0.5, 0.5], size=x28.shape), -1, 1).astype(np.float32)
    rough = score_images(speckle, classifier, x28)
    assert rough["roughness"] > 2 * smooth["roughness"]


def test_check_frechet_accepts_the_right_answer_and_explains_wrong_ones(capsys):
    from ganlab.image_metrics import check_frechet

    assert check_frechet(frechet_distance)
    mean_only = lambda a, b: float(np.sum((a.mean(0) - b.mean(0)) ** 2))  # noqa: E731

    def elementwise(a, b):
        sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(sa + sb - 2 * np.sqrt(np.abs(sa * sb))))

    assert not check_frechet(mean_only)
    assert "mean term only" in capsys.readouterr().out
    assert not check_frechet(elementwise)
    assert "element-wise" in capsys.readouterr().out
    assert not check_frechet(lambda a, b: 1 / 0)
    with pytest.raises(TypeError, match="my_fd must be a function"):
        check_frechet(3)
