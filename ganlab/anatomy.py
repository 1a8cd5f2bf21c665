"""Look inside a generator or a discriminator: shapes layer by layer, parameters,
and the transposed convolution written out by hand.

- :func:`layer_table`: run a batch through a network and list, for each layer,
  what it is, the shape of what comes out and how many parameters it holds
  (the ``model.summary()`` of Keras, for PyTorch);
- :func:`linear_parameters`, :func:`conv_parameters`: the analytic counts
  (weights + biases) that the table's numbers must equal;
- :func:`transposed_conv2d_by_hand`: the transposed convolution as "stamps":
  every input pixel adds a copy of the kernel, scaled by its value, to the
  output, the copies ``stride`` pixels apart;
- :func:`transposed_conv_figure`: the same, drawn with every number shown.

The shape rules (Dumoulin & Visin 2016, "A guide to convolution arithmetic"),
for a side of ``n`` pixels, kernel ``k``, stride ``s`` and padding ``p``:

    Conv2d:           n_out = floor((n + 2p - k) / s) + 1
    ConvTranspose2d:  n_out = (n - 1) s - 2p + k
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import nn

from ._checks import _describe, check_int
from .viz import style

__all__ = [
    "LayerTable",
    "layer_table",
    "describe_layer",
    "linear_parameters",
    "conv_parameters",
    "transposed_conv2d_by_hand",
    "transposed_conv_figure",
]


# ---------------------------------------------------------------------------
# Analytic parameter counts
# ---------------------------------------------------------------------------

def linear_parameters(n_in, n_out, bias=True) -> int:
    """A dense layer ``n_in -> n_out``: ``n_in * n_out`` weights, plus ``n_out`` biases."""
    n_in = check_int("n_in", n_in, minimum=1)
    n_out = check_int("n_out", n_out, minimum=1)
    return n_in * n_out + (n_out if bias else 0)


def conv_parameters(c_in, c_out, k, bias=True) -> int:
    """A (transposed) convolution with ``k x k`` kernels: ``c_in * c_out * k * k`` weights,
    plus ``c_out`` biases. The count does not depend on the image size: the same
    kernels slide over every position (weight sharing)."""
    c_in = check_int("c_in", c_in, minimum=1)
    c_out = check_int("c_out", c_out, minimum=1)
    k = check_int("k", k, minimum=1)
    return c_in * c_out * k * k + (c_out if bias else 0)


# ---------------------------------------------------------------------------
# The layer table
# ---------------------------------------------------------------------------

def _pair(v) -> str:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    return f"{v[0]}" if v[0] == v[1] else f"{v[0]}×{v[1]}"


def describe_layer(layer: nn.Module) -> str:
    """A short name for a layer, with the numbers that decide its shape:
    ``Linear 100 → 128``, ``Conv2d 1 → 32, 5×5, stride 2, pad 2``, ``LeakyReLU(0.2)``."""
    if not isinstance(layer, nn.Module):
        raise TypeError(f"layer must be a torch.nn.Module, got {_describe(layer)}")
    name = type(layer).__name__
    if isinstance(layer, nn.Linear):
        return f"{name} {layer.in_features} → {layer.out_features}" + ("" if layer.bias is not None else ", no bias")
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        k = layer.kernel_size
        text = f"{name} {layer.in_channels} → {layer.out_channels}, {k[0]}×{k[1]}"
        text += f", stride {_pair(layer.stride)}"
        if tuple(layer.padding) != (0, 0):
            text += f", pad {_pair(layer.padding)}"
        return text
    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return f"{name}({layer.num_features})"
    if isinstance(layer, nn.LeakyReLU):
        return f"LeakyReLU({layer.negative_slope:g})"
    if isinstance(layer, nn.Unflatten):
        return "Unflatten → " + "×".join(str(s) for s in layer.unflattened_size)
    return name


def _shape_text(shape) -> str:
    """A sample's shape without the batch dimension: ``784`` or ``1×28×28``."""
    return "×".join(str(s) for s in shape[1:])


