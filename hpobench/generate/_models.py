"""The trainable model families: hyperparameters → architecture, optimizer and seeds (no torch).

This module is the single place that says what a configuration of a family *means*. Both the
batched trainer and the one-model reference in :mod:`hpobench.generate._trainer` read a
:class:`ModelSpec` from here, so the two cannot disagree about architecture, schedule, initial
weights or data order.

Families
--------
``fcnet`` (Klein & Hutter 2019, "Tabular benchmarks for joint architecture and hyperparameter
optimization"): two hidden layers of ``n_units_1`` and ``n_units_2`` units, each followed by its
activation (``activation_fn_1``/``_2`` ∈ {relu, tanh}) and dropout (``dropout_1``/``_2``); Adam
with ``init_lr``, learning-rate schedule ``lr_schedule`` ∈ {cosine, const}; ``batch_size``; one
linear output, MSE loss on the (standardized) target.

``lcbench`` (Zimmer et al. 2021, "Auto-PyTorch Tabular", the LCBench data): Auto-PyTorch's
*shaped* MLP with funnel shape, reproduced from ``get_shaped_neuron_counts``:

* ``num_layers`` counts the **Linear layers including the output layer**, as in Auto-PyTorch
  (``num_layers=1`` is a linear model, ``num_layers=5`` has four hidden layers). Hidden widths
  are ``top - i * step`` for ``i = 0 .. num_layers - 2`` with ``top = max(n_features,
  max_units)`` and ``step = int((top - n_outputs) / (num_layers - 1))``.
* dropout follows the same funnel computed on 0..1000: hidden layer ``i`` gets
  ``(1000 - i * int(1000 / (num_layers - 1))) / 1000 * max_dropout``, i.e. the **first** hidden
  layer has ``max_dropout`` and later layers have less (Auto-PyTorch's ``dropout_shape='funnel'``;
  the dropout therefore *decreases* with depth, it does not increase).
* ReLU after every hidden layer; SGD with ``momentum`` and (coupled, PyTorch-style)
  ``weight_decay`` on all parameters; cosine annealing of ``learning_rate`` to 0 over the run;
  ``batch_size``; cross-entropy loss.

Shared conventions
------------------
* Learning-rate schedules are per epoch: epoch ``e`` (0-based) of ``n_epochs`` trains with
  ``lr * 0.5 * (1 + cos(pi * e / n_epochs))`` for ``cosine`` and ``lr`` for ``const``. A curve
  therefore depends on the total ``n_epochs``, exactly as in both original tables.
* Initial weights follow PyTorch's ``nn.Linear`` default distribution, ``U(-1/sqrt(fan_in),
  1/sqrt(fan_in))`` for weights and biases, but are drawn with **numpy** from the seed, so they
  are the same on every device and in every batch composition.
* From one integer training seed, :func:`seed_streams` derives three independent streams: the
  initial weights, the per-epoch data order, and a 32-bit dropout key.
* Hyperparameters are checked for *physical* validity (types, positivity, probabilities in
  range), not for membership in a published grid: the search space owns the grid.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpobench._errors import ConfigError, SeedError, did_you_mean

__all__ = [
    "FAMILIES",
    "ModelSpec",
    "check_family",
    "check_seed",
    "hyperparameter_names",
    "init_params",
    "layer_shapes",
    "lr_factor",
    "model_spec",
    "seed_streams",
    "train_flops_per_sample",
]

FAMILIES: tuple[str, ...] = ("fcnet", "lcbench")
_ACTIVATIONS = ("relu", "tanh")
_SCHEDULES = ("cosine", "const")
# Tag mixed into every seed so that these streams never coincide with another component's use
# of the same integer seed (bytes of "hpobtrn1").
_STREAM_TAG = 0x68706F627472_6E31


@dataclass(frozen=True)
class ModelSpec:
    """Everything the trainers need to know about one configuration, family-independent.

    ``widths``, ``activations`` and ``dropouts`` have one entry per hidden layer (possibly none).
    ``optimizer`` is ``"adam"`` (PyTorch defaults: betas 0.9/0.999, eps 1e-8) or ``"sgd"``
    (PyTorch semantics: coupled weight decay, momentum buffer starting at the first gradient,
    no dampening, no Nesterov).
    """

    widths: tuple[int, ...]
    activations: tuple[str, ...]
    dropouts: tuple[float, ...]
    optimizer: str
    learning_rate: float
    lr_schedule: str
    momentum: float
    weight_decay: float
    batch_size: int


# --------------------------------------------------------------------------------------------
# Validation of single values (messages say what must hold and what arrived)


def _int(name: str, value: Any, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"`{name}` must be an integer >= {low}, but got {value!r}.")
    if int(value) < low:
        raise ConfigError(f"`{name} >= {low}` must hold, but got {name}={int(value)}.")
    return int(value)


def _real(
    name: str, value: Any, *, low: float, high: float, low_open: bool, high_open: bool
) -> float:
    left, right = ("(" if low_open else "["), (")" if high_open else "]")
    interval = f"{left}{low}, {high}{right}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"`{name}` must be a number in {interval}, but got {value!r}.")
    v = float(value)
    ok = (
        math.isfinite(v)
        and (v > low if low_open else v >= low)
        and (v < high if high_open else v <= high)
    )
    if not ok:
        raise ConfigError(f"`{name}` must lie in {interval}, but got {name}={v!r}.")
    return v


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(
            f"`{name}` must be one of {choices}, but got {value!r}."
            + did_you_mean(str(value), choices)
        )
    return value


def _positive(name: str, value: Any) -> float:
    return _real(name, value, low=0.0, high=math.inf, low_open=True, high_open=True)


def _probability(name: str, value: Any, *, allow_one: bool) -> float:
    return _real(name, value, low=0.0, high=1.0, low_open=False, high_open=not allow_one)


# --------------------------------------------------------------------------------------------
# Families


def _fcnet(config: Mapping[str, Any], n_features: int, n_outputs: int) -> ModelSpec:
    del n_features, n_outputs  # the architecture does not depend on the data
    return ModelSpec(
        widths=(_int("n_units_1", config["n_units_1"], low=1),
                _int("n_units_2", config["n_units_2"], low=1)),
        activations=(_choice("activation_fn_1", config["activation_fn_1"], _ACTIVATIONS),
                     _choice("activation_fn_2", config["activation_fn_2"], _ACTIVATIONS)),
        dropouts=(_probability("dropout_1", config["dropout_1"], allow_one=False),
                  _probability("dropout_2", config["dropout_2"], allow_one=False)),
        optimizer="adam",
        learning_rate=_positive("init_lr", config["init_lr"]),
        lr_schedule=_choice("lr_schedule", config["lr_schedule"], _SCHEDULES),
        momentum=0.0,
        weight_decay=0.0,
        batch_size=_int("batch_size", config["batch_size"], low=1),
    )  # fmt: skip


def _lcbench(config: Mapping[str, Any], n_features: int, n_outputs: int) -> ModelSpec:
    num_layers = _int("num_layers", config["num_layers"], low=1)
    max_units = _int("max_units", config["max_units"], low=1)
    max_dropout = _probability("max_dropout", config["max_dropout"], allow_one=True)
    n_hidden = num_layers - 1
    widths: tuple[int, ...] = ()
    dropouts: tuple[float, ...] = ()
    if n_hidden > 0:
        top = max(n_features, max_units)
        step = max(0, int((top - n_outputs) / n_hidden))
        widths = tuple(top - i * step for i in range(n_hidden))
        drop_step = int(1000 / n_hidden)
        dropouts = tuple((1000 - i * drop_step) / 1000 * max_dropout for i in range(n_hidden))
    return ModelSpec(
        widths=widths,
        activations=("relu",) * n_hidden,
        dropouts=dropouts,
        optimizer="sgd",
        learning_rate=_positive("learning_rate", config["learning_rate"]),
        lr_schedule="cosine",
        momentum=_probability("momentum", config["momentum"], allow_one=False),
        weight_decay=_real(
            "weight_decay",
            config["weight_decay"],
            low=0.0,
            high=math.inf,
            low_open=False,
            high_open=True,
        ),
        batch_size=_int("batch_size", config["batch_size"], low=1),
    )


_HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "fcnet": (
        "n_units_1",
        "n_units_2",
        "dropout_1",
        "dropout_2",
        "activation_fn_1",
        "activation_fn_2",
        "init_lr",
        "lr_schedule",
        "batch_size",
    ),
    "lcbench": (
        "num_layers",
        "max_units",
        "max_dropout",
        "momentum",
        "learning_rate",
        "weight_decay",
        "batch_size",
    ),
}
_BUILDERS: dict[str, Callable[[Mapping[str, Any], int, int], ModelSpec]] = {
    "fcnet": _fcnet,
    "lcbench": _lcbench,
}


def check_family(family: Any) -> str:
    """Return ``family`` if it is a known family, else raise :class:`ConfigError`."""
    if not isinstance(family, str) or family not in _BUILDERS:
        raise ConfigError(
            f"`family` must be one of {FAMILIES}, but got {family!r}."
            + did_you_mean(str(family), FAMILIES)
        )
    return family


def hyperparameter_names(family: str) -> tuple[str, ...]:
    """The exact hyperparameter names a configuration of ``family`` must have."""
    return _HYPERPARAMETERS[check_family(family)]


def model_spec(
    family: str, config: Mapping[str, Any], *, n_features: int, n_outputs: int
) -> ModelSpec:
    """Validate ``config`` for ``family`` and return what it means for this data shape.

    Raises :class:`ConfigError` when a hyperparameter is missing, unknown, or has an invalid
    value; the message names the hyperparameter and the value that arrived.
    """
    names = hyperparameter_names(family)
    if not isinstance(config, Mapping):
        raise ConfigError(f"A configuration must be a mapping, but got {type(config).__name__}.")
    missing = [n for n in names if n not in config]
    if missing:
        raise ConfigError(f"{family} configuration is missing hyperparameters {missing}.")
    extra = [k for k in config if k not in names]
    if extra:
        hints = "".join(did_you_mean(str(k), names) for k in extra)
        raise ConfigError(
            f"{family} configuration has unknown hyperparameters {extra}; "
            f"expected exactly {list(names)}.{hints}"
        )
    return _BUILDERS[family](config, n_features, n_outputs)


# --------------------------------------------------------------------------------------------
# Derived facts


def layer_shapes(spec: ModelSpec, n_features: int, n_outputs: int) -> list[tuple[int, int]]:
    """``(fan_in, fan_out)`` of every Linear layer, output layer last."""
    sizes = [n_features, *spec.widths, n_outputs]
    return list(itertools.pairwise(sizes))


def train_flops_per_sample(spec: ModelSpec, n_features: int, n_outputs: int) -> float:
    """Forward + backward FLOPs of one training sample: ``3 * sum(2 * fan_in * fan_out)``.

    The backward pass of a Linear layer costs about twice its forward pass (gradients with
    respect to inputs and to weights). Element-wise work is ignored; this is used only to
    apportion measured time between models that trained together.
    """
    return float(sum(6 * fi * fo for fi, fo in layer_shapes(spec, n_features, n_outputs)))


def lr_factor(schedule: str, epoch: int, n_epochs: int) -> float:
    """Multiplier of the base learning rate during ``epoch`` (0-based) of ``n_epochs``."""
    if schedule == "const":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * epoch / n_epochs))


def check_seed(seed: Any) -> int:
    """Return ``seed`` as an ``int`` if it is a non-negative integer, else raise SeedError."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise SeedError(f"A training seed must be a non-negative integer, but got {seed!r}.")
    return int(seed)


def seed_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator, int]:
    """``(init_rng, order_rng, dropout_key)`` derived from one training seed.

    ``init_rng`` draws the initial weights, ``order_rng`` one permutation of the training rows
    per epoch, and ``dropout_key`` (a 32-bit integer) keys the counter-based dropout masks.
    """
    children = np.random.SeedSequence([check_seed(seed), _STREAM_TAG]).spawn(3)
    init_rng = np.random.default_rng(children[0])
    order_rng = np.random.default_rng(children[1])
    dropout_key = int(children[2].generate_state(1, np.uint32)[0])
    return init_rng, order_rng, dropout_key


def init_params(
    shapes: Sequence[tuple[int, int]], rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Initial ``(weight float32[fan_in, fan_out], bias float32[fan_out])`` of every layer.

    PyTorch's ``nn.Linear`` default distribution, drawn with numpy (device independent).
    Weights are laid out ``[fan_in, fan_out]`` (``x @ W``); ``nn.Linear`` stores the transpose.
    """
    params = []
    for fan_in, fan_out in shapes:
        bound = 1.0 / math.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(np.float32)
        bias = rng.uniform(-bound, bound, size=fan_out).astype(np.float32)
        params.append((weight, bias))
    return params
