"""SearchSpace and hyperparameters: validation messages, sampling, unit cube, grids, JSON."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpobench import Categorical, ConfigError, Float, HPOBenchError, Int, Ordinal, SearchSpace

SPACE = SearchSpace(
    [
        Float("lr", 1e-4, 1e-1, log=True),
        Float("momentum", 0.0, 0.99),
        Int("layers", 1, 4),
        Int("units", 16, 512, log=True),
        Ordinal("batch_size", (16, 32, 64)),
        Ordinal("dropout", (0.0, 0.3, 0.6)),
        Categorical("act", ("relu", "tanh")),
        Categorical("bias", (True, False)),
    ]
)
VALID = {
    "lr": 0.01,
    "momentum": 0.9,
    "layers": 2,
    "units": 64,
    "batch_size": 32,
    "dropout": 0.3,
    "act": "relu",
    "bias": True,
}


def raises(match: str) -> Any:
    """``pytest.raises(ConfigError)``; ConfigError is an HPOBenchError (checked once below)."""
    return pytest.raises(ConfigError, match=match)


def test_config_error_is_hpobench_error() -> None:
    assert issubclass(ConfigError, HPOBenchError)
    assert issubclass(ConfigError, ValueError)


# -- hyperparameter construction -----------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Float("", 0, 1), "non-empty identifier"),
        (lambda: Float("a b", 0, 1), "non-empty identifier.*'a b'"),
        (lambda: Float(3, 0, 1), "non-empty identifier.*3"),
        (lambda: Float("x", "0", 1), "must be numbers, got '0', 1"),
        (lambda: Float("x", True, 2), "must be numbers"),
        (
            lambda: Float("x", 1, 1),
            r"`low < high` \(finite\) must hold, but got \(low=1.0, high=1.0\)",
        ),
        (lambda: Float("x", 0, math.inf), "`low < high` .finite. must hold"),
        (lambda: Float("x", math.nan, 1), "`low < high` .finite. must hold"),
        (lambda: Float("x", 0, 1, log=True), "log-scale range needs `low > 0`, but got low=0.0"),
        (lambda: Int("x", 0.5, 3), "must be integers, got 0.5, 3"),
        (lambda: Int("x", 0, math.inf), "must be integers, got 0, inf"),
        (lambda: Int("x", 0, math.nan), "must be integers"),
        (lambda: Int("x", "1", 3), "must be integers"),
        (lambda: Int("x", 3, 3), r"`low < high` must hold, but got \(low=3, high=3\)"),
        (lambda: Int("x", 0, 3, log=True), "log-scale range needs `low > 0`, but got low=0"),
        (lambda: Ordinal("x", ()), "values must not be empty"),
        (lambda: Ordinal("x", "abc"), "values must be a sequence of values, but got 'abc'"),
        (lambda: Ordinal("x", 5), "values must be a sequence of values, but got 5"),
        (lambda: Ordinal("x", (1, 1)), r"values must be distinct, but got \(1, 1\)"),
        (lambda: Ordinal("x", (1.0, math.nan)), "finite numbers, strings or booleans, but got nan"),
        (lambda: Ordinal("x", (1, None)), "finite numbers, strings or booleans, but got None"),
        (lambda: Categorical("x", ([1], 2)), r"but got \[1\]"),
        (lambda: Categorical("x", ()), "choices must not be empty"),
    ],
)
def test_bad_hyperparameter_definitions(make: Any, match: str) -> None:
    with raises(match):
        make()


def test_numpy_values_are_normalised() -> None:
    hp = Ordinal("x", np.array([8, 16]))
    assert hp.values == (8, 16)
    assert all(type(v) is int for v in hp.values)


@pytest.mark.parametrize(
    ("hps", "match"),
    [
        ([], "at least one hyperparameter, but got none"),
        (5, "a sequence of hyperparameters, but got 5"),
        ("ab", "a sequence of hyperparameters, but got 'ab'"),
        (["lr"], "must be Float, Int, Ordinal or Categorical, but got 'lr'"),
        ([Int("a", 0, 1), Int("a", 0, 2)], r"names must be unique, but \['a'\] appear"),
    ],
)
def test_bad_search_space(hps: Any, match: str) -> None:
    with raises(match):
        SearchSpace(hps)


# -- validate: every kind of bad input -------------------------------------------------------
def test_validate_returns_canonical_config_in_space_order() -> None:
    shuffled = dict(reversed(list(VALID.items())))
    out = SPACE.validate(shuffled)
    assert list(out) == list(SPACE.names)
    assert out == VALID
    # near-equal ordinal floats and numpy scalars come back as the declared values
    out = SPACE.validate(
        {**VALID, "dropout": 0.1 + 0.2, "batch_size": np.int64(32), "lr": np.float32(0.01)}
    )
    assert out["dropout"] == 0.3 and type(out["batch_size"]) is int
    assert type(out["lr"]) is float


@pytest.mark.parametrize("config", [None, 5, "lr=0.1", [("lr", 0.1)], np.zeros(8)])
def test_validate_rejects_non_mappings(config: Any) -> None:
    with raises(r"A configuration must be a mapping name -> value, but got"):
        SPACE.validate(config)


def test_validate_missing_name() -> None:
    cfg = dict(VALID)
    del cfg["units"]
    with raises(r"must have exactly the names \[.*\], but it has missing \['units'\]\."):
        SPACE.validate(cfg)


def test_validate_extra_name() -> None:
    with raises(r"but it has unknown \['seed'\]\."):
        SPACE.validate({**VALID, "seed": 0})


def test_validate_misspelled_name_says_did_you_mean() -> None:
    cfg = dict(VALID)
    cfg["unit"] = cfg.pop("units")
    with raises(r"missing \['units'\] and unknown \['unit'\]\. Did you mean 'units'\?"):
        SPACE.validate(cfg)


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("lr", "0.01", r"lr must be a number in \[0.0001, 0.1\], but got '0.01'"),
        ("lr", None, r"lr must be a number in \[0.0001, 0.1\], but got None"),
        ("lr", True, r"lr must be a number .* but got True"),
        ("lr", [0.01], r"lr must be a number"),
        ("lr", math.nan, r"lr must lie in \[0.0001, 0.1\], but got nan"),
        ("lr", math.inf, r"lr must lie in \[0.0001, 0.1\], but got inf"),
        ("lr", 0.5, r"lr must lie in \[0.0001, 0.1\], but got 0.5"),
        ("momentum", -0.1, r"momentum must lie in \[0.0, 0.99\], but got -0.1"),
        ("layers", 2.5, r"layers must be an integer in \[1, 4\], but got 2.5"),
        ("layers", math.nan, r"layers must be an integer in \[1, 4\], but got nan"),
        ("layers", "2", r"layers must be an integer in \[1, 4\], but got '2'"),
        ("layers", True, r"layers must be an integer in \[1, 4\], but got True"),
        ("layers", 5, r"layers must lie in \[1, 4\], but got 5"),
        ("layers", 0, r"layers must lie in \[1, 4\], but got 0"),
        (
            "batch_size",
            33,
            r"batch_size must be one of \[16, 32, 64\], but got 33\. Nearest valid value: 32\.",
        ),
        ("batch_size", 1000, r"Nearest valid value: 64\."),
        ("batch_size", "32", r"batch_size must be one of \[16, 32, 64\], but got '32'"),
        ("batch_size", math.nan, r"batch_size must be one of \[16, 32, 64\], but got nan\.$"),
        (
            "dropout",
            0.31,
            r"dropout must be one of \[0.0, 0.3, 0.6\], but got 0.31\. Nearest valid value: 0.3\.",
        ),
        ("dropout", False, r"dropout must be one of \[0.0, 0.3, 0.6\], but got False"),
        (
            "act",
            "Relu",
            r"act must be one of \['relu', 'tanh'\], but got 'Relu'\. Did you mean 'relu'\?",
        ),
        ("act", 1, r"act must be one of \['relu', 'tanh'\], but got 1\.$"),
        ("bias", 1, r"bias must be one of \[True, False\], but got 1"),
        ("bias", "True", r"bias must be one of \[True, False\], but got 'True'"),
    ],
)
def test_validate_bad_values(name: str, value: Any, match: str) -> None:
    with raises(match):
        SPACE.validate({**VALID, name: value})


def test_validate_accepts_numpy_bool_for_bool_choice() -> None:
    assert SPACE.validate({**VALID, "bias": np.False_})["bias"] is False


def test_getitem_unknown_name() -> None:
    with raises(r"No hyperparameter named 'act_fn'; the space has \[.*\]\. Did you mean 'act'\?"):
        SPACE["act_fn"]


def test_introspection() -> None:
    assert len(SPACE) == 8 and "lr" in SPACE and "seed" not in SPACE
    assert [hp.name for hp in SPACE] == list(SPACE.names)
    assert SPACE.hyperparameters[0] == Float("lr", 1e-4, 1e-1, log=True)
    assert not SPACE.is_discrete
    assert SearchSpace([Int("a", 0, 1), Ordinal("b", (1, 2))]).is_discrete
    assert "SearchSpace([Float(" in repr(SPACE)
    assert hash(SPACE) == hash(SearchSpace(list(SPACE)))


# -- sampling --------------------------------------------------------------------------------
def test_sample_is_valid_and_seeded() -> None:
    a = SPACE.sample_many(np.random.default_rng(3), 50)
    assert a == SPACE.sample_many(np.random.default_rng(3), 50)  # deterministic given the rng
    for c in a:
        assert SPACE.validate(c) == c
        assert all(type(v) in (int, float, str, bool) for v in c.values())  # plain Python values
    assert a != SPACE.sample_many(np.random.default_rng(4), 50)
    rng = np.random.default_rng(3)
    assert SPACE.sample(rng) == SPACE.sample(np.random.default_rng(3))


def test_sample_many_is_vectorised_and_uniform_over_discrete_values() -> None:
    space = SearchSpace([Ordinal("o", (1, 2, 3)), Categorical("c", ("a", "b")), Int("i", 1, 4)])
    cols = space.sample_columns(np.random.default_rng(0), 30_000)
    for name, values in (("o", (1, 2, 3)), ("c", ("a", "b")), ("i", (1, 2, 3, 4))):
        freq = [np.mean(cols[name] == v) for v in values]
        assert max(abs(f - 1 / len(values)) for f in freq) < 0.015, (name, freq)
    assert len(space.sample_many(np.random.default_rng(0), np.int64(7))) == 7


def test_a_common_accessor_for_finite_values() -> None:
    space = SearchSpace(
        [Ordinal("o", (1, 2)), Categorical("c", ("a", "b")), Int("i", 1, 3), Float("f", 0, 1)]
    )
    assert space["o"].values == (1, 2) and space["c"].values == ("a", "b")  # type: ignore[union-attr]
    assert [space.values_of(n) for n in ("o", "c", "i")] == [(1, 2), ("a", "b"), (1, 2, 3)]
    with raises(r"f is continuous \(Float\): it has no finite list of values"):
        space.values_of("f")


def test_neighbours_differ_in_exactly_one_hyperparameter() -> None:
    space = SearchSpace(
        [Float("lr", 1e-4, 1e-1, log=True), Int("depth", 1, 8), Ordinal("w", (16, 32, 64)),
         Categorical("act", ("relu", "tanh")), Categorical("fixed", ("only",))]
    )  # fmt: skip
    config = {"lr": 1e-2, "depth": 4, "w": 16, "act": "relu", "fixed": "only"}
    near = space.neighbours(config, np.random.default_rng(0), 200)
    assert near == space.neighbours(config, np.random.default_rng(0), 200)
    changed = set()
    for c in near:
        diff = [k for k in config if c[k] != config[k]]
        assert len(diff) == 1 and space.validate(c) == c
        changed.add(diff[0])
        if diff[0] == "w":
            assert c["w"] == 32  # adjacent
    assert changed == {"lr", "depth", "w", "act"}
    with raises(r"no neighbours"):
        SearchSpace([Categorical("x", ("a",))]).neighbours({"x": "a"}, np.random.default_rng(0))


def test_encode_decode_many_round_trip() -> None:
    configs = SPACE.sample_many(np.random.default_rng(1), 20)
    x = SPACE.encode_many(configs)
    assert x.shape == (20, len(SPACE)) and np.all((x >= 0) & (x <= 1))
    again = SPACE.decode_many(x)
    np.testing.assert_allclose(SPACE.encode_many(again), x, rtol=1e-9, atol=1e-12)
    with raises(r"decode_many needs shape \(n, 8\)"):
        SPACE.decode_many(np.zeros((2, 5)))


@pytest.mark.parametrize("rng", [None, 0, np.random.RandomState(0)])
def test_sample_needs_a_generator(rng: Any) -> None:
    with raises(r"sample needs an explicit numpy.random.Generator, but got"):
        SPACE.sample(rng)


@pytest.mark.parametrize("n", [-1, 2.0, "3", None])
def test_sample_many_bad_n(n: Any) -> None:
    with raises(r"`n >= 0` \(an integer, at most 100,000,000\) must hold, but got"):
        SPACE.sample_many(np.random.default_rng(0), n)


def test_log_sampling_covers_decades() -> None:
    x = np.array([c["lr"] for c in SPACE.sample_many(np.random.default_rng(0), 2000)])
    # log-uniform on [1e-4, 1e-1]: about a third of the mass per decade
    assert 0.25 < np.mean(x < 1e-3) < 0.42


# -- unit cube -------------------------------------------------------------------------------
def test_encode_in_unit_cube_and_decode_inverts() -> None:
    x = SPACE.encode(VALID)
    assert x.shape == (8,) and x.dtype == np.float64
    assert np.all((x >= 0) & (x <= 1))
    back = SPACE.decode(x)
    assert back == {**VALID, "lr": back["lr"], "momentum": back["momentum"]}
    assert back["lr"] == pytest.approx(0.01, rel=1e-12)  # exp(log(x)) may differ by an ulp
    assert back["momentum"] == pytest.approx(0.9, rel=1e-12)


def test_decode_clips_out_of_cube() -> None:
    lo = SPACE.decode(np.full(8, -3.0))
    hi = SPACE.decode(np.full(8, 7.0))
    assert lo["lr"] == 1e-4 and hi["lr"] == pytest.approx(1e-1)
    assert lo["layers"] == 1 and hi["layers"] == 4
    assert lo["act"] == "relu" and hi["act"] == "tanh"


@pytest.mark.parametrize(
    ("vector", "match"),
    [
        (np.zeros(7), r"decode needs a vector of shape \(8,\), but got shape \(7,\)"),
        (np.zeros((2, 8)), r"shape \(8,\), but got shape \(2, 8\)"),
        (None, r"shape \(8,\), but got shape \(\)"),
        (["a"] * 8, r"decode needs a vector of 8 numbers, but got \['a'"),
        ([0.5] * 7 + [math.nan], r"decode needs finite values, but got \[.*nan\]"),
    ],
)
def test_decode_bad_input(vector: Any, match: str) -> None:
    with raises(match):
        SPACE.decode(vector)


def test_encode_validates() -> None:
    with raises(r"layers must lie in \[1, 4\], but got 9"):
        SPACE.encode({**VALID, "layers": 9})


# -- grids -----------------------------------------------------------------------------------
def test_grid_first_dimension_slowest() -> None:
    space = SearchSpace([Ordinal("a", (1, 2)), Categorical("b", ("x", "y", "z"))])
    grid = list(space.grid())
    assert grid[:3] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"}]
    assert len(grid) == space.grid_size() == 6


def test_grid_with_points() -> None:
    space = SearchSpace([Float("f", 1.0, 100.0, log=True), Int("i", 0, 9)])
    assert space.grid_values(3)[0] == pytest.approx((1.0, 10.0, 100.0))
    assert space.grid_values(3)[0][::2] == (1.0, 100.0)  # the bounds exactly
    assert SearchSpace([Int("i", 0, 9)]).grid_values(None) == (tuple(range(10)),)
    assert space.grid_values(2)[1] == (2, 7)
    assert space.grid_size(3) == 9
    assert SearchSpace([Float("f", 0.0, 1.0)]).grid_values(1) == ((0.5,),)


@pytest.mark.parametrize(
    ("n_points", "match"),
    [
        (None, r"f is continuous: a grid needs `n_points`, but got None"),
        (0, r"f: `n_points >= 1` must hold, but got n_points=0"),
        (2.5, r"f: `n_points` must be an integer >= 1, but got 2.5"),
        ("3", r"`n_points` must be an integer >= 1, but got '3'"),
        (True, r"`n_points` must be an integer >= 1, but got True"),
    ],
)
def test_grid_bad_n_points(n_points: Any, match: str) -> None:
    with raises(match):
        SearchSpace([Float("f", 0.0, 1.0)]).grid_size(n_points)


# -- JSON ------------------------------------------------------------------------------------
def test_json_round_trip_and_stable_text() -> None:
    text = SPACE.to_json()
    assert SearchSpace.from_json(text) == SPACE
    assert SearchSpace.from_json(text).to_json() == text
    d = json.loads(text)
    assert [h["name"] for h in d["hyperparameters"]] == list(SPACE.names)
    assert SPACE.to_dict() == d


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "A search space JSON must be valid JSON, but parsing failed"),
        (None, "must be valid JSON"),
        ("[]", r"must have a 'hyperparameters' list, but got \[\]"),
        ('{"hyperparameters": 3}', "must have a 'hyperparameters' list"),
        ('{"hyperparameters": [3]}', r"must be a dict with 'type' and 'name', but got 3"),
        ('{"hyperparameters": [{"name": "a"}]}', "must be a dict with 'type' and 'name'"),
        (
            '{"hyperparameters": [{"type": "float", "name": "a", "low": 0}]}',
            r"Hyperparameter 'a' of type 'float' lacks the field 'high'",
        ),
        (
            '{"hyperparameters": [{"type": "ordinal", "name": "a", "values": 5}]}',
            r"a: values must be a sequence of values, but got 5",
        ),
        (
            '{"hyperparameters": [{"type": "categorical", "name": "a", "choices": [[1]]}]}',
            r"a: choices must be finite numbers, strings or booleans",
        ),
        (
            '{"hyperparameters": [{"type": "uniform", "name": "a"}]}',
            r"type must be one of 'float', 'int', 'ordinal', 'categorical', but got 'uniform'",
        ),
        (
            '{"hyperparameters": [{"type": "int", "name": "a", "low": 3, "high": 1}]}',
            r"a: `low < high` must hold, but got \(low=3, high=1\)",
        ),
    ],
)
def test_from_json_bad_input(text: Any, match: str) -> None:
    with raises(match):
        SearchSpace.from_json(text)


# -- property tests --------------------------------------------------------------------------
_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_scalars = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.text(min_size=0, max_size=5),
    st.booleans(),
)


@st.composite
def hyperparameters(draw: Any, name: str) -> Any:
    kind = draw(st.sampled_from(["float", "int", "ordinal", "categorical"]))
    log = draw(st.booleans())
    if kind == "float":
        low = draw(st.floats(1e-6 if log else -1e3, 1e3, allow_nan=False))
        span = draw(st.floats(1e-3, 1e3))
        return Float(name, low, low + span, log=log)
    if kind == "int":
        low = draw(st.integers(1 if log else -100, 100))
        return Int(name, low, low + draw(st.integers(1, 1000)), log=log)
    # distinct under ==, as the constructors require (1 == 1.0 == True)
    values = draw(st.lists(_scalars, min_size=1, max_size=6, unique_by=lambda v: (v, hash(v))))
    values = list({v: None for v in values})  # dict keys dedupe 1 / 1.0 / True
    return (Ordinal if kind == "ordinal" else Categorical)(name, tuple(values))


@st.composite
def spaces(draw: Any) -> SearchSpace:
    names = draw(st.lists(_names, min_size=1, max_size=6, unique=True))
    return SearchSpace([draw(hyperparameters(n)) for n in names])


@settings(max_examples=60, deadline=None)
@given(spaces())
def test_property_json_round_trip(space: SearchSpace) -> None:
    again = SearchSpace.from_json(space.to_json())
    assert again == space
    assert again.to_json() == space.to_json()
    for a, b in zip(again, space, strict=True):  # types survive (True stays a bool, 1.0 a float)
        assert [type(v) for v in a.to_dict().get("values", a.to_dict().get("choices", []))] == [
            type(v) for v in b.to_dict().get("values", b.to_dict().get("choices", []))
        ]


@settings(max_examples=60, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1))
def test_property_encode_decode_round_trip(space: SearchSpace, seed: int) -> None:
    for config in space.sample_many(np.random.default_rng(seed), 5):
        x = space.encode(config)
        assert np.all((x >= 0) & (x <= 1))
        back = space.decode(x)
        for hp in space:
            if isinstance(hp, Float):  # exp/log cost an ulp or two; nothing more
                assert back[hp.name] == pytest.approx(config[hp.name], rel=1e-12, abs=1e-12)
                assert hp.low <= back[hp.name] <= hp.high
            else:
                assert back[hp.name] == config[hp.name]
                assert type(back[hp.name]) is type(config[hp.name])
        assert space.validate(back) == back


@settings(max_examples=40, deadline=None)
@given(spaces(), st.lists(st.floats(-0.5, 1.5), min_size=6, max_size=6))
def test_property_decode_gives_valid_configs(space: SearchSpace, u: list[float]) -> None:
    config = space.decode(u[: len(space)])
    assert space.validate(config) == config


# -- ConfigSpace -----------------------------------------------------------------------------
def test_configspace_round_trip() -> None:
    pytest.importorskip("ConfigSpace")
    cs = SPACE.to_configspace(seed=0)
    assert SearchSpace.from_configspace(cs) == SPACE  # order kept, though ConfigSpace sorts
    assert SPACE.validate(dict(cs.sample_configuration()))


def test_configspace_conditions_rejected() -> None:
    cs_mod = pytest.importorskip("ConfigSpace")
    cs = cs_mod.ConfigurationSpace(
        {"a": ["x", "y"], "b": (0.0, 1.0)},
    )
    cs.add(cs_mod.EqualsCondition(cs["b"], cs["a"], "x"))
    with raises("ConfigSpace conditions are not supported yet"):
        SearchSpace.from_configspace(cs)


def test_configspace_import_of_a_foreign_space() -> None:
    cs_mod = pytest.importorskip("ConfigSpace")
    cs = cs_mod.ConfigurationSpace({"b": (1, 8), "a": ["x", "y"], "c": 3})
    space = SearchSpace.from_configspace(cs)
    assert space == SearchSpace([Categorical("a", ("x", "y")), Int("b", 1, 8), Ordinal("c", (3,))])


def test_configspace_missing_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ConfigSpace", None)
    with raises(r"pip install 'hpobench\[configspace\]'"):
        SPACE.to_configspace()
