"""Shared fixtures: ``make_*`` factories for small synthetic v1 tables, and registry isolation.

Everything a test writes goes under ``tmp_path``: every test gets its own empty user data root
(``HPOBENCH_USER_DATA``, autouse), so imports and merges never reach the real home or the
checkout. Tests that need a registry without the shipped tables use ``isolated_registry``.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hypothesis
import hypothesis.configuration
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hpobench import registry, testing
from hpobench.space import Categorical, Float, Int, Ordinal, SearchSpace
from hpobench.table import MetricSpec, TableMeta, write_table

# Tests write only under temporary folders: hypothesis keeps no example database and puts its
# caches (.hypothesis/constants) in a temp folder, never in the checkout.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="hpobench-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, True)
hypothesis.configuration.set_hypothesis_home_dir(_HYPOTHESIS_HOME)
hypothesis.settings.register_profile("hpobench", database=None)
hypothesis.settings.load_profile("hpobench")

# A discrete space that exercises every lookup hazard: float ordinal values (0.1 is inexact),
# an Int range holding 1 (True == 1), strings, and a bool categorical (1 == True).
GRID_SPACE = SearchSpace(
    [
        Ordinal("lr", (0.001, 0.01, 0.1)),
        Int("depth", 1, 3),
        Categorical("act", ("relu", "tanh")),
        Categorical("flag", (True, False)),
    ]
)
# A continuous space: tables of sampled configurations use the hash index.
FLOAT_SPACE = SearchSpace([Float("lr", 1e-4, 1.0, log=True), Ordinal("width", (16, 32, 64))])
METRICS = {
    "valid_loss": MetricSpec("valid_loss", "minimize", "valid", "validation loss"),
    "test_loss": MetricSpec("test_loss", "minimize", "test", "test loss"),
    "runtime": MetricSpec("runtime", "minimize", "none", "cumulative seconds"),
}


def make_meta(**overrides: Any) -> TableMeta:
    """A valid TableMeta for ``GRID_SPACE`` with 4 epochs and seeds (0, 1, 7)."""
    kwargs: dict[str, Any] = {
        "benchmark_id": "synth/grid-v1",
        "space": GRID_SPACE,
        "n_steps": 4,
        "metrics": METRICS,
        "objective": "valid_loss",
        "reported_metric": "test_loss",
        "seeds": (0, 1, 7),
        "tuning_seeds": (0, 1),
        "test_seeds": (7,),
        "generation": {"by": "tests/conftest.py"},
    }
    if "id" in overrides:
        overrides["benchmark_id"] = overrides.pop("id")
    kwargs.update(overrides)
    return testing.make_meta(**kwargs)


def make_data(
    meta: TableMeta, configs: dict[str, list[Any]], seed: int = 0
) -> dict[str, np.ndarray]:
    """Random metrics ``[n_configs, n_seeds, n_steps]`` for ``meta``; runtime is cumulative."""
    rng = np.random.default_rng(seed)
    n = len(next(iter(configs.values())))
    shape = (n, len(meta.seeds), len(meta.fidelity))
    out = {}
    for name in meta.metrics:
        if name == meta.runtime_metric:
            out[name] = np.cumsum(rng.uniform(0.5, 2.0, size=shape), axis=2).astype(np.float32)
        else:
            out[name] = rng.normal(size=shape).astype(np.float32)
    return out


def grid_configs(space: SearchSpace = GRID_SPACE, keep: Any = None) -> dict[str, list[Any]]:
    """Columns of the full grid of ``space``; ``keep`` (a bool mask) drops some configurations."""
    grid = list(space.grid())
    if keep is not None:
        grid = [c for c, k in zip(grid, keep, strict=True) if k]
    return {name: [c[name] for c in grid] for name in space.names}


def rewrite_parquet(directory: Path, mutate: Callable[[pa.Table], pa.Table]) -> None:
    """Replace ``table.parquet`` by ``mutate(table)`` and re-record its sha256 in meta.json.

    The checksum then passes, so the reader's schema checks are what is under test.
    """
    path = directory / "table.parquet"
    pq.write_table(mutate(pq.read_table(path)), path)
    meta_path = directory / "meta.json"
    d = json.loads(meta_path.read_text())
    d["table"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(d))


@pytest.fixture
def make_table(tmp_path: Path) -> Callable[..., tuple[Path, TableMeta]]:
    """Factory: write a synthetic table under ``tmp_path``; returns ``(directory, meta)``.

    ``make_table()`` writes the full 36-config grid of ``GRID_SPACE``; ``keep=`` drops
    configurations, ``space=FLOAT_SPACE`` writes sampled configurations, other keywords
    override :func:`make_meta`.
    """
    counter = iter(range(1_000_000))

    def factory(
        *,
        name: str | None = None,
        keep: Any = None,
        space: SearchSpace = GRID_SPACE,
        n_sampled: int = 20,
        data_seed: int = 0,
        **meta_overrides: Any,
    ) -> tuple[Path, TableMeta]:
        meta = make_meta(space=space, **meta_overrides)
        if space.is_discrete:
            configs = grid_configs(space, keep)
        else:
            rng = np.random.default_rng(data_seed)
            sampled = space.sample_many(rng, n_sampled)
            configs = {n: [c[n] for c in sampled] for n in space.names}
        directory = tmp_path / (name or f"table{next(counter)}")
        final = write_table(directory, meta, configs, make_data(meta, configs, data_seed))
        return directory, final

    return factory


@pytest.fixture(autouse=True)
def _user_data_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every test's user data root is a fresh temp folder; no test sees the real home's tables."""
    monkeypatch.setenv("HPOBENCH_USER_DATA", str(tmp_path_factory.mktemp("user-data")))
    monkeypatch.delenv("HPOBENCH_DATA", raising=False)


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty registry whose user root is ``tmp_path/data`` (shipped tables hidden)."""
    root = tmp_path / "data"
    root.mkdir()
    shipped = tmp_path / "no-shipped-tables"
    shipped.mkdir()
    monkeypatch.setenv("HPOBENCH_USER_DATA", str(root))
    monkeypatch.delenv("HPOBENCH_DATA", raising=False)
    monkeypatch.setattr(registry, "shipped_root", lambda: shipped)
    monkeypatch.setattr(registry, "_user_specs", {})
    registry._manifest_specs.cache_clear()
    registry._load_table.cache_clear()
    yield root
    registry._manifest_specs.cache_clear()
    registry._load_table.cache_clear()


@pytest.fixture
def user_registrations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget user registrations made by the test (the shipped tables stay visible)."""
    monkeypatch.setattr(registry, "_user_specs", {})


@pytest.fixture(scope="session")
def synth() -> SimpleNamespace:
    """The helpers of this module for tests (a fixture, so no test imports ``conftest``)."""
    return SimpleNamespace(
        GRID_SPACE=GRID_SPACE,
        FLOAT_SPACE=FLOAT_SPACE,
        METRICS=METRICS,
        make_meta=make_meta,
        make_data=make_data,
        grid_configs=grid_configs,
        rewrite_parquet=rewrite_parquet,
    )
