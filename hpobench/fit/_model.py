"""The torch curve network and its export to the numpy format (``hpobench.surrogate``).

Architectures (chosen by measurement, docs/surrogates.md):

* ``mlp``: ``depth`` dense ReLU layers of ``width``;
* ``resnet``: one dense layer, then ``depth - 1`` residual blocks; with ``bottleneck`` ``b > 0``
  each block squeezes to ``b`` units (``width -> b -> width``): ``2 * width * b`` multiply-adds
  instead of ``2 * width**2``, which is what bounds batched inference;
* either with a ``rank``-``R`` curve head: the network emits ``R`` coefficients per output
  column and a learned basis ``[T, R]`` spreads them over the fidelity steps (smooth curves,
  fewer parameters); ``rank=0`` emits every step directly.

With ``two_mode`` the network also emits each configuration's mode logit and, per step and
metric, the gap between the two modes of its seeds (``_network.py``: the two-mode seed model).

Export follows the layout of ``hpobench/surrogate/_network.py`` (coefficients, curve basis
``phi``, step bias) and folds the standardisation into them; a direct head exports with
``phi`` the identity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from hpobench.surrogate._network import Layer

__all__ = ["Arch", "CurveNet", "ensemble_arrays", "export_arrays"]


@dataclass(frozen=True)
class Arch:
    """Network shape: ``kind`` (``mlp``/``resnet``), ``width``, ``depth``, curve ``rank``,
    residual ``bottleneck`` width (``0``: square blocks), ensemble ``members`` (networks fitted
    with seeds ``seed, seed + 1, ...`` whose outputs are averaged; served as one network with
    block-diagonal layers, see :func:`ensemble_arrays`)."""

    kind: str = "mlp"
    width: int = 128
    depth: int = 2
    rank: int = 0
    bottleneck: int = 0
    members: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CurveNet(nn.Module):
    def __init__(
        self,
        n_inputs: int,
        T: int,
        M: int,
        arch: Arch,
        rt_offset: float,
        *,
        two_mode: bool = False,
    ) -> None:
        super().__init__()
        self.arch, self.T, self.M, self.two_mode = arch, T, M, two_mode
        self.block = 2 * M + 1
        w = arch.width
        self.inp = nn.Linear(n_inputs, w)
        self.hidden = nn.ModuleList()
        for _ in range(arch.depth - 1):
            if arch.kind == "resnet":
                b = min(arch.bottleneck, w) if arch.bottleneck else w
                self.hidden.append(nn.Sequential(nn.Linear(w, b), nn.ReLU(), nn.Linear(b, w)))
            else:
                self.hidden.append(nn.Linear(w, w))
        rank = arch.rank if 0 < arch.rank < T else 0
        self.rank = rank
        if rank:
            self.coef = nn.Linear(w, rank * self.block)
            self.curve_basis = nn.Parameter(torch.randn(T, rank) / rank**0.5)
            self.step_bias = nn.Parameter(torch.zeros(T, self.block))
        else:
            self.head = nn.Linear(w, T * self.block)
        self.rt_sigma = nn.Linear(w, 1)
        if two_mode:  # mode logit + the gap's coefficients (through curve_basis like the rest)
            self.mode = nn.Linear(w, 1 + (rank or T) * M)
        with torch.no_grad():  # start near the table's typical scale, small spreads
            self._step_bias_view()[:, 2 * M] += rt_offset
            self._step_bias_view()[:, M : 2 * M] += -1.0
            self.rt_sigma.bias.fill_(-3.0)

    def _step_bias_view(self) -> torch.Tensor:
        return self.step_bias if self.rank else self.head.bias.view(self.T, self.block)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inp(x))
        for layer in self.hidden:
            h = torch.relu(h + layer(h)) if self.arch.kind == "resnet" else torch.relu(layer(h))
        return h

    def forward(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """``steps [n, T, 2M+1]``, the runtime log-sigma ``[n]`` and, for a two-mode network,
        ``(mode logit [n], gap [n, T, M])`` (else ``None``)."""
        h = self.trunk(x)
        if self.rank:
            c = self.coef(h).view(-1, self.rank, self.block)
            steps = torch.einsum("tr,nrb->ntb", self.curve_basis, c) + self.step_bias
        else:
            steps = self.head(h).view(-1, self.T, self.block)
        mode = None
        if self.two_mode:
            o = self.mode(h)
            g = o[:, 1:].view(-1, self.rank or self.T, self.M)
            gap = torch.einsum("tr,nrm->ntm", self.curve_basis, g) if self.rank else g
            mode = (o[:, 0], gap)
        return steps, self.rt_sigma(h).squeeze(-1), mode


def export_arrays(
    net: CurveNet, shift: np.ndarray, scale: np.ndarray, basis: np.ndarray
) -> tuple[list[Layer], dict[str, np.ndarray]]:
    """Layers and float32 arrays of the numpy format, standardisation and basis folded in."""
    sd = {k: v.detach().cpu().double().numpy() for k, v in net.state_dict().items()}
    layers = [Layer("dense", "l0")]
    arrays: dict[str, np.ndarray] = {"l0.W": sd["inp.weight"].T, "l0.b": sd["inp.bias"]}
    for i in range(len(net.hidden)):
        name = f"l{i + 1}"
        if net.arch.kind == "resnet":
            layers.append(Layer("residual", name))
            arrays[f"{name}.W"] = sd[f"hidden.{i}.0.weight"].T
            arrays[f"{name}.b"] = sd[f"hidden.{i}.0.bias"]
            arrays[f"{name}.W2"] = sd[f"hidden.{i}.2.weight"].T
            arrays[f"{name}.b2"] = sd[f"hidden.{i}.2.bias"]
        else:
            layers.append(Layer("dense", name))
            arrays[f"{name}.W"] = sd[f"hidden.{i}.weight"].T
            arrays[f"{name}.b"] = sd[f"hidden.{i}.bias"]
    T, M, B = net.T, net.M, net.block
    H = net.arch.width
    if net.rank:
        Wc = sd["coef.weight"].reshape(net.rank, B, H).copy()  # [R, C, H]
        bc = sd["coef.bias"].reshape(net.rank, B).copy()
        phi = sd["curve_basis"]  # [T, R]
        step_bias = sd["step_bias"].copy()  # [T, C]
    else:  # every step emitted directly: R = T, phi = identity
        Wc = sd["head.weight"].reshape(T, B, H).copy()
        bc = sd["head.bias"].reshape(T, B).copy()
        phi = np.eye(T)
        step_bias = np.zeros((T, B))
    # standardised -> transformed units: mean * scale + shift; sigma * scale
    Wc[:, :M, :] *= scale[None, :, None]
    bc[:, :M] *= scale[None, :]
    step_bias[:, :M] = step_bias[:, :M] * scale[None, :] + shift[None, :]
    step_bias[:, M : 2 * M] += np.log(scale)[None, :]
    R = Wc.shape[0]
    arrays["out.WT"] = np.concatenate([sd["rt_sigma.weight"], Wc.reshape(R * B, H)], axis=0)
    arrays["out.b"] = np.concatenate([sd["rt_sigma.bias"], bc.reshape(R * B)])
    arrays["phi"] = phi
    arrays["step_bias"] = step_bias
    arrays["basis"] = basis
    if net.two_mode:  # the gap in standardised units -> transformed units: * scale
        Wm, bm = sd["mode.weight"].copy(), sd["mode.bias"].copy()  # [1 + R*M, H], [1 + R*M]
        Wm[1:] = (Wm[1:].reshape(R, M, H) * scale[None, :, None]).reshape(R * M, H)
        bm[1:] = (bm[1:].reshape(R, M) * scale[None, :]).reshape(R * M)
        arrays["mode.WT"], arrays["mode.b"] = Wm, bm
    return layers, {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}


def ensemble_arrays(
    members: list[tuple[list[Layer], dict[str, np.ndarray]]],
) -> tuple[list[Layer], dict[str, np.ndarray]]:
    """One network whose outputs are the mean of ``members``' outputs (same shapes each).

    The first layers are stacked side by side, the hidden layers block-diagonal (ReLU and the
    residual sum act element-wise, so each block computes its own member exactly), and the
    last layer averages. The curve basis, step bias and seed basis must be shared: members
    differ only in their fitting seed, and a low-rank head (its own ``phi``) is refused.

    A two-mode network's mode head is the first member's alone (the others' hidden units get
    zero weights there): two members may label the same two modes the other way round
    (``p <-> 1 - p``, ``gap <-> -gap``), and their average would cancel the gap.
    """
    if len(members) == 1:
        return members[0]
    layers, first = members[0]
    E = len(members)
    for key in ("phi", "step_bias", "basis"):
        if any(not np.array_equal(a[key], first[key]) for _, a in members):
            raise ValueError(f"ensemble members must share {key!r} (a direct head, one table).")
    out: dict[str, np.ndarray] = {}
    for i, layer in enumerate(layers):
        name = layer.name
        parts = [a for _, a in members]
        if i == 0:
            out[f"{name}.W"] = np.concatenate([a[f"{name}.W"] for a in parts], axis=1)
        else:
            out[f"{name}.W"] = _block_diag([a[f"{name}.W"] for a in parts])
        out[f"{name}.b"] = np.concatenate([a[f"{name}.b"] for a in parts])
        if layer.kind == "residual":
            out[f"{name}.W2"] = _block_diag([a[f"{name}.W2"] for a in parts])
            out[f"{name}.b2"] = np.concatenate([a[f"{name}.b2"] for a in parts])
    out["out.WT"] = np.concatenate([a["out.WT"] for a in parts], axis=1) / E
    out["out.b"] = np.mean([a["out.b"] for a in parts], axis=0)
    if "mode.WT" in first:
        Wm = first["mode.WT"]
        out["mode.WT"] = np.concatenate([Wm] + [np.zeros_like(Wm)] * (E - 1), axis=1)
        out["mode.b"] = first["mode.b"]
    for key in ("phi", "step_bias", "basis"):
        out[key] = first[key]
    return layers, {k: np.asarray(v, dtype=np.float32) for k, v in out.items()}


def _block_diag(blocks: list[np.ndarray]) -> np.ndarray:
    rows = sum(b.shape[0] for b in blocks)
    cols = sum(b.shape[1] for b in blocks)
    out = np.zeros((rows, cols), dtype=np.float64)
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out
