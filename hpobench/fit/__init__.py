"""Surrogate fitting (torch) and fidelity cards. Needs the ``train`` extra; see docs/surrogates.md."""

from hpobench.fit._data import CurveData, choose_transform, prepare, seed_basis
from hpobench.fit._fit import (
    DEFAULT_ARCH,
    SMALL_TABLE_ARCH,
    cross_validate,
    default_arch,
    fit_surrogate,
    split_folds,
)
from hpobench.fit._model import Arch, CurveNet, ensemble_arrays, export_arrays
from hpobench.fit._train import TrainConfig, resolve_device, train

__all__ = [
    "DEFAULT_ARCH",
    "SMALL_TABLE_ARCH",
    "Arch",
    "CurveData",
    "CurveNet",
    "TrainConfig",
    "choose_transform",
    "cross_validate",
    "default_arch",
    "ensemble_arrays",
    "export_arrays",
    "fit_surrogate",
    "prepare",
    "resolve_device",
    "seed_basis",
    "split_folds",
    "train",
]
