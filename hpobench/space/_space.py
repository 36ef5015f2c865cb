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
from hpobench.space._params import (
    Categorical,
    Float,
    Hyperparameter,
    Int,
    Ordinal,
    Value,
    hyperparameter_from_dict,
)

__all__ = ["Config", "SearchSpace"]

Config = dict[str, Value]


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
        """``n`` configurations, the same as ``n`` successive calls of :meth:`sample`."""
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigError(f"`n >= 0` (an integer) must hold, but got {n!r}.")
        return [self.sample(rng) for _ in range(int(n))]

    # -- unit cube -------------------------------------------------------------------------
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
