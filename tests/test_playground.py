"""The live playground and compare mode, driven as a reader's clicks would drive them.

Runs under the main environment (ipywidgets 8, plotly 7) and the Colab-like one
(ipywidgets 7.7, plotly 5.24: ``bash tests/colab_env.sh``). Small nets and a
coarse grid keep it fast; one test starts a real kernel and clicks through it.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
import time
import types

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from ganlab.train import RunRecord
from ganlab.viz.compare import COMPARE_CURVES, Compare, compare_figure
from ganlab.viz.playground import (CURVES, OWN_POINTS, FigureView, Playground, choose_figure_mode, narrate_step,
                                   parse_points)

SMALL = dict(g_depth=2, g_width=16, d_depth=2, d_width=16, batch_size=64, grid_size=16, n_points=64,
             metrics_every=0, speed=3)


def make(data="ring", **kwargs) -> Playground:
    pg = Playground(data=data, **{**SMALL, **kwargs})
    pg.curves_seconds = 30.0  # the curves are the slow part of a redraw; tests ask for them explicitly
    return pg


def consistent(pg) -> dict:
    state = pg.state
    assert state["problems"] == [], state["problems"]
    return state


def widget_mode_available() -> bool:
    try:
        import anywidget  # noqa: F401
        return True
    except ImportError:
        return False


# --------------------------------------------------------------------------- #
# Clicks and value changes
# --------------------------------------------------------------------------- #
def test_buttons_train_step_and_narrate():
    pg = make()
    assert consistent(pg)["iteration"] == 0
    pg.play_button.click()  # no event loop here: one redraw of `speed` iterations
    assert consistent(pg)["iteration"] == 3 and not pg.playing
    pg.step_d_button.click()
    row = {k: v[-1] for k, v in pg.trainer.record.history.items()}
    assert row["step"] == 4 and math.isnan(row["loss_g"]) and math.isfinite(row["loss_d"])
    pg.step_g_button.click()
    row = {k: v[-1] for k, v in pg.trainer.record.history.items()}
    assert row["step"] == 5 and math.isnan(row["loss_d"]) and math.isfinite(row["loss_g"])
    pg.step_button.click()
    pg.slow_button.click()
    state = consistent(pg)
    assert state["iteration"] == 7 == pg.trainer.steps_done
    text = pg.narration.value
    for sub_step in ("sample", "generate", "classify", "loss", "gradient", "update", "result"):
        assert sub_step in text
    row = {k: v[-1] for k, v in pg.trainer.record.history.items()}
    assert f"{row['loss_d']:.4g}" in text and f"{row['d_real']:.3f}" in text
    assert "7" in pg.counter.value
    # The slow step marks what changed: where the fakes were, and D's old boundary.
    names = [t.name for t in pg.figure.data]
    assert "fakes before the step" in names and "how far each fake moved" in names
    # The figure shows the latest snapshot: its fakes are the trainer's fakes now.
    fake = next(t for t in pg.figure.data if t.name == "fake G(z)")
    now = pg.trainer.snapshot()["x_fake"]
    assert np.allclose(np.asarray(fake.x, float), now[:, 0], atol=1e-2)


def test_value_changes_through_the_widgets():
    pg = make()
    pg.step_both()
    trainer = pg.trainer
    pg.controls["lr_d"].value = 3e-3
    assert pg.trainer is trainer and trainer.opt_d.param_groups[0]["lr"] == pytest.approx(3e-3)
    pg.controls["d_steps"].value = 3
    assert pg.trainer is trainer and trainer.config.d_steps == 3
    consistent(pg)
    pg.controls["g_width"].value = 8
    assert pg.trainer is not trainer and pg.trainer.steps_done == 0
    assert pg.trainer.G[0].out_features == 8
    pg.data_menu.value = "moons"
    assert pg.trainer.record.data_name == "moons"
    pg.layer_boxes["manifold"].value = False
    assert "manifold" not in pg.state["settings"]["layers"]
    assert "G's warped z grid" not in [t.name for t in pg.figure.data]
    pg.curves_menu.value = "D's verdicts"
    assert pg.curves_view.figure is not None
    pg.controls["penalty"].value = "r1"
    assert pg.trainer.config.penalty == "r1" and not pg.controls["gamma"].disabled
    consistent(pg)


def test_lr_change_keeps_the_optimiser_state():
    pg = make()
    pg.play(2)
    trainer = pg.trainer
    before = {name: {k: v["exp_avg"].clone() for k, v in opt.state.items()}
              for name, opt in (("g", trainer.opt_g), ("d", trainer.opt_d))}
    assert before["d"]
    pg.controls["lr_g"].value = 2e-3
    pg.set_lr(d=5e-4)
    assert pg.trainer is trainer and trainer.steps_done == 6
    for name, opt in (("g", trainer.opt_g), ("d", trainer.opt_d)):
        for p, saved in before[name].items():
            assert torch.equal(opt.state[p]["exp_avg"], saved)
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(2e-3)
    assert trainer.opt_d.param_groups[0]["lr"] == pytest.approx(5e-4)
    assert trainer.record.config["lr_d"] == pytest.approx(5e-4)
    pg.step_both()
    assert consistent(pg)["iteration"] == 7


def test_architecture_or_data_change_makes_a_new_trainer():
    pg = make()
    pg.play(1)
    first = pg.trainer
    pg.set(d_depth=1, z_dim=1)
    assert pg.trainer is not first and pg.trainer.steps_done == 0
    assert pg.trainer.z_dim == 1 and sum(isinstance(m, torch.nn.Linear) for m in pg.trainer.D) == 2
    assert "restarted" in pg.message
    second = pg.trainer
    pg.set_data("two_gaussians")
    assert pg.trainer is not second
    consistent(pg)
    # The same seed gives the same nets: a reset is a true restart.
    pg.play(1)
    pg.reset()
    fresh = make(data="two_gaussians", d_depth=1, z_dim=1)
    for a, b in zip(pg.trainer.G.parameters(), fresh.trainer.G.parameters()):
        assert torch.equal(a, b)


def test_divergence_shows_a_message_and_keeps_the_last_good_state():
    pg = make()
    pg.set(objective="wasserstein", opt_g="sgd", opt_d="sgd", lr_g=10.0, lr_d=10.0)
    pg.play(3)
    assert pg.message.startswith("⚠") and "diverged" in pg.message
    assert "diverged" in pg.status.value
    state = consistent(pg)
    assert not state["playing"]
    weights = [p for p in pg.trainer.G.parameters()] + [p for p in pg.trainer.D.parameters()]
    assert all(torch.isfinite(w).all() for w in weights)
    assert all(math.isfinite(v) for v in pg.trainer.record.history["loss_d"])
    # Lowering the learning rates keeps the (last good) trainer; stepping on from a
    # state that close to the edge may diverge again: either way nothing breaks.
    good, trainer = pg.trainer.steps_done, pg.trainer
    pg.set_lr(g=1e-5, d=1e-5)
    pg.step_both()
    assert pg.trainer is trainer and pg.trainer.steps_done in (good, good + 1)
    consistent(pg)
    pg.reset_button.click()
    assert pg.message == "" and consistent(pg)["iteration"] == 0


def test_export_and_replay_round_trip(tmp_path):
    pg = make(speed=5, max_snapshots=4)
    pg.play(6)
    pg.step_d()
    pg.export_box.value = str(tmp_path / "run.npz")
    pg.export_button.click()
    assert "saved" in pg.message
    record = RunRecord.load(tmp_path / "run.npz")
    live = pg.trainer.record
    for key in live.history:
        assert np.array_equal(np.asarray(record.history[key]), np.asarray(live.history[key]), equal_nan=True)
    steps = record.snapshot_steps
    assert steps == live.snapshot_steps and steps[0] == 0 and steps[-1] == pg.trainer.steps_done
    assert len(steps) <= 6 and steps == sorted(set(steps))  # thinned, still in order
    fig = Playground.replay(tmp_path / "run.npz")
    assert len(fig.frames) == len(steps)
    assert len(Playground.replay(record, max_frames=2).frames) == 2
    with pytest.raises(TypeError):
        Playground.replay(42)


def test_one_dimensional_presets_and_their_replay(tmp_path):
    pg = make(data="mixture_1d")
    pg.play(2)
    assert all(box.disabled for box in pg.layer_boxes.values())
    assert "iteration 6" in pg.figure.layout.title.text
    consistent(pg)
    fig = Playground.replay(pg.export(tmp_path / "one_d.npz"))
    assert len(fig.frames) >= 2


# --------------------------------------------------------------------------- #
# Your own data
# --------------------------------------------------------------------------- #
def test_own_points_from_an_array_a_csv_file_and_typing(tmp_path):
    points = np.random.default_rng(0).normal(size=(50, 2))
    pg = make(data=points)
    assert pg.state["data"] == OWN_POINTS and pg.trainer.data.points.shape == (50, 2)
    csv = tmp_path / "points.csv"
    csv.write_text("x,y\n" + "\n".join(f"{x},{y}" for x, y in points[:20]))
    pg.path_box.value = str(csv)
    pg.load_button.click()
    assert pg.trainer.data.points.shape == (20, 2) and "20 points" in pg.message
    pg.path_box.value = str(tmp_path / "missing.csv")
    pg.load_button.click()
    assert "missing.csv" in pg.message and pg.trainer.data.points.shape == (20, 2)
    consistent(pg)
    pg.points_box.value = "0.1, 0.2\n0.5 0.5\n# a comment\n0.9;0.1"
    pg.use_button.click()
    assert pg.trainer.data.points.shape == (3, 2)
    pg.points_box.value = "0.1, oops"
    assert "line 1" in pg.message
    pg.use_button.click()
    assert pg.trainer.data.points.shape == (3, 2)
    consistent(pg)
    with pytest.raises(ValueError, match="2-D"):
        pg.set_data(np.arange(10.0))
    assert pg.trainer.data.points.shape == (3, 2)
    pg.data_menu.value = "ring"
    pg.data_menu.value = OWN_POINTS  # your points stay in the menu
    assert pg.trainer.data.points.shape == (3, 2)


def test_draw_mode_clicks_and_fallback():
    pg = make()
    pg.draw_button.value = True
    state = consistent(pg)
    assert state["drawing"] and "canvas" in [t.name for t in pg.figure.data]
    if pg.view.mode != "widget":
        assert "type points" in pg.message
    for x, y in ((0.1, 0.2), (0.3, 0.4), (0.5, 0.1)):
        pg.add_point(x, y)  # what a click on the canvas does
    assert parse_points(pg.points_box.value).shape == (3, 2)
    assert len(pg.figure.data[1].x) == 3
    pg.use_button.click()
    assert not pg.state["drawing"] and pg.trainer.data.points.shape == (3, 2)
    pg.draw(True)
    pg.clear_points()
    pg.use_button.click()  # no points: refused with a message, nothing breaks
    assert "at least 2 points" in pg.message
    pg.draw(False)
    consistent(pg)


class FakePage:
    """What the page side of a PlotlyView does (ganlab/viz/plotly_view.js): it says a
    view opened, and acknowledges the frames it draws, when told to."""

    def __init__(self, view):
        self.view = view
        self.sent = []  # custom messages from the kernel to the page
        view.widget.send = lambda content, buffers=None: self.sent.append(content)
        self.say({"type": "view"})

    def say(self, content):
        self.view._on_message(self.view.widget, content, [])

    def draw(self):
        self.say({"type": "drawn", "frame": self.view.widget.frame})


@pytest.mark.skipif(not widget_mode_available(), reason="anywidget is not installed here")
def test_widget_view_sends_frames_takes_acknowledgements_and_clicks():
    pg = make(figure="widget")
    view = pg.view
    assert view.mode == "widget" and view.ready  # no page has shown it yet: nobody to wait for
    frame = view.widget.frame
    pg.step_both()
    assert view.widget.frame == frame + 1 and '"iteration 1"' in view.widget.figure
    fake = next(t for t in pg.figure.data if t.name == "fake G(z)")
    assert np.allclose(np.asarray(fake.x, float), pg.trainer.snapshot()["x_fake"][:, 0], atol=1e-2)
    page = FakePage(view)
    assert view.in_flight == view.sent - view.drawn and not view.ready  # the last frame is not drawn yet
    page.draw()
    assert view.in_flight == 0 and view.ready
    pg.step_both()
    assert not view.ready
    view.ack_timeout = 0.0  # a page that never answers (a hidden tab) still gets a frame now and then
    assert view.ready
    page.say({"type": "drawn", "frame": 10**9})  # a stray number cannot run ahead of what was sent
    assert view.drawn == view.sent
    page.say({"type": "need plotly.js"})
    assert page.sent[-1]["type"] == "plotly.js" and "Plotly" in page.sent[-1]["source"][:5000]
    page.say("garbage")  # never raises in the comm handler
    pg.draw(True)
    page.say({"type": "click", "x": 0.25, "y": 0.75, "trace": "canvas"})
    page.say({"type": "click", "x": 9.0, "y": 9.0, "trace": "real"})  # not the canvas: ignored
    assert pg._points[-1] == (0.25, 0.75) and len(pg._points) == 1
    consistent(pg)


def test_play_waits_for_the_page_and_trains_on_meanwhile():
    """Back-pressure: while the page has not drawn the last frame the kernel sends
    no new one, but keeps training; once acknowledged, the next frame carries
    all the iterations trained meanwhile. A Play on today's page never queues frames."""
    pg = make(figure="widget" if widget_mode_available() else "output", speed=2)
    pg.frame_seconds = 0.0
    view = pg.view
    if view.mode != "widget":
        pytest.skip("anywidget is not installed here")
    page = FakePage(view)
    page.draw()
    view.ack_timeout = 60.0

    async def scenario():
        pg.play()
        await asyncio.sleep(0.3)
        assert view.in_flight == 1 and pg.playing  # one frame sent, none after it
        sent, steps = view.sent, pg.trainer.steps_done
        await asyncio.sleep(0.3)
        assert view.sent == sent and pg.trainer.steps_done > steps + 2  # training went on, no frames
        page.draw()
        await asyncio.sleep(0.2)
        assert view.sent == sent + 1  # the next frame went once the page had drawn
        title = pg.figure.layout.title.text
        assert int(title.split()[1].replace(",", "")) > steps + 2  # with everything trained meanwhile
        pg.pause()
        assert not pg.playing

    asyncio.run(scenario())


