"""The fidelity card: how faithful a surrogate is to its table, measured on held-out data.

Every figure is computed by the numpy inference that ships (never by the torch model), on
configurations held out from fitting (cross-validation folds for small tables, one 20 % split
for large ones) and, where the table has at least three seeds, on a seed held out from fitting.

====================================  ===========================================================
field                                  meaning
====================================  ===========================================================
``spearman``, ``kendall_tau``          rank correlation of the predicted and the table's (seed
                                       mean) final objective over held-out configurations
``objective_r2``, ``objective_mae``    per fidelity step: R² on the transformed scale the model
                                       fits (logit/log), MAE in the metric's own units
``runtime_r2``, ``runtime_mae``        the same for the cumulative runtime (R² of log seconds)
``coverage``                           per metric: fraction of held-out (config, seed, step) seed
                                       deviations (from the table's seed mean) inside the
                                       predicted 95 % seed interval; nominal 0.95
``coverage_total``                     the same around the predicted mean (mean error included)
``coverage_heldout_seed``              the same on a seed never seen in fitting (training configs)
``seed_model``                         ``gaussian`` or ``two-mode`` (``_network.py``); a two-mode
                                       interval is the central 95 % of the two-mode distribution
``bimodal_seed_share``                 share of the table's configurations whose seeds split into
                                       two distinct outcomes (``_data.bimodal_seed_share``)
``seed_gain``                          how far the best seed of a held-out configuration lies
                                       beyond its seeds' mean, final objective in its units
                                       (oriented: larger is better), mean and 99th percentile,
                                       on the table and in the surrogate's answers for the same
                                       seeds: what an optimizer that screens on one seed can gain
                                       from seed luck (the surrogate should not offer more)
``runtime_monotone``                   share of sampled curves whose runtime strictly increases
                                       with fidelity (must be 1.0)
``range_violations``                   sampled answers outside a metric's range (bounded scores
                                       outside [0, 1], non-negative metrics below 0); must be 0
``nonfinite_share``                    share of the table's objective cells that are NaN/inf
                                       (diverged runs), fitted and scored as the worst finite value
``beyond_best_run``                     share of the sampled configurations' single answers (one
                                       seed, one step) better than the best run the table holds
                                       at that step (any configuration, any seed): overall, at the
                                       first and last step, at the worst step; a table's own runs
                                       score 0 by definition; ``reference`` 1 / (N + 1), N the
                                       table's runs per step: what a new run exchangeable with
                                       them shows (a faithful model of new configurations)
``optimism``                           share of 512 sampled configurations whose seed-mean final
                                       objective beats the table's best configuration, and the
                                       best sampled value (an exploitable surrogate shows here)
``ranking``, ``ranking_on_table``     after ``hpobench surrogate rank``: per budget share, the
                                       optimizers' scores on both backends, Kendall τ, the pairs
                                       the table separates, the split-half τ (table vs table:
                                       the ceiling; table vs surrogate), every repetition's score
``spearman_ceiling``                   how well the table predicts itself: Spearman between the
                                       final objective's means over two halves of the seeds
                                       (every split, averaged: ``spearman_split_half_seeds``),
                                       stepped up to all seeds (Spearman-Brown) and square-rooted:
                                       about the highest Spearman any model of the configurations
                                       can reach against the table's seed mean
``targets``                            each target and whether it is met
====================================  ===========================================================
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import ndtr

from hpobench.fit._data import CurveData, filled_metric
from hpobench.surrogate._benchmark import SurrogateBenchmark
from hpobench.surrogate._network import CurveNetwork
from hpobench.surrogate._noise import normals_many
from hpobench.table import Table

__all__ = ["heldout_figures", "render_card", "sample_checks"]

Z95 = 1.959963984540054
SPEARMAN_TARGET = 0.80
SPEARMAN_MEDIAN_TARGET = 0.95
RANKING_TARGET = 0.8


def _inverse(t: str, v: np.ndarray) -> np.ndarray:
    if t == "logit":
        return 1.0 / (1.0 + np.exp(-v))
    if t == "log":
        return np.exp(v)
    return v


def _r2(y: np.ndarray, p: np.ndarray) -> float:
    ss = float(np.sum((y - y.mean()) ** 2))
    return float(1.0 - np.sum((y - p) ** 2) / ss) if ss > 0 else float("nan")


# Raw repetitions behind a ranking: kept to every digit, so that ``surrogate rank --rescore``
# recomputes the card's figures exactly (four decimals would turn fcnet/naval's 4e-5 losses
# into ties of 0.0). ``beyond_best_run.reference`` too: 1 / (N + 1) is 4e-6 on fcnet.
_EXACT = frozenset({"runs_table", "runs_surrogate", "reference"})


def _round(x: Any, nd: int | None = 4) -> Any:
    if isinstance(x, float):
        return None if not math.isfinite(x) else (x if nd is None else round(x, nd))
    if isinstance(x, (list, tuple)):
        return [_round(v, nd) for v in x]
    if isinstance(x, dict):
        return {k: _round(v, None if k in _EXACT else nd) for k, v in x.items()}
    return x


def heldout_figures(
    table: Table,
    data: CurveData,
    folds: Sequence[tuple[np.ndarray, np.ndarray, CurveNetwork]],
    heldout_seed_col: int | None,
) -> dict[str, Any]:
    """Card figures pooled over ``folds`` of ``(held-out rows, training rows, fold network)``."""
    T = data.y.shape[2]
    o = data.objective_index
    truth_t = data.y * data.scale + data.shift  # transformed units [n, S, T, M]
    obj_raw = filled_metric(table, table.meta.objective)  # [n, S, T]; diverged = worst
    rt_raw = table.metric(table.meta.runtime_metric).astype(np.float64)
    pm, ps, plr, prs, pp, pg, rows_all = [], [], [], [], [], [], []
    seed_cov: list[np.ndarray] = []
    answers: list[np.ndarray] = []  # [n_held, S] the surrogate's final objective per table seed
    obj_col = list(table.meta.metrics).index(table.meta.objective)
    for held, train_rows, net in folds:
        h = net.hidden(data.x[held])
        d = net.distribution(h)
        pm.append(d["mean"])
        ps.append(d["sigma"])
        plr.append(d["log_runtime"])
        prs.append(d["runtime_sigma"])
        pp.append(d["mode_p"])
        pg.append(d["mode_gap"])
        rows_all.append(held)
        answers.append(
            np.stack(
                [
                    net.at_steps(h, normals_many(data.unit[held], s, net.n_normals), T - 1)[
                        :, obj_col
                    ]
                    for s in table.meta.seeds
                ],
                axis=1,
            )
        )
        if heldout_seed_col is not None and len(train_rows):
            # the unseen seed's deviation from the mean of the S-1 seeds that were fitted:
            # variance sigma^2 (1 + 1/(S-1)) under the predicted spread
            dt = net.distribution(net.hidden(data.x[train_rows]))
            y_all = truth_t[train_rows]
            others = np.delete(y_all, heldout_seed_col, axis=1)
            grow = math.sqrt(1.0 + 1.0 / others.shape[1])
            dev_h = y_all[:, heldout_seed_col] - others.mean(axis=1)
            seed_cov.append(
                _inside95(dev_h, grow * dt["sigma"], dt["mode_p"][:, None, None], dt["mode_gap"])
            )
    rows = np.concatenate(rows_all)
    mean, sigma = np.concatenate(pm), np.concatenate(ps)
    mode_p, mode_gap = np.concatenate(pp)[:, None, None, None], np.concatenate(pg)[:, None]
    log_rt, rt_sigma = np.concatenate(plr), np.concatenate(prs)
    truth = truth_t[rows]  # [n, S, T, M]
    # final objective ranking
    pred_final = mean[:, -1, o]
    true_final = obj_raw[rows][:, :, -1].mean(axis=1)
    sp = float(stats.spearmanr(pred_final, true_final).statistic)
    kt = float(stats.kendalltau(pred_final, true_final).statistic)
    tr = data.transforms[o]
    obj_r2 = [_r2(truth[:, :, t, o].mean(axis=1), mean[:, t, o]) for t in range(T)]
    obj_mae = [
        float(np.mean(np.abs(obj_raw[rows][:, :, t].mean(axis=1) - _inverse(tr, mean[:, t, o]))))
        for t in range(T)
    ]
    true_lrt = np.log(np.maximum(rt_raw[rows], 1e-12))  # [n, S, T]
    rt_r2 = [_r2(true_lrt[:, :, t].mean(axis=1), log_rt[:, t]) for t in range(T)]
    rt_mae = [
        float(np.mean(np.abs(rt_raw[rows][:, :, t].mean(axis=1) - np.exp(log_rt[:, t]))))
        for t in range(T)
    ]
    # Seed spread: each table seed's deviation from the table's own seed mean against the
    # predicted sigma (a deviation from an S-seed mean has variance sigma^2 (1 - 1/S)), so the
    # figure tests the spread, not the mean's error; "total" also counts the mean's error.
    S = truth.shape[1]
    shrink = math.sqrt(1.0 - 1.0 / S) if S > 1 else 1.0
    dev = truth - truth.mean(axis=1, keepdims=True)
    inside = _inside95(dev, shrink * sigma[:, None], mode_p, mode_gap)  # [n, S, T, M]
    inside_total = _inside95(truth - mean[:, None], sigma[:, None], mode_p, mode_gap)
    coverage = {m: float(inside[..., k].mean()) for k, m in enumerate(data.metrics)}
    coverage_total = {m: float(inside_total[..., k].mean()) for k, m in enumerate(data.metrics)}
    seed_off = (true_lrt - true_lrt.mean(axis=1, keepdims=True)).mean(axis=2)  # [n, S]
    coverage[table.meta.runtime_metric] = float(
        (np.abs(seed_off) <= Z95 * shrink * rt_sigma[:, None]).mean()
    )
    out: dict[str, Any] = {
        "n_heldout_configs": len(rows),
        "nonfinite_share": float(np.mean(~np.isfinite(table.metric(table.meta.objective)))),
        "spearman": sp,
        "kendall_tau": kt,
        "final_objective_r2": obj_r2[-1],
        "objective_r2": obj_r2,
        "objective_mae": obj_mae,
        "runtime_r2": rt_r2,
        "runtime_mae": rt_mae,
        "coverage": coverage,
        "coverage_total": coverage_total,
        "coverage_objective": coverage[data.metrics[o]],
        "final_r2_per_metric": {
            m: _r2(truth[:, :, -1, k].mean(axis=1), mean[:, -1, k])
            for k, m in enumerate(data.metrics)
        },
    }
    sign = 1.0 if table.meta.direction == "maximize" else -1.0
    out["seed_gain"] = {
        "table": _gain(sign * obj_raw[rows][:, :, -1]),
        "surrogate": _gain(sign * np.concatenate(answers).astype(np.float64)),
    }
    if seed_cov:
        sc = np.concatenate(seed_cov)
        out["coverage_heldout_seed"] = {
            m: float(sc[..., k].mean()) for k, m in enumerate(data.metrics)
        }
    return out


def _inside95(dev: np.ndarray, sigma: np.ndarray, p: Any, gap: np.ndarray) -> np.ndarray:
    """Whether each deviation from the mean lies in the central 95 % of the seed model.

    Gaussian (``gap`` all 0): ``|dev| <= 1.96 sigma``. Two-mode: the deviation's quantile
    under ``p N((1 - p) gap, sigma^2) + (1 - p) N(-p gap, sigma^2)`` lies in [0.025, 0.975]
    (a sample mean of seeds shrinks or grows ``sigma`` as for a Gaussian; a sample whose mode
    shares equal ``p`` leaves the mode offsets as they are).
    """
    if not np.any(gap):
        return np.abs(dev) <= Z95 * sigma
    q = p * ndtr((dev - (1 - p) * gap) / sigma) + (1 - p) * ndtr((dev + p * gap) / sigma)
    return (q >= 0.025) & (q <= 0.975)


def _gain(v: np.ndarray) -> dict[str, float]:
    """Best seed minus the seeds' mean per row of ``v`` ``[n, S]``: mean and 99th percentile."""
    g = v.max(axis=1) - v.mean(axis=1)
    return {"mean": float(g.mean()), "p99": float(np.quantile(g, 0.99))}


