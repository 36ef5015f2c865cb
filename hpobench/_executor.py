"""Executors: where independent jobs run — in this process, on a local process pool, or on Ray.

One module for every parallel job of the project (harness suites, table generation, and any
later one such as surrogate fitting). An executor maps one picklable module-level function
``fn(context, job) -> result`` over jobs and yields results **as they complete**; the caller
writes each one to disk before asking for the next, so progress is durable job by job whichever
executor runs. All three call the very same ``fn`` — they differ only in *where* it runs:

* :class:`LocalExecutor` — in this process, one job after another (the default).
* :class:`ProcessExecutor` — ``n_workers`` ``spawn``-ed processes on this machine; the context is
  sent once per worker.
* :class:`RayExecutor` — Ray tasks on a local or remote cluster (``pip install 'hpobench[ray]'``);
  the context is put in Ray's object store once.

Contract (the same for all three): ``map`` yields exactly one result per job (any order) or
raises. When the consumer stops early (an exception, ``KeyboardInterrupt``, ``close()`` of the
generator), outstanding work is cancelled: the pool is shut down with its queued futures
cancelled, Ray tasks are cancelled (``force=True``). A Ray instance the executor started itself is
shut down at the end; one that was already running (or a cluster given by address and joined by
the caller) is left as it was.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from hpobench._errors import HPOBenchError

__all__ = [
    "EXECUTORS",
    "Executor",
    "LocalExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "make_executor",
]

logger = logging.getLogger(__name__)

C = TypeVar("C")
J = TypeVar("J")
R = TypeVar("R")

EXECUTORS = ("local", "process", "ray")


class Executor(Protocol):
    """Maps ``fn(context, job)`` over jobs, yielding results as they complete."""

    name: str

    def map(self, fn: Callable[[C, J], R], context: C, jobs: Sequence[J]) -> Iterator[R]:
        """Run every job; yield each result as soon as it exists."""
        ...

    def describe(self) -> dict[str, Any]:
        """JSON-serializable description for provenance (no host names)."""
        ...


class LocalExecutor:
    """Runs jobs one after another in this process."""

    name = "local"

    def map(self, fn: Callable[[C, J], R], context: C, jobs: Sequence[J]) -> Iterator[R]:
        for job in jobs:
            yield fn(context, job)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}


_WORKER_CONTEXT: Any = None


def _init_worker(context: Any) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = context


def _call_in_worker(fn: Callable[[Any, Any], Any], job: Any) -> Any:
    return fn(_WORKER_CONTEXT, job)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HPOBenchError(f"`{name} >= 1` (an integer) must hold, but got {value!r}.")
    return value


class ProcessExecutor:
    """Runs jobs in ``n_workers`` spawned processes (the context is sent once per worker)."""

    name = "process"

    def __init__(self, *, n_workers: int) -> None:
        self.n_workers = _count("n_workers", n_workers)

    def map(self, fn: Callable[[C, J], R], context: C, jobs: Sequence[J]) -> Iterator[R]:
        if not jobs:
            return
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=min(self.n_workers, len(jobs)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(context,),
        )
        try:
            futures = [pool.submit(_call_in_worker, fn, job) for job in jobs]
            for fut in concurrent.futures.as_completed(futures):
                yield fut.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "n_workers": self.n_workers}


def _ray_call(fn: Callable[[Any, Any], Any], context: Any, job: Any) -> Any:
    return fn(context, job)


class RayExecutor:
    """Runs each job as a Ray task (``num_cpus``/``num_gpus`` resources per task).

    ``address``: ``None`` starts a local Ray instance unless one is already initialized in this
    process; ``"auto"`` or ``"ray://host:port"`` joins a cluster. Workers must have hpobench
    (and whatever the jobs import) installed; results come back to the driver, which writes the
    files, so the output folder need not be shared between nodes. Tasks are not retried
    (``max_retries=0``): a job that fails is reported once, by the caller.
    """

    name = "ray"

    def __init__(
        self, *, address: str | None = None, num_cpus: float = 1.0, num_gpus: float = 0.0
    ) -> None:
        if not num_cpus > 0 or not num_gpus >= 0:
            raise HPOBenchError(
                f"`num_cpus > 0` and `num_gpus >= 0` must hold, got {num_cpus=}, {num_gpus=}."
            )
        self.address = address
        self.num_cpus = float(num_cpus)
        self.num_gpus = float(num_gpus)

    @staticmethod
    def _ray() -> Any:
        try:
            import ray
        except ImportError as e:
            raise HPOBenchError(
                "The Ray executor needs the ray package, which is not installed. Install it with: "
                "pip install 'hpobench[ray]'  (or: pip install ray)"
            ) from e
        return ray

    def map(self, fn: Callable[[C, J], R], context: C, jobs: Sequence[J]) -> Iterator[R]:
        if not jobs:
            return
        ray = self._ray()
        started = False
        if not ray.is_initialized():
            logger.info("connecting to Ray at %s", self.address or "a new local instance")
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            started = True
        pending: list[Any] = []
        try:
            remote = ray.remote(_ray_call).options(
                num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=0
            )
            ctx_ref = ray.put(context)
            pending = [remote.remote(fn, ctx_ref, job) for job in jobs]
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield ray.get(done[0])
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if started:
                ray.shutdown()

    def describe(self) -> dict[str, Any]:
        return {
            "executor": self.name,
            "address": "local" if self.address is None else "cluster",
            "num_cpus_per_task": self.num_cpus,
            "num_gpus_per_task": self.num_gpus,
        }


def make_executor(
    name: str, *, n_workers: int | None = None, address: str | None = None
) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`).

    ``n_workers`` is the process count for ``"process"`` (default: the CPU count); ``address`` is
    the Ray cluster for ``"ray"`` (default: the running Ray, else a new local one).
    """
    import os

    if name == "local":
        return LocalExecutor()
    if name == "process":
        n = (os.cpu_count() or 1) if n_workers is None else _count("n_workers", n_workers)
        return ProcessExecutor(n_workers=n)
    if name == "ray":
        return RayExecutor(address=address)
    raise HPOBenchError(f"executor must be one of {EXECUTORS}, but got {name!r}.")
