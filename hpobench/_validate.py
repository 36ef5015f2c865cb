"""Scalar checks at the boundary: one place that decides what an integer, a number or a flag is.

Every public entry point that takes a count, a seed, a bound or a flag routes it through these
helpers, so that the rules (and the messages) are the same everywhere:

* numpy scalars (``np.int64(3)``) and 0-d arrays (``np.array(3)``) are accepted wherever the
  plain Python value is;
* a ``bool`` is never an integer or a number (``True == 1`` would silently pick a value);
* an integral float (``3.0``) is not an integer either: a count given as ``1e12`` is refused
  rather than rounded, because it almost always means a unit mix-up;
* an integer beyond the float range (``10**400``) is refused with the caller's
  :class:`~hpobench.HPOBenchError` subclass, never a raw ``OverflowError``;
* messages say what must hold and what came: ``"repetitions must be an integer in [1, 10000],
  but got 0."``.

>>> check_int("n", np.int64(3), low=1)
3
>>> check_float("lr", np.array(0.5), low=0.0)
0.5
>>> check_int("n", True)
Traceback (most recent call last):
...
hpobench._errors.HPOBenchError: n must be an integer, but got True (a bool).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hpobench._errors import HPOBenchError

__all__ = [
    "INT64_MAX",
    "as_scalar",
    "check_bool",
    "check_float",
    "check_int",
    "check_str",
    "is_integer",
    "is_real",
]

INT64_MAX = (1 << 63) - 1

_Error = type[HPOBenchError]


def as_scalar(value: Any) -> Any:
    """``value`` with a numpy scalar or 0-d array unwrapped to the Python scalar; else unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def is_integer(value: Any) -> bool:
    """True for Python/numpy integers and 0-d integer arrays; False for bools and floats."""
    v = as_scalar(value)
    return isinstance(v, int) and not isinstance(v, bool)


def is_real(value: Any) -> bool:
    """True for Python/numpy ints and floats (and 0-d arrays of them); False for bools."""
    v = as_scalar(value)
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _range_text(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _came(value: Any) -> str:
    v = as_scalar(value)
    if isinstance(v, bool):
        return f"{v!r} (a bool)"
    text = repr(v)
    if len(text) > 80:
        text = text[:77] + "..."
    if isinstance(v, (int, float, str)):
        return text
    return f"{text} (a {type(value).__name__})"


def check_int(
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
    error: _Error = HPOBenchError,
) -> int:
    """``value`` as a Python ``int`` in ``[low, high]`` (bounds optional), else ``error``."""
    v = as_scalar(value)
    want = f"{name} must be an integer{_range_text(low, high)}"
    if not is_integer(v):
        raise error(f"{want}, but got {_came(value)}.")
    if (low is not None and v < low) or (high is not None and v > high):
        raise error(f"{want}, but got {_came(v)}.")
    return int(v)


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    allow_inf: bool = False,
    error: _Error = HPOBenchError,
) -> float:
    """``value`` as a finite Python ``float`` in ``[low, high]`` (``(low, high]`` with
    ``low_open``), else ``error``. Integers are accepted; one beyond the float range is refused."""
    v = as_scalar(value)
    lo = "(" if low_open else "["
    rng = (
        f" in {lo}{low}, {high}]"
        if low is not None and high is not None
        else (f" {'>' if low_open else '>='} {low}" if low is not None else _range_text(None, high))
    )
    want = f"{name} must be a {'' if allow_inf else 'finite '}number{rng}"
    if not is_real(v):
        raise error(f"{want}, but got {_came(value)}.")
    try:
        f = float(v)
    except OverflowError:
        raise error(f"{want}, but got an integer beyond the float range ({_came(v)}).") from None
    if math.isnan(f) or (not allow_inf and math.isinf(f)):
        raise error(f"{want}, but got {_came(v)}.")
    if low is not None and (f <= low if low_open else f < low):
        raise error(f"{want}, but got {_came(v)}.")
    if high is not None and f > high:
        raise error(f"{want}, but got {_came(v)}.")
    return f


def check_bool(name: str, value: Any, *, error: _Error = HPOBenchError) -> bool:
    """``value`` as a ``bool``; only ``True``/``False`` (or numpy bools) pass, never ``"false"``."""
    v = as_scalar(value)
    if not isinstance(v, bool):
        raise error(f"{name} must be true or false (a bool), but got {_came(value)}.")
    return v


def check_str(
    name: str, value: Any, *, non_empty: bool = True, error: _Error = HPOBenchError
) -> str:
    """``value`` as a ``str`` (non-empty unless ``non_empty=False``)."""
    v = as_scalar(value)
    if not isinstance(v, str) or (non_empty and not v):
        what = "a non-empty string" if non_empty else "a string"
        raise error(f"{name} must be {what}, but got {_came(value)}.")
    return v
