"""The sandbox's wire format: exact round trips, and everything else refused with a reason."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpobench.harness._wire import (
    MAX_MESSAGE_BYTES,
    WireError,
    decode_config,
    decode_value,
    dumps,
    encode_config,
    encode_value,
    loads,
)


def roundtrip(v: Any) -> Any:
    return loads(dumps({"op": "x", "v": encode_value(v)}))["v"]


def same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, np.floating)) and math.isnan(a):
        return bool(math.isnan(b))
    return bool(a == b)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float64_round_trips_exactly(x: float) -> None:
    with np.errstate(over="ignore"):
        values = (x, np.float64(x), np.float32(x), np.float16(x))
    for v in values:
        out = decode_value(roundtrip(v))
        assert same(out, v), (v, out)
        if not math.isnan(v):
            assert float(out).hex() == float(v).hex()


@given(st.integers(min_value=-(2**63), max_value=2**64 - 1))
def test_integers_round_trip_with_their_type(x: int) -> None:
    assert same(decode_value(roundtrip(x)), x)
    for t in (np.int64, np.uint64, np.int32, np.uint8):
        info = np.iinfo(t)
        if info.min <= x <= info.max:
            assert same(decode_value(roundtrip(t(x))), t(x))


def test_configs_keep_python_and_numpy_types() -> None:
    c = {"a": 1, "b": 0.1, "c": "relu", "d": True, "e": None, "f": np.float32(0.1),
         "g": np.int64(7), "h": np.str_("x"), "i": np.bool_(True)}  # fmt: skip
    out = decode_config(loads(dumps({"op": "s", "c": encode_config(c)}))["c"])
    assert list(out) == list(c)
    for k in c:
        assert same(out[k], c[k]), k


BAD_VALUES = [
    # (what is sent, words the error must contain)
    ([1, 2], "list"),
    ({"$np": "float32", "v": 0.1}, "not exactly a float32"),
    ({"$np": "int8", "v": 300}, "out of range"),
    ({"$np": "uint8", "v": -1}, "out of range"),
    ({"$np": "object", "v": 1}, "not a valid numpy scalar"),
    ({"$np": "float64", "v": "1.0"}, "not a valid numpy scalar"),
    ({"$np": "int64", "v": 1.0}, "not a valid numpy scalar"),
    ({"$np": "float64", "v": 1.0, "x": 1}, "tagged numpy scalar"),
    ({"a": 1}, "tagged numpy scalar"),
    ("x" * 20_000, "characters"),
]


@pytest.mark.parametrize(("sent", "words"), BAD_VALUES)
def test_bad_values_are_refused(sent: Any, words: str) -> None:
    with pytest.raises(WireError, match=words):
        decode_value(sent)


BAD_CONFIGS = [
    ([("a", 1)], "JSON object"),
    ({"a": [1]}, "list"),
    ({str(i): 1 for i in range(10_001)}, "<= 10000 keys"),
]


@pytest.mark.parametrize(("sent", "words"), BAD_CONFIGS)
def test_bad_configs_are_refused(sent: Any, words: str) -> None:
    with pytest.raises(WireError, match=words):
        decode_config(sent)


class Weird:
    pass


@pytest.mark.parametrize(
    ("value", "words"),
    [(Weird(), "Weird"), (np.complex128(1j), "complex128"), ([1], "list"), (b"x", "bytes")],
)
def test_unsendable_values_say_why(value: Any, words: str) -> None:
    with pytest.raises(WireError, match=words):
        encode_value(value)
    with pytest.raises(WireError, match="keys must be str"):
        encode_config({1: 2})
    with pytest.raises(WireError, match="must be a mapping"):
        encode_config([1])


BAD_LINES = [
    (b"\x80\x81", "not a JSON message"),
    (b"{", "not a JSON message"),
    (b"[1, 2]", "JSON object with an 'op'"),
    (b'{"op": 3}', "JSON object with an 'op'"),
    (b'{"x": 1}', "JSON object with an 'op'"),
    (b"[" * 100_000 + b"]" * 100_000, "not a JSON message"),
    (b" " * (MAX_MESSAGE_BYTES + 1), "at most"),
]


@pytest.mark.parametrize(("line", "words"), BAD_LINES, ids=lambda x: repr(x)[:20])
def test_garbage_lines_are_refused(line: bytes, words: str) -> None:
    with pytest.raises(WireError, match=words):
        loads(line)


def test_a_message_is_one_line() -> None:
    line = dumps({"op": "x", "s": "a\nb\u2028"})
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
    assert loads(line[:-1]) == {"op": "x", "s": "a\nb\u2028"}
