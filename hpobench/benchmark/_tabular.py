"""``TabularBenchmark``: answers queries from a loaded table, from dense numpy arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import ConfigError, FidelityError, SeedError
from hpobench._readonly import sealed
from hpobench._validate import as_scalar
from hpobench.benchmark._base import Backend, Benchmark, Curve
from hpobench.benchmark._index import ConfigIndex, OffTableError, build_index
from hpobench.benchmark._result import BatchResult, Result, _make_result
from hpobench.space import Config
from hpobench.table import Table, read_table, reference_runtime

__all__ = ["TabularBenchmark"]

_new_tuple = tuple.__new__


class TabularBenchmark(Benchmark):
    """A benchmark answered exactly from a table of real training runs.

    Args:
        table: a loaded :class:`~hpobench.table.Table`.
        path: the table's directory (recorded in :attr:`backend`; ``None`` for in-memory tables).

    A valid configuration the table does not store (tables of sampled configurations, e.g.
    LCBench-style continuous spaces, or sub-grids) is answered with the nearest stored
    configuration in the encoded unit cube; ``Result.config_id`` names the row that answered,
    and :meth:`config` returns its stored values. The harness answers the same way.

    >>> import hpobench, numpy as np
    >>> b = hpobench.make("fcnet/protein-v1")
    >>> r = b.query(b.table.config(0), fidelity=b.fidelity.max, seed=0)
    >>> r.cost > 0, r.config_id
    (True, 0)
    """

    def __init__(self, table: Table, *, path: str | Path | None = None) -> None:
        self.table = table
        self.meta = table.meta
        self._backend = Backend(
            kind="table", sha256=table.meta.sha256, path="" if path is None else str(path)
        )
        self.index: ConfigIndex = build_index(table)
        self._row = self.index.row
        self._data = table.data
        self._names = table.metric_names
        self._cost_k = table.metric_index(table.meta.runtime_metric)
        self._metric_k = {name: k for k, name in enumerate(self._names)}
        fvals = table.meta.fidelity.values
        self._fpos = {v: i for i, v in enumerate(fvals)}
        self._fvals = fvals
        self._fprefix = [fvals[: i + 1] for i in range(len(fvals))]
        self._spos = {s: i for i, s in enumerate(table.meta.seeds)}
        self._seeds = table.meta.seeds
        self._flat = self._data.reshape(-1, self._data.shape[-1])  # [(config, seed, step), metric]
        self._n_seeds, self._n_steps = table.n_seeds, table.n_steps
        # Seeds are small non-negative ints in practice: a lookup table beats searchsorted.
        seeds = table.meta.seeds
        self._seed_lut: np.ndarray | None = None
        if min(seeds) >= 0 and max(seeds) < 1 << 16:
            lut = np.full(max(seeds) + 1, -1, dtype=np.int64)
            lut[list(seeds)] = np.arange(len(seeds))
            self._seed_lut = sealed(lut)
        self._seeds_sorted = sealed(np.asarray(sorted(table.meta.seeds), dtype=np.int64))
        self._seed_order = sealed(
            np.asarray([table.meta.seeds.index(s) for s in sorted(table.meta.seeds)], np.int64)
        )
        self._reference_runtime: float | None = None

    @classmethod
    def from_directory(cls, path: str | Path) -> TabularBenchmark:
        """Load ``path/meta.json`` + ``path/table.parquet`` (checksum and schema checked)."""
        return cls(read_table(path), path=path)

    @property
    def backend(self) -> Backend:
        """``Backend(kind="table", sha256=<the parquet's sha256>, path=<table directory>)``."""
        return self._backend

    @property
    def reference_runtime(self) -> float:
        """From meta.json; a table whose metadata lacks it (written by an older hpobench, or built
        in memory) computes it from its runtime metric, by the same rule."""
        if self.meta.reference_runtime is not None:
            return self.meta.reference_runtime
        if self._reference_runtime is None:
            ref = reference_runtime(self.meta, self.table.metric(self.meta.runtime_metric))
            if ref is None:
                return super().reference_runtime  # raises: no positive runtime
            self._reference_runtime = ref
        return self._reference_runtime

    # -- single queries --------------------------------------------------------------------
    def config_id(self, config: Mapping[str, Any]) -> int:
        """Table row that answers ``config``: its own, or the nearest stored one."""
        try:
            return self._row(config)
        except OffTableError as e:
            return e.nearest

    def query(self, config: Mapping[str, Any], *, fidelity: int | float, seed: int) -> Result:
        try:
            row = self._row(config)
        except OffTableError as e:
            row = e.nearest
        f = self._fpos.get(fidelity) if type(fidelity) in (int, float) else None
        if f is None:
            f = self.fidelity.index(fidelity)
        s = self._spos.get(seed) if type(seed) is int else None
        if s is None:
            s = self._seed_index_slow(seed)
        k = (row * self._n_seeds + s) * self._n_steps  # first step of (row, seed) in _flat
        curve = self._flat[k : k + f + 1]  # == data[row, s, : f + 1], one basic slice
        vals = curve[f].tolist()
        return _make_result(  # == Result(...) in field order, without the frozen __init__
            dict(zip(self._names, vals, strict=False)),  # equal lengths by construction
            vals[self._cost_k],
            self._fvals[f],
            self._seeds[s],
            row,
            curve,
            self._names,
            self._fprefix[f],
        )

    def query_curve(
        self, config: Mapping[str, Any], *, fidelity: int | float, seed: int, metric: str
    ) -> Curve:
        # The harness's per-evaluation question, answered without building a Result.
        try:
            row = self._row(config)
        except OffTableError as e:
            row = e.nearest
        f = self._fpos.get(fidelity) if type(fidelity) in (int, float) else None
        if f is None:
            f = self.fidelity.index(fidelity)
        s = self._spos.get(seed) if type(seed) is int else None
        if s is None:
            s = self._seed_index_slow(seed)
        m = self._metric_k.get(metric)
        if m is None:
            m = self.table.metric_index(metric)  # raises, naming the metrics
        k = (row * self._n_seeds + s) * self._n_steps
        flat = self._flat
        curve = flat[k : k + f + 1, m].copy()  # owned: no view of table memory leaves
        curve.setflags(write=False)
        # tuple.__new__: a NamedTuple's own __new__ is a Python-level call on this hot path
        return _new_tuple(Curve, (row, flat.item(k + f, m), flat.item(k + f, self._cost_k), curve))

    def _seed_index_slow(self, seed: Any) -> int:
        seed = as_scalar(seed)  # np.int64(0) and np.array(0) are seed 0
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise SeedError(
                f"{self.id}: seed must be an int among {list(self.seeds)}, but got {seed!r}."
            )
        s = self._spos.get(int(seed))
        if s is None:
            raise SeedError(f"{self.id}: seed must be one of {list(self.seeds)}, but got {seed!r}.")
        return s

    # -- batch queries ---------------------------------------------------------------------
    def config_ids(self, configs: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Table rows answering many configurations (a list of dicts or a mapping of columns)."""
        return self.index.rows_or_nearest(_as_columns(configs, self.space.names))

    def query_batch(
        self,
        configs: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        fidelity: Any,
        seed: Any,
    ) -> BatchResult:
        return self.query_ids(self.config_ids(configs), fidelity=fidelity, seed=seed)

    def query_ids(self, config_ids: Any, *, fidelity: Any, seed: Any) -> BatchResult:
        """Batch query by table rows: the fastest path (no config matching)."""
        rows = np.asarray(config_ids)
        if rows.dtype.kind not in "iu" or rows.ndim != 1:
            raise ConfigError(
                f"config_ids must be a 1-d integer array, but got dtype {rows.dtype}, shape {rows.shape}."
            )
        n = rows.shape[0]
        if n and (rows.min() < 0 or rows.max() >= self.table.n_configs):
            raise ConfigError(
                f"config_ids must lie in [0, {self.table.n_configs}), got {rows.min()}..{rows.max()}."
            )
        fidx = self._fidelity_indices(fidelity, n)
        sidx = self._seed_indices(seed, n)
        # One flat row index and one np.take: several times faster than data[rows, sidx, fidx].
        flat = (rows.astype(np.int64, copy=False) * self._n_seeds + sidx) * self._n_steps
        block = np.take(self._flat, flat + fidx, axis=0)  # [n, n_metrics]
        metrics = {name: block[:, k] for k, name in enumerate(self._names)}
        return BatchResult(metrics=metrics, cost=block[:, self._cost_k], config_ids=rows)

    def _fidelity_indices(self, fidelity: Any, n: int) -> np.ndarray | int:
        if np.ndim(fidelity) == 0:
            if fidelity is None:
                raise FidelityError(
                    f"{self.id}: fidelity is required (one of {list(self._fvals)[:8]}...)."
                )
            return self.fidelity.index(fidelity)
        arr = np.asarray(fidelity)
        if arr.shape != (n,):
            raise FidelityError(
                f"fidelity must be a scalar or have shape ({n},), but got shape {arr.shape}."
            )
        return self.fidelity.indices(arr)

    def _seed_indices(self, seed: Any, n: int) -> np.ndarray | int:
        if np.ndim(seed) == 0:
            return self._seed_index_slow(seed.item() if isinstance(seed, np.generic) else seed)
        arr = np.asarray(seed)
        if arr.shape != (n,) or arr.dtype.kind not in "iu":
            raise SeedError(
                f"seed must be an int scalar or an int array of shape ({n},), but got {arr.dtype} {arr.shape}."
            )
        lut = self._seed_lut
        if lut is not None and n and arr.min() >= 0 and arr.max() < len(lut):
            found = np.take(lut, arr)
            if found.min() >= 0:
                return found
        pos = np.clip(np.searchsorted(self._seeds_sorted, arr), 0, len(self._seeds_sorted) - 1)
        ok = self._seeds_sorted[pos] == arr
        if not np.all(ok):
            raise SeedError(
                f"{self.id}: seeds must be in {list(self.seeds)}, but got {arr[~ok][0].item()!r}."
            )
        return self._seed_order[pos]

    # -- conveniences ----------------------------------------------------------------------
    def config(self, config_id: int) -> Config:
        return self.table.config(config_id)


def _column(values: list[Any]) -> np.ndarray:
    """One batch column; bools mixed with numbers stay objects (numpy would make True a 1)."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):  # ragged (a list among scalars): objects, validated later
        arr = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            arr[i] = v
        return arr
    if arr.dtype.kind in "iuf":
        types = set(map(type, values))  # C-level: a generator of isinstance costs 10x more
        if (
            bool in types
            or np.bool_ in types
            or any(issubclass(t, (bool, np.bool_)) for t in types)
        ):
            return np.asarray(values, dtype=object)
    return arr


def _as_columns(configs: Any, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    if isinstance(configs, Mapping):
        return {k: np.asarray(v) for k, v in configs.items()}
    if isinstance(configs, Sequence) and not isinstance(configs, (str, bytes)):
        rows = list(configs)
        want = set(names)
        for i, c in enumerate(rows):
            if type(c) is not dict and not isinstance(c, Mapping):
                raise ConfigError(
                    f"Batch configs must be dicts, but item {i} is {type(c).__name__}."
                )
            if c.keys() != want:
                raise ConfigError(
                    f"Batch config {i} must have exactly the names {list(names)}, but has {sorted(c)}."
                )
        return {n: _column([c[n] for c in rows]) for n in names}
    raise ConfigError(
        f"Batch configs must be a list of dicts or a mapping of columns, but got {type(configs).__name__}."
    )
