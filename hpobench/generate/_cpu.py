"""Train the units of a one-model-at-a-time CPU family (gbt, forest) with the thread pool limited."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hpobench.generate._families import TrainContext, TrainOutput, Unit, UnitResult
from hpobench.generate._provenance import cpu_description

__all__ = ["train_units_on_cpu"]


def train_units_on_cpu(
    ctx: TrainContext,
    units: Sequence[Unit],
    train_unit: Callable[[TrainContext, Unit, float], UnitResult],
) -> TrainOutput:
    """``train_unit(ctx, unit, row_fraction)`` for every unit in turn, under
    ``ctx.settings["n_threads"]`` (default 1) threads, with the row fraction and timer recorded.
    """
    # Import scikit-learn *before* limiting threads: threadpoolctl only limits libraries that
    # are already loaded, and an unlimited OpenMP pool spins on a busy machine, inflating the
    # CPU seconds these families report.
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    n_threads = int(ctx.settings.get("n_threads", 1))
    fraction = float(ctx.settings.get("row_fraction", 0.9))
    with threadpool_limits(limits=n_threads):
        results = tuple(train_unit(ctx, unit, fraction) for unit in units)
    return TrainOutput(
        results=results,
        device=cpu_description(),
        info={
            "n_threads": n_threads,
            "timer": getattr(ctx.clock, "__qualname__", type(ctx.clock).__name__),
            "row_fraction": fraction,
        },
    )
