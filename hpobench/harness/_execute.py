"""``run_suite``: every (task, repetition) of a protocol, serially, on a process pool or on Ray.

One code path: the suite becomes a list of independent jobs; an executor of
:mod:`hpobench._executor` (the same module table generation uses) maps :func:`execute_job` over
them and yields results as they finish; the driver writes each
trajectory atomically (temp file, then rename) as
``<out>/<protocol>/<family>/<task-vN>/rep-<r>.parquet``. Workers return the file's bytes instead
of writing, so Ray workers on other machines need no shared filesystem.

Rerunning resumes; the run directory's rules (one writer at a time, digests verified before a
file is skipped, changed optimizer source refused or redone, killed writers' temp files removed)
live in :mod:`hpobench.harness._rundir`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from hpobench._errors import BenchmarkNotFoundError, HPOBenchError, ProtocolError
from hpobench._executor import make_executor
from hpobench._validate import check_int
from hpobench.benchmark import Backend, Benchmark
from hpobench.harness import _rundir
from hpobench.harness._contract import OptimizerFactory
from hpobench.harness._loading import OptimizerRef, resolve_optimizer
from hpobench.harness._protocol import Protocol, Suite, get_protocol, resolve_suite
from hpobench.harness._provenance import optimizer_identity
from hpobench.harness._sandbox import DEFAULT_MEMORY_LIMIT_MB, SandboxSpec, sandboxed_factory
from hpobench.harness._simulator import (
    DEFAULT_CALL_TIMEOUT,
    check_call_timeout,
    check_factory,
    run_checked,
)
from hpobench.harness._trajectory import RunStatus
from hpobench.registry import BenchmarkSpec, make, register, spec
from hpobench.table import META_FILE, TableMeta

__all__ = ["EXECUTORS", "RunSummary", "execute_job", "run_suite", "trajectory_path"]

logger = logging.getLogger(__name__)

EXECUTORS = ("serial", "pool", "ray")
_EXECUTOR_NAMES = {"serial": "local", "pool": "process", "ray": "ray"}  # -> hpobench._executor
MAX_REPETITIONS = 10_000  # far above any protocol; a larger count is a typo, not a plan
MAX_PROCESSES = 4096


@dataclass(frozen=True)
class RunSummary:
    """What happened to one (task, repetition) of a suite.

    ``outcome`` is ``"ran"``, ``"skipped"`` (a finished file was already there) or ``"error"``
    (the job could not run, e.g. a table failed to load; ``reason`` says why, no file written).
    ``status`` is the run's :class:`RunStatus` value (``""`` for an error).
    """

    benchmark_id: str
    repetition: int
    path: Path
    outcome: str
    status: str
    n_evaluations: int
    incumbent_test_score: float | None
    reason: str


@dataclass(frozen=True)
class _Job:
    benchmark_id: str
    spec: BenchmarkSpec
    repetition: int
    protocol: Protocol
    optimizer: OptimizerRef | SandboxSpec | OptimizerFactory
    optimizer_name: str
    optimizer_version: str
    call_timeout: float | None


@dataclass(frozen=True)
class _JobResult:
    benchmark_id: str
    repetition: int
    payload: bytes | None
    status: str
    n_evaluations: int
    incumbent_test_score: float | None
    reason: str


def execute_job(context: None, job: _Job) -> _JobResult:
    """Run one (task, repetition) and return the trajectory file's bytes (the one function every
    executor of :mod:`hpobench._executor` runs; ``context`` is unused)."""
    sandboxed = job.optimizer.load() if isinstance(job.optimizer, SandboxSpec) else None
    try:
        if sandboxed is not None:
            factory: OptimizerFactory = sandboxed
        elif isinstance(job.optimizer, OptimizerRef):
            factory = job.optimizer.load()
        else:
            assert not isinstance(job.optimizer, SandboxSpec)
            factory = job.optimizer
        try:
            traj = run_checked(  # run_suite checked the factory and the arguments once
                _benchmark(job),
                factory,
                job.protocol,
                job.repetition,
                limit=None if sandboxed is not None else job.call_timeout,  # the sandbox's own
                optimizer_name=job.optimizer_name,
                optimizer_version=job.optimizer_version,
            )
        finally:
            if sandboxed is not None:
                sandboxed.close()
        if sandboxed is not None:
            sandbox = {"sandbox_level": sandboxed.sandbox_level,
                       "sandbox_startup_s": sandboxed.startup_s}  # fmt: skip
            traj = replace(traj, timing={**traj.timing, **sandbox})
    except HPOBenchError as e:
        return _JobResult(
            job.benchmark_id, job.repetition, None, "", 0, None, f"{type(e).__name__}: {e}"
        )
    except Exception as e:  # a bug somewhere: report it, let the suite go on
        tb = "".join(traceback.format_exception(e)[-3:]).strip()
        return _JobResult(
            job.benchmark_id, job.repetition, None, "", 0, None, f"{type(e).__name__}: {e}\n{tb}"
        )
    m = traj.meta
    return _JobResult(
        job.benchmark_id,
        job.repetition,
        traj.to_bytes(),
        m.status.value,
        m.n_evaluations,
        m.incumbent_test_score,
        m.stop_reason,
    )


def _benchmark(job: _Job) -> Benchmark:
    """The job's benchmark; a user registration of the driver is repeated in a fresh worker."""
    try:
        return make(job.benchmark_id)
    except BenchmarkNotFoundError:
        register(job.spec)
        return make(job.benchmark_id)


