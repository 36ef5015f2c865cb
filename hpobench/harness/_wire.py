"""The sandbox's wire format: one JSON object per line, values typed so that they round-trip exactly.

Why JSON and not pickle: the sandboxed child is untrusted, and unpickling its bytes would run its
code in the parent. JSON carries data only; every message the parent reads is checked against
the shape its state expects (:func:`read_message` + the ``check_*`` functions) and anything else
is a protocol violation that fails the run.

Values: ``None``, ``bool``, ``int``, ``str`` and ``float`` are native JSON (Python writes a float
as its shortest repr, which reads back to the same float64; NaN and infinities as ``NaN`` /
``Infinity``). A numpy scalar is ``{"$np": "<type name>", "v": <native value>}`` for the types in
:data:`NUMPY_TYPES` (each converts to a Python value and back without loss), so a config holding
``np.float32(0.1)`` reaches the simulator as that very ``np.float32``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

__all__ = [
    "MAX_MESSAGE_BYTES",
    "NUMPY_TYPES",
    "WireError",
    "decode_config",
    "decode_value",
    "dumps",
    "encode_config",
    "encode_value",
    "loads",
]

MAX_MESSAGE_BYTES = 1 << 20
"""A longer line from the child is a protocol violation (configs are a few hundred bytes)."""
MAX_KEYS = 10_000
MAX_STR = 10_000

NUMPY_TYPES: dict[str, type[np.generic]] = {
    t.__name__: t
    for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64, np.str_,
    )
}  # fmt: skip
_INT_TYPES = {n for n, t in NUMPY_TYPES.items() if issubclass(t, np.integer)}
_FLOAT_TYPES = {n for n, t in NUMPY_TYPES.items() if issubclass(t, np.floating)}


class WireError(ValueError):
    """A message or value that does not follow the wire format (said in the message)."""


def encode_value(v: Any) -> Any:
    """A JSON-ready form of a scalar; raises ``WireError`` for anything else."""
    t = type(v)
    if v is None or t is bool or t is int or t is str or t is float:
        return v
    if isinstance(v, np.generic):
        name = t.__name__
        if NUMPY_TYPES.get(name) is not t:
            raise WireError(f"a numpy scalar of type {name} cannot be sent (allowed: "
                            f"{sorted(NUMPY_TYPES)})")  # fmt: skip
        return {"$np": name, "v": v.item()}
    raise WireError(f"a value must be None, bool, int, float, str or a numpy scalar, but got "
                    f"{t.__name__}: {v!r:.100}")  # fmt: skip


def decode_value(x: Any) -> Any:
    """Inverse of :func:`encode_value`, checking every part; raises ``WireError``."""
    t = type(x)
    if x is None or t is bool or t is int or t is float:
        return x
    if t is str:
        if len(x) > MAX_STR:
            raise WireError(f"a string value must have <= {MAX_STR} characters, got {len(x)}")
        return x
    if t is dict and len(x) == 2 and "$np" in x and "v" in x:
        name, v = x["$np"], x["v"]
        typ = NUMPY_TYPES.get(name) if type(name) is str else None
        vt = type(v)
        ok = (
            ((name == "bool" or name == "bool_") and vt is bool)
            or (name in _INT_TYPES and vt is int)
            or (name in _FLOAT_TYPES and vt is float)
            or (name == "str_" and vt is str and len(v) <= MAX_STR)
        )
        if typ is None or not ok:
            raise WireError(f"not a valid numpy scalar: {x!r:.100}")
        if name in _INT_TYPES:
            info = np.iinfo(cast(Any, typ))
            if not info.min <= v <= info.max:
                raise WireError(f"{v} is out of range for {name}")
        out = typ(v)
        if name in _FLOAT_TYPES and not (float(out) == v or (math.isnan(v) and out != out)):
            raise WireError(f"{v!r} is not exactly a {name}")
        return out
    raise WireError(f"a value must be null, a boolean, a number, a string or a tagged numpy "
                    f"scalar, but got {t.__name__}: {x!r:.100}")  # fmt: skip


def encode_config(config: Any) -> dict[str, Any]:
    """A configuration mapping with ``str`` keys and scalar values, in wire form."""
    if not isinstance(config, Mapping):
        raise WireError(f"a config must be a mapping, but got {type(config).__name__}")
    out = {}
    for k, v in config.items():
        if type(k) is not str:
            raise WireError(f"config keys must be str, but got {type(k).__name__}: {k!r:.100}")
        out[k] = encode_value(v)
    return out


def decode_config(x: Any) -> dict[str, Any]:
    """Inverse of :func:`encode_config`, checking every part; raises ``WireError``."""
    if type(x) is not dict:
        raise WireError(f"a config must be a JSON object, but got {type(x).__name__}")
    if len(x) > MAX_KEYS:
        raise WireError(f"a config must have <= {MAX_KEYS} keys, got {len(x)}")
    for k in x:
        if len(k) > MAX_STR:
            raise WireError(f"a config key must have <= {MAX_STR} characters, got {len(k)}")
    return {k: decode_value(v) for k, v in x.items()}


def dumps(message: Mapping[str, Any]) -> bytes:
    """One message as a line of UTF-8 JSON (no raw newline inside: JSON escapes them)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


def loads(line: bytes) -> dict[str, Any]:
    """Parse one line into a message object with a string ``"op"``; raises ``WireError``."""
    if len(line) > MAX_MESSAGE_BYTES:
        raise WireError(f"a message must be at most {MAX_MESSAGE_BYTES} bytes, got {len(line)}")
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError) as e:  # ValueError: bad JSON or bad UTF-8
        raise WireError(f"not a JSON message: {e}: {line[:100]!r}") from None
    if type(msg) is not dict or type(msg.get("op")) is not str:
        raise WireError(f"a message must be a JSON object with an 'op' string, got {line[:100]!r}")
    return msg
