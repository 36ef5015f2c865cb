"""Resumable, sharded generation runs and the merge that turns them into a v1 table.

Call order::

    plan = plan_run("gbt/magic", variant="cpu")          # what to train (pure, no I/O)
    generate(plan, out)                                   # train missing chunks -> out/chunks/
    generate(plan, out, resume=True, shard=(1, 4))        # continue; or one shard of four
    merge_run(out)                                        # -> <data root>/gbt/magic/ + manifest

A run is ``n_configs × n_seeds`` *units*, numbered config-major (unit ``u`` is config
``u // n_seeds`` with seed ``seeds[u % n_seeds]``) and cut into consecutive chunks of
``chunk_size`` units. Shard ``i/n`` owns chunks ``k`` with ``k % n == i`` (round-robin, so
shards of an ordered grid get similar work). Every finished chunk is its own atomically written
file (:mod:`hpobench.generate._chunks`); a SIGKILL loses at most the chunks in flight.

``<out>/run.json`` records the run's *identity*: task, variant, code identity, configuration
hash, seeds, fidelity, chunking, dataset fingerprint. A process whose identity differs is
refused (:class:`RunMismatchError` naming each difference) — chunks of two runs are never mixed.
Chunks are also stamped with the device that timed them; one run's runtimes come from one
device, or the process stops before writing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import ConfigError, SeedError
from hpobench._validate import INT64_MAX, check_int
from hpobench.generate._chunks import (
    ChunkData,
    chunk_path,
    quarantine,
    read_chunk,
    remove_stale_temps,
    write_chunk,
)
from hpobench.generate._errors import ChunkError, GenerationError, RunMismatchError
from hpobench.generate._executors import Executor, LocalExecutor
from hpobench.generate._families import (
    Family,
    TrainContext,
    Unit,
    get_family,
    grid_description,
    resolve_task,
    task_name,
)
from hpobench.generate._provenance import (
    code_identity,
    git_commit,
    library_versions,
    source_sha256,
)
from hpobench.space import Config
from hpobench.table import TableMeta, write_table

__all__ = [
    "RUN_FILE",
    "ChunkJob",
    "RunPlan",
    "RunReport",
    "compute_chunk",
    "generate",
    "merge_run",
    "parse_shard",
    "plan_run",
    "read_run",
    "run_status",
    "shard_chunks",
]

logger = logging.getLogger(__name__)

RUN_FILE = "run.json"
_RUN_FORMAT = "hpobench-generation-run"
_RUN_FORMAT_VERSION = 1
_DIVERGED_CONVENTION = (
    "a unit whose loss became non-finite keeps NaN from the first non-finite fidelity step on "
    "(the trainer's convention); the batch it trained in continues"
)


# --------------------------------------------------------------------------------------------
# Plans, shards, jobs


@dataclass(frozen=True, eq=False, kw_only=True)
class RunPlan:
    """What a run trains: family, variant, dataset, the configurations and seeds, the chunking."""

    family: Family
    variant: str
    dataset: str
    configs: tuple[Config, ...]
    seeds: tuple[int, ...]
    tuning_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    chunk_size: int
    n_configs_override: int | None = None

    @property
    def benchmark_id(self) -> str:
        return f"{self.family.name}/{task_name(self.dataset)}-v1"

    @property
    def task(self) -> str:
        return f"{self.family.name}/{task_name(self.dataset)}"

    @property
    def n_units(self) -> int:
        return len(self.configs) * len(self.seeds)

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.n_units / self.chunk_size)

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """``[start, stop)`` unit indices of ``chunk``."""
        start = chunk * self.chunk_size
        return start, min(start + self.chunk_size, self.n_units)

    def unit_ids(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(config_id, seed)`` int64 arrays of units ``[start, stop)``."""
        u = np.arange(start, stop, dtype=np.int64)
        n_seeds = len(self.seeds)
        return u // n_seeds, np.asarray(self.seeds, dtype=np.int64)[u % n_seeds]

    def units(self, start: int, stop: int) -> tuple[Unit, ...]:
        cids, seeds = self.unit_ids(start, stop)
        return tuple(
            Unit(index=start + i, config_id=int(c), seed=int(s), config=self.configs[int(c)])
            for i, (c, s) in enumerate(zip(cids, seeds, strict=True))
        )

    def config_hash(self) -> str:
        """sha256 of the configuration list (canonical JSON, config_id order)."""
        text = json.dumps([list(c.items()) for c in self.configs], separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def command(self) -> str:
        """The CLI command that reproduces this plan (without --out/--device)."""
        parts = [f"hpobench generate {self.task} --variant {self.variant}"]
        if self.seeds != self.family.seeds:
            parts.append("--seeds " + " ".join(str(s) for s in self.seeds))
        if self.n_configs_override is not None:
            parts.append(f"--n-configs {self.n_configs_override}")
        return " ".join(parts)


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    out = []
    for s in seeds:
        out.append(check_int("each training seed", s, low=0, high=INT64_MAX, error=SeedError))
    if not out or len(set(out)) != len(out):
        raise SeedError(f"Training seeds must be a non-empty list of distinct integers, got {out}.")
    return tuple(out)


def plan_run(
    task: str | tuple[Family, str],
    *,
    variant: str = "cpu",
    seeds: Sequence[int] | None = None,
    n_configs: int | None = None,
    chunk_size: int | None = None,
) -> RunPlan:
    """Build the :class:`RunPlan` of ``task`` (``"FAMILY/TASK"`` or ``(family, dataset)``).

    ``seeds`` overrides the family's training seeds; the first ``ceil(n/2)`` become tuning
    seeds and the rest test seeds. ``n_configs`` overrides a sampled variant's count (a prefix
    of the same sequence). Raises :class:`ConfigError` / :class:`SeedError` on bad input.
    """
    family, dataset = resolve_task(task) if isinstance(task, str) else task
    if dataset not in family.datasets:
        raise ConfigError(f"Family {family.name!r} has no dataset {dataset!r}.")
    v = family.variant(variant)
    configs = tuple(family.configs(variant, n_configs))
    if seeds is None:
        all_seeds, tuning, test = family.seeds, family.tuning_seeds, family.test_seeds
    else:
        all_seeds = _check_seeds(seeds)
        half = math.ceil(len(all_seeds) / 2)
        tuning, test = all_seeds[:half], all_seeds[half:]
    size = check_int(
        "chunk_size", v.chunk_size if chunk_size is None else chunk_size, low=1, error=ConfigError
    )
    return RunPlan(
        family=family,
        variant=variant,
        dataset=dataset,
        configs=configs,
        seeds=tuple(all_seeds),
        tuning_seeds=tuple(tuning),
        test_seeds=tuple(test),
        chunk_size=size,
        n_configs_override=n_configs,
    )


_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"i/n"`` (``0 <= i < n``) into ``(i, n)``; else :class:`ConfigError`."""
    m = _SHARD_RE.match(text) if isinstance(text, str) else None
    if m is None or not 0 <= int(m[1]) < int(m[2]):
        raise ConfigError(
            f"A shard must be 'i/n' with 0 <= i < n (e.g. 0/4 ... 3/4 for four shards), "
            f"but got {text!r}."
        )
    return int(m[1]), int(m[2])


def shard_chunks(n_chunks: int, index: int, count: int) -> list[int]:
    """Chunks of shard ``index`` of ``count``: ``k % count == index`` (every chunk in one shard)."""
    if not 0 <= index < count:
        raise ConfigError(f"`0 <= index < count` must hold, but got {index=}, {count=}.")
    return list(range(index, n_chunks, count))


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
            "started_utc": _iso(started),
            "finished_utc": _iso(time.time()),
            "code": code_identity(),
            "git": git_commit(),
            "source_sha256": sources,
            "libraries": library_versions(),
        },
    )


def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------
# run.json


def _data_fingerprint(data: Any) -> str:
    h = hashlib.sha256()
    h.update(f"{data.task_type}|{data.n_classes}".encode())
    for name in ("X_train", "y_train", "X_valid", "y_valid", "X_test", "y_test"):
        arr = np.ascontiguousarray(getattr(data, name))
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _identity(plan: RunPlan, data: Any) -> dict[str, Any]:
    v = plan.family.variant(plan.variant)
    return {
        "benchmark_id": plan.benchmark_id,
        "family": plan.family.name,
        "variant": plan.variant,
        "dataset": plan.dataset,
        "code": code_identity(),
        "n_configs": len(plan.configs),
        "config_hash": plan.config_hash(),
        "seeds": list(plan.seeds),
        "tuning_seeds": list(plan.tuning_seeds),
        "test_seeds": list(plan.test_seeds),
        "fidelity": plan.family.fidelity.to_dict(),
        "metrics": list(plan.family.metrics(data.task_type)),
        "chunk_size": plan.chunk_size,
        "n_units": plan.n_units,
        "n_chunks": plan.n_chunks,
        "split_seed": plan.family.split_seed,
        "max_train_rows": v.max_train_rows,
        "settings": dict(v.settings),
        "data_sha256": _data_fingerprint(data),
    }


def _fingerprint(identity: Mapping[str, Any]) -> str:
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _atomic_json(path: Path, payload: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise GenerationError(f"Could not write {path}: {e.strerror or e}.") from e


def read_run(out: str | Path) -> dict[str, Any]:
    """The parsed ``run.json`` of a run directory, or :class:`GenerationError` saying why not."""
    path = Path(out) / RUN_FILE
    if not path.is_file():
        raise GenerationError(
            f"{out} is not a generation run directory (no {RUN_FILE}); start one with "
            "`hpobench generate FAMILY/TASK --out DIR`."
        )
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise GenerationError(f"{path} is unreadable ({e}).") from None
    if not isinstance(run, dict) or run.get("format") != _RUN_FORMAT:
        raise GenerationError(f"{path} is not a {_RUN_FORMAT} file.")
    if run.get("format_version") != _RUN_FORMAT_VERSION:
        raise GenerationError(
            f"{path} has run format version {run.get('format_version')!r}; this hpobench reads "
            f"version {_RUN_FORMAT_VERSION}."
        )
    return run


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human-readable ``key (old there, new here)`` for every differing (nested) field."""
    diffs = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            diffs += _differences(a, b, prefix=f"{prefix}{key}.")
            continue
        sa, sb = json.dumps(a), json.dumps(b)
        if len(sa) > 60 or len(sb) > 60:
            diffs.append(f"{prefix}{key}")
        else:
            diffs.append(f"{prefix}{key} ({sa} there, {sb} here)")
    return diffs


def _prepare_out(out: Path, plan: RunPlan, data: Any, identity: dict[str, Any], device: str) -> str:
    """Create ``run.json`` or check that the existing one is this run; return the fingerprint."""
    fingerprint = _fingerprint(identity)
    path = out / RUN_FILE
    if path.exists():
        run = read_run(out)
        old = run.get("identity", {})
        if run.get("fingerprint") != fingerprint or old != identity:
            diffs = _differences(old, identity)
            raise RunMismatchError(
                f"{out} holds a run of {old.get('benchmark_id')!r} ({old.get('variant')!r} "
                f"variant) that differs from this one in: {', '.join(diffs) or 'fingerprint'}. "
                "Chunks of different runs are never mixed: use another --out, or repeat the "
                "original command (same task, variant, seeds, n-configs, hpobench version)."
            )
        return fingerprint
    try:
        out.mkdir(parents=True, exist_ok=True)
        foreign = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    except OSError as e:
        raise GenerationError(f"Cannot create or read the output directory {out}: {e}.") from e
    if foreign:
        raise RunMismatchError(
            f"{out} is not empty and holds no {RUN_FILE} (found {sorted(foreign)[:5]}); "
            "generation writes only into a new or empty directory or one it created."
        )
    v = plan.family.variant(plan.variant)
    run = {
        "format": _RUN_FORMAT,
        "format_version": _RUN_FORMAT_VERSION,
        "fingerprint": fingerprint,
        "identity": identity,
        "command": plan.command(),
        "n_configs_override": plan.n_configs_override,
        "config_seed": plan.family.config_seed if v.n_configs is not None else None,
        "created_utc": _iso(time.time()),
        "created_by": {"git": git_commit(), "device_requested": device},
        "dataset_provenance": data.provenance,
        "dataset_sizes": {
            "train": len(data.y_train),
            "valid": len(data.y_valid),
            "test": len(data.y_test),
            "n_features": int(data.X_train.shape[1]),
        },
    }
    _atomic_json(path, run)
    return fingerprint


# --------------------------------------------------------------------------------------------
# generate


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


def _expected(plan: RunPlan, chunk: int) -> dict[str, Any]:
    start, stop = plan.chunk_range(chunk)
    cids, seeds = plan.unit_ids(start, stop)
    return {"chunk": chunk, "config_id": cids, "seed": seeds}


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
    identity = _identity(plan, data)
    fingerprint = _prepare_out(out, plan, data, identity, device)
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
                **_expected(plan, k),
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


# --------------------------------------------------------------------------------------------
# status and merge


def _plan_from_run(run: Mapping[str, Any]) -> RunPlan:
    ident = run["identity"]
    family = get_family(ident["family"])
    seeds = ident["seeds"]
    plan = plan_run(
        (family, ident["dataset"]),
        variant=ident["variant"],
        seeds=None if tuple(seeds) == family.seeds else seeds,
        n_configs=run.get("n_configs_override"),
        chunk_size=ident["chunk_size"],
    )
    return plan


def _check_code(out: Path, run: Mapping[str, Any]) -> None:
    old, new = run["identity"].get("code"), code_identity()
    if old != new:
        raise RunMismatchError(
            f"{out} was generated by code {old}, but this is {new}. Chunks and tables of "
            "different generator versions are never mixed: merge with the hpobench version that "
            "generated the run, or regenerate it."
        )


def run_status(out: str | Path) -> dict[str, Any]:
    """How far a run is: ``{"benchmark_id", "n_chunks", "present", "missing", "damaged"}``.

    Every present chunk is read and checked as :func:`merge_run` checks it, so "ready to merge"
    means that a merge would succeed (damaged chunks are listed, never counted as done).
    """
    out = Path(out)
    run = read_run(out)
    ident = run["identity"]
    n = int(ident["n_chunks"])
    present = [k for k in range(n) if chunk_path(out, k).exists()]
    missing = sorted(set(range(n)) - set(present))
    plan = _plan_from_run(run)
    names = list(ident["metrics"])
    damaged = []
    for k in present:
        try:
            read_chunk(
                chunk_path(out, k),
                run_fingerprint=str(run["fingerprint"]),
                metric_names=names,
                n_steps=len(plan.family.fidelity),
                **_expected(plan, k),
            )
        except ChunkError:
            damaged.append(k)
    return {
        "benchmark_id": ident["benchmark_id"],
        "n_chunks": n,
        "present": len(present),
        "missing": missing,
        "damaged": damaged,
    }


def _compact(ids: Sequence[int], limit: int = 12) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > limit else "")


