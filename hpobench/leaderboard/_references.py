"""Fixed scoring references of a protocol: each task's optimum and random search's median.

A normalized score needs two fixed points per task, computed once from the tables and stored
with the protocol, never re-derived from whoever happens to be compared (Bayesmark's idea):

``optimum``
    the best test score any configuration of the table reaches: the reported metric averaged
    over the test seeds at full fidelity (exactly the number the harness scores an incumbent
    with), best by the reported metric's direction. Exact, from the table.
``random_median``
    the median of the final incumbent test scores of ``n_random`` seeded random-search runs
    under the protocol (repetitions ``REFERENCE_REPETITION_OFFSET + i``, disjoint from the
    repetitions optimizers are compared on), with ``random_se``, its bootstrap standard error.

``normalized = (score - optimum) / (random_median - optimum)``: 0 is the optimum, 1 is random
search at the full budget, whatever the metric's direction (the signs cancel).

The references are stored **in the protocol**: each pinned task's ``references`` slot holds
``{optimum, random_median, random_se, n_random}``, so the protocol's hash covers them, and
:func:`protocol_with_references` makes the new protocol version that carries them (changing a
reference means a new version). The shipped protocol files live in the package
(``hpobench/harness/protocols/*.json``), so ``hpobench evaluate`` works from an installed package.
A :class:`References` record is the leaderboard's view of them: the protocol's name and hash and,
per task, the fixed points with the pinned backend sha256, the reported metric and its direction.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import math
import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hpobench.harness import Protocol, get_protocol
from hpobench.leaderboard._errors import LeaderboardError

__all__ = [
    "RANDOM_SEARCH_SPEC",
    "REFERENCE_REPETITION_OFFSET",
    "References",
    "TaskReference",
    "compute_optimum",
    "compute_references",
    "load_references",
    "protocol_with_references",
    "references_from_protocol",
    "shipped_protocol_path",
]

REFERENCE_REPETITION_OFFSET = 10_000
"""Reference runs use repetitions ``10_000 + i``: independent of the compared repetitions."""

RANDOM_SEARCH_SPEC = "baselines.random_search:make_optimizer"
"""The random search whose median is the score 1."""

FORMAT_NAME = "hpobench-references"
FORMAT_VERSION = 1


def _finite(what: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise LeaderboardError(f"{what} must be a finite number, but got {v!r}.")
    return float(v)


@dataclass(frozen=True, kw_only=True)
class TaskReference:
    """The two fixed points of one task (see the module docstring) and what they came from.

    Attributes:
        table_sha256: sha256 of the table the references were computed from (pins the task).
        reported_metric, direction: the test score's metric and how it is optimised.
        optimum: the best test score of any configuration.
        random_median: median final test score of ``n_random`` random-search runs.
        random_se: bootstrap standard error of that median.
        n_random: how many random-search runs.
    """

    table_sha256: str
    reported_metric: str
    direction: str
    optimum: float
    random_median: float
    random_se: float
    n_random: int

    def __post_init__(self) -> None:
        for k in ("optimum", "random_median", "random_se"):
            object.__setattr__(self, k, _finite(f"TaskReference.{k}", getattr(self, k)))
        if self.direction not in ("minimize", "maximize"):
            raise LeaderboardError(
                f"TaskReference.direction must be 'minimize' or 'maximize', but got {self.direction!r}."
            )
        if (
            isinstance(self.n_random, bool)
            or not isinstance(self.n_random, int)
            or self.n_random < 1
        ):
            raise LeaderboardError(f"`n_random >= 1` must hold, but got {self.n_random!r}.")
        sign = 1.0 if self.direction == "minimize" else -1.0
        if sign * (self.random_median - self.optimum) < 0:
            raise LeaderboardError(
                f"The random-search median must not beat the optimum, but got random_median="
                f"{self.random_median!r}, optimum={self.optimum!r} ({self.direction})."
            )

    @property
    def saturated(self) -> bool:
        """Random search's median *is* the optimum: the budget cannot separate good from best."""
        return self.random_median == self.optimum

    def normalize(self, score: float) -> float:
        """``(score - optimum) / (random_median - optimum)``: 0 optimum, 1 random search.

        NaN stays NaN (no score). On a :attr:`saturated` task (random search finds the optimum
        in at least half its runs) the scale has no unit: a run scores 0 if it found the
        optimum and 1 (no better than random search) otherwise.

        >>> r = TaskReference(table_sha256="x", reported_metric="acc", direction="maximize",
        ...                   optimum=1.0, random_median=0.5, random_se=0.01, n_random=100)
        >>> r.normalize(1.0), r.normalize(0.5), r.normalize(0.75)
        (0.0, 1.0, 0.5)
        """
        if score != score:
            return math.nan
        gap = self.random_median - self.optimum
        if gap == 0.0:
            return 0.0 if score == self.optimum else 1.0
        return (score - self.optimum) / gap + 0.0  # never -0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "table_sha256": self.table_sha256,
            "reported_metric": self.reported_metric,
            "direction": self.direction,
            "optimum": self.optimum,
            "random_median": self.random_median,
            "random_se": self.random_se,
            "n_random": self.n_random,
        }


