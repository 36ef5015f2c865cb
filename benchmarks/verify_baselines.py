"""Verify the model-based baselines against their reference libraries, and against random search.

Runs ours and the reference under the same harness, protocol, tasks and repetitions (the
references are wrapped as hpobench optimizers in ``reference_optimizers.py``):

====================  ==========================================  ========================
ours                  reference                                   needs
====================  ==========================================  ========================
``tpe``               Optuna ``TPESampler(multivariate=True)``    optuna
``rf-bo``             SMAC3 ``HyperparameterOptimizationFacade``  ``pip install smac==2.4.1``
``cqr``               syne-tune ``CQR``                           ``pip install syne-tune==0.16.0``
``gp-ei``             Optuna ``GPSampler`` (``optuna-gp`` baseline)  optuna
====================  ==========================================  ========================

Score: final normalized regret ``(score - best) / (random-search median - best)`` per task, with
``score`` the run's incumbent test score (reported metric on the test seeds, full fidelity), ``best``
the table's best mean test score and the random-search median taken over this run's random-search
repetitions at the same budget (sign flipped for maximised metrics: 0 = the optimum, 1 = the median
random-search result). Per pair: mean regret with a 95 % bootstrap CI (over tasks × repetitions),
the paired Wilcoxon signed-rank test over the same (task, repetition) pairs (two-sided, and per
task), and the optimizer's own compute per trial (``ask`` + ``tell`` wall time, the same runs).

One command (each finished run is appended to ``--out`` and skipped when the command is run
again, so an interrupted verification resumes; ``--report`` only prints)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/verify_baselines.py --out verify.jsonl

Defaults: the ``sf-serial-v1`` protocol (its budget, ``--budget N`` caps it at N evaluations),
8 single-fidelity tasks (4 FCNet, 4 HPOBench-NN), 10 repetitions, every method.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hpobench
from hpobench.harness import get_protocol, list_protocols, load_optimizer, run_study

TASKS = (
    "fcnet/naval-v1",
    "fcnet/parkinsons-v1",
    "fcnet/protein-v1",
    "fcnet/slice-v1",
    "hpobench-nn/australian-v1",
    "hpobench-nn/car-v1",
    "hpobench-nn/credit-g-v1",
    "hpobench-nn/kc1-v1",
)
ROOT = Path(__file__).resolve().parents[1]
OURS = {
    "random": "random_search.py:make_optimizer",
    "tpe": "tpe.py:make_optimizer",
    "gp-ei": "gp_ei.py:make_optimizer",
    "rf-bo": "rf_bo.py:make_optimizer",
    "cqr": "cqr.py:make_optimizer",
}
REFERENCES = {
    "optuna-tpe": "optuna_tpe",
    "optuna-gp": "optuna_gp",
    "smac-rf": "smac_hpo",
    "synetune-cqr": "synetune_cqr",
}
PAIRS = (
    ("tpe", "optuna-tpe"),
    ("gp-ei", "optuna-gp"),
    ("rf-bo", "smac-rf"),
    ("cqr", "synetune-cqr"),
)


def factory(method: str):  # type: ignore[no-untyped-def]
    if method in OURS:
        return load_optimizer(str(ROOT / "baselines" / OURS[method]))
    import reference_optimizers

    return getattr(reference_optimizers, REFERENCES[method])


def protocol(budget: int | None):  # type: ignore[no-untyped-def]
    """The single-fidelity protocol (its newest version), its budget capped at ``budget``."""
    names = [n for n in list_protocols() if n.startswith("sf-serial-v")]
    p = get_protocol(max(names, key=lambda n: int(n.rpartition("-v")[2])))
    if budget is None:
        return p
    return dataclasses.replace(
        p,
        name=f"verify-sf-b{budget}-v{p.version}",
        budget_base=float(budget),
        budget_per_sqrt_dim=0.0,
    )


def run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["method"], r["task"], r["rep"], r["budget"]))
    proto = protocol(args.budget)
    factories = {m: factory(m) for m in args.methods}
    # repetition-major, so that an interrupted verification leaves complete (task, rep) pairs
    for rep in range(args.start_rep, args.reps):
        for task in args.tasks:
            for method, f in factories.items():
                key = (method, task, rep, args.budget)
                if key in done:
                    continue
                t0 = time.perf_counter()
                traj = run_study(task, f, proto, rep)
                wall = time.perf_counter() - t0
                e = traj.events
                row = {
                    "method": method,
                    "task": task,
                    "rep": rep,
                    "budget": args.budget,
                    "status": traj.meta.status.value,
                    "n_evaluations": traj.meta.n_evaluations,
                    "score": traj.meta.incumbent_test_score,
                    "compute_per_trial_s": float((e["ask_wall_s"] + e["tell_wall_s"]).mean()),
                    "wall_s": wall,
                }
                with out.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                score = "-" if row["score"] is None else f"{row['score']:.5g}"
                print(
                    f"{method:>13} {task:<28} rep {rep} {row['status']} score {score} "
                    f"{1000 * row['compute_per_trial_s']:.1f} ms/trial",
                    flush=True,
                )


def optimum(task: str) -> tuple[float, bool]:
    """Best mean test score over the table's configurations, and whether larger is better."""
    bench = hpobench.make(task)
    t = bench.table
    metric = t.meta.reported_metric
    pos = [t.seed_index(s) for s in t.meta.test_seeds]
    scores = t.metric(metric)[:, pos, -1].astype(np.float64).mean(axis=1)
    maximize = t.meta.metrics[metric].direction == "maximize"
    return (float(np.nanmax(scores)) if maximize else float(np.nanmin(scores))), maximize


