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

A :class:`References` record pins the protocol (name and hash) and every task it covers with
the sha256 of the table it was computed from; its :attr:`References.hash` covers all of it.
Changing any reference means a new protocol version. The records ship as JSON files inside the
package (``hpobench/leaderboard/references/<protocol>.json``) so that ``hpobench evaluate``
works from an installed package.
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

from hpobench._atomic import write_atomic
from hpobench.harness import Protocol, get_protocol, resolve_suite
from hpobench.leaderboard._errors import LeaderboardError

__all__ = [
    "RANDOM_SEARCH_SPEC",
    "REFERENCE_REPETITION_OFFSET",
    "References",
    "TaskReference",
    "compute_optimum",
    "compute_references",
    "load_references",
    "references_path",
    "register_references",
    "unregister_references",
    "write_references",
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

    def to_json(self) -> str:
        d = self._hashed()
        d["hash"] = self.hash
        return json.dumps(d, indent=1, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "<references>") -> References:
        try:
            d = json.loads(text)
            if d.get("format") != FORMAT_NAME or d.get("format_version") != FORMAT_VERSION:
                raise LeaderboardError(
                    f"{source}: must be {FORMAT_NAME!r} version {FORMAT_VERSION}, but declares "
                    f"{d.get('format')!r} version {d.get('format_version')!r}."
                )
            refs = cls(
                protocol=d["protocol"],
                protocol_hash=d["protocol_hash"],
                random_optimizer=d["random_optimizer"],
                tasks={k: TaskReference(**v) for k, v in d["tasks"].items()},
            )
        except LeaderboardError:
            raise
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            raise LeaderboardError(f"{source}: not a valid references file ({e}).") from None
        if d.get("hash") != refs.hash:
            raise LeaderboardError(
                f"{source}: its contents must hash to the stored {d.get('hash')!r}, but hash to "
                f"{refs.hash!r}; the file was edited. References change only with a new protocol "
                "version."
            )
        return refs


def references_path(protocol_name: str) -> Path:
    """Where the shipped references of ``protocol_name`` live inside the package."""
    return (
        Path(str(resources.files("hpobench.leaderboard"))) / "references" / f"{protocol_name}.json"
    )


_registered: dict[str, References] = {}


def register_references(refs: References) -> References:
    """Make references of a user protocol (see ``register_protocol``) available by name."""
    if not isinstance(refs, References):
        raise LeaderboardError(
            f"register_references needs References, but got {type(refs).__name__}."
        )
    if refs.protocol in _registered and _registered[refs.protocol] != refs:
        raise LeaderboardError(
            f"References of {refs.protocol!r} are already registered; a change needs a new "
            "protocol version."
        )
    _registered[refs.protocol] = refs
    return refs


def unregister_references(protocol_name: str) -> None:
    """Forget registered references (tests)."""
    _registered.pop(protocol_name, None)


def load_references(protocol: str | Protocol, *, path: str | Path | None = None) -> References:
    """The references of ``protocol`` (registered ones, else those shipped with the package, or
    the file at ``path``), checked against the protocol's hash."""
    proto = get_protocol(protocol)
    if path is None and proto.name in _registered:
        refs = _registered[proto.name]
        refs.check_protocol(proto)
        return refs
    p = Path(path) if path is not None else references_path(proto.name)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise LeaderboardError(
            f"Protocol {proto.name!r} has no scoring references ({p} does not exist); compute them "
            f"once with `hpobench leaderboard references --protocol {proto.name}`."
        ) from None
    refs = References.from_json(text, source=str(p))
    refs.check_protocol(proto)
    return refs


# -- computing them ------------------------------------------------------------------------
def compute_optimum(
    benchmark_id: str, *, reported_metric: str | None = None
) -> tuple[float, str, str]:
    """``(optimum, reported_metric, direction)`` of a task: the best test score of any stored
    configuration, computed exactly as the harness scores an incumbent."""
    from hpobench.harness._oracle import make_oracle
    from hpobench.registry import make

    bench = make(benchmark_id)
    oracle = make_oracle(bench, objective=None, reported_metric=reported_metric)
    table = getattr(oracle, "table", None)
    metric = oracle.reported_metric
    direction = bench.metrics[metric].direction
    if table is None:
        raise LeaderboardError(
            f"{benchmark_id}: an exact optimum needs a table, but the benchmark is "
            f"{type(bench).__name__}."
        )
    test_pos = [table.seed_index(s) for s in bench.test_seeds]
    scores = table.metric(metric)[:, test_pos, -1].astype(np.float64).mean(axis=1)
    if not np.isfinite(scores).any():
        raise LeaderboardError(f"{benchmark_id}: no configuration has a finite test score.")
    work = np.where(np.isfinite(scores), scores, np.inf if direction == "minimize" else -np.inf)
    best_row = int(np.argmin(work) if direction == "minimize" else np.argmax(work))
    config = {k: v[best_row] for k, v in table.configs.items()}
    return float(oracle.test_score(best_row, config)), metric, direction


def _random_final_score(args: tuple[str, Protocol, int]) -> tuple[str, int, float]:
    benchmark_id, protocol, repetition = args
    from hpobench.harness import load_optimizer, run_study

    factory = load_optimizer(RANDOM_SEARCH_SPEC)
    traj = run_study(benchmark_id, factory, protocol, repetition)
    s = traj.meta.incumbent_test_score
    return benchmark_id, repetition, math.nan if s is None else float(s)


def _map(
    fn: Callable[[tuple[str, Protocol, int]], tuple[str, int, float]],
    jobs: Sequence[tuple[str, Protocol, int]],
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

    ids = resolve_suite(proto.suite)
    jobs = [(b, proto, REFERENCE_REPETITION_OFFSET + i) for b in ids for i in range(n_random)]
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
            table_sha256=make(b).meta.sha256,
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


def write_references(refs: References, path: str | Path) -> Path:
    """Write ``refs`` as JSON atomically; returns the path."""
    p = Path(path)
    write_atomic(p, refs.to_json().encode())
    return p
