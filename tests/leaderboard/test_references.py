"""References: exact optimum, seeded random medians, hash coverage, tamper detection."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from hpobench.harness import get_protocol
from hpobench.leaderboard import LeaderboardError, References, TaskReference, load_references
from hpobench.leaderboard._references import compute_references, write_references


def test_recomputing_gives_the_same_references(lb: SimpleNamespace) -> None:
    again = compute_references(lb.sf, n_random=5)
    assert again == lb.refs_sf and again.hash == lb.refs_sf.hash


def test_hash_covers_every_reference(lb: SimpleNamespace) -> None:
    task, ref = next(iter(lb.refs_sf.tasks.items()))
    for field, value in [("optimum", ref.optimum * 0.5), ("random_median", ref.random_median * 1.01),
                         ("random_se", ref.random_se + 1), ("n_random", 7), ("table_sha256", "0" * 64)]:  # fmt: skip
        changed = replace(
            lb.refs_sf, tasks={**lb.refs_sf.tasks, task: replace(ref, **{field: value})}
        )
        assert changed.hash != lb.refs_sf.hash, field


def test_edited_file_is_refused(lb: SimpleNamespace, tmp_path: Path) -> None:
    p = write_references(lb.refs_sf, tmp_path / "r.json")
    assert load_references(lb.sf, path=p) == lb.refs_sf
    d = json.loads(p.read_text())
    next(iter(d["tasks"].values()))["random_median"] = 1.0
    p.write_text(json.dumps(d))
    with pytest.raises(LeaderboardError, match="edited"):
        load_references(lb.sf, path=p)


def test_references_of_another_protocol_are_refused(lb: SimpleNamespace, tmp_path: Path) -> None:
    p = write_references(lb.refs_sf, tmp_path / "r.json")
    with pytest.raises(LeaderboardError, match="must belong to protocol"):
        load_references(lb.mf, path=p)


@pytest.mark.parametrize("name", ["sf-serial-v1", "mf-serial-v1", "mf-async4-v1"])
def test_shipped_references_match_their_protocol_and_tables(name: str) -> None:
    import hpobench

    refs = load_references(name)
    assert refs.protocol_hash == get_protocol(name).hash
    for tid, r in refs.tasks.items():
        assert r.n_random >= 100
        assert hpobench.make(tid).meta.sha256 == r.table_sha256


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"optimum": float("nan")}, "finite"),
        ({"direction": "up"}, "minimize"),
        ({"n_random": 0}, "n_random"),
        ({"optimum": 0.5, "random_median": 0.9}, "must not beat"),
    ],
)
def test_bad_task_reference(kw: dict, words: str) -> None:  # type: ignore[type-arg]
    base = {"table_sha256": "x", "reported_metric": "acc", "direction": "maximize",
            "optimum": 1.0, "random_median": 0.9, "random_se": 0.0, "n_random": 3}  # fmt: skip
    with pytest.raises(LeaderboardError, match=words):
        TaskReference(**{**base, **kw})


def test_missing_references_teach_the_command(tmp_path: Path) -> None:
    with pytest.raises(LeaderboardError, match="hpobench leaderboard references"):
        load_references("sf-serial-v1", path=tmp_path / "none.json")
    with pytest.raises(LeaderboardError, match="at least one task"):
        References(protocol="x-v1", protocol_hash="h", random_optimizer="r", tasks={})
