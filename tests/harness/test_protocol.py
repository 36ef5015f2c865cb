"""Protocols and suites: validation, hashing, lookup, lazy suite resolution."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpobench import BenchmarkNotFoundError, ProtocolError
from hpobench.harness import (
    Protocol,
    Suite,
    _protocol,
    get_protocol,
    get_suite,
    list_protocols,
    register_protocol,
    resolve_suite,
)


def test_shipped_protocols() -> None:
    names = list_protocols()
    assert {"sf-serial-v1", "mf-serial-v1", "mf-async4-v1"} <= set(names)
    sf, mf1, mf4 = (get_protocol(n) for n in ("sf-serial-v1", "mf-serial-v1", "mf-async4-v1"))
    assert (sf.n_workers, sf.allow_resume) == (1, False)
    assert (mf4.n_workers, mf4.allow_resume, mf1.allow_resume) == (4, True, True)
    assert sf.n_full(9) == pytest.approx(20 + 40 * 3)  # YAHPO / CARP-S: 20 + 40 sqrt(d)
    assert mf4.time_budget(9, 241.0) == pytest.approx(140 * 241.0 / 4)  # ~ syne-tune's 7,200 s
    assert sf.max_evaluations(9) == 140
    assert not any(get_protocol(n).charge_optimizer_time for n in names)
    assert len({get_protocol(n).hash for n in names}) == len(names)


def test_hash_is_stable_and_ignores_the_description() -> None:
    p = get_protocol("mf-async4-v1")
    q = dataclasses.replace(p, description="other words")
    assert p.hash == q.hash and p == q and hash(p) == hash(q)
    r = dataclasses.replace(p, n_workers=8)
    assert r.hash != p.hash
    assert Protocol.from_dict(p.to_dict()).hash == p.hash
    assert len(p.hash) == 64 and p.version == 1


@given(
    workers=st.integers(1, 64),
    base=st.floats(0, 1e3),
    per=st.floats(0.1, 1e3),
    tf=st.floats(0.01, 100),
    d=st.integers(1, 50),
    ref=st.floats(0.01, 1e5),
)
def test_budget_formula(
    workers: int, base: float, per: float, tf: float, d: int, ref: float
) -> None:
    p = Protocol(name="x-v1", suite=Suite(name="s", patterns=("a/*",)), n_workers=workers, n_repetitions=1,
                 budget_base=base, budget_per_sqrt_dim=per, time_factor=tf, allow_resume=False)  # fmt: skip
    n_full = base + per * math.sqrt(d)
    assert p.time_budget(d, ref) == pytest.approx(tf * n_full * ref / workers)
    assert p.max_evaluations(d) == max(1, math.ceil(n_full - 1e-9))
    assert Protocol.from_dict(p.to_dict()) == p


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_workers", 0, "`n_workers >= 1`"),
        ("n_repetitions", 0, "`n_repetitions >= 1`"),
        ("time_factor", 0.0, "`time_factor > 0`"),
        ("time_factor", -1.0, "`time_factor > 0`"),
        ("max_evaluations_factor", float("inf"), "`max_evaluations_factor > 0`"),
        ("budget_base", -5.0, "`budget_base >= 0`"),
        ("name", "My Protocol", "must look like 'name-vN'"),
        ("name", "proto", "must look like 'name-vN'"),
        ("seed", -1, "`seed >= 0`"),
        ("allow_resume", 1, "must be a bool"),
    ],
)
def test_bad_protocols(field: str, value: object, message: str) -> None:
    kw = {"name": "x-v1", "suite": Suite(name="s", patterns=("a/*",)), "n_workers": 1,
          "n_repetitions": 1, "allow_resume": False, field: value}  # fmt: skip
    with pytest.raises(ProtocolError, match=message):
        Protocol(**kw)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError, match="budget_base \\+ budget_per_sqrt_dim > 0"):
        Protocol(**{**kw, field: kw.get(field), "name": "x-v1", "budget_base": 0.0, "budget_per_sqrt_dim": 0.0,
                    "n_workers": 1, "n_repetitions": 1, "time_factor": 1.0, "max_evaluations_factor": 1.0,
                    "seed": 0, "allow_resume": False})  # fmt: skip


def test_get_protocol_teaches() -> None:
    with pytest.raises(ProtocolError, match="Please use 'mf-async4-v1'"):
        get_protocol("mf-async4")
    with pytest.raises(ProtocolError, match="Please use 'mf-async4-v1'"):
        get_protocol("mf-async4-v7")
    with pytest.raises(ProtocolError, match=r"Did you mean .*'sf-serial-v1'"):
        get_protocol("sf-serail-v1")
    p = get_protocol("sf-serial-v1")
    assert get_protocol(p) is p


def test_register_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_protocol, "_user_protocols", {})
    p = dataclasses.replace(get_protocol("sf-serial-v1"), name="my-sf-v1", n_repetitions=2)
    assert register_protocol(p) is p and get_protocol("my-sf-v1") is p
    with pytest.raises(ProtocolError, match="already registered"):
        register_protocol(p)
    with pytest.raises(ProtocolError, match="already registered"):
        register_protocol(get_protocol("sf-serial-v1"))


def test_suites_resolve_lazily(mf: SimpleNamespace) -> None:
    assert resolve_suite("fcnet") == tuple(
        f"fcnet/{t}-v1" for t in ("naval", "parkinsons", "protein", "slice")
    )
    assert len(resolve_suite("single-fidelity")) == 12
    assert resolve_suite("fcnet/protein-v1, hpobench-nn/car-v1") == (
        "fcnet/protein-v1",
        "hpobench-nn/car-v1",
    )
    assert resolve_suite(["fcnet/p*"]) == ("fcnet/parkinsons-v1", "fcnet/protein-v1")
    with pytest.raises(ProtocolError, match="match at least one registered benchmark"):
        Suite(name="empty", patterns=("nothing-here/*",)).resolve()
    bid = mf.table(
        family="lcbench"
    )  # a table that appears later is picked up by the family pattern
    assert bid in get_suite("multi-fidelity").resolve()


def test_bad_suites() -> None:
    with pytest.raises(ProtocolError, match=r"Did you mean .*'fcnet'"):
        resolve_suite("fcent")
    with pytest.raises(BenchmarkNotFoundError, match="Please use 'fcnet/protein-v1'"):
        resolve_suite("fcnet/protein-v9")
    with pytest.raises(ProtocolError, match=r"Did you mean .*'lcbench'"):
        get_suite("lcbech")
    with pytest.raises(ProtocolError, match="at least one non-empty pattern"):
        Suite(name="s", patterns=())
