"""Tests of ganlab.selfcheck: right answers pass, typical mistakes get their hint."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.selfcheck import (
    check_auroc,
    check_faster_players,
    check_logistic_feedback,
    check_police_step,
    check_turns,
    check_logit_gradients,
    check_optimal_value,
    check_parameter_count,
    check_small_generator,
    check_transposed_size,
)


def test_parameter_count(capsys):
    right = (100 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 784 + 784)
    assert check_parameter_count(right) is True
    assert "right" in capsys.readouterr().out
    assert check_parameter_count(100 * 512 + 512 * 1024 + 1024 * 784) is False
    assert "weights only" in capsys.readouterr().out
    assert check_parameter_count(right - 1) is False
    assert "too few" in capsys.readouterr().out
    assert check_parameter_count(right + 10) is False
    assert check_parameter_count(114_064, preset="dense-128", net="G") is True
    with pytest.raises(TypeError, match="answer"):
        check_parameter_count("many")
    with pytest.raises(ValueError, match="preset"):
        check_parameter_count(1, preset="nope")


def test_transposed_size(capsys):
    assert check_transposed_size(lambda n, k, s, p: (n - 1) * s - 2 * p + k) is True
    assert check_transposed_size(lambda n, k, s, p: (n - 1) * s - p + k) is False
    assert "Hint" in capsys.readouterr().out
    assert check_transposed_size(lambda n, k, s, p: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
    with pytest.raises(TypeError):
        check_transposed_size(3)


def _small_g(last=True):
    layers = [nn.Linear(16, 32 * 7 * 7), nn.Unflatten(1, (32, 7, 7)), nn.ReLU(),
              nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1)]
    return nn.Sequential(*layers, *( [nn.Tanh()] if last else []))


def test_small_generator(capsys):
    assert check_small_generator(_small_g()) is True
    assert check_small_generator(_small_g(last=False)) is False
    assert "Tanh" in capsys.readouterr().out
    wrong = nn.Sequential(nn.Linear(16, 196), nn.Unflatten(1, (1, 14, 14)), nn.Tanh())
    assert check_small_generator(wrong) is False
    assert "ConvTranspose2d" in capsys.readouterr().out
    assert check_small_generator(nn.Sequential(nn.Linear(3, 4))) is False
    assert "failed" in capsys.readouterr().out
    with pytest.raises(TypeError):
        check_small_generator("G")


def test_logit_gradients(capsys):
    sat = lambda l: -torch.sigmoid(l)  # noqa: E731
    ns = lambda l: -(1 - torch.sigmoid(l))  # noqa: E731
    assert check_logit_gradients(sat, ns) is True
    assert check_logit_gradients(lambda l: torch.sigmoid(l), ns) is False
    assert "wrong sign" in capsys.readouterr().out
    assert check_logit_gradients(ns, sat) is False
    assert "OTHER" in capsys.readouterr().out
    assert check_logit_gradients(lambda l: l, ns) is False


def test_optimal_value(capsys):
    from ganlab.data import Gaussian1D
    from ganlab.theory import jsd, optimal_value
    import numpy as np

    x = np.linspace(-10, 12, 8801)
    p, q = Gaussian1D(0, 1).density(x[:, None]), Gaussian1D(2, 1).density(x[:, None])
    assert check_optimal_value(optimal_value(p, q, x)) is True
    j = jsd(p, q, x)
    assert abs(optimal_value(p, q, x) - (-math.log(4) + 2 * j)) < 1e-6
    assert check_optimal_value(j) is False
    assert "JSD itself" in capsys.readouterr().out
    assert check_optimal_value(-math.log(4)) is False
    assert check_optimal_value(0.3) is False
    assert "impossible" in capsys.readouterr().out
    with pytest.raises(TypeError):
        check_optimal_value("x")


# --------------------------------------------------------------------------- #
# Chapter 1
# --------------------------------------------------------------------------- #
def _police_step_autograd(w, b, x_real, x_fake, lr, gamma):
    """The reference, by autograd: one SGD step on L_D + (gamma / 2) w^2."""
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    xr, xf = torch.as_tensor(x_real), torch.as_tensor(x_fake)
    loss = (F.softplus(-(wt * xr + bt)).mean() + F.softplus(wt * xf + bt).mean()
            + gamma / 2 * wt ** 2)
    gw, gb = torch.autograd.grad(loss, (wt, bt))
    return w - lr * gw.item(), b - lr * gb.item()


def _police_step_numpy(w, b, x_real, x_fake, lr, gamma, *, sign=1, sums=False, penalty=1.0, times_x=True):
    import numpy as np

    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    red = np.sum if sums else np.mean
    xr, xf = (x_real, x_fake) if times_x else (1, 1)
    gw = -red((1 - sig(w * x_real + b)) * xr) + red(sig(w * x_fake + b) * xf) + penalty * gamma * w
    gb = -red(1 - sig(w * x_real + b)) + red(sig(w * x_fake + b))
    return w - sign * lr * gw, b - sign * lr * gb


def test_police_step(capsys):
    assert check_police_step(_police_step_autograd) is True
    assert "right" in capsys.readouterr().out
    assert check_police_step(_police_step_numpy) is True
    cases = [
        (dict(sign=-1), "uphill"),
        (dict(penalty=0.0), "penalty"),
        (dict(penalty=0.5), "gamma w, not (gamma / 2) w"),
        (dict(sums=True), "summed"),
        (dict(times_x=False), "factor x"),
    ]
    for flags, hint in cases:
        step = lambda *args, flags=flags: _police_step_numpy(*args, **flags)  # noqa: E731
        assert check_police_step(step) is False, flags
        assert hint in capsys.readouterr().out, flags
    swapped = lambda w, b, xr, xf, lr, g: _police_step_numpy(w, b, xf, xr, lr, g)  # noqa: E731
    assert check_police_step(swapped) is False
    assert "swapped" in capsys.readouterr().out
    assert check_police_step(lambda *args: (0.0, 0.0)) is False
    assert "Hint" in capsys.readouterr().out
    def stub(*args):
        raise NotImplementedError()
    assert check_police_step(stub) is False
    assert "NotImplementedError" in capsys.readouterr().out
    with pytest.raises(TypeError, match="police_step"):
        check_police_step("w - lr * g")


def _play(lr_g, lr_d, rounds=1000, **changes):
    """Chapter 1's play(): the affine counterfeiter against the logistic police."""
    from ganlab.data import Gaussian1D
    from ganlab.models import AffineGenerator, LogisticDiscriminator
    from ganlab.train import Trainer

    settings = dict(objective="nonsaturating", opt_g="sgd", opt_d="sgd", lr_g=lr_g, lr_d=lr_d,
                    penalty="r1", gamma=1.0, batch_size=256, snapshot_every=0, metrics_every=0, seed=0)
    trainer = Trainer(AffineGenerator(mu=0.0, sigma=1.0), LogisticDiscriminator(),
                      Gaussian1D(4.0, 0.5), **(settings | changes))
    trainer.fit(rounds, progress=False)
    return trainer


