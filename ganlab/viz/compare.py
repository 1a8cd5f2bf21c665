"""Compare mode: two to four recipes trained side by side, in lockstep.

Every run starts from the same seed and sees the same data, so the only
difference is the recipe: the textbook GAN hopping between the ring's modes
beside the R1-regularised one covering all eight, at the same iteration.

    >>> from ganlab.viz.compare import Compare
    >>> Compare(["textbook", "r1"], data="ring")            # a widget: press Play
    >>> cmp = Compare(["textbook", "r1", "wgan_gp"], data="grid", lr_g=1e-3, lr_d=1e-3)
    >>> cmp.play(10); cmp.state["steps"]                      # all at the same iteration

Playing works as in :class:`ganlab.viz.playground.Playground` (slices of
training on the kernel's event loop, so Pause acts at once). Each redraw
advances every run by ``speed`` iterations, then draws them all. A run that
diverges is rolled back to its last good state by its trainer and stops there,
marked in its column; the others go on together ("lockstep" holds for the runs
still training).
"""

from __future__ import annotations

import html
import math
import os
import time

import numpy as np
import plotly.graph_objects as go

import ipywidgets as widgets
from IPython.display import display

from ganlab import _checks
from ganlab.data import DISTRIBUTIONS, Empirical, get_distribution
from ganlab.train import HISTORY_KEYS, RunRecord, Trainer, TrainingDiverged
from ganlab.viz import style
from ganlab.viz.playground import (OWN_POINTS, FigureView, _button, _Live, _note_figure, _num, _preset_options,
                                   _view_record, d_accuracy, take_snapshot)

__all__ = ["Compare", "COMPARE_CURVES"]

#: What the shared comparison plot can show: a history column or a metric.
COMPARE_CURVES = tuple(k for k in HISTORY_KEYS if k != "step") + ("modes", "hq", "rkl")
_LINE_COLOURS = (style.REAL, style.LOSS_G, style.DISC, style.OPTIMAL)
_STYLE = {"description_width": "initial"}


