"""import_long_format: users' own long tables -> v1 tables, and every way such input is wrong."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hpobench
from hpobench import (
    ConfigError,
    Float,
    Ordinal,
    SearchSpace,
    TableError,
    TabularBenchmark,
    read_table,
)
from hpobench.harness import Suite
from hpobench.importers import import_long_format
from hpobench.table import MetricSpec

SPACE = SearchSpace([Float("lr", 1e-3, 1.0, log=True), Ordinal("depth", (2, 3))])
METRICS = {
    "valid_loss": MetricSpec("valid_loss", "minimize", "valid"),
    "runtime": MetricSpec("runtime", "minimize", "none"),
}


def long_frame(seed: int = 0) -> pd.DataFrame:
    """3 configs × 2 seeds × 3 epochs, shuffled rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for (lr, depth), s in itertools.product([(0.1, 2), (0.01, 3), (0.5, 2)], [0, 1]):
        t = 0.0
        for epoch in (1, 2, 3):
            t += float(rng.uniform(1, 2))
            rows.append(
                {
                    "lr": lr,
                    "depth": depth,
                    "seed": s,
                    "epoch": epoch,
                    "valid_loss": float(rng.normal()),
                    "runtime": t,
                }
            )
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


def run(data: Any, out: Path, **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "benchmark_id": "mine/toy-v1",
        "space": SPACE,
        "fidelity_column": "epoch",
        "seed_column": "seed",
        "metrics": METRICS,
        "objective": "valid_loss",
        "tuning_seeds": [0],
        "test_seeds": [1],
        "description": "toy",
        "citation": "me",
        "licence": "CC0-1.0",
    }
    kwargs.update(overrides)
    return import_long_format(data, out, **kwargs)


def test_round_trip_every_value(tmp_path: Path) -> None:
    df = long_frame()
    meta = run(df, tmp_path / "t")
    assert meta.id == "mine/toy-v1" and meta.n_configs == 3 and len(meta.sha256) == 64
    assert meta.fidelity.values == (1, 2, 3) and meta.seeds == (0, 1)
    assert meta.reported_metric == "valid_loss"
    bench = TabularBenchmark.from_directory(tmp_path / "t")
    for r in df.itertuples():
        res = bench.query({"lr": r.lr, "depth": r.depth}, fidelity=r.epoch, seed=r.seed)
        assert res.metrics["valid_loss"] == np.float32(r.valid_loss)
        assert res.cost == np.float32(r.runtime)


def test_csv_and_parquet_paths_give_the_same_table(tmp_path: Path) -> None:
    df = long_frame()
    df.to_csv(tmp_path / "runs.csv", index=False)
    df.to_parquet(tmp_path / "runs.parquet")
    a = run(tmp_path / "runs.csv", tmp_path / "a")
    run(str(tmp_path / "runs.parquet"), tmp_path / "b")
    np.testing.assert_array_equal(read_table(tmp_path / "a").data, read_table(tmp_path / "b").data)
    assert a.dataset["source"].endswith("runs.csv")
    assert run(df, tmp_path / "c").sha256 == run(df, tmp_path / "d").sha256  # deterministic


def test_docstring_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hpobench.importers import _long

    doc = _long.__doc__ or ""
    code = textwrap.dedent(
        doc.split("Example (runs as is; docs/tables.md has the same as a JSON spec)::")[1]
    )
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<_long docstring>", "exec"), {})
    bench = TabularBenchmark.from_directory(tmp_path / "out" / "mine" / "toy")
    assert bench.query({"lr": 0.01, "depth": 3}, fidelity=2, seed=0).metrics[
        "valid_loss"
    ] == np.float32(0.5)


def test_missing_input_file(tmp_path: Path) -> None:
    with pytest.raises(
        TableError, match=r"Long-format input '.*nope.csv' must be an existing file"
    ):
        run(tmp_path / "nope.csv", tmp_path / "t")


