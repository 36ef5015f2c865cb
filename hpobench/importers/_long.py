"""Import a user's own results from a long-format table into the v1 format.

A long-format table has one row per (configuration, seed, fidelity step): one column per
hyperparameter, a seed column, a step (fidelity) column and one column per metric. Example::

    import pandas as pd
    from hpobench.importers import import_long_format
    from hpobench.space import SearchSpace, Ordinal, Float
    from hpobench.table import MetricSpec

    df = pd.DataFrame({"lr": [0.1, 0.1, 0.01, 0.01], "depth": [2, 2, 3, 3], "seed": [0, 0, 0, 0],
                       "epoch": [1, 2, 1, 2], "valid_loss": [0.9, 0.7, 0.8, 0.5],
                       "runtime": [1.0, 2.0, 1.5, 3.0]})
    import_long_format(df, "out/mine/toy", benchmark_id="mine/toy-v1",
                       space=SearchSpace([Float("lr", 1e-3, 1.0, log=True), Ordinal("depth", (2, 3))]),
                       fidelity_column="epoch", seed_column="seed",
                       metrics={"valid_loss": MetricSpec("valid_loss", "minimize", "valid"),
                                "runtime": MetricSpec("runtime", "minimize", "none")},
                       objective="valid_loss", tuning_seeds=[0], test_seeds=[])

Every (configuration, seed) must have every step; a missing one is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpobench._errors import TableError
from hpobench.fidelity import Fidelity
from hpobench.space import SearchSpace
from hpobench.table import MetricSpec, TableMeta, write_table

__all__ = ["import_long_format"]


def import_long_format(
    data: pd.DataFrame | str | Path,
    out_dir: str | Path,
    *,
    benchmark_id: str,
    space: SearchSpace,
    fidelity_column: str,
    seed_column: str,
    metrics: Mapping[str, MetricSpec],
    objective: str,
    tuning_seeds: Sequence[int],
    test_seeds: Sequence[int],
    reported_metric: str | None = None,
    runtime_metric: str = "runtime",
    description: str = "",
    dataset: Mapping[str, Any] | None = None,
    citation: str = "",
    licence: str = "",
    runtime_description: str = "",
) -> TableMeta:
    """Convert a long-format DataFrame (or a .csv/.parquet path) and write a v1 table to ``out_dir``."""
    if isinstance(data, (str, Path)):
        p = Path(data)
        if not p.is_file():
            raise TableError(f"Long-format input {str(p)!r} does not exist.")
        df = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
        source = str(p)
    elif isinstance(data, pd.DataFrame):
        df, source = data, "<DataFrame>"
    else:
        raise TableError(
            f"data must be a DataFrame or a .csv/.parquet path, but got {type(data).__name__}."
        )
    needed = [*space.names, seed_column, fidelity_column, *metrics]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise TableError(
            f"{source}: the long table must have columns {needed}, but {missing} are missing."
        )
    # Validate every distinct configuration against the space once.
    cfg = df[list(space.names)].drop_duplicates(ignore_index=True)
    canon = [space.validate(r) for r in cfg.to_dict(orient="records")]
    keys = pd.MultiIndex.from_frame(df[list(space.names)])
    uniq = pd.MultiIndex.from_frame(cfg)
    cid = uniq.get_indexer(keys)
    steps = np.sort(df[fidelity_column].unique())
    raw_seeds = df[seed_column].to_numpy()
    if raw_seeds.dtype.kind not in "iu" and not (
        raw_seeds.dtype.kind == "f" and np.all(np.isfinite(raw_seeds) & (raw_seeds % 1 == 0))
    ):
        raise TableError(
            f"{source}: column {seed_column!r} must hold integer seeds, but holds "
            f"{raw_seeds.dtype} values such as {raw_seeds[:3].tolist()}."
        )
    seeds = sorted(int(s) for s in df[seed_column].unique())
    fidelity = Fidelity(fidelity_column, tuple(v.item() for v in steps))
    n, s, f = len(uniq), len(seeds), len(steps)
    sidx = np.searchsorted(np.asarray(seeds), df[seed_column].to_numpy())
    fidx = np.searchsorted(steps, df[fidelity_column].to_numpy())
    flat = (cid * s + sidx) * f + fidx
    if len(np.unique(flat)) != len(flat):
        raise TableError(
            f"{source}: some (configuration, seed, {fidelity_column}) appears more than once."
        )
    if len(flat) != n * s * f:
        have = np.zeros(n * s * f, dtype=bool)
        have[flat] = True
        first = int(np.flatnonzero(~have)[0])
        c, rest = divmod(first, s * f)
        si, fi = divmod(rest, f)
        raise TableError(
            f"{source}: every configuration needs every seed at every {fidelity_column}; missing e.g. "
            f"config {canon[c]}, seed {seeds[si]}, {fidelity_column}={steps[fi].item()!r}."
        )
    dense = {}
    for m in metrics:
        arr = np.empty(n * s * f, dtype=np.float32)
        arr[flat] = df[m].to_numpy(dtype=np.float32)
        dense[m] = arr.reshape(n, s, f)
    configs = {name: np.asarray([c[name] for c in canon]) for name in space.names}
    meta = TableMeta(
        id=benchmark_id,
        description=description,
        space=space,
        fidelity=fidelity,
        metrics=dict(metrics),
        objective=objective,
        reported_metric=reported_metric or objective,
        runtime_metric=runtime_metric,
        runtime_description=runtime_description,
        seeds=tuple(seeds),
        tuning_seeds=tuple(tuning_seeds),
        test_seeds=tuple(test_seeds),
        dataset=dict(dataset or {"source": source}),
        generation={"imported_by": "hpobench.importers.import_long_format", "source": source},
        citation=citation,
        licence=licence,
    )
    return write_table(out_dir, meta, configs, dense)
