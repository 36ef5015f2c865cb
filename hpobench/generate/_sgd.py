"""The ``sgd-linear`` family's train function: linear models trained by SGD, epoch by epoch.

One unit = one scikit-learn ``SGDClassifier`` (one-vs-rest for several classes) or
``SGDRegressor`` trained by ``partial_fit``, one call per epoch over the whole train split, and
evaluated on the three splits after every epoch: the learning curve is the real model after
``e`` epochs. Why this family: linear models are the most used baseline, their hyperparameters
(loss, penalty, regularization strength, learning-rate schedule) interact strongly, and a
learning curve costs milliseconds on a CPU.

The ``loss`` hyperparameter names a *kind* of loss so that one space serves both task types:

=========  ======================  ==============================
kind       classification          regression
=========  ======================  ==============================
smooth     ``log_loss``            ``squared_error``
robust     ``modified_huber``      ``huber``
margin     ``hinge``               ``epsilon_insensitive``
=========  ======================  ==============================

Predicted probabilities (for the cross-entropy; accuracy uses the same arg-max) are the logistic
(binary) or softmax (several classes) link of the decision scores, for every loss: for
``log_loss`` they equal scikit-learn's ``predict_proba`` in the binary case; for the other losses
they are the natural probabilistic reading of a linear score.

Seeds: training seed ``s`` seeds a ``numpy.random.RandomState`` (from ``SeedSequence([s, tag])``)
that shuffles the train rows in every epoch (one stream across epochs, so epochs see different
orders); the weights start at zero, so the seed is the data order.

Divergence: an epoch whose ``partial_fit`` raises scikit-learn's floating-point overflow error,
or after which a split's loss is not finite or exceeds :data:`DIVERGED_LOSS`, is the divergence
step (scikit-learn clips SGD's gradient at 1e12, so a blown-up run stays finite with losses
near 1e25 instead of overflowing; a standardized-target MSE above 1e6 means predictions a
thousand standard deviations off, and cross-entropy is bounded by 34.5, so the bound only ever
catches such runs); that step and every later
one hold ``NaN`` for every metric, training stops, and the runtime of the remaining steps is
extrapolated at the mean seconds of the epochs trained (the neural trainer's convention).

Runtime: CPU seconds (``ctx.clock``, ``time.process_time`` by default) of the ``partial_fit``
calls on one thread, cumulative over epochs; evaluation excluded. The clock is called twice
per epoch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpobench.generate._families import TrainContext, TrainOutput, Unit, UnitResult
from hpobench.generate._metrics import LabelledSplit, regression_metrics
from hpobench.generate._provenance import cpu_description
from hpobench.generate._tasks import SPLITS, metric_names

__all__ = ["DIVERGED_LOSS", "LOSSES", "sklearn_params", "train_sgd"]

# Bytes of "hpobsgd1": mixed into the seed so this stream never coincides with another use.
_STREAM_TAG = 0x68706F62_73676431

DIVERGED_LOSS = 1e6

LOSSES: dict[str, dict[str, str]] = {
    "classification": {"smooth": "log_loss", "robust": "modified_huber", "margin": "hinge"},
    "regression": {
        "smooth": "squared_error",
        "robust": "huber",
        "margin": "epsilon_insensitive",
    },
}


def sklearn_params(config: Any, regression: bool) -> dict[str, Any]:
    """The scikit-learn constructor arguments of a configuration (no random state)."""
    losses = LOSSES["regression" if regression else "classification"]
    return {
        "loss": losses[str(config["loss"])],
        "penalty": str(config["penalty"]),
        "alpha": float(config["alpha"]),
        "l1_ratio": float(config["l1_ratio"]),
        "learning_rate": str(config["learning_rate"]),
        "eta0": float(config["eta0"]),
        "power_t": float(config["power_t"]),
        "average": bool(config["average"]),
        "fit_intercept": True,
        "max_iter": 1,
        "tol": None,
        "shuffle": True,
    }


def train_sgd(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    """Train every unit in turn and return its per-epoch curves (see the module docstring)."""
    # Import scikit-learn before limiting threads: threadpoolctl limits loaded libraries only.
    import sklearn
    import sklearn.linear_model
    from threadpoolctl import threadpool_limits

    n_threads = int(ctx.settings.get("n_threads", 1))
    # Parameters are validated once per unit (_train_unit); skipping scikit-learn's per-call
    # re-validation and finiteness scan of the same arrays halves the cost of an epoch here.
    with (
        threadpool_limits(limits=n_threads),
        sklearn.config_context(skip_parameter_validation=True, assume_finite=True),
    ):
        evaluate = _Evaluator(ctx, ctx.data.task_type == "regression")
        results = tuple(_train_unit(ctx, unit, evaluate) for unit in units)
    return TrainOutput(
        results=results,
        device=cpu_description(),
        info={
            "n_threads": n_threads,
            "timer": getattr(ctx.clock, "__qualname__", type(ctx.clock).__name__),
        },
    )


def _probabilities(scores: np.ndarray, n_classes: int) -> np.ndarray:
    """Logistic (binary, 1-d scores) or softmax (``[n, k]`` scores) link, in float64."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        p1 = 0.5 * (1.0 + np.tanh(0.5 * s))  # the logistic function without overflow
        return np.stack([1.0 - p1, p1], axis=1)
    shifted = s - s.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    assert out.shape[1] == n_classes
    return out


