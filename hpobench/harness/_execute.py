"""``run_suite``: every (task, repetition) of a protocol, serially, on a process pool or on Ray.

One code path: the suite becomes a list of independent jobs; an executor maps
:func:`execute_job` over them and yields results as they finish; the driver writes each
trajectory atomically (temp file, then rename) as
``<out>/<protocol>/<family>/<task-vN>/rep-<r>.parquet``. Workers return the file's bytes instead
of writing, so Ray workers on other machines need no shared filesystem.

Rerunning resumes: a finished file of the same protocol and optimizer is skipped (``retry_failed``
redoes failed runs), leftover ``*.partial`` temp files are deleted, an unreadable file is redone
(with a warning), and a file from another protocol version or optimizer is an error, never
silently mixed or overwritten.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from hpobench._atomic import write_atomic
from hpobench._errors import BenchmarkNotFoundError, HPOBenchError, OptimizerError, ProtocolError
from hpobench.benchmark import Backend, Benchmark
from hpobench.harness._contract import OptimizerFactory
from hpobench.harness._loading import OptimizerRef, resolve_optimizer
from hpobench.harness._protocol import Protocol, Suite, get_protocol, resolve_suite
from hpobench.harness._provenance import optimizer_identity
from hpobench.harness._simulator import DEFAULT_CALL_TIMEOUT, check_factory, run_study
from hpobench.harness._trajectory import RunStatus, TrajectoryError, read_meta
from hpobench.registry import BenchmarkSpec, make, register, spec
from hpobench.table import META_FILE, TableMeta

__all__ = ["EXECUTORS", "RunSummary", "execute_job", "run_suite", "trajectory_path"]

logger = logging.getLogger(__name__)

EXECUTORS = ("serial", "pool", "ray")


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
    optimizer: OptimizerRef | OptimizerFactory
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


def execute_job(job: _Job) -> _JobResult:
    """Run one (task, repetition) and return the trajectory file's bytes (used by all executors)."""
    try:
        factory = job.optimizer.load() if isinstance(job.optimizer, OptimizerRef) else job.optimizer
        traj = run_study(
            _benchmark(job),
            factory,
            job.protocol,
            job.repetition,
            call_timeout=job.call_timeout,
            optimizer_name=job.optimizer_name,
            optimizer_version=job.optimizer_version,
        )
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


# -- executors: map a picklable function over jobs, yield results as they finish -------------
def _map_serial(fn: Callable[[_Job], _JobResult], jobs: Sequence[_Job]) -> Iterator[_JobResult]:
    for job in jobs:
        yield fn(job)


def _map_pool(
    fn: Callable[[_Job], _JobResult], jobs: Sequence[_Job], n: int
) -> Iterator[_JobResult]:
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
        futures = [pool.submit(fn, job) for job in jobs]
        try:
            for fut in cf.as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _map_ray(
    fn: Callable[[_Job], _JobResult], jobs: Sequence[_Job], address: str | None
) -> Iterator[_JobResult]:
    try:
        import ray
    except ImportError:
        raise ProtocolError(
            "executor 'ray' needs the ray extra: pip install 'hpobench[ray]' (or pip install ray)."
        ) from None
    started = False
    if not ray.is_initialized():
        if address:  # connect to a running cluster: it has its own settings
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        pending = [remote.remote(job) for job in jobs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


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


def _check_out_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".hpobench-write-test-"):
            pass
    except OSError as e:
        raise ProtocolError(
            f"The output directory must be a writable directory, but {str(out)!r} is not: "
            f"{type(e).__name__}: {e}."
        ) from None