def merge_run(
    out: str | Path,
    *,
    data_root: str | Path | None = None,
    refresh_manifest: bool = True,
    replace: bool = False,
) -> TableMeta:
    """Validate every chunk of the run in ``out`` and write its v1 table.

    The table goes to ``<data_root>/<family>/<task>/`` (``data_root`` defaults to
    :func:`hpobench.registry.data_root`) with provenance (code, git commits, devices, library
    versions, dates, compute and wall time; no host names), and the data root's manifest is
    refreshed. A table of the same id is replaced only with ``replace=True`` (and never one in
    another data root, see :func:`hpobench.registry.check_new_table`). Missing or damaged chunks raise :class:`ChunkError` listing them and the command
    that completes the run; chunks timed on different devices raise :class:`GenerationError`.
    """
    from hpobench.registry import check_new_table, update_manifest
    from hpobench.registry import data_root as default_root

    out = Path(out)
    run = read_run(out)
    _check_code(out, run)
    plan = _plan_from_run(run)
    ident = run["identity"]
    if plan.config_hash() != ident["config_hash"]:
        raise RunMismatchError(
            f"{out}: the configurations this code generates for {ident['benchmark_id']} differ "
            "from the run's (config_hash); the run was made by other code."
        )
    fingerprint = str(run["fingerprint"])
    if _fingerprint(ident) != fingerprint:
        raise ChunkError(f"{out / RUN_FILE} was edited: its fingerprint does not match.")
    names = list(ident["metrics"])
    n_steps = len(plan.family.fidelity)
    n_cfg, n_seeds = len(plan.configs), len(plan.seeds)
    arrays = {m: np.empty((n_cfg * n_seeds, n_steps), dtype=np.float32) for m in names}
    missing, bad = [], []
    provs: list[Mapping[str, Any]] = []
    n_diverged = 0
    for k in range(plan.n_chunks):
        path = chunk_path(out, k)
        if not path.exists():
            missing.append(k)
            continue
        try:
            chunk = read_chunk(
                path,
                run_fingerprint=fingerprint,
                metric_names=names,
                n_steps=n_steps,
                **_expected(plan, k),
            )
        except ChunkError as e:
            bad.append(f"{k} ({e})")
            continue
        start, stop = plan.chunk_range(k)
        for m in names:
            arrays[m][start:stop] = chunk.metrics[m]
        n_diverged += int(np.sum(chunk.diverged_at_step >= 0))
        provs.append(chunk.provenance)
    if missing or bad:
        parts = []
        if missing:
            parts.append(f"{len(missing)} chunk(s) missing: {_compact(missing)}")
        if bad:
            parts.append(f"{len(bad)} damaged: {'; '.join(bad[:3])}")
        raise ChunkError(
            f"{out}: cannot merge, {' and '.join(parts)} (of {plan.n_chunks}). Complete the run "
            f"with `{plan.command()} --out {out} --resume` (with the same --shard if sharded); "
            "damaged chunks are then quarantined and trained again."
        )
    devices = sorted({str(p.get("device")) for p in provs})
    if len(devices) > 1:
        raise GenerationError(
            f"{out}: chunks were timed on different devices {devices}; runtimes would not be "
            "comparable. Regenerate the chunks of all but one device (delete them, then --resume)."
        )
    calibration = _calibration(provs)
    if "runtime" in arrays and calibration["scale"] != 1.0:
        arrays["runtime"] *= np.float32(calibration["scale"])
    metrics = {m: arrays[m].reshape(n_cfg, n_seeds, n_steps) for m in names}
    meta = _table_meta(plan, run, provs, n_diverged, calibration)
    root = Path(data_root) if data_root is not None else default_root()
    check_new_table(ident["benchmark_id"], root, replace=replace)
    directory = root / plan.family.name / task_name(plan.dataset)
    space = plan.family.variant(plan.variant).space
    configs = {name: [c[name] for c in plan.configs] for name in space.names}
    final = write_table(directory, meta, configs, metrics)
    logger.info("wrote %s to %s", final.id, directory)
    if refresh_manifest:
        update_manifest(root)
    return final


