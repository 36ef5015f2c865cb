"""Shared plumbing of the model-based baselines (TPE, GP-EI, RF-BO, CQR): the unit-cube encoding,
the history of observations, candidate generation and expected improvement.

Encoding. Every hyperparameter is one column of a float matrix ``X``:

=============================  ===========================================================
Float, Int on a log scale      ``hp.to_unit(value)``, continuous in ``[0, 1]``
Int (linear), Ordinal          the centre ``(i + 0.5) / m`` of the value's cell, ``m`` cells
                               of equal width (value ``i`` of ``m``), so ``[0, 1]`` is tiled
Categorical                    the choice's index ``i`` (as a float); models one-hot it
=============================  ===========================================================

An ordinal hyperparameter is thus an integer over its value indices, as Optuna treats an
``IntDistribution`` (cells of width one, widened by half a step at both ends). Everything here
uses hpobench's public API only (``SearchSpace``, ``Problem``); it never sees a table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import ndtr

from hpobench import Categorical, Config, Int, Ordinal, SearchSpace
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = [
    "Encoding",
    "History",
    "ModelBasedSearch",
    "Proposer",
    "expected_improvement",
    "local_candidates",
    "maximize_acquisition",
    "unseen",
]


class Encoding:
    """The unit-cube encoding of a space (see the module docstring) and its one-hot features."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.hps = space.hyperparameters
        self.d = len(self.hps)
        # per column: 0 = continuous, m > 0 = m equal cells (Int linear, Ordinal), -k = k choices
        cells = []
        for hp in self.hps:
            if isinstance(hp, Categorical):
                cells.append(-len(hp.choices))
            elif isinstance(hp, Ordinal):
                cells.append(len(hp.values))
            elif isinstance(hp, Int) and not hp.log:
                cells.append(hp.high - hp.low + 1)
            else:
                cells.append(0)
        self.cells = np.array(cells, dtype=np.int64)
        self.categorical = np.flatnonzero(self.cells < 0)
        self.numeric = np.flatnonzero(self.cells >= 0)
        self.n_choices = -self.cells[self.categorical]
        self.n_features = len(self.numeric) + int(self.n_choices.sum())

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        x = np.empty(self.d)
        for j, hp in enumerate(self.hps):
            v = config[hp.name]
            if isinstance(hp, Categorical):
                x[j] = hp.index(v)
            elif isinstance(hp, Ordinal):
                x[j] = (hp.index(v) + 0.5) / len(hp.values)
            else:
                x[j] = hp.to_unit(v)
        return x

    def decode(self, x: np.ndarray) -> Config:
        out: Config = {}
        for j, hp in enumerate(self.hps):
            u = float(x[j])
            if isinstance(hp, Categorical):
                out[hp.name] = hp.choices[round(u)]
            elif isinstance(hp, Ordinal):
                n = len(hp.values)
                out[hp.name] = hp.values[min(max(int(u * n), 0), n - 1)]
            else:
                out[hp.name] = hp.from_unit(u)
        return out

    def snap(self, X: np.ndarray) -> np.ndarray:
        """Each row moved to the encoding of the configuration it decodes to (vectorised)."""
        X = np.array(X, dtype=np.float64, copy=True)
        for j, hp in enumerate(self.hps):
            m = int(self.cells[j])
            col = X[:, j]
            if m < 0:
                X[:, j] = np.clip(np.rint(col), 0, -m - 1)
            elif m > 0:
                X[:, j] = (np.clip(np.floor(col * m), 0, m - 1) + 0.5) / m
            elif isinstance(hp, Int):  # log scale, as Int.from_unit / to_unit
                lo, hi = math.log(hp.low - 0.5), math.log(hp.high + 0.5)
                v = np.clip(np.rint(np.exp(lo + np.clip(col, 0, 1) * (hi - lo))), hp.low, hp.high)
                X[:, j] = (np.log(v) - lo) / (hi - lo)
            else:
                X[:, j] = np.clip(col, 0.0, 1.0)
        return X

    def random(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` uniform rows (log-uniform where the scale is log), snapped."""
        X = rng.random((n, self.d))
        for j, k in zip(self.categorical, self.n_choices, strict=True):
            X[:, j] = np.floor(X[:, j] * k)
        return self.snap(X)

    def features(self, X: np.ndarray) -> np.ndarray:
        """Numeric columns as they are, then a one-hot block per categorical column."""
        blocks = [X[:, self.numeric]]
        for j, k in zip(self.categorical, self.n_choices, strict=True):
            blocks.append(np.eye(int(k))[X[:, j].astype(np.int64)])
        return np.concatenate(blocks, axis=1)


def local_candidates(
    enc: Encoding, rng: np.random.Generator, centres: np.ndarray, n_per: int, scale: float
) -> np.ndarray:
    """``n_per`` neighbours of each centre: Gaussian steps of sd ``scale`` on numeric columns,
    and each categorical column redrawn with probability ``1 / d`` (at least one column moves)."""
    if len(centres) == 0 or n_per == 0:
        return np.empty((0, enc.d))
    X = np.repeat(centres, n_per, axis=0)
    X[:, enc.numeric] += scale * rng.standard_normal((len(X), len(enc.numeric)))
    X[:, enc.numeric] = np.abs(X[:, enc.numeric])  # reflect at 0 and 1
    X[:, enc.numeric] = 1.0 - np.abs(1.0 - X[:, enc.numeric])
    if len(enc.categorical):
        flip = rng.random((len(X), len(enc.categorical))) < 1.0 / enc.d
        new = np.floor(rng.random(flip.shape) * enc.n_choices)
        X[:, enc.categorical] = np.where(flip, new, X[:, enc.categorical])
    return enc.snap(X)


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float) -> np.ndarray:
    """EI of a minimisation: ``E[max(best - Y, 0)]`` for ``Y ~ N(mu, sigma^2)``.

    ``(best - mu) * Phi(z) + sigma * phi(z)`` with ``z = (best - mu) / sigma``; where ``sigma``
    is 0 it is ``max(best - mu, 0)``.
    """
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    diff = best - mu
    safe = np.where(sigma > 0, sigma, 1.0)
    z = diff / safe
    ei = diff * ndtr(z) + safe * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return np.where(sigma > 0, np.maximum(ei, 0.0), np.maximum(diff, 0.0))


@dataclass
class History:
    """Observations in order: encoded rows and losses (``+inf`` for diverged runs)."""

    enc: Encoding
    X: np.ndarray
    y: np.ndarray

    @classmethod
    def empty(cls, enc: Encoding) -> History:
        return cls(enc, np.empty((0, enc.d)), np.empty(0))

    def add(self, config: Mapping[str, Any], loss: float) -> None:
        self.X = np.vstack([self.X, self.enc.encode(config)[None, :]])
        self.y = np.append(self.y, loss)

    def __len__(self) -> int:
        return len(self.y)

    def finite_y(self) -> np.ndarray:
        """Losses with diverged runs (``+inf``) set to the worst finite loss seen (or 0)."""
        finite = np.isfinite(self.y)
        worst = float(self.y[finite].max()) if finite.any() else 0.0
        return np.where(finite, self.y, worst)


def unseen(X: np.ndarray, taken: Sequence[np.ndarray]) -> np.ndarray:
    """Mask of the rows of ``X`` not equal to any row of ``taken`` (exact, after snapping)."""
    if len(taken) == 0:
        return np.ones(len(X), dtype=bool)
    T = np.asarray(taken)
    return ~(np.abs(X[:, None, :] - T[None, :, :]) < 1e-12).all(axis=2).any(axis=1)


class Proposer(Protocol):
    """What a model-based method supplies: the next encoded row, given the history so far and
    the rows still running (``pending``)."""

    def propose(
        self, history: History, pending: list[np.ndarray], rng: np.random.Generator
    ) -> np.ndarray: ...


class ModelBasedSearch:
    """The ask/tell loop shared by the single-fidelity model-based baselines.

    The first ``n_initial`` configurations come from ``initial`` (rows; uniform random when it
    runs out); after that each ``ask`` draws a uniform random configuration with probability
    ``random_fraction`` (SMAC's interleaving) and otherwise asks ``proposer``. Every evaluation
    is at the maximal fidelity; ``ask`` never returns ``None``. Evaluations still running are
    handed to the proposer as ``pending`` so that parallel workers do not duplicate work.
    """

    def __init__(
        self,
        problem: Problem,
        seed: int,
        *,
        proposer: Proposer,
        n_initial: int,
        random_fraction: float = 0.0,
        initial: np.ndarray | None = None,
    ) -> None:
        self.problem = problem
        self.enc = Encoding(problem.space)
        self.rng = np.random.default_rng(seed)
        self.history = History.empty(self.enc)
        self.proposer = proposer
        self.n_initial = n_initial
        self.random_fraction = random_fraction
        self.initial = self.enc.snap(initial) if initial is not None else np.empty((0, self.enc.d))
        self.pending: dict[Suggestion, np.ndarray] = {}
        self._asked = 0

    def _next_row(self) -> np.ndarray:
        if self._asked < len(self.initial):
            return np.asarray(self.initial[self._asked])
        if len(self.history) < self.n_initial:
            return self.enc.random(self.rng, 1)[0]
        if self.random_fraction > 0 and self.rng.random() < self.random_fraction:
            return self.enc.random(self.rng, 1)[0]
        return self.proposer.propose(self.history, list(self.pending.values()), self.rng)

    def ask(self) -> Suggestion:
        x = self._next_row()
        self._asked += 1
        s = Suggestion(self.enc.decode(x))
        self.pending[s] = x
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        self.pending.pop(suggestion, None)
        self.history.add(evaluation.config, self.problem.loss(evaluation.value))


def maximize_acquisition(
    acquisition: Callable[[np.ndarray], np.ndarray],
    history: History,
    pending: Sequence[np.ndarray],
    rng: np.random.Generator,
    *,
    n_random: int,
    n_starts: int = 5,
    n_neighbours: int = 40,
    n_rounds: int = 3,
    scale: float = 0.1,
) -> np.ndarray:
    """The best unseen encoded row by ``acquisition`` (larger is better).

    ``n_random`` uniform rows, then ``n_rounds`` of local refinement: ``n_neighbours``
    neighbours (:func:`local_candidates`, step halving each round) of the ``n_starts`` best rows
    so far and, in the first round, of the ``n_starts`` best observed configurations. Rows
    already evaluated or running are skipped; if every row was, a uniform random row.
    """
    enc = history.enc
    pool = [enc.random(rng, n_random)]
    scores = [acquisition(pool[0])]
    order = np.argsort(history.y, kind="stable")[:n_starts]
    centres = np.vstack(
        [pool[0][np.argsort(-scores[0], kind="stable")[:n_starts]], history.X[order]]
    )
    for r in range(n_rounds):
        cand = local_candidates(enc, rng, centres, n_neighbours, scale / 2**r)
        pool.append(cand)
        scores.append(acquisition(cand))
        X, a = np.vstack(pool), np.concatenate(scores)
        centres = X[np.argsort(-a, kind="stable")[:n_starts]]
    X, a = np.vstack(pool), np.concatenate(scores)
    free = unseen(X, [*history.X, *pending])
    if not free.any():
        return enc.random(rng, 1)[0]
    idx = np.flatnonzero(free)
    return np.asarray(X[idx[int(np.argmax(a[idx]))]])
