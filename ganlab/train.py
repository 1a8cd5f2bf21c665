"""Train a generator G against a discriminator D, and record what happens.

The training step is Algorithm 1 of Goodfellow et al. (2014), "Generative
Adversarial Nets", with the objective of your choice::

    for each iteration:
        for k = d_steps times:                      # D's move, G held fixed
            sample x_real ~ p_data, z ~ p_z;  x_fake = G(z)
            update D by descending  L_D = d_loss(D(x_real), D(x_fake)) [+ penalty]
        for g_steps times:                          # G's move, D held fixed
            take z ~ p_z (by default the z of D's last step, see reuse_fake)
            update G by descending  L_G = g_loss(D(G(z)))

Read ``Trainer._iterate``, ``_update_d`` and ``_update_g`` beside the chapter:
they are these lines.  With ``simultaneous=True`` both players move at once
from the same point (gradient descent-ascent): one batch, both gradients.

Every iteration appends one row to the :class:`RunRecord` (losses, D's mean
output on real and fake samples, gradient norms) and every ``snapshot_every``
iterations a snapshot of everything a figure needs: fake samples from a FIXED
batch of z (so points keep their identity and glide), D on a grid over
``data.bounds``, G applied to a fixed lattice of z (the "manifold"), and the
gradient of the G-loss at each fake point (the arrows G follows).

What the trainer does for speed (``benchmarks/bench_trainer.py`` measures it
against the pytorch/examples dcgan loop), none of which changes the maths:

* D's step runs ONE forward pass on ``cat([x_real, x_fake])``.
* G's step reuses the fakes G made for D's step, graph and all (as dcgan
  does), so G runs forward once per iteration; with ``reuse_fake=False`` the
  fakes for D's step are made under ``torch.no_grad()`` instead.
* During G's step D's weights are frozen (``requires_grad_(False)``), so the
  backward pass computes gradients w.r.t. D's *input* only, not D's weights.
* Optimisers use the fused (or foreach) implementations: one kernel for all
  weights instead of a Python loop over them.
* Minibatches of data and noise are drawn in blocks of up to 64 batches.
* The per-step numbers stay on the device, one small tensor per iteration,
  and become Python floats in blocks, not with an ``.item()`` per value.

Randomness (one seed, bitwise reproducible on CPU): the trainer owns its random
streams, all derived from ``config.seed`` with ``numpy.random.SeedSequence``:
data minibatches, noise z, "aux" draws (instance noise, the gradient-penalty
mixing) and the fixed batches of snapshots and metrics.  All are drawn on the
CPU, so a seed gives the same numbers on every device.  The trainer never
touches the weights G and D arrive with (a hand-set ``AffineGenerator(mu=3.0)``
or a pretrained net is used as is): build the nets from the same seed
(``ganlab.recipes.Recipe.build(data, seed)`` does) or pass ``reinit=True`` to
re-draw, from the seed, every submodule that has ``reset_parameters()``.
Snapshots and metrics use their own fixed batches (and run the nets in eval
mode), so how often you record never changes the training.

Divergence guard: every ``guard_every`` iterations (default 10) the trainer
checks, with one host read, that the losses, gradient norms and weights are
finite, and copies the whole training state (weights, optimiser state, EMA,
random streams, step) into preallocated tensors (one ``foreach`` copy; with the
check, under 1 % of the textbook step).  When something is not finite it
restores that copy and replays the iterations since, one at a time and checked
(the streams make the replay retrace the same path), stopping just before the
first bad one.  So nothing good is lost: G, D, the optimisers and the streams
are exactly as they were after the last finite iteration.  Then it raises
:class:`TrainingDiverged` naming the step and the last finite losses; you can
lower a learning rate (:meth:`Trainer.set_lr`) and call ``fit`` again.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from . import _checks

__all__ = [
    "TrainConfig",
    "Trainer",
    "RunRecord",
    "TrainingDiverged",
    "resolve_device",
    "OBJECTIVES",
    "PENALTIES",
    "OPTIMIZERS",
    "HISTORY_KEYS",
]

OBJECTIVES = ("minimax", "nonsaturating", "least_squares", "hinge", "wasserstein")
PENALTIES = ("r1", "r2", "gp", "clip")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
NOISE_KINDS = ("gaussian", "uniform")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
DEVICES = ("auto", "cpu", "cuda", "mps")
# Objectives whose D(x) = sigmoid(logit) is a probability; for the others D's
# raw output is a score (a critic), and that is what the record shows.
_PROBABILITY_OBJECTIVES = ("minimax", "nonsaturating")
# gamma when none is given: R1/R2 with gamma = 1 (Mescheder et al. 2018, and
# REFERENCE.md section 3), WGAN-GP with lambda = 10 (Gulrajani et al. 2017).
_DEFAULT_GAMMA = {"r1": 1.0, "r2": 1.0, "gp": 10.0}

HISTORY_KEYS = ("step", "loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")
_ROW_KEYS = HISTORY_KEYS[1:]  # the per-iteration numbers kept on the device
_D_FIELDS = (0, 2, 3, 4)  # loss_d, d_real, d_fake, grad_norm_d
_G_FIELDS = (1, 5)  # loss_g, grad_norm_g

_CHECKPOINT_FORMAT = "ganlab.checkpoint/1"
_RECORD_FORMAT = "ganlab.run_record/1"


# --------------------------------------------------------------------------- #
# Configuration
# --------------------------------------------------------------------------- #
def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_checks._describe(value)}")
    return bool(value)


def _check_optional_choice(name: str, value, allowed) -> str | None:
    if value is None:
        return None
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be None or one of {options}, got {_checks._describe(value)}")
    return value


def _check_device_name(name: str, value) -> str:
    if isinstance(value, torch.device):
        value = str(value)
    if isinstance(value, str) and (value in DEVICES or value.startswith("cuda:")):
        return value
    options = ", ".join(repr(d) for d in DEVICES)
    raise ValueError(f"{name} must be one of {options} (or 'cuda:N'), got {_checks._describe(value)}")


@dataclass
class TrainConfig:
    """Everything that decides how G and D are trained (not what they are).

    Objective and penalties (formulas in :mod:`ganlab.losses`):
        objective: "minimax", "nonsaturating", "least_squares", "hinge" or
            "wasserstein".
        penalty: None, "r1" (gamma/2 * E||grad_x D(x_real)||^2), "r2" (the same
            on fakes), "gp" (gamma * E(||grad_x D(x_hat)||-1)^2, WGAN-GP) or
            "clip" (clip D's weights to [-clip, clip] after each D update).
        gamma: the penalty weight; None means 1.0 for r1/r2, 10.0 for gp.
            Convention: R1/R2 are added as gamma/2 * E||grad||^2 (Mescheder et
            al. 2018, eq. 9; their code uses gamma * E||grad||^2 without 1/2).
        clip: the weight-clipping bound for penalty="clip" (WGAN: 0.01).
        instance_noise: sigma of Gaussian noise added to every sample D sees.

    Optimisers (TTUR = different learning rates for G and D):
        opt_g, opt_d: "adam", "sgd" or "rmsprop".   lr_g, lr_d: learning rates.
        betas: Adam's (beta1, beta2).   momentum: for SGD and RMSprop.

    The game:
        batch_size: samples per minibatch (real and fake each).
        d_steps, g_steps: D updates then G updates per iteration (k in Algorithm 1).
        reuse_fake: G's first update of an iteration reuses the fake batch of
            D's last update (as pytorch/examples dcgan/main.py does): one
            forward pass of G fewer.  False draws a fresh z for G, exactly as
            Algorithm 1 is written.  Either way z is independent of G's weights.
        simultaneous: both players update at once from the same point
            (needs d_steps = g_steps = 1).
        ema: None, or the decay of an exponential moving average of G's weights
            (e.g. 0.999); sample() and metrics then use the average.
        noise: "gaussian" or "uniform" noise z.

    Running: device ("cpu", "cuda", "mps" or "auto": CUDA, then Apple MPS,
    then CPU), amp (bf16 autocast on CUDA GPUs that support it), seed (None
    draws one and records it), reinit (re-draw the nets' weights from seed).

    Speed on a GPU (none of it changes the maths): channels_last (keep
    convolutional nets and image batches in NHWC memory order, which the
    GPU's convolution kernels prefer, above all with amp) and compile (None,
    or a ``torch.compile`` mode for G and D: "default" fuses small
    operations, "reduce-overhead" also replays each step as a CUDA graph,
    "max-autotune" searches for the fastest kernels).  Compiling costs
    seconds to minutes once, at the first steps.

    Recording: snapshot_every (0 = never), metrics_every (0 = never; mode
    statistics for mixtures with known centres), n_snapshot fake points per
    snapshot, n_metrics samples per metric, grid_size (D's heatmap: grid_size
    x grid_size in 2-D, grid_size points in 1-D), z_grid_size (the z lattice:
    z_grid_size x z_grid_size for 2-D noise, z_grid_size points for 1-D), and
    guard_every (check for divergence and copy the state every so many
    iterations; a rollback replays the iterations since the copy, so any
    value loses nothing: a larger one costs less per step, more on a rollback).
    """

    objective: str = "nonsaturating"
    penalty: str | None = None
    gamma: float | None = None
    clip: float = 0.01
    instance_noise: float = 0.0
    opt_g: str = "adam"
    opt_d: str = "adam"
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple = (0.5, 0.999)
    momentum: float = 0.0
    batch_size: int = 256
    d_steps: int = 1
    g_steps: int = 1
    reuse_fake: bool = True
    simultaneous: bool = False
    ema: float | None = None
    noise: str = "gaussian"
    device: str = "cpu"
    amp: bool = False
    channels_last: bool = False
    compile: str | None = None
    seed: int | None = 0
    reinit: bool = False
    snapshot_every: int = 100
    metrics_every: int = 500
    n_snapshot: int = 512
    n_metrics: int = 2500
    grid_size: int = 64
    z_grid_size: int = 20
    view: tuple | None = None
    guard_every: int = 10

    def __post_init__(self):
        self.validate()

    def validate(self) -> "TrainConfig":
        """Check every field; raise TypeError/ValueError naming the field."""
        _checks.check_choice("objective", self.objective, OBJECTIVES)
        _check_optional_choice("penalty", self.penalty, PENALTIES)
        if self.gamma is not None:
            self.gamma = _checks.check_float("gamma", self.gamma, minimum=0.0, strict_min=True)
        self.clip = _checks.check_float("clip", self.clip, minimum=0.0, strict_min=True)
        self.instance_noise = _checks.check_float("instance_noise", self.instance_noise, minimum=0.0)
        _checks.check_choice("opt_g", self.opt_g, OPTIMIZERS)
        _checks.check_choice("opt_d", self.opt_d, OPTIMIZERS)
        self.lr_g = _checks.check_float("lr_g", self.lr_g, minimum=0.0, strict_min=True)
        self.lr_d = _checks.check_float("lr_d", self.lr_d, minimum=0.0, strict_min=True)
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {_checks._describe(self.betas)}")
        self.betas = tuple(
            _checks.check_float(f"betas[{i}]", b, minimum=0.0, maximum=0.999999) for i, b in enumerate(self.betas)
        )
        self.momentum = _checks.check_float("momentum", self.momentum, minimum=0.0, maximum=0.999999)
        self.batch_size = _checks.check_int("batch_size", self.batch_size, minimum=1)
        self.d_steps = _checks.check_int("d_steps", self.d_steps, minimum=1)
        self.g_steps = _checks.check_int("g_steps", self.g_steps, minimum=1)
        self.reuse_fake = _check_bool("reuse_fake", self.reuse_fake)
        self.simultaneous = _check_bool("simultaneous", self.simultaneous)
        if self.simultaneous and (self.d_steps != 1 or self.g_steps != 1):
            raise ValueError(
                "simultaneous=True moves both players once from the same point, so d_steps and g_steps "
                f"must both be 1, got d_steps={self.d_steps}, g_steps={self.g_steps}"
            )
        if self.ema is not None:
            self.ema = _checks.check_float("ema", self.ema, minimum=0.0, maximum=1.0, strict_min=True)
            if self.ema == 1.0:
                raise ValueError("ema must be None or a decay in (0, 1) such as 0.999, got 1.0")
        _checks.check_choice("noise", self.noise, NOISE_KINDS)
        self.device = _check_device_name("device", self.device)
        self.amp = _check_bool("amp", self.amp)
        self.channels_last = _check_bool("channels_last", self.channels_last)
        self.compile = _check_optional_choice("compile", self.compile, COMPILE_MODES)
        self.seed = _checks.check_seed("seed", self.seed)
        self.reinit = _check_bool("reinit", self.reinit)
        self.snapshot_every = _checks.check_int("snapshot_every", self.snapshot_every, minimum=0)
        self.metrics_every = _checks.check_int("metrics_every", self.metrics_every, minimum=0)
        self.n_snapshot = _checks.check_int("n_snapshot", self.n_snapshot, minimum=1)
        self.n_metrics = _checks.check_int("n_metrics", self.n_metrics, minimum=1)
        self.grid_size = _checks.check_int("grid_size", self.grid_size, minimum=2, maximum=1024)
        self.z_grid_size = _checks.check_int("z_grid_size", self.z_grid_size, minimum=2, maximum=1024)
        self.view = _check_view("view", self.view)
        self.guard_every = _checks.check_int("guard_every", self.guard_every, minimum=1)
        return self

    @property
    def penalty_weight(self) -> float:
        """gamma, or the default for the penalty (1 for r1/r2, 10 for gp)."""
        if self.gamma is not None:
            return self.gamma
        return _DEFAULT_GAMMA.get(self.penalty, 1.0)

    def to_dict(self) -> dict:
        """A JSON-ready dict of the fields."""
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a dict; unknown keys raise ValueError listing the known ones."""
        if not isinstance(values, dict):
            raise TypeError(f"config must be a dict, got {_checks._describe(values)}")
        _check_field_names(values)
        values = dict(values)
        if "betas" in values and isinstance(values["betas"], list):
            values["betas"] = tuple(values["betas"])
        return cls(**values)

    def replace(self, **changes) -> "TrainConfig":
        """A validated copy with some fields changed."""
        _check_field_names(changes)
        return dataclasses.replace(self, **changes)


def _field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(TrainConfig)]


def _check_field_names(values: dict) -> None:
    known = _field_names()
    unknown = [k for k in values if k not in known]
    if unknown:
        raise ValueError(
            f"unknown TrainConfig field(s) {', '.join(map(repr, unknown))}; known fields: {', '.join(known)}"
        )


class TrainingDiverged(RuntimeError):
    """Training produced a non-finite loss, gradient or weight.

    Attributes: ``step`` (the first iteration that went wrong), ``last_losses``
    (dict with the step, loss_d and loss_g of the last finite iteration, or None)
    and ``rolled_back_to`` (the iteration whose state the trainer now holds).
    """

    def __init__(self, message: str, step: int, last_losses: dict | None, rolled_back_to: int):
        super().__init__(message)
        self.step = step
        self.last_losses = last_losses
        self.rolled_back_to = rolled_back_to


def resolve_device(device: str = "auto") -> torch.device:
    """"auto" -> CUDA if available, then Apple MPS, then CPU; else check the name."""
    device = _check_device_name("device", device)
    mps = getattr(torch.backends, "mps", None)
    mps_ok = mps is not None and mps.is_available()
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_ok else torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available here; use 'cpu' or 'auto'")
    if device == "mps" and not mps_ok:
        raise ValueError("device='mps' but Apple MPS is not available here; use 'cpu' or 'auto'")
    return torch.device(device)


# --------------------------------------------------------------------------- #
# The run record
# --------------------------------------------------------------------------- #
class RunRecord:
    """What a training run hands to everything that draws.

    Attributes:
        history: dict of equal-length lists, one entry per iteration, keys
            ``HISTORY_KEYS``: step, loss_d, loss_g, d_real (mean D(x_real)),
            d_fake (mean D(G(z))), grad_norm_d, grad_norm_g.  NaN marks a
            player that did not move in that iteration (``d_step()`` /
            ``g_step()`` of the playground).
        metrics: list of dicts ``{"step": t, ...}`` (e.g. modes, hq, rkl).
        snapshots: list of dicts with ``step`` and float32 arrays
            ``x_fake`` (n_snapshot, d): G(z) for a fixed batch of z;
            ``d_grid``: D on the grid, shape (grid_size, grid_size) indexed
            [iy, ix] for 2-D data, (grid_size,) for 1-D, None above 2-D;
            ``g_grid``: G on the fixed z lattice, (L, L, d) for 2-D noise,
            (L, d) for 1-D noise;
            ``grad_fake`` (n_snapshot, d): d loss_G(x_i) / d x_i of the
            per-sample G-loss; G moves x_i along -grad_fake[i].
        grid_x, grid_y: the grid's axes (grid_y is None for 1-D data).
        z_grid: the fixed z lattice (L, L, z_dim) or (L, z_dim).
        x_real: a fixed sample of real data (n_snapshot, d), for plotting.
        p_data_grid: the exact data density on the grid, where known.
        d_output: "probability" (D = sigmoid(logit)) or "score" (raw output,
            for least squares, hinge and Wasserstein objectives).
        config (dict), data_name (str), data_info (dict: dim, bounds, and
        centres/std for mixtures), seed (int).

    ``save(path)`` writes one ``.npz`` file (arrays plus a JSON header) that
    ``RunRecord.load(path)`` reads with ``allow_pickle=False``.
    """

    def __init__(
        self,
        *,
        config: dict | None = None,
        data_name: str = "",
        data_info: dict | None = None,
        seed: int | None = None,
        d_output: str = "probability",
        grid_x: np.ndarray | None = None,
        grid_y: np.ndarray | None = None,
        z_grid: np.ndarray | None = None,
        x_real: np.ndarray | None = None,
        p_data_grid: np.ndarray | None = None,
    ):
        self.history: dict[str, list] = {k: [] for k in HISTORY_KEYS}
        self.metrics: list[dict] = []
        self.snapshots: list[dict] = []
        self.config = dict(config or {})
        self.data_name = data_name
        self.data_info = dict(data_info or {})
        self.seed = seed
        self.d_output = d_output
        self.grid_x = grid_x
        self.grid_y = grid_y
        self.z_grid = z_grid
        self.x_real = x_real
        self.p_data_grid = p_data_grid

    # -- reading -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.history["step"])

    def __repr__(self) -> str:
        return (
            f"RunRecord(data={self.data_name!r}, steps={len(self)}, snapshots={len(self.snapshots)}, "
            f"metrics={len(self.metrics)})"
        )

    @property
    def last_step(self) -> int:
        """The step of the last recorded iteration (0 before training)."""
        return int(self.history["step"][-1]) if len(self) else 0

    @property
    def snapshot_steps(self) -> list[int]:
        return [int(s["step"]) for s in self.snapshots]

    def array(self, key: str) -> np.ndarray:
        """One history column as a numpy array (float64; step as int64)."""
        _checks.check_choice("key", key, HISTORY_KEYS)
        dtype = np.int64 if key == "step" else np.float64
        return np.asarray(self.history[key], dtype=dtype)

    def _truncate(self, step: int) -> None:
        """Forget everything recorded after ``step`` (used by the rollback)."""
        keep = sum(1 for s in self.history["step"] if s <= step)
        for k in HISTORY_KEYS:
            del self.history[k][keep:]
        self.snapshots = [s for s in self.snapshots if s["step"] <= step]
        self.metrics = [m for m in self.metrics if m["step"] <= step]

    # -- saving --------------------------------------------------------------
    _ARRAY_FIELDS = ("grid_x", "grid_y", "z_grid", "x_real", "p_data_grid")
    _SNAPSHOT_FIELDS = ("x_fake", "d_grid", "g_grid", "grad_fake")

    def to_bytes(self) -> bytes:
        """The record as the bytes of an .npz file (see :meth:`save`)."""
        arrays: dict[str, np.ndarray] = {}
        header = {
            "format": _RECORD_FORMAT,
            "config": self.config,
            "data_name": self.data_name,
            "data_info": self.data_info,
            "seed": self.seed,
            "d_output": self.d_output,
            "metrics": self.metrics,
            "arrays": [],
            "snapshot_fields": [],
        }
        for name in self._ARRAY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                arrays[name] = np.asarray(value, dtype=np.float32)
                header["arrays"].append(name)
        for k in HISTORY_KEYS:
            arrays["history/" + k] = self.array(k)
        arrays["snapshots/step"] = np.asarray(self.snapshot_steps, dtype=np.int64)
        for name in self._SNAPSHOT_FIELDS:
            values = [s.get(name) for s in self.snapshots]
            if values and all(v is not None for v in values):
                arrays["snapshots/" + name] = np.stack(values).astype(np.float32, copy=False)
                header["snapshot_fields"].append(name)
        arrays["header"] = np.array(json.dumps(header, default=_json_default))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    def save(self, path) -> str:
        """Write the record to ``path`` (one .npz file, no pickle); return the path."""
        path = _check_path("path", path)
        with open(path, "wb") as f:
            f.write(self.to_bytes())
        return path

    @classmethod
    def from_bytes(cls, blob: bytes) -> "RunRecord":
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            if "header" not in npz.files:
                raise ValueError("not a ganlab run record: the file has no 'header' entry")
            header = json.loads(str(npz["header"]))
            if header.get("format") != _RECORD_FORMAT:
                raise ValueError(f"unsupported run record format {header.get('format')!r}; expected {_RECORD_FORMAT!r}")
            kwargs = {name: npz[name] for name in header["arrays"]}
            record = cls(
                config=header["config"],
                data_name=header["data_name"],
                data_info=header["data_info"],
                seed=header["seed"],
                d_output=header["d_output"],
                **kwargs,
            )
            for k in HISTORY_KEYS:
                record.history[k] = npz["history/" + k].tolist()
            record.metrics = header["metrics"]
            steps = npz["snapshots/step"].tolist()
            fields = {name: npz["snapshots/" + name] for name in header["snapshot_fields"]}
            for i, step in enumerate(steps):
                snap = {"step": int(step)}
                for name in cls._SNAPSHOT_FIELDS:
                    snap[name] = fields[name][i] if name in fields else None
                record.snapshots.append(snap)
        return record

    @classmethod
    def load(cls, path) -> "RunRecord":
        """Read a record written by :meth:`save` (``np.load(allow_pickle=False)``)."""
        path = _check_path("path", path, must_exist=True)
        with open(path, "rb") as f:
            return cls.from_bytes(f.read())


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a run record header")


def _check_path(name: str, path, must_exist: bool = False) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got {_checks._describe(path)}")
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{name} must be a non-empty file path, got ''")
    if must_exist and not os.path.isfile(path):
        raise FileNotFoundError(f"{name}: no such file: {path!r}")
    return path


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #
@contextlib.contextmanager
def _frozen(params: Sequence[torch.Tensor]):
    """Hold a player fixed: its weights get no gradient while the other moves.

    Autograd then skips D's weight gradients in G's backward pass (it still
    computes the gradient w.r.t. D's input, which is what G needs).
    """
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


@contextlib.contextmanager
def _eval_mode(*nets: nn.Module):
    """Evaluate without side effects (BatchNorm statistics, spectral-norm power
    iterations), so observing a run never changes it."""
    modes = [net.training for net in nets]
    for net in nets:
        net.eval()
    try:
        yield
    finally:
        for net, mode in zip(nets, modes):
            net.train(mode)


def _copy_all(dst: list[torch.Tensor], src: list[torch.Tensor]) -> None:
    with torch.no_grad():
        if hasattr(torch, "_foreach_copy_"):
            torch._foreach_copy_(dst, src)
        else:  # pragma: no cover - old torch
            for d, s in zip(dst, src):
                d.copy_(s)


def _make_optimizer(name: str, params: list, lr: float, betas: tuple, momentum: float, device: torch.device):
    """SGD, Adam or RMSprop, fused (one kernel for all weights) where torch can,
    else foreach (a few kernels), never the per-weight Python loop."""
    if name == "adam":
        cls, kwargs = torch.optim.Adam, {"betas": betas}
    elif name == "sgd":
        cls, kwargs = torch.optim.SGD, {"momentum": momentum}
    else:
        cls, kwargs = torch.optim.RMSprop, {"momentum": momentum}
    if name != "rmsprop":
        try:
            return cls(params, lr=lr, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):
            pass  # fused not available for this torch / device
    try:
        return cls(params, lr=lr, foreach=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):  # pragma: no cover
        return cls(params, lr=lr, **kwargs)


def _derive_seeds(seed: int, n: int) -> list[int]:
    """n independent seeds from one (numpy's SeedSequence), one per stream."""
    state = np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64)
    return [int(s) & 0x7FFF_FFFF_FFFF_FFFF for s in state]


