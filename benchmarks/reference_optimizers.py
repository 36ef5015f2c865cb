"""The reference libraries wrapped as hpobench optimizers (ask/tell), for verify_baselines.py.

Each factory has the harness signature ``(problem, seed) -> optimizer`` so that the references run
under the very harness, protocol and seeds as ours. Benchmark-only dependencies, imported lazily:
``optuna`` (TPESampler), ``smac==2.4.1`` (HPO facade), ``syne-tune==0.16.0`` (CQR, ASHA, BOHB),
``dehb==0.1.2`` (DEHB; ``pip install --no-deps dehb==0.1.2 loguru``, since its declared
requirements downgrade numpy).

Space mapping (the same information each side gets): Float and Int as themselves (log scale
kept), Categorical as a categorical, Ordinal as the library's ordered type (Optuna: an integer
over the value indices, which is what our encoding does; SMAC: ``OrdinalHyperparameter`` via
``SearchSpace.to_configspace``; syne-tune: ``ordinal``). Diverged runs (NaN) are reported as a
failed trial (Optuna), a crashed trial (SMAC), the worst loss seen so far (syne-tune's CQR, which
has no failure state in ask/tell) or :data:`DIVERGED_LOSS` (the multi-fidelity references).
"""

from __future__ import annotations

import datetime
import logging
import math
import random
import shutil
import tempfile
import warnings
from typing import Any

import numpy as np

from hpobench import Categorical, Float, Int, Ordinal
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = [
    "dehb_ref",
    "optuna_gp",
    "optuna_tpe",
    "smac_hpo",
    "synetune_asha",
    "synetune_bohb",
    "synetune_cqr",
]


def synetune_space(problem: Problem) -> dict[str, Any]:
    """``problem.space`` as a syne-tune config space (see the module docstring)."""
    from syne_tune import config_space as sp

    cs: dict[str, Any] = {}
    for hp in problem.space:
        if isinstance(hp, Float):
            cs[hp.name] = (sp.loguniform if hp.log else sp.uniform)(hp.low, hp.high)
        elif isinstance(hp, Int):
            cs[hp.name] = (sp.lograndint if hp.log else sp.randint)(hp.low, hp.high)
        elif isinstance(hp, Ordinal):
            cs[hp.name] = sp.ordinal(list(hp.values))
        else:
            assert isinstance(hp, Categorical)
            cs[hp.name] = sp.choice(list(hp.choices))
    return cs


def plain(config: Any) -> dict[str, Any]:
    """A library's configuration as a dict of Python scalars (numpy scalars unwrapped)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in dict(config).items()}


class OptunaTPE:
    """Optuna's ``TPESampler(multivariate=True, seed=seed)`` through ``study.ask/tell``."""

    def __init__(self, problem: Problem, seed: int) -> None:
        import optuna
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.problem = problem
        self.dists: dict[str, Any] = {}
        for hp in problem.space:
            if isinstance(hp, Float):
                self.dists[hp.name] = FloatDistribution(hp.low, hp.high, log=hp.log)
            elif isinstance(hp, Int):
                self.dists[hp.name] = IntDistribution(hp.low, hp.high, log=hp.log)
            elif isinstance(hp, Ordinal):
                self.dists[hp.name] = IntDistribution(0, len(hp.values) - 1)
            else:
                self.dists[hp.name] = CategoricalDistribution(list(hp.choices))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sampler = optuna.samplers.TPESampler(multivariate=True, seed=seed)
        self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self.trials: dict[Suggestion, Any] = {}

    def ask(self) -> Suggestion:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = self.study.ask(self.dists)
        config = {}
        for hp in self.problem.space:
            v = trial.params[hp.name]
            config[hp.name] = hp.values[v] if isinstance(hp, Ordinal) else v
        s = Suggestion(config)
        self.trials[s] = trial
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        import optuna

        trial = self.trials.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        if math.isfinite(loss):
            self.study.tell(trial, loss)
        else:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)


