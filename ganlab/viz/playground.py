"""The live playground: train a GAN on 2-D data and watch every part of it move.

GAN Lab (Kahng et al. 2018) showed how much one live view teaches: the real
and fake points, the discriminator's verdict over the plane, the generator's
warped noise grid and the arrows along which the fakes move, all changing
together while you play, pause and step. This is that view for a notebook
(Jupyter or Google Colab), plus what GAN Lab lacks: your own data (an array,
a CSV file, or points you type or click), every objective and penalty of
:mod:`ganlab.losses`, seeds, a speed control, learning rates that change
without resetting Adam, a narrated slow-motion step with the real numbers,
export of the run and its replay, and side-by-side comparison of recipes
(:class:`ganlab.viz.compare.Compare`).

    >>> from ganlab.viz.playground import Playground
    >>> pg = Playground(data="ring")   # the last expression of a cell shows the widget
    >>> pg                               # then press Play, or drive it from code:
    >>> pg.play(5); pg.step_d(); pg.slow_step(); pg.set_lr(d=4e-4); pg.export("run.npz")
    >>> Playground.replay("run.npz")     # the recorded run as a plotly animation

In a notebook, ``play(n)`` returns at once and trains in the background; to
wait for it (say, before an assertion in the next line) write
``await pg.play(n)``.

How playing works without blocking the kernel
---------------------------------------------
Jupyter and Colab kernels (ipykernel 6 and 7) run an asyncio event loop; every
message from the page (a click, a slider move, a new cell to run) is handled
by that loop, between other tasks. ``play()`` does not loop itself: it puts a
task on that loop which trains a slice of iterations (about 50 ms), then
``await``s, so the loop can handle what came in meanwhile (Pause, a new
learning rate, another cell), then goes on. Everything runs on the kernel's
main thread, so nothing is ever changed halfway: a click always lands between
two slices, when the trainer, the figure and the controls agree. (ipykernel 7
under JupyterLab 4 may handle widget messages on a *subshell* thread; the
playground hands each of them to the main loop, ``_Live._on_main``.) Pause
cancels the task at its next ``await``. (A background thread would also free
the kernel, but then every click would race the training thread, and
widget output from other threads is not reliable in ipykernel.) Outside a
kernel, in a script or a test, there is no running loop and ``play(n)``
simply trains and redraws n times before returning.

How the figure gets to the page
-------------------------------
:class:`ganlab.viz.view.FigureView` draws it: in Jupyter with ``anywidget``
installed, a small widget that acknowledges every frame once the page has
painted it. While a frame is unacknowledged the kernel keeps training and
sends nothing, so a slow page gets fewer frames with more iterations between
them, and Pause lands at once instead of after a backlog of frames. In Colab
(``figure="html"``) and without anywidget (``"output"``) the figure goes
through an ``Output`` widget, paced by time. Where clicks cannot reach Python
(``"html"``, ``"output"``), type your points into the *points* box instead,
one ``x, y`` per line.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import html
import math
import os
import sys
import time

import numpy as np
import plotly.graph_objects as go
import torch

import ipywidgets as widgets
from IPython.display import display

from ganlab import _checks
from ganlab.data import DISTRIBUTIONS, Empirical, get_distribution
from ganlab.losses import OBJECTIVES
from ganlab.models import ACTIVATIONS
from ganlab.train import NOISE_KINDS, OPTIMIZERS, PENALTIES, RunRecord, Trainer, TrainingDiverged
from ganlab.viz import style
from ganlab.viz.view import FIGURE_MODES, FigureView, choose_figure_mode

__all__ = ["Playground", "FigureView", "FIGURE_MODES", "CURVES", "OWN_POINTS", "RESTART_SETTINGS",
           "choose_figure_mode", "d_accuracy", "narrate_step", "parse_points", "take_snapshot"]

#: The curves the playground can show beside the figure.
CURVES = ("losses", "D's verdicts", "gradient norms", "metrics")
#: The data menu's entry for your own points.
OWN_POINTS = "your points"
PENALTY_CHOICES = ("none",) + tuple(PENALTIES)

_STYLE = {"description_width": "initial"}


# --------------------------------------------------------------------------- #
# The settings: one table says what each one is, its range and its widget
# --------------------------------------------------------------------------- #
class _Spec:
    """One setting: kind ("int", "log", "choice"), range or options, label, group."""

    def __init__(self, kind, lo=None, hi=None, options=None, label="", group="", widget="slider"):
        self.kind, self.lo, self.hi, self.options = kind, lo, hi, options
        self.label, self.group, self.widget = label, group, widget


# Groups: "model" and most of "training" restart training with a new Trainer
# (new nets or new optimisers); "live" ones apply to the running trainer.
_SPECS = {
    "g_depth": _Spec("int", 0, 6, label="G hidden layers", group="model"),
    "g_width": _Spec("int", 1, 256, label="G neurons per layer", group="model"),
    "d_depth": _Spec("int", 0, 6, label="D hidden layers", group="model"),
    "d_width": _Spec("int", 1, 256, label="D neurons per layer", group="model"),
    "z_dim": _Spec("choice", options=(1, 2), label="noise z dimension", group="model", widget="toggle"),
    "noise": _Spec("choice", options=NOISE_KINDS, label="noise z distribution", group="model", widget="toggle"),
    "activation": _Spec("choice", options=tuple(ACTIVATIONS), label="activation", group="model"),
    "objective": _Spec("choice", options=OBJECTIVES, label="objective", group="training"),
    "penalty": _Spec("choice", options=PENALTY_CHOICES, label="penalty on D", group="training"),
    "gamma": _Spec("log", 1e-3, 1e3, label="penalty weight γ", group="training"),
    "opt_g": _Spec("choice", options=OPTIMIZERS, label="G optimiser", group="training"),
    "opt_d": _Spec("choice", options=OPTIMIZERS, label="D optimiser", group="training"),
    "batch_size": _Spec("int", 1, 4096, label="batch size", group="training", widget="text"),
    "seed": _Spec("int", 0, 2**31 - 1, label="seed", group="training", widget="text"),
    "lr_g": _Spec("log", 1e-5, 10.0, label="G learning rate", group="live"),
    "lr_d": _Spec("log", 1e-5, 10.0, label="D learning rate", group="live"),
    "d_steps": _Spec("int", 1, 10, label="D steps per iteration", group="live"),
    "g_steps": _Spec("int", 1, 10, label="G steps per iteration", group="live"),
    "speed": _Spec("int", 1, 500, label="iterations per redraw", group="view"),
}
MODEL_SETTINGS = tuple(k for k, s in _SPECS.items() if s.group == "model")
TRAINING_SETTINGS = tuple(k for k, s in _SPECS.items() if s.group in ("training", "live"))
#: Settings whose change builds a new Trainer (new nets, optimisers or data).
RESTART_SETTINGS = ("data",) + tuple(k for k, s in _SPECS.items() if s.group in ("model", "training"))
_PLAYGROUND_LR = 1e-3
_NARRATION_HINT = ("<i style='color:#777'>Press <b>slow step</b> to watch one iteration in slow motion, "
                   "sub-step by sub-step.</i>")
_DEFAULT_LAYERS = ("heatmap", "boundary", "manifold", "real", "fake", "arrows")


def _check_setting(name: str, value):
    """A setting's value, checked against its range or options (ValueError/TypeError naming it)."""
    spec = _SPECS[name]
    if spec.kind == "int":
        return _checks.check_int(name, value, minimum=spec.lo, maximum=spec.hi)
    if spec.kind == "log":
        return _checks.check_float(name, value, minimum=spec.lo, maximum=spec.hi)
    if name == "penalty" and value is None:
        value = "none"
    if isinstance(value, bool) or value not in spec.options or type(value) is not type(spec.options[0]):
        options = ", ".join(repr(o) for o in spec.options)
        raise ValueError(f"{name} must be one of {options}, got {_checks._describe(value)}")
    return value


