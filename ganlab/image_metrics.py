"""How good are generated digits?  Scores from a small digit classifier.

Looking at a grid of samples is the first test; numbers make it a
measurement.  The scores here follow the Inception Score and FID idea
(Salimans et al. 2016; Heusel et al. 2017) with a classifier small enough to
train in a few seconds on the real digits, instead of an ImageNet network:

* **confidence**: the classifier's mean top probability, E[max_c p(c | x)].
  A sharp, well-formed digit gets a confident answer; a blob does not.
* **class histogram**: how often each digit is predicted.  All ten digits at
  about 10 % each means G covers the classes; a few tall bars is mode
  collapse, seen in images.  ``covered`` counts the classes predicted, with
  confidence >= ``threshold``, for at least one image (the image analogue of
  the mode coverage of the 2-D benchmarks); ``rkl`` is KL(histogram || uniform),
  0 for a perfectly even histogram, log 10 = 2.30 for a single class.
* **Frechet distance** in the classifier's feature space (FID's formula):
  fit a Gaussian (mu, Sigma) to the features of each set of images, then
  ``FD = ||mu_1 - mu_2||^2 + tr(Sigma_1 + Sigma_2 - 2 (Sigma_1 Sigma_2)^(1/2))``,
  the squared 2-Wasserstein distance between the two Gaussians.
* **roughness**: the mean absolute second difference of neighbouring
  pixels, ``|x[j-1] - 2 x[j] + x[j+1]|`` along rows and columns, at the
  images' own size: 0 on smooth ramps (as bilinear resizing makes), large
  for pixel-level speckle.  The classifier sees images averaged down to
  8 x 8, which hides speckle; this number does not.

Every number is reported next to the same number for held-out REAL images
(the floor): real test digits are not scored 100 % confident, and two real
samples of a few hundred images are at a Frechet distance above 0.  A
generator is as good as the data on a score when it reaches the floor.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import _describe, check_float, check_int, check_seed

__all__ = [
    "DigitClassifier",
    "train_digit_classifier",
    "accuracy",
    "frechet_distance",
    "score_images",
    "check_frechet",
]


class DigitClassifier(nn.Module):
    """A small CNN for 8 x 8 digits: 3 conv layers, a 64-D feature layer, 10 logits.

    Larger images (e.g. 28 x 28) are first averaged down to 8 x 8
    (``adaptive_avg_pool2d``): the course's 28 x 28 digits are resized 8 x 8
    ones, so 8 x 8 holds all their information, and one classifier scores
    both sizes.
    """

    size = 8
    n_features = 64

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),             # 32 x 8 x 8
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),  # 64 x 4 x 4
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(),  # 64 x 2 x 2
            nn.Flatten(),
            nn.Linear(256, self.n_features), nn.ReLU(),
        )
        self.head = nn.Linear(self.n_features, 10)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(f"x must be a tensor of grey images (n, 1, H, W), got {_describe(x)}")
        if x.shape[-2:] != (self.size, self.size):
            x = F.adaptive_avg_pool2d(x, self.size)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 64-D features (the layer before the logits) in which FD is measured."""
        return self.body(self._prepare(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _as_images(name: str, x) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 1 or len(x) < 2:
        raise ValueError(f"{name} must be grey images of shape (n, 1, H, W) with n >= 2, got {_describe(x)}")
    return x.detach().float().cpu()


def train_digit_classifier(x, y, *, steps=400, batch_size=128, lr=2e-3, seed=0) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on images ``x`` in [-1, 1] with labels ``y``.

    ``x``: images (n, 1, H, W), or a list of such arrays of different sizes
    (e.g. the 8 x 8 and the 28 x 28 digits) with ``y`` a list of label arrays:
    the classifier then learns every size as it will see it (averaged down to
    8 x 8), and scores both fairly.

    Adam on the cross-entropy, ``steps`` minibatches of ``batch_size``, with
    a random shift of up to one pixel (a little augmentation: handwriting is
    never centred twice the same way).  Returns the net in eval mode.
    """
    xs, ys = (list(x), list(y)) if isinstance(x, (list, tuple)) else ([x], [y])
    if not xs or len(xs) != len(ys):
        raise ValueError(f"x and y must be arrays, or lists of the same length; got {len(xs)} and {len(ys)} items")
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    seed = check_seed("seed", seed)
    gen = torch.Generator().manual_seed(0 if seed is None else seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0 if seed is None else seed)
        net = DigitClassifier()
    for i, (xi, yi) in enumerate(zip(xs, ys)):
        xs[i] = net._prepare(_as_images("x", xi))
        ys[i] = torch.as_tensor(np.asarray(yi), dtype=torch.int64)
        if ys[i].shape != (len(xs[i]),) or int(ys[i].min()) < 0 or int(ys[i].max()) > 9:
            raise ValueError(f"y must hold {len(xs[i])} labels in 0..9, one per image, got shape {tuple(ys[i].shape)}")
    x, y = torch.cat(xs), torch.cat(ys)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)  # background is -1
    for _ in range(steps):
        idx = torch.randint(len(x), (batch_size,), generator=gen)
        dy, dx = torch.randint(3, (2,), generator=gen).tolist()
        xb = padded[idx, :, dy : dy + net.size, dx : dx + net.size]
        loss = F.cross_entropy(net(xb), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def _predict(classifier: DigitClassifier, x: torch.Tensor):
    feats = classifier.features(x)
    probs = torch.softmax(classifier.head(feats), dim=1)
    return feats.double().numpy(), probs.double().numpy()


def accuracy(classifier: DigitClassifier, x, y) -> float:
    """Fraction of images whose predicted digit is the label."""
    _, probs = _predict(classifier, _as_images("x", x))
    return float((probs.argmax(1) == np.asarray(y)).mean())


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (eigh)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(features_a, features_b) -> float:
    """FD between Gaussians fitted to two sets of features (rows = samples).

    ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^(1/2) S_b S_a^(1/2))^(1/2))``,
    using ``tr (S_a S_b)^(1/2) = tr (S_a^(1/2) S_b S_a^(1/2))^(1/2)`` (the
    latter matrix is symmetric, so its root is computed stably by eigh).
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"features must be two arrays (n, k) with the same k and n >= 2, got "
                         f"{a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrtm_psd(s_a)
    cross = _sqrtm_psd(root_a @ s_b @ root_a)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b) - 2.0 * np.trace(cross))


