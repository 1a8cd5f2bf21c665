"""Figures of a two-dimensional GAN: the one view where everything moves together.

A snapshot of a :class:`ganlab.train.RunRecord` is drawn as layers, each one a
legend entry (click it to hide the layer) and each one switchable with ``layers=``:

==========  ==================================================================
heatmap     D(x) on the record's grid: P(real | x) for the log-loss objectives,
            the raw critic score (a diverging scale centred at 0) otherwise.
boundary    the decision boundary D(x) = 1/2 (score = 0): D calls the points
            on one side real and on the other side fake.
density     p_g, where G puts its mass: a KDE of the fakes on the grid
            (:func:`kde_2d`), shaded in bands a factor 3 apart (darker =
            denser; clear = thinner than a uniform density on the box).
manifold    G's warped z lattice (GAN Lab's "manifold"): G applied to a fixed
            grid of z, drawn as lines along both lattice directions. Every cell
            of the lattice holds the same probability mass, so where the cells
            shrink, G packs its samples densely.
optimal     the optimal discriminator's boundary D*(x) = 1/2, i.e. the curve
            p_data = p_g, with D* = p_data / (p_data + p_g): drawn only when the
            exact p_data is known (p_g is the same KDE as in ``density``).
real        the fixed sample of real data.
fake        G(z) for the FIXED batch of z, so each point keeps its identity.
arrows      -d loss_G / d x_fake at each fake point: where G's next step pushes it.
==========  ==================================================================

:func:`animate_2d` turns a whole record into one plotly figure with frames, a
Play button and a slider, which plays on the static site with no kernel.

In an animation D's heatmap and the p_g shading are pictures behind the plot
and have no legend entry (see :func:`animate_2d`); every other layer keeps one.

Why the code looks the way it does: a figure is rebuilt on every step of the
live playground and stored in the page of every chapter, so

* traces are plain dicts of rounded numbers (fewer bytes, no per-number checks);
* curves made of many pieces (the lattice lines, the arrows) are ONE scatter
  trace whose pieces are separated by ``None``, not hundreds of traces;
* in an animation, scatter points glide from frame to frame, point i of one
  frame to point i of the next: right for the fakes, the arrows and the
  lattice, nonsense for a contour. So the contours are layout shapes (SVG
  paths) and the densities heatmap/contour traces, which plotly.js swaps at
  the end of each transition instead of morphing them.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from ganlab._checks import _describe, check_int
from ganlab.viz import style

__all__ = ["LAYERS", "available_layers", "game_figure_2d", "animate_2d", "kde_2d",
           "optimal_discriminator_grid", "contour_lines"]

#: Every layer (see the module docstring).
LAYERS = ("heatmap", "boundary", "density", "manifold", "optimal", "real", "fake", "arrows")

# Layers that plotly.js cannot glide (heatmaps, contours, shapes): an animation
# with any of them redraws at the end of each transition.
_SWAPPED = ("heatmap", "boundary", "density", "optimal")

# p_g shading: bands at p_g / p_uniform = 1, 3, 9, 27 (p_uniform: uniform on the
# plotting box), from clear (thinner than uniform) to a strong orange.
_DENSITY_ALPHA = (0.0, 0.12, 0.22, 0.33, 0.46)

_PROB_SCALE = [[0.0, "#ffffff"], [0.5, "#d3ede3"], [1.0, "#7cc8a8"]]  # white -> green: P(real)
_SCORE_SCALE = [[0.0, "#e9a3c9"], [0.5, "#f7f7f7"], [1.0, "#7cc8a8"]]  # pink -> white -> green
_MANIFOLD = "rgba(150, 95, 0, 0.45)"
_ARROW = style.LOSS_G
_BOUNDARY = "#00734f"  # a darker DISC green: a line must read on the green heatmap


# --------------------------------------------------------------------------- #
# Small numerical tools (public: the book uses them too)
# --------------------------------------------------------------------------- #
def kde_2d(samples, grid_x, grid_y, bandwidth=None) -> np.ndarray:
    """p_g on a grid from samples: a Gaussian kernel density estimate.

        p_g(x) = 1/n sum_i N(x1; s_i1, h1^2) N(x2; s_i2, h2^2)

    with Scott's rule h_j = sigma_j n^(-1/6) per axis (sigma_j the samples'
    standard deviation), but never below one grid spacing, so that a cloud that
    has collapsed onto a point still shows up between grid points. Scott's rule
    assumes one bump: for a multi-modal cloud it over-smooths (a fair warning
    when comparing with the exact, sharp p_data). Returns (len(grid_y),
    len(grid_x)), indexed [iy, ix] like ``d_grid``.
    """
    x = _points("samples", samples)
    gx, gy = _axis("grid_x", grid_x), _axis("grid_y", grid_y)
    n = len(x)
    if bandwidth is None:
        spacing = np.array([np.ptp(gx) / max(len(gx) - 1, 1), np.ptp(gy) / max(len(gy) - 1, 1)])
        sigma = x.std(axis=0) if n > 1 else np.zeros(2)
        h = np.maximum(sigma * n ** (-1 / 6), spacing)
    else:
        h = np.broadcast_to(np.asarray(bandwidth, dtype=float), (2,))
        if not np.all(np.isfinite(h)) or np.any(h <= 0):
            raise ValueError(f"bandwidth must be a positive number or pair, got {_describe(bandwidth)}")
    # A product kernel is separable: p[iy, ix] = 1/n sum_i Ky[i, iy] Kx[i, ix], one matrix
    # product. einsum, not BLAS: on a busy machine BLAS threads made this 0.1 ms product
    # take tens of ms; einsum's single loop takes ~1 ms whatever the load.
    return np.einsum("iy,ix->yx", _kernel(gy, x[:, 1], h[1]), _kernel(gx, x[:, 0], h[0])) / n


def _kernel(grid: np.ndarray, centres: np.ndarray, h: float) -> np.ndarray:
    """N(grid; centre, h^2) as a (len(centres), len(grid)) matrix.

    Values below ~1e-100 (vs a peak of ~1/h) are set to exactly 0: products of
    tinier ones are subnormal floats, which slow a matrix product down ~100x.
    """
    arg = -0.5 * ((grid[None, :] - centres[:, None]) / h) ** 2
    out = np.zeros_like(arg)
    np.exp(arg, out=out, where=arg > -230.0)
    return out / (h * math.sqrt(2 * math.pi))


def optimal_discriminator_grid(record, index: int = -1) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) on the record's grid at snapshot ``index``.

    p_data is the exact density stored in the record (``record.p_data_grid``);
    p_g is a KDE of the snapshot's fixed-z fakes (:func:`kde_2d`). Where both
    vanish D* is taken as 0, so the curve D* = 1/2 encloses exactly the region
    where p_data > p_g. Raises ValueError when the record has no exact p_data.
    """
    _check_record(record)
    index = _check_index(record, index)
    scene = _Scene(record, ("optimal",), indices=[index])
    return scene.d_star(record.snapshots[index])


