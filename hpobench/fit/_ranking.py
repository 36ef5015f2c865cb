"""Ranking preservation: do optimizers rank the same on the surrogate as on its table?

Each optimizer runs ``n_repetitions`` repetitions of one protocol on the table and on the
surrogate (the same protocol, seeds and budget reference; the surrogate carries its table's
reference runtime). An optimizer's score on a backend is the mean over repetitions of its
incumbent's test score (the reported metric on the test seeds at full fidelity, as that backend
answers it). The figure is Kendall's τ between the two orderings of the optimizers, and whether
both backends name the same best optimizer.

τ is only meaningful when the table separates the optimizers: where their table scores lie
within each other's noise (typical of a 32-configuration table, where every optimizer finds
the best row), the order among them is a coin toss on either backend. So the result also
carries each optimizer's standard error over repetitions, ``table_separated`` (the table's
best and worst optimizer differ by more than the 95 % studentized range of ``k`` equal means,
``q(0.95; k, k(n-1))`` pooled standard errors: Tukey's test that the table tells the optimizers
apart at all; about 4 for six optimizers) and, when it does not, a ``note`` saying that τ is not
evidence either way.

How high can τ be at all? Two halves of the table's own repetitions give two orderings of the
optimizers; their τ (averaged over every split of the repetitions into halves,
``kendall_tau_split_table``) is what a perfect surrogate would reach against the table at half
the repetitions, since it differs from the table only by the optimizers' seeds. The surrogate's
half against the table's other half (``kendall_tau_split_surrogate``) is the same figure for the
surrogate: below the table's own, the surrogate reorders optimizers beyond the noise.

The optimizers are the shipped baselines plus two settings of them (ASHA with η = 2, regularized
evolution with a population of 10), so that at least five take part; all use only the public
API. On tables of sampled configurations the table backend snaps each suggestion to the nearest
stored configuration while the surrogate answers the configuration itself, so the two runs
do not see identical landscapes; that difference is part of what the figure measures.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from hpobench._errors import HPOBenchError
from hpobench.benchmark import Benchmark
from hpobench.benchmark._base import Curve
from hpobench.benchmark._result import _make_result
from hpobench.harness import get_protocol, run_study
from hpobench.harness._protocol import PinnedTask

__all__ = [
    "OPTIMIZERS",
    "OPTIMIZERS_MF",
    "OPTIMIZERS_SF",
    "OnTableSurrogate",
    "anytime_score",
    "default_optimizers",
    "default_protocol",
    "ranking_preservation",
    "rescore",
    "separated_pairs",
    "split_half_taus",
]


def _baseline(spec: str, **kwargs: Any) -> Callable[..., Any]:
    mod, _, attr = spec.partition(":")
    m = importlib.import_module(mod)
    if not kwargs:
        return getattr(m, attr)  # type: ignore[no-any-return,unused-ignore]
    cls = getattr(m, attr)

    def factory(problem: Any, seed: int) -> Any:
        return cls(problem, seed, **kwargs)

    factory.__name__ = f"{attr}_" + "_".join(f"{k}{v}" for k, v in kwargs.items())
    factory.__module__ = mod
    return factory


OptimizerSpecs = Mapping[str, tuple[str, dict[str, Any]]]

# Multi-fidelity tables: random search, synchronous and asynchronous Hyperband, ASHA (eta 3
# and 2), the model-based BOHB and DEHB, one-epoch-top-k and regularized evolution: nine
# optimizers of different strength, so that the table can tell some of them apart.
OPTIMIZERS_MF: dict[str, tuple[str, dict[str, Any]]] = {
    "random_search": ("baselines.random_search:make_optimizer", {}),
    "asha": ("baselines.asha:make_optimizer", {}),
    "asha_eta2": ("baselines.asha:AsynchronousSuccessiveHalving", {"eta": 2.0}),
    "async_hyperband": ("baselines.asha:make_hyperband", {}),
    "hyperband": ("baselines.hyperband:make_optimizer", {}),
    "bohb": ("baselines.bohb:make_optimizer", {}),
    "dehb": ("baselines.dehb:make_optimizer", {}),
    "one_epoch_top_k": ("baselines.one_epoch:make_optimizer", {}),
    "regularized_evolution": ("baselines.regularized_evolution:make_optimizer", {}),
}
# Single-fidelity tables: random search, evolution (two settings) and the cheap model-based
# ones (the GP and forest methods cost 0.1-0.3 s per trial, too much for 20 runs per task).
OPTIMIZERS_SF: dict[str, tuple[str, dict[str, Any]]] = {
    "random_search": ("baselines.random_search:make_optimizer", {}),
    "regularized_evolution": ("baselines.regularized_evolution:make_optimizer", {}),
    "re_pop10": (
        "baselines.regularized_evolution:RegularizedEvolution",
        {"population_size": 10, "sample_size": 3},
    ),
    "tpe": ("baselines.tpe:make_optimizer", {}),
    "tpe_start30": ("baselines.tpe:make_optimizer", {"n_startup": 30}),
}
# kept for callers of the first version (the six optimizers its cards were computed with)
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "random_search": OPTIMIZERS_MF["random_search"],
    "asha": OPTIMIZERS_MF["asha"],
    "hyperband": OPTIMIZERS_MF["async_hyperband"],
    "regularized_evolution": OPTIMIZERS_MF["regularized_evolution"],
    "asha_eta2": OPTIMIZERS_MF["asha_eta2"],
    "re_pop10": OPTIMIZERS_SF["re_pop10"],
}


class OnTableSurrogate(Benchmark):
    """A surrogate asked only at its table's configurations.

    Every configuration is first snapped to the table's answering row (the table's own rule:
    the stored configuration itself, or the nearest one in the encoded unit cube) and the
    surrogate answers that row's configuration. Runs on it see the table's candidate set with
    the surrogate's answers, so a ranking compared with the table's differs only by what the
    surrogate predicts, not by the extra configurations a continuous space offers.
    """

    def __init__(self, surrogate: Benchmark, table: Any) -> None:
        self.meta = surrogate.meta
        self.surrogate, self.table = surrogate, table
        self._probe = {"fidelity": table.fidelity.values[0], "seed": table.seeds[0]}
        self._configs: dict[int, Any] = {}

    @property
    def backend(self) -> Any:
        return self.surrogate.backend

    def _snap(self, config: Mapping[str, Any]) -> tuple[int, Any]:
        # the table's own single-query rule (stored row or nearest), ~100x cheaper than
        # ``config_ids``' batch path for one configuration
        row = self.table.query(config, **self._probe).config_id
        got = self._configs.get(row)
        if got is None:
            got = self._configs[row] = self.table.config(row)
        return row, got

    def query(self, config: Mapping[str, Any], *, fidelity: int | float, seed: int) -> Any:
        row, c = self._snap(config)
        r = self.surrogate.query(c, fidelity=fidelity, seed=seed)
        return _make_result(
            r.metrics, r.cost, r.fidelity, r.seed, row, r.curve_block, r.metric_names, r.fidelities
        )

    def query_curve(
        self, config: Mapping[str, Any], *, fidelity: int | float, seed: int, metric: str
    ) -> Curve:
        row, c = self._snap(config)
        got = self.surrogate.query_curve(c, fidelity=fidelity, seed=seed, metric=metric)
        return Curve(row, got.value, got.cost, got.curve)

    def query_batch(self, configs: Any, *, fidelity: Any, seed: Any) -> Any:
        if isinstance(configs, Mapping):  # columns -> rows
            n = len(next(iter(configs.values()), []))
            cols = {k: np.asarray(v).tolist() for k, v in configs.items()}  # plain Python values
            configs = [{k: v[i] for k, v in cols.items()} for i in range(n)]
        snapped = [self._snap(c) for c in configs]
        rows = np.asarray([r for r, _ in snapped], dtype=np.int64)
        b = self.surrogate.query_batch([c for _, c in snapped], fidelity=fidelity, seed=seed)
        return dataclasses.replace(b, config_ids=rows)


def default_optimizers(bench: Benchmark) -> dict[str, tuple[str, dict[str, Any]]]:
    """:data:`OPTIMIZERS_MF` for a table with more than one fidelity step, else :data:`OPTIMIZERS_SF`."""
    return dict(OPTIMIZERS_MF if len(bench.fidelity) > 1 else OPTIMIZERS_SF)


def default_protocol(bench: Benchmark) -> str:
    """The newest ``mf-serial`` protocol for a multi-fidelity table, else the newest ``sf-serial``."""
    from hpobench.harness import list_protocols

    prefix = "mf-serial-v" if len(bench.fidelity) > 1 else "sf-serial-v"
    names = [n for n in list_protocols() if n.startswith(prefix)]
    return max(names, key=lambda n: int(n.rpartition("-v")[2]))


def anytime_score(traj: Any, fraction: float) -> float:
    """The incumbent's test score once ``fraction`` of the run's budget is spent (NaN if none yet).

    The budget is whichever binds first: ``fraction`` of the simulated time budget or of the
    evaluation cap (single-fidelity protocols bind on evaluations, multi-fidelity ones on time).
    ``fraction = 1`` is the final incumbent.
    """
    if fraction >= 1.0:
        v = traj.meta.incumbent_test_score
        return float("nan") if v is None else float(v)
    e = traj.events
    t = e["time"].to_numpy()
    ok = (t <= fraction * traj.meta.time_budget) & (
        np.arange(len(t)) < fraction * traj.meta.max_evaluations
    )
    seen = e["incumbent_test_score"].to_numpy()[ok]
    seen = seen[np.isfinite(seen)] if seen.dtype.kind == "f" else seen
    return float(seen[-1]) if len(seen) else float("nan")


def ranking_preservation(
    table: Benchmark,
    surrogate: Benchmark,
    protocol: str | None = None,
    *,
    n_repetitions: int = 5,
    optimizers: OptimizerSpecs | None = None,
    budget_fractions: Sequence[float] = (1.0,),
    candidates: str = "space",
) -> dict[str, Any]:
    """Scores per optimizer on both backends, Kendall τ of the orderings, best-vs-rest.

    The same runs are scored at each of ``budget_fractions`` (the incumbent once that share of
    the budget is spent, :func:`anytime_score`); the first fraction's figures are the headline
    (top-level keys), every fraction's are under ``"by_fraction"``.

    ``candidates="space"`` runs the optimizers on the surrogate as users do (any configuration
    of the space); ``"table"`` on :class:`OnTableSurrogate` (only the table's configurations),
    which isolates the surrogate's answers from the larger candidate set.
    """
    if candidates not in ("space", "table"):
        raise HPOBenchError(f"candidates must be 'space' or 'table', but got {candidates!r}.")
    if candidates == "table":
        surrogate = OnTableSurrogate(surrogate, table)
    fractions = [float(f) for f in budget_fractions]
    if not fractions or any(not 0.0 < f <= 1.0 for f in fractions):
        raise HPOBenchError(
            f"budget_fractions must be a non-empty list of numbers in (0, 1], but got {budget_fractions!r}."
        )
    opts = dict(optimizers or default_optimizers(table))
    protocol = protocol or default_protocol(table)
    base = get_protocol(protocol)
    # the same protocol, pinned once to the table and once to the surrogate (by sha256)
    pinned = {
        label: dataclasses.replace(
            base,
            tasks=(PinnedTask(id=b.id, backend=b.backend.kind, sha256=b.backend.sha256),),
        )
        for label, b in (("table", table), ("surrogate", surrogate))
    }
    runs: dict[str, dict[str, list[float]]] = {f"{f:g}": {} for f in fractions}
    raw: dict[str, dict[str, dict[str, list[float]]]] = {
        k: {"table": {}, "surrogate": {}} for k in runs
    }
    for name, (spec, kwargs) in opts.items():
        factory = _baseline(spec, **kwargs)
        for label, bench in (("table", table), ("surrogate", surrogate)):
            trajs = [
                run_study(bench, factory, pinned[label], rep, call_timeout=None)
                for rep in range(n_repetitions)
            ]
            for f in fractions:
                raw[f"{f:g}"][label][name] = [anytime_score(tr, f) for tr in trajs]
    sign = 1.0 if table.metrics[table.reported_metric].direction == "maximize" else -1.0
    by_fraction = {key: _compare(raw[key], list(opts), n_repetitions, sign) for key in raw}
    head = by_fraction[f"{fractions[0]:g}"]
    return {
        "protocol": protocol,
        "n_repetitions": n_repetitions,
        "optimizers": list(opts),
        "reported_metric": table.reported_metric,
        "budget_fraction": fractions[0],
        "candidates": candidates,
        **head,
        "by_fraction": {
            k: {key: val for key, val in v.items() if key != "note"} for k, v in by_fraction.items()
        },
    }


def _compare(
    raw: Mapping[str, Mapping[str, list[float]]], names: list[str], n_repetitions: int, sign: float
) -> dict[str, Any]:
    scores: dict[str, dict[str, float]] = {"table": {}, "surrogate": {}}
    stderr: dict[str, dict[str, float]] = {"table": {}, "surrogate": {}}
    for label in ("table", "surrogate"):
        for name in names:
            vals = np.asarray(raw[label][name], dtype=float)
            fin = vals[np.isfinite(vals)]
            scores[label][name] = float(fin.mean()) if len(fin) else float("nan")
            stderr[label][name] = (
                float(fin.std(ddof=1) / np.sqrt(len(fin))) if len(fin) > 1 else float("nan")
            )
    t = np.asarray([scores["table"][n] for n in names]) * sign
    s = np.asarray([scores["surrogate"][n] for n in names]) * sign
    tau = float(stats.kendalltau(t, s).statistic)
    best_t, best_s = names[int(np.nanargmax(t))], names[int(np.nanargmax(s))]
    se = np.asarray([stderr["table"][n] for n in names])
    pooled = float(np.sqrt(np.nanmean(se**2))) if np.isfinite(se).any() else float("nan")
    spread = float(np.nanmax(t) - np.nanmin(t))
    q = separation_threshold(len(names), n_repetitions)
    separated = bool(np.isfinite(pooled) and spread > q * pooled)
    pairs = separated_pairs(raw["table"], names, sign)
    agree = [
        (a, b) for a, b in pairs if sign * scores["surrogate"][a] > sign * scores["surrogate"][b]
    ]
    out = {
        "scores_table": scores["table"],
        "scores_surrogate": scores["surrogate"],
        "kendall_tau": tau,
        "best_table": best_t,
        "best_surrogate": best_s,
        "best_agree": best_t == best_s,
        "stderr_table": stderr["table"],
        "stderr_surrogate": stderr["surrogate"],
        "table_score_spread": spread,
        "table_pooled_stderr": pooled,
        "table_separation_threshold": q,
        "table_separated": separated,
        # the pairs of optimizers the table tells apart, and whether the surrogate orders
        # each the same way: the part of the ranking that is not noise on the table itself
        "separated_pairs": [[a, b, (a, b) in agree] for a, b in pairs],
        "pair_agreement": (len(agree) / len(pairs)) if pairs else None,
        "runs_table": {n: list(raw["table"][n]) for n in names},
        "runs_surrogate": {n: list(raw["surrogate"][n]) for n in names},
    }
    split = split_half_taus(raw["table"], raw["surrogate"], names)
    if split is not None:
        out["kendall_tau_split_table"], out["kendall_tau_split_surrogate"] = split
    if not separated:
        out["note"] = (
            f"The table does not separate these optimizers: their mean scores span {spread:.4g}, "
            f"within {q:.2f} pooled standard errors ({pooled:.4g}) over {n_repetitions} "
            "repetitions (Tukey's 95 % studentized range), so their order (and τ) is noise."
        )
    return out


MAX_SPLITS = 4096  # split halves averaged by split_half_taus (all of them up to 14 repetitions)


def _kendall_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall's τ-b between each row of ``a`` and the same row of ``b`` (``[n, k]`` each).

    The same statistic as ``scipy.stats.kendalltau`` (τ-b: ties count in neither numerator nor
    denominator), for many short rows at once; NaN where a row is constant.
    """
    i, k = np.triu_indices(a.shape[1], 1)
    sa, sb = np.sign(a[:, k] - a[:, i]), np.sign(b[:, k] - b[:, i])
    den = np.sqrt((sa * sa).sum(axis=1) * (sb * sb).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (sa * sb).sum(axis=1) / den, np.nan)


def split_half_taus(
    table: Mapping[str, Sequence[float]],
    surrogate: Mapping[str, Sequence[float]],
    names: Sequence[str],
) -> tuple[float, float] | None:
    """``(table vs table, table vs surrogate)`` Kendall τ at half the repetitions.

    Over every split of the repetitions into halves ``A`` (``n // 2`` of them) and ``B`` (the
    rest): τ between the optimizers' mean scores on the table over ``A`` and on the table over
    ``B`` (how well the table reproduces its own ordering: the ceiling), and the mean of τ
    between the table over ``A`` and the surrogate over ``B`` and the other way round (disjoint
    repetitions on both sides, as in the ceiling). Averaged over splits where τ is defined;
    orientation does not matter (both sides use the same metric). ``None`` with fewer than two
    repetitions or optimizers, or with a non-finite score. Above :data:`MAX_SPLITS` splits
    (more than 14 repetitions), that many splits drawn with a fixed seed stand in for all.
    """
    t = np.asarray([table[n] for n in names], dtype=float).T  # [reps, optimizers]
    s = np.asarray([surrogate[n] for n in names], dtype=float).T
    n = t.shape[0]
    if (
        n < 2
        or t.shape[1] < 2
        or s.shape != t.shape
        or not (np.isfinite(t).all() and np.isfinite(s).all())
    ):
        return None
    if math.comb(n, n // 2) <= MAX_SPLITS:
        halves = np.asarray(list(itertools.combinations(range(n), n // 2)), dtype=np.intp)
    else:  # 30 repetitions would be 1.6e8 splits: a fixed-seed sample of them instead
        rng = np.random.default_rng(0)
        halves = np.sort(
            np.argsort(rng.random((MAX_SPLITS, n)), axis=1)[:, : n // 2], axis=1
        ).astype(np.intp)
    mask = np.zeros((len(halves), n), dtype=bool)
    mask[np.arange(len(halves))[:, None], halves] = True
    wa, wb = mask / mask.sum(axis=1, keepdims=True), ~mask / (~mask).sum(axis=1, keepdims=True)
    ta, tb, sa, sb = wa @ t, wb @ t, wa @ s, wb @ s
    self_tau = _kendall_rows(ta, tb)
    cross = np.concatenate([_kendall_rows(ta, sb), _kendall_rows(tb, sa)])
    if not (np.isfinite(self_tau).any() and np.isfinite(cross).any()):
        return None
    return float(np.nanmean(self_tau)), float(np.nanmean(cross))


def separated_pairs(
    runs: Mapping[str, Sequence[float]], names: Sequence[str], sign: float, alpha: float = 0.05
) -> list[tuple[str, str]]:
    """``(better, worse)`` pairs whose scores over repetitions differ on the table.

    Tukey's HSD over all optimizers at once (``scipy.stats.tukey_hsd``: every pair, family-wise
    error ``alpha``), the pairwise form of the studentized-range test behind
    ``table_separated``; ``better`` is the one with the better mean (``sign`` orients the
    metric). Optimizers without two finite scores take no part.
    """
    kept = [n for n in names if np.isfinite(np.asarray(runs[n], dtype=float)).sum() >= 2]
    if len(kept) < 2:
        return []
    samples = [np.asarray(runs[n], dtype=float) for n in kept]
    samples = [x[np.isfinite(x)] for x in samples]
    if np.ptp(np.concatenate(samples)) == 0:
        return []
    if all(np.ptp(x) == 0 for x in samples):  # no noise at all: every difference is real
        p = np.asarray([[1.0 if a[0] == b[0] else 0.0 for b in samples] for a in samples])
    else:
        p = stats.tukey_hsd(*samples).pvalue
    out = []
    for i, a in enumerate(kept):
        for k in range(i + 1, len(kept)):
            if p[i, k] < alpha:
                b = kept[k]
                better = sign * samples[i].mean() > sign * samples[k].mean()
                out.append((a, b) if better else (b, a))
    return out


def rescore(rk: Mapping[str, Any], sign: float) -> dict[str, Any]:
    """A ranking result recomputed from the repetitions it stores (no optimizer runs).

    Every figure of a ranking is a function of ``runs_table`` / ``runs_surrogate`` per budget
    share; this recomputes them with the current statistics (and checks a card by hand).
    """
    by = rk["by_fraction"]
    names = list(rk["optimizers"])
    new = {
        k: _compare(
            {"table": v["runs_table"], "surrogate": v["runs_surrogate"]},
            names,
            int(rk["n_repetitions"]),
            sign,
        )
        for k, v in by.items()
    }
    head = new[f"{float(rk['budget_fraction']):g}"]
    return {
        **{k: v for k, v in rk.items() if k not in head and k != "note"},
        **head,
        "by_fraction": {k: {x: y for x, y in v.items() if x != "note"} for k, v in new.items()},
    }


def separation_threshold(k: int, n_repetitions: int) -> float:
    """95 % studentized range of ``k`` means of ``n_repetitions`` each (inf if undefined)."""
    df = k * (n_repetitions - 1)
    if k < 2 or df < 1:
        return float("inf")
    return float(stats.studentized_range.ppf(0.95, k, df))