def _calibration(provs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One runtime factor for the table from the calibration samples of every chunk.

    ``scale = sum(alone) / sum(batched)`` over all sampled runs' seconds per epoch (see
    :mod:`hpobench.generate._neural`); 1.0 when no chunk carries samples (one model at a time).
    """
    alone: list[float] = []
    batched: list[float] = []
    epochs: set[int] = set()
    for p in provs:
        cal = (p.get("train_info") or {}).get("calibration")
        if cal:
            alone.extend(float(x) for x in cal["alone_epoch_seconds"])
            batched.extend(float(x) for x in cal["batched_epoch_seconds"])
            epochs.add(int(cal["epochs"]))
    if not alone or sum(batched) <= 0:
        return {"scale": 1.0, "method": "none: every model was timed alone"}
    ratios = np.asarray(alone) / np.maximum(np.asarray(batched), 1e-12)
    return {
        "scale": float(sum(alone) / sum(batched)),
        "method": (
            "per chunk, a few units (seeded choice) were retrained alone with the reference "
            "trainer for the given epochs; scale = sum(alone seconds per epoch) / "
            "sum(apportioned batched seconds per epoch) over all samples of all chunks; the "
            "runtime column is the apportioned seconds times scale"
        ),
        "n_samples": len(alone),
        "epochs": sorted(epochs),
        "ratio_alone_over_batched": {
            "min": float(ratios.min()),
            "median": float(np.median(ratios)),
            "max": float(ratios.max()),
        },
    }


def _train_info(provs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Distinct per-chunk train settings (calibration samples and group sizes summarized)."""
    seen: dict[str, dict[str, Any]] = {}
    sizes: set[int] = set()
    for p in provs:
        info = dict(p.get("train_info") or {})
        info.pop("calibration", None)
        sizes.update(int(g) for g in info.pop("group_sizes", []) or [])
        seen.setdefault(json.dumps(info, sort_keys=True), info)
    out = [seen[k] for k in sorted(seen)]
    if sizes:
        for info in out:
            info["models_per_group"] = {"min": min(sizes), "max": max(sizes)}
    return out


