"""Per-task summary of a suite run: what ``hpobench run`` prints when it finishes.

This is a quick look, not the leaderboard: it aggregates the incumbent's test score (the
protocol's reported metric on the test seeds at full fidelity) over the repetitions found, per
task, straight from the trajectory files' metadata.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from hpobench.harness._execute import RunSummary
from hpobench.harness._trajectory import read_meta

__all__ = ["TaskSummary", "format_summary", "summarize"]


@dataclass(frozen=True)
class TaskSummary:
    """Aggregate over the repetitions of one task that finished with a scored incumbent."""

    benchmark_id: str
    reported_metric: str
    direction: str
    n_runs: int
    n_scored: int
    mean_test_score: float
    std_test_score: float
    median_evaluations: float


def summarize(results: Sequence[RunSummary]) -> list[TaskSummary]:
    """One :class:`TaskSummary` per task, sorted by id. Runs without a score are counted only."""
    by_task: dict[str, list[RunSummary]] = {}
    for r in results:
        by_task.setdefault(r.benchmark_id, []).append(r)
    out = []
    for task, runs in sorted(by_task.items()):
        done = [r for r in runs if r.outcome != "error"]
        scores = [
            r.incumbent_test_score
            for r in done
            if r.incumbent_test_score is not None and math.isfinite(r.incumbent_test_score)
        ]
        metric, direction = "", ""
        if done:
            meta = read_meta(done[0].path)
            metric, direction = meta.reported_metric, meta.direction
        out.append(
            TaskSummary(
                benchmark_id=task,
                reported_metric=metric,
                direction=direction,
                n_runs=len(runs),
                n_scored=len(scores),
                mean_test_score=statistics.fmean(scores) if scores else math.nan,
                std_test_score=statistics.stdev(scores) if len(scores) > 1 else math.nan,
                median_evaluations=statistics.median([r.n_evaluations for r in done])
                if done
                else math.nan,
            )
        )
    return out


def format_summary(rows: Sequence[TaskSummary]) -> str:
    """A plain-text table of :func:`summarize`'s rows."""
    if not rows:
        return ""
    w = max(len(r.benchmark_id) for r in rows)
    lines = [
        f"{'task':<{w}}  {'reported metric (test seeds)':<30} {'mean':>10} {'± sd':>9}  "
        f"{'scored':>6}  {'evals':>6}"
    ]
    for r in rows:
        arrow = {"minimize": "↓", "maximize": "↑"}.get(r.direction, "")
        lines.append(
            f"{r.benchmark_id:<{w}}  {(r.reported_metric + ' ' + arrow):<30} "
            f"{r.mean_test_score:>10.5g} {r.std_test_score:>9.3g}  "
            f"{r.n_scored:>3}/{r.n_runs:<2}  {r.median_evaluations:>6.0f}"
        )
    return "\n".join(lines)
