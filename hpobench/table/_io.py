"""Reading and writing the v1 table format (``table.parquet`` + ``meta.json``).

The parquet holds one row per (configuration, training seed): ``config_id`` (int32), one typed
column per hyperparameter, ``seed`` (int64) and one ``list<float32>`` column per metric with one
value per fidelity step. Reading never unpickles, checks the sha256 recorded in meta.json, the
schema, completeness (every config has every seed exactly once), list lengths, and that every
stored configuration lies in the declared search space. A mismatch is a ``TableError`` naming
the file.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hpobench._atomic import write_atomic
from hpobench._errors import ConfigError, TableError, TableIntegrityError
from hpobench.space import Float, Int, Ordinal, SearchSpace
from hpobench.table._meta import TableMeta
from hpobench.table._table import Table

__all__ = [
    "META_FILE",
    "TABLE_FILE",
    "read_table",
    "reference_runtime",
    "sha256_file",
    "write_table",
]

TABLE_FILE = "table.parquet"
META_FILE = "meta.json"
_ROW_GROUP = 1 << 20


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def reference_runtime(meta: TableMeta, runtime: np.ndarray) -> float | None:
    """Median full-fidelity runtime over all configurations and tuning seeds (NaN ignored).

    ``runtime`` is the runtime metric, float32 ``[n_configs, n_seeds, n_steps]`` in ``meta.seeds``
    order. This is the unit of a protocol's time budget; ``None`` when it is not a positive
    finite number (a table without meaningful runtimes).
    """
    pos = [meta.seeds.index(s) for s in meta.tuning_seeds]
    final = np.asarray(runtime, dtype=np.float32)[:, pos, -1].astype(np.float64)
    if not np.any(np.isfinite(final)):
        return None
    ref = float(np.nanmedian(final))
    return ref if math.isfinite(ref) and ref > 0 else None


def _hp_arrow_type(space: SearchSpace, name: str) -> pa.DataType:
    hp = space[name]
    if isinstance(hp, Float):
        return pa.float64()
    if isinstance(hp, Int):
        return pa.int64()
    values = hp.values if isinstance(hp, Ordinal) else hp.choices
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return pa.bool_()
    if kinds <= {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    if kinds == {str}:
        return pa.string()
    raise TableError(
        f"Hyperparameter {name!r} mixes value types {sorted(k.__name__ for k in kinds)}; a table column needs one type."
    )


def _canonical_column(space: SearchSpace, name: str, col: np.ndarray) -> list[Any]:
    """The column's values validated by the space, in their declared form.

    Arrow would otherwise coerce silently (1.5 -> 1 in an int64 column, True -> 1).
    """
    hp = space[name]
    values = col.tolist()
    # (type, value) keys: True and 1 are one dict key, (bool, True) and (int, 1) are two.
    try:
        canon = dict.fromkeys(zip(map(type, values), values, strict=True))
    except TypeError:  # unhashable values (lists)
        raise TableError(
            f"config column {name!r} must hold one scalar value per row, but holds unhashable "
            f"values such as {[v for v in values if type(v).__hash__ is None][:1]!r}."
        ) from None
    for key in canon:
        try:
            canon[key] = hp.validate(key[1])
        except ConfigError as e:
            raise TableError(
                f"config column {name!r} holds {key[1]!r}, which is not in the search space: {e}"
            ) from None
    if all(type(c) is t and c == v for (t, v), c in canon.items()):
        return values
    return [canon[(type(v), v)] for v in values]


def write_table(
    directory: str | Path,
    meta: TableMeta,
    configs: Mapping[str, Any],
    metrics: Mapping[str, Any],
) -> TableMeta:
    """Write ``table.parquet`` and ``meta.json`` into ``directory``; return the meta with sha256.

    Args:
        configs: hyperparameter name -> sequence of length ``n_configs`` (row i = config_id i).
        metrics: metric name -> float array ``[n_configs, n_seeds, n_steps]`` (seeds in
            ``meta.seeds`` order, steps in ``meta.fidelity`` order). NaN marks a diverged run.

    The same inputs give the same bytes. Files are written atomically (temp file + rename).
    """
    directory = Path(directory)
    space = meta.space
    if list(configs) != list(space.names):
        raise TableError(
            f"configs must have the columns {list(space.names)} in order, but got {list(configs)}."
        )
    if set(metrics) != set(meta.metrics):
        raise TableError(
            f"metrics must be exactly {sorted(meta.metrics)}, but got {sorted(metrics)}."
        )
    cols = {k: np.asarray(v) for k, v in configs.items()}
    n_configs = len(np.atleast_1d(next(iter(cols.values()))))
    n_seeds, n_steps = len(meta.seeds), len(meta.fidelity)
    arrays: dict[str, pa.Array] = {}
    config_id = np.repeat(np.arange(n_configs, dtype=np.int32), n_seeds)
    arrays["config_id"] = pa.array(config_id, type=pa.int32())
    for name, col in cols.items():
        if col.ndim != 1 or len(col) != n_configs:
            raise TableError(
                f"config column {name!r} must be 1-d with {n_configs} rows, but has shape {col.shape}."
            )
        typ = _hp_arrow_type(space, name)
        values = _canonical_column(space, name, col)
        try:
            arrays[name] = pa.array(values, type=typ).take(pa.array(config_id))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
            raise TableError(
                f"config column {name!r} must hold {typ} values for {space[name]}, but "
                f"converting {col.dtype} values failed: {e}"
            ) from None
    arrays["seed"] = pa.array(
        np.tile(np.asarray(meta.seeds, dtype=np.int64), n_configs), type=pa.int64()
    )
    offsets = pa.array(np.arange(0, n_configs * n_seeds * n_steps + 1, n_steps, dtype=np.int32))
    ref_runtime: float | None = None
    for name in meta.metrics:
        try:
            arr = np.asarray(metrics[name], dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise TableError(f"metric {name!r} must be an array of floats, but: {e}") from None
        if arr.shape != (n_configs, n_seeds, n_steps):
            raise TableError(
                f"metric {name!r} must have shape (n_configs, n_seeds, n_steps) = "
                f"{(n_configs, n_seeds, n_steps)}, but got {arr.shape}."
            )
        if name == meta.runtime_metric:
            ref_runtime = reference_runtime(meta, arr)
        arrays[name] = pa.ListArray.from_arrays(
            offsets, pa.array(arr.reshape(-1), type=pa.float32())
        )
    tbl = pa.table(arrays)
    # Validate through the same path a reader takes before anything touches disk.
    dense = _to_dense(tbl, replace(meta, n_configs=n_configs), source="<in-memory>")
    del dense
    directory.mkdir(parents=True, exist_ok=True)
    sink = pa.BufferOutputStream()
    pq.write_table(
        tbl,
        sink,
        compression="zstd",
        compression_level=9,
        row_group_size=_ROW_GROUP,
        use_dictionary=True,
        write_statistics=False,
        store_schema=False,
    )
    payload = sink.getvalue().to_pybytes()
    digest = hashlib.sha256(payload).hexdigest()
    write_atomic(directory / TABLE_FILE, payload)
    final = replace(meta, sha256=digest, n_configs=n_configs, reference_runtime=ref_runtime)
    write_atomic(directory / META_FILE, final.to_json().encode("utf-8"))
    return final


def read_table(directory: str | Path, *, verify_checksum: bool = True) -> Table:
    """Load and check one table directory (``meta.json`` + ``table.parquet``)."""
    directory = Path(directory)
    meta = TableMeta.read(directory / META_FILE)
    path = directory / TABLE_FILE
    if not path.is_file():
        raise TableError(
            f"Table file {str(path)!r} does not exist (meta.json names it for {meta.id})."
        )
    if verify_checksum:
        digest = sha256_file(path)
        if digest != meta.sha256:
            raise TableIntegrityError(
                f"{path}: sha256 must equal {meta.sha256!r} as recorded in meta.json, but the file has "
                f"{digest!r}. The file is corrupted or was changed; regenerate or re-import it."
            )
    try:
        tbl = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise TableError(f"{path}: not a readable parquet file ({e}).") from None
    table = _to_dense(tbl, meta, source=str(path))
    if meta.reference_runtime is not None:
        got = reference_runtime(meta, table.metric(meta.runtime_metric))
        if got != meta.reference_runtime:
            raise TableIntegrityError(
                f"{directory / META_FILE}: reference_runtime must equal the median full-fidelity "
                f"runtime over all configurations and tuning seeds, {got!r}, but meta.json records "
                f"{meta.reference_runtime!r}."
            )
    return table


def _to_dense(tbl: pa.Table, meta: TableMeta, *, source: str) -> Table:
    space = meta.space
    expected = ["config_id", *space.names, "seed", *meta.metrics]
    if sorted(tbl.column_names) != sorted(expected):
        missing = [c for c in expected if c not in tbl.column_names]
        extra = [c for c in tbl.column_names if c not in expected]
        raise TableIntegrityError(
            f"{source}: columns must be {expected}, but {missing} are missing and {extra} are unexpected."
        )
    n_rows = tbl.num_rows
    n_seeds, n_steps = len(meta.seeds), len(meta.fidelity)
    if n_rows == 0 or n_rows % n_seeds:
        raise TableIntegrityError(
            f"{source}: {n_rows} rows cannot hold every config × {n_seeds} seeds."
        )
    n_configs = n_rows // n_seeds
    if meta.n_configs and meta.n_configs != n_configs:
        raise TableIntegrityError(
            f"{source}: meta.json says {meta.n_configs} configs, the file holds {n_configs}."
        )
    for c in ("config_id", "seed"):
        if not pa.types.is_integer(tbl.schema.field(c).type):
            raise TableIntegrityError(
                f"{source}: column {c!r} must be an integer, got {tbl.schema.field(c).type}."
            )
    cid = tbl.column("config_id").to_numpy().astype(np.int64)
    seed = tbl.column("seed").to_numpy().astype(np.int64)
    seed_pos = {s: i for i, s in enumerate(meta.seeds)}
    sidx = np.full(seed.shape, -1, dtype=np.int64)
    for s, i in seed_pos.items():
        sidx[seed == s] = i
    if np.any(sidx < 0):
        raise TableIntegrityError(
            f"{source}: seeds must be in {list(meta.seeds)}, found {sorted(set(seed[sidx < 0].tolist()))[:5]}."
        )
    if cid.min() < 0 or cid.max() >= n_configs:
        raise TableIntegrityError(
            f"{source}: config_id must run over 0..{n_configs - 1}, found {cid.min()}..{cid.max()}."
        )
    flat = cid * n_seeds + sidx
    order = np.argsort(flat, kind="stable")
    if not np.array_equal(flat[order], np.arange(n_rows)):
        raise TableIntegrityError(
            f"{source}: every (config_id, seed) pair must appear exactly once."
        )
    first = order[::n_seeds]  # row of seed index 0 for each config, in config order
    configs: dict[str, np.ndarray] = {}
    for name in space.names:
        col = tbl.column(name)
        want = _hp_arrow_type(space, name)
        if not col.type.equals(want):
            raise TableIntegrityError(
                f"{source}: column {name!r} must be {want}, but is {col.type}."
            )
        if col.null_count:
            raise TableIntegrityError(
                f"{source}: column {name!r} must have a value in every row, but has "
                f"{col.null_count} nulls."
            )
        if pa.types.is_string(want):
            # Compare small integer codes, and build Python strings for one row per config
            # only: converting every row's string is most of a load otherwise.
            enc = col.combine_chunks().dictionary_encode()
            codes = enc.indices.to_numpy()
            vocab = np.asarray(enc.dictionary.to_pylist(), dtype=object)
        else:
            codes = np.asarray(col.to_numpy(zero_copy_only=False))
            vocab = None
        by_seed = codes[order].reshape(n_configs, n_seeds)
        if n_seeds > 1 and not np.all(by_seed == by_seed[:, :1]):
            raise TableIntegrityError(
                f"{source}: column {name!r} differs between seeds of one config_id."
            )
        configs[name] = codes[first] if vocab is None else vocab[codes[first]]
        _check_in_space(space, name, configs[name], source)
    data = np.empty((n_configs, n_seeds, n_steps, len(meta.metrics)), dtype=np.float32)
    for k, name in enumerate(meta.metrics):
        col = tbl.column(name).combine_chunks()
        if not (
            pa.types.is_list(col.type) or pa.types.is_large_list(col.type)
        ) or not pa.types.is_float32(col.type.value_type):
            raise TableIntegrityError(
                f"{source}: metric {name!r} must be list<float32>, but is {col.type}."
            )
        if col.null_count:
            raise TableIntegrityError(
                f"{source}: metric {name!r} has null lists; use NaN inside a list instead."
            )
        lengths = pc.list_value_length(col).to_numpy()
        if np.any(lengths != n_steps):
            raise TableIntegrityError(
                f"{source}: metric {name!r} lists must have {n_steps} values (one per fidelity step)."
            )
        values = pc.list_flatten(col).to_numpy(zero_copy_only=False).reshape(n_rows, n_steps)
        data[..., k] = values[order].reshape(n_configs, n_seeds, n_steps)
    return Table(meta=meta, configs=configs, data=data, metric_names=tuple(meta.metrics))


def _check_in_space(space: SearchSpace, name: str, col: np.ndarray, source: str) -> None:
    hp = space[name]
    if isinstance(hp, (Float, Int)):
        bad = ~((col >= hp.low) & (col <= hp.high))
        if isinstance(hp, Float):
            bad |= ~np.isfinite(col.astype(np.float64))
    else:
        allowed = np.asarray(hp.values if isinstance(hp, Ordinal) else hp.choices)
        bad = ~np.isin(col, allowed)
    if np.any(bad):
        raise TableIntegrityError(
            f"{source}: column {name!r} holds {col[bad].tolist()[0]!r}, outside the space's {hp}."
        )


def read_meta_json(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return dict(json.load(f))
