"""Harness overhead: random search, N trials, W asynchronous workers, on an FCNet table.

    python benchmarks/bench_harness.py                 # 2,000 trials, 4 workers, + scaling, + syne-tune
    python benchmarks/bench_harness.py --no-syne-tune --scaling 1000,10000
    python benchmarks/bench_harness.py --profile       # cProfile of one run, top functions

What is timed: one ``run_study`` call (the simulator, the optimizer's calls, building the
in-memory trajectory) with the table already loaded; loading the table and serialising the
trajectory to parquet are timed separately. "overhead" is the run's wall time minus the wall time
spent inside the optimizer's ask/tell (measured by the harness itself), i.e. what the harness
adds per trial. The optimizer is ``baselines/random_search.py``.

syne-tune (optional; ``pip install syne-tune``): its simulator backend (``UserBlackboxBackend``
over a ``BlackboxTabular`` built from the same table, tuning seeds only, one fidelity step) with
its ``RandomSearch``, 4 workers, stopped after N finished trials, ``sleep_time=0`` and the
``SimulatorCallback`` - the setup of its own simulated-benchmark examples. It is skipped with a
message when it cannot be imported. Its ``huggingface_hub`` import (only for downloading
blackboxes) is stubbed when missing, since nothing is downloaded.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

import hpobench
from hpobench.harness import Protocol, Suite, load_optimizer, run_study

ROOT = Path(__file__).resolve().parents[1]


def protocol(n_trials: int, n_workers: int) -> Protocol:
    """Exactly ``n_trials`` evaluations: the time budget is made too large to bind."""
    return Protocol(
        name="bench-random-v1",
        suite=Suite(name="bench", patterns=("fcnet/protein-v1",)),
        n_workers=n_workers,
        n_repetitions=1,
        budget_base=float(n_trials),
        budget_per_sqrt_dim=0.0,
        time_factor=1e6,
        max_evaluations_factor=1.0,
        allow_resume=False,
    )


def run_ours(
    bench: Any, factory: Any, n: int, workers: int, timeout: float | None
) -> dict[str, float]:
    p = protocol(n, workers)
    t0 = time.perf_counter()
    traj = run_study(bench, factory, p, 0, call_timeout=timeout)
    wall = time.perf_counter() - t0
    assert traj.meta.n_evaluations == n, traj.meta.stop_reason
    t1 = time.perf_counter()
    traj.to_bytes()
    write = time.perf_counter() - t1
    opt = float(traj.timing["optimizer_wall_s"])
    return {"wall": wall, "optimizer": opt, "overhead": wall - opt, "write": write}


def run_syne_tune(bench: Any, n: int, workers: int) -> float | str:
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:  # only needed to download blackboxes; we build ours
        stub = types.ModuleType("huggingface_hub")
        stub.snapshot_download = None  # type: ignore[attr-defined]
        sys.modules["huggingface_hub"] = stub
    try:
        import logging

        import pandas as pd
        from syne_tune import StoppingCriterion, Tuner
        from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
        from syne_tune.blackbox_repository import UserBlackboxBackend
        from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
        from syne_tune.config_space import choice, randint
        from syne_tune.optimizer.baselines import RandomSearch
    except Exception as e:  # ImportError, or a broken install
        return f"skipped: syne-tune is not usable here ({type(e).__name__}: {e})"
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    t = bench.table
    hps = pd.DataFrame(dict(t.configs.items()))
    cs = {
        hp.name: choice(list(hp.values if hasattr(hp, "values") else hp.choices))
        for hp in bench.space
    }
    tuning = [t.seed_index(s) for s in t.meta.tuning_seeds]
    obj = np.stack(
        [t.metric(t.meta.objective)[:, tuning, :], t.metric("runtime")[:, tuning, :]], axis=-1
    )
    fmax = int(bench.fidelity.max)
    blackbox = BlackboxTabular(
        hyperparameters=hps,
        configuration_space=cs,
        fidelity_space={"epoch": randint(fmax, fmax)},
        objectives_evaluations=obj,
        fidelity_values=np.array([fmax]),
        objectives_names=[t.meta.objective, "runtime"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SYNETUNE_FOLDER"] = tmp
        backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr="runtime")
        scheduler = RandomSearch(cs, metrics=[t.meta.objective], do_minimize=True, random_seed=0)
        tuner = Tuner(
            trial_backend=backend,
            scheduler=scheduler,
            stop_criterion=StoppingCriterion(max_num_trials_finished=n),
            n_workers=workers,
            sleep_time=0,
            callbacks=[SimulatorCallback()],
            results_update_interval=1e9,
            print_update_interval=1e9,
            save_tuner=False,
        )
        out, err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = io.StringIO()  # it prints a status table per trial
        try:
            t0 = time.perf_counter()
            tuner.run()
            return time.perf_counter() - t0
        finally:
            sys.stdout, sys.stderr = out, err


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--benchmark", default="fcnet/protein-v1")
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of the main measurement")
    ap.add_argument("--scaling", default="1000,10000,100000", help="trial counts ('' to skip)")
    ap.add_argument("--no-syne-tune", action="store_true")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    bench = hpobench.make(args.benchmark)
    load = time.perf_counter() - t0
    factory = load_optimizer(str(ROOT / "baselines" / "random_search.py"))
    run_ours(bench, factory, 200, args.workers, 60.0)  # warm-up: caches, reference runtime
    print(f"{args.benchmark}: table loaded in {load:.3f} s (once per process, not counted below)")
    print(f"random search, {args.trials} trials, {args.workers} workers, {args.repeat} runs:")
    runs = [run_ours(bench, factory, args.trials, args.workers, 60.0) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["wall"])
    med = statistics.median(r["wall"] for r in runs)
    n = args.trials
    print(
        f"  hpobench   wall {best['wall']:.3f} s (median {med:.3f} s) = {best['wall'] / n * 1e6:.1f} us/trial; "
        f"optimizer {best['optimizer']:.3f} s, harness overhead {best['overhead']:.3f} s = "
        f"{best['overhead'] / n * 1e6:.1f} us/trial; parquet {best['write'] * 1e3:.1f} ms"
    )
    nowd = min(
        (run_ours(bench, factory, n, args.workers, None) for _ in range(args.repeat)),
        key=lambda r: r["wall"],
    )
    print(
        f"  (no wall-clock limit per call: wall {nowd['wall']:.3f} s, overhead {nowd['overhead'] / n * 1e6:.1f} us/trial)"
    )

    if not args.no_syne_tune:
        st = run_syne_tune(bench, n, args.workers)
        if isinstance(st, str):
            print(f"  syne-tune  {st}")
        else:
            print(
                f"  syne-tune  wall {st:.3f} s = {st / n * 1e6:.1f} us/trial; "
                f"ratio syne-tune / hpobench = {st / best['wall']:.0f}x"
            )

    if args.scaling:
        print("scaling (one run each):")
        for m in (int(x) for x in args.scaling.split(",")):
            r = run_ours(bench, factory, m, args.workers, 60.0)
            print(
                f"  {m:>7} trials: wall {r['wall']:.3f} s = {r['wall'] / m * 1e6:.1f} us/trial, "
                f"overhead {r['overhead'] / m * 1e6:.1f} us/trial, parquet {r['write'] * 1e3:.0f} ms"
            )

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run_ours(bench, factory, n, args.workers, 60.0)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
