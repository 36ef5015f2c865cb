"""The model pieces of the model-based baselines, each against an independent computation: the
unit-cube encoding, TPE's Parzen estimator (by hand and against Optuna's own), expected
improvement (closed form vs numerical integration), SMAC's log EI, conformal coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from baselines._model_based import Encoding, History, expected_improvement, unseen
from baselines.cqr import ConformalQuantileRegressor
from baselines.rf_bo import log_expected_improvement, log_scale
from baselines.tpe import ParzenEstimator, default_gamma, default_weights, log_gauss_mass
from hpobench import Categorical, Float, Int, Ordinal, SearchSpace

SPACE = SearchSpace(
    [
        Float("lr", 1e-4, 1.0, log=True),
        Float("mom", 0.0, 0.9),
        Int("layers", 1, 5),
        Int("units", 8, 512, log=True),
        Ordinal("batch", (16, 32, 64, 128)),
        Categorical("act", ("relu", "tanh", "elu")),
    ]
)


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def test_encoding_round_trips_and_snap_is_the_decoded_configuration() -> None:
    enc = Encoding(SPACE)
    rng = np.random.default_rng(0)
    for config in SPACE.sample_many(rng, 200):
        x = enc.encode(config)
        assert enc.decode(x) == SPACE.validate(config)
        np.testing.assert_allclose(enc.snap(x[None, :])[0], x, atol=1e-12)
    X = rng.random((500, len(SPACE))) * [1, 1, 1, 1, 1, 3]
    S = enc.snap(X)
    for row in S:
        np.testing.assert_allclose(enc.encode(enc.decode(row)), row, atol=1e-12)
    assert enc.features(S).shape == (500, 5 + 3)
    np.testing.assert_array_equal(enc.features(S)[:, 5:].sum(axis=1), 1.0)


def test_random_rows_are_uniform_over_discrete_values() -> None:
    enc = Encoding(SPACE)
    X = enc.random(np.random.default_rng(1), 6000)
    batches = [enc.decode(x)["batch"] for x in X]
    counts = np.array([batches.count(v) for v in (16, 32, 64, 128)])
    assert np.all(np.abs(counts / 6000 - 0.25) < 0.03)


def test_unseen_masks_exact_repeats() -> None:
    X = np.array([[0.1, 0.2], [0.3, 0.4], [0.1, 0.2]])
    assert unseen(X, [np.array([0.1, 0.2])]).tolist() == [False, True, False]
    assert unseen(X, []).all()


def test_optuna_gamma_and_weights() -> None:
    assert [default_gamma(n) for n in (1, 10, 11, 250, 1000)] == [1, 1, 2, 25, 25]
    assert default_weights(3).tolist() == [1.0, 1.0, 1.0]
    w = default_weights(30)
    assert len(w) == 30 and w[0] == pytest.approx(1 / 30) and np.all(w[-25:] == 1.0)


def test_log_gauss_mass_matches_erf_in_both_tails() -> None:
    for a, b in [(-1.0, 2.0), (-40.0, -38.0), (38.0, 40.0), (0.5, 0.7), (-3.0, -2.9)]:
        want = _phi(b) - _phi(a)
        got = math.exp(float(log_gauss_mass(np.array(a), np.array(b))))
        if want > 1e-12:
            assert got == pytest.approx(want, rel=1e-7)
        else:  # erf underflows; the log stays finite and ordered
            assert 0.0 <= got < 1e-300 or got == pytest.approx(want, rel=1e-3)
    assert np.isfinite(log_gauss_mass(np.array(38.0), np.array(40.0)))


def test_parzen_estimator_density_by_hand() -> None:
    """Two observations of one continuous column: bandwidths from the neighbour gaps, clipped;
    the prior kernel N(0.5, 1); each kernel truncated to [0, 1]; equal weights."""
    enc = Encoding(SearchSpace([Float("x", 0.0, 1.0)]))
    pe = ParzenEstimator(enc, np.array([[0.2], [0.6]]), np.ones(2), prior_weight=1.0)
    # gaps with endpoints 0 and 1: [0.2 | 0.4 | 0.4]; first/last use the inner gap -> 0.4, 0.4;
    # magic clip: sigma >= 1 / min(100, n + 2) = 0.25.
    np.testing.assert_allclose(pe.sigma[:, 0], [0.4, 0.4, 1.0])
    np.testing.assert_allclose(pe.mu[:, 0], [0.2, 0.6, 0.5])
    for x in (0.0, 0.1, 0.45, 0.9, 1.0):
        dens = 0.0
        for mu, sd in [(0.2, 0.4), (0.6, 0.4), (0.5, 1.0)]:
            z = (x - mu) / sd
            pdf = math.exp(-0.5 * z * z) / (sd * math.sqrt(2 * math.pi))
            dens += pdf / (_phi((1 - mu) / sd) - _phi((0 - mu) / sd)) / 3.0
        assert float(pe.log_pdf(np.array([[x]]))[0]) == pytest.approx(math.log(dens), rel=1e-10)


def test_parzen_estimator_discrete_and_categorical_by_hand() -> None:
    """An ordinal of 4 values: mass of the value's cell; a categorical: Optuna's smoothed counts."""
    enc = Encoding(SearchSpace([Ordinal("b", (1, 2, 3, 4)), Categorical("c", ("u", "v"))]))
    X = np.array([[0.125, 0.0], [0.625, 1.0], [0.625, 1.0]])
    pe = ParzenEstimator(enc, X, np.ones(3), prior_weight=1.0)
    # categorical rows: 1 on the observed choice + 1/4 on each, normalised; prior row uniform
    np.testing.assert_allclose(pe.cat_weights[0], [[0.8333333, 0.1666667], [1 / 6, 5 / 6], [1 / 6, 5 / 6], [0.5, 0.5]], atol=1e-6)  # fmt: skip
    x = np.array([[0.375, 1.0]])  # value 2, choice "v"
    dens = 0.0
    for k in range(4):
        mu, sd = pe.mu[k, 0], pe.sigma[k, 0]
        mass = (_phi((0.5 - mu) / sd) - _phi((0.25 - mu) / sd)) / (
            _phi((1 - mu) / sd) - _phi(-mu / sd)
        )
        dens += 0.25 * mass * pe.cat_weights[0][k, 1]
    assert float(pe.log_pdf(x)[0]) == pytest.approx(math.log(dens), rel=1e-10)
    # masses of the four cells sum to one for every kernel
    cells = np.array([[0.125, 1.0], [0.375, 1.0], [0.625, 1.0], [0.875, 1.0]])
    total = np.exp(pe.log_pdf(cells)).sum() / np.sum(
        np.exp(pe.log_weights) * np.array([w[1] for w in pe.cat_weights[0]])
    )
    assert total == pytest.approx(1.0, rel=1e-9)


def test_parzen_estimator_agrees_with_optunas() -> None:
    """Same observations, same rules: our log density equals Optuna 5's _ParzenEstimator's (a
    Float on [0, 1] is the unit column itself; an Int's cell masses are scale-free)."""
    optuna = pytest.importorskip("optuna")
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.samplers._tpe.parzen_estimator import (
        _ParzenEstimator,
        _ParzenEstimatorParameters,
    )

    del optuna
    space = SearchSpace([Float("x", 0.0, 1.0), Int("k", 1, 7), Categorical("c", ("a", "b", "c"))])
    enc = Encoding(space)
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 30):
        configs = space.sample_many(rng, n)
        X = np.array([enc.encode(c) for c in configs])
        weights = default_weights(n)
        ours = ParzenEstimator(enc, X, weights, prior_weight=1.0)
        dists = {
            "x": FloatDistribution(0.0, 1.0),
            "k": IntDistribution(1, 7),
            "c": CategoricalDistribution(["a", "b", "c"]),
        }
        obs = {
            "x": np.array([c["x"] for c in configs]),
            "k": np.array([float(c["k"]) for c in configs]),
            "c": np.array([float(("a", "b", "c").index(c["c"])) for c in configs]),
        }
        params = _ParzenEstimatorParameters(
            prior_weight=1.0,
            consider_magic_clip=True,
            consider_endpoints=False,
            weights=default_weights,
            multivariate=True,
        )
        theirs = _ParzenEstimator(obs, dists, params)
        tests = space.sample_many(rng, 50)
        T = np.array([enc.encode(c) for c in tests])
        t_obs = {
            "x": T[:, 0],
            "k": np.array([float(c["k"]) for c in tests]),
            "c": T[:, 2],
        }
        # our continuous column has the same unit; Int masses are identical
        np.testing.assert_allclose(ours.log_pdf(T), theirs.log_pdf(t_obs), rtol=1e-9, atol=1e-9)