class _BatchStream:
    """Minibatches drawn in blocks: one call to ``draw(n_batches * batch)``
    serves the next ``n_batches`` minibatches (fewer Python calls per step;
    the draws are the same i.i.d. samples).  Nothing modifies a block in
    place, so remembering (block, position) is enough to rewind."""

    def __init__(self, draw: Callable[[int], torch.Tensor], batch: int, n_batches: int, device: torch.device):
        self.draw, self.batch, self.n_batches, self.device = draw, batch, n_batches, device
        self.block: torch.Tensor | None = None
        self.pos = 0

    def next(self) -> torch.Tensor:
        if self.block is None or self.pos + self.batch > self.block.shape[0]:
            self.block = self.draw(self.batch * self.n_batches).to(self.device, torch.float32)
            self.pos = 0
        x = self.block[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return x

    def state(self):
        return (self.block, self.pos)

    def set_state(self, state) -> None:
        self.block, self.pos = state


def _lattice_1d(n: int, kind: str) -> torch.Tensor:
    """n points of equal probability mass under the noise distribution:
    the quantiles at (i + 1/2)/n, i = 0..n-1."""
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    z = torch.special.ndtri(u) if kind == "gaussian" else 2.0 * u - 1.0
    return z.to(torch.float32)


# --------------------------------------------------------------------------- #
# The trainer
# --------------------------------------------------------------------------- #
class Trainer:
    """Train G against D on ``data`` and keep a :class:`RunRecord`.

    Args:
        G: the generator, an ``nn.Module`` with an integer ``z_dim``; maps
            z of shape (n, z_dim) to samples (n, d).
        D: the discriminator, maps samples (n, d) to LOGITS (n, 1).
        data: a ``ganlab.data`` distribution, a registry name such as "ring",
            or an array / tensor of points (rows), which is resampled.
        config: a :class:`TrainConfig`, a dict of its fields, a recipe name
            such as "textbook" (see :mod:`ganlab.recipes`) or None (defaults).
        **overrides: TrainConfig fields that replace those of ``config``.

    G and D are moved to the chosen device in place.

    Example::

        G, D = MLPGenerator(), MLPDiscriminator()
        trainer = Trainer(G, D, ring(), "textbook", seed=1)
        record = trainer.fit(2000)
    """

    def __init__(self, G: nn.Module, D: nn.Module, data, config=None, **overrides):
        self.config = _resolve_config(config, overrides)
        _check_module("G", G)
        _check_module("D", D)
        z_dim = getattr(G, "z_dim", None)
        if isinstance(z_dim, bool) or not isinstance(z_dim, int) or z_dim < 1:
            raise TypeError(
                f"G must have an integer attribute z_dim >= 1 (the noise dimension), got z_dim={z_dim!r}"
            )
        self.data = _resolve_data(data)
        self.G, self.D, self.z_dim = G, D, z_dim
        cfg = self.config

        self.device = resolve_device(cfg.device)
        self.seed = cfg.seed if cfg.seed is not None else int(np.random.SeedSequence().entropy % (2**63))
        seeds = _derive_seeds(self.seed, 5)
        if cfg.reinit:
            _reinit(G, seeds[4])
            _reinit(D, seeds[4] + 1)
        G.to(self.device)
        D.to(self.device)
        self._memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        if cfg.channels_last:  # only 4-D weights (convolutions) change layout
            G.to(memory_format=torch.channels_last)
            D.to(memory_format=torch.channels_last)
        if cfg.compile is not None:  # in place: G(z) runs the compiled forward, weights stay G's
            if not hasattr(G, "compile"):
                raise ValueError(f"compile={cfg.compile!r} needs torch >= 2.2 (nn.Module.compile); "
                                 f"this is torch {torch.__version__}: use compile=None")
            G.compile(mode=cfg.compile)
            D.compile(mode=cfg.compile)
        self._params_g = [p for p in G.parameters() if p.requires_grad]
        self._params_d = [p for p in D.parameters() if p.requires_grad]
        if not self._params_g or not self._params_d:
            who = "G" if not self._params_g else "D"
            raise ValueError(f"{who} has no trainable parameters (requires_grad=True); nothing to train")

        self.objective = _get_objective(cfg.objective)
        self._probability = cfg.objective in _PROBABILITY_OBJECTIVES
        self._losses = _losses_module()
        self._amp_dtype = self._choose_amp()

        # Random streams (see the module docstring).  Data and noise are drawn
        # on the CPU, so a run draws the same numbers on every device.
        self.gen_data = torch.Generator().manual_seed(seeds[0])
        self.gen_noise = torch.Generator().manual_seed(seeds[1])
        self.gen_aux = torch.Generator().manual_seed(seeds[2])  # instance noise, GP mixing
        n_batches = max(1, min(64, (1 << 20) // (cfg.batch_size * max(self.data.dim, z_dim))))
        self._real = _BatchStream(
            lambda n: _to_format(self.data.sample(n, generator=self.gen_data), self._memory_format),
            cfg.batch_size, n_batches, self.device,
        )
        self._noise = _BatchStream(self._draw_noise, cfg.batch_size, n_batches, self.device)

        self.opt_g = _make_optimizer(cfg.opt_g, self._params_g, cfg.lr_g, cfg.betas, cfg.momentum, self.device)
        self.opt_d = _make_optimizer(cfg.opt_d, self._params_d, cfg.lr_d, cfg.betas, cfg.momentum, self.device)
        self.G_ema: nn.Module | None = None
        if cfg.ema is not None:
            self.G_ema = copy.deepcopy(G).eval().requires_grad_(False)
        self._params_g_all = list(G.parameters())
        self._ema_params = [] if self.G_ema is None else list(self.G_ema.parameters())
        self._weights = [*self._params_g, *self._params_d]  # watched by the guard
        # Everything of the nets that the guard copies and restores.
        self._module_tensors = [*G.parameters(), *G.buffers(), *D.parameters(), *D.buffers()]
        if self.G_ema is not None:
            self._module_tensors += [*self.G_ema.parameters(), *self.G_ema.buffers()]

        self.steps_done = 0
        self._stop_requested = False
        self._pending: list[torch.Tensor] = []  # per-iteration rows not yet in the record
        self._pending_kinds: list[str] = []
        self._n_checked = 0  # pending rows already passed by the guard
        self._last_snapshot = -1
        self._last_metrics = -1
        self._zero = torch.zeros((), device=self.device)  # a player that did not move
        self._zero2 = torch.zeros(2, device=self.device)
        self._player_masks: dict = {}
        self._replaying = False
        self._setup_observation(seeds[3])
        self._check_shapes()
        self._shadow: list[torch.Tensor] | None = None
        self._shadow_layout = None
        self._capture()

    # ------------------------------------------------------------------ #
    # The training step (Algorithm 1)
    # ------------------------------------------------------------------ #
    def _iterate(self, kind: str) -> None:
        """One iteration ("both", "d" or "g"), then record, guard, observe."""
        self._observe()  # the snapshot of the state before the first step
        cfg = self.config
        loss_d = d_means = loss_g = None
        if kind == "both" and cfg.simultaneous:
            loss_d, d_means, loss_g = self._update_both()
        else:
            x_fake = None
            if kind in ("both", "d"):
                k = cfg.d_steps if kind == "both" else 1
                for i in range(k):
                    # G's step may reuse the fakes of D's last step (see reuse_fake).
                    reuse = kind == "both" and cfg.reuse_fake and i == k - 1
                    loss_d, d_means, x_fake = self._update_d(keep_graph=reuse)
                    if not reuse:
                        x_fake = None
            if kind in ("both", "g"):
                for j in range(cfg.g_steps if kind == "both" else 1):
                    loss_g = self._update_g(x_fake if j == 0 else None)
        self._push_row(kind, loss_d, d_means, loss_g)
        if self.steps_done % cfg.guard_every == 0 and not self._replaying:
            self._guard()
        self._observe()

    def _update_d(self, keep_graph: bool = False):
        """One step of D on  L_D = d_loss(D(x_real), D(G(z))) [+ penalty], G fixed.

        Returns the loss, the mean D(x_real) and D(x_fake), and x_fake (with
        its graph through G when ``keep_graph``, so that G's step can reuse it).
        """
        cfg, G, D = self.config, self.G, self.D
        x_real, z = self._real.next(), self._noise.next()
        with torch.set_grad_enabled(keep_graph), self._autocast():
            x_fake = G(z)  # D's update needs no gradient through G
        x_real_seen = self._add_instance_noise(x_real)
        x_fake_seen = self._add_instance_noise(x_fake.detach())
        with self._autocast():
            # One forward pass over [real; fake] instead of two.
            logits = D(torch.cat([x_real_seen, x_fake_seen])).float()
            n = len(x_real)
            loss_d = self.objective.d_loss(logits[:n], logits[n:])
            loss_d = loss_d + self._penalty(x_real_seen, x_fake_seen)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        if cfg.penalty == "clip":
            self._losses.clip_weights_(D, cfg.clip)
        return loss_d.detach().float(), self._d_means(logits, n), x_fake

    def _update_g(self, x_fake: torch.Tensor | None = None) -> torch.Tensor:
        """One step of G on  L_G = g_loss(D(G(z))), D fixed (frozen).

        ``x_fake``: fakes G(z) still attached to G's graph (reused from D's
        step), or None to draw a fresh z."""
        with _frozen(self._params_d), self._autocast():
            if x_fake is None:
                x_fake = self.G(self._noise.next())
            loss_g = self.objective.g_loss(self.D(self._add_instance_noise(x_fake)).float())
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self._update_ema()
        return loss_g.detach().float()

    def _update_both(self):
        """Simultaneous gradient descent: both gradients at the same (G, D),
        from one batch, then both updates."""
        cfg, G, D = self.config, self.G, self.D
        x_real, z = self._real.next(), self._noise.next()
        with self._autocast():
            x_fake = G(z)
            x_real_seen, x_fake_seen = self._add_instance_noise(x_real), self._add_instance_noise(x_fake)
            logits = D(torch.cat([x_real_seen, x_fake_seen])).float()
            n = len(x_real)
            loss_d = self.objective.d_loss(logits[:n], logits[n:])
            loss_d = loss_d + self._penalty(x_real_seen, x_fake_seen.detach())
            loss_g = self.objective.g_loss(logits[n:])
        # Each player differentiates its own loss w.r.t. its own weights only.
        grads_d = torch.autograd.grad(loss_d, self._params_d, retain_graph=True)
        grads_g = torch.autograd.grad(loss_g, self._params_g)
        for params, grads in ((self._params_d, grads_d), (self._params_g, grads_g)):
            for p, g in zip(params, grads):
                p.grad = g
        self.opt_d.step()
        self.opt_g.step()
        if cfg.penalty == "clip":
            self._losses.clip_weights_(D, cfg.clip)
        self._update_ema()
        return loss_d.detach().float(), self._d_means(logits, n), loss_g.detach().float()

    def _penalty(self, x_real: torch.Tensor, x_fake: torch.Tensor) -> torch.Tensor | float:
        cfg = self.config
        if cfg.penalty == "r1":  # gamma/2 * E||grad_x D(x_real)||^2
            return 0.5 * cfg.penalty_weight * self._losses.r1_penalty(self.D, x_real)
        if cfg.penalty == "r2":  # gamma/2 * E||grad_x D(x_fake)||^2
            return 0.5 * cfg.penalty_weight * self._losses.r2_penalty(self.D, x_fake)
        if cfg.penalty == "gp":  # gamma * E(||grad_x D(x_hat)|| - 1)^2
            return cfg.penalty_weight * self._losses.gradient_penalty(self.D, x_real, x_fake, generator=self.gen_aux)
        return 0.0

    def _add_instance_noise(self, x: torch.Tensor) -> torch.Tensor:
        sigma = self.config.instance_noise
        return self._losses.instance_noise(x, sigma, generator=self.gen_aux) if sigma > 0 else x

    def _d_means(self, logits: torch.Tensor, n: int) -> torch.Tensor:
        """[mean D(x_real), mean D(x_fake)]: probabilities, or raw scores."""
        with torch.no_grad():
            out = torch.sigmoid(logits) if self._probability else logits
            return out.reshape(2, n).mean(dim=1)

    def _push_row(self, kind: str, loss_d, d_means, loss_g) -> None:
        """Keep this iteration's numbers as one small tensor on the device,
        [loss_d, loss_g, d_real, d_fake, |grad_D|, |grad_G|]; they become
        Python floats in blocks (see _flush), not one .item() at a time."""
        zero = self._zero
        grads_d = [p.grad for p in self._params_d if p.grad is not None] if loss_d is not None else []
        grads_g = [p.grad for p in self._params_g if p.grad is not None] if loss_g is not None else []
        self._pending.append(
            torch.cat([
                torch.stack([zero if loss_d is None else loss_d, zero if loss_g is None else loss_g]),
                self._zero2 if d_means is None else d_means,
                self._grad_norms(grads_d, grads_g),
            ])
        )
        self._pending_kinds.append(kind)
        self.steps_done += 1

    def _grad_norms(self, grads_d: list, grads_g: list) -> torch.Tensor:
        """[||grad_D||, ||grad_G||]: one kernel for the norms of all gradient
        tensors, then the squares summed per player with a 0/1 matrix."""
        key = (len(grads_d), len(grads_g))
        if key not in self._player_masks:
            mask = torch.zeros(2, sum(key), device=self.device)
            mask[0, : key[0]] = mask[1, key[0] :] = 1.0
            self._player_masks[key] = mask
        if not grads_d and not grads_g:
            return self._zero2
        norms = torch.stack(torch._foreach_norm(grads_d + grads_g))
        return torch.mv(self._player_masks[key], norms.square()).sqrt()

    def _update_ema(self) -> None:
        """G_ema <- decay * G_ema + (1 - decay) * G, after every G update."""
        if self.G_ema is None:
            return
        with torch.no_grad():
            torch._foreach_lerp_(self._ema_params, self._params_g_all, 1.0 - self.config.ema)
            for e, b in zip(self.G_ema.buffers(), self.G.buffers()):
                e.copy_(b)

    def _draw_noise(self, n: int) -> torch.Tensor:
        return _sample_noise(n, self.z_dim, self.config.noise, self.gen_noise)

    def _choose_amp(self):
        if not self.config.amp:
            return None
        if self.device.type != "cuda":
            warnings.warn("amp=True only applies on CUDA; training in float32", stacklevel=3)
            return None
        if not torch.cuda.is_bf16_supported():
            warnings.warn("this GPU has no bfloat16 support; amp is off (float32)", stacklevel=3)
            return None
        return torch.bfloat16

    def _autocast(self):
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self._amp_dtype)

    # ------------------------------------------------------------------ #
    # Iterations: public stepping, fit
    # ------------------------------------------------------------------ #
    def step(self) -> dict:
        """One iteration of Algorithm 1 (d_steps D updates, then g_steps G
        updates; or one simultaneous update).  Returns that iteration's row."""
        self._iterate("both")
        return self._last_row()

    def d_step(self) -> dict:
        """Move D only (one update, G fixed): one iteration for the record,
        with NaN for G's numbers.  For the playground's "step D"."""
        self._iterate("d")
        return self._last_row()

    def g_step(self) -> dict:
        """Move G only (one update, D fixed): one iteration for the record,
        with NaN for D's numbers.  For the playground's "step G"."""
        self._iterate("g")
        return self._last_row()

    def stop(self) -> None:
        """Ask a running :meth:`fit` to stop after the current iteration."""
        self._stop_requested = True

    def fit(self, steps: int, progress: bool = True, callbacks: Iterable[Callable] = ()) -> RunRecord:
        """Train for ``steps`` more iterations; call again to continue.

        Args:
            steps: number of iterations (>= 0).
            progress: show a tqdm progress bar (also off when the environment
                variable GANLAB_PROGRESS is "0").
            callbacks: callables ``cb(trainer)`` run after every iteration; a
                callback that returns False (or calls ``trainer.stop()``) ends
                the fit after that iteration.

        Returns the :class:`RunRecord` (also ``trainer.record``).  Raises
        :class:`TrainingDiverged` (after rolling back) if training blows up.
        """
        steps = _checks.check_int("steps", steps, minimum=0)
        progress = _check_bool("progress", progress)
        callbacks = _check_callbacks(callbacks)
        if os.environ.get("GANLAB_PROGRESS", "1") == "0":
            progress = False
        self._stop_requested = False
        bar = _progress_bar(steps, progress)
        try:
            self._observe()
            for i in range(steps):
                self._iterate("both")
                if bar is not None:
                    bar.update(1)
                    if i % 100 == 0 or i == steps - 1:
                        bar.set_postfix(_postfix(self._last_row()), refresh=False)
                for callback in callbacks:
                    if callback(self) is False:
                        self._stop_requested = True
                if self._stop_requested:
                    break
        except KeyboardInterrupt:
            # An interrupt may land mid-iteration: go back to the last good copy
            # and redo the whole iterations since, so the state is consistent.
            kinds = self._pending_kinds[self._n_checked : len(self._pending)]
            self._restore()
            self._replay(kinds)
            raise
        finally:
            if bar is not None:
                bar.close()
            self._flush()
        return self.record

    # ------------------------------------------------------------------ #
    # Recording
    # ------------------------------------------------------------------ #
    @property
    def record(self) -> RunRecord:
        """The run record, up to date (pending rows are flushed first)."""
        self._flush()
        return self._record

    def _flush(self) -> None:
        """Move the pending per-iteration rows into the record's lists (after
        the divergence guard has seen them)."""
        if self._n_checked < len(self._pending):
            self._guard()
        if not self._pending:
            return
        rows = torch.stack(self._pending).cpu().tolist()
        first = self.steps_done - len(rows) + 1
        history = self._record.history
        for i, (row, kind) in enumerate(zip(rows, self._pending_kinds)):
            if kind == "d":
                for j in _G_FIELDS:
                    row[j] = math.nan
            elif kind == "g":
                for j in _D_FIELDS:
                    row[j] = math.nan
            history["step"].append(first + i)
            for key, value in zip(_ROW_KEYS, row):
                history[key].append(value)
        self._pending.clear()
        self._pending_kinds.clear()
        self._n_checked = 0

    def _last_row(self) -> dict:
        self._flush()
        return {k: v[-1] for k, v in self._record.history.items()} if len(self._record) else {}

    def _setup_observation(self, seed: int) -> None:
        """Fixed batches for snapshots/metrics, the grid, the z lattice, the record."""
        cfg, data, device = self.config, self.data, self.device
        gen = torch.Generator().manual_seed(seed)
        self._z_fixed = _sample_noise(cfg.n_snapshot, self.z_dim, cfg.noise, gen).to(device)
        self._z_eval = _sample_noise(cfg.n_metrics, self.z_dim, cfg.noise, gen).to(device)
        x_real = data.sample(cfg.n_snapshot, generator=gen).to(torch.float32)
        self._x_real_fixed = x_real.to(device)

        # z lattice: equal-probability points per axis (first two noise dims).
        line = _lattice_1d(cfg.z_grid_size, cfg.noise)
        if self.z_dim == 1:
            z_grid = line[:, None]
        else:
            zy, zx = torch.meshgrid(line, line, indexing="ij")
            z_grid = torch.zeros(cfg.z_grid_size, cfg.z_grid_size, self.z_dim)
            z_grid[..., 0], z_grid[..., 1] = zx, zy
        self._z_grid = z_grid.reshape(-1, self.z_dim).to(device)
        self._z_grid_shape = tuple(z_grid.shape[:-1])

        # The grid over data.bounds on which D (and p_data) are evaluated.
        grid_x = grid_y = points = None
        bounds = _bounds(data) if cfg.view is None else list(cfg.view)
        if bounds is not None and len(bounds) != data.dim:
            raise ValueError(f"view must give one (lo, hi) pair per data dimension ({data.dim}), got {cfg.view}")
        if data.dim in (1, 2) and bounds is not None:
            grid_x = torch.linspace(bounds[0][0], bounds[0][1], cfg.grid_size)
            if data.dim == 1:
                points = grid_x[:, None]
            else:
                grid_y = torch.linspace(bounds[1][0], bounds[1][1], cfg.grid_size)
                yy, xx = torch.meshgrid(grid_y, grid_x, indexing="ij")
                points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
        self._grid_points = None if points is None else points.to(device)
        self._grid_shape = (cfg.grid_size,) * data.dim

        self._centres = getattr(data, "centres", None)
        self._metric_std = getattr(data, "std", None)
        self._record = RunRecord(
            config=cfg.to_dict() | {"seed": self.seed},
            data_name=str(getattr(data, "name", type(data).__name__)),
            data_info=_data_info(data, bounds),
            seed=self.seed,
            d_output="probability" if self._probability else "score",
            grid_x=None if grid_x is None else grid_x.numpy(),
            grid_y=None if grid_y is None else grid_y.numpy(),
            z_grid=z_grid.numpy(),
            x_real=x_real.numpy(),
            p_data_grid=_density_on(data, points, self._grid_shape),
        )

    def _check_shapes(self) -> None:
        """Fail early, with shapes, if G, D and the data do not fit together."""
        # Points have shape (d,); image data say theirs, e.g. shape = (1, 28, 28).
        shape = tuple(getattr(self.data, "shape", None) or (self.data.dim,))
        d = ", ".join(map(str, shape))
        with torch.no_grad(), _eval_mode(self.G, self.D):
            try:
                x = self.G(self._z_fixed[:4])
            except Exception as exc:
                raise ValueError(f"G failed on noise of shape (4, {self.z_dim}) (z_dim={self.z_dim}): {exc}") from exc
            if tuple(x.shape) != (4, *shape):
                raise ValueError(f"G maps z of shape (4, {self.z_dim}) to {tuple(x.shape)}; the data needs (4, {d})")
            try:
                logits = self.D(x)
            except Exception as exc:
                raise ValueError(f"D failed on samples of shape (4, {d}): {exc}") from exc
            if tuple(logits.shape) not in ((4, 1), (4,)):
                raise ValueError(f"D must return logits of shape (n, 1); on (4, {d}) it returned {tuple(logits.shape)}")

    def _observe(self) -> None:
        """Take the snapshot / metrics due at this step (once per step)."""
        cfg, t = self.config, self.steps_done
        if cfg.snapshot_every and t % cfg.snapshot_every == 0 and self._last_snapshot != t:
            self._record.snapshots.append(self.snapshot())
            self._last_snapshot = t
        if cfg.metrics_every and t % cfg.metrics_every == 0 and self._last_metrics != t:
            self._record.metrics.append(self.evaluate())
            self._last_metrics = t

    def snapshot(self) -> dict:
        """Everything a figure of this moment needs (see :class:`RunRecord`)."""
        G, D = self.G, self.D
        with _eval_mode(G, D):
            with torch.no_grad():
                x_fake = G(self._z_fixed).float()
                g_grid = G(self._z_grid).float().reshape(*self._z_grid_shape, -1)
                d_grid = None
                if self._grid_points is not None:
                    d_grid = self._d_display(D(self._grid_points)).reshape(self._grid_shape)
            # The arrows: d loss_G(x_i) / d x_i for each fake point x_i.  The
            # G-loss is a mean over the batch, so scale by n for per-sample.
            x = x_fake.detach().requires_grad_(True)
            with torch.enable_grad(), _frozen(self._params_d):
                loss_g = self.objective.g_loss(D(x).float()) * len(x)
                (grad_fake,) = torch.autograd.grad(loss_g, x)
        return {
            "step": self.steps_done,
            "x_fake": _np32(x_fake),
            "d_grid": None if d_grid is None else _np32(d_grid),
            "g_grid": _np32(g_grid),
            "grad_fake": _np32(grad_fake),
        }

    def _d_display(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float().reshape(-1)
        return torch.sigmoid(logits) if self._probability else logits

    def evaluate(self) -> dict:
        """Metrics of G now (EMA weights if kept) on ``n_metrics`` samples from
        a fixed batch of z (``ganlab.metrics``): for mixtures with known
        centres, ``modes`` covered, the high-quality fraction ``hq`` and the
        reverse KL ``rkl`` of the mode histogram; for 1-D data with an exact
        density, ``js``, the Jensen-Shannon divergence to p_data."""
        result: dict[str, Any] = {"step": self.steps_done}
        has_modes = self._centres is not None and self._metric_std is not None
        has_js = self.data.dim == 1 and getattr(self.data, "has_density", False)
        if not (has_modes or has_js):
            return result
        from . import metrics

        x = self._generate(self._z_eval).numpy()
        if has_modes:
            result.update(metrics.mode_stats(x, np.asarray(self._centres), float(self._metric_std)))
        if has_js:
            result["js"] = metrics.js_1d(x, self.data)
        return result

    def _generate(self, z: torch.Tensor, ema: bool = True) -> torch.Tensor:
        G = self.G_ema if (ema and self.G_ema is not None) else self.G
        with torch.no_grad(), _eval_mode(G):
            return G(z).float().cpu()

    def sample(self, n: int, seed: int | None = None, *, generator: torch.Generator | None = None, ema: bool = True):
        """n samples x = G(z) as a CPU float32 tensor (n, d), without gradients.

        Uses the EMA of G's weights when kept (``ema=True``).  Randomness: the
        given generator, else a fresh one seeded with ``seed``, else torch's
        global RNG (the trainer's own streams are not touched).
        """
        n = _checks.check_int("n", n, minimum=1)
        seed = _checks.check_seed("seed", seed)
        ema = _check_bool("ema", ema)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {_checks._describe(generator)}")
        if generator is None and seed is not None:
            generator = torch.Generator().manual_seed(seed)
        z = _sample_noise(n, self.z_dim, self.config.noise, generator).to(self.device)
        return self._generate(z, ema=ema)

    # ------------------------------------------------------------------ #
    # Learning rates
    # ------------------------------------------------------------------ #
    def set_lr(self, g: float | None = None, d: float | None = None) -> None:
        """Change G's and/or D's learning rate mid-run.  The optimisers' state
        (Adam's moment estimates, momentum) is kept: only the step size changes."""
        if g is None and d is None:
            raise ValueError("set_lr needs g=... and/or d=..., got neither")
        if g is not None:
            g = _checks.check_float("g", g, minimum=0.0, strict_min=True)
        if d is not None:
            d = _checks.check_float("d", d, minimum=0.0, strict_min=True)
        for lr, opt, name in ((g, self.opt_g, "lr_g"), (d, self.opt_d, "lr_d")):
            if lr is not None:
                for group in opt.param_groups:
                    group["lr"] = lr
                setattr(self.config, name, lr)
                self._record.config[name] = lr

    # ------------------------------------------------------------------ #
    # Divergence guard: check, keep a copy, roll back
    # ------------------------------------------------------------------ #
    def _state_tensors(self) -> tuple[list[torch.Tensor], list]:
        """All tensors of the training state, in a fixed order, and a layout
        of the optimiser state (which appears after the first update)."""
        tensors = list(self._module_tensors)
        layout = []
        for which, opt in enumerate((self.opt_g, self.opt_d)):
            for group in opt.param_groups:
                for p in group["params"]:
                    for key, value in opt.state.get(p, {}).items():
                        if isinstance(value, torch.Tensor):
                            tensors.append(value)
                            layout.append((which, p, key, None))
                        else:
                            layout.append((which, p, key, copy.deepcopy(value)))
        return tensors, layout

    def _capture(self) -> None:
        """Remember the current state as the last good one."""
        tensors, layout = self._state_tensors()
        same = (
            self._shadow is not None
            and len(self._shadow) == len(tensors)
            and all(s.shape == t.shape and s.dtype == t.dtype for s, t in zip(self._shadow, tensors))
        )
        if same:
            _copy_all(self._shadow, tensors)
        else:
            self._shadow = [t.detach().clone() for t in tensors]
        self._shadow_layout = layout
        self._shadow_meta = {
            "step": self.steps_done,
            "rng": [g.get_state() for g in (self.gen_data, self.gen_noise, self.gen_aux)],
            "streams": (self._real.state(), self._noise.state()),
            "snap": (self._last_snapshot, self._last_metrics),
        }

    def _restore(self) -> None:
        """Put back the last good state (weights, optimisers, EMA, streams, step)."""
        meta, shadow = self._shadow_meta, self._shadow
        n_opt_tensors = sum(1 for entry in self._shadow_layout if entry[3] is None)
        _copy_all(self._module_tensors, shadow[: len(shadow) - n_opt_tensors])
        saved = iter(shadow[len(shadow) - n_opt_tensors :])
        for opt in (self.opt_g, self.opt_d):
            opt.state.clear()
        for which, p, key, value in self._shadow_layout:
            opt = (self.opt_g, self.opt_d)[which]
            opt.state[p][key] = next(saved).clone() if value is None else copy.deepcopy(value)
        for gen, state in zip((self.gen_data, self.gen_noise, self.gen_aux), meta["rng"]):
            gen.set_state(state)
        self._real.set_state(meta["streams"][0])
        self._noise.set_state(meta["streams"][1])
        for p in [*self._params_g, *self._params_d]:
            p.grad = None
        # Forget what was recorded after the good state (pending rows are
        # the iterations steps_done - len(pending) + 1 ... steps_done).
        keep = max(0, meta["step"] - (self.steps_done - len(self._pending)))
        del self._pending[keep:]
        del self._pending_kinds[keep:]
        self._n_checked = len(self._pending)  # all checked before the copy was taken
        self.steps_done = meta["step"]
        self._last_snapshot, self._last_metrics = meta["snap"]
        self._record._truncate(self.steps_done)

    def _all_finite(self, rows: list[torch.Tensor]) -> bool:
        """Are these rows (losses, gradient norms) and every weight finite?
        One host read for all of them."""
        weight_norms = torch.stack(torch._foreach_norm(self._weights))
        return bool(torch.isfinite(torch.cat([torch.stack(rows).reshape(-1), weight_norms])).all())

    def _guard(self) -> None:
        """Check the iterations since the last check; keep a copy or roll back."""
        rows = self._pending[self._n_checked :]
        if not rows:
            return
        if self._all_finite(rows):
            self._n_checked = len(self._pending)
            if len(self._pending) >= 512:
                self._flush()
            self._capture()
            return
        table = torch.stack(rows).cpu()
        bad_rows = (~torch.isfinite(table).all(dim=1)).nonzero()
        first = int(bad_rows[0]) if len(bad_rows) else len(rows) - 1
        bad_step = self.steps_done - len(rows) + 1 + first
        bad_row = dict(zip(_ROW_KEYS, table[first].tolist()))
        # Back to the last good copy, then forward again one checked
        # iteration at a time, stopping just before the first bad one.
        kinds = self._pending_kinds[self._n_checked :]
        self._restore()
        anchor = ([t.clone() for t in self._shadow], self._shadow_layout, self._shadow_meta)
        replayed_bad = self._replay(kinds)
        reproduced = replayed_bad is not None
        if reproduced:
            bad_step, bad_row = replayed_bad
        else:  # the replay went through: something else had broken the state
            self._shadow, self._shadow_layout, self._shadow_meta = anchor
            self._restore()
        self._flush()
        history = self._record.history
        last = None
        if len(self._record):
            last = {"step": history["step"][-1], "loss_d": history["loss_d"][-1], "loss_g": history["loss_g"][-1]}
        message = _divergence_message(bad_step, bad_row, last, self.steps_done, self.config, reproduced)
        raise TrainingDiverged(message, bad_step, last, self.steps_done)

    def _replay(self, kinds: list[str]):
        """Redo iterations from the last good copy, checking and copying after
        each one (the runs are deterministic, so this retraces the same path).
        Returns (step, row) of the first non-finite iteration, after restoring
        the state just before it; None if all of them are fine."""
        self._replaying = True
        try:
            for kind in kinds:
                self._iterate(kind)
                row = self._pending[-1]
                if not self._all_finite([row]):
                    bad = (self.steps_done, dict(zip(_ROW_KEYS, row.tolist())))
                    self._restore()
                    return bad
                self._n_checked = len(self._pending)
                self._capture()
        finally:
            self._replaying = False
        return None

    # ------------------------------------------------------------------ #
    # Checkpoints
    # ------------------------------------------------------------------ #
    def state_dict(self, record: bool = True) -> dict:
        """The whole training state as a dict of tensors and plain values
        (loadable with ``torch.load(..., weights_only=True)``)."""
        self._flush()
        to_cpu = lambda sd: {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in sd.items()}
        return {
            "format": _CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "seed": self.seed,
            "steps_done": self.steps_done,
            "G": to_cpu(self.G.state_dict()),
            "D": to_cpu(self.D.state_dict()),
            "G_ema": None if self.G_ema is None else to_cpu(self.G_ema.state_dict()),
            "opt_g": _optimizer_state_to_cpu(self.opt_g.state_dict()),
            "opt_d": _optimizer_state_to_cpu(self.opt_d.state_dict()),
            "rng": {"data": self.gen_data.get_state(), "noise": self.gen_noise.get_state(),
                    "aux": self.gen_aux.get_state()},
            "streams": {name: _stream_to_cpu(s) for name, s in (("real", self._real), ("noise", self._noise))},
            "observed": [self._last_snapshot, self._last_metrics],
            "models": {"G": type(self.G).__name__, "D": type(self.D).__name__},
            "record": _bytes_tensor(self._record.to_bytes()) if record else None,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a state from :meth:`state_dict` (nets must match in shape)."""
        if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
            raise ValueError(f"not a ganlab training state (expected format {_CHECKPOINT_FORMAT!r})")
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        if self.G_ema is not None:
            self.G_ema.load_state_dict(state["G_ema"] if state["G_ema"] is not None else self.G.state_dict())
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.gen_data.set_state(state["rng"]["data"])
        self.gen_noise.set_state(state["rng"]["noise"])
        self.gen_aux.set_state(state["rng"]["aux"])
        for name, stream in (("real", self._real), ("noise", self._noise)):
            block, pos = state["streams"][name]
            stream.set_state((None if block is None else block.to(self.device), int(pos)))
        self.steps_done = int(state["steps_done"])
        self._pending.clear()
        self._pending_kinds.clear()
        self._n_checked = 0
        if state.get("record") is not None:
            self._record = RunRecord.from_bytes(state["record"].numpy().tobytes())
            self._last_snapshot, self._last_metrics = (int(v) for v in state["observed"])
        else:
            self._record._truncate(-1)
            self._last_snapshot = self._last_metrics = -1
        self._capture()

    def save_checkpoint(self, path, record: bool = True) -> str:
        """Save the whole training state (nets, optimisers, EMA, step, random
        streams and, by default, the record) to ``path``; return the path."""
        path = _check_path("path", path)
        record = _check_bool("record", record)
        torch.save(self.state_dict(record=record), path)
        return path

    @classmethod
    def load_checkpoint(cls, path, G: nn.Module, D: nn.Module, data, *, device: str | None = None,
                        record: RunRecord | None = None) -> "Trainer":
        """A trainer that continues a saved run exactly where it stopped.

        G and D must be built like the saved ones (their weights are
        overwritten); ``data`` must be the same distribution.  ``device``
        overrides the saved device (e.g. continue a GPU run on a CPU).
        ``record``: the run's record, to continue when the checkpoint was
        saved with ``record=False`` (e.g. ``RunRecord.load(...)``).
        Reads with ``torch.load(..., weights_only=True)``: no pickle.
        """
        path = _check_path("path", path, must_exist=True)
        if record is not None and not isinstance(record, RunRecord):
            raise TypeError(f"record must be a RunRecord or None, got {_checks._describe(record)}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
            raise ValueError(f"{path!r} is not a ganlab checkpoint (expected format {_CHECKPOINT_FORMAT!r})")
        config = TrainConfig.from_dict(state["config"])
        config.seed = state["seed"]
        config.reinit = False  # the saved weights are what we want
        if device is not None:
            config.device = _check_device_name("device", device)
        trainer = cls(G, D, data, config)
        trainer.load_state_dict(state)
        if record is not None and state.get("record") is None:
            trainer._record = record
            record._truncate(trainer.steps_done)
            trainer._last_snapshot = record.snapshot_steps[-1] if record.snapshots else -1
            trainer._last_metrics = record.metrics[-1]["step"] if record.metrics else -1
            trainer._capture()
        return trainer

    def __repr__(self) -> str:
        cfg = self.config
        return (
            f"Trainer(G={type(self.G).__name__}, D={type(self.D).__name__}, data={self._record.data_name!r}, "
            f"objective={cfg.objective!r}, penalty={cfg.penalty!r}, steps_done={self.steps_done}, "
            f"device={str(self.device)!r})"
        )


# --------------------------------------------------------------------------- #
# Module-level helpers used by the Trainer
# --------------------------------------------------------------------------- #
def _resolve_config(config, overrides: dict) -> TrainConfig:
    if config is None:
        config = TrainConfig()
    elif isinstance(config, str):
        from .recipes import get_recipe

        config = get_recipe(config).config
    elif isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    elif hasattr(config, "config") and isinstance(getattr(config, "config"), TrainConfig):
        config = config.config  # a Recipe
    elif not isinstance(config, TrainConfig):
        raise TypeError(
            f"config must be a TrainConfig, a dict, a recipe name or None, got {_checks._describe(config)}"
        )
    _check_field_names(overrides)
    return dataclasses.replace(config, **overrides)  # a validated copy


def _check_module(name: str, net) -> None:
    if not isinstance(net, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {_checks._describe(net)}")


def _resolve_data(data):
    from . import data as data_module

    if isinstance(data, str):
        return data_module.get_distribution(data)
    if isinstance(data, (np.ndarray, torch.Tensor)):
        return data_module.Empirical(data)
    ok = callable(getattr(data, "sample", None)) and isinstance(getattr(data, "dim", None), int)
    if not ok:
        raise TypeError(
            "data must be a ganlab.data distribution (with sample(n, generator=...) and dim), a distribution "
            f"name, or an array of points, got {_checks._describe(data)}"
        )
    return data


def _check_callbacks(callbacks) -> list:
    if callable(callbacks):
        callbacks = [callbacks]
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise TypeError(f"callbacks must be a list of callables cb(trainer), got {_checks._describe(callbacks)}")
    for i, cb in enumerate(callbacks):
        if not callable(cb):
            raise TypeError(f"callbacks[{i}] must be callable as cb(trainer), got {_checks._describe(cb)}")
    return callbacks


def _get_objective(name: str):
    from . import losses

    return losses.get_objective(name)


def _losses_module():
    from . import losses

    return losses


def _sample_noise(n: int, z_dim: int, kind: str, generator: torch.Generator | None) -> torch.Tensor:
    from .models import sample_noise

    return sample_noise(n, z_dim, kind, generator=generator).to(torch.float32)


def _to_format(x: torch.Tensor, memory_format) -> torch.Tensor:
    """Images (4-D) in the chosen memory order; points stay as they are."""
    return x.contiguous(memory_format=memory_format) if x.dim() == 4 else x


def _reinit(net: nn.Module, seed: int) -> None:
    """Re-draw the weights of every submodule with reset_parameters(), from seed
    (torch's global RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in net.modules():
            if callable(getattr(module, "reset_parameters", None)):
                module.reset_parameters()


def _check_view(name: str, view):
    """None, (lo, hi) for 1-D, or ((x_lo, x_hi), (y_lo, y_hi)): returned as a tuple of pairs."""
    if view is None:
        return None
    pairs = [view] if len(view) == 2 and all(isinstance(v, (int, float)) for v in view) else view
    try:
        pairs = tuple((float(lo), float(hi)) for lo, hi in pairs)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be (lo, hi) or ((x_lo, x_hi), (y_lo, y_hi)), got {_checks._describe(view)}")
    if not 1 <= len(pairs) <= 2 or any(not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) for lo, hi in pairs):
        raise ValueError(f"{name} must hold 1 or 2 finite (lo, hi) pairs with lo < hi, got {_checks._describe(view)}")
    return pairs


def _bounds(data):
    bounds = getattr(data, "bounds", None)
    if bounds is None:
        return None
    try:
        bounds = [(float(lo), float(hi)) for lo, hi in bounds]
    except (TypeError, ValueError):
        return None
    return bounds if len(bounds) == data.dim else None


def _data_info(data, bounds) -> dict:
    info: dict[str, Any] = {"dim": int(data.dim), "bounds": bounds, "class": type(data).__name__}
    if getattr(data, "centres", None) is not None:
        info["centres"] = np.asarray(data.centres, dtype=float).tolist()
    if isinstance(getattr(data, "std", None), (int, float)):
        info["std"] = float(data.std)
    return info


def _density_on(data, points, shape):
    """The exact density p_data on the grid, where the distribution knows it."""
    if points is None or not callable(getattr(data, "density", None)):
        return None
    try:
        values = data.density(points.numpy())
    except (NotImplementedError, AttributeError, TypeError, ValueError):
        return None
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    values = np.asarray(values, dtype=np.float32)
    return values.reshape(shape) if values.size == int(np.prod(shape)) else None


def _np32(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def _bytes_tensor(blob: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(blob), dtype=torch.uint8)


def _optimizer_state_to_cpu(sd: dict) -> dict:
    state = {
        k: {n: v.detach().cpu() if isinstance(v, torch.Tensor) else v for n, v in s.items()}
        for k, s in sd["state"].items()
    }
    return {"state": state, "param_groups": sd["param_groups"]}


def _stream_to_cpu(stream: _BatchStream):
    block, pos = stream.state()
    return (None if block is None else block.cpu(), pos)


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="training", unit="step", leave=True)


def _postfix(row: dict) -> dict:
    return {k: f"{row[k]:.3g}" for k in ("loss_d", "loss_g") if k in row and not math.isnan(row[k])}


def _divergence_message(step: int, bad: dict, last: dict | None, back_to: int, cfg: TrainConfig,
                        reproduced: bool = True) -> str:
    numbers = ", ".join(f"{k}={v:.4g}" for k, v in bad.items())
    if last is None:
        before = "there was no finite step before it"
    else:
        before = f"last finite losses (step {last['step']}): loss_d={last['loss_d']:.4g}, loss_g={last['loss_g']:.4g}"
    where = f"rolled back to step {back_to}, the last good state"
    if not reproduced:
        where += (" (replaying the steps from there did not reproduce the problem: something outside the "
                  "training step, such as a callback, had changed the state)")
    return (
        f"training diverged at step {step}: a loss, gradient or weight is not finite ({numbers}); {before}. "
        f"G, D, the optimisers and the random streams were {where}. "
        f"Try smaller learning rates (now lr_g={cfg.lr_g:g}, lr_d={cfg.lr_d:g}) or a penalty such as penalty='r1'."
    )