def trajectory_path(
    out: str | Path, protocol: Protocol, benchmark_id: str, repetition: int
) -> Path:
    """Where run_suite stores one run: ``<out>/<protocol>/<family>/<task-vN>/rep-<r>.parquet``."""
    family, task = benchmark_id.split("/", 1)
    return Path(out) / protocol.name / family / task / f"rep-{repetition:03d}.parquet"


def _check_pinned(protocol: Protocol, ids: Sequence[str]) -> None:
    """Refuse, before anything runs, tasks a pinned protocol does not pin or whose table's
    sha256 differs from the pinned one (run_study checks every backend again)."""
    if not protocol.pinned:
        return
    for bid in ids:
        task = protocol.task(bid)
        s = spec(bid)
        if s.path is not None and task.backend == "table":
            sha = TableMeta.read(s.path / META_FILE).sha256
            protocol.check_task(bid, Backend(kind="table", sha256=sha, path=str(s.path)))


def run_suite(
    optimizer: str | OptimizerFactory,
    protocol: str | Protocol,
    *,
    out: str | Path,
    suite: str | Suite | Sequence[str] | None = None,
    repetitions: int | None = None,
    executor: str = "serial",
    n_processes: int | None = None,
    ray_address: str | None = None,
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
    retry_failed: bool = False,
    on_changed: str = "refuse",
    progress: bool = False,
    sandbox: bool = False,
    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB,
) -> list[RunSummary]:
    """Run ``optimizer`` on every task of ``suite`` for ``repetitions`` repetitions of ``protocol``.

    Args:
        optimizer: ``"file.py:factory"``, ``"package.module:factory"`` or a factory callable
            (for ``"pool"``/``"ray"`` a callable must be picklable; prefer a string).
        protocol: a :class:`Protocol` or its name.
        out: directory for the trajectory files (created; must be writable).
        suite: defaults to the protocol's suite; else a suite name, ids, patterns (see
            :func:`resolve_suite`).
        repetitions: ``1..`` (default: the protocol's ``n_repetitions``); repetition ``r`` is the
            same run whatever the count.
        executor: ``"serial"``, ``"pool"`` (local processes, ``n_processes``, default the CPU count)
            or ``"ray"`` (``ray_address``; default: the running Ray, else a local one).
        call_timeout: wall-clock seconds per optimizer call (see :func:`run_study`).
        retry_failed: redo runs whose file records ``status == "failed"``.
        on_changed: what a finished file made by other source code of the same optimizer
            (``optimizer_source_sha256``) does: ``"refuse"`` (``OptimizerError``, the default)
            or ``"redo"`` (rerun it).
        progress: show a tqdm progress bar (stderr).
        sandbox: run the optimizer in its own fresh process per run, away from the tables, with
            ``call_timeout`` and ``memory_limit_mb`` enforced from outside (see
            :func:`~hpobench.harness.sandboxed_factory`); the trajectories are the same bytes.
            Its module is then never imported in this process.
        memory_limit_mb: address-space cap of a sandboxed optimizer (``None``: none).

    Returns one :class:`RunSummary` per (task, repetition), sorted. Faults of the optimizer end
    only their run (recorded in its file); a job that cannot run at all is reported as
    ``outcome="error"`` and the others go on.
    """
    proto = get_protocol(protocol)
    if executor not in EXECUTORS:
        raise ProtocolError(f"executor must be one of {EXECUTORS}, but got {executor!r}.")
    if n_processes is not None:
        check_int("n_processes", n_processes, low=1, high=MAX_PROCESSES, error=ProtocolError)
    reps = check_int(
        "repetitions",
        proto.n_repetitions if repetitions is None else repetitions,
        low=1,
        high=MAX_REPETITIONS,
        error=ProtocolError,
    )
    if on_changed not in _rundir.ON_CHANGED:
        raise ProtocolError(
            f"on_changed must be one of {_rundir.ON_CHANGED}, but got {on_changed!r}."
        )
    limit = check_call_timeout(call_timeout)
    ids = proto.task_ids() if suite is None else resolve_suite(suite)
    _check_pinned(proto, ids)
    out_dir = _rundir.check_out_dir(out)
    ref: OptimizerRef | SandboxSpec | OptimizerFactory
    if sandbox:
        sandboxed = sandboxed_factory(
            optimizer,
            call_timeout=limit,
            memory_limit_mb=memory_limit_mb,
            protect=[out_dir],
            prefetch=not proto.charge_optimizer_time,  # a charged ask is timed by the simulator
        )
        ref = sandboxed.spec
        factory: OptimizerFactory = sandboxed
    elif isinstance(optimizer, str):
        ref = resolve_optimizer(optimizer)
        factory = ref.load()
    else:
        check_factory(optimizer)
        ref = factory = optimizer
    opt_name, opt_version, opt_sha = optimizer_identity(factory)
    with _rundir.locked(out_dir):
        return _run_locked(
            out_dir, proto, ids, reps, ref, opt_name, opt_version, opt_sha, limit,
            retry_failed, on_changed, executor, n_processes, ray_address, progress,
        )  # fmt: skip


