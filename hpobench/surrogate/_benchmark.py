"""``SurrogateBenchmark``: a fitted curve surrogate behind the ``Benchmark`` interface.

It answers for any configuration of the space (continuous values too), at the table's fidelity
steps and for the table's seeds, and refuses everything else the way the table does: a config
outside the space (names, types, bounds) with the space's ``ConfigError``, a fidelity off the
table's steps with ``FidelityError``, a seed not in the table with ``SeedError``. It never
extrapolates beyond the space's bounds.

Each ``(config, seed)`` is one consistent curve: ``query`` at every fidelity of the same seed
reads the same curve, and ``query_batch`` agrees with ``query`` to float32 precision (a batch is
one matrix pass; BLAS may round a 1-row and an n-row product differently in the last bit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import FidelityError, SeedError, SurrogateError, did_you_mean
from hpobench.benchmark._base import Backend, Benchmark, Curve
from hpobench.benchmark._index import _check_columns
from hpobench.benchmark._result import BatchResult, Result, _make_result
from hpobench.benchmark._tabular import _as_columns
from hpobench.surrogate._encode import Encoder
from hpobench.surrogate._format import WEIGHTS_FILE, SurrogateFile, read_surrogate
from hpobench.surrogate._noise import normals_many, normals_one

__all__ = ["SurrogateBenchmark"]

_CACHE_SIZE = 4096  # (configuration, seed) curves kept per benchmark: <= 8 MB on the shipped ones
_new_tuple = tuple.__new__


class SurrogateBenchmark(Benchmark):
    """A benchmark answered by a neural surrogate of a table (numpy only, no torch).

    Args:
        surrogate: a verified :class:`SurrogateFile` (see :meth:`from_directory`).

    >>> import hpobench
    >>> b = hpobench.make("gbt/phoneme-v1", backend="surrogate")
    >>> cfg = {"learning_rate": 0.0123, "max_leaf_nodes": 31, "min_samples_leaf": 20,
    ...        "l2_regularization": 1e-3, "max_features": 0.5, "max_bins": 255}
    >>> r = b.query(cfg, fidelity=200, seed=0)
    >>> 0.0 < r.metrics["valid_accuracy"] < 1.0 and r.cost > 0 and r.config_id == -1
    True
    """

    def __init__(self, surrogate: SurrogateFile) -> None:
        self.surrogate = surrogate
        self.meta = surrogate.table_meta
        self.network = surrogate.network
        self.encoder = Encoder(self.meta.space)
        if self.encoder.width != self.network.n_inputs:
            raise SurrogateError(
                f"{surrogate.path}: the network takes {self.network.n_inputs} inputs but the "
                f"space encodes to {self.encoder.width}."
            )
        self.sha256 = surrogate.weights_sha256
        self._backend = Backend(
            kind="surrogate", sha256=self.sha256, path=str(surrogate.path / WEIGHTS_FILE)
        )
        self._names = self.network.columns
        self._cost_k = self._names.index(self.meta.runtime_metric)
        fvals = self.meta.fidelity.values
        self._fvals = fvals
        self._fpos = {v: i for i, v in enumerate(fvals)}
        self._fprefix = [fvals[: i + 1] for i in range(len(fvals))]
        self._seeds = self.meta.seeds
        self._spos = {s: i for i, s in enumerate(self._seeds)}
        self._seeds_arr = np.asarray(self._seeds, dtype=np.int64)
        self._k = self.network.n_normals
        self._metric_k = {name: k for k, name in enumerate(self._names)}
        self._cache: dict[tuple[Any, ...], np.ndarray] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles as its verified file (network arrays and metadata; workers of a process pool
        # get the same weights, not a path to re-read); the curve cache is not carried along.
        return (type(self), (self.surrogate,))

    @classmethod
    def from_directory(
        cls, path: str | Path, *, expect_id: str | None = None, table_sha256: str | None = None
    ) -> SurrogateBenchmark:
        """Load ``path/{meta.json, weights.npz}`` (format, id, table and weights checksums)."""
        return cls(read_surrogate(path, expect_id=expect_id, expect_table_sha256=table_sha256))

    @property
    def backend(self) -> Backend:
        """``surrogate`` and the sha256 of ``weights.npz``: what a protocol pins."""
        return self._backend

    # -- single queries --------------------------------------------------------------------
    def _curve_of(
        self, config: Mapping[str, Any], fidelity: Any, seed: Any
    ) -> tuple[np.ndarray, int, int]:
        """Validated ``(curves [n_columns, T] read-only, step index, seed)`` of one query.

        The curves of the last :data:`_CACHE_SIZE` ``(configuration, seed)`` pairs are kept:
        an optimizer that resumes or re-reads a configuration at another fidelity (every
        multi-fidelity method) gets the same bytes without a second forward pass.
        """
        unit = self.encoder.unit_one(config)
        f = self._fpos.get(fidelity) if type(fidelity) in (int, float) else None
        if f is None:
            f = self.fidelity.index(fidelity)  # raises the table's FidelityError
        if type(seed) is not int or seed not in self._spos:
            seed = self._seed_slow(seed)
        key = (*unit, seed)
        full = self._cache.get(key)
        if full is None:
            full = self.network.curve_all(self.encoder.row1(unit), normals_one(unit, seed, self._k))
            full.flags.writeable = False
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = full
        return full, f, seed

    def query(self, config: Mapping[str, Any], *, fidelity: int | float, seed: int) -> Result:
        full, f, seed = self._curve_of(config, fidelity, seed)
        vals = full[:, f].tolist()
        return _make_result(
            dict(zip(self._names, vals, strict=False)),
            vals[self._cost_k],
            self._fvals[f],
            seed,
            -1,
            full[:, : f + 1].T,
            self._names,
            self._fprefix[f],
        )

    def query_curve(
        self, config: Mapping[str, Any], *, fidelity: int | float, seed: int, metric: str
    ) -> Curve:
        # The harness's per-evaluation question, answered without building a Result.
        full, f, _ = self._curve_of(config, fidelity, seed)
        m = self._metric_k.get(metric)
        if m is None:
            raise SurrogateError(
                f"{self.id}: metric must be one of {list(self._names)}, but got {metric!r}."
                + did_you_mean(metric, self._names)
            )
        curve = full[m, : f + 1].copy()  # owned: no view of the cached curves leaves
        curve.flags.writeable = False
        return _new_tuple(Curve, (-1, full.item(m, f), full.item(self._cost_k, f), curve))

    def _fidelity_index(self, fidelity: Any) -> int:
        if fidelity is None:
            raise FidelityError(
                f"{self.id}: fidelity is required (one of {list(self._fvals)[:8]}...)."
            )
        return self.fidelity.index(fidelity)

    def _seed_slow(self, seed: Any) -> int:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise SeedError(
                f"{self.id}: seed must be an int among {list(self.seeds)}, but got {seed!r}."
            )
        if int(seed) not in self._spos:
            raise SeedError(f"{self.id}: seed must be one of {list(self.seeds)}, but got {seed!r}.")
        return int(seed)

    # -- batch queries ---------------------------------------------------------------------
    def query_batch(
        self,
        configs: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        fidelity: Any,
        seed: Any,
    ) -> BatchResult:
        columns = _as_columns(configs, self.space.names)
        n = _check_columns(self.space, columns)
        unit = self.encoder.unit_many(columns, n)
        fidx = self._fidelity_indices(fidelity, n)
        seeds = self._seed_values(seed, n)
        net = self.network
        h = net.hidden(self.encoder.rows(unit))
        z = normals_many(unit, seeds, self._k)
        block = net.at_steps(h, z, fidx)
        metrics = {name: block[:, k] for k, name in enumerate(self._names)}
        return BatchResult(
            metrics=metrics, cost=block[:, self._cost_k], config_ids=np.full(n, -1, np.int64)
        )

    def _fidelity_indices(self, fidelity: Any, n: int) -> np.ndarray | int:
        if np.ndim(fidelity) == 0:
            return self._fidelity_index(fidelity)
        arr = np.asarray(fidelity)
        if arr.shape != (n,):
            raise FidelityError(
                f"fidelity must be a scalar or have shape ({n},), but got shape {arr.shape}."
            )
        return self.fidelity.indices(arr)

    def _seed_values(self, seed: Any, n: int) -> np.ndarray:
        if np.ndim(seed) == 0:
            s = self._seed_slow(seed.item() if isinstance(seed, np.generic) else seed)
            return np.full(n, s, dtype=np.int64)
        arr = np.asarray(seed)
        if arr.shape != (n,) or arr.dtype.kind not in "iu":
            raise SeedError(
                f"seed must be an int scalar or an int array of shape ({n},), but got {arr.dtype} {arr.shape}."
            )
        ok = np.isin(arr, self._seeds_arr)
        if not np.all(ok):
            raise SeedError(
                f"{self.id}: seeds must be in {list(self.seeds)}, but got {arr[~ok][0].item()!r}."
            )
        return arr.astype(np.int64)
