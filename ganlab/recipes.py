"""Recipes: named, documented bundles of training settings and model sizes.

A recipe says *how* to train (a :class:`~ganlab.train.TrainConfig`) and *what*
to train (the sizes of G and D), but not on which data: the same recipe runs on
the ring, the grid or your own points.  Each recipe names its sources.

    >>> from ganlab.recipes import get_recipe
    >>> recipe = get_recipe("textbook")
    >>> G, D = recipe.build(data, seed=0)          # nets drawn from the seed
    >>> trainer = recipe.trainer(data, seed=0)     # or both in one go
    >>> trainer.fit(2000)

Recipes (``RECIPES``):

* ``textbook``: the non-saturating GAN of Goodfellow et al. (2014) with the
  Adam settings of Radford et al. (2016, DCGAN): Adam lr 1e-4, betas
  (0.5, 0.999), batch 256, G and D 3 x 128 ReLU MLPs, z 2-D Gaussian.  On the
  8-Gaussian ring it hops between modes (REFERENCE.md section 3: 6.3 of 8
  modes after 20k steps): the mode-collapse demo.
* ``r1``: ``textbook`` + the R1 penalty gamma/2 * E||grad_x D(x_real)||^2 with
  gamma = 1 (Mescheder, Geiger & Nowozin 2018).  Ring: 8/8 modes within
  1-2k steps; grid: 25/25 within ~10k (REFERENCE.md section 3).
* ``wgan_gp``: Wasserstein critic with gradient penalty lambda = 10, 5 critic
  steps per G step, Adam 1e-4, betas (0, 0.9) (Gulrajani et al. 2017,
  Algorithm 1).  About 5x slower per G step than ``textbook``.
* ``ttur``: ``textbook`` with a two time-scale update rule (Heusel et al.
  2017): D learns 4x faster than G (lr_d = 4e-4, lr_g = 1e-4), the setting
  SAGAN (Zhang et al. 2019) made common.
* ``wgan_clip``: the original WGAN (Arjovsky, Chintala & Bottou 2017,
  Algorithm 1): Wasserstein critic, weights clipped to [-0.01, 0.01] after each
  critic step, 5 critic steps per G step, RMSprop lr 5e-5.
* ``sngan``: ``textbook`` with spectral normalisation of every layer of D
  (Miyato et al. 2018): each weight matrix divided by its largest singular
  value, so D is 1-Lipschitz.
* ``ema``: ``textbook`` plus an exponential moving average of G's weights
  (decay 0.999) used for sampling (Yazici et al. 2019; Karras et al. 2018).
* ``instance_noise``: ``textbook`` with Gaussian noise (sigma 0.1) added to
  every sample D sees, real and fake (Sonderby et al. 2017; Arjovsky & Bottou 2017).
* ``pacgan4``: ``textbook`` with a packed D that judges 4 samples at once
  (Lin et al. 2018, PacGAN4).
* ``recommended``: what this course recommends for the 2-D benchmarks, and
  benchmarks (``benchmarks/bench_modes.py``): R1 (gamma 0.3), an EMA of G
  (0.999), Adam lr 1e-3 for both players, 20 000 iterations.
* ``affine1d``: chapter 1's 1-D game: an affine counterfeiter
  x = mu + sigma * z against logistic police D(x) = sigmoid(w x + b), plain
  SGD with lr 0.05 for both, batch 256 (a small, transparent starting point).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

from . import _checks
from .train import TrainConfig, Trainer

__all__ = ["Recipe", "RECIPES", "get_recipe", "build_models", "MODEL_CLASSES"]

# The ganlab.models classes a recipe (and a saved run) may name.
MODEL_CLASSES = ("MLPGenerator", "MLPDiscriminator", "AffineGenerator", "LogisticDiscriminator")


@dataclass(frozen=True)
class Recipe:
    """A named bundle: training settings plus the sizes of G and D.

    Attributes:
        name: the registry name.
        summary: one line on what it is and why.
        config: the :class:`TrainConfig` (data-independent).
        generator, discriminator: ``{"class": <a ganlab.models class name>,
            ...its keyword arguments}``; the data dimension (``out_dim`` of an
            MLPGenerator, ``in_dim`` of an MLPDiscriminator) is filled in by
            :meth:`build`.
        sources: where the numbers come from.
        steps: the iterations a run of this recipe trains for by default (the
            CLI's ``train --steps`` default; the benchmarks use it).
    """

    name: str
    summary: str
    config: TrainConfig
    generator: dict
    discriminator: dict
    sources: str = ""
    steps: int = 2000

    def build(self, data, seed: int | None = 0):
        """G and D for ``data``, their initial weights drawn from ``seed``
        (torch's global RNG is left as it was)."""
        dim = _data_dim(data)
        seed = _checks.check_seed("seed", seed)
        return build_models(self.generator_spec(dim), self.discriminator_spec(dim), seed=seed)

    def generator_spec(self, dim: int) -> dict:
        """The generator's constructor spec for data of dimension ``dim``."""
        spec = dict(self.generator)
        if spec["class"] == "MLPGenerator":
            spec["out_dim"] = dim
        return spec

    def discriminator_spec(self, dim: int) -> dict:
        spec = dict(self.discriminator)
        if spec["class"] == "MLPDiscriminator":
            spec["in_dim"] = dim
        return spec

    def trainer(self, data, seed: int | None = 0, **overrides) -> Trainer:
        """A :class:`Trainer` on ``data`` with nets from :meth:`build` and this
        recipe's settings (``overrides`` replace TrainConfig fields)."""
        seed = _checks.check_seed("seed", seed)
        from .train import _resolve_data

        data = _resolve_data(data)
        G, D = self.build(data, seed=seed)
        return Trainer(G, D, data, self.config, seed=seed, **overrides)

    def describe(self) -> str:
        """A few lines for humans (the CLI's ``recipes`` command prints them)."""
        c = self.config
        keys = ["objective", "penalty", "gamma", "opt_g", "opt_d", "lr_g", "lr_d", "betas", "batch_size", "d_steps",
                "ema", "instance_noise"]
        shown = [k for k in keys if getattr(c, k) not in (None, 0.0)] + (["clip"] if c.penalty == "clip" else [])
        settings = ", ".join(f"{k}={getattr(c, k)!r}" for k in shown)
        return (
            f"{self.name}: {self.summary}\n  settings: {settings}, steps={self.steps}\n"
            f"  G: {self.generator}\n  D: {self.discriminator}\n  sources: {self.sources}"
        )


def build_models(generator: dict, discriminator: dict, seed: int | None = 0):
    """Build (G, D) from two specs ``{"class": ..., **kwargs}``, weights drawn
    from ``seed`` under a forked RNG (G first, then D)."""
    seed = _checks.check_seed("seed", seed)
    for name, spec in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(spec, dict) or "class" not in spec:
            raise TypeError(f"{name} must be a dict with a 'class' key, got {_checks._describe(spec)}")
        _checks.check_choice(f"{name}['class']", spec["class"], MODEL_CLASSES)
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        return _build_one(generator), _build_one(discriminator)


def _build_one(spec: dict):
    from . import models

    kwargs = {k: v for k, v in spec.items() if k != "class"}
    return getattr(models, spec["class"])(**kwargs)


def _data_dim(data) -> int:
    if isinstance(data, int) and not isinstance(data, bool):
        return _checks.check_int("data", data, minimum=1)
    dim = getattr(data, "dim", None)
    if isinstance(data, str):
        from .train import _resolve_data

        dim = _resolve_data(data).dim
    if not isinstance(dim, int):
        raise TypeError(f"data must be a ganlab.data distribution (or its dimension), got {_checks._describe(data)}")
    return dim


_MLP_3x128_G = {"class": "MLPGenerator", "z_dim": 2, "depth": 3, "width": 128, "activation": "relu"}
_MLP_3x128_D = {"class": "MLPDiscriminator", "depth": 3, "width": 128, "activation": "relu"}

_TEXTBOOK = TrainConfig(
    objective="nonsaturating", opt_g="adam", opt_d="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.999), batch_size=256
)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            name="textbook",
            summary="non-saturating GAN, Adam 1e-4 (0.5, 0.999), batch 256, 3x128 ReLU MLPs, z 2-D",
            config=_TEXTBOOK,
            generator=_MLP_3x128_G,
            discriminator=_MLP_3x128_D,
            sources="Goodfellow et al. 2014 (Algorithm 1, non-saturating G loss); Radford et al. 2016 (Adam "
            "beta1 = 0.5); toy setup of PacGAN / VEEGAN (REFERENCE.md section 3)",
        ),
        Recipe(
            name="r1",
            summary="textbook + R1 penalty (gamma/2) E||grad D(x_real)||^2 with gamma = 1",
            config=_TEXTBOOK.replace(penalty="r1", gamma=1.0),
            generator=_MLP_3x128_G,
            discriminator=_MLP_3x128_D,
            sources="Mescheder, Geiger & Nowozin 2018, 'Which training methods for GANs do actually converge?'",
        ),
        Recipe(
            name="wgan_gp",
            summary="Wasserstein critic + gradient penalty (lambda 10), 5 critic steps, Adam 1e-4 (0, 0.9)",
            config=_TEXTBOOK.replace(objective="wasserstein", penalty="gp", gamma=10.0, d_steps=5, betas=(0.0, 0.9)),
            generator=_MLP_3x128_G,
            discriminator=_MLP_3x128_D,
            sources="Gulrajani et al. 2017, 'Improved training of Wasserstein GANs', Algorithm 1",
        ),
        Recipe(
            name="ttur",
            summary="textbook with two time-scales: lr_d = 4e-4, lr_g = 1e-4",
            config=_TEXTBOOK.replace(lr_d=4e-4),
            generator=_MLP_3x128_G,
            discriminator=_MLP_3x128_D,
            sources="Heusel et al. 2017 (TTUR); Zhang et al. 2019 (SAGAN: lr_D 4e-4, lr_G 1e-4)",
        ),
        Recipe(
            name="wgan_clip",
            summary="Wasserstein critic with weight clipping (0.01), 5 critic steps, RMSprop 5e-5",
            config=_TEXTBOOK.replace(objective="wasserstein", penalty="clip", clip=0.01, d_steps=5,
                                     opt_g="rmsprop", opt_d="rmsprop", lr_g=5e-5, lr_d=5e-5),
            generator=_MLP_3x128_G,
            discriminator=_MLP_3x128_D,
            sources="Arjovsky, Chintala & Bottou 2017, 'Wasserstein GAN', Algorithm 1 (c = 0.01, n_critic = 5, "
            "RMSprop lr 5e-5)",
        ),
        Recipe(
            name="sngan",
            summary="textbook with spectral normalisation of every layer of D",
            config=_TEXTBOOK,
            generator=_MLP_3x128_G,
            discriminator={**_MLP_3x128_D, "spectral_norm": True},
            sources="Miyato, Kataoka, Koyama & Yoshida 2018, 'Spectral normalization for GANs'",
        ),
        Recipe(
            name="ema",
            summary="textbook + an exponential moving average of G's weights (decay 0.999) for sampling",
            config=_TEXTBOOK.replace(ema=0.999),
            generator=_MLP_3x128_G,
            discriminator=_MLP_3x128_D,
            sources="Yazici et al. 2019, 'The unusual effectiveness of averaging in GAN training'; "
            "Karras et al. 2018 (progressive GAN: G's EMA)",
        ),
        Recipe(
            name="instance_noise",
            summary="textbook + Gaussian instance noise (sigma 0.1) on every sample D sees",
            config=_TEXTBOOK.replace(instance_noise=0.1),
            generator=_MLP_3x128_G,
            discriminator=_MLP_3x128_D,
            sources="Sonderby et al. 2017, 'Amortised MAP inference for image super-resolution' (instance noise); "
            "Arjovsky & Bottou 2017",
        ),
        Recipe(
            name="pacgan4",
            summary="textbook with a packed D judging 4 samples at once (PacGAN4)",
            config=_TEXTBOOK,
            generator=_MLP_3x128_G,
            discriminator={**_MLP_3x128_D, "pack": 4},
            sources="Lin, Khetan, Fanti & Oh 2018, 'PacGAN: the power of two samples in GANs'",
        ),
        Recipe(
            name="recommended",
            summary="R1 (gamma 0.3) + EMA of G (0.999), Adam 1e-3 (0.5, 0.999), batch 256, 3x128 MLPs, 20k steps",
            # a snapshot every 250 of the 20 000 iterations: 81 frames, enough for an animation
            config=_TEXTBOOK.replace(penalty="r1", gamma=0.3, ema=0.999, lr_g=1e-3, lr_d=1e-3, snapshot_every=250),
            generator=_MLP_3x128_G,
            discriminator=_MLP_3x128_D,
            sources="this course's benchmark (benchmarks/bench_modes.py, benchmarks/RESULTS.md); R1: Mescheder et "
            "al. 2018; EMA: Yazici et al. 2019",
            steps=20000,
        ),
        Recipe(
            name="affine1d",
            summary="1-D: affine G x = mu + sigma z vs logistic D, SGD lr 0.05, batch 256",
            config=TrainConfig(objective="nonsaturating", opt_g="sgd", opt_d="sgd", lr_g=0.05, lr_d=0.05),
            generator={"class": "AffineGenerator", "mu": 0.0, "sigma": 1.0},
            discriminator={"class": "LogisticDiscriminator", "w": 0.0, "b": 0.0},
            sources="chapter 1 of the course (the counterfeiter and the police)",
        ),
    )
}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name`` (a copy: changing it does not change the registry)."""
    _checks.check_choice("name", name, RECIPES)
    recipe = RECIPES[name]
    return dataclasses.replace(recipe, config=dataclasses.replace(recipe.config))
