"""Chunk files: the unit of durable progress of a generation run.

A run's ``(configuration, seed)`` units are cut into consecutive chunks; each finished chunk is
one parquet file ``<out>/chunks/chunk-NNNNNN.parquet`` with columns ``config_id`` (int64),
``seed`` (int64), ``diverged_at_step`` (int32, -1 = never) and one ``list<float32>`` per metric.
Its schema metadata key ``hpobench.chunk`` holds JSON provenance: the run fingerprint, the chunk
index and unit range, the sha256 of the content, device, timings.

Why this shape: a file appears under its final name only after it was completely written and
fsync'ed (temp file in the same folder + ``os.replace``), so a SIGKILL leaves either the whole
chunk or a stray temp file, never a half chunk under a real name. Because disks and copies do
fail anyway, :func:`read_chunk` re-derives everything it can (rows, unit range, list lengths,
content hash) and raises :class:`ChunkError` with the reason; nothing from a damaged or foreign
chunk is ever mixed into a table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hpobench._atomic import write_atomic
from hpobench.generate._errors import ChunkError, GenerationError

__all__ = [
    "CHUNK_DIR",
    "QUARANTINE_DIR",
    "ChunkData",
    "chunk_path",
    "quarantine",
    "read_chunk",
    "remove_stale_temps",
    "write_chunk",
]

logger = logging.getLogger(__name__)

CHUNK_DIR = "chunks"
QUARANTINE_DIR = "quarantine"
_META_KEY = b"hpobench.chunk"
_TMP_SUFFIX = ".tmp"


@dataclass(frozen=True, eq=False, kw_only=True)
class ChunkData:
    """The content of one chunk; arrays are row-aligned (one row per unit, in unit order).

    ``metrics[name]`` is ``float32[n_units, n_steps]``; ``provenance`` is JSON-serializable.
    """

    chunk: int
    unit_start: int
    unit_stop: int
    config_id: np.ndarray
    seed: np.ndarray
    diverged_at_step: np.ndarray
    metrics: Mapping[str, np.ndarray]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return self.unit_stop - self.unit_start


def chunk_path(out: Path, chunk: int) -> Path:
    """Final path of chunk ``chunk`` in run directory ``out``."""
    return Path(out) / CHUNK_DIR / f"chunk-{chunk:06d}.parquet"


def content_sha256(data: ChunkData) -> str:
    """sha256 of the chunk's numbers in a canonical byte layout (metric names sorted)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(data.config_id, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(data.seed, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(data.diverged_at_step, dtype="<i4").tobytes())
    for name in sorted(data.metrics):
        h.update(name.encode("utf-8") + b"\0")
        h.update(np.ascontiguousarray(data.metrics[name], dtype="<f4").tobytes())
    return h.hexdigest()


