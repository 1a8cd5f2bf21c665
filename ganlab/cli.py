"""The command line: record a run once, then sample from it and evaluate it.

    python -m ganlab train --data ring --recipe textbook --steps 20000 --seed 1 --out runs/ring-textbook
    python -m ganlab sample runs/ring-textbook -n 2500 --out x.npy
    python -m ganlab evaluate runs/ring-textbook
    python -m ganlab recipes
    python -m ganlab student-edition ../student --book book

``train`` options: ``--data NAME`` (a ``ganlab.data`` name such as ring, grid,
gaussian_1d; or the path of a .csv / .npy file of points), ``--data-arg
KEY=VALUE`` (arguments of the distribution, e.g. ``n_modes=6``), ``--recipe``
(see ``ganlab recipes``), ``--set FIELD=VALUE`` (any TrainConfig field, e.g.
``--set lr_d=4e-4 --set penalty=r1``; values are read as JSON, else as text),
``--device``, ``--threads N`` (CPU threads, default 1: the course's small nets run
as fast on one thread, and two threads on a busy 2-core machine run several times
slower), ``--steps N`` (default: the recipe's ``steps``), ``--no-progress``,
``--resume`` (continue RUN for --steps more steps) and ``--force`` (overwrite RUN).

A RUN is a directory:

    RUN/run.json        what was run: format, ganlab and torch versions, recipe,
                        data (name and arguments, or file), seed, the G and D
                        specs (ganlab.models class and arguments), the
                        TrainConfig, steps done, status (finished, diverged,
                        interrupted) and the command line
    RUN/record.npz      the RunRecord (ganlab.train.RunRecord.load reads it)
    RUN/checkpoint.pt   the whole training state (Trainer.load_checkpoint;
                        saved without the record, which is in record.npz)

``sample`` loads G (its EMA weights when the run kept them, unless --no-ema)
and writes n samples to a .npy or .csv file, or as CSV to stdout (``--out -``).
``evaluate`` prints one JSON object: modes covered / HQ% / reverse KL for
mixtures with known centres (ring, grid, ...), the energy distance to p_data
with its real-vs-real floor, and the JS divergence for 1-D data with a density.

``student-edition`` writes every notebook under --book (default ``book``) to
OUT_DIR with its solutions taken out (``ganlab.student``: code between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes ``# YOUR CODE HERE`` /
``raise NotImplementedError()``, ``{solution}`` blocks are removed). OUT_DIR must
be outside the book folder; an existing, non-empty OUT_DIR needs ``--force``
(notebooks of the same name are replaced, other files such as .git are kept).
``--keep-code-solutions`` removes only the solution prose and keeps the marked
code: a source for nbgrader, which replaces the marked code itself.

Exit status: 0 on success, 2 for a usage mistake (message, no traceback; set
GANLAB_DEBUG=1 for the traceback), 1 if training diverged (the last good
state is saved), 130 if interrupted (the last whole step is saved).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time

RUN_FORMAT = "ganlab.run/1"
RUN_JSON, RECORD, CHECKPOINT = "run.json", "record.npz", "checkpoint.pt"


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


# --------------------------------------------------------------------------- #
# Parsing
# --------------------------------------------------------------------------- #
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage + message and exits 2
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def _int_at_least(minimum: int):
    """An argparse type: an integer >= minimum, with a message naming what was given."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_seed = _int_at_least(0)