@dataclass(frozen=True, kw_only=True)
class References:
    """The scoring references of one protocol: its pinned tasks and each task's fixed points.

    ``hash`` is a sha256 over the canonical JSON of every field (the protocol's own hash
    included), so a trajectory, a board row or a submission can name exactly what it was scored
    against.
    """

    protocol: str
    protocol_hash: str
    random_optimizer: str
    tasks: Mapping[str, TaskReference]
    _hash: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.tasks:
            raise LeaderboardError(f"References of {self.protocol!r} must cover at least one task.")
        object.__setattr__(self, "tasks", dict(sorted(self.tasks.items())))
        canonical = json.dumps(self._hashed(), sort_keys=True, separators=(",", ":"))
        object.__setattr__(self, "_hash", hashlib.sha256(canonical.encode()).hexdigest())

    @property
    def hash(self) -> str:
        return self._hash

    @property
    def task_ids(self) -> tuple[str, ...]:
        return tuple(self.tasks)

    def __getitem__(self, benchmark_id: str) -> TaskReference:
        try:
            return self.tasks[benchmark_id]
        except KeyError:
            raise LeaderboardError(
                f"Protocol {self.protocol!r} pins the tasks {list(self.tasks)}, but got "
                f"{benchmark_id!r}."
            ) from None

    def check_protocol(self, protocol: Protocol) -> None:
        """Raise unless these references were computed for exactly ``protocol``."""
        if protocol.name != self.protocol or protocol.hash != self.protocol_hash:
            raise LeaderboardError(
                f"The references must belong to protocol {protocol.name!r} (hash "
                f"{protocol.hash[:12]}), but were computed for {self.protocol!r} (hash "
                f"{self.protocol_hash[:12]}); recompute them with `hpobench leaderboard references`."
            )

    def _hashed(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "protocol": self.protocol,
            "protocol_hash": self.protocol_hash,
            "random_optimizer": self.random_optimizer,
            "tasks": {k: v.to_dict() for k, v in self.tasks.items()},
        }


REFERENCE_KEYS = ("optimum", "random_median", "random_se", "n_random")
"""The keys of a pinned task's ``references`` slot the leaderboard reads and writes."""


def _metric_and_direction(benchmark_id: str, reported_metric: str | None) -> tuple[str, str]:
    """The reported metric of a task and its direction, from its meta.json (no table load)."""
    from hpobench.registry import make, spec
    from hpobench.table import META_FILE, TableMeta

    s = spec(benchmark_id)
    if s.path is not None:
        meta = TableMeta.read(s.path / META_FILE)
        metrics, default = meta.metrics, meta.reported_metric
    else:
        bench = make(benchmark_id)
        metrics, default = bench.metrics, bench.reported_metric
    metric = reported_metric or default
    if metric not in metrics:
        raise LeaderboardError(
            f"{benchmark_id}: the reported metric must be one of {list(metrics)}, but got {metric!r}."
        )
    return metric, metrics[metric].direction