def contour_lines(z, grid_x, grid_y, level: float) -> list[np.ndarray]:
    """The curve z = ``level`` as polylines, by marching squares.

    ``z`` is (len(grid_y), len(grid_x)), indexed [iy, ix]. Each grid cell whose
    corners lie on both sides of the level holds one segment (two at a saddle,
    resolved by the cell's mean); its ends lie on the cell's edges, found by
    linear interpolation. Neighbouring cells share an edge, hence an end, so the
    segments are then chained into polylines (closed ones end where they start).
    Returns a list of arrays (k, 2) of (x, y) points. Cells with a NaN corner are
    skipped.
    """
    z = np.asarray(z, dtype=float)
    gx, gy = _axis("grid_x", grid_x), _axis("grid_y", grid_y)
    if z.ndim != 2 or z.shape != (len(gy), len(gx)) or min(z.shape) < 2:
        raise ValueError(f"z must have shape (len(grid_y), len(grid_x)) >= (2, 2), got {z.shape} "
                         f"for grids of {len(gy)} and {len(gx)} points")
    ny, nx = z.shape
    z00, z01, z10, z11 = z[:-1, :-1], z[:-1, 1:], z[1:, :-1], z[1:, 1:]  # [iy, ix] corners
    high = [c >= level for c in (z00, z01, z11, z10)]
    case = high[0] * 1 + high[1] * 2 + high[2] * 4 + high[3] * 8
    centre_high = (z00 + z01 + z10 + z11) / 4 >= level
    case = np.where((case == 5) & centre_high, 16, case)
    case = np.where((case == 10) & centre_high, 17, case)
    case = np.where(np.isnan(z00 + z01 + z10 + z11), 0, case)

    # Where the level crosses each grid edge. Horizontal edge (i, j) joins
    # z[i, j] and z[i, j+1]; vertical edge (i, j) joins z[i, j] and z[i+1, j].
    def cut(za, zb):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (level - za) / (zb - za)
        return np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0)

    th, tv = cut(z[:, :-1], z[:, 1:]), cut(z[:-1, :], z[1:, :])
    points = np.concatenate([
        np.stack(np.broadcast_arrays(gx[:-1] + th * np.diff(gx), gy[:, None] + 0 * th), axis=-1).reshape(-1, 2),
        np.stack(np.broadcast_arrays(gx + 0 * tv, gy[:-1, None] + tv * np.diff(gy)[:, None]), axis=-1).reshape(-1, 2),
    ])
    # The global number of each cell's edges: 0 bottom, 1 right, 2 top, 3 left.
    iy, ix = np.mgrid[0 : ny - 1, 0 : nx - 1]
    n_h = ny * (nx - 1)
    edge_id = np.stack([iy * (nx - 1) + ix, n_h + iy * nx + ix + 1, (iy + 1) * (nx - 1) + ix, n_h + iy * nx + ix])
    pairs = []
    for slot in range(2):
        edges = _MARCHING[case, slot]  # (ny-1, nx-1, 2) edge numbers, -1 = none
        cy, cx = np.nonzero(edges[..., 0] >= 0)
        e = edges[cy, cx]
        pairs.append(np.stack([edge_id[e[:, 0], cy, cx], edge_id[e[:, 1], cy, cx]], axis=1))
    pairs = np.concatenate(pairs)
    return [points[chain] for chain in _chain(pairs.tolist())]


