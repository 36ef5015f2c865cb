"""A run directory's status, and the merge that checks every chunk and writes the table.

:func:`run_status` and :func:`merge_run` read and check every chunk the same way, so "ready to
merge" means that a merge would succeed. What the table's meta.json says is built by
:mod:`hpobench.generate._tablemeta`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import ConfigError
from hpobench._validate import check_int
from hpobench.generate._chunks import chunk_path, read_chunk
from hpobench.generate._errors import ChunkError, GenerationError, RunMismatchError
from hpobench.generate._plan import expected_chunk, plan_from_run
from hpobench.generate._rundir import RUN_FILE, check_code, identity_fingerprint, read_run
from hpobench.generate._tablemeta import runtime_calibration, table_meta
from hpobench.table import TableMeta, id_path, write_table

__all__ = ["merge_run", "run_status"]

logger = logging.getLogger(__name__)


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
    plan = plan_from_run(run)
    names = list(ident["metrics"])
    damaged = []
    for k in present:
        try:
            read_chunk(
                chunk_path(out, k),
                run_fingerprint=str(run["fingerprint"]),
                metric_names=names,
                n_steps=len(plan.family.fidelity),
                **expected_chunk(plan, k),
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
    version: int = 1,
) -> TableMeta:
    """Validate every chunk of the run in ``out`` and write its table as ``family/task-v{version}``.

    A table's content is fixed once published, so a run that trains another design of a task
    (e.g. ``--n-configs 512`` where ``-v1`` holds 128) is written as a new ``version`` beside
    it: ``<data_root>/<family>/<task>/`` for version 1, ``<task>-v{version}/`` after that
    (:func:`hpobench.table.id_path`). The table goes under ``data_root`` (defaults to
    :func:`hpobench.registry.data_root`) with provenance (code, git commits, devices, library
    versions, dates, compute and wall time; no host names), and the data root's manifest is
    refreshed. A table of the same id is replaced only with ``replace=True`` (and never one in
    another data root, see :func:`hpobench.registry.check_new_table`). Missing or damaged chunks raise :class:`ChunkError` listing them and the command
    that completes the run; chunks timed on different devices raise :class:`GenerationError`.
    """
    from hpobench.registry import check_new_table, update_manifest
    from hpobench.registry import data_root as default_root

    version = check_int("the table's version", version, low=1, high=9999, error=ConfigError)
    out = Path(out)
    run = read_run(out)
    check_code(out, run)
    plan = dataclasses.replace(plan_from_run(run), version=version)
    ident = run["identity"]
    if plan.config_hash() != ident["config_hash"]:
        raise RunMismatchError(
            f"{out}: the configurations this code generates for {ident['benchmark_id']} differ "
            "from the run's (config_hash); the run was made by other code."
        )
    fingerprint = str(run["fingerprint"])
    if identity_fingerprint(ident) != fingerprint:
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
                **expected_chunk(plan, k),
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
    calibration = runtime_calibration(provs)
    if "runtime" in arrays and calibration["scale"] != 1.0:
        arrays["runtime"] *= np.float32(calibration["scale"])
    metrics = {m: arrays[m].reshape(n_cfg, n_seeds, n_steps) for m in names}
    meta = table_meta(plan, run, provs, n_diverged, calibration)
    root = Path(data_root) if data_root is not None else default_root()
    check_new_table(plan.benchmark_id, root, replace=replace)
    directory = root / id_path(plan.benchmark_id)
    space = plan.family.variant(plan.variant).space
    configs = {name: [c[name] for c in plan.configs] for name in space.names}
    final = write_table(directory, meta, configs, metrics)
    logger.info("wrote %s to %s", final.id, directory)
    if refresh_manifest:
        update_manifest(root)
    return final