def references_from_protocol(protocol: Protocol) -> References:
    """The :class:`References` stored in a pinned protocol's tasks (``LeaderboardError`` if the
    protocol pins no tasks or a task lacks them)."""
    if not protocol.pinned:
        raise LeaderboardError(
            f"Protocol {protocol.name!r} pins no tasks, so it has no scoring references; pin it "
            "(hpobench.harness.pin_protocol) and compute them with `hpobench leaderboard "
            "references`."
        )
    tasks: dict[str, TaskReference] = {}
    for t in protocol.tasks:
        missing = [k for k in REFERENCE_KEYS if k not in t.references]
        if missing:
            raise LeaderboardError(
                f"Protocol {protocol.name!r} has no scoring references for {t.id} (missing "
                f"{missing}); compute them once with `hpobench leaderboard references --protocol "
                f"{protocol.name}`, which writes the next protocol version with them filled."
            )
        metric, direction = _metric_and_direction(t.id, protocol.reported_metric)
        r = t.references
        tasks[t.id] = TaskReference(
            table_sha256=t.sha256,
            reported_metric=metric,
            direction=direction,
            optimum=float(r["optimum"]),
            random_median=float(r["random_median"]),
            random_se=float(r["random_se"]),
            n_random=int(r["n_random"]),
        )
    return References(
        protocol=protocol.name,
        protocol_hash=protocol.hash,
        random_optimizer=RANDOM_SEARCH_SPEC,
        tasks=tasks,
    )


def load_references(protocol: str | Protocol) -> References:
    """The references stored in ``protocol`` (a name or a :class:`Protocol`)."""
    return references_from_protocol(get_protocol(protocol))


def protocol_with_references(
    refs: References, protocol: str | Protocol, *, version: int | None = None
) -> Protocol:
    """The next version of ``protocol`` (default: its version + 1) with ``refs`` filled into its
    pinned tasks; write it with :func:`hpobench.harness.write_protocol`."""
    proto = get_protocol(protocol)
    refs.check_protocol(proto)
    values = {
        tid: {
            "optimum": r.optimum,
            "random_median": r.random_median,
            "random_se": r.random_se,
            "n_random": r.n_random,
        }
        for tid, r in refs.tasks.items()
    }
    return proto.with_references(values, version=proto.version + 1 if version is None else version)


def shipped_protocol_path(protocol_name: str) -> Path:
    """Where a shipped protocol file lives inside the package."""
    folder = Path(str(resources.files("hpobench.harness"))) / "protocols"
    return folder / f"{protocol_name}.json"


# -- computing them ------------------------------------------------------------------------
def compute_optimum(
    benchmark_id: str, *, reported_metric: str | None = None
) -> tuple[float, str, str]:
    """``(optimum, reported_metric, direction)`` of a task: the best test score of any stored
    configuration, the best row found on the table's array and then scored exactly as the harness
    scores an incumbent (:func:`hpobench.harness.score_on_test_seeds`)."""
    from hpobench.benchmark import TabularBenchmark
    from hpobench.harness import score_on_test_seeds
    from hpobench.registry import make

    bench = make(benchmark_id)
    metric = reported_metric or bench.reported_metric
    if not isinstance(bench, TabularBenchmark):
        raise LeaderboardError(
            f"{benchmark_id}: an exact optimum needs a table, but the benchmark is "
            f"{type(bench).__name__}."
        )
    if metric not in bench.metrics:
        raise LeaderboardError(
            f"{benchmark_id}: the reported metric must be one of {list(bench.metrics)}, but got "
            f"{metric!r}."
        )
    direction = bench.metrics[metric].direction
    table = bench.table
    test_pos = [table.seed_index(s) for s in bench.test_seeds]
    scores = table.metric(metric)[:, test_pos, -1].astype(np.float64).mean(axis=1)
    if not np.isfinite(scores).any():
        raise LeaderboardError(f"{benchmark_id}: no configuration has a finite test score.")
    work = np.where(np.isfinite(scores), scores, np.inf if direction == "minimize" else -np.inf)
    best_row = int(np.argmin(work) if direction == "minimize" else np.argmax(work))
    score = score_on_test_seeds(bench, table.config(best_row), reported_metric=metric)
    return score, metric, direction