def _make_control(name: str, value) -> widgets.ValueWidget:
    """The widget of one setting (a slider, a box or a menu)."""
    spec = _SPECS[name]
    common = dict(description=spec.label, style=_STYLE, layout=widgets.Layout(width="320px"))
    if spec.kind == "int" and spec.widget == "text":
        return widgets.BoundedIntText(value=value, min=spec.lo, max=spec.hi, **common)
    if spec.kind == "int":
        return widgets.IntSlider(value=value, min=spec.lo, max=spec.hi, continuous_update=False, **common)
    if spec.kind == "log":
        return widgets.FloatLogSlider(value=value, base=10, min=math.log10(spec.lo), max=math.log10(spec.hi),
                                      step=0.1, readout_format=".2g", continuous_update=False, **common)
    options = [(f"{o}-D" if name == "z_dim" else str(o), o) for o in spec.options]
    if spec.widget == "toggle":
        common["layout"] = widgets.Layout(width="auto")
        return widgets.ToggleButtons(options=options, value=value, **common)
    return widgets.Dropdown(options=options, value=value, **common)


def _settings_from_recipe(recipe) -> dict:
    """Playground settings from a recipe (a name or a ganlab.recipes.Recipe)."""
    from ganlab.recipes import Recipe, get_recipe

    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a recipe name or a ganlab.recipes.Recipe, got {_checks._describe(recipe)}")
    g, d = recipe.generator, recipe.discriminator
    if g.get("class") != "MLPGenerator" or d.get("class") != "MLPDiscriminator":
        raise ValueError(f"recipe {recipe.name!r} does not use MLPs; the playground trains MLPs "
                         "(use e.g. 'textbook', 'r1', 'wgan_gp' or 'ttur')")
    c = recipe.config
    settings = dict(g_depth=g.get("depth", 3), g_width=g.get("width", 128), d_depth=d.get("depth", 3),
                    d_width=d.get("width", 128), z_dim=g.get("z_dim", 2), noise=c.noise,
                    activation=g.get("activation", "relu"), objective=c.objective, penalty=c.penalty or "none",
                    gamma=c.penalty_weight, opt_g=c.opt_g, opt_d=c.opt_d, lr_g=c.lr_g, lr_d=c.lr_d,
                    batch_size=c.batch_size, d_steps=c.d_steps, g_steps=c.g_steps, seed=c.seed or 0)
    return recipe, settings


# --------------------------------------------------------------------------- #
# Small public tools (the tests and Compare use them too)
# --------------------------------------------------------------------------- #
def parse_points(text) -> np.ndarray:
    """Points typed as text, one "x, y" per line (commas, semicolons or spaces
    between the numbers; blank and ``#`` lines skipped) -> an (n, 2) array."""
    if not isinstance(text, str):
        raise TypeError(f"points text must be a string, got {_checks._describe(text)}")
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f for f in line.replace(",", " ").replace(";", " ").split() if f]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise ValueError(f"points: line {number} ({line!r}) is not two numbers 'x, y'") from None
        if len(values) != 2 or not all(math.isfinite(v) for v in values):
            raise ValueError(f"points: line {number} ({line!r}) must hold two finite numbers 'x, y'")
        rows.append(values)
    return np.asarray(rows, dtype=float).reshape(-1, 2)


@functools.lru_cache(maxsize=1)
def _preset_options() -> tuple:
    """(label, name) of every preset; 1-D ones are marked."""
    return tuple((name if get_distribution(name).dim == 2 else f"{name} (1-D)", name) for name in DISTRIBUTIONS)


def _format_points(points) -> str:
    return "\n".join(f"{x:.4g}, {y:.4g}" for x, y in np.asarray(points, dtype=float).reshape(-1, 2))


def _decision_level(objective: str, real_scores: np.ndarray, fake_scores: np.ndarray) -> float:
    """Where D's raw output splits "real" from "fake": logit 0 (D = 1/2) for the
    log-loss and hinge objectives, 1/2 for least squares (targets 1 and 0), and
    for a Wasserstein critic, whose scores have no fixed meaning, halfway
    between its mean scores on the two batches."""
    if objective == "least_squares":
        return 0.5
    if objective == "wasserstein":
        return 0.5 * (float(real_scores.mean()) + float(fake_scores.mean()))
    return 0.0


def d_accuracy(trainer: Trainer, x_real, x_fake) -> dict:
    """D's accuracy on a batch of real and a batch of fake points:
    ``{"accuracy", "real", "fake"}``, the fractions D gets right (see
    :func:`ganlab.metrics.discriminator_accuracy`; the decision level of each
    objective is in :func:`_decision_level`). Uses no random numbers, so it
    never changes the run."""
    from ganlab.metrics import discriminator_accuracy

    D = trainer.D
    was_training = D.training
    D.eval()
    try:
        with torch.no_grad():
            scores = [D(torch.as_tensor(np.asarray(x), dtype=torch.float32, device=trainer.device)).float()
                      .reshape(-1).cpu() for x in (x_real, x_fake)]
    finally:
        D.train(was_training)
    # At the edge of a divergence the scores can overflow: +inf still says "real",
    # NaN says nothing (counted as undecided, half right).
    scores = [torch.nan_to_num(s, nan=0.0, posinf=1e30, neginf=-1e30).double() for s in scores]
    level = _decision_level(trainer.config.objective, scores[0].numpy(), scores[1].numpy())
    real, fake = (torch.nan_to_num(s - level, nan=0.0) for s in scores)
    return discriminator_accuracy(real, fake)


def take_snapshot(trainer: Trainer, record_every: int, max_snapshots: int) -> tuple[dict, int]:
    """The trainer's snapshot of now, also kept in its record (for export and
    replay) when ``record_every`` iterations have passed since the last one kept.
    When the record holds more than ``max_snapshots``, every other one is
    dropped and the spacing doubles, so a long run keeps an evenly spaced,
    bounded history. Returns (snapshot, the spacing to use from now on)."""
    snap = trainer.snapshot()
    record = trainer.record
    snaps = record.snapshots
    if not snaps or snap["step"] >= snaps[-1]["step"] + record_every:
        snaps.append(snap)
        if len(snaps) > max_snapshots:
            record.snapshots = snaps[::2] if len(snaps) % 2 else snaps[::2] + [snaps[-1]]
            record_every *= 2
    return snap, record_every


def _view_record(record: RunRecord, snap: dict) -> RunRecord:
    """The record as the figure functions see it, with ``snap`` as its only
    snapshot (a shallow copy: nothing is copied but the list)."""
    view = copy.copy(record)
    view.snapshots = [snap]
    return view