def _chain(pairs: list) -> list[list[int]]:
    """Join segments (a, b) that share an end into chains of ends.

    Each end (a crossed grid edge) belongs to at most two segments, so a walk
    from an end with one segment traces an open curve, and what is left after
    that are closed loops.
    """
    at: dict[int, list[int]] = {}
    for k, (a, b) in enumerate(pairs):
        at.setdefault(a, []).append(k)
        at.setdefault(b, []).append(k)
    used = [False] * len(pairs)
    chains = []
    starts = [e for e, segs in at.items() if len(segs) == 1] + [a for a, _ in pairs]
    for start in starts:
        if all(used[k] for k in at[start]):
            continue
        chain, end = [start], start
        while True:
            nxt = [k for k in at[end] if not used[k]]
            if not nxt:
                break
            k = nxt[0]
            used[k] = True
            a, b = pairs[k]
            end = b if a == end else a
            chain.append(end)
        chains.append(chain)
    return chains


def _marching_table() -> np.ndarray:
    """Which cell edges each corner pattern joins (corner bits: z00=1, z01=2, z11=4, z10=8)."""
    table = -np.ones((18, 2, 2), dtype=np.intp)
    single = {1: (3, 0), 2: (0, 1), 3: (3, 1), 4: (1, 2), 6: (0, 2), 7: (3, 2), 8: (2, 3),
              9: (0, 2), 11: (1, 2), 12: (3, 1), 13: (0, 1), 14: (0, 3)}
    for case, edges in single.items():
        table[case, 0] = edges
    # Saddles: two high corners facing each other. Cases 5/10 have a low centre,
    # 16/17 (our codes) the same corners with a high centre.
    table[5] = [(3, 0), (1, 2)]   # z00, z11 high, centre low: cut off z00 and z11
    table[16] = [(0, 1), (2, 3)]  # ... centre high: cut off the low z01 and z10
    table[10] = [(0, 1), (2, 3)]  # z01, z10 high, centre low: cut off z01 and z10
    table[17] = [(3, 0), (1, 2)]  # ... centre high: cut off the low z00 and z11
    return table


_MARCHING = _marching_table()


# --------------------------------------------------------------------------- #
# Argument checks
# --------------------------------------------------------------------------- #
def _points(name: str, value) -> np.ndarray:
    try:
        x = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of 2-D points (n, 2), got {_describe(value)}") from None
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"{name} must have shape (n, 2) with n >= 1, got {x.shape}")
    return x


def _axis(name: str, value) -> np.ndarray:
    """A grid axis: a 1-D increasing array of at least 2 finite numbers."""
    try:
        axis = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of numbers, got {_describe(value)}") from None
    if axis.ndim != 1 or len(axis) < 2 or not np.isfinite(axis).all() or np.any(np.diff(axis) <= 0):
        raise ValueError(f"{name} must be a 1-D increasing array of at least 2 finite numbers, "
                         f"got {_describe(value)}")
    return axis


def _check_record(record) -> None:
    if not hasattr(record, "snapshots") or not hasattr(record, "history"):
        raise TypeError(f"record must be a ganlab.train.RunRecord, got {_describe(record)}")
    if not record.snapshots:
        raise ValueError("record has no snapshots: train with snapshot_every > 0 first")
    x_fake = np.asarray(record.snapshots[0]["x_fake"])
    if x_fake.ndim != 2 or x_fake.shape[1] != 2:
        raise ValueError(f"record holds samples of shape {x_fake.shape}; these figures draw 2-D data "
                         "(use ganlab.viz.animate_game for 1-D runs)")


def _check_index(record, index) -> int:
    index = check_int("index", index)
    n = len(record.snapshots)
    if not -n <= index < n:
        raise ValueError(f"index must be in [{-n}, {n - 1}] (the record has {n} snapshots), got {index}")
    return index % n


def _optional_int(name, value, minimum):
    return None if value is None else check_int(name, value, minimum=minimum)


def available_layers(record) -> tuple:
    """The layers this record can draw (``optimal`` needs the exact p_data, etc.)."""
    _check_record(record)
    snap = record.snapshots[0]
    has_grid = record.grid_x is not None and record.grid_y is not None and snap.get("d_grid") is not None
    g_grid = snap.get("g_grid")
    ok = {
        "heatmap": has_grid,
        "boundary": has_grid,
        "density": record.grid_x is not None and record.grid_y is not None,
        "manifold": g_grid is not None and np.ndim(g_grid) in (2, 3),
        "optimal": record.p_data_grid is not None and record.grid_x is not None and record.grid_y is not None,
        "real": record.x_real is not None,
        "fake": True,
        "arrows": snap.get("grad_fake") is not None,
    }
    return tuple(name for name in LAYERS if ok[name])


