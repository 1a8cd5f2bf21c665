"""ganlab.failure and ganlab.viz.failure: the measurements of the chapter on failure modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.data import ring
from ganlab.failure import (check_covered_modes, count_hops, curve_signature, dominant_modes,
                            mode_shares)
from ganlab.metrics import mode_stats
from ganlab.train import RunRecord


def _record(fakes_per_snapshot, history=None, metrics=(), objective="nonsaturating"):
    """A hand-made record on the 8-mode ring (no training needed)."""
    data = ring()
    record = RunRecord(config={"objective": objective}, data_name="ring",
                       data_info={"dim": 2, "centres": data.centres.tolist(), "std": data.std})
    for t, x in enumerate(fakes_per_snapshot):
        record.snapshots.append({"step": 10 * t, "x_fake": np.asarray(x, dtype=np.float32)})
    for key, values in (history or {}).items():
        record.history[key] = list(values)
    record.metrics = list(metrics)
    return record


def _at_mode(k, n=20, offset=0.0):
    c = ring().centres[k]
    return np.tile(c + offset, (n, 1))


# --- mode_shares, dominant_modes, count_hops --------------------------------
def test_mode_shares_of_a_hopping_clump():
    record = _record([_at_mode(0), _at_mode(0), _at_mode(3), _at_mode(5)])
    steps, shares = mode_shares(record)
    assert steps.tolist() == [0, 10, 20, 30]
    assert shares.shape == (4, 8)
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert shares[2, 3] == 1.0 and shares[3, 5] == 1.0
    dominant = dominant_modes(shares)
    assert dominant.tolist() == [0, 0, 3, 5]
    assert count_hops(dominant) == 2


def test_hq_only_counts_only_fakes_near_their_centre():
    near, far = _at_mode(1, 10, offset=0.02), _at_mode(1, 10, offset=0.05)   # 2.8 and 7 std away
    record = _record([np.concatenate([near, far])])
    _, shares = mode_shares(record, hq_only=True)
    assert shares[0, 1] == pytest.approx(0.5)
    # the same count as ganlab.metrics.mode_stats
    assert shares[0].sum() == pytest.approx(mode_stats(np.concatenate([near, far]), ring())["hq"])


def test_spread_fakes_have_no_dominant_mode_and_hops_skip_them():
    spread = np.concatenate([_at_mode(k, 5) for k in range(8)])
    record = _record([_at_mode(2), spread, _at_mode(2), _at_mode(6)])
    dominant = dominant_modes(mode_shares(record)[1])
    assert dominant.tolist() == [2, -1, 2, 6]
    assert count_hops(dominant) == 1


def test_mode_shares_errors_name_the_problem():
    with pytest.raises(TypeError, match="RunRecord"):
        mode_shares("not a record")
    with pytest.raises(ValueError, match="snapshots"):
        mode_shares(_record([]))
    record = _record([_at_mode(0)])
    record.data_info = {"dim": 2}
    with pytest.raises(ValueError, match="centres"):
        mode_shares(record)
    with pytest.raises(ValueError, match="threshold"):
        mode_shares(_record([_at_mode(0)]), threshold=0)
    with pytest.raises(ValueError, match="min_share"):
        dominant_modes(np.ones((2, 3)) / 3, min_share=2)
    with pytest.raises(ValueError, match="shares"):
        dominant_modes(np.ones(3))


# --- curve_signature ---------------------------------------------------------
def _history(n, loss_d, loss_g, d_real, d_fake, grad_g):
    full = lambda v: np.broadcast_to(np.asarray(v, dtype=float), (n,)).tolist()
    return {"step": list(range(1, n + 1)), "loss_d": full(loss_d), "loss_g": full(loss_g),
            "d_real": full(d_real), "d_fake": full(d_fake), "grad_norm_d": full(1.0),
            "grad_norm_g": full(grad_g)}


def test_signature_at_the_equilibrium_is_zero():
    record = _record([], _history(400, math.log(4), math.log(2), 0.5, 0.5, 0.3))
    sig = curve_signature(record)
    assert abs(sig["loss_d_gap"]) < 1e-6 and abs(sig["loss_g_gap"]) < 1e-6
    assert sig["verdict_gap"] == 0 and sig["grad_norm_g"] == pytest.approx(0.3)
    assert sig["loss_swing"] == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(sig["modes"])


def test_signature_of_a_winning_d_and_of_a_swinging_loss():
    n = 1000
    swinging = math.log(4) + 0.3 * np.sign(np.sin(np.arange(n) * 2 * math.pi / 200))
    record = _record([], _history(n, swinging, 2.0, 0.9, 0.1, 1e-3),
                     metrics=[{"step": s, "modes": m, "hq": 0.1} for s, m in ((100, 8), (600, 1), (900, 3))])
    sig = curve_signature(record, window=(501, 1000))
    assert sig["verdict_gap"] == pytest.approx(0.8)
    assert sig["loss_swing"] > 0.25                # +-0.3 square wave, blocks of 50 = half periods
    assert sig["modes"] == 2 and sig["modes_min"] == 1 and sig["modes_max"] == 3
    # the minimax objective's G loss at D = 1/2 is log(1/2) = -log 2
    minimax = _record([], _history(10, 1.0, -math.log(2), 0.5, 0.5, 1.0), objective="minimax")
    assert abs(curve_signature(minimax)["loss_g_gap"]) < 1e-6


def test_signature_skips_rows_where_a_player_did_not_move():
    h = _history(300, 1.0, 1.0, 0.6, 0.4, 0.5)
    for i in range(100):                          # D alone for the first 100 rows (Trainer.d_step)
        h["loss_g"][i] = h["grad_norm_g"][i] = math.nan
    sig = curve_signature(_record([], h), window=(1, 300))
    assert sig["grad_norm_g"] == pytest.approx(0.5)
    assert math.isnan(curve_signature(_record([], h), window=(101, 140))["loss_swing"])  # < 2 blocks


def test_signature_errors():
    with pytest.raises(ValueError, match="no iterations"):
        curve_signature(_record([]))
    record = _record([], _history(10, 1.0, 1.0, 0.5, 0.5, 1.0))
    with pytest.raises(ValueError, match="window"):
        curve_signature(record, window=(50, 60))
    with pytest.raises(TypeError, match="window"):
        curve_signature(record, window=5)


# --- the self-check ----------------------------------------------------------
def _right(x_fake, centres, std):
    dist = np.linalg.norm(x_fake[:, None, :] - centres[None, :, :], axis=-1)
    return len(np.unique(dist.argmin(axis=1)[dist.min(axis=1) <= 3 * std]))


def test_check_accepts_the_reference_and_numpy_or_torch_scalars(capsys):
    assert check_covered_modes(_right)
    assert check_covered_modes(lambda x, c, s: np.int64(_right(x, c, s)))
    assert check_covered_modes(lambda x, c, s: torch.tensor(_right(x, c, s)))
    assert "✔" in capsys.readouterr().out


def _dist(x, c):
    return np.linalg.norm(x[:, None, :] - c[None, :, :], axis=-1)


WRONG = {
    "no threshold": (lambda x, c, s: len(np.unique(_dist(x, c).argmin(1))), "Only high-quality"),
    "3, not 3 std": (lambda x, c, s: len(np.unique(_dist(x, c).argmin(1)[_dist(x, c).min(1) <= 3])),
                     "not 3"),
    "1 std": (lambda x, c, s: len(np.unique(_dist(x, c).argmin(1)[_dist(x, c).min(1) <= s])), "1 std"),
    "squared": (lambda x, c, s: len(np.unique(_dist(x, c).argmin(1)[_dist(x, c).min(1) ** 2 <= 3 * s])),
                "SQUARED"),
    "samples": (lambda x, c, s: int((_dist(x, c).min(1) <= 3 * s).sum()), "number of high-quality samples"),
    "fraction": (lambda x, c, s: float((_dist(x, c).min(1) <= 3 * s).mean()), "high-quality fraction"),
    "a list": (lambda x, c, s: [0, 1], "return one number"),
    "crashes": (lambda x, c, s: x.nope, "raised AttributeError"),
    "off by three": (lambda x, c, s: _right(x, c, s) + 3, "Hint: for each fake"),
    "wrong only when collapsed": (lambda x, c, s: max(_right(x, c, s), 3), "collapsed generator"),
    "wrong only without HQ": (lambda x, c, s: max(_right(x, c, s), 1), "far from every mode"),
}


@pytest.mark.parametrize("name", WRONG)
def test_check_names_each_typical_mistake(name, capsys):
    answer, hint = WRONG[name]
    assert check_covered_modes(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("✘") and hint.split()[0] in out.replace("\n  ", " "), out


def test_check_rejects_a_non_function():
    with pytest.raises(TypeError, match="covered_modes must be a function"):
        check_covered_modes(3)


# --- the figures -------------------------------------------------------------
def test_mode_timeline_and_sweep_curves_draw():
    from ganlab.loop import sweep
    from ganlab.viz.failure import mode_timeline, sweep_curves

    fig = mode_timeline(_record([_at_mode(0), _at_mode(4)]))
    heat = fig.data[0]
    assert len(heat.y) == 8 and list(heat.x) == [0, 10]
    assert heat.z[4][1] == 1.0
    with pytest.raises(ValueError, match="mode_labels"):
        mode_timeline(_record([_at_mode(0)]), mode_labels=["a"])
    result = sweep(ring(), "textbook", rows=("lr_d", [1e-3]), cols=("d_steps", [1, 2]), steps=20,
                   metrics_every=10, last=1)
    fig = sweep_curves(result, "hq")
    assert len(fig.data) == 2 and list(fig.data[0].x) == [0, 10, 20]
    with pytest.raises(ValueError, match="key"):
        sweep_curves(result, "loss")
    with pytest.raises(TypeError, match="SweepResult"):
        sweep_curves("no")
