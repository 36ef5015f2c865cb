"""``Table``: the dense in-memory form of one task.

All metrics live in one float32 array ``data[config, seed, step, metric]`` so that a single
index expression answers a query; configurations are kept as one numpy column per
hyperparameter. Tables are built by :func:`hpobench.table.read_table` (from parquet) or by the
writers. They are immutable for real: the constructor moves every array into an immutable
``bytes`` buffer (:func:`hpobench._readonly.sealed`), so neither ``setflags(write=True)`` nor
anything reached through ``.base`` can change a table after its checksum was verified. String
columns become fixed-width unicode arrays. (The one exception: a column mixing value types, e.g.
``(True, 0, "auto")``, can only be an object array, flagged read-only; ``read_table`` never
produces one, since the parquet format gives a column one type.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from hpobench._errors import SeedError, TableError
from hpobench._readonly import sealed
from hpobench.space import Config
from hpobench.table._meta import TableMeta

__all__ = ["Table"]


@dataclass(frozen=True, eq=False)
class Table:
    """Dense data of one task.

    Attributes:
        meta: the table's metadata (space, fidelity, metrics, seeds, provenance).
        configs: hyperparameter name -> array of length ``n_configs`` (row ``i`` is config_id ``i``).
        data: float32 array ``[n_configs, n_seeds, n_steps, n_metrics]``.
        metric_names: the order of the last axis of ``data``.
    """

    meta: TableMeta
    configs: Mapping[str, np.ndarray]
    data: np.ndarray
    metric_names: tuple[str, ...]

    def __post_init__(self) -> None:
        m = self.meta
        if self.data.dtype != np.float32 or self.data.ndim != 4:
            raise TableError(
                f"{m.id}: data must be float32 [configs, seeds, steps, metrics], got {self.data.dtype} {self.data.shape}."
            )
        n, s, f, k = self.data.shape
        if s != len(m.seeds) or f != len(m.fidelity) or k != len(self.metric_names):
            raise TableError(
                f"{m.id}: data shape {self.data.shape} does not match meta: {len(m.seeds)} seeds, "
                f"{len(m.fidelity)} fidelity steps, {len(self.metric_names)} metrics."
            )
        if set(self.metric_names) != set(m.metrics):
            raise TableError(
                f"{m.id}: metrics {list(self.metric_names)} differ from meta's {list(m.metrics)}."
            )
        if list(self.configs) != list(m.space.names):
            raise TableError(
                f"{m.id}: config columns {list(self.configs)} differ from the space's {list(m.space.names)}."
            )
        for name, col in self.configs.items():
            if len(col) != n:
                raise TableError(
                    f"{m.id}: config column {name!r} has {len(col)} rows, expected {n}."
                )
        cols = {name: _sealed_column(col) for name, col in self.configs.items()}
        object.__setattr__(self, "configs", MappingProxyType(cols))
        object.__setattr__(self, "data", sealed(self.data))

    def __reduce__(self) -> tuple[Any, ...]:
        # a mappingproxy does not pickle; the arrays pickle as copies and are sealed again
        return (Table, (self.meta, dict(self.configs), self.data, self.metric_names))

    @property
    def n_configs(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_seeds(self) -> int:
        return int(self.data.shape[1])

    @property
    def n_steps(self) -> int:
        return int(self.data.shape[2])

    def metric_index(self, name: str) -> int:
        try:
            return self.metric_names.index(name)
        except ValueError:
            from hpobench._errors import did_you_mean

            raise TableError(
                f"{self.meta.id}: metric must be one of {list(self.metric_names)}, but got {name!r}."
                + did_you_mean(name, self.metric_names)
            ) from None

    def metric(self, name: str) -> np.ndarray:
        """View ``[n_configs, n_seeds, n_steps]`` of one metric."""
        return self.data[..., self.metric_index(name)]

    def seed_index(self, seed: int) -> int:
        try:
            if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
                raise TypeError(seed)  # 1.7 or True must not silently mean seed 1
            return self.meta.seeds.index(int(seed))
        except (ValueError, TypeError):
            raise SeedError(
                f"{self.meta.id}: seed must be one of {list(self.meta.seeds)}, but got {seed!r}."
            ) from None

    def config(self, config_id: int) -> Config:
        """The configuration stored at row ``config_id`` (Python scalars)."""
        is_int = isinstance(config_id, (int, np.integer))
        if (
            isinstance(config_id, (bool, np.bool_))
            or not is_int
            or not 0 <= int(config_id) < self.n_configs
        ):
            raise TableError(
                f"{self.meta.id}: config_id must be an int in [0, {self.n_configs}), "
                f"got {config_id!r}."
            )
        # String columns are object arrays of str (no ``.item()``); numeric ones hold numpy scalars.
        return {
            k: (x.item() if isinstance(x := v[int(config_id)], np.generic) else x)
            for k, v in self.configs.items()
        }


def _sealed_column(col: np.ndarray) -> np.ndarray:
    try:
        return sealed(col)
    except TypeError:  # mixed value types: an object array is the only representation
        out = np.array(col, dtype=object, copy=True)
        out.flags.writeable = False
        return out