def check_layers(layers) -> tuple:
    """``layers`` (one name or a collection of names from LAYERS) as a tuple in drawing order."""
    if isinstance(layers, str):
        layers = [layers]
    try:
        layers = list(layers)
    except TypeError:
        raise TypeError(f"layers must be None, a layer name or a list of names from {LAYERS}, "
                        f"got {_describe(layers)}") from None
    for name in layers:
        if not isinstance(name, str) or name not in LAYERS:
            raise ValueError(f"layers: unknown layer {_describe(name)}; known layers: {', '.join(LAYERS)}")
    return tuple(name for name in LAYERS if name in layers)


def _resolve_layers(record, layers) -> tuple:
    """``layers``: None (all the record can draw), one name, or a collection of names."""
    available = available_layers(record)
    if layers is None:
        return available
    layers = check_layers(layers)
    for name in layers:
        if name not in available:
            why = {"optimal": "the record has no exact p_data (record.p_data_grid is None)"}.get(
                name, "the record holds no data for it")
            raise ValueError(f"layers: {name!r} cannot be drawn for this record: {why}; "
                             f"available: {', '.join(available)}")
    return layers


# --------------------------------------------------------------------------- #
# Numbers -> compact lists and paths
# --------------------------------------------------------------------------- #
def _decimals(span: float, parts: float) -> int:
    """Decimals that resolve ``span / parts`` (e.g. 1/1000 of the plotting box)."""
    return int(max(0, math.ceil(-math.log10(max(span, 1e-12) / parts))))


def _q(values, decimals: int) -> list:
    """Rounded to ``decimals`` places, as a list (JSON stores '0.123', not '0.12300000190734863')."""
    return np.round(np.asarray(values, dtype=float), decimals).tolist()


def _with_gaps(pieces, decimals: int) -> tuple[list, list]:
    """Pieces of a curve (an array (m, k, 2) or a list of (k_i, 2) arrays) as
    x and y lists with a None after each piece: ONE scatter trace draws them all."""
    if len(pieces) == 0:
        return [], []
    gap = np.full((1, 2), np.nan)
    if isinstance(pieces, np.ndarray):  # equal lengths: one gap row per piece
        flat = np.concatenate([pieces, np.broadcast_to(gap, (len(pieces), 1, 2))], axis=1).reshape(-1, 2)
    else:
        flat = np.concatenate([part for piece in pieces for part in (piece, gap)])
    xs, ys = _q(flat[:, 0], decimals), _q(flat[:, 1], decimals)
    for i in np.flatnonzero(np.isnan(flat[:, 0])).tolist():
        xs[i] = ys[i] = None
    return xs, ys


def _svg_path(lines: list[np.ndarray], decimals: int, nowhere: tuple) -> str:
    """Polylines as one SVG path in data coordinates ("M x,y L x,y ... Z")."""
    parts = []
    for line in lines:
        closed = len(line) > 2 and np.array_equal(line[0], line[-1])
        points = _q(line[:-1] if closed else line, decimals)
        parts.append("M" + "L".join(f"{x},{y}" for x, y in points) + ("Z" if closed else ""))
    # An empty path is invalid; a lone move-to draws nothing.
    return "".join(parts) or f"M{nowhere[0]},{nowhere[1]}"


def _colour_map(z: np.ndarray, scale: list, zmin: float, zmax: float) -> np.ndarray:
    """Values -> RGB uint8 pixels through a plotly colour scale of '#rrggbb' stops."""
    stops = np.array([position for position, _ in scale])
    rgb = np.array([[int(colour[i : i + 2], 16) for i in (1, 3, 5)] for _, colour in scale], dtype=float)
    t = np.clip((np.nan_to_num(z, nan=(zmin + zmax) / 2) - zmin) / (zmax - zmin), 0.0, 1.0)
    return np.stack([np.rint(np.interp(t, stops, rgb[:, c])) for c in range(3)], axis=-1).astype(np.uint8)


def _thin(n: int, size: int | None) -> np.ndarray:
    """At most ``size`` indices of range(n), evenly spread, first and last kept."""
    if size is None or size >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, size).round().astype(int))


