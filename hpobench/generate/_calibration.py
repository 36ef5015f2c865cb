"""``calibrate_runtime``: seconds of runs trained alone vs their apportioned batch seconds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hpobench._errors import ConfigError
from hpobench._validate import check_int
from hpobench.generate._curves import (
    CurveResult,
    RuntimeCalibration,
    TrainData,
    check_epochs,
    resolve_device,
)
from hpobench.generate._models import (
    check_family,
    check_seed,
)
from hpobench.generate._reference import train_one

__all__ = ["calibrate_runtime"]


def calibrate_runtime(
    family: str,
    results: Sequence[CurveResult],
    data: TrainData,
    *,
    n_samples: int = 4,
    n_epochs: int = 2,
    device: str = "auto",
    seed: int = 0,
) -> RuntimeCalibration:
    """Fit one factor mapping apportioned batch seconds to seconds measured alone.

    Draws ``n_samples`` of the (non-diverged) ``results`` with ``numpy.random.default_rng(seed)``,
    trains each alone with :func:`train_one` for ``n_epochs`` epochs on ``device`` (which should
    be the device the batch ran on), and compares mean seconds per epoch. Returns the factor
    ``sum(alone) / sum(batched)`` with the per-run figures. Note: alone runs pay a per-step
    overhead that FLOP shares do not see, so small models are under-charged by apportioning more
    than large ones; the per-run figures show how well one factor fits.
    """
    family = check_family(family)
    n_epochs = check_epochs(n_epochs)
    candidates = [i for i, r in enumerate(results) if r.diverged_at_epoch is None]
    n_samples = check_int("n_samples", n_samples, low=1, error=ConfigError)
    if not candidates:
        raise ConfigError("calibrate_runtime needs at least one result that did not diverge.")
    rng = np.random.default_rng(check_seed(seed))
    chosen = sorted(
        int(i) for i in rng.choice(candidates, min(n_samples, len(candidates)), replace=False)
    )
    alone, batched = [], []
    for i in chosen:
        r = results[i]
        solo = train_one(family, r.config, r.seed, data, n_epochs=n_epochs, device=device)
        alone.append(float(solo.runtime[-1]) / n_epochs)
        batched.append(float(r.runtime[-1]) / len(r.runtime))
    total = sum(batched)
    scale = sum(alone) / total if total > 0 else float("nan")
    return RuntimeCalibration(
        scale=scale,
        indices=tuple(chosen),
        alone_epoch_seconds=tuple(alone),
        batched_epoch_seconds=tuple(batched),
        n_epochs=n_epochs,
        device=str(resolve_device(device)),
    )
