"""hpobench: tabular and surrogate hyperparameter-optimization benchmarks.

Not to be confused with automl/HPOBench, which also installs a package named ``hpobench``.

>>> import hpobench, numpy as np
>>> bench = hpobench.make("fcnet/protein-v1")
>>> config = bench.space.sample(np.random.default_rng(0))
>>> result = bench.query(config, fidelity=bench.fidelity.max, seed=0)
>>> sorted(result.metrics)
['model_size', 'runtime', 'valid_mse']
"""

from hpobench._errors import (
    BenchmarkNotFoundError,
    ConfigError,
    DatasetUnavailableError,
    FidelityError,
    HPOBenchError,
    OptimizerError,
    ProtocolError,
    SeedError,
    TableError,
    TableIntegrityError,
)
from hpobench.benchmark import BatchResult, Benchmark, Result, TabularBenchmark
from hpobench.fidelity import Fidelity
from hpobench.registry import BenchmarkSpec, data_root, list_benchmarks, make, register, spec
from hpobench.space import Categorical, Config, Float, Int, Ordinal, SearchSpace
from hpobench.table import MetricSpec, Table, TableMeta, read_table, write_table

__version__ = "0.1.0"

__all__ = [
    "BatchResult",
    "Benchmark",
    "BenchmarkNotFoundError",
    "BenchmarkSpec",
    "Categorical",
    "Config",
    "ConfigError",
    "DatasetUnavailableError",
    "Fidelity",
    "FidelityError",
    "Float",
    "HPOBenchError",
    "Int",
    "MetricSpec",
    "OptimizerError",
    "Ordinal",
    "ProtocolError",
    "Result",
    "SearchSpace",
    "SeedError",
    "Table",
    "TableError",
    "TableIntegrityError",
    "TableMeta",
    "TabularBenchmark",
    "__version__",
    "data_root",
    "list_benchmarks",
    "make",
    "read_table",
    "register",
    "spec",
    "write_table",
]
