"""Configuration -> network input, validated, for one config or a batch of columns.

The network sees each hyperparameter's unit-cube coordinate (``SearchSpace.encode``), except
categoricals, which are one-hot (an unordered choice has no meaningful position on a line).
The unit coordinates (one per hyperparameter, before one-hot) also key the seed-noise hash.

A configuration outside the space is refused with the space's own ``ConfigError``: the fast
paths below only accept values they are sure of and hand everything else to
``SearchSpace.validate``, exactly as the table's index does, so the surrogate refuses what the
table refuses with the same words, and never extrapolates beyond the bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hpobench.space import Categorical, Float, Int, Ordinal, SearchSpace

__all__ = ["Encoder"]

_REAL = (int, float)


def _unit_fn(hp: Float | Int) -> Callable[[Any], float]:
    """Plain-Python ``hp.to_unit`` for values already known to be in range (same arithmetic)."""
    if isinstance(hp, Float):
        if hp.log:
            lo, span = math.log(hp.low), math.log(hp.high) - math.log(hp.low)
            return lambda v: (math.log(v) - lo) / span
        lo, span = hp.low, hp.high - hp.low
        return lambda v: (v - lo) / span
    if hp.log and hp.low > 0.5:
        a, b = math.log(hp.low - 0.5), math.log(hp.high + 0.5)
        return lambda v: (math.log(v) - a) / (b - a)
    a2, b2 = hp.low - 0.5, hp.high + 0.5
    return lambda v: (float(v) - a2) / (b2 - a2)


class Encoder:
    """Encodes configurations of ``space`` for the network (``width`` inputs)."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the space: the fast path's lookup functions are closures.
        return (Encoder, (self.space,))

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.names = space.names
        self.d = len(space)
        cols: list[int] = []  # first input column of each hyperparameter
        width = 0
        for hp in space:
            cols.append(width)
            width += len(hp.choices) if isinstance(hp, Categorical) else 1
        self.width = width
        self._cols = tuple(cols)
        self._onehot = tuple(
            (k, cols[k], len(hp.choices))
            for k, hp in enumerate(space)
            if isinstance(hp, Categorical)
        )
        self._numeric_cols = np.asarray(
            [cols[k] for k, hp in enumerate(space) if not isinstance(hp, Categorical)], np.int64
        )
        self._numeric_k = np.asarray(
            [k for k, hp in enumerate(space) if not isinstance(hp, Categorical)], np.int64
        )
        self._numeric_pairs = tuple(
            zip(self._numeric_k.tolist(), self._numeric_cols.tolist(), strict=True)
        )
        # Fast single-config path: per hyperparameter, value -> unit for discrete ones (with
        # the value's exact type, so True never passes for 1) or a range check + formula.
        fast: list[tuple[str, Any, Any]] = []
        for hp in space:
            if isinstance(hp, (Ordinal, Categorical)):
                table = {(type(v), v): hp.to_unit(v) for v in hp._values}
                fast.append((hp.name, "d", table))
            else:
                fast.append((hp.name, (hp.low, hp.high, isinstance(hp, Int)), _unit_fn(hp)))
        self._fast = tuple(fast)
        # Vectorised batch lookup of discrete values (sorted values, their units, the column
        # dtype kinds that may match): only where every value has one Python type, so an
        # exact match by ``searchsorted`` is the same test as the dict lookup ``(type, value)``.
        self._sorted: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
        for hp in space:
            if isinstance(hp, (Ordinal, Categorical)):
                types = {type(v) for v in hp._values}
                kinds = (
                    {int: "iu", float: "f", str: "U"}.get(types.pop()) if len(types) == 1 else None
                )
                if kinds is None:
                    continue
                vals = np.asarray(hp._values)
                order = np.argsort(vals, kind="stable")
                units = np.asarray([hp.to_unit(v) for v in hp._values], dtype=np.float64)
                self._sorted[hp.name] = (vals[order], units[order], kinds)

    # -- one configuration --------------------------------------------------------------
    def unit_one(self, config: Mapping[str, Any]) -> list[float]:
        """Unit-cube coordinates of ``config`` (validated; ``ConfigError`` if outside the space)."""
        try:
            if len(config) == self.d:
                out = []
                for name, kind, fn in self._fast:
                    v = config[name]
                    if kind == "d":
                        out.append(fn[(type(v), v)])
                    else:
                        lo, hi, is_int = kind
                        t = type(v)
                        if not (t is float or t is int) or not lo <= v <= hi:
                            raise KeyError(name)
                        if is_int and t is float and v != int(v):
                            raise KeyError(name)
                        out.append(fn(v))
                return out
        except (KeyError, TypeError):
            pass
        canonical = self.space.validate(config)  # raises the space's ConfigError
        return [hp.to_unit(canonical[hp.name]) for hp in self.space]

    def row(self, unit: list[float]) -> np.ndarray:
        """Network input with a trailing 1, ``float32 [1, width + 1]``, of one config."""
        return self.row1(unit)[None]

    def row1(self, unit: list[float]) -> np.ndarray:
        """Network input with a trailing 1, ``float32 [width + 1]``, of one config."""
        if not self._onehot:
            return np.array([*unit, 1.0], dtype=np.float32)
        x = [0.0] * (self.width + 1)
        x[-1] = 1.0
        for k, c in self._numeric_pairs:
            x[c] = unit[k]
        for k, c, n in self._onehot:
            x[c + min(int(unit[k] * n), n - 1)] = 1.0
        return np.array(x, dtype=np.float32)

    # -- many configurations ------------------------------------------------------------
    def unit_many(self, columns: Mapping[str, Any], n: int) -> np.ndarray:
        """``float64 [n, d]`` unit coordinates of equally long columns (validated)."""
        u = np.empty((n, self.d), dtype=np.float64)
        for k, hp in enumerate(self.space):
            col = np.asarray(columns[hp.name])
            got = self._unit_column(hp, col) if n else np.empty(0)
            if got is None:  # something unusual: let the space say what is wrong, row by row
                for i in range(n):
                    v = col[i]
                    hp.validate(v.item() if isinstance(v, np.generic) else v)
                got = np.asarray(
                    [hp.to_unit(v.item() if isinstance(v, np.generic) else v) for v in col],
                    dtype=np.float64,
                )
            u[:, k] = got
        return u

    def _unit_column(self, hp: Any, col: np.ndarray) -> np.ndarray | None:
        if isinstance(hp, (Ordinal, Categorical)):
            got = self._sorted.get(hp.name)
            if got is not None and col.dtype.kind in got[2] and col.ndim == 1:
                sv, units, _ = got
                pos = np.minimum(np.searchsorted(sv, col), len(sv) - 1)
                if np.array_equal(sv[pos], col):
                    return units[pos]
            table = {(type(v), v): hp.to_unit(v) for v in hp._values}
            try:
                return np.asarray([table[(type(v), v)] for v in col.tolist()], dtype=np.float64)
            except (KeyError, TypeError):
                return None
        if col.dtype.kind not in "iuf":
            return None
        v = col.astype(np.float64)
        if not np.all(np.isfinite(v)) or v.min() < hp.low or v.max() > hp.high:
            return None
        if isinstance(hp, Int):
            if col.dtype.kind == "f" and not np.all(v == np.round(v)):
                return None
            if hp.log and hp.low > 0.5:
                a, b = math.log(hp.low - 0.5), math.log(hp.high + 0.5)
                return (np.log(v) - a) / (b - a)
            a2, b2 = hp.low - 0.5, hp.high + 0.5
            return (v - a2) / (b2 - a2)
        if hp.log:
            lo, span = math.log(hp.low), math.log(hp.high) - math.log(hp.low)
            return (np.log(v) - lo) / span
        return (v - hp.low) / (hp.high - hp.low)

    def rows(self, unit: np.ndarray) -> np.ndarray:
        """Network input ``float64 [n, width]`` from unit coordinates ``[n, d]``."""
        if not self._onehot:
            return unit
        n = unit.shape[0]
        x = np.zeros((n, self.width), dtype=np.float64)
        x[:, self._numeric_cols] = unit[:, self._numeric_k]
        for k, c, m in self._onehot:
            idx = np.minimum((unit[:, k] * m).astype(np.int64), m - 1)
            x[np.arange(n), c + idx] = 1.0
        return x
