"""Ranking preservation runs each optimizer under the same protocol pinned to each backend."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("scipy")

from hpobench import HPOBenchError, TabularBenchmark
from hpobench.fit._card import assessable_taus, targets
from hpobench.fit._ranking import (
    OPTIMIZERS,
    OPTIMIZERS_MF,
    OPTIMIZERS_SF,
    anytime_score,
    default_optimizers,
    default_protocol,
    ranking_preservation,
)
from hpobench.surrogate import SurrogateBenchmark


@pytest.mark.slow
def test_ranking_on_table_and_surrogate(make_surrogate: Callable[..., tuple[Path, Path]]) -> None:
    table_dir, sdir = make_surrogate()
    table = TabularBenchmark.from_directory(table_dir)
    sur = SurrogateBenchmark.from_directory(sdir)
    chosen = {k: OPTIMIZERS[k] for k in ("random_search", "re_pop10")}
    rk = ranking_preservation(
        table, sur, "sf-serial-v2", n_repetitions=2, optimizers=chosen, budget_fractions=(1, 0.5)
    )
    assert rk["optimizers"] == list(chosen)
    assert set(rk["scores_table"]) == set(chosen) == set(rk["scores_surrogate"])
    assert -1.0 <= rk["kendall_tau"] <= 1.0 or rk["kendall_tau"] != rk["kendall_tau"]
    assert rk["best_table"] in chosen and rk["best_surrogate"] in chosen
    assert set(rk["stderr_table"]) == set(chosen)
    # separated iff the table's spread exceeds q pooled standard errors; else a note
    q = rk["table_separation_threshold"]
    assert rk["table_separated"] == (rk["table_score_spread"] > q * rk["table_pooled_stderr"])
    assert ("note" in rk) == (not rk["table_separated"])
    # the headline is the first share; every share is summarised
    assert rk["budget_fraction"] == 1.0 and set(rk["by_fraction"]) == {"1", "0.5"}
    assert rk["by_fraction"]["1"]["kendall_tau"] == rk["kendall_tau"]
    # every repetition's score is kept, so each figure can be recomputed from the card
    assert all(len(v) == 2 for v in rk["runs_table"].values())
    assert all(len(p) == 3 and p[2] in (True, False) for p in rk["separated_pairs"])
    # ... and recomputing from them gives the same result
    from hpobench.fit._ranking import rescore

    sign = 1.0 if table.metrics[table.reported_metric].direction == "maximize" else -1.0
    assert rescore(rk, sign) == rk


def _traj(times: list[float], scores: list[float], *, budget: float, cap: int) -> Any:
    events = pd.DataFrame({"time": times, "incumbent_test_score": scores})
    meta = SimpleNamespace(time_budget=budget, max_evaluations=cap, incumbent_test_score=scores[-1])
    return SimpleNamespace(events=events, meta=meta)


def test_anytime_score_reads_the_incumbent_when_the_first_budget_binds() -> None:
    # time binds: 25 % of 100 s -> events at t <= 25
    tr = _traj([5, 20, 30, 90], [0.5, 0.6, 0.7, 0.9], budget=100.0, cap=1000)
    assert anytime_score(tr, 0.25) == 0.6
    assert anytime_score(tr, 1.0) == 0.9
    assert np.isnan(anytime_score(tr, 0.01))  # nothing finished yet
    # evaluations bind: 50 % of a cap of 4 -> the first two events
    tr = _traj([1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4], budget=1e9, cap=4)
    assert anytime_score(tr, 0.5) == 0.2


def test_defaults_follow_the_table(make_surrogate: Callable[..., tuple[Path, Path]]) -> None:
    table_dir, _ = make_surrogate()
    table = TabularBenchmark.from_directory(table_dir)
    multi = len(table.fidelity) > 1
    assert default_optimizers(table) == (OPTIMIZERS_MF if multi else OPTIMIZERS_SF)
    assert default_protocol(table).startswith("mf-serial-v" if multi else "sf-serial-v")
    assert len(OPTIMIZERS_MF) >= 5 and len(OPTIMIZERS_SF) >= 5


@pytest.mark.parametrize("fractions", [(), (0.0,), (1.5,), (0.5, -1)])
def test_bad_budget_fractions_are_refused_before_any_run(fractions: tuple[float, ...]) -> None:
    with pytest.raises(HPOBenchError, match=r"budget_fractions must be .* in \(0, 1\]"):
        ranking_preservation(None, None, budget_fractions=fractions)  # type: ignore[arg-type]


def _card(by_fraction: dict[str, dict[str, Any]]) -> dict[str, Any]:
    head = next(iter(by_fraction.values()))
    return {
        "spearman": 0.9,
        "runtime_monotone": 1.0,
        "range_violations": 0,
        "ranking": {**head, "by_fraction": by_fraction},
    }


@pytest.mark.parametrize(
    ("by_fraction", "assessed", "met"),
    [
        # nothing separated: tau is noise, the target is not assessed (and not failed)
        ({"1": {"kendall_tau": 0.1, "table_separated": False}}, {}, None),
        # only where the table separates does tau count
        (
            {
                "1": {"kendall_tau": 0.1, "table_separated": False},
                "0.1": {"kendall_tau": 0.9, "table_separated": True},
            },
            {"0.1": 0.9},
            True,
        ),
        ({"0.25": {"kendall_tau": 0.5, "table_separated": True}}, {"0.25": 0.5}, False),
    ],
)
def test_ranking_target_counts_only_separated_budgets(
    by_fraction: dict[str, dict[str, Any]], assessed: dict[str, float], met: bool | None
) -> None:
    card = _card(by_fraction)
    assert assessable_taus(card["ranking"]) == assessed
    assert targets(card).get("ranking_tau_ge_0.8") is met


def test_separated_pairs_are_the_ones_the_table_tells_apart() -> None:
    from hpobench.fit._ranking import separated_pairs

    rng = np.random.default_rng(0)
    runs = {
        "good": list(0.9 + 0.001 * rng.standard_normal(10)),
        "bad": list(0.5 + 0.001 * rng.standard_normal(10)),
        "bad_too": list(0.5 + 0.001 * rng.standard_normal(10)),
    }
    pairs = separated_pairs(runs, list(runs), sign=1.0)
    assert sorted(pairs) == [("good", "bad"), ("good", "bad_too")]  # the two bad ones tie
    # a minimised metric turns every pair around
    assert sorted(separated_pairs(runs, list(runs), sign=-1.0)) == [
        ("bad", "good"),
        ("bad_too", "good"),
    ]
    # draws of one distribution: nothing to tell apart (family-wise error 5 %)
    same = {k: list(0.7 + 0.01 * rng.standard_normal(10)) for k in "abcd"}
    assert separated_pairs(same, list(same), sign=1.0) == []
    assert separated_pairs({"a": [1.0, 1.0], "b": [1.0, 1.0]}, ["a", "b"], sign=1.0) == []
    # no noise at all (a deterministic table and optimizers): every difference is real
    exact = {"a": [1.0, 1.0], "b": [2.0, 2.0], "c": [1.0, 1.0]}
    assert sorted(separated_pairs(exact, list(exact), sign=1.0)) == [("b", "a"), ("b", "c")]


def test_on_table_surrogate_answers_the_table_s_rows(
    make_surrogate: Callable[..., tuple[Path, Path]], synth: Any
) -> None:
    from hpobench.fit._ranking import OnTableSurrogate

    table_dir, sdir = make_surrogate(space=synth.FLOAT_SPACE)
    table = TabularBenchmark.from_directory(table_dir)
    sur = SurrogateBenchmark.from_directory(sdir)
    on = OnTableSurrogate(sur, table)
    assert on.backend == sur.backend and on.meta is sur.meta
    cfg = sur.space.sample(np.random.default_rng(3))  # almost surely not a stored row
    f, m = table.fidelity.values[-1], table.objective
    row = table.query(cfg, fidelity=f, seed=0).config_id
    stored = table.config(row)
    r, c = on.query(cfg, fidelity=f, seed=0), on.query_curve(cfg, fidelity=f, seed=0, metric=m)
    assert r.config_id == c.config_id == row
    assert r.metrics == sur.query(stored, fidelity=f, seed=0).metrics
    assert c.value == sur.query_curve(stored, fidelity=f, seed=0, metric=m).value
    b = on.query_batch([cfg, stored], fidelity=f, seed=0)
    assert list(b.config_ids) == [row, row] and b.metrics[m][0] == b.metrics[m][1]
    with pytest.raises(HPOBenchError, match="candidates must be"):
        ranking_preservation(table, sur, candidates="grid")


def test_card_keeps_every_digit_of_the_repetitions_and_rescores_them() -> None:
    import json

    from hpobench.fit._card import rounded
    from hpobench.fit._ranking import _compare, rescore

    runs_t = {"a": [4.2123e-5, 4.3e-5, float("nan")], "b": [9.1234567e-5, 8.9e-5, 9.3e-5]}
    runs_s = {"a": [4.0e-5, 4.1e-5, 4.15e-5], "b": [8.0e-5, 8.8e-5, 9.0e-5]}
    head = _compare({"table": runs_t, "surrogate": runs_s}, ["a", "b"], 3, -1.0)
    rk = {
        "optimizers": ["a", "b"],
        "n_repetitions": 3,
        "budget_fraction": 1.0,
        **head,
        "by_fraction": {"1": head},
    }
    back = json.loads(json.dumps(rounded({"ranking": rk}), allow_nan=False))["ranking"]
    assert back["by_fraction"]["1"]["runs_table"]["b"][0] == 9.1234567e-5  # not 0.0001
    assert back["by_fraction"]["1"]["runs_table"]["a"][2] is None  # NaN: JSON has none
    again = rescore(back, -1.0)
    assert again["best_table"] == "a" and again["separated_pairs"] == head["separated_pairs"]
    assert again["kendall_tau"] == head["kendall_tau"]


def test_ranking_markdown_counts_the_pairs_the_table_tells_apart() -> None:
    from hpobench.surrogate._cli import _ranking_markdown

    sep = {
        "kendall_tau": 0.5,
        "table_separated": True,
        "separated_pairs": [["a", "b", True], ["a", "c", False]],
    }
    noise = {"kendall_tau": -0.2, "table_separated": False, "separated_pairs": []}
    card = {"ranking": {"optimizers": ["a", "b", "c"], "by_fraction": {"1": noise, "0.1": sep}}}
    text = _ranking_markdown({"x/y-v1": card, "no/ranking-v1": {}})
    row = next(line for line in text.splitlines() if line.startswith("| x/y-v1"))
    assert row == "| x/y-v1 | 3 | -0.20* (0) | - | 0.50 (1/2) | - | - | - |"
    assert "no/ranking" not in text
    assert "1 of 2 such pairs ordered alike on any configuration, 0 of 0" in text
    assert "table vs table" not in text  # no split-half figures on these cards: no table
    sep |= {"kendall_tau_split_table": 0.6, "kendall_tau_split_surrogate": 0.45}
    noise |= {"kendall_tau_split_table": 0.1, "kendall_tau_split_surrogate": 0.3}
    text = _ranking_markdown({"x/y-v1": card})
    assert "| x/y-v1 | 0.10 | - | 0.60 | 0.30 | - | 0.45 |" in text
    assert "all (2 cells): table vs table 0.35, table vs surrogate 0.38" in text
    assert (
        "separates the optimizers (1 cells): table vs table 0.60, table vs surrogate 0.45" in text
    )
    assert "within 0.1 of the table's own or above in 1" in text


def test_on_table_surrogate_takes_numpy_columns(
    make_surrogate: Callable[..., tuple[Path, Path]],
) -> None:
    from hpobench.fit._ranking import OnTableSurrogate

    table_dir, sdir = make_surrogate()
    table = TabularBenchmark.from_directory(table_dir)
    on = OnTableSurrogate(SurrogateBenchmark.from_directory(sdir), table)
    rows = [table.config(0), table.config(1)]
    cols = {n: np.asarray([r[n] for r in rows]) for n in table.space.names}
    f = table.fidelity.values[-1]
    a = on.query_batch(cols, fidelity=f, seed=0)
    b = on.query_batch(rows, fidelity=f, seed=0)
    assert list(a.config_ids) == list(b.config_ids) == [0, 1]
    assert np.array_equal(a.cost, b.cost)


def test_kendall_rows_is_scipy_tau_b_ties_included() -> None:
    from scipy import stats

    from hpobench.fit._ranking import _kendall_rows

    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, (40, 6)).astype(float)  # many ties
    b = rng.integers(0, 3, (40, 6)).astype(float)
    a[0] = 1.0  # a constant row: τ undefined
    ours = _kendall_rows(a, b)
    ref = np.asarray([stats.kendalltau(x, y).statistic for x, y in zip(a, b, strict=True)])
    assert np.isnan(ours[0]) and np.isnan(ref[0])
    np.testing.assert_allclose(ours[1:], ref[1:], atol=1e-12)


def test_split_half_taus_measure_the_table_against_itself_and_the_surrogate() -> None:
    from hpobench.fit._ranking import split_half_taus

    rng = np.random.default_rng(0)
    names = ["a", "b", "c", "d"]
    # well separated optimizers: every half of the table orders them the same way
    table = {n: list(10.0 * k + rng.normal(0, 0.1, 6)) for k, n in enumerate(names)}
    same = split_half_taus(table, table, names)
    assert same is not None and same[0] == pytest.approx(1.0) and same[1] == pytest.approx(1.0)
    reverse = {n: list(-10.0 * k + rng.normal(0, 0.1, 6)) for k, n in enumerate(names)}
    flipped = split_half_taus(table, reverse, names)
    assert flipped is not None and flipped[0] == pytest.approx(1.0)
    assert flipped[1] == pytest.approx(-1.0)
    # pure noise: the table cannot reproduce its own order (τ 0 in expectation; any one table
    # is a noisy draw, since all its splits share the same repetitions)
    draws = []
    for _ in range(200):
        noise = {n: list(rng.normal(0, 1, 6)) for n in names}
        draws.append((split_half_taus(noise, noise, names) or (np.nan, np.nan))[0])
    assert abs(np.mean(draws)) < 0.06
    # many repetitions: a fixed sample of the splits, not all C(40, 20) = 1.4e11 of them
    many = {n: list(10.0 * k + rng.normal(0, 0.1, 40)) for k, n in enumerate(names)}
    big = split_half_taus(many, many, names)
    assert big is not None and big == pytest.approx((1.0, 1.0))
    assert split_half_taus(many, many, names) == big  # the sample is seeded
    # undefined: one repetition, or a repetition without a score
    assert split_half_taus({n: [1.0] for n in names}, {n: [1.0] for n in names}, names) is None
    gap = {n: [*v[:-1], float("nan")] for n, v in table.items()}
    assert split_half_taus(gap, table, names) is None


def test_compare_and_the_card_carry_the_split_half_taus() -> None:
    from hpobench.fit._card import _ranking_lines
    from hpobench.fit._ranking import _compare

    runs_t = {"a": [1.0, 1.1, 0.9, 1.05], "b": [2.0, 2.1, 1.9, 2.05], "c": [3.0, 3.1, 2.9, 3.0]}
    runs_s = {"a": [3.0, 3.1, 2.9, 3.0], "b": [2.0, 2.1, 1.9, 2.05], "c": [1.0, 1.1, 0.9, 1.0]}
    head = _compare({"table": runs_t, "surrogate": runs_s}, ["a", "b", "c"], 4, 1.0)
    assert head["kendall_tau_split_table"] == pytest.approx(1.0)
    assert head["kendall_tau_split_surrogate"] == pytest.approx(-1.0)
    rk = {"optimizers": ["a", "b", "c"], **head, "by_fraction": {"1": head}}
    lines = "\n".join(_ranking_lines(rk, ""))
    assert "table vs table (its own noise: the ceiling) / table vs surrogate | 1 / -1 |" in lines


def test_newest_versions_keep_one_table_per_task() -> None:
    from hpobench.registry import newest_versions as _newest_versions

    ids = ["gbt/kr-vs-kp-v1", "gbt/kr-vs-kp-v2", "gbt/magic-v1", "lcbench/kr-vs-kp-v1"]
    assert _newest_versions(ids) == ["gbt/kr-vs-kp-v2", "gbt/magic-v1", "lcbench/kr-vs-kp-v1"]
    assert _newest_versions(["a/b-v10", "a/b-v9"]) == ["a/b-v10"]  # numbers, not strings


def _fake_table(values: np.ndarray) -> Any:
    metric = SimpleNamespace(direction="minimize")
    meta = SimpleNamespace(objective="loss", metrics={"loss": metric})
    return SimpleNamespace(meta=meta, metric=lambda name: values)


def test_seed_ceiling_is_the_table_against_itself() -> None:
    from hpobench.fit._card import seed_ceiling

    rng = np.random.default_rng(0)
    signal = rng.normal(0, 1, (300, 1, 1))
    quiet = seed_ceiling(_fake_table(signal + rng.normal(0, 1e-6, (300, 4, 1))))
    assert quiet["spearman_split_half_seeds"] == pytest.approx(1.0, abs=1e-6)
    assert quiet["spearman_ceiling"] == pytest.approx(1.0, abs=1e-6)
    # noise as large as the signal: halves of 2 seeds correlate ~2/3, 4 seeds ~4/5, ceiling ~0.89
    noisy = seed_ceiling(_fake_table(signal + rng.normal(0, 1, (300, 4, 1))))
    assert noisy["spearman_split_half_seeds"] == pytest.approx(2 / 3, abs=0.07)
    assert noisy["spearman_ceiling"] == pytest.approx(math.sqrt(0.8), abs=0.04)
    pure = seed_ceiling(_fake_table(rng.normal(0, 1, (300, 4, 1))))
    assert pure["spearman_ceiling"] < 0.35
    assert seed_ceiling(_fake_table(signal)) == {}  # one seed: nothing to compare