def seed_ceiling(table: Table) -> dict[str, float]:
    """The table against itself: how far its seed noise lets any model rank its configurations.

    Over every split of the seeds into halves (``n // 2`` and the rest), Spearman's ρ between
    the two halves' mean final objective over all configurations, averaged; stepped up to all
    ``n`` seeds by the Spearman-Brown formula (``m ρ / (1 + (m - 1) ρ)``, ``m = n / (n // 2)``)
    and square-rooted, the usual bound on the correlation of any predictor with a noisy
    measurement of reliability ``r``. Approximate (Spearman-Brown is exact for Pearson's r of
    parallel measurements); empty with fewer than two seeds.
    """
    y = filled_metric(table, table.meta.objective)[:, :, -1].astype(np.float64)
    n = y.shape[1]
    if n < 2 or y.shape[0] < 3:
        return {}
    rhos = []
    for half in itertools.combinations(range(n), n // 2):
        rest = [k for k in range(n) if k not in half]
        rho = stats.spearmanr(y[:, list(half)].mean(axis=1), y[:, rest].mean(axis=1)).statistic
        if np.isfinite(rho):
            rhos.append(float(rho))
    if not rhos:
        return {}
    rho = float(np.mean(rhos))
    m = n / (n // 2)
    full = m * rho / (1 + (m - 1) * rho) if rho > -1 / (m - 1) else 0.0
    return {"spearman_split_half_seeds": rho, "spearman_ceiling": math.sqrt(max(full, 0.0))}


def sample_checks(
    bench: SurrogateBenchmark, *, n: int = 512, seed: int = 0, table: Table | None = None
) -> dict[str, Any]:
    """Runtime monotonicity and range checks on ``n`` configurations sampled from the space,
    every seed and every fidelity step, through the public ``query_batch``.

    With ``table``, also the surrogate's **optimism**: the share of sampled configurations
    whose seed-mean final objective beats the table's best configuration, and the best sampled
    value. A surrogate that answers far better than any trained configuration somewhere in
    the space can be exploited by an optimizer (its ranking of optimizers then differs)."""
    rng = np.random.default_rng(seed)
    configs = bench.space.sample_many(rng, n)
    cols = {name: [c[name] for c in configs] for name in bench.space.names}
    net = bench.network
    bounded = [m for m, t in zip(net.metrics, net.transforms, strict=True) if t == "logit"]
    positive = [m for m, t in zip(net.metrics, net.transforms, strict=True) if t == "log"]
    rt_name = bench.meta.runtime_metric
    n_curves = n_mono = n_vals = bad = 0
    finals = []
    answers = np.empty((len(bench.seeds), len(bench.fidelity), n))  # objective, every answer
    for i, s in enumerate(bench.seeds):
        prev = None
        mono = np.ones(n, dtype=bool)
        for j, f in enumerate(bench.fidelity.values):
            r = bench.query_batch(cols, fidelity=f, seed=s)
            answers[i, j] = r.metrics[bench.meta.objective]
            rt = r.metrics[rt_name]
            bad += int(np.sum(~np.isfinite(rt) | (rt <= 0)))
            if prev is not None:
                mono &= rt > prev
            prev = rt
            for m in bounded:
                v = r.metrics[m]
                bad += int(np.sum(~((v >= 0) & (v <= 1))))
            for m in positive:
                bad += int(np.sum(~(r.metrics[m] >= 0)))
            n_vals += n * (1 + len(bounded) + len(positive))
        finals.append(np.asarray(r.metrics[bench.meta.objective], dtype=np.float64))
        n_curves += n
        n_mono += int(mono.sum())
    out: dict[str, Any] = {}
    if table is not None:
        out.update(seed_ceiling(table))
        sign = 1.0 if table.meta.direction == "minimize" else -1.0
        truth = filled_metric(table, table.meta.objective)[:, :, -1].mean(axis=1)
        best = float(np.min(sign * truth))
        pred = sign * np.mean(finals, axis=0)
        out["optimism"] = {
            "table_best": sign * best,
            "sampled_best": float(sign * pred.min()),
            "share_better_than_table_best": float(np.mean(pred < best)),
        }
        # single answers (one seed, one step) beyond the best run the table recorded at that
        # step: what an optimizer screening many configurations on one seed picks up
        runs = sign * filled_metric(table, table.meta.objective)  # [n, S, T]
        best_run = runs.reshape(-1, runs.shape[2]).min(axis=0)  # [T]
        beyond = sign * answers < best_run[None, :, None]  # [S, T, n]
        by_step = beyond.mean(axis=(0, 2))
        out["beyond_best_run"] = {
            "share": float(beyond.mean()),
            "first_step": float(by_step[0]),
            "last_step": float(by_step[-1]),
            "worst_step": float(by_step.max()),
            "worst_step_fidelity": bench.fidelity.values[int(by_step.argmax())],
            # a new run exchangeable with the table's N runs at a step beats all of them with
            # probability 1 / (N + 1): the share a faithful model of new runs would show
            "reference": 1.0 / (runs.shape[0] * runs.shape[1] + 1),
        }
    return {
        **out,
        "n_sampled_configs": n,
        "runtime_monotone": n_mono / n_curves,
        "range_violations": bad,
        "n_checked_values": n_vals,
        "bounded_metrics": bounded,
        "positive_metrics": positive,
    }


def assessable_taus(rk: Mapping[str, Any] | None) -> dict[str, float]:
    """Kendall τ at each budget share where the table separates the optimizers.

    Only there does the table rank them at all (elsewhere their order is noise on the table
    itself, and τ is no evidence either way), so only there does the ranking target apply.
    A card from before budget shares (one ranking at the full budget) counts as share ``1``.
    """
    if not rk or rk.get("kendall_tau") is None:
        return {}
    by = rk.get("by_fraction") or {"1": rk}
    return {
        k: float(v["kendall_tau"])
        for k, v in by.items()
        if v.get("table_separated") and v.get("kendall_tau") is not None
    }


def targets(card: Mapping[str, Any]) -> dict[str, Any]:
    """Each target of the issue and whether this task meets it."""
    t: dict[str, Any] = {
        "spearman_ge_0.80": bool(card["spearman"] >= SPEARMAN_TARGET),
        "runtime_monotone_100pct": bool(card["runtime_monotone"] == 1.0),
        "range_violations_0": bool(card["range_violations"] == 0),
    }
    taus = assessable_taus(card.get("ranking"))
    if taus:
        t["ranking_tau_ge_0.8"] = bool(min(taus.values()) >= RANKING_TARGET)
    t["all_met"] = all(t.values())
    return t


def render_card(card: Mapping[str, Any]) -> str:
    """The card as Markdown (what ``hpobench surrogate card`` prints)."""
    c = card
    T = len(c["objective_r2"])
    picks = sorted({0, T // 4, T // 2, (3 * T) // 4, T - 1})
    fid = c["fidelity_values"]
    lines = [
        f"# Fidelity card: {c['id']} (surrogate)",
        "",
        f"Table sha256 `{c['table_sha256'][:16]}…`, weights sha256 `{c['weights_sha256'][:16]}…`; "
        f"{c['architecture']}; fitted on {c['device']} in {c['fit_seconds']:.1f} s.",
        f"Held out: {c['n_heldout_configs']} configurations ({c['heldout_scheme']})"
        + (f", seed {c['heldout_seed']}" if c.get("heldout_seed") is not None else "")
        + ".",
        *(
            [
                f"Diverged runs: {100 * c['nonfinite_share']:.1f} % of the table's {c['objective']} "
                "cells are NaN; fitted and scored as the worst finite value (the surrogate answers "
                "a very bad finite value where the table answers NaN; a non-negative metric is "
                "fitted capped at 10x its median).",
            ]
            if c.get("nonfinite_share")
            else []
        ),
        "",
        "| figure | value | target |",
        "| --- | --- | --- |",
        f"| Spearman, final {c['objective']} | {c['spearman']:.4f} | ≥ 0.80 (median over tasks ≥ 0.95) |",
        *(
            [
                f"| the table against itself: Spearman ceiling from its seeds (split halves "
                f"{c['spearman_split_half_seeds']:.3f}, Spearman-Brown) | "
                f"{c['spearman_ceiling']:.4f} | |"
            ]
            if c.get("spearman_ceiling") is not None
            else []
        ),
        f"| Kendall τ, final {c['objective']} | {c['kendall_tau']:.4f} | |",
        f"| R² final {c['objective']} (transformed) | {_fmt(c['objective_r2'][-1])} | |",
        f"| coverage of 95 % seed interval, {c['objective']} | {c['coverage_objective']:.3f} | ≈ 0.95 |",
    ]
    if c.get("coverage_heldout_seed"):
        v = c["coverage_heldout_seed"].get(c["objective"])
        lines.append(f"| same, held-out seed | {_fmt(v)} | ≈ 0.95 |")
    sg = c.get("seed_gain")
    if sg:
        lines.append(
            f"| best seed beyond the seeds' mean, final {c['objective']}: mean / 99th pct, "
            f"surrogate vs table ({c.get('seed_model', 'gaussian')} seed model, bimodal seeds "
            f"in {100 * c.get('bimodal_seed_share', 0.0):.1f} % of the table's configs) | "
            f"{_fmt(sg['surrogate']['mean'])} / {_fmt(sg['surrogate']['p99'])} vs "
            f"{_fmt(sg['table']['mean'])} / {_fmt(sg['table']['p99'])} | not above the table's |"
        )
    lines += [
        f"| runtime monotone | {100 * c['runtime_monotone']:.1f} % | 100 % |",
        f"| range violations | {c['range_violations']} of {c['n_checked_values']:,} | 0 |",
    ]
    op = c.get("optimism")
    if op:
        lines.append(
            f"| sampled configs beating the table's best final {c['objective']} (seed mean) | "
            f"{100 * op['share_better_than_table_best']:.1f} % (best {_fmt(op['sampled_best'])} "
            f"vs table {_fmt(op['table_best'])}) | small |"
        )
    bb = c.get("beyond_best_run")
    if bb:
        lines.append(
            f"| sampled single answers (one seed, one step) beyond the table's best run at that "
            f"step: all steps / first / last / worst ({c['fidelity_name']} "
            f"{bb['worst_step_fidelity']}) | {100 * bb['share']:.2f} % / "
            f"{100 * bb['first_step']:.2f} % / {100 * bb['last_step']:.2f} % / "
            f"{100 * bb['worst_step']:.2f} % | "
            + (
                f"≈ {100 * bb['reference']:.2g} % (a new run's chance) |"
                if "reference" in bb
                else "near 0 |"
            )
        )
    rk = c.get("ranking")
    if rk:
        lines += _ranking_lines(rk, "")
    if c.get("ranking_on_table"):
        lines += _ranking_lines(
            c["ranking_on_table"], " (surrogate asked only at the table's configurations)"
        )
    if not rk:
        lines.append("| ranking preservation | not run for this task | |")
    lines += [
        "",
        "Per fidelity step (objective R² on the fitted scale, MAE in its units; runtime):",
        "",
    ]
    lines.append(
        "| " + c["fidelity_name"] + " | obj R² | obj MAE | runtime R² (log) | runtime MAE (s) |"
    )
    lines.append("| --- | --- | --- | --- | --- |")
    for t in picks:
        lines.append(
            f"| {fid[t]} | {_fmt(c['objective_r2'][t])} | {_fmt(c['objective_mae'][t])} | "
            f"{_fmt(c['runtime_r2'][t])} | {_fmt(c['runtime_mae'][t])} |"
        )
    lines += [
        "",
        "Coverage per metric (held-out configs, all seeds): "
        + ", ".join(f"{k} {v:.3f}" for k, v in c["coverage"].items()),
        "",
    ]
    met = c["targets"]
    verdict = (
        "meets every target"
        if met["all_met"]
        else "MISSES: " + ", ".join(k for k, v in met.items() if k != "all_met" and not v)
    )
    lines.append(f"Verdict: {verdict}.")
    if rk and rk.get("note"):
        lines += ["", rk["note"]]
    return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def rounded(card: Mapping[str, Any]) -> dict[str, Any]:
    return _round(dict(card))


def _ranking_lines(rk: Mapping[str, Any], what: str) -> list[str]:
    """Card rows of one ranking-preservation result (one row per budget share)."""
    lines: list[str] = []
    n = len(rk["optimizers"])
    for frac, v in (rk.get("by_fraction") or {"1": rk}).items():
        sep = "table separates them" if v["table_separated"] else "table does not: noise"
        pairs = v.get("separated_pairs")
        if pairs is not None:
            sep += f"; {sum(p[2] for p in pairs)} of the {len(pairs)} pairs it tells apart ordered alike"
        lines.append(
            f"| ranking of {n} optimizers after {float(frac):.0%} of the budget{what}, Kendall τ "
            f"table vs surrogate ({sep}) | {_fmt(v['kendall_tau'])} | "
            f"{'≥ 0.8' if v['table_separated'] else 'n/a'} |"
        )
        if v.get("kendall_tau_split_table") is not None:
            lines.append(
                f"| same, at half the repetitions: table vs table (its own noise: the ceiling) / "
                f"table vs surrogate{what} | {_fmt(v['kendall_tau_split_table'])} / "
                f"{_fmt(v['kendall_tau_split_surrogate'])} | |"
            )
    lines.append(
        f"| best optimizer (table / surrogate){what} | {rk['best_table']} / {rk['best_surrogate']} "
        f"({'agree' if rk['best_agree'] else 'DISAGREE'}) | agree |"
    )
    return lines
