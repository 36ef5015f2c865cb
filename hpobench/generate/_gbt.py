"""The ``gbt`` family's train function: HistGradientBoosting curves over boosting rounds.

One unit = one configuration fitted once with ``max_iter = max(fidelity)`` and early stopping
off; the learning curve comes from staged predictions, so the metrics at round ``r`` are exactly
those of a model with ``r`` rounds (boosting is sequential). Why this family: trees give
landscapes unlike neural networks' (step-like in ``max_leaf_nodes``, strong learning-rate ×
rounds interaction) and a learning curve costs one fit on a CPU.

Seeds: training seed ``s`` draws, from ``SeedSequence([s, tag])``, the 90 % of the train split
the model is fitted on (uniform without replacement, ``row_fraction``) and the ``random_state``
of the per-node feature subsampling (``max_features``). Without the row subsample, seeds would
differ only through feature subsampling and configurations with ``max_features`` near 1 would
have identical seeds; with it, every configuration sees data-sampling noise, as the neural
families see data-order noise. Train-split metrics are measured on the fitted rows.

Runtime: CPU seconds (``ctx.clock``, ``time.process_time`` by default) of ``fit`` on one
thread, apportioned linearly over rounds. Process CPU time rather than wall time, because the
generating machine is often shared and wall time would then measure the neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hpobench.generate._cpu import train_units_on_cpu
from hpobench.generate._families import TrainContext, TrainOutput, Unit, UnitResult
from hpobench.generate._metrics import classification_metrics, regression_metrics
from hpobench.generate._rows import seed_rows as _seed_rows
from hpobench.generate._tasks import SPLITS

__all__ = ["seed_rows", "train_gbt"]

# Tag mixed into the seed so this stream never coincides with another use of the same seed
# (bytes of "hpobgbt1").
_STREAM_TAG = 0x68706F62_67627431


def seed_rows(n_train: int, seed: int, fraction: float) -> tuple[np.ndarray, int]:
    """Sorted train rows that seed ``seed`` fits on, and its ``random_state``."""
    return _seed_rows(n_train, seed, fraction, tag=_STREAM_TAG)


def train_gbt(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    """Fit every unit in turn and return its per-round curves (see the module docstring)."""
    return train_units_on_cpu(ctx, units, _train_unit)


def _train_unit(ctx: TrainContext, unit: Unit, fraction: float) -> UnitResult:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    data = ctx.data
    rounds = np.asarray(ctx.fidelity.values, dtype=np.int64)
    n_rounds = int(rounds[-1])
    rows, random_state = seed_rows(len(data.y_train), unit.seed, fraction)
    regression = data.task_type == "regression"
    params: dict[str, Any] = {
        "learning_rate": float(unit.config["learning_rate"]),
        "max_leaf_nodes": int(unit.config["max_leaf_nodes"]),
        "min_samples_leaf": int(unit.config["min_samples_leaf"]),
        "l2_regularization": float(unit.config["l2_regularization"]),
        "max_features": float(unit.config["max_features"]),
        "max_bins": int(unit.config["max_bins"]),
        "max_iter": n_rounds,
        "early_stopping": False,
        "random_state": random_state,
    }
    model: Any = (
        HistGradientBoostingRegressor(**params)
        if regression
        else HistGradientBoostingClassifier(**params)
    )
    X_fit, y_fit = data.X_train[rows], data.y_train[rows]
    start = ctx.clock()
    model.fit(X_fit, y_fit)
    fit_seconds = max(0.0, float(ctx.clock() - start))

    wanted = {int(r): i for i, r in enumerate(rounds)}
    curves: dict[str, np.ndarray] = {}
    diverged: int | None = None
    split_data = {
        "train": (X_fit, y_fit),
        "valid": (data.X_valid, data.y_valid),
        "test": (data.X_test, data.y_test),
    }
    for split in SPLITS:
        X, y = split_data[split]
        staged = model.staged_predict(X) if regression else model.staged_predict_proba(X)
        for r, pred in enumerate(staged, start=1):
            step = wanted.get(r)
            if step is None:
                continue
            if regression:
                values = regression_metrics(y, pred)
            else:
                proba = np.zeros((len(y), data.n_classes), dtype=np.float64)
                proba[:, model.classes_] = pred  # a class absent from the fitted rows keeps 0
                values = classification_metrics(y, proba)
            for name, value in values.items():
                key = f"{split}_{name}"
                if key not in curves:
                    curves[key] = np.full(len(rounds), np.nan, dtype=np.float32)
                curves[key][step] = value
                if not np.isfinite(value) and (diverged is None or step < diverged):
                    diverged = step
    curves["runtime"] = (fit_seconds * rounds / n_rounds).astype(np.float32)
    return UnitResult(index=unit.index, metrics=curves, diverged_at_step=diverged)
