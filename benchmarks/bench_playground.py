"""What the live playground costs: one redraw, and training speed while playing.

A redraw is everything the playground does between two batches of training:
the trainer's snapshot (G on 512 fixed z and on the 20 x 20 z lattice, D on the
64 x 64 grid, the gradient arrows), D's accuracy on the fixed batches, the 2-D
figure (heatmap, boundary, manifold, 512 real and 512 fake points, an arrow on
128 of the fakes), and handing the figure to the page the way the figure mode does:

* html   : the figure's JSON wrapped in the self-loading script (Colab's path);
* output : plotly's own mime bundle, serialised to JSON as the kernel sends it;
* widget : a FigureWidget updated in place (where one can be built here).

Goal: a redraw <= 40 ms (Python side, median, one thread), so that playing at
10 iterations per redraw spends most of its time training.

Then the training speed while playing (``play(n)`` on an asyncio loop, as in a
kernel: slices of training, a redraw every ``speed`` iterations, at most ~10
redraws a second), against ``trainer.fit`` alone.

Run: ``python benchmarks/bench_playground.py [--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import plotly  # noqa: E402
import plotly.io as pio  # noqa: E402
import torch  # noqa: E402

import ipywidgets  # noqa: E402
from ganlab.viz.playground import Playground, choose_figure_mode, d_accuracy  # noqa: E402

GOAL_MS = 40.0


def median_ms(fn, repeats: int, best: list | None = None) -> float:
    """Median time of ``fn`` in ms (its fastest run is appended to ``best``)."""
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    if best is not None:
        best.append(1e3 * min(times))
    return 1e3 * statistics.median(times)


def redraw_costs(mode: str, repeats: int) -> dict:
    pg = Playground(data="ring", figure=mode, speed=10)
    pg.curves_seconds = 1e9  # the curves are redrawn at most once a second: not part of a redraw
    pg.play(3)
    trainer = pg.trainer

    def fresh_snapshot():
        pg._last_snap = None  # force a new snapshot, as after training
        return pg._snapshot()

    snap = fresh_snapshot()
    costs = {
        "snapshot": median_ms(fresh_snapshot, repeats),
        "accuracy": median_ms(lambda: d_accuracy(trainer, trainer.record.x_real, snap["x_fake"]), repeats),
        "figure": median_ms(lambda: pg._game_figure(snap), repeats),
    }
    fig = pg._game_figure(snap)
    if mode == "output":  # what display(fig) does in a kernel: plotly's bundle, then JSON on the wire
        pio.renderers.default = "plotly_mimetype"
        costs["to page"] = median_ms(lambda: json.dumps(fig._repr_mimebundle_()), repeats)
    elif mode == "html":
        costs["to page"] = median_ms(lambda: pg.view.show(fig), repeats)
    else:
        figs = [pg._game_figure(snap), fig]
        flip = iter(range(10**9))
        costs["to page"] = median_ms(lambda: pg.view.show(figs[next(flip) % 2]), repeats)

    def redraw():
        pg._last_snap = None
        pg._redraw()

    best = []
    costs["whole redraw"] = median_ms(redraw, repeats, best)
    costs["best"] = best[0]
    if mode == "output":  # outside a kernel show() displays nothing: add what display() would cost
        costs["whole redraw"] += costs["to page"]
        costs["best"] += costs["to page"]
    points = sum(len(t.x) for t in fig.data if getattr(t, "x", None) is not None)
    costs["_figure_kb"] = len(fig.to_json()) / 1e3
    costs["_points"] = points
    return costs


def play_speed(speed: int, redraws: int) -> tuple[float, float]:
    pg = Playground(data="ring", figure="html", speed=speed)
    pg.curves_seconds = 1.0

    async def run():
        start = time.perf_counter()
        await pg.play(redraws)
        return time.perf_counter() - start

    seconds = asyncio.run(run())
    return pg.trainer.steps_done / seconds, redraws / seconds


def fit_speed(steps: int) -> float:
    pg = Playground(data="ring", figure="html")
    start = time.perf_counter()
    pg.trainer.fit(steps, progress=False)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = 5 if args.quick else 20
    print(f"plotly {plotly.__version__}, ipywidgets {ipywidgets.__version__}, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}; settings: textbook nets (3 x 128), batch 256, lr 1e-3")
    modes = ["html", "output"] + (["widget"] if choose_figure_mode("auto") == "widget" else [])
    print(f"\nOne redraw (median of {repeats}, ms): 64 x 64 heatmap + boundary, 512 fakes with arrows, "
          f"512 reals, G's 20 x 20 lattice")
    print(f"{'mode':8} {'snapshot':>9} {'accuracy':>9} {'figure':>8} {'to page':>8} {'whole':>7} {'(best)':>7}"
          f"  median vs goal {GOAL_MS:.0f} ms")
    for mode in modes:
        c = redraw_costs(mode, repeats)
        verdict = "OK" if c["whole redraw"] <= GOAL_MS else "SLOW"
        print(f"{mode:8} {c['snapshot']:9.1f} {c['accuracy']:9.1f} {c['figure']:8.1f} {c['to page']:8.1f} "
              f"{c['whole redraw']:7.1f} {c['best']:7.1f}  {verdict} ({c['whole redraw'] / GOAL_MS:.2f} x goal)")
    print(f"  figure JSON {c['_figure_kb']:.0f} KB, {c['_points']} plotted points")

    fit = fit_speed(200 if args.quick else 600)
    print(f"\nTraining alone (trainer.fit): {fit:.0f} iterations/s")
    print(f"{'speed':>6} {'iterations/s':>13} {'redraws/s':>10} {'of fit':>7}"
          "   (playing on an asyncio loop, html mode)")
    for speed in (1, 10, 50):
        redraws = {1: 20, 10: 12, 50: 6}[speed] // (2 if args.quick else 1)
        its, rps = play_speed(speed, redraws)
        print(f"{speed:6d} {its:13.0f} {rps:10.1f} {its / fit:7.0%}")
    print("\n(speed 1 is capped at ~10 redraws a second on purpose: a page cannot show more)")


if __name__ == "__main__":
    main()
