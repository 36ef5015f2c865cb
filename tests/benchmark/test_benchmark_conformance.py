"""Conformance: every registered benchmark loads, is self-consistent and answers every fidelity.

Parametrized over ``hpobench.list_benchmarks()`` at collection time, so a new table in the
manifest is checked without touching this file (like Gymnasium's checks over every env spec).
"""

from __future__ import annotations

import numpy as np
import pytest

import hpobench
from hpobench import Benchmark, Result, SearchSpace, TabularBenchmark, spec

IDS = hpobench.list_benchmarks()


def test_the_shipped_suite_is_registered() -> None:
    assert len([i for i in IDS if i.startswith("fcnet/")]) == 4
    assert len([i for i in IDS if i.startswith("hpobench-nn/")]) == 8


@pytest.fixture(scope="module", params=IDS)
def bench(request: pytest.FixtureRequest) -> Benchmark:
    return hpobench.make(request.param)


def test_meta_is_consistent(bench: Benchmark) -> None:
    s = spec(bench.id)
    meta = bench.meta
    assert meta.id == bench.id and isinstance(bench, Benchmark)
    assert bench.objective in bench.metrics and bench.reported_metric in bench.metrics
    assert meta.runtime_metric in bench.metrics
    assert bench.direction in ("minimize", "maximize")
    assert len(set(bench.seeds)) == len(bench.seeds)
    assert bench.tuning_seeds and set(bench.tuning_seeds) <= set(bench.seeds)
    assert set(bench.test_seeds) <= set(bench.seeds)
    assert not set(bench.tuning_seeds) & set(bench.test_seeds)
    # the optimizer never tunes on a test-split metric
    assert bench.metrics[bench.objective].split != "test"
    # the unit of the time budget is recorded in meta.json, and agrees with the data
    assert meta.reference_runtime is not None and bench.reference_runtime == meta.reference_runtime
    assert bench.backend.kind in ("table", "surrogate") and len(bench.backend.sha256) == 64
    if isinstance(bench, TabularBenchmark):
        tuning = [bench.seeds.index(s) for s in bench.tuning_seeds]
        runtime = bench.table.metric(meta.runtime_metric)[:, tuning, -1].astype(np.float64)
        assert meta.reference_runtime == float(np.nanmedian(runtime))
        assert bench.backend.sha256 == meta.sha256
    assert meta.citation and meta.licence and meta.description
    assert len(meta.sha256) == 64
    assert SearchSpace.from_json(bench.space.to_json()) == bench.space
    if isinstance(bench, TabularBenchmark):
        t = bench.table
        assert (s.n_configs, s.n_seeds, s.n_steps) == (t.n_configs, t.n_seeds, t.n_steps)
        assert t.n_configs == meta.n_configs
        runtime = t.metric(meta.runtime_metric)
        assert np.all(np.isfinite(runtime)) and np.all(runtime >= 0)
        assert np.all(np.diff(runtime, axis=2) >= 0)  # cumulative seconds


def test_sampled_config_answers_every_fidelity_and_seed(bench: Benchmark) -> None:
    rng = np.random.default_rng(0)
    config = bench.space.sample(rng)
    assert bench.space.validate(config) == config
    x = bench.space.encode(config)
    assert np.all((x >= 0) & (x <= 1)) and bench.space.decode(x) == config
    for seed in bench.seeds:
        previous = -np.inf
        for f in bench.fidelity.values:
            r = bench.query(config, fidelity=f, seed=seed)
            assert isinstance(r, Result)
            assert r.fidelity == f and r.seed == seed
            assert set(r.metrics) == set(bench.metrics)
            assert r.cost == r.metrics[bench.meta.runtime_metric] >= previous
            previous = r.cost
            assert r.fidelities == bench.fidelity.values[: bench.fidelity.index(f) + 1]
            assert [r.curve[m][-1] for m in r.metric_names] == [
                np.float32(r.metrics[m]) for m in r.metric_names
            ]
            assert r == bench.query(config, fidelity=f, seed=seed)  # deterministic


def test_batch_agrees_with_single_queries(bench: Benchmark) -> None:
    # Sampled-configuration tables answer space samples through the nearest stored config
    # (as the harness does); both paths must snap identically.
    configs = bench.space.sample_many(np.random.default_rng(1), 32)
    seeds = np.resize(np.asarray(bench.seeds), 32)
    out = bench.query_batch(configs, fidelity=bench.fidelity.max, seed=seeds)
    assert len(out) == 32
    for i, c in enumerate(configs):
        r = bench.query(c, fidelity=bench.fidelity.max, seed=int(seeds[i]))
        for m in bench.metrics:
            np.testing.assert_equal(out.metrics[m][i], np.float32(r.metrics[m]))
        assert out.cost[i] == np.float32(r.cost)


def test_stored_configs_round_trip(bench: Benchmark) -> None:
    if not isinstance(bench, TabularBenchmark):
        pytest.skip("not a table")
    n = bench.table.n_configs
    for i in [*np.random.default_rng(2).choice(n, size=20, replace=False).tolist(), 0, n - 1]:
        config = bench.config(i)
        assert bench.space.validate(config) == config
        assert bench.config_id(config) == i
