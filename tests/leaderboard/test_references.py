"""References: exact optimum, seeded random medians, stored in (and hashed with) the protocol."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from hpobench import ProtocolError
from hpobench.harness import get_protocol, read_protocol, write_protocol
from hpobench.leaderboard import (
    LeaderboardError,
    References,
    TaskReference,
    compute_references,
    load_references,
    protocol_with_references,
)
from hpobench.leaderboard._produce import OFFICIAL_PROTOCOLS


def test_recomputing_gives_the_same_references(lb: SimpleNamespace) -> None:
    # lbtest-sf-v2's references were computed under the pinned lbtest-sf-v1
    again = compute_references(lb.sf_pinned, n_random=5)
    assert again.tasks == lb.refs_sf.tasks


def test_references_live_in_the_next_protocol_version(lb: SimpleNamespace) -> None:
    assert lb.sf.name == "lbtest-sf-v2" and lb.sf.pinned
    for t in lb.sf.tasks:
        r = lb.refs_sf[t.id]
        assert dict(t.references) == {
            "optimum": r.optimum, "random_median": r.random_median,
            "random_se": r.random_se, "n_random": r.n_random,
        }  # fmt: skip
        assert r.table_sha256 == t.sha256


def test_protocol_hash_covers_every_reference(lb: SimpleNamespace) -> None:
    task, ref = next(iter(lb.refs_sf.tasks.items()))
    for field, value in [("optimum", ref.optimum * 0.5), ("random_median", ref.random_median * 1.01),
                         ("random_se", ref.random_se + 1), ("n_random", 7)]:  # fmt: skip
        changed = replace(
            lb.refs_sf, tasks={**lb.refs_sf.tasks, task: replace(ref, **{field: value})}
        )
        again = protocol_with_references(changed, lb.sf)
        assert again.name == "lbtest-sf-v3" and again.hash != lb.sf.hash, field
        assert load_references(again)[task] == changed[task]


def test_a_hand_edited_protocol_file_is_refused(lb: SimpleNamespace, tmp_path: Path) -> None:
    p = write_protocol(lb.sf, tmp_path / "p.json")
    assert load_references(read_protocol(p)) == lb.refs_sf
    d = json.loads(p.read_text())
    d["protocol"]["tasks"][0]["references"]["random_median"] = 1.0
    p.write_text(json.dumps(d))
    with pytest.raises(ProtocolError, match="edited"):
        read_protocol(p)


def test_references_of_another_protocol_are_refused(lb: SimpleNamespace) -> None:
    with pytest.raises(LeaderboardError, match="must belong to protocol"):
        lb.refs_sf.check_protocol(lb.mf)


@pytest.mark.parametrize("name", OFFICIAL_PROTOCOLS)
def test_official_protocols_carry_references_of_their_pinned_tables(name: str) -> None:
    from hpobench.registry import spec
    from hpobench.table import META_FILE, TableMeta

    refs = load_references(name)
    proto = get_protocol(name)
    assert refs.protocol_hash == proto.hash and refs.task_ids == tuple(sorted(proto.task_ids()))
    for tid, r in refs.tasks.items():
        assert r.n_random >= 100
        assert TableMeta.read(spec(tid).path / META_FILE).sha256 == r.table_sha256


def test_a_protocol_without_references_teaches_the_command(lb: SimpleNamespace) -> None:
    with pytest.raises(LeaderboardError, match="hpobench leaderboard references"):
        load_references("sf-serial-v2")
    with pytest.raises(LeaderboardError, match="pins no tasks"):
        load_references(lb.sf0)


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


def test_references_need_a_task() -> None:
    with pytest.raises(LeaderboardError, match="at least one task"):
        References(protocol="x-v1", protocol_hash="h", random_optimizer="r", tasks={})
