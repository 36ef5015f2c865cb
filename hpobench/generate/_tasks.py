"""The task vocabulary every generation module shares: task types, splits, metric names.

Defined once here so that the families, the dataset loaders and the trainers cannot disagree
on what a split or a task type is called or which metrics a task type records.
"""

from __future__ import annotations

from hpobench._errors import ConfigError

__all__ = [
    "CLASSIFICATION_TYPES",
    "REGRESSION",
    "SPLITS",
    "TASK_TYPES",
    "check_task_type",
    "metric_kinds",
    "metric_names",
]

REGRESSION = "regression"
CLASSIFICATION_TYPES: tuple[str, ...] = ("binary", "multiclass")
TASK_TYPES: tuple[str, ...] = (REGRESSION, *CLASSIFICATION_TYPES)
SPLITS: tuple[str, ...] = ("train", "valid", "test")


def check_task_type(task_type: object) -> str:
    """``task_type`` if it is one of :data:`TASK_TYPES`, else a :class:`ConfigError`."""
    if task_type not in TASK_TYPES:
        raise ConfigError(f"`task_type` must be one of {TASK_TYPES}, but got {task_type!r}.")
    return str(task_type)


def metric_kinds(task_type: str) -> tuple[str, ...]:
    """Per-split metric kinds of ``task_type``: ``loss`` (+ accuracies for classification)."""
    check_task_type(task_type)
    return ("loss",) if task_type == REGRESSION else ("loss", "accuracy", "balanced_accuracy")


def metric_names(task_type: str) -> tuple[str, ...]:
    """Names of the per-step metrics recorded for ``task_type``, in a fixed order (no runtime)."""
    return tuple(f"{split}_{kind}" for split in SPLITS for kind in metric_kinds(task_type))
