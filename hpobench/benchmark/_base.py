"""``Benchmark``: the one interface tables and surrogates both implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from hpobench.benchmark._result import BatchResult, Result
from hpobench.fidelity import Fidelity
from hpobench.space import SearchSpace
from hpobench.table import MetricSpec, TableMeta

__all__ = ["Benchmark"]


class Benchmark(ABC):
    """An objective function over a search space, answered per fidelity and training seed.

    Subclasses implement :meth:`query` and :meth:`query_batch`; everything else is read from
    :attr:`meta`. A benchmark is stateless between queries: the same query gives the same answer.
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

    @abstractmethod
    def query(self, config: Mapping[str, Any], *, fidelity: int | float, seed: int) -> Result:
        """Metrics of ``config`` trained with ``seed`` up to ``fidelity``."""

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"
