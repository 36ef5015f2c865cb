"""Scores of one run, as pure functions of its trajectory and the task's fixed references.

A run is reduced to a :class:`RunRecord`: the incumbent's test score each time it changed and
how much of the budget had been used by then. *Budget used* after the ``i``-th evaluation
(1-based) is::

    progress_i = min(1, max(time_i / time_budget, i / max_evaluations))

the fraction of whichever budget binds (simulated time for the multi-fidelity protocols, the
evaluation count for the single-fidelity ones), so every protocol is scored on ``[0, 1]``.

From a record and a :class:`~hpobench.leaderboard.TaskReference`:

* :func:`anytime_scores`: the incumbent's test score at given budget fractions (NaN before the
  first incumbent);
* :func:`normalized_scores`: the same, normalized (0 = the task's optimum, 1 = random search's
  median at the full budget) and capped at :data:`SCORE_CAP`; *no incumbent yet* counts as the
  cap;
* :func:`final_score`: the normalized score at the end of the run;
* :func:`anytime_auc`: the mean of the normalized curve over ``[0, 1]`` (the area under it),
  integrated exactly (the curve is a step function). Lower is better everywhere.

Why a cap: a run with no answer must score worse than any run with one, and one catastrophic
task must not outweigh all others in a mean. ``SCORE_CAP = 2`` means "twice as far from the
optimum as random search"; the interquartile mean and ranks are insensitive to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hpobench.harness import Trajectory
from hpobench.leaderboard._errors import LeaderboardError
from hpobench.leaderboard._references import TaskReference

__all__ = [
    "SCORE_CAP",
    "RunRecord",
    "anytime_auc",
    "anytime_scores",
    "final_score",
    "normalized_scores",
    "run_record",
]

SCORE_CAP = 2.0
"""Normalized scores are capped here; a run without an incumbent scores the cap."""


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """What scoring needs of one run (one optimizer, task and repetition).

    Attributes:
        optimizer: the entry's name on the board.
        benchmark_id, repetition: which run.
        status: the run's :class:`~hpobench.RunStatus` value.
        n_evaluations: counted evaluations.
        final_test_score: the final incumbent's test score (NaN: none).
        progress: budget fraction at each incumbent change (non-decreasing, in ``[0, 1]``).
        test_scores: the incumbent's test score after each change.
        digest: the trajectory's digest (its deterministic part).
        optimizer_s_per_trial: optimizer wall time (ask + tell) per evaluation; machine-dependent,
            reported beside the score, never part of it (NaN: unknown).
    """

    optimizer: str
    benchmark_id: str
    repetition: int
    status: str
    n_evaluations: int
    final_test_score: float
    progress: tuple[float, ...]
    test_scores: tuple[float, ...]
    digest: str
    optimizer_s_per_trial: float = math.nan

    def __post_init__(self) -> None:
        if len(self.progress) != len(self.test_scores):
            raise LeaderboardError(
                f"{self.benchmark_id} rep {self.repetition}: progress and test_scores must have one "
                f"entry per incumbent change, but have {len(self.progress)} and "
                f"{len(self.test_scores)}."
            )
        p = np.asarray(self.progress, dtype=np.float64)
        if p.size and (np.any(np.diff(p) < 0) or p[0] < 0 or p[-1] > 1 or not np.isfinite(p).all()):
            raise LeaderboardError(
                f"{self.benchmark_id} rep {self.repetition}: progress must be non-decreasing within "
                f"[0, 1], but got {self.progress[:5]}..."
            )


def run_record(
    traj: Trajectory, *, optimizer: str | None = None, digest: str | None = None
) -> RunRecord:
    """Reduce a trajectory to its :class:`RunRecord` (``optimizer`` defaults to its name)."""
    m = traj.meta
    t = traj.table
    n = t.num_rows
    if n:
        time = t.column("time").to_numpy()
        inc = t.column("incumbent_trial").to_numpy()
        test = t.column("incumbent_test_score").to_numpy()
        count = np.arange(1, n + 1, dtype=np.float64)
        prog = np.minimum(1.0, np.maximum(time / m.time_budget, count / m.max_evaluations))
        prev = np.concatenate(([-1], inc[:-1]))
        change = (inc >= 0) & (inc != prev)
        progress = tuple(float(x) for x in prog[change])
        scores = tuple(float(x) for x in test[change])
        wall = t.column("ask_wall_s").to_numpy() + np.nan_to_num(t.column("tell_wall_s").to_numpy())
        per_trial = float(wall.sum() / n) if wall.any() else math.nan
    else:
        progress, scores, per_trial = (), (), math.nan
    final = m.incumbent_test_score
    return RunRecord(
        optimizer=optimizer if optimizer is not None else m.optimizer_name,
        benchmark_id=m.benchmark_id,
        repetition=m.repetition,
        status=m.status.value,
        n_evaluations=m.n_evaluations,
        final_test_score=math.nan if final is None else float(final),
        progress=progress,
        test_scores=scores,
        digest=digest if digest is not None else traj.digest(),
        optimizer_s_per_trial=per_trial,
    )


def anytime_scores(record: RunRecord, grid: Sequence[float] | np.ndarray) -> np.ndarray:
    """The incumbent's test score at each budget fraction of ``grid`` (NaN before the first)."""
    g = np.asarray(grid, dtype=np.float64)
    p = np.asarray(record.progress, dtype=np.float64)
    s = np.asarray(record.test_scores, dtype=np.float64)
    idx = np.searchsorted(p, g, side="right") - 1
    out = np.full(g.shape, np.nan)
    ok = idx >= 0
    out[ok] = s[idx[ok]]
    return out


def _normalize(raw: np.ndarray, ref: TaskReference, cap: float) -> np.ndarray:
    norm = np.asarray([ref.normalize(float(x)) for x in raw.ravel()], dtype=np.float64)
    norm = norm.reshape(raw.shape)
    return np.where(np.isnan(norm), cap, np.minimum(norm, cap))


def normalized_scores(
    record: RunRecord,
    ref: TaskReference,
    grid: Sequence[float] | np.ndarray,
    *,
    cap: float = SCORE_CAP,
) -> np.ndarray:
    """Normalized anytime scores at ``grid`` (0 optimum, 1 random search), capped at ``cap``."""
    return _normalize(anytime_scores(record, grid), ref, cap)


def final_score(record: RunRecord, ref: TaskReference, *, cap: float = SCORE_CAP) -> float:
    """The run's normalized final score, capped (no incumbent: ``cap``)."""
    return float(_normalize(np.asarray([record.final_test_score]), ref, cap)[0])


def anytime_auc(record: RunRecord, ref: TaskReference, *, cap: float = SCORE_CAP) -> float:
    """Mean normalized score over the budget ``[0, 1]`` (exact area under the step curve).

    >>> ref = TaskReference(table_sha256="x", reported_metric="loss", direction="minimize",
    ...                     optimum=0.0, random_median=1.0, random_se=0.0, n_random=1)
    >>> rec = RunRecord(optimizer="o", benchmark_id="t", repetition=0, status="completed",
    ...                 n_evaluations=2, final_test_score=0.5, progress=(0.5, 0.75),
    ...                 test_scores=(1.0, 0.5), digest="")
    >>> anytime_auc(rec, ref)  # cap 2 on [0, .5), 1 on [.5, .75), .5 on [.75, 1]
    1.375
    """
    p = np.concatenate(([0.0], np.asarray(record.progress, dtype=np.float64), [1.0]))
    vals = np.concatenate(([cap], _normalize(np.asarray(record.test_scores), ref, cap)))
    return float(np.sum(np.diff(p) * vals))
