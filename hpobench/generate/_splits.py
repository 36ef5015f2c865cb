"""``DatasetSplits``: one dataset split and encoded, checked once; what every family trains on.

The loaders (:mod:`hpobench.generate.datasets`) build it, the train functions and both neural
trainers consume it; there is no second record of the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpobench._errors import ConfigError
from hpobench.generate._tasks import SPLITS, check_task_type

__all__ = ["DatasetSplits"]


@dataclass(frozen=True, eq=False, kw_only=True)
class DatasetSplits:
    """One dataset, split and encoded: the three splits every family trains and evaluates on.

    Built by :func:`hpobench.generate.load_dataset` (with ``name``, ``feature_names`` and
    ``provenance``: where every number came from; for regression ``target_mean``/``target_std``
    so losses can be mapped back to original units) or directly from arrays (then ``name`` and
    ``feature_names`` may be left out). Checked once, here, for every consumer.

    ``X_*`` are numeric ``[n, n_features]`` (used as given: encode and scale them beforehand).
    ``y_*`` are real targets for ``"regression"`` (expected standardized on the train split, so
    the loss is comparable across tasks) and class ids in ``[0, n_classes)`` otherwise.
    ``n_classes`` is 0 for regression, 2 for binary and at least 2 for multiclass. Arrays are
    converted to contiguous ``float32``/``int64`` copies on construction.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task_type: str
    n_classes: int = 0
    name: str = ""
    feature_names: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_task_type(self.task_type)
        regression = self.task_type == "regression"
        if regression and self.n_classes != 0:
            raise ConfigError(f"Regression needs `n_classes == 0`, but got {self.n_classes}.")
        if self.task_type == "binary" and self.n_classes != 2:
            raise ConfigError(f"Binary tasks need `n_classes == 2`, but got {self.n_classes}.")
        if self.task_type == "multiclass" and self.n_classes < 2:
            raise ConfigError(f"Multiclass needs `n_classes >= 2`, but got {self.n_classes}.")
        n_features: int | None = None
        for split in SPLITS:
            X = np.asarray(getattr(self, f"X_{split}"))
            y = np.asarray(getattr(self, f"y_{split}"))
            if X.ndim != 2 or X.shape[0] < 1 or y.shape != (X.shape[0],):
                raise ConfigError(
                    f"The {split} split needs X of shape (n, n_features) with n >= 1 and y of "
                    f"shape (n,), but got X{X.shape} and y{y.shape}."
                )
            if n_features is None:
                n_features = X.shape[1]
            if X.shape[1] != n_features or n_features < 1:
                raise ConfigError(
                    f"All splits need the same number (>= 1) of features, but train has "
                    f"{n_features} and {split} has {X.shape[1]}."
                )
            if not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
                raise ConfigError(f"X_{split} must be numeric and finite (no NaN or inf).")
            if regression:
                if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
                    raise ConfigError(f"y_{split} must be numeric and finite for regression.")
                y = y.astype(np.float32)
            else:
                if not np.issubdtype(y.dtype, np.integer):
                    raise ConfigError(
                        f"y_{split} must hold integer class ids, but has dtype {y.dtype}."
                    )
                if y.min() < 0 or y.max() >= self.n_classes:
                    raise ConfigError(
                        f"y_{split} class ids must lie in [0, {self.n_classes}), but range "
                        f"over [{y.min()}, {y.max()}]."
                    )
                y = y.astype(np.int64)
            object.__setattr__(self, f"X_{split}", np.ascontiguousarray(X, dtype=np.float32))
            object.__setattr__(self, f"y_{split}", np.ascontiguousarray(y))
        if not self.feature_names:
            object.__setattr__(
                self, "feature_names", tuple(f"x{i}" for i in range(n_features or 0))
            )
        if len(self.feature_names) != n_features:
            raise ConfigError(
                f"`feature_names` must name the {n_features} columns of X, but has "
                f"{len(self.feature_names)} names."
            )

    @property
    def n_features(self) -> int:
        """Number of input columns."""
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        """Network outputs: 1 for regression, one per class otherwise."""
        return 1 if self.task_type == "regression" else self.n_classes