# --------------------------------------------------------------------------- #
# The scene: what stays fixed across snapshots, and the layers of one snapshot
# --------------------------------------------------------------------------- #
class _Scene:
    """Everything that is the same in every frame (grid, colour range, scales).

    ``layer_items(snap)`` gives, for each layer, items ``(kind, static, changing)``:
    kind "trace", "shape" or "image", the properties fixed for the whole
    animation and those a frame must carry.
    """

    def __init__(self, record, layers, *, max_points=None, max_arrows=None, heatmap_size=None,
                 lattice_size=None, indices=None, pictures=False):
        self.record = record
        # pictures=True (animations): the heatmaps become layout images, which
        # plotly.js keeps on screen while the points glide (it blanks heatmap and
        # contour traces during every transition, plotly.js issue #4491).
        self.pictures = pictures
        self.layers = _resolve_layers(record, layers)
        self.probability = getattr(record, "d_output", "probability") != "score"
        snaps = [record.snapshots[i] for i in (range(len(record.snapshots)) if indices is None else indices)]
        n_fake = len(snaps[0]["x_fake"])
        self.n_points = n_fake if max_points is None else min(n_fake, max_points)
        self.n_arrows = self.n_points if max_arrows is None else min(self.n_points, max_arrows)

        # D's grid: the heatmaps may be thinned (animations); contours use all of it.
        self.gx = self.gy = None
        if record.grid_x is not None and record.grid_y is not None:
            self.gx, self.gy = np.asarray(record.grid_x, dtype=float), np.asarray(record.grid_y, dtype=float)
            self.ix, self.iy = _thin(len(self.gx), heatmap_size), _thin(len(self.gy), heatmap_size)
            self.box = (float(self.gx[0]), float(self.gx[-1]), float(self.gy[0]), float(self.gy[-1]))
        else:
            self.box = self._box_from_samples(record, snaps)
        g_grid = snaps[0].get("g_grid")
        if g_grid is not None:  # the lines of G's z lattice that are drawn
            self.lattice = [_thin(n, lattice_size) for n in np.shape(g_grid)[:-1]]
        self.width = max(self.box[1] - self.box[0], self.box[3] - self.box[2])
        self.box_area = (self.box[1] - self.box[0]) * (self.box[3] - self.box[2])
        # Rounding: points to 1/1000 of the box (they glide: keep them smooth),
        # lines to 1/200 (an error of at most a pixel on a textbook figure).
        self.dec = _decimals(self.width, 1000)
        self.dec_lines = _decimals(self.width, 200)

        if "heatmap" in self.layers:
            if self.probability:
                self.zrange, self.zdec = (0.0, 1.0), 2
            else:  # one symmetric range for all frames: colours mean the same throughout
                values = np.concatenate([np.abs(np.asarray(s["d_grid"], dtype=float)).ravel() for s in snaps])
                top = float(np.nanpercentile(values, 99)) if np.isfinite(values).any() else 1.0
                top = top if top > 0 else 1.0
                self.zrange, self.zdec = (-top, top), _decimals(top, 100)
        if "arrows" in self.layers:
            # One scale for all frames, so arrow lengths compare across time:
            # the 90th percentile of |grad| is drawn as 8% of the box.
            lengths = np.concatenate([np.hypot(*np.asarray(s["grad_fake"], dtype=float)[: self.n_arrows].T)
                                      for s in snaps])
            lengths = lengths[np.isfinite(lengths) & (lengths > 0)]
            typical = float(np.quantile(lengths, 0.9)) if lengths.size else 0.0
            self.arrow_scale = 0.08 * self.width / typical if typical > 0 else 0.0
            self.arrow_max = 0.2 * self.width  # a few huge gradients must not cover the picture
        if "optimal" in self.layers:
            self.p_data = np.asarray(record.p_data_grid, dtype=float)

    @staticmethod
    def _box_from_samples(record, snaps):
        bounds = (getattr(record, "data_info", None) or {}).get("bounds")
        if bounds is not None and len(bounds) == 2:
            (x0, x1), (y0, y1) = bounds
            return (float(x0), float(x1), float(y0), float(y1))
        pts = [np.asarray(s["x_fake"], dtype=float) for s in snaps]
        if record.x_real is not None:
            pts.append(np.asarray(record.x_real, dtype=float))
        pts = np.concatenate(pts)
        lo, hi = np.nanpercentile(pts, 1, axis=0), np.nanpercentile(pts, 99, axis=0)
        pad = 0.1 * (hi - lo).max() + 1e-6
        return (float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad))

    # -- numbers ------------------------------------------------------------
    def p_g(self, snap) -> np.ndarray:
        """The KDE of the snapshot's fakes on the full grid (density and D* share it)."""
        if getattr(self, "_p_g_of", None) is not snap:
            self._p_g = kde_2d(np.asarray(snap["x_fake"], dtype=float), self.gx, self.gy)
            self._p_g_of = snap
        return self._p_g

    def d_star(self, snap) -> np.ndarray:
        """D* = p_data / (p_data + p_g) on the full grid (0 where both vanish)."""
        total = self.p_data + self.p_g(snap)
        return np.where(total > 0, self.p_data / np.where(total > 0, total, 1.0), 0.0)

    def lattice_points(self, snap) -> np.ndarray:
        """G on the kept lines of the z lattice: (rows, cols, 2), or (n, 2) for 1-D noise."""
        g = np.asarray(snap["g_grid"], dtype=float)[..., :2]
        return g[np.ix_(*self.lattice)] if g.ndim == 3 else g[self.lattice[0]]

    def layer_items(self, snap) -> list[tuple[str, dict, dict]]:
        return [item for layer in self.layers for item in getattr(self, "_" + layer)(snap)]

    # -- the layers -----------------------------------------------------------
    def _heatmap(self, snap):
        label = "D(x) = P(real | x)" if self.probability else "D(x): critic score"
        scale = _PROB_SCALE if self.probability else _SCORE_SCALE
        ticks = dict(tickvals=[0, 0.5, 1]) if self.probability else {}
        colorbar = dict(title=dict(text="D(x)", side="right"), thickness=12, len=0.6, x=1.02, y=0.5, **ticks)
        z = np.asarray(snap["d_grid"], dtype=float)[np.ix_(self.iy, self.ix)]
        if self.pictures:
            # The picture, and an invisible 2-point heatmap that only draws the colour bar.
            key = dict(type="heatmap", x=list(self.box[:2]), y=list(self.box[2:]), z=[list(self.zrange)] * 2,
                       zmin=self.zrange[0], zmax=self.zrange[1], colorscale=scale, colorbar=colorbar,
                       opacity=0, showlegend=False, hoverinfo="skip")
            pixels = _colour_map(z, scale, *self.zrange)
            return [self._picture(pixels), ("trace", key, {})]
        static = dict(
            type="heatmap", name=label, legendgroup="heatmap", showlegend=True, zsmooth="best",
            x=_q(self.gx[self.ix], self.dec), y=_q(self.gy[self.iy], self.dec),
            zmin=self.zrange[0], zmax=self.zrange[1], colorscale=scale, colorbar=colorbar,
            hovertemplate="x₁ %{x:.3g}, x₂ %{y:.3g}<br>D(x) = %{z:.3g}<extra></extra>",
        )
        return [("trace", static, dict(z=_q(z, self.zdec)))]

    def _density(self, snap):
        """p_g in bands at p_g / p_uniform = 1, 3, 9, 27.

        The contour trace holds z = 10 (1 + log_3(p_g / p_uniform)), clipped to
        [-20, 50] and rounded to integers (short in the page), so the band edges
        are the contour levels 10, 20, 30, 40.
        """
        p_g = self.p_g(snap)[np.ix_(self.iy, self.ix)]
        with np.errstate(divide="ignore"):
            z = np.clip(10.0 * (1.0 + np.log(p_g * self.box_area) / math.log(3.0)), -20.0, 50.0)
        n = len(_DENSITY_ALPHA)
        if self.pictures:
            band = np.clip(z // 10, 0, n - 1).astype(int)
            pixels = np.zeros(z.shape + (4,), dtype=np.uint8)
            pixels[..., :3] = (230, 159, 0)
            pixels[..., 3] = np.rint(255 * np.asarray(_DENSITY_ALPHA)[band])
            return [self._picture(pixels, nudge=1)]
        # One colour per band, the bands spread evenly over the colour scale.
        scale = [[min(k + side, n) / n, f"rgba(230,159,0,{a})"] for k, a in enumerate(_DENSITY_ALPHA)
                 for side in (0, 1)]
        static = dict(
            type="contour", name="p_g (darker = denser)", legendgroup="density", showlegend=True,
            x=_q(self.gx[self.ix], self.dec), y=_q(self.gy[self.iy], self.dec),
            contours=dict(coloring="fill", start=10, end=10 * (n - 1), size=10, showlines=False),
            line=dict(width=0), colorscale=scale, showscale=False, hoverinfo="skip",
        )
        return [("trace", static, dict(z=np.rint(z).astype(int).tolist()))]

    def _picture(self, pixels, nudge: int = 0):
        """A layout image covering the heatmap's cells, (rows = y ascending) -> PNG.

        plotly.js tells images apart by their position and size, so two images
        on the same cells would be drawn as one: ``nudge`` shifts one by a
        billionth of the box.
        """
        gx, gy = self.gx[self.ix], self.gy[self.iy]
        dx, dy = (gx[-1] - gx[0]) / max(len(gx) - 1, 1), (gy[-1] - gy[0]) / max(len(gy) - 1, 1)
        x0 = gx[0] - dx / 2 + nudge * 1e-9 * self.width
        static = dict(xref="x", yref="y", x=x0, y=gy[-1] + dy / 2, sizex=gx[-1] - gx[0] + dx,
                      sizey=gy[-1] - gy[0] + dy, sizing="stretch", layer="below", xanchor="left", yanchor="top")
        return ("image", static, dict(source=style.png_data_uri(pixels[::-1])))  # PNG row 0 = top

    def _manifold(self, snap):
        g = self.lattice_points(snap)
        # Lines of constant z2 (rows of the lattice) and of constant z1 (columns).
        pieces = g[None] if g.ndim == 2 else np.concatenate([g, g.transpose(1, 0, 2)])
        x, y = _with_gaps(pieces, self.dec_lines)
        static = dict(type="scatter", mode="lines", name="G's warped z grid", legendgroup="manifold",
                      line=dict(color=_MANIFOLD, width=1, simplify=False), hoverinfo="skip")
        return [("trace", static, dict(x=x, y=y))]

    def _real(self, snap):
        x = np.asarray(self.record.x_real, dtype=float)[: self.n_points]
        static = dict(type="scatter", mode="markers", name="real x", legendgroup="real",
                      x=_q(x[:, 0], self.dec), y=_q(x[:, 1], self.dec),
                      marker=dict(color=style.REAL, size=5, opacity=0.75), hoverinfo="skip")
        return [("trace", static, {})]

    def _fake(self, snap):
        x = np.asarray(snap["x_fake"], dtype=float)[: self.n_points]
        static = dict(type="scatter", mode="markers", name="fake G(z)", legendgroup="fake",
                      marker=dict(color=style.FAKE, size=6, line=dict(color="white", width=0.5)),
                      hovertemplate="G(z) = (%{x:.3g}, %{y:.3g})<extra></extra>")
        return [("trace", static, dict(x=_q(x[:, 0], self.dec), y=_q(x[:, 1], self.dec)))]

    def _arrows(self, snap):
        x = np.asarray(snap["x_fake"], dtype=float)[: self.n_arrows]
        step = -self.arrow_scale * np.asarray(snap["grad_fake"], dtype=float)[: self.n_arrows]
        step = np.nan_to_num(step, nan=0.0, posinf=0.0, neginf=0.0)
        length = np.hypot(step[:, 0], step[:, 1])
        step *= np.minimum(1.0, self.arrow_max / np.maximum(length, 1e-300))[:, None]
        xs, ys = _with_gaps(np.stack([x, x + step], axis=1), self.dec_lines)  # 3 entries per arrow
        # An arrowhead at each segment's end, pointing along the segment (angleref="previous").
        static = dict(type="scatter", mode="lines+markers", name="−∇ loss_G (G's push)",
                      legendgroup="arrows", line=dict(color=_ARROW, width=1.2, simplify=False),
                      marker=dict(symbol="arrow", angleref="previous", size=[0, 7, 0] * len(x), color=_ARROW),
                      hoverinfo="skip")
        return [("trace", static, dict(x=xs, y=ys))]

    def _boundary(self, snap):
        level = 0.5 if self.probability else 0.0
        name = "boundary D = 1/2" if self.probability else "boundary D = 0"
        return [self._contour(name, "boundary", np.asarray(snap["d_grid"], dtype=float), level,
                              dict(color=_BOUNDARY, width=2.5))]

    def _optimal(self, snap):
        return [self._contour("D* = 1/2 (optimal D)", "optimal", self.d_star(snap), 0.5,
                              dict(color=style.OPTIMAL, width=2.5, dash="dash"))]

    def _contour(self, name, group, z, level, line):
        """A curve z = level as a layout shape: swapped, not morphed, between frames."""
        path = _svg_path(contour_lines(z, self.gx, self.gy, level), self.dec_lines, self.box[::2])
        static = dict(type="path", name=name, legendgroup=group, showlegend=True, layer="above",
                      xref="x", yref="y", line=line)
        return ("shape", static, dict(path=path))

    # -- layout ---------------------------------------------------------------
    def layout(self, title: str, animated: bool) -> dict:
        """Equal units on both axes; the figure's size follows the box, so the
        plot fills its area and the colour bar sits right beside it."""
        x0, x1, y0, y1 = self.box
        pad = 0.02 * self.width
        xr, yr = [x0 - pad, x1 + pad], [y0 - pad, y1 + pad]
        aspect = (xr[1] - xr[0]) / (yr[1] - yr[0])
        side = 450  # pixels: the longer side of the plot, readable at textbook width
        pw, ph = (side, side / aspect) if aspect >= 1 else (side * aspect, side)
        margin = dict(l=60, r=90, t=160, b=140 if animated else 60)
        axis = dict(showgrid=False, zeroline=False, ticks="outside", mirror=True, showline=True,
                    linecolor="#444", constrain="domain")
        return style.base_layout(
            title=dict(text=title, x=0.5, xanchor="center", y=0.99, yanchor="top"),
            width=round(pw + margin["l"] + margin["r"]),
            height=round(ph + margin["t"] + margin["b"]),
            xaxis=dict(axis, title=dict(text="x₁"), range=xr),
            yaxis=dict(axis, title=dict(text="x₂"), range=yr, scaleanchor="x", scaleratio=1),
            legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0,
                        font=dict(size=12), itemsizing="constant"),
            margin=margin,
            hovermode="closest",
        )


