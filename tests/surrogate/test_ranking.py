"""Ranking preservation runs each optimizer under the same protocol pinned to each backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("scipy")

from hpobench import TabularBenchmark
from hpobench.fit._ranking import OPTIMIZERS, ranking_preservation
from hpobench.surrogate import SurrogateBenchmark


@pytest.mark.slow
def test_ranking_on_table_and_surrogate(make_surrogate: Callable[..., tuple[Path, Path]]) -> None:
    table_dir, sdir = make_surrogate()
    table = TabularBenchmark.from_directory(table_dir)
    sur = SurrogateBenchmark.from_directory(sdir)
    chosen = {k: OPTIMIZERS[k] for k in ("random_search", "re_pop10")}
    rk = ranking_preservation(table, sur, "sf-serial-v2", n_repetitions=2, optimizers=chosen)
    assert rk["optimizers"] == list(chosen)
    assert set(rk["scores_table"]) == set(chosen) == set(rk["scores_surrogate"])
    assert -1.0 <= rk["kendall_tau"] <= 1.0 or rk["kendall_tau"] != rk["kendall_tau"]
    assert rk["best_table"] in chosen and rk["best_surrogate"] in chosen
    assert set(rk["stderr_table"]) == set(chosen)
    # separated iff the table's spread exceeds twice the pooled standard error; else a note
    q = rk["table_separation_threshold"]
    assert rk["table_separated"] == (rk["table_score_spread"] > q * rk["table_pooled_stderr"])
    assert ("note" in rk) == (not rk["table_separated"])


def test_separation_threshold_is_tukeys_studentized_range() -> None:
    from hpobench.fit._ranking import separation_threshold

    assert separation_threshold(6, 10) == pytest.approx(4.18, abs=0.01)  # q(0.95; 6, 54)
    assert separation_threshold(2, 1000) == pytest.approx(2.77, abs=0.01)  # √2 · 1.96
    assert separation_threshold(6, 1) == float("inf")
