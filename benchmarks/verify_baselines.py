"""Verify the baselines against their reference libraries, and against random search.

Runs ours and the reference under the same harness, protocol, tasks and repetitions (the
references are wrapped as hpobench optimizers in ``reference_optimizers.py``):

====================  ==============================================  ============================
ours                  reference                                       needs
====================  ==============================================  ============================
``tpe``               Optuna ``TPESampler(multivariate=True)``        optuna
``rf-bo``             SMAC3 ``HyperparameterOptimizationFacade``      ``pip install smac==2.4.1``
``cqr``               syne-tune ``CQR``                               ``pip install syne-tune==0.16.0``
``gp-ei``             Optuna ``GPSampler`` (``optuna-gp`` baseline)   optuna
``dehb``              ``dehb`` 0.1.2 ``DEHB`` (``dehb-ref``)          ``pip install --no-deps dehb==0.1.2 loguru``
``asha``              syne-tune ``ASHA`` (``synetune-asha``)          ``pip install syne-tune==0.16.0``
``bohb``              syne-tune ``BOHB`` (``synetune-bohb``)          ``pip install syne-tune==0.16.0``
====================  ==============================================  ============================

The first four are single-fidelity (the default protocol, the newest ``sf-serial``); the last
three need a multi-fidelity protocol (``--protocol mf-serial-v5``: its suite becomes the default
tasks and these methods, with random search, the default methods). ``dehb`` 0.1.2's declared
requirements downgrade numpy; install it with ``--no-deps`` (it imports with what hpobench has).

Score: final normalized regret ``(score - best) / (random-search median - best)`` per task, with
``score`` the run's incumbent test score (reported metric on the test seeds, full fidelity), ``best``
the table's best mean test score and the random-search median taken over this run's random-search
repetitions at the same budget (sign flipped for maximised metrics: 0 = the optimum, 1 = the median
random-search result). Per pair: mean regret with a 95 % bootstrap CI (over tasks × repetitions),
the paired Wilcoxon signed-rank test over the same (task, repetition) pairs (two-sided, and per
task), and the optimizer's own compute per trial (``ask`` + ``tell`` wall time, the same runs; for
a multi-fidelity method: per evaluation, a resumed rung included). Runs under ``--protocol`` also
record their incumbent after 10, 25 and 50 % of the time budget; ``--budget-fraction 0.1``
reports those (regret against random search's median at the same fraction).

One command (each finished run is appended to ``--out`` and skipped when the command is run
again, so an interrupted verification resumes; ``--report`` only prints)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/verify_baselines.py --out verify.jsonl
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/verify_baselines.py --protocol mf-serial-v5 \
        --out verify_mf.jsonl
    python benchmarks/verify_baselines.py --report verify_mf.jsonl --budget-fraction 0.1

Defaults: the newest ``sf-serial`` protocol (its budget; ``--budget N`` caps the time budget at
N full evaluations' worth), 8 single-fidelity tasks (4 FCNet, 4 HPOBench-NN), 10 repetitions,
every single-fidelity method.
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
from hpobench.harness import (
    get_protocol,
    list_protocols,
    load_optimizer,
    resolve_suite,
    run_study,
)

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
    "dehb": "dehb.py:make_optimizer",
    "asha": "asha.py:make_optimizer",
    "bohb": "bohb.py:make_optimizer",
}
REFERENCES = {
    "optuna-tpe": "optuna_tpe",
    "optuna-gp": "optuna_gp",
    "smac-rf": "smac_hpo",
    "synetune-cqr": "synetune_cqr",
    "dehb-ref": "dehb_ref",
    "synetune-asha": "synetune_asha",
    "synetune-bohb": "synetune_bohb",
}
PAIRS = (
    ("tpe", "optuna-tpe"),
    ("gp-ei", "optuna-gp"),
    ("rf-bo", "smac-rf"),
    ("cqr", "synetune-cqr"),
    ("dehb", "dehb-ref"),
    ("asha", "synetune-asha"),
    ("bohb", "synetune-bohb"),
)
SINGLE_FIDELITY = ("random", "tpe", "gp-ei", "rf-bo", "cqr", *list(REFERENCES)[:4])
MULTI_FIDELITY = ("random", "dehb", "asha", "bohb", "dehb-ref", "synetune-asha", "synetune-bohb")
#: the fractions of the time budget at which every run's incumbent is also recorded
FRACTIONS = (0.1, 0.25, 0.5)


def factory(method: str):  # type: ignore[no-untyped-def]
    if method in OURS:
        return load_optimizer(str(ROOT / "baselines" / OURS[method]))
    import reference_optimizers

    return getattr(reference_optimizers, REFERENCES[method])


def protocol(name: str | None, budget: int | None):  # type: ignore[no-untyped-def]
    """The protocol ``name`` (default: the newest ``sf-serial``), its budget capped at ``budget``
    full evaluations' worth of time when given."""
    if name is None:
        names = [n for n in list_protocols() if n.startswith("sf-serial-v")]
        name = max(names, key=lambda n: int(n.rpartition("-v")[2]))
    p = get_protocol(name)
    if budget is None:
        return p
    return dataclasses.replace(
        p,
        name=f"verify-sf-b{budget}-v{p.version}",
        budget_base=float(budget),
        budget_per_sqrt_dim=0.0,
    )


def incumbent_at(traj, fraction: float) -> float | None:  # type: ignore[no-untyped-def]
    """The run's incumbent test score once ``fraction`` of its time budget has passed (the last
    recorded incumbent at or before that time; ``None`` when there is none yet)."""
    e = traj.events
    seen = e[e["time"] <= fraction * traj.meta.time_budget]
    if not len(seen):
        return None
    s = seen["incumbent_test_score"].iloc[-1]
    return None if s is None or not math.isfinite(s) else float(s)


