"""Generation throughput per family, in one run: what a table costs on this machine's CPU.

For each ``FAMILY/TASK`` (default: one regression or classification task of each family), the
family's own train function trains the first ``--units`` units of the ``cpu`` variant's plan
exactly as a chunk of ``hpobench generate`` would (neural families: batched, with the chunk's
runtime calibration; tree and linear families: one fit at a time, which is how they train).
For the neural families, ``--alone`` of those units are also trained one at a time with the
reference trainer (:func:`hpobench.generate._reference.train_one`), so both modes are timed in
the same process on the same data. Times are CPU seconds (``process_time``) of one thread, so
other processes on a shared machine slow the figures less than wall time would (both are
printed, with the load average).

Prints, per family: unit-steps (configuration-epochs, boosting rounds, tree counts: one
fidelity step of one unit) per CPU second, CPU seconds per unit, and what a full ``cpu``
variant table (``n_configs × n_seeds`` units) and a full ``full`` variant table cost at that
rate on one core. No GPU figures: none is measured here.

Example::

    python benchmarks/bench_families.py                      # every family, about 5 CPU-minutes
    python benchmarks/bench_families.py gbt/magic --units 8
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

#: Units timed per family by default: one real ``cpu`` chunk (lcbench: half of one, its units
#: cost seconds each), so grouping and per-chunk costs are those of a real run.
DEFAULT_UNITS = {"gbt": 32, "forest": 100, "sgd-linear": 200, "fcnet-grid": 256, "lcbench": 16}
DEFAULT_ALONE = {"fcnet-grid": 32, "lcbench": 4}

DEFAULT_TASKS = (
    "gbt/concrete",
    "forest/concrete",
    "sgd-linear/concrete",
    "fcnet-grid/concrete",
    "lcbench/phoneme",
)


def _n_units(family: Any, variant: str) -> int | None:
    from hpobench import ConfigError

    try:
        v = family.variant(variant)
    except ConfigError:  # a family without that variant
        return None
    n = v.n_configs if v.n_configs is not None else v.space.grid_size()
    return int(n) * len(family.seeds)


def bench_task(task: str, n_units: int | None, n_alone: int | None) -> list[dict[str, Any]]:
    """Rows of figures for ``task``: the family's chunk path, and (neural) one at a time."""
    import torch

    from hpobench.generate import plan_run
    from hpobench.generate._families import TrainContext
    from hpobench.generate._reference import train_one
    from hpobench.generate.datasets import load_dataset

    torch.set_num_threads(1)
    plan = plan_run(task, variant="cpu")
    family = plan.family
    v = family.variant(plan.variant)
    data = load_dataset(plan.dataset, split_seed=family.split_seed, max_train_rows=v.max_train_rows)
    n_units = DEFAULT_UNITS.get(family.name, 32) if n_units is None else n_units
    n_alone = DEFAULT_ALONE.get(family.name, 0) if n_alone is None else n_alone
    units = plan.units(0, min(n_units, plan.n_units))
    n_steps = len(family.fidelity)
    ctx = TrainContext(
        family=family,
        variant=plan.variant,
        data=data,
        fidelity=family.fidelity,
        device="cpu",
        settings=dict(v.settings),
    )
    full_cpu, full_full = _n_units(family, "cpu"), _n_units(family, "full")
    rows = []
    wall, cpu = time.perf_counter(), time.process_time()
    family.train(ctx, units)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    mode = "batched chunk" if family.neural else "one fit at a time"
    rows.append(_row(task, mode, len(units), n_steps, wall, cpu, full_cpu, full_full))
    if family.neural:
        rows[-1]["gflop_s"] = _train_flops(v.settings["model"], units, data, n_steps) / cpu / 1e9
    if family.neural and n_alone > 0:
        model = str(v.settings["model"])
        alone = units[: min(n_alone, len(units))]
        wall, cpu = time.perf_counter(), time.process_time()
        for u in alone:
            train_one(model, u.config, u.seed, data, n_epochs=n_steps, device="cpu")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows.append(
            _row(task, "one at a time", len(alone), n_steps, wall, cpu, full_cpu, full_full)
        )
        rows[-1]["gflop_s"] = _train_flops(model, alone, data, n_steps) / cpu / 1e9
    return rows


def _train_flops(model: str, units: Any, data: Any, n_epochs: int) -> float:
    """Training FLOPs (forward + backward matrix products) of ``units``; evaluation excluded."""
    from hpobench.generate._models import model_spec, train_flops_per_sample

    d, c = data.n_features, data.n_outputs
    per_sample = [
        train_flops_per_sample(model_spec(model, u.config, n_features=d, n_outputs=c), d, c)
        for u in units
    ]
    return float(sum(per_sample)) * len(data.y_train) * n_epochs


def _row(
    task: str,
    mode: str,
    n: int,
    n_steps: int,
    wall: float,
    cpu: float,
    full_cpu: int | None,
    full_full: int | None,
) -> dict[str, Any]:
    per_unit = cpu / n
    return {
        "task": task,
        "mode": mode,
        "units": n,
        "steps": n_steps,
        "steps_per_cpu_s": n * n_steps / cpu,
        "cpu_s_per_unit": per_unit,
        "wall_s": wall,
        "cpu_table_h": None if full_cpu is None else full_cpu * per_unit / 3600,
        "full_table_h": None if full_full is None else full_full * per_unit / 3600,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", default=list(DEFAULT_TASKS))
    parser.add_argument("--units", type=int, default=None, help="units per task (default: a chunk)")
    parser.add_argument("--alone", type=int, default=None, help="neural: units trained alone")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{start}, load average {os.getloadavg()[0]:.2f}, one thread, CPU seconds")
    rows = [r for task in args.tasks for r in bench_task(task, args.units, args.alone)]
    head = (
        f"{'task':<22} {'mode':<18} {'units':>5} {'steps':>5} {'steps/cpu-s':>11} "
        f"{'cpu s/unit':>10} {'cpu table h':>11} {'full table h':>12} {'train GFLOP/s':>13}"
    )
    print(head)
    for r in rows:
        cpu_h = "-" if r["cpu_table_h"] is None else f"{r['cpu_table_h']:.2f}"
        full_h = "-" if r["full_table_h"] is None else f"{r['full_table_h']:,.1f}"
        gflops = f"{r['gflop_s']:.2f}" if "gflop_s" in r else "-"
        print(
            f"{r['task']:<22} {r['mode']:<18} {r['units']:>5} {r['steps']:>5} "
            f"{r['steps_per_cpu_s']:>11.1f} {r['cpu_s_per_unit']:>10.3f} {cpu_h:>11} {full_h:>12} "
            f"{gflops:>13}"
        )
    # The alone units are the first few of the batched ones, not the same mix of sizes, so
    # compare FLOP rates (work per CPU second), not unit rates.
    by_task: dict[str, dict[str, float]] = {}
    for r in rows:
        if "gflop_s" in r:
            by_task.setdefault(r["task"], {})[r["mode"]] = r["gflop_s"]
    for task, modes in by_task.items():
        if "batched chunk" in modes and "one at a time" in modes:
            ratio = modes["batched chunk"] / modes["one at a time"]
            print(f"{task}: training GFLOP/s batched / one at a time = {ratio:.1f}x")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
