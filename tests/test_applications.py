"""ganlab.applications: the helpers of the applications chapter, against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.applications import (
    ConditionalGenerator,
    LabelledData,
    anomaly_experiment,
    augmentation_experiment,
    auroc,
    discriminator_scores,
    fit_classifier,
    generator_residual_scores,
    mean_and_se,
    nearest_neighbour_scores,
    stratified_subset,
    train_conditional_gan,
)
from ganlab.datasets import load_digits


def _auroc_by_pairs(normal, anomaly):
    wins = [1.0 if a > n else 0.5 if a == n else 0.0 for a, n in itertools.product(anomaly, normal)]
    return sum(wins) / len(wins)


def test_auroc_is_the_share_of_pairs_ranked_right():
    rng = np.random.default_rng(0)
    for _ in range(20):
        normal = rng.integers(0, 6, rng.integers(1, 15)).astype(float)  # many ties
        anomaly = rng.integers(2, 8, rng.integers(1, 15)).astype(float)
        assert math.isclose(auroc(normal, anomaly), _auroc_by_pairs(normal, anomaly), abs_tol=1e-12)
    assert auroc([0, 1, 2], [3, 4]) == 1.0
    assert auroc([3, 4], [0, 1, 2]) == 0.0
    assert auroc([1, 1, 1], [1, 1]) == 0.5
    with pytest.raises(ValueError, match="scores_anomaly"):
        auroc([1.0], [])
    with pytest.raises(ValueError, match="scores_normal"):
        auroc([np.nan], [1.0])


def test_mean_and_se():
    m, se = mean_and_se([1.0, 2.0, 3.0, 4.0])
    assert m == 2.5 and math.isclose(se, np.std([1, 2, 3, 4], ddof=1) / 2)
    with pytest.raises(ValueError, match="at least 2"):
        mean_and_se([1.0])


def test_stratified_subset():
    y = np.repeat(np.arange(3), [5, 6, 7])
    idx = stratified_subset(y, 4, seed=1)
    assert np.bincount(y[idx]).tolist() == [4, 4, 4] and len(set(idx)) == 12
    assert np.array_equal(idx, stratified_subset(y, 4, seed=1))
    assert not np.array_equal(idx, stratified_subset(y, 4, seed=2))
    with pytest.raises(ValueError, match="class 0 has only 5"):
        stratified_subset(y, 6)


def test_fit_classifier_converges_to_the_minimum():
    x, y = load_digits(8, "train")
    x, y = x[:300], y[:300]
    clf = fit_classifier(x, y, weight_decay=0.01)
    W, b = clf.W.clone().requires_grad_(True), clf.b.clone().requires_grad_(True)
    X = torch.from_numpy(x.reshape(300, -1).astype(np.float64))
    loss = torch.nn.functional.cross_entropy(X @ W + b, torch.from_numpy(y)) + 0.005 * (W * W).sum()
    grads = torch.autograd.grad(loss, (W, b))
    assert max(g.abs().max().item() for g in grads) < 1e-6  # a stationary point of a convex loss
    assert clf.accuracy(x, y) > 0.95
    again = fit_classifier(x, y, weight_decay=0.01)
    assert torch.equal(again.W, clf.W)  # no randomness
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="weight_decay"):
        fit_classifier(x, y, weight_decay=0)


def test_labelled_data_rows_are_pixels_then_one_hot():
    x = np.arange(2 * 1 * 2 * 2, dtype=np.float32).reshape(2, 1, 2, 2)
    data = LabelledData(x, np.array([2, 0]), n_classes=3)
    assert data.dim == 7 and data.x_dim == 4
    assert data.rows[0].tolist() == [0, 1, 2, 3, 0, 0, 1] and data.rows[1, 4:].tolist() == [1, 0, 0]
    sample = data.sample(50, seed=0)
    assert sample.shape == (50, 7) and set(map(tuple, sample.tolist())) <= set(map(tuple, data.rows.tolist()))
    assert LabelledData(x, None, n_classes=0).dim == 4
    with pytest.raises(ValueError, match="n_classes=2"):
        LabelledData(x, np.array([2, 0]), n_classes=2)
    with pytest.raises(ValueError, match="labels"):
        LabelledData(x, np.array([0]), n_classes=3)


def test_conditional_generator_draws_the_label_uniformly_and_obeys_it():
    torch.manual_seed(0)
    G = ConditionalGenerator(noise_dim=4, n_classes=5, out_dim=6, depth=1, width=8)
    out = G(torch.randn(5000, G.z_dim, generator=torch.Generator().manual_seed(0)))
    assert out.shape == (5000, 11) and out[:, :6].abs().max() < 1
    counts = out[:, 6:].sum(0)
    assert torch.all(out[:, 6:].sum(1) == 1) and (counts - 1000).abs().max() < 100  # uniform labels
    x = G.generate(np.array([3, 3, 1]), seed=2)
    assert x.shape == (3, 6) and not np.allclose(x[0], x[1])
    z = torch.zeros(1, G.z_dim)
    z[0, 4 + 3] = 1.0  # the label slot of class 3
    noise = torch.zeros(1, 4)
    same = G.net(torch.cat([noise, torch.nn.functional.one_hot(torch.tensor([3]), 5).float()], 1))
    assert torch.allclose(G(z)[:, :6], same)
    with pytest.raises(ValueError, match="n_classes = 5"):
        G.generate(np.array([5]))


def test_nearest_neighbour_scores_by_brute_force():
    rng = np.random.default_rng(0)
    ref, x = rng.normal(size=(30, 4)), rng.normal(size=(7, 4))
    brute = np.sort(np.linalg.norm(x[:, None] - ref[None], axis=2), axis=1)
    assert np.allclose(nearest_neighbour_scores(ref, x), brute[:, 0])
    assert np.allclose(nearest_neighbour_scores(ref, x, k=3), brute[:, 2])
    assert np.allclose(nearest_neighbour_scores(ref, ref[:5]), 0)
    with pytest.raises(ValueError, match="k"):
        nearest_neighbour_scores(ref, x, k=31)


def test_discriminator_scores_are_minus_the_logit():
    D = nn.Sequential(nn.Linear(4, 1))
    x = np.random.default_rng(1).normal(size=(6, 1, 2, 2)).astype(np.float32)
    expected = -D(torch.from_numpy(x.reshape(6, 4))).detach().numpy().ravel()
    assert np.allclose(discriminator_scores(D, x), expected, atol=1e-6)


class _Line(nn.Module):
    """G(z) = (z, 0): it can draw the x-axis of the plane and nothing else."""

    z_dim = 1

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, z):
        return torch.cat([z * self.scale, torch.zeros_like(z)], dim=1)


def test_generator_residual_is_the_distance_to_what_g_can_draw():
    x = np.array([[3.0, 2.0], [-1.0, 0.0], [0.5, -0.5]])
    scores = generator_residual_scores(_Line(), x, steps=500, lr=0.1)
    assert np.allclose(scores, [2.0, 0.0, 0.5], atol=1e-3)


@pytest.fixture(scope="module")
def digits():
    return load_digits(8, "train") + load_digits(8, "test")


def test_train_conditional_gan_runs_on_the_digits(digits):
    x_train, y_train, _, _ = digits
    idx = stratified_subset(y_train, 3, seed=0)
    trainer = train_conditional_gan(x_train[idx], y_train[idx], steps=5, seed=0, width=16)
    assert trainer.steps_done == 5 and trainer.G.generate(np.arange(10)).shape == (10, 64)


def test_augmentation_experiment_small(digits):
    result = augmentation_experiment(*digits, per_class=3, n_fake=(2, 5), extra_real=2, seeds=(0, 1),
                                     steps=5, width=16)
    assert result.columns == ["real", "+2 GAN", "+5 GAN", "GAN only", "+2 real"]
    assert result.accuracy.shape == (2, 5) and ((0 <= result.accuracy) & (result.accuracy <= 1)).all()
    m, se = result.gain("+2 real")
    assert math.isclose(m, np.mean(result.accuracy[:, 4] - result.accuracy[:, 0]))
    assert "GAN only" in result.table() and "±" in result.table()
    again = augmentation_experiment(*digits, per_class=3, n_fake=(2, 5), extra_real=2, seeds=(0, 1),
                                    steps=5, width=16)
    assert np.array_equal(result.accuracy, again.accuracy)  # one seed, one answer
    with pytest.raises(ValueError, match="at least 2 seeds"):
        augmentation_experiment(*digits, seeds=(0,))


def test_anomaly_experiment_small(digits):
    result = anomaly_experiment(*digits, normal_classes=(0, 1), seeds=(0, 1), steps=5, width=16)
    assert result.auroc.shape == (2, 3)
    assert result.setup["n_normal_test"] + result.setup["n_anomaly_test"] == len(digits[3])
    assert np.all(result.auroc[:, 2] == result.auroc[0, 2])  # the nearest neighbour has no seed
    assert "nearest neighbour" in result.table()
    with pytest.raises(ValueError, match="normal and anomalous"):
        anomaly_experiment(*digits, normal_classes=range(10), seeds=(0, 1), steps=5)