def trained_description(plan: RunPlan) -> str:
    """What the run trained: the variant's description, unless ``--n-configs`` changed the count.

    A variant's description names its own configuration count ("the first 128 of ..."); a run
    with ``--n-configs N`` trained the first ``N`` of the same sampled sequence instead, and the
    table must say so (it once said 128 after a 32-configuration merge).
    """
    v = plan.family.variant(plan.variant)
    n = plan.n_configs_override
    if n is None or n == v.n_configs:
        return v.description
    text = (
        f"the first {n:,} configurations sampled with config_seed {plan.family.config_seed} "
        f"(--n-configs {n}; the {plan.variant!r} variant's own count is {v.n_configs:,})"
    )
    if v.max_train_rows is not None:
        text += f"; train split subsampled to at most {v.max_train_rows:,} rows"
    return text


def _runtime_description(
    family: Family, generation: Mapping[str, Any], calibration: Mapping[str, Any]
) -> str:
    """The family's definition of the seconds plus this table's device and factor."""
    text = f"{family.runtime_description} Measured on: {'; '.join(generation['devices'])}."
    if "n_samples" in calibration:
        text += (
            f" This table's calibration factor: {calibration['scale']:.4g} "
            f"(from {calibration['n_samples']} runs timed alone)."
        )
    return text


