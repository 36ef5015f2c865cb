"""Import a user's own results from a long-format table into the v1 format.

A long-format table has one row per (configuration, seed, fidelity step): one column per
hyperparameter, a seed column, a step (fidelity) column and one column per metric. The fidelity
values are the distinct values of the step column; the seeds are those of the seed column.

What is refused, because the harness would later choke on it or score it wrongly (each a
``TableError`` that names a cell): a non-finite runtime; a runtime that does not strictly increase
along the steps of a run (per-step runtimes must be summed: ``df.groupby([...]).cumsum()``); no
test seed; a test-split objective; non-numeric metric values; a duplicate row.

Published tables are ragged (a run stops early; some configurations have fewer seeds). The
``missing`` policy says what a missing (configuration, seed, step) cell does:

* ``"error"`` (default): refuse, naming a missing cell.
* ``"drop"``: leave out every configuration with any missing cell; the table is dense, every run
  of the harness is scored on every test seed. ``meta.json`` records how many were dropped
  (``extra.missing``).
* ``"nan"``: keep every configuration; a missing cell is NaN in every metric (the availability
  mask is ``isfinite(runtime)``, since present runtimes are finite). Queries answer NaN for such a
  cell. ``extra.missing.n_missing_cells`` is recorded and the harness refuses such a table (it
  would otherwise score incumbents on fewer test seeds than the protocol says); use it for your
  own queries, and ``"drop"`` for protocol runs.

Example (runs as is; docs/tables.md has the same as a JSON spec)::

    import pandas as pd
    from hpobench.importers import import_long_format
    from hpobench.space import SearchSpace, Ordinal, Float
    from hpobench.table import MetricSpec

    df = pd.DataFrame({"lr": [0.1, 0.1, 0.01, 0.01] * 2, "depth": [2, 2, 3, 3] * 2,
                       "seed": [0] * 4 + [1] * 4, "epoch": [1, 2, 1, 2] * 2,
                       "valid_loss": [0.9, 0.7, 0.8, 0.5, 0.8, 0.6, 0.9, 0.4],
                       "test_loss": [0.9, 0.7, 0.8, 0.5, 0.8, 0.6, 0.9, 0.4],
                       "runtime": [1.0, 2.0, 1.5, 3.0, 1.1, 2.1, 1.4, 2.9]})
    import_long_format(df, "out/mine/toy", benchmark_id="mine/toy-v1",
                       space=SearchSpace([Float("lr", 1e-3, 1.0, log=True), Ordinal("depth", (2, 3))]),
                       fidelity_column="epoch", seed_column="seed",
                       metrics={"valid_loss": MetricSpec("valid_loss", "minimize", "valid"),
                                "test_loss": MetricSpec("test_loss", "minimize", "test"),
                                "runtime": MetricSpec("runtime", "minimize", "none")},
                       objective="valid_loss", reported_metric="test_loss",
                       tuning_seeds=[0], test_seeds=[1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpobench._errors import HPOBenchError, TableError
from hpobench._validate import INT64_MAX, check_int
from hpobench.fidelity import Fidelity
from hpobench.space import SearchSpace
from hpobench.table import MetricSpec, TableMeta, write_table

__all__ = ["import_long_format"]


def _read_frame(data: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        return data, "<DataFrame>"
    if not isinstance(data, (str, Path)):
        raise TableError(
            f"data must be a DataFrame or a .csv/.parquet path, but got {type(data).__name__}."
        )
    p = Path(data)
    if not p.is_file():
        raise TableError(f"Long-format input {str(p)!r} must be an existing file, but is not.")
    source = str(p)
    try:
        if p.suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        elif p.suffix in (".csv", ".txt", ".tsv"):
            df = pd.read_csv(p, sep="\t" if p.suffix == ".tsv" else ",")
        else:
            raise TableError(
                f"{source}: the input must end in .csv, .tsv or .parquet, but ends in {p.suffix!r}."
            )
    except HPOBenchError:
        raise
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise TableError(f"{source}: must be a CSV table with a header row, but: {e}.") from None
    except Exception as e:  # pyarrow/fastparquet raise many types for a bad file
        raise TableError(
            f"{source}: must be a readable {p.suffix} file, but reading failed "
            f"({type(e).__name__}: {e})."
        ) from None
    if df.empty:
        raise TableError(f"{source}: must hold at least one row, but is empty.")
    return df, source


def _numeric(df: pd.DataFrame, col: str, source: str) -> np.ndarray:
    values = df[col].to_numpy()
    if values.dtype.kind == "b" or (values.dtype.kind not in "iuf"):
        bad = next(
            (v for v in values.tolist() if isinstance(v, (str, bool)) or v is None), values[0]
        )
        raise TableError(
            f"{source}: column {col!r} must hold numbers, but holds {values.dtype} values such as "
            f"{bad!r}."
        )
    return values.astype(np.float64)


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
    missing: str = "error",
    description: str = "",
    dataset: Mapping[str, Any] | None = None,
    citation: str = "",
    licence: str = "",
    runtime_description: str = "",
    replace: bool = False,
) -> TableMeta:
    r"""Convert a long-format DataFrame (or a .csv/.parquet path) and write a v1 table to ``out_dir``.

    ``missing`` is the policy for missing (configuration, seed, step) cells: ``"error"``,
    ``"drop"`` or ``"nan"`` (see the module docstring). A table already in ``out_dir`` is
    replaced only with ``replace=True``. Refusals are ``TableError``s.
    """
    if (Path(out_dir) / "meta.json").exists() and not replace:
        raise TableError(
            f"{out_dir} holds a table already; it is replaced only when asked (replace=True, "
            "--replace on the command line)."
        )
    if missing not in ("error", "drop", "nan"):
        raise TableError(f"missing must be 'error', 'drop' or 'nan', but got {missing!r}.")
    if not isinstance(space, SearchSpace):
        raise TableError(f"space must be a SearchSpace, but got {type(space).__name__}.")
    df, source = _read_frame(data)
    metrics = dict(metrics)
    if runtime_metric not in metrics:
        raise TableError(
            f"{source}: the runtime metric {runtime_metric!r} must be among the metrics "
            f"{list(metrics)}, but is not."
        )
    if objective in metrics and metrics[objective].split == "test":
        raise TableError(
            f"{source}: the objective must not be a test-split metric (optimizers never see test "
            f"metrics), but {objective!r} has split 'test'. Use a train/valid metric; score the "
            "test metric with reported_metric."
        )
    test = tuple(check_int("each test seed", s, error=TableError) for s in test_seeds)
    tuning = tuple(check_int("each tuning seed", s, error=TableError) for s in tuning_seeds)
    if not test:
        raise TableError(
            f"{source}: test_seeds must list at least one seed (incumbents are scored on them), "
            "but is empty."
        )
    needed = [*space.names, seed_column, fidelity_column, *metrics]
    absent = [c for c in needed if c not in df.columns]
    if absent:
        raise TableError(
            f"{source}: the long table must have columns {needed}, but {absent} are missing."
        )
    # Validate every distinct configuration against the space once.
    cfg = df[list(space.names)].drop_duplicates(ignore_index=True)
    canon = [space.validate(r) for r in cfg.to_dict(orient="records")]  # ConfigError names it
    keys = pd.MultiIndex.from_frame(df[list(space.names)])
    uniq = pd.MultiIndex.from_frame(cfg)
    cid = uniq.get_indexer(keys)
    steps_raw = _numeric(df, fidelity_column, source)
    if not np.all(np.isfinite(steps_raw)):
        raise TableError(f"{source}: column {fidelity_column!r} must hold finite numbers.")
    raw_seeds = df[seed_column].to_numpy()
    if raw_seeds.dtype.kind not in "iu" and not (
        raw_seeds.dtype.kind == "f" and np.all(np.isfinite(raw_seeds) & (raw_seeds % 1 == 0))
    ):
        raise TableError(
            f"{source}: column {seed_column!r} must hold integer seeds, but holds "
            f"{raw_seeds.dtype} values such as {raw_seeds[:3].tolist()}."
        )
    if raw_seeds.dtype.kind == "f" and np.any(np.abs(raw_seeds) > INT64_MAX):
        raise TableError(f"{source}: column {seed_column!r} holds seeds beyond the int64 range.")
    seed_col = raw_seeds.astype(np.int64)
    step_vals = np.unique(df[fidelity_column].to_numpy())
    steps = np.sort(step_vals)
    seeds = sorted(int(s) for s in np.unique(seed_col))
    try:
        fidelity = Fidelity(fidelity_column, tuple(v.item() for v in steps))
    except HPOBenchError as e:
        raise TableError(f"{source}: {e}") from None
    n, s, f = len(uniq), len(seeds), len(steps)
    sidx = np.searchsorted(np.asarray(seeds), seed_col)
    fidx = np.searchsorted(steps, df[fidelity_column].to_numpy())
    flat = (cid.astype(np.int64) * s + sidx) * f + fidx
    if len(np.unique(flat)) != len(flat):
        raise TableError(
            f"{source}: each (configuration, seed, {fidelity_column}) must appear once, but some "
            "appear more than once."
        )
    values = {m: _numeric(df, m, source) for m in metrics}
    rt = values[runtime_metric]
    if not np.all(np.isfinite(rt)):
        i = int(np.flatnonzero(~np.isfinite(rt))[0])
        raise TableError(
            f"{source}: runtime {runtime_metric!r} must be finite in every present cell, but row {i} "
            f"holds {rt[i]!r}."
        )
    if np.any(rt < 0):
        raise TableError(
            f"{source}: runtime {runtime_metric!r} must be >= 0, but holds {rt.min()!r}."
        )
    have = np.zeros(n * s * f, dtype=bool)
    have[flat] = True
    have3 = have.reshape(n, s, f)
    # A present run must be a prefix of the steps: a gap inside it has no cumulative runtime.
    run_len = have3.sum(axis=2)
    prefix = np.arange(f)[None, None, :] < run_len[..., None]
    if not np.array_equal(have3, prefix):
        c, si, fi = (int(x[0]) for x in np.nonzero(have3 != prefix))
        raise TableError(
            f"{source}: a run's steps must be present from the first {fidelity_column} on without "
            f"gaps (a run may stop early), but config {canon[c]}, seed {seeds[si]} has a gap at "
            f"{fidelity_column}={steps[fi].item()!r}."
        )
    flat_rt = np.full(n * s * f, np.nan)
    flat_rt[flat] = rt
    dense_rt = flat_rt.reshape(n, s, f)
    step_ok = np.diff(dense_rt, axis=2) > 0
    both = have3[..., 1:] & have3[..., :-1]
    if np.any(both & ~step_ok):
        c, si, fi = (int(x[0]) for x in np.nonzero(both & ~step_ok))
        raise TableError(
            f"{source}: runtime {runtime_metric!r} must be cumulative (strictly increasing along "
            f"{fidelity_column}), but config {canon[c]}, seed {seeds[si]} goes from "
            f"{dense_rt[c, si, fi]!r} to {dense_rt[c, si, fi + 1]!r} at {fidelity_column}="
            f"{steps[fi + 1].item()!r}. Per-step runtimes must be summed first "
            f"(df.groupby(config columns + [{seed_column!r}])[{runtime_metric!r}].cumsum())."
        )
    complete = have3.all(axis=(1, 2))
    extra: dict[str, Any] = {}
    keep = np.arange(n)
    if not complete.all():
        c = int(np.flatnonzero(~complete)[0])
        si, fi = (int(x[0]) for x in np.nonzero(~have3[c]))
        example = f"config {canon[c]}, seed {seeds[si]}, {fidelity_column}={steps[fi].item()!r}"
        n_missing = int((~have3).sum())
        if missing == "error":
            raise TableError(
                f"{source}: every configuration needs every seed at every {fidelity_column} "
                f"(missing='error'), but {n_missing} cells are missing, e.g. {example}. Use "
                "missing='drop' to leave out incomplete configurations or missing='nan' to keep "
                "them with NaN cells (see docs/tables.md)."
            )
        if missing == "drop":
            keep = np.flatnonzero(complete)
            if not len(keep):
                raise TableError(
                    f"{source}: missing='drop' leaves no configuration: every one lacks a cell "
                    f"(e.g. {example})."
                )
            extra["missing"] = {
                "policy": "drop",
                "n_dropped_configs": int(n - len(keep)),
                "n_configs_in_source": int(n),
            }
        else:
            extra["missing"] = {"policy": "nan", "n_missing_cells": n_missing}
    dense = {}
    for m in metrics:
        arr = np.full(n * s * f, np.nan, dtype=np.float32)
        arr[flat] = values[m].astype(np.float32)
        dense[m] = arr.reshape(n, s, f)[keep]
    configs = {name: np.asarray([canon[i][name] for i in keep]) for name in space.names}
    try:
        meta = TableMeta(
            id=benchmark_id,
            description=description,
            space=space,
            fidelity=fidelity,
            metrics=metrics,
            objective=objective,
            reported_metric=reported_metric or objective,
            runtime_metric=runtime_metric,
            runtime_description=runtime_description,
            seeds=tuple(seeds),
            tuning_seeds=tuning,
            test_seeds=test,
            dataset=dict(dataset or {"source": source}),
            generation={"imported_by": "hpobench.importers.import_long_format", "source": source},
            citation=citation,
            licence=licence,
            extra=extra,
        )
    except HPOBenchError as e:
        raise TableError(f"{source}: {e}") from None
    return write_table(out_dir, meta, configs, dense)
