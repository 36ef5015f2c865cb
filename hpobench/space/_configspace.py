"""ConfigSpace import/export; ConfigSpace is an optional dependency, imported lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpobench._errors import ConfigError
from hpobench.space._params import Categorical, Float, Hyperparameter, Int, Ordinal

if TYPE_CHECKING:
    from hpobench.space._space import SearchSpace


_ORDER_KEY = "hpobench_order"


def _require() -> Any:
    try:
        import ConfigSpace
    except ImportError:
        raise ConfigError(
            "ConfigSpace import/export needs the optional dependency ConfigSpace: "
            "pip install 'hpobench[configspace]'."
        ) from None
    return ConfigSpace


def to_configspace(space: SearchSpace, seed: int | None = None) -> Any:
    cs_mod = _require()
    # ConfigSpace sorts hyperparameters by name; the order is part of a SearchSpace (encode,
    # grid, table columns), so it travels in ``meta`` and from_configspace restores it.
    cs = cs_mod.ConfigurationSpace(seed=seed, meta={_ORDER_KEY: list(space.names)})
    for hp in space:
        if isinstance(hp, Float):
            cs.add(cs_mod.UniformFloatHyperparameter(hp.name, hp.low, hp.high, log=hp.log))
        elif isinstance(hp, Int):
            cs.add(cs_mod.UniformIntegerHyperparameter(hp.name, hp.low, hp.high, log=hp.log))
        elif isinstance(hp, Ordinal):
            cs.add(cs_mod.OrdinalHyperparameter(hp.name, list(hp.values)))
        else:
            cs.add(cs_mod.CategoricalHyperparameter(hp.name, list(hp.choices)))
    return cs


def from_configspace(cs: Any) -> SearchSpace:
    cs_mod = _require()
    from hpobench.space._space import SearchSpace

    if getattr(cs, "conditions", None):
        raise ConfigError(
            "ConfigSpace conditions are not supported yet; got a space with conditions."
        )
    hps: list[Hyperparameter] = []
    for h in cs.values():
        if isinstance(h, cs_mod.UniformFloatHyperparameter):
            hps.append(Float(h.name, float(h.lower), float(h.upper), log=bool(h.log)))
        elif isinstance(h, cs_mod.UniformIntegerHyperparameter):
            hps.append(Int(h.name, int(h.lower), int(h.upper), log=bool(h.log)))
        elif isinstance(h, cs_mod.OrdinalHyperparameter):
            hps.append(Ordinal(h.name, tuple(h.sequence)))
        elif isinstance(h, cs_mod.CategoricalHyperparameter):
            hps.append(Categorical(h.name, tuple(h.choices)))
        elif isinstance(h, cs_mod.Constant):
            hps.append(Ordinal(h.name, (h.value,)))
        else:
            raise ConfigError(
                f"ConfigSpace hyperparameter {h.name!r} of type {type(h).__name__} is not supported."
            )
    order = (getattr(cs, "meta", None) or {}).get(_ORDER_KEY)
    if isinstance(order, list) and sorted(order) == sorted(hp.name for hp in hps):
        hps.sort(key=lambda hp: order.index(hp.name))
    return SearchSpace(hps)
