"""Every shipped surrogate loads against its registered table and keeps its guarantees."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hpobench
from hpobench.surrogate import list_surrogates, surrogate_dir

IDS = list_surrogates()


def test_a_surrogate_ships_for_every_table() -> None:
    registered = set(hpobench.list_benchmarks())
    assert set(IDS) <= registered  # nothing shipped for a table that is not there
    missing = sorted(registered - set(IDS))
    assert not missing, (
        f"fit them: `hpobench surrogate fit {' '.join(missing)}` (docs/surrogates.md)"
    )


@pytest.mark.parametrize("sid", IDS)
def test_shipped_surrogate(sid: str) -> None:
    b = hpobench.make(sid, backend="surrogate")
    table = hpobench.make(sid)
    assert b.backend.kind == "surrogate" and b.reference_runtime == table.reference_runtime
    card = json.loads((surrogate_dir(sid) / "card.json").read_text())
    assert card["weights_sha256"] == b.backend.sha256
    assert card["runtime_monotone"] == 1.0 and card["range_violations"] == 0
    cfg = b.space.sample(np.random.default_rng(0))
    r = b.query(cfg, fidelity=b.fidelity.max, seed=b.seeds[0])
    assert np.all(np.diff(r.curve[b.meta.runtime_metric].astype(np.float64)) > 0)
    assert all(np.isfinite(v) for v in r.metrics.values())