def _running_loop():
    """The asyncio loop running in this thread (a kernel's), or None (a script, a test)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# --------------------------------------------------------------------------- #
# The narrated slow-motion step
# --------------------------------------------------------------------------- #
_D_LOSS = {
    "minimax": "−E log D(x_real) − E log(1 − D(x_fake))",
    "nonsaturating": "−E log D(x_real) − E log(1 − D(x_fake))",
    "least_squares": "½E(D(x_real) − 1)² + ½E D(x_fake)²",
    "hinge": "E relu(1 − D(x_real)) + E relu(1 + D(x_fake))",
    "wasserstein": "E D(x_fake) − E D(x_real)",
}
_G_LOSS = {
    "minimax": "E log(1 − D(G(z)))",
    "nonsaturating": "−E log D(G(z))",
    "least_squares": "½E(D(G(z)) − 1)²",
    "hinge": "−E D(G(z))",
    "wasserstein": "−E D(G(z))",
}
_PENALTY_TEXT = {"r1": " + γ/2·E‖∇ₓD(x_real)‖²", "r2": " + γ/2·E‖∇ₓD(x_fake)‖²",
                 "gp": " + γ·E(‖∇ₓD(x̂)‖ − 1)²", "clip": " (then D's weights are clipped)"}


def _num(value, fmt=".4g") -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, fmt)


def narrate_step(kind: str, row: dict, config: dict, *, before: dict | None = None, after: dict | None = None,
                 acc_before: dict | None = None, acc_after: dict | None = None) -> list[tuple[str, str, str]]:
    """What one iteration did, as sub-steps with its actual numbers.

    ``kind``: "both", "d" or "g"; ``row``: the iteration's row of the record
    (losses, mean D outputs, gradient norms); ``before``/``after``: snapshots
    taken just before and after (to measure how much D's verdict and the fakes
    moved); ``acc_*``: D's accuracy before and after. Returns a list of
    ``(player, title, text)`` with player "D", "G" or "" (both).
    """
    c = config
    z = f"N(0, I) in {c['z_dim']}-D" if c.get("noise", "gaussian") == "gaussian" else f"U(−1, 1)^{c['z_dim']}"
    probability = c["objective"] in ("minimax", "nonsaturating")
    out = "P(real)" if probability else "score"
    b = c["batch_size"]
    steps: list[tuple[str, str, str]] = []
    d_moves, g_moves = kind in ("both", "d"), kind in ("both", "g")
    if d_moves:
        k = c["d_steps"] if kind == "both" else 1
        last = " (the numbers are those of the last of them)" if k > 1 else ""
        steps += [
            ("D", "sample", f"draw {b} real points x_real ~ p_data and {b} noise vectors z ~ {z}"),
            ("D", "generate", f"x_fake = G(z): G turns each z into a point (G is held fixed){last}"),
            ("D", "classify", f"D's verdicts ({out}): mean D(x_real) = <b>{_num(row.get('d_real'), '.3f')}</b>, "
                              f"mean D(x_fake) = <b>{_num(row.get('d_fake'), '.3f')}</b>"),
            ("D", "loss", f"L_D = {_D_LOSS[c['objective']]}{_PENALTY_TEXT.get(c.get('penalty') or '', '')}"
                          f" = <b>{_num(row.get('loss_d'))}</b>"),
            ("D", "gradient", "backpropagate: ‖∇ L_D‖ over D's weights = "
                              f"<b>{_num(row.get('grad_norm_d'), '.3g')}</b>"),
        ]
        change = ""
        if before is not None and after is not None and before.get("d_grid") is not None:
            delta = np.abs(np.asarray(after["d_grid"], float) - np.asarray(before["d_grid"], float))
            change = (f": D's verdict over the plane moved by up to <b>{_num(float(delta.max()), '.3g')}</b> "
                      f"(mean {_num(float(delta.mean()), '.2g')}); the old boundary is dashed grey")
        times = f" ×{k}" if k > 1 else ""
        steps.append(("D", "update", f"{c['opt_d']} step{times} with learning rate {c['lr_d']:.3g}{change}"))
    if g_moves:
        k = c["g_steps"] if kind == "both" else 1
        if kind == "g":
            steps += [("G", "sample", f"draw {b} noise vectors z ~ {z}"),
                      ("G", "generate", "x_fake = G(z) (D is held fixed)")]
        else:
            steps.append(("G", "generate", "G's turn: the same fakes x_fake = G(z), now with D held fixed"))
        steps += [
            ("G", "loss", f"L_G = {_G_LOSS[c['objective']]} = <b>{_num(row.get('loss_g'))}</b> "
                          "(G wants D to call its points real)"),
            ("G", "gradient", f"backpropagate through D into G: ‖∇ L_G‖ over G's weights = "
                              f"<b>{_num(row.get('grad_norm_g'), '.3g')}</b>"),
        ]
        moved = ""
        if before is not None and after is not None:
            shift = np.linalg.norm(np.asarray(after["x_fake"], float) - np.asarray(before["x_fake"], float), axis=1)
            moved = (f": the fakes moved by <b>{_num(float(shift.mean()), '.3g')}</b> on average "
                     f"(at most {_num(float(shift.max()), '.3g')}), along the arrows; grey rings mark where they were")
        times = f" ×{k}" if k > 1 else ""
        steps.append(("G", "update", f"{c['opt_g']} step{times} with learning rate {c['lr_g']:.3g}{moved}"))
    if acc_before is not None and acc_after is not None:
        steps.append(("", "result", "D's accuracy on a fixed batch: real "
                      f"{acc_before['real']:.0%} → <b>{acc_after['real']:.0%}</b>, fakes "
                      f"{acc_before['fake']:.0%} → <b>{acc_after['fake']:.0%}</b>"))
    return steps


def _narration_html(steps, upto: int | None = None, title: str = "") -> str:
    """The sub-steps as an HTML list; with ``upto`` only the first ``upto + 1``,
    the last of them highlighted (the slow-motion reveal)."""
    colour = {"D": style.DISC, "G": style.LOSS_G, "": style.GREY}
    shown = steps if upto is None else steps[: upto + 1]
    items = []
    for i, (player, name, text) in enumerate(shown):
        current = upto is not None and i == upto
        background = "background:#fff3c4;" if current else ""
        tag = f"<span style='color:{colour[player]};font-weight:bold'>{player or '='} {name}</span>"
        items.append(f"<li style='{background}margin:1px 0'>{tag}: {text}</li>")
    head = f"<b>{html.escape(title)}</b>" if title else ""
    return (f"<div style='font-size:13px;line-height:1.35'>{head}"
            f"<ol style='margin:2px 0 0 0'>{''.join(items)}</ol></div>")


# --------------------------------------------------------------------------- #
# Playing: training in slices on the kernel's event loop
# --------------------------------------------------------------------------- #
class _Live:
    """Play/pause machinery shared by :class:`Playground` and ``Compare``.

    A subclass implements ``_train(n) -> bool`` (n iterations of every trainer;
    False stops playing), ``_redraw()``, ``_stale()`` (is the figure behind the
    trainer?), ``_after_slice()`` (cheap updates, e.g. the counter) and
    ``_sync_buttons()``.
    """

    slice_seconds = 0.05  # train this long between two looks at the page's messages
    frame_seconds = 0.1  # at most ~10 redraws a second: the page could not show more

    def _init_live(self):
        self._playing = False
        self._task: asyncio.Task | None = None
        self._step_seconds = 0.005  # running estimate of one iteration's time
        self._last_frame = 0.0
        self._trained = 0  # iterations trained since the last frame
        # The loop of the thread that made the widget (in a kernel: the main thread,
        # where cells run). Every action from the page runs there (see _on_main).
        self._loop = _running_loop()

    def _on_main(self, action) -> None:
        """Run ``action()`` on the kernel's main thread, between two slices of training.

        ipykernel 7 with JupyterLab 4 may handle widget messages (a click, a slider,
        an acknowledgement) on a *subshell* thread, concurrently with the training
        that runs on the main thread. A click must never run halfway through an
        iteration (a Pause would stop nothing, a redraw would read half-updated
        nets), so actions from other threads are handed to the main loop, which
        runs them at its next look at its queue (every slice_seconds while playing).
        """
        loop = self._loop
        if loop is None or loop.is_closed() or _running_loop() is loop:
            action()
        else:
            loop.call_soon_threadsafe(action)

    def _guarded(self, action) -> None:
        """Run what a click asked for on the main thread, through the subclass's
        ``_guarded_now`` (which turns an error into a message on the widget)."""
        self._on_main(lambda: self._guarded_now(action))

    @property
    def playing(self) -> bool:
        return self._playing

    def play(self, n_redraws: int | None = None):
        """Train and redraw, ``speed`` iterations per redraw, ``n_redraws`` times
        (None: until :meth:`pause`).

        In a kernel (Jupyter, Colab) this returns at once, with the asyncio
        task that trains in the background; without a running event loop (a
        script, a test) it trains before returning, and None means one redraw.
        """
        if n_redraws is not None:
            n_redraws = _checks.check_int("n_redraws", n_redraws, minimum=1)
        if self._playing:
            return self._task
        self._stop_narration()
        self._playing = True
        self._sync_buttons()
        loop = _running_loop()
        if loop is None:
            try:
                for _ in range(n_redraws or 1):
                    if not self._playing or not self._chunk():
                        break
            finally:
                self._playing = False
                self._sync_buttons()
            return None
        self._task = loop.create_task(self._play_async(n_redraws))
        return self._task

    def pause(self) -> None:
        """Stop playing now (the iteration under way is finished first: iterations
        are atomic) and redraw the latest state."""
        self._playing = False
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
        if self._stale():
            self._redraw()
        self._sync_buttons()

    def _chunk(self) -> bool:
        """One redraw's worth of training (synchronous)."""
        ok = self._train(self.speed)
        self._redraw()
        return ok

    def _views(self) -> list:
        """The FigureViews a redraw sends to (a subclass lists its own)."""
        return []

    def _page_ready(self) -> bool:
        """Has the page drawn every frame it was sent? (See ganlab.viz.view.)"""
        return all(view.ready for view in self._views())

    async def _train_slice(self, limit: int) -> bool:
        """About slice_seconds of training (at most ``limit`` iterations), then a
        look at the page's messages. False when training stopped (divergence)."""
        n = max(1, min(limit, int(self.slice_seconds / self._step_seconds)))
        start = time.perf_counter()
        ok = self._train(n)
        self._step_seconds = 0.7 * self._step_seconds + 0.3 * (time.perf_counter() - start) / n
        self._trained += n
        if ok:
            self._after_slice()
            await asyncio.sleep(0)  # let the loop handle clicks, acknowledgements and cells
        return ok

    async def _play_async(self, n_redraws):
        try:
            done = 0
            while self._playing and (n_redraws is None or done < n_redraws):
                # Train `speed` iterations. If the page has not yet drawn the last
                # frame, keep training until it has: a slow page gets more
                # iterations per frame, never a queue of frames (which would make
                # Pause land seconds late). Then at most one frame per frame_seconds.
                self._trained = 0
                while self._playing:
                    if self._trained < self.speed:
                        ok = await self._train_slice(self.speed - self._trained)
                    elif not self._page_ready():
                        ok = await self._train_slice(sys.maxsize)
                    else:
                        wait = self.frame_seconds - (time.perf_counter() - self._last_frame)
                        if wait > 0:
                            await asyncio.sleep(wait)
                        break
                    if not ok:
                        self._playing = False
                if not self._playing:
                    break
                self._redraw()
                done += 1
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            pass  # pause() cancelled us, and has already tidied up
        except Exception as error:  # shown in the widget; the kernel must never see it
            self._show_error(error)
        finally:
            # Tidy up only if this is still the current play: after Pause then
            # Play in quick succession, a newer task owns the state.
            if self._task is asyncio.current_task():
                self._task = None
                self._playing = False
                try:
                    if self._stale():
                        self._redraw()
                except Exception as error:
                    self._show_error(error)
                self._sync_buttons()

    # Narration: subclasses that narrate override these.
    def _stop_narration(self) -> None:
        pass


