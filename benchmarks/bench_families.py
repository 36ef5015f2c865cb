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

    python benchmarks/bench_families.py --units 64 --alone 8
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

DEFAULT_TASKS = (
    "gbt/concrete",
    "forest/concrete",
    "sgd-linear/concrete",
    "fcnet-grid/concrete",
    "lcbench/phoneme",
)


def _n_units(family: Any, variant: str) -> int | None:
    try:
        v = family.variant(variant)
    except Exception:  # noqa: BLE001 - a family without that variant
        return None
    n = v.n_configs if v.n_configs is not None else v.space.grid_size()
    return int(n) * len(family.seeds)


def bench_task(task: str, n_units: int, n_alone: int) -> list[dict[str, Any]]:
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
    return rows


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
    parser.add_argument("--units", type=int, default=64, help="units trained per task")
    parser.add_argument("--alone", type=int, default=8, help="neural: units trained alone")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{start}, load average {os.getloadavg()[0]:.2f}, one thread, CPU seconds")
    rows = [r for task in args.tasks for r in bench_task(task, args.units, args.alone)]
    head = (
        f"{'task':<22} {'mode':<18} {'units':>5} {'steps':>5} {'steps/cpu-s':>11} "
        f"{'cpu s/unit':>10} {'cpu table h':>11} {'full table h':>12}"
    )
    print(head)
    for r in rows:
        cpu_h = "-" if r["cpu_table_h"] is None else f"{r['cpu_table_h']:.2f}"
        full_h = "-" if r["full_table_h"] is None else f"{r['full_table_h']:,.1f}"
        print(
            f"{r['task']:<22} {r['mode']:<18} {r['units']:>5} {r['steps']:>5} "
            f"{r['steps_per_cpu_s']:>11.1f} {r['cpu_s_per_unit']:>10.3f} {cpu_h:>11} {full_h:>12}"
        )
    by_task: dict[str, dict[str, float]] = {}
    for r in rows:
        by_task.setdefault(r["task"], {})[r["mode"]] = r["steps_per_cpu_s"]
    for task, modes in by_task.items():
        if "batched chunk" in modes and "one at a time" in modes:
            ratio = modes["batched chunk"] / modes["one at a time"]
            print(f"{task}: batched / one at a time = {ratio:.1f}x (CPU seconds)")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