def _lr_max(curvature=0.25, gamma=1.0):
    import numpy as np

    second_moment = 4.0 ** 2 + 0.5 ** 2   # E[x^2] under N(4, 0.5^2)
    H = 2 * curvature * np.array([[second_moment, 4.0], [4.0, 1.0]]) + np.diag([gamma, 0.0])
    return 2 / np.linalg.eigvalsh(H).max()


@pytest.fixture(scope="module")
def faster_players():
    return _play(0.3, 0.03), _play(0.03, 0.3)


def test_faster_players(faster_players, capsys):
    fast_g, fast_d = faster_players
    closer = "counterfeiter" if abs(fast_g.G.mu.item() - 4) < abs(fast_d.G.mu.item() - 4) else "police"
    assert check_faster_players(fast_g, fast_d, closer, _lr_max()) is True
    out = capsys.readouterr().out
    assert out.count("✔") == 4 and "✘" not in out, out
    other = "police" if closer == "counterfeiter" else "counterfeiter"
    assert check_faster_players(fast_g, fast_d, other, _lr_max()) is False
    assert "look again" in capsys.readouterr().out
    assert check_faster_players(fast_d, fast_g, closer, _lr_max()) is False
    assert "swapped" in capsys.readouterr().out
    for wrong, hint in ((_lr_max(gamma=0.0), "penalty"), (_lr_max(curvature=1.0), "1/4"),
                        (_lr_max() / 2, "2 / lambda_max"), (0.05, "Hint")):
        assert check_faster_players(fast_g, fast_d, closer, wrong) is False
        assert hint in capsys.readouterr().out