def _key_value(text: str):
    """KEY=VALUE with VALUE read as JSON (numbers, true/false, null, lists), else text."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = {"none": None, "true": True, "false": False}.get(raw.lower(), raw)
    if isinstance(value, list):
        value = tuple(value)
    return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    from .recipes import RECIPES

    parser = _Parser(prog="python -m ganlab", description="Record, sample and evaluate GAN runs (ganlab).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    train = sub.add_parser("train", help="train G and D and write a RUN directory")
    train.add_argument("--data", help="a ganlab.data name (ring, grid, ...) or a .csv/.npy file of points")
    train.add_argument("--data-arg", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
                       help="an argument of the distribution (repeatable), e.g. n_modes=6")
    train.add_argument("--recipe", choices=sorted(RECIPES), help="training recipe (default: textbook)")
    train.add_argument("--steps", type=_positive_int,
                       help="iterations to train (default: the recipe's steps, see `recipes`; 2000 for textbook)")
    train.add_argument("--seed", type=_seed, help="seed of the nets and of every random stream (default 0)")
    train.add_argument("--set", action="append", type=_key_value, default=[], metavar="FIELD=VALUE",
                       help="override a TrainConfig field (repeatable), e.g. lr_d=4e-4")
    train.add_argument("--device", help="cpu, cuda, mps or auto (default: the recipe's, cpu)")
    train.add_argument("--out", required=True, metavar="RUN", help="the run directory to write")
    train.add_argument("--resume", action="store_true", help="continue RUN from its checkpoint")
    train.add_argument("--force", action="store_true", help="overwrite RUN if it exists")
    train.add_argument("--threads", type=_positive_int, default=1,
                       help="CPU threads for torch (default 1; small nets gain nothing from more)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    sample = sub.add_parser("sample", help="draw samples from a RUN's generator")
    sample.add_argument("run", metavar="RUN")
    sample.add_argument("-n", type=_positive_int, default=2500, help="number of samples (default 2500)")
    sample.add_argument("--seed", type=_seed, default=0, help="seed of the noise (default 0)")
    sample.add_argument("--out", default="-", help="a .npy or .csv file, or - for CSV on stdout (default)")
    sample.add_argument("--no-ema", action="store_true", help="use G's raw weights even if an EMA was kept")

    evaluate = sub.add_parser("evaluate", help="print a RUN's metrics as JSON")
    evaluate.add_argument("run", metavar="RUN")
    evaluate.add_argument("-n", type=_positive_int, default=2500, help="number of samples (default 2500)")
    evaluate.add_argument("--seed", type=_seed, default=0, help="seed of the noise and real samples (default 0)")
    evaluate.add_argument("--no-ema", action="store_true", help="use G's raw weights even if an EMA was kept")

    sub.add_parser("recipes", help="list the training recipes")

    student = sub.add_parser("student-edition", help="write the notebooks without their solutions")
    student.add_argument("out", metavar="OUT_DIR", help="the folder to write the student notebooks to (outside --book)")
    student.add_argument("--book", default="book", help="the folder of the chapter notebooks (default: book)")
    student.add_argument("--force", action="store_true",
                         help="write into OUT_DIR even if it is not empty (same-name notebooks are replaced)")
    student.add_argument("--keep-code-solutions", action="store_true",
                         help="remove only the solution prose; keep the marked code solutions (a source for nbgrader)")
    return parser


# --------------------------------------------------------------------------- #
# RUN directories
# --------------------------------------------------------------------------- #
def _make_data(spec: dict):
    try:
        return _build_data(spec)
    except (ValueError, TypeError) as err:
        raise UsageError(f"--data: {err}") from None


def _build_data(spec: dict):
    from . import data as data_module

    if "file" in spec:
        path = spec["file"]
        if not os.path.isfile(path):
            raise UsageError(f"data file not found: {path!r}")
        if path.endswith(".npy"):
            import numpy as np

            return data_module.Empirical(np.load(path, allow_pickle=False), **spec.get("kwargs", {}))
        return data_module.Empirical(path, **spec.get("kwargs", {}))
    return data_module.get_distribution(spec["name"], **spec.get("kwargs", {}))


def _data_spec(name: str, kwargs: dict) -> dict:
    if os.path.isfile(name) or name.endswith((".csv", ".npy", ".txt")):
        return {"file": os.path.abspath(name), "kwargs": kwargs}
    return {"name": name, "kwargs": kwargs}


def _read_run(run: str) -> dict:
    path = os.path.join(run, RUN_JSON)
    if not os.path.isdir(run):
        raise UsageError(f"RUN {run!r} is not a directory (make one with: python -m ganlab train ... --out {run})")
    if not os.path.isfile(path):
        raise UsageError(f"{path!r} not found: {run!r} is not a ganlab run directory")
    with open(path) as f:
        info = json.load(f)
    if info.get("format") != RUN_FORMAT:
        raise UsageError(f"{path!r} has format {info.get('format')!r}; expected {RUN_FORMAT!r}")
    if not os.path.isfile(os.path.join(run, CHECKPOINT)):
        raise UsageError(f"{os.path.join(run, CHECKPOINT)!r} not found")
    return info


def _write_json(path: str, value: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(_finite_or_null(value), f, indent=2, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


def _save_run(run: str, trainer, info: dict, status: str) -> None:
    trainer.save_checkpoint(os.path.join(run, CHECKPOINT), record=False)
    trainer.record.save(os.path.join(run, RECORD))
    info.update(status=status, steps_done=trainer.steps_done, config=trainer.config.to_dict())
    _write_json(os.path.join(run, RUN_JSON), info)


def _load_generator(run: str, info: dict, ema: bool):
    """G with the saved weights (EMA ones if kept and wanted), and the config."""
    import torch

    from .recipes import build_models
    from .train import TrainConfig

    state = torch.load(os.path.join(run, CHECKPOINT), map_location="cpu", weights_only=True)
    G, _ = build_models(info["generator"], info["discriminator"], seed=0)
    weights = state["G_ema"] if (ema and state.get("G_ema") is not None) else state["G"]
    G.load_state_dict(weights)
    return G.eval(), TrainConfig.from_dict(state["config"])


def _generate(G, n: int, noise: str, seed: int):
    import torch

    from .models import sample_noise

    with torch.no_grad():
        return G(sample_noise(n, G.z_dim, noise, seed=seed)).float().numpy()


# --------------------------------------------------------------------------- #
# Commands
# --------------------------------------------------------------------------- #
def cmd_train(args) -> int:
    import torch

    from .recipes import build_models, get_recipe
    from .train import RunRecord, Trainer, TrainingDiverged

    torch.set_num_threads(args.threads)
    run = args.out
    if args.resume:
        given = [flag for flag, value in (("--data", args.data), ("--data-arg", args.data_arg),
                                          ("--recipe", args.recipe), ("--seed", args.seed), ("--set", args.set))
                 if value]
        if given:
            raise UsageError(f"--resume continues RUN with its saved settings; drop {', '.join(given)}")
        if args.force:
            raise UsageError("--resume and --force contradict each other (continue RUN, or start it again)")
        info = _read_run(run)
        data = _make_data(info["data"])
        G, D = build_models(info["generator"], info["discriminator"], seed=0)
        record = RunRecord.load(os.path.join(run, RECORD)) if os.path.isfile(os.path.join(run, RECORD)) else None
        trainer = Trainer.load_checkpoint(os.path.join(run, CHECKPOINT), G, D, data, device=args.device,
                                          record=record)
        info["command"] = info.get("command", []) + [["python", "-m", "ganlab", *args.argv]]
        steps = args.steps or _recipe_steps(info.get("recipe"))
    else:
        if args.data is None:
            raise UsageError("train needs --data NAME (e.g. --data ring) or a .csv/.npy file of points")
        if os.path.exists(run) and os.listdir(run) and not args.force:
            raise UsageError(f"RUN {run!r} exists and is not empty; use --resume to continue it or --force to "
                             "overwrite it")
        recipe = get_recipe(args.recipe or "textbook")
        steps = args.steps or recipe.steps
        seed = 0 if args.seed is None else args.seed
        data_spec = _data_spec(args.data, dict(args.data_arg))
        data = _make_data(data_spec)
        overrides = dict(args.set)
        if args.device is not None:
            overrides["device"] = args.device
        config = recipe.config.replace(seed=seed, **overrides)
        g_spec, d_spec = recipe.generator_spec(data.dim), recipe.discriminator_spec(data.dim)
        G, D = build_models(g_spec, d_spec, seed=seed)
        trainer = Trainer(G, D, data, config)
        if os.path.exists(run) and args.force:
            shutil.rmtree(run)
        os.makedirs(run, exist_ok=True)
        info = {
            "format": RUN_FORMAT,
            "ganlab_version": _version(),
            "torch_version": torch.__version__,
            "recipe": recipe.name,
            "data": data_spec,
            "seed": seed,
            "generator": g_spec,
            "discriminator": d_spec,
            "command": [["python", "-m", "ganlab", *args.argv]],
        }

    start, cpu_start, status = time.perf_counter(), time.process_time(), "finished"
    try:
        trainer.fit(steps, progress=not args.no_progress)
    except TrainingDiverged as err:
        _save_run(run, trainer, info, "diverged")
        print(f"ganlab: {err}\nsaved the last good state (step {trainer.steps_done}) in {run}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _save_run(run, trainer, info, "interrupted")
        print(f"ganlab: interrupted; saved step {trainer.steps_done} in {run}", file=sys.stderr)
        return 130
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    _save_run(run, trainer, info, status)
    # cpu_seconds: the CPU time of training; on one thread it is the wall time the run takes on an idle core.
    summary = {"run": run, "steps_done": trainer.steps_done, "seconds": round(seconds, 2),
               "cpu_seconds": round(cpu_seconds, 2),
               "steps_per_second": round(steps / max(seconds, 1e-9), 1)}
    if trainer.record.metrics:
        summary["last_metrics"] = trainer.record.metrics[-1]
    print(json.dumps(_finite_or_null(summary)))
    return 0


def _recipe_steps(name) -> int:
    """The default iterations of the recipe a run was made with (2000 if unknown)."""
    from .recipes import RECIPES

    return RECIPES[name].steps if name in RECIPES else 2000


def cmd_sample(args) -> int:
    import numpy as np

    info = _read_run(args.run)
    G, config = _load_generator(args.run, info, ema=not args.no_ema)
    x = _generate(G, args.n, config.noise, args.seed)
    out = args.out
    if out == "-":
        np.savetxt(sys.stdout, x, delimiter=",", fmt="%.7g")
    elif out.endswith(".npy"):
        np.save(out, x)
    elif out.endswith((".csv", ".txt")):
        np.savetxt(out, x, delimiter=",", fmt="%.7g")
    else:
        raise UsageError(f"--out must end in .npy or .csv (or be - for stdout), got {out!r}")
    if out != "-":
        print(f"wrote {x.shape[0]} samples of dimension {x.shape[1]} to {out}", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    from . import metrics

    info = _read_run(args.run)
    data = _make_data(info["data"])
    G, config = _load_generator(args.run, info, ema=not args.no_ema)
    x = _generate(G, args.n, config.noise, args.seed)
    result = {"run": args.run, "steps_done": info.get("steps_done"), "status": info.get("status"),
              "data": info["data"].get("name", info["data"].get("file")), "n": args.n, "seed": args.seed}
    centres, std = getattr(data, "centres", None), getattr(data, "std", None)
    if centres is not None and std is not None:
        stats = metrics.mode_stats(x, centres, std)
        result.update(modes=stats["modes"], n_modes=len(centres), hq=stats["hq"],
                      hq_percent=100.0 * stats["hq"], rkl=stats["rkl"])
    else:
        result.update(modes=None, n_modes=None, hq=None, hq_percent=None, rkl=None)
    result.update(metrics.sample_distance_with_floor(x, data, seed=args.seed))
    if data.dim == 1 and getattr(data, "has_density", False):
        result["js"] = metrics.js_1d(x, data)
    print(json.dumps(_finite_or_null(result)))
    return 0


def cmd_recipes(args) -> int:
    from .recipes import RECIPES

    for recipe in RECIPES.values():
        print(recipe.describe())
        print()
    return 0


def cmd_student_edition(args) -> int:
    from .student import write_student_edition

    if not os.path.isdir(args.book):
        raise UsageError(f"--book {args.book!r} is not a directory (run from the course's root folder, or pass "
                         "--book PATH, the folder of the chapter notebooks)")
    reports = write_student_edition(args.book, args.out, force=args.force,
                                    clear_code=not args.keep_code_solutions)
    for report in reports:
        print(report.summary())
        for warning in report.warnings:
            print(f"ganlab: warning: {warning}", file=sys.stderr)
    print(f"wrote {len(reports)} student notebook{'s' * (len(reports) != 1)} to {args.out}")
    return 0


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("ganlab")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


def _finite_or_null(value):
    """Strict JSON: NaN and infinities become null (e.g. rKL when no sample is HQ)."""
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate, "recipes": cmd_recipes,
            "student-edition": cmd_student_edition}


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 diverged, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not all(isinstance(a, str) for a in argv):
        raise TypeError(f"argv must be a list of strings, got {argv!r}")
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # --help / --version
            return int(exit_.code or 0)
        args.argv = argv
        return COMMANDS[args.command](args)
    except (UsageError, ValueError, TypeError, FileNotFoundError, NotADirectoryError, PermissionError) as err:
        if os.environ.get("GANLAB_DEBUG"):
            raise
        print(f"ganlab: error: {err}", file=sys.stderr)
        return 2
