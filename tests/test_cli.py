"""Tests of the command line (ganlab.cli): end to end on short runs, and its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ganlab.cli import main
from ganlab.train import RunRecord

FAST = ["--set", "batch_size=64", "--set", "snapshot_every=50", "--set", "metrics_every=100", "--no-progress"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One short textbook run on the ring, shared by the tests that read it."""
    run = str(tmp_path_factory.mktemp("runs") / "ring")
    assert main(["train", "--data", "ring", "--recipe", "textbook", "--steps", "200", "--seed", "3",
                 "--out", run, *FAST]) == 0
    return run


def test_train_writes_the_run_layout(run_dir, capsys):
    assert sorted(os.listdir(run_dir)) == ["checkpoint.pt", "record.npz", "run.json"]
    with open(os.path.join(run_dir, "run.json")) as f:
        info = json.load(f)
    assert info["format"] == "ganlab.run/1" and info["recipe"] == "textbook" and info["seed"] == 3
    assert info["data"] == {"name": "ring", "kwargs": {}} and info["status"] == "finished"
    assert info["steps_done"] == 200 and info["config"]["batch_size"] == 64
    assert info["generator"]["class"] == "MLPGenerator" and info["generator"]["out_dim"] == 2
    record = RunRecord.load(os.path.join(run_dir, "record.npz"))
    assert len(record) == 200 and record.snapshot_steps == [0, 50, 100, 150, 200]
    state = torch.load(os.path.join(run_dir, "checkpoint.pt"), weights_only=True)
    assert state["steps_done"] == 200 and state["record"] is None