class SmacHPO:
    """SMAC3's ``HyperparameterOptimizationFacade`` (deterministic scenario) through ask/tell."""

    def __init__(self, problem: Problem, seed: int) -> None:
        from smac import HyperparameterOptimizationFacade, Scenario

        self.problem = problem
        self.tmp = tempfile.mkdtemp(prefix="hpobench-smac-")
        cs = problem.space.to_configspace(seed=seed)
        scenario = Scenario(
            cs,
            deterministic=True,
            n_trials=problem.max_evaluations,
            seed=seed,
            output_directory=self.tmp,
        )

        def target(config: Any, seed: int = 0) -> float:  # never called: ask/tell only
            raise RuntimeError("SMAC's target function is not used in ask/tell")

        self.smac = HyperparameterOptimizationFacade(
            scenario, target, overwrite=True, logging_level=40
        )
        self.infos: dict[Suggestion, Any] = {}

    def ask(self) -> Suggestion:
        info = self.smac.ask()
        config = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in info.config.items()}
        s = Suggestion(config)
        self.infos[s] = info
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        info = self.infos.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        if math.isfinite(loss):
            self.smac.tell(info, TrialValue(cost=loss), save=False)
        else:
            self.smac.tell(info, TrialValue(cost=math.inf, status=StatusType.CRASHED), save=False)

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "tmp", ""), ignore_errors=True)


class SyneTuneCQR:
    """syne-tune's single-fidelity ``CQR`` through its ``AskTellScheduler``.

    syne-tune draws part of its randomness from the global numpy and ``random`` generators
    (``np.random.randint`` in the Thompson sampler, ``train_test_split`` without a seed); both
    are seeded here from ``seed`` so that a run is reproducible when runs do not interleave.
    """

    def __init__(self, problem: Problem, seed: int) -> None:
        from syne_tune.optimizer.baselines import CQR
        from syne_tune.optimizer.schedulers.ask_tell_scheduler import AskTellScheduler

        np.random.seed(seed % 2**32)
        random.seed(seed)
        self.problem = problem
        cs = synetune_space(problem)
        self.scheduler = AskTellScheduler(
            CQR(cs, metric="loss", do_minimize=True, random_seed=seed % 2**31)
        )
        self.trials: dict[Suggestion, Any] = {}
        self.worst: float | None = None

    def ask(self) -> Suggestion:
        trial = self.scheduler.ask()
        config = {
            k: (v.item() if isinstance(v, np.generic) else v) for k, v in trial.config.items()
        }
        s = Suggestion(config)
        self.trials[s] = trial
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        trial = self.trials.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        if math.isfinite(loss):
            self.worst = loss if self.worst is None else max(self.worst, loss)
        else:
            loss = 0.0 if self.worst is None else self.worst
        self.scheduler.tell(trial, {"loss": float(loss)})


#: the loss told for a diverged run (NaN) to the multi-fidelity references: neither ``dehb`` nor
#: syne-tune's schedulers have a failure state in ask/tell, and ``+inf`` breaks ``dehb``'s
#: promotion when every evaluated member of a subpopulation diverged (it keeps only finite
#: fitness as promotion candidates, then indexes the empty list). Any finite loss ranks above it.
DIVERGED_LOSS = 1e12


def ceil_to_grid(r: float, values: tuple[int | float, ...]) -> int | float:
    """The smallest fidelity value ``>= r`` (the largest value when none is): the first grid
    step at which a trial reporting every step would have passed milestone ``r``."""
    return next((v for v in values if v >= r * (1 - 1e-9)), values[-1])