def test_parzen_samples_follow_the_density() -> None:
    enc = Encoding(SearchSpace([Ordinal("b", (1, 2, 3, 4))]))
    pe = ParzenEstimator(enc, np.array([[0.125], [0.125], [0.875]]), np.ones(3), 1.0)
    S = pe.sample(np.random.default_rng(0), 20000)
    cells = np.array([[0.125], [0.375], [0.625], [0.875]])
    freq = np.array([(np.abs(S[:, 0] - c[0]) < 1e-9).mean() for c in cells])
    np.testing.assert_allclose(freq, np.exp(pe.log_pdf(cells)), atol=0.015)


@pytest.mark.parametrize(
    ("mu", "sigma", "best"), [(0.3, 0.2, 0.5), (1.0, 0.5, 0.2), (0.0, 1.0, 0.0)]
)
def test_expected_improvement_is_the_integral(mu: float, sigma: float, best: float) -> None:
    def integrand(y: float) -> float:
        return (
            max(best - y, 0.0)
            * math.exp(-0.5 * ((y - mu) / sigma) ** 2)
            / (sigma * math.sqrt(2 * math.pi))
        )

    want = integrate.quad(integrand, mu - 12 * sigma, best)[0] if best > mu - 12 * sigma else 0.0
    got = float(expected_improvement(np.array([mu]), np.array([sigma]), best)[0])
    assert got == pytest.approx(want, rel=1e-7, abs=1e-12)