def _table_meta(
    plan: RunPlan,
    run: Mapping[str, Any],
    provs: Sequence[Mapping[str, Any]],
    n_diverged: int,
    calibration: Mapping[str, Any],
) -> TableMeta:
    family = plan.family
    v = family.variant(plan.variant)
    prov = dict(run["dataset_provenance"])
    sizes = run["dataset_sizes"]
    task_type = prov.get("task_type", "regression")
    source = prov.get("source", {})
    started = min(str(p.get("started_utc")) for p in provs)
    finished = max(str(p.get("finished_utc")) for p in provs)
    span = (
        _dt.datetime.fromisoformat(finished) - _dt.datetime.fromisoformat(started)
    ).total_seconds()
    commits = sorted(
        {json.dumps(p.get("git"), sort_keys=True) for p in provs},
    )
    libs = sorted({json.dumps(p.get("libraries"), sort_keys=True) for p in provs})
    sources = sorted({str(p.get("source_sha256")) for p in provs})
    executors = sorted({json.dumps(p.get("executor"), sort_keys=True) for p in provs})
    generation: dict[str, Any] = {
        "generated_by": "hpobench generate (hpobench.generate)",
        "command": plan.command(),
        "family": family.name,
        "variant": plan.variant,
        "variant_description": trained_description(plan),
        "n_configs": len(plan.configs),
        "configurations": (
            {"kind": "grid", "values": grid_description(v.space)}
            if v.n_configs is None
            else {
                "kind": "sampled",
                "method": "n successive SearchSpace.sample(numpy.random.default_rng(config_seed)) calls (the stream SearchSpace.sample_many used before 2026-12)",
                "config_seed": family.config_seed,
                "n_configs_override": plan.n_configs_override,
            }
        ),
        "fidelity": family.fidelity_description,
        "seeds": family.seed_description,
        "max_train_rows": v.max_train_rows,
        "train_rows_used": sizes["train"],
        "settings": dict(v.settings),
        "diverged_units": n_diverged,
        "diverged_convention": _DIVERGED_CONVENTION,
        "devices": sorted({str(p.get("device")) for p in provs}),
        "device_requested": run.get("created_by", {}).get("device_requested"),
        "train_info": _train_info(provs),
        "calibration": dict(calibration),
        "code": run["identity"]["code"],
        "source_sha256": sources,
        "git": [json.loads(s) for s in commits],
        "library_versions": [json.loads(s) for s in libs],
        "executors": [json.loads(s) for s in executors],
        "chunks": {"n_chunks": plan.n_chunks, "chunk_size": plan.chunk_size},
        "compute_seconds": round(sum(float(p.get("wall_seconds", 0.0)) for p in provs), 3),
        "wall_clock": {"first_chunk_started_utc": started, "last_chunk_finished_utc": finished},
        "wall_seconds_span": span,
        "run_created_utc": run.get("created_utc"),
        "merged_utc": _iso(time.time()),
        "run_fingerprint": run["fingerprint"],
        "data_sha256": run["identity"]["data_sha256"],
    }
    description = (
        f"{family.description}. Variant {plan.variant!r}: {trained_description(plan)}. Dataset "
        f"{plan.dataset} ({task_type}), {sizes['train']:,}/{sizes['valid']:,}/{sizes['test']:,} "
        f"train/valid/test rows, {sizes['n_features']} features."
    )
    licence = "; ".join(
        x
        for x in (
            f"dataset: {source.get('licence', 'see dataset provenance')}",
            "table: generated by hpobench (Apache-2.0)",
        )
        if x
    )
    citation = family.citation
    if source.get("citation"):
        citation += f" Dataset: {source['citation']}"
    return TableMeta(
        id=plan.benchmark_id,
        description=description,
        space=v.space,
        fidelity=family.fidelity,
        metrics=family.metrics(task_type),
        objective=family.objective(task_type),
        reported_metric=family.reported_metric(task_type),
        seeds=plan.seeds,
        tuning_seeds=plan.tuning_seeds,
        test_seeds=plan.test_seeds,
        dataset={**prov, "sizes": sizes},
        generation=generation,
        citation=citation,
        licence=licence,
        runtime_description=_runtime_description(family, generation, calibration),
        extra={"off_table": "nearest" if v.n_configs is not None else "error"},
    )
