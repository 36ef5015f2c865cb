"""``Benchmark``: the one interface tables and surrogates both implement.

Everything the harness (simulator, scoring) needs from a task goes through this interface, so
any backend plugs in. A subclass implements four members; the rest is read from :attr:`meta`:

===========================  ==========================================================================
``query(config, *, fidelity, seed) -> Result``
                             metrics at ``fidelity``, the learning curve up to it
                             (``Result.curve_block``) and the cumulative training cost in seconds
                             (``Result.cost``). The harness asks nothing else per evaluation.
``query_batch(configs, *, fidelity, seed) -> BatchResult``
                             the same for many configurations at once.
``query_curve(config, *, fidelity, seed, metric) -> Curve``
                             optional: one metric's curve up to ``fidelity`` (an owned, read-only
                             copy), its value there, the cost and the answering ``config_id``. The
                             default is built from ``query``; a backend may answer it faster. This
                             is what the harness asks per evaluation.
``backend`` (property)       a :class:`Backend` record: the kind (``"table"`` or ``"surrogate"``), the
                             sha256 of the file answers come from, and its path. Protocols pin it
                             and trajectories record it.
``meta`` (attribute)         a :class:`~hpobench.table.TableMeta`: space, fidelity, metrics, seeds
                             and ``reference_runtime`` (the median full-fidelity runtime over all
                             configurations and tuning seeds, the unit of a protocol's time budget,
                             stored in meta.json so that every backend of a task gets the same
                             budget).
===========================  ==========================================================================

Configurations: ``query`` accepts any valid configuration of :attr:`space` (an invalid one raises
``ConfigError``). A backend that stores only some configurations (a table of sampled
configurations, a sub-grid) answers a configuration it does not store with the **nearest stored
configuration** in the encoded unit cube (``SearchSpace.encode``), and ``Result.config_id`` says
which one answered. The harness uses exactly this answer; there is no second rule.

A benchmark is stateless between queries: the same query gives the same answer.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from hpobench._errors import HPOBenchError
from hpobench.benchmark._result import BatchResult, Result
from hpobench.fidelity import Fidelity
from hpobench.space import SearchSpace
from hpobench.table import MetricSpec, TableMeta

__all__ = ["BACKEND_KINDS", "Backend", "Benchmark", "Curve"]

BACKEND_KINDS = ("table", "surrogate")


@dataclass(frozen=True, kw_only=True)
class Backend:
    """What answers a benchmark's queries, identified by content.

    Attributes:
        kind: ``"table"`` (a table of real training runs) or ``"surrogate"`` (a fitted model).
        sha256: hex sha256 of the file the answers come from (the table's parquet, the
            surrogate's weights); protocols pin it, trajectories record it.
        path: where that file was loaded from (``""`` for an in-memory backend); informative only.
    """

    kind: str
    sha256: str
    path: str = ""

    def __post_init__(self) -> None:
        if self.kind not in BACKEND_KINDS:
            raise HPOBenchError(
                f"Backend kind must be one of {BACKEND_KINDS}, but got {self.kind!r}."
            )
        if not isinstance(self.sha256, str):
            raise HPOBenchError(
                f"Backend sha256 must be a hex string, but got {type(self.sha256).__name__}."
            )


class Curve(NamedTuple):
    """One metric of one evaluation (see :meth:`Benchmark.query_curve`)."""

    config_id: int
    """The stored configuration that answered (``-1``: a backend without stored configurations)."""
    value: float
    """The metric at the fidelity asked for."""
    cost: float
    """Cumulative training seconds up to that fidelity."""
    curve: np.ndarray
    """float32 values at every fidelity step up to it: an owned, read-only copy (no view of the
    backend's memory), safe to hand to an optimizer."""


class Benchmark(ABC):
    """An objective function over a search space, answered per fidelity and training seed.

    See the module docstring for the four members a subclass provides (``query``,
    ``query_batch``, ``backend``, ``meta``) and the rule for configurations a backend does not
    store.
    """

    meta: TableMeta

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def space(self) -> SearchSpace:
        return self.meta.space

    @property
    def fidelity(self) -> Fidelity:
        return self.meta.fidelity

    @property
    def metrics(self) -> Mapping[str, MetricSpec]:
        return self.meta.metrics

    @property
    def objective(self) -> str:
        return self.meta.objective

    @property
    def direction(self) -> str:
        return self.meta.direction

    @property
    def reported_metric(self) -> str:
        return self.meta.reported_metric

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.meta.seeds

    @property
    def tuning_seeds(self) -> tuple[int, ...]:
        return self.meta.tuning_seeds

    @property
    def test_seeds(self) -> tuple[int, ...]:
        return self.meta.test_seeds

    @property
    def reference_runtime(self) -> float:
        """Median full-fidelity runtime (seconds) over all configurations and tuning seeds.

        Read from meta.json (``reference_runtime``); a protocol's time budget is a multiple of
        it. Raises ``HPOBenchError`` when the metadata lacks a positive finite value.
        """
        ref = self.meta.reference_runtime
        if ref is None or not math.isfinite(ref) or ref <= 0:
            raise HPOBenchError(
                f"{self.id}: meta.json must record a positive `reference_runtime` (the median "
                f"full-fidelity runtime over all configurations and tuning seeds), but it has {ref!r}."
            )
        return float(ref)

    @property
    @abstractmethod
    def backend(self) -> Backend:
        """The kind of backend and the sha256 of the file its answers come from."""

    @abstractmethod
    def query(self, config: Mapping[str, Any], *, fidelity: int | float, seed: int) -> Result:
        """Metrics of ``config`` trained with ``seed`` up to ``fidelity``, its curve and cost."""

    @abstractmethod
    def query_batch(
        self,
        configs: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        fidelity: Any,
        seed: Any,
    ) -> BatchResult:
        """Vectorised :meth:`query`.

        ``configs`` is either a list of config dicts or a mapping name -> array (columns);
        ``fidelity`` and ``seed`` are scalars or arrays broadcast against the configs.
        """

    def query_curve(
        self, config: Mapping[str, Any], *, fidelity: int | float, seed: int, metric: str
    ) -> Curve:
        """``metric``'s learning curve of ``config`` on ``seed`` up to ``fidelity``, its value
        there, the cumulative cost and the answering ``config_id`` (built from :meth:`query`)."""
        r = self.query(config, fidelity=fidelity, seed=seed)
        curve = np.array(r.curve_block[:, r.metric_names.index(metric)], dtype=np.float32)
        curve.flags.writeable = False
        return Curve(r.config_id, float(r.metrics[metric]), float(r.cost), curve)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"
