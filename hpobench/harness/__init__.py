"""The harness: the optimizer contract, versioned protocols, the simulator, trajectories and
suite execution.

Write an optimizer (any object with ``ask``/``tell``) and a factory ``(problem, seed) ->
optimizer``; check it with :func:`check_optimizer`; run it with :func:`run_study` (one task, one
repetition) or :func:`run_suite` / ``hpobench run`` (a whole protocol). :func:`sandboxed_factory`
(``hpobench run --sandbox``) runs it in its own process, away from the tables. See
docs/harness.md.

>>> import numpy as np
>>> from hpobench.harness import Suggestion, run_study
>>> class RandomSearch:
...     def __init__(self, problem, seed):
...         self.space, self.rng = problem.space, np.random.default_rng(seed)
...     def ask(self):
...         return Suggestion(self.space.sample(self.rng))
...     def tell(self, suggestion, evaluation):
...         pass
>>> traj = run_study("fcnet/protein-v1", RandomSearch, "sf-serial-v2", repetition=0)
>>> traj.meta.status.value, traj.meta.n_evaluations > 50
('completed', True)
"""

from hpobench.harness._check import check_optimizer, optimizer_checks
from hpobench.harness._contract import Evaluation, Optimizer, OptimizerFactory, Problem, Suggestion
from hpobench.harness._execute import RunSummary, run_suite, trajectory_path
from hpobench.harness._loading import load_optimizer
from hpobench.harness._oracle import score_on_test_seeds
from hpobench.harness._protocol import (
    PinnedTask,
    Protocol,
    Suite,
    get_protocol,
    get_suite,
    list_protocols,
    list_suites,
    pin_protocol,
    read_protocol,
    register_protocol,
    resolve_suite,
    write_protocol,
)
from hpobench.harness._sandbox import (
    SandboxedFactory,
    SandboxSpec,
    isolation_available,
    sandboxed_factory,
)
from hpobench.harness._simulator import DEFAULT_CALL_TIMEOUT, run_study
from hpobench.harness._trajectory import RunStatus, Trajectory, TrajectoryError, TrajectoryMeta

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "Evaluation",
    "Optimizer",
    "OptimizerFactory",
    "PinnedTask",
    "Problem",
    "Protocol",
    "RunStatus",
    "RunSummary",
    "SandboxSpec",
    "SandboxedFactory",
    "Suggestion",
    "Suite",
    "Trajectory",
    "TrajectoryError",
    "TrajectoryMeta",
    "check_optimizer",
    "get_protocol",
    "get_suite",
    "isolation_available",
    "list_protocols",
    "list_suites",
    "load_optimizer",
    "optimizer_checks",
    "pin_protocol",
    "read_protocol",
    "register_protocol",
    "resolve_suite",
    "run_study",
    "run_suite",
    "sandboxed_factory",
    "score_on_test_seeds",
    "trajectory_path",
    "write_protocol",
]