def test_restart_clears_narration_and_divergence_shows_on_the_figure():
    pg = make()
    pg.slow_step()
    assert "result" in pg.narration.value
    pg.reset()
    assert "result" not in pg.narration.value and "slow step" in pg.narration.value
    pg.set(objective="wasserstein", opt_g="sgd", opt_d="sgd", lr_g=10.0, lr_d=10.0)
    for _ in range(50):
        pg.play(5)
        if "diverged" in pg.message:
            break
    assert "diverged" in pg.message
    assert "diverged at" in pg.figure.layout.title.text
    consistent(pg)
    pg.reset()
    assert "diverged" not in pg.figure.layout.title.text


def test_figure_modes(monkeypatch):
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), layout=dict(width=300, height=200))
    view = FigureView("html")
    view.show(fig)
    text = view.payload
    assert "Plotly.newPlot" in text and "cdn.plot.ly/plotly-" in text and "window.Plotly" in text
    # The Output widget's outputs are set directly (output captured from a task never
    # reaches JupyterLab's page): the page's copy of the widget holds the figure.
    assert view.widget.outputs[0]["data"]["text/html"] == text
    assert view.ready is False and view.in_flight == 0  # paced by time: the next frame in min_interval s
    out = FigureView("output")
    out.show(fig)
    assert out.payload is fig and "application/vnd.plotly.v1+json" in out.widget.outputs[0]["data"]
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert choose_figure_mode("auto") == "html"
    monkeypatch.delitem(sys.modules, "google.colab")
    assert choose_figure_mode("auto") == ("widget" if widget_mode_available() else "output")
    monkeypatch.setitem(sys.modules, "anywidget", None)  # as if it were not installed
    assert choose_figure_mode("auto") == "output"
    with pytest.raises(ValueError, match="anywidget"):
        choose_figure_mode("widget")
    with pytest.raises(ValueError):
        choose_figure_mode("svg")
    pg = make(figure="html")
    pg.step_both()
    assert "iteration 1" in pg.view.payload


