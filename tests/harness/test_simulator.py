"""The simulator: budget cut, resume cost, seeds, incumbent, determinism, faults, timeouts."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hpobench
from hpobench.benchmark import Backend, BatchResult, Benchmark, Result, TabularBenchmark
from hpobench.harness import Evaluation, Problem, RunStatus, Suggestion, Trajectory, run_study

CFG = {"width": 32, "act": "tanh", "depth": 2}


def expected_incumbents(events: Any, minimize: bool = True) -> list[int]:
    """Reference implementation of the incumbent rule."""
    out, best = [], None
    for f, v, t in zip(events["fidelity"], events["value"], events["trial_id"], strict=True):
        key = v if minimize else -v
        if not math.isnan(v) and (best is None or f > best[0] or (f == best[0] and key < best[1])):
            best = (f, key, int(t))
        out.append(-1 if best is None else best[2])
    return out


# -- budget cut ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("workers", "time_factor", "n_counted", "n_discarded", "end"),
    [
        (1, 1.0, 5, 0, 250.0),  # finishing exactly at B counts; no ask at t >= B
        (1, 1.1, 5, 1, 275.0),  # the 6th would finish at 300 > 275: discarded, never told
        (2, 1.0, 4, 2, 125.0),  # B = 5 * 50 / 2; both workers' third runs are cut
    ],
)
def test_budget_cuts_cleanly(
    mf: SimpleNamespace,
    workers: int,
    time_factor: float,
    n_counted: int,
    n_discarded: int,
    end: float,
) -> None:
    bid = mf.table()  # every full evaluation costs exactly 50 s: the median too
    opts: list[Any] = []

    def factory(problem: Problem, seed: int) -> Any:
        opts.append(mf.Random(problem, seed))
        return opts[-1]

    p = mf.protocol(n_workers=workers, budget_base=5.0, time_factor=time_factor, allow_resume=False)
    traj = run_study(bid, factory, p, 0)
    m = traj.meta
    assert m.time_budget == pytest.approx(5 * 50 * time_factor / workers)
    assert m.status is RunStatus.COMPLETED and "time budget" in m.stop_reason
    assert (m.n_evaluations, m.n_discarded, m.end_time) == (
        n_counted,
        n_discarded,
        pytest.approx(end),
    )
    assert len(opts[0].told) == n_counted
    assert (traj.events["time"] <= m.time_budget).all()


def test_evaluation_cap(mf: SimpleNamespace) -> None:
    bid = mf.table()
    p = mf.protocol(budget_base=5.0, max_evaluations_factor=0.4)  # cap = ceil(2.0) = 2
    traj = run_study(bid, mf.Random, p, 0)
    assert traj.meta.max_evaluations == 2
    assert traj.meta.n_evaluations == 2 and "evaluation cap" in traj.meta.stop_reason


def test_optimizer_stopped_and_workers_idle(mf: SimpleNamespace, scripted: Any) -> None:
    bid = mf.table()
    traj = run_study(bid, scripted([Suggestion(CFG, fidelity=1)]), mf.protocol(n_workers=3), 0)
    assert traj.meta.status is RunStatus.OPTIMIZER_STOPPED
    assert traj.meta.n_evaluations == 1


def test_four_workers_start_together(mf: SimpleNamespace) -> None:
    bid = mf.table(cost_by_config=True)
    traj = run_study(bid, mf.Random, mf.protocol(n_workers=4), 0)
    e = traj.events
    first = e.sort_values("start_time").head(4)
    assert (first["start_time"] == 0).all() and sorted(first["worker"]) == [0, 1, 2, 3]
    for _, g in e.groupby("worker"):  # a worker runs one evaluation at a time
        assert (g["start_time"].to_numpy()[1:] >= g["time"].to_numpy()[:-1]).all()
    assert np.allclose(e["time"] - e["start_time"], e["cost"])


# -- resume -------------------------------------------------------------------------------
def test_resume_pays_only_the_extra_and_keeps_the_seed(mf: SimpleNamespace, scripted: Any) -> None:
    bid = mf.table(step_cost=10.0)
    holder: list[Any] = []
    script = [
        Suggestion(CFG, fidelity=2),
        Suggestion(CFG, fidelity=5, resume=0),
        Suggestion(CFG, fidelity=5),
    ]
    traj = run_study(bid, scripted(script, holder), mf.protocol(), 0)
    e = traj.events
    assert list(e["trial_id"]) == [0, 0, 1]
    assert list(e["cost"]) == [20.0, 30.0, 50.0]  # cost(5) - cost(2) = 50 - 20
    assert list(e["time"]) == [20.0, 50.0, 100.0]
    assert math.isnan(e["resumed_from"][0]) and e["resumed_from"][1] == 2.0
    assert e["seed"][0] == e["seed"][1]
    told: list[tuple[Suggestion, Evaluation]] = holder[0].told
    assert told[0][0] is script[0] and told[1][0] is script[1]  # tell gets ask's object back
    ev = told[1][1]
    assert (ev.trial_id, ev.fidelity, ev.cost) == (0, 5, 30.0)
    bench = hpobench.make(bid)
    r = bench.query(CFG, fidelity=5, seed=int(e["seed"][1]))
    np.testing.assert_array_equal(ev.curve, r.curve["valid_loss"])
    assert ev.value == pytest.approx(r.metrics["valid_loss"])
    ev.config["width"] = 64  # the optimizer's own copy: the record is unaffected
    assert traj.events["config.width"][1] == 32 and told[0][1].config["width"] == 32
    assert not ev.curve.flags.writeable


# -- seeds ------------------------------------------------------------------------------------
def test_optimizer_never_sees_test_seeds_or_test_metrics(mf: SimpleNamespace) -> None:
    bid = mf.table(continuous=False)
    seen: list[Any] = []

    def factory(problem: Problem, seed: int) -> Any:
        for v in vars(problem).values():
            assert not isinstance(v, (Benchmark, hpobench.Table, np.ndarray))
        assert not any("seed" in k for k in vars(problem))
        opt = mf.Random(problem, seed, fidelity="random")
        seen.append(opt)
        return opt

    traj = run_study(bid, factory, mf.protocol(n_workers=4, budget_base=40.0), 0)
    told = seen[0].told
    assert len(told) > 50
    assert all(ev.value < 10 for ev in told)  # test seeds hold values >= 1000
    assert all(float(np.max(ev.curve)) < 10 for ev in told)  # test-split metric holds >= 5000
    e = traj.events
    assert set(e["seed"]) == {0, 1}  # both tuning seeds drawn, no test seed
    bench = hpobench.make(bid)
    assert isinstance(bench, TabularBenchmark)
    row = traj.meta.incumbent_config_id
    assert row is not None
    want = np.mean([bench.table.metric("test_loss")[row, s, -1] for s in (2, 3)])
    assert traj.meta.incumbent_test_score == pytest.approx(want)
    assert traj.meta.incumbent_test_score > 6000  # the test split on the test seeds


def test_trial_seeds_depend_only_on_repetition_and_trial(mf: SimpleNamespace) -> None:
    bid = mf.table()
    a = run_study(bid, mf.Random, mf.protocol(), 0).events
    b = run_study(bid, lambda p, s: mf.Random(p, s + 1), mf.protocol(), 0).events
    c = run_study(bid, mf.Random, mf.protocol(), 1).events
    n = min(len(a), len(b), len(c))
    assert list(a["seed"][:n]) == list(b["seed"][:n])  # another optimizer, same seed draws
    assert list(a["seed"][:n]) != list(c["seed"][:n])


# -- incumbent --------------------------------------------------------------------------------
def test_incumbent_is_best_at_highest_fidelity_and_ignores_nan(
    mf: SimpleNamespace, scripted: Any
) -> None:
    bid = mf.table(nan_configs=4)  # grid rows 0..3 diverged (NaN)
    bench = hpobench.make(bid)
    assert isinstance(bench, TabularBenchmark)
    nan_cfg = bench.config(0)
    script = [Suggestion(nan_cfg), Suggestion(CFG, fidelity=1)]
    script += [
        Suggestion(bench.config(i), fidelity=f) for i, f in [(5, 3), (6, 3), (7, 1), (8, 5), (9, 5)]
    ]
    traj = run_study(bid, scripted(script), mf.protocol(), 0)
    e = traj.events
    assert math.isnan(e["value"][0]) and e["incumbent_trial"][0] == -1
    assert math.isnan(e["incumbent_test_score"][0])
    assert e["incumbent_trial"][1] == 1  # NaN at fidelity 5 does not count as "reached"
    assert list(e["incumbent_trial"]) == expected_incumbents(e)
    assert e["incumbent_fidelity"].iloc[-1] == 5.0
    assert traj.meta.incumbent_trial == e["incumbent_trial"].iloc[-1]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    workers=st.integers(1, 4),
    budget=st.floats(1.0, 30.0),
    cap=st.floats(0.5, 20.0),
    resume=st.booleans(),
    rep=st.integers(0, 5),
)
def test_invariants(
    mf: SimpleNamespace, workers: int, budget: float, cap: float, resume: bool, rep: int
) -> None:
    if not hasattr(mf, "bid"):
        mf.bid = mf.table(cost_by_config=True)
    p = mf.protocol(
        n_workers=workers, budget_base=budget, max_evaluations_factor=cap, allow_resume=resume
    )
    traj = run_study(mf.bid, lambda pr, s: mf.Random(pr, s, fidelity="random"), p, rep)
    m, e = traj.meta, traj.events
    assert m.status is not RunStatus.FAILED
    assert (np.diff(e["time"]) >= 0).all() and (e["time"] <= m.time_budget + 1e-9).all()
    assert m.n_evaluations == len(e) <= m.max_evaluations
    assert m.n_discarded <= workers
    assert list(e["incumbent_trial"]) == expected_incumbents(e)


# -- continuous spaces and other benchmarks -------------------------------------------------
def test_continuous_space_snaps_to_nearest_and_records_it(
    mf: SimpleNamespace, scripted: Any
) -> None:
    bid = mf.table(continuous=True)
    cfg = {"lr": 0.0123456, "width": 32}
    traj = run_study(bid, scripted([Suggestion(cfg)]), mf.protocol(), 0)
    bench = hpobench.make(bid)
    assert isinstance(bench, TabularBenchmark)
    near = bench.config_id(cfg)
    assert near == bench.query(cfg, fidelity=1, seed=0).config_id  # one answer for both
    assert traj.meta.backend_kind == "table"
    assert traj.meta.backend_sha256 == bench.backend.sha256 == bench.meta.sha256
    assert traj.events["config_id"][0] == near
    assert traj.events["config.lr"][0] == 0.0123456  # the asked config is kept as asked


class _Delegate(Benchmark):
    """A non-tabular benchmark (as a surrogate would be): no table, no index, no config ids;
    only the Benchmark interface."""

    def __init__(self, inner: TabularBenchmark) -> None:
        self._inner = inner
        self.meta = dataclasses.replace(inner.meta)

    @property
    def backend(self) -> Backend:
        return Backend(kind="surrogate", sha256="ab" * 32)

    def query(self, config: Mapping[str, Any], *, fidelity: int | float, seed: int) -> Result:
        r = self._inner.query(config, fidelity=fidelity, seed=seed)
        return dataclasses.replace(r, config_id=-1, curve_block=r.curve_block.copy())

    def query_batch(
        self, configs: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, fidelity: Any, seed: Any
    ) -> BatchResult:
        return self.inner.query_batch(configs, fidelity=fidelity, seed=seed)


def test_any_benchmark_through_query(mf: SimpleNamespace) -> None:
    bid = mf.table()
    bench = hpobench.make(bid)
    assert isinstance(bench, TabularBenchmark)
    a = run_study(bid, mf.Random, mf.protocol(n_workers=2), 0)
    b = run_study(_Delegate(bench), mf.Random, mf.protocol(n_workers=2), 0)
    assert (b.meta.backend_kind, b.meta.backend_sha256) == ("surrogate", "ab" * 32)
    assert (b.events["config_id"] == -1).all()
    assert a.meta.time_budget == b.meta.time_budget  # the reference runtime comes from meta.json
    for col in ("time", "value", "seed", "incumbent_test_score"):
        np.testing.assert_array_equal(a.events[col], b.events[col])


# -- determinism ------------------------------------------------------------------------------
def _asha_like(problem: Problem, seed: int) -> Any:
    """Random configs at fidelity 1, each resumed to the top once told (exercises resume)."""

    class Opt:
        def __init__(self) -> None:
            self.rng = np.random.default_rng(seed)
            self.ready: list[Evaluation] = []

        def ask(self) -> Suggestion:
            if self.ready:
                ev = self.ready.pop(0)
                return Suggestion(ev.config, fidelity=problem.fidelity.max, resume=ev.trial_id)
            return Suggestion(problem.space.sample(self.rng), fidelity=problem.fidelity.min)

        def tell(self, s: Suggestion, ev: Evaluation) -> None:
            if ev.fidelity < problem.fidelity.max and self.rng.random() < 0.5:
                self.ready.append(ev)

    return Opt()


def test_same_inputs_give_identical_bytes(mf: SimpleNamespace, tmp_path: Any) -> None:
    bid = mf.table(cost_by_config=True)
    p = mf.protocol(n_workers=4, budget_base=30.0)
    t1 = run_study(bid, _asha_like, p, 3)
    t2 = run_study(bid, _asha_like, p, 3)
    assert (t1.events["resumed_from"].notna()).sum() > 5
    a = t1.write(tmp_path / "a.parquet", include_timing=False).read_bytes()
    b = t2.write(tmp_path / "b.parquet", include_timing=False).read_bytes()
    assert a == b
    assert t1.digest() == t2.digest() == Trajectory.read(t1.write(tmp_path / "c.parquet")).digest()
    assert run_study(bid, _asha_like, p, 4).digest() != t1.digest()


def test_charging_optimizer_time_moves_the_clock(mf: SimpleNamespace) -> None:
    bid = mf.table()

    class Slow(mf.Random):  # type: ignore[misc, name-defined]
        def ask(self) -> Suggestion:
            time.sleep(0.02)
            return super().ask()

    free = run_study(bid, Slow, mf.protocol(max_evaluations_factor=0.3), 0).events
    charged = run_study(
        bid, Slow, mf.protocol(max_evaluations_factor=0.3, charge_optimizer_time=True), 0
    ).events
    assert free["start_time"][0] == 0.0 and charged["start_time"][0] >= 0.02
    assert (free["ask_wall_s"] >= 0.02).all()


# -- faults -----------------------------------------------------------------------------------
class _Boom:
    def __init__(self, where: str) -> None:
        self.where, self.n = where, 0

    def ask(self) -> Suggestion:
        self.n += 1
        if self.where == "ask" and self.n == 3:
            raise ZeroDivisionError("boom in ask")
        return Suggestion(CFG, fidelity=1)

    def tell(self, s: Suggestion, ev: Evaluation) -> None:
        if self.where == "tell" and self.n == 2:
            raise KeyError("boom in tell")


def _factory_raises(problem: Problem, seed: int) -> Any:
    raise RuntimeError("cannot build")


FAULTS: list[tuple[str, Any, str, str]] = [
    ("ask raises", lambda p, s: _Boom("ask"), "exception", "ZeroDivisionError: boom in ask"),
    ("tell raises", lambda p, s: _Boom("tell"), "exception", "KeyError"),
    ("factory raises", _factory_raises, "exception", "the factory raised RuntimeError"),
    ("no ask/tell", lambda p, s: object(), "contract", "ask() and tell"),
    ("returns a dict", [CFG], "contract", "must return a Suggestion or None"),
    ("NaN config", [Suggestion({**CFG, "depth": float("nan")})], "invalid_suggestion", "depth"),
    ("config not a mapping", [Suggestion([32, "tanh", 2])], "invalid_suggestion", "mapping"),
    ("unknown name", [Suggestion({**CFG, "widht": 3})], "invalid_suggestion", "Did you mean"),
    ("bad fidelity", [Suggestion(CFG, fidelity=2.5)], "invalid_suggestion", "fidelity"),
    ("NaN fidelity", [Suggestion(CFG, fidelity=float("nan"))], "invalid_suggestion", "fidelity"),
    ("bool fidelity", [Suggestion(CFG, fidelity=True)], "invalid_suggestion", "fidelity"),
    ("resume nonexistent", [Suggestion(CFG, fidelity=1), Suggestion(CFG, fidelity=3, resume=7)],
     "invalid_suggestion", "existing trial"),
    ("resume not beyond", [Suggestion(CFG, fidelity=3), Suggestion(CFG, fidelity=2, resume=0)],
     "invalid_suggestion", "beyond"),
    ("resume other config", [Suggestion(CFG, fidelity=1), Suggestion({**CFG, "depth": 3}, fidelity=2, resume=0)],
     "invalid_suggestion", "repeat the trial's config"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "opt", "kind", "fragment"), FAULTS, ids=[f[0] for f in FAULTS])
def test_faults_end_the_run_with_a_reason(
    mf: SimpleNamespace, scripted: Any, what: str, opt: Any, kind: str, fragment: str
) -> None:
    bid = mf.table()
    factory = scripted(opt) if isinstance(opt, list) else opt
    traj = run_study(bid, factory, mf.protocol(), 0)
    m = traj.meta
    assert m.status is RunStatus.FAILED and m.fault == kind
    assert fragment in m.stop_reason
    if what in ("ask raises", "resume not beyond", "resume other config", "tell raises"):
        assert m.n_evaluations >= 1  # what happened before the fault stays recorded


def test_resume_while_running_and_when_not_allowed(mf: SimpleNamespace, scripted: Any) -> None:
    bid = mf.table()
    running = [Suggestion(CFG, fidelity=2), Suggestion(CFG, fidelity=3, resume=0)]
    m = run_study(bid, scripted(running), mf.protocol(n_workers=2), 0).meta
    assert m.fault == "invalid_suggestion" and "still running" in m.stop_reason
    forbidden = [Suggestion(CFG, fidelity=2), Suggestion(CFG, fidelity=3, resume=0)]
    m = run_study(bid, scripted(forbidden), mf.protocol(allow_resume=False), 0).meta
    assert m.fault == "invalid_suggestion" and "does not allow" in m.stop_reason


class _Hang:
    def __init__(self, how: str) -> None:
        self.how, self.n = how, 0

    def ask(self) -> Suggestion:
        self.n += 1
        if self.n == 3:
            if self.how == "sleep":
                time.sleep(30)
            elif self.how == "busy":
                while True:
                    pass
            else:  # swallows ordinary exceptions
                while True:
                    with contextlib.suppress(Exception):
                        time.sleep(0.01)
        return Suggestion(CFG, fidelity=1)

    def tell(self, s: Suggestion, ev: Evaluation) -> None:
        pass


@pytest.mark.parametrize("how", ["sleep", "busy", "swallow"])
def test_hanging_call_times_out(mf: SimpleNamespace, how: str) -> None:
    bid = mf.table()
    t0 = time.perf_counter()
    traj = run_study(bid, lambda p, s: _Hang(how), mf.protocol(), 0, call_timeout=0.2)
    assert time.perf_counter() - t0 < 5
    m = traj.meta
    assert m.status is RunStatus.FAILED and m.fault == "timeout" and "0.2 s" in m.stop_reason
    assert m.n_evaluations == 2
    assert traj.timing["watchdog"] == "signal"
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL  # handler restored
    assert run_study(bid, mf.Random, mf.protocol(), 0).meta.status is RunStatus.COMPLETED


def test_timeout_outside_the_main_thread(mf: SimpleNamespace) -> None:
    bid = mf.table()
    out: list[Trajectory] = []
    th = threading.Thread(
        target=lambda: out.append(
            run_study(bid, lambda p, s: _Hang("busy"), mf.protocol(), 0, call_timeout=0.2)
        )
    )
    th.start()
    th.join(10)
    assert not th.is_alive()
    assert out[0].meta.fault == "timeout" and out[0].timing["watchdog"] == "async-exception"


# -- sealed evaluations -----------------------------------------------------------------------
def _reachable(*roots: Any) -> list[Any]:
    """Every object reachable from ``roots`` through references (modules and types excluded)."""
    import gc
    import types

    seen: dict[int, Any] = {}
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (types.ModuleType, type)):
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))
    return list(seen.values())


def test_nothing_the_optimizer_receives_references_table_memory(mf: SimpleNamespace) -> None:
    """Before: ``Evaluation.curve`` was a view whose ``.base`` was the whole table (test seeds
    and test metrics included) and ``curve.base.flags.writeable = True`` succeeded."""
    bid = mf.table()
    bench = hpobench.make(bid)
    assert isinstance(bench, TabularBenchmark)
    seen: list[Any] = []

    class Probe:
        def __init__(self, problem: Problem, seed: int) -> None:
            self.problem, self.rng = problem, np.random.default_rng(seed)
            seen.append(problem)

        def ask(self) -> Suggestion:
            s = Suggestion(self.problem.space.sample(self.rng), fidelity=3)
            seen.append(s)
            return s

        def tell(self, s: Suggestion, ev: Evaluation) -> None:
            seen.append(ev)

    traj = run_study(bench, Probe, mf.protocol(n_workers=2), 0)
    assert traj.meta.n_evaluations > 5
    table = bench.table
    for obj in _reachable(*seen):
        assert obj is not bench and obj is not table and obj is not bench.index
        if isinstance(obj, np.ndarray):
            assert not np.shares_memory(obj, table.data)
    evs = [o for o in seen if isinstance(o, Evaluation)]
    for ev in evs:
        assert ev.curve.base is None and not ev.curve.flags.writeable  # an owned copy
        ev.curve.setflags(write=True)  # it is the optimizer's own copy ...
        ev.curve[:] = -1.0  # ... and writing it changes nothing else
    again = run_study(bench, mf.Random, mf.protocol(n_workers=2), 0)
    first = run_study(hpobench.make(bid), mf.Random, mf.protocol(n_workers=2), 0)
    assert again.digest() == first.digest()


def test_query_curve_agrees_with_query(mf: SimpleNamespace) -> None:
    """TabularBenchmark's fast ``query_curve`` equals the interface's default built on query."""
    for bid in (mf.table(), mf.table(continuous=True)):
        bench = hpobench.make(bid)
        rng = np.random.default_rng(0)
        for config in bench.space.sample_many(rng, 10):
            for f in (1, 3, 5):
                fast = bench.query_curve(config, fidelity=f, seed=1, metric="valid_loss")
                slow = Benchmark.query_curve(bench, config, fidelity=f, seed=1, metric="valid_loss")
                assert fast[:3] == slow[:3]
                np.testing.assert_array_equal(fast.curve, slow.curve)
                assert fast.curve.base is None and not fast.curve.flags.writeable