class Compare(_Live):
    """Two to four recipes on the same data from the same seed, side by side, in lockstep.

    Args:
        recipes: 2 to 4 recipe names of :mod:`ganlab.recipes` (or Recipe objects).
        data: a preset name, an (n, 2) array of your points, or a CSV path.
        seed: the one seed of every run (same initial weights where the
            architectures agree, same minibatches, same noise).
        speed: iterations per redraw.
        layers: layers of each 2-D figure (:data:`ganlab.viz.twod.LAYERS`).
        curve: what the shared plot compares (one of :data:`COMPARE_CURVES`).
        figure: "auto", "widget", "html" or "output" (see :mod:`ganlab.viz.playground`).
        grid_size, n_points, metrics_every, max_snapshots: as for the Playground.
        **overrides: TrainConfig fields applied to every recipe (e.g. ``lr_g=1e-3``).

    Methods: :meth:`play`, :meth:`pause`, :meth:`reset`, :meth:`step`,
    :meth:`set` (data, seed, speed), :meth:`set_layers`, :meth:`set_curve`,
    :meth:`export`; :attr:`state`.
    """

    curves_seconds = 1.0

    def __init__(self, recipes, data="ring", *, seed: int = 0, speed: int = 10,
                 layers=("heatmap", "boundary", "real", "fake"), curve: str = "loss_d", figure: str = "auto",
                 grid_size: int = 48, n_points: int = 256, metrics_every: int = 100, max_snapshots: int = 300,
                 **overrides):
        self.recipes, self.labels = _check_recipes(recipes)
        self.seed = _checks.check_seed("seed", seed) or 0
        self._speed = _checks.check_int("speed", speed, minimum=1, maximum=500)
        self.grid_size = _checks.check_int("grid_size", grid_size, minimum=2, maximum=512)
        self.n_points = _checks.check_int("n_points", n_points, minimum=1)
        self.metrics_every = _checks.check_int("metrics_every", metrics_every, minimum=0)
        self.max_snapshots = _checks.check_int("max_snapshots", max_snapshots, minimum=2)
        self._curve = _checks.check_choice("curve", curve, COMPARE_CURVES)
        from ganlab.train import _check_field_names

        _check_field_names(overrides)
        self.overrides = dict(overrides)
        self._layers = _check_layers(layers)
        self._own_data = None
        self.data_name = self._accept_data(data)
        self._init_live()
        self._message_text = ""
        self._syncing = False
        self._curves_time = -math.inf
        self.views = [FigureView(figure) for _ in self.recipes]
        self.curves_view = FigureView(self.views[0].mode)
        self._build_widgets()
        self._restart()

    # ------------------------------------------------------------------ #
    @property
    def speed(self) -> int:
        return self._speed

    @property
    def state(self) -> dict:
        """Each run's step and the step its figure shows, whether the running
        runs are in lockstep, which runs stopped (diverged), and ``problems``."""
        steps = {label: t.steps_done for label, t in zip(self.labels, self.trainers)}
        running = [steps[label] for label in self.labels if label not in self.frozen]
        state = {
            "steps": steps,
            "figure_steps": dict(zip(self.labels, self._drawn)),
            "lockstep": len(set(running)) <= 1,
            "frozen": dict(self.frozen),
            "playing": self._playing,
            "data": self.data_name,
            "settings": {"data": self.data_name, "seed": self.seed, "speed": self._speed,
                         "layers": self._layers, "curve": self._curve},
            "controls": {"data": self.data_menu.value, "seed": self.seed_box.value, "speed": self.speed_slider.value,
                         "layers": tuple(n for n, b in self.layer_boxes.items() if b.value),
                         "curve": self.curve_menu.value},
            "message": self._message_text,
        }
        problems = []
        if not state["lockstep"]:
            problems.append(f"runs out of lockstep: {steps}")
        if not self._playing and state["figure_steps"] != steps:
            problems.append(f"figures show {state['figure_steps']}, runs are at {steps}")
        for name, value in state["controls"].items():
            if value != state["settings"][name]:
                problems.append(f"control {name} shows {value!r}, setting is {state['settings'][name]!r}")
        state["problems"] = problems
        return state

    @property
    def message(self) -> str:
        return self._message_text

    # ------------------------------------------------------------------ #
    # Runs
    # ------------------------------------------------------------------ #
    def _accept_data(self, data) -> str:
        if isinstance(data, str) and data in DISTRIBUTIONS:
            return data
        if isinstance(data, str) and data == OWN_POINTS and self._own_data is not None:
            return OWN_POINTS
        if isinstance(data, (str, os.PathLike)) and not os.path.isfile(os.fspath(data)):
            known = ", ".join(repr(k) for k in DISTRIBUTIONS)
            raise ValueError(f"data must be a preset name ({known}), an (n, 2) array or the path of a CSV file; "
                             f"there is no file {os.fspath(data)!r}")
        own = data if hasattr(data, "sample") else Empirical(data, name="your points")
        if getattr(own, "dim", None) != 2:
            raise ValueError(f"data: your own points must be 2-D, got {getattr(own, 'dim', '?')}-D")
        self._own_data = own
        return OWN_POINTS

    def _distribution(self):
        return self._own_data if self.data_name == OWN_POINTS else get_distribution(self.data_name)

    def _restart(self) -> None:
        """New trainers for every recipe: same data, same seed."""
        data = self._distribution()
        self.trainers: list[Trainer] = [
            recipe.trainer(data, seed=self.seed, **{**self.overrides, "snapshot_every": 0,
                                                    "metrics_every": self.metrics_every,
                                                    "n_snapshot": self.n_points, "grid_size": self.grid_size})
            for recipe in self.recipes
        ]
        self.frozen: dict[str, str] = {}
        self._every = [10] * len(self.trainers)
        self._snaps: list[dict | None] = [None] * len(self.trainers)
        self._drawn = [-1] * len(self.trainers)
        self._redraw(force_curves=True)

    def _train(self, n: int) -> bool:
        """n iterations of every run still training; a run that diverges stops there."""
        for label, trainer in zip(self.labels, self.trainers):
            if label in self.frozen:
                continue
            try:
                trainer.fit(n, progress=False)
            except TrainingDiverged as error:
                self.frozen[label] = f"diverged at iteration {error.step:,}; stopped at {trainer.steps_done:,}"
                self._drawn[self.labels.index(label)] = -1  # redraw: its figure must say so
                self._set_message(f"⚠ {label}: {error}", "error")
        running = len(self.frozen) < len(self.trainers)
        if not running:
            self._set_message("every run has diverged: press Reset (or change the data or the seed)", "error")
        return running

    def _views(self) -> list:
        return [*self.views, self.curves_view]

    def _stale(self) -> bool:
        return any(d != t.steps_done for d, t in zip(self._drawn, self.trainers))

    def _after_slice(self) -> None:
        pass

    # ------------------------------------------------------------------ #
    # Drawing
    # ------------------------------------------------------------------ #
    def _redraw(self, force_curves: bool = False) -> None:
        self._last_frame = time.perf_counter()
        for i, (label, trainer) in enumerate(zip(self.labels, self.trainers)):
            snap = self._snaps[i]
            if snap is None or snap["step"] != trainer.steps_done:
                snap, self._every[i] = take_snapshot(trainer, self._every[i], self.max_snapshots)
                self._snaps[i] = snap
            self.views[i].show(self._figure(trainer, snap, label))
            self._drawn[i] = snap["step"]
            self.column_stats[i].value = self._column_html(label, trainer, snap)
        if force_curves or time.perf_counter() - self._curves_time >= self.curves_seconds:
            self.refresh_curves()

    def _figure(self, trainer: Trainer, snap: dict, label: str) -> go.Figure:
        record = trainer.record
        view = _view_record(record, snap)
        title = f"{label}: iteration {snap['step']:,}"
        if label in self.frozen:  # said on the figure too, not only in the column
            title += " <span style='color:#b00020'>· diverged</span>"
        if record.data_info.get("dim") == 1:
            from ganlab.viz.oned import game_figure

            fig = game_figure(view, trainer.data, title=title)
            fig.update_layout(width=400, height=360, showlegend=False, margin=dict(l=40, r=50, t=50, b=40))
            return fig
        from ganlab.viz.twod import available_layers, game_figure_2d

        layers = [layer for layer in self._layers if layer in available_layers(view)]
        fig = game_figure_2d(view, layers=layers, max_arrows=64, title=title)
        ratio = (fig.layout.height - 220) / max(fig.layout.width - 150, 1)
        fig.update_layout(width=400, height=round(290 * ratio) + 90, showlegend=False,
                          margin=dict(l=40, r=70, t=50, b=40), title=dict(font=dict(size=14), y=0.97))
        return fig

    def _column_html(self, label: str, trainer: Trainer, snap: dict) -> str:
        record = trainer.record
        acc = d_accuracy(trainer, record.x_real, snap["x_fake"])
        rows = [f"iteration <b>{trainer.steps_done:,}</b>"]
        if len(record):
            h = record.history
            rows.append(f"loss D <b>{_num(h['loss_d'][-1], '.3f')}</b> · loss G <b>{_num(h['loss_g'][-1], '.3f')}</b>")
        rows.append(f"D's accuracy: real <b>{acc['real']:.0%}</b> · fake <b>{acc['fake']:.0%}</b>")
        metrics = [m for m in record.metrics if len(m) > 1]
        if metrics:
            m = metrics[-1]
            rows.append(" · ".join(f"{k} <b>{_num(v, '.3g')}</b>" for k, v in m.items()
                                   if k != "step" and isinstance(v, (int, float))))
        if label in self.frozen:
            rows.append(f"<span style='color:#b00020'>⚠ {html.escape(self.frozen[label])}</span>")
        return "<div style='font-size:13px;line-height:1.5'>" + "<br>".join(rows) + "</div>"

    def refresh_curves(self) -> None:
        """Redraw the shared comparison plot now."""
        self._curves_time = time.perf_counter()
        self.curves_view.show(compare_figure([t.record for t in self.trainers], self.labels, self._curve))

    def _set_message(self, text: str, kind: str = "info") -> None:
        self._message_text = text
        colour = {"info": "#333", "error": "#b00020"}[kind]
        self.status.value = f"<span style='color:{colour}'>{html.escape(text)}</span>" if text else ""

    def _show_error(self, error: Exception) -> None:
        self._set_message(f"{type(error).__name__}: {error}", "error")

    # ------------------------------------------------------------------ #
    # Actions
    # ------------------------------------------------------------------ #
    def reset(self) -> None:
        """Start every run again from the seed."""
        self.pause()
        self._set_message("")
        self._restart()

    def step(self) -> None:
        """One iteration of every run, then redraw."""
        self.pause()
        self._train(1)
        self._redraw()

    def set(self, *, data=None, seed=None, speed=None) -> None:
        """Change the data or the seed (every run restarts) or the speed."""
        new_speed = self._speed if speed is None else _checks.check_int("speed", speed, minimum=1, maximum=500)
        new_seed = self.seed if seed is None else _checks.check_int("seed", seed, minimum=0, maximum=2**31 - 1)
        old_own = self._own_data
        try:
            new_data = self.data_name if data is None else self._accept_data(data)
        except Exception:
            self._own_data = old_own
            raise
        restart = new_seed != self.seed or new_data != self.data_name or (data is not None and new_data == OWN_POINTS)
        self._speed = new_speed
        if restart:
            old = (self.data_name, self.seed)
            self.data_name, self.seed = new_data, new_seed
            self.pause()
            try:
                self._restart()
            except Exception:
                self.data_name, self.seed = old
                self._restart()
                raise
        self._sync_controls()

    def set_layers(self, layers) -> None:
        self._layers = _check_layers(layers)
        self._sync_controls()
        self._redraw()

    def set_curve(self, curve: str) -> None:
        self._curve = _checks.check_choice("curve", curve, COMPARE_CURVES)
        self._sync_controls()
        self.refresh_curves()

    def export(self, directory="compare_runs") -> list[str]:
        """Save each run's RunRecord to ``directory/<recipe>.npz``; returns the paths."""
        self.pause()
        if not isinstance(directory, (str, os.PathLike)) or not os.fspath(directory).strip():
            raise ValueError(f"directory must be a folder path, got {_checks._describe(directory)}")
        directory = os.fspath(directory).strip()
        os.makedirs(directory, exist_ok=True)
        paths = []
        for label, trainer, snap in zip(self.labels, self.trainers, self._snaps):
            record = trainer.record
            if snap is not None and (not record.snapshots or record.snapshots[-1]["step"] != snap["step"]):
                record.snapshots.append(snap)
            paths.append(record.save(os.path.join(directory, f"{label}.npz")))
        self._set_message(f"saved {len(paths)} runs to {directory}/")
        return paths

    # ------------------------------------------------------------------ #
    # Widgets
    # ------------------------------------------------------------------ #
    def _build_widgets(self) -> None:
        from ganlab.viz.twod import LAYERS

        def button(text, action, style_=""):
            return _button(text, lambda: self._guarded(action), style_)

        self.play_button = button("▶ Play", lambda: self.play(), "success")
        self.pause_button = button("❚❚ Pause", self.pause)
        self.reset_button = button("↺ Reset", self.reset, "warning")
        self.step_button = button("step", self.step)
        self.speed_slider = widgets.IntSlider(value=self._speed, min=1, max=500, description="iterations per redraw",
                                              style=_STYLE, continuous_update=False)
        self.speed_slider.observe(lambda c: self._on_control(lambda: self.set(speed=c["new"])), names="value")
        options = list(_preset_options()) + ([(OWN_POINTS, OWN_POINTS)] if self._own_data is not None else [])
        self.data_menu = widgets.Dropdown(options=options, value=self.data_name, description="data", style=_STYLE)
        self.data_menu.observe(lambda c: self._on_control(lambda: self.set(data=c["new"])), names="value")
        self.seed_box = widgets.BoundedIntText(value=self.seed, min=0, max=2**31 - 1, description="seed",
                                               style=_STYLE, layout=widgets.Layout(width="180px"))
        self.seed_box.observe(lambda c: self._on_control(lambda: self.set(seed=c["new"])), names="value")
        self.layer_boxes = {name: widgets.Checkbox(value=name in self._layers, description=name, indent=False,
                                                   layout=widgets.Layout(width="90px")) for name in LAYERS}
        for name, box in self.layer_boxes.items():
            box.observe(lambda c, n=name: self._on_control(lambda: self.set_layers(
                [m for m, b in self.layer_boxes.items() if b.value])), names="value")
        self.curve_menu = widgets.Dropdown(options=list(COMPARE_CURVES), value=self._curve, description="compare")
        self.curve_menu.observe(lambda c: self._on_control(lambda: self.set_curve(c["new"])), names="value")
        self.export_box = widgets.Text(value="compare_runs", description="folder", style=_STYLE)
        self.export_button = button("export runs", lambda: self.export(self.export_box.value))
        self.status = widgets.HTML()
        self.column_stats = [widgets.HTML() for _ in self.recipes]
        columns = [widgets.VBox([widgets.HTML(f"<b>{html.escape(label)}</b>: {html.escape(recipe.summary)}",
                                              layout=widgets.Layout(max_width="400px")),
                                 view.widget, stats])
                   for label, recipe, view, stats in zip(self.labels, self.recipes, self.views, self.column_stats)]
        legend = widgets.HTML(f"<span style='color:{style.REAL}'>● real</span> &nbsp; "
                              f"<span style='color:{style.FAKE}'>● fakes G(z)</span> &nbsp; "
                              f"<span style='color:{style.DISC}'>■ D(x) and its boundary</span>")
        self.widget = widgets.VBox([
            widgets.HBox([self.play_button, self.pause_button, self.reset_button, self.step_button,
                          self.speed_slider], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.data_menu, self.seed_box, self.export_box, self.export_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.status, legend,
            widgets.HBox(columns, layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox(list(self.layer_boxes.values()), layout=widgets.Layout(flex_flow="row wrap")),
            self.curve_menu, self.curves_view.widget,
        ])
        self._sync_buttons()

    def _guarded_now(self, action) -> None:
        try:
            action()
        except Exception as error:
            self._show_error(error)
            self._sync_controls()
            if not self._playing and self._stale():
                self._redraw()

    def _on_control(self, action) -> None:
        self._on_main(lambda: None if self._syncing else self._guarded_now(action))

    def _sync_controls(self) -> None:
        self._syncing = True
        try:
            options = list(_preset_options()) + ([(OWN_POINTS, OWN_POINTS)] if self._own_data is not None else [])
            if tuple(tuple(o) for o in self.data_menu.options) != tuple(options):
                self.data_menu.options = options
            for widget, value in ((self.data_menu, self.data_name), (self.seed_box, self.seed),
                                  (self.speed_slider, self._speed), (self.curve_menu, self._curve)):
                if widget.value != value:
                    widget.value = value
            for name, box in self.layer_boxes.items():
                if box.value != (name in self._layers):
                    box.value = name in self._layers
        finally:
            self._syncing = False

    def _sync_buttons(self) -> None:
        if hasattr(self, "play_button"):
            self.play_button.disabled = self._playing
            self.pause_button.disabled = not self._playing

    def _ipython_display_(self):
        display(self.widget)


def compare_figure(records: list[RunRecord], labels: list[str], key: str, max_points: int = 300) -> go.Figure:
    """One history column (e.g. "loss_d") or one metric (e.g. "modes") of several
    runs against the iteration, one line per run (block means, NaNs skipped)."""
    _checks.check_choice("key", key, COMPARE_CURVES)
    fig = go.Figure()
    for i, (record, label) in enumerate(zip(records, labels)):
        if key in HISTORY_KEYS:
            x, y = _block_means(record.array("step"), record.array(key), max_points)
        else:
            rows = [(m["step"], m[key]) for m in record.metrics if isinstance(m.get(key), (int, float))]
            x, y = (np.array([r[0] for r in rows], float), np.array([r[1] for r in rows], float))
        if len(x) == 0:
            continue
        finite = np.isfinite(y)  # NaN (a player that did not move): a gap in the line
        y = [v if ok else None for v, ok in zip(style.rounded(np.where(finite, y, 1.0)), finite)]
        fig.add_trace(go.Scatter(x=style.rounded(x, 6), y=y,
                                 name=label, mode="lines" if key in HISTORY_KEYS else "lines+markers",
                                 line=dict(color=_LINE_COLOURS[i % len(_LINE_COLOURS)], width=2)))
    if not fig.data:
        why = "no iterations yet" if key in HISTORY_KEYS else (
            f"no {key!r} metric: metrics are computed for mixtures with known modes (ring, grid, ...)")
        return _note_figure(f"Nothing to compare yet: {why}.")
    fig.update_layout(style.base_layout(title=dict(text=f"{key} of each run", x=0.5, xanchor="center"),
                                        height=320, width=820, xaxis_title="iteration", yaxis_title=key,
                                        margin=dict(l=60, r=30, t=80, b=50)))
    return fig


def _block_means(steps: np.ndarray, values: np.ndarray, max_points: int):
    if len(steps) <= max_points:
        return steps.astype(float), values
    edges = np.linspace(0, len(steps), max_points + 1).round().astype(int)
    with np.errstate(all="ignore"):
        ys = np.array([np.nanmean(values[a:b]) if np.isfinite(values[a:b]).any() else np.nan
                       for a, b in zip(edges[:-1], edges[1:])])
    xs = np.array([steps[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
    return xs, ys


def _check_recipes(recipes):
    from ganlab.recipes import Recipe, get_recipe

    if isinstance(recipes, (str, Recipe)):
        raise TypeError("recipes must be a list of 2 to 4 recipe names, e.g. ['textbook', 'r1'], "
                        f"got {_checks._describe(recipes)}")
    try:
        recipes = list(recipes)
    except TypeError:
        raise TypeError(f"recipes must be a list of 2 to 4 recipe names, got {_checks._describe(recipes)}") from None
    if not 2 <= len(recipes) <= 4:
        raise ValueError(f"recipes must hold 2 to 4 recipes, got {len(recipes)}")
    resolved = [r if isinstance(r, Recipe) else get_recipe(r) for r in recipes]
    labels = []
    for r in resolved:
        label, k = r.name, 2
        while label in labels:
            label, k = f"{r.name} ({k})", k + 1
        labels.append(label)
    return resolved, labels


def _check_layers(layers) -> tuple:
    from ganlab.viz.twod import check_layers

    return check_layers(layers)
