"""Statistics against their definitions and against scipy / Demšar's published constants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import friedmanchisquare

from hpobench.leaderboard import (
    LeaderboardError,
    friedman_nemenyi,
    iqm,
    mean_ranks,
    performance_profile,
    stratified_bootstrap_iqm,
)


def test_iqm_is_the_mean_of_the_middle_half() -> None:
    x = np.arange(8.0)  # middle half: 2, 3, 4, 5
    assert iqm(x) == 3.5
    assert iqm([-1e9, *x[1:7].tolist(), 1e9]) == 3.5  # the outer quarters do not count


def test_stratified_bootstrap_resamples_within_tasks() -> None:
    # each task constant: any within-task resample gives the same pooled sample -> zero width
    scores = np.array([[0.1] * 5, [0.4] * 5, [0.9] * 5, [1.3] * 5])
    r = stratified_bootstrap_iqm(scores, n_resamples=300)
    assert r.low == r.value == r.high == pytest.approx(iqm(scores))


def test_bootstrap_is_seeded_and_brackets_the_point() -> None:
    rng = np.random.default_rng(1)
    scores = rng.random((6, 10))
    a = stratified_bootstrap_iqm(scores, n_resamples=500)
    assert a == stratified_bootstrap_iqm(scores, n_resamples=500)
    assert a.low <= a.value <= a.high
    assert a != stratified_bootstrap_iqm(scores, n_resamples=500, seed=1)


@given(st.lists(st.lists(st.floats(0, 2), min_size=3, max_size=3), min_size=2, max_size=8))
@settings(max_examples=40, deadline=None)
def test_mean_ranks_sum_to_k_k_plus_1_over_2(cols: list[list[float]]) -> None:
    x = np.asarray(cols).T  # [3 optimizers, n tasks]
    r = mean_ranks(x)
    assert r.sum() == pytest.approx(3 * 4 / 2)
    assert ((r >= 1) & (r <= 3)).all()


def test_friedman_matches_scipy_and_demsar_cd() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((4, 12)) + np.arange(4)[:, None] * 0.3
    res = friedman_nemenyi({f"o{i}": x[i] for i in range(4)})
    ref = friedmanchisquare(*x)
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.p_value == pytest.approx(ref.pvalue)
    # Demšar (2006), Table 5(a): q_0.05 for k = 4 is 2.569
    assert res.critical_difference == pytest.approx(2.569 * math.sqrt(4 * 5 / (6 * 12)), rel=1e-3)
    assert res.nemenyi_p.shape == (4, 4)
    assert res.mean_ranks[0] < res.mean_ranks[3]


def test_friedman_with_two_entries_is_undefined_not_an_error() -> None:
    res = friedman_nemenyi({"a": [0.1, 0.2], "b": [0.3, 0.4]})
    assert math.isnan(res.statistic) and math.isnan(res.p_value)
    assert res.mean_ranks == (1.0, 2.0)


def test_performance_profile_is_the_empirical_cdf() -> None:
    p = performance_profile([0.0, 0.5, 1.0, 2.0], np.linspace(0, 2, 5))
    assert p.tolist() == [0.25, 0.5, 0.75, 0.75, 1.0]


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: stratified_bootstrap_iqm([[math.nan, 1.0]]), "finite"),
        (lambda: stratified_bootstrap_iqm([1.0, 2.0]), "matrix"),
        (lambda: stratified_bootstrap_iqm([[1.0]], alpha=1.5), "alpha"),
        (lambda: mean_ranks([[math.inf]]), "finite"),
    ],
)
def test_bad_input(call, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LeaderboardError, match=words):
        call()