def _to_arrow(data: ChunkData, run_fingerprint: str) -> pa.Table:
    n = data.n_units
    for label, arr in (
        ("config_id", data.config_id),
        ("seed", data.seed),
        ("diverged_at_step", data.diverged_at_step),
    ):
        if np.shape(arr) != (n,):
            raise ChunkError(
                f"chunk {data.chunk}: {label} must have {n} entries, got {np.shape(arr)}."
            )
    columns: dict[str, pa.Array] = {
        "config_id": pa.array(np.asarray(data.config_id, dtype=np.int64)),
        "seed": pa.array(np.asarray(data.seed, dtype=np.int64)),
        "diverged_at_step": pa.array(np.asarray(data.diverged_at_step, dtype=np.int32)),
    }
    for name in sorted(data.metrics):
        arr = np.ascontiguousarray(data.metrics[name], dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != n:
            raise ChunkError(
                f"chunk {data.chunk}: metric {name!r} must be [{n}, n_steps], got {arr.shape}."
            )
        offsets = pa.array(np.arange(0, arr.size + 1, arr.shape[1], dtype=np.int32))
        columns[name] = pa.ListArray.from_arrays(offsets, pa.array(arr.reshape(-1)))
    meta = {
        **dict(data.provenance),
        "run_fingerprint": run_fingerprint,
        "chunk": data.chunk,
        "unit_start": data.unit_start,
        "unit_stop": data.unit_stop,
        "content_sha256": content_sha256(data),
    }
    table = pa.table(columns)
    return table.replace_schema_metadata({_META_KEY: json.dumps(meta, sort_keys=True)})


def write_chunk(out: Path, data: ChunkData, run_fingerprint: str) -> Path:
    """Write ``data`` atomically to :func:`chunk_path`; return that path.

    An ``OSError`` (disk full, permissions, quota) removes the temp file and raises
    :class:`GenerationError` saying what happened; no file appears under the final name.
    """
    final = chunk_path(out, data.chunk)
    table = _to_arrow(data, run_fingerprint)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    payload = sink.getvalue().to_pybytes()
    try:
        write_atomic(final, payload, tmp_suffix=_TMP_SUFFIX)
    except OSError as e:
        raise GenerationError(
            f"Could not write chunk {data.chunk} to {final}: {e.strerror or e}. Nothing partial "
            "was kept (the chunk will be trained again); fix the cause (free disk space, "
            "permissions) and rerun with --resume."
        ) from e
    return final


def read_chunk(
    path: Path,
    *,
    run_fingerprint: str,
    chunk: int,
    config_id: np.ndarray,
    seed: np.ndarray,
    metric_names: Sequence[str],
    n_steps: int,
) -> ChunkData:
    """Read and fully check one chunk file against what the run expects.

    Raises :class:`ChunkError` (with the reason) if the file is missing, unreadable, from
    another run or chunk, holds other units, other metrics, wrong list lengths, or numbers
    whose sha256 differs from the one recorded when it was written.
    """
    where = f"chunk file {path}"
    if not path.is_file():
        raise ChunkError(f"{where} does not exist.")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise ChunkError(f"{where} is not a readable parquet file ({e}).") from None
    raw = (table.schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise ChunkError(f"{where} lacks its hpobench.chunk metadata; it was not written here.")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise ChunkError(f"{where} has unreadable hpobench.chunk metadata.") from None
    if meta.get("run_fingerprint") != run_fingerprint:
        raise ChunkError(
            f"{where} belongs to another run (fingerprint {str(meta.get('run_fingerprint'))[:12]}, "
            f"this run {run_fingerprint[:12]})."
        )
    if meta.get("chunk") != chunk:
        raise ChunkError(f"{where} holds chunk {meta.get('chunk')!r}, expected {chunk}.")
    expected_cols = ["config_id", "seed", "diverged_at_step", *sorted(metric_names)]
    if sorted(table.column_names) != sorted(expected_cols):
        raise ChunkError(
            f"{where} has columns {sorted(table.column_names)}, expected {sorted(expected_cols)}."
        )
    n = len(config_id)
    if table.num_rows != n:
        raise ChunkError(f"{where} has {table.num_rows} rows, expected {n}.")
    cid = table.column("config_id").to_numpy().astype(np.int64)
    sd = table.column("seed").to_numpy().astype(np.int64)
    if not (np.array_equal(cid, config_id) and np.array_equal(sd, seed)):
        raise ChunkError(f"{where} holds other (config_id, seed) units than chunk {chunk} needs.")
    metrics: dict[str, np.ndarray] = {}
    for name in metric_names:
        col = table.column(name).combine_chunks()
        if not pa.types.is_list(col.type) or not pa.types.is_float32(col.type.value_type):
            raise ChunkError(f"{where}: metric {name!r} must be list<float32>, is {col.type}.")
        if col.null_count:
            raise ChunkError(f"{where}: metric {name!r} has null lists.")
        values = col.flatten().to_numpy(zero_copy_only=False)
        offsets = col.offsets.to_numpy()
        if values.size != n * n_steps or not np.array_equal(np.diff(offsets), np.full(n, n_steps)):
            raise ChunkError(f"{where}: metric {name!r} lists must hold {n_steps} values each.")
        metrics[name] = values.reshape(n, n_steps).astype(np.float32, copy=False)
    data = ChunkData(
        chunk=chunk,
        unit_start=int(meta.get("unit_start", -1)),
        unit_stop=int(meta.get("unit_stop", -1)),
        config_id=cid,
        seed=sd,
        diverged_at_step=table.column("diverged_at_step").to_numpy().astype(np.int32),
        metrics=metrics,
        provenance={k: v for k, v in meta.items() if k != "content_sha256"},
    )
    if content_sha256(data) != meta.get("content_sha256"):
        raise ChunkError(
            f"{where}: its numbers do not match the sha256 recorded when it was written "
            "(the file was damaged or edited)."
        )
    return data


def quarantine(out: Path, path: Path, reason: str) -> Path:
    """Move a bad chunk file to ``<out>/quarantine/`` (never deleted: it may help a post-mortem)."""
    qdir = Path(out) / QUARANTINE_DIR
    qdir.mkdir(parents=True, exist_ok=True)
    i = 0
    while (target := qdir / f"{path.name}.{i}").exists():
        i += 1
    os.replace(path, target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    logger.warning("quarantined %s -> %s: %s", path, target, reason)
    return target


def remove_stale_temps(out: Path, chunks: Sequence[int]) -> int:
    """Delete temp files left by killed writers of ``chunks``; return how many were removed.

    Only the given chunks' temp files are touched, so a concurrent shard writing other chunks
    into the same folder is never disturbed.
    """
    cdir = Path(out) / CHUNK_DIR
    if not cdir.is_dir():
        return 0
    wanted = {chunk_path(out, k).name for k in chunks}
    removed = 0
    for p in cdir.iterdir():
        if p.name.startswith(".") and p.name.endswith(_TMP_SUFFIX):
            target = p.name[1:].split(".parquet.", 1)[0] + ".parquet"
            if target in wanted:
                p.unlink(missing_ok=True)
                removed += 1
    if removed:
        logger.info("removed %d stale temp file(s) of killed writers in %s", removed, cdir)
    return removed
