"""TabularBenchmark: answers equal the raw parquet, batch == single, every bad input explained.

The raw side is read independently with pyarrow (rows keyed by configuration and seed), so a
wrong index, seed order or fidelity offset in the library cannot cancel out in the test.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpobench
from hpobench import (
    BatchResult,
    ConfigError,
    FidelityError,
    HPOBenchError,
    Result,
    SeedError,
    TabularBenchmark,
    write_table,
)
from hpobench.fidelity import Fidelity

SHIPPED = Path(hpobench.__file__).resolve().parent.parent / "data"


class Raw:
    """The parquet of one table, read with pyarrow only."""

    def __init__(self, directory: Path, hp_names: tuple[str, ...], sample: int = 0) -> None:
        t = pq.read_table(directory / "table.parquet")
        if sample:  # a random subset of rows, seeded
            t = t.take(np.random.default_rng(0).choice(t.num_rows, size=sample, replace=False))
        self.hp_names = hp_names
        self.metrics = [c for c in t.column_names if c not in ("config_id", "seed", *hp_names)]
        self.rows = t.to_pylist()

    def config(self, row: dict[str, Any]) -> dict[str, Any]:
        return {n: row[n] for n in self.hp_names}


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory: pytest.TempPathFactory, synth: SimpleNamespace) -> Path:
    """The full 36-config grid of GRID_SPACE, 3 seeds, 4 epochs, curves."""
    meta = synth.make_meta()
    configs = synth.grid_configs()
    d = tmp_path_factory.mktemp("grid")
    write_table(d, meta, configs, synth.make_data(meta, configs))
    return d


@pytest.fixture(scope="module")
def sparse_dir(tmp_path_factory: pytest.TempPathFactory, synth: SimpleNamespace) -> Path:
    """Every third grid configuration is missing (off-table configs exist)."""
    meta = synth.make_meta(id="synth/sparse-v1")
    keep = [i % 3 != 1 for i in range(36)]
    configs = synth.grid_configs(keep=keep)
    d = tmp_path_factory.mktemp("sparse")
    write_table(d, meta, configs, synth.make_data(meta, configs, seed=1))
    return d


@pytest.fixture(scope="module")
def float_dir(tmp_path_factory: pytest.TempPathFactory, synth: SimpleNamespace) -> Path:
    """Sampled configurations of a continuous space (hash index)."""
    space = synth.FLOAT_SPACE
    meta = synth.make_meta(id="synth/float-v1", space=space)
    sampled = space.sample_many(np.random.default_rng(5), 25)
    configs = {n: [c[n] for c in sampled] for n in space.names}
    d = tmp_path_factory.mktemp("float")
    write_table(d, meta, configs, synth.make_data(meta, configs, seed=2))
    return d


@pytest.fixture(scope="module")
def grid(grid_dir: Path) -> TabularBenchmark:
    return TabularBenchmark.from_directory(grid_dir)


@pytest.fixture(scope="module")
def grid_raw(grid: TabularBenchmark, grid_dir: Path) -> Raw:
    return Raw(grid_dir, grid.space.names)


# -- answers equal the raw table ---------------------------------------------------------------
def check_against_raw(bench: TabularBenchmark, raw: Raw, row: dict[str, Any], f: int) -> None:
    config = raw.config(row)
    fidelity = bench.fidelity.values[f]
    r = bench.query(config, fidelity=fidelity, seed=row["seed"])
    assert isinstance(r, Result)
    assert r.config_id == row["config_id"]
    assert r.seed == row["seed"] and r.fidelity == fidelity
    assert r.metrics == {m: row[m][f] for m in raw.metrics}
    assert r.cost == row[bench.meta.runtime_metric][f]
    assert r.fidelities == bench.fidelity.values[: f + 1]
    for m in raw.metrics:
        assert r.curve[m].tolist() == row[m][: f + 1]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_property_query_equals_raw_table(
    grid: TabularBenchmark, grid_raw: Raw, data: st.DataObject
) -> None:
    row = data.draw(st.sampled_from(grid_raw.rows))
    f = data.draw(st.integers(0, len(grid.fidelity) - 1))
    check_against_raw(grid, grid_raw, row, f)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_property_batch_queries_equal_raw_table(
    grid: TabularBenchmark, grid_raw: Raw, data: st.DataObject
) -> None:
    rows = data.draw(st.lists(st.sampled_from(grid_raw.rows), min_size=0, max_size=40))
    fidx = data.draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows)))
    fid = np.asarray([grid.fidelity.values[i] for i in fidx], dtype=np.int64)
    seeds = np.asarray([r["seed"] for r in rows], dtype=np.int64)
    columns = {n: np.asarray([r[n] for r in rows]) for n in grid.space.names}
    as_dicts = [grid_raw.config(r) for r in rows]
    ids = np.asarray([r["config_id"] for r in rows], dtype=np.int64)
    for out in (
        grid.query_ids(ids, fidelity=fid, seed=seeds),
        grid.query_batch(as_dicts, fidelity=fid, seed=seeds),
        grid.query_batch(columns, fidelity=fid, seed=seeds) if rows else None,
    ):
        if out is None:
            continue
        assert isinstance(out, BatchResult) and len(out) == len(rows)
        assert out.config_ids.tolist() == ids.tolist()
        for m in grid_raw.metrics:
            assert out.metrics[m].dtype == np.float32
            assert out.metrics[m].tolist() == [r[m][f] for r, f in zip(rows, fidx, strict=True)]
        assert out.cost.tolist() == out.metrics["runtime"].tolist()


def test_every_row_of_the_raw_table(grid: TabularBenchmark, grid_raw: Raw) -> None:
    for row in grid_raw.rows:
        check_against_raw(grid, grid_raw, row, len(grid.fidelity) - 1)


def test_hash_index_table_equals_raw(float_dir: Path) -> None:
    bench = TabularBenchmark.from_directory(float_dir)
    assert bench.index.kind == "hash"
    raw = Raw(float_dir, bench.space.names)
    for row in raw.rows:
        check_against_raw(bench, raw, row, 2)
    ids = bench.config_ids([raw.config(r) for r in raw.rows])
    assert ids.tolist() == [r["config_id"] for r in raw.rows]


@pytest.fixture(scope="module")
def protein() -> tuple[TabularBenchmark, Raw]:
    directory = SHIPPED / "fcnet" / "protein"
    if not (directory / "table.parquet").is_file():
        pytest.skip("the shipped tables are not in this checkout")
    bench = TabularBenchmark.from_directory(directory)
    return bench, Raw(directory, bench.space.names, sample=400)


def test_shipped_protein_sample_equals_raw_parquet(protein: tuple[TabularBenchmark, Raw]) -> None:
    bench, raw = protein
    for row in raw.rows:
        check_against_raw(bench, raw, row, 0)
    rows = raw.rows
    out = bench.query_batch(
        [raw.config(r) for r in rows], fidelity=100, seed=np.asarray([r["seed"] for r in rows])
    )
    assert out.metrics["valid_mse"].tolist() == [r["valid_mse"][0] for r in rows]
    assert out.config_ids.tolist() == [r["config_id"] for r in rows]


# -- results -----------------------------------------------------------------------------------
def test_result_record(grid: TabularBenchmark) -> None:
    config = grid.config(5)
    r = grid.query(config, fidelity=3, seed=7)
    assert r == grid.query(config, fidelity=3, seed=7)  # deterministic, comparable
    assert r != grid.query(config, fidelity=2, seed=7)
    assert r.curve_block.shape == (3, 3) and not r.curve_block.flags.writeable
    with pytest.raises(AttributeError):
        r.cost = 0.0  # type: ignore[misc]
    assert "fidelity=3, seed=7" in repr(r) and "config_id=5" in repr(r)
    same = Result(
        metrics=r.metrics,
        cost=r.cost,
        fidelity=r.fidelity,
        seed=r.seed,
        config_id=r.config_id,
        curve_block=r.curve_block,
        metric_names=r.metric_names,
        fidelities=r.fidelities,
    )
    assert same == r and repr(same) == repr(r)
    assert np.all(np.diff(r.curve["runtime"]) > 0)  # cumulative


def test_accepts_numpy_scalars_and_equivalent_values(grid: TabularBenchmark) -> None:
    base = grid.query({"lr": 0.1, "depth": 2, "act": "tanh", "flag": False}, fidelity=4, seed=1)
    for config, fidelity, seed in [
        (
            {
                "lr": np.float64(0.1),
                "depth": np.int64(2),
                "act": np.str_("tanh"),
                "flag": np.False_,
            },
            np.int64(4),
            np.int64(1),
        ),
        ({"flag": False, "act": "tanh", "depth": 2, "lr": 0.1}, 4.0, 1),  # any key order
        ({"lr": 0.1 + 1e-12, "depth": 2.0, "act": "tanh", "flag": False}, np.float32(4), 1),
    ]:
        r = grid.query(config, fidelity=fidelity, seed=seed)
        assert r == base
        assert type(r.fidelity) is int and type(r.seed) is int


def test_metadata_properties(grid: TabularBenchmark) -> None:
    assert grid.id == "synth/grid-v1" and repr(grid) == "TabularBenchmark('synth/grid-v1')"
    assert grid.objective == "valid_loss" and grid.direction == "minimize"
    assert grid.reported_metric == "test_loss"
    assert grid.seeds == (0, 1, 7) and grid.tuning_seeds == (0, 1) and grid.test_seeds == (7,)
    assert grid.fidelity == Fidelity("epoch", (1, 2, 3, 4))
    assert set(grid.metrics) == {"valid_loss", "test_loss", "runtime"}
    assert grid.index.kind == "grid"


# -- bad input: single queries ------------------------------------------------------------------
GOOD = {"lr": 0.01, "depth": 2, "act": "relu", "flag": True}


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (None, r"A configuration must be a mapping name -> value, but got NoneType"),
        ([0.01, 2, "relu", True], r"must be a mapping name -> value, but got list"),
        ("lr=0.01", r"must be a mapping name -> value, but got str"),
        (
            {"lr": 0.01, "depth": 2, "act": "relu"},
            r"must have exactly the names \['lr', 'depth', 'act', 'flag'\], but it has missing \['flag'\]",
        ),
        ({**GOOD, "seed": 0}, r"but it has unknown \['seed'\]"),
        (
            {"lr": 0.01, "depth": 2, "act": "relu", "flags": True},
            r"missing \['flag'\] and unknown \['flags'\]\. Did you mean 'flag'\?",
        ),
        ({**GOOD, "lr": math.nan}, r"lr must be one of \[0.001, 0.01, 0.1\], but got nan"),
        (
            {**GOOD, "lr": 0.02},
            r"lr must be one of \[0.001, 0.01, 0.1\], but got 0.02\. Nearest valid value: 0.01\.",
        ),
        ({**GOOD, "lr": "0.01"}, r"lr must be one of \[0.001, 0.01, 0.1\], but got '0.01'"),
        ({**GOOD, "depth": 4}, r"depth must lie in \[1, 3\], but got 4"),
        ({**GOOD, "depth": 2.5}, r"depth must be an integer in \[1, 3\], but got 2.5"),
        ({**GOOD, "depth": True}, r"depth must be an integer in \[1, 3\], but got True"),
        ({**GOOD, "depth": np.True_}, r"depth must be an integer in \[1, 3\], but got (np\.)?True"),
        ({**GOOD, "depth": math.inf}, r"depth must be an integer in \[1, 3\], but got inf"),
        ({**GOOD, "depth": None}, r"depth must be an integer in \[1, 3\], but got None"),
        (
            {**GOOD, "act": "rleu"},
            r"act must be one of \['relu', 'tanh'\], but got 'rleu'\. Did you mean 'relu'\?",
        ),
        ({**GOOD, "act": 0}, r"act must be one of \['relu', 'tanh'\], but got 0"),
        ({**GOOD, "flag": 1}, r"flag must be one of \[True, False\], but got 1"),
        ({**GOOD, "flag": 0.0}, r"flag must be one of \[True, False\], but got 0.0"),
        ({**GOOD, "flag": "True"}, r"flag must be one of \[True, False\], but got 'True'"),
        ({**GOOD, "act": ["relu"]}, r"act must be one of \['relu', 'tanh'\], but got \['relu'\]"),
    ],
)
def test_query_bad_config(grid: TabularBenchmark, config: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        grid.query(config, fidelity=4, seed=0)
    with pytest.raises(ConfigError, match=match):
        grid.config_id(config)


def test_off_table_config_is_answered_by_the_nearest_stored_one(sparse_dir: Path) -> None:
    """One documented answer: a valid configuration the table does not store is answered by the
    nearest stored configuration in the unit cube, and the Result names it (bench.query, the
    batch form and the harness agree)."""
    bench = TabularBenchmark.from_directory(sparse_dir)
    stored = [bench.config(i) for i in range(bench.table.n_configs)]
    missing = next(c for c in bench.space.grid() if c not in stored)
    r = bench.query(missing, fidelity=1, seed=0)
    near = bench.config(r.config_id)
    assert near in stored and r.config_id == bench.config_id(missing)
    x = bench.space.encode(missing)
    best = min(np.sum((bench.space.encode(c) - x) ** 2) for c in stored)
    assert np.sum((bench.space.encode(near) - x) ** 2) == pytest.approx(best)
    assert r.metrics == bench.query(near, fidelity=1, seed=0).metrics
    out = bench.query_batch([stored[3], missing], fidelity=1, seed=0)
    assert out.config_ids.tolist() == [3, r.config_id]
    with pytest.raises(ConfigError, match=r"depth must lie in \[1, 3\], but got 9"):
        bench.query({**missing, "depth": 9}, fidelity=1, seed=0)  # invalid stays an error


@pytest.mark.parametrize(
    ("fidelity", "match"),
    [
        (5, r"epoch must be one of \[1, 2, 3, 4\], but got 5\. Nearest valid value: 4\."),
        (0, r"but got 0\. Nearest valid value: 1\."),
        (2.5, r"but got 2.5\. Nearest valid value: 2\."),
        (math.nan, r"epoch must be one of \[1, 2, 3, 4\], but got nan\.$"),
        (None, r"epoch must be one of \[1, 2, 3, 4\], but got None\.$"),
        ("4", r"epoch must be one of \[1, 2, 3, 4\], but got '4'\.$"),
        (True, r"epoch must be one of \[1, 2, 3, 4\], but got True\.$"),
    ],
)
def test_query_wrong_fidelity(grid: TabularBenchmark, fidelity: Any, match: str) -> None:
    with pytest.raises(FidelityError, match=match):
        grid.query(GOOD, fidelity=fidelity, seed=0)
    if fidelity is None:
        match = r"synth/grid-v1: fidelity is required \(one of \[1, 2, 3, 4\]"
    with pytest.raises(FidelityError, match=match.replace(r"\.$", r"\.")):
        grid.query_ids([0], fidelity=fidelity, seed=0)


@pytest.mark.parametrize(
    ("seed", "match"),
    [
        (5, r"synth/grid-v1: seed must be one of \[0, 1, 7\], but got 5\."),
        (-1, r"seed must be one of \[0, 1, 7\], but got -1"),
        (1.0, r"seed must be an int among \[0, 1, 7\], but got 1.0"),
        (True, r"seed must be an int among \[0, 1, 7\], but got True"),
        ("0", r"seed must be an int among \[0, 1, 7\], but got '0'"),
        (None, r"seed must be an int among \[0, 1, 7\], but got None"),
    ],
)
def test_query_unknown_seed(grid: TabularBenchmark, seed: Any, match: str) -> None:
    with pytest.raises(SeedError, match=match):
        grid.query(GOOD, fidelity=4, seed=seed)
    with pytest.raises(SeedError, match=match):
        grid.query_ids([0], fidelity=4, seed=seed)


def test_query_needs_keywords(grid: TabularBenchmark) -> None:
    with pytest.raises(TypeError):
        grid.query(GOOD, 4, 0)  # type: ignore[misc]


# -- bad input: batch queries -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("configs", "match"),
    [
        (None, r"Batch configs must be a list of dicts or a mapping of columns, but got NoneType"),
        ("abc", r"Batch configs must be a list of dicts or a mapping of columns, but got str"),
        ([GOOD, 3], r"Batch configs must be dicts, but item 1 is int"),
        (
            [GOOD, {"lr": 0.01}],
            r"Batch config 1 must have exactly the names \['lr', 'depth', 'act', 'flag'\], but has \['lr'\]",
        ),
        (
            {"lr": [0.01], "depth": [2], "act": ["relu"]},
            r"Batch configs must have exactly the columns \[.*\], but \['flag'\] are missing and \[\] are unknown",
        ),
        (
            {"lr": [0.01], "depth": [2], "act": ["relu"], "flag": [True], "x": [1]},
            r"but \[\] are missing and \['x'\] are unknown",
        ),
        (
            {"lr": [0.01, 0.1], "depth": [2], "act": ["relu"], "flag": [True]},
            r"Batch config columns must have equal lengths, but got lengths \[1, 2\]",
        ),
        (
            {"lr": 0.01, "depth": 2, "act": "relu", "flag": True},
            r"Batch config columns must be 1-d arrays \(one value per query\), but got shapes \[\(\)\]",
        ),
        (
            {"lr": [[0.01]], "depth": [2], "act": ["relu"], "flag": [True]},
            r"must be 1-d arrays .*but got shapes \[\(1,\), \(1, 1\)\]",
        ),
        (
            {"lr": [0.02], "depth": [2], "act": ["relu"], "flag": [True]},
            r"lr must be one of \[0.001, 0.01, 0.1\], but got 0.02\. Nearest valid value: 0.01\.",
        ),
        (
            {"lr": [0.01], "depth": [2.5], "act": ["relu"], "flag": [True]},
            r"depth must be an integer in \[1, 3\], but got 2.5",
        ),
        (
            {"lr": [0.01], "depth": [2 + 1e-12], "act": ["relu"], "flag": [True]},
            r"depth must be an integer in \[1, 3\], but got 2.000000000001",
        ),
        (
            {"lr": [0.01], "depth": [True], "act": ["relu"], "flag": [True]},
            r"depth must be an integer in \[1, 3\], but got True",
        ),
        (
            {"lr": [0.01], "depth": [2], "act": ["relu"], "flag": [1]},
            r"flag must be one of \[True, False\], but got 1",
        ),
        (
            {"lr": [math.nan], "depth": [2], "act": ["relu"], "flag": [True]},
            r"lr must be one of \[0.001, 0.01, 0.1\], but got nan",
        ),
        (
            {"lr": [0.01], "depth": [2], "act": ["gelu"], "flag": [True]},
            r"act must be one of \['relu', 'tanh'\], but got 'gelu'",
        ),
        (
            [GOOD, {**GOOD, "depth": True}],
            r"depth must be an integer in \[1, 3\], but got True",
        ),  # numpy would make it 1
        ([GOOD, {**GOOD, "flag": 1}], r"flag must be one of \[True, False\], but got 1"),
        ([{**GOOD, "lr": False}, GOOD], r"lr must be one of \[0.001, 0.01, 0.1\], but got False"),
    ],
)
def test_query_batch_bad_configs(grid: TabularBenchmark, configs: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        grid.query_batch(configs, fidelity=4, seed=0)
    assert isinstance(info.value, HPOBenchError)


def test_query_batch_unhashable_values(grid: TabularBenchmark, float_dir: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"act must be one of \['relu', 'tanh'\], but got \['relu'\]"
    ):
        grid.query_batch([GOOD, {**GOOD, "act": ["relu"]}], fidelity=4, seed=0)
    floats = TabularBenchmark.from_directory(float_dir)
    c = floats.config(0)
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = c["lr"], [0.5]
    with pytest.raises(
        ConfigError, match=r"lr must be a number in \[0.0001, 1.0\], but got \[0.5\]"
    ):
        floats.query_batch({"lr": ragged, "width": [c["width"]] * 2}, fidelity=4, seed=0)


def test_query_batch_object_columns(grid: TabularBenchmark) -> None:
    cols = {
        "lr": np.array([0.01, 0.1], dtype=object),
        "depth": np.array([1, 3], dtype=object),
        "act": np.array(["relu", "tanh"], dtype=object),
        "flag": np.array([True, False], dtype=object),
    }
    out = grid.query_batch(cols, fidelity=4, seed=0)
    assert out.config_ids.tolist() == [
        grid.config_id({"lr": 0.01, "depth": 1, "act": "relu", "flag": True}),
        grid.config_id({"lr": 0.1, "depth": 3, "act": "tanh", "flag": False}),
    ]
    with pytest.raises(ConfigError, match=r"depth must be an integer in \[1, 3\], but got True"):
        grid.query_batch({**cols, "depth": np.array([True, 3], dtype=object)}, fidelity=4, seed=0)


def test_query_batch_empty(grid: TabularBenchmark) -> None:
    out = grid.query_batch([], fidelity=4, seed=0)
    assert len(out) == 0 and out.metrics["valid_loss"].shape == (0,)
    assert len(grid.query_ids(np.array([], dtype=np.int64), fidelity=4, seed=0)) == 0


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (
            np.array([0.0, 1.0]),
            r"config_ids must be a 1-d integer array, but got dtype float64, shape \(2,\)",
        ),
        (np.array([True]), r"config_ids must be a 1-d integer array, but got dtype bool"),
        (
            np.zeros((2, 2), dtype=np.int64),
            r"1-d integer array, but got dtype int64, shape \(2, 2\)",
        ),
        (3, r"config_ids must be a 1-d integer array, but got dtype int64, shape \(\)"),
        (["a"], r"config_ids must be a 1-d integer array, but got dtype <U1"),
        ([0, 36], r"config_ids must lie in \[0, 36\), got 0..36"),
        ([-1, 3], r"config_ids must lie in \[0, 36\), got -1..3"),
    ],
)
def test_query_ids_bad_ids(grid: TabularBenchmark, ids: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        grid.query_ids(ids, fidelity=4, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"fidelity": [4, 4, 4]},
            FidelityError,
            r"fidelity must be a scalar or have shape \(2,\), but got shape \(3,\)",
        ),
        (
            {"fidelity": [4, 5]},
            FidelityError,
            r"epoch must be one of \[1, 2, 3, 4\], but got 5.0\. Nearest valid value: 4\.",
        ),
        (
            {"fidelity": ["4", "4"]},
            FidelityError,
            r"epoch values must be numbers, but got an array of dtype <U1",
        ),
        (
            {"fidelity": [4, math.nan]},
            FidelityError,
            r"epoch must be one of \[1, 2, 3, 4\], but got nan",
        ),
        ({"seed": [0, 5]}, SeedError, r"synth/grid-v1: seeds must be in \[0, 1, 7\], but got 5\."),
        (
            {"seed": [0.0, 1.0]},
            SeedError,
            r"seed must be an int scalar or an int array of shape \(2,\), but got float64 \(2,\)",
        ),
        ({"seed": [0, 1, 7]}, SeedError, r"an int array of shape \(2,\), but got int64 \(3,\)"),
        ({"seed": [True, False]}, SeedError, r"but got bool \(2,\)"),
    ],
)
def test_batch_bad_fidelity_or_seed_arrays(
    grid: TabularBenchmark, kwargs: dict[str, Any], error: type, match: str
) -> None:
    args: dict[str, Any] = {"fidelity": 4, "seed": 0, **kwargs}
    with pytest.raises(error, match=match):
        grid.query_ids([0, 1], **args)
    with pytest.raises(error, match=match):
        grid.query_batch([GOOD, GOOD], **args)


def test_batch_broadcasts_scalars_and_mixed_arrays(grid: TabularBenchmark) -> None:
    ids = np.arange(36)
    seeds = np.tile([0, 1, 7], 12)
    fid = np.tile([1, 2, 3, 4], 9)
    out = grid.query_ids(ids, fidelity=fid, seed=seeds)
    for i in range(36):
        r = grid.query(grid.config(i), fidelity=int(fid[i]), seed=int(seeds[i]))
        assert out.metrics["valid_loss"][i] == np.float32(r.metrics["valid_loss"])
        assert out.cost[i] == np.float32(r.cost)
    scalar = grid.query_ids(ids, fidelity=4, seed=7)
    np.testing.assert_array_equal(
        scalar.metrics["test_loss"], grid.table.metric("test_loss")[:, 2, 3]
    )


def test_every_array_over_table_memory_is_sealed(sparse_dir: Path) -> None:
    """Everything a benchmark hands out either is an owned copy or lies over immutable memory:
    results' curves, the dense arrays, the index arrays; a batch answer shares no table memory."""
    from hpobench._readonly import is_sealed

    bench = TabularBenchmark.from_directory(sparse_dir)
    stored = [bench.config(i) for i in range(bench.table.n_configs)]
    missing = next(c for c in bench.space.grid() if c not in stored)  # answered by its nearest
    r = bench.query(missing, fidelity=3, seed=1)
    for arr in (r.curve_block, *r.curve.values(), bench.table.data, *bench.table.configs.values()):
        assert is_sealed(arr)
        with pytest.raises(ValueError, match="cannot set WRITEABLE flag"):
            arr.setflags(write=True)
    index = bench.index
    for arr in (index.unit_matrix(), getattr(index, "_pos_np", index.unit_matrix())):
        assert is_sealed(arr)
    out = bench.query_batch([missing, missing], fidelity=3, seed=[0, 1])
    for arr in (*out.metrics.values(), out.cost):
        assert not np.shares_memory(arr, bench.table.data)
    c = bench.query_curve(missing, fidelity=3, seed=1, metric="valid_loss")
    assert c.curve.base is None and not np.shares_memory(c.curve, bench.table.data)


def test_tables_pickle(sparse_dir: Path) -> None:
    import pickle

    from hpobench._readonly import is_sealed

    table = TabularBenchmark.from_directory(sparse_dir).table
    back = pickle.loads(pickle.dumps(table))
    np.testing.assert_array_equal(back.data, table.data)
    assert back.meta == table.meta and is_sealed(back.data)
    assert {k: v.tolist() for k, v in back.configs.items()} == {
        k: v.tolist() for k, v in table.configs.items()
    }
