"""Deterministic seed noise: standard normal draws from a hash of (configuration, seed).

A surrogate answers every training seed of its table, for configurations that were never
trained. Each ``(config, seed)`` must give one consistent learning curve (the same at every
fidelity and on every call), so the seed's deviation from the mean curve is driven by a latent
vector ``z`` drawn from a hash of the configuration and the seed, never from global state.

The hash: each unit-cube coordinate is quantised to a 2^-30 grid (an exact scaling, so both
paths get the same integers from the same coordinates), combined with fixed odd 64-bit
multipliers modulo 2^64 (exact in any summation order), mixed with the seed by splitmix64;
each pair of normals takes one more splitmix64 round whose two 32-bit halves feed Box–Muller.

Two implementations compute the same integers: :func:`normals_one` in plain Python (a single
query, where numpy's per-call overhead would dominate) and :func:`normals_many` in vectorised
numpy (a batch). The normals then agree to an ulp or so (numpy's vectorised log/cos may round
differently from libm), far below the float32 precision of the answers; each path on its own is
bit-for-bit deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["normals_many", "normals_one"]

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
_SEED_MUL = 0xD1B54A32D192ED03
_Q = float(1 << 30)
_TWO_PI = 2.0 * math.pi
_INV32 = 1.0 / (1 << 32)


def _multipliers(d: int) -> list[int]:
    """``d`` fixed odd 64-bit multipliers (a splitmix64 stream from 0: no randomness)."""
    out, z = [], 0
    for _ in range(d):
        z = (z + _GOLDEN) & _M64
        out.append(_mix(z) | 1)
    return out


def _mix(z: int) -> int:
    z = (z + _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * _C1) & _M64
    z = ((z ^ (z >> 27)) * _C2) & _M64
    return z ^ (z >> 31)


_MULS: dict[int, list[int]] = {}
_SEED_MIX: dict[int, int] = {}  # seed -> its splitmix64 mix (pure function, memoised)


def normals_one(unit: Sequence[float], seed: int, k: int) -> list[float]:
    """``k`` standard normals for one configuration (its unit-cube coordinates) and seed."""
    muls = _MULS.get(len(unit))
    if muls is None:
        muls = _MULS[len(unit)] = _multipliers(len(unit))
    key = 0
    for x, m in zip(unit, muls, strict=True):
        key += int(x * _Q) * m
    sm = _SEED_MIX.get(seed)
    if sm is None:
        sm = _mix((seed * _SEED_MUL) & _M64)
        if len(_SEED_MIX) < 4096:  # the table's seeds: a handful
            _SEED_MIX[seed] = sm
    h = _mix((key & _M64) ^ sm)
    out = []
    log, sqrt, cos, sin = math.log, math.sqrt, math.cos, math.sin
    for i in range((k + 1) // 2):
        a = _mix((h + (i + 1) * _GOLDEN) & _M64)
        r = sqrt(-2.0 * log(((a >> 32) + 0.5) * _INV32))
        angle = _TWO_PI * ((a & 0xFFFFFFFF) * _INV32)
        out.append(r * cos(angle))
        out.append(r * sin(angle))
    return out[:k]


_U = np.uint64


def _mix_np(z: np.ndarray) -> np.ndarray:
    z = z + _U(_GOLDEN)
    z = (z ^ (z >> _U(30))) * _U(_C1)
    z = (z ^ (z >> _U(27))) * _U(_C2)
    return z ^ (z >> _U(31))


def normals_many(unit: np.ndarray, seed: np.ndarray | int, k: int) -> np.ndarray:
    """``float64 [n, k]``; row ``i`` agrees with ``normals_one(unit[i], seed[i], k)``."""
    unit = np.asarray(unit, dtype=np.float64)
    n, d = unit.shape
    muls = _MULS.get(d)
    if muls is None:
        muls = _MULS[d] = _multipliers(d)
    seeds = np.broadcast_to(np.asarray(seed, dtype=np.int64), (n,)).astype(np.uint64)
    with np.errstate(over="ignore"):
        q = (unit * _Q).astype(np.int64).astype(np.uint64)  # trunc == int() for x >= 0
        key = (q * np.asarray(muls, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
        h = _mix_np(key ^ _mix_np(seeds * _U(_SEED_MUL)))
        out = np.empty((n, 2 * ((k + 1) // 2)), dtype=np.float64)
        for i in range((k + 1) // 2):
            a = _mix_np(h + _U(((i + 1) * _GOLDEN) & _M64))
            u1 = ((a >> _U(32)).astype(np.float64) + 0.5) * _INV32
            angle = _TWO_PI * ((a & _U(0xFFFFFFFF)).astype(np.float64) * _INV32)
            r = np.sqrt(-2.0 * np.log(u1))
            out[:, 2 * i] = r * np.cos(angle)
            out[:, 2 * i + 1] = r * np.sin(angle)
    return out[:, :k]