def _plan(
    out: Path,
    protocol: Protocol,
    ids: Iterable[str],
    reps: int,
    optimizer_name: str,
    retry_failed: bool,
) -> tuple[list[tuple[str, int]], list[RunSummary]]:
    todo: list[tuple[str, int]] = []
    skipped: list[RunSummary] = []
    for bid in ids:
        for r in range(reps):
            path = trajectory_path(out, protocol, bid, r)
            if path.parent.is_dir():
                for stale in path.parent.glob(f".{path.name}.*.partial"):
                    logger.info("removing partial file %s", stale)
                    stale.unlink(missing_ok=True)
            if not path.exists():
                todo.append((bid, r))
                continue
            try:
                meta = read_meta(path)
            except TrajectoryError as e:
                logger.warning("%s is unreadable (%s); redoing it", path, e)
                todo.append((bid, r))
                continue
            if meta.protocol.hash != protocol.hash:
                raise ProtocolError(
                    f"{path} was produced under protocol {meta.protocol.name!r} (hash "
                    f"{meta.protocol.hash[:12]}), but this run uses {protocol.name!r} (hash "
                    f"{protocol.hash[:12]}); the same output directory must hold one protocol version. "
                    "Use another --out."
                )
            if meta.optimizer_name != optimizer_name:
                raise OptimizerError(
                    f"{path} holds a run of optimizer {meta.optimizer_name!r}, but this run is of "
                    f"{optimizer_name!r}; use one output directory per optimizer (another --out)."
                )
            if meta.status is RunStatus.FAILED and retry_failed:
                todo.append((bid, r))
                continue
            skipped.append(
                RunSummary(bid, r, path, "skipped", meta.status.value, meta.n_evaluations,
                           meta.incumbent_test_score, meta.stop_reason)
            )  # fmt: skip
    return todo, skipped


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
    progress: bool = False,
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
        progress: show a tqdm progress bar (stderr).

    Returns one :class:`RunSummary` per (task, repetition), sorted. Faults of the optimizer end
    only their run (recorded in its file); a job that cannot run at all is reported as
    ``outcome="error"`` and the others go on.
    """
    proto = get_protocol(protocol)
    if executor not in EXECUTORS:
        raise ProtocolError(f"executor must be one of {EXECUTORS}, but got {executor!r}.")
    if n_processes is not None and (
        isinstance(n_processes, bool) or not isinstance(n_processes, int) or n_processes < 1
    ):
        raise ProtocolError(f"`n_processes >= 1` (an integer) must hold, but got {n_processes!r}.")
    reps = proto.n_repetitions if repetitions is None else repetitions
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ProtocolError(f"`repetitions >= 1` (an integer) must hold, but got {repetitions!r}.")
    if call_timeout is not None and (
        isinstance(call_timeout, bool)
        or not isinstance(call_timeout, (int, float))
        or not call_timeout > 0
    ):
        raise ProtocolError(
            f"call_timeout must be None or `> 0` seconds, but got {call_timeout!r}."
        )
    ids = proto.task_ids() if suite is None else resolve_suite(suite)
    _check_pinned(proto, ids)
    ref: OptimizerRef | OptimizerFactory
    if isinstance(optimizer, str):
        ref = resolve_optimizer(optimizer)
        factory = ref.load()
    else:
        check_factory(optimizer)
        ref = factory = optimizer
    opt_name, opt_version, _ = optimizer_identity(factory)
    out_dir = Path(out)
    _check_out_dir(out_dir)
    todo, results = _plan(out_dir, proto, ids, reps, opt_name, retry_failed)
    jobs = [_Job(b, spec(b), r, proto, ref, opt_name, opt_version, call_timeout) for b, r in todo]
    logger.info("%s: %d runs to do, %d already finished", proto.name, len(jobs), len(results))

    from tqdm.auto import tqdm

    if executor == "serial" or not jobs:
        stream = _map_serial(execute_job, jobs)
    elif executor == "pool":
        stream = _map_pool(execute_job, jobs, n_processes or os.cpu_count() or 1)
    else:
        stream = _map_ray(execute_job, jobs, ray_address)
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
                write_atomic(path, res.payload)
                failed += res.status == RunStatus.FAILED.value
                results.append(
                    RunSummary(res.benchmark_id, res.repetition, path, "ran", res.status,
                               res.n_evaluations, res.incumbent_test_score, res.reason)
                )  # fmt: skip
            bar.set_postfix(failed=failed, errors=errors, refresh=False)
            bar.update(1)
    results.sort(key=lambda s: (s.benchmark_id, s.repetition))
    return results