# --------------------------------------------------------------------------- #
# Playing on an event loop, as in a kernel
# --------------------------------------------------------------------------- #
def test_play_on_an_event_loop_and_pause_at_once():
    pg = make(speed=2)
    pg.frame_seconds = 0.01

    async def scenario():
        task = pg.play()
        assert isinstance(task, asyncio.Task) and pg.playing and pg.play_button.disabled
        seen = []
        for _ in range(40):  # the loop stays free: this coroutine runs while training goes on
            await asyncio.sleep(0.01)
            seen.append(pg.trainer.steps_done)
        assert seen[-1] > seen[0]
        pg.controls["lr_d"].value = 2e-3  # a click while playing
        await asyncio.sleep(0.02)
        pg.pause_button.click()
        stopped = pg.trainer.steps_done
        state = consistent(pg)  # consistent at once, before the task has even unwound
        assert not state["playing"] and state["figure_step"] == stopped
        await asyncio.sleep(0.05)
        assert task.done() and pg.trainer.steps_done == stopped
        assert pg.trainer.opt_d.param_groups[0]["lr"] == pytest.approx(2e-3)
        # Pause then Play at once, before the old task has unwound: the new one plays on.
        pg.pause_button.click()
        pg.play_button.click()
        await asyncio.sleep(0.1)
        assert pg.playing and pg.trainer.steps_done > stopped
        pg.pause()
        stopped = pg.trainer.steps_done
        # play(n) on the loop: n redraws, then it stops by itself.
        await pg.play(3)
        assert pg.trainer.steps_done == stopped + 6 and not pg.playing
        # A diverging run stops the task with a message, the loop unharmed.
        pg.set(objective="wasserstein", opt_g="sgd", opt_d="sgd", lr_g=10.0, lr_d=10.0)
        await pg.play()
        assert "diverged" in pg.message and not pg.playing
        consistent(pg)
        # Slow motion reveals the sub-steps one by one.
        pg.set(objective="nonsaturating", opt_g="adam", opt_d="adam", lr_g=1e-3, lr_d=1e-3)
        pg.narrate_seconds = 0.01
        pg.slow_step()
        await asyncio.sleep(0.3)
        assert "result" in pg.narration.value and "fff3c4" not in pg.narration.value

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", ["playground", "compare"])
def test_clicks_from_another_thread_run_on_the_main_loop(kind):
    """ipykernel 7 under JupyterLab 4 handles widget messages on a subshell thread,
    while training runs on the main thread: a click must be handed to the main
    loop, never run halfway through an iteration (Pause would stop nothing)."""
    import threading

    async def scenario():
        w = make(speed=2) if kind == "playground" else Compare(["textbook", "r1"], data="ring", speed=2,
                                                                 grid_size=16, n_points=64, metrics_every=0)
        w.frame_seconds = 0.01
        trainers = [w.trainer] if kind == "playground" else w.trainers
        views = [w.view] if kind == "playground" else w.views
        main, seen = threading.current_thread(), []
        for view in views:
            show = view.show
            view.show = lambda fig, *a, _show=show, **k: (seen.append(threading.current_thread()), _show(fig, *a, **k))
        w.play_button.click()  # on the loop's own thread: runs at once
        await asyncio.sleep(0.3)
        assert w.playing
        clicker = threading.Thread(target=w.pause_button.click)  # what a subshell does
        clicker.start()
        clicker.join()
        await asyncio.sleep(0.2)
        assert not w.playing
        steps = [t.steps_done for t in trainers]
        await asyncio.sleep(0.2)
        assert [t.steps_done for t in trainers] == steps  # paused for real
        assert set(seen) == {main}  # every redraw ran on the main thread
        state = w.state
        assert state["problems"] == [], state["problems"]

    asyncio.run(scenario())


