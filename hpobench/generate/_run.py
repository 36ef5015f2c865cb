"""``generate``: train the missing chunks of one shard of a run, resumably, on any executor.

Call order (the modules each step lives in)::

    plan = plan_run("gbt/magic", variant="cpu")          # _plan: what to train (pure, no I/O)
    generate(plan, out)                                   # here: train missing chunks -> out/chunks/
    generate(plan, out, resume=True, shard=(1, 4))        # continue; or one shard of four
    merge_run(out)                                        # _merge: -> <data root>/gbt/magic/

Every finished chunk is its own atomically written file (:mod:`hpobench.generate._chunks`), so a
SIGKILL loses at most the chunks in flight; ``<out>/run.json`` (:mod:`hpobench.generate._rundir`)
makes sure a resumed or sharded process belongs to the same run. Chunks are also stamped with
the device that timed them; one run's runtimes come from one device, or the process stops
before writing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpobench._errors import ConfigError
from hpobench.generate._chunks import (
    ChunkData,
    chunk_path,
    quarantine,
    read_chunk,
    remove_stale_temps,
    write_chunk,
)
from hpobench.generate._compute import ChunkJob, compute_chunk
from hpobench.generate._errors import ChunkError, GenerationError
from hpobench.generate._executors import Executor, LocalExecutor
from hpobench.generate._families import TrainContext
from hpobench.generate._plan import RunPlan, expected_chunk, shard_chunks
from hpobench.generate._rundir import prepare_out, run_identity

__all__ = ["RunReport", "generate"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RunReport:
    """What one :func:`generate` call did."""

    out: Path
    benchmark_id: str
    n_chunks: int
    shard_chunks: int
    already_done: int
    trained: int
    quarantined: int
    remaining_in_shard: int
    wall_seconds: float
    devices: tuple[str, ...] = ()
    quarantined_paths: tuple[Path, ...] = field(default_factory=tuple)


def _load_data(plan: RunPlan) -> Any:
    from hpobench.generate.datasets import load_dataset

    v = plan.family.variant(plan.variant)
    return load_dataset(
        plan.dataset, split_seed=plan.family.split_seed, max_train_rows=v.max_train_rows
    )


def generate(
    plan: RunPlan,
    out: str | Path,
    *,
    device: str = "auto",
    resume: bool = False,
    shard: tuple[int, int] = (0, 1),
    executor: Executor | None = None,
    clock: Callable[[], float] = time.process_time,
    max_chunks: int | None = None,
    progress: bool = False,
) -> RunReport:
    """Train the chunks of ``plan`` that this shard owns and that are not finished yet.

    Without ``resume``, a run directory in which this shard already finished chunks is
    refused (so a typo does not silently continue an old run); with ``resume``, finished
    chunks are validated and skipped, and damaged ones are moved to ``<out>/quarantine/`` and
    trained again. ``max_chunks`` stops after that many newly trained chunks (time-boxing).
    ``clock`` is handed to families that time themselves (``gbt``); tests inject a
    deterministic one. Raises :class:`RunMismatchError`, :class:`GenerationError`.
    """
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', but got {device!r}.")
    if max_chunks is not None and max_chunks < 0:
        raise ConfigError(f"`max_chunks >= 0` must hold, but got {max_chunks=}.")
    t_start = time.perf_counter()
    out = Path(out)
    executor = executor or LocalExecutor()
    if not plan.family.neural and device not in ("auto", "cpu"):
        logger.warning("%s trains on the CPU; --device %s is ignored", plan.family.name, device)
    data = _load_data(plan)
    identity = run_identity(plan, data)
    fingerprint = prepare_out(out, plan, data, identity, device)
    mine = shard_chunks(plan.n_chunks, *shard)
    remove_stale_temps(out, mine)
    names = list(plan.family.metrics(data.task_type))
    n_steps = len(plan.family.fidelity)

    done: list[int] = []
    devices: set[str] = set()
    quarantined: list[Path] = []
    existing = [k for k in mine if chunk_path(out, k).exists()]
    if existing and not resume:
        raise GenerationError(
            f"{out} already holds {len(existing)} finished chunk(s) of this shard; pass --resume "
            "to continue the run (finished chunks are kept), or choose another --out."
        )
    for k in existing:
        try:
            chunk = read_chunk(
                chunk_path(out, k),
                run_fingerprint=fingerprint,
                metric_names=names,
                n_steps=n_steps,
                **expected_chunk(plan, k),
            )
        except ChunkError as e:
            quarantined.append(quarantine(out, chunk_path(out, k), str(e)))
            continue
        done.append(k)
        devices.add(str(chunk.provenance.get("device")))
    pending = [k for k in mine if k not in set(done)]
    if max_chunks is not None:
        pending = pending[:max_chunks]
    jobs = []
    for k in pending:
        start, stop = plan.chunk_range(k)
        jobs.append(
            ChunkJob(chunk=k, unit_start=start, unit_stop=stop, units=plan.units(start, stop))
        )
    ctx = TrainContext(
        family=plan.family,
        variant=plan.variant,
        data=data,
        fidelity=plan.family.fidelity,
        device=device,
        clock=clock,
        settings=dict(plan.family.variant(plan.variant).settings),
    )
    logger.info(
        "%s: %d chunks in run, %d in shard %d/%d, %d done, %d to train now (%s executor)",
        plan.benchmark_id,
        plan.n_chunks,
        len(mine),
        shard[0],
        shard[1],
        len(done),
        len(jobs),
        executor.name,
    )
    trained = 0
    from tqdm.auto import tqdm

    with tqdm(
        total=sum(j.unit_stop - j.unit_start for j in jobs),
        unit="run",
        desc=plan.benchmark_id,
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        for result in executor.map(compute_chunk, ctx, jobs):
            dev = str(result.provenance.get("device"))
            if devices and dev not in devices:
                raise GenerationError(
                    f"{out}: this run's chunks were timed on {sorted(devices)}, but chunk "
                    f"{result.chunk} trained on {dev!r}. Runtimes from different devices must not "
                    "be mixed in one table: finish the run on the same kind of device, or start "
                    "a new --out."
                )
            devices.add(dev)
            result = _with_executor(result, executor)
            write_chunk(out, result, fingerprint)
            trained += 1
            bar.update(result.n_units)
    remaining = len(mine) - len(done) - trained
    report = RunReport(
        out=out,
        benchmark_id=plan.benchmark_id,
        n_chunks=plan.n_chunks,
        shard_chunks=len(mine),
        already_done=len(done),
        trained=trained,
        quarantined=len(quarantined),
        remaining_in_shard=remaining,
        wall_seconds=time.perf_counter() - t_start,
        devices=tuple(sorted(devices)),
        quarantined_paths=tuple(quarantined),
    )
    logger.info("%s", report)
    return report


def _with_executor(result: ChunkData, executor: Executor) -> ChunkData:
    return ChunkData(
        chunk=result.chunk,
        unit_start=result.unit_start,
        unit_stop=result.unit_stop,
        config_id=result.config_id,
        seed=result.seed,
        diverged_at_step=result.diverged_at_step,
        metrics=result.metrics,
        provenance={**dict(result.provenance), "executor": executor.describe()},
    )
