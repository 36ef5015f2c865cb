"""``SearchSpace``: an ordered set of typed hyperparameters.

A configuration is a plain ``dict`` name -> value. The space validates configurations once,
at the boundary, samples from an explicit ``numpy.random.Generator``, maps to and from the unit
cube ``[0, 1]^d``, enumerates grids (first hyperparameter varies slowest, like
``itertools.product``), and round-trips through JSON.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from hpobench._errors import ConfigError, did_you_mean
from hpobench._validate import as_scalar, check_float, check_int, is_integer
from hpobench.space._params import (
    Categorical,
    Float,
    Hyperparameter,
    Int,
    Ordinal,
    Value,
    hyperparameter_from_dict,
)

__all__ = ["MAX_SAMPLES", "Config", "SearchSpace"]

Config = dict[str, Value]
MAX_SAMPLES = 100_000_000  # a larger n is a typo (and would not fit in memory as dicts)


def _values_of(hp: Hyperparameter) -> tuple[Value, ...]:
    if isinstance(hp, (Ordinal, Categorical)):
        return hp.values
    if isinstance(hp, Int):
        if hp.high - hp.low > MAX_SAMPLES:
            raise ConfigError(f"{hp.name} has {hp.high - hp.low + 1:,} values; too many to list.")
        return tuple(range(hp.low, hp.high + 1))
    raise ConfigError(f"{hp.name} is continuous (Float): it has no finite list of values.")


def _from_unit_uniform(hp: Hyperparameter, u: np.ndarray) -> np.ndarray:
    """Column of samples from uniform ``u``: discrete values are equally likely."""
    if isinstance(hp, (Float, Int)):
        return hp.from_unit_array(u)
    vals = np.empty(len(hp.values), dtype=object)
    vals[:] = list(hp.values)
    idx = np.minimum((u * len(vals)).astype(np.int64), len(vals) - 1)
    return vals[idx]


def _move(hp: Hyperparameter, value: Value, rng: np.random.Generator, scale: float) -> Value:
    if isinstance(hp, Categorical):
        others = [v for v in hp.values if v != value or type(v) is not type(value)]
        return others[int(rng.integers(len(others)))]
    if isinstance(hp, Ordinal):
        i = hp.index(value)
        j = i + (1 if rng.random() < 0.5 else -1)
        if not 0 <= j < len(hp.values):
            j = i - (j - i)
        return hp.values[j]
    u = hp.to_unit(value)
    for _ in range(64):
        new = hp.from_unit(min(max(u + scale * float(rng.normal()), 0.0), 1.0))
        if new != value:
            return new
    if isinstance(hp, Int):  # tiny scale on a wide range: step to an adjacent integer
        return value + 1 if value < hp.high else value - 1  # type: ignore[operator]
    return new


class SearchSpace:
    """An ordered, immutable collection of hyperparameters.

    >>> space = SearchSpace([Ordinal("batch_size", (16, 32)), Float("lr", 1e-4, 1e-1, log=True)])
    >>> space.validate({"batch_size": 32, "lr": 0.01})
    {'batch_size': 32, 'lr': 0.01}
    >>> len(space)
    2
    """

    __slots__ = ("_by_name", "_hps", "_names")

    def __init__(self, hyperparameters: Sequence[Hyperparameter]) -> None:
        if isinstance(hyperparameters, (str, bytes)) or not hasattr(hyperparameters, "__iter__"):
            raise ConfigError(
                f"A search space needs a sequence of hyperparameters, but got {hyperparameters!r}."
            )
        hps = tuple(hyperparameters)
        if not hps:
            raise ConfigError("A search space needs at least one hyperparameter, but got none.")
        for hp in hps:
            if not isinstance(hp, (Float, Int, Ordinal, Categorical)):
                raise ConfigError(
                    f"Search space entries must be Float, Int, Ordinal or Categorical, but got {hp!r}."
                )
        names = tuple(hp.name for hp in hps)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(
                f"Hyperparameter names must be unique, but {dupes} appear more than once."
            )
        self._hps = hps
        self._names = names
        self._by_name = {hp.name: hp for hp in hps}

    # -- introspection ---------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def hyperparameters(self) -> tuple[Hyperparameter, ...]:
        return self._hps

    def __getitem__(self, name: str) -> Hyperparameter:
        if not isinstance(name, str):
            raise ConfigError(
                f"A hyperparameter is looked up by its name (a str), but got "
                f"{type(name).__name__}: {name!r}; the space has {list(self._names)}."
            )
        try:
            return self._by_name[name]
        except KeyError:
            raise ConfigError(
                f"No hyperparameter named {name!r}; the space has {list(self._names)}."
                + did_you_mean(name, self._names)
            ) from None

    def __len__(self) -> int:
        return len(self._hps)

    def __iter__(self) -> Iterator[Hyperparameter]:
        return iter(self._hps)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self._hps == other._hps

    def __hash__(self) -> int:
        return hash(self._hps)

    def __repr__(self) -> str:
        inner = ", ".join(repr(hp) for hp in self._hps)
        return f"SearchSpace([{inner}])"

    @property
    def is_discrete(self) -> bool:
        """True when every hyperparameter is Int, Ordinal or Categorical (a finite grid)."""
        return all(not isinstance(hp, Float) for hp in self._hps)

    # -- validation ------------------------------------------------------------------------
    def validate(self, config: Any) -> Config:
        """Return the canonical form of ``config`` or raise ``ConfigError`` saying what is wrong.

        Canonical: keys in space order, values of the declared type (an ordinal float given as
        ``0.30000000000000004`` comes back as the declared ``0.3``).
        """
        if not isinstance(config, Mapping):
            raise ConfigError(
                f"A configuration must be a mapping name -> value, but got {type(config).__name__}: {config!r}."
            )
        missing = [n for n in self._names if n not in config]
        extra = [k for k in config if k not in self._by_name]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"unknown {extra}")
            hint = did_you_mean(str(extra[0]), missing or self._names) if extra else ""
            raise ConfigError(
                f"A configuration must have exactly the names {list(self._names)}, but it has "
                + " and ".join(parts)
                + "."
                + hint
            )
        return {hp.name: hp.validate(config[hp.name]) for hp in self._hps}

    # -- sampling --------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Config:
        """One configuration drawn uniformly (log-uniformly for log-scale) using ``rng``."""
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(
                f"sample needs an explicit numpy.random.Generator, but got {type(rng).__name__}. "
                "Use numpy.random.default_rng(seed)."
            )
        return {hp.name: hp.sample(rng) for hp in self._hps}

    def sample_many(self, rng: np.random.Generator, n: int) -> list[Config]:
        """``n`` configurations drawn as :meth:`sample` draws one, vectorised with numpy.

        Deterministic given the generator's state (one ``rng.random((n, d))`` draw), but *not*
        the same stream as ``n`` calls of :meth:`sample`. See :meth:`sample_columns` for arrays.
        """
        cols = self.sample_columns(rng, n)
        lists = [cols[name].tolist() for name in self._names]
        return [dict(zip(self._names, row, strict=True)) for row in zip(*lists, strict=True)]

    def sample_columns(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """``n`` sampled configurations as columns name -> array (object arrays for discrete)."""
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(
                f"sample needs an explicit numpy.random.Generator, but got {type(rng).__name__}. "
                "Use numpy.random.default_rng(seed)."
            )
        if not is_integer(n) or as_scalar(n) < 0 or as_scalar(n) > MAX_SAMPLES:
            raise ConfigError(
                f"`n >= 0` (an integer, at most {MAX_SAMPLES:,}) must hold, but got {n!r}."
            )
        u = rng.random((int(as_scalar(n)), len(self._hps)))
        return {hp.name: _from_unit_uniform(hp, u[:, j]) for j, hp in enumerate(self._hps)}

    def neighbours(
        self, config: Mapping[str, Any], rng: np.random.Generator, n: int = 1, *, scale: float = 0.1
    ) -> list[Config]:
        """``n`` configurations that each differ from ``config`` in exactly one hyperparameter.

        The changed hyperparameter is drawn uniformly; a Float or Int moves by a normal step of
        standard deviation ``scale`` in the unit cube (clipped; an Int always to another value),
        an Ordinal to an adjacent value, a Categorical to another choice. A hyperparameter with a
        single value never changes (a space of only such has no neighbours: ``ConfigError``).
        Deterministic given ``rng``. This is the mutation local search and evolution need.
        """
        cfg = self.validate(config)
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(
                f"neighbours needs a numpy.random.Generator, but got {type(rng).__name__}."
            )
        count = check_int("n", n, low=0, high=MAX_SAMPLES, error=ConfigError)
        step = check_float("scale", scale, low=0.0, low_open=True, high=1.0, error=ConfigError)
        movable = [
            hp
            for hp in self._hps
            if not (isinstance(hp, (Ordinal, Categorical)) and len(hp.values) == 1)
        ]
        if not movable:
            raise ConfigError("This space has no neighbours: every hyperparameter has one value.")
        out = []
        for _ in range(count):
            hp = movable[int(rng.integers(len(movable)))]
            new = dict(cfg)
            new[hp.name] = _move(hp, cfg[hp.name], rng, step)
            out.append(new)
        return out

    def values_of(self, name: str) -> tuple[Value, ...]:
        """The finite values of a discrete hyperparameter (Ordinal/Categorical values, an Int's
        range); a Float has none (``ConfigError``)."""
        return _values_of(self[name])

    # -- unit cube -------------------------------------------------------------------------
    def encode_many(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``[n, d]`` float64 matrix of :meth:`encode` rows (every config validated)."""
        rows = [self.encode(c) for c in configs]
        return np.vstack(rows) if rows else np.empty((0, len(self._hps)))

    def decode_many(self, matrix: Any) -> list[Config]:
        """Inverse of :meth:`encode_many`: one configuration per row of an ``[n, d]`` matrix."""
        try:
            x = np.asarray(matrix, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(
                f"decode_many needs an [n, {len(self._hps)}] matrix of numbers."
            ) from None
        if x.ndim != 2 or x.shape[1] != len(self._hps):
            raise ConfigError(
                f"decode_many needs shape (n, {len(self._hps)}), but got shape {x.shape}."
            )
        if not np.all(np.isfinite(x)):
            raise ConfigError("decode_many needs finite values, but got NaN or inf.")
        return [self.decode(row) for row in x]

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """Map a configuration to a float64 vector in ``[0, 1]^d`` (space order)."""
        cfg = self.validate(config)
        return np.array([hp.to_unit(cfg[hp.name]) for hp in self._hps], dtype=np.float64)

    def decode(self, vector: Any) -> Config:
        """Inverse of :meth:`encode`; values outside ``[0, 1]`` are clipped, NaN is an error."""
        try:
            x = np.asarray(vector, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(
                f"decode needs a vector of {len(self._hps)} numbers, but got {vector!r}."
            ) from None
        if x.shape != (len(self._hps),):
            raise ConfigError(
                f"decode needs a vector of shape ({len(self._hps)},), but got shape {x.shape}."
            )
        if not np.all(np.isfinite(x)):
            raise ConfigError(f"decode needs finite values, but got {x.tolist()}.")
        return {hp.name: hp.from_unit(float(u)) for hp, u in zip(self._hps, x, strict=True)}

    # -- grids -----------------------------------------------------------------------------
    def grid_values(self, n_points: int | None = None) -> tuple[tuple[Value, ...], ...]:
        """The values of each dimension of :meth:`grid`."""
        return tuple(hp.grid(n_points) for hp in self._hps)

    def grid_size(self, n_points: int | None = None) -> int:
        return int(np.prod([len(v) for v in self.grid_values(n_points)], dtype=np.int64))

    def grid(self, n_points: int | None = None) -> Iterator[Config]:
        """Every configuration of the grid, the first hyperparameter varying slowest.

        Continuous (Float) dimensions need ``n_points``; Int dimensions use all their values
        unless ``n_points`` is given.
        """
        values = self.grid_values(n_points)
        for combo in itertools.product(*values):
            yield dict(zip(self._names, combo, strict=True))

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"hyperparameters": [hp.to_dict() for hp in self._hps]}

    @classmethod
    def from_dict(cls, d: Any) -> SearchSpace:
        if not isinstance(d, Mapping) or not isinstance(d.get("hyperparameters"), list):
            raise ConfigError(
                f"A search space dict must have a 'hyperparameters' list, but got {d!r}."
            )
        return cls([hyperparameter_from_dict(h) for h in d["hyperparameters"]])

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SearchSpace:
        try:
            d = json.loads(text)
        except (TypeError, json.JSONDecodeError) as e:
            raise ConfigError(
                f"A search space JSON must be valid JSON, but parsing failed: {e}."
            ) from None
        except RecursionError:
            raise ConfigError(
                "A search space JSON must be an object with a 'hyperparameters' list, but it is "
                "nested too deeply to parse."
            ) from None
        return cls.from_dict(d)

    # -- ConfigSpace -----------------------------------------------------------------------
    def to_configspace(self, seed: int | None = None) -> Any:
        """Export to a ``ConfigSpace.ConfigurationSpace`` (needs the ``configspace`` extra)."""
        from hpobench.space._configspace import to_configspace

        return to_configspace(self, seed=seed)

    @classmethod
    def from_configspace(cls, cs: Any) -> SearchSpace:
        """Import from a ``ConfigSpace.ConfigurationSpace`` (needs the ``configspace`` extra)."""
        from hpobench.space._configspace import from_configspace

        return from_configspace(cs)
