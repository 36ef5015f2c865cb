"""Seeded row subsamples: how a training seed of a tree family picks the rows it fits on.

Tree ensembles fitted on the same rows with ``max_features`` near 1 barely depend on their
``random_state``; drawing a fraction of the train split per seed gives every configuration
data-sampling noise, as the neural families get data-order noise. Each family mixes its own
``tag`` into the seed so that two families' streams never coincide.
"""

from __future__ import annotations

import numpy as np

__all__ = ["seed_rows"]


def seed_rows(n_train: int, seed: int, fraction: float, *, tag: int) -> tuple[np.ndarray, int]:
    """Sorted train rows that seed ``seed`` fits on, and a ``random_state`` from the same stream.

    ``fraction`` of ``n_train`` rows (at least one), uniform without replacement, drawn from
    ``SeedSequence([seed, tag])``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(tag)]))
    n_keep = max(1, round(fraction * n_train))
    rows = np.sort(rng.choice(n_train, size=n_keep, replace=False))
    return rows, int(rng.integers(0, 2**31 - 1))
