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
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from hpobench._errors import ConfigError, DatasetUnavailableError, FidelityError, SeedError
from hpobench._validate import check_int
from hpobench.generate._models import (
    ModelSpec,
    check_family,
    check_seed,
    init_params,
    layer_shapes,
    lr_factor,
    model_spec,
    seed_streams,
    train_flops_per_sample,
)

if TYPE_CHECKING:
    import torch

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

TASK_TYPES: tuple[str, ...] = ("regression", "binary", "multiclass")
SPLITS: tuple[str, ...] = ("train", "valid", "test")

_ADAM_BETA1 = 0.9
_ADAM_BETA2 = 0.999
_ADAM_EPS = 1e-8
# Use PyTorch's fused Adam kernel (one pass over p, g, m, v) where it exists; the tests also
# run the written-out fallback by switching this off.
_USE_FUSED_ADAM = True


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


# --------------------------------------------------------------------------------------------
# Public records


@dataclass(frozen=True, eq=False, kw_only=True)
class TrainData:
    """The three splits a family is trained and evaluated on.

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

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise ConfigError(
                f"`task_type` must be one of {TASK_TYPES}, but got {self.task_type!r}."
            )
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

    @classmethod
    def from_splits(cls, splits: Any) -> TrainData:
        """Build from any object with the same attributes (e.g. ``DatasetSplits``)."""
        names = [f"{a}_{s}" for s in SPLITS for a in ("X", "y")]
        return cls(
            **{name: getattr(splits, name) for name in names},
            task_type=splits.task_type,
            n_classes=int(splits.n_classes),
        )

    @property
    def n_features(self) -> int:
        """Number of input columns."""
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        """Network outputs: 1 for regression, one per class otherwise."""
        return 1 if self.task_type == "regression" else self.n_classes


@dataclass(frozen=True, eq=False)
class CurveResult:
    """The learning curve of one (configuration, seed).

    ``metrics`` maps each name of :func:`metric_names` to ``float32[n_epochs]`` (``NaN`` from
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


def metric_names(task_type: str) -> tuple[str, ...]:
    """Names of the per-epoch metrics recorded for ``task_type``, in a fixed order."""
    if task_type not in TASK_TYPES:
        raise ConfigError(f"`task_type` must be one of {TASK_TYPES}, but got {task_type!r}.")
    kinds = ("loss",) if task_type == "regression" else ("loss", "accuracy", "balanced_accuracy")
    return tuple(f"{split}_{kind}" for split in SPLITS for kind in kinds)


# --------------------------------------------------------------------------------------------
# Boundary checks


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DatasetUnavailableError(
            "Training needs PyTorch, which is not installed. Install it with: "
            "pip install 'hpobench[train]'"
        ) from exc
    return torch


def _resolve_device(device: str) -> torch.device:
    torch = _import_torch()
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


def _check_epochs(n_epochs: Any) -> int:
    return check_int("n_epochs", n_epochs, low=1, high=1_000_000, error=FidelityError)


def _check_data(data: Any) -> TrainData:
    if not isinstance(data, TrainData):
        raise ConfigError(
            f"`data` must be a TrainData (see TrainData.from_splits), but got "
            f"{type(data).__name__}."
        )
    return data


def _specs(family: str, configs: Sequence[Mapping[str, Any]], data: TrainData) -> list[ModelSpec]:
    specs = []
    for i, config in enumerate(configs):
        try:
            specs.append(
                model_spec(family, config, n_features=data.n_features, n_outputs=data.n_outputs)
            )
        except ConfigError as exc:
            raise ConfigError(f"configs[{i}]: {exc}") from exc
    return specs


# --------------------------------------------------------------------------------------------
# Data on the device, counter-based dropout, evaluation (shared by both trainers)


@dataclass(frozen=True)
class _DeviceData:
    X: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    class_counts: dict[str, np.ndarray]  # per split, rows per class (classification)
    task_type: str
    n_outputs: int
    device: torch.device


def _to_device(data: TrainData, device: torch.device) -> _DeviceData:
    torch = _import_torch()
    X = {s: torch.from_numpy(getattr(data, f"X_{s}")).to(device) for s in SPLITS}
    y = {s: torch.from_numpy(getattr(data, f"y_{s}")).to(device) for s in SPLITS}
    counts = {}
    if data.task_type != "regression":
        counts = {
            s: np.bincount(getattr(data, f"y_{s}"), minlength=data.n_classes).astype(np.float64)
            for s in SPLITS
        }
    return _DeviceData(X, y, counts, data.task_type, data.n_outputs, device)


def _hash32_(x: torch.Tensor) -> torch.Tensor:
    """In-place 32-bit integer hash of an int32 tensor (its bits read as unsigned).

    Chris Wellons' two-round "lowbias32"-style mixer with constants below ``2**31``; int32
    multiplication wraps modulo ``2**32`` and right shifts are made logical by masking, so the
    result equals the unsigned 32-bit hash on every device.
    """
    x.bitwise_xor_((x >> 16).bitwise_and_(0xFFFF))
    x.mul_(0x21F0AAAD)
    x.bitwise_xor_((x >> 15).bitwise_and_(0x1FFFF))
    x.mul_(0x735A2D97)
    x.bitwise_xor_((x >> 15).bitwise_and_(0x1FFFF))
    return x


def _as_int32(values: Sequence[int]) -> np.ndarray:
    """Unsigned 32-bit values as the int32 array with the same bits."""
    return np.asarray(values, dtype=np.uint32).view(np.int32)


def _step_keys(dropout_keys: torch.Tensor, epoch: int, n_steps: int, n_layers: int) -> torch.Tensor:
    """Per-model dropout keys of every (step, hidden layer) of one epoch: int32 ``[S, L, M]``.

    ``dropout_keys`` are the models' int32 keys ``[M]`` (:func:`~._models.seed_streams`).
    """
    torch = _import_torch()
    dev = dropout_keys.device
    x = dropout_keys.view(1, 1, -1) ^ int(_as_int32([epoch + 1])[0])
    x = _hash32_(x.expand(n_steps, n_layers, -1).clone())
    x.bitwise_xor_(torch.arange(n_steps, dtype=torch.int32, device=dev).view(-1, 1, 1))
    _hash32_(x)
    x.bitwise_xor_(torch.arange(n_layers, dtype=torch.int32, device=dev).view(1, -1, 1))
    return _hash32_(x)


def _pair_positions(widths: torch.Tensor, rows: int, pad_width: int) -> torch.Tensor:
    """int32 ``[M, rows, ceil(pad_width / 2)]``: ``b * ceil(width_m / 2) + q``.

    One 32-bit hash serves two neighbouring units (16 bits each), so position ``q`` of sample
    ``b`` in model ``m``'s own minibatch covers units ``2q`` and ``2q + 1``.
    """
    torch = _import_torch()
    dev = widths.device
    pairs = (widths.to(torch.int32).view(-1, 1, 1) + 1) // 2
    b = torch.arange(rows, dtype=torch.int32, device=dev).view(1, -1, 1)
    q = torch.arange((pad_width + 1) // 2, dtype=torch.int32, device=dev).view(1, 1, -1)
    return b * pairs + q


def _dropout_params(p: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model ``(threshold int32, scale float32)``, both ``[M, 1, 1]``, for probabilities p.

    A unit is kept when its 16-bit uniform integer is ``>= ceil(p * 65536)`` (so ``p`` acts
    rounded up to a multiple of ``2**-16``), and kept units are scaled by ``1 / (1 - p)`` (0 when
    ``p == 1``: everything is dropped).
    """
    torch = _import_torch()
    p = np.asarray(p, dtype=np.float64)
    threshold = np.ceil(p * 65536.0).astype(np.int32)
    safe = np.where(p < 1.0, 1.0 - p, 1.0)
    scale = np.where(p < 1.0, 1.0 / safe, 0.0).astype(np.float32)
    return (
        torch.from_numpy(threshold).to(device).view(-1, 1, 1),
        torch.from_numpy(scale).to(device).view(-1, 1, 1),
    )


def _dropout_factor(
    pair_positions: torch.Tensor,
    keys: torch.Tensor,
    threshold: torch.Tensor,
    scale: torch.Tensor,
    width: int,
) -> torch.Tensor:
    """Dropout multipliers ``[..., M, B, width]``: ``scale`` where kept, 0 where dropped.

    ``pair_positions`` from :func:`_pair_positions`, ``keys`` the int32 step keys ``[..., M]``
    (leading dimensions: several steps at once), ``threshold``/``scale`` from
    :func:`_dropout_params`.
    """
    torch = _import_torch()
    k = keys[..., None, None]
    x = _hash32_(pair_positions ^ k)
    x.bitwise_xor_(k)
    _hash32_(x)
    halves = torch.stack((x & 0xFFFF, (x >> 16).bitwise_and_(0xFFFF)), dim=-1)
    uniform16 = halves.flatten(-2)[..., :width]
    return torch.where(uniform16 >= threshold, scale, 0.0)


def _column(device: torch.device, values: Sequence[float]) -> torch.Tensor:
    """``float32[M, 1, 1]`` tensor of per-model values (broadcasts over weights and biases)."""
    torch = _import_torch()
    return torch.tensor(values, dtype=torch.float32, device=device).view(-1, 1, 1)


def _chunk_rows(n_models: int, max_width: int, device: torch.device) -> int:
    """Rows evaluated at once: activations of about 1 MiB on CPU (cache-sized, but at least
    256 rows so wide groups do not pay per-chunk overhead too often), 1 GiB on GPU."""
    if device.type == "cuda":
        return max(1024, 2**28 // max(1, n_models * max_width))
    return max(256, 2**18 // max(1, n_models * max_width))


def _evaluate(
    forward: Callable[[torch.Tensor], torch.Tensor],
    data: _DeviceData,
    n_models: int,
    chunk: int,
) -> dict[str, np.ndarray]:
    """All metrics of ``n_models`` models: name -> ``float64[M]``.

    ``forward`` maps ``X[N, n_features]`` to outputs ``[M, N, n_outputs]`` in eval mode.
    Sums are accumulated in float64 so chunking does not change the result measurably.
    """
    torch = _import_torch()
    out_metrics: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for split in SPLITS:
            X, y = data.X[split], data.y[split]
            n = X.shape[0]
            loss = torch.zeros(n_models, dtype=torch.float64, device=data.device)
            correct = torch.zeros_like(loss)
            per_class = None
            if data.task_type != "regression":
                per_class = torch.zeros(
                    n_models, data.n_outputs, dtype=torch.float64, device=data.device
                )
            for start in range(0, n, chunk):
                xb, yb = X[start : start + chunk], y[start : start + chunk]
                out = forward(xb).to(torch.float64)
                if data.task_type == "regression":
                    loss += ((out[..., 0] - yb.to(torch.float64)) ** 2).sum(dim=1)
                    continue
                logp = torch.log_softmax(out, dim=-1)
                loss -= logp.gather(-1, yb.view(1, -1, 1).expand(n_models, -1, 1))[..., 0].sum(1)
                hit = (out.argmax(dim=-1) == yb.view(1, -1)).to(torch.float64)
                correct += hit.sum(dim=1)
                assert per_class is not None
                per_class.index_add_(1, yb, hit)
            out_metrics[f"{split}_loss"] = (loss / n).cpu().numpy()
            if per_class is not None:
                counts = data.class_counts[split]
                present = counts > 0
                recall = per_class.cpu().numpy()[:, present] / counts[present]
                out_metrics[f"{split}_accuracy"] = (correct / n).cpu().numpy()
                out_metrics[f"{split}_balanced_accuracy"] = recall.mean(axis=1)
    return out_metrics


def _epoch_order(
    order_rngs: Sequence[np.random.Generator], n: int, batch_sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """This epoch's minibatch rows ``int32[M, S, B_max]`` and sizes ``int64[M, S]``.

    Model ``m`` takes ``perm_m[s * B_m : (s + 1) * B_m]`` at step ``s`` (the last batch may be
    short); steps past its own ``ceil(n / B_m)`` have size 0 and pad with row 0.
    """
    steps = -(-n // batch_sizes)
    n_steps, b_max = int(steps.max()), int(batch_sizes.max())
    idx = np.zeros((len(order_rngs), n_steps, b_max), dtype=np.int32)
    sizes = np.zeros((len(order_rngs), n_steps), dtype=np.int64)
    for m, rng in enumerate(order_rngs):
        b, k = int(batch_sizes[m]), int(steps[m])
        flat = np.zeros(k * b, dtype=np.int32)
        flat[:n] = rng.permutation(n)
        idx[m, :k, :b] = flat.reshape(k, b)
        sizes[m, :k] = b
        sizes[m, k - 1] = n - (k - 1) * b
    return idx, sizes


# --------------------------------------------------------------------------------------------
# Grouping


@dataclass(frozen=True)
class _Member:
    index: int
    spec: ModelSpec
    flops: float


def _plan_groups(
    members: Sequence[_Member],
    *,
    n_features: int,
    n_outputs: int,
    n_train: int,
    n_eval: int,
    device_type: str,
    max_models: int,
) -> list[list[_Member]]:
    """Split configurations into groups that are trained as one stacked model.

    Configurations of one depth (and, for Adam, one batch size) are sorted by batch size and
    widths; a dynamic program over contiguous runs of that order minimises the modelled epoch
    time of all groups (see :class:`_CostModel`).
    """
    cost = _COSTS.get(device_type, _COSTS["cpu"])
    partitions: dict[tuple[Any, ...], list[_Member]] = {}
    for mem in members:
        s = mem.spec
        key = (len(s.widths), s.optimizer, s.batch_size if s.optimizer == "adam" else 0)
        partitions.setdefault(key, []).append(mem)

    groups: list[list[_Member]] = []
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


# --------------------------------------------------------------------------------------------
# The stacked group


class _Group:
    """``M`` models of one depth trained in lockstep as one stacked model (see module doc)."""

    # per hidden layer: "relu", "tanh", or (indices of the tanh models, of the relu models)
    act: list[str | tuple[torch.Tensor, torch.Tensor]]
    dropout: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None]  # see _dropout_factor

    def __init__(
        self,
        members: Sequence[_Member],
        seeds: Sequence[int],
        data: _DeviceData,
        n_epochs: int,
    ) -> None:
        torch = _import_torch()
        dev = data.device
        self.data = data
        self.n_epochs = n_epochs
        self.specs = [m.spec for m in members]
        self.M = M = len(members)
        self.depth = depth = len(self.specs[0].widths)
        d = int(data.X["train"].shape[1])
        c = data.n_outputs
        true_widths = np.array([s.widths for s in self.specs], dtype=np.int64).reshape(M, depth)
        self.pad = [int(w) for w in true_widths.max(axis=0)] if depth else []
        sizes = [d, *self.pad, c]
        W = [np.zeros((M, sizes[i], sizes[i + 1]), np.float32) for i in range(depth + 1)]
        b = [np.zeros((M, 1, sizes[i + 1]), np.float32) for i in range(depth + 1)]
        self.order_rngs: list[np.random.Generator] = []
        dkeys = []
        for m, (spec, seed) in enumerate(zip(self.specs, seeds, strict=True)):
            init_rng, order_rng, dkey = seed_streams(seed)
            for layer, (w0, b0) in enumerate(init_params(layer_shapes(spec, d, c), init_rng)):
                W[layer][m, : w0.shape[0], : w0.shape[1]] = w0
                b[layer][m, 0, : b0.shape[0]] = b0
            self.order_rngs.append(order_rng)
            dkeys.append(dkey)
        self.params = [torch.from_numpy(a).to(dev) for a in W + b]
        self.dropout_keys = torch.from_numpy(_as_int32(dkeys)).to(dev)

        # activations: one kind for the whole layer, or a per-model choice
        self.act = []
        for layer in range(depth):
            kinds = {s.activations[layer] for s in self.specs}
            if len(kinds) == 1:
                self.act.append(kinds.pop())
            else:
                # Mixed layer: tanh is computed only for the tanh models (gathered) and written
                # over the relu output; computing both for every model and selecting cost ~40 %
                # of a step. Same per-model arithmetic, so the same curves.
                is_tanh = np.array([s.activations[layer] == "tanh" for s in self.specs])
                self.act.append(
                    (
                        torch.from_numpy(np.flatnonzero(is_tanh)).to(dev),
                        torch.from_numpy(np.flatnonzero(~is_tanh)).to(dev),
                    )
                )
        # dropout per layer: unit positions, thresholds, scales (None: no dropout)
        self.batch_sizes = np.array([s.batch_size for s in self.specs], dtype=np.int64)
        b_max = int(self.batch_sizes.max())
        self.dropout = []
        for layer in range(depth):
            p = np.array([s.dropouts[layer] for s in self.specs], dtype=np.float64)
            if not (p > 0).any():
                self.dropout.append(None)
                continue
            width = torch.from_numpy(true_widths[:, layer]).to(dev)
            positions = _pair_positions(width, b_max, self.pad[layer])
            self.dropout.append((positions, *_dropout_params(p, dev)))
        # optimizer
        self.optimizer = self.specs[0].optimizer
        self.base_lr = np.array([s.learning_rate for s in self.specs], dtype=np.float64)
        self.schedules = [s.lr_schedule for s in self.specs]
        self.state = [[torch.zeros_like(p) for p in self.params]]
        if self.optimizer == "adam":
            self.state.append([torch.zeros_like(p) for p in self.params])
            self.scratch = [torch.zeros_like(p) for p in self.params]
            self.adam_step = 0
            self.step_t = torch.zeros((), dtype=torch.float32, device=dev)
        else:
            self.momentum = _column(dev, [s.momentum for s in self.specs])
            self.weight_decay = _column(dev, [s.weight_decay for s in self.specs])
        self.alive = np.ones(M, dtype=bool)
        self.diverged_at: list[int | None] = [None] * M
        self.flops = np.array([m.flops for m in members], dtype=np.float64)

    # -- model ---------------------------------------------------------------------------------

    def _activate(self, layer: int, z: torch.Tensor) -> torch.Tensor:
        torch = _import_torch()
        kind = self.act[layer]
        if isinstance(kind, str):
            return torch.tanh(z) if kind == "tanh" else torch.relu(z)
        tanh_idx = kind[0]
        return torch.relu(z).index_copy_(0, tanh_idx, torch.tanh(z.index_select(0, tanh_idx)))

    def _gradients(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        factors: Sequence[torch.Tensor | None],
        weight: torch.Tensor | None,
        loss_out: torch.Tensor,
    ) -> list[torch.Tensor]:
        """One step's per-model gradients, in the order of ``self.params``.

        Forward and backward are written out (no autograd): for models this small the autograd
        engine's bookkeeping costs more than the arithmetic. The math is what autograd computes
        for :func:`train_one`'s network and loss. ``weight`` is ``None`` when every model takes
        the same batch (each loss is the batch mean), else per-sample weights ``[M, B]`` (1 /
        batch size for the model's own samples, 0 for padding). The per-model mean loss is
        written into ``loss_out`` (``[M]``) to detect divergence.
        """
        torch = _import_torch()
        depth = self.depth
        weights, biases = self.params[: depth + 1], self.params[depth + 1 :]
        inputs: list[Any] = []  # input of every Linear layer
        derivs: list[Any] = []  # d(layer output) / d(pre-activation), dropout included
        rows = x.shape[1]
        h = x
        for layer in range(depth):
            inputs.append(h)
            z = torch.baddbmm(biases[layer], h, weights[layer])
            factor, kind = factors[layer], self.act[layer]
            if factor is not None:
                factor = factor[:, :rows]
            if isinstance(kind, str) and kind == "relu":
                deriv = (z > 0).to(z.dtype) if factor is None else torch.where(z > 0, factor, 0.0)
                h = z * deriv
            else:
                if isinstance(kind, str):  # every model tanh
                    t = torch.tanh(z)
                    deriv = (t * t).neg_().add_(1.0)
                else:  # per-model choice: relu everywhere, tanh written over its models
                    tanh_idx = kind[0]
                    tz = torch.tanh(z.index_select(0, tanh_idx))
                    t = torch.relu(z).index_copy_(0, tanh_idx, tz)
                    deriv = (z > 0).to(z.dtype).index_copy_(0, tanh_idx, (tz * tz).neg_().add_(1.0))
                if factor is not None:
                    t = t * factor
                    deriv.mul_(factor)
                h = t
            derivs.append(deriv)
        inputs.append(h)
        out = torch.baddbmm(biases[depth], h, weights[depth])
        # d(mean loss) / d(per-sample loss): 1 / batch size, or the given weights
        scale = 1.0 / out.shape[1] if weight is None else weight[..., None]
        if self.data.task_type == "regression":
            diff = out - y[..., None]
            per_sample = (diff * diff)[..., 0]
            grad_out = diff.mul_(scale * 2.0)
        else:
            lse = torch.logsumexp(out, dim=-1, keepdim=True)
            per_sample = (lse - out.gather(-1, y[..., None]))[..., 0]
            grad_out = torch.exp(out - lse)  # softmax
            grad_out.scatter_add_(-1, y[..., None], torch.full_like(lse, -1.0))
            grad_out.mul_(scale)
        if weight is None:
            torch.mean(per_sample, dim=1, out=loss_out)
        else:
            torch.sum(per_sample * weight, dim=1, out=loss_out)
        grad_w: list[Any] = [None] * (depth + 1)
        grad_b: list[Any] = [None] * (depth + 1)
        d = grad_out
        for layer in range(depth, -1, -1):
            grad_w[layer] = torch.bmm(inputs[layer].transpose(1, 2), d)
            grad_b[layer] = d.sum(dim=1, keepdim=True)
            if layer > 0:
                d = torch.bmm(d, weights[layer].transpose(1, 2)).mul_(derivs[layer - 1])
        return grad_w + grad_b

    def _eval_forward(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """Eval-mode forward ``X[N, d] -> [M, N, C]`` (no dropout) for the current weights."""
        torch = _import_torch()
        weights, biases = self.params[: self.depth + 1], self.params[self.depth + 1 :]
        m, d, width = weights[0].shape
        # first layer: one GEMM of the shared input against all models' weights side by side
        w0 = weights[0].permute(1, 0, 2).reshape(d, m * width)
        b0 = biases[0].reshape(m * width)

        def forward(x: Any) -> Any:
            h = torch.addmm(b0, x, w0).view(x.shape[0], m, width).transpose(0, 1)
            for layer in range(self.depth):
                h = torch.baddbmm(biases[layer + 1], self._activate(layer, h), weights[layer + 1])
            return h

        return forward

    # -- training ------------------------------------------------------------------------------

    def _lr(self, epoch: int) -> np.ndarray:
        factor = np.array([lr_factor(s, epoch, self.n_epochs) for s in self.schedules])
        return self.base_lr * factor * self.alive

    def _block_steps(self, n_steps: int) -> int:
        """Steps whose batches and dropout factors are prepared at once (bounded memory)."""
        per_step = self.M * int(self.batch_sizes.max())
        per_step *= (
            int(self.data.X["train"].shape[1])
            + 1
            + sum(w for w, drop in zip(self.pad, self.dropout, strict=True) if drop is not None)
        )
        budget = 2**25 if self.data.device.type == "cuda" else 2**21
        return max(1, min(n_steps, budget // per_step))

    def train_epoch(self, epoch: int) -> float:
        """Train one epoch; return its wall seconds. Marks models whose loss went non-finite.

        Batches and dropout factors are prepared for blocks of steps at a time (a few large
        operations instead of many small ones per step); the per-step arithmetic is unchanged.
        """
        torch = _import_torch()
        data, dev, M = self.data, self.data.device, self.M
        sync = dev.type == "cuda"
        if sync:
            torch.cuda.synchronize(dev)
        start = time.perf_counter()
        n = int(data.X["train"].shape[0])
        idx_np, sizes = _epoch_order(self.order_rngs, n, self.batch_sizes)
        n_steps = idx_np.shape[1]
        # step-major [S, M, B] so that each step's slice is contiguous
        idx = torch.from_numpy(np.ascontiguousarray(idx_np.transpose(1, 0, 2))).to(dev)
        keys = _step_keys(self.dropout_keys, epoch, n_steps, max(1, self.depth))
        uniform = (sizes == sizes[:1]).all(axis=0)  # [S]: every model takes the same batch
        lr = torch.tensor(self._lr(epoch), dtype=torch.float32, device=dev).view(-1, 1, 1)
        n_params = len(self.params)
        if self.optimizer == "sgd":
            neg_lr = [-lr] * n_params
            momentum = [self.momentum] * n_params
            if not uniform.all():
                active = torch.from_numpy((sizes > 0).T.astype(np.float32)).to(dev)
                active = active.view(n_steps, M, 1, 1)
                sizes_t = torch.from_numpy(sizes.T.astype(np.float32)).to(dev)
                rows = torch.arange(idx_np.shape[2], device=dev).view(1, -1)
        losses = torch.zeros(n_steps, M, dtype=torch.float32, device=dev)
        X, y = data.X["train"], data.y["train"]
        block = self._block_steps(n_steps)
        for s0 in range(0, n_steps, block):
            s1 = min(n_steps, s0 + block)
            rows_block = idx[s0:s1]
            xs, ys = X[rows_block], y[rows_block]  # [k, M, B, d], [k, M, B]
            factors = [
                None
                if drop is None
                else _dropout_factor(*drop[:1], keys[s0:s1, layer], *drop[1:], self.pad[layer])
                for layer, drop in enumerate(self.dropout)
            ]
            for s in range(s0, s1):
                j = s - s0
                step_factors = [None if f is None else f[j] for f in factors]
                if uniform[s]:
                    size = int(sizes[0, s])
                    grads = self._gradients(
                        xs[j, :, :size], ys[j, :, :size], step_factors, None, losses[s]
                    )
                else:
                    count = sizes_t[s].view(-1, 1)
                    weight = (rows < count).to(torch.float32) / count.clamp(min=1)
                    grads = self._gradients(xs[j], ys[j], step_factors, weight, losses[s])
                if self.optimizer == "adam":
                    self._adam(grads, lr)
                elif uniform[s]:
                    self._sgd(grads, neg_lr, momentum, None)
                else:
                    a = active[s]
                    self._sgd(
                        grads,
                        [-lr * a] * n_params,
                        [torch.where(a > 0, self.momentum, 1.0)] * n_params,
                        [a] * n_params,
                    )
        bad = (~torch.isfinite(losses)).any(dim=0).cpu().numpy()
        if sync:
            torch.cuda.synchronize(dev)
        seconds = time.perf_counter() - start
        self._mark_diverged(bad, epoch)
        return seconds

    def _adam(self, grads: list[torch.Tensor], lr: torch.Tensor) -> None:
        """PyTorch's Adam per model: ``p -= lr_m * m_hat / (sqrt(v_hat) + eps)``."""
        torch = _import_torch()
        m, v = self.state
        self.adam_step += 1
        n = len(self.params)
        if _USE_FUSED_ADAM and hasattr(torch, "_fused_adam_"):
            # The fused kernel writes -m_hat / (sqrt(v_hat) + eps) into the zeroed scratch
            # tensors (lr=1, no weight decay); each model's learning rate is applied after.
            self.step_t.fill_(self.adam_step)
            torch._foreach_zero_(self.scratch)
            torch._fused_adam_(
                self.scratch,
                grads,
                m,
                v,
                [],
                [self.step_t] * n,
                lr=1.0,
                beta1=_ADAM_BETA1,
                beta2=_ADAM_BETA2,
                weight_decay=0.0,
                eps=_ADAM_EPS,
                amsgrad=False,
                maximize=False,
            )
            torch._foreach_addcmul_(self.params, [lr] * n, self.scratch)
            return
        # written out as torch.optim.Adam's single-tensor path does it
        bc1 = 1 - _ADAM_BETA1**self.adam_step
        bc2_sqrt = math.sqrt(1 - _ADAM_BETA2**self.adam_step)
        neg_step = lr / -bc1
        for p, g, m_, v_ in zip(self.params, grads, m, v, strict=True):
            m_.lerp_(g, 1 - _ADAM_BETA1)
            v_.mul_(_ADAM_BETA2).addcmul_(g, g, value=1 - _ADAM_BETA2)
            denom = (v_.sqrt() / bc2_sqrt).add_(_ADAM_EPS)
            p.addcmul_(neg_step, m_ / denom)

    def _sgd(
        self,
        grads: list[torch.Tensor],
        neg_lr: list[torch.Tensor],
        momentum: list[torch.Tensor],
        active: list[torch.Tensor] | None,
    ) -> None:
        """PyTorch's SGD per model (coupled weight decay, momentum buffer, no dampening).

        Every list repeats one ``[M, 1, 1]`` tensor per parameter. ``active`` (0/1) masks
        models that have no batch in this step: their gradient is zeroed, their momentum is 1
        and their learning rate 0, so buffer and parameters are left exactly as they were.
        """
        torch = _import_torch()
        bufs = self.state[0]
        torch._foreach_addcmul_(grads, self.params, [self.weight_decay] * len(grads))
        if active is not None:
            torch._foreach_mul_(grads, active)
        torch._foreach_mul_(bufs, momentum)
        torch._foreach_add_(bufs, grads)
        torch._foreach_addcmul_(self.params, neg_lr, bufs)

    def _mark_diverged(self, bad: np.ndarray, epoch: int) -> None:
        torch = _import_torch()
        newly = np.flatnonzero(bad & self.alive)
        if newly.size == 0:
            return
        self.alive[newly] = False
        for m in newly:
            self.diverged_at[int(m)] = epoch
        rows = torch.from_numpy(newly).to(self.data.device)
        with torch.no_grad():
            for tensors in (self.params, *self.state):
                for t in tensors:
                    t.index_fill_(0, rows, 0.0)

    def evaluate(self, epoch: int) -> dict[str, np.ndarray]:
        """Metrics of every model after ``epoch`` (NaN for diverged models)."""
        chunk = _chunk_rows(self.M, max([self.data.n_outputs, *self.pad]), self.data.device)
        metrics = _evaluate(self._eval_forward(), self.data, self.M, chunk)
        finite = np.all([np.isfinite(v) for v in metrics.values()], axis=0)
        self._mark_diverged(~finite, epoch)
        for values in metrics.values():
            values[~self.alive] = np.nan
        return metrics


# --------------------------------------------------------------------------------------------
# Public entry points


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
    n_epochs = _check_epochs(n_epochs)
    data = _check_data(data)
    if (
        isinstance(max_models_per_group, bool)
        or not isinstance(max_models_per_group, int)
        or max_models_per_group < 1
    ):
        raise ConfigError(
            f"`max_models_per_group` must be an integer >= 1, but got {max_models_per_group!r}."
        )
    specs = _specs(family, configs, data)
    dev = _resolve_device(device)
    if not specs:
        return []
    d, c = data.n_features, data.n_outputs
    members = [_Member(i, s, train_flops_per_sample(s, d, c)) for i, s in enumerate(specs)]
    n_eval = sum(int(getattr(data, f"X_{s}").shape[0]) for s in SPLITS)
    groups = _plan_groups(
        members,
        n_features=d,
        n_outputs=c,
        n_train=int(data.X_train.shape[0]),
        n_eval=n_eval,
        device_type=dev.type,
        max_models=max_models_per_group,
    )
    logger.info("training %d configurations in %d groups on %s", len(specs), len(groups), dev)
    ddata = _to_device(data, dev)
    results: list[CurveResult | None] = [None] * len(specs)
    names = metric_names(data.task_type)
    for g, group_members in enumerate(groups):
        group = _Group(group_members, [seed_list[m.index] for m in group_members], ddata, n_epochs)
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


def _hash_dropout(p: float, width: int, device: torch.device) -> Any:
    """Counter-based dropout module for one hidden layer of :func:`train_one`'s network.

    It computes exactly the masks the batched trainer computes (see module doc); its ``key``
    is set by the training loop before every step. Built by a function so that this file does
    not import torch at import time.
    """
    import torch as th  # callers have checked that torch is installed

    class HashDropout(th.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.width = width
            self.threshold, self.scale = _dropout_params(np.array([p]), device)
            self.key = th.zeros(1, dtype=th.int32, device=device)
            self.positions: dict[int, torch.Tensor] = {}

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            if not self.training:
                return h
            rows = h.shape[0]
            if rows not in self.positions:
                widths = th.tensor([self.width], device=h.device)
                self.positions[rows] = _pair_positions(widths, rows, self.width)
            factor = _dropout_factor(
                self.positions[rows], self.key, self.threshold, self.scale, self.width
            )
            return h * factor[0]

    return HashDropout()


def _build_module(spec: ModelSpec, n_features: int, n_outputs: int, seed: int, device: Any) -> Any:
    """The reference ``nn.Sequential`` with the seed's initial weights; also its dropouts."""
    torch = _import_torch()
    nn = torch.nn
    init_rng, _, _ = seed_streams(seed)
    shapes = layer_shapes(spec, n_features, n_outputs)
    layers: list[Any] = []
    dropouts: list[Any] = []
    for (fan_in, fan_out), act, p in zip(shapes[:-1], spec.activations, spec.dropouts, strict=True):
        layers.append(nn.Linear(fan_in, fan_out))
        layers.append(nn.Tanh() if act == "tanh" else nn.ReLU())
        if p > 0:
            drop = _hash_dropout(p, fan_out, device)
            layers.append(drop)
            dropouts.append(drop)
        else:
            dropouts.append(None)
    layers.append(nn.Linear(*shapes[-1]))
    model = nn.Sequential(*layers)
    linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
    with torch.no_grad():
        for lin, (w, b) in zip(linears, init_params(shapes, init_rng), strict=True):
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
    return model.to(device), dropouts


def train_one(
    family: str,
    config: Mapping[str, Any],
    seed: int,
    data: TrainData,
    *,
    n_epochs: int,
    device: str = "auto",
) -> CurveResult:
    """Train one configuration the plain way; the reference :func:`train_batch` reproduces.

    One ``nn.Sequential`` (Linear, activation, counter-based dropout), ``torch.optim.Adam`` or
    ``torch.optim.SGD`` with the learning rate set each epoch, minibatches by slicing a per-epoch
    permutation. The same conventions as :func:`train_batch` (module docstring); a diverged run
    stops training, its metrics are NaN from the divergence epoch on, and its runtime is
    extrapolated at its mean epoch time so far.
    """
    family = check_family(family)
    seed = check_seed(seed)
    n_epochs = _check_epochs(n_epochs)
    data = _check_data(data)
    (spec,) = _specs(family, [config], data)
    dev = _resolve_device(device)
    torch = _import_torch()
    ddata = _to_device(data, dev)
    d, c = data.n_features, data.n_outputs
    model, dropouts = _build_module(spec, d, c, seed, dev)
    _, order_rng, dkey = seed_streams(seed)
    dkey_t = torch.from_numpy(_as_int32([dkey])).to(dev)
    optimizer: Any
    if spec.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=spec.learning_rate)
    else:
        optimizer = torch.optim.SGD(
            model.parameters(),
            lr=spec.learning_rate,
            momentum=spec.momentum,
            weight_decay=spec.weight_decay,
        )
    loss_fn = torch.nn.MSELoss() if data.task_type == "regression" else torch.nn.CrossEntropyLoss()
    X, y = ddata.X["train"], ddata.y["train"]
    n, batch_size = int(X.shape[0]), spec.batch_size
    n_steps = -(-n // batch_size)
    names = metric_names(data.task_type)
    metrics = {name: np.full(n_epochs, np.nan, np.float32) for name in names}
    seconds = np.zeros(n_epochs, dtype=np.float64)
    diverged_at: int | None = None
    chunk = _chunk_rows(1, max([c, *spec.widths]), dev)

    for epoch in range(n_epochs):
        sync = dev.type == "cuda"
        if sync:
            torch.cuda.synchronize(dev)
        start = time.perf_counter()
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = spec.learning_rate * lr_factor(spec.lr_schedule, epoch, n_epochs)
        perm = torch.from_numpy(order_rng.permutation(n).astype(np.int32)).to(dev)
        keys = _step_keys(dkey_t, epoch, n_steps, max(1, len(spec.widths)))
        bad = torch.zeros((), dtype=torch.bool, device=dev)
        for s in range(n_steps):
            batch = perm[s * batch_size : (s + 1) * batch_size]
            for layer, drop in enumerate(dropouts):
                if drop is not None:
                    drop.key = keys[s, layer]
            out = model(X[batch])
            loss = loss_fn(out[:, 0] if data.task_type == "regression" else out, y[batch])
            bad |= ~torch.isfinite(loss.detach())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if sync:
            torch.cuda.synchronize(dev)
        seconds[epoch] = time.perf_counter() - start
        if bool(bad):
            diverged_at = epoch
            break
        model.eval()
        values = _evaluate(lambda xb: model(xb).unsqueeze(0), ddata, 1, chunk)
        if not all(np.isfinite(v[0]) for v in values.values()):
            diverged_at = epoch
            break
        for name, v in values.items():
            metrics[name][epoch] = v[0]
    if diverged_at is not None:
        seconds[diverged_at + 1 :] = seconds[: diverged_at + 1].mean()
    runtime = np.cumsum(seconds).astype(np.float32)
    return CurveResult(
        config=dict(config),
        seed=seed,
        metrics=metrics,
        runtime=runtime,
        group_runtime=runtime.copy(),
        group_size=1,
        diverged_at_epoch=diverged_at,
    )


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
    n_epochs = _check_epochs(n_epochs)
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
        device=str(_resolve_device(device)),
    )