def test_a_real_kernel_handles_clicks_while_playing():
    """A real ipykernel (the one Jupyter and Colab run): Play from a cell returns at
    once, other cells run while it plays, and a click on Pause (a comm message,
    exactly what the page sends) stops it."""
    pytest.importorskip("jupyter_client")
    pytest.importorskip("ipykernel")
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)

    def run(code):
        msg_id = kc.execute(code)
        reply = kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        value = None
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "execute_result":
                value = msg["content"]["data"]["text/plain"]
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return value

    try:
        # The kernel must be this environment's (e.g. ipykernel 6.17 in the Colab-like one).
        assert run("import sys; sys.executable") == repr(sys.executable)
        run("import torch; torch.set_num_threads(1)\n"
            "from ganlab.viz.playground import Playground\n"
            "pg = Playground(data='ring', figure='output', g_width=16, d_width=16, batch_size=64, grid_size=16, "
            "n_points=64, metrics_every=0, speed=2)\n"
            "pg.frame_seconds = 0.02; pg.play(); None")
        first = int(run("pg.trainer.steps_done"))
        time.sleep(1.0)
        second = int(run("pg.trainer.steps_done"))
        assert second > first, "the cell ran, but training did not go on between cells"
        assert run("pg.playing") == "True"
        comm_id = run("pg.pause_button.model_id").strip("'")
        click = kc.session.msg("comm_msg", {"comm_id": comm_id,
                                            "data": {"method": "custom", "content": {"event": "click"}}})
        kc.shell_channel.send(click)
        time.sleep(0.5)
        assert run("pg.playing") == "False"
        stopped = int(run("pg.trainer.steps_done"))
        time.sleep(0.5)
        assert int(run("pg.trainer.steps_done")) == stopped
        assert run("pg.state['problems']") == "[]"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# --------------------------------------------------------------------------- #
