"""One protocol's board: every entry's scores, aggregated, ranked and tested.

:func:`summarize` turns ``{entry: [RunRecord, ...]}`` and the protocol's fixed references into a
:class:`ProtocolBoard`: per entry the IQM of the final normalized scores and of the anytime
areas (with stratified bootstrap intervals), the mean rank across tasks, optimizer compute per
trial; for all entries together the Friedman / Nemenyi analysis, the anytime curves (IQM over runs
at each budget fraction), the mean ranks over the budget and the performance profiles. Entries
are sorted by IQM (lower is better), then by name.

A run an entry lacks (a job that could not run) scores :data:`SCORE_CAP`, like a run that never
had an incumbent; it is counted in ``n_missing``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hpobench.leaderboard._errors import LeaderboardError
from hpobench.leaderboard._references import References
from hpobench.leaderboard._scores import (
    SCORE_CAP,
    RunRecord,
    anytime_auc,
    final_score,
    normalized_scores,
)
from hpobench.leaderboard._stats import (
    FriedmanResult,
    IQMResult,
    friedman_nemenyi,
    iqm,
    mean_ranks,
    performance_profile,
    stratified_bootstrap_iqm,
)

__all__ = ["GRID", "TAUS", "EntrySummary", "ProtocolBoard", "summarize"]

GRID = np.linspace(0.0, 1.0, 101)
"""Budget fractions the anytime curves and ranks are evaluated at."""

TAUS = np.linspace(0.0, SCORE_CAP, 201)
"""Thresholds of the performance profiles."""


@dataclass(frozen=True)
class EntrySummary:
    """One entry (optimizer) on one protocol's board."""

    name: str
    n_runs: int
    n_missing: int
    n_failed: int
    score: IQMResult
    auc: IQMResult
    mean_rank: float
    median_evaluations: float
    optimizer_s_per_trial: float
    per_task: Mapping[str, float]
    """Mean normalized final score per task."""


@dataclass(frozen=True)
class ProtocolBoard:
    """Everything the renderers and ``hpobench evaluate`` show for one protocol."""

    protocol: str
    protocol_hash: str
    references_hash: str
    tasks: tuple[str, ...]
    n_repetitions: int
    entries: tuple[EntrySummary, ...]
    friedman: FriedmanResult
    grid: np.ndarray
    anytime: Mapping[str, np.ndarray]
    """IQM over all runs of the normalized score at each budget fraction of ``grid``."""
    ranks_over_budget: Mapping[str, np.ndarray]
    taus: np.ndarray
    profiles: Mapping[str, np.ndarray]

    def entry(self, name: str) -> EntrySummary:
        for e in self.entries:
            if e.name == name:
                return e
        raise LeaderboardError(
            f"No entry {name!r} on the {self.protocol} board; entries: {[e.name for e in self.entries]}."
        )

    def position(self, name: str) -> int:
        """1-based position of ``name`` in the board's order."""
        return [e.name for e in self.entries].index(self.entry(name).name) + 1


def _grid_matrix(
    runs: Mapping[tuple[str, int], RunRecord],
    tasks: Sequence[str],
    reps: Sequence[int],
    refs: References,
) -> np.ndarray:
    """Normalized anytime scores ``[task, rep, grid]`` (missing runs: the cap)."""
    out = np.full((len(tasks), len(reps), GRID.size), SCORE_CAP)
    for i, t in enumerate(tasks):
        for j, r in enumerate(reps):
            rec = runs.get((t, r))
            if rec is not None:
                out[i, j] = normalized_scores(rec, refs[t], GRID)
    return out


