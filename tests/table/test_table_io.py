"""write_table / read_table: round trip, determinism, and every damaged-file case."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpobench import (
    Categorical,
    Fidelity,
    Float,
    HPOBenchError,
    Int,
    Ordinal,
    SearchSpace,
    Table,
    TableError,
    TableIntegrityError,
    read_table,
    write_table,
)
from hpobench.table import MetricSpec, TableMeta, sha256_file


# -- round trip ------------------------------------------------------------------------------
def test_write_read_round_trip(make_table: Any, synth: SimpleNamespace) -> None:
    directory, meta = make_table()
    table = read_table(directory)
    assert table.meta == meta
    assert meta.sha256 == sha256_file(directory / "table.parquet")
    assert meta.n_configs == table.n_configs == 36
    assert (table.n_seeds, table.n_steps) == (3, 4)
    configs = synth.grid_configs()
    expected = synth.make_data(meta, configs)
    for name in meta.metrics:
        np.testing.assert_array_equal(table.metric(name), expected[name])
    for name in meta.space.names:
        assert table.configs[name].tolist() == configs[name]


def test_parquet_follows_the_v1_format(make_table: Any) -> None:
    directory, meta = make_table()
    t = pq.read_table(directory / "table.parquet")
    assert t.column_names == ["config_id", "lr", "depth", "act", "flag", "seed", *meta.metrics]
    schema = {f.name: f.type for f in t.schema}
    assert schema["config_id"] == pa.int32() and schema["seed"] == pa.int64()
    assert schema["lr"] == pa.float64() and schema["depth"] == pa.int64()
    assert schema["act"] == pa.string() and schema["flag"] == pa.bool_()
    for m in meta.metrics:
        assert schema[m] == pa.list_(pa.float32())
    assert t.num_rows == 36 * 3
    assert pc.list_value_length(t.column("runtime")).to_pylist() == [4] * t.num_rows
    assert (directory / "table.parquet").read_bytes()[:4] == b"PAR1"
    # meta.json records the parquet's digest and is plain JSON (nothing to unpickle)
    d = json.loads((directory / "meta.json").read_text())
    assert (
        d["table"]["sha256"]
        == hashlib.sha256((directory / "table.parquet").read_bytes()).hexdigest()
    )


def test_same_inputs_same_bytes(make_table: Any) -> None:
    a, _ = make_table(name="a")
    b, _ = make_table(name="b")
    for f in ("table.parquet", "meta.json"):
        assert (a / f).read_bytes() == (b / f).read_bytes()
    c, _ = make_table(name="c", data_seed=1)
    assert (a / "table.parquet").read_bytes() != (c / "table.parquet").read_bytes()


def test_rewrite_is_atomic_and_leaves_no_temp_files(make_table: Any) -> None:
    directory, _ = make_table(name="same")
    make_table(name="same")
    assert sorted(p.name for p in directory.iterdir()) == ["meta.json", "table.parquet"]


_space_st = st.sampled_from(
    [
        SearchSpace([Ordinal("a", (0.1, 0.2, 0.3)), Categorical("b", ("x", "y"))]),
        SearchSpace([Int("a", -2, 2), Categorical("b", (True, False))]),
        SearchSpace([Float("a", 1e-3, 1.0, log=True), Ordinal("b", (8, 16))]),
    ]
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    space=_space_st,
    n_configs=st.integers(1, 6),
    seeds=st.lists(st.integers(0, 2**40), min_size=1, max_size=3, unique=True),
    steps=st.integers(1, 5),
    values_seed=st.integers(0, 2**32 - 1),
    nan_fraction=st.sampled_from([0.0, 0.3]),
)
def test_property_write_read_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    synth: SimpleNamespace,
    space: SearchSpace,
    n_configs: int,
    seeds: list[int],
    steps: int,
    values_seed: int,
    nan_fraction: float,
) -> None:
    rng = np.random.default_rng(values_seed)
    if space.is_discrete:
        grid = list(space.grid())
        picks = rng.choice(len(grid), size=min(n_configs, len(grid)), replace=False)
        sampled = [grid[i] for i in picks]
    else:
        sampled = space.sample_many(rng, n_configs)
    configs = {n: [c[n] for c in sampled] for n in space.names}
    meta = synth.make_meta(
        space=space,
        fidelity=Fidelity("step", tuple(range(1, steps + 1))),
        seeds=tuple(seeds),
        tuning_seeds=(seeds[0],),
        test_seeds=tuple(seeds[1:]),
    )
    shape = (len(sampled), len(seeds), steps)
    metrics = {m: rng.normal(size=shape).astype(np.float32) for m in meta.metrics}
    metrics["valid_loss"][rng.random(shape) < nan_fraction] = np.nan  # diverged runs
    directory = tmp_path_factory.mktemp("rt")
    written = write_table(directory, meta, configs, metrics)
    table = read_table(directory)
    assert table.meta == written
    for m in meta.metrics:
        np.testing.assert_array_equal(table.metric(m), metrics[m])  # NaN == NaN here
    for k, c in enumerate(sampled):
        assert table.config(k) == c


# -- write errors ----------------------------------------------------------------------------
def _valid_inputs(synth: SimpleNamespace) -> tuple[TableMeta, dict[str, Any], dict[str, Any]]:
    meta = synth.make_meta()
    configs = synth.grid_configs()
    return meta, configs, synth.make_data(meta, configs)


def test_write_wrong_config_columns(tmp_path: Path, synth: SimpleNamespace) -> None:
    meta, configs, metrics = _valid_inputs(synth)
    reordered = dict(reversed(list(configs.items())))
    with pytest.raises(
        TableError,
        match=r"configs must have the columns \['lr', 'depth', 'act', 'flag'\] in order, but got \['flag'",
    ):
        write_table(tmp_path, meta, reordered, metrics)
    with pytest.raises(TableError, match=r"in order, but got \['lr', 'depth', 'act'\]"):
        write_table(tmp_path, meta, {k: configs[k] for k in ("lr", "depth", "act")}, metrics)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_write_wrong_metrics(tmp_path: Path, synth: SimpleNamespace) -> None:
    meta, configs, metrics = _valid_inputs(synth)
    with pytest.raises(
        TableError,
        match=r"metrics must be exactly \['runtime', 'test_loss', 'valid_loss'\], but got \['runtime', 'valid_loss'\]",
    ):
        write_table(tmp_path, meta, configs, {k: metrics[k] for k in ("runtime", "valid_loss")})
    bad = {**metrics, "valid_loss": metrics["valid_loss"][:, :, :2]}
    with pytest.raises(
        TableError,
        match=r"metric 'valid_loss' must have shape \(n_configs, n_seeds, n_steps\) = \(36, 3, 4\), but got \(36, 3, 2\)",
    ):
        write_table(tmp_path, meta, configs, bad)
    bad = {**metrics, "valid_loss": np.full((36, 3, 4), "x")}
    with pytest.raises(TableError, match=r"metric 'valid_loss' must be an array of floats"):
        write_table(tmp_path, meta, configs, bad)


@pytest.mark.parametrize(
    ("column", "values", "match"),
    [
        (
            "lr",
            ["fast"] * 36,
            r"config column 'lr' holds 'fast', which is not in the search space: lr must be one of",
        ),
        (
            "depth",
            [1.5] * 36,  # arrow alone would store 1
            r"column 'depth' holds 1.5, .*: depth must be an integer in \[1, 3\], but got 1.5",
        ),
        ("depth", [True] * 36, r"column 'depth' holds True, .*integer in \[1, 3\], but got True"),
        ("flag", [1] * 36, r"column 'flag' holds 1, .*: flag must be one of \[True, False\]"),
        ("act", [1] * 36, r"column 'act' holds 1, .*act must be one of \['relu', 'tanh'\]"),
        ("lr", [0.5] * 36, r"column 'lr' holds 0.5, .*Nearest valid value: 0.1\."),
        ("depth", [7] * 36, r"column 'depth' holds 7, .*depth must lie in \[1, 3\], but got 7"),
        ("act", ["gelu"] * 36, r"column 'act' holds 'gelu', .*one of \['relu', 'tanh'\]"),
        (
            "act",
            ["relu"] * 35,
            r"config column 'act' must be 1-d with 36 rows, but has shape \(35,\)",
        ),
        ("act", [["relu"]] * 36, r"must be 1-d with 36 rows, but has shape \(36, 1\)"),
        ("lr", 0.001, r"config column 'lr' must be 1-d with 1 rows, but has shape \(\)"),
    ],
)
def test_write_wrong_config_values(
    tmp_path: Path, synth: SimpleNamespace, column: str, values: Any, match: str
) -> None:
    meta, configs, metrics = _valid_inputs(synth)
    with pytest.raises(TableError, match=match):
        write_table(tmp_path, meta, {**configs, column: values}, metrics)
    assert list(tmp_path.iterdir()) == []


def test_write_unhashable_config_values(tmp_path: Path, synth: SimpleNamespace) -> None:
    meta, configs, metrics = _valid_inputs(synth)
    act = np.empty(36, dtype=object)
    act[:] = "relu"
    act[5] = ["tanh"]
    with pytest.raises(
        TableError,
        match=r"config column 'act' must hold one scalar value per row, but holds unhashable values such as \[\['tanh'\]\]",
    ):
        write_table(tmp_path, meta, {**configs, "act": act}, metrics)


def test_write_stores_canonical_values(tmp_path: Path, synth: SimpleNamespace) -> None:
    meta, configs, metrics = _valid_inputs(synth)
    configs["lr"] = [0.1 + 1e-12 if v == 0.1 else v for v in configs["lr"]]  # near-equal
    configs["depth"] = [float(v) for v in configs["depth"]]
    write_table(tmp_path, meta, configs, metrics)
    t = pq.read_table(tmp_path / "table.parquet")
    assert set(t.column("lr").to_pylist()) == {0.001, 0.01, 0.1}
    assert read_table(tmp_path).config(35) == {"lr": 0.1, "depth": 3, "act": "tanh", "flag": False}


def test_write_float_nan_config(tmp_path: Path, synth: SimpleNamespace) -> None:
    space = SearchSpace([Float("a", 0.0, 1.0)])
    meta = synth.make_meta(space=space)
    configs = {"a": [0.5, np.nan]}
    with pytest.raises(TableError, match=r"column 'a' holds nan, .*a must lie in \[0.0, 1.0\]"):
        write_table(tmp_path, meta, configs, synth.make_data(meta, configs))


# -- read errors: missing, truncated, corrupted -----------------------------------------------
def test_read_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(
        TableError, match=r"Table metadata file '.*nowhere.meta.json' does not exist"
    ):
        read_table(tmp_path / "nowhere")


def test_read_missing_parquet(make_table: Any) -> None:
    directory, _ = make_table()
    (directory / "table.parquet").unlink()
    with pytest.raises(
        TableError,
        match=r"Table file '.*table.parquet' does not exist \(meta.json names it for synth/grid-v1\)",
    ):
        read_table(directory)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b[:-1],  # one byte short
        lambda b: b"",  # emptied
        lambda b: b[:100] + bytes([b[100] ^ 0xFF]) + b[101:],  # one flipped byte
        lambda b: b + b"\x00",  # appended
    ],
)
def test_read_damaged_parquet_fails_the_checksum(make_table: Any, damage: Any) -> None:
    directory, meta = make_table()
    path = directory / "table.parquet"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(
        TableIntegrityError,
        match=r"table.parquet: sha256 must equal '[0-9a-f]{64}' as recorded in meta.json, but the file has '[0-9a-f]{64}'\. The file is corrupted",
    ) as info:
        read_table(directory)
    assert str(path) in str(info.value) and meta.sha256 in str(info.value)


def test_read_damaged_parquet_without_checksum(make_table: Any) -> None:
    directory, _ = make_table()
    path = directory / "table.parquet"
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(TableError, match=r"table.parquet: not a readable parquet file"):
        read_table(directory, verify_checksum=False)
    path.write_bytes(b"not a parquet file at all")
    with pytest.raises(TableError, match=r"not a readable parquet file"):
        read_table(directory, verify_checksum=False)


def test_read_wrong_recorded_checksum(make_table: Any) -> None:
    directory, _ = make_table()
    d = json.loads((directory / "meta.json").read_text())
    d["table"]["sha256"] = "0" * 64
    (directory / "meta.json").write_text(json.dumps(d))
    with pytest.raises(
        TableIntegrityError, match=r"sha256 must equal '0{64}' as recorded in meta.json"
    ):
        read_table(directory)
    assert read_table(directory, verify_checksum=False).n_configs == 36


# -- read errors: schema mismatch (checksum re-recorded, so the schema checks speak) ----------
def _set_column(t: pa.Table, name: str, array: Any) -> pa.Table:
    return t.set_column(t.column_names.index(name), name, array)


def _list_column(values: np.ndarray, lengths: list[int]) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, type=pa.float32()))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (
            lambda t: t.drop_columns(["test_loss"]),
            r"columns must be \[.*\], but \['test_loss'\] are missing and \[\] are unexpected",
        ),
        (
            lambda t: t.drop_columns(["depth"]),
            r"but \['depth'\] are missing",
        ),
        (
            lambda t: t.append_column("extra", pa.array(np.zeros(t.num_rows))),
            r"but \[\] are missing and \['extra'\] are unexpected",
        ),
        (
            lambda t: _set_column(t, "depth", pc.cast(t.column("depth"), pa.float64())),
            r"column 'depth' must be int64, but is double",
        ),
        (
            lambda t: _set_column(t, "act", pa.array([1] * t.num_rows)),
            r"column 'act' must be string, but is int64",
        ),
        (
            lambda t: _set_column(t, "flag", pc.cast(t.column("flag"), pa.int64())),
            r"column 'flag' must be bool, but is int64",
        ),
        (
            lambda t: _set_column(t, "seed", pc.cast(t.column("seed"), pa.float64())),
            r"column 'seed' must be an integer, got double",
        ),
        (
            lambda t: _set_column(t, "config_id", pc.cast(t.column("config_id"), pa.string())),
            r"column 'config_id' must be an integer, got string",
        ),
        (
            lambda t: _set_column(
                t, "runtime", pc.cast(t.column("runtime"), pa.list_(pa.float64()))
            ),
            r"metric 'runtime' must be list<float32>, but is list<(item|element): double>",
        ),
        (
            lambda t: _set_column(t, "runtime", pa.array(np.zeros(t.num_rows, np.float32))),
            r"metric 'runtime' must be list<float32>, but is float",
        ),
        (
            lambda t: _set_column(
                t,
                "runtime",
                _list_column(np.zeros(t.num_rows * 4 + 1), [5] + [4] * (t.num_rows - 1)),
            ),
            r"metric 'runtime' lists must have 4 values \(one per fidelity step\)",
        ),
        (
            lambda t: _set_column(
                t, "valid_loss", _list_column(np.zeros(t.num_rows * 3), [3] * t.num_rows)
            ),
            r"metric 'valid_loss' lists must have 4 values",
        ),
        (
            lambda t: _set_column(
                t,
                "valid_loss",
                pa.array([None] + [[0.0] * 4] * (t.num_rows - 1), type=pa.list_(pa.float32())),
            ),
            r"metric 'valid_loss' has null lists; use NaN inside a list instead",
        ),
        (
            lambda t: _set_column(t, "act", pa.array([None, *t.column("act").to_pylist()[1:]])),
            r"column 'act' must have a value in every row, but has 1 nulls",
        ),
        (
            lambda t: _set_column(
                t, "depth", pa.array([None, *t.column("depth").to_pylist()[1:]], pa.int64())
            ),
            r"column 'depth' must have a value in every row, but has 1 nulls",
        ),
        (
            lambda t: _set_column(
                t, "act", pa.array(["relu", "tanh", "relu", *t.column("act").to_pylist()[3:]])
            ),
            r"column 'act' differs between seeds of one config_id",
        ),
        (
            lambda t: t.slice(0, t.num_rows - 1),
            r"107 rows cannot hold every config × 3 seeds",
        ),
        (
            lambda t: t.slice(0, t.num_rows - 3),
            r"meta.json says 36 configs, the file holds 35",
        ),
        (
            lambda t: t.slice(0, 0),
            r"0 rows cannot hold every config × 3 seeds",
        ),
        (
            # config 0 loses its seed-7 row; config 1 has seed 0 twice: same row count
            lambda t: pa.concat_tables([t.slice(0, 2), t.slice(3, 1), t.slice(3)]),
            r"every \(config_id, seed\) pair must appear exactly once",
        ),
        (
            lambda t: _set_column(t, "seed", pa.array([0, 1, 8] * 36, type=pa.int64())),
            r"seeds must be in \[0, 1, 7\], found \[8\]",
        ),
        (
            lambda t: _set_column(
                t, "config_id", pa.array([40, *t.column("config_id").to_pylist()[1:]], pa.int32())
            ),
            r"config_id must run over 0..35, found 0..40",
        ),
        (
            lambda t: _set_column(t, "lr", pa.array([0.5, *t.column("lr").to_pylist()[1:]])),
            r"column 'lr' differs between seeds of one config_id",
        ),
        (
            lambda t: _set_column(
                t, "lr", pa.array([0.5, 0.5, 0.5, *t.column("lr").to_pylist()[3:]])
            ),
            r"column 'lr' holds 0.5, outside the space's Ordinal\(name='lr'",
        ),
    ],
)
def test_read_schema_mismatch(
    make_table: Any, synth: SimpleNamespace, mutate: Any, match: str
) -> None:
    directory, _ = make_table()
    synth.rewrite_parquet(directory, mutate)
    with pytest.raises(TableIntegrityError, match=match) as info:
        read_table(directory)
    assert "table.parquet" in str(info.value)  # names the file
    assert isinstance(info.value, HPOBenchError)


def test_read_accepts_row_order_and_large_lists(make_table: Any, synth: SimpleNamespace) -> None:
    directory, _ = make_table()
    before = read_table(directory)

    def shuffle(t: pa.Table) -> pa.Table:
        order = np.random.default_rng(0).permutation(t.num_rows)
        t = t.take(pa.array(order))
        return _set_column(t, "runtime", pc.cast(t.column("runtime"), pa.large_list(pa.float32())))

    synth.rewrite_parquet(directory, shuffle)
    after = read_table(directory)
    np.testing.assert_array_equal(after.data, before.data)
    for name in before.configs:
        np.testing.assert_array_equal(after.configs[name], before.configs[name])


# -- the dense Table -------------------------------------------------------------------------
def test_write_records_the_reference_runtime(make_table: Any) -> None:
    """meta.json records the median full-fidelity runtime over all configs and tuning seeds."""
    directory, meta = make_table()
    table = read_table(directory)
    tuning = [meta.seeds.index(s) for s in meta.tuning_seeds]
    want = float(np.median(table.metric("runtime")[:, tuning, -1].astype(np.float64)))
    assert meta.reference_runtime == want == table.meta.reference_runtime
    assert json.loads((directory / "meta.json").read_text())["reference_runtime"] == want


def test_read_refuses_a_wrong_reference_runtime(make_table: Any) -> None:
    directory, _ = make_table()
    path = directory / "meta.json"
    d = json.loads(path.read_text())
    d["reference_runtime"] = d["reference_runtime"] * 2
    path.write_text(json.dumps(d))
    with pytest.raises(TableIntegrityError, match="reference_runtime must equal the median"):
        read_table(directory)
    d["reference_runtime"] = -1.0
    path.write_text(json.dumps(d))
    with pytest.raises(TableError, match="reference_runtime must be None or a positive"):
        read_table(directory)


def test_loaded_tables_are_immutable_for_real(make_table: Any) -> None:
    """The write flag of a table's arrays cannot be set back, directly or through ``.base``
    (before: ``table.data.setflags(write=True)`` succeeded and a write changed every answer)."""
    table = read_table(make_table()[0])
    arrays = [table.data, table.metric("runtime"), *table.configs.values()]
    for arr in arrays:
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="cannot set WRITEABLE flag"):
            arr.setflags(write=True)
        base = arr.base
        while base is not None and not isinstance(base, bytes):
            with pytest.raises(ValueError, match="cannot set WRITEABLE flag"):
                base.flags.writeable = True
            base = base.base
        assert isinstance(base, bytes)  # immutable memory at the bottom
    with pytest.raises(TypeError):
        table.configs["act"] = np.asarray(["x"] * 36)  # type: ignore[index]


def test_table_is_read_only_and_typed(make_table: Any) -> None:
    table = read_table(make_table()[0])
    assert isinstance(table, Table)
    assert table.data.dtype == np.float32 and table.data.shape == (36, 3, 4, 3)
    with pytest.raises(ValueError, match="read-only"):
        table.data[0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        table.configs["lr"][0] = 1.0
    assert table.metric("runtime").shape == (36, 3, 4)
    assert table.config(0) == {"lr": 0.001, "depth": 1, "act": "relu", "flag": True}
    assert [type(v) for v in table.config(35).values()] == [float, int, str, bool]
    assert table.seed_index(7) == 2 and table.seed_index(np.int64(1)) == 1


@pytest.mark.parametrize("seed", [5, 1.0, 1.7, True, "0", None])
def test_table_bad_seed(make_table: Any, seed: Any) -> None:
    table = read_table(make_table()[0])
    with pytest.raises(
        HPOBenchError, match=r"synth/grid-v1: seed must be one of \[0, 1, 7\], but got"
    ):
        table.seed_index(seed)


@pytest.mark.parametrize("config_id", [-1, 36, 1.0, "3", True, None])
def test_table_bad_config_id(make_table: Any, config_id: Any) -> None:
    table = read_table(make_table()[0])
    with pytest.raises(TableError, match=r"config_id must be an int in \[0, 36\), got"):
        table.config(config_id)


def test_table_bad_metric_name(make_table: Any) -> None:
    table = read_table(make_table()[0])
    with pytest.raises(
        TableError,
        match=r"metric must be one of \[.*\], but got 'valid_los'\. Did you mean 'valid_loss'\?",
    ):
        table.metric("valid_los")


def test_table_construction_checks(make_table: Any) -> None:
    table = read_table(make_table()[0])
    with pytest.raises(
        TableError, match=r"data must be float32 \[configs, seeds, steps, metrics\]"
    ):
        Table(
            meta=table.meta,
            configs=table.configs,
            data=table.data.astype(np.float64),
            metric_names=table.metric_names,
        )
    with pytest.raises(
        TableError, match=r"does not match meta: 3 seeds, 4 fidelity steps, 3 metrics"
    ):
        Table(
            meta=table.meta,
            configs=table.configs,
            data=table.data[:, :2].copy(),
            metric_names=table.metric_names,
        )
    with pytest.raises(TableError, match=r"config column 'lr' has 35 rows, expected 36"):
        Table(
            meta=table.meta,
            configs={**table.configs, "lr": table.configs["lr"][:35]},
            data=table.data.copy(),
            metric_names=table.metric_names,
        )
    with pytest.raises(TableError, match=r"metrics \['a', 'b', 'c'\] differ from meta's"):
        Table(
            meta=table.meta,
            configs=table.configs,
            data=table.data.copy(),
            metric_names=("a", "b", "c"),
        )


def test_metric_directions_survive_the_round_trip(make_table: Any) -> None:
    metrics = {
        "valid_loss": MetricSpec("valid_loss", "minimize", "valid"),
        "test_loss": MetricSpec("test_loss", "maximize", "test", "a maximised metric"),
        "runtime": MetricSpec("runtime", "minimize", "none"),
    }
    directory, _ = make_table(metrics=metrics)
    assert read_table(directory).meta.metrics["test_loss"].direction == "maximize"


def test_meta_mappings_are_read_only_and_pickle(make_table: Any) -> None:
    import pickle

    meta = read_table(make_table()[0]).meta
    for name in ("metrics", "dataset", "generation", "extra"):
        with pytest.raises(TypeError):
            getattr(meta, name)["x"] = 1
    assert pickle.loads(pickle.dumps(meta)) == meta
    assert TableMeta.from_dict(meta.to_dict()) == meta