def test_expected_improvement_without_uncertainty_is_the_plain_improvement() -> None:
    ei = expected_improvement(np.array([0.1, 0.9]), np.array([0.0, 0.0]), 0.5)
    assert ei.tolist() == [pytest.approx(0.4), 0.0]


def test_log_expected_improvement_is_the_lognormal_integral() -> None:
    mu, var, best = -1.0, 0.3, -0.8
    s = math.sqrt(var)

    def integrand(y: float) -> float:
        return (
            max(math.exp(best) - math.exp(y), 0.0)
            * math.exp(-0.5 * ((y - mu) / s) ** 2)
            / (s * math.sqrt(2 * math.pi))
        )

    want = integrate.quad(integrand, mu - 12 * s, best)[0]
    got = float(log_expected_improvement(np.array([mu]), np.array([var]), best)[0])
    assert got == pytest.approx(want, rel=1e-7)


def test_log_scale_is_smacs_encoder() -> None:
    y = np.array([3.0, 1.0, 2.0, 10.0])
    lo = 1.0 - (np.percentile(y, 5.0) - 1.0) - 1e-10
    np.testing.assert_allclose(log_scale(y), np.log((y - lo) / (10.0 - lo)))
    assert np.argmin(log_scale(y)) == 1 and log_scale(y)[3] == pytest.approx(0.0)


@pytest.mark.slow
def test_conformalized_band_has_its_coverage_on_fresh_data() -> None:
    """Heteroscedastic data: the outer band (levels 1/6, 5/6) must cover ~2/3 of fresh points,
    averaged over splits (conformal guarantee: at least 2/3 in expectation)."""
    rng = np.random.default_rng(0)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.random((n, 2))
        return x, np.sin(6 * x[:, 0]) + (0.1 + x[:, 1]) * rng.standard_normal(n)

    cover = []
    for _ in range(4):
        X, y = draw(600)
        model = ConformalQuantileRegressor(min_conformalize=10, valid_fraction=0.4)
        model.fit(X, y, rng)
        Xt, yt = draw(3000)
        q = model.predict(Xt)
        assert np.all(np.diff(model.levels) > 0) and q.shape == (3000, 5)
        cover.append(np.mean((q[:, 0] <= yt) & (yt <= q[:, -1])))
    assert 2 / 3 - 0.03 <= float(np.mean(cover)) <= 2 / 3 + 0.08


def test_conformal_correction_is_zero_below_the_threshold() -> None:
    rng = np.random.default_rng(1)
    X, y = rng.random((20, 2)), rng.random(20)
    model = ConformalQuantileRegressor(min_conformalize=32)
    model.fit(X, y, rng)
    assert np.all(model.corrections == 0.0)
    assert model.predict(X).shape == (20, 5)


def test_history_replaces_diverged_losses_by_the_worst() -> None:
    enc = Encoding(SPACE)
    h = History.empty(enc)
    for loss in (0.3, math.inf, 0.7):
        h.add(SPACE.sample(np.random.default_rng(0)), loss)
    assert h.finite_y().tolist() == [0.3, 0.7, 0.7]
