"""Typed hyperparameters.

Each hyperparameter knows how to validate one value, sample one value from an explicit
``numpy.random.Generator``, and map values to and from the unit interval. They are frozen
records; ``SearchSpace`` composes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hpobench._errors import ConfigError
from hpobench._validate import as_scalar, check_bool, is_integer, is_real

__all__ = ["Categorical", "Float", "Hyperparameter", "Int", "Ordinal", "Value"]

Value = int | float | str | bool
_INT_LIMIT = 1 << 53


def _is_real(x: Any) -> bool:
    return is_real(x)


def _integral(x: Any) -> int | None:
    """``x`` as an int if it is an integer or an integral finite float (numpy and 0-d too)."""
    v = as_scalar(x)
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    return None


def _show(x: Any) -> str:
    """A value for a message: an integer of hundreds of digits is described, not printed."""
    v = as_scalar(x)
    try:
        return repr(float(v)) if is_real(v) else repr(v)
    except OverflowError:
        return f"an integer of {len(str(v))} digits"


def _finite_float(x: Any) -> float | None:
    """``x`` as a finite float, or None (bools, non-numbers, NaN, inf, ints beyond floats)."""
    v = as_scalar(x)
    if not is_real(v):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name or not name.isidentifier():
        raise ConfigError(
            f"A hyperparameter name must be a non-empty identifier string, but got {name!r}."
        )


@dataclass(frozen=True)
class Float:
    """A real-valued hyperparameter on ``[low, high]``, optionally on a log scale."""

    name: str
    low: float
    high: float
    log: bool = False
    kind: ClassVar[str] = "float"

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not (_is_real(self.low) and _is_real(self.high)):
            raise ConfigError(
                f"{self.name}: low and high must be numbers, got {self.low!r}, {self.high!r}."
            )
        low, high = _finite_float(self.low), _finite_float(self.high)
        if low is None or high is None or not low < high:
            raise ConfigError(
                f"{self.name}: `low < high` (finite) must hold, but got "
                f"(low={_show(self.low)}, high={_show(self.high)})."
            )
        log = check_bool(f"{self.name}: log", self.log, error=ConfigError)
        if log and low <= 0:
            raise ConfigError(f"{self.name}: a log-scale range needs `low > 0`, but got {low=}.")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "log", log)

    def validate(self, value: Any) -> float:
        if not _is_real(value):
            raise ConfigError(
                f"{self.name} must be a number in [{self.low}, {self.high}], but got {value!r}."
            )
        v = _finite_float(value)
        if v is None or not (self.low <= v <= self.high):
            shown = as_scalar(value) if v is None else v
            if isinstance(shown, int) and len(str(shown)) > 30:
                shown = f"an integer of {len(str(shown))} digits"
            raise ConfigError(
                f"{self.name} must lie in [{self.low}, {self.high}], but got {shown!r}."
            )
        return v

    def sample(self, rng: np.random.Generator) -> float:
        u = float(rng.random())
        return self.from_unit(u)

    def to_unit(self, value: Any) -> float:
        v = self.validate(value)
        if self.log:
            return (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (v - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if u == 0.0 or u == 1.0:  # exact bounds (exp(log(low)) can be an ulp off)
            return self.low if u == 0.0 else self.high
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        return min(max(v, self.low), self.high)

    def from_unit_array(self, u: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`from_unit` (float64 array in, float64 array out)."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            v = np.exp(lo + u * (hi - lo))
        else:
            v = self.low + u * (self.high - self.low)
        v = np.where(u == 0.0, self.low, np.where(u == 1.0, self.high, v))
        return np.clip(v, self.low, self.high)

    def grid(self, n_points: int | None = None) -> tuple[float, ...]:
        if n_points is None:
            raise ConfigError(f"{self.name} is continuous: a grid needs `n_points`, but got None.")
        _check_n_points(self.name, n_points)
        if n_points < 1:
            raise ConfigError(f"{self.name}: `n_points >= 1` must hold, but got {n_points=}.")
        if n_points == 1:
            return (self.from_unit(0.5),)
        return tuple(self.from_unit(i / (n_points - 1)) for i in range(n_points))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "log": self.log,
        }


@dataclass(frozen=True)
class Int:
    """An integer hyperparameter on ``[low, high]`` (inclusive), optionally on a log scale."""

    name: str
    low: int
    high: int
    log: bool = False
    kind: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        _check_name(self.name)
        low, high = _integral(self.low), _integral(self.high)
        if low is None or high is None:
            raise ConfigError(
                f"{self.name}: low and high must be integers, got {self.low!r}, {self.high!r}."
            )
        if abs(low) > _INT_LIMIT or abs(high) > _INT_LIMIT:
            raise ConfigError(
                f"{self.name}: low and high must lie within ±2**53 (exact as floats), but got "
                f"({low=}, {high=})."
            )
        if not low < high:
            raise ConfigError(f"{self.name}: `low < high` must hold, but got ({low=}, {high=}).")
        log = check_bool(f"{self.name}: log", self.log, error=ConfigError)
        if log and low <= 0:
            raise ConfigError(f"{self.name}: a log-scale range needs `low > 0`, but got {low=}.")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "log", log)

    def validate(self, value: Any) -> int:
        v = _integral(value)
        if v is None:
            raise ConfigError(
                f"{self.name} must be an integer in [{self.low}, {self.high}], but got {value!r}."
            )
        if not self.low <= v <= self.high:
            raise ConfigError(f"{self.name} must lie in [{self.low}, {self.high}], but got {v!r}.")
        return v

    def sample(self, rng: np.random.Generator) -> int:
        return self.from_unit(float(rng.random()))

    def to_unit(self, value: Any) -> float:
        v = self.validate(value)
        # Centre of the value's cell, so that from_unit(to_unit(v)) == v exactly.
        lo, hi = (
            (math.log(self.low - 0.5), math.log(self.high + 0.5))
            if self.log and self.low > 0.5
            else (
                self.low - 0.5,
                self.high + 0.5,
            )
        )
        x = math.log(v) if self.log and self.low > 0.5 else float(v)
        return (x - lo) / (hi - lo)

    def from_unit(self, u: float) -> int:
        u = min(max(float(u), 0.0), 1.0)
        if self.log and self.low > 0.5:
            lo, hi = math.log(self.low - 0.5), math.log(self.high + 0.5)
            v = round(math.exp(lo + u * (hi - lo)))
        else:
            v = round(self.low - 0.5 + u * (self.high - self.low + 1))
        return int(min(max(v, self.low), self.high))

    def from_unit_array(self, u: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`from_unit` (float64 array in, int64 array out)."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.log and self.low > 0.5:
            lo, hi = math.log(self.low - 0.5), math.log(self.high + 0.5)
            v = np.round(np.exp(lo + u * (hi - lo)))
        else:
            v = np.round(self.low - 0.5 + u * (self.high - self.low + 1))
        return np.clip(v, self.low, self.high).astype(np.int64)

    def grid(self, n_points: int | None = None) -> tuple[int, ...]:
        if n_points is None:
            return tuple(range(self.low, self.high + 1))
        _check_n_points(self.name, n_points)
        if n_points < 1:
            raise ConfigError(f"{self.name}: `n_points >= 1` must hold, but got {n_points=}.")
        return tuple(sorted({self.from_unit((i + 0.5) / n_points) for i in range(n_points)}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "log": self.log,
        }


def _check_n_points(name: str, n_points: Any) -> None:
    if not is_integer(n_points):
        raise ConfigError(f"{name}: `n_points` must be an integer >= 1, but got {n_points!r}.")


def _check_values(name: str, values: Any, what: str) -> tuple[Value, ...]:
    if (
        isinstance(values, (str, bytes, Mapping, set, frozenset))
        or not hasattr(values, "__iter__")
        or (isinstance(values, np.ndarray) and values.ndim != 1)
    ):
        raise ConfigError(
            f"{name}: {what} must be a sequence of values, but got {values!r} (a list or tuple "
            f"is needed, not a {type(values).__name__})."
        )
    vals = tuple(as_scalar(v) for v in values)
    if not vals:
        raise ConfigError(f"{name}: {what} must not be empty.")
    for v in vals:
        if (
            not isinstance(v, (int, float, str, bool))
            or (isinstance(v, float) and not math.isfinite(v))
            or (isinstance(v, int) and not isinstance(v, bool) and abs(v) > _INT_LIMIT)
        ):
            raise ConfigError(
                f"{name}: {what} must be finite numbers, strings or booleans, but got {v!r}."
            )
    if len(set(vals)) != len(vals):
        raise ConfigError(f"{name}: {what} must be distinct, but got {vals!r}.")
    return vals


class _Discrete:
    """Shared lookup logic of Ordinal and Categorical (values held in ``_values``)."""

    name: str

    @property
    def _values(self) -> tuple[Value, ...]:  # pragma: no cover - overridden
        raise NotImplementedError

    def index(self, value: Any) -> int:
        """Position of ``value`` among the allowed values; floats match within 1e-9 relative."""
        vals = self._values
        value = as_scalar(value)
        for i, v in enumerate(vals):
            if type(v) is type(value) and v == value:
                return i
        fv = _finite_float(value)
        if fv is not None:
            for i, v in enumerate(vals):
                if _is_real(v) and math.isclose(float(v), fv, rel_tol=1e-9, abs_tol=1e-12):
                    return i
        if isinstance(value, bool):
            for i, v in enumerate(vals):
                if isinstance(v, bool) and v == value:
                    return i
        raise ConfigError(
            f"{self.name} must be one of {list(vals)}, but got {value!r}.{self._nearest_hint(value)}"
        )

    def _nearest_hint(self, value: Any) -> str:
        nums = [v for v in self._values if _is_real(v)]
        fv = _finite_float(value)
        if fv is not None and nums:
            nearest = min(nums, key=lambda v: abs(float(v) - fv))
            return f" Nearest valid value: {nearest!r}."
        if isinstance(value, str):
            from hpobench._errors import did_you_mean

            return did_you_mean(value, [str(v) for v in self._values])
        return ""

    def validate(self, value: Any) -> Value:
        return self._values[self.index(value)]

    def sample(self, rng: np.random.Generator) -> Value:
        return self._values[int(rng.integers(len(self._values)))]


@dataclass(frozen=True)
class Ordinal(_Discrete):
    """An ordered set of values (e.g. ``batch_size in {8, 16, 32, 64}``): a grid dimension."""

    name: str
    values: tuple[Value, ...]
    kind: ClassVar[str] = "ordinal"

    def __post_init__(self) -> None:
        _check_name(self.name)
        object.__setattr__(self, "values", _check_values(self.name, self.values, "values"))

    @property
    def _values(self) -> tuple[Value, ...]:
        return self.values

    def to_unit(self, value: Any) -> float:
        n = len(self.values)
        return 0.5 if n == 1 else self.index(value) / (n - 1)

    def from_unit(self, u: float) -> Value:
        n = len(self.values)
        i = round(min(max(float(u), 0.0), 1.0) * (n - 1))
        return self.values[int(i)]

    def grid(self, n_points: int | None = None) -> tuple[Value, ...]:
        return self.values

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "name": self.name, "values": list(self.values)}


@dataclass(frozen=True)
class Categorical(_Discrete):
    """An unordered set of choices (e.g. ``activation in {relu, tanh}``)."""

    name: str
    choices: tuple[Value, ...]
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        _check_name(self.name)
        object.__setattr__(self, "choices", _check_values(self.name, self.choices, "choices"))

    @property
    def _values(self) -> tuple[Value, ...]:
        return self.choices

    @property
    def values(self) -> tuple[Value, ...]:
        """The choices: the same accessor as ``Ordinal.values``, so no ``isinstance`` is needed."""
        return self.choices

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def from_unit(self, u: float) -> Value:
        n = len(self.choices)
        i = min(int(min(max(float(u), 0.0), 1.0) * n), n - 1)
        return self.choices[i]

    def grid(self, n_points: int | None = None) -> tuple[Value, ...]:
        return self.choices

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "name": self.name, "choices": list(self.choices)}


Hyperparameter = Float | Int | Ordinal | Categorical


def hyperparameter_from_dict(d: Any) -> Hyperparameter:
    """Inverse of ``Hyperparameter.to_dict``."""
    if not isinstance(d, dict) or "type" not in d or "name" not in d:
        raise ConfigError(f"A hyperparameter must be a dict with 'type' and 'name', but got {d!r}.")
    kind = d["type"]
    try:
        if kind == "float":
            return Float(d["name"], d["low"], d["high"], log=d.get("log", False))
        if kind == "int":
            return Int(d["name"], d["low"], d["high"], log=d.get("log", False))
        if kind == "ordinal":
            return Ordinal(d["name"], d["values"])  # _check_values rejects non-sequences
        if kind == "categorical":
            return Categorical(d["name"], d["choices"])
    except KeyError as e:
        raise ConfigError(
            f"Hyperparameter {d.get('name')!r} of type {kind!r} lacks the field {e}."
        ) from None
    raise ConfigError(
        f"Hyperparameter type must be one of 'float', 'int', 'ordinal', 'categorical', but got {kind!r}."
    )
