"""Grids of generated images, still and animated.

A batch of images (N, C, H, W), as G returns them, becomes one picture: a grid
of tiles, ``nrow`` per row, like ``torchvision.utils.make_grid``. Feed G the
SAME fixed batch of z at every snapshot and tile k is the same z throughout, so
a reader can watch each digit form. The grid is stored in the page as one PNG
(a few KB), not as a list of numbers, and drawn by a plotly ``Image`` trace.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ganlab._checks import _describe, check_int
from ganlab.viz import style

__all__ = ["tile_images", "image_grid", "animate_images"]


def _as_batch(name: str, images) -> np.ndarray:
    """A float array (N, C, H, W) with C = 1 (grey) or 3 (RGB), all finite."""
    if hasattr(images, "detach"):  # a torch tensor, on any device
        images = images.detach().float().cpu().numpy()
    if not isinstance(images, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor of shape (N, C, H, W), "
                        f"got {_describe(images)}")
    if images.ndim != 4 or images.shape[1] not in (1, 3) or min(images.shape) < 1:
        hint = " (for a batch (N, H, W) of grey images use images[:, None])" if images.ndim == 3 else ""
        raise ValueError(f"{name} must have shape (N, C, H, W) with C = 1 or 3 and N, H, W >= 1, "
                         f"got {images.shape}{hint}")
    images = images.astype(float, copy=False)
    if not np.isfinite(images).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return images


def _value_range(value_range, batches) -> tuple[float, float]:
    """(lo, hi) given, or guessed: [-1, 1] (tanh output) if any value is < 0, else [0, 1]."""
    if value_range is None:
        lo = min(float(b.min()) for b in batches)
        return (-1.0, 1.0) if lo < 0 else (0.0, 1.0)
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise TypeError(f"value_range must be None or a pair (lo, hi), got {_describe(value_range)}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"value_range must be a pair (lo, hi) of finite numbers with lo < hi, got {value_range!r}")
    return lo, hi


def _tile(images: np.ndarray, nrow: int | None, padding: int, lo: float, hi: float) -> np.ndarray:
    n, c, h, w = images.shape
    cols = min(n, nrow if nrow is not None else math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    x = np.clip((images - lo) / (hi - lo), 0.0, 1.0)
    # Pad each tile on its top and left (white lines between tiles), fill the
    # empty slots of the last row, then lay the tiles out row by row.
    x = np.pad(x, ((0, rows * cols - n), (0, 0), (padding, 0), (padding, 0)), constant_values=1.0)
    x = x.reshape(rows, cols, c, h + padding, w + padding).transpose(2, 0, 3, 1, 4)
    x = x.reshape(c, rows * (h + padding), cols * (w + padding))
    x = np.pad(x, ((0, 0), (0, padding), (0, padding)), constant_values=1.0)  # the last lines
    pixels = np.rint(255 * x).astype(np.uint8)
    return pixels[0] if c == 1 else pixels.transpose(1, 2, 0)


def tile_images(images, nrow: int | None = None, *, padding: int = 1, value_range=None) -> np.ndarray:
    """A batch (N, C, H, W) as one grid of tiles: uint8 pixels, (H', W') grey or (H', W', 3) RGB.

    Args:
        images: numpy array or torch tensor (N, C, H, W), C = 1 or 3.
        nrow: tiles per row (default: ceil(sqrt(N)), a square-ish grid).
        padding: pixels of white between tiles.
        value_range: (lo, hi) mapped to black and white; default [-1, 1] (G with
            a tanh output) if any value is negative, else [0, 1].

    With ``cols = min(N, nrow)`` and ``rows = ceil(N / cols)`` the grid has
    ``rows * (H + padding) + padding`` by ``cols * (W + padding) + padding`` pixels.
    """
    batch = _as_batch("images", images)
    nrow = None if nrow is None else check_int("nrow", nrow, minimum=1)
    padding = check_int("padding", padding, minimum=0)
    lo, hi = _value_range(value_range, [batch])
    return _tile(batch, nrow, padding, lo, hi)


def _image_trace(pixels: np.ndarray) -> dict:
    # zsmooth=False: show the pixels as squares (a 28 x 28 digit drawn large).
    return dict(type="image", source=style.png_data_uri(pixels), zsmooth=False, hoverinfo="skip")


def _layout(pixels: np.ndarray, title: str, scale: float | None, animated: bool) -> dict:
    h, w = pixels.shape[:2]
    if scale is None:  # about 360 pixels across: a grid of small digits readable in a textbook
        scale = max(1.0, 360.0 / max(h, w))
    axis = dict(visible=False, showgrid=False, zeroline=False)
    margin = dict(l=10, r=10, t=50, b=110 if animated else 10)
    return style.base_layout(
        title=dict(text=title, x=0.5, xanchor="center"),
        width=round(w * scale) + margin["l"] + margin["r"],
        height=round(h * scale) + margin["t"] + margin["b"],
        xaxis=dict(axis, range=[-0.5, w - 0.5], constrain="domain"),
        yaxis=dict(axis, range=[h - 0.5, -0.5], scaleanchor="x", constrain="domain"),
        margin=margin,
    )


def image_grid(images, nrow: int | None = None, *, padding: int = 1, value_range=None,
               title: str = "Samples", scale: float | None = None) -> go.Figure:
    """A plotly figure of a batch of images as a grid (see :func:`tile_images`).

    ``scale``: screen pixels per image pixel (default: the grid is ~360 pixels wide).
    """
    pixels = tile_images(images, nrow, padding=padding, value_range=value_range)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")
    scale = _check_scale(scale)
    return go.Figure(data=[_image_trace(pixels)], layout=_layout(pixels, title, scale, animated=False))


def _check_scale(scale):
    if scale is None:
        return None
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be None or a positive number, got {_describe(scale)}")
    return float(scale)


def animate_images(batches, steps=None, *, nrow: int | None = None, padding: int = 1, value_range=None,
                   title: str = "Samples from a fixed z, step by step", scale: float | None = None,
                   frame_ms: int = 500) -> go.Figure:
    """Grids of images over training as one plotly figure with Play/Pause and a slider.

    Args:
        batches: a list of batches (N, C, H, W), all of the same shape, e.g.
            G(z_fixed) at each snapshot: tile k is the same z in every frame.
        steps: the training step of each batch, for the slider (default 0, 1, ...).
        value_range: as in :func:`tile_images`, guessed once for all batches so
            that a grey level means the same in every frame.
        frame_ms: time per frame when playing (images swap; nothing glides).
    """
    if hasattr(batches, "detach") or isinstance(batches, np.ndarray) or not hasattr(batches, "__len__"):
        raise TypeError(f"batches must be a list of image batches (N, C, H, W), got {_describe(batches)}")
    batches = [_as_batch(f"batches[{i}]", b) for i, b in enumerate(batches)]
    if not batches:
        raise ValueError("batches must hold at least one batch of images")
    for i, b in enumerate(batches):
        if b.shape != batches[0].shape:
            raise ValueError(f"batches must all have the same shape: batches[0] is {batches[0].shape}, "
                             f"batches[{i}] is {b.shape}")
    if steps is None:
        steps = list(range(len(batches)))
    else:
        steps = list(steps)
        if len(steps) != len(batches):
            raise ValueError(f"steps must give one step per batch: {len(batches)} batches, {len(steps)} steps")
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")
    nrow = None if nrow is None else check_int("nrow", nrow, minimum=1)
    padding = check_int("padding", padding, minimum=0)
    frame_ms = check_int("frame_ms", frame_ms, minimum=1)
    scale = _check_scale(scale)
    lo, hi = _value_range(value_range, batches)
    grids = [_tile(b, nrow, padding, lo, hi) for b in batches]
    names = [str(s) for s in steps]
    fig = go.Figure(data=[_image_trace(grids[0])], layout=_layout(grids[0], title, scale, animated=True))
    fig.frames = [go.Frame(name=name, data=[_image_trace(g)], traces=[0]) for name, g in zip(names, grids)]
    # An image cannot glide: swap it (redraw) with no transition.
    style.add_player(fig, names, frame_ms=frame_ms, label="step ", redraw=True, transition_ms=0)
    fig.update_layout(margin=dict(b=110))
    return fig
