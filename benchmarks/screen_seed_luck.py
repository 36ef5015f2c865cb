"""What a one-epoch screen finds on a surrogate vs on its table (docs/surrogates.md, "Limits").

    python benchmarks/screen_seed_luck.py                                # lcbench/phoneme-v2
    python benchmarks/screen_seed_luck.py --task gbt/magic-v1 --n 3000
    python benchmarks/screen_seed_luck.py --surrogate-dir DIR            # a refit elsewhere

Screens ``--n`` configurations sampled from the space at the first fidelity step on the first
tuning seed (what one-epoch-top-k does), then prints, side by side: the best screened answer
against the best first-step run of the table (any configuration, any seed), the highest
predicted mean at that step (no seed noise: how far the mean alone extrapolates), the largest
predicted seed spread at the table's own configurations against the table's largest seed sd
there (on the fitted logit/log scale), and for the top 3
screened configurations their final objective on the test seeds — the score such a method
gets. On the table the same screen runs over its configurations.
"""

from __future__ import annotations

import argparse

import numpy as np

import hpobench
from hpobench.surrogate import SurrogateBenchmark


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="lcbench/phoneme-v2")
    p.add_argument("--n", type=int, default=3000, help="configurations screened")
    p.add_argument("--surrogate-dir", help="a surrogate folder (default: the shipped one)")
    args = p.parse_args()
    table = hpobench.make(args.task)
    sur = (
        SurrogateBenchmark.from_directory(args.surrogate_dir)
        if args.surrogate_dir
        else hpobench.make(args.task, backend="surrogate")
    )
    assert isinstance(sur, SurrogateBenchmark)
    obj, sign = table.objective, 1.0 if table.meta.direction == "maximize" else -1.0
    first, last = table.fidelity.values[0], table.fidelity.values[-1]
    tune, test = table.tuning_seeds[0], list(table.test_seeds)
    configs = sur.space.sample_many(np.random.default_rng(0), args.n)
    cols = {k: np.asarray([c[k] for c in configs]) for k in sur.space.names}
    screen = sign * sur.query_batch(cols, fidelity=first, seed=tune).metrics[obj]
    top = np.argsort(-screen, kind="stable")[:3]
    finals = [
        np.mean([sur.query(configs[i], fidelity=last, seed=s).metrics[obj] for s in test])
        for i in top
    ]
    tab = table.table  # type: ignore[attr-defined]
    runs = tab.metric(obj)  # [n, S, T]
    t_first = sign * runs[:, :, 0]
    t_screen = sign * runs[:, list(table.seeds).index(tune), 0]
    t_top = np.argsort(-t_screen, kind="stable")[:3]
    t_finals = [runs[i, [list(table.seeds).index(s) for s in test], -1].mean() for i in t_top]
    print(f"{args.task}: screen at {table.fidelity.name} {first} on seed {tune}, {obj}")
    print(f"{'':<46} {'surrogate':>10} {'table':>10}")
    print(f"{'configurations screened':<46} {args.n:>10} {tab.n_configs:>10}")
    print(
        f"{'best screened answer':<46} {sign * screen.max():>10.4f} {sign * t_screen.max():>10.4f}"
    )
    print(
        f"{'best first-step run of the table (any seed)':<46} {'':>10} {sign * t_first.max():>10.4f}"
    )
    net = sur.network
    d = net.distribution(net.hidden(sur.encoder.rows(sur.encoder.unit_many(cols, args.n))))
    k = net.metrics.index(obj)
    mean0 = d["mean"][:, 0, k]
    tr = net.transforms[k]
    mean0 = 1 / (1 + np.exp(-mean0)) if tr == "logit" else np.exp(mean0) if tr == "log" else mean0
    print(
        f"{'best predicted mean there (no seed noise)':<46} {sign * (sign * mean0).max():>10.4f} "
        f"{sign * (sign * runs[:, :, 0].mean(axis=1)).max():>10.4f}"
    )
    # the spread there, on the fitted scale, at the table's own configurations
    xt = sur.encoder.rows(sur.encoder.unit_many(tab.configs, tab.n_configs))
    sig_t = net.distribution(net.hidden(xt))["sigma"][:, 0, k]
    v = runs[:, :, 0].astype(np.float64)
    if tr == "logit":
        v = np.clip(v, 1e-4, 1 - 1e-4)
        v = np.log(v / (1 - v))
    elif tr == "log":
        v = np.log(np.maximum(v, 1e-12))
    print(
        f"{'largest seed sd there (fitted scale, table cfgs)':<46} {sig_t.max():>10.4f} "
        f"{v.std(axis=1).max():>10.4f}"
    )
    share = float(np.mean(screen > t_first.max()))
    print(f"{'screened answers beyond that run':<46} {100 * share:>9.2f}% {0.0:>9.2f}%")
    for k in range(3):
        print(
            f"{f'top {k + 1}: final {obj}, mean of test seeds':<46} {finals[k]:>10.4f} "
            f"{t_finals[k]:>10.4f}"
        )


if __name__ == "__main__":
    main()