@pytest.mark.parametrize("data", [None, 3, [{"lr": 0.1}], {"lr": [0.1]}])
def test_wrong_input_type(tmp_path: Path, data: Any) -> None:
    with pytest.raises(
        TableError, match=r"data must be a DataFrame or a .csv/.parquet path, but got"
    ):
        run(data, tmp_path / "t")


def test_missing_columns(tmp_path: Path) -> None:
    df = long_frame().drop(columns=["runtime", "depth"])
    with pytest.raises(
        TableError,
        match=r"<DataFrame>: the long table must have columns \['lr', 'depth', 'seed', 'epoch', 'valid_loss', 'runtime'\], but \['depth', 'runtime'\] are missing",
    ):
        run(df, tmp_path / "t")


def test_a_gap_inside_a_run_is_named(tmp_path: Path) -> None:
    df = long_frame()
    df = df[~((df.lr == 0.01) & (df.seed == 1) & (df.epoch == 2))]
    with pytest.raises(
        TableError,
        match=r"steps must be present from the first epoch on without gaps \(a run may stop early\), but config \{'lr': 0.01, 'depth': 3\}, seed 1 has a gap at epoch=2",
    ):
        run(df, tmp_path / "t")


def test_missing_seed_names_the_gap(tmp_path: Path) -> None:
    df = long_frame()
    df = df[~((df.lr == 0.5) & (df.seed == 0))]
    with pytest.raises(
        TableError,
        match=r"every configuration needs every seed at every epoch \(missing='error'\), but 3 cells are missing, e.g. config \{'lr': 0.5, 'depth': 2\}, seed 0, epoch=1\. Use missing='drop'",
    ):
        run(df, tmp_path / "t")