# Nothing a user does can break it
# --------------------------------------------------------------------------- #
def test_500_random_user_actions_leave_a_consistent_state(tmp_path):
    rng = random.Random(1234)
    pg = make(speed=2)
    csv = tmp_path / "points.csv"
    csv.write_text("\n".join(f"{math.cos(a):.3f}, {math.sin(a):.3f}" for a in np.linspace(0, 6, 30)))
    good_values = {
        "g_depth": [0, 1, 2], "d_depth": [0, 1, 2], "g_width": [4, 8, 16], "d_width": [4, 8, 16],
        "z_dim": [1, 2], "noise": ["gaussian", "uniform"], "activation": ["relu", "tanh", "leaky_relu", "elu"],
        "objective": ["minimax", "nonsaturating", "least_squares", "hinge", "wasserstein"],
        "penalty": ["none", "r1", "r2", "gp", "clip"], "gamma": [0.1, 1.0, 10.0],
        "opt_g": ["adam", "sgd", "rmsprop"], "opt_d": ["adam", "sgd", "rmsprop"],
        "lr_g": [1e-4, 1e-3, 1e-2, 5.0], "lr_d": [1e-4, 1e-3, 1e-2, 5.0], "batch_size": [8, 32, 64],
        "d_steps": [1, 2, 3], "g_steps": [1, 2], "seed": [0, 1, 7], "speed": [1, 2, 3],
    }
    bad_calls = [
        lambda: pg.set(g_width=-1), lambda: pg.set(lr_d="fast"), lambda: pg.set(data="nowhere"),
        lambda: pg.set(objective="best"), lambda: pg.set(z_dim=3), lambda: pg.set(colour="red"),
        lambda: pg.set_layers(["nope"]), lambda: pg.use_points([[1.0, 2.0]]), lambda: pg.set_lr(),
        lambda: pg.set_curves("everything"), lambda: pg.load_points(""), lambda: pg.export(""),
        lambda: pg.play(0), lambda: pg.slow_step("x"), lambda: pg.add_point(float("nan"), 0.0),
        lambda: pg.set(speed=10_000), lambda: pg.set_data(np.zeros((3, 3))),
    ]
    buttons = [pg.play_button, pg.pause_button, pg.reset_button, pg.step_d_button, pg.step_g_button,
               pg.step_button, pg.slow_button, pg.load_button, pg.use_button, pg.clear_button, pg.export_button]
    data_names = ["ring", "moons", "line", "grid", "mixture_1d", "checkerboard", OWN_POINTS]
    counts = {"click": 0, "value": 0, "invalid": 0}
    for i in range(500):
        kind = rng.choices(["click", "value", "widget", "invalid", "text"], weights=[4, 4, 2, 2, 1])[0]
        if kind == "click":
            button = rng.choice(buttons)
            if button is pg.export_button:
                pg.export_box.value = rng.choice([str(tmp_path / f"run{i % 3}.npz"), "", str(tmp_path)])
            if button is pg.load_button:
                pg.path_box.value = rng.choice([str(csv), str(tmp_path / "missing.csv"), ""])
            button.click()
            counts["click"] += 1
        elif kind == "value":
            name = rng.choice(list(good_values))
            pg.controls[name].value = rng.choice(good_values[name])
            counts["value"] += 1
        elif kind == "widget":
            choice = rng.randrange(4)
            if choice == 0:
                box = rng.choice(list(pg.layer_boxes.values()))
                box.value = not box.value
            elif choice == 1:
                pg.curves_menu.value = rng.choice(CURVES)
            elif choice == 2:
                name = rng.choice(data_names)
                if name != OWN_POINTS or OWN_POINTS in [v for _, v in pg.data_menu.options]:
                    pg.data_menu.value = name
            else:
                pg.draw_button.value = not pg.draw_button.value
            counts["value"] += 1
        elif kind == "text":
            pg.points_box.value = rng.choice(["0.1, 0.2\n0.3, 0.4\n0.5, 0.9", "bad", "", "1 2\n3 4"])
        else:
            call = rng.choice(bad_calls)
            with pytest.raises((ValueError, TypeError)):
                call()
            counts["invalid"] += 1
        state = pg.state
        assert state["problems"] == [], (i, kind, state["problems"])
        assert not state["playing"]
    assert min(counts.values()) > 50, counts
    pg.refresh_curves()
    assert pg.curves_view.figure is not None