def summarize(
    records: Mapping[str, Sequence[RunRecord]],
    refs: References,
    *,
    compute: Mapping[str, float] | None = None,
    n_resamples: int = 2000,
) -> ProtocolBoard:
    """Aggregate the runs of every entry (see the module docstring)."""
    if not records:
        raise LeaderboardError(f"The {refs.protocol} board needs at least one entry.")
    tasks = refs.task_ids
    finals: dict[str, np.ndarray] = {}
    aucs: dict[str, np.ndarray] = {}
    grids: dict[str, np.ndarray] = {}
    meta: dict[str, tuple[int, int, int, float, float]] = {}
    n_reps_max = 0
    for name, recs in records.items():
        runs: dict[tuple[str, int], RunRecord] = {}
        for rec in recs:
            if rec.benchmark_id not in refs.tasks:
                raise LeaderboardError(
                    f"Entry {name!r} has a run of {rec.benchmark_id!r}, which protocol "
                    f"{refs.protocol!r} does not pin (tasks: {list(tasks)})."
                )
            key = (rec.benchmark_id, rec.repetition)
            if key in runs:
                raise LeaderboardError(f"Entry {name!r} has two runs of {key}.")
            runs[key] = rec
        reps = sorted({r for _, r in runs})
        n_reps_max = max(n_reps_max, len(reps))
        fin = np.full((len(tasks), len(reps)), SCORE_CAP)
        auc = np.full((len(tasks), len(reps)), SCORE_CAP)
        for i, t in enumerate(tasks):
            for j, r in enumerate(reps):
                got = runs.get((t, r))
                if got is not None:
                    fin[i, j] = final_score(got, refs[t])
                    auc[i, j] = anytime_auc(got, refs[t])
        finals[name], aucs[name] = fin, auc
        grids[name] = _grid_matrix(runs, tasks, reps, refs)
        walls = [r.optimizer_s_per_trial for r in recs if math.isfinite(r.optimizer_s_per_trial)]
        per_trial = (compute or {}).get(name, float(np.median(walls)) if walls else math.nan)
        meta[name] = (
            len(recs),
            len(tasks) * len(reps) - len(runs),
            sum(r.status == "failed" for r in recs),
            float(np.median([r.n_evaluations for r in recs])) if recs else math.nan,
            per_trial,
        )
    names = sorted(records)
    task_means = {n: finals[n].mean(axis=1) for n in names}
    fr = friedman_nemenyi(task_means)
    ranks = dict(zip(fr.names, fr.mean_ranks, strict=True))
    # ranks over the budget: per grid point, rank the per-task means
    per_task_grid = np.stack([grids[n].mean(axis=1) for n in names])  # [entry, task, grid]
    rank_grid = np.stack(
        [mean_ranks(per_task_grid[:, :, g]) for g in range(GRID.size)], axis=1
    )  # [entry, grid]
    entries = []
    for n in names:
        n_runs, missing, failed, med_evals, per_trial = meta[n]
        entries.append(
            EntrySummary(
                name=n,
                n_runs=n_runs,
                n_missing=missing,
                n_failed=failed,
                score=stratified_bootstrap_iqm(finals[n], n_resamples=n_resamples),
                auc=stratified_bootstrap_iqm(aucs[n], n_resamples=n_resamples),
                mean_rank=ranks[n],
                median_evaluations=med_evals,
                optimizer_s_per_trial=per_trial,
                per_task=dict(zip(tasks, task_means[n].tolist(), strict=True)),
            )
        )
    entries.sort(key=lambda e: (e.score.value, e.mean_rank, e.name))
    return ProtocolBoard(
        protocol=refs.protocol,
        protocol_hash=refs.protocol_hash,
        references_hash=refs.hash,
        tasks=tasks,
        n_repetitions=n_reps_max,
        entries=tuple(entries),
        friedman=fr,
        grid=GRID,
        anytime={n: np.asarray([iqm(grids[n][:, :, g]) for g in range(GRID.size)]) for n in names},
        ranks_over_budget={n: rank_grid[i] for i, n in enumerate(names)},
        taus=TAUS,
        profiles={n: performance_profile(finals[n], TAUS) for n in names},
    )
