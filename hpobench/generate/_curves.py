"""What the neural trainers return (CurveResult, RuntimeCalibration) and how they check input.

Also the boundary checks both trainers run on their arguments (torch present, device, epochs,
data, configurations). The contract the records serve is in :mod:`hpobench.generate._trainer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from hpobench._errors import ConfigError, FidelityError
from hpobench._validate import check_int
from hpobench.generate._errors import GenerationError
from hpobench.generate._models import (
    ModelSpec,
    model_spec,
)
from hpobench.generate._splits import DatasetSplits

if TYPE_CHECKING:
    import torch


__all__ = [
    "TORCH_CPU_INSTALL",
    "CurveResult",
    "RuntimeCalibration",
    "TrainData",
    "check_data",
    "check_epochs",
    "import_torch",
    "model_specs",
    "resolve_device",
]


@dataclass(frozen=True, eq=False)
class CurveResult:
    """The learning curve of one (configuration, seed).

    ``metrics`` maps each name of :func:`~hpobench.generate._tasks.metric_names` to ``float32[n_epochs]`` (``NaN`` from
    ``diverged_at_epoch`` on). ``runtime`` is ``float32[n_epochs]``, cumulative apportioned
    training seconds; ``group_runtime`` the cumulative wall seconds of the whole group it trained
    in, and ``group_size`` that group's size (1 and equal to ``runtime`` for :func:`train_one`).
    """

    config: dict[str, Any]
    seed: int
    metrics: dict[str, np.ndarray]
    runtime: np.ndarray
    group_runtime: np.ndarray
    group_size: int
    diverged_at_epoch: int | None


@dataclass(frozen=True)
class RuntimeCalibration:
    """How apportioned batch seconds relate to seconds measured for runs trained alone.

    ``scale`` is ``sum(alone) / sum(batched)`` over the sampled runs' mean seconds per epoch;
    ``alone_epoch_seconds``/``batched_epoch_seconds`` are those means, per sampled run (indices
    into the results passed to :func:`calibrate_runtime` in ``indices``), so the spread of the
    ratio can be inspected and recorded next to ``scale``.
    """

    scale: float
    indices: tuple[int, ...]
    alone_epoch_seconds: tuple[float, ...]
    batched_epoch_seconds: tuple[float, ...]
    n_epochs: int
    device: str

    def apply(self, results: Sequence[CurveResult]) -> list[CurveResult]:
        """Copies of ``results`` whose ``runtime`` is multiplied by ``scale``."""
        return [
            replace(r, runtime=(r.runtime * np.float32(self.scale)).astype(np.float32))
            for r in results
        ]


#: The torch build CI pins (``.ci/run``) and the docs tell users to install before the ``train``
#: extra: the CPU wheel, so that following them literally never pulls a CUDA build.
TORCH_CPU_INSTALL = 'pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu'


def import_torch() -> Any:
    """``torch``, or a :class:`GenerationError` saying to install the ``train`` extra.

    The one place generation imports torch: every neural path (trainers, the family's train
    function) raises the same error class and message when it is missing.
    """
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise GenerationError(
            "The neural families (fcnet-grid, lcbench) need PyTorch, which is not installed. "
            f"Install its CPU build first (PyPI's Linux wheel is the multi-GB CUDA build), then "
            f"the extra: {TORCH_CPU_INSTALL} && pip install 'hpobench[train]'"
        ) from exc
    return torch


def resolve_device(device: str) -> torch.device:
    torch = import_torch()
    if not isinstance(device, str):
        raise ConfigError(f"`device` must be 'auto', 'cpu' or 'cuda[:i]', but got {device!r}.")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"`device={device!r}` was asked for, but CUDA is not available.")
        try:
            return torch.device(device)
        except RuntimeError as exc:
            raise ConfigError(f"`device` {device!r} is not a valid CUDA device.") from exc
    raise ConfigError(f"`device` must be 'auto', 'cpu' or 'cuda[:i]', but got {device!r}.")


def check_epochs(n_epochs: Any) -> int:
    return check_int("n_epochs", n_epochs, low=1, high=1_000_000, error=FidelityError)


def check_data(data: Any) -> TrainData:
    if not isinstance(data, TrainData):
        raise ConfigError(
            f"`data` must be a TrainData (= DatasetSplits, e.g. from load_dataset), but got "
            f"{type(data).__name__}."
        )
    return data


def model_specs(
    family: str, configs: Sequence[Mapping[str, Any]], data: TrainData
) -> list[ModelSpec]:
    specs = []
    for i, config in enumerate(configs):
        try:
            specs.append(
                model_spec(family, config, n_features=data.n_features, n_outputs=data.n_outputs)
            )
        except ConfigError as exc:
            raise ConfigError(f"configs[{i}]: {exc}") from exc
    return specs


#: The trainers' name for :class:`~hpobench.generate._splits.DatasetSplits` (the same class).
TrainData = DatasetSplits
