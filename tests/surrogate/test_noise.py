"""The seed-noise hash: both implementations agree, normals look normal, inputs matter."""

from __future__ import annotations

import numpy as np
import pytest

from hpobench.surrogate._noise import normals_many, normals_one


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7])
def test_python_and_numpy_paths_agree(k: int) -> None:
    rng = np.random.default_rng(0)
    unit = rng.random((200, 5))
    unit[:10] = np.round(unit[:10], 1)  # grid-like values and exact 0/1
    unit[10, :] = 0.0
    unit[11, :] = 1.0
    seeds = rng.integers(0, 10, size=200)
    many = normals_many(unit, seeds, k)
    assert many.shape == (200, k)
    for i in range(200):
        np.testing.assert_allclose(
            normals_one(unit[i].tolist(), int(seeds[i]), k), many[i], rtol=1e-12, atol=1e-12
        )


def test_deterministic_and_sensitive_to_config_and_seed() -> None:
    u = [0.1, 0.5, 0.9]
    assert normals_one(u, 3, 4) == normals_one(list(u), 3, 4)
    assert normals_one(u, 3, 4) != normals_one(u, 4, 4)
    assert normals_one(u, 3, 4) != normals_one([0.1, 0.5, 0.9000001], 3, 4)
    assert normals_one([0.0, 0.5], 0, 2) == normals_one([-0.0, 0.5], 0, 2)


def test_draws_are_standard_normal() -> None:
    rng = np.random.default_rng(1)
    z = normals_many(rng.random((20000, 4)), rng.integers(0, 5, 20000), 4)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 0.03
    assert 0.94 < np.mean(np.abs(z) < 1.959964) < 0.96
