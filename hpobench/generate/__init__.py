"""Table generation: real datasets, batched training runs, and the tables they produce.

>>> from hpobench.generate import plan_run
>>> plan = plan_run("gbt/concrete", variant="cpu")
>>> plan.benchmark_id, len(plan.configs), plan.seeds, plan.n_chunks
('gbt/concrete-v1', 128, (0, 1, 2, 3), 16)

``generate(plan, out)`` trains the missing chunks of a run (resumable, sharded, on any
executor) and ``merge_run(out)`` writes the v1 table; see docs/generate.md. Importing this
package imports neither torch nor ray.
"""

from __future__ import annotations

from hpobench.generate._errors import ChunkError, GenerationError, RunMismatchError
from hpobench.generate._executors import Executor, LocalExecutor, ProcessExecutor, RayExecutor
from hpobench.generate._families import (
    FAMILIES,
    Family,
    TrainContext,
    TrainOutput,
    Unit,
    UnitResult,
    Variant,
    get_family,
    resolve_task,
)
from hpobench.generate._merge import merge_run, run_status
from hpobench.generate._plan import RunPlan, parse_shard, plan_run, shard_chunks
from hpobench.generate._run import RunReport, generate
from hpobench.generate.datasets import DatasetSplits, list_datasets, load_dataset

__all__ = [
    "FAMILIES",
    "ChunkError",
    "DatasetSplits",
    "Executor",
    "Family",
    "GenerationError",
    "LocalExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "RunMismatchError",
    "RunPlan",
    "RunReport",
    "TrainContext",
    "TrainOutput",
    "Unit",
    "UnitResult",
    "Variant",
    "generate",
    "get_family",
    "list_datasets",
    "load_dataset",
    "merge_run",
    "parse_shard",
    "plan_run",
    "resolve_task",
    "run_status",
    "shard_chunks",
]
