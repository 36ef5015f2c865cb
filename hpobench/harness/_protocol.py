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
where the numbers come from. Suites name benchmark-id patterns and are resolved lazily against
the registry, so suites of tables that do not exist yet can be declared now; an empty suite is an
error.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpobench._errors import ProtocolError, did_you_mean
from hpobench.registry import list_benchmarks, spec

__all__ = [
    "Protocol",
    "Suite",
    "get_protocol",
    "get_suite",
    "list_protocols",
    "list_suites",
    "register_protocol",
    "resolve_suite",
]

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9\-]*-v(?P<version>[0-9]+)$")
_SUITE_RE = re.compile(r"^[a-z0-9][a-z0-9\-_]*$")


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
        with a suggestion); a wildcard pattern that matches nothing is logged as a warning; a
        suite that matches nothing at all is a ``ProtocolError``.
        """
        ids = list_benchmarks()
        out: list[str] = []
        for pat in self.patterns:
            if not any(c in pat for c in "*?["):
                spec(pat)  # raises a teaching BenchmarkNotFoundError
                matched = [pat]
            else:
                matched = fnmatch.filter(ids, pat)
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
        name: ``"<name>-vN"`` (e.g. ``"mf-async4-v1"``); a changed rule gets a new version.
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
    _hash: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        m = _NAME_RE.match(self.name) if isinstance(self.name, str) else None
        if not m:
            raise ProtocolError(
                "A protocol name must look like 'name-vN' (lower case, e.g. 'mf-async4-v1'), "
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
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Protocol:
        if not isinstance(d, Mapping):
            raise ProtocolError(f"A protocol dict must be a mapping, but got {type(d).__name__}.")
        fields = dict(d)
        try:
            fields["suite"] = Suite.from_dict(fields["suite"])
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
            name="multi-fidelity",
            patterns=("fcnet-grid/*", "lcbench/*", "gbt/*"),
            description="every generated table with per-epoch (per-round) learning curves",
        ),
    )
}

_PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            name="sf-serial-v1",
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
        Protocol(
            name="mf-serial-v1",
            description="Multi-fidelity, one worker, resume allowed: 20 + 40·√d full evaluations' "
            "worth of simulated time.",
            suite=_SUITES["multi-fidelity"],
            n_workers=1,
            n_repetitions=10,
            max_evaluations_factor=100.0,
            allow_resume=True,
        ),
        Protocol(
            name="mf-async4-v1",
            description="Multi-fidelity, four asynchronous workers, resume allowed: the compute of "
            "mf-serial-v1 spread over 4 workers (a quarter of its simulated time).",
            suite=_SUITES["multi-fidelity"],
            n_workers=4,
            n_repetitions=10,
            max_evaluations_factor=100.0,
            allow_resume=True,
        ),
    )
}

_user_protocols: dict[str, Protocol] = {}


def _all_protocols() -> dict[str, Protocol]:
    return {**_PROTOCOLS, **_user_protocols}


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
        versions = sorted(p for p in protocols if p.rsplit("-v", 1)[0] == base)
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
