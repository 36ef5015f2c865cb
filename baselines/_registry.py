"""The baselines by name: what each is, its default settings, its papers, what it needs.

One table (:data:`_SPECS`) lists every baseline. Entry points are ``"module:attr"`` strings that
are imported only when a baseline is loaded, so importing this module (or ``hpobench``) never
imports optuna, torch or any other optional dependency. ``defaults`` copy the keyword defaults
of each factory's signature for display; a test checks that the two agree.

>>> from baselines import get_baseline
>>> spec = get_baseline("hyperband")
>>> spec.entry_point, spec.multi_fidelity, spec.defaults["eta"]
('baselines.hyperband:make_optimizer', True, 3.0)
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from baselines._validation import BaselineError
from hpobench import HPOBenchError
from hpobench.harness import OptimizerFactory

__all__ = [
    "BaselineNotFoundError",
    "BaselineSpec",
    "get_baseline",
    "list_baselines",
    "make_factory",
]


class BaselineNotFoundError(HPOBenchError, KeyError):
    """No baseline is registered under that name."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, kw_only=True)
class BaselineSpec:
    """One registered baseline.

    Attributes:
        name: the name for ``hpobench run --optimizer NAME`` (lower case, dashes).
        entry_point: ``"module:attr"`` of its factory ``(problem, seed, **settings)``.
        description: one line.
        defaults: the factory's keyword settings and their defaults.
        references: the paper(s) it implements, as citations.
        multi_fidelity: whether it needs a problem with several fidelity values (it refuses a
            single-fidelity problem at construction).
        extra: the pip extra it needs (``pip install 'hpobench[extra]'``), or ``None``.
        requires: the optional modules it imports when built (tests skip it without them).
    """

    name: str
    entry_point: str
    description: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[str, ...]
    multi_fidelity: bool
    extra: str | None = None
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    @property
    def module(self) -> str:
        return self.entry_point.partition(":")[0]

    @property
    def attr(self) -> str:
        return self.entry_point.partition(":")[2]

    def load(self) -> OptimizerFactory:
        """Import and return the factory (this is when optional dependencies are needed)."""
        factory: OptimizerFactory = getattr(importlib.import_module(self.module), self.attr)
        return factory

    def signature_defaults(self) -> dict[str, Any]:
        """The keyword-only defaults of the factory's signature (imports the module)."""
        params = inspect.signature(self.load()).parameters.values()
        return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


_RS = "Bergstra & Bengio (2012). Random Search for Hyper-Parameter Optimization. JMLR 13."
_SH = (
    "Jamieson & Talwalkar (2016). Non-stochastic Best Arm Identification and Hyperparameter "
    "Optimization. AISTATS."
)
_HB = (
    "Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar (2018). Hyperband: A Novel Bandit-Based "
    "Approach to Hyperparameter Optimization. JMLR 18(185)."
)
_ASHA = (
    "Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt, Recht & Talwalkar (2020). A System for "
    "Massively Parallel Hyperparameter Tuning. MLSys."
)
_BOHB = (
    "Falkner, Klein & Hutter (2018). BOHB: Robust and Efficient Hyperparameter Optimization at "
    "Scale. ICML."
)
_DEHB = (
    "Awad, Mallik & Hutter (2021). DEHB: Evolutionary Hyperband for Scalable, Robust and "
    "Efficient Hyperparameter Optimization. IJCAI."
)
_RE = (
    "Real, Aggarwal, Huang & Le (2019). Regularized Evolution for Image Classifier Architecture "
    "Search. AAAI."
)
_ONE = (
    "Egele, Guyon, Wu, Zhang, Balaprakash et al. (2023). Is One Epoch All You Need For "
    "Multi-Fidelity Hyperparameter Optimization? ESANN (arXiv:2307.15422)."
)
_OPTUNA = (
    "Akiba, Sano, Yanase, Ohta & Koyama (2019). Optuna: A Next-generation Hyperparameter "
    "Optimization Framework. KDD."
)
_TPE = (
    "Bergstra, Bardenet, Bengio & Kégl (2011). Algorithms for Hyper-Parameter Optimization. "
    "NeurIPS."
)
_CMA = "Hansen (2016). The CMA Evolution Strategy: A Tutorial. arXiv:1604.00772."
_GP = "Snoek, Larochelle & Adams (2012). Practical Bayesian Optimization of Machine Learning Algorithms. NeurIPS."

_HB_DEFAULTS: dict[str, Any] = {"eta": 3.0, "min_fidelity": None}

