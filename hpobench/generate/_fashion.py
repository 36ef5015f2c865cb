"""Fashion-MNIST from the Debian package's idx files: reader, official test set, valid split."""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import DatasetUnavailableError
from hpobench.generate._catalogue import FASHION_CLASSES
from hpobench.generate._splits import DatasetSplits
from hpobench.generate._splitting import (
    STREAM_SPLIT,
    VALID_FRACTION,
    split_holdout,
    subsample_train,
)
from hpobench.generate._tabular import PREPROCESSING_VERSION, file_sha256, split_provenance

__all__ = ["FASHION_MNIST", "load_fashion_mnist"]

FASHION_MNIST = "fashion_mnist"
_FASHION_DIR_ENV = "HPOBENCH_FASHION_MNIST_DIR"
_FASHION_DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_CHANGELOG = Path("/usr/share/doc/dataset-fashion-mnist/changelog.Debian.gz")


def _fashion_dir() -> Path:
    return Path(os.environ.get(_FASHION_DIR_ENV, str(_FASHION_DEFAULT_DIR)))


def _idx_file(directory: Path, stem: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    raise DatasetUnavailableError(
        f"Fashion-MNIST file {stem}(.gz) not found in {directory}. Install it with: "
        f"apt-get install dataset-fashion-mnist  (Debian/Ubuntu), or set {_FASHION_DIR_ENV} to "
        "a folder holding the four original idx files."
    )


def _read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Parse an idx file (big-endian header: magic, then one uint32 per dimension)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise DatasetUnavailableError(f"{path}: idx magic {magic}, expected {expected_magic}.")
    n_dims = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(dims)


@functools.lru_cache(maxsize=1)
def _fashion_raw() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, str]]:
    directory = _fashion_dir()
    stems = {
        "train_images": "train-images-idx3-ubyte",
        "train_labels": "train-labels-idx1-ubyte",
        "test_images": "t10k-images-idx3-ubyte",
        "test_labels": "t10k-labels-idx1-ubyte",
    }
    paths = {key: _idx_file(directory, stem) for key, stem in stems.items()}
    x_train = _read_idx(paths["train_images"], 2051).reshape(-1, 784)
    y_train = _read_idx(paths["train_labels"], 2049)
    x_test = _read_idx(paths["test_images"], 2051).reshape(-1, 784)
    y_test = _read_idx(paths["test_labels"], 2049)
    if x_train.shape != (60_000, 784) or x_test.shape != (10_000, 784):
        raise DatasetUnavailableError(
            f"Fashion-MNIST in {directory} has shapes {x_train.shape}/{x_test.shape}, "
            "expected (60000, 784)/(10000, 784)."
        )
    hashes = {paths[k].name: file_sha256(paths[k]) for k in stems}
    return x_train, y_train, x_test, y_test, hashes


def _debian_version() -> str:
    try:
        with gzip.open(_FASHION_CHANGELOG, "rt", encoding="utf-8") as handle:
            first = handle.readline()
    except OSError:
        return "unknown"
    return first.split("(", 1)[1].split(")", 1)[0] if "(" in first else "unknown"


def load_fashion_mnist(split_seed: int, max_train_rows: int | None) -> DatasetSplits:
    x_full, y_full, x_test, y_test, hashes = _fashion_raw()
    train, valid = split_holdout(len(y_full), y_full, split_seed)
    train, subsample = subsample_train(train, max_train_rows, split_seed)
    scale = np.float32(1.0 / 255.0)

    def pixels(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.astype(np.float32) * scale)

    provenance: dict[str, Any] = {
        "name": FASHION_MNIST,
        "task_type": "multiclass",
        "source": {
            "package": "dataset-fashion-mnist (Debian/Ubuntu apt)",
            "version": _debian_version(),
            "loader_call": f"idx files read from {_fashion_dir()}",
            "files_sha256": hashes,
            "licence": "MIT (Expat), Copyright 2017 Zalando SE (per the Debian copyright file)",
            "citation": (
                "Xiao H, Rasul K, Vollgraf R. Fashion-MNIST: a novel image dataset for "
                "benchmarking machine learning algorithms. arXiv:1708.07747, 2017."
            ),
        },
        "original_rows": 70_000,
        "original_columns_including_target": 785,
        "dropped_columns": {},
        "leakage_review": "28x28 grey-scale pixels only; official train/test split kept",
        "fixes": {},
        "target": {
            "column": "label",
            "classes": list(FASHION_CLASSES),
            "encoding": "class id = the official label 0-9",
        },
        "preprocessing": {
            "pixels": "uint8 / 255 -> float32 in [0, 1]; not standardized (fixed scale)",
            "statistics_from": "none fitted",
        },
        "preprocessing_version": PREPROCESSING_VERSION,
        "n_features": 784,
        "split": split_provenance(
            split_seed,
            stratified=True,
            method=(
                "official test set (10,000) as test; valid = stratified 20% of the official train "
                "set: per class, permute with numpy.random.default_rng(SeedSequence("
                f"[split_seed, {STREAM_SPLIT}])), first round(0.2 n) -> valid; splits shuffled"
            ),
            indices=(train, valid, np.arange(len(y_test))),
            fractions=(0.8, VALID_FRACTION, None),
            indices_refer_to="train/valid: rows of the official train set; test: official test set",
        ),
        "subsample": subsample,
    }
    return DatasetSplits(
        name=FASHION_MNIST,
        task_type="multiclass",
        X_train=pixels(x_full[train]),
        y_train=y_full[train].astype(np.int64),
        X_valid=pixels(x_full[valid]),
        y_valid=y_full[valid].astype(np.int64),
        X_test=pixels(x_test),
        y_test=y_test.astype(np.int64),
        n_classes=10,
        feature_names=tuple(f"pixel_{i:03d}" for i in range(784)),
        provenance=provenance,
    )
