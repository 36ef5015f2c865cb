"""Versioned protocols and suites: how a comparison is run, frozen and hashable.

A :class:`Protocol` fixes everything that decides whether two numbers can be compared: the
suite of tasks, the budget rule, the number of workers, repetitions, whether trials may be
resumed and whether optimizer compute is charged. The tuning/test seed split and the default
objective/reported metric are those each (versioned) table declares in its meta.json, unless a
protocol overrides the metrics. Its :attr:`Protocol.hash` is a sha256 over the canonical JSON of
every field but the description; trajectories record it and the leaderboard checks it.

Budget rule (per task, ``d`` = number of hyperparameters, ``m`` = the task's median full-fidelity
runtime over all configurations and tuning seeds)::

    n_full          = budget_base + budget_per_sqrt_dim * sqrt(d)      # full evaluations' worth
    time_budget     = time_factor * n_full * m / n_workers             # simulated seconds
    max_evaluations = ceil(max_evaluations_factor * n_full)            # dispatched evaluations

so every protocol hands out the same compute (worker-seconds) by default; docs/harness.md says
where the numbers come from.

**Pinned tasks.** A protocol that makes results comparable pins what it means: its exact task
ids, each with the kind of backend that answers it (``"table"`` or ``"surrogate"``) and the sha256
of the file it is answered from, plus optional per-task scoring ``references`` (optimum, random
search's median, ...). The hash covers all of it, so one hash means one set of tasks and data; a
run against a backend whose sha256 differs from the pinned one is refused (:meth:`Protocol.check_task`).
The shipped protocols are such files (``hpobench/harness/protocols/*.json``, read with
:func:`read_protocol`); :func:`pin_protocol` pins a protocol's suite against the installed
tables and :meth:`Protocol.with_references` + :func:`write_protocol` make a new version with
references filled. Suites name benchmark-id patterns and are resolved lazily against the
registry; they stay for ad-hoc runs (``--suite``) and for unpinned (user) protocols.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import importlib.resources
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hpobench._atomic import write_atomic
from hpobench._errors import ProtocolError, did_you_mean
from hpobench.benchmark import BACKEND_KINDS, Backend
from hpobench.registry import list_benchmarks, newest_versions, spec

__all__ = [
    "PinnedTask",
    "Protocol",
    "Suite",
    "get_protocol",
    "get_suite",
    "list_protocols",
    "list_suites",
    "pin_protocol",
    "read_protocol",
    "register_protocol",
    "resolve_suite",
    "write_protocol",
]

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9\-]*-v(?P<version>[0-9]+)$")
_SUITE_RE = re.compile(r"^[a-z0-9][a-z0-9\-_]*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
FILE_FORMAT = "hpobench-protocol"
FILE_FORMAT_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class Suite:
    """A named list of benchmark-id patterns (``fnmatch`` style: ``"fcnet/*"``, or exact ids).

    >>> Suite(name="fcnet", patterns=("fcnet/*",)).resolve()[:2]
    ('fcnet/naval-v1', 'fcnet/parkinsons-v1')
    """

    name: str
    patterns: tuple[str, ...]
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _SUITE_RE.match(self.name):
            raise ProtocolError(
                f"A suite name must be lower-case letters, digits, '-' or '_', but got {self.name!r}."
            )
        pats = (self.patterns,) if isinstance(self.patterns, str) else tuple(self.patterns)
        if not pats or not all(isinstance(p, str) and p for p in pats):
            raise ProtocolError(
                f"Suite {self.name!r} needs at least one non-empty pattern, but got {self.patterns!r}."
            )
        object.__setattr__(self, "patterns", pats)

    def resolve(self) -> tuple[str, ...]:
        """The registered benchmark ids the patterns match, in pattern order, each once.

        A pattern without wildcards must be a registered id (else ``BenchmarkNotFoundError``
        with a suggestion); a wildcard pattern matches the **newest version** of each task it
        covers (``gbt/*`` takes ``gbt/kr-vs-kp-v2`` where ``-v1`` and ``-v2`` exist: a later
        version is a larger table of the same task, and a suite counts each task once; name an
        older version exactly to have it); a wildcard pattern that matches nothing is logged as a
        warning; a suite that matches nothing at all is a ``ProtocolError``. A shipped protocol
        pins its tasks (:attr:`Protocol.tasks`), so tables added later never change it.
        """
        ids = list_benchmarks()
        out: list[str] = []
        for pat in self.patterns:
            if not any(c in pat for c in "*?["):
                spec(pat)  # raises a teaching BenchmarkNotFoundError
                matched = [pat]
            else:
                matched = newest_versions(fnmatch.filter(ids, pat))
                if not matched:
                    logger.warning(
                        "suite %r: pattern %r matches no registered benchmark", self.name, pat
                    )
            out.extend(m for m in matched if m not in out)
        if not out:
            families = sorted({i.split("/", 1)[0] for i in ids})
            raise ProtocolError(
                f"Suite {self.name!r} must match at least one registered benchmark, but its patterns "
                f"{list(self.patterns)} match none (registered families: {families}). Its tables may "
                "not be generated or imported yet; see `hpobench list`."
            )
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "patterns": list(self.patterns), "description": self.description}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Suite:
        try:
            return cls(
                name=d["name"], patterns=tuple(d["patterns"]), description=d.get("description", "")
            )
        except (KeyError, TypeError) as e:
            raise ProtocolError(
                f"A suite dict needs 'name' and 'patterns', but got {d!r} ({e})."
            ) from None


@dataclass(frozen=True, kw_only=True)
class PinnedTask:
    """One task of a pinned protocol: what answers it, by content, and its scoring references.

    Attributes:
        id: the benchmark id (``"fcnet/protein-v1"``).
        backend: ``"table"`` or ``"surrogate"``.
        sha256: hex sha256 of the file the answers come from (``Benchmark.backend.sha256``).
        references: scoring references (e.g. ``{"optimum": ..., "random_median": ...,
            "random_se": ..., "n_random": ...}``): names to finite numbers; empty until computed.
    """

    id: str
    backend: str
    sha256: str
    references: Mapping[str, float | int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or "/" not in self.id:
            raise ProtocolError(
                f"A pinned task id must look like 'family/task-vN', but got {self.id!r}."
            )
        if self.backend not in BACKEND_KINDS:
            raise ProtocolError(
                f"Pinned task {self.id!r}: backend must be one of {BACKEND_KINDS}, but got "
                f"{self.backend!r}."
            )
        if not isinstance(self.sha256, str) or not _SHA_RE.match(self.sha256):
            raise ProtocolError(
                f"Pinned task {self.id!r}: sha256 must be 64 lower-case hex digits, but got "
                f"{self.sha256!r}."
            )
        if not isinstance(self.references, Mapping):
            raise ProtocolError(
                f"Pinned task {self.id!r}: references must be a mapping name -> number, but got "
                f"{type(self.references).__name__}."
            )
        refs: dict[str, float | int] = {}
        for k, v in self.references.items():
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            if not isinstance(k, str) or not k or not ok:
                raise ProtocolError(
                    f"Pinned task {self.id!r}: references must map names to finite numbers, but "
                    f"{k!r} -> {v!r}."
                )
            refs[k] = v
        object.__setattr__(self, "references", MappingProxyType(dict(sorted(refs.items()))))

    def __hash__(self) -> int:
        return hash((self.id, self.backend, self.sha256, tuple(self.references.items())))

    def __reduce__(self) -> tuple[Any, ...]:
        # a mappingproxy does not pickle; protocols travel to process-pool and Ray workers
        return (_pinned_task, (self.id, self.backend, self.sha256, dict(self.references)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "backend": self.backend,
            "sha256": self.sha256,
            "references": dict(self.references),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PinnedTask:
        try:
            return cls(
                id=d["id"],
                backend=d["backend"],
                sha256=d["sha256"],
                references=d.get("references", {}),
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise ProtocolError(
                f"A pinned task needs 'id', 'backend' and 'sha256', but got {d!r} ({e})."
            ) from None


def _pinned_task(
    id: str, backend: str, sha256: str, references: dict[str, float | int]
) -> PinnedTask:
    return PinnedTask(id=id, backend=backend, sha256=sha256, references=references)


def _positive(name: str, value: Any, what: str, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        rel = ">= 0" if allow_zero else "> 0"
        raise ProtocolError(
            f"Protocol {name!r}: `{what} {rel}` (a finite number) must hold, but got {value!r}."
        )
    return float(value)


def _count(name: str, value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProtocolError(
            f"Protocol {name!r}: `{what} >= 1` (an integer) must hold, but got {value!r}."
        )
    return value


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """A frozen, versioned, hashable description of how a comparison is run.

    Attributes:
        name: ``"<name>-vN"`` (e.g. ``"mf-async4-v2"``); a changed rule gets a new version.
        description: what it is for (not part of the hash, nor of equality).
        suite: the tasks it is defined on.
        n_workers: evaluations running at once (asynchronous: a free worker asks at once).
        n_repetitions: independent runs per task (repetition ``r`` always gets the same seeds).
        budget_base, budget_per_sqrt_dim: ``n_full = base + per_sqrt_dim * sqrt(d)`` full
            evaluations' worth of compute (YAHPO Gym / CARP-S use 20 + 40·√d).
        time_factor: simulated time budget = ``time_factor * n_full * median_runtime / n_workers``.
        max_evaluations_factor: evaluation cap = ``ceil(max_evaluations_factor * n_full)``.
        allow_resume: whether a suggestion may continue an earlier trial (paying only the extra).
        charge_optimizer_time: add measured optimizer wall time to simulated time (makes results
            machine-dependent, so off in every shipped protocol).
        objective, reported_metric: ``None`` uses each table's declared defaults; a name
            overrides it (the objective must not be a test-split metric).
        seed: base of every repetition's seeds.
        tasks: the pinned tasks (see :class:`PinnedTask`); empty for an unpinned protocol, whose
            task set is whatever its ``suite`` patterns resolve to. When set, the task set is
            exactly these ids and ``suite`` only says where they came from.
    """

    name: str
    description: str = field(default="", compare=False)
    suite: Suite
    n_workers: int
    n_repetitions: int
    budget_base: float = 20.0
    budget_per_sqrt_dim: float = 40.0
    time_factor: float = 1.0
    max_evaluations_factor: float = 1.0
    allow_resume: bool
    charge_optimizer_time: bool = False
    objective: str | None = None
    reported_metric: str | None = None
    seed: int = 0
    tasks: tuple[PinnedTask, ...] = ()
    _hash: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        m = _NAME_RE.match(self.name) if isinstance(self.name, str) else None
        if not m:
            raise ProtocolError(
                "A protocol name must look like 'name-vN' (lower case, e.g. 'mf-async4-v2'), "
                f"but got {self.name!r}."
            )
        n = self.name
        if not isinstance(self.suite, Suite):
            raise ProtocolError(
                f"Protocol {n!r}: suite must be a Suite, but got {type(self.suite).__name__}."
            )
        _count(n, self.n_workers, "n_workers")
        _count(n, self.n_repetitions, "n_repetitions")
        base = _positive(n, self.budget_base, "budget_base", allow_zero=True)
        per = _positive(n, self.budget_per_sqrt_dim, "budget_per_sqrt_dim", allow_zero=True)
        if base + per <= 0:
            raise ProtocolError(
                f"Protocol {n!r}: the budget `budget_base + budget_per_sqrt_dim > 0` must hold, but got "
                f"budget_base={base}, budget_per_sqrt_dim={per}."
            )
        _positive(n, self.time_factor, "time_factor")
        _positive(n, self.max_evaluations_factor, "max_evaluations_factor")
        for flag in ("allow_resume", "charge_optimizer_time"):
            if not isinstance(getattr(self, flag), bool):
                raise ProtocolError(
                    f"Protocol {n!r}: {flag} must be a bool, but got {getattr(self, flag)!r}."
                )
        for metric in ("objective", "reported_metric"):
            v = getattr(self, metric)
            if v is not None and (not isinstance(v, str) or not v):
                raise ProtocolError(
                    f"Protocol {n!r}: {metric} must be None or a metric name, but got {v!r}."
                )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ProtocolError(
                f"Protocol {n!r}: `seed >= 0` (an integer) must hold, but got {self.seed!r}."
            )
        tasks = tuple(self.tasks) if isinstance(self.tasks, (list, tuple)) else None
        if tasks is None or not all(isinstance(t, PinnedTask) for t in tasks):
            raise ProtocolError(
                f"Protocol {n!r}: tasks must be a tuple of PinnedTask, but got {self.tasks!r:.200}."
            )
        ids = [t.id for t in tasks]
        if len(set(ids)) != len(ids):
            raise ProtocolError(
                f"Protocol {n!r}: pinned task ids must be unique, but "
                f"{sorted({i for i in ids if ids.count(i) > 1})} repeat."
            )
        object.__setattr__(self, "tasks", tasks)
        for k in ("budget_base", "budget_per_sqrt_dim", "time_factor", "max_evaluations_factor"):
            object.__setattr__(self, k, float(getattr(self, k)))
        canonical = json.dumps(self._hashed_dict(), sort_keys=True, separators=(",", ":"))
        object.__setattr__(self, "_hash", hashlib.sha256(canonical.encode()).hexdigest())

    # -- identity --------------------------------------------------------------------------
    @property
    def version(self) -> int:
        m = _NAME_RE.match(self.name)
        assert m is not None
        return int(m["version"])

    @property
    def hash(self) -> str:
        """sha256 (hex) of the canonical JSON of every field except ``description``."""
        return self._hash

    @property
    def pinned(self) -> bool:
        """Whether the protocol pins its tasks (see :class:`PinnedTask`)."""
        return bool(self.tasks)

    def task_ids(self) -> tuple[str, ...]:
        """The pinned task ids, or (unpinned) the suite resolved against the registry."""
        if self.tasks:
            return tuple(t.id for t in self.tasks)
        return self.suite.resolve()

    def task(self, benchmark_id: str) -> PinnedTask:
        """The pinned task ``benchmark_id`` (``ProtocolError`` if the protocol does not pin it)."""
        for t in self.tasks:
            if t.id == benchmark_id:
                return t
        raise ProtocolError(
            f"Protocol {self.name!r} pins the tasks {[t.id for t in self.tasks]}, but not "
            f"{benchmark_id!r}; run it on its own tasks, or use an unpinned protocol for others."
            + did_you_mean(benchmark_id, [t.id for t in self.tasks])
        )

    def check_task(self, benchmark_id: str, backend: Backend) -> None:
        """Refuse (``ProtocolError``) a run of a pinned protocol on a task it does not pin or on a
        backend other than the pinned one (another kind, or a file with another sha256)."""
        if not self.tasks:
            return
        t = self.task(benchmark_id)
        if backend.kind != t.backend or backend.sha256 != t.sha256:
            raise ProtocolError(
                f"Protocol {self.name!r} pins {benchmark_id} to a {t.backend} with sha256 "
                f"{t.sha256}, but the installed benchmark is a {backend.kind} with sha256 "
                f"{backend.sha256} ({backend.path or 'in memory'}). Its results would not be "
                "comparable; install the pinned data, or pin a new protocol version."
            )

    def with_references(
        self, references: Mapping[str, Mapping[str, float | int]], *, version: int
    ) -> Protocol:
        """This protocol as version ``version`` with the given per-task ``references`` filled in.

        ``references`` maps pinned task ids to their reference values (tasks not named keep
        theirs). The version must be higher than this one's: changed references change the hash,
        so they make a new protocol version.
        """
        if not self.tasks:
            raise ProtocolError(
                f"Protocol {self.name!r} pins no tasks, so it has no references to fill; pin it "
                "first (pin_protocol)."
            )
        if isinstance(version, bool) or not isinstance(version, int) or version <= self.version:
            raise ProtocolError(
                f"`version > {self.version}` (an integer) must hold for a new version of "
                f"{self.name!r}, but got {version!r}."
            )
        unknown = sorted(set(references) - {t.id for t in self.tasks})
        if unknown:
            raise ProtocolError(
                f"references must name pinned tasks of {self.name!r}, but {unknown} are not pinned."
            )
        tasks = tuple(
            dataclasses.replace(t, references=dict(references[t.id])) if t.id in references else t
            for t in self.tasks
        )
        base = self.name.rsplit("-v", 1)[0]
        return dataclasses.replace(self, name=f"{base}-v{version}", tasks=tasks)

    def _hashed_dict(self) -> dict[str, Any]:
        d = self.to_dict()
        d.pop("description")
        d["suite"].pop("description")
        return d

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "suite": self.suite.to_dict(),
            "n_workers": self.n_workers,
            "n_repetitions": self.n_repetitions,
            "budget_base": self.budget_base,
            "budget_per_sqrt_dim": self.budget_per_sqrt_dim,
            "time_factor": self.time_factor,
            "max_evaluations_factor": self.max_evaluations_factor,
            "allow_resume": self.allow_resume,
            "charge_optimizer_time": self.charge_optimizer_time,
            "objective": self.objective,
            "reported_metric": self.reported_metric,
            "seed": self.seed,
            # Unpinned protocols keep the dict (and so the hash) they had before pinning existed.
            **({"tasks": [t.to_dict() for t in self.tasks]} if self.tasks else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Protocol:
        if not isinstance(d, Mapping):
            raise ProtocolError(f"A protocol dict must be a mapping, but got {type(d).__name__}.")
        fields = dict(d)
        try:
            fields["suite"] = Suite.from_dict(fields["suite"])
            if "tasks" in fields:
                fields["tasks"] = tuple(PinnedTask.from_dict(t) for t in fields["tasks"])
            return cls(**fields)
        except (KeyError, TypeError) as e:
            raise ProtocolError(
                f"A protocol dict must hold exactly the Protocol fields ({e})."
            ) from None

    # -- budget ----------------------------------------------------------------------------
    def n_full(self, n_hyperparameters: int) -> float:
        """Full evaluations' worth of compute for a task with ``n_hyperparameters``."""
        return self.budget_base + self.budget_per_sqrt_dim * math.sqrt(n_hyperparameters)

    def time_budget(self, n_hyperparameters: int, reference_runtime: float) -> float:
        """Simulated seconds for a task whose median full-fidelity runtime is ``reference_runtime``."""
        return (
            self.time_factor * self.n_full(n_hyperparameters) * reference_runtime / self.n_workers
        )

    def max_evaluations(self, n_hyperparameters: int) -> int:
        return max(
            1, math.ceil(self.max_evaluations_factor * self.n_full(n_hyperparameters) - 1e-9)
        )


# -- built-in suites and protocols ----------------------------------------------------------
DISCRIMINATING: tuple[str, ...] = (
    "forest/concrete-v1",
    "forest/kr-vs-kp-v1",
    "forest/phoneme-v1",
    "sgd-linear/computers-v1",
    "sgd-linear/concrete-v1",
    "sgd-linear/diamonds-v1",
    "sgd-linear/magic-v1",
)
"""The tables that pass the official multi-fidelity suite's entry rule, as printed by
``hpobench discrimination`` (``hpobench.generate._discrimination.RULE``; docs/generate.md); the
``mf-*-v4`` protocols pin them (a test re-applies the rule to every shipped table)."""

_SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite(
            name="fcnet",
            patterns=("fcnet/*",),
            description="FCNet (Klein & Hutter 2019), final epoch only",
        ),
        Suite(
            name="hpobench-nn",
            patterns=("hpobench-nn/*",),
            description="HPOBench tabular MLP (Eggensperger et al. 2021), final iteration only",
        ),
        Suite(
            name="single-fidelity",
            patterns=("fcnet/*", "hpobench-nn/*"),
            description="every shipped final-only table",
        ),
        Suite(
            name="fcnet-grid",
            patterns=("fcnet-grid/*",),
            description="regenerated FCNet grids with curves",
        ),
        Suite(
            name="lcbench",
            patterns=("lcbench/*",),
            description="LCBench-style sampled configs with curves",
        ),
        Suite(
            name="gbt",
            patterns=("gbt/*",),
            description="gradient-boosted trees, boosting rounds as fidelity",
        ),
        Suite(
            name="sgd-linear",
            patterns=("sgd-linear/*",),
            description="linear models trained by SGD, epochs as fidelity",
        ),
        Suite(
            name="forest",
            patterns=("forest/*",),
            description="random forests / extra trees, the number of trees as fidelity",
        ),
        Suite(
            name="multi-fidelity",
            patterns=("fcnet-grid/*", "lcbench/*", "gbt/*", "sgd-linear/*", "forest/*"),
            description="every generated table with learning curves (epochs, rounds or trees)",
        ),
        Suite(
            name="discriminating",
            patterns=DISCRIMINATING,
            description="the multi-fidelity tables that pass the suite entry rule "
            "(`hpobench discrimination`, docs/generate.md)",
        ),
    )
}

# The suite the v2 protocols were pinned from (before sgd-linear and forest existed); kept so that
# the templates still say how the shipped v2 files were made.
_MF_SUITE_V2 = Suite(
    name="multi-fidelity",
    patterns=("fcnet-grid/*", "lcbench/*", "gbt/*"),
    description="every generated table with per-epoch (per-round) learning curves",
)


def _multi_fidelity(name: str, description: str, *, suite: Suite, n_workers: int) -> Protocol:
    """A multi-fidelity template: resume allowed, 10 repetitions, the time budget binds (the
    evaluation cap of 100 · n_full is only a safety bound)."""
    return Protocol(
        name=name,
        description=description,
        suite=suite,
        n_workers=n_workers,
        n_repetitions=10,
        max_evaluations_factor=100.0,
        allow_resume=True,
    )


# The shipped protocols are data: pinned definitions in hpobench/harness/protocols/*.json. Their
# unpinned templates below say how they were made (``pin_protocol(template)``) and document the
# rules; the files are what runs.
TEMPLATES: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            name="sf-serial-v2",
            description="Single-fidelity, one worker: 20 + 40·√d full evaluations (the count is "
            "the budget; simulated time is recorded and bounded only at 1000× as a safety net).",
            suite=_SUITES["single-fidelity"],
            n_workers=1,
            n_repetitions=10,
            # With one fidelity there is nothing cheaper to trade against, and HPOBench-NN's
            # recorded runtimes have a tail of up to ~5,000× their median (3.6 % of phoneme's
            # configurations cost more than 110 median trainings), so a time budget of
            # n_full × median left random search ~15 evaluations and some runs none at all.
            # The count binds, as in YAHPO Gym and CARP-S for single-fidelity black boxes.
            time_factor=1000.0,
            allow_resume=False,
        ),
        _multi_fidelity(
            "mf-serial-v2",
            "Multi-fidelity, one worker, resume allowed: 20 + 40·√d full evaluations' "
            "worth of simulated time.",
            suite=_MF_SUITE_V2,
            n_workers=1,
        ),
        _multi_fidelity(
            "mf-async4-v2",
            "Multi-fidelity, four asynchronous workers, resume allowed: the compute of "
            "mf-serial-v2 spread over 4 workers (a quarter of its simulated time).",
            suite=_MF_SUITE_V2,
            n_workers=4,
        ),
        _multi_fidelity(
            "mf-serial-v4",
            "Multi-fidelity, one worker, resume allowed, on the tables that pass the "
            "suite entry rule: 20 + 40·√d full evaluations' worth of simulated time.",
            suite=_SUITES["discriminating"],
            n_workers=1,
        ),
        _multi_fidelity(
            "mf-async4-v4",
            "Multi-fidelity, four asynchronous workers, resume allowed, on the tables "
            "that pass the suite entry rule: the compute of mf-serial-v4 spread over 4 workers.",
            suite=_SUITES["discriminating"],
            n_workers=4,
        ),
    )
}


def pin_protocol(protocol: Protocol, *, ids: Sequence[str] | None = None) -> Protocol:
    """``protocol`` with its tasks pinned to the installed benchmarks.

    ``ids`` defaults to the protocol's suite resolved against the registry. Each task records
    its backend's kind and sha256 (from meta.json for a registered table directory, else by
    building the benchmark). References are left empty (:meth:`Protocol.with_references`).
    """
    from hpobench.registry import make
    from hpobench.table import META_FILE, TableMeta

    chosen = protocol.suite.resolve() if ids is None else tuple(ids)
    tasks = []
    for bid in chosen:
        s = spec(bid)
        if s.path is not None:
            backend = Backend(kind="table", sha256=TableMeta.read(s.path / META_FILE).sha256)
        else:
            backend = make(bid).backend
        tasks.append(PinnedTask(id=bid, backend=backend.kind, sha256=backend.sha256))
    return dataclasses.replace(protocol, tasks=tuple(tasks))


def write_protocol(protocol: Protocol, path: str | Path) -> Path:
    """Write ``protocol`` as a protocol file (JSON with its hash; atomic); return the path."""
    payload = {
        "format": FILE_FORMAT,
        "format_version": FILE_FORMAT_VERSION,
        "hash": protocol.hash,
        "protocol": protocol.to_dict(),
    }
    path = Path(path)
    write_atomic(path, (json.dumps(payload, indent=1, allow_nan=False) + "\n").encode())
    return path


def _protocol_from_json(text: str, *, source: str) -> Protocol:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProtocolError(f"{source}: must be valid JSON, but parsing failed: {e}.") from None
    if (
        not isinstance(d, Mapping)
        or d.get("format") != FILE_FORMAT
        or d.get("format_version") != FILE_FORMAT_VERSION
    ):
        raise ProtocolError(
            f"{source}: must be a {FILE_FORMAT!r} file of version {FILE_FORMAT_VERSION}."
        )
    try:
        proto = Protocol.from_dict(d["protocol"])
    except (ProtocolError, KeyError) as e:
        raise ProtocolError(f"{source}: invalid protocol record: {e}") from None
    if proto.hash != d.get("hash"):
        raise ProtocolError(
            f"{source}: the protocol must hash to its recorded hash {d.get('hash')!r}, but hashes "
            f"to {proto.hash!r}; it was edited by hand. Make a new version with "
            "Protocol.with_references(...) and write_protocol(...)."
        )
    return proto


def read_protocol(path: str | Path) -> Protocol:
    """Read a protocol file written by :func:`write_protocol` (its hash is checked)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ProtocolError(f"Cannot read protocol file {str(p)!r}: {e}.") from None
    return _protocol_from_json(text, source=str(p))


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[str, Protocol]:
    """The pinned protocol files shipped in ``hpobench/harness/protocols`` (read once)."""
    out: dict[str, Protocol] = {}
    folder = importlib.resources.files("hpobench.harness") / "protocols"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            proto = _protocol_from_json(entry.read_text(encoding="utf-8"), source=str(entry))
            out[proto.name] = proto
    return out


_user_protocols: dict[str, Protocol] = {}


def _all_protocols() -> dict[str, Protocol]:
    return {**_shipped(), **_user_protocols}


def list_protocols() -> list[str]:
    """Names of the shipped and registered protocols, sorted."""
    return sorted(_all_protocols())


def get_protocol(name: str | Protocol) -> Protocol:
    """The protocol called ``name`` (a ``Protocol`` is returned as is); teaches on a miss."""
    if isinstance(name, Protocol):
        return name
    protocols = _all_protocols()
    if isinstance(name, str) and name in protocols:
        return protocols[name]
    if isinstance(name, str):
        base = name.rsplit("-v", 1)[0] if _NAME_RE.match(name) else name
        versions = sorted(
            (p for p in protocols if p.rsplit("-v", 1)[0] == base and _NAME_RE.match(p)),
            key=lambda p: int(p.rsplit("-v", 1)[1]),
        )
        if versions:
            raise ProtocolError(
                f"No protocol {name!r}; protocol names carry a version. Please use {versions[-1]!r}"
                + (f" (available: {versions})." if len(versions) > 1 else ".")
            )
    raise ProtocolError(
        f"No protocol {name!r}; the protocol must be one of {sorted(protocols)}."
        + did_you_mean(str(name), protocols)
    )


def register_protocol(protocol: Protocol) -> Protocol:
    """Make a user protocol available by name; an existing name is an error (use a new version)."""
    if not isinstance(protocol, Protocol):
        raise ProtocolError(
            f"register_protocol needs a Protocol, but got {type(protocol).__name__}."
        )
    if protocol.name in _all_protocols():
        raise ProtocolError(
            f"A protocol named {protocol.name!r} is already registered; names must be unique "
            "(bump the version: -v2, -v3, ...)."
        )
    _user_protocols[protocol.name] = protocol
    return protocol


def list_suites() -> list[str]:
    return sorted(_SUITES)


def get_suite(name: str) -> Suite:
    if name in _SUITES:
        return _SUITES[name]
    raise ProtocolError(
        f"No suite {name!r}; a suite must be one of {sorted(_SUITES)}."
        + did_you_mean(str(name), _SUITES)
    )


def resolve_suite(suite: str | Suite | Sequence[str]) -> tuple[str, ...]:
    """Benchmark ids of a suite given as a ``Suite``, a suite name, a benchmark id, a pattern
    (``"fcnet/*"``), a comma-separated mix of those, or a list of them.

    >>> resolve_suite("fcnet/protein-v1,fcnet/slice-v1")
    ('fcnet/protein-v1', 'fcnet/slice-v1')
    """
    if isinstance(suite, Suite):
        return suite.resolve()
    parts = [p.strip() for p in suite.split(",")] if isinstance(suite, str) else list(suite)
    if not parts or not all(isinstance(p, str) and p for p in parts):
        raise ProtocolError(f"A suite must name a suite, ids or patterns, but got {suite!r}.")
    out: list[str] = []
    for part in parts:
        if part in _SUITES:
            ids = _SUITES[part].resolve()
        elif "/" in part:
            ids = Suite(name="custom", patterns=(part,)).resolve()
        else:
            known = [*_SUITES, *list_benchmarks()]
            raise ProtocolError(
                f"Unknown suite {part!r}: it must be a suite ({sorted(_SUITES)}), a benchmark id or a "
                f"pattern such as 'fcnet/*'." + did_you_mean(part, known)
            )
        out.extend(i for i in ids if i not in out)
    return tuple(out)
