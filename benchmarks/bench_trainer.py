"""Throughput of batched vs one-at-a-time training of FCNet configurations.

Samples ``--configs`` configurations uniformly from the FCNet grid (Klein & Hutter 2019), trains
them all with :func:`train_batch` and ``--alone`` of them (``0``: all of them, the default, so
the two sides time exactly the same workload) one at a time with :func:`train_one`, on the same
device and synthetic regression data shaped like the FCNet ``parkinsons`` task (``--rows`` rows
split 60/20/20, ``--features`` features). Both timings include the per-epoch evaluation on all
three splits, which both trainers do. ``--repeats`` rounds (batched, then alone) run in one
process; each round gives a ratio of configuration-epochs per second, and the minimum, median
and maximum over the rounds are printed with the load average, so that a figure quoted from
this script carries its spread. Also prints the largest relative difference between the batched
and the alone curves.

A random subset of a few configurations alone (``--alone 16``) is cheaper but not a stable
denominator: configurations differ several-fold in cost (batch size 32 vs 64, widths 16 vs 64),
so which 16 are drawn moves the ratio by ±20 % (8.2×–12.9× were once read for the same command).

Example::

    python benchmarks/bench_trainer.py --sampling cpu-subgrid --configs 512 --epochs 2 \
        --rows 1667 --threads 1 --repeats 3
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from typing import Any

import numpy as np

GRID: dict[str, list[Any]] = {
    "n_units_1": [16, 32, 64, 128, 256, 512],
    "n_units_2": [16, 32, 64, 128, 256, 512],
    "dropout_1": [0.0, 0.3, 0.6],
    "dropout_2": [0.0, 0.3, 0.6],
    "activation_fn_1": ["relu", "tanh"],
    "activation_fn_2": ["relu", "tanh"],
    "init_lr": [5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1],
    "lr_schedule": ["cosine", "const"],
    "batch_size": [8, 16, 32, 64],
}


def sample_configs(
    n: int, rng: np.random.Generator, sampling: str = "random"
) -> list[dict[str, Any]]:
    """``n`` distinct grid configurations.

    ``random``: drawn uniformly from the whole grid (many shapes, few configurations per shape:
    the hardest case for batching). ``shard``: ``n`` consecutive configurations of the grid in
    product order (widths vary slowest) from a random offset, as one shard of a full-grid
    generation job sees them (few shapes, many configurations per shape). ``cpu-subgrid``: drawn
    uniformly from the sub-grid of the shipped ``fcnet-grid`` CPU tables (the family's ``cpu``
    variant: widths {16, 64}, batch sizes {32, 64}), i.e. the workload those tables really were.
    """
    if sampling == "cpu-subgrid":
        from hpobench.generate import get_family

        space = get_family("fcnet-grid").variant("cpu").space
        sub = list(space.grid())
        picks = rng.choice(len(sub), size=min(n, len(sub)), replace=False)
        return [{k: sub[int(i)][k] for k in GRID} for i in picks]
    grid = list(itertools.product(*GRID.values()))
    if sampling == "shard":
        start = int(rng.integers(0, len(grid) - n + 1))
        picks = np.arange(start, start + n)
    else:
        picks = rng.choice(len(grid), size=n, replace=False)
    return [dict(zip(GRID, grid[int(i)], strict=True)) for i in picks]


def synthetic_regression(n_rows: int, n_features: int, rng: np.random.Generator) -> Any:
    """A smooth nonlinear target with noise, standardized on the train split."""
    from hpobench.generate._trainer import TrainData

    X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
    w1 = rng.normal(size=(n_features, 8)) / np.sqrt(n_features)
    y = np.tanh(X @ w1).sum(axis=1) + 0.3 * rng.normal(size=n_rows)
    n_train, n_valid = int(0.6 * n_rows), int(0.2 * n_rows)
    y = (y - y[:n_train].mean()) / y[:n_train].std()
    y = y.astype(np.float32)
    a, b = n_train, n_train + n_valid
    return TrainData(
        X_train=X[:a], y_train=y[:a], X_valid=X[a:b], y_valid=y[a:b], X_test=X[b:],
        y_test=y[b:], task_type="regression",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=128, help="configurations trained batched")
    parser.add_argument(
        "--alone", type=int, default=0, help="of those, how many trained alone (0: all)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="rounds timed in this run")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--sampling", choices=("random", "shard", "cpu-subgrid"), default="random")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    from hpobench.generate._curves import resolve_device
    from hpobench.generate._trainer import train_batch, train_one

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    data = synthetic_regression(args.rows, args.features, rng)
    configs = sample_configs(args.configs, rng, args.sampling)
    seeds = [int(s) for s in rng.integers(0, 2**31, size=len(configs))]
    device = str(resolve_device(args.device))
    n_alone = len(configs) if args.alone <= 0 else min(args.alone, len(configs))
    print(
        f"device={device} threads={torch.get_num_threads()} torch={torch.__version__} "
        f"rows={args.rows} (train {data.X_train.shape[0]}) features={args.features} "
        f"configs={len(configs)} ({args.sampling}) alone={n_alone} epochs={args.epochs}"
    )
    train_one("fcnet", configs[0], 0, data, n_epochs=1, device=device)  # warm up kernels
    print(
        f"load average at start: {os.getloadavg()[0]:.2f}   ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})"
    )

    n_batched, n_alone_epochs = len(configs) * args.epochs, n_alone * args.epochs
    rounds: list[tuple[float, float, float, float]] = []  # wall/cpu seconds batched, alone
    batched: list[Any] = []
    alone: list[Any] = []
    for r in range(max(1, args.repeats)):
        start, cpu = time.perf_counter(), time.process_time()
        batched = train_batch("fcnet", configs, seeds, data, n_epochs=args.epochs, device=device)
        t_batched, c_batched = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        alone = [
            train_one("fcnet", configs[i], seeds[i], data, n_epochs=args.epochs, device=device)
            for i in range(n_alone)
        ]
        t_alone, c_alone = time.perf_counter() - start, time.process_time() - cpu
        rounds.append((t_batched, c_batched, t_alone, c_alone))
        print(
            f"round {r + 1}: batched {n_batched / t_batched:8.2f} config-epochs/s wall "
            f"({n_batched / c_batched:.2f} cpu), one at a time {n_alone_epochs / t_alone:7.2f} "
            f"({n_alone_epochs / c_alone:.2f} cpu): {t_alone / n_alone_epochs / (t_batched / n_batched):.2f}x wall"
        )
    groups = {tuple(r.group_runtime.tolist()) for r in batched}
    shapes = sorted({(c["n_units_1"], c["n_units_2"]) for c in configs})
    shown = ", ".join(f"{a}x{b}" for a, b in shapes[:6]) + (" ..." if len(shapes) > 6 else "")
    print(
        f"batched: {len(configs)} configs, {len(shapes)} width pairs ({shown}), {len(groups)} groups"
    )
    worst = []
    for a, b in zip(alone, batched, strict=False):
        rel = [0.0]
        for name, ref in a.metrics.items():
            ok = np.isfinite(ref)
            if ok.any():
                diff = np.abs(b.metrics[name][ok] - ref[ok]) / np.maximum(np.abs(ref[ok]), 1e-12)
                rel.append(float(diff.max()))
        worst.append(max(rel))
    t = np.array(rounds)
    wall = (t[:, 2] / n_alone_epochs) / (t[:, 0] / n_batched)
    cpu_ratio = (t[:, 3] / n_alone_epochs) / (t[:, 1] / n_batched)
    print("config-epochs per second (median over rounds)   wall      cpu (process time)")
    print(
        f"  batched          {np.median(n_batched / t[:, 0]):8.2f} {np.median(n_batched / t[:, 1]):8.2f}"
    )
    print(
        f"  one at a time    {np.median(n_alone_epochs / t[:, 2]):8.2f} {np.median(n_alone_epochs / t[:, 3]):8.2f}"
    )
    print(
        f"speedup over {len(rounds)} rounds (min / median / max): wall {wall.min():.1f}x / "
        f"{np.median(wall):.1f}x / {wall.max():.1f}x, cpu {cpu_ratio.min():.1f}x / "
        f"{np.median(cpu_ratio):.1f}x / {cpu_ratio.max():.1f}x"
    )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    w = np.array(worst)
    print(
        f"batched vs alone, max relative difference per config over all metrics and epochs: "
        f"median {np.median(w):.1e}, max {w.max():.1e}, {np.mean(w <= 1e-4):.0%} within 1e-4"
    )


if __name__ == "__main__":
    main()