def _run_locked(
    out_dir: Path,
    proto: Protocol,
    ids: Sequence[str],
    reps: int,
    ref: OptimizerRef | SandboxSpec | OptimizerFactory,
    opt_name: str,
    opt_version: str,
    opt_sha: str,
    call_timeout: float | None,
    retry_failed: bool,
    on_changed: str,
    executor: str,
    n_processes: int | None,
    ray_address: str | None,
    progress: bool,
) -> list[RunSummary]:
    paths = [(b, r, trajectory_path(out_dir, proto, b, r)) for b in ids for r in range(reps)]
    todo, finished = _rundir.scan(
        paths, proto, optimizer_name=opt_name, optimizer_source_sha256=opt_sha,
        retry_failed=retry_failed, on_changed=on_changed,
    )  # fmt: skip
    results = [
        RunSummary(f.benchmark_id, f.repetition, f.path, "skipped", f.meta.status.value,
                   f.meta.n_evaluations, f.meta.incumbent_test_score, f.meta.stop_reason)
        for f in finished
    ]  # fmt: skip
    jobs = [_Job(b, spec(b), r, proto, ref, opt_name, opt_version, call_timeout) for b, r in todo]
    logger.info("%s: %d runs to do, %d already finished", proto.name, len(jobs), len(results))

    from tqdm.auto import tqdm

    runner = make_executor(_EXECUTOR_NAMES[executor], n_workers=n_processes, address=ray_address)
    stream = runner.map(execute_job, None, jobs)
    failed = errors = 0
    with tqdm(total=len(jobs), desc=proto.name, unit="run", disable=not progress) as bar:
        for res in stream:
            path = trajectory_path(out_dir, proto, res.benchmark_id, res.repetition)
            if res.payload is None:
                errors += 1
                logger.error(
                    "%s rep %d could not run: %s", res.benchmark_id, res.repetition, res.reason
                )
                results.append(
                    RunSummary(
                        res.benchmark_id, res.repetition, path, "error", "", 0, None, res.reason
                    )
                )
            else:
                _rundir.write_run(path, res.payload)
                failed += res.status == RunStatus.FAILED.value
                results.append(
                    RunSummary(res.benchmark_id, res.repetition, path, "ran", res.status,
                               res.n_evaluations, res.incumbent_test_score, res.reason)
                )  # fmt: skip
            bar.set_postfix(failed=failed, errors=errors, refresh=False)
            bar.update(1)
    results.sort(key=lambda s: (s.benchmark_id, s.repetition))
    return results
