"""Families of generated tables: what is trained, on which data, measured how.

A :class:`Family` is a small frozen record: its search space per variant, its fidelity, the
metrics it writes (with direction and split), the default objective (a valid-split metric) and
reported metric (the matching test-split metric), the training seeds and their tuning/test
split, how configurations are produced, and the function that trains a batch of
``(configuration, seed)`` units. A *task* is a family applied to one dataset; its table id is
``<family>/<dataset>-v1`` (dataset names use ``-`` instead of ``_``).

Variants exist because one family must be generated on very different hardware:

* ``full`` — the published design (the whole FCNet grid, 2,000 sampled LCBench configurations);
  meant for GPUs.
* ``cpu`` — a *named* reduction that fits a laptop-class CPU: a sub-grid that keeps every
  hyperparameter but fewer values (the table's space then declares exactly those values, so a
  grid index covers it fully), or a prefix of the same sampled sequence (so a ``cpu`` table's
  configurations are the first ones of the ``full`` table's), optionally with a train-set
  subsample. The variant and everything it cut are written to meta.json.

Train functions have one signature, :data:`TrainFn`: ``(TrainContext, units) -> TrainOutput``.
The run machinery (:mod:`hpobench.generate._compute`) calls them the same way in-process, in a
process pool and as Ray tasks, so they must be module-level functions and use no global state
except caches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpobench._errors import ConfigError, did_you_mean
from hpobench._validate import check_int
from hpobench.fidelity import Fidelity
from hpobench.generate._tasks import CLASSIFICATION_TYPES, REGRESSION, SPLITS, metric_kinds
from hpobench.space import Categorical, Config, Float, Int, Ordinal, SearchSpace
from hpobench.space._space import MAX_SAMPLES
from hpobench.table import MetricSpec

__all__ = [
    "FAMILIES",
    "Family",
    "TrainContext",
    "TrainFn",
    "TrainOutput",
    "Unit",
    "UnitResult",
    "Variant",
    "get_family",
    "resolve_task",
    "task_name",
]


# --------------------------------------------------------------------------------------------
# What a train function receives and returns


@dataclass(frozen=True, kw_only=True)
class Unit:
    """One ``(configuration, training seed)`` pair of a run; ``index`` is its position in the run."""

    index: int
    config_id: int
    seed: int
    config: Config


@dataclass(frozen=True, kw_only=True)
class UnitResult:
    """Curves of one unit: metric name -> ``float32[n_steps]`` (``runtime`` included).

    ``diverged_at_step`` is the 0-based fidelity step at which the run first produced a
    non-finite loss (``None`` if it never did); the trainer's convention decides what the curve
    holds from there on (NaN for the neural trainer).
    """

    index: int
    metrics: Mapping[str, np.ndarray]
    diverged_at_step: int | None = None


@dataclass(frozen=True, kw_only=True)
class TrainOutput:
    """What a train function returns for a batch of units.

    ``device`` describes the hardware the runtimes were measured on (no host name);
    ``info`` is JSON-serializable detail kept in the chunk's provenance (threads, timer,
    calibration factors...).
    """

    results: tuple[UnitResult, ...]
    device: str
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TrainContext:
    """Everything shared by the units of a run, shipped once to each worker.

    ``data`` is a :class:`~hpobench.generate.datasets.DatasetSplits` (numpy only, picklable).
    ``clock`` returns seconds; families that time themselves (``gbt``) call it exactly twice per
    unit (before and after fitting), so a test can inject a deterministic clock.
    """

    family: Family
    variant: str
    data: Any
    fidelity: Fidelity
    device: str = "auto"
    clock: Callable[[], float] = time.process_time
    settings: Mapping[str, Any] = field(default_factory=dict)


TrainFn = Callable[[TrainContext, Sequence[Unit]], TrainOutput]


# --------------------------------------------------------------------------------------------
# Families and variants


@dataclass(frozen=True, kw_only=True)
class Variant:
    """A named way to generate a family's tables on some hardware.

    ``n_configs`` is ``None`` for a grid (every point of ``space``), else the number of
    configurations sampled from ``space`` with the family's ``config_seed`` (a prefix of one
    fixed sequence, so smaller variants nest in larger ones). ``chunk_size`` is the number of
    ``(config, seed)`` units per chunk file: the most a crash can lose.
    """

    name: str
    description: str
    space: SearchSpace
    n_configs: int | None
    chunk_size: int
    max_train_rows: int | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Family:
    """A generated-table family; see the module docstring."""

    name: str
    description: str
    citation: str
    task_types: tuple[str, ...]
    datasets: tuple[str, ...]
    fidelity: Fidelity
    fidelity_description: str
    seeds: tuple[int, ...]
    tuning_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    variants: Mapping[str, Variant]
    config_seed: int
    train: TrainFn
    runtime_description: str
    seed_description: str
    neural: bool
    split_seed: int = 0

    def variant(self, name: str) -> Variant:
        """The variant called ``name`` or a :class:`ConfigError` listing the valid ones."""
        if name not in self.variants:
            raise ConfigError(
                f"Family {self.name!r} has variants {sorted(self.variants)}, but got {name!r}."
                + did_you_mean(str(name), self.variants)
            )
        return self.variants[name]

    def configs(self, variant: str, n_configs: int | None = None) -> list[Config]:
        """The configurations of ``variant`` in config_id order.

        Grids enumerate every point (first hyperparameter slowest) and refuse ``n_configs``:
        a partial grid would leave holes an optimizer could query. Sampled variants draw from
        ``numpy.random.default_rng(config_seed)``; ``n_configs`` overrides the variant's count
        and, because draws are sequential, always gives a prefix of the same sequence.
        """
        v = self.variant(variant)
        if v.n_configs is None:
            if n_configs is not None:
                raise ConfigError(
                    f"{self.name} ({variant}) is a grid of {v.space.grid_size()} configurations; "
                    f"`n_configs` applies to sampled families only, but got n_configs={n_configs}. "
                    "Choose another variant to train fewer configurations."
                )
            return [v.space.validate(c) for c in v.space.grid()]
        n = check_int(
            "n_configs", v.n_configs if n_configs is None else n_configs, low=1,
            high=MAX_SAMPLES, error=ConfigError,
        )  # fmt: skip
        # n successive sample() calls: the stream every generated table was made with (the
        # vectorised sample_many draws another stream; changing it would change config_hash).
        rng = np.random.default_rng(self.config_seed)
        return [v.space.sample(rng) for _ in range(n)]

    def metrics(self, task_type: str) -> dict[str, MetricSpec]:
        """Metric columns written for a dataset of ``task_type`` (runtime last)."""
        what = {
            "loss": (
                "minimize",
                "mean squared error of the standardized target"
                if task_type == REGRESSION
                else "mean cross-entropy (natural log, probabilities floored at 1e-15)",
            ),
            "accuracy": ("maximize", "accuracy"),
            "balanced_accuracy": ("maximize", "mean per-class recall"),
        }
        out: dict[str, MetricSpec] = {}
        for split in SPLITS:
            for kind in metric_kinds(task_type):
                direction, text = what[kind]
                name = f"{split}_{kind}"
                out[name] = MetricSpec(name, direction, split, f"{text} on the {split} split")
        out["runtime"] = MetricSpec(
            "runtime",
            "minimize",
            "none",
            f"cumulative training seconds at the end of each {self.fidelity.name} step "
            "(see runtime_description)",
        )
        return out

    def objective(self, task_type: str) -> str:
        """Default objective: valid MSE (regression) or valid accuracy (classification).

        Accuracy rather than cross-entropy for classification: it is LCBench's and YAHPO's
        target, so results stay comparable to published ones, and it is bounded, while
        cross-entropy is dominated by a few over-confident rows and by diverged runs, which
        makes normalized regret ill-behaved. The cross-entropy is stored for whoever prefers it.
        """
        return "valid_loss" if task_type == REGRESSION else "valid_accuracy"

    def reported_metric(self, task_type: str) -> str:
        """The test-split twin of :meth:`objective`."""
        return self.objective(task_type).replace("valid_", "test_", 1)


# --------------------------------------------------------------------------------------------
# The families

_SEEDS = (0, 1, 2, 3)
_TUNING = (0, 1)
_TEST = (2, 3)

_REGRESSION_DATASETS = ("computers", "concrete", "cps1988", "diamonds", "hotel_rates")
_CLASSIFICATION_DATASETS = (
    "fashion_mnist",
    "kr_vs_kp",
    "letter",
    "magic",
    "phoneme",
    "satimage",
    "wa_churn",
)

_NEURAL_SEEDS = (
    "a training seed fixes the initial weights, the per-epoch data order and the dropout "
    "masks (hpobench.generate._models.seed_streams)"
)
_NEURAL_RUNTIME = (
    "Cumulative seconds of training (forward, backward and optimizer steps; evaluation "
    "excluded) at the end of each epoch, on the device recorded in generation.devices. "
    "Models train together in batches (same layer shapes and batch size stacked); the measured "
    "wall time of each batched epoch is apportioned to its models in proportion to their "
    "training FLOPs, then multiplied by the calibration factor recorded in "
    "generation.calibration (the ratio of one-model-at-a-time seconds to apportioned seconds, "
    "measured on a sample of configurations), so that the seconds estimate what training one "
    "model alone on that device costs."
)

_FCNET_FULL = SearchSpace(
    [
        Ordinal("n_units_1", (16, 32, 64, 128, 256, 512)),
        Ordinal("n_units_2", (16, 32, 64, 128, 256, 512)),
        Ordinal("dropout_1", (0.0, 0.3, 0.6)),
        Ordinal("dropout_2", (0.0, 0.3, 0.6)),
        Categorical("activation_fn_1", ("relu", "tanh")),
        Categorical("activation_fn_2", ("relu", "tanh")),
        Ordinal("init_lr", (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1)),
        Categorical("lr_schedule", ("cosine", "const")),
        Ordinal("batch_size", (8, 16, 32, 64)),
    ]
)
# The CPU sub-grid keeps every hyperparameter with two values, the FCNet grid's extremes or
# near-extremes where they matter for the landscape (no/heavy dropout, both activations and
# schedules), and cheap ones where they drive cost: layer widths {16, 64} (wide layers cost
# ~16x more FLOPs at 256) and batch sizes {32, 64} (batch size 8 costs 4x more steps).
_FCNET_CPU = SearchSpace(
    [
        Ordinal("n_units_1", (16, 64)),
        Ordinal("n_units_2", (16, 64)),
        Ordinal("dropout_1", (0.0, 0.6)),
        Ordinal("dropout_2", (0.0, 0.6)),
        Categorical("activation_fn_1", ("relu", "tanh")),
        Categorical("activation_fn_2", ("relu", "tanh")),
        Ordinal("init_lr", (1e-3, 1e-2)),
        Categorical("lr_schedule", ("cosine", "const")),
        Ordinal("batch_size", (32, 64)),
    ]
)

_LCBENCH_SPACE = SearchSpace(
    [
        Int("batch_size", 16, 512, log=True),
        Float("learning_rate", 1e-4, 1e-1, log=True),
        Float("momentum", 0.1, 0.99),
        Float("weight_decay", 1e-5, 1e-1, log=True),
        Int("num_layers", 1, 5),
        Int("max_units", 64, 1024, log=True),
        Float("max_dropout", 0.0, 1.0),
    ]
)

_GBT_SPACE = SearchSpace(
    [
        Float("learning_rate", 0.01, 1.0, log=True),
        Int("max_leaf_nodes", 4, 128, log=True),
        Int("min_samples_leaf", 1, 128, log=True),
        Float("l2_regularization", 1e-6, 10.0, log=True),
        Float("max_features", 0.2, 1.0),
        Int("max_bins", 16, 255, log=True),
    ]
)
_GBT_ROUNDS = tuple(range(10, 201, 10))


def _train_neural(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    from hpobench.generate._neural import train_neural

    return train_neural(ctx, units)


def _train_gbt(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    from hpobench.generate._gbt import train_gbt

    return train_gbt(ctx, units)


FCNET_GRID = Family(
    name="fcnet-grid",
    description=(
        "FCNet (Klein & Hutter 2019): two-layer MLP, Adam, MSE on the standardized target, "
        "100 epochs, on the full tabular grid of 62,208 configurations"
    ),
    citation=(
        "Klein A, Hutter F. Tabular Benchmarks for Joint Architecture and Hyperparameter "
        "Optimization. arXiv:1905.04970, 2019."
    ),
    task_types=(REGRESSION,),
    datasets=_REGRESSION_DATASETS,
    fidelity=Fidelity("epoch", tuple(range(1, 101))),
    fidelity_description="training epochs (one pass over the train split each)",
    seeds=_SEEDS,
    tuning_seeds=_TUNING,
    test_seeds=_TEST,
    variants={
        "full": Variant(
            name="full",
            description="the whole FCNet grid (62,208 configurations); meant for GPUs",
            space=_FCNET_FULL,
            n_configs=None,
            chunk_size=4096,
            settings={"model": "fcnet", "max_models_per_group": 1024},
        ),
        "cpu": Variant(
            name="cpu",
            description=(
                "CPU sub-grid: every FCNet hyperparameter with two of its values (n_units "
                "{16, 64}, dropout {0, 0.6}, init_lr {1e-3, 1e-2}, batch_size {32, 64}; both "
                "activations and schedules): 512 configurations; train split subsampled to at "
                "most 1,000 rows"
            ),
            space=_FCNET_CPU,
            n_configs=None,
            chunk_size=256,
            max_train_rows=1000,
            settings={"model": "fcnet", "max_models_per_group": 512},
        ),
    },
    config_seed=0,
    train=_train_neural,
    runtime_description=_NEURAL_RUNTIME,
    seed_description=_NEURAL_SEEDS,
    neural=True,
)

LCBENCH = Family(
    name="lcbench",
    description=(
        "LCBench-style (Zimmer et al. 2021): Auto-PyTorch funnel-shaped MLP, SGD with momentum "
        "and weight decay, cosine-annealed learning rate, cross-entropy, 50 epochs, "
        "configurations sampled from the continuous LCBench space"
    ),
    citation=(
        "Zimmer L, Lindauer M, Hutter F. Auto-PyTorch Tabular: Multi-Fidelity MetaLearning for "
        "Efficient and Robust AutoDL. IEEE TPAMI 43(9), 2021."
    ),
    task_types=CLASSIFICATION_TYPES,
    datasets=_CLASSIFICATION_DATASETS,
    fidelity=Fidelity("epoch", tuple(range(1, 51))),
    fidelity_description="training epochs (one pass over the train split each)",
    seeds=_SEEDS,
    tuning_seeds=_TUNING,
    test_seeds=_TEST,
    variants={
        "full": Variant(
            name="full",
            description="2,000 configurations sampled with config_seed 0 (as LCBench); GPUs",
            space=_LCBENCH_SPACE,
            n_configs=2000,
            chunk_size=1024,
            settings={"model": "lcbench", "max_models_per_group": 1024},
        ),
        "cpu": Variant(
            name="cpu",
            description=(
                "the first 32 of the full variant's 2,000 sampled configurations; train split "
                "subsampled to at most 1,000 rows"
            ),
            space=_LCBENCH_SPACE,
            n_configs=32,
            chunk_size=32,
            max_train_rows=1000,
            settings={"model": "lcbench", "max_models_per_group": 512},
        ),
    },
    config_seed=0,
    train=_train_neural,
    runtime_description=_NEURAL_RUNTIME,
    seed_description=_NEURAL_SEEDS,
    neural=True,
)

GBT = Family(
    name="gbt",
    description=(
        "Gradient-boosted trees: scikit-learn HistGradientBoosting (Classifier or Regressor), "
        "early stopping off, up to 200 boosting rounds, learning curve over rounds from staged "
        "predictions, configurations sampled from a 6-dimensional space"
    ),
    citation=(
        "Pedregosa F et al. Scikit-learn: Machine Learning in Python. JMLR 12, 2011; "
        "Ke G et al. LightGBM: A Highly Efficient Gradient Boosting Decision Tree. NeurIPS 2017."
    ),
    task_types=(REGRESSION, *CLASSIFICATION_TYPES),
    datasets=tuple(sorted((*_REGRESSION_DATASETS, *_CLASSIFICATION_DATASETS))),
    fidelity=Fidelity("boosting_rounds", _GBT_ROUNDS),
    fidelity_description=(
        "boosting rounds (trees per class); the metrics at round r are those of the first r "
        "rounds of one 200-round fit (staged predictions)"
    ),
    seeds=_SEEDS,
    tuning_seeds=_TUNING,
    test_seeds=_TEST,
    variants={
        "full": Variant(
            name="full",
            description="2,000 configurations sampled with config_seed 0",
            space=_GBT_SPACE,
            n_configs=2000,
            chunk_size=64,
            settings={"n_threads": 1, "row_fraction": 0.9},
        ),
        "cpu": Variant(
            name="cpu",
            description="the first 128 of the full variant's 2,000 sampled configurations",
            space=_GBT_SPACE,
            n_configs=128,
            chunk_size=32,
            settings={"n_threads": 1, "row_fraction": 0.9},
        ),
    },
    config_seed=0,
    train=_train_gbt,
    runtime_description=(
        "Cumulative CPU seconds (time.process_time, one thread) of fitting the model, "
        "apportioned linearly over boosting rounds: runtime at round r = fit seconds x r / 200. "
        "Prediction and metric computation are excluded. One model trains at a time, so no "
        "calibration is involved; the CPU is recorded in generation.devices."
    ),
    seed_description=(
        "a training seed draws the 90% of the train split the model is fitted on (uniform "
        "without replacement) and the random_state of the per-node feature subsampling "
        "(max_features); train-split metrics are measured on the rows the model was fitted on"
    ),
    neural=False,
)

_ALL_DATASETS = tuple(sorted((*_REGRESSION_DATASETS, *_CLASSIFICATION_DATASETS)))

_SGD_SPACE = SearchSpace(
    [
        Categorical("loss", ("smooth", "robust", "margin")),
        Categorical("penalty", ("l2", "l1", "elasticnet")),
        Float("alpha", 1e-7, 1e-1, log=True),
        Float("l1_ratio", 0.0, 1.0),
        Categorical("learning_rate", ("constant", "optimal", "invscaling")),
        Float("eta0", 1e-5, 1.0, log=True),
        Float("power_t", 0.05, 1.0),
        Categorical("average", (False, True)),
    ]
)
_SGD_EPOCHS = tuple(range(1, 21))

_FOREST_SPACE = SearchSpace(
    [
        Categorical("kind", ("random_forest", "extra_trees")),
        Float("max_features", 0.05, 1.0),
        Int("max_depth", 1, 32, log=True),
        Int("min_samples_split", 2, 32, log=True),
        Int("min_samples_leaf", 1, 32, log=True),
        Categorical("bootstrap", (False, True)),
        Float("max_samples", 0.1, 1.0),
    ]
)
_FOREST_TREES = (1, 2, 3, 4, 6, 8, 12, 16)


def _train_sgd(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    from hpobench.generate._sgd import train_sgd

    return train_sgd(ctx, units)


def _train_forest(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    from hpobench.generate._forest import train_forest

    return train_forest(ctx, units)


SGD_LINEAR = Family(
    name="sgd-linear",
    description=(
        "Linear models trained by stochastic gradient descent: scikit-learn SGDClassifier "
        "(one-vs-rest) or SGDRegressor, one partial_fit pass over the train split per epoch, "
        "20 epochs, configurations sampled from an 8-dimensional space (loss kind: smooth = "
        "log_loss / squared_error, robust = modified_huber / huber, margin = hinge / "
        "epsilon_insensitive; penalty, alpha, l1_ratio (elasticnet only), learning-rate "
        "schedule, eta0 (constant and invscaling), power_t (invscaling), averaging); "
        "classification probabilities are the logistic/softmax link of the decision scores"
    ),
    citation=(
        "Pedregosa F et al. Scikit-learn: Machine Learning in Python. JMLR 12, 2011; "
        "Bottou L. Large-Scale Machine Learning with Stochastic Gradient Descent. COMPSTAT 2010."
    ),
    task_types=(REGRESSION, *CLASSIFICATION_TYPES),
    datasets=_ALL_DATASETS,
    fidelity=Fidelity("epoch", _SGD_EPOCHS),
    fidelity_description=(
        "training epochs (one partial_fit pass over the train split each, rows shuffled)"
    ),
    seeds=_SEEDS,
    tuning_seeds=_TUNING,
    test_seeds=_TEST,
    variants={
        "full": Variant(
            name="full",
            description="10,000 configurations sampled with config_seed 0; whole train split",
            space=_SGD_SPACE,
            n_configs=10_000,
            chunk_size=400,
            settings={"n_threads": 1},
        ),
        "cpu": Variant(
            name="cpu",
            description=(
                "the first 1,000 of the full variant's 10,000 sampled configurations; train "
                "split subsampled to at most 1,000 rows"
            ),
            space=_SGD_SPACE,
            n_configs=1000,
            chunk_size=200,
            max_train_rows=1000,
            settings={"n_threads": 1},
        ),
    },
    config_seed=0,
    train=_train_sgd,
    runtime_description=(
        "Cumulative CPU seconds (time.process_time, one thread) of the partial_fit calls at the "
        "end of each epoch; evaluation excluded. One model trains at a time, so no calibration "
        "is involved; a diverged run's remaining epochs are charged its mean epoch seconds. The "
        "CPU is recorded in generation.devices."
    ),
    seed_description=(
        "a training seed seeds the random stream that shuffles the train rows in every epoch "
        "(one stream across epochs); weights start at zero"
    ),
    neural=False,
)

FOREST = Family(
    name="forest",
    description=(
        "Random forests and extra trees: scikit-learn RandomForest / ExtraTrees (Classifier or "
        "Regressor), 16 trees grown once, learning curve over the number of trees (the first k "
        "trees of the forest are a k-tree forest), configurations sampled from a "
        "7-dimensional space (kind, max_features, max_depth, min_samples_split, "
        "min_samples_leaf, bootstrap, max_samples (bootstrap only))"
    ),
    citation=(
        "Breiman L. Random Forests. Machine Learning 45, 2001; Geurts P, Ernst D, Wehenkel L. "
        "Extremely randomized trees. Machine Learning 63, 2006; Pedregosa F et al. "
        "Scikit-learn: Machine Learning in Python. JMLR 12, 2011."
    ),
    task_types=(REGRESSION, *CLASSIFICATION_TYPES),
    datasets=_ALL_DATASETS,
    fidelity=Fidelity("trees", _FOREST_TREES),
    fidelity_description=(
        "number of trees; the metrics at k trees are those of the mean prediction of the first "
        "k trees of one 16-tree forest"
    ),
    seeds=_SEEDS,
    tuning_seeds=_TUNING,
    test_seeds=_TEST,
    variants={
        "full": Variant(
            name="full",
            description="5,000 configurations sampled with config_seed 0; whole train split",
            space=_FOREST_SPACE,
            n_configs=5000,
            chunk_size=200,
            settings={"n_threads": 1, "row_fraction": 0.9},
        ),
        "cpu": Variant(
            name="cpu",
            description=(
                "the first 1,000 of the full variant's 5,000 sampled configurations; train "
                "split subsampled to at most 1,000 rows"
            ),
            space=_FOREST_SPACE,
            n_configs=1000,
            chunk_size=100,
            max_train_rows=1000,
            settings={"n_threads": 1, "row_fraction": 0.9},
        ),
    },
    config_seed=0,
    train=_train_forest,
    runtime_description=(
        "Cumulative CPU seconds (time.process_time, one thread) of fitting the 16-tree forest, "
        "apportioned linearly over trees: runtime at k trees = fit seconds x k / 16. Prediction "
        "and metric computation are excluded. One model trains at a time, so no calibration is "
        "involved; the CPU is recorded in generation.devices."
    ),
    seed_description=(
        "a training seed draws the 90% of the train split the forest is fitted on (uniform "
        "without replacement) and the forest's random_state (bootstrap draws, feature subsets, "
        "extra-trees thresholds); train-split metrics are measured on the rows it was fitted on"
    ),
    neural=False,
)

FAMILIES: dict[str, Family] = {f.name: f for f in (FCNET_GRID, FOREST, GBT, LCBENCH, SGD_LINEAR)}


def get_family(name: str) -> Family:
    """The family called ``name`` or a :class:`ConfigError` that suggests one."""
    if name not in FAMILIES:
        raise ConfigError(
            f"Unknown family {name!r}; families are {sorted(FAMILIES)}."
            + did_you_mean(str(name), FAMILIES)
        )
    return FAMILIES[name]


def task_name(dataset: str) -> str:
    """Task name of a dataset in table ids: ``kr_vs_kp`` -> ``kr-vs-kp``."""
    return dataset.replace("_", "-")


def resolve_task(text: str) -> tuple[Family, str]:
    """Parse ``FAMILY/TASK`` (``TASK`` may use ``-`` or ``_``; a ``-v1`` suffix is allowed).

    Returns the family and the *dataset* name understood by
    :func:`hpobench.generate.load_dataset`; unknown names raise :class:`ConfigError` with a
    suggestion.
    """
    if not isinstance(text, str) or text.count("/") != 1:
        examples = ", ".join(f"{f}/{task_name(FAMILIES[f].datasets[0])}" for f in FAMILIES)
        raise ConfigError(
            f"A generation task must look like FAMILY/TASK (e.g. {examples}), but got {text!r}."
        )
    fam_name, task = text.split("/")
    family = get_family(fam_name)
    if task.endswith("-v1"):
        task = task[: -len("-v1")]
    dataset = task.replace("-", "_")
    if dataset in family.datasets:
        return family, dataset
    tasks = [task_name(d) for d in family.datasets]
    others = [f.name for f in FAMILIES.values() if dataset in f.datasets]
    hint = (
        f" {task!r} is a task of {others} ({', '.join(family.task_types)} datasets only here)."
        if others
        else did_you_mean(task_name(dataset), tasks)
    )
    raise ConfigError(f"Family {family.name!r} has no task {task!r}; its tasks are {tasks}.{hint}")


def grid_description(space: SearchSpace) -> dict[str, list[Any]]:
    """Values per dimension of a discrete space (for meta.json's variant record)."""
    return {hp.name: list(hp.grid()) for hp in space if not isinstance(hp, Float)}
