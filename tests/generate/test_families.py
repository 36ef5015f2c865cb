"""Families: task names, spaces per variant, metrics, and the gbt train function."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, log_loss

from hpobench._errors import ConfigError
from hpobench.generate import plan_run
from hpobench.generate._families import FAMILIES, Family, TrainContext, resolve_task
from hpobench.generate._gbt import seed_rows, train_gbt
from hpobench.generate._metrics import classification_metrics, regression_metrics
from hpobench.generate.datasets import load_dataset
from hpobench.space import Float

# -- task names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "family", "dataset"),
    [
        ("gbt/magic", "gbt", "magic"),
        ("lcbench/kr-vs-kp", "lcbench", "kr_vs_kp"),
        ("lcbench/kr_vs_kp-v1", "lcbench", "kr_vs_kp"),
        ("fcnet-grid/diamonds", "fcnet-grid", "diamonds"),
    ],
)
def test_tasks_resolve(text: str, family: str, dataset: str) -> None:
    fam, ds = resolve_task(text)
    assert (fam.name, ds) == (family, dataset)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fcnet-gird/concrete", "Did you mean 'fcnet-grid'"),
        ("gbt/magik", "Did you mean 'magic'"),
        ("fcnet-grid/magic", r"'magic' is a task of \['forest', 'gbt', 'lcbench', 'sgd-linear'\]"),
        ("gbt", "FAMILY/TASK"),
        ("gbt/magic/extra", "FAMILY/TASK"),
    ],
)
def test_unknown_tasks_teach(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_task(text)


# -- spaces and variants ---------------------------------------------------------------------


def test_fcnet_full_space_is_the_fcnet_grid() -> None:
    space = FAMILIES["fcnet-grid"].variants["full"].space
    values = dict(zip(space.names, space.grid_values(), strict=True))
    assert values == {
        "n_units_1": (16, 32, 64, 128, 256, 512),
        "n_units_2": (16, 32, 64, 128, 256, 512),
        "dropout_1": (0.0, 0.3, 0.6),
        "dropout_2": (0.0, 0.3, 0.6),
        "activation_fn_1": ("relu", "tanh"),
        "activation_fn_2": ("relu", "tanh"),
        "init_lr": (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1),
        "lr_schedule": ("cosine", "const"),
        "batch_size": (8, 16, 32, 64),
    }
    assert space.grid_size() == 62_208


def test_fcnet_cpu_variant_is_a_sub_grid_with_every_hyperparameter() -> None:
    fam = FAMILIES["fcnet-grid"]
    full, cpu = fam.variants["full"].space, fam.variants["cpu"].space
    assert cpu.names == full.names
    for sub, whole in zip(cpu.grid_values(), full.grid_values(), strict=True):
        assert len(sub) >= 2 and set(sub) <= set(whole)
    configs = fam.configs("cpu")
    assert len(configs) == cpu.grid_size() == len({tuple(c.values()) for c in configs})
    with pytest.raises(ConfigError, match="grid"):
        fam.configs("cpu", n_configs=10)


@pytest.mark.parametrize("name", ["lcbench", "gbt"])
def test_sampled_variants_nest(name: str) -> None:
    fam = FAMILIES[name]
    cpu = fam.configs("cpu")
    assert cpu == fam.configs("full")[: len(cpu)]
    assert fam.configs("cpu", n_configs=3) == cpu[:3]


def test_lcbench_space_is_lcbench() -> None:
    space = FAMILIES["lcbench"].variants["full"].space
    bounds = {hp.name: (hp.low, hp.high, hp.log) for hp in space}  # type: ignore[union-attr]
    assert bounds == {
        "batch_size": (16, 512, True),
        "learning_rate": (1e-4, 1e-1, True),
        "momentum": (0.1, 0.99, False),
        "weight_decay": (1e-5, 1e-1, True),
        "num_layers": (1, 5, False),
        "max_units": (64, 1024, True),
        "max_dropout": (0.0, 1.0, False),
    }
    assert isinstance(space["learning_rate"], Float)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_contract(family: str) -> None:
    fam = FAMILIES[family]
    assert set(fam.tuning_seeds) | set(fam.test_seeds) == set(fam.seeds)
    assert not set(fam.tuning_seeds) & set(fam.test_seeds)
    for task_type in fam.task_types:
        metrics = fam.metrics(task_type)
        objective, reported = fam.objective(task_type), fam.reported_metric(task_type)
        assert metrics[objective].split == "valid" and metrics[reported].split == "test"
        assert metrics[objective].direction == metrics[reported].direction
        assert metrics["runtime"].split == "none"
    for v in fam.variants.values():
        assert v.chunk_size >= 1


def test_neural_metric_names_match_the_trainer() -> None:
    pytest.importorskip("torch")
    from hpobench.generate._trainer import metric_names

    for fam in (FAMILIES["fcnet-grid"], FAMILIES["lcbench"]):
        for task_type in fam.task_types:
            assert set(fam.metrics(task_type)) == {*metric_names(task_type), "runtime"}


def test_seed_override_splits_tuning_and_test() -> None:
    plan = plan_run("gbt/concrete", seeds=[7, 8, 9])
    assert (plan.tuning_seeds, plan.test_seeds) == ((7, 8), (9,))
    assert "--seeds 7 8 9" in plan.command()


# -- metrics ---------------------------------------------------------------------------------


def test_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=200)
    proba = rng.dirichlet(np.ones(3), size=200)
    got = classification_metrics(y, proba)
    assert got["loss"] == pytest.approx(log_loss(y, proba, labels=[0, 1, 2]))
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, proba.argmax(1)))
    assert got["accuracy"] == pytest.approx(np.mean(proba.argmax(1) == y))
    assert regression_metrics(np.zeros(4), np.full(4, 2.0)) == {"loss": 4.0}


# -- gbt -------------------------------------------------------------------------------------


def _gbt_ctx(tiny_gbt: Family, dataset: str, clock: object) -> TrainContext:
    return TrainContext(
        family=tiny_gbt,
        variant="cpu",
        data=load_dataset(dataset),
        fidelity=tiny_gbt.fidelity,
        clock=clock,  # type: ignore[arg-type]
        settings=tiny_gbt.variants["cpu"].settings,
    )


def test_gbt_is_deterministic_and_seeds_differ(tiny_gbt: Family, tick_clock: object) -> None:
    plan = plan_run((tiny_gbt, "concrete"), seeds=[0, 1])
    units = plan.units(0, 4)
    ctx = _gbt_ctx(tiny_gbt, "concrete", tick_clock)
    a, b = train_gbt(ctx, units), train_gbt(ctx, units)
    for ra, rb in zip(a.results, b.results, strict=True):
        for name in ra.metrics:
            np.testing.assert_array_equal(ra.metrics[name], rb.metrics[name])
    # tick clock: fit took one "second", apportioned linearly over rounds (2, 4, 6) of 6
    np.testing.assert_allclose(a.results[0].metrics["runtime"], [1 / 3, 2 / 3, 1.0], rtol=1e-6)
    assert not np.array_equal(
        a.results[0].metrics["valid_loss"], a.results[1].metrics["valid_loss"]
    )
    assert np.all(np.diff(a.results[0].metrics["train_loss"]) < 0)  # boosting fits train
    assert a.device.startswith("cpu: ")


def test_gbt_classification_curves(tiny_gbt: Family, tick_clock: object) -> None:
    plan = plan_run((tiny_gbt, "phoneme"), seeds=[0])
    out = train_gbt(_gbt_ctx(tiny_gbt, "phoneme", tick_clock), plan.units(0, 2))
    for r in out.results:
        assert set(r.metrics) == set(tiny_gbt.metrics("binary"))
        for split, kind in itertools.product(("train", "valid", "test"), ("accuracy",)):
            assert np.all(
                (r.metrics[f"{split}_{kind}"] > 0.5) & (r.metrics[f"{split}_{kind}"] <= 1)
            )
        assert r.diverged_at_step is None


def test_seed_rows_are_a_seeded_subsample() -> None:
    rows, state = seed_rows(100, 3, 0.9)
    again, state2 = seed_rows(100, 3, 0.9)
    other, _ = seed_rows(100, 4, 0.9)
    assert len(rows) == 90 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, again) and state == state2 and not np.array_equal(rows, other)


@pytest.mark.parametrize("seed", range(6))
def test_labelled_split_equals_classification_metrics(seed: int) -> None:
    from hpobench.generate._metrics import LabelledSplit

    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    y = rng.integers(0, k, size=int(rng.integers(1, 50)))
    proba = rng.dirichlet(np.ones(k), size=len(y))
    proba[rng.random(len(y)) < 0.2] = 1.0 / k  # ties: both must take the first class
    assert LabelledSplit(y).metrics(proba) == classification_metrics(y, proba)
