"""Scores of a run: anytime curve, normalization against fixed references, exact anytime area."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from hpobench.harness import run_study
from hpobench.leaderboard import (
    SCORE_CAP,
    LeaderboardError,
    RunRecord,
    TaskReference,
    anytime_auc,
    anytime_scores,
    final_score,
    normalized_scores,
    run_record,
)
from hpobench.leaderboard._references import compute_optimum

REF = TaskReference(
    table_sha256="x", reported_metric="loss", direction="minimize",
    optimum=0.0, random_median=1.0, random_se=0.0, n_random=1,
)  # fmt: skip


def _rec(
    progress: tuple[float, ...], scores: tuple[float, ...], final: float = math.nan
) -> RunRecord:
    return RunRecord(
        optimizer="o", benchmark_id="t", repetition=0, status="completed", n_evaluations=3,
        final_test_score=final, progress=progress, test_scores=scores, digest="",
    )  # fmt: skip


def test_record_follows_the_trajectory_incumbents(lb: SimpleNamespace) -> None:
    from baselines.random_search import make_optimizer

    traj = run_study("fcnet/protein-v1", make_optimizer, lb.sf, 0)
    rec = run_record(traj)
    ev = traj.events
    # at each evaluation's budget fraction the curve equals the recorded incumbent's test score
    n = len(ev)
    prog = np.minimum(
        1,
        np.maximum(
            ev["time"] / traj.meta.time_budget, np.arange(1, n + 1) / traj.meta.max_evaluations
        ),
    )
    got = anytime_scores(rec, prog.to_numpy())
    np.testing.assert_array_equal(got, ev["incumbent_test_score"].to_numpy())
    assert rec.final_test_score == traj.meta.incumbent_test_score
    assert rec.digest == traj.digest()
    assert rec.progress[-1] <= 1.0


def test_normalized_is_zero_at_optimum_one_at_random_and_capped() -> None:
    r = TaskReference(table_sha256="x", reported_metric="acc", direction="maximize",
                      optimum=1.0, random_median=0.5, random_se=0.0, n_random=3)  # fmt: skip
    rec = _rec((0.25, 0.5, 0.75), (-10.0, 0.5, 1.0), final=1.0)
    got = normalized_scores(rec, r, [0.0, 0.3, 0.6, 1.0]).tolist()
    assert got == [SCORE_CAP, SCORE_CAP, 1.0, 0.0]  # none yet, capped (22 -> 2), random, optimum
    assert final_score(rec, r) == 0.0
    assert final_score(_rec((), ()), r) == SCORE_CAP


def test_saturated_task_scores_zero_or_one() -> None:
    r = TaskReference(table_sha256="x", reported_metric="acc", direction="maximize",
                      optimum=0.9, random_median=0.9, random_se=0.0, n_random=3)  # fmt: skip
    assert r.saturated
    assert (r.normalize(0.9), r.normalize(0.8)) == (0.0, 1.0)


def test_auc_is_exact_area_under_the_step_curve() -> None:
    rec = _rec((0.1, 0.37, 0.9), (1.5, 0.8, 0.2))
    fine = np.linspace(0, 1, 200_001)
    numeric = np.trapezoid(normalized_scores(rec, REF, fine), fine)
    assert anytime_auc(rec, REF) == pytest.approx(numeric, abs=1e-4)
    assert anytime_auc(_rec((), ()), REF) == SCORE_CAP


def test_optimum_is_the_best_test_score_of_any_config() -> None:
    import hpobench
    from hpobench.harness import score_on_test_seeds

    bench = hpobench.make("hpobench-nn/car-v1")
    opt, metric, direction = compute_optimum("hpobench-nn/car-v1")
    rows = np.random.default_rng(0).integers(0, bench.table.n_configs, 300)
    sampled = [score_on_test_seeds(bench, bench.table.config(int(r))) for r in rows]
    assert direction == "maximize" and metric == bench.reported_metric
    assert opt >= max(sampled)


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"progress": (0.5, 0.2), "test_scores": (1.0, 2.0)}, "non-decreasing"),
        ({"progress": (0.5,), "test_scores": (1.0, 2.0)}, "one entry"),
        ({"progress": (1.5,), "test_scores": (1.0,)}, "within"),
    ],
)
def test_bad_records(kw: dict, words: str) -> None:  # type: ignore[type-arg]
    base = {"optimizer": "o", "benchmark_id": "t", "repetition": 0, "status": "completed",
            "n_evaluations": 1, "final_test_score": 1.0, "digest": ""}  # fmt: skip
    with pytest.raises(LeaderboardError, match=words):
        RunRecord(**base, **kw)
