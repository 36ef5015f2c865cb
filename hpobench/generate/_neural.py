"""The neural families' train function: a chunk of units through the batched torch trainer.

``fcnet-grid`` and ``lcbench`` both call :func:`train_neural`, which hands a chunk's units to
:func:`hpobench.generate._trainer.train_batch` (configurations stacked by shape and batch size)
and converts each :class:`~hpobench.generate._trainer.CurveResult` into a
:class:`~hpobench.generate._families.UnitResult`.

Runtime: the trainer returns per-model seconds apportioned from the measured batch time by
training FLOPs. To relate them to one-model-at-a-time seconds, each chunk also trains a few of
its units alone for a couple of epochs (:func:`~hpobench.generate._trainer.calibrate_runtime`)
and records the per-run alone/batched seconds per epoch in its provenance. The chunk stores the
*uncalibrated* apportioned seconds; ``merge`` pools the samples of every chunk into one factor
``sum(alone) / sum(batched)`` and multiplies the whole runtime column by it, so one table has
one calibration, recorded in ``meta.json`` (``generation.calibration``).

Torch is imported here only, when a chunk actually trains; the thread count is set from the
variant's ``n_threads`` setting (default 1) so a shared machine is not oversubscribed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hpobench.generate._families import TrainContext, TrainOutput, Unit, UnitResult
from hpobench.generate._provenance import cpu_description

__all__ = ["train_neural"]


def device_description(torch: Any, device: str, n_threads: int) -> str:
    """Hardware the seconds were measured on, e.g. ``"cuda: NVIDIA H100 80GB HBM3"``."""
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        index = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
        return f"cuda: {torch.cuda.get_device_name(index)}"
    plural = "s" if n_threads != 1 else ""
    return f"{cpu_description()}, {n_threads} torch thread{plural}"


def train_neural(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    """Train ``units`` with the batched trainer; attach calibration samples (module docstring)."""
    from hpobench.generate._curves import import_torch

    torch = import_torch()
    from hpobench.generate._trainer import calibrate_runtime, train_batch

    settings = ctx.settings
    model = str(settings["model"])
    n_threads = int(settings.get("n_threads", 1))
    torch.set_num_threads(n_threads)
    data = ctx.data
    n_epochs = len(ctx.fidelity)
    curves = train_batch(
        model,
        [u.config for u in units],
        [u.seed for u in units],
        data,
        n_epochs=n_epochs,
        device=ctx.device,
        max_models_per_group=int(settings.get("max_models_per_group", 512)),
    )
    calibration: dict[str, Any] | None = None
    n_samples = int(settings.get("calibration_samples", 2))
    if n_samples > 0 and any(c.diverged_at_epoch is None for c in curves):
        first = units[0].index
        cal = calibrate_runtime(
            model,
            curves,
            data,
            n_samples=n_samples,
            n_epochs=int(settings.get("calibration_epochs", 2)),
            device=ctx.device,
            seed=first,
        )
        calibration = {
            "unit_indices": [first + i for i in cal.indices],
            "alone_epoch_seconds": list(cal.alone_epoch_seconds),
            "batched_epoch_seconds": list(cal.batched_epoch_seconds),
            "epochs": cal.n_epochs,
            "device": cal.device,
        }
    results = []
    for unit, curve in zip(units, curves, strict=True):
        metrics = {name: np.asarray(v, dtype=np.float32) for name, v in curve.metrics.items()}
        metrics["runtime"] = np.asarray(curve.runtime, dtype=np.float32)
        results.append(
            UnitResult(index=unit.index, metrics=metrics, diverged_at_step=curve.diverged_at_epoch)
        )
    group_sizes = sorted({int(c.group_size) for c in curves})
    return TrainOutput(
        results=tuple(results),
        device=device_description(torch, ctx.device, n_threads),
        info={
            "torch_threads": n_threads,
            "model": model,
            "group_sizes": group_sizes,
            "calibration": calibration,
        },
    )
