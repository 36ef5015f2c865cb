"""Surrogate inference speed: our numpy forward pass vs the same network in onnxruntime.

    python benchmarks/bench_surrogate.py                      # lcbench/phoneme-v1, one core
    python benchmarks/bench_surrogate.py --task fcnet/protein-v1 --batch 4096
    python benchmarks/bench_surrogate.py --harness            # + 2,000 trials, 4 workers
    python benchmarks/bench_surrogate.py --all                # single query, every surrogate

Side by side, in one run, ratio printed:

* **single query**: our public ``SurrogateBenchmark.query`` (validation, encoding, seed hash,
  forward pass, decoding, ``Result``) vs one ``InferenceSession.run`` of the same weights
  exported to ONNX (network only: no validation or decoding on that side, the route YAHPO Gym
  takes before its Python API adds 0.1–0.2 ms);
* **batched**: ``query_batch`` per configuration vs ``run`` on the same batch, per
  configuration;
* our raw forward pass (``CurveNetwork.hidden`` + all outputs) beside ONNX's, same work.

Both sides are pinned to one thread (``OMP/MKL/OPENBLAS_NUM_THREADS=1`` set before numpy
loads; onnxruntime ``intra_op_num_threads=1``). The median of many timed calls is reported.
Also printed: each shipped surrogate's CPU fit time (from its card) and, with ``--harness``,
a 2,000-trial 4-worker random search on the table and on the surrogate.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import hpobench  # noqa: E402
from hpobench.surrogate import SurrogateBenchmark, list_surrogates, surrogate_dir  # noqa: E402


def onnx_model(bench: SurrogateBenchmark) -> bytes:
    """The surrogate's network (hidden layers + every output) as an ONNX graph."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    net = bench.network
    inits, nodes = [], []
    cur = "x"
    for i, layer in enumerate(net.layers):
        kind = layer.kind
        W, b = net.arrays[f"{layer.name}.W"], net.arrays[f"{layer.name}.b"]
        inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [
            helper.make_node("MatMul", [cur, f"W{i}"], [f"m{i}"]),
            helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"]),
            helper.make_node("Relu", [f"a{i}"], [f"r{i}"]),
        ]
        if kind == "residual":
            W2, b2 = net.arrays[f"{layer.name}.W2"], net.arrays[f"{layer.name}.b2"]
            inits += [numpy_helper.from_array(W2, f"V{i}"), numpy_helper.from_array(b2, f"c{i}")]
            nodes += [
                helper.make_node("MatMul", [f"r{i}", f"V{i}"], [f"n{i}"]),
                helper.make_node("Add", [f"n{i}", f"c{i}"], [f"p{i}"]),
                helper.make_node("Add", [f"p{i}", cur], [f"q{i}"]),
                helper.make_node("Relu", [f"q{i}"], [f"h{i}"]),
            ]
            cur = f"h{i}"
        else:
            cur = f"r{i}"
    WT, b = net.WT, net.b
    if net.two_mode:  # the mode head: more outputs of the same last product, as ours
        WT = np.concatenate([WT, net.arrays["mode.WT"]], axis=0)
        b = np.concatenate([b, net.arrays["mode.b"]])
    inits += [
        numpy_helper.from_array(np.ascontiguousarray(WT.T), "Wout"),
        numpy_helper.from_array(np.ascontiguousarray(b), "bout"),
    ]
    nodes += [
        helper.make_node("MatMul", [cur, "Wout"], ["mo"]),
        helper.make_node("Add", ["mo", "bout"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "surrogate",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, net.n_inputs])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, net.n_outputs])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


_P10: dict[str, float] = {}  # 10th percentiles: the cost on a core not taken by others


def median_us(fn: Callable[[], Any], n: int, name: str = "") -> float:
    clock = time.perf_counter_ns
    for _ in range(min(200, n)):
        fn()
    out = []
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    if name:
        _P10[name] = statistics.quantiles(out, n=10)[0] / 1e3
    return statistics.median(out) / 1e3


