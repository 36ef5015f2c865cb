"""One stacked group of models trained together with batched matrix products."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpobench.generate._curves import import_torch
from hpobench.generate._grouping import Member
from hpobench.generate._models import (
    init_params,
    layer_shapes,
    lr_factor,
    seed_streams,
)
from hpobench.generate._torchdata import (
    DeviceData,
    as_int32,
    chunk_rows,
    dropout_factor,
    dropout_params,
    dropout_positions,
    epoch_order,
    evaluate_splits,
    per_model_column,
    step_keys,
)

if TYPE_CHECKING:
    import torch


__all__ = ["Group"]

_ADAM_BETA1 = 0.9
_ADAM_BETA2 = 0.999
_ADAM_EPS = 1e-8
# Use PyTorch's fused Adam kernel (one pass over p, g, m, v) where it exists; the tests also
# run the written-out fallback by switching this off.
_USE_FUSED_ADAM = True


class Group:
    """``M`` models of one depth trained in lockstep as one stacked model (see module doc)."""

    # per hidden layer: "relu", "tanh", or (indices of the tanh models, of the relu models)
    act: list[str | tuple[torch.Tensor, torch.Tensor]]
    dropout: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None]  # see dropout_factor

    def __init__(
        self,
        members: Sequence[Member],
        seeds: Sequence[int],
        data: DeviceData,
        n_epochs: int,
    ) -> None:
        torch = import_torch()
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
        self.dropout_keys = torch.from_numpy(as_int32(dkeys)).to(dev)

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
            positions = dropout_positions(width, b_max, self.pad[layer])
            self.dropout.append((positions, *dropout_params(p, dev)))
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
            self.momentum = per_model_column(dev, [s.momentum for s in self.specs])
            self.weight_decay = per_model_column(dev, [s.weight_decay for s in self.specs])
        self.alive = np.ones(M, dtype=bool)
        self.diverged_at: list[int | None] = [None] * M
        self.flops = np.array([m.flops for m in members], dtype=np.float64)

    # -- model ---------------------------------------------------------------------------------

    def _activate(self, layer: int, z: torch.Tensor) -> torch.Tensor:
        torch = import_torch()
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
        torch = import_torch()
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
        torch = import_torch()
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
        torch = import_torch()
        data, dev, M = self.data, self.data.device, self.M
        sync = dev.type == "cuda"
        if sync:
            torch.cuda.synchronize(dev)
        start = time.perf_counter()
        n = int(data.X["train"].shape[0])
        idx_np, sizes = epoch_order(self.order_rngs, n, self.batch_sizes)
        n_steps = idx_np.shape[1]
        # step-major [S, M, B] so that each step's slice is contiguous
        idx = torch.from_numpy(np.ascontiguousarray(idx_np.transpose(1, 0, 2))).to(dev)
        keys = step_keys(self.dropout_keys, epoch, n_steps, max(1, self.depth))
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
                else dropout_factor(*drop[:1], keys[s0:s1, layer], *drop[1:], self.pad[layer])
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
        torch = import_torch()
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
        torch = import_torch()
        bufs = self.state[0]
        torch._foreach_addcmul_(grads, self.params, [self.weight_decay] * len(grads))
        if active is not None:
            torch._foreach_mul_(grads, active)
        torch._foreach_mul_(bufs, momentum)
        torch._foreach_add_(bufs, grads)
        torch._foreach_addcmul_(self.params, neg_lr, bufs)

    def _mark_diverged(self, bad: np.ndarray, epoch: int) -> None:
        torch = import_torch()
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
        chunk = chunk_rows(self.M, max([self.data.n_outputs, *self.pad]), self.data.device)
        metrics = evaluate_splits(self._eval_forward(), self.data, self.M, chunk)
        finite = np.all([np.isfinite(v) for v in metrics.values()], axis=0)
        self._mark_diverged(~finite, epoch)
        for values in metrics.values():
            values[~self.alive] = np.nan
        return metrics
