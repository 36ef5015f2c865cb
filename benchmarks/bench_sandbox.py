"""Sandboxed against in-process runs: random search, N trials, W workers, on an FCNet table.

    python benchmarks/bench_sandbox.py                 # 5,000 trials, 1 and 4 workers
    python benchmarks/bench_sandbox.py --trials 5000 --workers 4

What is timed: one ``run_study`` call per mode with the table already loaded (best of
``--repeats``). In-process, ``baselines/random_search.py`` is loaded into this process;
sandboxed, :func:`hpobench.harness.sandboxed_factory` runs it in its own process and every
``ask``/``tell`` is a JSON round trip over a pipe. The sandboxed run's wall time includes
starting that process (a fresh interpreter that imports hpobench and the optimizer and confines
itself); that startup is measured by the factory and reported on its own, once per run. The
per-trial costs are slopes between a 20-trial and an N-trial run of the same mode, so the
process startup cancels out; "overhead" is the sandboxed slope minus the in-process one, in wall
time and in CPU time (this process plus the reaped child: on a loaded machine the wall figure
includes waiting to be scheduled, the CPU figure does not). Both modes are checked to give the
same trajectory bytes.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import hpobench
from hpobench.harness import Protocol, Suite, load_optimizer, run_study
from hpobench.harness._sandbox import sandboxed_factory

ROOT = Path(__file__).resolve().parents[1]
SHORT = 20


def protocol(n_trials: int, n_workers: int) -> Protocol:
    """Exactly ``n_trials`` evaluations: the time budget is made too large to bind."""
    return Protocol(
        name="bench-sandbox-v1",
        suite=Suite(name="bench", patterns=("fcnet/protein-v1",)),
        n_workers=n_workers,
        n_repetitions=1,
        budget_base=float(n_trials),
        budget_per_sqrt_dim=0.0,
        time_factor=1e6,
        max_evaluations_factor=1.0,
        allow_resume=False,
    )


def measure(
    bench: object, factory: object, n: int, workers: int, boxed: bool
) -> tuple[float, float, bytes]:
    """Wall and CPU seconds (this process + reaped children) of one run, and its bytes."""
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p0, t0 = time.process_time(), time.perf_counter()
    traj = run_study(bench, factory, protocol(n, workers), 0,  # type: ignore[arg-type]
                     call_timeout=None if boxed else 60.0)  # fmt: skip
    if boxed:
        factory.close()  # type: ignore[attr-defined]
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - p0 + (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    assert traj.meta.n_evaluations == n, traj.meta.stop_reason
    return wall, cpu, traj.to_bytes(include_timing=False)


def slope(
    rows: dict[tuple[bool, int], list[tuple[float, float]]], box: bool, i: int, n: int, n0: int
) -> float:
    """Microseconds per trial between the best ``n0``- and ``n``-trial runs (wall: 0, CPU: 1)."""
    hi = min(r[i] for r in rows[(box, n)])
    lo = min(r[i] for r in rows[(box, n0)])
    return (hi - lo) / (n - n0) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--trials", type=int, default=5000)
    ap.add_argument("--workers", default="1,4", help="comma-separated worker counts")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--benchmark", default="fcnet/protein-v1")
    args = ap.parse_args()
    spec = str(ROOT / "baselines" / "random_search.py")
    bench = hpobench.make(args.benchmark)
    inproc = load_optimizer(spec)
    t0 = time.perf_counter()
    boxed = sandboxed_factory(spec, call_timeout=60.0)
    probe = time.perf_counter() - t0
    n, n0 = args.trials, SHORT
    print(f"{args.benchmark}, random search, {n} trials, best of {args.repeats}; per-trial costs "
          f"are slopes between {n0}- and {n}-trial runs (process startup cancels out)")  # fmt: skip
    print(f"checking the optimizer once in a probe process: {probe:.2f} s wall")
    print(f"{'workers':>7} {'wall: in-process':>16} {'sandboxed':>10} {'overhead':>10} {'ratio':>6}"
          f" {'CPU: in-process':>16} {'sandboxed':>10} {'overhead':>10} {'startup':>8}  same bytes")  # fmt: skip
    for w in (int(x) for x in args.workers.split(",")):
        rows: dict[tuple[bool, int], list[tuple[float, float]]] = {}
        same = True
        startups = []
        for _ in range(args.repeats):
            for size in (n0, n):
                wa, ca, ba = measure(bench, inproc, size, w, False)
                wb, cb, bb = measure(bench, boxed, size, w, True)
                startups.append(boxed.startup_s)
                rows.setdefault((False, size), []).append((wa, ca))
                rows.setdefault((True, size), []).append((wb, cb))
                same &= ba == bb
        w_in, w_box = slope(rows, False, 0, n, n0), slope(rows, True, 0, n, n0)
        c_in, c_box = slope(rows, False, 1, n, n0), slope(rows, True, 1, n, n0)
        print(
            f"{w:>7} {w_in:>13.1f} µs {w_box:>7.1f} µs {w_box - w_in:>7.1f} µs {w_box / w_in:>5.1f}×"
            f" {c_in:>13.1f} µs {c_box:>7.1f} µs {c_box - c_in:>7.1f} µs"
            f" {statistics.median(startups):>6.2f} s  {same}"
        )
    print("per trial; CPU = this process + the sandboxed child (reaped), so it excludes waiting")
    print(f"sandbox level: {boxed.sandbox_level}; startup = the median seconds from starting the "
          "process to the optimizer built, once per run")  # fmt: skip


if __name__ == "__main__":
    main()
