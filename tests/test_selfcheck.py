"""Tests of ganlab.selfcheck: right answers pass, typical mistakes get their hint."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.selfcheck import (
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
