"""The training loop, taken apart (the course's chapter on the training loop).

Tools that sit beside :class:`ganlab.train.Trainer`:

- :func:`record_minibatches`: note every minibatch ``(x_real, z)`` a Trainer
  draws, so that a loop written by hand can be fed exactly the same ones and
  shown to compute the same numbers (the Trainer is Algorithm 1, nothing more);
- :func:`sweep`: one short run per cell of a grid of settings (say the
  discriminator's learning rate against ``d_steps``), each summarised by the
  mode statistics of :func:`ganlab.metrics.mode_stats`; draw it with
  :func:`ganlab.viz.sweep.sweep_figure`;
- self-checks for the chapter's exercises, :func:`check_d_loss` and
  :func:`check_iteration`: each prints what is right or wrong, with a hint,
  and returns True or False. They never raise on a wrong answer, only on an
  argument that is not an answer at all.

Algorithm 1 of Goodfellow et al. (2014), with the non-saturating G loss::

    for each iteration:
        for k steps:                                     # D's move, G fixed
            x_real ~ p_data, z ~ p_z, x_fake = G(z)
            L_D = -mean log D(x_real) - mean log(1 - D(x_fake))
            one optimiser step of D on L_D
        L_G = -mean log D(x_fake)                        # G's move, D fixed
        one optimiser step of G on L_G
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import textwrap
import time
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ._checks import _describe, check_int, check_seed

__all__ = [
    "Minibatches",
    "record_minibatches",
    "SweepResult",
    "sweep",
    "check_d_loss",
    "check_iteration",
]


# --------------------------------------------------------------------------- #
# The Trainer's minibatches
# --------------------------------------------------------------------------- #
@dataclasses.dataclass
class Minibatches:
    """The minibatches a Trainer drew, in order: ``x_real[i]`` and ``z[i]``.

    With ``d_steps = k`` each iteration draws k pairs (one per D step); G's
    step reuses the fakes of the last one (``reuse_fake=True``, the default),
    or draws one more ``z`` (``reuse_fake=False``).
    """

    x_real: list = dataclasses.field(default_factory=list)
    z: list = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.x_real)

    def pairs(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """An iterator over the ``(x_real, z)`` pairs, in the order they were drawn."""
        return iter(zip(self.x_real, self.z))


@contextlib.contextmanager
def record_minibatches(trainer):
    """Record every ``(x_real, z)`` minibatch ``trainer`` draws inside the block.

    Example::

        with record_minibatches(trainer) as batches:
            trainer.fit(300, progress=False)
        for x_real, z in batches.pairs(): ...

    Recording changes nothing in the training (the same numbers are drawn and
    used); the copies are kept on the CPU. Meant for short, healthy runs: when
    a run diverges, the Trainer's rollback replays iterations and their
    minibatches are recorded again.
    """
    streams = [getattr(trainer, "_real", None), getattr(trainer, "_noise", None)]
    if any(not callable(getattr(s, "next", None)) for s in streams):
        raise TypeError(f"trainer must be a ganlab.train.Trainer, got {_describe(trainer)}")
    log = Minibatches()

    def tap(stream, out: list):
        draw = stream.next  # the bound method of the class

        def next_batch():
            x = draw()
            out.append(x.detach().cpu().clone())
            return x

        stream.next = next_batch  # an instance attribute shadows the method

    tap(streams[0], log.x_real)
    tap(streams[1], log.z)
    try:
        yield log
    finally:
        for stream in streams:
            del stream.next  # back to the class's method


# --------------------------------------------------------------------------- #
# A grid of short runs
# --------------------------------------------------------------------------- #
@dataclasses.dataclass
class SweepResult:
    """The outcome of :func:`sweep`.

    Attributes:
        rows, cols: ``(field name, values)`` of the two swept settings.
        modes, hq: arrays (n_rows, n_cols): modes covered and the high-quality
            fraction, each the mean over the last ``last`` evaluations of the
            run (NaN where the run diverged).
        n_modes: the number of modes of the data.
        seconds: wall-clock seconds of each run.
        records: the :class:`~ganlab.train.RunRecord` of each run (None if it
            diverged), ``records[i][j]``.
        steps, seed, recipe, overrides: how the runs were made.
    """

    rows: tuple
    cols: tuple
    modes: np.ndarray
    hq: np.ndarray
    n_modes: int
    seconds: np.ndarray
    records: list
    steps: int
    seed: int | None
    recipe: str
    overrides: dict

    def cell(self, row_value, col_value) -> dict:
        """``{"modes": ..., "hq": ...}`` of the run with these two settings."""
        i, j = _index_of("row_value", row_value, self.rows[1]), _index_of("col_value", col_value, self.cols[1])
        return {"modes": float(self.modes[i, j]), "hq": float(self.hq[i, j])}


def _index_of(name: str, value, values: list) -> int:
    for i, v in enumerate(values):
        if v == value:
            return i
    raise ValueError(f"{name} must be one of {values}, got {_describe(value)}")


def _check_axis(name: str, axis) -> tuple[str, list]:
    from .train import TrainConfig

    ok = isinstance(axis, (tuple, list)) and len(axis) == 2 and isinstance(axis[0], str)
    if not ok or not isinstance(axis[1], (tuple, list)) or not axis[1]:
        raise TypeError(f"{name} must be a pair (field name, non-empty list of values), got {_describe(axis)}")
    fields = [f.name for f in dataclasses.fields(TrainConfig)]
    if axis[0] not in fields:
        raise ValueError(f"{name}[0] must be a TrainConfig field, got {axis[0]!r}; known fields: {', '.join(fields)}")
    return axis[0], list(axis[1])


def sweep(data, recipe: str = "r1", *, rows, cols, steps: int, seed: int | None = 0,
          metrics_every: int | None = None, last: int = 3, **overrides) -> SweepResult:
    """Train one run per cell of a grid of two settings; summarise each by its modes.

    Args:
        data: a mixture with known mode centres (``ganlab.data.ring()``, ``grid()``).
        recipe: the :mod:`ganlab.recipes` name the runs start from.
        rows, cols: ``(field, values)`` pairs of :class:`~ganlab.train.TrainConfig`
            fields, e.g. ``("lr_d", [2.5e-4, 1e-3, 4e-3])`` and ``("d_steps", [1, 3])``.
        steps: iterations per run (an iteration is ``d_steps`` D steps and one G step).
        seed: the same seed for every run (nets and minibatches), so that the
            cells differ only by their settings.
        metrics_every: how often the mode statistics are measured (default
            ``steps // 6``).
        last: each cell reports the mean of the last ``last`` measurements
            (one measurement is noisy: a GAN's samples move all the time).
        **overrides: TrainConfig fields shared by all runs (e.g. ``lr_g=1e-3``).

    A run that diverges (:class:`~ganlab.train.TrainingDiverged`) gets NaN.
    """
    from .recipes import get_recipe
    from .train import TrainingDiverged, _resolve_data

    data = _resolve_data(data)
    if getattr(data, "centres", None) is None or getattr(data, "std", None) is None:
        raise ValueError("data must be a mixture with known mode centres and one std "
                         f"(e.g. ganlab.data.ring()), got {_describe(data)}")
    rows, cols = _check_axis("rows", rows), _check_axis("cols", cols)
    if rows[0] == cols[0]:
        raise ValueError(f"rows and cols must sweep different fields, both are {rows[0]!r}")
    steps = check_int("steps", steps, minimum=1)
    seed = check_seed("seed", seed)
    last = check_int("last", last, minimum=1)
    if metrics_every is None:
        metrics_every = max(1, steps // 6)
    metrics_every = check_int("metrics_every", metrics_every, minimum=1)
    shape = (len(rows[1]), len(cols[1]))
    modes, hq, seconds = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape)
    records = [[None] * shape[1] for _ in range(shape[0])]
    base = get_recipe(recipe)
    for i, row_value in enumerate(rows[1]):
        for j, col_value in enumerate(cols[1]):
            settings = dict(overrides, **{rows[0]: row_value, cols[0]: col_value})
            trainer = base.trainer(data, seed=seed, snapshot_every=0, metrics_every=metrics_every, **settings)
            start = time.perf_counter()
            try:
                record = trainer.fit(steps, progress=False)
            except TrainingDiverged:
                record = None
            seconds[i, j] = time.perf_counter() - start
            if record is not None:
                measured = [m for m in record.metrics if m["step"] > 0][-last:]
                modes[i, j] = np.mean([m["modes"] for m in measured])
                hq[i, j] = np.mean([m["hq"] for m in measured])
            records[i][j] = record
    return SweepResult(rows=rows, cols=cols, modes=modes, hq=hq, n_modes=len(data.centres),
                       seconds=seconds, records=records, steps=steps, seed=seed, recipe=recipe,
                       overrides=dict(overrides))


# --------------------------------------------------------------------------- #
# Self-checks for the exercises
# --------------------------------------------------------------------------- #
def _report(ok: bool, message: str) -> bool:
    """Print the verdict, wrapped to fit a notebook cell; return it."""
    print(textwrap.fill(("✔ " if ok else "✘ ") + message, width=76, subsequent_indent="  "))
    return ok


def _wrong_value(name: str, got, right, mistakes, hint: str, *, atol: float, rtol: float = 1e-5) -> bool:
    """Report a wrong value: the hint of the first known mistake it equals, else the general hint.

    ``mistakes`` is a list of (value that mistake gives, its hint)."""
    for wrong, mistake_hint in mistakes:
        if torch.allclose(got.detach(), wrong.detach(), atol=atol, rtol=rtol):
            return _report(False, f"{name} = {got.item():.4f}, expected {right.item():.4f}: {mistake_hint}")
    return _report(False, f"{name} = {got.item():.4f}, expected {right.item():.4f}. Hint: {hint}")


def _check_callable(name: str, fn) -> None:
    if not callable(fn):
        raise TypeError(f"{name} must be a function (your answer), got {_describe(fn)}")


def _test_logits(n: int = 8, seed: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed logits of a discriminator that is right more often than not."""
    gen = torch.Generator().manual_seed(seed)
    real = 1.0 + 1.5 * torch.randn(n, 1, generator=gen)
    fake = -0.5 + 1.5 * torch.randn(n, 1, generator=gen)
    return real, fake


def _reference_d_loss(real_logits, fake_logits):
    # -log D(x_real) - log(1 - D(x_fake)), from logits (see ganlab.losses)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def _d_loss_mistakes(real, fake) -> list[tuple[torch.Tensor, str]]:
    """What common wrong answers return on (real, fake), and the hint for each."""
    right = _reference_d_loss(real, fake)
    return [
        (-right, "the sign is flipped: L_D is the negative log-likelihood, which D minimises "
                 "(-log D(x_real) - log(1 - D(G(z)))), so it is positive."),
        (F.softplus(real).mean() + F.softplus(-fake).mean(),
         "the labels are swapped: real samples have label 1 (D(x_real) should go up), fakes label 0."),
        (F.softplus(-real).mean(), "only the real term is there: add -mean log(1 - D(x_fake)) = "
                                   "mean softplus(fake_logits)."),
        (F.softplus(fake).mean(), "only the fake term is there: add -mean log D(x_real) = "
                                  "mean softplus(-real_logits)."),
        (F.softplus(-fake).mean(), "this is G's loss -log D(G(z)), not D's."),
        (right * len(real), "you summed over the batch: take the mean, so the loss does not grow with "
                            "the batch size."),
        (right / 2, "you averaged the two terms (e.g. binary_cross_entropy_with_logits on the real and "
                    "fake batch put together): in this course L_D is their SUM, "
                    "E[-log D(x)] + E[-log(1 - D(G(z)))], so that it is log 4 at D = 1/2."),
    ]


def _scalar(name: str, value) -> torch.Tensor | str:
    """The answer as a 0-d float tensor, or a message saying why it is not one."""
    if not isinstance(value, torch.Tensor):
        return f"{name} returned {_describe(value)}; return a torch tensor (a scalar), so that .backward() works."
    if value.numel() != 1:
        return f"{name} returned a tensor of shape {tuple(value.shape)}; return one number: the mean over the batch."
    return value.reshape(())


def check_d_loss(d_loss: Callable) -> bool:
    """Self-check: is ``d_loss(real_logits, fake_logits)`` the discriminator's loss?

    The expected answer is the binary cross-entropy with labels 1 for real and 0
    for fake, from LOGITS l (D(x) = sigmoid(l)), as a mean over each batch:

        L_D = mean softplus(-l_real) + mean softplus(l_fake)
            = -mean log D(x_real) - mean log(1 - D(G(z))).

    Tried on fixed logits of shape (8, 1), then on very confident ones (+-100),
    where a loss written as log(sigmoid(l)) overflows.
    """
    _check_callable("d_loss", d_loss)
    real, fake = _test_logits()
    real.requires_grad_(True)
    fake.requires_grad_(True)
    try:
        got = d_loss(real, fake)
    except Exception as error:  # the student's code failed: say so, do not raise
        return _report(False, f"d_loss raised {type(error).__name__}: {error}. It is called with two tensors "
                              "of logits of shape (n, 1).")
    got = _scalar("d_loss", got)
    if isinstance(got, str):
        return _report(False, got)
    with torch.no_grad():
        right = _reference_d_loss(real, fake)
    if not torch.isfinite(got):
        return _report(False, f"d_loss returned {got.item()} on moderate logits. The inputs are logits (any "
                              "real number), not probabilities: D(x) = sigmoid(logit).")
    if not torch.allclose(got.detach(), right, atol=1e-5, rtol=1e-5):
        with torch.no_grad():
            mistakes = _d_loss_mistakes(real, fake)
        return _wrong_value("d_loss", got, right, mistakes, "-log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) "
                            "= softplus(l); take the mean of each over its batch and add the two.", atol=1e-5)
    if not got.requires_grad:
        return _report(False, "the value is right, but it carries no gradient: compute it with torch "
                              "operations on the logits (no .item(), .detach() or NumPy).")
    grads = torch.autograd.grad(got, (real, fake), allow_unused=True)
    expected = torch.autograd.grad(_reference_d_loss(real, fake), (real, fake))
    if any(g is None or not torch.allclose(g, e, atol=1e-6) for g, e in zip(grads, expected)):
        return _report(False, "the value is right but its gradient is not: do not detach any part of it.")
    confident = torch.tensor([[100.0], [-100.0]]), torch.tensor([[-100.0], [100.0]])
    try:
        extreme = d_loss(*confident)
        extreme = float(extreme.reshape(()))
    except Exception as error:
        return _report(False, f"d_loss raised {type(error).__name__} on logits of +-100: {error}")
    if not math.isfinite(extreme):
        return _report(False, f"right on moderate logits, but {extreme} when D is very sure (logits +-100): "
                              "log(sigmoid(l)) rounds to log(0). Use F.softplus(-l) for -log sigmoid(l).")
    return _report(True, f"d_loss = {got.item():.4f}: right, with the right gradient, and finite "
                         f"({extreme:.1f}) even for logits of +-100.")


# --- one iteration of Algorithm 1 --------------------------------------------
def _tiny_game(seed: int = 0):
    """Small G and D, SGD optimisers (deterministic and stateless), k = 2 batches."""
    from .models import MLPDiscriminator, MLPGenerator

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        G = MLPGenerator(z_dim=2, out_dim=2, depth=1, width=16)
        D = MLPDiscriminator(in_dim=2, depth=1, width=16)
    gen = torch.Generator().manual_seed(seed + 1)
    x_reals = [torch.randn(32, 2, generator=gen) * 0.3 + 1.0 for _ in range(2)]
    zs = [torch.randn(32, 2, generator=gen) for _ in range(2)]
    return G, D, x_reals, zs


def _optimizers(G, D, lr: float = 0.5):
    return torch.optim.SGD(G.parameters(), lr=lr), torch.optim.SGD(D.parameters(), lr=lr)


def _reference_iteration(G, D, opt_G, opt_D, x_reals, zs, mistake: str | None = None):
    """Algorithm 1's iteration (or a known mistake of it, for the hints)."""
    ns_g_loss = lambda logits: F.softplus(-logits).mean()  # -log D(G(z))
    if mistake == "g_first":
        opt_G.zero_grad()
        ns_g_loss(D(G(zs[-1]))).backward()
        opt_G.step()
    if mistake == "stale_d":  # G's gradient taken before D moves (simultaneous)
        opt_G.zero_grad()
        ns_g_loss(D(G(zs[-1]))).backward()
    batches = list(zip(x_reals, zs))
    if mistake == "one_d_step":
        batches = batches[-1:]
    for x_real, z in batches:
        x_fake = G(z)
        if mistake == "swapped":
            loss_D = F.softplus(D(x_real)).mean() + F.softplus(-D(x_fake.detach())).mean()
        else:
            loss_D = _reference_d_loss(D(x_real), D(x_fake.detach()))
        if mistake != "no_zero_grad":
            opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
    if mistake == "g_first":
        return
    if mistake == "stale_d":
        opt_G.step()
        return
    x_fake = G(zs[-1])
    if mistake == "saturating":
        loss_G = -F.softplus(D(x_fake)).mean()  # the minimax G loss log(1 - D(G(z)))
    elif mistake == "g_sign":
        loss_G = -ns_g_loss(D(x_fake))
    else:
        loss_G = ns_g_loss(D(x_fake))
    opt_G.zero_grad()
    if mistake == "d_moves_in_g_step":
        opt_D.zero_grad()
    loss_G.backward()
    opt_G.step()
    if mistake == "d_moves_in_g_step":
        opt_D.step()


_ITERATION_HINTS = {
    "g_first": "G moved before D: in each iteration D takes its k steps first, then G takes one.",
    "stale_d": "G's gradient was computed before D's steps, with the old D (that is a simultaneous "
               "update): compute G's loss after D has moved, with the new D.",
    "one_d_step": "D took one step instead of k = len(x_reals): loop over all the minibatches.",
    "no_zero_grad": "D's gradients piled up from one D step to the next: call opt_D.zero_grad() "
                    "before each loss_D.backward().",
    "swapped": "D's labels are swapped: D(x_real) should go up (label 1), D(G(z)) down (label 0).",
    "saturating": "G used the minimax loss log(1 - D(G(z))), which saturates when D rejects the fakes: "
                  "use the non-saturating -log D(G(z)) = softplus(-logits).",
    "g_sign": "G's loss has the wrong sign: G minimises -log D(G(z)) (it wants D(G(z)) up).",
    "d_moves_in_g_step": "D moved during G's step: only opt_G.step() belongs there (D is held fixed).",
}


def _params(net) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _same(a: list, b: list, tol: float = 1e-5) -> bool:
    return all(torch.allclose(x, y, atol=tol, rtol=tol) for x, y in zip(a, b))


def _run_iteration(fn, mistake=None, student: bool = False):
    G, D, x_reals, zs = _tiny_game()
    opt_G, opt_D = _optimizers(G, D)
    if student:
        fn(G, D, opt_G, opt_D, [x.clone() for x in x_reals], [z.clone() for z in zs])
    else:
        _reference_iteration(G, D, opt_G, opt_D, x_reals, zs, mistake)
    return _params(G), _params(D)


def check_iteration(iteration: Callable) -> bool:
    """Self-check: does ``iteration(G, D, opt_G, opt_D, x_reals, zs)`` do one
    iteration of Algorithm 1?

    Expected: k = len(x_reals) steps of D, the i-th on the real batch
    ``x_reals[i]`` and the fakes ``G(zs[i])`` with the loss of
    :func:`check_d_loss`; then one step of G on the fakes ``G(zs[-1])`` with the
    non-saturating loss -mean log D(G(z)). The optimisers are given (plain SGD
    here, so every mistake shows in the weights). The check compares the
    weights of G and D after your iteration with those after the right one,
    and with those after common mistakes, to say which one you made.
    """
    _check_callable("iteration", iteration)
    try:
        got_G, got_D = _run_iteration(iteration, student=True)
    except Exception as error:
        if "backward through the graph a second time" in str(error):
            return _report(False, "a backward pass went through G's graph twice. In D's step use "
                                  "D(x_fake.detach()): D's gradient then stops at the fakes, and G's "
                                  "step can still backpropagate through G(z) afterwards.")
        return _report(False, f"iteration raised {type(error).__name__}: {error}. It is called as "
                              "iteration(G, D, opt_G, opt_D, x_reals, zs) with lists of k = 2 tensors.")
    start_G, start_D = _params(_tiny_game()[0]), _params(_tiny_game()[1])
    right_G, right_D = _run_iteration(None)
    if _same(got_G, right_G) and _same(got_D, right_D):
        return _report(True, "G and D end with the same weights as after one iteration of Algorithm 1 "
                             "(k = 2 D steps, then one G step): right.")
    if _same(got_D, start_D) and _same(got_G, start_G):
        return _report(False, "neither G nor D changed: call loss.backward() and opt.step() for each player.")
    for mistake, hint in _ITERATION_HINTS.items():
        wrong_G, wrong_D = _run_iteration(None, mistake)
        if _same(got_G, wrong_G) and _same(got_D, wrong_D):
            return _report(False, hint)
    d_ok, g_ok = _same(got_D, right_D), _same(got_G, right_G)
    if d_ok:
        return _report(False, "D's steps are right, G's step is not. Hint: after D's k steps, "
                              "loss_G = softplus(-D(G(zs[-1]))).mean(); opt_G.zero_grad(); "
                              "loss_G.backward(); opt_G.step().")
    if g_ok:
        return _report(False, "G ends right but D does not. Hint: for each (x_real, z): loss_D = "
                              "softplus(-D(x_real)).mean() + softplus(D(G(z).detach())).mean(), "
                              "then opt_D.zero_grad(); loss_D.backward(); opt_D.step().")
    return _report(False, "neither G's nor D's weights match one iteration of Algorithm 1. Hint: write "
                          "D's k steps first (one per minibatch), then G's step, each with its own "
                          "zero_grad / backward / step.")