def score_images(images, classifier: DigitClassifier, reference, *, threshold=0.9) -> dict:
    """Confidence, class histogram, coverage and FD of ``images`` (see the module docstring).

    Args:
        images: (n, 1, H, W) generated (or real) images in [-1, 1].
        classifier: a trained :class:`DigitClassifier`.
        reference: real images (the training set) whose features FD compares with.
        threshold: a prediction counts towards ``covered`` if its top
            probability is at least this.

    Returns a dict: ``confidence``, ``histogram`` (10 fractions), ``covered``
    (0..10), ``rkl``, ``fd`` and ``roughness``.  Compare with the same call on held-out real
    images of the same number n: the floor.
    """
    images = _as_images("images", images)
    reference = _as_images("reference", reference)
    if not isinstance(classifier, DigitClassifier):
        raise TypeError(f"classifier must be a DigitClassifier, got {_describe(classifier)}")
    threshold = check_float("threshold", threshold, minimum=0.0, maximum=1.0)
    feats, probs = _predict(classifier, images)
    ref_feats, _ = _predict(classifier, reference)
    top, label = probs.max(1), probs.argmax(1)
    histogram = np.bincount(label, minlength=10) / len(label)
    nonzero = histogram > 0
    return {
        "confidence": float(top.mean()),
        "histogram": histogram.tolist(),
        "covered": int(len(np.unique(label[top >= threshold]))),
        "rkl": float(np.sum(histogram[nonzero] * np.log(histogram[nonzero] * 10))),
        "fd": frechet_distance(feats, ref_feats),
        "roughness": _roughness(images),
    }


def _roughness(x: torch.Tensor) -> float:
    """Mean |x[j-1] - 2 x[j] + x[j+1]| along rows and along columns (a discrete Laplacian)."""
    along_rows = (x[..., :, 2:] - 2 * x[..., :, 1:-1] + x[..., :, :-2]).abs().mean()
    along_cols = (x[..., 2:, :] - 2 * x[..., 1:-1, :] + x[..., :-2, :]).abs().mean()
    return float((along_rows + along_cols) / 2)


# --------------------------------------------------------------------------- #
# Self-check for chapter 8's exercise "Write the Frechet distance"
# --------------------------------------------------------------------------- #
def check_frechet(my_fd) -> bool:
    """Check ``my_fd(features_a, features_b) -> float`` against :func:`frechet_distance`.

    Prints what is right or wrong with a hint (never the solution); returns
    True when all cases agree to 1e-6 (relative).
    """
    if not callable(my_fd):
        raise TypeError(f"my_fd must be a function my_fd(features_a, features_b), got {_describe(my_fd)}")
    rng = np.random.default_rng(8)
    a = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    b = 0.5 * rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 1.0
    cases = {"two identical sets": (a, a), "a set and itself shifted by 1": (a, a + 1.0),
             "two different Gaussian clouds": (a, b)}
    for label, (x, y) in cases.items():
        try:
            got = float(my_fd(x.copy(), y.copy()))
        except Exception as exc:  # show the reader's error, not a traceback from here
            print(f"\u2718 my_fd raised {type(exc).__name__}: {exc}")
            return False
        want = frechet_distance(x, y)
        if not abs(got - want) <= 1e-6 * max(1.0, abs(want)):
            mu = float(np.sum((x.mean(0) - y.mean(0)) ** 2))
            if abs(got - mu) < 1e-6 * max(1.0, mu):
                hint = "you have the mean term only; add the covariance term tr(S_a + S_b - 2 (S_a S_b)^(1/2))"
            elif label == "two identical sets":
                hint = "identical sets are at distance 0: check the factor 2 and that the root is a MATRIX square root"
            else:
                hint = ("the matrix square root is not the element-wise one: use the eigendecomposition of the "
                        "symmetric matrix S_a^(1/2) S_b S_a^(1/2); np.cov needs rowvar=False for rows = samples")
            print(f"\u2718 {label}: got {got:.6g}, expected {want:.6g}. Hint: {hint}")
            return False
    print("\u2714 my_fd agrees with ganlab.image_metrics.frechet_distance on all three cases")
    return True
