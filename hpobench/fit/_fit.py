"""Fit one task's surrogate, measure it on held-out data, write it with its fidelity card.

Procedure (the card describes exactly this):

1. Hold out configurations: 5 cross-validation folds when the table has fewer than 1,000
   configurations (each configuration is held out once), else one random 20 % split; and, when
   the table has at least three seeds, its last seed. Fit one network per fold on the rest and
   compute the card's held-out figures with the numpy inference (``_card.py``).
2. Fit the shipped network with the same settings on every configuration and seed.
3. Write ``weights.npz`` + ``meta.json`` (``hpobench.surrogate``), load them back through the
   public ``SurrogateBenchmark``, check runtime monotonicity and ranges on sampled
   configurations, and write ``card.json`` + ``card.md``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hpobench.fit._card import heldout_figures, render_card, rounded, sample_checks, targets
from hpobench.fit._data import CurveData, bimodal_seed_share, choose_seed_model, prepare, seed_basis
from hpobench.fit._model import Arch, ensemble_arrays, export_arrays
from hpobench.fit._train import TrainConfig, resolve_device, train
from hpobench.surrogate._benchmark import SurrogateBenchmark
from hpobench.surrogate._format import CARD_FILE, CARD_MD_FILE, SEED_MODELS, write_surrogate
from hpobench.surrogate._network import CurveNetwork
from hpobench.table import Table

__all__ = [
    "DEFAULT_ARCH",
    "SMALL_TABLE_ARCH",
    "cross_validate",
    "default_arch",
    "fit_surrogate",
    "resolve_seed_model",
    "split_folds",
]

log = logging.getLogger(__name__)

# Chosen by measurement (docs/surrogates.md): a ResNet whose residual blocks squeeze to 32 units
# (a quarter of the multiply-adds of square blocks, same held-out Spearman on average), and for
# tables under 100 configurations an average of three narrower ones (+0.03 to +0.10 Spearman on
# the 32-config lcbench tables; no gain on the 128-config gbt tables).
DEFAULT_ARCH = Arch(kind="resnet", width=128, depth=3, rank=0, bottleneck=32)
SMALL_TABLE_ARCH = Arch(kind="resnet", width=64, depth=3, rank=0, bottleneck=16, members=3)
_SMALL_TABLE = 100


def default_arch(n_configs: int) -> Arch:
    """The default network for a table of ``n_configs`` configurations."""
    return SMALL_TABLE_ARCH if n_configs < _SMALL_TABLE else DEFAULT_ARCH


_SMALL = 1000
_RANK = 3


def split_folds(n: int, seed: int) -> list[np.ndarray]:
    """Held-out rows of each fold: 5 folds below 1,000 configurations, else one 20 % split."""
    perm = np.random.default_rng(seed).permutation(n)
    if n < _SMALL:
        return [np.sort(f) for f in np.array_split(perm, 5)]
    return [np.sort(perm[: max(1, n // 5)])]


def _train_members(
    data: CurveData,
    rows: np.ndarray,
    seed_cols: np.ndarray,
    *,
    arch: Arch,
    config: TrainConfig,
    device: Any,
    progress: bool,
    desc: str,
    two_mode: bool = False,
) -> tuple[list[Any], dict[str, Any]]:
    """``arch.members`` networks fitted with seeds ``config.seed + e`` (seconds summed)."""
    nets: list[Any] = []
    info: dict[str, Any] = {}
    seconds = 0.0
    for e in range(max(1, arch.members)):
        net, info = train(
            data,
            rows,
            seed_cols,
            arch=arch,
            config=replace(config, seed=config.seed + e),
            device=device,
            progress=progress,
            desc=desc if arch.members <= 1 else f"{desc} member {e + 1}",
            two_mode=two_mode,
        )
        nets.append(net)
        seconds += info["seconds"]
    return nets, {**info, "seconds": round(seconds, 2)}


def _network(
    nets: list[Any], data: CurveData, basis: np.ndarray, table: Table
) -> tuple[list, dict, CurveNetwork]:
    layers, arrays = ensemble_arrays(
        [export_arrays(net, data.shift, data.scale, basis) for net in nets]
    )
    cn = CurveNetwork(
        layers=layers,
        arrays=arrays,
        metrics=data.metrics,
        transforms=data.transforms,
        columns=list(table.meta.metrics),
        runtime_metric=table.meta.runtime_metric,
    )
    return layers, arrays, cn


def resolve_seed_model(seed_model: str, data: CurveData) -> str:
    """``"gaussian"``/``"two-mode"`` as given; ``"auto"``: :func:`choose_seed_model`."""
    if seed_model == "auto":
        return choose_seed_model(data)
    if seed_model not in SEED_MODELS:
        from hpobench._errors import SurrogateError

        raise SurrogateError(
            f"seed_model must be 'auto' or one of {list(SEED_MODELS)}, but got {seed_model!r}."
        )
    return seed_model


def cross_validate(
    table: Table,
    *,
    arch: Arch = DEFAULT_ARCH,
    config: TrainConfig | None = None,
    device: str = "auto",
    progress: bool = True,
    data: CurveData | None = None,
    seed_model: str = "gaussian",
) -> dict[str, Any]:
    """Step 1 of the module docstring: held-out figures of fitting ``arch`` to ``table``."""
    cfg = config or TrainConfig()
    dev = resolve_device(device)
    data = data or prepare(table)
    two_mode = resolve_seed_model(seed_model, data) == "two-mode"
    S = data.y.shape[1]
    held_seed = S - 1 if S >= 3 else None
    seed_cols = np.asarray([s for s in range(S) if s != held_seed])
    folds = []
    seconds = 0.0
    for i, held in enumerate(split_folds(data.n_configs, cfg.seed)):
        train_rows = np.setdiff1d(np.arange(data.n_configs), held)
        basis = seed_basis(data.y[train_rows][:, seed_cols], _RANK)
        nets, info = _train_members(
            data,
            train_rows,
            seed_cols,
            arch=arch,
            config=cfg,
            device=dev,
            progress=progress,
            desc=f"{table.meta.id} fold {i + 1}",
            two_mode=two_mode,
        )
        seconds += info["seconds"]
        folds.append((held, train_rows, _network(nets, data, basis, table)[2]))
    fig = heldout_figures(table, data, folds, held_seed)
    fig["heldout_scheme"] = (
        f"{len(folds)}-fold cross-validation" if len(folds) > 1 else "one random 20 % split"
    )
    fig["heldout_seed"] = table.meta.seeds[held_seed] if held_seed is not None else None
    fig["cv_fit_seconds"] = seconds
    return fig


def fit_surrogate(
    table: Table,
    out_dir: str | Path,
    *,
    arch: Arch | None = None,
    config: TrainConfig | None = None,
    device: str = "auto",
    progress: bool = True,
    seed_model: str = "gaussian",
) -> dict[str, Any]:
    """The whole procedure of the module docstring; returns the card (also written).

    ``arch`` ``None``: :func:`default_arch` for the table's size. ``seed_model``: ``"gaussian"``
    (the default: every shipped surrogate), ``"two-mode"``, or ``"auto"`` (two-mode where the
    table's seeds are bimodal, :func:`choose_seed_model`; docs/surrogates.md says what it
    measured)."""
    arch = arch or default_arch(table.n_configs)
    cfg = config or TrainConfig()
    dev = resolve_device(device)
    data = prepare(table)
    chosen = resolve_seed_model(seed_model, data)
    t0 = time.perf_counter()
    fig = cross_validate(
        table,
        arch=arch,
        config=cfg,
        device=device,
        progress=progress,
        data=data,
        seed_model=chosen,
    )
    all_seeds = np.arange(data.y.shape[1])
    basis = seed_basis(data.y, _RANK)
    nets, info = _train_members(
        data,
        np.arange(data.n_configs),
        all_seeds,
        arch=arch,
        config=cfg,
        device=dev,
        progress=progress,
        desc=f"{table.meta.id} final",
        two_mode=chosen == "two-mode",
    )
    layers, arrays, _ = _network(nets, data, basis, table)
    meta = table.meta  # carries reference_runtime: the surrogate gets the table's budget
    out = write_surrogate(
        out_dir,
        table_meta=meta,
        layers=layers,
        arrays=arrays,
        metrics=list(data.metrics),
        transforms=list(data.transforms),
        fit={
            "architecture": arch.to_dict(),
            "train": cfg.to_dict(),
            "seed_basis_rank": int(basis.shape[2]),
            **(
                {"seed_model": chosen, "bimodal_seed_share": bimodal_seed_share(data)}
                if chosen == "two-mode"
                else {}
            ),
            "steps": info["steps"],
            "device": info["device"],
            "torch": torch.__version__,
            "fit_seconds": info["seconds"],
        },
    )
    bench = SurrogateBenchmark.from_directory(out, expect_id=meta.id, table_sha256=meta.sha256)
    checks = sample_checks(bench, table=table)
    card: dict[str, Any] = {
        "format": "hpobench-surrogate-card",
        "version": 1,
        "id": meta.id,
        "table_sha256": meta.sha256,
        "weights_sha256": bench.sha256,
        "architecture": f"{arch.kind} width {arch.width} depth {arch.depth}"
        + (f" curve rank {arch.rank}" if 0 < arch.rank < len(meta.fidelity) else "")
        + (f" bottleneck {arch.bottleneck}" if arch.kind == "resnet" and arch.bottleneck else "")
        + (f", ensemble of {arch.members}" if arch.members > 1 else ""),
        "device": info["device"],
        "fit_seconds": info["seconds"],
        "total_seconds": round(time.perf_counter() - t0, 2),
        "objective": meta.objective,
        "direction": meta.direction,
        "fidelity_name": meta.fidelity.name,
        "fidelity_values": list(meta.fidelity.values),
        "seed_model": chosen,
        "bimodal_seed_share": bimodal_seed_share(data),
        **fig,
        **checks,
    }
    card["targets"] = targets(card)
    write_card(out, card)
    return card


def write_card(out: str | Path, card: dict[str, Any]) -> None:
    """Write ``card.json`` (rounded, sorted) and ``card.md``."""
    out = Path(out)
    card = rounded(card)
    card["targets"] = targets(card)
    (out / CARD_FILE).write_text(json.dumps(card, indent=1, allow_nan=False) + "\n")
    (out / CARD_MD_FILE).write_text(render_card(card))


def refresh_table_meta(out_dir: str | Path, table: Table) -> bool:
    """Re-embed ``table``'s current metadata in a surrogate fitted to the same parquet.

    Metadata that does not change the data (a newly recorded ``reference_runtime``, a fixed
    description) need not cost a refit; the parquet's sha256 must be the one fitted. Returns
    whether the file changed.
    """
    path = Path(out_dir) / "meta.json"
    d = json.loads(path.read_text())
    if d["table"]["sha256"] != table.meta.sha256:
        from hpobench._errors import SurrogateError

        raise SurrogateError(
            f"{path}: was fitted to the table with sha256 {d['table']['sha256']!r}, but "
            f"{table.meta.id!r} now has {table.meta.sha256!r}; refit instead."
        )
    new = table.meta.to_dict()
    if d["table"]["meta"] == new:
        return False
    d["table"]["meta"] = new
    path.write_text(json.dumps(d, indent=1, allow_nan=False) + "\n")
    return True