class LayerTable:
    """What :func:`layer_table` returns: one row per layer, and the totals.

    ``rows``: list of dicts ``{"index", "layer", "shape", "params"}`` (the first row
    is the input, index ``None``); ``total``: the parameters of all layers;
    ``output_shape``: the shape of one output sample. Shows as an HTML table in a
    notebook and as plain text with ``print``.
    """

    def __init__(self, rows: list[dict], title: str = ""):
        self.rows = rows
        self.title = title
        self.total = sum(r["params"] for r in rows)
        self.output_shape = rows[-1]["shape"]

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        width = max(len(r["layer"]) for r in self.rows)
        lines = [self.title] if self.title else []
        lines.append(f"{'#':>2}  {'layer':<{width}}  {'output (one sample)':<19}  {'parameters':>10}")
        for r in self.rows:
            i = "" if r["index"] is None else str(r["index"])
            lines.append(f"{i:>2}  {r['layer']:<{width}}  {r['shape']:<19}  {r['params']:>10,}")
        lines.append(f"{'':>2}  {'total':<{width}}  {'':<19}  {self.total:>10,}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cell = "padding:2px 12px;"
        right = cell + "text-align:right;"
        head = (f"<tr><th style='{cell}'>#</th><th style='{cell}text-align:left'>layer</th>"
                f"<th style='{cell}text-align:left'>output (one sample)</th>"
                f"<th style='{right}'>parameters</th></tr>")
        body = []
        for r in self.rows:
            i = "" if r["index"] is None else str(r["index"])
            body.append(f"<tr><td style='{cell}'>{i}</td><td style='{cell}'>{html.escape(r['layer'])}</td>"
                        f"<td style='{cell}'><code>{html.escape(r['shape'])}</code></td>"
                        f"<td style='{right}'>{r['params']:,}</td></tr>")
        body.append(f"<tr style='border-top:1px solid #999'><td></td><td style='{cell}'><b>total</b></td>"
                    f"<td></td><td style='{right}'><b>{self.total:,}</b></td></tr>")
        caption = (f"<caption style='caption-side:top;text-align:left;font-weight:bold'>"
                   f"{html.escape(self.title)}</caption>") if self.title else ""
        return (f"<table style='border-collapse:collapse;font-size:0.9em'>{caption}"
                f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>")


def layer_table(net: nn.Module, x: torch.Tensor, title: str = "") -> LayerTable:
    """Run ``x`` through ``net`` and tabulate each top-level layer's output shape and parameters.

    A forward hook on each child of ``net`` records the shape of what it returns, in
    the order the layers run (``net`` is usually an ``nn.Sequential``). ``x`` is a
    batch, e.g. ``z`` of shape (n, 100) for a generator; the table shows shapes of
    one sample (without the batch dimension n). The net runs in eval mode (BatchNorm
    uses its running statistics) under ``torch.no_grad()``, and is put back in the
    mode it was in.
    """
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch.nn.Module, got {_describe(net)}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor (a batch), got {_describe(x)}")
    if x.dim() < 2 or x.shape[0] < 1:
        raise ValueError(f"x must be a batch of shape (n, ...) with n >= 1, got shape {tuple(x.shape)}")
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")
    children = list(net.children()) or [net]
    rows = [{"index": None, "layer": "input", "shape": _shape_text(x.shape), "params": 0}]
    seen = []

    def hook(module, _inputs, output):
        seen.append((module, tuple(output.shape)))

    handles = [child.register_forward_hook(hook) for child in children]
    was_training = net.training
    try:
        net.eval()
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    for i, (module, shape) in enumerate(seen):
        rows.append({"index": i, "layer": describe_layer(module), "shape": _shape_text(shape),
                     "params": sum(p.numel() for p in module.parameters())})
    return LayerTable(rows, title)


# ---------------------------------------------------------------------------
# Transposed convolution, by hand
# ---------------------------------------------------------------------------

def _matrix(name: str, value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 2-D array of numbers, got {_describe(value)}") from None
    if array.ndim != 2 or min(array.shape) < 1:
        raise ValueError(f"{name} must be a 2-D array (rows, columns), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers")
    return array


def transposed_conv2d_by_hand(x, kernel, stride=2, padding=0) -> np.ndarray:
    """The transposed convolution of one channel, as stamps.

    Each input pixel ``x[i, j]`` adds ``x[i, j] * kernel`` to the output block whose
    top-left corner is ``(i * stride, j * stride)``; where blocks overlap (kernel
    larger than the stride) the stamps add up. ``padding`` then crops ``padding``
    pixels from every side. Output side: ``(n - 1) * stride - 2 * padding + k``.
    Equals ``torch.nn.functional.conv_transpose2d`` with one input and one output
    channel and no bias.
    """
    x = _matrix("x", x)
    kernel = _matrix("kernel", kernel)
    stride = check_int("stride", stride, minimum=1)
    padding = check_int("padding", padding, minimum=0)
    (h, w), (kh, kw) = x.shape, kernel.shape
    full = np.zeros(((h - 1) * stride + kh, (w - 1) * stride + kw))
    for i in range(h):
        for j in range(w):
            full[i * stride:i * stride + kh, j * stride:j * stride + kw] += x[i, j] * kernel
    if 2 * padding >= min(full.shape):
        raise ValueError(f"padding must crop less than half of the {full.shape} output, got {padding}")
    return full[padding:full.shape[0] - padding, padding:full.shape[1] - padding]


_BLUES = [[0.0, "#f7fbff"], [1.0, "#6baed6"]]


def _number_text(a: np.ndarray) -> list:
    return [[f"{v:g}" for v in row] for row in a]


def transposed_conv_figure(x, kernel, stride=2, padding=0, *, title=None) -> go.Figure:
    """Input, kernel and output of :func:`transposed_conv2d_by_hand`, every number shown.

    In the output, a thin outline marks the block that input pixel (0, 0) stamps.
    """
    out = transposed_conv2d_by_hand(x, kernel, stride, padding)
    x, kernel = _matrix("x", x), _matrix("kernel", kernel)
    if title is None:
        title = (f"Transposed convolution: {x.shape[0]}×{x.shape[1]} input, "
                 f"{kernel.shape[0]}×{kernel.shape[1]} kernel, stride {stride}"
                 + (f", padding {padding}" if padding else "")
                 + f" → {out.shape[0]}×{out.shape[1]}")
    sizes = [x.shape[1], kernel.shape[1], out.shape[1]]
    fig = make_subplots(rows=1, cols=3, column_widths=[s / sum(sizes) for s in sizes],
                        horizontal_spacing=0.08,
                        subplot_titles=("input x", "kernel", "output"))
    for col, a in enumerate((x, kernel, out), start=1):
        fig.add_trace(go.Heatmap(z=a, text=_number_text(a), texttemplate="%{text}",
                                 textfont=dict(size=15), colorscale=_BLUES, showscale=False,
                                 xgap=2, ygap=2, hoverinfo="skip"), 1, col)
        fig.update_xaxes(visible=False, range=[-0.5, a.shape[1] - 0.5], row=1, col=col)
        fig.update_yaxes(visible=False, range=[a.shape[0] - 0.5, -0.5], row=1, col=col,
                         scaleanchor=f"x{col if col > 1 else ''}")
    # The stamp of x[0, 0] in the output (what is left of it after the padding crop).
    k0, k1 = kernel.shape
    fig.add_shape(type="rect", x0=-0.5, x1=k1 - padding - 0.5, y0=-0.5, y1=k0 - padding - 0.5,
                  line=dict(color=style.LOSS_G, width=3), row=1, col=3)
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.5, xanchor="center", font=dict(size=15)),
        height=330, margin=dict(l=20, r=20, t=80, b=20)))
    return fig
