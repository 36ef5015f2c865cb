"""``Fidelity``: the training-progress axis of a benchmark (epochs, rows, boosting rounds)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpobench._errors import FidelityError
from hpobench._validate import as_scalar, is_real

__all__ = ["Fidelity"]


@dataclass(frozen=True)
class Fidelity:
    """An ordered, strictly increasing sequence of fidelity values with a name.

    A table stores one value per step; ``values[i]`` is the fidelity of step ``i``.
    A final-only table has a single value.

    >>> f = Fidelity("epoch", (1, 2, 3))
    >>> f.index(2), f.max
    (1, 3)
    """

    name: str
    values: tuple[int | float, ...]
    _pos: dict[int | float, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise FidelityError(f"A fidelity name must be an identifier, but got {self.name!r}.")
        if isinstance(self.values, (str, bytes)) or not hasattr(self.values, "__iter__"):
            raise FidelityError(
                f"Fidelity {self.name!r} values must be a sequence of numbers, but got {self.values!r}."
            )
        vals = tuple(as_scalar(v) for v in self.values)
        if not vals:
            raise FidelityError(f"Fidelity {self.name!r} needs at least one value, but got none.")
        for v in vals:
            if not is_real(v) or not math.isfinite(v if isinstance(v, float) else 0.0):
                raise FidelityError(
                    f"Fidelity {self.name!r} values must be finite numbers, but got {v!r}."
                )
            if isinstance(v, int) and abs(v) > 1 << 53:
                raise FidelityError(
                    f"Fidelity {self.name!r} values must be finite numbers exact as floats "
                    f"(|v| <= 2**53), but got an integer of {len(str(abs(v)))} digits."
                )
        if any(b <= a for a, b in itertools.pairwise(vals)):
            raise FidelityError(
                f"Fidelity {self.name!r} values must strictly increase, but got {list(vals)}."
            )
        object.__setattr__(self, "values", vals)
        object.__setattr__(self, "_pos", {v: i for i, v in enumerate(vals)})

    @property
    def min(self) -> int | float:
        return self.values[0]

    @property
    def max(self) -> int | float:
        return self.values[-1]

    def __len__(self) -> int:
        return len(self.values)

    def index(self, value: Any) -> int:
        """Step index of ``value``; raises ``FidelityError`` naming the valid values."""
        value = as_scalar(value)
        is_bool = isinstance(value, bool)  # True == 1 would hit a fidelity of 1
        try:
            if not is_bool:
                return self._pos[value]
        except (KeyError, TypeError):
            pass
        if is_real(value):
            try:
                v = float(value)
            except OverflowError:
                v = math.inf
            if math.isfinite(v):
                for i, fv in enumerate(self.values):
                    if math.isclose(v, fv, rel_tol=1e-9, abs_tol=1e-12):
                        return i
        raise FidelityError(self._bad_value_message(value))

    def indices(self, values: Any) -> np.ndarray:
        """Vectorised :meth:`index` over an array of fidelity values (int64 result)."""
        try:
            arr = np.asarray(values)
        except (OverflowError, ValueError, TypeError):
            arr = np.asarray([None])
        if arr.dtype.kind not in "iuf":
            raise FidelityError(
                f"{self.name} values must be numbers, but got an array of dtype {arr.dtype}."
            )
        grid = np.asarray(self.values, dtype=np.float64)
        x = arr.astype(np.float64, copy=False)
        idx = np.clip(np.searchsorted(grid, x), 0, len(grid) - 1)
        if np.array_equal(grid[idx], x):  # the usual case, exact values: no tolerance pass
            return idx.astype(np.int64, copy=False)
        left = np.clip(idx - 1, 0, len(grid) - 1)
        pick = np.where(np.abs(grid[left] - x) < np.abs(grid[idx] - x), left, idx)
        ok = np.isclose(grid[pick], x, rtol=1e-9, atol=1e-12)
        if not np.all(ok):
            bad = x[~ok][0].item()  # a Python float: no "np.float64(...)" in the message
            raise FidelityError(self._bad_value_message(bad))
        return pick.astype(np.int64)

    def _bad_value_message(self, value: Any) -> str:
        shown = (
            list(self.values)
            if len(self.values) <= 12
            else ([*self.values[:5], "...", *self.values[-5:]])
        )
        hint = ""
        if is_real(value):
            try:
                v = float(value)
            except OverflowError:
                v = math.inf
            if math.isfinite(v):
                nearest = min(self.values, key=lambda fv: abs(fv - v))
                hint = f" Nearest valid value: {nearest!r}."
        got = repr(value)
        if len(got) > 40:
            got = got[:37] + "..."
        return f"{self.name} must be one of {shown}, but got {got}.{hint}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "values": list(self.values)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Fidelity:
        if (
            not isinstance(d, Mapping)
            or "name" not in d
            or not isinstance(d.get("values"), Sequence)
        ):
            raise FidelityError(f"A fidelity dict needs 'name' and a 'values' list, but got {d!r}.")
        return cls(str(d["name"]), tuple(d["values"]))