def setting(row: dict) -> tuple[str | None, int | None]:
    """What a run's regret is comparable within: its protocol (absent in rows written before
    ``--protocol`` existed: the single-fidelity default of the time) and evaluation cap."""
    return row.get("protocol"), row["budget"]


def run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    proto = protocol(args.protocol, args.budget)
    pname = None if args.protocol is None else args.protocol
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["method"], r["task"], r["rep"], setting(r)))
    factories = {m: factory(m) for m in args.methods}
    # repetition-major, so that an interrupted verification leaves complete (task, rep) pairs
    for rep in range(args.start_rep, args.reps):
        for task in args.tasks:
            for method, f in factories.items():
                key = (method, task, rep, (pname, args.budget))
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
                if pname is not None:
                    row["protocol"] = pname
                    row["scores_at"] = {str(f): incumbent_at(traj, f) for f in FRACTIONS}
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


def at_fraction(row: dict, fraction: float) -> dict | None:
    """``row`` with ``score`` the incumbent after ``fraction`` of the budget (``None``: not
    recorded for that fraction)."""
    if fraction >= 1.0:
        return row
    at = row.get("scores_at", {})
    if str(fraction) not in at:
        return None
    return {**row, "score": at[str(fraction)]}


def report(paths: list[str], fraction: float = 1.0) -> None:
    rows = [json.loads(line) for p in paths for line in Path(p).read_text().splitlines()]
    Setting = tuple[str | None, int | None]
    by: dict[tuple[str, Setting], dict[tuple[str, int], dict]] = defaultdict(dict)
    for r in rows:
        rf = at_fraction(r, fraction)
        if rf is not None:
            by[(r["method"], setting(r))][(r["task"], r["rep"])] = rf
    settings = sorted({k[1] for k in by}, key=lambda s: (s[0] or "", -1 if s[1] is None else s[1]))
    rng = np.random.default_rng(0)
    opt = {t: optimum(t) for t in sorted({r["task"] for r in rows})}
    for st in settings:
        pname, budget = st
        rs = by.get(("random", st), {})
        if not rs:
            continue
        if pname is None:  # rows written before --protocol existed
            label = "the protocol's budget" if budget is None else f"budget {budget} evaluations"
        else:
            label = pname + ("" if budget is None else f", budget {budget} evaluations")
        if fraction < 1.0:
            label += f", incumbents after {fraction:.0%} of the time budget"
        print(f"\n=== {label} ===")
        # random search's median over its runs with an incumbent (a task where none has one
        # yet, early in the budget, has no scale and is left out)
        finite: dict[str, list[float]] = defaultdict(list)
        for (t, _), r in rs.items():
            if r["score"] is not None and math.isfinite(r["score"]):
                finite[t].append(r["score"])
        median = {t: float(np.median(v)) for t, v in finite.items()}
        reg: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
        for (method, s), runs in by.items():
            if s != st:
                continue
            for k, r in runs.items():
                if k in rs and k[0] in median:
                    reg[k][method] = regret(r, *opt[k[0]], median[k[0]])
        for a, b in PAIRS:
            compare(a, b, by.get((a, st), {}), by.get((b, st), {}), reg, rng)
        for m in ("tpe", "gp-ei", "rf-bo", "cqr", "dehb", "asha", "bohb"):
            compare(m, "random", by.get((m, st), {}), rs, reg, rng)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default="verify_baselines.jsonl")
    ap.add_argument(
        "--protocol",
        default=None,
        help="protocol name (default: the newest sf-serial); its suite gives the default tasks",
    )
    ap.add_argument(
        "--methods",
        default=None,
        help="comma-separated (default: the single-fidelity methods and references, or with a "
        "multi-fidelity protocol the multi-fidelity ones, random search included)",
    )
    ap.add_argument("--tasks", default=None, help="default: TASKS, or the protocol's suite")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--start-rep", type=int, default=0, help="first repetition (to split a run)")
    ap.add_argument("--budget", type=int, default=None, help="cap: evaluations per run")
    ap.add_argument(
        "--budget-fraction",
        type=float,
        default=1.0,
        help=f"report incumbents after this fraction of the time budget (recorded: {FRACTIONS}; "
        "needs --protocol runs)",
    )
    ap.add_argument("--report", nargs="*", help="only print the report of these result files")
    args = ap.parse_args(argv)
    if args.budget_fraction < 1.0 and args.budget_fraction not in FRACTIONS:
        ap.error(
            f"--budget-fraction must be 1 or one of {FRACTIONS}, but got {args.budget_fraction}"
        )
    if args.report is not None:
        report(args.report or [args.out], args.budget_fraction)
        return
    proto = protocol(args.protocol, None)
    multi = len(hpobench.make(resolve_suite(proto.suite)[0]).fidelity.values) > 1
    if args.methods is None:
        args.methods = ",".join(MULTI_FIDELITY if multi else SINGLE_FIDELITY)
    if args.tasks is None:
        args.tasks = ",".join(TASKS if args.protocol is None else resolve_suite(proto.suite))
    args.methods = [m for m in args.methods.split(",") if m]
    args.tasks = [t for t in args.tasks.split(",") if t]
    unknown = [m for m in args.methods if m not in OURS and m not in REFERENCES]
    if unknown:
        ap.error(f"unknown methods {unknown}; choose from {[*OURS, *REFERENCES]}")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    run(args)
    report([args.out], args.budget_fraction)


if __name__ == "__main__":
    main()
