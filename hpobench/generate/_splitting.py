"""Fixed train/valid/test splits and nested train subsamples: pure functions of labels and seeds."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "STREAM_SPLIT",
    "TEST_FRACTION",
    "VALID_FRACTION",
    "split_holdout",
    "split_indices",
    "subsample_train",
]

VALID_FRACTION = 0.2
TEST_FRACTION = 0.2
# Independent random streams derived from ``split_seed`` (``SeedSequence([split_seed, stream])``),
# so that subsampling the train split never changes the split itself.
STREAM_SPLIT = 0
_STREAM_SUBSAMPLE = 1


def _rng(split_seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([split_seed, stream]))


def split_indices(
    n_rows: int, strata: np.ndarray | None, split_seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return shuffled (train, valid, test) row indices: 60/20/20, per stratum if given.

    Within each stratum (or the whole table) rows are permuted and the first
    ``round(0.2 n)`` go to test, the next ``round(0.2 n)`` to valid, the rest to train. Each
    split is then shuffled so that rows of one class or one period never come in blocks.
    """
    rng = _rng(split_seed, STREAM_SPLIT)
    if strata is None:
        groups = [np.arange(n_rows)]
    else:
        groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for members in groups:
        perm = rng.permutation(members)
        n_test = round(TEST_FRACTION * len(perm))
        n_valid = round(VALID_FRACTION * len(perm))
        parts[2].append(perm[:n_test])
        parts[1].append(perm[n_test : n_test + n_valid])
        parts[0].append(perm[n_test + n_valid :])
    train, valid, test = (rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts)
    return train, valid, test


def split_holdout(
    n_rows: int, strata: np.ndarray, split_seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Carve a stratified 20% valid set out of an official train set: (train, valid)."""
    rng = _rng(split_seed, STREAM_SPLIT)
    train_parts, valid_parts = [], []
    for s in np.unique(strata):
        perm = rng.permutation(np.flatnonzero(strata == s))
        n_valid = round(VALID_FRACTION * len(perm))
        valid_parts.append(perm[:n_valid])
        train_parts.append(perm[n_valid:])
    train = rng.permutation(np.concatenate(train_parts)).astype(np.int64)
    valid = rng.permutation(np.concatenate(valid_parts)).astype(np.int64)
    return train, valid


def subsample_train(
    train: np.ndarray, max_train_rows: int | None, split_seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Keep the first ``max_train_rows`` rows of one seeded permutation of the train split."""
    if max_train_rows is None or max_train_rows >= len(train):
        return train, {"applied": False, "max_train_rows": max_train_rows}
    keep = _rng(split_seed, _STREAM_SUBSAMPLE).permutation(len(train))[:max_train_rows]
    return train[keep], {
        "applied": True,
        "max_train_rows": max_train_rows,
        "train_rows_before": len(train),
        "method": (
            "uniform without replacement: prefix of numpy.random.default_rng("
            f"SeedSequence([split_seed, {_STREAM_SUBSAMPLE}])).permutation(n_train); nested "
            "across limits; preprocessing is fitted on the kept rows"
        ),
    }
