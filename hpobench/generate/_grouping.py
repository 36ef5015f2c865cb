"""Which configurations train together: a per-device cost model and the grouping it drives."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpobench.generate._models import (
    ModelSpec,
)

__all__ = ["Member", "plan_groups"]


@dataclass(frozen=True)
class _CostModel:
    """Rough per-device costs used only to decide which configurations to stack together."""

    step_s: float  # fixed cost of one training step of a group (Python + kernel launches)
    flop_s: float  # seconds per FLOP of the stacked matrix products
    param_step_s: float  # seconds per parameter per step for the optimizer's memory traffic
    group_epoch_s: float  # fixed cost per group and epoch (evaluation calls, index building)
    max_state_bytes: float  # cap on parameters + optimizer state of one group


_COSTS = {
    # Fitted to one thread of the 2-core development CPU (AMD EPYC, 32 MB L3) and to public
    # H100 figures; only their ratios matter for the grouping.
    "cpu": _CostModel(
        step_s=3e-4, flop_s=7e-11, param_step_s=2e-9, group_epoch_s=5e-3,
        max_state_bytes=16e6,
    ),
    "cuda": _CostModel(
        step_s=1.5e-3, flop_s=5e-14, param_step_s=5e-12, group_epoch_s=1e-2,
        max_state_bytes=4e9,
    ),
}  # fmt: skip
_STATE_BYTES_PER_PARAM = 20  # parameter, gradient, two Adam moments, one scratch (float32)


@dataclass(frozen=True)
class Member:
    index: int
    spec: ModelSpec
    flops: float


def plan_groups(
    members: Sequence[Member],
    *,
    n_features: int,
    n_outputs: int,
    n_train: int,
    n_eval: int,
    device_type: str,
    max_models: int,
) -> list[list[Member]]:
    """Split configurations into groups that are trained as one stacked model.

    Configurations of one depth (and, for Adam, one batch size) are sorted by batch size and
    widths; a dynamic program over contiguous runs of that order minimises the modelled epoch
    time of all groups (see :class:`_CostModel`).
    """
    cost = _COSTS.get(device_type, _COSTS["cpu"])
    partitions: dict[tuple[Any, ...], list[Member]] = {}
    for mem in members:
        s = mem.spec
        key = (len(s.widths), s.optimizer, s.batch_size if s.optimizer == "adam" else 0)
        partitions.setdefault(key, []).append(mem)

    groups: list[list[Member]] = []
    for key in sorted(partitions):
        part = sorted(partitions[key], key=lambda m: (m.spec.batch_size, m.spec.widths, m.index))
        n = len(part)
        depth = key[0]
        widths = np.array([m.spec.widths for m in part], dtype=np.float64).reshape(n, depth)
        batch = np.array([m.spec.batch_size for m in part], dtype=np.float64)
        best = np.full(n + 1, np.inf)
        best[0] = 0.0
        cut = np.zeros(n + 1, dtype=np.int64)
        for i in range(n):
            stop = min(n, i + max_models)
            # members of one group may differ in batch size by at most a factor of two
            stop = min(stop, i + int(np.searchsorted(batch[i:stop], 2 * batch[i], side="right")))
            pad = np.maximum.accumulate(widths[i:stop], axis=0)  # [w, depth]
            sizes = np.concatenate(
                [np.full((stop - i, 1), n_features), pad, np.full((stop - i, 1), n_outputs)],
                axis=1,
            )
            mac = (sizes[:, :-1] * sizes[:, 1:]).sum(axis=1)  # multiply-adds per sample
            params = mac + sizes[:, 1:].sum(axis=1)
            count = np.arange(1, stop - i + 1, dtype=np.float64)
            steps = math.ceil(n_train / batch[i])
            epoch = (
                steps
                * (
                    cost.step_s
                    + cost.flop_s * 6 * mac * count * batch[i:stop]
                    + cost.param_step_s * params * count
                )
                + cost.flop_s * 2 * mac * count * n_eval / 4  # large GEMMs run faster
                + cost.group_epoch_s
            )
            fits = count * params * _STATE_BYTES_PER_PARAM <= cost.max_state_bytes
            fits[0] = True  # a model alone always forms a group
            total = np.where(fits, best[i] + epoch, np.inf)
            better = total < best[i + 1 : stop + 1]
            best[i + 1 : stop + 1][better] = total[better]
            cut[i + 1 : stop + 1][better] = i
        bounds = []
        j = n
        while j > 0:
            bounds.append((int(cut[j]), j))
            j = int(cut[j])
        groups.extend(part[a:b] for a, b in reversed(bounds))
    return groups
