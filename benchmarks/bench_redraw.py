"""How long does one redraw of the 2-D view take, and how heavy is a recorded animation?

The live playground rebuilds the 2-D figure after every few training steps, so
the Python side of a redraw must stay well under the time of the steps
themselves. One redraw = ``game_figure_2d`` for one snapshot with a 64 x 64
heatmap of D, 512 fake points with their gradient arrows, G's 20 x 20 lattice,
p_g and the optimal D*. Goal: <= 40 ms (median of 30, one thread).

Also printed: what the same figure costs when plotly validates every number
(the default of ``go.Figure``: what ganlab avoids), and the size of a recorded
60-frame animation (goal: < 1.5 MB, so that a chapter page stays under ~3 MB).

Run: ``python benchmarks/bench_redraw.py``
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import plotly  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import torch  # noqa: E402

from ganlab.data import ring  # noqa: E402
from ganlab.models import MLPDiscriminator, MLPGenerator  # noqa: E402
from ganlab.train import Trainer  # noqa: E402
from ganlab.viz import animate_2d, game_figure_2d  # noqa: E402

REPEATS = 30
GOAL_MS = 40.0
GOAL_BYTES = 1.5e6


def median_ms(fn, repeats: int = REPEATS) -> float:
    fn()  # warm up (imports, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    G, D = MLPGenerator(z_dim=2, out_dim=2), MLPDiscriminator(in_dim=2)
    trainer = Trainer(G, D, ring(), lr_g=1e-3, lr_d=1e-3, batch_size=128, snapshot_every=10,
                      metrics_every=0, n_snapshot=512, grid_size=64, z_grid_size=20, seed=0)
    record = trainer.fit(600, progress=False)  # 61 snapshots
    snap = record.snapshots[-1]
    print(f"plotly {plotly.__version__}, torch threads {torch.get_num_threads()}")
    print(f"snapshot: {len(snap['x_fake'])} fakes, D grid {snap['d_grid'].shape}, "
          f"G lattice {snap['g_grid'].shape[:2]}")

    redraw = median_ms(lambda: game_figure_2d(record, max_arrows=None))
    fig = game_figure_2d(record, max_arrows=None)
    as_dict = fig.to_dict()
    validated = median_ms(lambda: go.Figure(as_dict), repeats=10)
    print(f"redraw (game_figure_2d, all layers, 512 arrows): median {redraw:.1f} ms "
          f"over {REPEATS}; goal <= {GOAL_MS:.0f} ms -> {'OK' if redraw <= GOAL_MS else 'SLOW'} "
          f"({redraw / GOAL_MS:.2f} x goal)")
    print(f"  the same figure through a validating go.Figure: {validated:.1f} ms "
          f"({validated / redraw:.1f} x); JSON {len(fig.to_json()) / 1e3:.0f} KB")

    start = time.perf_counter()
    anim = animate_2d(record, max_frames=60)
    build_s = time.perf_counter() - start
    size = len(anim.to_json())
    print(f"animation: {len(anim.frames)} frames, built in {build_s:.2f} s, "
          f"len(fig.to_json()) = {size / 1e6:.2f} MB ({size / len(anim.frames) / 1e3:.1f} KB per frame); "
          f"goal < {GOAL_BYTES / 1e6:.1f} MB -> {'OK' if size < GOAL_BYTES else 'HEAVY'}")
    for layers, label in ((["fake", "real", "arrows"], "points and arrows only"),
                          (["heatmap", "boundary", "fake", "real"], "D and the fakes")):
        size = len(animate_2d(record, layers=layers).to_json())
        print(f"  {label}: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