def test_bad_arguments_are_refused_up_front():
    with pytest.raises(ValueError, match="unknown setting"):
        Playground(colour="red")
    with pytest.raises(ValueError, match="MLPs"):
        Playground(recipe="affine1d")
    with pytest.raises(ValueError, match="figure"):
        Playground(figure="svg")
    with pytest.raises(ValueError, match="g_width"):
        Playground(g_width=0)
    with pytest.raises(ValueError, match="layer"):
        Playground(layers=["shadows"])
    with pytest.raises(ValueError, match="no file"):
        Playground(data="nowhere")


def test_narrate_step_lists_the_sub_steps_with_the_numbers():
    row = dict(step=3, loss_d=1.2345, loss_g=0.6789, d_real=0.61, d_fake=0.42, grad_norm_d=0.05, grad_norm_g=0.02)
    config = dict(z_dim=2, noise="gaussian", objective="nonsaturating", penalty="r1", batch_size=64, d_steps=2,
                  g_steps=1, opt_g="adam", opt_d="adam", lr_g=1e-3, lr_d=1e-3)
    snap = dict(x_fake=np.zeros((4, 2)), d_grid=np.full((3, 3), 0.5))
    moved = dict(x_fake=np.ones((4, 2)), d_grid=np.full((3, 3), 0.6))
    steps = narrate_step("both", row, config, before=snap, after=moved, acc_before=dict(real=0.5, fake=0.5),
                         acc_after=dict(real=0.75, fake=0.25))
    names = [(player, name) for player, name, _ in steps]
    assert names[:6] == [("D", "sample"), ("D", "generate"), ("D", "classify"), ("D", "loss"), ("D", "gradient"),
                         ("D", "update")]
    assert ("G", "update") in names and names[-1] == ("", "result")
    text = " ".join(t for _, _, t in steps)
    for number in ("1.234", "0.6789", "0.610", "0.420", "0.05", "1.41", "0.1", "75%", "×2", "γ/2"):
        assert number in text, number
    assert [n for _, n, _ in narrate_step("d", row, config)][-1] == "update"
    assert [p for p, _, _ in narrate_step("g", row, config)] == ["G"] * 5