class _Evaluator:
    """Metrics of a linear model on the three splits, computed from its weights directly.

    ``X @ coef_.T + intercept_`` in float64 is what scikit-learn's ``decision_function`` and
    ``predict`` compute after validating ``X``; doing it here skips the per-call validation,
    which costs more than the product on these small splits.
    """

    def __init__(self, ctx: TrainContext, regression: bool) -> None:
        data = ctx.data
        self.regression = regression
        self.n_classes = int(data.n_classes)
        pairs = {
            "train": (data.X_train, data.y_train),
            "valid": (data.X_valid, data.y_valid),
            "test": (data.X_test, data.y_test),
        }
        self.X = {s: np.asarray(pairs[s][0], dtype=np.float64) for s in SPLITS}
        self.y = {s: pairs[s][1] for s in SPLITS}
        self.labelled = {} if regression else {s: LabelledSplit(self.y[s]) for s in SPLITS}

    def __call__(self, model: Any) -> dict[str, float]:
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        values: dict[str, float] = {}
        for split in SPLITS:
            scores = self.X[split] @ coef.T + intercept
            if self.regression:
                metrics = regression_metrics(self.y[split], scores.ravel())
            else:
                if scores.shape[1] == 1:
                    scores = scores[:, 0]
                metrics = self.labelled[split].metrics(_probabilities(scores, self.n_classes))
            for name, value in metrics.items():
                values[f"{split}_{name}"] = value
        return values


def _train_unit(ctx: TrainContext, unit: Unit, evaluate: _Evaluator) -> UnitResult:
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    data = ctx.data
    regression = data.task_type == "regression"
    n_steps = len(ctx.fidelity.values)
    epochs = np.asarray(ctx.fidelity.values, dtype=np.int64)
    if not np.array_equal(epochs, np.arange(1, n_steps + 1)):
        raise ValueError(f"sgd-linear needs epochs 1..n as fidelity, but got {epochs.tolist()}.")
    seed_seq = np.random.SeedSequence([int(unit.seed), _STREAM_TAG])
    random_state = np.random.RandomState(np.random.MT19937(seed_seq))
    params = sklearn_params(unit.config, regression)
    model: Any = (
        SGDRegressor(**params, random_state=random_state)
        if regression
        else SGDClassifier(**params, random_state=random_state)
    )
    model._validate_params()
    classes = None if regression else np.arange(data.n_classes)
    curves: dict[str, np.ndarray] = {}
    seconds = np.zeros(n_steps, dtype=np.float64)
    diverged: int | None = None
    for step in range(n_steps):
        start = ctx.clock()
        failed = False
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                if regression:
                    model.partial_fit(data.X_train, data.y_train)
                else:
                    model.partial_fit(data.X_train, data.y_train, classes=classes)
            except ValueError as exc:
                if "overflow" not in str(exc).lower() and "nan" not in str(exc).lower():
                    raise
                failed = True
            seconds[step] = max(0.0, float(ctx.clock() - start))
            values = {} if failed else evaluate(model)
        if failed or not all(abs(values[f"{s}_loss"]) <= DIVERGED_LOSS for s in SPLITS):
            diverged = step
            break
        for name, value in values.items():
            if name not in curves:
                curves[name] = np.full(n_steps, np.nan, dtype=np.float32)
            curves[name][step] = value
    if diverged is not None:
        trained = seconds[: diverged + 1]
        seconds[diverged + 1 :] = float(trained.mean())
        for name in metric_names(data.task_type):
            curves.setdefault(name, np.full(n_steps, np.nan, dtype=np.float32))
    curves["runtime"] = np.cumsum(seconds).astype(np.float32)
    return UnitResult(index=unit.index, metrics=curves, diverged_at_step=diverged)
