"""Train many small MLP configurations at once and record their per-epoch learning curves.

Why: a learning-curve table needs thousands of tiny training runs. Run one at a time, they are
dominated by per-step Python and kernel-launch overhead; stacked into one model with weights of
shape ``[M, fan_in, fan_out]`` and trained with ``torch.bmm``, ``M`` runs cost about as much
overhead as one. :func:`train_batch` does that; :func:`train_one` is the plain reference (one
``nn.Sequential``, ``torch.optim.Adam``/``SGD``) that the batched path must reproduce and that
the speed benchmark compares against.

What a configuration means (architecture, optimizer, schedule, initial weights, data order) is
defined once, in :mod:`hpobench.generate._models`, and both trainers read it from there.

Contract
--------
* **Same curve batched or alone.** A (configuration, seed) gives the same metrics whether it is
  trained by :func:`train_one` or inside any batch of :func:`train_batch`, up to floating-point
  rounding. Everything that is random or per-model is identical by construction:

  - initial weights are drawn with numpy from the seed (:func:`~._models.seed_streams`), then
    zero-padded to the group's widths; padded units have zero weights in and out, so they stay
    exactly zero and contribute exactly nothing;
  - every model draws its own permutation of the training rows each epoch from its own numpy
    generator; a group gathers per-model minibatches with an ``[M, B]`` index tensor;
  - dropout masks are *counter-based*: unit ``j`` of sample ``b`` in hidden layer ``l`` at step
    ``s`` of epoch ``e`` is kept when 16 bits of a 32-bit hash of (the seed's dropout key,
    ``e``, ``s``, ``l``, ``b * ceil(width / 2) + j // 2``) reach ``ceil(p * 2**16)`` (so ``p``
    acts rounded up to a multiple of ``2**-16``). ``torch.nn.Dropout`` cannot be used: it draws
    from one global generator, so a model's mask would depend on its neighbours in the batch;
  - forward and backward pass are written out with batched matrix products, per model; no
    value is ever reduced across models;
  - the optimizer update uses per-model learning rate, momentum and weight decay held as
    ``[M, 1, 1]`` tensors (Adam: PyTorch's fused kernel writes each model's unit-rate step into
    a scratch tensor, then it is scaled by the model's learning rate; SGD: PyTorch's update
    written out).

  What differs is the order of floating-point sums inside matrix products (``bmm`` on padded
  shapes vs ``addmm``). For well-conditioned runs the curves agree to about ``1e-6`` relative
  (the tests require ``rtol=1e-4`` on CPU); runs that are chaotic in their inputs (typically a
  high Adam learning rate) amplify these last-bit differences over many steps exactly as a
  change of BLAS library or device would, and then agree only in distribution.

* **Metrics.** After every epoch each model is evaluated in eval mode (no dropout) on the full
  train, valid and test splits (in chunks). Regression: ``{split}_loss`` = mean squared error on
  the target as given (:class:`TrainData` expects it standardized on train, as
  :class:`~hpobench.generate.datasets.DatasetSplits` provides it). Classification (binary and
  multiclass; both use one output per class): ``{split}_loss`` (cross-entropy),
  ``{split}_accuracy``, ``{split}_balanced_accuracy`` (mean recall over the classes present in the
  split, as scikit-learn defines it). See :func:`metric_names`.

* **Divergence.** A model *diverges* in epoch ``e`` when one of its training-step losses in that
  epoch, or one of its epoch-end evaluation metrics, is not finite. Its metrics are then ``NaN``
  for epoch ``e`` and every later epoch, :attr:`CurveResult.diverged_at_epoch` is ``e``, and it
  stops learning (its parameters and optimizer state are zeroed and its learning rate is set to
  zero, so no ``inf``/``NaN`` arithmetic lingers). Models never exchange values, so the rest of
  the batch is unaffected. Nothing is imputed: the table layer decides how to serve ``NaN``.

* **Runtime.** ``runtime[e]`` is the cumulative training wall time (seconds) at the end of epoch
  ``e``: data ordering, forward, backward and update; evaluation is excluded (it exists only to
  fill the table). When ``M`` models train together, each epoch's measured group time is
  apportioned to each model by its share of the group's training FLOPs (forward + backward
  FLOPs per sample times samples per epoch, the same number of samples for every member, see
  :func:`~._models.train_flops_per_sample`). The raw group time is kept in
  :attr:`CurveResult.group_runtime`. Apportioned seconds are not the seconds a run would take
  alone; :func:`calibrate_runtime` trains a sample alone and fits one scale factor, which the
  caller records and may apply (:meth:`RuntimeCalibration.apply`). A diverged model keeps its
  place in its group, so it keeps being charged its share (the cost of training to the end);
  :func:`train_one` stops a diverged run and extrapolates its runtime at its mean epoch time.

* **Device.** ``device="auto"`` uses CUDA when available, else CPU. All randomness is drawn on
  the host (numpy) or from counters, so the data order, initial weights and dropout masks do not
  depend on the device; the arithmetic does, within float tolerance.

* **Grouping.** Configurations are grouped by depth (and, for Adam, by batch size, so that all
  members take the same steps); within that, a small cost model (per-step overhead, FLOPs of
  the zero-padded group, optimizer memory traffic, and on CPU a cap that keeps the group's
  parameters and optimizer state cache-sized) chooses which neighbouring configurations to stack,
  padding widths to the group's maximum. SGD groups may mix batch sizes within a factor of two;
  members with fewer steps per epoch simply sit out the last steps (their updates are masked).
  Grouping changes results only within float rounding.

Determinism: the same inputs on the same device and thread count give bit-identical arrays.
Torch is imported only when training starts, so ``import hpobench`` never imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpobench._errors import ConfigError, SeedError
from hpobench.generate._calibration import calibrate_runtime
from hpobench.generate._curves import (
    CurveResult,
    RuntimeCalibration,
    TrainData,
    check_data,
    check_epochs,
    model_specs,
    resolve_device,
)
from hpobench.generate._group import Group
from hpobench.generate._grouping import Member, plan_groups
from hpobench.generate._models import (
    check_family,
    check_seed,
    train_flops_per_sample,
)
from hpobench.generate._reference import train_one
from hpobench.generate._tasks import SPLITS, metric_names
from hpobench.generate._torchdata import to_device

__all__ = [
    "CurveResult",
    "RuntimeCalibration",
    "TrainData",
    "calibrate_runtime",
    "metric_names",
    "train_batch",
    "train_one",
]

logger = logging.getLogger(__name__)


def train_batch(
    family: str,
    configs: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    data: TrainData,
    *,
    n_epochs: int,
    device: str = "auto",
    max_models_per_group: int = 512,
) -> list[CurveResult]:
    """Train every ``(configs[i], seeds[i])`` for ``n_epochs`` epochs, many at a time.

    Returns one :class:`CurveResult` per input, in input order; see the module docstring for
    the equivalence with :func:`train_one`, the metrics, the divergence convention and how
    runtime is apportioned. All configurations are validated before any training starts.

    Raises :class:`ConfigError` for an unknown family, a configuration with missing, unknown
    or invalid hyperparameters, bad data or device; :class:`SeedError` for invalid seeds or a
    ``seeds`` of the wrong length; :class:`FidelityError` for ``n_epochs < 1``.
    """
    family = check_family(family)
    if len(seeds) != len(configs):
        raise SeedError(
            f"`len(seeds) == len(configs)` must hold, but got {len(seeds)} seeds for "
            f"{len(configs)} configurations."
        )
    seed_list = [check_seed(s) for s in seeds]
    n_epochs = check_epochs(n_epochs)
    data = check_data(data)
    if (
        isinstance(max_models_per_group, bool)
        or not isinstance(max_models_per_group, int)
        or max_models_per_group < 1
    ):
        raise ConfigError(
            f"`max_models_per_group` must be an integer >= 1, but got {max_models_per_group!r}."
        )
    specs = model_specs(family, configs, data)
    dev = resolve_device(device)
    if not specs:
        return []
    d, c = data.n_features, data.n_outputs
    members = [Member(i, s, train_flops_per_sample(s, d, c)) for i, s in enumerate(specs)]
    n_eval = sum(int(getattr(data, f"X_{s}").shape[0]) for s in SPLITS)
    groups = plan_groups(
        members,
        n_features=d,
        n_outputs=c,
        n_train=int(data.X_train.shape[0]),
        n_eval=n_eval,
        device_type=dev.type,
        max_models=max_models_per_group,
    )
    logger.info("training %d configurations in %d groups on %s", len(specs), len(groups), dev)
    ddata = to_device(data, dev)
    results: list[CurveResult | None] = [None] * len(specs)
    names = metric_names(data.task_type)
    for g, group_members in enumerate(groups):
        group = Group(group_members, [seed_list[m.index] for m in group_members], ddata, n_epochs)
        history = {name: np.empty((group.M, n_epochs), np.float32) for name in names}
        group_seconds = np.empty(n_epochs, dtype=np.float64)
        for epoch in range(n_epochs):
            group_seconds[epoch] = group.train_epoch(epoch)
            for name, values in group.evaluate(epoch).items():
                history[name][:, epoch] = values
        share = group.flops / group.flops.sum()
        cumulative = np.cumsum(group_seconds)
        for j, mem in enumerate(group_members):
            results[mem.index] = CurveResult(
                config=dict(configs[mem.index]),
                seed=seed_list[mem.index],
                metrics={name: history[name][j].copy() for name in names},
                runtime=(cumulative * share[j]).astype(np.float32),
                group_runtime=cumulative.astype(np.float32),
                group_size=group.M,
                diverged_at_epoch=group.diverged_at[j],
            )
        logger.debug(
            "group %d/%d: %d models, widths %s, %.3f s", g + 1, len(groups), group.M,
            group.pad, cumulative[-1],
        )  # fmt: skip
    return [r for r in results if r is not None]