def best_us(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    fn()
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        best = min(best, time.perf_counter_ns() - t0)
    return best / 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="lcbench/phoneme-v1")
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--n", type=int, default=5000, help="timed single queries")
    p.add_argument("--harness", action="store_true", help="also time 2,000 trials, 4 workers")
    p.add_argument("--all", action="store_true", help="single-query p10 of every shipped surrogate")
    args = p.parse_args()
    import onnxruntime as ort

    if args.all:
        every_surrogate(min(args.n, 2000))
        return

    bench = hpobench.make(args.task, backend="surrogate")
    assert isinstance(bench, SurrogateBenchmark)
    rng = np.random.default_rng(0)
    configs = bench.space.sample_many(rng, args.batch)
    f = bench.fidelity.max
    x_all = bench.encoder.rows(
        bench.encoder.unit_many(
            {k: [c[k] for c in configs] for k in bench.space.names}, len(configs)
        )
    ).astype(np.float32)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_model(bench), opts, providers=["CPUExecutionProvider"])
    # same numbers on both sides
    ours_out = bench.network.outputs(bench.network.hidden(x_all[:8]))
    onnx_out = sess.run(["y"], {"x": x_all[:8]})[0]
    np.testing.assert_allclose(ours_out, onnx_out, rtol=1e-4, atol=1e-4)

    # Cold single queries: every call a configuration never asked before (the surrogate keeps
    # the curves of recent (configuration, seed) pairs, so a repeated one would be a warm call).
    cfgs = bench.space.sample_many(np.random.default_rng(1), args.n + 200)
    it = iter(range(10**9))

    def ours_single() -> Any:
        return bench.query(cfgs[next(it)], fidelity=f, seed=0)

    it3 = iter(range(10**9))
    objective = bench.objective
    cfgs2 = bench.space.sample_many(np.random.default_rng(2), args.n + 200)

    def ours_curve() -> Any:  # what the harness asks per evaluation, cold
        return bench.query_curve(cfgs2[next(it3)], fidelity=f, seed=0, metric=objective)

    fvals = bench.fidelity.values
    it4 = iter(range(10**9))

    def ours_warm() -> Any:  # one configuration at its fidelities in turn (a resumed trial)
        return bench.query(configs[0], fidelity=fvals[next(it4) % len(fvals)], seed=0)

    x1 = [x_all[i : i + 1] for i in range(len(x_all))]
    it2 = iter(range(10**9))

    def onnx_single() -> Any:
        return sess.run(["y"], {"x": x1[next(it2) % len(x1)]})

    single_ours = median_us(ours_single, args.n, "ours")
    single_onnx = median_us(onnx_single, args.n, "onnx")
    curve_ours = median_us(ours_curve, args.n, "curve")
    warm_ours = median_us(ours_warm, args.n, "warm")
    net = bench.network

    def ours_raw_single() -> Any:
        return net.outputs(net.hidden(x1[0]))

    raw_single = median_us(ours_raw_single, args.n, "raw")
    cols = {k: np.asarray([c[k] for c in configs]) for k in bench.space.names}
    n = len(configs)
    batch_ours = best_us(lambda: bench.query_batch(cols, fidelity=f, seed=0), 10) / n
    batch_ours_lists = best_us(lambda: bench.query_batch(configs, fidelity=f, seed=0), 5) / n
    batch_onnx = best_us(lambda: sess.run(["y"], {"x": x_all}), 10) / n
    batch_raw = best_us(lambda: net.outputs(net.hidden(x_all)), 10) / n

    macs = sum(
        a.size for k, a in net.arrays.items() if k.endswith((".W", ".W2"))
    )  # hidden multiply-adds per configuration (what bounds a batch)
    print(
        f"task {args.task}: {net.n_inputs} inputs, {net.n_outputs} outputs, layers "
        f"{[la.kind for la in net.layers]}, width {net.width}, curve rank {net.R}, "
        f"{macs:,} hidden multiply-adds per config; one thread"
    )
    print(f"{'':<44} {'ours':>10} {'onnxruntime':>12} {'ratio':>7}")
    print(
        f"{'single query, public query() vs session.run':<44} {single_ours:>8.1f}µs "
        f"{single_onnx:>10.1f}µs {single_onnx / single_ours:>6.2f}x"
    )
    print(
        f"{'single, query_curve() (the harness asks this)':<44} {curve_ours:>8.1f}µs "
        f"{single_onnx:>10.1f}µs {single_onnx / curve_ours:>6.2f}x"
    )
    print(
        f"{'single, query() again, another fidelity':<44} {warm_ours:>8.1f}µs "
        f"{single_onnx:>10.1f}µs {single_onnx / warm_ours:>6.2f}x"
    )
    print(
        f"{'single, raw network (all outputs)':<44} {raw_single:>8.1f}µs "
        f"{single_onnx:>10.1f}µs {single_onnx / raw_single:>6.2f}x"
    )
    print(
        f"{f'batch of {n}, query_batch(columns) per config':<44} {batch_ours:>8.2f}µs "
        f"{batch_onnx:>10.2f}µs {batch_onnx / batch_ours:>6.2f}x"
    )
    print(
        f"{f'batch of {n}, query_batch(list of dicts)':<44} {batch_ours_lists:>8.2f}µs "
        f"{batch_onnx:>10.2f}µs {batch_onnx / batch_ours_lists:>6.2f}x"
    )
    print(
        f"{f'batch of {n}, raw network (all outputs)':<44} {batch_raw:>8.2f}µs "
        f"{batch_onnx:>10.2f}µs {batch_onnx / batch_raw:>6.2f}x"
    )
    print(
        f"{'single, 10th percentile (query / raw / onnx)':<44} {_P10['ours']:>8.1f}µs "
        f"{_P10['onnx']:>10.1f}µs {_P10['onnx'] / _P10['ours']:>6.2f}x   raw {_P10['raw']:.1f}µs"
    )
    print(
        f"{'single, 10th percentile (query_curve / warm)':<44} {_P10['curve']:>8.1f}µs "
        f"{_P10['onnx']:>10.1f}µs {_P10['onnx'] / _P10['curve']:>6.2f}x   warm {_P10['warm']:.1f}µs"
    )
    print("targets: single <= 30 µs through query(), batched <= 2 µs per config")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (medians suffer first)")

    print("\nfit time per task on CPU (from the cards: final fit / whole procedure with CV):")
    for sid in list_surrogates():
        card = json.loads((surrogate_dir(sid) / "card.json").read_text())
        print(
            f"  {sid:<34} {card['fit_seconds']:>7.1f} s  {card['total_seconds']:>7.1f} s  "
            f"({card['device']})"
        )

    if args.harness:
        harness(args.task, bench)


