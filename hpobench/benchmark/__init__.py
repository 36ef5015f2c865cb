"""Benchmarks: the common interface and its tabular implementation."""

from hpobench.benchmark._base import BACKEND_KINDS, Backend, Benchmark, Curve
from hpobench.benchmark._result import BatchResult, Result
from hpobench.benchmark._tabular import TabularBenchmark

__all__ = [
    "BACKEND_KINDS",
    "Backend",
    "BatchResult",
    "Benchmark",
    "Curve",
    "Result",
    "TabularBenchmark",
]
