"""The numpy forward pass of a fitted curve surrogate (no torch at inference).

The network maps a configuration's encoding to the whole learning curve of every metric of its
table plus the runtime, and a seed spread. Its last layer emits ``R`` *curve coefficients* per
output channel; a curve basis ``phi [T, R]`` spreads them over the ``T`` fidelity steps::

    out = h @ WT.T + b                    [1 + R*C]   (C = 2M + 1 channels)
    out[0]                                log sigma of the runtime (one per configuration)
    coef = out[1:].reshape(R, C)
    steps = phi @ coef + step_bias        [T, C]: for each step t,
    steps[t, 0:M]                         mean of each modelled metric (transformed units)
    steps[t, M:2M]                        log sigma of each modelled metric
    steps[t, 2M]                          log runtime increment of step t

A network fitted without a low-rank basis has ``R = T`` and ``phi`` the identity. A query at
step ``f`` needs only ``phi[: f + 1]`` (a single query) or ``phi[f]`` (a batch): a few hundred
multiply-adds past the hidden layers, which is why a single query is cheap.

Decoding, the guarantees by construction:

* runtime at step t = ``cumsum(exp(increment))[t] * exp(sigma_rt * z_rt)``: strictly positive,
  strictly increasing in fidelity (the seed factor is one positive scalar per curve);
* a metric with transform ``logit`` is ``sigmoid(.)``: inside (0, 1);
  ``log`` is ``exp(.)``: positive; ``identity`` is unbounded;
* a seed's deviation is ``sigma[t, m] * (basis[t, m] @ z)``, with ``z`` from the hash of
  (configuration, seed): one consistent curve per seed, correlated over steps and metrics the
  way the table's seeds are (the basis is the leading principal directions of the table's
  standardised seed residuals, rows scaled to unit norm so ``sigma`` is the marginal spread).

**Two-mode seed model** (optional arrays ``mode.WT`` ``[1 + R*M, H]`` and ``mode.b``): some
configurations' seeds end in one of two distinct outcomes (a network that collapses onto the
majority class on one seed and the minority class on another), which one Gaussian spread on
the logit scale models as a wide bell, answering values between and beyond the two outcomes. A
two-mode network also emits, per configuration, the logit of a mode probability ``p`` and, per
step and metric, a gap ``D`` between the two modes' means (through ``phi`` like the rest)::

    mode = out_mode[0];  p = sigmoid(mode);  gap = phi @ out_mode[1:].reshape(R, M)
    offset = (1 - p) * gap   if Phi(z_mode) < p   else   -p * gap     (mean zero over seeds)

and a seed's value is ``mean + offset + sigma * (basis @ z)``: the whole curve of a
``(config, seed)`` lies in one mode (every step and metric), ``z_mode`` from the same hash.
With ``gap`` 0 it is the Gaussian model; files without the arrays are Gaussian.

Modelled metrics are ordered by transform (all ``logit``, then ``log``, then ``identity``) so
that each inverse transform is one slice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit as _expit
from scipy.special import ndtr as _ndtr

_accumulate = np.add.accumulate
_BLOCK = 256  # rows per block of a batched forward pass (measured: 128-1,024 tried)

__all__ = ["TRANSFORMS", "CurveNetwork", "Layer"]

TRANSFORMS = ("logit", "log", "identity")


@dataclass(frozen=True)
class Layer:
    """One hidden operation: ``dense`` (``h = relu(h W + b)``) or ``residual``
    (``h = relu(h + relu(h W + b) W2 + b2)``)."""

    kind: str
    name: str


class CurveNetwork:
    """Weights plus the decoding of their outputs into curves.

    Args:
        layers: the hidden operations in order.
        arrays: ``"<name>.W"``/``"<name>.b"`` (and ``"<name>.W2"``/``"<name>.b2"`` for residual
            layers) float32; ``"out.WT"`` ``[P, hidden]``; ``"out.b"`` ``[P]``; ``"basis"``
            ``[T, M, K]``.
        metrics: the modelled metrics, in model order (grouped by transform).
        transforms: one of :data:`TRANSFORMS` per modelled metric.
        columns: the table's metric order (the modelled metrics plus ``runtime_metric``).
        runtime_metric: the cumulative-runtime metric.
    """

    def __init__(
        self,
        *,
        layers: Sequence[Layer],
        arrays: Mapping[str, np.ndarray],
        metrics: Sequence[str],
        transforms: Sequence[str],
        columns: Sequence[str],
        runtime_metric: str,
    ) -> None:
        self.layers = tuple(layers)
        # Biases are folded into the matrices: every activation carries a trailing constant 1
        # (inputs get one appended; each layer maps it to itself), so a dense layer is one
        # product and one ReLU - fewer numpy calls on the single-query path.
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}  # as stored (export, ONNX)
        self._layers: list[tuple[str, np.ndarray, np.ndarray | None]] = []
        for layer in self.layers:
            W = np.asarray(arrays[f"{layer.name}.W"], np.float64)
            b = np.asarray(arrays[f"{layer.name}.b"], np.float64)
            A = _augment(W, b, keep_one=True)
            A2 = None
            if layer.kind == "residual":
                W2 = np.asarray(arrays[f"{layer.name}.W2"], np.float64)
                b2 = np.asarray(arrays[f"{layer.name}.b2"], np.float64)
                A2 = _augment(W2, b2, keep_one=False)
            self._layers.append((layer.kind, A, A2))
        self.WT = np.ascontiguousarray(arrays["out.WT"], np.float32)
        self.b = np.ascontiguousarray(arrays["out.b"], np.float32)
        last = _augment(self.WT.T.astype(np.float64), self.b.astype(np.float64), keep_one=False)
        self._nc = int(self.WT.shape[0])  # columns of the Gaussian outputs: 1 + R*C
        self.two_mode = "mode.WT" in arrays
        if self.two_mode:  # the mode outputs become the last columns of the same product
            Om = _augment(
                np.asarray(arrays["mode.WT"], np.float64).T,
                np.asarray(arrays["mode.b"], np.float64),
                keep_one=False,
            )
            last = np.concatenate([last[:, :-1], Om], axis=1)
        self._O = last[:, :-1].copy()  # without the constant column (keep_one=False: zeros)
        self.basis = np.ascontiguousarray(arrays["basis"], np.float32)
        self.phi = np.ascontiguousarray(arrays["phi"], np.float32)
        self.step_bias = np.ascontiguousarray(arrays["step_bias"], np.float32)
        self.metrics = tuple(metrics)
        self.transforms = tuple(transforms)
        self.columns = tuple(columns)
        self.runtime_metric = runtime_metric
        M = len(self.metrics)
        T, _, K = self.basis.shape
        self.M, self.T, self.K = M, T, K
        self.block = 2 * M + 1
        self.n_inputs = (
            int(self._layers[0][1].shape[0] - 1) if self._layers else int(self.WT.shape[1])
        )
        self.width = int(self.WT.shape[1])
        self._n_logit = sum(t == "logit" for t in self.transforms)
        self._n_log = sum(t == "log" for t in self.transforms)
        # model order + runtime -> table column order
        model_cols = [*self.metrics, runtime_metric]
        self._perm = np.asarray([model_cols.index(c) for c in self.columns], dtype=np.int64)
        self.R = int(self.phi.shape[1])
        self._basis2 = self.basis.reshape(T * M, K)  # 2-d: one product, not T of them
        self._identity = self.R == T and bool(np.array_equal(self.phi, np.eye(T)))
        self._rt_phi = [np.ascontiguousarray(self.phi[: f + 1].T) for f in range(T)]
        self.n_normals = K + 2 if self.two_mode else K + 1  # seed basis, runtime, (mode)
        self._perm2 = self._perm + M  # the same columns inside a ``steps`` block
        self._perm_identity = bool(np.array_equal(self._perm, np.arange(M + 1)))
        self._step_cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # The single-query path (direct head): the hidden layers as a flat list of matrices
        # and the last layer reordered channel-major with the step bias folded into its bias
        # row, so one product yields every step's means, log sigmas and runtime increments as
        # contiguous runs of T; numpy on contiguous 1-d runs costs a fraction of the same
        # ufunc on a strided [T, C] view.
        self._single = [
            (
                A,
                A2,
                np.zeros(A.shape[1], np.float32),
                np.zeros((A2 if A2 is not None else A).shape[1], np.float32),
            )
            for _kind, A, A2 in self._layers
        ]
        if self._identity:
            C = self.block
            cols = [0] + [1 + t * C + c for c in range(C) for t in range(T)]
            if self.two_mode:  # mode logit, then the gaps channel-major like the means
                nc = self._nc
                cols += [nc] + [nc + 1 + t * M + m for m in range(M) for t in range(T)]
            O_cm = self._O[:, cols].astype(np.float64)
            O_cm[-1, 1 : 1 + C * T] += self.step_bias.T.reshape(-1).astype(np.float64)
            self._O_cm: np.ndarray | None = np.ascontiguousarray(O_cm, dtype=np.float32)
            self._basis_cm = np.ascontiguousarray(
                self.basis.transpose(1, 0, 2).reshape(M * T, K)
            )  # [M*T, K], channel-major like _O_cm
        else:
            self._O_cm = None

    @property
    def n_outputs(self) -> int:
        return 1 + self.R * self.block + (1 + self.R * self.M if self.two_mode else 0)

    def _mode_gap(self, o: np.ndarray, f: int) -> np.ndarray:
        """``[f + 1, M]`` gaps between the two modes of one configuration's outputs ``o``."""
        g = o[self._nc + 1 : self._nc + 1 + self.R * self.M].reshape(self.R, self.M)
        return g[: f + 1] if self._identity else self.phi[: f + 1] @ g

    # -- forward ------------------------------------------------------------------------
    def hidden(self, x: np.ndarray) -> np.ndarray:
        """Last hidden activations ``[n, hidden + 1]`` (trailing constant 1) of inputs ``[n, d]``."""
        n, d = x.shape
        h = np.empty((n, d + 1), dtype=np.float32)
        h[:, :d] = x
        h[:, d] = 1.0
        return self._hidden_aug(h)

    def _hidden_aug(self, h: np.ndarray) -> np.ndarray:
        n = h.shape[0]
        if n <= _BLOCK:
            return self._hidden_block(h)
        # Blocks of rows whose activations stay in cache: 2x faster than one pass over 4,096
        # rows (each layer otherwise streams megabytes of activations through memory).
        out = np.empty((n, self.width + 1), dtype=np.float32)
        for i in range(0, n, _BLOCK):
            out[i : i + _BLOCK] = self._hidden_block(h[i : i + _BLOCK])
        return out

    def _hidden_block(self, h: np.ndarray) -> np.ndarray:
        for _kind, A, A2 in self._layers:
            r = h @ A
            np.maximum(r, 0.0, out=r)
            if A2 is not None:
                r = r @ A2
                r += h
                np.maximum(r, 0.0, out=r)
            h = r
        return h

    def outputs(self, h: np.ndarray) -> np.ndarray:
        """Last-layer outputs ``[n, 1 + R*C]`` of :meth:`hidden`'s activations."""
        return h @ self._O

    # -- one configuration, the curve up to step f --------------------------------------
    def curve(self, x1: np.ndarray, z: Sequence[float], f: int) -> np.ndarray:
        """float32 ``[f + 1, n_columns]`` in table column order for one configuration.

        ``x1`` is its input row with a trailing 1 (``[1, d + 1]``, float32). Written for the
        fewest numpy calls: every step below works in place on one ``[f + 1, C]`` block.
        """
        M = self.M
        if self._O_cm is not None:
            return self._curve_direct(x1[0], z)[:, : f + 1].T
        o = self._hidden_aug(x1) @ self._O
        if self._identity:
            st = o[0, 1 : 1 + (f + 1) * self.block].reshape(f + 1, self.block)
        else:
            st = self.phi[: f + 1] @ o[0, 1 : self._nc].reshape(self.R, self.block)
        st += self.step_bias[: f + 1]
        y = st[:, M : 2 * M]
        np.exp(y, out=y)
        y *= (self._basis2[: (f + 1) * M] @ np.array(z[: self.K], dtype=np.float32)).reshape(
            f + 1, M
        )
        y += st[:, :M]
        if self.two_mode:
            y += _mode_weight(float(o[0, self._nc]), z[self.K + 1]) * self._mode_gap(o[0], f)
        a, c = self._n_logit, self._n_logit + self._n_log
        if a:
            v = st[:, M : M + a]
            _expit(v, out=v)
        if c > a:
            v = st[:, M + a : M + c]
            np.exp(v, out=v)
        rt = st[:, 2 * M]
        np.exp(rt, out=rt)
        np.cumsum(rt, out=rt)
        rt *= math.exp(math.exp(float(o[0, 0])) * z[self.K])
        return st[:, self._perm2]

    def curve_all(self, x1: np.ndarray, z: Sequence[float]) -> np.ndarray:
        """float32 ``[n_columns, T]`` (table column order): every step, for one configuration.

        ``x1`` is its input with a trailing 1 (``[d + 1]`` float32). The fast single-query
        path: ``curve(x1[None], z, f)`` equals ``curve_all(x1, z)[:, : f + 1].T``.
        """
        if self._O_cm is None:
            return self.curve(x1[None], z, self.T - 1).T
        return self._curve_direct(x1, z)

    def _curve_direct(self, h: np.ndarray, z: Sequence[float]) -> np.ndarray:
        # Every numpy call costs ~0.5-2 µs here whatever its size, so the single query is
        # written for the fewest calls: ReLU against a stored zero row (half the cost of a
        # Python-float 0.0, which numpy converts on every call), one exp over the log sigmas
        # and the runtime increments (adjacent in ``_O_cm``), products into their destination.
        O_cm = self._O_cm
        assert O_cm is not None  # a direct head (checked by the caller)
        dot, relu = np.dot, np.maximum
        for A, A2, zero, zero2 in self._single:
            r = dot(h, A)
            relu(r, zero, out=r)
            if A2 is not None:
                r = dot(r, A2)
                r += h
                relu(r, zero2, out=r)
            h = r
        M, T, K = self.M, self.T, self.K
        MT = M * T
        CT = self.block * T
        o = dot(h, O_cm)  # [1 + C*T]: runtime sigma, then channel-major runs of T (+ modes)
        e = np.exp(o[1 + MT : 1 + CT])  # sigma of every metric and step, runtime increments
        flat = np.empty((M + 1) * T, dtype=np.float32)
        y = flat[:MT]
        np.multiply(e[:MT], dot(self._basis_cm, np.array(z[:K], dtype=np.float32)), out=y)
        y += o[1 : 1 + MT]  # mean + sigma * (basis @ z)
        if self.two_mode:  # + the seed's mode offset
            y += _mode_weight(o.item(1 + CT), z[K + 1]) * o[2 + CT : 2 + CT + MT]
        a, c = self._n_logit * T, (self._n_logit + self._n_log) * T
        if a:
            _expit(y[:a], out=y[:a])
        if c > a:
            np.exp(y[a:c], out=y[a:c])
        rt = flat[MT:]
        _accumulate(e[MT:], out=rt)  # cumsum without np.cumsum's Python wrapper
        rt *= math.exp(math.exp(float(o[0])) * z[K])
        full = flat.reshape(M + 1, T)
        return full if self._perm_identity else full[self._perm]

    # -- many configurations at one step each -------------------------------------------
    def at_steps(self, h: np.ndarray, z: np.ndarray, fidx: np.ndarray | int) -> np.ndarray:
        """float32 ``[n, n_columns]``: each row's metrics at its step (table column order)."""
        n = h.shape[0]
        full = np.empty((n, self.M + 1), dtype=np.float32)
        if np.ndim(fidx) == 0:
            self._at_step(h, z, int(fidx), full)
            return full[:, self._perm]
        fidx = np.asarray(fidx)
        for f in np.unique(fidx).tolist():
            rows = np.flatnonzero(fidx == f)
            part = np.empty((len(rows), self.M + 1), dtype=np.float32)
            self._at_step(h[rows], z[rows], f, part)
            full[rows] = part
        return full[:, self._perm]

    def _step_columns(self, f: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Last-layer columns a batch at step ``f`` needs (cached per step).

        Returns ``(O_f, phi_f, phi_rt)``: for a direct head only step ``f``'s means and log
        sigmas, the runtime increments of steps ``0..f`` and the runtime sigma are computed;
        ``phi_f`` ``[R', 2M]`` and ``phi_rt`` ``[R', f + 1]`` map those outputs to the step.
        """
        got = self._step_cache.get(f)
        if got is None:
            M, C = self.M, self.block
            if self._identity:
                cols = np.concatenate(
                    [[0], 1 + f * C + np.arange(2 * M), 1 + np.arange(f + 1) * C + 2 * M]
                )
                if self.two_mode:  # mode logit, step f's gaps
                    cols = np.concatenate([cols, [self._nc], self._nc + 1 + f * M + np.arange(M)])
                O_f = np.ascontiguousarray(self._O[:, cols])
                phi_f = np.eye(2 * M, dtype=np.float32)
                phi_rt = np.eye(f + 1, dtype=np.float32)
                got = (O_f, phi_f, phi_rt)
            else:
                got = (self._O, self.phi[f], self._rt_phi[f])
            self._step_cache[f] = got
        return got

    def _at_step(self, h: np.ndarray, z: np.ndarray, f: int, full: np.ndarray) -> None:
        M, K, C, R = self.M, self.K, self.block, self.R
        n = h.shape[0]
        O_f, phi_f, phi_rt = self._step_columns(f)
        out = h @ O_f
        if self._identity:
            st = out[:, 1 : 1 + 2 * M]
            inc = out[:, 1 + 2 * M : 2 + 2 * M + f]
            if self.two_mode:
                logit, gap = out[:, 2 + 2 * M + f], out[:, 3 + 2 * M + f :]
        else:
            coef = out[:, 1 : self._nc].reshape(n, R, C)
            st = np.einsum("nrc,r->nc", coef[:, :, : 2 * M], phi_f)
            inc = coef[:, :, 2 * M] @ phi_rt  # [n, f + 1]
            if self.two_mode:
                logit = out[:, self._nc]
                gap = out[:, self._nc + 1 :].reshape(n, R, M).transpose(0, 2, 1) @ phi_f
        st = st + self.step_bias[f, : 2 * M]
        dev = z[:, :K].astype(np.float32) @ self.basis[f].T  # [n, M]
        y = np.exp(st[:, M : 2 * M])
        y *= dev
        y += st[:, :M]
        if self.two_mode:
            y += (_mode_weights(logit, z[:, K + 1]) * gap).astype(np.float32)
        a, c = self._n_logit, self._n_logit + self._n_log
        if a:
            full[:, :a] = _expit(y[:, :a])
        if c > a:
            full[:, a:c] = np.exp(y[:, a:c])
        if c < M:
            full[:, c:M] = y[:, c:]
        inc = inc + self.step_bias[: f + 1, 2 * M]
        rt = np.exp(inc).sum(axis=1)
        rt *= np.exp(np.exp(out[:, 0]) * z[:, K].astype(np.float32))
        full[:, M] = rt

    # -- the predictive distribution (for fidelity cards) -------------------------------
    def distribution(self, h: np.ndarray) -> dict[str, np.ndarray]:
        """Mean and sigma in transformed units ``[n, T, M]``, log mean runtime ``[n, T]``,
        runtime log-sigma ``[n]``, for every step at once."""
        out = h @ self._O
        n, M = h.shape[0], self.M
        coef = out[:, 1 : self._nc].reshape(n, self.R, self.block)
        steps = np.einsum("tr,nrc->ntc", self.phi, coef) + self.step_bias
        if self.two_mode:
            mode_p = _expit(out[:, self._nc].astype(np.float64))
            g = out[:, self._nc + 1 :].reshape(n, self.R, M)
            mode_gap = np.einsum("tr,nrm->ntm", self.phi, g)
        else:
            mode_p, mode_gap = np.zeros(n), np.zeros((n, self.T, M), np.float32)
        return {
            "mean": steps[:, :, :M],
            "sigma": np.exp(steps[:, :, M : 2 * M]),
            "log_runtime": np.log(np.cumsum(np.exp(steps[:, :, 2 * M].astype(np.float64)), axis=1)),
            "runtime_sigma": np.exp(out[:, 0]),
            "mode_p": mode_p,
            "mode_gap": mode_gap,
        }


_SQRT_HALF = math.sqrt(0.5)


def _mode_weight(logit: float, z: float) -> float:
    """The gap's weight for one seed: ``1 - p`` in the first mode (``Phi(z) < p``), else ``-p``."""
    p = 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0
    return 1.0 - p if 0.5 * math.erfc(-z * _SQRT_HALF) < p else -p


def _mode_weights(logit: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``[n, 1]`` float64: :func:`_mode_weight` of each row."""
    p = _expit(logit.astype(np.float64))
    return np.where(_ndtr(z) < p, 1.0 - p, -p)[:, None]


def _augment(W: np.ndarray, b: np.ndarray, *, keep_one: bool) -> np.ndarray:
    """``[[W, 0], [b, keep_one]]`` float32: ``[x, 1] @ A == [x @ W + b, keep_one]``."""
    A = np.zeros((W.shape[0] + 1, W.shape[1] + 1), dtype=np.float32)
    A[:-1, :-1] = W
    A[-1, :-1] = b
    A[-1, -1] = 1.0 if keep_one else 0.0
    return A