class DehbRef:
    """The ``dehb`` package's ``DEHB`` (0.1.2) through its ``ask``/``tell`` interface.

    Its defaults (``eta=3``, ``rand1_bin``, ``mutation_factor=0.5``, ``crossover_prob=0.5``)
    with ``min_fidelity`` and ``max_fidelity`` the smallest and largest fidelity values. ``dehb``
    asks for real-valued fidelities ``max * eta**-k``; each is mapped to the grid value nearest
    on a log scale (:func:`baselines.hyperband.map_to_grid`, as our ``dehb`` maps its rungs).
    ``dehb`` itself never resumes (its ``run`` trains every job from scratch); a user with
    checkpoints would, and the protocol allows it, so a job whose ``config_id`` was already
    trained to a lower fidelity resumes that trial, as our ``dehb`` resumes its promotions
    (unless that trial is being resumed already: with several workers ``dehb`` can promote one
    configuration twice; the second copy then trains from scratch, as in ``dehb``).
    ``n_workers=1``, ``save_freq=None`` (never writes its history: that would be timed) and
    ``log_level="ERROR"``, its log file in a temporary folder; none changes what it proposes.
    """

    def __init__(self, problem: Problem, seed: int) -> None:
        from dehb import DEHB

        from baselines.hyperband import map_to_grid

        self.problem = problem
        self.values = problem.fidelity.values
        self.map = map_to_grid
        self.tmp = tempfile.mkdtemp(prefix="hpobench-dehb-")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConfigSpace 1.x deprecations inside dehb
            self.dehb = DEHB(
                cs=problem.space.to_configspace(seed=seed),
                min_fidelity=self.values[0],
                max_fidelity=self.values[-1],
                eta=3,
                n_workers=1,
                seed=seed % 2**32,
                output_path=self.tmp,
                save_freq=None,
                log_level="ERROR",
            )
        self.jobs: dict[Suggestion, dict[str, Any]] = {}
        self.trained: dict[int, tuple[int, int | float]] = {}  # config_id -> (trial, reached)
        self.busy: set[int] = set()  # trials being resumed now (dehb may re-promote a config)

    def ask(self) -> Suggestion:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            job = self.dehb.ask()
        fidelity = self.map(float(job["fidelity"]), self.values)
        done = self.trained.get(int(job["config_id"]))
        resume = None
        if (
            self.problem.allow_resume
            and done is not None
            and done[1] < fidelity
            and done[0] not in self.busy
        ):
            resume = done[0]
            self.busy.add(resume)
        s = Suggestion(plain(job["config"]), fidelity=fidelity, resume=resume)
        self.jobs[s] = job
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        job = self.jobs.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        fitness = loss if math.isfinite(loss) else DIVERGED_LOSS
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.dehb.tell(job, {"fitness": fitness, "cost": evaluation.cost})
        self.trained[int(job["config_id"])] = (evaluation.trial_id, evaluation.fidelity)
        self.busy.discard(evaluation.trial_id)

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "tmp", ""), ignore_errors=True)


