"""Benchmarks: the common interface and its tabular implementation."""

from hpobench.benchmark._base import Benchmark
from hpobench.benchmark._result import BatchResult, Result
from hpobench.benchmark._tabular import TabularBenchmark

__all__ = ["BatchResult", "Benchmark", "Result", "TabularBenchmark"]
