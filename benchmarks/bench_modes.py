"""The 2-D mode-collapse benchmark of VEEGAN / PacGAN / GDPP, reproduced with ganlab's CLI.

Setup (REFERENCE.md section 3, the PacGAN code and VEEGAN's definitions):
ring = 8 Gaussians at angles 2*pi*k/8, radius 1, std 0.01; grid = 25 Gaussians
at {-4, -2, 0, 2, 4}^2, std 0.05. After training, 2500 samples of G; a sample
is high quality (HQ) if it lies within 3 std of its nearest mode centre; a mode
is covered if it is the nearest centre of at least one HQ sample; rKL is the KL
divergence of the HQ samples' mode histogram from the uniform one. Each run is
exactly what a user types (one CPU thread each):

    python -m ganlab train --data ring --recipe recommended --seed S --out RUN
    python -m ganlab evaluate RUN

so the recipe's own defaults (its steps included) are what is measured. The
textbook recipe is trained for the same number of iterations as
``recommended`` (``--steps``), since its default of 2000 would be unfair to it.
Seeds are 0 .. n-1, all reported: none is dropped. A perfect sampler scores
HQ = 1 - exp(-4.5) = 98.9 %, so the energy distance to fresh data samples is
reported beside its real-vs-real floor (HQ above 98.9 % would mean samples
tighter than the data, not better).

    python benchmarks/bench_modes.py                      # 10 seeds, both recipes, ring and grid
    python benchmarks/bench_modes.py --seeds 2 --jobs 2   # a quick look
    python benchmarks/bench_modes.py --report A.json B.json    # print saved runs again, merged

It prints one row per (data, recipe) with means and standard errors over the
seeds, and the published rows beside them; ``--json`` saves every run.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

# Published rows: (source, method) -> {data: (modes, HQ %)}; REFERENCE.md section 3.
PUBLISHED = [
    ("VEEGAN T1", "GAN", {"ring": (1, 99.3), "grid": (3.3, 0.5)}),
    ("VEEGAN T1", "Unrolled GAN", {"ring": (7.6, 35.6), "grid": (23.6, 16)}),
    ("VEEGAN T1", "VEEGAN", {"ring": (8, 52.9), "grid": (24.6, 40)}),
    ("PacGAN T1", "GAN", {"ring": (6.3, 98.2), "grid": (17.3, 94.8)}),
    ("PacGAN T1", "ALI", {"ring": (6.6, 97.6), "grid": (24.1, 95.7)}),
    ("PacGAN T1", "PacGAN3", {"ring": (7.8, 97.7), "grid": (24.6, 94.2)}),
    ("PacGAN T1", "PacGAN4", {"ring": (7.8, 95.9), "grid": (24.8, 93.6)}),
    ("GDPP T1", "WGAN-GP", {"ring": (6.8, 59.6), "grid": (24.2, 28.7)}),
    ("GDPP T1", "GDPP", {"ring": (8.0, 71.7), "grid": (24.8, 68.5)}),
]
N_MODES = {"ring": 8, "grid": 25}


def one_run(data: str, recipe: str, seed: int, steps: int | None, workdir: str) -> dict:
    """Train and evaluate one run through the CLI, on one CPU thread; return its numbers."""
    run = os.path.join(workdir, f"{data}-{recipe}-{seed}")
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    train = [sys.executable, "-m", "ganlab", "train", "--data", data, "--recipe", recipe, "--seed", str(seed),
             "--out", run, "--threads", "1", "--no-progress", "--force"]
    if steps is not None:
        train += ["--steps", str(steps)]
    out = subprocess.run(train, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"data": data, "recipe": recipe, "seed": seed, "error": out.stderr.strip()[-500:]}
    trained = json.loads(out.stdout.strip().splitlines()[-1])
    ev = subprocess.run([sys.executable, "-m", "ganlab", "evaluate", run], env=env, capture_output=True, text=True)
    if ev.returncode != 0:
        return {"data": data, "recipe": recipe, "seed": seed, "error": ev.stderr.strip()[-500:]}
    result = json.loads(ev.stdout)
    return {"data": data, "recipe": recipe, "seed": seed, "steps": trained["steps_done"],
            "seconds": trained["seconds"], "cpu_seconds": trained.get("cpu_seconds"),
            "modes": result["modes"], "hq": result["hq"], "rkl": result["rkl"],
            "distance": result.get("distance"), "floor": result.get("floor")}


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (sample std / sqrt(n))."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for data in ("ring", "grid"):
        for recipe in dict.fromkeys(r["recipe"] for r in runs):
            ok = [r for r in runs if r["data"] == data and r["recipe"] == recipe and "error" not in r]
            failed = [r for r in runs if r["data"] == data and r["recipe"] == recipe and "error" in r]
            if not ok and not failed:
                continue
            row = {"data": data, "recipe": recipe, "n": len(ok), "failed": len(failed)}
            for key in ("modes", "hq", "rkl", "distance", "floor", "seconds", "cpu_seconds"):
                values = [r[key] for r in ok if r.get(key) is not None and math.isfinite(r[key])]
                row[key] = mean_se(values) if values else (float("nan"), float("nan"))
            row["all_modes"] = sum(r["modes"] == N_MODES[data] for r in ok)
            rows.append(row)
    return rows


def _pm(pair, scale=1.0, digits=1) -> str:
    mean, se = pair
    if math.isnan(mean):
        return "-"
    return f"{scale * mean:.{digits}f} ± {scale * se:.{digits}f}" if not math.isnan(se) else f"{scale * mean:.{digits}f}"


def report(runs: list[dict], meta: dict) -> str:
    rows = summarise(runs)
    lines = [f"# 2-D mixtures, {meta.get('seeds')} seeds per row, {meta.get('machine', '')}", ""]
    lines.append("| data | method | modes | HQ % | rKL | energy distance (floor) | CPU s / run (wall) | all modes |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for row in rows:
        lines.append(
            f"| {row['data']} | ganlab `{row['recipe']}` ({row['n']} runs"
            f"{', %d failed' % row['failed'] if row['failed'] else ''}) | {_pm(row['modes'])} | "
            f"{_pm(row['hq'], 100)} | {_pm(row['rkl'], 1, 3)} | {_pm(row['distance'], 1, 4)} "
            f"({_pm(row['floor'], 1, 4)}) | {_pm(row['cpu_seconds'], 1, 0)} ({_pm(row['seconds'], 1, 0)}) | "
            f"{row['all_modes']}/{row['n']} |")
    lines += ["", "Published (means over 10 runs for PacGAN, 5 for VEEGAN; REFERENCE.md section 3):", "",
              "| source | method | ring modes / HQ % | grid modes / HQ % |", "|---|---|---|---|"]
    for source, method, cells in PUBLISHED:
        lines.append(f"| {source} | {method} | {cells['ring'][0]} / {cells['ring'][1]} | "
                     f"{cells['grid'][0]} / {cells['grid'][1]} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (default 10)")
    parser.add_argument("--recipes", nargs="+", default=["textbook", "recommended"])
    parser.add_argument("--data", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--steps", type=int, default=None,
                        help="iterations for every recipe (default: the recommended recipe's steps; "
                             "`recommended` itself always runs with its own default)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one CPU thread each (default 2)")
    parser.add_argument("--json", help="save every run and the summary to this JSON file")
    parser.add_argument("--report", nargs="+", help="print the report of saved JSON files (runs merged) and exit")
    args = parser.parse_args(argv)
    if args.report:
        runs, metas = [], []
        for path in args.report:
            with open(path) as f:
                saved = json.load(f)
            runs += saved["runs"]
            metas.append(saved["meta"])
        print(report(runs, metas[0]))
        for meta in metas:
            print(f"\nmeasured with: {meta['command']} ({meta.get('wall_seconds', '?')} s wall, {meta['machine']})")
        return 0

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from ganlab.recipes import get_recipe

    steps = args.steps or get_recipe("recommended").steps
    jobs = [(d, r, s) for s in range(args.seeds) for d in args.data for r in args.recipes]
    meta = {"seeds": args.seeds, "steps": steps, "jobs": args.jobs, "machine": f"{platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}",
            "command": "python benchmarks/bench_modes.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    start, runs = time.time(), []
    with tempfile.TemporaryDirectory() as workdir, cf.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(one_run, d, r, s, None if r == "recommended" else steps, workdir): (d, r, s)
                   for d, r, s in jobs}
        for future in cf.as_completed(futures):
            run = future.result()
            runs.append(run)
            if args.json:  # after every run, so that an interrupted benchmark keeps what it measured
                _save(args.json, meta, runs)
            shown = run.get("error") or (f"modes {run['modes']}, HQ {100 * run['hq']:.1f} %, "
                                         f"{run['seconds']:.0f} s")
            print(f"[{len(runs)}/{len(jobs)}] {run['data']} {run['recipe']} seed {run['seed']}: {shown}", flush=True)
    meta["wall_seconds"] = round(time.time() - start)
    runs.sort(key=lambda r: (r["data"], r["recipe"], r["seed"]))
    print()
    print(report(runs, meta))
    if args.json:
        _save(args.json, meta, runs)
    return 0


def _save(path: str, meta: dict, runs: list[dict]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"meta": meta, "runs": runs, "summary": summarise(runs)}, f, indent=1)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
