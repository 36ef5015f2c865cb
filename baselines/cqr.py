"""Conformal quantile regression BO (Salinas et al. 2023, "Optimizing Hyperparameters with
Conformal Quantile Regression"), single- and multi-fidelity, as syne-tune's ``CQR`` and
``ASHACQR`` do it.

Model. ``n_quantiles`` (odd) gradient-boosted quantile regressors (scikit-learn's
``GradientBoostingRegressor``, quantile loss) at levels ``i / (n_quantiles + 1)``. Once more than
``min_conformalize`` observations exist, a ``valid_fraction`` of them is held out and each pair
of symmetric quantiles ``(a, 1 - a)`` is widened by the conformal correction: the
``(1 - 2a)(1 + 1/n)``-quantile of the held-out scores ``max(q_a(x) - y, y - q_{1-a}(x))``
(Romano et al. 2019), which gives the band ``1 - 2a`` coverage on exchangeable data.

Acquisition (Thompson-style): for every candidate draw one of its predicted quantiles uniformly
at random; propose the candidate whose draw is the lowest. Candidates: ``n_candidates`` uniform
configurations plus neighbours of the incumbents, never one already evaluated or running.
The model is refitted when the data have grown by ``refit_growth`` (10 %) since its last fit
(syne-tune refits on every result; this keeps the cost per trial low at equal regret).

Multi-fidelity (``make_multifidelity``): ASHA (eta = 3, one bracket starting at the lowest rung,
promotions by resuming where the protocol allows) in which every *new* configuration comes from
the CQR model fitted on each configuration's last observed loss, whatever its fidelity (syne-
tune's ``LastValueMultiFidelitySearcher``). It refuses a task with a single fidelity value.
Diverged runs (NaN) count as the worst loss.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np

from baselines._model_based import Encoding, History, ModelBasedSearch, local_candidates, unseen
from baselines._validation import (
    BaselineError,
    check_int,
    check_real,
    check_space,
    require_fidelities,
)
from hpobench import Config
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = ["ConformalQuantileRegressor", "make_multifidelity", "make_optimizer"]
__version__ = "1.0"


class ConformalQuantileRegressor:
    """Symmetric conformalized quantile regression with gradient-boosted trees.

    Args:
        n_quantiles: odd number of quantile levels ``i / (n_quantiles + 1)``.
        n_estimators, learning_rate, max_depth: of each ``GradientBoostingRegressor``.
        min_conformalize: conformalize only when there are more observations than this.
        valid_fraction: share of the observations held out for the correction.
    """

    def __init__(
        self,
        *,
        n_quantiles: int = 5,
        n_estimators: int = 50,
        learning_rate: float = 0.2,
        max_depth: int = 3,
        min_conformalize: int = 32,
        valid_fraction: float = 0.1,
    ) -> None:
        self.levels = np.arange(1, n_quantiles + 1) / (n_quantiles + 1)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_conformalize = min_conformalize
        self.valid_fraction = valid_fraction
        self.models: list[Any] = []
        self.corrections = np.zeros(n_quantiles)  # added to the upper, subtracted from the lower

    def fit(self, F: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        from sklearn.ensemble import GradientBoostingRegressor

        n = len(y)
        conformal = n > self.min_conformalize
        n_valid = max(1, math.ceil(self.valid_fraction * n)) if conformal else 0
        perm = rng.permutation(n)
        train, valid = perm[n_valid:], perm[:n_valid]
        seed = int(rng.integers(2**31))
        self.models = [
            GradientBoostingRegressor(
                loss="quantile",
                alpha=float(a),
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                max_depth=self.max_depth,
                random_state=seed,
            ).fit(F[train], y[train])
            for a in self.levels
        ]
        self.corrections = np.zeros(len(self.levels))
        if conformal:
            q = self._raw(F[valid])
            k = len(self.levels)
            for i in range(k // 2):
                lo, hi = q[:, i], q[:, k - 1 - i]
                scores = np.maximum(lo - y[valid], y[valid] - hi)
                coverage = 1.0 - 2.0 * self.levels[i]
                level = min(1.0, coverage * (1.0 + 1.0 / len(scores)))
                c = float(np.quantile(scores, level))
                self.corrections[i] = -c
                self.corrections[k - 1 - i] = c

    def _raw(self, F: np.ndarray) -> np.ndarray:
        return np.stack([m.predict(F) for m in self.models], axis=1)

    def predict(self, F: np.ndarray) -> np.ndarray:
        """``[m, n_quantiles]`` conformalized quantiles, lowest level first."""
        return self._raw(F) + self.corrections[None, :]


def _thompson_pick(
    model: ConformalQuantileRegressor,
    history: History,
    taken: list[np.ndarray],
    rng: np.random.Generator,
    n_candidates: int,
) -> np.ndarray:
    enc = history.enc
    best = history.X[np.argsort(history.y, kind="stable")[:5]]
    X = np.vstack(
        [enc.random(rng, n_candidates), local_candidates(enc, rng, best, n_candidates // 50, 0.1)]
    )
    X = X[unseen(X, taken)]
    if len(X) == 0:
        return enc.random(rng, 1)[0]
    q = model.predict(enc.features(X))
    draw = q[np.arange(len(X)), rng.integers(q.shape[1], size=len(X))]
    return np.asarray(X[int(np.argmin(draw))])


class _Refitter:
    """The CQR model, refitted when the data have grown by ``growth`` since the last fit."""

    def __init__(self, settings: dict[str, Any], growth: float) -> None:
        self.settings = settings
        self.growth = growth
        self.model: ConformalQuantileRegressor | None = None
        self.n_at_fit = 0

    def model_for(self, history: History, rng: np.random.Generator) -> ConformalQuantileRegressor:
        n = len(history)
        if self.model is None or n >= self.n_at_fit * (1.0 + self.growth):
            self.model = ConformalQuantileRegressor(**self.settings)
            self.model.fit(history.enc.features(history.X), history.finite_y(), rng)
            self.n_at_fit = n
        return self.model


class _CQRProposer:
    def __init__(self, refitter: _Refitter, n_candidates: int) -> None:
        self.refitter = refitter
        self.n_candidates = n_candidates

    def propose(
        self, history: History, pending: list[np.ndarray], rng: np.random.Generator
    ) -> np.ndarray:
        model = self.refitter.model_for(history, rng)
        return _thompson_pick(model, history, [*history.X, *pending], rng, self.n_candidates)


def _rung_levels(values: tuple[int | float, ...], eta: float) -> list[int | float]:
    """Ascending fidelity values nearest to ``max / eta**k``, ``k = 0, 1, ...``, all ``>= min``."""
    levels: list[int | float] = []
    r = float(values[-1])
    while r >= values[0] * (1 - 1e-9):
        v = min(values, key=lambda x: abs(x - r))
        if v not in levels:
            levels.append(v)
        r /= eta
    return sorted(levels)


class CQRASHA:
    """ASHA whose new configurations come from CQR on each configuration's last loss."""

    def __init__(
        self,
        problem: Problem,
        seed: int,
        *,
        eta: float,
        n_initial: int,
        n_candidates: int,
        refitter: _Refitter,
    ) -> None:
        self.problem = problem
        self.eta = eta
        self.rng = np.random.default_rng(seed)
        self.enc = Encoding(problem.space)
        self.n_initial = n_initial
        self.n_candidates = n_candidates
        self.refitter = refitter
        self.levels = _rung_levels(problem.fidelity.values, eta)
        self.rank = {v: i for i, v in enumerate(self.levels)}
        # per rung: sorted (loss, seq, trial_id, config); promoted seqs per rung
        self.rungs: list[list[tuple[float, int, int, Config]]] = [[] for _ in self.levels]
        self.promoted: list[set[int]] = [set() for _ in self.levels]
        self.last: dict[bytes, tuple[int, np.ndarray, float]] = {}  # row -> (rank, row, loss)
        self.running: dict[Suggestion, np.ndarray] = {}
        self._seq = 0

    def ask(self) -> Suggestion:
        for k in range(len(self.levels) - 2, -1, -1):
            rung = self.rungs[k]
            for _loss, seq, trial_id, config in rung[: int(len(rung) // self.eta)]:
                if seq not in self.promoted[k]:
                    self.promoted[k].add(seq)
                    resume = trial_id if self.problem.allow_resume else None
                    s = Suggestion(config, fidelity=self.levels[k + 1], resume=resume)
                    self.running[s] = self.enc.encode(config)
                    return s
        x = self._new_row()
        s = Suggestion(self.enc.decode(x), fidelity=self.levels[0])
        self.running[s] = x
        return s

    def _new_row(self) -> np.ndarray:
        if len(self.last) < self.n_initial:
            return self.enc.random(self.rng, 1)[0]
        history = History.empty(self.enc)
        history.X = np.array([row for _, row, _ in self.last.values()])
        history.y = np.array([loss for _, _, loss in self.last.values()])
        model = self.refitter.model_for(history, self.rng)
        taken = [*history.X, *self.running.values()]
        return _thompson_pick(model, history, taken, self.rng, self.n_candidates)

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        self.running.pop(suggestion, None)
        loss = self.problem.loss(evaluation.value)
        config = dict(evaluation.config)
        row = self.enc.encode(config)
        k = self.rank.get(evaluation.fidelity, 0)
        key = row.tobytes()
        if key not in self.last or self.last[key][0] <= k:
            self.last[key] = (k, row, loss)
        bisect.insort(self.rungs[k], (loss, self._seq, evaluation.trial_id, config))
        self._seq += 1


def _check_model(method: str, problem: Problem, settings: dict[str, Any]) -> dict[str, Any]:
    check_space(problem.space, method)
    n_q = check_int(method, "n_quantiles", settings["n_quantiles"], low=1, high=99)
    if n_q % 2 == 0:
        raise BaselineError(f"{method}: `n_quantiles` must be odd, but got n_quantiles={n_q}.")
    lr = settings["learning_rate"]
    return {
        "n_quantiles": n_q,
        "n_estimators": check_int(method, "n_estimators", settings["n_estimators"], low=1),
        "learning_rate": check_real(method, "learning_rate", lr, low=0.0, high=1.0, low_open=True),
        "max_depth": check_int(method, "max_depth", settings["max_depth"], low=1, high=32),
        "min_conformalize": check_int(method, "min_conformalize", settings["min_conformalize"]),
    }


def make_optimizer(
    problem: Problem,
    seed: int,
    *,
    n_initial: int = 5,
    n_candidates: int = 1000,
    n_quantiles: int = 5,
    n_estimators: int = 50,
    learning_rate: float = 0.2,
    max_depth: int = 3,
    min_conformalize: int = 32,
    refit_growth: float = 0.1,
) -> ModelBasedSearch:
    """Single-fidelity CQR with syne-tune's defaults (5 quantiles, 5 random initial configs,
    conformalized beyond 32 observations with 10 % held out)."""
    model = _check_model("cqr", problem, locals())
    n_initial = check_int("cqr", "n_initial", n_initial, low=2)
    n_candidates = check_int("cqr", "n_candidates", n_candidates, low=1, high=1_000_000)
    growth = check_real("cqr", "refit_growth", refit_growth, low=0.0, high=10.0)
    return ModelBasedSearch(
        problem,
        seed,
        proposer=_CQRProposer(_Refitter(model, growth), n_candidates),
        n_initial=n_initial,
    )


def make_multifidelity(
    problem: Problem,
    seed: int,
    *,
    eta: float = 3.0,
    n_initial: int = 5,
    n_candidates: int = 1000,
    n_quantiles: int = 5,
    n_estimators: int = 50,
    learning_rate: float = 0.2,
    max_depth: int = 3,
    min_conformalize: int = 32,
    refit_growth: float = 0.1,
) -> CQRASHA:
    """ASHA (eta = 3) with the CQR model proposing every new configuration."""
    model = _check_model("cqr-mf", problem, locals())
    require_fidelities(problem, "cqr-mf")
    eta = check_real("cqr-mf", "eta", eta, low=1.0, low_open=True)
    n_initial = check_int("cqr-mf", "n_initial", n_initial, low=2)
    n_candidates = check_int("cqr-mf", "n_candidates", n_candidates, low=1, high=1_000_000)
    growth = check_real("cqr-mf", "refit_growth", refit_growth, low=0.0, high=10.0)
    return CQRASHA(
        problem,
        seed,
        eta=eta,
        n_initial=n_initial,
        n_candidates=n_candidates,
        refitter=_Refitter(model, growth),
    )
