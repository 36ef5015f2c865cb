"""Do the multi-fidelity baselines beat random search, as the literature reports?

    nice python benchmarks/verify_baselines_mf.py                      # the claim, 10 repetitions
    nice python benchmarks/verify_baselines_mf.py --methods hyperband,bohb --repetitions 20
    nice python benchmarks/verify_baselines_mf.py --json out.json --markdown out.md
    nice python benchmarks/verify_baselines_mf.py --budget-fraction 0.1   # anytime: at 10 %
    python benchmarks/verify_baselines_mf.py --diagnostics         # table sizes, rank correlations

Hyperband (Li et al. 2018), BOHB (Falkner et al. 2018), DEHB (Awad et al. 2021) and ASHA (Li et
al. 2020) each report beating random search at the full budget on most multi-fidelity tasks.
This runs every method and random search by name under one protocol (default ``mf-serial-v2``:
one worker, resumes allowed, simulated time budget) on every task of its suite, for repetitions
``0..R-1`` (repetition ``r`` gives every method the same seeds, so runs are paired), and reports
per task:

* the **regret** of each run: its incumbent's test score (the protocol's reported metric on the
  test seeds at full fidelity, as recorded in the trajectory) minus the best test score of any
  configuration in the table, oriented so that 0 is the optimum;
* the **normalized regret**: regret / (median regret of random search on that task), so that
  random search's median is 1 (DESIGN.md's convention); undefined ("-") when random search's
  median run already scores the optimum;
* a **paired Wilcoxon signed-rank test** (scipy, two-sided) of the method's regrets against random
  search's over the repetitions, and the verdict: ``better`` / ``worse`` when p < alpha, else
  ``n.s.`` (``tie`` when every pair is equal: the test is undefined).

Everything is deterministic (simulated time, seeded optimizers), so the same command prints the
same numbers. Nothing is timed here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata, wilcoxon

import hpobench
from baselines import make_factory
from hpobench.harness import get_protocol, resolve_suite, run_study

REFERENCE = "random-search"
CLAIMED = ("hyperband", "bohb", "dehb", "asha")


@dataclass(frozen=True)
class Cell:
    """One method on one task over the repetitions."""

    task: str
    method: str
    regrets: list[float]
    mean_normalized_regret: float | None
    p_value: float | None
    verdict: str


def optimum(task: str, reported_metric: str | None) -> tuple[float, float, float]:
    """(best and worst test score of any table configuration, orientation: +1 minimise, -1
    maximise). The worst is the regret given to a run without an incumbent."""
    bench = hpobench.make(task)
    table = bench.table  # type: ignore[attr-defined]
    name = reported_metric or table.meta.reported_metric
    test = [table.seed_index(s) for s in table.meta.test_seeds]
    scores = sign_scores = table.metric(name)[:, test, -1].astype(np.float64).mean(axis=1)
    sign = 1.0 if table.meta.metrics[name].direction == "minimize" else -1.0
    sign_scores = sign * scores
    return float(np.nanmin(sign_scores) * sign), float(np.nanmax(sign_scores) * sign), sign


def run(task: str, method: str, protocol: str, repetitions: int, fraction: float) -> list[float]:
    """Each repetition's incumbent test score once ``fraction`` of the time budget has passed
    (the last recorded incumbent at or before that time; NaN when there is none yet). At
    ``fraction = 1`` this is the final incumbent."""
    factory = make_factory(method)
    out = []
    for r in range(repetitions):
        traj = run_study(task, factory, protocol, r, call_timeout=None)
        if fraction >= 1.0:
            score = traj.meta.incumbent_test_score
            out.append(float("nan") if score is None else float(score))
            continue
        e = traj.events
        seen = e[e["time"] <= fraction * traj.meta.time_budget]
        out.append(float(seen["incumbent_test_score"].iloc[-1]) if len(seen) else float("nan"))
    return out


def compare(reference: list[float], ours: list[float], alpha: float) -> tuple[float | None, str]:
    diff = np.asarray(ours) - np.asarray(reference)
    if np.all(diff == 0):
        return None, "tie"
    p = float(wilcoxon(ours, reference).pvalue)
    if p >= alpha:
        return p, "n.s."
    nz = diff[diff != 0]
    ranks = rankdata(np.abs(nz))
    return p, "better" if ranks[nz < 0].sum() > ranks[nz > 0].sum() else "worse"


def verify(
    methods: list[str],
    protocol: str,
    suite: str | None,
    repetitions: int,
    alpha: float,
    fraction: float = 1.0,
) -> list[Cell]:
    proto = get_protocol(protocol)
    tasks = resolve_suite(suite if suite is not None else proto.suite)
    cells: list[Cell] = []
    for task in tasks:
        t0 = time.perf_counter()
        best, worst, sign = optimum(task, proto.reported_metric)
        regrets = {
            m: [
                sign * ((worst if np.isnan(s) else s) - best)
                for s in run(task, m, protocol, repetitions, fraction)
            ]
            for m in [REFERENCE, *methods]
        }
        scale = statistics.median(regrets[REFERENCE])
        for m in [REFERENCE, *methods]:
            mean_n = float(np.mean(regrets[m]) / scale) if scale > 0 else None
            if m == REFERENCE:
                p, verdict = None, "reference"
            else:
                p, verdict = compare(regrets[REFERENCE], regrets[m], alpha)
            cells.append(Cell(task, m, regrets[m], mean_n, p, verdict))
        print(f"{task}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return cells


def markdown(
    cells: list[Cell], methods: list[str], protocol: str, repetitions: int, fraction: float
) -> str:
    tasks = list(dict.fromkeys(c.task for c in cells))
    by = {(c.task, c.method): c for c in cells}
    head = ["task", f"{REFERENCE} (mean nreg)", *methods]
    lines = [
        f"Protocol `{protocol}`, {repetitions} repetitions per task, incumbents after "
        f"{fraction:.0%} of the time budget; cells: mean normalized "
        "regret (random search's median = 1; `-`: random search's median run is at the "
        "optimum), Wilcoxon p vs random search, verdict.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]

    def fmt(c: Cell) -> str:
        n = "-" if c.mean_normalized_regret is None else f"{c.mean_normalized_regret:.2f}"
        p = "" if c.p_value is None else f", p={c.p_value:.3f}"
        return f"{n}{p} {c.verdict}" if c.verdict != "reference" else n

    for t in tasks:
        lines.append(
            "| "
            + " | ".join([t, fmt(by[(t, REFERENCE)]), *(fmt(by[(t, m)]) for m in methods)])
            + " |"
        )
    lines.append("")
    for m in methods:
        mine = [by[(t, m)] for t in tasks]
        lower = sum(np.mean(c.regrets) < np.mean(by[(c.task, REFERENCE)].regrets) for c in mine)
        verdicts = {
            v: sum(c.verdict == v for c in mine) for v in ("better", "worse", "n.s.", "tie")
        }
        lines.append(
            f"- **{m}**: lower mean regret than random search on {lower} of {len(tasks)} tasks; "
            f"significantly better on {verdicts['better']}, worse on {verdicts['worse']}, "
            f"n.s. on {verdicts['n.s.']}, tied on {verdicts['tie']}."
        )
    return "\n".join(lines)


def diagnostics(tasks: tuple[str, ...]) -> str:
    """Why a task can or cannot separate the methods: its size, and Spearman's rank correlation
    of the objective (mean over tuning seeds) at the smallest fidelity and at R/9 with the
    maximal one, and of the tuning objective with the test score at full fidelity."""
    from scipy.stats import spearmanr

    lines = [
        "| task | configs | rho(min, max) | rho(R/9, max) | rho(tuning, test) |",
        "|---|---|---|---|---|",
    ]
    for task in tasks:
        table = hpobench.make(task).table  # type: ignore[attr-defined]
        m = table.meta
        tune = [table.seed_index(s) for s in m.tuning_seeds]
        test = [table.seed_index(s) for s in m.test_seeds]
        obj = table.metric(m.objective)[:, tune, :].astype(np.float64).mean(axis=1)
        rep = table.metric(m.reported_metric)[:, test, -1].astype(np.float64).mean(axis=1)
        mid = int(np.searchsorted(m.fidelity.values, m.fidelity.values[-1] / 9))
        rho = [
            spearmanr(a, b, nan_policy="omit")[0]
            for a, b in ((obj[:, 0], obj[:, -1]), (obj[:, mid], obj[:, -1]), (obj[:, -1], rep))
        ]
        lines.append(f"| {task} | {m.n_configs} | " + " | ".join(f"{r:.2f}" for r in rho) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--methods", default=",".join(CLAIMED), help="comma-separated baseline names")
    ap.add_argument("--protocol", default="mf-serial-v2")
    ap.add_argument("--suite", default=None, help="default: the protocol's suite")
    ap.add_argument("--repetitions", type=int, default=10)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument(
        "--budget-fraction",
        type=float,
        default=1.0,
        help="score the incumbent after this fraction of the time budget (default 1: the full "
        "budget, the literature's claim)",
    )
    ap.add_argument(
        "--diagnostics",
        action="store_true",
        help="only print each task's size and fidelity/test rank correlations (fast)",
    )
    ap.add_argument("--json", type=Path, help="write every regret and test here")
    ap.add_argument("--markdown", type=Path, help="write the table here")
    args = ap.parse_args(argv)
    if args.repetitions < 6:
        ap.error("--repetitions must be >= 6 for a two-sided Wilcoxon test to reach p < 0.05")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.diagnostics:
        suite = args.suite if args.suite is not None else get_protocol(args.protocol).suite
        print(diagnostics(resolve_suite(suite)))
        return 0
    if not 0.0 < args.budget_fraction <= 1.0:
        ap.error(f"--budget-fraction must lie in (0, 1], but got {args.budget_fraction}")
    cells = verify(
        methods, args.protocol, args.suite, args.repetitions, args.alpha, args.budget_fraction
    )
    table = markdown(cells, methods, args.protocol, args.repetitions, args.budget_fraction)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    if args.json:
        payload: dict[str, Any] = {
            "protocol": args.protocol,
            "repetitions": args.repetitions,
            "alpha": args.alpha,
            "budget_fraction": args.budget_fraction,
            "cells": [asdict(c) for c in cells],
        }
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
