"""run_suite: serial / pool / Ray through one path, resuming, refusing to mix, containing faults."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from hpobench import OptimizerError, ProtocolError
from hpobench.harness import (
    RunStatus,
    Trajectory,
    load_optimizer,
    run_study,
    run_suite,
    trajectory_path,
)

OPTIMIZER = """
import numpy as np
from hpobench.harness import Suggestion

__version__ = "0.1"

class RS:
    def __init__(self, problem, seed):
        self.problem, self.rng, self.n = problem, np.random.default_rng(seed), 0
    def ask(self):
        self.n += 1
        if FAIL_AT and self.n == FAIL_AT:
            raise ValueError("deliberate")
        return Suggestion(self.problem.space.sample(self.rng))
    def tell(self, suggestion, evaluation):
        pass

FAIL_AT = {fail_at}

def make_optimizer(problem, seed):
    return RS(problem, seed)
"""


def write_optimizer(tmp_path: Path, name: str = "opt.py", fail_at: int = 0) -> str:
    path = tmp_path / name
    path.write_text(OPTIMIZER.format(fail_at=fail_at))
    return f"{path}:make_optimizer"


def assert_same_run(a: Path, b: Path) -> None:
    """Same events and metadata. ``code_sha256`` is left out: it hashes the source files at the
    time each process ran, and this checkout may be edited while the suite runs."""
    ta, tb = Trajectory.read(a), Trajectory.read(b)
    da, db = ta.meta.to_dict(), tb.meta.to_dict()
    da.pop("code_sha256"), db.pop("code_sha256")
    assert da == db, {k: (da[k], db[k]) for k in da if da[k] != db[k]}
    walls = ["ask_wall_s", "tell_wall_s"]
    assert ta.events.drop(columns=walls).equals(tb.events.drop(columns=walls))  # NaN == NaN here


@pytest.fixture
def suite(mf: SimpleNamespace) -> SimpleNamespace:
    ids = [mf.table(), mf.table(continuous=True)]
    return SimpleNamespace(ids=ids, protocol=mf.protocol(n_workers=2, budget_base=8.0))


def test_serial_run_then_rerun_skips(suite: SimpleNamespace, tmp_path: Path) -> None:
    opt = write_optimizer(tmp_path)
    out = tmp_path / "runs"
    res = run_suite(opt, suite.protocol, out=out, suite=suite.ids, repetitions=2)
    assert [(r.benchmark_id, r.repetition, r.outcome) for r in res] == [
        (b, k, "ran") for b in sorted(suite.ids) for k in range(2)
    ]
    for r in res:
        assert r.path == trajectory_path(out, suite.protocol, r.benchmark_id, r.repetition)
        t = Trajectory.read(r.path, protocol=suite.protocol)
        assert t.meta.optimizer_name == "opt:make_optimizer" and t.meta.optimizer_version == "0.1"
        assert t.meta.status is RunStatus.COMPLETED and r.n_evaluations == t.meta.n_evaluations
    first = res[0].path.read_bytes()
    again = run_suite(opt, suite.protocol, out=out, suite=suite.ids, repetitions=3)
    assert [r.outcome for r in again].count("skipped") == 4 and [r.outcome for r in again].count(
        "ran"
    ) == 2
    assert res[0].path.read_bytes() == first


def test_partial_and_corrupted_files_are_redone(suite: SimpleNamespace, tmp_path: Path) -> None:
    opt = write_optimizer(tmp_path)
    out = tmp_path / "runs"
    res = run_suite(opt, suite.protocol, out=out, suite=suite.ids[:1], repetitions=2)
    good = Trajectory.read(res[0].path).digest()
    partial = res[1].path.parent / f".{res[1].path.name}.abc.partial"
    partial.write_bytes(b"half a file")
    res[0].path.write_bytes(res[0].path.read_bytes()[:100])  # a corrupted finished file
    again = run_suite(opt, suite.protocol, out=out, suite=suite.ids[:1], repetitions=2)
    assert [r.outcome for r in again] == ["ran", "skipped"]
    assert not partial.exists()
    assert Trajectory.read(res[0].path).digest() == good


def test_refuses_to_mix_protocols_or_optimizers(
    suite: SimpleNamespace, tmp_path: Path, mf: SimpleNamespace
) -> None:
    opt = write_optimizer(tmp_path)
    out = tmp_path / "runs"
    run_suite(opt, suite.protocol, out=out, suite=suite.ids[:1], repetitions=1)
    other_version = mf.protocol(n_workers=2, budget_base=9.0)  # same name, other rules: other hash
    with pytest.raises(ProtocolError, match="same output directory must hold one protocol version"):
        run_suite(opt, other_version, out=out, suite=suite.ids[:1], repetitions=1)
    with pytest.raises(OptimizerError, match="holds a run of optimizer 'opt:make_optimizer'"):
        run_suite(
            write_optimizer(tmp_path, "other.py"),
            suite.protocol,
            out=out,
            suite=suite.ids[:1],
            repetitions=1,
        )


def test_faults_end_only_their_run(suite: SimpleNamespace, tmp_path: Path) -> None:
    opt = write_optimizer(tmp_path, fail_at=5)
    res = run_suite(opt, suite.protocol, out=tmp_path / "runs", suite=suite.ids, repetitions=2)
    assert all(r.outcome == "ran" and r.status == "failed" for r in res)
    assert all("ValueError: deliberate" in r.reason for r in res)
    again = run_suite(opt, suite.protocol, out=tmp_path / "runs", suite=suite.ids, repetitions=2)
    assert {r.outcome for r in again} == {"skipped"}
    retried = run_suite(
        opt,
        suite.protocol,
        out=tmp_path / "runs",
        suite=suite.ids,
        repetitions=2,
        retry_failed=True,
    )
    assert {r.outcome for r in retried} == {"ran"}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"repetitions": 0},
            ProtocolError,
            r"repetitions must be an integer in \[1, 10000\], but got 0",
        ),
        ({"executor": "threads"}, ProtocolError, "executor must be one of"),
        (
            {"n_processes": 0, "executor": "pool"},
            ProtocolError,
            r"n_processes must be an integer in \[1, 4096\]",
        ),
        (
            {"call_timeout": 0},
            ProtocolError,
            "call_timeout must be None \\(no limit\\) or a finite",
        ),
        ({"suite": "no-such-suite"}, ProtocolError, "Unknown suite"),
    ],
)
def test_bad_arguments(
    suite: SimpleNamespace, tmp_path: Path, kwargs: dict, error: type, match: str
) -> None:
    kw = {"out": tmp_path / "runs", "suite": suite.ids, **kwargs}
    with pytest.raises(error, match=match):
        run_suite(write_optimizer(tmp_path), suite.protocol, **kw)


def test_unwritable_output_directory(suite: SimpleNamespace, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ProtocolError, match="must be a writable directory"):
        run_suite(write_optimizer(tmp_path), suite.protocol, out=blocker / "runs", suite=suite.ids)
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(ProtocolError, match="must be a writable directory"):
            run_suite(write_optimizer(tmp_path), suite.protocol, out=locked, suite=suite.ids)


def test_process_pool_gives_the_same_files(suite: SimpleNamespace, tmp_path: Path) -> None:
    opt = write_optimizer(tmp_path)
    serial = run_suite(opt, suite.protocol, out=tmp_path / "a", suite=suite.ids, repetitions=1)
    pooled = run_suite(opt, suite.protocol, out=tmp_path / "b", suite=suite.ids, repetitions=1,
                       executor="pool", n_processes=2)  # fmt: skip
    assert [r.outcome for r in pooled] == ["ran", "ran"], [r.reason for r in pooled]
    for s, p in zip(serial, pooled, strict=True):
        assert_same_run(s.path, p.path)


@pytest.mark.ray
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the ray extra")
def test_ray_gives_the_same_files(suite: SimpleNamespace, tmp_path: Path) -> None:
    import ray

    opt = write_optimizer(tmp_path)
    serial = run_suite(opt, suite.protocol, out=tmp_path / "a", suite=suite.ids, repetitions=1)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_suite(
            opt, suite.protocol, out=tmp_path / "b", suite=suite.ids, repetitions=1, executor="ray"
        )
    finally:
        ray.shutdown()
    assert [r.outcome for r in remote] == ["ran", "ran"], [r.reason for r in remote]
    for s, r in zip(serial, remote, strict=True):
        assert_same_run(s.path, r.path)


@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan"), True, "5"])
def test_call_timeout_has_one_rule_everywhere(
    suite: SimpleNamespace, tmp_path: Path, value: Any
) -> None:
    """One check for run_study, run_suite and the CLI (before: run_study took inf, the CLI not)."""
    opt = write_optimizer(tmp_path)
    with pytest.raises(ProtocolError, match=r"call_timeout must be None \(no limit\)"):
        run_suite(opt, suite.protocol, out=tmp_path, suite=suite.ids, call_timeout=value)
    with pytest.raises(ProtocolError, match=r"call_timeout must be None \(no limit\)"):
        run_study(suite.ids[0], load_optimizer(opt), suite.protocol, 0, call_timeout=value)


class _FactoryProxy:
    """A factory that is an object, as a sandbox's proxy to an optimizer in another process is."""

    optimizer_name = "proxy:random"
    version = "1"

    def __call__(self, problem: Any, seed: int) -> Any:
        import numpy as np

        from hpobench.harness import Suggestion

        class Opt:
            rng = np.random.default_rng(seed)

            def ask(self) -> Suggestion:
                return Suggestion(problem.space.sample(self.rng))

            def tell(self, s: Suggestion, e: Any) -> None:
                pass

        return Opt()


def test_a_factory_proxy_object_runs(suite: SimpleNamespace, tmp_path: Path) -> None:
    res = run_suite(_FactoryProxy(), suite.protocol, out=tmp_path, suite=suite.ids, repetitions=1)
    assert [r.outcome for r in res] == ["ran", "ran"] and all(r.n_evaluations for r in res)
    traj = run_study(suite.ids[0], _FactoryProxy(), suite.protocol, 0)
    assert (traj.meta.optimizer_name, traj.meta.optimizer_version) == ("proxy:random", "1")
