"""One chunk trained in a worker: the job sent out and the checked :class:`ChunkData` back.

:func:`compute_chunk` is the one function every executor runs (in-process, process pool, Ray
task); it checks that the family's train function returned one complete curve per unit and
stamps the chunk with its provenance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hpobench.generate._chunks import ChunkData
from hpobench.generate._errors import GenerationError
from hpobench.generate._families import TrainContext, Unit
from hpobench.generate._provenance import (
    code_identity,
    git_commit,
    library_versions,
    source_sha256,
    utc_iso,
)

__all__ = ["ChunkJob", "compute_chunk"]


@dataclass(frozen=True, kw_only=True)
class ChunkJob:
    """One chunk to train: its index, unit range and units (sent to a worker)."""

    chunk: int
    unit_start: int
    unit_stop: int
    units: tuple[Unit, ...]


def compute_chunk(ctx: TrainContext, job: ChunkJob) -> ChunkData:
    """Train one chunk with the family's train function and check what came back.

    This is the one function every executor runs (in-process, process pool, Ray task).
    """
    started = time.time()
    sources = source_sha256()  # before training imports the trainer: hash what will run
    t0 = time.perf_counter()
    output = ctx.family.train(ctx, job.units)
    wall = time.perf_counter() - t0
    names = list(ctx.family.metrics(ctx.data.task_type))
    n, n_steps = len(job.units), len(ctx.fidelity)
    by_index = {r.index: r for r in output.results}
    wanted = [u.index for u in job.units]
    if sorted(by_index) != sorted(wanted) or len(output.results) != n:
        raise GenerationError(
            f"{ctx.family.name}: the train function must return one result per unit of chunk "
            f"{job.chunk} ({n}), but returned {len(output.results)} for units "
            f"{sorted(by_index)[:5]}..."
        )
    metrics = {name: np.empty((n, n_steps), dtype=np.float32) for name in names}
    diverged = np.full(n, -1, dtype=np.int32)
    for row, unit in enumerate(job.units):
        result = by_index[unit.index]
        if sorted(result.metrics) != sorted(names):
            raise GenerationError(
                f"{ctx.family.name}: a unit result must have metrics {sorted(names)}, but has "
                f"{sorted(result.metrics)}."
            )
        for name in names:
            arr = np.asarray(result.metrics[name], dtype=np.float32)
            if arr.shape != (n_steps,):
                raise GenerationError(
                    f"{ctx.family.name}: metric {name!r} must have {n_steps} steps, got {arr.shape}."
                )
            metrics[name][row] = arr
        if result.diverged_at_step is not None:
            diverged[row] = int(result.diverged_at_step)
    cids = np.asarray([u.config_id for u in job.units], dtype=np.int64)
    seeds = np.asarray([u.seed for u in job.units], dtype=np.int64)
    return ChunkData(
        chunk=job.chunk,
        unit_start=job.unit_start,
        unit_stop=job.unit_stop,
        config_id=cids,
        seed=seeds,
        diverged_at_step=diverged,
        metrics=metrics,
        provenance={
            "device": output.device,
            "train_info": dict(output.info),
            "wall_seconds": wall,
            "started_utc": utc_iso(started),
            "finished_utc": utc_iso(time.time()),
            "code": code_identity(),
            "git": git_commit(),
            "source_sha256": sources,
            "libraries": library_versions(),
        },
    )
