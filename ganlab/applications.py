"""What GANs are used for, measured on small real data (the applications chapter).

Two experiments on the 8 x 8 handwritten digits of :func:`ganlab.datasets.load_digits`,
each small enough to run on a laptop CPU in seconds, each reported with its spread
over seeds rather than as one lucky number:

- **Data augmentation** (:func:`augmentation_experiment`). A classifier is trained on a
  few labelled real digits; does adding samples of a class-conditional GAN, trained on
  those same digits, make it better on the test set? The GAN is the conditional GAN
  of Mirza & Osindero (2014): G and D both receive the label y, concatenated to their
  input (:class:`ConditionalGenerator`, :class:`LabelledData`), trained by the ordinary
  :class:`~ganlab.train.Trainer`.
- **Anomaly detection** (:func:`anomaly_experiment`). A GAN is trained on the digits of
  some classes only; its discriminator's logit is then used as a normality score on
  test digits of all classes, and compared, by the area under the ROC curve
  (:func:`auroc`), with the simplest baseline there is: the distance to the nearest
  training digit (:func:`nearest_neighbour_scores`).

The classifier is multinomial logistic regression on the 64 pixels
(:func:`fit_classifier`): convex, so it has one answer and no seed of its own, and
any change in accuracy comes from the data it is given.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import _describe, check_float, check_int
from .data import Distribution
from .models import MLPDiscriminator, MLPGenerator
from .train import Trainer

__all__ = [
    "stratified_subset",
    "Classifier",
    "fit_classifier",
    "LabelledData",
    "ConditionalGenerator",
    "train_conditional_gan",
    "AugmentationResult",
    "augmentation_experiment",
    "auroc",
    "nearest_neighbour_scores",
    "discriminator_scores",
    "generator_residual_scores",
    "AnomalyResult",
    "anomaly_experiment",
    "mean_and_se",
]


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #
def _flat(name: str, x) -> np.ndarray:
    """(n, ...) images or rows -> a float64 array (n, d); checks finiteness."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf" or x.ndim < 2 or len(x) < 1:
        raise TypeError(f"{name} must be an array of shape (n, d) or (n, C, H, W), got {_describe(x)}")
    x = x.reshape(len(x), -1).astype(np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must contain only finite values")
    return x


def _labels(name: str, y, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,) or y.dtype.kind not in "iu" or (n and y.min() < 0):
        raise ValueError(f"{name} must hold {n} integer labels >= 0, one per sample, got shape {y.shape} "
                         f"of {y.dtype}")
    return y.astype(np.int64)


def mean_and_se(values) -> tuple[float, float]:
    """The mean of ``values`` and its standard error, std (ddof = 1) / sqrt(n)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"values must be a vector of at least 2 numbers, got shape {values.shape}")
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def stratified_subset(y, per_class, seed=0) -> np.ndarray:
    """Indices of ``per_class`` samples of every class of ``y``, drawn without
    replacement with ``seed`` (sorted by class, then in the order drawn)."""
    y = _labels("y", y, len(np.asarray(y)))
    per_class = check_int("per_class", per_class, minimum=1)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    picks = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        if len(rows) < per_class:
            raise ValueError(f"per_class={per_class} but class {c} has only {len(rows)} samples")
        picks.append(rng.choice(rows, per_class, replace=False))
    return np.concatenate(picks)


# --------------------------------------------------------------------------- #
# The classifier
# --------------------------------------------------------------------------- #
@dataclasses.dataclass
class Classifier:
    """Multinomial logistic regression: p(y = c | x) = softmax(x W + b)_c."""

    W: torch.Tensor  # (d, n_classes), float64
    b: torch.Tensor  # (n_classes,)

    def predict(self, x) -> np.ndarray:
        """The most probable class of each row (or image) of ``x``."""
        X = torch.from_numpy(_flat("x", x))
        if X.shape[1] != self.W.shape[0]:
            raise ValueError(f"x has {X.shape[1]} features per sample, the classifier was fitted on "
                             f"{self.W.shape[0]}")
        return (X @ self.W + self.b).argmax(1).numpy()

    def accuracy(self, x, y) -> float:
        """The fraction of ``x`` classified as ``y``."""
        return float(np.mean(self.predict(x) == _labels("y", y, len(x))))


def fit_classifier(x, y, weight_decay=0.01, n_classes=None) -> Classifier:
    """Fit multinomial logistic regression to (x, y) by L-BFGS, to convergence.

    Minimises  mean_i -log softmax(x_i W + b)_{y_i} + (weight_decay / 2) ||W||^2 ,
    a strictly convex loss for weight_decay > 0: one minimum, found from any start,
    so the fit has no randomness (float64 throughout).
    """
    X = torch.from_numpy(_flat("x", x))
    Y = torch.from_numpy(_labels("y", y, len(X)))
    weight_decay = check_float("weight_decay", weight_decay, minimum=0.0, strict_min=True)
    k = int(Y.max()) + 1 if n_classes is None else check_int("n_classes", n_classes, minimum=int(Y.max()) + 1)
    W = torch.zeros(X.shape[1], k, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=500, tolerance_grad=1e-9, tolerance_change=1e-12,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(X @ W + b, Y) + weight_decay / 2 * (W * W).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return Classifier(W.detach(), b.detach())


# --------------------------------------------------------------------------- #
# A class-conditional GAN with the ordinary Trainer
# --------------------------------------------------------------------------- #
class LabelledData(Distribution):
    """Labelled samples as p_data(x, y) for a conditional GAN.

    ``sample(n)`` draws n labelled samples at random (with replacement) and returns
    each as one row ``[x (flattened), one_hot(y)]``, of dim ``d + n_classes``: the
    label is part of what D sees, as in Mirza & Osindero (2014). With
    ``n_classes = 0`` the rows are just the flattened x (an unconditional GAN on
    images or vectors; ``y`` is then ignored and may be None).
    """

    has_density = False

    def __init__(self, x, y=None, n_classes=10, *, name: str = "labelled"):
        x = _flat("x", x)
        self.n_classes = check_int("n_classes", n_classes, minimum=0)
        self.x_dim = x.shape[1]
        rows = torch.from_numpy(x).float()
        if self.n_classes:
            y = _labels("y", y, len(x))
            if y.max() >= self.n_classes:
                raise ValueError(f"y holds the label {y.max()}, but n_classes={self.n_classes}")
            rows = torch.cat([rows, F.one_hot(torch.from_numpy(y), self.n_classes).float()], dim=1)
        if len(rows) < 2:
            raise ValueError(f"x must hold at least 2 samples, got {len(rows)}")
        self.rows, self.dim, self.name, self._bounds = rows, int(rows.shape[1]), name, None

    def _sample(self, n, g):
        return self.rows[torch.randint(len(self.rows), (n,), generator=g)]


class ConditionalGenerator(nn.Module):
    """G(z, y): an MLP from [noise, one_hot(y)] to a sample in (-1, 1), returned with its label.

    The Trainer draws one Gaussian vector z per sample, of size ``noise_dim + n_classes``.
    G reads the label from z's last ``n_classes`` entries, ``y = argmax(z[-n_classes:])``,
    which is uniform over the classes (the argmax of i.i.d. Gaussians is), the class
    balance of the training data. It returns ``[x_fake, one_hot(y)]``, the layout of
    :class:`LabelledData`, so D judges each fake together with the label it was made for.
    :meth:`generate` makes samples of chosen labels.
    """

    def __init__(self, noise_dim=16, n_classes=10, out_dim=64, depth=2, width=64):
        super().__init__()
        self.noise_dim = check_int("noise_dim", noise_dim, minimum=1)
        self.n_classes = check_int("n_classes", n_classes, minimum=1)
        self.z_dim = self.noise_dim + self.n_classes
        self.net = MLPGenerator(z_dim=self.z_dim, out_dim=out_dim, depth=depth, width=width,
                                out_activation="tanh")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        y = F.one_hot(z[:, self.noise_dim:].argmax(dim=1), self.n_classes).to(z.dtype)
        x = self.net(torch.cat([z[:, :self.noise_dim], y], dim=1))
        return torch.cat([x, y], dim=1)

    @torch.no_grad()
    def generate(self, labels, seed=0) -> np.ndarray:
        """Samples x_fake (n, out_dim), one for each label of ``labels``."""
        labels = torch.from_numpy(_labels("labels", labels, len(np.asarray(labels))))
        if len(labels) and labels.max() >= self.n_classes:
            raise ValueError(f"labels must be < n_classes = {self.n_classes}, got {int(labels.max())}")
        gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
        noise = torch.randn(len(labels), self.noise_dim, generator=gen)
        y = F.one_hot(labels, self.n_classes).float()
        was_training = self.training
        self.eval()
        x = self.net(torch.cat([noise, y], dim=1))
        self.train(was_training)
        return x.numpy()


def train_conditional_gan(x, y, steps=2000, seed=0, n_classes=10, noise_dim=16, depth=2, width=64,
                          lr=1e-3, batch_size=64, gamma=1.0) -> Trainer:
    """Train a conditional GAN on labelled (x, y) with the Trainer; returns the trainer.

    G: :class:`ConditionalGenerator`; D: an MLP on ``[x, one_hot(y)]`` (leaky ReLU).
    Non-saturating loss, Adam (lr, betas 0.5, 0.999) for both, and the R1 penalty
    (gamma / 2) E||grad D(x_real)||^2 when gamma > 0. ``seed`` fixes the weights and
    every random draw of training.
    """
    data = LabelledData(x, y, n_classes)
    seed = check_int("seed", seed, minimum=0)
    torch.manual_seed(seed)  # the starting weights
    G = ConditionalGenerator(noise_dim, n_classes, data.x_dim, depth, width)
    D = MLPDiscriminator(in_dim=data.dim, depth=depth, width=width, activation="leaky_relu")
    gamma = check_float("gamma", gamma, minimum=0.0)
    trainer = Trainer(G, D, data, objective="nonsaturating", lr_g=lr, lr_d=lr, batch_size=batch_size,
                      penalty="r1" if gamma > 0 else None, gamma=gamma if gamma > 0 else None,
                      snapshot_every=0, metrics_every=0, seed=seed)
    trainer.fit(check_int("steps", steps, minimum=1), progress=False)
    return trainer


# --------------------------------------------------------------------------- #
# Experiment 1: data augmentation
# --------------------------------------------------------------------------- #
@dataclasses.dataclass
class AugmentationResult:
    """Test accuracies, one row per seed. ``columns`` names them: "real" (the few real
    digits alone), "+N GAN" (plus N GAN samples per class), "GAN only" (the largest
    number of GAN samples, no real digit), "+K real" (plus K more REAL digits per class,
    what a genuine new sample is worth)."""

    columns: list
    accuracy: np.ndarray  # (n_seeds, n_columns)
    seeds: list
    setup: dict
    generators: list = dataclasses.field(default_factory=list, repr=False)  # one G per seed

    def summary(self) -> dict:
        """column -> (mean, standard error) over seeds; for the differences to "real",
        see :meth:`gain`."""
        return {c: mean_and_se(self.accuracy[:, j]) for j, c in enumerate(self.columns)}

    def gain(self, column) -> tuple[float, float]:
        """The paired difference accuracy[column] - accuracy["real"]: mean and SE over seeds."""
        j = self.columns.index(column)
        return mean_and_se(self.accuracy[:, j] - self.accuracy[:, 0])

    def table(self) -> str:
        """A text table: each column's mean ± SE, and its gain over "real"."""
        lines = [f"{'training set':>16}  {'test accuracy':>15}  {'change vs real':>16}"]
        for j, c in enumerate(self.columns):
            m, se = mean_and_se(self.accuracy[:, j])
            change = "" if j == 0 else "{:+.1f} ± {:.1f} pts".format(*(100 * v for v in self.gain(c)))
            lines.append(f"{c:>16}  {100 * m:8.1f} ± {100 * se:.1f}%  {change:>16}")
        return "\n".join(lines)


def augmentation_experiment(x_train, y_train, x_test, y_test, per_class=10, n_fake=(10, 100),
                            extra_real=10, seeds=(0, 1, 2), steps=2000, weight_decay=0.01,
                            **gan_options) -> AugmentationResult:
    """Does adding conditional-GAN samples help a classifier trained on few real samples?

    For each seed: draw ``per_class`` real training samples per class (the seed picks
    which); fit the classifier on them ("real"); train a conditional GAN on the SAME
    samples (:func:`train_conditional_gan`, the same seed) and refit on the real samples
    plus ``n`` GAN samples per class, for each n in ``n_fake``, labelled with the class
    they were generated for ("+n GAN"); fit on the largest set of GAN samples alone
    ("GAN only"); and, as a yardstick, on the real samples plus ``extra_real`` MORE real
    ones per class, drawn from the rest of the training set ("+K real"). Every fit is
    scored on the whole test set.
    """
    x_train, x_test = _flat("x_train", x_train), _flat("x_test", x_test)
    y_train, y_test = _labels("y_train", y_train, len(x_train)), _labels("y_test", y_test, len(x_test))
    n_classes = int(y_train.max()) + 1
    n_fake = [check_int("n_fake", n, minimum=1) for n in n_fake]
    extra_real = check_int("extra_real", extra_real, minimum=0)
    seeds = [check_int("seed", s, minimum=0) for s in seeds]
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least 2 seeds (a spread needs two), got {seeds}")
    columns = ["real", *[f"+{n} GAN" for n in n_fake], "GAN only"] + ([f"+{extra_real} real"] if extra_real else [])
    rows, generators = [], []
    for seed in seeds:
        both = stratified_subset(y_train, per_class + extra_real, seed)
        chosen = both.reshape(n_classes, -1)  # per class: the few, then the extra
        few, extra = chosen[:, :per_class].ravel(), chosen[:, per_class:].ravel()
        x_few, y_few = x_train[few], y_train[few]

        def score(x, y):
            return fit_classifier(x, y, weight_decay, n_classes).accuracy(x_test, y_test)

        G = train_conditional_gan(x_few, y_few, steps=steps, seed=seed, n_classes=n_classes, **gan_options).G
        generators.append(G)
        labels = np.repeat(np.arange(n_classes), max(n_fake))
        x_gan = G.generate(labels, seed=seed).astype(np.float64)
        row = [score(x_few, y_few)]
        for n in n_fake:
            keep = np.concatenate([np.flatnonzero(labels == c)[:n] for c in range(n_classes)])
            row.append(score(np.concatenate([x_few, x_gan[keep]]), np.concatenate([y_few, labels[keep]])))
        row.append(score(x_gan, labels))
        if extra_real:
            row.append(score(x_train[np.concatenate([few, extra])], y_train[np.concatenate([few, extra])]))
        rows.append(row)
    setup = dict(per_class=per_class, n_fake=n_fake, extra_real=extra_real, steps=steps,
                 weight_decay=weight_decay, n_test=len(x_test), **gan_options)
    return AugmentationResult(columns, np.array(rows), seeds, setup, generators)


# --------------------------------------------------------------------------- #
# Experiment 2: anomaly detection
# --------------------------------------------------------------------------- #
def auroc(scores_normal, scores_anomaly) -> float:
    """The area under the ROC curve of a score that should be HIGHER on anomalies.

    AUROC = P(score(anomaly) > score(normal)) + P(tie) / 2, over all pairs of one
    anomaly and one normal sample: 1 separates them perfectly, 0.5 is a coin flip.
    Computed from ranks (the Mann-Whitney U statistic, ties given their average rank),
    in O(n log n).
    """
    normal = np.asarray(scores_normal, dtype=np.float64).ravel()
    anomaly = np.asarray(scores_anomaly, dtype=np.float64).ravel()
    for name, s in (("scores_normal", normal), ("scores_anomaly", anomaly)):
        if len(s) == 0 or not np.isfinite(s).all():
            raise ValueError(f"{name} must be a non-empty array of finite numbers")
    both = np.concatenate([normal, anomaly])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(len(both))
    sorted_scores = both[order]
    # average rank (1-based) within each run of tied scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(both)]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + 1 + e) / 2
    n_a = len(anomaly)
    u = ranks[len(normal):].sum() - n_a * (n_a + 1) / 2
    return float(u / (n_a * len(normal)))


def nearest_neighbour_scores(x_reference, x, k=1) -> np.ndarray:
    """The distance from each row of ``x`` to its k-th nearest row of ``x_reference``
    (Euclidean, on flattened samples): large = unlike anything seen in training."""
    ref = torch.from_numpy(_flat("x_reference", x_reference))
    q = torch.from_numpy(_flat("x", x))
    k = check_int("k", k, minimum=1, maximum=len(ref))
    distances = torch.cdist(q, ref, compute_mode="donot_use_mm_for_euclid_dist")  # exact
    return distances.topk(k, dim=1, largest=False).values[:, -1].numpy()


@torch.no_grad()
def discriminator_scores(D, x) -> np.ndarray:
    """Anomaly scores from a discriminator: minus D's logit, so that what D finds less
    "real" scores higher. D is run in eval mode on the flattened x."""
    was_training = D.training
    D.eval()
    logits = D(torch.from_numpy(_flat("x", x)).float())
    D.train(was_training)
    return (-logits.reshape(-1)).numpy().astype(np.float64)


def generator_residual_scores(G, x, steps=300, lr=0.05, seed=0) -> np.ndarray:
    """Anomaly scores from a generator: how far x is from everything G can draw.

    The residual of AnoGAN (Schlegl et al. 2017) without its feature term: for each x,
    search the noise space for the z whose G(z) is closest,
    ``score(x) = min_z ||G(z) - x||`` (Euclidean, flattened), by ``steps`` Adam steps
    on z from a random start, all samples at once. G was trained on normal data
    only, so it should draw normal samples well and anomalies badly.
    """
    X = torch.from_numpy(_flat("x", x)).float()
    steps = check_int("steps", steps, minimum=1)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    z = torch.randn(len(X), G.z_dim, generator=gen).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    was_training = G.training
    G.eval().requires_grad_(False)
    try:
        for _ in range(steps):
            residual = ((G(z).reshape(len(X), -1) - X) ** 2).sum(dim=1)
            opt.zero_grad()
            residual.sum().backward()  # each z only affects its own residual
            opt.step()
        with torch.no_grad():
            best = ((G(z).reshape(len(X), -1) - X) ** 2).sum(dim=1).sqrt()
    finally:
        G.requires_grad_(True).train(was_training)
    return best.numpy().astype(np.float64)


@dataclasses.dataclass
class AnomalyResult:
    """AUROC per seed of each detector (``columns``) and how the test set was made."""

    columns: list
    auroc: np.ndarray  # (n_seeds, n_columns)
    seeds: list
    setup: dict

    def table(self) -> str:
        lines = [f"{'anomaly score':>26}  {'AUROC':>13}"]
        for j, c in enumerate(self.columns):
            m, se = mean_and_se(self.auroc[:, j])
            lines.append(f"{c:>26}  {m:.3f} ± {se:.3f}")
        return "\n".join(lines)


def anomaly_experiment(x_train, y_train, x_test, y_test, normal_classes=(0, 1, 2, 3, 4), seeds=(0, 1, 2),
                       steps=2000, depth=2, width=64, lr=1e-3, batch_size=64, gamma=1.0,
                       noise_dim=16) -> AnomalyResult:
    """Score test samples with a GAN's discriminator trained on the normal classes only.

    For each seed a GAN (MLPs, :class:`LabelledData` with no labels) is trained on the
    training samples of ``normal_classes``. Test samples of those classes are the
    normals, test samples of every other class the anomalies. Detectors: minus D's logit
    (:func:`discriminator_scores`), the distance to G's samples
    (:func:`generator_residual_scores`), and the distance to the nearest normal training
    sample (:func:`nearest_neighbour_scores`), which has no seed.
    """
    x_train, x_test = _flat("x_train", x_train), _flat("x_test", x_test)
    y_train, y_test = _labels("y_train", y_train, len(x_train)), _labels("y_test", y_test, len(x_test))
    normal_classes = sorted({check_int("normal class", int(c), minimum=0) for c in normal_classes})
    seeds = [check_int("seed", s, minimum=0) for s in seeds]
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least 2 seeds (a spread needs two), got {seeds}")
    is_normal_train = np.isin(y_train, normal_classes)
    is_normal_test = np.isin(y_test, normal_classes)
    if is_normal_test.all() or not is_normal_test.any():
        raise ValueError("the test set must hold both normal and anomalous classes")
    x_normal = x_train[is_normal_train]
    nn_scores = nearest_neighbour_scores(x_normal, x_test)
    rows = []
    for seed in seeds:
        data = LabelledData(x_normal, None, n_classes=0, name="normal digits")
        torch.manual_seed(seed)
        G = MLPGenerator(z_dim=noise_dim, out_dim=data.dim, depth=depth, width=width, out_activation="tanh")
        D = MLPDiscriminator(in_dim=data.dim, depth=depth, width=width, activation="leaky_relu")
        trainer = Trainer(G, D, data, objective="nonsaturating", lr_g=lr, lr_d=lr, batch_size=batch_size,
                          penalty="r1" if gamma > 0 else None, gamma=gamma if gamma > 0 else None,
                          snapshot_every=0, metrics_every=0, seed=seed)
        trainer.fit(check_int("steps", steps, minimum=1), progress=False)
        scores = [discriminator_scores(trainer.D, x_test),
                  generator_residual_scores(trainer.G, x_test, seed=seed), nn_scores]
        rows.append([auroc(s[is_normal_test], s[~is_normal_test]) for s in scores])
    setup = dict(normal_classes=normal_classes, n_train=int(is_normal_train.sum()),
                 n_normal_test=int(is_normal_test.sum()), n_anomaly_test=int((~is_normal_test).sum()),
                 steps=steps, depth=depth, width=width, lr=lr, batch_size=batch_size, gamma=gamma)
    columns = ["discriminator (-logit)", "generator residual", "nearest neighbour distance"]
    return AnomalyResult(columns, np.array(rows), seeds, setup)