def bootstrap_ci(x: np.ndarray, rng: np.random.Generator, n: int = 2000) -> tuple[float, float]:
    means = rng.choice(x, size=(n, len(x)), replace=True).mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def regret(r: dict, best: float, maximize: bool, median: float) -> float:
    """Normalized regret of one run (0: the table optimum, 1: the random-search median)."""
    s = r["score"]
    if s is None or not math.isfinite(s):
        return 1.0
    denom = (best - median) if maximize else (median - best)
    num = (best - s) if maximize else (s - best)
    return num / denom if denom > 0 else 0.0


def verdict(x: np.ndarray, y: np.ndarray, a: str, b: str, alpha: float = 0.05) -> tuple[float, str]:
    """Two-sided Wilcoxon signed-rank test of paired regrets ``x`` (``a``) vs ``y`` (``b``).

    The direction is the test's own: the side with the larger sum of signed ranks of
    ``y - x`` wins, not the side with the lower mean (normalized regrets are heavy-tailed; one
    run far from a near-optimal random-search median can flip a mean against every other pair).
    """
    from scipy.stats import rankdata, wilcoxon

    d = np.asarray(y, dtype=float) - np.asarray(x, dtype=float)
    if not np.any(d != 0):
        return 1.0, "n.s."
    p = float(wilcoxon(x, y).pvalue)
    if p >= alpha:
        return p, "n.s."
    nz = d[d != 0]
    ranks = rankdata(np.abs(nz))
    return p, (f"{a} better" if ranks[nz > 0].sum() > ranks[nz < 0].sum() else f"{b} better")