# --------------------------------------------------------------------------- #
# The playground
# --------------------------------------------------------------------------- #

def _button(text: str, on_click, style_: str = "", width: str = "auto") -> widgets.Button:
    """A button that calls ``on_click()`` (no arguments) when pressed."""
    b = widgets.Button(description=text, button_style=style_, layout=widgets.Layout(width=width))
    b.on_click(lambda _b: on_click())
    return b

class Playground(_Live):
    """A live GAN on 2-D data (or a 1-D preset), GAN Lab style, as a widget.

    Args:
        data: a preset name of :data:`ganlab.data.DISTRIBUTIONS` ("ring",
            "moons", "two_gaussians", ...), your own points (an (n, 2) array or
            tensor), the path of a CSV file of points, or a 2-D distribution.
        recipe: where the settings start: a :mod:`ganlab.recipes` name with MLP
            nets ("textbook", "r1", "wgan_gp", "ttur"); None (the default) is
            "textbook" with learning rates 1e-3 instead of 1e-4, so that the
            ring takes shape within seconds. The keyword settings below override it.
        figure: "auto", "widget", "html" or "output" (see the module docstring).
        speed: iterations per redraw.
        layers: the layers of the 2-D figure to show (:data:`ganlab.viz.twod.LAYERS`).
        curves: which curves to show beside it (one of :data:`CURVES`).
        grid_size, n_points: D's heatmap resolution, and how many fixed fakes
            (and reals) are drawn.
        metrics_every: compute the mode metrics every so many iterations
            (mixtures with known modes; 0 = never).
        max_snapshots: the record keeps at most this many snapshots for export
            (evenly spaced: when full, every other one is dropped).
        **settings: g_depth, g_width, d_depth, d_width, z_dim (1 or 2), noise
            ("gaussian"/"uniform"), activation, objective, penalty ("none",
            "r1", "r2", "gp", "clip"), gamma, opt_g, opt_d, lr_g, lr_d,
            batch_size, d_steps, g_steps, seed.

    Changing the data or a setting of the model or the training builds a new
    Trainer (training restarts from the seed); learning rates, D/G steps per
    iteration, speed, layers and curves apply to the running trainer (a new
    learning rate keeps Adam's moment estimates: :meth:`Trainer.set_lr`).

    Every button calls a public method, so a run can be driven from code:
    :meth:`play`, :meth:`pause`, :meth:`reset`, :meth:`step_d`,
    :meth:`step_g`, :meth:`step_both`, :meth:`slow_step`, :meth:`set`,
    :meth:`set_lr`, :meth:`set_data`, :meth:`set_speed`, :meth:`set_layers`,
    :meth:`load_points`, :meth:`use_points`, :meth:`add_point`,
    :meth:`export`; :attr:`state` says where everything stands.
    """

    curves_seconds = 1.0  # redraw the curves at most once a second while playing
    narrate_seconds = 0.6  # the slow-motion reveal: one sub-step every so often

    def __init__(self, data="ring", recipe=None, *, figure: str = "auto", speed: int = 10,
                 layers=_DEFAULT_LAYERS, curves: str = "losses", grid_size: int = 64, n_points: int = 512,
                 metrics_every: int = 100, max_snapshots: int = 300, **settings):
        self._recipe, base = _settings_from_recipe("textbook" if recipe is None else recipe)
        if recipe is None:  # the textbook's nets and optimiser, but ten times its learning rates
            base.update(lr_g=_PLAYGROUND_LR, lr_d=_PLAYGROUND_LR)
        unknown = [k for k in settings if k not in _SPECS or k == "speed"]
        if unknown:
            known = ", ".join(k for k in _SPECS if k != "speed")
            raise ValueError(f"unknown setting(s) {', '.join(map(repr, unknown))}; known settings: {known}")
        base.update(settings, speed=speed)
        self.settings: dict = {k: _check_setting(k, v) for k, v in base.items()}
        self.grid_size = _checks.check_int("grid_size", grid_size, minimum=2, maximum=512)
        self.n_points = _checks.check_int("n_points", n_points, minimum=1)
        self.metrics_every = _checks.check_int("metrics_every", metrics_every, minimum=0)
        self.max_snapshots = _checks.check_int("max_snapshots", max_snapshots, minimum=2)
        self._layers = self._check_layers(layers)
        self._curves = _checks.check_choice("curves", curves, CURVES)
        self._own_data: Empirical | None = None
        self._data_cache: dict = {}
        self.settings["data"] = self._accept_data(data)
        self._init_live()
        self._message_text = ""
        self._narration: list = []
        self._narration_task = None
        self._diverged: TrainingDiverged | None = None
        self._drawn_step = -1
        self._last_snap: dict | None = None
        self._last_acc: dict | None = None
        self._curves_time = -math.inf
        self._curves_step = -1
        self._record_every = 10
        self._drawing = False
        self._points: list[tuple[float, float]] = []
        self._syncing = False
        self.trainer: Trainer | None = None

        self.view = FigureView(figure)
        self.curves_view = FigureView(self.view.mode)
        self._build_widgets()
        self.trainer = self._new_trainer()
        self._sync_layer_boxes()
        self._redraw(force_curves=True)

    # ------------------------------------------------------------------ #
    # Reading the state
    # ------------------------------------------------------------------ #
    @property
    def speed(self) -> int:
        return self.settings["speed"]

    @property
    def iteration(self) -> int:
        """The iteration counter shown (equal to ``trainer.steps_done``)."""
        return self._counter_value

    @property
    def figure(self) -> go.Figure | None:
        """The 2-D (or 1-D) figure on screen."""
        return self.view.figure

    @property
    def message(self) -> str:
        """The status line's text (errors, divergence, hints)."""
        return self._message_text

    @property
    def state(self) -> dict:
        """Where everything stands: the counter, the trainer's step, the step
        the figure shows, whether it plays, the settings and the controls'
        values, the message, and ``problems``: a list of inconsistencies (empty
        unless something is wrong)."""
        state = {
            "iteration": self._counter_value,
            "steps_done": self.trainer.steps_done,
            "figure_step": self._drawn_step,
            "playing": self._playing,
            "settings": dict(self.settings, layers=self._layers, curves=self._curves),
            "controls": self._control_values(),
            "data": self.settings["data"],
            "figure_mode": self.view.mode,
            "drawing": self._drawing,
            "message": self._message_text,
        }
        state["problems"] = self._problems(state)
        return state

    def _control_values(self) -> dict:
        values = {name: control.value for name, control in self.controls.items()}
        values["layers"] = tuple(name for name, box in self.layer_boxes.items() if box.value)
        values["curves"] = self.curves_menu.value
        values["data"] = self.data_menu.value
        return values

    def _problems(self, state) -> list[str]:
        problems = []
        if state["iteration"] != state["steps_done"]:
            problems.append(f"counter {state['iteration']} != trainer.steps_done {state['steps_done']}")
        if not self._playing and not self._drawing and state["figure_step"] != state["steps_done"]:
            problems.append(f"figure shows step {state['figure_step']}, trainer is at {state['steps_done']}")
        settings, controls = state["settings"], state["controls"]
        for name, value in controls.items():
            want = settings[name]
            same = math.isclose(value, want, rel_tol=1e-9) if isinstance(want, float) else value == want
            if not same:
                problems.append(f"control {name} shows {value!r}, setting is {want!r}")
        cfg = self.trainer.config
        for name in ("lr_g", "lr_d", "d_steps", "g_steps", "batch_size", "objective"):
            if getattr(cfg, name) != settings[name]:
                problems.append(f"trainer's {name} is {getattr(cfg, name)!r}, setting is {settings[name]!r}")
        if str(self.counter.value).find(f"{self._counter_value:,}") < 0:
            problems.append("the counter widget does not show the counter")
        return problems

    # ------------------------------------------------------------------ #
    # The trainer
    # ------------------------------------------------------------------ #
    def _accept_data(self, data) -> str:
        """Check ``data`` and return its menu name (a preset, or OWN_POINTS)."""
        if isinstance(data, str) and data in DISTRIBUTIONS:
            return data
        if isinstance(data, str) and data == OWN_POINTS:
            if self._own_data is None:
                raise ValueError("data: there are no points of yours yet (load a CSV file or type points first)")
            return OWN_POINTS
        if isinstance(data, (str, os.PathLike)) and not os.path.isfile(os.fspath(data)):
            known = ", ".join(repr(k) for k in DISTRIBUTIONS)
            raise ValueError(f"data must be a preset name ({known}), your points (an (n, 2) array) "
                             f"or the path of a CSV file; there is no file {os.fspath(data)!r}")
        if isinstance(data, Empirical) or not hasattr(data, "sample"):
            own = data if isinstance(data, Empirical) else Empirical(data, name="your points")
        else:
            own = data  # a ready-made distribution
        if getattr(own, "dim", None) != 2:
            raise ValueError(f"data: your own points must be 2-D (an (n, 2) array), got {getattr(own, 'dim', '?')}-D "
                             "points; 1-D games are in the 1-D presets gaussian_1d, uniform_1d, mixture_1d")
        self._own_data = own
        return OWN_POINTS

    def _distribution(self, name: str):
        if name == OWN_POINTS:
            return self._own_data
        if name not in self._data_cache:
            self._data_cache[name] = get_distribution(name)
        return self._data_cache[name]

    def _new_trainer(self) -> Trainer:
        """A Trainer for the current settings; nets drawn from the seed."""
        from ganlab.recipes import build_models

        s = self.settings
        data = self._distribution(s["data"])
        G, D = build_models(
            {"class": "MLPGenerator", "z_dim": s["z_dim"], "out_dim": data.dim, "depth": s["g_depth"],
             "width": s["g_width"], "activation": s["activation"]},
            {"class": "MLPDiscriminator", "in_dim": data.dim, "depth": s["d_depth"], "width": s["d_width"],
             "activation": s["activation"]},
            seed=s["seed"],
        )
        penalty = None if s["penalty"] == "none" else s["penalty"]
        config = self._recipe.config.replace(
            objective=s["objective"], penalty=penalty, gamma=s["gamma"] if penalty in ("r1", "r2", "gp") else None,
            opt_g=s["opt_g"], opt_d=s["opt_d"], lr_g=s["lr_g"], lr_d=s["lr_d"], batch_size=s["batch_size"],
            d_steps=s["d_steps"], g_steps=s["g_steps"], noise=s["noise"], seed=s["seed"], reinit=False,
            simultaneous=False, device="cpu", snapshot_every=0, metrics_every=self.metrics_every,
            n_snapshot=self.n_points, grid_size=self.grid_size, z_grid_size=20, view=None,
        )
        trainer = Trainer(G, D, data, config)
        self._record_every = 10
        self._drawn_step = -1
        self._last_snap = None
        self._curves_step = -1
        return trainer

    def _restart(self) -> None:
        self._stop_narration()
        self.narration.value = _NARRATION_HINT  # the old narration spoke of the old run
        self._diverged = None
        self.trainer = self._new_trainer()
        self._sync_layer_boxes()
        self._redraw(force_curves=True)

    def _train(self, n: int, kind: str = "both") -> bool:
        """n iterations of ``kind`` ("both", "d", "g"). On divergence: the
        trainer has rolled back to its last good state; say so, stop, False."""
        trainer = self.trainer
        try:
            if kind == "both":
                trainer.fit(n, progress=False)
            else:
                for _ in range(n):
                    trainer.d_step() if kind == "d" else trainer.g_step()
        except TrainingDiverged as error:
            self._playing = False
            self._diverged = error
            self._drawn_step = -1  # redraw: the figure must say so
            self._set_message(f"⚠ {error} Training is paused at iteration {trainer.steps_done}.", "error")
            self._update_counter()
            return False
        self._diverged = None
        return True

    # ------------------------------------------------------------------ #
    # Drawing
    # ------------------------------------------------------------------ #
    def _views(self) -> list:
        return [self.view, self.curves_view]

    def _stale(self) -> bool:
        return self.trainer is not None and self._drawn_step != self.trainer.steps_done

    def _snapshot(self) -> dict:
        """The snapshot of now (reused if already taken); kept in the record for export."""
        if self._last_snap is None or self._last_snap["step"] != self.trainer.steps_done:
            self._last_snap, self._record_every = take_snapshot(self.trainer, self._record_every,
                                                                self.max_snapshots)
        return self._last_snap

    def _redraw(self, force_curves: bool = False, before: dict | None = None) -> None:
        """Show the trainer's current state: figure, counter, numbers, curves."""
        if self._drawing:
            self._drawn_step = self.trainer.steps_done
            self._update_counter()
            return
        self._last_frame = time.perf_counter()
        snap = self._snapshot()
        record = self.trainer.record
        self._last_acc = d_accuracy(self.trainer, record.x_real, snap["x_fake"])
        self.view.show(self._game_figure(snap, before))
        self._drawn_step = snap["step"]
        self._update_counter()
        self._update_stats()
        now = time.perf_counter()
        if force_curves or (now - self._curves_time >= self.curves_seconds and self._curves_step != snap["step"]):
            self.refresh_curves()

    def _game_figure(self, snap: dict, before: dict | None = None) -> go.Figure:
        record = self.trainer.record
        view = _view_record(record, snap)
        title = f"iteration {snap['step']:,}"
        if self._diverged is not None:  # said on the figure too, not only in the status line
            title += (f" <span style='color:#b00020'>· diverged at {self._diverged.step:,}, "
                      f"rolled back to {self._diverged.rolled_back_to:,}</span>")
        if record.data_info.get("dim") == 1:
            from ganlab.viz.oned import game_figure

            fig = game_figure(view, self.trainer.data, title=title)
        else:
            from ganlab.viz.twod import game_figure_2d

            layers = [layer for layer in self._layers if not self.layer_boxes[layer].disabled]
            # Arrows on 128 fakes, as in the book's figures: an arrow on each of 512 fakes
            # more than doubles the time the page takes to draw a frame.
            fig = game_figure_2d(view, layers=layers, title=title)
            if before is not None:
                _add_before(fig, record, before, snap)
        return fig

    def refresh_curves(self) -> None:
        """Redraw the curves now (they follow the figure at most once a second while playing)."""
        record = self.trainer.record
        self._curves_time = time.perf_counter()
        self._curves_step = self.trainer.steps_done
        self.curves_view.show(_curves_figure(record, self._curves))

    def _update_counter(self) -> None:
        self._counter_value = self.trainer.steps_done
        self.counter.value = (f"<span style='font-size:18px'>iteration <b>{self._counter_value:,}</b></span>")

    def _after_slice(self) -> None:
        self._update_counter()

    def _update_stats(self) -> None:
        record = self.trainer.record
        acc = self._last_acc or {}
        rows = []
        if len(record):
            h = record.history
            last = {k: next((v for v in reversed(h[k]) if math.isfinite(v)), math.nan) for k in h if k != "step"}
            out = "D(x)" if record.d_output == "probability" else "D(x) score"
            rows += [f"loss D <b>{_num(last['loss_d'], '.3f')}</b> · loss G <b>{_num(last['loss_g'], '.3f')}</b>",
                     f"mean {out}: real <b>{_num(last['d_real'], '.3f')}</b> · "
                     f"fake <b>{_num(last['d_fake'], '.3f')}</b>"]
        if acc:
            rows.append(f"D's accuracy: real <b>{acc['real']:.0%}</b> · fake <b>{acc['fake']:.0%}</b>")
        metrics = [m for m in record.metrics if len(m) > 1]
        if metrics:
            m = metrics[-1]
            parts = [f"{k} <b>{_num(v, '.3g')}</b>" for k, v in m.items()
                     if k != "step" and isinstance(v, (int, float))]
            rows.append(f"at iteration {m['step']:,}: " + " · ".join(parts))
        self.stats.value = "<div style='font-size:13px;line-height:1.5'>" + "<br>".join(rows) + "</div>"

    def _set_message(self, text: str, kind: str = "info") -> None:
        self._message_text = text
        colour = {"info": "#333", "error": "#b00020", "warn": "#8a5a00"}[kind]
        self.status.value = f"<span style='color:{colour}'>{html.escape(text)}</span>" if text else ""

    def _show_error(self, error: Exception) -> None:
        self._set_message(f"{type(error).__name__}: {error}", "error")

    # ------------------------------------------------------------------ #
    # Actions (each button calls one of these)
    # ------------------------------------------------------------------ #
    def reset(self) -> None:
        """Start again from the seed: new nets, new optimisers, iteration 0."""
        self.pause()
        self._leave_drawing()
        self._set_message("")
        self._restart()

    def step_both(self) -> dict:
        """One iteration (d_steps D updates, then g_steps G updates); returns its row."""
        return self._step("both", narrate=False)

    def step_d(self) -> dict:
        """One update of D only (G fixed); counts as an iteration."""
        return self._step("d", narrate=False)

    def step_g(self) -> dict:
        """One update of G only (D fixed); counts as an iteration."""
        return self._step("g", narrate=False)

    def slow_step(self, kind: str = "both") -> list:
        """One iteration in slow motion: the sub-steps (sample, generate, classify,
        loss, gradient, update, for D then G) listed with the iteration's actual
        numbers; the figure marks what changed (where the fakes were, D's old
        boundary). In a kernel the sub-steps appear one by one. Returns them
        as (player, name, text)."""
        _checks.check_choice("kind", kind, ("both", "d", "g"))
        self._step(kind, narrate=True)
        return list(self._narration)

    def _step(self, kind: str, narrate: bool) -> dict:
        self.pause()
        self._leave_drawing()
        self._stop_narration()
        before, acc_before = self._snapshot(), self._last_acc
        if acc_before is None or self._drawn_step != before["step"]:
            acc_before = d_accuracy(self.trainer, self.trainer.record.x_real, before["x_fake"])
        if not self._train(1, kind):
            self._redraw()
            return {}
        if not self._message_text.startswith("⚠"):
            self._set_message("")
        row = {k: v[-1] for k, v in self.trainer.record.history.items()}
        after = self._snapshot()
        self._redraw(before=before if narrate else None)
        config = dict(self.settings, z_dim=self.trainer.z_dim)
        self._narration = narrate_step(kind, row, config, before=before, after=after,
                                       acc_before=acc_before, acc_after=self._last_acc)
        what = {"both": "one iteration", "d": "one D step", "g": "one G step"}[kind]
        title = f"{'Slow motion: ' if narrate else ''}{what}, iteration {row['step']:,}"
        if narrate and _running_loop() is not None:
            self._narration_task = _running_loop().create_task(self._reveal(title))
        else:
            self.narration.value = _narration_html(self._narration, title=title)
        return row

    async def _reveal(self, title: str) -> None:
        try:
            for i in range(len(self._narration)):
                self.narration.value = _narration_html(self._narration, upto=i, title=title)
                await asyncio.sleep(self.narrate_seconds)
        except asyncio.CancelledError:
            pass
        finally:
            self.narration.value = _narration_html(self._narration, title=title)

    def _stop_narration(self) -> None:
        task, self._narration_task = self._narration_task, None
        if task is not None and not task.done():
            task.cancel()

    # ------------------------------------------------------------------ #
    # Settings
    # ------------------------------------------------------------------ #
    def set(self, **settings) -> None:
        """Change settings (names as in the constructor; "data" too). All are
        checked first: a bad one raises and changes nothing. A change of the
        data, the model or the training restarts training; learning rates and
        D/G steps apply to the running trainer, keeping the optimisers' state."""
        changes = {}
        for name, value in settings.items():
            if name == "data":
                continue
            if name not in _SPECS:
                known = ", ".join(["data", *_SPECS])
                raise ValueError(f"unknown setting {name!r}; known settings: {known}")
            changes[name] = _check_setting(name, value)
        old_own = self._own_data
        try:
            if "data" in settings:
                changes["data"] = self._accept_data(settings["data"])
            self._apply(changes, old_own)
        except Exception:
            self._own_data = old_own
            raise

    def _apply(self, changes: dict, old_own=None) -> None:
        # Unchanged values change nothing; new points of yours always restart.
        changes = {k: v for k, v in changes.items() if (k == "data" and v == OWN_POINTS) or self.settings.get(k) != v}
        if not changes:
            self._sync_controls()
            return
        old = dict(self.settings)
        self.settings.update(changes)
        try:
            if any(k in RESTART_SETTINGS for k in changes):
                self._leave_drawing()
                self._restart()
                self._set_message(f"restarted: {', '.join(sorted(changes))} changed")
            else:
                self._apply_live(changes)
        except Exception:  # back to the settings (and the trainer) of before
            self.settings = old
            if any(k in RESTART_SETTINGS for k in changes):
                self._own_data = old_own if "data" in changes else self._own_data
                self._restart()
            raise
        finally:
            self._sync_controls()

    def _apply_live(self, changes: dict) -> None:
        """Learning rates through Trainer.set_lr (Adam's moments are kept); D/G
        steps per iteration in the trainer's config (read at every iteration)."""
        trainer = self.trainer
        if "lr_g" in changes or "lr_d" in changes:
            trainer.set_lr(g=changes.get("lr_g"), d=changes.get("lr_d"))
        for name in ("d_steps", "g_steps"):
            if name in changes:
                trainer.record  # flush: the divergence guard must replay with the old value
                setattr(trainer.config, name, changes[name])
                trainer.record.config[name] = changes[name]

    def set_lr(self, g: float | None = None, d: float | None = None) -> None:
        """New learning rates for G and/or D, applied at once, keeping the optimisers' state."""
        if g is None and d is None:
            raise ValueError("set_lr needs g=... and/or d=..., got neither")
        self.set(**{k: v for k, v in (("lr_g", g), ("lr_d", d)) if v is not None})

    def set_speed(self, speed: int) -> None:
        """Iterations per redraw while playing."""
        self.set(speed=speed)

    def set_data(self, data) -> None:
        """New data (a preset name, an (n, 2) array, a CSV path, a 2-D distribution): restarts training."""
        self.set(data=data)

    def set_layers(self, layers) -> None:
        """Which layers of the 2-D figure to show (names of ganlab.viz.twod.LAYERS)."""
        self._layers = self._check_layers(layers)
        self._sync_controls()
        if not self._drawing:
            self._redraw()

    def set_curves(self, curves: str) -> None:
        """Which curves to show: one of CURVES."""
        self._curves = _checks.check_choice("curves", curves, CURVES)
        self._sync_controls()
        self.refresh_curves()

    def load_points(self, path) -> None:
        """Train on the points of a CSV file (one "x, y" per line; a header line is skipped)."""
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path).strip():
            raise ValueError(f"path must be the path of a CSV file, got {_checks._describe(path)}")
        self.set(data=Empirical(os.fspath(path).strip(), name="your points"))
        self._set_message(f"training on {len(self._own_data.points)} points from {os.fspath(path).strip()}")

    def use_points(self, points=None) -> None:
        """Train on points: an (n, 2) array, text with one "x, y" per line, or
        (None) the points typed or clicked in draw mode."""
        if points is None:
            points = parse_points(self.points_box.value)
        elif isinstance(points, str):
            points = parse_points(points)
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
            raise ValueError(f"points: need at least 2 points (x, y), got an array of shape {points.shape}")
        self._points = [tuple(p) for p in points.tolist()]
        self.set(data=points)
        self._set_message(f"training on your {len(points)} points")

    def add_point(self, x: float, y: float) -> None:
        """Add one point to the points being drawn (what a click on the canvas does)."""
        x = _checks.check_float("x", x)
        y = _checks.check_float("y", y)
        self._points.append((x, y))
        self._syncing = True
        try:
            self.points_box.value = _format_points(self._points)
        finally:
            self._syncing = False
        if self._drawing:
            self._show_canvas()

    def clear_points(self) -> None:
        """Forget the points being drawn."""
        self._points = []
        self._syncing = True
        try:
            self.points_box.value = ""
        finally:
            self._syncing = False
        if self._drawing:
            self._show_canvas()

    def draw(self, on: bool = True) -> None:
        """Enter (or leave) draw mode: training pauses and the figure becomes a
        canvas; click to add points (FigureWidget), or type them in the points
        box; then :meth:`use_points`."""
        on = bool(on)
        if on == self._drawing:
            return
        if not on:
            self._leave_drawing()
            return
        self.pause()
        self._drawing = True
        self._sync_controls()
        self._show_canvas()
        if self.view.mode == "widget":
            self._set_message("draw mode: click on the plane to add points, then press 'use these points'")
        else:
            self._set_message("draw mode: clicks cannot reach Python with this figure (figure='%s'): type points "
                              "in the box, one 'x, y' per line, then press 'use these points'" % self.view.mode)

    def _leave_drawing(self) -> None:
        if self._drawing:
            self._drawing = False
            self._sync_controls()
            self._redraw()

    def _show_canvas(self) -> None:
        bounds = self.trainer.record.data_info.get("bounds") or [(0.0, 1.0), (0.0, 1.0)]
        if len(bounds) != 2:
            bounds = [(0.0, 1.0), (0.0, 1.0)]
        self.view.show(_canvas_figure(bounds, self._points),
                       on_click=lambda x, y: self._guarded(lambda: self.add_point(x, y)))

    def export(self, path="playground_run.npz") -> str:
        """Save the run (its RunRecord: history, metrics, snapshots) to ``path``;
        replay it later with :meth:`Playground.replay`. Returns the path."""
        self.pause()
        path = os.fspath(path) if isinstance(path, os.PathLike) else path
        if not isinstance(path, str) or not path.strip():
            raise ValueError(f"path must be a file path, got {_checks._describe(path)}")
        snap = self._snapshot()
        record = self.trainer.record
        if not record.snapshots or record.snapshots[-1]["step"] != snap["step"]:
            record.snapshots.append(snap)
        record.save(path.strip())
        self._set_message(f"saved {len(record):,} iterations and {len(record.snapshots)} snapshots to {path.strip()}")
        return path.strip()

    @staticmethod
    def replay(run, *, max_frames: int = 60, layers=None, frame_ms: int = 250) -> go.Figure:
        """A saved run (a path or a RunRecord) as a plotly animation with Play
        and a slider: it plays without a kernel (e.g. on the course's site)."""
        record = RunRecord.load(run) if isinstance(run, (str, os.PathLike)) else run
        if not isinstance(record, RunRecord):
            raise TypeError(f"run must be a file path or a RunRecord, got {_checks._describe(run)}")
        if record.data_info.get("dim") == 1:
            from ganlab.viz.oned import animate_game

            if record.data_name not in DISTRIBUTIONS:
                raise ValueError(f"a 1-D replay needs the exact density of the data; {record.data_name!r} "
                                 "is not a preset")
            return animate_game(record, get_distribution(record.data_name), max_frames=max_frames, frame_ms=frame_ms)
        from ganlab.viz.twod import animate_2d

        return animate_2d(record, max_frames=max_frames, layers=layers, frame_ms=frame_ms)

    def _check_layers(self, layers) -> tuple:
        from ganlab.viz.twod import check_layers

        return _DEFAULT_LAYERS if layers is None else check_layers(layers)

    # ------------------------------------------------------------------ #
    # The widgets
    # ------------------------------------------------------------------ #
    def _build_widgets(self) -> None:
        from ganlab.viz.twod import LAYERS

        def button(text, action, style_="", width="auto"):
            return _button(text, lambda: self._guarded(action), style_, width)

        self.play_button = button("▶ Play", lambda: self.play(), "success")
        self.pause_button = button("❚❚ Pause", self.pause)
        self.reset_button = button("↺ Reset", self.reset, "warning")
        self.step_d_button = button("step D", self.step_d)
        self.step_g_button = button("step G", self.step_g)
        self.step_button = button("step both", self.step_both)
        self.slow_button = button("slow step", self.slow_step, "info")
        self.counter = widgets.HTML()
        self._counter_value = 0
        self.status = widgets.HTML()
        self.stats = widgets.HTML()
        self.narration = widgets.HTML(value=_NARRATION_HINT)

        self.controls = {name: _make_control(name, self.settings[name]) for name in _SPECS}
        for name, control in self.controls.items():
            control.observe(lambda change, n=name: self._on_control(n, change["new"]), names="value")
        self.data_menu = widgets.Dropdown(description="data", style=_STYLE, layout=widgets.Layout(width="320px"))
        self._set_data_options()
        self.data_menu.observe(lambda change: self._on_control("data", change["new"]), names="value")
        self.path_box = widgets.Text(placeholder="points.csv", description="CSV file", style=_STYLE,
                                     layout=widgets.Layout(width="260px"))
        self.load_button = button("load", lambda: self.load_points(self.path_box.value))
        self.draw_button = widgets.ToggleButton(value=False, description="✎ draw points")
        self.draw_button.observe(lambda change: self._on_control("draw", change["new"]), names="value")
        self.points_box = widgets.Textarea(placeholder="0.2, 0.3\n0.8, 0.7\n(one 'x, y' per line)",
                                           layout=widgets.Layout(width="260px", height="110px"),
                                           continuous_update=False)
        self.points_box.observe(lambda change: self._on_control("points", change["new"]), names="value")
        self.use_button = button("use these points", lambda: self.use_points())
        self.clear_button = button("clear", self.clear_points)
        self.export_box = widgets.Text(value="playground_run.npz", description="file", style=_STYLE,
                                       layout=widgets.Layout(width="260px"))
        self.export_button = button("export run", lambda: self.export(self.export_box.value))

        self.layer_boxes = {name: widgets.Checkbox(value=name in self._layers, description=name, indent=False,
                                                   layout=widgets.Layout(width="90px")) for name in LAYERS}
        for name, box in self.layer_boxes.items():
            box.observe(lambda change, n=name: self._on_control("layer", (n, change["new"])), names="value")
        self.curves_menu = widgets.Dropdown(options=list(CURVES), value=self._curves, description="curves",
                                            layout=widgets.Layout(width="240px"))
        self.curves_menu.observe(lambda change: self._on_control("curves", change["new"]), names="value")

        c = self.controls
        bar = widgets.HBox([self.play_button, self.pause_button, self.reset_button, self.step_d_button,
                            self.step_g_button, self.step_button, self.slow_button, c["speed"], self.counter],
                           layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        left = widgets.VBox([self.view.widget,
                             widgets.HBox(list(self.layer_boxes.values()),
                                          layout=widgets.Layout(flex_flow="row wrap", max_width="560px"))])
        right = widgets.VBox([self.stats, self.curves_menu, self.curves_view.widget, self.narration],
                             layout=widgets.Layout(max_width="560px"))
        data_tab = widgets.VBox([self.data_menu, widgets.HBox([self.path_box, self.load_button]),
                                 widgets.HTML("Draw your own points: click on the figure in draw mode, or type them "
                                              "(one <code>x, y</code> per line)."),
                                 widgets.HBox([self.draw_button, self.use_button, self.clear_button]),
                                 self.points_box])
        model_tab = widgets.VBox([c[k] for k in MODEL_SETTINGS] + [
            widgets.HTML("<i>Changing these restarts training from the seed.</i>")])
        training_tab = widgets.VBox([c[k] for k in TRAINING_SETTINGS] + [
            widgets.HTML("<i>Learning rates and D/G steps apply at once (Adam's state is kept); "
                         "the others restart training from the seed.</i>")])
        export_tab = widgets.VBox([widgets.HBox([self.export_box, self.export_button]),
                                   widgets.HTML("Replay a saved run: <code>Playground.replay('file.npz')</code> "
                                                "gives an animation that plays without a kernel.")])
        self.tabs = widgets.Tab(children=[data_tab, model_tab, training_tab, export_tab])
        for i, title in enumerate(["Data", "Model", "Training", "Export"]):
            self.tabs.set_title(i, title)
        self.widget = widgets.VBox([bar, self.status, widgets.HBox([left, right],
                                                                   layout=widgets.Layout(flex_flow="row wrap")),
                                    self.tabs])
        self._sync_buttons()

    def _set_data_options(self) -> None:
        """The data menu: every preset, and your points once you have some."""
        options = list(_preset_options())
        if self._own_data is not None:
            n = len(getattr(self._own_data, "points", ()))
            options.append((f"{OWN_POINTS} ({n})" if n else OWN_POINTS, OWN_POINTS))
        self._syncing = True
        try:
            if tuple(tuple(o) for o in self.data_menu.options) != tuple(options):
                self.data_menu.options = options
            if self.data_menu.value != self.settings["data"]:
                self.data_menu.value = self.settings["data"]
        finally:
            self._syncing = False

    def _guarded_now(self, action) -> None:
        """Run what a click asked for; an error becomes a message, never a broken widget."""
        try:
            action()
        except Exception as error:
            self._show_error(error)
            self._sync_controls()
            if not self._playing and not self._drawing and self._stale():
                self._redraw()

    def _on_control(self, name: str, value) -> None:
        """A control was changed on the page (or by code setting its value)."""
        self._on_main(lambda: self._on_control_now(name, value))

    def _on_control_now(self, name: str, value) -> None:
        if self._syncing:
            return
        if name == "layer":
            layer, on = value
            wanted = set(self._layers) | {layer} if on else set(self._layers) - {layer}
            self._guarded_now(lambda: self.set_layers(sorted(wanted)))
        elif name == "curves":
            self._guarded_now(lambda: self.set_curves(value))
        elif name == "draw":
            self._guarded_now(lambda: self.draw(value))
        elif name == "points":
            self._guarded_now(lambda: self._typed_points(value))
        else:
            self._guarded_now(lambda: self.set(**{name: value}))

    def _typed_points(self, text: str) -> None:
        self._points = [tuple(p) for p in parse_points(text).tolist()]
        if self._drawing:
            self._show_canvas()

    def _sync_controls(self) -> None:
        """Make every control show its setting (after a change, or a refused one)."""
        self._syncing = True
        try:
            for name, control in self.controls.items():
                if control.value != self.settings[name]:
                    control.value = self.settings[name]
            self.controls["gamma"].disabled = self.settings["penalty"] in ("none", "clip")
            for name, box in self.layer_boxes.items():
                if box.value != (name in self._layers):
                    box.value = name in self._layers
            if self.curves_menu.value != self._curves:
                self.curves_menu.value = self._curves
            if self.draw_button.value != self._drawing:
                self.draw_button.value = self._drawing
        finally:
            self._syncing = False
        self._set_data_options()

    def _sync_layer_boxes(self) -> None:
        """Grey out the layers this run cannot draw (e.g. D* without an exact p_data)."""
        from ganlab.viz.twod import available_layers

        record = self.trainer.record
        if record.data_info.get("dim") == 1:
            available = ()
        else:
            available = available_layers(_view_record(record, self._snapshot()))
        for name, box in self.layer_boxes.items():
            box.disabled = name not in available

    def _sync_buttons(self) -> None:
        if not hasattr(self, "play_button"):
            return
        self.play_button.disabled = self._playing
        self.pause_button.disabled = not self._playing

    def _ipython_display_(self):
        display(self.widget)


# --------------------------------------------------------------------------- #
# Figures the playground adds
# --------------------------------------------------------------------------- #
def _add_before(fig: go.Figure, record: RunRecord, before: dict, after: dict) -> None:
    """Mark what a step changed: the fakes' old places (grey rings, with a
    segment to the new place) and D's old boundary (dashed grey)."""
    from ganlab.viz.twod import contour_lines

    old = np.asarray(before["x_fake"], dtype=float)[:256]
    new = np.asarray(after["x_fake"], dtype=float)[:256]
    fig.add_trace(go.Scatter(x=old[:, 0], y=old[:, 1], mode="markers", name="fakes before the step",
                             marker=dict(size=7, color="rgba(0,0,0,0)", line=dict(color=style.GREY, width=1)),
                             hoverinfo="skip"))
    seg = np.full((len(old) * 3, 2), np.nan)
    seg[0::3], seg[1::3] = old, new
    fig.add_trace(go.Scatter(x=seg[:, 0], y=seg[:, 1], mode="lines", name="how far each fake moved",
                             line=dict(color=style.GREY, width=1), hoverinfo="skip"))
    if before.get("d_grid") is not None and record.grid_x is not None and record.grid_y is not None:
        level = 0.5 if record.d_output == "probability" else 0.0
        for line in contour_lines(before["d_grid"], record.grid_x, record.grid_y, level):
            fig.add_trace(go.Scatter(x=line[:, 0], y=line[:, 1], mode="lines", showlegend=False,
                                     line=dict(color=style.GREY, width=1.5, dash="dash"), hoverinfo="skip"))


def _canvas_figure(bounds, points) -> go.Figure:
    """The drawing canvas: an invisible fine heatmap (named "canvas") catches
    clicks anywhere on the plane; the points drawn so far are on top."""
    (x0, x1), (y0, y1) = bounds
    n = 80
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    catcher = go.Heatmap(x=xs, y=ys, z=np.zeros((n, n)), name="canvas", showscale=False, hoverinfo="none",
                         colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]])
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    drawn = go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name="your points",
                       marker=dict(color=style.REAL, size=8))
    side = 450
    fig = go.Figure([catcher, drawn])
    fig.update_layout(style.base_layout(
        title=dict(text=f"draw mode: {len(pts)} points", x=0.5, xanchor="center"), width=side + 90,
        height=round(side * (y1 - y0) / (x1 - x0)) + 120 if x1 > x0 else side,
        xaxis=dict(range=[x0, x1], showgrid=True, zeroline=False, title="x₁", constrain="domain"),
        yaxis=dict(range=[y0, y1], showgrid=True, zeroline=False, title="x₂", scaleanchor="x"),
        margin=dict(l=60, r=30, t=60, b=50)))
    return fig


def _curves_figure(record: RunRecord, which: str) -> go.Figure:
    """The chosen curves of ganlab.viz.curves, or a note when there are none yet."""
    from ganlab.viz import curves

    if len(record) == 0:
        return _note_figure("Curves appear once training has started (press Play or a step button).")
    makers = {"losses": curves.loss_curves, "D's verdicts": curves.d_output_curves,
              "gradient norms": curves.grad_norm_curves}
    try:
        if which == "metrics":
            fig = curves.metric_curves(record)
        else:
            fig = makers[which](record, max_points=300)
    except ValueError as error:  # e.g. no metrics for data without known modes
        return _note_figure(str(error))
    fig.update_layout(width=520, height=min(fig.layout.height or 380, 420), margin=dict(t=70))
    return fig


def _note_figure(text: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=html.escape(text).replace(": ", ":<br>", 1), x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font=dict(size=13, color=style.GREY))
    fig.update_layout(style.base_layout(width=520, height=200, xaxis=dict(visible=False), yaxis=dict(visible=False),
                                        margin=dict(l=20, r=20, t=20, b=20)))
    return fig
