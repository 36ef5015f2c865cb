"""The sgd-linear and forest families: real curves, seeds, divergence, resume bit-identical."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier
from sklearn.linear_model import SGDRegressor

from hpobench.generate import generate, merge_run, plan_run
from hpobench.generate._families import FAMILIES, Family, TrainContext, Unit
from hpobench.generate._forest import train_forest
from hpobench.generate._sgd import LOSSES, train_sgd
from hpobench.generate.datasets import load_dataset


def _ctx(family: Family, dataset: str, clock: object) -> TrainContext:
    v = family.variants["cpu"]
    return TrainContext(
        family=family,
        variant="cpu",
        data=load_dataset(dataset, max_train_rows=v.max_train_rows),
        fidelity=family.fidelity,
        clock=clock,  # type: ignore[arg-type]
        settings=v.settings,
    )


def _unit(config: dict[str, Any], seed: int = 0) -> Unit:
    return Unit(index=0, config_id=0, seed=seed, config=config)


_SGD_CONFIG = {
    "loss": "smooth",
    "penalty": "l2",
    "alpha": 1e-4,
    "l1_ratio": 0.15,
    "learning_rate": "invscaling",
    "eta0": 0.01,
    "power_t": 0.25,
    "average": False,
}


@pytest.mark.parametrize("name", ["sgd-linear", "forest"])
def test_cpu_variants_are_prefixes_of_the_full_ones(name: str) -> None:
    family = FAMILIES[name]
    cpu = family.configs("cpu")
    assert len(cpu) == 1000
    assert cpu[:5] == family.configs("full", n_configs=5)
    assert len(family.datasets) >= 6
    assert {"regression", "binary", "multiclass"} <= set(family.task_types)


@pytest.mark.parametrize(
    ("family_fixture", "train", "dataset"),
    [
        ("tiny_sgd", train_sgd, "concrete"),
        ("tiny_sgd", train_sgd, "satimage"),
        ("tiny_forest", train_forest, "concrete"),
        ("tiny_forest", train_forest, "phoneme"),
    ],
)
def test_deterministic_seeds_differ_and_metrics_complete(
    family_fixture: str, train: Any, dataset: str, request: pytest.FixtureRequest, tick_clock: Any
) -> None:
    family: Family = request.getfixturevalue(family_fixture)
    plan = plan_run((family, dataset), seeds=[0, 1])
    units = plan.units(0, 6)
    ctx = _ctx(family, dataset, tick_clock)
    a, b = train(ctx, units), train(ctx, units)
    task_type = ctx.data.task_type
    for ra, rb in zip(a.results, b.results, strict=True):
        assert set(ra.metrics) == set(family.metrics(task_type))
        for name, curve in ra.metrics.items():
            assert curve.dtype == np.float32 and curve.shape == (len(family.fidelity.values),)
            np.testing.assert_array_equal(curve, rb.metrics[name])
    finite = [r for r in a.results if r.diverged_at_step is None]
    assert finite, "every unit diverged"
    by_config: dict[int, list[np.ndarray]] = {}
    for u, r in zip(units, a.results, strict=True):
        by_config.setdefault(u.config_id, []).append(r.metrics["valid_loss"])
    assert any(not np.array_equal(s0, s1) for s0, s1 in by_config.values())  # seeds matter
    assert a.device.startswith("cpu: ")


def test_sgd_curve_is_the_model_after_e_epochs(tiny_sgd: Family, tick_clock: Any) -> None:
    """Epoch e of the curve equals an independent SGDRegressor run for e epochs."""
    ctx = _ctx(tiny_sgd, "concrete", tick_clock)
    out = train_sgd(ctx, [_unit(_SGD_CONFIG, seed=5)])
    curve = out.results[0].metrics["valid_loss"]
    assert np.all(np.isfinite(curve)) and curve[-1] < curve[0]
    # tick clock: each epoch's partial_fit costs exactly one tick
    np.testing.assert_array_equal(out.results[0].metrics["runtime"], [1, 2, 3, 4])
    # the same stream as the family's: the documented seeding, replayed by hand
    seq = np.random.SeedSequence([5, 0x68706F62_73676431])
    model = SGDRegressor(
        loss="squared_error",
        alpha=1e-4,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        max_iter=1,
        tol=None,
        random_state=np.random.RandomState(np.random.MT19937(seq)),
    )
    d = ctx.data
    for _epoch in range(2):
        model.partial_fit(d.X_train, d.y_train)
    mse = float(np.mean((model.predict(d.X_valid).astype(np.float64) - d.y_valid) ** 2))
    assert curve[1] == np.float32(mse)


def test_sgd_divergence_follows_the_convention(tiny_sgd: Family, tick_clock: Any) -> None:
    config = {**_SGD_CONFIG, "learning_rate": "constant", "eta0": 1.0, "alpha": 1e-7}
    config["loss"] = "smooth"
    ctx = _ctx(tiny_sgd, "diamonds", tick_clock)
    result = train_sgd(ctx, [_unit(config)]).results[0]
    step = result.diverged_at_step
    assert step is not None, "eta0=1 constant squared loss on diamonds must overflow"
    for name, curve in result.metrics.items():
        if name == "runtime":
            assert np.all(np.isfinite(curve)) and np.all(np.diff(curve) > 0)
        else:
            assert np.all(np.isnan(curve[step:])) and np.all(np.isfinite(curve[:step]))


def test_sgd_loss_kinds_map_to_sklearn_losses() -> None:
    space = FAMILIES["sgd-linear"].variants["cpu"].space
    kinds = set(space["loss"].grid())
    assert kinds == set(LOSSES["classification"]) == set(LOSSES["regression"])
    for losses, cls in ((LOSSES["regression"], SGDRegressor),):
        for loss in losses.values():
            cls(loss=loss)._validate_params()


def test_forest_first_k_trees_are_a_k_tree_forest(tiny_forest: Family, tick_clock: Any) -> None:
    """The curve at k trees equals scikit-learn's own predict of the forest cut to k trees."""
    config = {
        "kind": "random_forest",
        "max_features": 0.5,
        "max_depth": 6,
        "min_samples_split": 2,
        "min_samples_leaf": 1,
        "bootstrap": True,
        "max_samples": 0.5,
    }
    ctx = _ctx(tiny_forest, "phoneme", tick_clock)
    result = train_forest(ctx, [_unit(config, seed=2)]).results[0]
    np.testing.assert_allclose(result.metrics["runtime"], [0.25, 0.5, 1.0])
    from hpobench.generate._forest import STREAM_TAG, sklearn_params
    from hpobench.generate._rows import seed_rows

    d = ctx.data
    rows, state = seed_rows(len(d.y_train), 2, 0.9, tag=STREAM_TAG)
    model = RandomForestClassifier(**sklearn_params(config, 4, state))
    model.fit(d.X_train[rows], d.y_train[rows])
    model.estimators_ = model.estimators_[:2]
    model.n_estimators = 2
    accuracy = float(np.mean(model.predict(d.X_valid) == d.y_valid))
    assert result.metrics["valid_accuracy"][1] == np.float32(accuracy)


