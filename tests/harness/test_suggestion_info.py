"""``Suggestion.info``: recorded per evaluation in the trajectory's ``info`` column, round-trips
through the file, and a malformed one is the optimizer's fault (not a crash)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hpobench.harness import RunStatus, Suggestion, Trajectory, run_study
from hpobench.harness._check import _mixed_benchmark, _protocol

PROTO = _protocol("info-v1", workers=2, resume=False, base=3.0, cap=10.0)


def _factory(info: Any) -> Any:
    class Opt:
        def __init__(self, problem: Any, seed: int) -> None:
            self.space, self.rng, self.n = problem.space, np.random.default_rng(seed), 0

        def ask(self) -> Suggestion:
            self.n += 1
            i = info(self.n) if callable(info) else info
            return Suggestion(self.space.sample(self.rng), fidelity=1, info=i)

        def tell(self, suggestion: Suggestion, evaluation: Any) -> None:
            pass

    return Opt


def test_info_is_recorded_and_round_trips(tmp_path: Path) -> None:
    traj = run_study(
        _mixed_benchmark(), _factory(lambda n: {"n": n, "x": 0.5, "tag": "a"}), PROTO, 0
    )
    col = list(traj.events["info"])
    assert '{"n":1,"tag":"a","x":0.5}' in col  # sorted, compact
    assert sorted(json.loads(c)["n"] for c in col) == list(range(1, len(col) + 1))
    back = Trajectory.read(traj.write(tmp_path / "t.parquet"))
    assert list(back.events["info"]) == col and back.digest() == traj.digest()
    plain = run_study(_mixed_benchmark(), _factory(None), PROTO, 0)
    assert set(plain.events["info"]) == {""}
    assert plain.digest() != traj.digest()  # the info is part of the deterministic record


@pytest.mark.parametrize(
    "info",
    [{"a": [1]}, {1: 2}, {"a": True}, {"a": float("nan")}, "bracket=1", {"a": None}],
    ids=["list", "int-key", "bool", "nan", "not-a-mapping", "none-value"],
)
def test_malformed_info_is_an_invalid_suggestion(info: Any) -> None:
    traj = run_study(_mixed_benchmark(), _factory(info), PROTO, 0)
    assert traj.meta.status is RunStatus.FAILED
    assert traj.meta.fault == "invalid_suggestion"
    assert (
        "Suggestion.info must be None or a mapping str -> int | float (finite) | str"
        in traj.meta.stop_reason
    )