def _session(bench: SurrogateBenchmark) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_model(bench), opts, providers=["CPUExecutionProvider"])


def _single_p10(bench: SurrogateBenchmark, n: int) -> None:
    """``_P10["q"]``, ``_P10["o"]``: cold ``query`` and one-row ``session.run`` of ``bench``."""
    sess = _session(bench)
    cfgs = bench.space.sample_many(np.random.default_rng(1), n + 200)
    x = bench.encoder.rows(
        bench.encoder.unit_many({k: [c[k] for c in cfgs] for k in bench.space.names}, len(cfgs))
    ).astype(np.float32)
    rows = [x[i : i + 1] for i in range(len(x))]
    f, seed = bench.fidelity.max, bench.seeds[0]
    it, it2 = iter(range(10**9)), iter(range(10**9))
    cache = bench._cache  # emptied before each query: a grid space repeats its configurations

    def cold() -> Any:
        cache.clear()
        return bench.query(cfgs[next(it)], fidelity=f, seed=seed)

    median_us(cold, n, "q")
    median_us(lambda: sess.run(["y"], {"x": rows[next(it2) % len(rows)]}), n, "o")


def every_surrogate(n: int) -> None:
    """Cold single queries on every shipped surrogate, ours vs onnxruntime (10th percentiles).

    Also the size of the last layer (float32 KB; above the core's L2 cache it streams from L3
    on every cold query) and the seed model: what sets each network's floor.
    """
    print(
        f"{'surrogate':<34} {'seeds':>8} {'last KB':>8} {'query p10':>10} {'onnx p10':>9} "
        f"{'ratio':>6}  (µs, one thread, {n} cold queries each)"
    )
    ours_all, onnx_all = [], []
    for sid in list_surrogates():
        bench = hpobench.make(sid, backend="surrogate")
        assert isinstance(bench, SurrogateBenchmark)
        net = bench.network
        _single_p10(bench, n)
        last_kb = net._O.nbytes / 1024
        ours_all.append(_P10["q"])
        onnx_all.append(_P10["o"])
        print(
            f"{sid:<34} {'two-mode' if net.two_mode else 'gauss':>8} {last_kb:>8.0f} "
            f"{_P10['q']:>10.1f} {_P10['o']:>9.1f} {_P10['o'] / _P10['q']:>5.2f}x"
        )
    print(
        f"median over {len(ours_all)} surrogates: query p10 {statistics.median(ours_all):.1f} µs, "
        f"onnxruntime {statistics.median(onnx_all):.1f} µs; target <= 30 µs through query()"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def harness(task: str, sur: SurrogateBenchmark) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_harness import run_ours  # type: ignore[import-not-found]

    from hpobench.harness import load_optimizer

    table = hpobench.make(task)
    if hasattr(table, "off_table") and not table.space.is_discrete:
        table = hpobench.TabularBenchmark(table.table, off_table="nearest")  # type: ignore[attr-defined]
    methods = [("random search", "baselines/random_search.py")]
    if len(table.fidelity) > 1:  # resumed trials re-ask a configuration at higher fidelities
        methods.append(("ASHA", "baselines/asha.py"))
    for label, path in methods:
        factory = load_optimizer(path)
        t = run_ours(table, factory, 2000, 4, None)
        s = run_ours(sur, factory, 2000, 4, None)
        print(f"\nharness, {label}, 2,000 trials, 4 workers on {task}:")
        print(f"  table     {t['wall']:.3f} s (overhead {t['overhead']:.3f} s)")
        print(
            f"  surrogate {s['wall']:.3f} s (overhead {s['overhead']:.3f} s)  "
            f"ratio {s['wall'] / t['wall']:.2f}x"
        )


if __name__ == "__main__":
    main()