class SyneTuneMF:
    """syne-tune's ``ASHA`` or ``BOHB`` (0.16.0) driven as its ``Tuner`` drives a scheduler:
    ``suggest`` + ``on_trial_add`` for a new trial, ``on_trial_result`` for every result, and
    ``on_trial_remove`` once it says ``STOP``.

    syne-tune 0.16.0 has only the *stopping* variant of ASHA (its ``AsynchronousSuccessiveHalving``
    is adapted from Ray Tune; the promotion type of earlier versions is gone): a trial keeps
    training until a rung milestone ``grace_period * eta**k`` ranks it outside the top ``1/eta``
    seen there (the first result at a rung always continues), or it reaches ``max_t``. Here a
    trial reports only when it has passed its next milestone (the first grid value at or above
    it, :func:`ceil_to_grid`), and ``CONTINUE`` *resumes* the trial to the next one (paying only
    the extra training; a new trial when the protocol forbids resumes). The scheduler ignores
    results between milestones, so this is what it decides when told every step; its ``BOHB``
    searcher sees the milestone results instead of the latest step as a trial's last value.

    Settings: ``grace_period`` and ``max_t`` the smallest and largest fidelity value,
    ``reduction_factor=3``, one bracket, and the library's defaults otherwise (BOHB: ``kde``
    searcher, ``top_n_percent=15``, ``num_candidates=64``, ``bandwidth_factor=3``,
    ``random_fraction=0.33``, ``min_bandwidth=1e-3``). Global ``numpy`` and ``random`` are
    seeded from ``seed`` (syne-tune draws brackets with ``np.random.choice``).
    """

    def __init__(self, problem: Problem, seed: int, *, scheduler: str) -> None:
        from syne_tune.optimizer.baselines import ASHA, BOHB

        logging.getLogger("syne_tune").setLevel(logging.ERROR)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        self.problem = problem
        self.values = problem.fidelity.values
        if len(self.values) < 2:
            raise ValueError(f"syne-tune {scheduler}: needs at least two fidelity values")
        self.cs = synetune_space(problem)
        kind = {"asha": ASHA, "bohb": BOHB}[scheduler]
        self.scheduler = kind(
            self.cs,
            metric="loss",
            time_attr="fidelity",
            max_t=self.values[-1],
            grace_period=self.values[0],
            reduction_factor=3,
            do_minimize=True,
            random_seed=seed % 2**31,
        )
        self.milestones = sorted(m for m, _ in self.scheduler.brackets[0].rungs)
        self.trials: dict[Suggestion, Any] = {}
        self.running: dict[int, int] = {}  # syne-tune trial id -> harness trial id
        self.continuing: list[tuple[Any, int | float]] = []  # FIFO: (trial, next fidelity)
        self.n_trials = 0

    def _next_fidelity(self, reached: int | float) -> int | float:
        above = [m for m in self.milestones if m > reached]
        return ceil_to_grid(above[0], self.values) if above else self.values[-1]

    def ask(self) -> Suggestion | None:
        from syne_tune.backend.trial_status import Trial

        if self.continuing:
            trial, fidelity = self.continuing.pop(0)
            resume = self.running[trial.trial_id] if self.problem.allow_resume else None
            s = Suggestion(plain(trial.config), fidelity=fidelity, resume=resume)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas/statsmodels deprecations in the KDE
                suggestion = self.scheduler.suggest()
            if suggestion is None:
                return None
            trial = Trial(
                trial_id=self.n_trials,
                config=suggestion.config,
                creation_time=datetime.datetime.now(),
            )
            self.n_trials += 1
            self.scheduler.on_trial_add(trial)
            s = Suggestion(
                plain(trial.config), fidelity=ceil_to_grid(self.milestones[0], self.values)
            )
        self.trials[s] = trial
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        from syne_tune.optimizer.scheduler import SchedulerDecision

        trial = self.trials.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        result = {
            "loss": loss if math.isfinite(loss) else DIVERGED_LOSS,
            "fidelity": evaluation.fidelity,
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            decision = self.scheduler.on_trial_result(trial, result)
        if decision == SchedulerDecision.STOP:
            self.scheduler.on_trial_remove(trial)
            self.running.pop(trial.trial_id, None)
        else:
            self.running[trial.trial_id] = evaluation.trial_id
            self.continuing.append((trial, self._next_fidelity(evaluation.fidelity)))


def optuna_tpe(problem: Problem, seed: int) -> OptunaTPE:
    return OptunaTPE(problem, seed)


def optuna_gp(problem: Problem, seed: int) -> Any:
    """Optuna's ``GPSampler`` with its defaults, through the registered ``optuna-gp`` baseline
    (the adapter every Optuna sampler goes through)."""
    from baselines.optuna_adapter import make_gp

    return make_gp(problem, seed)


def smac_hpo(problem: Problem, seed: int) -> SmacHPO:
    return SmacHPO(problem, seed)


def synetune_cqr(problem: Problem, seed: int) -> SyneTuneCQR:
    return SyneTuneCQR(problem, seed)


def dehb_ref(problem: Problem, seed: int) -> DehbRef:
    return DehbRef(problem, seed)


def synetune_asha(problem: Problem, seed: int) -> SyneTuneMF:
    return SyneTuneMF(problem, seed, scheduler="asha")


def synetune_bohb(problem: Problem, seed: int) -> SyneTuneMF:
    return SyneTuneMF(problem, seed, scheduler="bohb")
