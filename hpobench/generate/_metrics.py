"""Per-split metrics computed with numpy, for families that do not come with their own.

The neural trainer computes its metrics in torch; the non-neural families (``gbt``) use these
functions so that the definitions match the trainer's documented ones:

* ``loss``: mean squared error of the (standardized) target for regression; mean cross-entropy
  ``-log p[y]`` for classification, with probabilities clipped to ``[1e-15, 1]`` so that a
  confidently wrong prediction costs ``log(1e15) ≈ 34.5`` and never ``inf``.
* ``accuracy``: fraction of rows whose arg-max class is the label.
* ``balanced_accuracy``: mean recall over the classes that occur in ``y`` (scikit-learn's
  ``balanced_accuracy_score`` without adjustment).

All values are computed in float64 and returned as Python floats; callers store float32.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classification_metrics", "regression_metrics"]

_PROBA_FLOOR = 1e-15


def regression_metrics(y: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """``{"loss": MSE}`` of ``prediction`` against ``y`` (both 1-d, same length)."""
    diff = np.asarray(prediction, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return {"loss": float(np.mean(diff * diff))}


def classification_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Cross-entropy, accuracy and balanced accuracy of class probabilities ``proba[n, k]``.

    ``y`` holds class ids in ``[0, k)``. Rows of ``proba`` need not sum to one exactly.
    """
    labels = np.asarray(y, dtype=np.int64)
    p = np.asarray(proba, dtype=np.float64)
    picked = np.clip(p[np.arange(len(labels)), labels], _PROBA_FLOOR, 1.0)
    predicted = np.argmax(p, axis=1)
    correct = predicted == labels
    recalls = [float(np.mean(correct[labels == c])) for c in np.unique(labels)]
    return {
        "loss": float(-np.mean(np.log(picked))),
        "accuracy": float(np.mean(correct)),
        "balanced_accuracy": float(np.mean(recalls)),
    }


class LabelledSplit:
    """:func:`classification_metrics` for many predictions of one split, without re-counting.

    The labels' class counts and row indices are computed once; :meth:`metrics` then gives the
    same three values as :func:`classification_metrics` (same definitions, same float64 sums:
    a per-class count of correct rows is an exact integer either way). The ``sgd-linear``
    family evaluates every split after every epoch, where re-counting the labels dominated.
    """

    def __init__(self, y: np.ndarray) -> None:
        self.labels = np.asarray(y, dtype=np.int64)
        self.rows = np.arange(len(self.labels))
        self.present = np.unique(self.labels)
        self.counts = np.bincount(self.labels)[self.present].astype(np.float64)

    def metrics(self, proba: np.ndarray) -> dict[str, float]:
        """Cross-entropy, accuracy and balanced accuracy of ``proba[n, k]`` (float64)."""
        p = np.asarray(proba, dtype=np.float64)
        picked = np.clip(p[self.rows, self.labels], _PROBA_FLOOR, 1.0)
        correct = np.argmax(p, axis=1) == self.labels
        hits = np.bincount(self.labels[correct], minlength=int(self.present[-1]) + 1)
        recalls = hits[self.present] / self.counts
        return {
            "loss": float(-np.mean(np.log(picked))),
            "accuracy": float(np.mean(correct)),
            "balanced_accuracy": float(np.mean(recalls)),
        }