def test_duplicate_rows(tmp_path: Path) -> None:
    df = long_frame()
    df = pd.concat([df, df.iloc[:1]], ignore_index=True)
    with pytest.raises(TableError, match=r"each \(configuration, seed, epoch\) must appear once"):
        run(df, tmp_path / "t")


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("lr", 5.0, r"lr must lie in \[0.001, 1.0\], but got 5.0"),
        ("lr", np.nan, r"lr must lie in \[0.001, 1.0\], but got nan"),
        ("depth", 4, r"depth must be one of \[2, 3\], but got 4\. Nearest valid value: 3\."),
    ],
)
def test_configs_outside_the_space(tmp_path: Path, column: str, value: Any, match: str) -> None:
    df = long_frame()
    df.loc[0, column] = value
    with pytest.raises(ConfigError, match=match):
        run(df, tmp_path / "t")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"objective": "acc"}, r"metric 'acc' is named in meta but not among"),
        ({"tuning_seeds": [0], "test_seeds": [0]}, r"tuning and test seeds must be disjoint"),
        ({"tuning_seeds": [5]}, r"must be subsets of \[0, 1\], got tuning=\[5\]"),
        ({"benchmark_id": "toy"}, r"A benchmark id must look like 'family/task-vN'"),
    ],
)
def test_bad_meta_arguments(tmp_path: Path, overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(TableError, match=match):
        run(long_frame(), tmp_path / "t", **overrides)


@pytest.mark.parametrize("seeds", [[0.5], ["a"], [np.nan]])
def test_non_integer_seeds(tmp_path: Path, seeds: list[Any]) -> None:
    df = long_frame()
    df["seed"] = df["seed"].astype(object)
    df.loc[0, "seed"] = seeds[0]
    with pytest.raises(TableError, match=r"column 'seed' must hold integer seeds, but holds"):
        run(df, tmp_path / "t")
    df["seed"] = long_frame()["seed"].astype(float)  # 0.0 and 1.0 are fine
    assert run(df, tmp_path / "ok").seeds == (0, 1)


# -- ragged data and the missing policy ------------------------------------------------------------
def ragged_frame() -> pd.DataFrame:
    """long_frame with one run stopping after epoch 1 and one run absent."""
    df = long_frame()
    stops = (df.lr == 0.01) & (df.seed == 1) & (df.epoch > 1)
    absent = (df.lr == 0.5) & (df.seed == 0)
    return df[~(stops | absent)].reset_index(drop=True)


def test_missing_drop_keeps_only_complete_configs(tmp_path: Path) -> None:
    meta = run(ragged_frame(), tmp_path / "t", missing="drop")
    assert meta.n_configs == 1
    assert meta.extra["missing"] == {
        "policy": "drop",
        "n_dropped_configs": 2,
        "n_configs_in_source": 3,
    }
    table = read_table(tmp_path / "t")
    assert table.config(0) == {"lr": 0.1, "depth": 2}
    assert np.isfinite(table.data).all()


def test_missing_nan_keeps_cells_as_nan_and_the_harness_refuses(
    tmp_path: Path, user_registrations: None
) -> None:
    import hpobench
    from hpobench import ProtocolError
    from hpobench.harness import Problem  # noqa: F401  (the public harness is importable)

    meta = run(ragged_frame(), tmp_path / "t", missing="nan")
    assert meta.n_configs == 3 and meta.extra["missing"] == {"policy": "nan", "n_missing_cells": 5}
    bench = TabularBenchmark.from_directory(tmp_path / "t")
    runtime = bench.table.metric("runtime")
    assert int((~np.isfinite(runtime)).sum()) == 5  # the availability mask
    r = bench.query({"lr": 0.01, "depth": 3}, fidelity=3, seed=1)
    assert np.isnan(r.metrics["valid_loss"]) and np.isnan(r.cost)
    hpobench.register("mine/toy-v1", path=tmp_path / "t")

    def factory(problem: Any, seed: int) -> Any:
        raise AssertionError("never built")

    with pytest.raises(
        ProtocolError,
        match=r"imported with missing='nan' and lacks 5 cells; re-import it with missing='drop'",
    ):
        hpobench.run_study("mine/toy-v1", factory, _TOY_PROTOCOL, repetition=0)


_TOY_PROTOCOL = hpobench.Protocol(
    name="toy-v1",
    suite=Suite(name="toy", patterns=("mine/*",)),
    n_workers=1,
    n_repetitions=1,
    allow_resume=False,
)


def test_replace_is_needed_to_overwrite(tmp_path: Path) -> None:
    run(long_frame(), tmp_path / "t")
    with pytest.raises(TableError, match=r"holds a table already; it is replaced only when asked"):
        run(long_frame(1), tmp_path / "t")
    assert run(long_frame(1), tmp_path / "t", replace=True).n_configs == 3


def _doc_block(lang: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "tables.md").read_text()
    return text.split(f"```{lang}\n", 1)[1].split("```", 1)[0]


def test_the_documented_spec_imports_through_the_cli_and_persists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import os
    import subprocess
    import sys

    from hpobench.cli import main

    (tmp_path / "runs.csv").write_text(_doc_block("csv"))
    (tmp_path / "spec.json").write_text(_doc_block("json"))
    user = tmp_path / "user-root"
    monkeypatch.setenv("HPOBENCH_USER_DATA", str(user))
    args = [
        "import",
        "long",
        "--input",
        str(tmp_path / "runs.csv"),
        "--spec",
        str(tmp_path / "spec.json"),
    ]
    assert main(args) == 0
    meta = read_table(user / "mine" / "toy").meta
    assert meta.n_configs == 1 and meta.extra["missing"]["n_dropped_configs"] == 1
    assert main(args) == 2  # a second import of the same id is refused ...
    assert main([*args, "--replace"]) == 0  # ... unless asked
    # another process sees the imported table: the user root is a data root
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-m", "hpobench.cli", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    ids = [row["id"] for row in json.loads(out.stdout)]
    assert "mine/toy-v1" in ids and "fcnet/protein-v1" in ids