def compare(a: str, b: str, ra: dict, rb: dict, reg: dict, rng: np.random.Generator) -> None:
    """Print ``a`` vs ``b`` over their common (task, repetition) keys."""

    keys = sorted(set(ra) & set(rb) & set(reg))
    if not keys:
        return
    x = np.array([reg[k][a] for k in keys])
    y = np.array([reg[k][b] for k in keys])
    tasks = sorted({k[0] for k in keys})
    cx = np.mean([ra[k]["compute_per_trial_s"] for k in keys]) * 1000
    cy = np.mean([rb[k]["compute_per_trial_s"] for k in keys]) * 1000
    p, word = verdict(x, y, a, b)
    lx, hx = bootstrap_ci(x, rng)
    ly, hy = bootstrap_ci(y, rng)
    print(
        f"\n{a} vs {b}: {len(tasks)} tasks, {len(keys)} (task, repetition) pairs\n"
        f"  mean normalized regret  {a}: {x.mean():.3f} [{lx:.3f}, {hx:.3f}]   "
        f"{b}: {y.mean():.3f} [{ly:.3f}, {hy:.3f}]   Wilcoxon p = {p:.3g} ({word})\n"
        f"  median normalized regret  {a}: {np.median(x):.3f}   {b}: {np.median(y):.3f}\n"
        f"  compute per trial       {a}: {cx:.2f} ms   {b}: {cy:.2f} ms   ({b} / {a}: "
        f"{cy / max(cx, 1e-9):.2f}x)"
    )
    for t in tasks:
        kt = [k for k in keys if k[0] == t]
        xt = np.array([reg[k][a] for k in kt])
        yt = np.array([reg[k][b] for k in kt])
        pt, wt = verdict(xt, yt, a, b) if len(kt) > 1 else (1.0, "n.s.")
        flag = "" if wt == "n.s." else ("  (better)" if wt == f"{a} better" else "  (WORSE)")
        print(
            f"    {t:<28} n={len(kt):<3} {xt.mean():7.3f} vs {yt.mean():7.3f}   p = {pt:.3g}{flag}"
        )


def report(paths: list[str]) -> None:
    rows = [json.loads(line) for p in paths for line in Path(p).read_text().splitlines()]
    by: dict[tuple[str, int | None], dict[tuple[str, int], dict]] = defaultdict(dict)
    for r in rows:
        by[(r["method"], r["budget"])][(r["task"], r["rep"])] = r
    budgets = sorted({r["budget"] for r in rows}, key=lambda b: -1 if b is None else b)
    rng = np.random.default_rng(0)
    opt = {t: optimum(t) for t in sorted({r["task"] for r in rows})}
    for budget in budgets:
        rs = by.get(("random", budget), {})
        if not rs:
            continue
        label = "the protocol's budget" if budget is None else f"budget {budget} evaluations"
        print(f"\n=== {label} ===")
        median = {
            t: float(np.median([r["score"] for (tt, _), r in rs.items() if tt == t]))
            for t in {k[0] for k in rs}
        }
        reg: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
        for (method, b), runs in by.items():
            if b != budget:
                continue
            for k, r in runs.items():
                if k in rs:
                    reg[k][method] = regret(r, *opt[k[0]], median[k[0]])
        for a, b in PAIRS:
            compare(a, b, by.get((a, budget), {}), by.get((b, budget), {}), reg, rng)
        for m in ("tpe", "gp-ei", "rf-bo", "cqr"):
            compare(m, "random", by.get((m, budget), {}), rs, reg, rng)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default="verify_baselines.jsonl")
    ap.add_argument("--methods", default=",".join([*OURS, *REFERENCES]))
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--start-rep", type=int, default=0, help="first repetition (to split a run)")
    ap.add_argument("--budget", type=int, default=None, help="cap: evaluations per run")
    ap.add_argument("--report", nargs="*", help="only print the report of these result files")
    args = ap.parse_args()
    if args.report is not None:
        report(args.report or [args.out])
        return
    args.methods = [m for m in args.methods.split(",") if m]
    args.tasks = [t for t in args.tasks.split(",") if t]
    unknown = [m for m in args.methods if m not in OURS and m not in REFERENCES]
    if unknown:
        ap.error(f"unknown methods {unknown}; choose from {[*OURS, *REFERENCES]}")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    run(args)
    report([args.out])


if __name__ == "__main__":
    main()
