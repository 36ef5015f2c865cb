"""Configuration -> table row, in O(1).

Two indexes, chosen by the table's shape:

* ``GridIndex`` when the space is discrete and small enough: a mixed-radix code
  ``sum(index_of_value_i * stride_i)`` addresses a dense position array (-1 = not in the table).
  FCNet's 62,208 configs and HPOBench-NN's 30,000 are full grids.
* ``HashIndex`` otherwise (sampled configurations, e.g. LCBench-style tables): a dict from the
  tuple of values to the row.

Both have a Python fast path for single configs (plain dict lookups, no validation) that falls
back to the space's validation for anything unusual, so a bad config always gets the space's
clear message. Batch lookups are vectorised with ``pandas.Index.get_indexer``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from hpobench._errors import ConfigError
from hpobench._readonly import sealed
from hpobench.space import Categorical, Float, Int, Ordinal, SearchSpace
from hpobench.table import Table

__all__ = ["ConfigIndex", "OffTableError", "build_index"]

_MAX_GRID = 50_000_000
_BOOLS = (bool, np.bool_)


def _bool_guard(dims: Iterable[Iterable[Any]]) -> tuple[tuple[int, bool | None], ...]:
    """Dimensions where a dict lookup could confuse a bool with a number (``True == 1``).

    Returns ``(k, wants_bool)`` pairs: the fast paths check ``type(value) in _BOOLS`` against
    ``wants_bool`` for those dimensions only (``None``: mixed bool/number values, always take
    the validating path) and otherwise leave the decision to the space's validation.
    """
    guard: list[tuple[int, bool | None]] = []
    for k, values in enumerate(dims):
        vals = {_item(v) for v in values}
        has_bool = any(isinstance(v, bool) for v in vals)
        has_01 = any(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v in (0, 1) for v in vals
        )
        if has_bool or has_01:
            guard.append((k, None if has_bool and has_01 else has_bool))
    return tuple(guard)


def _object_bool_mismatch(col: np.ndarray, want: bool | None) -> np.ndarray:
    """Mask of an object column's entries where a bool stands for a number or vice versa.

    Numeric and bool arrays never match across kinds in ``get_indexer``; object arrays
    (a list of dicts with mixed types) do, since ``True == 1``.
    """
    if col.dtype != object or want is None:
        return np.zeros(len(col), dtype=bool)
    is_bool = np.fromiter((type(x) in _BOOLS for x in col.tolist()), dtype=bool, count=len(col))
    return np.asarray(is_bool != want)


class OffTableError(ConfigError):
    """A valid configuration the table does not store; ``nearest`` is the closest stored row."""

    def __init__(self, message: str, nearest: int) -> None:
        super().__init__(message)
        self.nearest = nearest


class ConfigIndex:
    """Maps configurations to table rows. Build with :func:`build_index`."""

    kind: str = ""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.space: SearchSpace = table.meta.space
        self.names = self.space.names
        self._unit: np.ndarray | None = None

    def row(self, config: Mapping[str, Any]) -> int:
        """Row of ``config`` or ``ConfigError`` (naming the nearest valid values)."""
        raise NotImplementedError

    def rows(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Vectorised :meth:`row` over equally long columns (int64 rows)."""
        raise NotImplementedError

    # -- shared helpers ------------------------------------------------------------------
    def unit_matrix(self) -> np.ndarray:
        """The table's configurations encoded to ``[0, 1]^d`` (computed once)."""
        if self._unit is None:
            cols = []
            for hp in self.space:
                vals = self.table.configs[hp.name]
                cols.append(np.array([hp.to_unit(v) for v in vals.tolist()], dtype=np.float64))
            self._unit = sealed(np.stack(cols, axis=1))
        return self._unit

    def nearest_row(self, config: Mapping[str, Any]) -> int:
        """Row of the table configuration closest to ``config`` in the unit cube."""
        x = self.space.encode(config)
        d = ((self.unit_matrix() - x) ** 2).sum(axis=1)
        return int(np.argmin(d))

    def row_or_nearest(self, config: Mapping[str, Any]) -> int:
        """Row of ``config``, or of the nearest stored configuration when it is valid but not
        stored (``ConfigError`` if it is not a configuration of the space)."""
        try:
            return self.row(config)
        except OffTableError as e:
            return e.nearest

    def rows_or_nearest(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Vectorised :meth:`row_or_nearest`."""
        try:
            return self.rows(columns)
        except OffTableError:
            n = _check_columns(self.space, columns)
            return np.asarray(
                [
                    self.row_or_nearest({k: _item(columns[k][i]) for k in self.names})
                    for i in range(n)
                ],
                dtype=np.int64,
            )

    def _off_table(self, canonical: Mapping[str, Any]) -> OffTableError:
        nearest = self.nearest_row(canonical)
        return OffTableError(
            f"{self.table.meta.id}: configuration {dict(canonical)} is in the search space but not in "
            f"the table. Nearest stored configuration: {self.table.config(nearest)}.",
            nearest,
        )

    def _column_codes(self, name: str, col: np.ndarray) -> np.ndarray:
        """Index of each value of ``col`` among the hyperparameter's grid values (-1: none)."""
        raise NotImplementedError


def _grid_values(hp: Any) -> tuple[Any, ...]:
    if isinstance(hp, Ordinal):
        return hp.values
    if isinstance(hp, Categorical):
        return hp.choices
    if isinstance(hp, Int):
        return tuple(range(hp.low, hp.high + 1))
    raise TypeError(hp)


def _lookup_codes(values: tuple[Any, ...], col: np.ndarray, *, tolerant: bool) -> np.ndarray:
    """Vectorised value -> position in ``values``; with ``tolerant`` (ordinal and categorical
    numbers, as ``_Discrete.index`` does) floats also match within 1e-9 relative; an Int takes
    only exact integers, as ``Int.validate`` does."""
    if col.dtype.kind == "U" and all(isinstance(v, str) for v in values):
        # numpy strings: sorted search, ~15x faster than get_indexer's conversion to objects
        grid = np.asarray(values)
        order = np.argsort(grid)
        pos = np.clip(np.searchsorted(grid[order], col), 0, len(grid) - 1)
        return np.where(grid[order][pos] == col, order[pos], -1).astype(np.int64)
    idx = pd.Index(list(values))
    codes = np.asarray(idx.get_indexer(col), dtype=np.int64)
    miss = codes < 0
    if (
        tolerant
        and miss.any()
        and col.dtype.kind in "iuf"
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    ):
        grid = np.asarray(values, dtype=np.float64)
        x = col[miss].astype(np.float64)
        close = np.isclose(x[:, None], grid[None, :], rtol=1e-9, atol=1e-12)
        hit = close.any(axis=1)
        fixed = np.where(hit, close.argmax(axis=1), -1)
        codes[np.flatnonzero(miss)] = fixed
    return codes


class GridIndex(ConfigIndex):
    kind = "grid"

    def __init__(self, table: Table) -> None:
        super().__init__(table)
        self._values = [_grid_values(hp) for hp in self.space]
        radices = [len(v) for v in self._values]
        strides = np.ones(len(radices), dtype=np.int64)
        for i in range(len(radices) - 2, -1, -1):
            strides[i] = strides[i + 1] * radices[i + 1]
        self._strides = sealed(strides)
        size = int(np.prod(radices, dtype=np.int64))
        code = np.zeros(table.n_configs, dtype=np.int64)
        for k, (name, vals) in enumerate(zip(self.names, self._values, strict=True)):
            c = _lookup_codes(vals, table.configs[name], tolerant=False)
            if np.any(c < 0):  # cannot happen for a loaded (validated) table
                raise ConfigError(f"{table.meta.id}: stored values of {name!r} are off the grid.")
            code += c * strides[k]
        pos = np.full(size, -1, dtype=np.int64)
        if len(np.unique(code)) != len(code):
            raise ConfigError(
                f"{table.meta.id}: the table stores the same configuration more than once."
            )
        pos[code] = np.arange(table.n_configs)
        self._pos_np = sealed(pos)
        self._pos = tuple(pos.tolist())  # immutable, as fast to index as a list
        self._maps = [
            ({v: i for i, v in enumerate(vals)}, int(s))
            for vals, s in zip(self._values, strides.tolist(), strict=True)
        ]
        self._fast = list(zip(self.names, self._maps, strict=True))
        self._d = len(self.names)
        # Fast path: value -> index * stride, so the code is a plain sum of dict lookups.
        self._premul = [
            (name, {v: i * s for v, i in m.items()})
            for name, (m, s) in zip(self.names, self._maps, strict=True)
        ]
        self._guard = _bool_guard(self._values)
        self._guard_of = dict(self._guard)
        self._guard_names = [(self.names[k], want) for k, want in self._guard]

    def row(self, config: Mapping[str, Any]) -> int:
        try:
            if len(config) == self._d:
                code = 0
                for name, m in self._premul:  # value -> index * stride
                    code += m[config[name]]
                r: int = self._pos[code]
                for name, want in self._guard_names:
                    if (type(config[name]) in _BOOLS) is not want:
                        r = -1  # a bool posing as 0/1 or a number as a bool: validate
                if r >= 0:
                    return r
        except (KeyError, TypeError):
            pass
        return self._row_slow(config)

    def _row_slow(self, config: Mapping[str, Any]) -> int:
        canonical = self.space.validate(config)
        code = sum(m[canonical[n]] * s for n, (m, s) in self._fast)
        r = self._pos[code]
        if r < 0:
            raise self._off_table(canonical)
        return int(r)

    def rows(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        n = _check_columns(self.space, columns)
        code = np.zeros(n, dtype=np.int64)
        for k, (name, vals) in enumerate(zip(self.names, self._values, strict=True)):
            col = np.asarray(columns[name])
            try:
                c = _lookup_codes(vals, col, tolerant=not isinstance(self.space[name], Int))
            except TypeError:  # unhashable values (lists): the space says what is wrong
                for v in col.tolist():
                    self.space[name].validate(v)
                raise  # pragma: no cover - validate raised above
            if k in self._guard_of:
                c[_object_bool_mismatch(col, self._guard_of[k])] = -1
            if np.any(c < 0):
                bad = col[c < 0][0]
                self.space[name].validate(bad.item() if isinstance(bad, np.generic) else bad)
                raise ConfigError(f"{name} value {bad!r} is not in the table.")  # pragma: no cover
            code += c * self._strides[k]
        rows = self._pos_np[code]
        if np.any(rows < 0):
            i = int(np.flatnonzero(rows < 0)[0])
            raise self._off_table(
                self.space.validate({k: _item(columns[k][i]) for k in self.names})
            )
        return rows


class HashIndex(ConfigIndex):
    kind = "hash"

    def __init__(self, table: Table) -> None:
        super().__init__(table)
        cols = [table.configs[n].tolist() for n in self.names]
        keys = list(zip(*cols, strict=True))
        self._map = {k: i for i, k in enumerate(keys)}
        if len(self._map) != len(keys):
            raise ConfigError(
                f"{table.meta.id}: the table stores the same configuration more than once."
            )
        self._mi = pd.MultiIndex.from_arrays([table.configs[n] for n in self.names])
        self._guard = _bool_guard(cols)
        self._guard_names = [(self.names[k], want) for k, want in self._guard]

    def row(self, config: Mapping[str, Any]) -> int:
        try:
            if len(config) == len(self.names):
                r = self._map[tuple([config[n] for n in self.names])]
                for name, want in self._guard_names:
                    if (type(config[name]) in _BOOLS) is not want:
                        r = -1  # a bool posing as 0/1 or a number as a bool: validate
                if r >= 0:
                    return r
        except (KeyError, TypeError):
            pass
        canonical = self.space.validate(config)
        found = self._map.get(tuple(canonical[n] for n in self.names))
        if found is None:
            raise self._off_table(canonical)
        return found

    def rows(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        n = _check_columns(self.space, columns)
        cols = [np.asarray(columns[k]) for k in self.names]
        try:
            rows = np.asarray(self._mi.get_indexer(pd.MultiIndex.from_arrays(cols)), np.int64)
        except TypeError:  # unhashable values (lists): row() below validates one by one
            rows = np.full(n, -1, dtype=np.int64)
        for k, want in self._guard:
            rows[_object_bool_mismatch(cols[k], want)] = -1
        # Misses may still be stored configs written differently (0.30000000000000004 for an
        # ordinal 0.3): the single-config path canonicalises them, or raises the clear error.
        for i in np.flatnonzero(rows < 0).tolist():
            rows[i] = self.row({k: _item(columns[k][i]) for k in self.names})
        if rows.shape != (n,):  # pragma: no cover - get_indexer keeps the query length
            raise ConfigError(f"Batch lookup returned shape {rows.shape}, expected ({n},).")
        return rows


def _item(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _check_columns(space: SearchSpace, columns: Mapping[str, Any]) -> int:
    if not isinstance(columns, Mapping):
        raise ConfigError(
            f"Batch configs must be a mapping name -> array, but got {type(columns).__name__}."
        )
    missing = [n for n in space.names if n not in columns]
    extra = [k for k in columns if k not in space]
    if missing or extra:
        raise ConfigError(
            f"Batch configs must have exactly the columns {list(space.names)}, but {missing} are missing "
            f"and {extra} are unknown."
        )
    shapes = {np.shape(columns[n]) for n in space.names}
    if any(len(s) != 1 for s in shapes):
        raise ConfigError(
            f"Batch config columns must be 1-d arrays (one value per query), but got shapes "
            f"{sorted(shapes)}."
        )
    lengths = {s[0] for s in shapes}
    if len(lengths) != 1:
        raise ConfigError(
            f"Batch config columns must have equal lengths, but got lengths {sorted(lengths)}."
        )
    return lengths.pop()


def build_index(table: Table) -> ConfigIndex:
    space = table.meta.space
    if space.is_discrete and not any(isinstance(hp, Float) for hp in space):
        size = 1
        for hp in space:
            size *= len(_grid_values(hp)) if not isinstance(hp, Int) else hp.high - hp.low + 1
            if size > _MAX_GRID:
                break
        if size <= _MAX_GRID:
            return GridIndex(table)
    return HashIndex(table)
