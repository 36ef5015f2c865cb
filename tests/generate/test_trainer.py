"""Tests of the batched trainer: batched == alone, determinism, divergence, runtime, errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hpobench._errors import ConfigError, FidelityError, HPOBenchError, SeedError  # noqa: E402
from hpobench.generate import _group, _reference, _torchdata  # noqa: E402
from hpobench.generate._models import model_spec, train_flops_per_sample  # noqa: E402
from hpobench.generate._trainer import (  # noqa: E402
    CurveResult,
    TrainData,
    calibrate_runtime,
    metric_names,
    train_batch,
    train_one,
)

N_EPOCHS = 3


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_data(task_type: str, *, n_train: int = 96, n_eval: int = 40, seed: int = 0) -> TrainData:
    """A small smooth task: regression target standardized on train, or 2/3 classes."""
    rng = np.random.default_rng(seed)
    n_features = 6
    w = rng.normal(size=(n_features, 3))
    splits = {}
    for split, n in (("train", n_train), ("valid", n_eval), ("test", n_eval)):
        X = rng.normal(size=(n, n_features)).astype(np.float32)
        z = np.tanh(X @ w) + 0.3 * rng.normal(size=(n, 3))
        if task_type == "regression":
            y: np.ndarray = z.sum(axis=1).astype(np.float32)
        else:
            k = 2 if task_type == "binary" else 3
            y = z[:, :k].argmax(axis=1).astype(np.int64)
        splits[split] = (X, y)
    if task_type == "regression":
        mean, std = splits["train"][1].mean(), splits["train"][1].std()
        splits = {s: (X, ((y - mean) / std).astype(np.float32)) for s, (X, y) in splits.items()}
    n_classes = {"regression": 0, "binary": 2, "multiclass": 3}[task_type]
    return TrainData(
        **{f"{a}_{s}": v for s, xy in splits.items() for a, v in zip("Xy", xy, strict=True)},
        task_type=task_type,
        n_classes=n_classes,
    )


def fcnet(
    u1: int, u2: int, d1: float, d2: float, a1: str, a2: str, lr: float, sched: str, bs: int
) -> dict[str, Any]:
    return {
        "n_units_1": u1,
        "n_units_2": u2,
        "dropout_1": d1,
        "dropout_2": d2,
        "activation_fn_1": a1,
        "activation_fn_2": a2,
        "init_lr": lr,
        "lr_schedule": sched,
        "batch_size": bs,
    }


def lcbench(
    layers: int, units: int, drop: float, mom: float, lr: float, wd: float, bs: int
) -> dict[str, Any]:
    return {
        "num_layers": layers,
        "max_units": units,
        "max_dropout": drop,
        "momentum": mom,
        "learning_rate": lr,
        "weight_decay": wd,
        "batch_size": bs,
    }


# Mixed widths, dropouts, activations (incl. mixed within a layer), schedules and batch sizes;
# the first four share a batch size so they are stacked together.
FCNET = [
    fcnet(16, 32, 0.0, 0.3, "relu", "tanh", 1e-3, "cosine", 16),
    fcnet(32, 16, 0.6, 0.0, "tanh", "tanh", 5e-3, "const", 16),
    fcnet(16, 16, 0.0, 0.0, "tanh", "relu", 1e-3, "const", 16),
    fcnet(32, 32, 0.3, 0.6, "relu", "relu", 5e-4, "cosine", 16),
    fcnet(64, 16, 0.3, 0.3, "relu", "relu", 1e-2, "cosine", 32),
    fcnet(16, 64, 0.0, 0.6, "tanh", "tanh", 1e-3, "cosine", 8),
]
# Batch sizes within a factor of two are stacked although their steps per epoch differ;
# num_layers=1 is a linear model; max_dropout=1 drops the whole first hidden layer.
LCBENCH = [
    lcbench(1, 64, 0.0, 0.9, 0.05, 1e-4, 16),
    lcbench(3, 64, 0.5, 0.5, 0.01, 1e-3, 20),
    lcbench(3, 80, 0.2, 0.9, 0.02, 1e-5, 24),
    lcbench(4, 100, 1.0, 0.95, 0.05, 1e-2, 17),
    lcbench(2, 64, 0.3, 0.99, 0.1, 1e-5, 30),
    lcbench(3, 70, 0.1, 0.9, 0.03, 1e-4, 16),
]


def assert_same_curves(batched: CurveResult, alone: CurveResult, rtol: float = 1e-4) -> None:
    assert batched.diverged_at_epoch == alone.diverged_at_epoch
    assert batched.metrics.keys() == alone.metrics.keys()
    for name, ref in alone.metrics.items():
        np.testing.assert_allclose(batched.metrics[name], ref, rtol=rtol, atol=1e-6, err_msg=name)


@pytest.mark.parametrize(
    ("family", "configs", "task_type"),
    [
        ("fcnet", FCNET, "regression"),
        ("lcbench", LCBENCH, "multiclass"),
        ("lcbench", LCBENCH[1:4], "binary"),
    ],
)
def test_batched_equals_alone(family: str, configs: list[dict[str, Any]], task_type: str) -> None:
    data = make_data(task_type)
    seeds = list(range(10, 10 + len(configs)))
    batched = train_batch(family, configs, seeds, data, n_epochs=N_EPOCHS, device="cpu")
    assert max(r.group_size for r in batched) > 1  # something was really stacked
    for config, seed, result in zip(configs, seeds, batched, strict=True):
        assert result.config == config and result.seed == seed
        alone = train_one(family, config, seed, data, n_epochs=N_EPOCHS, device="cpu")
        assert_same_curves(result, alone)


def test_written_out_adam_equals_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_group, "_USE_FUSED_ADAM", False)
    data = make_data("regression")
    batched = train_batch("fcnet", FCNET[:4], [1, 2, 3, 4], data, n_epochs=2, device="cpu")
    for config, seed, result in zip(FCNET[:4], [1, 2, 3, 4], batched, strict=True):
        assert_same_curves(result, train_one("fcnet", config, seed, data, n_epochs=2))


def test_grouping_does_not_change_curves() -> None:
    data = make_data("regression")
    seeds = [5] * len(FCNET)
    stacked = train_batch("fcnet", FCNET, seeds, data, n_epochs=2, device="cpu")
    single = train_batch(
        "fcnet", FCNET, seeds, data, n_epochs=2, device="cpu", max_models_per_group=1
    )
    assert {r.group_size for r in single} == {1}
    for a, b in zip(stacked, single, strict=True):
        assert_same_curves(a, b)


def test_same_inputs_give_identical_arrays() -> None:
    data = make_data("multiclass")
    seeds = [3, 1, 4, 1, 5, 9]
    first = train_batch("lcbench", LCBENCH, seeds, data, n_epochs=2, device="cpu")
    second = train_batch("lcbench", LCBENCH, seeds, data, n_epochs=2, device="cpu")
    for a, b in zip(first, second, strict=True):
        for name in a.metrics:
            np.testing.assert_array_equal(a.metrics[name], b.metrics[name])


def test_seed_changes_the_curve() -> None:
    data = make_data("regression")
    a, b = train_batch("fcnet", [FCNET[0]] * 2, [0, 1], data, n_epochs=2, device="cpu")
    assert not np.allclose(a.metrics["valid_loss"], b.metrics["valid_loss"])


def test_metric_names_and_shapes() -> None:
    assert metric_names("regression") == ("train_loss", "valid_loss", "test_loss")
    assert len(metric_names("binary")) == 9
    assert "valid_balanced_accuracy" in metric_names("multiclass")
    data = make_data("multiclass")
    (result,) = train_batch("lcbench", LCBENCH[:1], [0], data, n_epochs=N_EPOCHS, device="cpu")
    assert tuple(result.metrics) == metric_names("multiclass")
    for name, values in result.metrics.items():
        assert values.shape == (N_EPOCHS,) and values.dtype == np.float32
        if "accuracy" in name:
            assert np.all((values >= 0) & (values <= 1))
    assert result.runtime.shape == result.group_runtime.shape == (N_EPOCHS,)
    assert result.runtime.dtype == np.float32


def test_divergence_is_nan_from_its_epoch_and_isolated() -> None:
    data = make_data("regression")
    absurd = dict(FCNET[3], init_lr=1e30)  # the first Adam step overflows float32
    configs = [FCNET[0], absurd, FCNET[2], FCNET[3]]
    seeds = [1, 2, 3, 4]
    with_bad = train_batch("fcnet", configs, seeds, data, n_epochs=N_EPOCHS, device="cpu")
    bad = with_bad[1]
    assert bad.group_size == 4  # it really shared a stacked model with the others
    assert bad.diverged_at_epoch is not None
    e = bad.diverged_at_epoch
    for values in bad.metrics.values():
        assert np.isnan(values[e:]).all() and np.isfinite(values[:e]).all()
    assert np.isfinite(bad.runtime).all() and np.all(np.diff(bad.runtime) > 0)
    alone = train_one("fcnet", absurd, 2, data, n_epochs=N_EPOCHS)
    assert alone.diverged_at_epoch == e
    assert np.isfinite(alone.runtime).all() and np.all(np.diff(alone.runtime) > 0)
    without = train_batch(
        "fcnet", [configs[i] for i in (0, 2, 3)], [1, 3, 4], data, n_epochs=N_EPOCHS
    )
    for a, b in zip([with_bad[i] for i in (0, 2, 3)], without, strict=True):
        assert a.diverged_at_epoch is None
        assert_same_curves(a, b)


def test_sgd_divergence_is_detected() -> None:
    data = make_data("multiclass")
    absurd = dict(LCBENCH[1], learning_rate=1e12)
    results = train_batch("lcbench", [LCBENCH[2], absurd], [0, 1], data, n_epochs=2)
    assert results[1].diverged_at_epoch == 0 and np.isnan(results[1].metrics["valid_loss"]).all()
    assert results[0].diverged_at_epoch is None
    assert np.isfinite(results[0].metrics["valid_loss"]).all()


def test_runtime_is_positive_monotone_and_apportioned() -> None:
    data = make_data("regression")
    results = train_batch("fcnet", FCNET, list(range(6)), data, n_epochs=N_EPOCHS)
    groups: dict[tuple[float, ...], list[CurveResult]] = {}
    for r in results:
        assert np.all(r.runtime > 0) and np.all(np.diff(r.runtime) > 0)
        assert np.all(r.runtime <= r.group_runtime * (1 + 1e-6))
        groups.setdefault(tuple(r.group_runtime.tolist()), []).append(r)
    for members in groups.values():
        assert len(members) == members[0].group_size
        total = np.sum([m.runtime for m in members], axis=0)
        np.testing.assert_allclose(total, members[0].group_runtime, rtol=1e-5)
        # apportioned by training FLOPs per sample
        flops = np.array(
            [
                train_flops_per_sample(
                    model_spec("fcnet", m.config, n_features=6, n_outputs=1), 6, 1
                )
                for m in members
            ]
        )
        shares = np.array([m.runtime[-1] for m in members]) / members[0].group_runtime[-1]
        np.testing.assert_allclose(shares, flops / flops.sum(), rtol=1e-4)


def test_calibration_fits_one_scale() -> None:
    data = make_data("regression")
    results = train_batch("fcnet", FCNET[:4], [0, 1, 2, 3], data, n_epochs=2)
    cal = calibrate_runtime("fcnet", results, data, n_samples=2, n_epochs=1, device="cpu")
    assert len(cal.indices) == 2 and cal.n_epochs == 1 and cal.device == "cpu"
    assert np.isfinite(cal.scale) and cal.scale > 0
    expected = sum(cal.alone_epoch_seconds) / sum(cal.batched_epoch_seconds)
    assert cal.scale == pytest.approx(expected)
    scaled = cal.apply(results)
    np.testing.assert_allclose(scaled[0].runtime, results[0].runtime * cal.scale, rtol=1e-6)
    np.testing.assert_array_equal(scaled[0].group_runtime, results[0].group_runtime)


def test_metrics_match_scikit_learn() -> None:
    metrics_mod = pytest.importorskip("sklearn.metrics")
    data = make_data("multiclass", n_train=50, n_eval=30)
    ddata = _torchdata.to_device(data, torch.device("cpu"))
    rng = np.random.default_rng(1)
    logits = {s: rng.normal(size=(2, getattr(data, f"X_{s}").shape[0], 3)) for s in ("train",)}
    logits.update({s: rng.normal(size=(2, 30, 3)) for s in ("valid", "test")})
    lookup = {getattr(data, f"X_{s}").tobytes(): torch.tensor(v) for s, v in logits.items()}

    def forward(x: Any) -> Any:
        return lookup[x.numpy().tobytes()].to(torch.float32)

    got = _torchdata.evaluate_splits(forward, ddata, 2, chunk=1000)
    for split, z in logits.items():
        y = getattr(data, f"y_{split}")
        for m in range(2):
            z32 = torch.tensor(z[m]).to(torch.float32).double()
            proba = torch.softmax(z32, dim=-1).numpy()
            pred = z32.argmax(dim=-1).numpy()
            assert got[f"{split}_loss"][m] == pytest.approx(
                metrics_mod.log_loss(y, proba, labels=[0, 1, 2]), rel=1e-6
            )
            assert got[f"{split}_accuracy"][m] == pytest.approx(metrics_mod.accuracy_score(y, pred))
            assert got[f"{split}_balanced_accuracy"][m] == pytest.approx(
                metrics_mod.balanced_accuracy_score(y, pred)
            )


def test_chunked_evaluation_is_the_same() -> None:
    data = make_data("regression")
    ddata = _torchdata.to_device(data, torch.device("cpu"))
    model, _ = _reference._build_module(
        model_spec("fcnet", FCNET[0], n_features=6, n_outputs=1), 6, 1, 0, torch.device("cpu")
    )
    model.eval()
    whole = _torchdata.evaluate_splits(lambda x: model(x).unsqueeze(0), ddata, 1, chunk=10_000)
    pieces = _torchdata.evaluate_splits(lambda x: model(x).unsqueeze(0), ddata, 1, chunk=7)
    for name in whole:
        assert whole[name][0] == pytest.approx(pieces[name][0], rel=1e-6)


def test_hash_matches_unsigned_reference_and_dropout_rates() -> None:
    def reference(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.uint32)
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x21F0AAAD)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x735A2D97)
        x ^= x >> np.uint32(15)
        return x

    v = np.random.default_rng(0).integers(0, 2**32, 10_000, dtype=np.uint64).astype(np.uint32)
    hashed = _torchdata._hash32_(torch.from_numpy(v.view(np.int32).copy()))
    np.testing.assert_array_equal(hashed.numpy().view(np.uint32), reference(v))

    keys = _torchdata.step_keys(torch.from_numpy(_torchdata.as_int32([7, 2**32 - 1])), 0, 20, 1)
    positions = _torchdata.dropout_positions(torch.tensor([37, 64]), 32, 64)
    p = np.array([0.3, 0.0])
    threshold, scale = _torchdata.dropout_params(p, torch.device("cpu"))
    factor = _torchdata.dropout_factor(positions, keys[:, 0], threshold, scale, 64)
    assert factor.shape == (20, 2, 32, 64)
    kept = (factor[:, 0, :, :37] > 0).float().mean().item()
    assert kept == pytest.approx(0.7, abs=0.02)
    assert torch.all(factor[:, 1] == 1.0)  # p = 0 keeps everything, unscaled
    assert torch.allclose(factor[:, 0].max(), torch.tensor(1 / 0.7))
    threshold, scale = _torchdata.dropout_params(np.array([1.0]), torch.device("cpu"))
    every = _torchdata.dropout_factor(positions[:1], keys[:, :1, 0], threshold, scale, 37)
    assert torch.all(every == 0)


def test_lcbench_funnel_follows_auto_pytorch() -> None:
    spec = model_spec("lcbench", LCBENCH[3], n_features=6, n_outputs=3)
    assert spec.widths == (100, 68, 36)  # step int((100 - 3) / 3) = 32
    assert spec.dropouts == pytest.approx((1.0, 0.667, 0.334))  # int(1000 / 3) = 333
    assert spec.optimizer == "sgd" and spec.lr_schedule == "cosine"
    assert model_spec("lcbench", LCBENCH[0], n_features=6, n_outputs=3).widths == ()
    wide = model_spec("lcbench", lcbench(2, 64, 0.5, 0.9, 0.1, 1e-4, 16), n_features=300,
                      n_outputs=2)  # fmt: skip
    assert wide.widths == (300,)  # max(n_features, max_units), as Auto-PyTorch


def test_bad_input_is_refused_clearly() -> None:
    data = make_data("regression")
    with pytest.raises(ConfigError, match=r"Did you mean.*'fcnet'"):
        train_batch("fcent", FCNET[:1], [0], data, n_epochs=1)
    missing = {k: v for k, v in FCNET[0].items() if k != "init_lr"}
    with pytest.raises(ConfigError, match=r"configs\[0\].*missing.*init_lr"):
        train_batch("fcnet", [missing], [0], data, n_epochs=1)
    with pytest.raises(ConfigError, match=r"unknown.*n_units_3.*Did you mean"):
        train_batch("fcnet", [dict(FCNET[0], n_units_3=4)], [0], data, n_epochs=1)
    for key, value in [
        ("dropout_1", 1.0),
        ("activation_fn_1", "sigmoid"),
        ("batch_size", 0),
        ("batch_size", 8.0),
        ("n_units_1", True),
        ("init_lr", float("nan")),
    ]:
        with pytest.raises(ConfigError, match=key):
            train_batch("fcnet", [dict(FCNET[0], **{key: value})], [0], data, n_epochs=1)
    with pytest.raises(SeedError, match=r"len\(seeds\) == len\(configs\)"):
        train_batch("fcnet", FCNET[:2], [0], data, n_epochs=1)
    with pytest.raises(SeedError, match="non-negative"):
        train_one("fcnet", FCNET[0], -1, data, n_epochs=1)
    with pytest.raises(FidelityError, match="n_epochs"):
        train_batch("fcnet", FCNET[:1], [0], data, n_epochs=0)
    with pytest.raises(ConfigError, match="device"):
        train_batch("fcnet", FCNET[:1], [0], data, n_epochs=1, device="tpu")
    with pytest.raises(ConfigError, match="TrainData"):
        train_batch("fcnet", FCNET[:1], [0], object(), n_epochs=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_models_per_group"):
        train_batch("fcnet", FCNET[:1], [0], data, n_epochs=1, max_models_per_group=0)
    assert train_batch("fcnet", [], [], data, n_epochs=1) == []
    assert issubclass(ConfigError, HPOBenchError)


def test_train_data_is_checked_and_converted() -> None:
    good = make_data("multiclass")
    fields = {
        f"{a}_{s}": getattr(good, f"{a}_{s}") for s in ("train", "valid", "test") for a in "Xy"
    }
    with pytest.raises(ConfigError, match=r"class ids must lie in \[0, 2\)"):
        TrainData(**fields, task_type="binary", n_classes=2)
    X_bad = fields["X_valid"].copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ConfigError, match="finite"):
        TrainData(**dict(fields, X_valid=X_bad), task_type="multiclass", n_classes=3)
    with pytest.raises(ConfigError, match="same number"):
        TrainData(
            **dict(fields, X_test=fields["X_test"][:, :3]), task_type="multiclass", n_classes=3
        )
    with pytest.raises(ConfigError, match="task_type"):
        TrainData(**fields, task_type="ranking", n_classes=3)
    converted = TrainData(
        **dict(fields, X_train=fields["X_train"].astype(np.float64)),
        task_type="multiclass",
        n_classes=3,
    )
    assert converted.X_train.dtype == np.float32 and converted.n_outputs == 3
    assert converted.feature_names == tuple(f"x{i}" for i in range(converted.n_features))
    with pytest.raises(ConfigError, match="feature_names"):
        TrainData(**fields, task_type="multiclass", n_classes=3, feature_names=("a",))


def test_importing_hpobench_does_not_import_torch() -> None:
    code = (
        "import sys, hpobench, hpobench.generate, hpobench.generate._trainer; "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_dropout_factor_is_the_documented_rule_bit_for_bit() -> None:
    """Unit j of a sample keeps iff 16 bits of hash(pair j // 2) reach ceil(p * 65536)."""

    def h(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.uint32)
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x21F0AAAD)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x735A2D97)
        x ^= x >> np.uint32(15)
        return x

    p = np.array([0.0, 1 / 65536, 0.3, 0.5, 65535 / 65536, 1.0])
    widths = np.array([37, 64, 1, 16, 64, 5])
    width, rows = 64, 8
    keys_u = np.random.default_rng(3).integers(0, 2**32, (4, len(p)), dtype=np.uint64)
    keys_u = keys_u.astype(np.uint32)
    positions = _torchdata.dropout_positions(torch.from_numpy(widths), rows, width)
    threshold, scale = _torchdata.dropout_params(p, torch.device("cpu"))
    keys = torch.from_numpy(keys_u.view(np.int32).copy())
    factor = _torchdata.dropout_factor(positions, keys, threshold, scale, width).numpy()
    pos = positions.numpy().view(np.uint32)[None]  # [1, M, B, pairs]
    k = keys_u[:, :, None, None]
    hashed = h(h(pos ^ k) ^ k)
    u = np.stack((hashed & 0xFFFF, hashed >> 16), axis=-1).reshape(*hashed.shape[:-1], -1)
    kept = u[..., :width] >= np.ceil(p * 65536)[None, :, None, None]
    expected = np.where(kept, scale.numpy()[None], np.float32(0.0)).astype(np.float32)
    np.testing.assert_array_equal(factor.view(np.uint32), expected.view(np.uint32))
