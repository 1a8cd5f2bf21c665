"""Tests of ganlab.anatomy: layer tables, analytic parameter counts, transposed convolution by hand."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.anatomy import (
    LayerTable,
    conv_parameters,
    describe_layer,
    layer_table,
    linear_parameters,
    transposed_conv2d_by_hand,
    transposed_conv_figure,
)
from ganlab.models import PRESETS, MLPGenerator, count_parameters, make_preset, sample_noise


@pytest.mark.parametrize("name", PRESETS)
def test_layer_table_of_presets_matches_count_and_shapes(name):
    G, D = make_preset(name)
    z = sample_noise(4, 100, seed=0)
    table_g = layer_table(G, z, title="G")
    assert isinstance(table_g, LayerTable)
    assert table_g.total == count_parameters(G)
    assert table_g.rows[0]["layer"] == "input" and table_g.rows[0]["shape"] == "100"
    assert table_g.output_shape == "1×28×28"
    assert len(table_g) == len(list(G.children())) + 1
    table_d = layer_table(D, G(z))
    assert table_d.total == count_parameters(D) and table_d.output_shape == "1"
    assert G.training  # the mode is restored


def test_layer_table_text_and_html():
    G = MLPGenerator(z_dim=2, out_dim=2, depth=1, width=8)
    table = layer_table(G, torch.zeros(3, 2), title="tiny G")
    text = str(table)
    assert "Linear 2 → 8" in text and "total" in text and "tiny G" in text
    html = table._repr_html_()
    assert html.startswith("<table") and "Linear 2 → 8" in html and f"{table.total:,}" in html


def test_layer_table_hooks_are_removed():
    G = MLPGenerator(z_dim=2, out_dim=2, depth=1, width=8)
    layer_table(G, torch.zeros(3, 2))
    assert all(not m._forward_hooks for m in G.modules())


def test_layer_table_bad_arguments():
    G = MLPGenerator(z_dim=2, out_dim=2)
    with pytest.raises(TypeError, match="net"):
        layer_table("G", torch.zeros(2, 2))
    with pytest.raises(TypeError, match="x"):
        layer_table(G, [[0.0, 0.0]])
    with pytest.raises(ValueError, match="x must be a batch"):
        layer_table(G, torch.zeros(2))


def test_describe_layer():
    assert describe_layer(nn.Linear(100, 128)) == "Linear 100 → 128"
    assert describe_layer(nn.Linear(3, 4, bias=False)) == "Linear 3 → 4, no bias"
    assert describe_layer(nn.Conv2d(1, 32, 5, stride=2, padding=2)) == "Conv2d 1 → 32, 5×5, stride 2, pad 2"
    assert describe_layer(nn.ConvTranspose2d(8, 4, 4, stride=2)) == "ConvTranspose2d 8 → 4, 4×4, stride 2"
    assert describe_layer(nn.LeakyReLU(0.2)) == "LeakyReLU(0.2)"
    assert describe_layer(nn.Unflatten(1, (128, 7, 7))) == "Unflatten → 128×7×7"
    assert describe_layer(nn.Tanh()) == "Tanh"
    with pytest.raises(TypeError):
        describe_layer("Tanh")


def test_analytic_counts_equal_torch():
    assert linear_parameters(100, 128) == count_parameters(nn.Linear(100, 128)) == 12_928
    assert linear_parameters(100, 6272, bias=False) == count_parameters(nn.Linear(100, 6272, bias=False))
    assert conv_parameters(32, 64, 5) == count_parameters(nn.Conv2d(32, 64, 5))
    assert conv_parameters(128, 64, 4, bias=False) == count_parameters(nn.ConvTranspose2d(128, 64, 4, bias=False))
    with pytest.raises(ValueError, match="n_in"):
        linear_parameters(0, 3)
    with pytest.raises(TypeError, match="k"):
        conv_parameters(1, 1, 2.5)


@pytest.mark.parametrize("n,k,s,p", [(2, 2, 2, 0), (2, 4, 2, 1), (3, 3, 1, 0), (3, 3, 2, 1), (4, 5, 3, 2)])
def test_transposed_conv_by_hand_equals_torch(n, k, s, p):
    gen = torch.Generator().manual_seed(n * 100 + k)
    x, kernel = torch.randn(n, n, generator=gen), torch.randn(k, k, generator=gen)
    ours = transposed_conv2d_by_hand(x, kernel, stride=s, padding=p)
    theirs = F.conv_transpose2d(x[None, None].double(), kernel[None, None].double(), stride=s, padding=p)[0, 0]
    assert ours.shape == ((n - 1) * s - 2 * p + k,) * 2
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)


def test_transposed_conv_2x2_stamps():
    out = transposed_conv2d_by_hand([[1, 2], [3, 4]], [[1, 0], [1, 1]], stride=2)
    np.testing.assert_array_equal(out[:2, 2:], 2 * np.array([[1, 0], [1, 1]]))
    np.testing.assert_array_equal(out[2:, :2], 3 * np.array([[1, 0], [1, 1]]))


def test_transposed_conv_bad_arguments():
    with pytest.raises(ValueError, match="x must be a 2-D"):
        transposed_conv2d_by_hand([1, 2], [[1]])
    with pytest.raises(ValueError, match="stride"):
        transposed_conv2d_by_hand([[1]], [[1]], stride=0)
    with pytest.raises(ValueError, match="padding"):
        transposed_conv2d_by_hand([[1]], [[1, 1], [1, 1]], padding=1)
    with pytest.raises(ValueError, match="finite"):
        transposed_conv2d_by_hand([[np.nan]], [[1]])


def test_transposed_conv_figure():
    fig = transposed_conv_figure([[1, 2], [3, 4]], [[1, 0], [1, 1]])
    assert isinstance(fig, go.Figure) and len(fig.data) == 3
    assert fig.data[2].z.shape == (4, 4) if hasattr(fig.data[2].z, "shape") else len(fig.data[2].z) == 4
    assert "2×2 input" in fig.layout.title.text and "4×4" in fig.layout.title.text
    fig = transposed_conv_figure(np.ones((2, 2)), np.ones((4, 4)), stride=2, padding=1)
    assert "padding 1" in fig.layout.title.text
