"""Search spaces: typed hyperparameters and their composition."""

from hpobench.space._params import Categorical, Float, Hyperparameter, Int, Ordinal, Value
from hpobench.space._space import Config, SearchSpace

__all__ = [
    "Categorical",
    "Config",
    "Float",
    "Hyperparameter",
    "Int",
    "Ordinal",
    "SearchSpace",
    "Value",
]
