"""Every seed of a run, derived from its inputs by fixed, portable formulas.

* ``repetition_seed = first 8 bytes of sha256("hpobench|<protocol>|<protocol.seed>|<task>|<rep>")``
  (big-endian, 64 bits). It does not depend on the optimizer, so every optimizer meets the same
  tuning-seed draws (common random numbers).
* ``optimizer_seed = splitmix64(repetition_seed ^ 0x6F7074)`` reduced to 31 bits (friendly to any
  library): the ``seed`` the factory receives.
* a trial's tuning seed is ``tuning_seeds[splitmix64(repetition_seed ^ splitmix64(trial_id)) %
  len(tuning_seeds)]``, drawn once when the trial starts and kept when it is resumed.
"""

from __future__ import annotations

import hashlib

__all__ = ["optimizer_seed", "repetition_seed", "splitmix64", "trial_seed_index"]

_M64 = (1 << 64) - 1


def splitmix64(x: int) -> int:
    """The splitmix64 finaliser (Steele et al. 2014): a 64-bit integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def repetition_seed(
    protocol_name: str, protocol_seed: int, benchmark_id: str, repetition: int
) -> int:
    key = f"hpobench|{protocol_name}|{protocol_seed}|{benchmark_id}|{repetition}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def optimizer_seed(rep_seed: int) -> int:
    return splitmix64(rep_seed ^ 0x6F7074) & 0x7FFFFFFF


def trial_seed_index(rep_seed: int, trial_id: int, n_tuning_seeds: int) -> int:
    return splitmix64(rep_seed ^ splitmix64(trial_id)) % n_tuning_seeds
