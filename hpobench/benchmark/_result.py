"""Answers of a benchmark: ``Result`` (one query) and ``BatchResult`` (many)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["BatchResult", "Result"]


@dataclass(frozen=True, slots=True)
class Result:
    """One evaluation of a configuration at a fidelity and training seed.

    Attributes:
        metrics: every metric at ``fidelity`` (float; NaN where the run diverged).
        cost: seconds of training up to ``fidelity`` (cumulative runtime), what a simulator charges.
        fidelity: the fidelity value answered.
        seed: the training seed answered.
        config_id: the table row (``-1`` for a surrogate).
        curve_block: read-only float32 ``[n_steps_so_far, n_metrics]``: the learning curve up to
            and including ``fidelity``; prefer :attr:`curve`.
        metric_names: column order of ``curve_block``.
        fidelities: fidelity value of each row of ``curve_block``.
    """

    metrics: Mapping[str, float]
    cost: float
    fidelity: int | float
    seed: int
    config_id: int
    curve_block: np.ndarray = field(compare=False)  # derived; an array has no single truth value
    metric_names: tuple[str, ...]
    fidelities: tuple[int | float, ...]

    @property
    def curve(self) -> dict[str, np.ndarray]:
        """Metric name -> float32 values at every fidelity step up to this one."""
        return {name: self.curve_block[:, k] for k, name in enumerate(self.metric_names)}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.6g}" for k, v in self.metrics.items())
        return (
            f"Result(fidelity={self.fidelity!r}, seed={self.seed}, cost={self.cost:.6g}s, "
            f"config_id={self.config_id}, {shown})"
        )


# ``Result(...)`` runs ``object.__setattr__`` once per field (frozen dataclass): about a third of
# a single query's time. The query hot path sets the slots directly instead; same object.
_SLOT_SETTERS = tuple(getattr(Result, f.name).__set__ for f in fields(Result))


def _make_result(
    metrics: Mapping[str, float],
    cost: float,
    fidelity: int | float,
    seed: int,
    config_id: int,
    curve_block: np.ndarray,
    metric_names: tuple[str, ...],
    fidelities: tuple[int | float, ...],
) -> Result:
    """``Result(...)`` (same field order) for trusted callers: no ``__init__``, no checks."""
    r: Result = object.__new__(Result)
    s = _SLOT_SETTERS
    s[0](r, metrics)
    s[1](r, cost)
    s[2](r, fidelity)
    s[3](r, seed)
    s[4](r, config_id)
    s[5](r, curve_block)
    s[6](r, metric_names)
    s[7](r, fidelities)
    return r


@dataclass(frozen=True)
class BatchResult:
    """Answers of a batch query: every array has one entry per query, in query order."""

    metrics: Mapping[str, np.ndarray]
    cost: np.ndarray
    config_ids: np.ndarray

    def __len__(self) -> int:
        return int(self.cost.shape[0])
