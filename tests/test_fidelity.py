"""Fidelity: construction checks, exact and vectorised lookup, messages naming valid values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpobench import Fidelity, FidelityError, HPOBenchError

EPOCHS = Fidelity("epoch", (1, 2, 3, 4))


def test_basics() -> None:
    assert issubclass(FidelityError, HPOBenchError)
    assert EPOCHS.min == 1 and EPOCHS.max == 4 and len(EPOCHS) == 4
    assert EPOCHS.index(3) == 2
    assert EPOCHS.index(3.0) == 2
    assert EPOCHS.index(np.int64(4)) == 3
    assert EPOCHS.index(np.float32(2.0)) == 1
    assert Fidelity("frac", (0.1, 0.2 + 0.1)).index(0.3) == 1  # within 1e-9 relative
    assert Fidelity("rows", np.array([10, 20])).values == (10, 20)
    assert all(type(v) is int for v in Fidelity("rows", np.array([10, 20])).values)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("", (1,)), "A fidelity name must be an identifier, but got ''"),
        ((3, (1,)), "A fidelity name must be an identifier, but got 3"),
        (("epoch", ()), "Fidelity 'epoch' needs at least one value, but got none"),
        (("epoch", 5), "Fidelity 'epoch' values must be a sequence of numbers, but got 5"),
        (("epoch", "123"), "values must be a sequence of numbers, but got '123'"),
        (("epoch", (1, "2")), "Fidelity 'epoch' values must be finite numbers, but got '2'"),
        (("epoch", (1, True)), "values must be finite numbers, but got True"),
        (("epoch", (1, math.nan)), "values must be finite numbers, but got nan"),
        (("epoch", (1, math.inf)), "values must be finite numbers, but got inf"),
        (("epoch", (1, 3, 2)), r"values must strictly increase, but got \[1, 3, 2\]"),
        (("epoch", (1, 1)), r"values must strictly increase, but got \[1, 1\]"),
    ],
)
def test_bad_construction(args: Any, match: str) -> None:
    with pytest.raises(FidelityError, match=match):
        Fidelity(*args)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (5, r"epoch must be one of \[1, 2, 3, 4\], but got 5\. Nearest valid value: 4\."),
        (0, r"but got 0\. Nearest valid value: 1\."),
        (2.5, r"but got 2\.5\. Nearest valid value: 2\."),
        (math.nan, r"epoch must be one of \[1, 2, 3, 4\], but got nan\.$"),
        (None, r"epoch must be one of \[1, 2, 3, 4\], but got None\.$"),
        ("2", r"epoch must be one of \[1, 2, 3, 4\], but got '2'\.$"),
        (True, r"epoch must be one of \[1, 2, 3, 4\], but got True\.$"),  # True == 1 is no epoch
        (np.True_, r"but got (np\.)?True"),
        ([1], r"but got \[1\]"),
    ],
)
def test_index_bad_value(value: Any, match: str) -> None:
    with pytest.raises(FidelityError, match=match):
        EPOCHS.index(value)


def test_long_fidelity_message_is_abbreviated() -> None:
    f = Fidelity("epoch", tuple(range(1, 53)))
    with pytest.raises(FidelityError, match=r"\[1, 2, 3, 4, 5, '...', 48, 49, 50, 51, 52\]"):
        f.index(60)


def test_indices_vectorised() -> None:
    out = EPOCHS.indices([4, 1, 2.0, np.int32(3)])
    assert out.tolist() == [3, 0, 1, 2] and out.dtype == np.int64
    assert EPOCHS.indices(np.array([], dtype=np.int64)).tolist() == []


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([1, 5], r"epoch must be one of \[1, 2, 3, 4\], but got 5\.0\. Nearest valid value: 4\."),
        ([1, math.nan], r"but got nan"),
        ([0.5, 1], r"Nearest valid value: 1\."),
        (["1", "2"], r"epoch values must be numbers, but got an array of dtype <U1"),
        ([True, False], r"epoch values must be numbers, but got an array of dtype bool"),
    ],
)
def test_indices_bad_values(values: Any, match: str) -> None:
    with pytest.raises(FidelityError, match=match):
        EPOCHS.indices(values)


def test_dict_round_trip_and_bad_dicts() -> None:
    assert Fidelity.from_dict(EPOCHS.to_dict()) == EPOCHS
    for bad in ({"values": [1]}, {"name": "e"}, {"name": "e", "values": 3}, [1, 2]):
        with pytest.raises(FidelityError, match="A fidelity dict needs 'name' and a 'values' list"):
            Fidelity.from_dict(bad)  # type: ignore[arg-type]


def test_frozen() -> None:
    with pytest.raises(AttributeError):
        EPOCHS.name = "x"  # type: ignore[misc]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=20, unique=True),
    st.data(),
)
def test_property_index_and_indices_agree(values: list[float], data: Any) -> None:
    f = Fidelity("x", tuple(sorted(values)))
    picks = data.draw(st.lists(st.sampled_from(f.values), max_size=10))
    assert f.indices(np.asarray(picks, dtype=np.float64)).tolist() == [f.index(v) for v in picks]
    assert [f.values[i] for i in f.indices(picks)] == picks
