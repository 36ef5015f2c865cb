"""``train_one``: one model alone, the plain reference the batched trainer must reproduce."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hpobench.generate._curves import (
    CurveResult,
    TrainData,
    check_data,
    check_epochs,
    import_torch,
    model_specs,
    resolve_device,
)
from hpobench.generate._models import (
    ModelSpec,
    check_family,
    check_seed,
    init_params,
    layer_shapes,
    lr_factor,
    seed_streams,
)
from hpobench.generate._tasks import metric_names
from hpobench.generate._torchdata import (
    as_int32,
    chunk_rows,
    dropout_factor,
    dropout_params,
    dropout_positions,
    evaluate_splits,
    step_keys,
    to_device,
)

if TYPE_CHECKING:
    import torch


__all__ = ["train_one"]


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
            self.threshold, self.scale = dropout_params(np.array([p]), device)
            self.key = th.zeros(1, dtype=th.int32, device=device)
            self.positions: dict[int, torch.Tensor] = {}

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            if not self.training:
                return h
            rows = h.shape[0]
            if rows not in self.positions:
                widths = th.tensor([self.width], device=h.device)
                self.positions[rows] = dropout_positions(widths, rows, self.width)
            factor = dropout_factor(
                self.positions[rows], self.key, self.threshold, self.scale, self.width
            )
            return h * factor[0]

    return HashDropout()


def _build_module(spec: ModelSpec, n_features: int, n_outputs: int, seed: int, device: Any) -> Any:
    """The reference ``nn.Sequential`` with the seed's initial weights; also its dropouts."""
    torch = import_torch()
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
    n_epochs = check_epochs(n_epochs)
    data = check_data(data)
    (spec,) = model_specs(family, [config], data)
    dev = resolve_device(device)
    torch = import_torch()
    ddata = to_device(data, dev)
    d, c = data.n_features, data.n_outputs
    model, dropouts = _build_module(spec, d, c, seed, dev)
    _, order_rng, dkey = seed_streams(seed)
    dkey_t = torch.from_numpy(as_int32([dkey])).to(dev)
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
    chunk = chunk_rows(1, max([c, *spec.widths]), dev)

    for epoch in range(n_epochs):
        sync = dev.type == "cuda"
        if sync:
            torch.cuda.synchronize(dev)
        start = time.perf_counter()
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = spec.learning_rate * lr_factor(spec.lr_schedule, epoch, n_epochs)
        perm = torch.from_numpy(order_rng.permutation(n).astype(np.int32)).to(dev)
        keys = step_keys(dkey_t, epoch, n_steps, max(1, len(spec.widths)))
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
        values = evaluate_splits(lambda xb: model(xb).unsqueeze(0), ddata, 1, chunk)
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