def test_sample_to_npy_csv_and_stdout(run_dir, tmp_path, capsys):
    out = str(tmp_path / "x.npy")
    assert main(["sample", run_dir, "-n", "2500", "--out", out]) == 0
    x = np.load(out)
    assert x.shape == (2500, 2) and x.dtype == np.float32 and np.isfinite(x).all()
    assert main(["sample", run_dir, "-n", "2500", "--out", str(tmp_path / "x.csv")]) == 0
    assert np.allclose(np.loadtxt(tmp_path / "x.csv", delimiter=","), x, atol=1e-5)
    capsys.readouterr()
    assert main(["sample", run_dir, "-n", "4", "--seed", "1"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 4 and all(len(r.split(",")) == 2 for r in rows)


def test_evaluate_prints_json(run_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", run_dir]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_modes"] == 8 and 0 <= result["modes"] <= 8
    assert 0.0 <= result["hq"] <= 1.0 and result["hq_percent"] == pytest.approx(100 * result["hq"])
    assert result["rkl"] is None or result["rkl"] >= 0.0
    assert result["distance"] > result["floor"] > 0.0
    assert result["steps_done"] == 200


def test_resume_continues_the_run(run_dir, tmp_path, capsys):
    # A 200-step run resumed for 100 steps equals a 300-step run, bitwise.
    straight = str(tmp_path / "straight")
    assert main(["train", "--data", "ring", "--steps", "300", "--seed", "3", "--out", straight, *FAST]) == 0
    resumed = str(tmp_path / "resumed")
    assert main(["train", "--data", "ring", "--steps", "200", "--seed", "3", "--out", resumed, *FAST]) == 0
    assert main(["train", "--resume", "--out", resumed, "--steps", "100", "--no-progress"]) == 0
    a = torch.load(os.path.join(straight, "checkpoint.pt"), weights_only=True)
    b = torch.load(os.path.join(resumed, "checkpoint.pt"), weights_only=True)
    assert all(torch.equal(a["G"][k], b["G"][k]) for k in a["G"])
    assert all(torch.equal(a["D"][k], b["D"][k]) for k in a["D"])
    ra = RunRecord.load(os.path.join(straight, "record.npz"))
    rb = RunRecord.load(os.path.join(resumed, "record.npz"))
    assert ra.history == rb.history and ra.snapshot_steps == rb.snapshot_steps


def test_one_dimensional_run(tmp_path, capsys):
    run = str(tmp_path / "affine")
    assert main(["train", "--data", "gaussian_1d", "--data-arg", "mean=1.5", "--recipe", "affine1d",
                 "--steps", "50", "--out", run, "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["evaluate", run]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["modes"] == 1 and 0.0 <= result["js"] <= np.log(2)


def test_points_from_a_csv_file(tmp_path, capsys):
    points = np.random.default_rng(0).normal(size=(300, 2))
    np.savetxt(tmp_path / "points.csv", points, delimiter=",")
    run = str(tmp_path / "mine")
    assert main(["train", "--data", str(tmp_path / "points.csv"), "--steps", "20", "--out", run, *FAST]) == 0
    capsys.readouterr()
    assert main(["evaluate", run]) == 0
    assert json.loads(capsys.readouterr().out)["modes"] is None


BAD = [
    (["train", "--data", "ring"], "required: --out"),
    (["train", "--out", "{tmp}/a"], "needs --data"),
    (["train", "--data", "rung", "--out", "{tmp}/a"], "--data: name must be one of"),
    (["train", "--data", "ring", "--data-arg", "n_modes=0", "--out", "{tmp}/a"], "n_modes"),
    (["train", "--data", "ring", "--recipe", "fancy", "--out", "{tmp}/a"], "--recipe"),
    (["train", "--data", "ring", "--steps", "0", "--out", "{tmp}/a"], "--steps"),
    (["train", "--data", "ring", "--steps", "ten", "--out", "{tmp}/a"], "--steps"),
    (["train", "--data", "ring", "--seed", "-1", "--out", "{tmp}/a"], "--seed"),
    (["train", "--data", "ring", "--set", "lr_d=-1", "--out", "{tmp}/a"], "lr_d"),
    (["train", "--data", "ring", "--set", "lr_dd=1", "--out", "{tmp}/a"], "lr_dd"),
    (["train", "--data", "ring", "--set", "nonsense", "--out", "{tmp}/a"], "KEY=VALUE"),
    (["train", "--data", "ring", "--device", "tpu", "--out", "{tmp}/a"], "device"),
    (["train", "--data", "{tmp}/missing.csv", "--out", "{tmp}/a"], "not found"),
    (["train", "--resume", "--out", "{tmp}/none"], "not a directory"),
    (["train", "--resume", "--data", "ring", "--out", "{tmp}/none"], "drop --data"),
    (["sample", "{tmp}/none"], "not a directory"),
    (["sample", "{tmp}", "-n", "5"], "not a ganlab run directory"),
    (["evaluate", "{tmp}/none"], "not a directory"),
    (["fly"], "invalid choice"),
    ([], "required"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_usage_errors_exit_2_with_a_message(argv, message, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_existing_run_is_not_overwritten(run_dir, capsys):
    assert main(["train", "--data", "ring", "--steps", "5", "--out", run_dir]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["sample", run_dir, "-n", "5", "--out", "x.bin"]) == 2


def test_divergence_exits_1_and_keeps_the_last_good_state(tmp_path, capsys):
    run = str(tmp_path / "boom")
    argv = ["train", "--data", "ring", "--steps", "100", "--out", run, "--set", "opt_d=sgd", "--set", "opt_g=sgd",
            "--set", "lr_d=1e30", "--set", "lr_g=1e30", *FAST]
    assert main(argv) == 1
    assert "training diverged at step" in capsys.readouterr().err
    with open(os.path.join(run, "run.json")) as f:
        info = json.load(f)
    assert info["status"] == "diverged" and info["steps_done"] < 100
    state = torch.load(os.path.join(run, "checkpoint.pt"), weights_only=True)
    assert all(torch.isfinite(v).all() for v in state["G"].values())


def test_python_dash_m_help():
    result = subprocess.run([sys.executable, "-m", "ganlab", "--help"], capture_output=True, text=True,
                            timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0
    assert "train" in result.stdout and "sample" in result.stdout and "evaluate" in result.stdout


def test_train_sets_the_thread_count(tmp_path):
    import torch

    from ganlab.cli import main

    before = torch.get_num_threads()
    try:
        assert main(["train", "--data", "ring", "--recipe", "textbook", "--steps", "5", "--threads", "1",
                     "--out", str(tmp_path / "run"), "--no-progress"]) == 0
        assert torch.get_num_threads() == 1
        assert main(["train", "--data", "ring", "--steps", "5", "--threads", "0",
                     "--out", str(tmp_path / "run2"), "--no-progress"]) == 2
    finally:
        torch.set_num_threads(before)