# --------------------------------------------------------------------------- #
# Compare mode
# --------------------------------------------------------------------------- #
def test_compare_runs_in_lockstep_from_the_same_seed(tmp_path):
    cmp = Compare(["textbook", "r1"], data="ring", speed=3, grid_size=16, n_points=64, metrics_every=5,
                  batch_size=64)
    cmp.curves_seconds = 30.0
    g0, g1 = (t.G for t in cmp.trainers)
    assert all(torch.equal(a, b) for a, b in zip(g0.parameters(), g1.parameters()))  # same seed, same start
    cmp.play_button.click()
    cmp.step_button.click()
    state = cmp.state
    assert state["steps"] == {"textbook": 4, "r1": 4} and state["lockstep"] and state["problems"] == []
    cmp.set(seed=1)
    assert cmp.state["steps"] == {"textbook": 0, "r1": 0}
    cmp.seed_box.value = 2
    cmp.data_menu.value = "moons"
    cmp.speed_slider.value = 2
    cmp.layer_boxes["heatmap"].value = False
    cmp.curve_menu.value = "d_real"
    cmp.play(2)
    assert cmp.state["steps"] == {"textbook": 4, "r1": 4} and cmp.state["problems"] == []
    paths = cmp.export(tmp_path / "runs")
    assert [RunRecord.load(p).snapshot_steps[-1] for p in paths] == [4, 4]
    fig = compare_figure([t.record for t in cmp.trainers], cmp.labels, "modes")
    assert "Nothing to compare" in fig.layout.annotations[0].text  # moons has no modes
    with pytest.raises(ValueError):
        Compare(["textbook"])
    with pytest.raises(ValueError):
        Compare(["textbook", "r1", "ttur", "wgan_gp", "textbook"])


def test_compare_on_an_event_loop_and_with_a_diverging_run():
    cmp = Compare(["textbook", "ttur", "textbook"], data="two_gaussians", speed=2, grid_size=16, n_points=64,
                  metrics_every=0, batch_size=64)
    cmp.curves_seconds = 30.0
    cmp.frame_seconds = 0.01
    assert cmp.labels == ["textbook", "ttur", "textbook (2)"]

    async def scenario():
        cmp.play()
        await asyncio.sleep(0.3)
        cmp.pause_button.click()
        state = cmp.state
        assert state["lockstep"] and state["problems"] == [] and len(set(state["steps"].values())) == 1
        assert list(state["steps"].values())[0] > 0

    asyncio.run(scenario())
    wild = Compare(["textbook", "r1"], data="ring", speed=5, grid_size=16, n_points=64, metrics_every=0,
                   opt_g="sgd", opt_d="sgd", lr_g=10.0, lr_d=10.0, objective="wasserstein")
    wild.play(3)
    state = wild.state
    assert set(state["frozen"]) == {"textbook", "r1"} and "diverged" in wild.message
    assert state["problems"] == [] and not state["playing"]
    for curve in COMPARE_CURVES:
        wild.set_curve(curve)
