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

The optimizers are the shipped baselines plus two settings of them (ASHA with η = 2, regularized
evolution with a population of 10), so that at least five take part; all use only the public
API. On tables of sampled configurations the table backend snaps each suggestion to the nearest
stored configuration while the surrogate answers the configuration itself, so the two runs
do not see identical landscapes; that difference is part of what the figure measures.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import stats

from hpobench.benchmark import Benchmark
from hpobench.harness import get_protocol, run_study
from hpobench.harness._protocol import PinnedTask

__all__ = ["OPTIMIZERS", "ranking_preservation"]


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


OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "random_search": ("baselines.random_search:make_optimizer", {}),
    "asha": ("baselines.asha:make_optimizer", {}),
    "hyperband": ("baselines.asha:make_hyperband", {}),
    "regularized_evolution": ("baselines.regularized_evolution:make_optimizer", {}),
    "asha_eta2": ("baselines.asha:AsynchronousSuccessiveHalving", {"eta": 2.0}),
    "re_pop10": (
        "baselines.regularized_evolution:RegularizedEvolution",
        {"population_size": 10, "sample_size": 3},
    ),
}


def ranking_preservation(
    table: Benchmark,
    surrogate: Benchmark,
    protocol: str,
    *,
    n_repetitions: int = 5,
    optimizers: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Scores per optimizer on both backends, Kendall τ of the orderings, best-vs-rest."""
    opts = dict(optimizers or OPTIMIZERS)
    base = get_protocol(protocol)
    # the same protocol, pinned once to the table and once to the surrogate (by sha256)
    pinned = {
        label: dataclasses.replace(
            base,
            tasks=(PinnedTask(id=b.id, backend=b.backend.kind, sha256=b.backend.sha256),),
        )
        for label, b in (("table", table), ("surrogate", surrogate))
    }
    sign = 1.0 if table.metrics[table.reported_metric].direction == "maximize" else -1.0
    scores: dict[str, dict[str, float]] = {"table": {}, "surrogate": {}}
    stderr: dict[str, dict[str, float]] = {"table": {}, "surrogate": {}}
    for name, (spec, kwargs) in opts.items():
        factory = _baseline(spec, **kwargs)
        for label, bench in (("table", table), ("surrogate", surrogate)):
            vals = []
            for rep in range(n_repetitions):
                traj = run_study(bench, factory, pinned[label], rep, call_timeout=None)
                v = traj.meta.incumbent_test_score
                vals.append(np.nan if v is None else float(v))
            scores[label][name] = float(np.nanmean(vals))
            fin = np.asarray(vals)[np.isfinite(vals)]
            stderr[label][name] = (
                float(fin.std(ddof=1) / np.sqrt(len(fin))) if len(fin) > 1 else float("nan")
            )
    names = list(opts)
    t = np.asarray([scores["table"][n] for n in names]) * sign
    s = np.asarray([scores["surrogate"][n] for n in names]) * sign
    tau = float(stats.kendalltau(t, s).statistic)
    best_t, best_s = names[int(np.argmax(t))], names[int(np.argmax(s))]
    se = np.asarray([stderr["table"][n] for n in names])
    pooled = float(np.sqrt(np.nanmean(se**2))) if np.isfinite(se).any() else float("nan")
    spread = float(np.max(t) - np.min(t))
    q = separation_threshold(len(names), n_repetitions)
    separated = bool(np.isfinite(pooled) and spread > q * pooled)
    out = {
        "protocol": protocol,
        "n_repetitions": n_repetitions,
        "optimizers": names,
        "reported_metric": table.reported_metric,
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
    }
    if not separated:
        out["note"] = (
            f"The table does not separate these optimizers: their mean scores span {spread:.4g}, "
            f"within {q:.2f} pooled standard errors ({pooled:.4g}) over {n_repetitions} "
            "repetitions (Tukey's 95 % studentized range), so their order (and τ) is noise."
        )
    return out


def separation_threshold(k: int, n_repetitions: int) -> float:
    """95 % studentized range of ``k`` means of ``n_repetitions`` each (inf if undefined)."""
    df = k * (n_repetitions - 1)
    if k < 2 or df < 1:
        return float("inf")
    return float(stats.studentized_range.ppf(0.95, k, df))
