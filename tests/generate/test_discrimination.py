"""The discrimination numbers: exact random-search ranks, per-table numbers, the suite rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hpobench.generate._discrimination import (
    Discrimination,
    discrimination,
    random_search_median_rank,
)
from hpobench.table import read_table


@pytest.mark.parametrize(
    ("n_configs", "n_draws", "rank"),
    [(4, 4, 1), (10, 1, 5), (10, 20, 1), (1, 1, 1), (1000, 1, 500)],
)
def test_random_search_median_rank_exact_cases(n_configs: int, n_draws: int, rank: int) -> None:
    assert random_search_median_rank(n_configs, n_draws) == rank


@pytest.mark.parametrize(("n_configs", "n_draws"), [(50, 7), (1000, 133), (200, 40)])
def test_random_search_median_rank_matches_simulation(n_configs: int, n_draws: int) -> None:
    rng = np.random.default_rng(0)
    best = [rng.choice(n_configs, n_draws, replace=False).min() + 1 for _ in range(20_000)]
    k = random_search_median_rank(n_configs, n_draws)
    # k is the smallest rank with P(best <= k) >= 1/2
    assert np.mean(np.asarray(best) <= k) >= 0.49
    assert k == 1 or np.mean(np.asarray(best) <= k - 1) < 0.51


def test_discrimination_numbers_of_a_table(
    make_table: Callable[..., tuple[Path, Any]],
) -> None:
    directory, _ = make_table()
    table = read_table(directory)
    d = discrimination(table, n_full=5)
    obj = table.metric("valid_loss")[:, [table.seed_index(0), table.seed_index(1)], :]
    final = obj[:, :, -1].astype(np.float64).mean(axis=1)
    ordered = np.sort(final)
    assert d.n_configs == 36 and d.n_rs == 5
    assert d.rs_rank == random_search_median_rank(36, 5)
    assert d.gap == pytest.approx(ordered[d.rs_rank - 1] - ordered[0])
    assert d.spread == pytest.approx(np.percentile(final, 90) - np.percentile(final, 10))
    noise = np.median(obj[:, :, -1].astype(np.float64).std(axis=1, ddof=1))
    assert d.noise == pytest.approx(noise)
    first = obj[:, :, 0].astype(np.float64).mean(axis=1)
    rho = pd.Series(first).corr(pd.Series(final), method="spearman")
    assert d.spearman_first == pytest.approx(rho)
    assert d.low_step == 1  # the first step >= 4 / 9
    assert "size" in d.failures  # 36 configurations


def _row(**overrides: Any) -> Discrimination:
    base: dict[str, Any] = {
        "id": "x/y-v1",
        "n_configs": 1000,
        "n_seeds": 4,
        "n_rs": 133,
        "noise": 0.01,
        "spread": 0.1,
        "rs_rank": 5,
        "gap": 0.02,
        "low_step": 2,
        "spearman_low": 0.7,
        "spearman_first": 0.5,
    }
    base.update(overrides)
    return Discrimination(**base)


@pytest.mark.parametrize(
    ("overrides", "failures"),
    [
        ({}, ()),
        ({"n_configs": 999}, ("size",)),
        ({"n_seeds": 2}, ("size",)),
        ({"n_rs": 201}, ("rs-sees-too-much",)),
        ({"gap": 0.009}, ("gap<noise",)),
        ({"spread": 0.039}, ("spread<4noise",)),
        ({"spearman_low": 0.49}, ("low-fidelity-rho<0.5",)),
        ({"spearman_low": float("nan")}, ("low-fidelity-rho<0.5",)),
    ],
)
def test_the_suite_rule(overrides: dict[str, Any], failures: tuple[str, ...]) -> None:
    assert _row(**overrides).failures == failures