def _random_final_score(args: tuple[str, Mapping[str, Any], int]) -> tuple[str, int, float]:
    benchmark_id, protocol_dict, repetition = args
    from hpobench.harness import load_optimizer, run_study

    protocol = Protocol.from_dict(protocol_dict)  # a plain dict travels to any worker
    factory = load_optimizer(RANDOM_SEARCH_SPEC)
    traj = run_study(benchmark_id, factory, protocol, repetition)
    s = traj.meta.incumbent_test_score
    return benchmark_id, repetition, math.nan if s is None else float(s)


def _map(
    fn: Callable[[tuple[str, Mapping[str, Any], int]], tuple[str, int, float]],
    jobs: Sequence[tuple[str, Mapping[str, Any], int]],
    n_processes: int,
) -> Iterator[tuple[str, int, float]]:
    if n_processes <= 1:
        yield from map(fn, jobs)
        return
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=n_processes, mp_context=ctx) as pool:
        yield from pool.map(fn, jobs, chunksize=8)


def median_and_se(scores: Sequence[float]) -> tuple[float, float]:
    """Median and its bootstrap standard error (2,000 resamples, seed 0: deterministic)."""
    from scipy.stats import bootstrap

    x = np.asarray(scores, dtype=np.float64)
    if x.size == 0 or not np.isfinite(x).all():
        raise LeaderboardError(
            f"The random-search scores must be finite, but {int((~np.isfinite(x)).sum())} of "
            f"{x.size} are not (a run without an incumbent?)."
        )
    med = float(np.median(x))
    if x.size < 2 or np.all(x == x[0]):
        return med, 0.0
    res = bootstrap((x,), np.median, n_resamples=2000, method="percentile", random_state=0)
    return med, float(res.standard_error)


def compute_references(
    protocol: str | Protocol,
    *,
    n_random: int = 100,
    n_processes: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> References:
    """Compute the references of ``protocol`` from the tables: exact optima and the median of
    ``n_random`` random-search runs per task (in ``n_processes`` local processes).

    Pure function of the tables, the protocol and the random-search code: the same inputs give
    the same references, hence the same hash.
    """
    proto = get_protocol(protocol)
    if isinstance(n_random, bool) or not isinstance(n_random, int) or n_random < 1:
        raise LeaderboardError(f"`n_random >= 1` (an integer) must hold, but got {n_random!r}.")
    from hpobench.registry import make

    ids = proto.task_ids()
    pd = proto.to_dict()
    jobs = [(b, pd, REFERENCE_REPETITION_OFFSET + i) for b in ids for i in range(n_random)]
    scores: dict[str, dict[int, float]] = {b: {} for b in ids}
    for k, (b, rep, s) in enumerate(_map(_random_final_score, jobs, n_processes), 1):
        scores[b][rep] = s
        if progress is not None:
            progress(k, len(jobs))
    tasks: dict[str, TaskReference] = {}
    for b in ids:
        optimum, metric, direction = compute_optimum(b, reported_metric=proto.reported_metric)
        vals = [scores[b][r] for r in sorted(scores[b])]
        try:
            med, se = median_and_se(vals)
        except LeaderboardError as e:
            raise LeaderboardError(f"{b}: {e}") from None
        tasks[b] = TaskReference(
            table_sha256=proto.task(b).sha256 if proto.pinned else make(b).backend.sha256,
            reported_metric=metric,
            direction=direction,
            optimum=optimum,
            random_median=med,
            random_se=se,
            n_random=n_random,
        )
    from hpobench.harness import load_optimizer
    from hpobench.harness._provenance import optimizer_identity

    _, _, sha = optimizer_identity(load_optimizer(RANDOM_SEARCH_SPEC))
    return References(
        protocol=proto.name,
        protocol_hash=proto.hash,
        random_optimizer=f"{RANDOM_SEARCH_SPEC}@sha256:{sha}",
        tasks=tasks,
    )
