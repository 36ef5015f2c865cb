"""Executors: how chunk jobs are spread over processes and machines.

An executor maps one picklable module-level function ``fn(context, job) -> result`` over jobs
and yields results **as they complete**; the run driver writes each one to disk before asking
for the next, so progress is durable chunk by chunk whichever executor runs. Three exist and
all call the very same ``fn`` — the local loop, a process pool and Ray differ only in *where*
``fn`` runs:

* :class:`LocalExecutor` — in this process, one job after another (the default).
* :class:`ProcessExecutor` — a pool of ``spawn``-ed processes on this machine.
* :class:`RayExecutor` — Ray tasks on a local or remote cluster (``pip install 'hpobench[ray]'``);
  the context (dataset arrays) is put in Ray's object store once.

Contract: ``map`` must yield exactly one result per job (any order) or raise; if the consumer
stops early (exception, KeyboardInterrupt), outstanding work is cancelled.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from hpobench._errors import ConfigError
from hpobench._validate import check_int
from hpobench.generate._errors import GenerationError

__all__ = ["Executor", "LocalExecutor", "ProcessExecutor", "RayExecutor"]

logger = logging.getLogger(__name__)

C = TypeVar("C")
J = TypeVar("J")
R = TypeVar("R")


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


class ProcessExecutor:
    """Runs jobs in ``n_workers`` spawned processes (the context is sent once per worker)."""

    name = "process"

    def __init__(self, *, n_workers: int) -> None:
        self.n_workers = check_int("n_workers", n_workers, low=1, high=4096, error=ConfigError)

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
    (and the dataset packages) installed; the driver sends the dataset arrays, so workers do
    not load data themselves. Results come back to the driver, which writes the chunk files, so
    the output folder need not be shared between nodes.
    """

    name = "ray"

    def __init__(
        self, *, address: str | None = None, num_cpus: float = 1.0, num_gpus: float = 0.0
    ) -> None:
        if num_cpus <= 0 or num_gpus < 0:
            raise ConfigError(
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
            raise GenerationError(
                "--ray needs the ray package, which is not installed. Install it with: "
                "pip install 'hpobench[ray]'  (or: pip install ray)"
            ) from e
        return ray

    def map(self, fn: Callable[[C, J], R], context: C, jobs: Sequence[J]) -> Iterator[R]:
        if not jobs:
            return
        ray = self._ray()
        if not ray.is_initialized():
            logger.info("connecting to Ray at %s", self.address or "a new local instance")
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        remote = ray.remote(_ray_call).options(num_cpus=self.num_cpus, num_gpus=self.num_gpus)
        ctx_ref = ray.put(context)
        pending = [remote.remote(fn, ctx_ref, job) for job in jobs]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield ray.get(done[0])
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def describe(self) -> dict[str, Any]:
        return {
            "executor": self.name,
            "address": "local" if self.address is None else "cluster",
            "num_cpus_per_task": self.num_cpus,
            "num_gpus_per_task": self.num_gpus,
        }
