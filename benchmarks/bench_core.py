"""Query latency, batched throughput and load time of a tabular benchmark, side by side.

On the FCNet protein table (62,208 configurations × 4 seeds), in one run:

(a) single-query latency: the median over ``--n-single`` random valid configurations (fixed
    seed) of ``TabularBenchmark.query``, of a pandas boolean-mask lookup on the long-format
    table (``df[(df.a == x) & (df.b == y) & ...]``, how automl/HPOBench's tabular benchmarks look
    values up) and of syne-tune's ``BlackboxTabular.objective_function`` built from the same
    arrays. Every query is timed on its own (``perf_counter_ns``, timer overhead included and
    printed); the mean of an untimed loop is printed too.
(b) batched throughput in lookups/s: ``query_ids`` (rows, seeds, fidelities as arrays) and
    ``query_batch`` with configuration columns, against a pandas ``merge`` of the same queries.
(c) load time: ``hpobench.make`` with the registry cache cleared (checksum, schema checks,
    dense arrays, index), against ``pandas.read_parquet`` of the same file; the median of
    ``--repeats`` runs with the OS file cache warm.

All three answer the same values; the script checks that on a sample before timing.
syne-tune is optional (``pip install syne-tune huggingface_hub``); without it its column
says "skipped".

Example::

    python benchmarks/bench_core.py                 # the figures quoted in the README
    python benchmarks/bench_core.py --profile       # cProfile of 100k single queries
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import hpobench
from hpobench import TabularBenchmark, registry

TARGET_SINGLE_US = 5.0
TARGET_SYNE_RATIO = 100.0
TARGET_BATCH_PER_S = 1e7
TARGET_LOAD_S = 0.5


# -- timing helpers --------------------------------------------------------------------------
def median_ns(fn: Callable[[Any], Any], args: list[Any]) -> float:
    """Median over ``args`` of one timed call each (nanoseconds, timer overhead included)."""
    clock = time.perf_counter_ns
    out = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for a in args:
            t0 = clock()
            fn(a)
            out.append(clock() - t0)
    finally:
        if gc_was:
            gc.enable()
    return float(statistics.median(out))


def loop_mean_ns(fn: Callable[[Any], Any], args: list[Any], repeats: int = 3) -> float:
    """Best over ``repeats`` of an untimed loop over ``args``, per call (nanoseconds)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for a in args:
            fn(a)
        best = min(best, (time.perf_counter_ns() - t0) / len(args))
    return best


def timer_overhead_ns(n: int = 20000) -> float:
    clock = time.perf_counter_ns
    out = []
    for _ in range(n):
        t0 = clock()
        out.append(clock() - t0)
    return float(statistics.median(out))


