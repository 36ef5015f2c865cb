"""The ``forest`` family's train function: random forests / extra trees over the number of trees.

One unit = one scikit-learn ``RandomForest*`` or ``ExtraTrees*`` (classifier or regressor) of
``T = max(fidelity)`` trees fitted once; the trees of a forest are independent draws, so its
first ``k`` trees *are* a real ``k``-tree forest, and the metrics at fidelity ``k`` are those of
the mean prediction of the first ``k`` trees (scikit-learn's own averaging of class
probabilities or regression values). Why this family: the forest is the default tree baseline,
its landscape (feature subsampling × depth × leaf size) differs from boosting's, and its
fidelity is one of the few with a *monotone cost and a noisy, saturating gain*.

Seeds: like ``gbt``, training seed ``s`` draws (``SeedSequence([s, tag])``) the 90 % of the
train split the forest is fitted on and the forest's ``random_state`` (bootstrap draws, feature
subsets, extra-trees thresholds); train-split metrics are measured on the fitted rows.

Runtime: CPU seconds (``ctx.clock``, ``time.process_time`` by default) of ``fit`` on one
thread, apportioned linearly over trees (``runtime[k] = fit × k / T``: the trees are i.i.d.
draws, so each costs the same in expectation); prediction excluded. Trees cannot diverge; a
non-finite value would still be recorded by the documented convention (``diverged_at_step``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hpobench.generate._cpu import train_units_on_cpu
from hpobench.generate._families import TrainContext, TrainOutput, Unit, UnitResult
from hpobench.generate._metrics import LabelledSplit, regression_metrics
from hpobench.generate._rows import seed_rows
from hpobench.generate._tasks import SPLITS

__all__ = ["STREAM_TAG", "sklearn_params", "train_forest"]

# Bytes of "hpobrf01": mixed into the seed so this stream never coincides with another use.
STREAM_TAG = 0x68706F62_72663031


def sklearn_params(config: Any, n_trees: int, random_state: int) -> dict[str, Any]:
    """The scikit-learn constructor arguments of a configuration."""
    bootstrap = bool(config["bootstrap"])
    return {
        "n_estimators": int(n_trees),
        "max_features": float(config["max_features"]),
        "max_depth": int(config["max_depth"]),
        "min_samples_split": int(config["min_samples_split"]),
        "min_samples_leaf": int(config["min_samples_leaf"]),
        "bootstrap": bootstrap,
        "max_samples": float(config["max_samples"]) if bootstrap else None,
        "n_jobs": 1,
        "random_state": random_state,
    }


def train_forest(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    """Fit every unit in turn and return its per-tree-count curves (see the module docstring)."""
    return train_units_on_cpu(ctx, units, _train_unit)


def _model(config: Any, regression: bool, params: dict[str, Any]) -> Any:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    extra = str(config["kind"]) == "extra_trees"
    if regression:
        return (ExtraTreesRegressor if extra else RandomForestRegressor)(**params)
    return (ExtraTreesClassifier if extra else RandomForestClassifier)(**params)


def _train_unit(ctx: TrainContext, unit: Unit, fraction: float) -> UnitResult:
    data = ctx.data
    trees = np.asarray(ctx.fidelity.values, dtype=np.int64)
    n_trees = int(trees[-1])
    rows, random_state = seed_rows(len(data.y_train), unit.seed, fraction, tag=STREAM_TAG)
    regression = data.task_type == "regression"
    model = _model(unit.config, regression, sklearn_params(unit.config, n_trees, random_state))
    X_fit, y_fit = data.X_train[rows], data.y_train[rows]
    start = ctx.clock()
    model.fit(X_fit, y_fit)
    fit_seconds = max(0.0, float(ctx.clock() - start))

    wanted = {int(k): i for i, k in enumerate(trees)}
    curves: dict[str, np.ndarray] = {}
    diverged: int | None = None
    split_data = {
        "train": (X_fit, y_fit),
        "valid": (data.X_valid, data.y_valid),
        "test": (data.X_test, data.y_test),
    }
    for split in SPLITS:
        X, y = split_data[split]
        X = np.ascontiguousarray(X, dtype=np.float32)
        labelled = None if regression else LabelledSplit(y)
        total: np.ndarray | None = None
        for k, tree in enumerate(model.estimators_, start=1):
            if regression:
                pred = tree.predict(X, check_input=False).astype(np.float64)
            else:
                pred = np.zeros((len(y), data.n_classes), dtype=np.float64)
                # a class absent from the fitted rows keeps probability 0
                pred[:, model.classes_] = tree.predict_proba(X, check_input=False)
            total = pred if total is None else total + pred
            step = wanted.get(k)
            if step is None:
                continue
            mean = total / k
            values = regression_metrics(y, mean) if labelled is None else labelled.metrics(mean)
            for name, value in values.items():
                key = f"{split}_{name}"
                if key not in curves:
                    curves[key] = np.full(len(trees), np.nan, dtype=np.float32)
                curves[key][step] = value
                if not np.isfinite(value) and (diverged is None or step < diverged):
                    diverged = step
    curves["runtime"] = (fit_seconds * trees / n_trees).astype(np.float32)
    return UnitResult(index=unit.index, metrics=curves, diverged_at_step=diverged)