def _figure(traces: list[dict], layout: dict, frames=None) -> go.Figure:
    """A plotly figure from plain dicts, without checking each number.

    The dicts are written by this module (and checked by its tests), so the
    per-value validation plotly does by default would only cost time: it was
    most of a redraw. The template is passed as plotly's own (already checked)
    Template object, as plotly does for its default template. Validation is
    switched back on for everything done to the figure afterwards, and the
    frames are validated as usual.
    """
    template = layout.get("template", "plotly_white")
    layout = dict(layout, template=pio.templates[template] if isinstance(template, str) else template)
    fig = go.Figure(dict(data=traces, layout=layout), _validate=False)
    fig._validate = True
    fig.layout._validate = True
    for trace in fig.data:
        trace._validate = True
    if frames:
        fig.frames = frames
    return fig


def _split(items) -> dict:
    """Items of a snapshot -> {"trace": [...], "shape": [...], "image": [...]}, full properties."""
    out = {"trace": [], "shape": [], "image": []}
    for kind, static, changing in items:
        out[kind].append({**static, **changing})
    return out


# --------------------------------------------------------------------------- #
# The figures
# --------------------------------------------------------------------------- #
def game_figure_2d(
    record,
    index: int = -1,
    layers=None,
    *,
    max_points: int | None = None,
    max_arrows: int | None = 128,
    heatmap_size: int | None = None,
    lattice_size: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """One snapshot of a 2-D run: real and fake samples, D, its boundary, G's manifold.

    Args:
        record: a :class:`ganlab.train.RunRecord` of a 2-D run.
        index: which snapshot (default: the last).
        layers: None (every layer the record can draw, see :func:`available_layers`),
            one name or a list of names from :data:`LAYERS` (see the module
            docstring). Each layer is also a legend entry: click it to hide it.
        max_points: draw only the first ``max_points`` fakes (and reals); None: all.
        max_arrows: draw arrows on only the first ``max_arrows`` fakes; None: on all.
        heatmap_size: thin the heatmaps to this many grid points per axis (None:
            all; the contours always use the full grid).
        lattice_size: draw this many lines of G's z lattice per direction (None: all).
        title: the figure's title (default: the snapshot's step).
    """
    _check_record(record)
    index = _check_index(record, index)
    sizes = _check_sizes(max_points, max_arrows, heatmap_size, lattice_size)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {_describe(title)}")
    scene = _Scene(record, layers, indices=[index], **sizes)
    snap = record.snapshots[index]
    parts = _split(scene.layer_items(snap))
    layout = scene.layout(title or f"The 2-D game at step {snap['step']}", animated=False)
    return _figure(parts["trace"], dict(layout, shapes=parts["shape"]))


def _check_sizes(max_points, max_arrows, heatmap_size, lattice_size) -> dict:
    return dict(max_points=_optional_int("max_points", max_points, 1),
                max_arrows=_optional_int("max_arrows", max_arrows, 0),
                heatmap_size=_optional_int("heatmap_size", heatmap_size, 2),
                lattice_size=_optional_int("lattice_size", lattice_size, 2))


def _pick_frames(n_snapshots: int, max_frames: int) -> list[int]:
    """At most ``max_frames`` snapshot indices, evenly spread, first and last kept."""
    if n_snapshots <= max_frames:
        return list(range(n_snapshots))
    return sorted(set(np.linspace(0, n_snapshots - 1, max_frames).round().astype(int).tolist()))


def animate_2d(
    record,
    max_frames: int = 60,
    layers=None,
    *,
    max_points: int | None = 256,
    max_arrows: int | None = 128,
    heatmap_size: int | None = 32,
    lattice_size: int | None = 11,
    frame_ms: int = 250,
    title: str = "The 2-D game, step by step",
) -> go.Figure:
    """A recorded 2-D run as one plotly figure with frames, Play/Pause and a step slider.

    The fakes come from a fixed batch of z and are stored in the same order in
    every frame, so each point glides from one frame to the next (a transition
    of 0.8 ``frame_ms``), and so do the arrows and G's lattice. The heatmaps
    and contours are swapped at the end of each transition (a redraw). Here the
    heatmaps (D and p_g) are pictures (small PNGs) behind the plot, because
    plotly.js blanks heatmap traces during transitions: they have no legend
    entry (use ``layers=`` to leave them out).

    The page stays small (about 0.9 MB for 60 frames with every layer): frames
    hold only what changes, numbers are rounded to what the eye can see, the
    heatmaps are thinned to ``heatmap_size`` points per axis, G's lattice to
    ``lattice_size`` lines per direction, and at most ``max_points`` fakes and
    ``max_arrows`` arrows are drawn.

    Args: as :func:`game_figure_2d`, plus ``max_frames`` (snapshots evenly
    spread, first and last kept) and ``frame_ms`` (time per frame when playing).
    """
    _check_record(record)
    max_frames = check_int("max_frames", max_frames, minimum=1)
    sizes = _check_sizes(max_points, max_arrows, heatmap_size, lattice_size)
    frame_ms = check_int("frame_ms", frame_ms, minimum=1)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {_describe(title)}")
    indices = _pick_frames(len(record.snapshots), max_frames)
    scene = _Scene(record, layers, indices=indices, pictures=True, **sizes)

    first = scene.layer_items(record.snapshots[indices[0]])
    parts = _split(first)
    trace_items = [item for item in first if item[0] == "trace"]
    changing = [k for k, (_, _, change) in enumerate(trace_items) if change]
    frames = []
    for i in indices:
        snap = record.snapshots[i]
        items = scene.layer_items(snap)
        per_trace = [item for item in items if item[0] == "trace"]
        frame = dict(name=str(snap["step"]), traces=changing,
                     data=[dict(type=per_trace[k][1]["type"], **per_trace[k][2]) for k in changing])
        layout = {kind + "s": [change for k, _, change in items if k == kind] for kind in ("shape", "image")}
        layout = {key: value for key, value in layout.items() if value}
        if layout:
            frame["layout"] = layout
        frames.append(frame)
    layout = dict(scene.layout(title, animated=True), shapes=parts["shape"], images=parts["image"])
    fig = _figure(parts["trace"], layout, frames=frames)
    style.add_player(fig, [f["name"] for f in frames], frame_ms=frame_ms, label="step ",
                     redraw=any(layer in _SWAPPED for layer in scene.layers))
    return fig
