"""Config -> row indexes: kinds, fast path == validating path, bool/number confusions."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpobench import (
    Categorical,
    ConfigError,
    Float,
    Int,
    Ordinal,
    SearchSpace,
    Table,
    TabularBenchmark,
    read_table,
    write_table,
)
from hpobench.benchmark._index import GridIndex, HashIndex, OffTableError, build_index


def _bench(tmp: Path, synth: SimpleNamespace, space: SearchSpace, configs: Any) -> TabularBenchmark:
    meta = synth.make_meta(space=space)
    write_table(tmp, meta, configs, synth.make_data(meta, configs))
    return TabularBenchmark.from_directory(tmp)


def test_kinds(make_table: Any, synth: SimpleNamespace) -> None:
    grid = read_table(make_table()[0])
    assert isinstance(build_index(grid), GridIndex)
    sampled = read_table(make_table(space=synth.FLOAT_SPACE)[0])
    assert isinstance(build_index(sampled), HashIndex)


def test_huge_int_grid_uses_hash_index(tmp_path: Path, synth: SimpleNamespace) -> None:
    space = SearchSpace([Int("a", 0, 10**6), Int("b", 0, 10**6)])
    bench = _bench(tmp_path, synth, space, {"a": [0, 5, 10**6], "b": [1, 2, 3]})
    assert bench.index.kind == "hash"
    assert bench.config_id({"a": 5, "b": 2}) == 1
    with pytest.raises(OffTableError, match=r"is in the search space but not in the table"):
        bench.index.row({"a": 5, "b": 3})
    assert bench.config_id({"a": 5, "b": 3}) == 1  # the benchmark answers the nearest row


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_property_fast_path_agrees_with_validation(make_table: Any, data: st.DataObject) -> None:
    bench = TabularBenchmark(read_table(make_table(name="p")[0]))
    config = data.draw(st.sampled_from(list(bench.space.grid())))
    row = bench.index.row(config)
    assert bench.config(row) == bench.space.validate(config)
    assert bench.index._row_slow(config) == row  # the fast path's reference


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("depth", True, r"depth must be an integer in \[1, 3\], but got True"),  # True == 1
        ("depth", np.True_, r"depth must be an integer"),
        ("flag", 1, r"flag must be one of \[True, False\], but got 1"),  # 1 == True
        ("flag", 0.0, r"flag must be one of \[True, False\], but got 0.0"),
    ],
)
def test_bools_and_numbers_are_not_confused(
    make_table: Any, synth: SimpleNamespace, name: str, value: Any, match: str
) -> None:
    bench = TabularBenchmark(read_table(make_table()[0]))
    config = {"lr": 0.01, "depth": 1, "act": "relu", "flag": False}
    with pytest.raises(ConfigError, match=match):
        bench.query({**config, name: value}, fidelity=1, seed=0)


def test_bool_guard_on_float_ordinal_with_zero(tmp_path: Path, synth: SimpleNamespace) -> None:
    # FCNet's dropout holds 0.0: False must not be read as 0.0
    space = SearchSpace([Ordinal("dropout", (0.0, 0.5)), Categorical("act", ("a", "b"))])
    bench = _bench(tmp_path, synth, space, {"dropout": [0.0, 0.0, 0.5], "act": ["a", "b", "b"]})
    assert bench.config_id({"dropout": 0, "act": "b"}) == 1  # the int 0 is the number 0.0
    with pytest.raises(ConfigError, match=r"dropout must be one of \[0.0, 0.5\], but got False"):
        bench.config_id({"dropout": False, "act": "b"})
    with pytest.raises(ConfigError, match=r"but got False"):
        bench.config_ids([{"dropout": False, "act": "b"}])


def test_hash_index_bool_guard_and_canonical_values(tmp_path: Path, synth: SimpleNamespace) -> None:
    space = SearchSpace([Float("x", 0.0, 1.0), Ordinal("drop", (0.0, 0.3))])
    configs = {"x": [1.0, 0.25, 0.5], "drop": [0.3, 0.0, 0.3]}
    bench = _bench(tmp_path, synth, space, configs)
    assert bench.index.kind == "hash"
    assert bench.config_id({"x": 1.0, "drop": 0.3}) == 0
    with pytest.raises(ConfigError, match=r"x must be a number in \[0.0, 1.0\], but got True"):
        bench.config_id({"x": True, "drop": 0.3})
    with pytest.raises(ConfigError, match=r"drop must be one of \[0.0, 0.3\], but got False"):
        bench.config_id({"x": 0.25, "drop": False})
    # written differently but the same stored configuration: single and batch agree
    near = 0.1 + 0.2  # 0.30000000000000004
    assert bench.config_id({"x": 0.5, "drop": near}) == 2
    assert bench.config_ids({"x": [0.5, 1.0], "drop": [near, 0.3]}).tolist() == [2, 0]
    assert bench.config_ids([{"x": 0.5, "drop": near}]).tolist() == [2]
    with pytest.raises(OffTableError, match=r"not in the table.*Nearest stored configuration"):
        bench.index.rows({"x": np.asarray([0.5, 0.75]), "drop": np.asarray([0.3, 0.3])})
    nearest = bench.index.nearest_row({"x": 0.75, "drop": 0.3})
    assert bench.config_ids({"x": [0.5, 0.75], "drop": [0.3, 0.3]}).tolist() == [2, nearest]
    with pytest.raises(ConfigError, match=r"x must lie in \[0.0, 1.0\], but got 2.0"):
        bench.config_ids({"x": [0.5, 2.0], "drop": [0.3, 0.3]})
    with pytest.raises(ConfigError, match=r"x must be a number in \[0.0, 1.0\], but got True"):
        bench.config_ids({"x": np.array([True, 0.5], dtype=object), "drop": [0.3, 0.3]})


def test_mixed_bool_and_number_choices(synth: SimpleNamespace) -> None:
    # True and 0 can share a categorical (not in a parquet column, but in an in-memory Table):
    # then False (== 0) must not find the 0, nor 1 the True.
    space = SearchSpace([Categorical("c", (True, 0, "auto"))])
    meta = synth.make_meta(space=space)
    data = np.zeros((3, 3, 4, 3), dtype=np.float32)
    configs = {"c": np.array([True, 0, "auto"], dtype=object)}
    bench = TabularBenchmark(
        Table(meta=meta, configs=configs, data=data, metric_names=tuple(meta.metrics))
    )
    assert [bench.config_id({"c": v}) for v in (True, 0, "auto")] == [0, 1, 2]
    with pytest.raises(ConfigError, match=r"c must be one of \[True, 0, 'auto'\], but got False"):
        bench.config_id({"c": False})
    with pytest.raises(ConfigError, match=r"but got 1"):
        bench.config_id({"c": 1})


def test_duplicate_configurations_are_refused(tmp_path: Path, synth: SimpleNamespace) -> None:
    space = SearchSpace([Ordinal("a", (1, 2))])
    meta = synth.make_meta(space=space)
    configs = {"a": [1, 1]}
    write_table(tmp_path / "g", meta, configs, synth.make_data(meta, configs))
    with pytest.raises(
        ConfigError, match=r"synth/grid-v1: the table stores the same configuration more than once"
    ):
        TabularBenchmark.from_directory(tmp_path / "g")
    space = SearchSpace([Float("a", 0.0, 1.0)])
    meta = synth.make_meta(space=space)
    configs = {"a": [0.5, 0.5]}
    write_table(tmp_path / "h", meta, configs, synth.make_data(meta, configs))
    with pytest.raises(ConfigError, match=r"stores the same configuration more than once"):
        TabularBenchmark.from_directory(tmp_path / "h")


def test_single_hyperparameter_space(tmp_path: Path, synth: SimpleNamespace) -> None:
    space = SearchSpace([Ordinal("a", (1, 2, 3, 4))])
    bench = _bench(tmp_path, synth, space, {"a": [4, 1]})
    assert bench.config_id({"a": 1}) == 1
    assert bench.config_ids({"a": [4, 1, 1]}).tolist() == [0, 1, 1]
    with pytest.raises(OffTableError, match=r"Nearest stored configuration: \{'a': 1\}"):
        bench.index.row({"a": 2})
    assert bench.config_id({"a": 2}) == 1


def test_nearest_row_and_unit_matrix(make_table: Any) -> None:
    bench = TabularBenchmark(read_table(make_table()[0]))
    u = bench.index.unit_matrix()
    assert u.shape == (36, 4) and np.all((u >= 0) & (u <= 1))
    assert bench.index.unit_matrix() is u  # computed once
    for i in (0, 17, 35):
        assert bench.index.nearest_row(bench.config(i)) == i