def best_seconds(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return float(statistics.median(out))


# -- the three contenders --------------------------------------------------------------------
def long_frame(bench: TabularBenchmark) -> pd.DataFrame:
    """The table in long format: one row per (configuration, seed, fidelity step)."""
    t = bench.table
    n, s, f = t.n_configs, t.n_seeds, t.n_steps
    cols: dict[str, Any] = {k: np.repeat(v, s * f) for k, v in t.configs.items()}
    cols["seed"] = np.tile(np.repeat(np.asarray(bench.seeds), f), n)
    cols[bench.fidelity.name] = np.tile(np.asarray(bench.fidelity.values), n * s)
    for k, m in enumerate(t.metric_names):
        cols[m] = t.data[..., k].reshape(-1)
    return pd.DataFrame(cols)


def pandas_query(
    df: pd.DataFrame, names: tuple[str, ...], fid_name: str
) -> Callable[[tuple[dict[str, Any], int, Any]], dict[str, float]]:
    metrics = [c for c in df.columns if c not in (*names, "seed", fid_name)]

    def query(q: tuple[dict[str, Any], int, Any]) -> dict[str, float]:
        config, seed, fidelity = q
        mask = (df["seed"] == seed) & (df[fid_name] == fidelity)
        for n in names:
            mask &= df[n] == config[n]
        row = df[mask]
        return {m: float(row[m].iloc[0]) for m in metrics}

    return query


def build_syne_tune(bench: TabularBenchmark) -> Any | None:
    try:
        from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
        from syne_tune.config_space import choice, randint
    except Exception as e:  # ImportError, or a missing optional dependency of syne-tune
        print(f"syne-tune unavailable ({type(e).__name__}: {e}); its column is skipped.")
        return None
    t = bench.table
    hps = pd.DataFrame({k: v for k, v in t.configs.items()})
    space = {hp.name: choice(list(hp.grid())) for hp in bench.space}
    fmax = int(bench.fidelity.max)
    return BlackboxTabular(
        hyperparameters=hps,
        configuration_space=space,
        fidelity_space={bench.fidelity.name: randint(1, fmax)},
        objectives_evaluations=np.asarray(t.data),
        fidelity_values=np.asarray(bench.fidelity.values),
        objectives_names=list(t.metric_names),
    )


# -- the run ---------------------------------------------------------------------------------
def fmt_us(ns: float | None) -> str:
    return "skipped" if ns is None else f"{ns / 1e3:,.2f} µs"


def fmt_rate(r: float | None) -> str:
    return "skipped" if r is None else f"{r:,.3g}/s"


def fmt_s(s: float | None) -> str:
    return "skipped" if s is None else f"{s:.3f} s"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return ""
    return f"{a / b:,.0f}×" if a / b >= 10 else f"{a / b:.2f}×"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--id", default="fcnet/protein-v1", help="benchmark id (default: %(default)s)")
    p.add_argument(
        "--n-single", type=int, default=10_000, help="single queries for ours and syne-tune"
    )
    p.add_argument(
        "--n-pandas", type=int, default=200, help="single queries for the pandas mask (~50 ms each)"
    )
    p.add_argument("--n-batch", type=int, default=1_000_000, help="queries per batched call")
    p.add_argument("--repeats", type=int, default=5, help="repeats of batched calls and loads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", action="store_true", help="cProfile 100k single queries and exit")
    args = p.parse_args(argv)

    bench = hpobench.make(args.id)
    assert isinstance(bench, TabularBenchmark)
    path = Path(str(registry.spec(args.id).path)) / "table.parquet"
    rng = np.random.default_rng(args.seed)
    fid = bench.fidelity.max
    configs = bench.space.sample_many(rng, args.n_single)
    seeds = rng.choice(np.asarray(bench.seeds), size=args.n_single).tolist()
    queries = [(c, s, fid) for c, s in zip(configs, seeds, strict=True)]

    def ours(q: tuple[dict[str, Any], int, Any]) -> Any:
        return bench.query(q[0], fidelity=q[2], seed=q[1])

    if args.profile:
        prof = cProfile.Profile()
        many = queries * max(1, 100_000 // len(queries))
        prof.enable()
        for q in many:
            ours(q)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
        print(buf.getvalue())
        return

    print(
        f"hpobench {hpobench.__version__}, numpy {np.__version__}, pandas {pd.__version__}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (timings are wall-clock)"
    )
    print(
        f"{args.id}: {bench.table.n_configs:,} configs × {len(bench.seeds)} seeds × "
        f"{len(bench.fidelity)} steps, {len(bench.metrics)} metrics; index: {bench.index.kind}"
    )

    # -- equal answers before any timing --------------------------------------------------------
    df = long_frame(bench)
    pq_ = pandas_query(df, bench.space.names, bench.fidelity.name)
    syne = build_syne_tune(bench)
    for q in queries[:20]:
        want = ours(q).metrics
        got = pq_(q)
        assert all(np.float32(got[m]) == np.float32(want[m]) for m in want), (got, want)
        if syne is not None:
            st = syne.objective_function(q[0], fidelity={bench.fidelity.name: q[2]}, seed=q[1])
            assert all(np.float32(st[m]) == np.float32(want[m]) for m in want), (st, want)

    # -- (a) single-query latency ------------------------------------------------------------------
    overhead = timer_overhead_ns()
    ours_med = median_ns(ours, queries)
    ours_loop = loop_mean_ns(ours, queries)
    pandas_qs = queries[: args.n_pandas]
    pandas_med = median_ns(pq_, pandas_qs)
    syne_med = syne_loop = None
    if syne is not None:
        fname = bench.fidelity.name

        def syne_q(q: tuple[dict[str, Any], int, Any]) -> Any:
            return syne.objective_function(q[0], fidelity={fname: q[2]}, seed=q[1])

        syne_med = median_ns(syne_q, queries)
        syne_loop = loop_mean_ns(syne_q, queries[: min(2000, len(queries))], repeats=1)

    # -- (b) batched throughput --------------------------------------------------------------------
    n = args.n_batch
    ids = rng.integers(bench.table.n_configs, size=n)
    bseeds = rng.choice(np.asarray(bench.seeds), size=n)
    bfid = np.full(n, fid)
    ids_s = best_seconds(lambda: bench.query_ids(ids, fidelity=bfid, seed=bseeds), args.repeats)
    columns = {k: np.asarray(v)[ids] for k, v in bench.table.configs.items()}
    columns = {k: (v.astype(str) if v.dtype == object else v) for k, v in columns.items()}
    cols_s = best_seconds(
        lambda: bench.query_batch(columns, fidelity=fid, seed=bseeds), max(1, args.repeats // 2)
    )
    check = bench.query_batch(columns, fidelity=fid, seed=bseeds)
    assert np.array_equal(check.config_ids, ids)
    qframe = pd.DataFrame({**columns, "seed": bseeds, bench.fidelity.name: bfid})
    keys = [*bench.space.names, "seed", bench.fidelity.name]
    merge_s = best_seconds(lambda: qframe.merge(df, on=keys, how="left"), 1)

    # -- (c) load time -----------------------------------------------------------------------------
    def cold_make() -> Any:
        registry._manifest_specs.cache_clear()
        registry._load_table.cache_clear()
        return hpobench.make(args.id)

    load_s = median_seconds(cold_make, args.repeats)
    pandas_load_s = median_seconds(lambda: pd.read_parquet(path), args.repeats)
    syne_build_s = None
    if syne is not None:
        syne_build_s = median_seconds(lambda: build_syne_tune(bench), max(1, args.repeats // 2))

    # -- report ------------------------------------------------------------------------------------
    rows = [
        (
            "(a) single query, median",
            fmt_us(ours_med),
            fmt_us(pandas_med),
            fmt_us(syne_med),
            ratio(pandas_med, ours_med),
            ratio(syne_med, ours_med),
        ),
        (
            "    untimed loop, mean",
            fmt_us(ours_loop),
            "",
            fmt_us(syne_loop),
            "",
            ratio(syne_loop, ours_loop),
        ),
        (
            "    queries timed",
            f"{len(queries):,}",
            f"{len(pandas_qs):,}",
            f"{len(queries):,}" if syne is not None else "skipped",
            "",
            "",
        ),
        (
            "(b) batch: query_ids",
            fmt_rate(n / ids_s),
            fmt_rate(n / merge_s) + " (merge)",
            "no batch API",
            ratio(merge_s, ids_s),
            "",
        ),
        ("    batch: query_batch(cols)", fmt_rate(n / cols_s), "", "", ratio(merge_s, cols_s), ""),
        (
            "(c) load, cold make()",
            fmt_s(load_s),
            fmt_s(pandas_load_s) + " (read_parquet)",
            fmt_s(syne_build_s) + " (build)" if syne is not None else "skipped",
            f"{pandas_load_s / load_s:.2f}×",
            "",
        ),
    ]
    header = ("", "hpobench", "pandas", "syne-tune", "pandas/ours", "syne/ours")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(
        f"timer overhead per timed call (included above): {overhead:.0f} ns; "
        f"batched calls: {n:,} lookups each"
    )

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print("targets (issue 2):")
    print(f"  single ≤ {TARGET_SINGLE_US} µs median: {verdict(ours_med <= TARGET_SINGLE_US * 1e3)}")
    if syne_med is not None:
        print(
            f"  ≥ {TARGET_SYNE_RATIO:.0f}× syne-tune: {verdict(syne_med / ours_med >= TARGET_SYNE_RATIO)} "
            f"({syne_med / ours_med:.0f}×)"
        )
    print(
        f"  batched ≥ {TARGET_BATCH_PER_S:.0e}/s (query_ids): {verdict(n / ids_s >= TARGET_BATCH_PER_S)}"
    )
    print(f"  load ≤ {TARGET_LOAD_S} s: {verdict(load_s <= TARGET_LOAD_S)}")


if __name__ == "__main__":
    main()
