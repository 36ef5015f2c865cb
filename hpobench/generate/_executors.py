"""The executors of table generation are the project's one executor module,
:mod:`hpobench._executor` (shared with the harness); re-exported here for existing imports."""

from hpobench._executor import Executor, LocalExecutor, ProcessExecutor, RayExecutor

__all__ = ["Executor", "LocalExecutor", "ProcessExecutor", "RayExecutor"]
