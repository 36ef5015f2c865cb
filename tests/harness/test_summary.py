"""The per-task summary printed by `hpobench run`, and the single-fidelity budget it exposed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from baselines.random_search import make_optimizer
from hpobench.harness import get_protocol, run_study, run_suite
from hpobench.harness._summary import format_summary, summarize


def test_sf_budget_is_the_count_even_with_heavy_runtime_tails() -> None:
    # hpobench-nn/phoneme-v1's recorded runtimes reach ~5,000x their median; repetition 3 of
    # random search drew an over-budget configuration first when time bound the budget.
    traj = run_study("hpobench-nn/phoneme-v1", make_optimizer, "sf-serial-v2", repetition=3)
    m = traj.meta
    assert m.n_evaluations == m.max_evaluations == 110
    assert m.incumbent_test_score is not None and math.isfinite(m.incumbent_test_score)
    assert get_protocol("sf-serial-v2").time_factor == 1000.0


def test_summary_aggregates_test_scores_per_task(tmp_path: Path) -> None:
    results = run_suite(
        make_optimizer, "sf-serial-v2", out=tmp_path, suite="fcnet/protein-v1,fcnet/naval-v1",
        repetitions=2, progress=False,
    )  # fmt: skip
    rows = summarize(results)
    assert [r.benchmark_id for r in rows] == ["fcnet/naval-v1", "fcnet/protein-v1"]
    for row in rows:
        scores = [r.incumbent_test_score for r in results if r.benchmark_id == row.benchmark_id]
        assert row.n_runs == row.n_scored == 2
        assert row.mean_test_score == pytest.approx(sum(scores) / 2)  # type: ignore[arg-type]
        assert row.reported_metric == "valid_mse" and row.direction == "minimize"
    text = format_summary(rows)
    assert "fcnet/protein-v1" in text and "valid_mse ↓" in text


def test_summary_of_nothing_is_empty() -> None:
    assert summarize([]) == [] and format_summary([]) == ""