_SPECS: tuple[BaselineSpec, ...] = (
    BaselineSpec(
        name="random-search",
        entry_point="baselines.random_search:make_optimizer",
        description="uniform random configurations at the maximal fidelity",
        defaults={"chunk": 256},
        references=(_RS,),
        multi_fidelity=False,
    ),
    BaselineSpec(
        name="successive-halving",
        entry_point="baselines.successive_halving:make_optimizer",
        description="synchronous successive halving: Hyperband's most exploratory bracket, repeated",
        defaults=_HB_DEFAULTS,
        references=(_SH,),
        multi_fidelity=True,
    ),
    BaselineSpec(
        name="hyperband",
        entry_point="baselines.hyperband:make_optimizer",
        description="synchronous Hyperband exactly as Li et al. (2018), rungs mapped onto the grid",
        defaults=_HB_DEFAULTS,
        references=(_HB,),
        multi_fidelity=True,
    ),
    BaselineSpec(
        name="bohb",
        entry_point="baselines.bohb:make_optimizer",
        description="Hyperband whose brackets start from a TPE-style KDE model per fidelity",
        defaults={
            **_HB_DEFAULTS,
            "random_fraction": 1 / 3,
            "bandwidth_factor": 3.0,
            "top_n_percent": 15,
            "num_samples": 64,
            "min_bandwidth": 1e-3,
            "min_points_in_model": None,
        },
        references=(_BOHB,),
        multi_fidelity=True,
    ),
    BaselineSpec(
        name="dehb",
        entry_point="baselines.dehb:make_optimizer",
        description="Hyperband whose rungs are filled by differential evolution per fidelity",
        defaults={**_HB_DEFAULTS, "mutation_factor": 0.5, "crossover_prob": 0.5},
        references=(_DEHB,),
        multi_fidelity=True,
    ),
    BaselineSpec(
        name="asha",
        entry_point="baselines.asha:make_optimizer",
        description="asynchronous successive halving, promotions resume trials",
        defaults={"eta": 3.0},
        references=(_ASHA,),
        multi_fidelity=True,
    ),
    BaselineSpec(
        name="async-hyperband",
        entry_point="baselines.asha:make_hyperband",
        description="asynchronous Hyperband: ASHA with brackets drawn as in Hyperband",
        defaults={"eta": 3.0},
        references=(_ASHA, _HB),
        multi_fidelity=True,
    ),
    BaselineSpec(
        name="one-epoch-top-k",
        entry_point="baselines.one_epoch:make_optimizer",
        description="train everything one epoch (the smallest fidelity), then the top k fully",
        defaults={"k": 3, "n_configs": None, "screen_fidelity": None},
        references=(_ONE,),
        multi_fidelity=True,
    ),
    BaselineSpec(
        name="optuna-tpe",
        entry_point="baselines.optuna_adapter:make_tpe",
        description="Optuna's TPESampler through the adapter, at the maximal fidelity",
        defaults={"n_startup_trials": 10},
        references=(_TPE, _OPTUNA),
        multi_fidelity=False,
        extra="optuna",
        requires=("optuna",),
    ),
    BaselineSpec(
        name="optuna-gp",
        entry_point="baselines.optuna_adapter:make_gp",
        description="Optuna's GPSampler (GP, log expected improvement), at the maximal fidelity",
        defaults={"n_startup_trials": 10},
        references=(_GP, _OPTUNA),
        multi_fidelity=False,
        extra="optuna",
        requires=("optuna", "torch", "scipy"),
    ),
    BaselineSpec(
        name="optuna-cmaes",
        entry_point="baselines.optuna_adapter:make_cmaes",
        description="Optuna's CmaEsSampler, at the maximal fidelity",
        defaults={"n_startup_trials": 1},
        references=(_CMA, _OPTUNA),
        multi_fidelity=False,
        extra="optuna",
        requires=("optuna", "cmaes"),
    ),
    BaselineSpec(
        name="regularized-evolution",
        entry_point="baselines.regularized_evolution:make_optimizer",
        description="aging evolution at the maximal fidelity: tournament, mutate one value",
        defaults={"population_size": 20, "sample_size": 5},
        references=(_RE,),
        multi_fidelity=False,
    ),
)


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


@functools.cache
def _by_name() -> dict[str, BaselineSpec]:
    return {s.name: s for s in _SPECS}


def _did_you_mean(name: str, candidates: Any) -> str:
    matches = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.5)
    return f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""


def list_baselines() -> list[str]:
    """Names of every registered baseline, in registry order."""
    return [s.name for s in _SPECS]


def get_baseline(name: str) -> BaselineSpec:
    """The spec registered as ``name`` (``_`` and ``-`` are interchangeable, case-insensitive)."""
    if isinstance(name, str):
        spec = _by_name().get(_normalise(name))
        if spec is not None:
            return spec
    raise BaselineNotFoundError(
        f"No baseline is registered as {name!r}; `hpobench baselines` lists them."
        + _did_you_mean(_normalise(str(name)), list_baselines())
    )


def make_factory(name: str, **settings: Any) -> OptimizerFactory:
    """The factory of ``name`` with ``settings`` bound (names checked now, values at construction).

    >>> f = make_factory("asha", eta=4.0)
    >>> f.keywords
    {'eta': 4.0}
    """
    spec = get_baseline(name)
    unknown = [k for k in settings if k not in spec.defaults]
    if unknown:
        raise BaselineError(
            f"Baseline {spec.name!r} takes the settings {sorted(spec.defaults)}, but got unknown "
            f"{unknown}." + _did_you_mean(unknown[0], spec.defaults)
        )
    factory = spec.load()
    return functools.partial(factory, **settings) if settings else factory