def test_faster_players_names_the_wrong_settings(faster_players, capsys):
    fast_g, _ = faster_players
    short, no_penalty = _play(0.03, 0.3, rounds=10), _play(0.03, 0.3, rounds=1000 // 100, penalty=None,
                                                          gamma=None)
    assert check_faster_players(fast_g, short, "police", _lr_max()) is False
    assert "played 10 rounds" in capsys.readouterr().out
    assert check_faster_players(fast_g, no_penalty, "police", _lr_max()) is False
    assert "penalty=None" in capsys.readouterr().out
    default_rates = _play(0.1, 0.1, rounds=10)
    assert check_faster_players(fast_g, default_rates, "police", _lr_max()) is False
    assert "lr_g = 0.1, lr_d = 0.1" in capsys.readouterr().out
    with pytest.raises(TypeError, match="fast_police"):
        check_faster_players(fast_g, 3.3, "police", 0.2)
    with pytest.raises(ValueError, match="closer"):
        check_faster_players(fast_g, fast_g, "both", 0.2)


# --------------------------------------------------------------------------- #
# Chapter 4 and chapter 9
# --------------------------------------------------------------------------- #
def _final_distances(steps=None, squared=False):
    from ganlab.theory import DiracGAN

    final = {}
    for lr in (0.01, 0.1, 0.5):
        for mode in ("simultaneous", "alternating"):
            theta, psi = DiracGAN().simulate(steps or round(20 / lr), lr, mode=mode)[-1]
            final[lr, mode] = math.hypot(theta, psi) ** (2 if squared else 1)
    return final


def test_turns(capsys):
    right = _final_distances()
    assert check_turns(right) is True
    assert "right" in capsys.readouterr().out
    assert check_turns(_final_distances(steps=1000)) is False
    assert "round(20 / lr)" in capsys.readouterr().out
    assert check_turns(_final_distances(squared=True)) is False
    assert "square root" in capsys.readouterr().out
    swapped = {(lr, m): right[lr, "alternating" if m == "simultaneous" else "simultaneous"] for lr, m in right}
    assert check_turns(swapped) is False
    assert "swapped" in capsys.readouterr().out
    assert check_turns({(0.1, "alternating"): 1.0}) is False
    assert "missing" in capsys.readouterr().out
    assert check_turns(right | {(0.5, "alternating"): 1.0}) is False
    assert "(0.5, 'alternating')" in capsys.readouterr().out
    with pytest.raises(TypeError, match="final"):
        check_turns([1.0, 2.0])


def test_logistic_feedback(capsys):
    import numpy as np
    import ganlab.numpy_gan as ng

    def by_backprop(x_fake, w, b):  # the reference: numpy_gan's own backward pass
        D1 = ng.mlp([1, 1], seed=0)
        D1.layers[0].W[...], D1.layers[0].b[...] = w, b
        return D1.backward(ng.g_loss(D1.forward(x_fake))[1])

    assert check_logistic_feedback(by_backprop) is True
    assert "right" in capsys.readouterr().out
    sig = ng.sigmoid
    wrong = [
        (lambda x, w, b: w * sig(-(w * x + b)) / len(x), "wrong sign"),
        (lambda x, w, b: -w * sig(-(w * x + b)), "1/m"),
        (lambda x, w, b: -w * sig(w * x + b) / len(x), "1 - D(x)"),
        (lambda x, w, b: -sig(-(w * x + b)) / len(x), "dl/dx = w"),
        (lambda x, w, b: np.zeros(len(x)), "Hint"),
        (lambda x, w, b: np.zeros(2), "one gradient per fake"),
    ]
    for feedback, hint in wrong:
        assert check_logistic_feedback(feedback) is False, hint
        assert hint in capsys.readouterr().out
    with pytest.raises(TypeError, match="feedback"):
        check_logistic_feedback(np.zeros(3))


def test_auroc_check(capsys):
    import numpy as np
    from ganlab.applications import auroc

    assert check_auroc(auroc) is True
    assert "right" in capsys.readouterr().out

    def pairs(normal, anomaly, tie=0.5, flip=False, scale=True):
        a, n = np.asarray(anomaly)[:, None], np.asarray(normal)[None, :]
        won = ((a < n) if flip else (a > n)).sum() + tie * (a == n).sum()
        return won / (a.size * n.size) if scale else won

    assert check_auroc(pairs) is True
    for kwargs, hint in ((dict(flip=True), "wrong way round"), (dict(tie=0.0), "count for nothing"),
                         (dict(tie=1.0), "whole win"), (dict(scale=False), "divide")):
        assert check_auroc(lambda n, a, kwargs=kwargs: pairs(n, a, **kwargs)) is False
        assert hint in capsys.readouterr().out
    def stub(normal, anomaly):
        raise NotImplementedError()
    assert check_auroc(stub) is False
    assert "NotImplementedError" in capsys.readouterr().out
    with pytest.raises(TypeError, match="my_auroc"):
        check_auroc(0.5)
