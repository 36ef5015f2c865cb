"""What both neural trainers share: data on the device, counter-based dropout, evaluation.

The dropout masks and the per-epoch data order are functions of the seed and counters only, so
a model gets the same ones alone or in any batch (see :mod:`hpobench.generate._trainer`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hpobench.generate._curves import TrainData, import_torch
from hpobench.generate._tasks import SPLITS

if TYPE_CHECKING:
    import torch


__all__ = [
    "DeviceData",
    "as_int32",
    "chunk_rows",
    "dropout_factor",
    "dropout_params",
    "dropout_positions",
    "epoch_order",
    "evaluate_splits",
    "per_model_column",
    "step_keys",
    "to_device",
]


@dataclass(frozen=True)
class DeviceData:
    X: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    class_counts: dict[str, np.ndarray]  # per split, rows per class (classification)
    task_type: str
    n_outputs: int
    device: torch.device


def to_device(data: TrainData, device: torch.device) -> DeviceData:
    torch = import_torch()
    X = {s: torch.from_numpy(getattr(data, f"X_{s}")).to(device) for s in SPLITS}
    y = {s: torch.from_numpy(getattr(data, f"y_{s}")).to(device) for s in SPLITS}
    counts = {}
    if data.task_type != "regression":
        counts = {
            s: np.bincount(getattr(data, f"y_{s}"), minlength=data.n_classes).astype(np.float64)
            for s in SPLITS
        }
    return DeviceData(X, y, counts, data.task_type, data.n_outputs, device)


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


def as_int32(values: Sequence[int]) -> np.ndarray:
    """Unsigned 32-bit values as the int32 array with the same bits."""
    return np.asarray(values, dtype=np.uint32).view(np.int32)


def step_keys(dropout_keys: torch.Tensor, epoch: int, n_steps: int, n_layers: int) -> torch.Tensor:
    """Per-model dropout keys of every (step, hidden layer) of one epoch: int32 ``[S, L, M]``.

    ``dropout_keys`` are the models' int32 keys ``[M]`` (:func:`~._models.seed_streams`).
    """
    torch = import_torch()
    dev = dropout_keys.device
    x = dropout_keys.view(1, 1, -1) ^ int(as_int32([epoch + 1])[0])
    x = _hash32_(x.expand(n_steps, n_layers, -1).clone())
    x.bitwise_xor_(torch.arange(n_steps, dtype=torch.int32, device=dev).view(-1, 1, 1))
    _hash32_(x)
    x.bitwise_xor_(torch.arange(n_layers, dtype=torch.int32, device=dev).view(1, -1, 1))
    return _hash32_(x)


def dropout_positions(widths: torch.Tensor, rows: int, pad_width: int) -> torch.Tensor:
    """int32 ``[M, rows, ceil(pad_width / 2)]``: ``b * ceil(width_m / 2) + q``.

    One 32-bit hash serves two neighbouring units (16 bits each), so position ``q`` of sample
    ``b`` in model ``m``'s own minibatch covers units ``2q`` and ``2q + 1``.
    """
    torch = import_torch()
    dev = widths.device
    pairs = (widths.to(torch.int32).view(-1, 1, 1) + 1) // 2
    b = torch.arange(rows, dtype=torch.int32, device=dev).view(1, -1, 1)
    q = torch.arange((pad_width + 1) // 2, dtype=torch.int32, device=dev).view(1, 1, -1)
    return b * pairs + q


def dropout_params(p: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model ``(threshold int16, scale float32)``, both ``[M, 1, 1]``, for probabilities p.

    A unit is kept when its 16-bit uniform integer ``u`` is ``>= ceil(p * 65536)`` (so ``p``
    acts rounded up to a multiple of ``2**-16``), and kept units are scaled by ``1 / (1 - p)``
    (0 when ``p == 1``: everything is dropped). The threshold is stored shifted into the signed
    16-bit range, ``ceil(p * 65536) - 32768`` (capped at 32767, where ``p == 1`` and the scale
    is 0 anyway), because :func:`dropout_factor` compares ``u - 32768`` as int16: the same
    decisions as comparing ``u`` with ``ceil(p * 65536)``, without widening the bits first.
    """
    torch = import_torch()
    p = np.asarray(p, dtype=np.float64)
    threshold = np.minimum(np.ceil(p * 65536.0) - 32768.0, 32767.0).astype(np.int16)
    safe = np.where(p < 1.0, 1.0 - p, 1.0)
    scale = np.where(p < 1.0, 1.0 / safe, 0.0).astype(np.float32)
    return (
        torch.from_numpy(threshold).to(device).view(-1, 1, 1),
        torch.from_numpy(scale).to(device).view(-1, 1, 1),
    )


_FLIP_HALVES = -2147450880  # 0x80008000 as int32: the top bit of each 16-bit half


def dropout_factor(
    pair_positions: torch.Tensor,
    keys: torch.Tensor,
    threshold: torch.Tensor,
    scale: torch.Tensor,
    width: int,
) -> torch.Tensor:
    """Dropout multipliers ``[..., M, B, width]``: ``scale`` where kept, 0 where dropped.

    ``pair_positions`` from :func:`dropout_positions`, ``keys`` the int32 step keys ``[..., M]``
    (leading dimensions: several steps at once), ``threshold``/``scale`` from
    :func:`dropout_params`.
    """
    torch = import_torch()
    k = keys[..., None, None]
    x = _hash32_(pair_positions ^ k)
    x.bitwise_xor_(k)
    _hash32_(x)
    # Unit 2q takes the low 16 bits of hash q, unit 2q + 1 the high 16 bits: exactly the int16
    # view of the (little-endian) int32 hashes. Flipping each half's top bit turns u into the
    # signed u - 32768, which compares with the shifted threshold of dropout_params.
    x.bitwise_xor_(_FLIP_HALVES)
    if sys.byteorder != "little":  # pragma: no cover - big-endian hosts: low half first
        x = torch.bitwise_or(x << 16, (x >> 16).bitwise_and_(0xFFFF))
    shifted = x.view(torch.int16)[..., :width]
    return torch.where(shifted >= threshold, scale, 0.0)


def per_model_column(device: torch.device, values: Sequence[float]) -> torch.Tensor:
    """``float32[M, 1, 1]`` tensor of per-model values (broadcasts over weights and biases)."""
    torch = import_torch()
    return torch.tensor(values, dtype=torch.float32, device=device).view(-1, 1, 1)


def chunk_rows(n_models: int, max_width: int, device: torch.device) -> int:
    """Rows evaluated at once: activations of about 1 MiB on CPU (cache-sized, but at least
    256 rows so wide groups do not pay per-chunk overhead too often), 1 GiB on GPU."""
    if device.type == "cuda":
        return max(1024, 2**28 // max(1, n_models * max_width))
    return max(256, 2**18 // max(1, n_models * max_width))


def evaluate_splits(
    forward: Callable[[torch.Tensor], torch.Tensor],
    data: DeviceData,
    n_models: int,
    chunk: int,
) -> dict[str, np.ndarray]:
    """All metrics of ``n_models`` models: name -> ``float64[M]``.

    ``forward`` maps ``X[N, n_features]`` to outputs ``[M, N, n_outputs]`` in eval mode.
    Sums are accumulated in float64 so chunking does not change the result measurably.
    """
    torch = import_torch()
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


def epoch_order(
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
