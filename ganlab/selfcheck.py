"""Self-checks for the exercises of chapters 1 to 4, 9 and 10.

Each function takes your answer, prints what is right or wrong with a hint (never
the solution), and returns True when the answer is right, False otherwise. Call
them in the chapter's notebook after writing your answer, e.g.::

    from ganlab.selfcheck import check_parameter_count
    check_parameter_count(my_count)

Chapter 1 (the counterfeiter and the police): :func:`check_police_step`,
:func:`check_faster_players`.
Chapter 2 (the generator and the discriminator): :func:`check_parameter_count`,
:func:`check_transposed_size`, :func:`check_small_generator`.
Chapter 3 (the minimax objective): :func:`check_logit_gradients`,
:func:`check_optimal_value`.
Chapter 4 (the training loop): :func:`check_turns` (and, in :mod:`ganlab.loop`,
``check_d_loss`` and ``check_iteration``).
A GAN from scratch (09_gan_from_scratch): :func:`check_logistic_feedback` (and, in
:mod:`ganlab.numpy_gan`, the checks of the backward passes and of Adam).
Chapter 9 (applications, file 10_applications): :func:`check_auroc`.
Chapter 5's checks live in :mod:`ganlab.games`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from ._checks import _describe, check_choice

__all__ = [
    "check_police_step",
    "check_faster_players",
    "check_parameter_count",
    "check_transposed_size",
    "check_small_generator",
    "check_logit_gradients",
    "check_optimal_value",
    "check_turns",
    "check_logistic_feedback",
    "check_auroc",
]

_OK = "✔ "
_NO = "✘ "


def _say(ok: bool, message: str) -> bool:
    print((_OK if ok else _NO) + message)
    return ok


def _number(name: str, value) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    return float(value)


# ---------------------------------------------------------------------------
# Chapter 1
# ---------------------------------------------------------------------------

def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * t))  # = 1 / (1 + e^-t), without overflow


def _police_step(w, b, x_real, x_fake, lr, gamma, *, sign=1.0, swap=False, penalty=1.0,
                 mean=True, times_x=True):
    """One SGD step of the logistic police on L_D + (gamma / 2) w^2; the flags make the
    usual mistakes (a step uphill, swapped labels, a wrong penalty, sums, a missing x)."""
    if swap:
        x_real, x_fake = x_fake, x_real
    reduce = np.mean if mean else np.sum
    miss_real = 1.0 - _sigmoid(w * x_real + b)  # -dL/dlogit on a real sample: 1 - D(x)
    miss_fake = _sigmoid(w * x_fake + b)        # +dL/dlogit on a fake: D(x)
    xr, xf = (x_real, x_fake) if times_x else (1.0, 1.0)
    grad_w = -reduce(miss_real * xr) + reduce(miss_fake * xf) + penalty * gamma * w
    grad_b = -reduce(miss_real) + reduce(miss_fake)
    return w - sign * lr * grad_w, b - sign * lr * grad_b


def _pair(name: str, value) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must return a pair (w, b), got {_describe(value)}")
    return _number(f"{name}(...)[0]", value[0]), _number(f"{name}(...)[1]", value[1])


def check_police_step(police_step) -> bool:
    """Does ``police_step(w, b, x_real, x_fake, lr, gamma)`` make one gradient step of
    chapter 1's police, by hand? It returns the new ``(w, b)``.

    Exercise "The police's step, by hand" of chapter 1. With D(x) = sigmoid(w x + b)
    and the R1 penalty (gamma / 2) w^2 (the gradient of the logit w.r.t. x is w)::

        L_D = -mean log D(x_real) - mean log(1 - D(x_fake)) + (gamma / 2) w^2
        dL_D/dw = -mean[(1 - D(x_real)) x_real] + mean[D(x_fake) x_fake] + gamma w
        dL_D/db = -mean[1 - D(x_real)] + mean[D(x_fake)]
        (w, b) <- (w - lr dL_D/dw, b - lr dL_D/db)

    The batches are NumPy arrays of shape (m,), real and fake of different sizes.
    """
    if not callable(police_step):
        raise TypeError(f"police_step must be a function police_step(w, b, x_real, x_fake, lr, gamma), "
                        f"got {_describe(police_step)}")
    gen = np.random.default_rng(0)
    x_real, x_fake = gen.normal(4.0, 0.5, 6), gen.normal(1.0, 1.0, 5)
    w, b, lr, gamma = 0.3, -0.2, 0.1, 1.0
    try:
        got = _pair("police_step", police_step(w, b, x_real.copy(), x_fake.copy(), lr, gamma))
    except Exception as error:  # the student's code: report, do not crash
        return _say(False, f"police_step raised {type(error).__name__}: {error}")
    truth = _police_step(w, b, x_real, x_fake, lr, gamma)
    if np.allclose(got, truth, rtol=1e-5, atol=1e-7):
        return _say(True, f"right: from (w, b) = ({w}, {b}) one step gives "
                          f"({truth[0]:.4f}, {truth[1]:.4f}).")
    mistakes = [
        (dict(sign=-1.0), "you stepped uphill: gradient DESCENT subtracts lr times the gradient."),
        (dict(swap=True), "the labels are swapped: real notes should push D(x) up, fakes down."),
        (dict(penalty=0.0), "b is right, w is not: the R1 penalty (gamma / 2) w^2 is missing from w's gradient."),
        (dict(penalty=0.5), "the derivative of (gamma / 2) w^2 is gamma w, not (gamma / 2) w."),
        (dict(penalty=2.0), "the derivative of (gamma / 2) w^2 is gamma w, not 2 gamma w."),
        (dict(mean=False), "you summed over the batch: L_D averages, so its gradient is a mean "
                           "(here the two batches have different sizes)."),
        (dict(times_x=False), "b is right, w is not: the logit is w x + b, so w's gradient carries a factor x "
                              "for every sample (the chain rule)."),
    ]
    for flags, hint in mistakes:
        if np.allclose(got, _police_step(w, b, x_real, x_fake, lr, gamma, **flags), rtol=1e-5, atol=1e-7):
            return _say(False, hint)
    which = "b" if np.isclose(got[0], truth[0], rtol=1e-5) else "w" if np.isclose(got[1], truth[1], rtol=1e-5) \
        else "both w and b"
    return _say(False, f"{which} {'is' if which != 'both w and b' else 'are'} not right (you gave "
                       f"({got[0]:.4f}, {got[1]:.4f})). Hint: on a real note -log D(x) has derivative "
                       "-(1 - D(x)) in the logit, on a fake -log(1 - D(x)) has derivative D(x); then "
                       "d logit / dw = x and d logit / db = 1.")


#: Chapter 1's game: what ``play`` in the chapter sets, besides the learning rates.
_CHAPTER1_GAME = dict(opt_g="sgd", opt_d="sgd", penalty="r1", penalty_weight=1.0, batch_size=256,
                      objective="nonsaturating", steps=1000, seed=0)


def _police_lr_limit(mean=4.0, std=0.5, gamma=1.0, *, curvature=0.25, batches=2, coupled=True) -> float:
    """2 / lambda_max of the Hessian of L_D + (gamma/2) w^2 in (w, b) at w = b = 0, when the
    real notes and the fakes both follow N(mean, std^2). There D = 1/2, so D(1 - D) = 1/4
    (``curvature``), and each of the two batches adds (1/4) E[(x, 1)(x, 1)^T]. The keywords
    make the usual mistakes (no 1/4, one batch, the w-w entry alone)."""
    second = mean ** 2 + std ** 2
    hessian = batches * curvature * np.array([[second, mean], [mean, 1.0]]) + np.diag([gamma, 0.0])
    if not coupled:
        return 2.0 / float(hessian[0, 0])
    return 2.0 / float(np.linalg.eigvalsh(hessian).max())


def _game_problems(trainer, lr_g: float, lr_d: float) -> list[str]:
    from .models import AffineGenerator, LogisticDiscriminator

    cfg, want, problems = trainer.config, _CHAPTER1_GAME, []
    if not isinstance(trainer.G, AffineGenerator) or not isinstance(trainer.D, LogisticDiscriminator):
        problems.append("it is not chapter 1's counterfeiter and police (use play(), with its default D)")
    if (cfg.lr_g, cfg.lr_d) != (lr_g, lr_d):
        problems.append(f"it has lr_g = {cfg.lr_g:g}, lr_d = {cfg.lr_d:g}, the exercise asks for "
                        f"lr_g = {lr_g:g}, lr_d = {lr_d:g}")
    if trainer.steps_done != want["steps"]:
        problems.append(f"it played {trainer.steps_done} rounds, the exercise asks for {want['steps']}")
    settings = {"opt_g": cfg.opt_g, "opt_d": cfg.opt_d, "penalty": cfg.penalty, "batch_size": cfg.batch_size,
                "objective": cfg.objective, "seed": trainer.seed,
                "penalty_weight": cfg.penalty_weight if cfg.penalty else None}
    changed = [f"{key}={value!r}" for key, value in settings.items() if value != want[key]]
    if changed:
        problems.append("change only the learning rates; it also has " + ", ".join(changed))
    return problems


def check_faster_players(fast_counterfeiter, fast_police, closer, lr_max) -> bool:
    """Exercise "Faster players" of chapter 1.

    ``fast_counterfeiter`` and ``fast_police`` are the trainers returned by the
    chapter's ``play(lr_g=0.3, lr_d=0.03)`` and ``play(lr_g=0.03, lr_d=0.3)``;
    ``closer`` is "counterfeiter" or "police": whose game ends with mu closer to 4;
    ``lr_max`` is the largest learning rate for which gradient descent on the police's
    loss is stable near the end point, 2 / lambda_max of the Hessian of
    L_D + (gamma / 2) w^2 in (w, b) at w = b = 0, when the real notes and the fakes
    both follow N(4, 0.5^2) and gamma = 1.
    """
    from .train import Trainer

    for name, value in (("fast_counterfeiter", fast_counterfeiter), ("fast_police", fast_police)):
        if not isinstance(value, Trainer):
            raise TypeError(f"{name} must be the trainer that play() returns (its first value), "
                            f"got {_describe(value)}")
    closer = check_choice("closer", closer, ("counterfeiter", "police"))
    lr_max = _number("lr_max", lr_max)
    ok = True
    runs = (("fast_counterfeiter", fast_counterfeiter, 0.3, 0.03), ("fast_police", fast_police, 0.03, 0.3))
    if [(t.config.lr_g, t.config.lr_d) for _, t, _, _ in runs] == [(0.03, 0.3), (0.3, 0.03)]:
        return _say(False, "the two trainers are swapped: the fast counterfeiter has lr_g = 0.3, lr_d = 0.03.")
    for name, trainer, lr_g, lr_d in runs:
        problems = _game_problems(trainer, lr_g, lr_d)
        if problems:
            ok = _say(False, f"{name}: " + "; ".join(problems) + ".") and ok
        else:
            _say(True, f"{name}: the right game; it ends at mu = {trainer.G.mu.item():.3f}, "
                       f"sigma = {trainer.G.sigma.item():.3f}.")
    if ok:
        gaps = {who: abs(t.G.mu.item() - 4.0) for who, t in
                (("counterfeiter", fast_counterfeiter), ("police", fast_police))}
        truth = min(gaps, key=gaps.get)
        if closer == truth:
            _say(True, f"closer: right, the fast {truth}'s game ends {gaps[truth]:.3f} from 4, "
                       f"the other {max(gaps.values()):.3f}.")
        else:
            ok = _say(False, f"closer: look again at the two final values of mu: |mu - 4| is "
                             f"{gaps['counterfeiter']:.3f} with the fast counterfeiter, "
                             f"{gaps['police']:.3f} with the fast police.")
    truth_lr = _police_lr_limit()
    wrong_lr = [
        (_police_lr_limit(gamma=0.0), "you left out the penalty: (gamma / 2) w^2 adds gamma to the w-w entry."),
        (_police_lr_limit(curvature=1.0), "at D = 1/2 the curvature of -log D in the logit is D (1 - D) = 1/4: "
                                          "each batch adds (1/4) E[(x, 1)(x, 1)^T]."),
        (_police_lr_limit(batches=1), "L_D has two terms, one per batch, and each adds its own curvature."),
        (_police_lr_limit(coupled=False), "the Hessian is 2 x 2 and b couples to w (the off-diagonal entries): "
                                          "use its largest eigenvalue, not the w-w entry alone."),
        (0.5 * truth_lr, "gradient descent on a quadratic is stable for lr < 2 / lambda_max, not 1 / lambda_max."),
    ]
    if abs(lr_max - truth_lr) < 1e-3 * truth_lr:
        _say(True, f"lr_max: right, {truth_lr:.4f}; lr_d = 0.3 is above it, 0.1 and 0.03 are below.")
    else:
        hint = next((h for value, h in wrong_lr if abs(lr_max - value) < 1e-3 * value),
                    "Hint: at w = b = 0, D = 1/2 and the Hessian of -log D(x) (or of -log(1 - D(x))) in "
                    "(w, b) is D (1 - D) (x, 1)(x, 1)^T; average it over each batch, add the two, add gamma "
                    "to the w-w entry, and take 2 / (its largest eigenvalue).")
        ok = _say(False, f"lr_max = {lr_max:.4g} is not it. {hint}") and ok
    return ok


# ---------------------------------------------------------------------------
# Chapter 2
# ---------------------------------------------------------------------------

def check_parameter_count(answer, preset="dense-512-1024", net="G") -> bool:
    """Is ``answer`` the number of parameters of the preset's ``net`` ("G" or "D")?

    Exercise "Count the parameters" of chapter 2: count by hand, with
    n_in * n_out weights and n_out biases per dense layer.
    """
    from .models import PRESETS, count_parameters, make_preset

    preset = check_choice("preset", preset, PRESETS)
    net = check_choice("net", net, ("G", "D"))
    answer = _number("answer", answer)
    module = make_preset(preset)[0 if net == "G" else 1]
    truth = count_parameters(module)
    biases = sum(p.numel() for name, p in module.named_parameters() if name.endswith("bias"))
    if answer == truth:
        return _say(True, f"right: {preset} {net} has {truth:,} parameters.")
    if answer == truth - biases:
        return _say(False, "you counted the weights only: every layer also has one bias per output unit.")
    if answer < truth:
        return _say(False, f"too few ({answer:,.0f}): did you count every dense layer, the last one included? "
                           "Each has n_in * n_out weights and n_out biases.")
    return _say(False, f"too many ({answer:,.0f}): activations, reshapes and Flatten have no parameters; "
                       "count only the dense (and convolution) layers.")


def check_transposed_size(out_size) -> bool:
    """Does ``out_size(n, k, s, p)`` give the output side of ``ConvTranspose2d``?

    Exercise "The size rule of transposed convolution" of chapter 2. The check runs
    torch's ``ConvTranspose2d`` on inputs of side n with kernel k, stride s and
    padding p, and compares.
    """
    if not callable(out_size):
        raise TypeError(f"out_size must be a function out_size(n, k, s, p), got {_describe(out_size)}")
    cases = [(2, 2, 2, 0), (7, 4, 2, 1), (14, 4, 2, 1), (3, 3, 1, 0), (3, 3, 1, 1), (4, 5, 3, 2), (1, 4, 2, 0)]
    for n, k, s, p in cases:
        layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, bias=False)
        with torch.no_grad():
            truth = layer(torch.zeros(1, 1, n, n)).shape[-1]
        try:
            got = out_size(n, k, s, p)
        except Exception as error:  # the student's code: report, do not crash
            return _say(False, f"out_size({n}, {k}, {s}, {p}) raised {type(error).__name__}: {error}")
        if got != truth:
            hint = ("the n stamps start s pixels apart, so the last one starts at (n - 1) * s and is k wide; "
                    "then padding crops p pixels from EACH side.")
            return _say(False, f"out_size(n={n}, k={k}, s={s}, p={p}) gave {got!r}, torch gives {truth}. Hint: {hint}")
    return _say(True, f"right on all {len(cases)} cases, including DCGAN's k=4, s=2, p=1 (7 → 14 → 28).")


def check_small_generator(G, z_dim=16) -> bool:
    """Is ``G`` a generator of 14 x 14 grey images in [-1, 1] that upsamples by
    transposed convolution?

    Exercise "Build a small generator" of chapter 2: G maps z of shape (n, z_dim)
    to images of shape (n, 1, 14, 14), ends in tanh and uses ``ConvTranspose2d``.
    """
    if not isinstance(G, nn.Module):
        raise TypeError(f"G must be a torch.nn.Module, got {_describe(G)}")
    z = torch.randn(8, z_dim, generator=torch.Generator().manual_seed(0)) * 3.0
    try:
        with torch.no_grad():
            G.eval()
            x = G(z)
    except Exception as error:
        return _say(False, f"G failed on z of shape (8, {z_dim}): {type(error).__name__}: {error}. "
                           "Hint: a dense layer first, then nn.Unflatten(1, (channels, 7, 7)).")
    finally:
        G.train()
    if tuple(x.shape) != (8, 1, 14, 14):
        return _say(False, f"G(z) has shape {tuple(x.shape)}, want (8, 1, 14, 14). Hint: a ConvTranspose2d "
                           "with kernel 4, stride 2, padding 1 doubles the side: 7 → 14.")
    if not any(isinstance(m, nn.ConvTranspose2d) for m in G.modules()):
        return _say(False, "the shape is right, but G has no ConvTranspose2d: upsample with one.")
    if x.min() < -1 or x.max() > 1 or not any(isinstance(m, nn.Tanh) for m in G.modules()):
        return _say(False, "the images must lie in [-1, 1] like the scaled data: end G with nn.Tanh().")
    n = sum(p.numel() for p in G.parameters())
    return _say(True, f"right: z ({z_dim}) → 1×14×14 images in [-1, 1], with {n:,} parameters.")


# ---------------------------------------------------------------------------
# Chapter 3
# ---------------------------------------------------------------------------

def check_logit_gradients(saturating, nonsaturating) -> bool:
    """Do the two functions give d loss / d l for one fake sample with logit l?

    Exercise "The two generator gradients" of chapter 3: with D = sigmoid(l),
    ``saturating(l)`` = d/dl log(1 - D) (what G minimises in the minimax game) and
    ``nonsaturating(l)`` = d/dl (-log D). Both take and return tensors of the same shape.
    """
    for name, fn in (("saturating", saturating), ("nonsaturating", nonsaturating)):
        if not callable(fn):
            raise TypeError(f"{name} must be a function of a tensor of logits, got {_describe(fn)}")
    logits = torch.linspace(-8.0, 8.0, 33, dtype=torch.float64)
    l = logits.clone().requires_grad_(True)
    truth_sat = torch.autograd.grad((-torch.nn.functional.softplus(l)).sum(), l)[0]
    l = logits.clone().requires_grad_(True)
    truth_ns = torch.autograd.grad(torch.nn.functional.softplus(-l).sum(), l)[0]
    ok = True
    for name, fn, truth in (("saturating", saturating, truth_sat), ("nonsaturating", nonsaturating, truth_ns)):
        try:
            got = torch.as_tensor(fn(logits.clone()), dtype=torch.float64)
        except Exception as error:
            ok = _say(False, f"{name}(l) raised {type(error).__name__}: {error}") and ok
            continue
        if got.shape != truth.shape:
            ok = _say(False, f"{name}(l) returned shape {tuple(got.shape)} for logits of shape {tuple(truth.shape)}")
            continue
        if torch.allclose(got, truth, atol=1e-6):
            _say(True, f"{name}: right.")
        elif torch.allclose(got, -truth, atol=1e-6):
            ok = _say(False, f"{name}: right size, wrong sign. Is the loss increasing or decreasing in l?")
        elif torch.allclose(got.abs(), (truth_ns if name == "saturating" else truth_sat).abs(), atol=1e-6):
            ok = _say(False, f"{name}: you have the OTHER loss's gradient. d sigmoid(l)/dl = D (1 - D).")
        else:
            i = int((got - truth).abs().argmax())
            ok = _say(False, f"{name}: at l = {logits[i].item():.1f} you give {got[i].item():.4g}. "
                             "Hint: d sigmoid(l)/dl = sigmoid(l) (1 - sigmoid(l)); use the chain rule.")
    return ok


def check_optimal_value(value) -> bool:
    """Is ``value`` max_D V(D, G) for p_data = N(0, 1) and p_g = N(2, 1) (natural logs)?

    Exercise "The value of the game for two Gaussians" of chapter 3.
    """
    from .data import Gaussian1D
    from .theory import jsd, optimal_value

    value = _number("value", value)
    x = np.linspace(-10.0, 12.0, 8801)
    p_data, p_g = Gaussian1D(0.0, 1.0).density(x[:, None]), Gaussian1D(2.0, 1.0).density(x[:, None])
    truth = optimal_value(p_data, p_g, x)
    j = jsd(p_data, p_g, x)
    if abs(value - truth) < 1e-3:
        return _say(True, f"right: max_D V = {truth:.4f} = -log 4 + 2 JSD, with JSD = {j:.4f}.")
    if abs(value - j) < 1e-3:
        return _say(False, "that is the JSD itself; max_D V adds -log 4 and doubles it.")
    if abs(value - (-math.log(4) + j)) < 1e-3:
        return _say(False, "close: the JSD enters max_D V twice (2 JSD).")
    if abs(value + math.log(4)) < 1e-3:
        return _say(False, "-log 4 is the value when p_g = p_data; here the Gaussians differ.")
    if value > 0 or value < -math.log(4):
        return _say(False, f"{value:.4f} is impossible: max_D V always lies in [-log 4, 0].")
    return _say(False, f"{value:.4f} is not it. Hint: ganlab.theory.optimal_value on a grid that holds "
                       "both densities (say -10 to 12, thousands of points).")


# ---------------------------------------------------------------------------
# Chapter 4
# ---------------------------------------------------------------------------

_TURN_RATES = (0.01, 0.1, 0.5)
_TURN_MODES = ("simultaneous", "alternating")


def _turns(time=20.0, *, steps=None, squared=False, at="end") -> dict:
    """final[lr, mode] for the Dirac GAN from (1, 1): the distance to (0, 0) after
    ``round(time / lr)`` steps; the keywords make the usual mistakes."""
    from .theory import DiracGAN

    final = {}
    for lr in _TURN_RATES:
        for mode in _TURN_MODES:
            path = DiracGAN().simulate(steps or round(time / lr), lr, mode=mode)
            radius = np.hypot(path[:, 0], path[:, 1])
            value = {"end": radius[-1], "start": radius[0], "max": radius.max()}[at]
            final[lr, mode] = value ** 2 if squared else value
    return final


def check_turns(final) -> bool:
    """Is ``final[lr, mode]`` the Dirac GAN's final distance to the equilibrium?

    Exercise "Turns matter more at large learning rates" of chapter 4: from
    (theta, psi) = (1, 1), ``round(20 / lr)`` steps of ``DiracGAN().simulate`` for
    lr in (0.01, 0.1, 0.5) and mode "simultaneous" or "alternating"; the value is
    the distance sqrt(theta^2 + psi^2) after the last step.
    """
    if not isinstance(final, dict):
        raise TypeError(f"final must be a dict with keys (lr, mode), got {_describe(final)}")
    missing = [key for key in _turns() if key not in final]
    if missing:
        return _say(False, f"final has no entry for {missing[0]!r} (keys are (lr, mode) pairs, e.g. "
                           f"final[0.1, 'alternating']); {len(missing)} of 6 are missing.")
    got = {key: _number(f"final[{key!r}]", final[key]) for key in _turns()}
    truth = _turns()

    def same(other):
        return all(math.isclose(got[k], other[k], rel_tol=1e-6, abs_tol=1e-9) for k in other)

    if same(truth):
        gaps = ", ".join(f"lr {lr}: {truth[lr, 'simultaneous'] / truth[lr, 'alternating']:.2f}x"
                         for lr in _TURN_RATES)
        return _say(True, f"right: simultaneous over alternating, {gaps}.")
    swapped = {(lr, mode): truth[lr, other] for lr in _TURN_RATES
               for mode, other in zip(_TURN_MODES, _TURN_MODES[::-1])}
    mistakes = [
        (swapped, "simultaneous and alternating are swapped."),
        (_turns(squared=True), "that is the squared distance: take the square root (math.hypot)."),
        (_turns(steps=1000), "you ran 1000 steps for every lr: the same TIME, 20 = lr x steps, needs "
                             "round(20 / lr) steps, so the learning rates can be compared fairly."),
        (_turns(at="max"), "that is the largest distance along the path; the exercise asks for the last one."),
        (_turns(at="start"), "that is the distance at the start, path[0]; the last row is path[-1]."),
    ]
    for other, hint in mistakes:
        if same(other):
            return _say(False, hint)
    key = next(k for k in truth if not math.isclose(got[k], truth[k], rel_tol=1e-6, abs_tol=1e-9))
    return _say(False, f"final[{key!r}] = {got[key]:.4g} is not it. Hint: path = DiracGAN().simulate("
                       "round(20 / lr), lr, mode=mode), then math.hypot(*path[-1]).")


# ---------------------------------------------------------------------------
# A GAN from scratch (09_gan_from_scratch)
# ---------------------------------------------------------------------------

def _logistic_feedback(x_fake, w, b, *, sign=-1.0, own=False, per_sample=False, times_w=True):
    """dL_G/dx for the non-saturating L_G = mean softplus(-(w x + b)): -w (1 - D(x)) / m;
    the keywords make the usual mistakes."""
    d = _sigmoid(w * x_fake + b)
    miss = d if own else 1.0 - d
    m = 1 if per_sample else len(x_fake)
    return sign * (w if times_w else 1.0) * miss / m


def check_logistic_feedback(feedback) -> bool:
    """Does ``feedback(x_fake, w, b)`` give dL_G / dx for each fake, with chapter 1's police?

    Exercise "The feedback of a logistic police officer" of "A GAN from scratch". With the logit
    l(x) = w x + b, D = sigmoid(l) and the non-saturating L_G = -(1/m) sum_j log D(x_j)::

        dL_G / dx_j = -(1 - D(x_j)) w / m

    ``x_fake`` is a NumPy array of shape (m, 1); return the same shape.
    """
    if not callable(feedback):
        raise TypeError(f"feedback must be a function feedback(x_fake, w, b), got {_describe(feedback)}")
    x_fake = np.array([[-1.0], [0.0], [0.5], [2.0]])
    w, b = -0.7, 0.4
    try:
        got = np.asarray(feedback(x_fake.copy(), w, b), dtype=np.float64)
    except Exception as error:  # the student's code: report, do not crash
        return _say(False, f"feedback raised {type(error).__name__}: {error}")
    if got.size != x_fake.size:
        return _say(False, f"feedback returned {got.size} numbers for {len(x_fake)} fakes: one gradient per fake.")
    got = got.reshape(x_fake.shape)
    truth = _logistic_feedback(x_fake, w, b)
    if np.allclose(got, truth, rtol=1e-6, atol=1e-12):
        return _say(True, "right: each fake moves towards larger logits, more the more surely D rejects it.")
    mistakes = [
        (dict(sign=1.0), "right size, wrong sign: L_G falls as D's logit rises, so dL_G/dl < 0."),
        (dict(per_sample=True), "the 1/m is missing: L_G is a mean over the m fakes."),
        (dict(own=True), "you used D(x) where 1 - D(x) belongs: d/dl (-log sigmoid(l)) = -(1 - sigmoid(l))."),
        (dict(times_w=False), "that is dL_G/dl, the gradient w.r.t. the logit; dl/dx = w (chain rule)."),
    ]
    for flags, hint in mistakes:
        if np.allclose(got, _logistic_feedback(x_fake, w, b, **flags), rtol=1e-6, atol=1e-12):
            return _say(False, hint)
    return _say(False, "not it. Hint: dL_G/dx_j = (dL_G/dl_j) (dl_j/dx_j), with dL_G/dl_j from "
                       "ganlab.numpy_gan.g_loss and dl/dx = w.")


# ---------------------------------------------------------------------------
# Chapter 9 (10_applications)
# ---------------------------------------------------------------------------

def _pairs_auroc(normal, anomaly, tie=0.5, higher_is_anomaly=True, normalise=True) -> float:
    """P(score(anomaly) > score(normal)) + tie * P(equal), by counting every pair; the
    keywords make the usual mistakes."""
    a, n = np.asarray(anomaly, float)[:, None], np.asarray(normal, float)[None, :]
    wins = (a > n) if higher_is_anomaly else (a < n)
    count = wins.sum() + tie * (a == n).sum()
    return float(count / (a.size * n.size) if normalise else count)


def check_auroc(my_auroc) -> bool:
    """Does ``my_auroc(scores_normal, scores_anomaly)`` compute the AUROC of a score that
    is higher on anomalies, P(anomaly > normal) + P(tie) / 2 over all pairs?

    Exercise "AUROC by counting pairs" of chapter 9 (applications). The check tries scores with
    ties, one-sided cases, and batches of different sizes.
    """
    if not callable(my_auroc):
        raise TypeError(f"my_auroc must be a function my_auroc(scores_normal, scores_anomaly), "
                        f"got {_describe(my_auroc)}")
    cases = [
        (np.array([0.1, 0.4, 0.35, 0.8]), np.array([0.9, 0.35, 0.7])),
        (np.array([1.0, 2.0, 2.0, 3.0, 5.0]), np.array([2.0, 4.0])),
        (np.array([0.0, 0.0]), np.array([0.0, 1.0, 1.0])),
    ]
    for normal, anomaly in cases:
        try:
            answer = my_auroc(normal.copy(), anomaly.copy())
        except Exception as error:  # the student's code: report, do not crash
            return _say(False, f"my_auroc raised {type(error).__name__}: {error}")
        got = _number("my_auroc(...)", answer)
        truth = _pairs_auroc(normal, anomaly)
        if math.isclose(got, truth, abs_tol=1e-9):
            continue
        mistakes = [
            (_pairs_auroc(normal, anomaly, higher_is_anomaly=False, tie=0.5),
             "the score is the wrong way round: here a HIGHER score means 'more anomalous', so count "
             "the pairs where the anomaly scores higher."),
            (_pairs_auroc(normal, anomaly, tie=0.0), "ties count for nothing in your answer; a tie is half a win."),
            (_pairs_auroc(normal, anomaly, tie=1.0), "ties count as a whole win in your answer; a tie is half a win."),
            (_pairs_auroc(normal, anomaly, normalise=False),
             "that is the number of pairs won; divide by the number of pairs, n_normal x n_anomaly."),
        ]
        hint = next((h for value, h in mistakes if math.isclose(got, value, abs_tol=1e-9)),
                    "Hint: compare every anomaly score with every normal score (broadcasting: "
                    "anomaly[:, None] > normal[None, :]).")
        return _say(False, f"for normal = {normal.tolist()}, anomaly = {anomaly.tolist()} you give {got:.4g}, "
                           f"not {truth:.4g}. {hint}")
    return _say(True, f"right on all {len(cases)} cases, ties included.")