def test_forest_regression_uses_extra_trees(tiny_forest: Family, tick_clock: Any) -> None:
    config = {
        "kind": "extra_trees",
        "max_features": 1.0,
        "max_depth": 32,
        "min_samples_split": 2,
        "min_samples_leaf": 1,
        "bootstrap": False,
        "max_samples": 0.3,  # inactive without bootstrap
    }
    ctx = _ctx(tiny_forest, "concrete", tick_clock)
    result = train_forest(ctx, [_unit(config)]).results[0]
    from hpobench.generate._forest import STREAM_TAG, sklearn_params
    from hpobench.generate._rows import seed_rows

    d = ctx.data
    rows, state = seed_rows(len(d.y_train), 0, 0.9, tag=STREAM_TAG)
    model = ExtraTreesRegressor(**sklearn_params(config, 4, state)).fit(
        d.X_train[rows], d.y_train[rows]
    )
    mse = float(np.mean((model.predict(d.X_test).astype(np.float64) - d.y_test) ** 2))
    assert result.metrics["test_loss"][-1] == pytest.approx(mse, rel=1e-6)
    assert result.metrics["train_loss"][-1] < 1e-3  # unpruned extra trees interpolate


@pytest.mark.parametrize("family_fixture", ["tiny_sgd", "tiny_forest"])
def test_killed_and_resumed_run_is_bit_identical(
    family_fixture: str, request: pytest.FixtureRequest, tmp_path: Path, tick_clock: Any
) -> None:
    family: Family = request.getfixturevalue(family_fixture)
    plan = plan_run((family, "phoneme"), seeds=[0, 1])
    generate(plan, tmp_path / "a", clock=tick_clock)
    generate(plan, tmp_path / "b", clock=tick_clock, max_chunks=1)
    generate(plan, tmp_path / "b", clock=tick_clock, resume=True)
    tables = []
    for name in ("a", "b"):
        merge_run(tmp_path / name, data_root=tmp_path / f"root_{name}")
        tables.append(
            pq.read_table(tmp_path / f"root_{name}" / family.name / "phoneme" / "table.parquet")
        )
    assert tables[0].equals(tables[1])
