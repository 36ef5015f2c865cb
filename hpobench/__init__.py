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
    TrajectoryError,
)
from hpobench._version import __version__
from hpobench.benchmark import Backend, BatchResult, Benchmark, Result, TabularBenchmark
from hpobench.fidelity import Fidelity
from hpobench.harness import (
    Evaluation,
    Optimizer,
    OptimizerFactory,
    Problem,
    Protocol,
    RunStatus,
    Suggestion,
    Trajectory,
    check_optimizer,
    get_protocol,
    list_protocols,
    run_study,
    run_suite,
    score_on_test_seeds,
)
from hpobench.registry import BenchmarkSpec, data_root, list_benchmarks, make, register, spec
from hpobench.space import Categorical, Config, Float, Int, Ordinal, SearchSpace
from hpobench.table import MetricSpec, Table, TableMeta, read_table, write_table

__all__ = [
    "Backend",
    "BatchResult",
    "Benchmark",
    "BenchmarkNotFoundError",
    "BenchmarkSpec",
    "Categorical",
    "Config",
    "ConfigError",
    "DatasetUnavailableError",
    "Evaluation",
    "Fidelity",
    "FidelityError",
    "Float",
    "HPOBenchError",
    "Int",
    "MetricSpec",
    "Optimizer",
    "OptimizerError",
    "OptimizerFactory",
    "Ordinal",
    "Problem",
    "Protocol",
    "ProtocolError",
    "Result",
    "RunStatus",
    "SearchSpace",
    "SeedError",
    "Suggestion",
    "Table",
    "TableError",
    "TableIntegrityError",
    "TableMeta",
    "TabularBenchmark",
    "Trajectory",
    "TrajectoryError",
    "__version__",
    "check_optimizer",
    "data_root",
    "get_protocol",
    "list_benchmarks",
    "list_protocols",
    "make",
    "read_table",
    "register",
    "run_study",
    "run_suite",
    "score_on_test_seeds",
    "spec",
    "write_table",
]
