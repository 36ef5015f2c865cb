"""``make_surrogate``: a surrogate with random weights for a synthetic table (numpy only).

The numpy side (format, inference, SurrogateBenchmark) is tested without torch: its behaviour
does not depend on how the weights were found. Fitting is tested in ``tests/fit``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hpobench.surrogate import Layer, write_surrogate
from hpobench.surrogate._encode import Encoder
from hpobench.table import TableMeta, read_table


def random_surrogate(
    meta: TableMeta,
    out: Path,
    *,
    seed: int = 0,
    kind: str = "dense",
    width: int = 8,
    identity: bool = False,
    two_mode: bool = False,
    mode_gap: float = 2.0,
) -> Path:
    rng = np.random.default_rng(seed)
    names = [m for m in meta.metrics if m != meta.runtime_metric]
    M, T, K = len(names), len(meta.fidelity), 2
    R = T if identity else 2
    n_in = Encoder(meta.space).width
    arrays: dict[str, Any] = {
        "l0.W": rng.normal(size=(n_in, width)),
        "l0.b": rng.normal(size=width) * 0.1,
        "l1.W": rng.normal(size=(width, width)) / width**0.5,
        "l1.b": rng.normal(size=width) * 0.1,
        "out.WT": rng.normal(size=(1 + R * (2 * M + 1), width)) * 0.3,
        "out.b": rng.normal(size=1 + R * (2 * M + 1)) * 0.1,
        "phi": np.eye(T) if identity else rng.normal(size=(T, R)),
        "step_bias": rng.normal(size=(T, 2 * M + 1)) * 0.1,
        "basis": rng.normal(size=(T, M, K)),
    }
    if two_mode:  # random mode logits, gaps around ``mode_gap`` (clearly two modes)
        arrays["mode.WT"] = rng.normal(size=(1 + R * M, width)) * 0.3
        arrays["mode.b"] = np.concatenate(
            [[0.0], np.full(R * M, mode_gap / (R if not identity else 1))]
        )
    if kind == "residual":
        arrays["l1.W2"] = rng.normal(size=(width, width)) / width**0.5
        arrays["l1.b2"] = rng.normal(size=width) * 0.1
    transforms = ["logit"] + ["log"] * (M - 2) + ["identity"] if M >= 2 else ["log"]
    return write_surrogate(
        out,
        table_meta=meta,
        layers=[Layer("dense", "l0"), Layer(kind, "l1")],
        arrays=arrays,
        metrics=names,
        transforms=transforms[:M],
        fit={"by": "tests/surrogate/conftest.py"},
    )


@pytest.fixture
def make_surrogate(
    make_table: Callable[..., tuple[Path, TableMeta]], tmp_path: Path
) -> Callable[..., tuple[Path, Path]]:
    """Factory: ``(table_dir, surrogate_dir)`` for a synthetic table (keywords: make_table's)."""
    counter = iter(range(1_000_000))

    def factory(
        *,
        kind: str = "dense",
        seed: int = 0,
        identity: bool = False,
        two_mode: bool = False,
        **table_kwargs: Any,
    ) -> tuple[Path, Path]:
        table_dir, _ = make_table(**table_kwargs)
        meta = read_table(table_dir).meta
        out = tmp_path / f"surrogate{next(counter)}"
        return table_dir, random_surrogate(
            meta, out, seed=seed, kind=kind, identity=identity, two_mode=two_mode
        )

    return factory
