"""Protocols and suites: validation, hashing, lookup, lazy suite resolution."""

from __future__ import annotations

import dataclasses
import fnmatch
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hpobench
from hpobench import BenchmarkNotFoundError, ProtocolError
from hpobench.harness import (
    PinnedTask,
    Protocol,
    Suite,
    _protocol,
    get_protocol,
    get_suite,
    list_protocols,
    read_protocol,
    register_protocol,
    resolve_suite,
    run_study,
    run_suite,
    write_protocol,
)


def test_shipped_protocols() -> None:
    names = list_protocols()
    assert {"sf-serial-v2", "mf-serial-v2", "mf-async4-v2"} <= set(names)
    sf, mf1, mf4 = (get_protocol(n) for n in ("sf-serial-v2", "mf-serial-v2", "mf-async4-v2"))
    assert (sf.n_workers, sf.allow_resume) == (1, False)
    assert (mf4.n_workers, mf4.allow_resume, mf1.allow_resume) == (4, True, True)
    assert sf.n_full(9) == pytest.approx(20 + 40 * 3)  # YAHPO / CARP-S: 20 + 40 sqrt(d)
    assert mf4.time_budget(9, 241.0) == pytest.approx(140 * 241.0 / 4)  # ~ syne-tune's 7,200 s
    assert sf.max_evaluations(9) == 140
    assert not any(get_protocol(n).charge_optimizer_time for n in names)
    assert len({get_protocol(n).hash for n in names}) == len(names)


def test_hash_is_stable_and_ignores_the_description() -> None:
    p = get_protocol("mf-async4-v2")
    q = dataclasses.replace(p, description="other words")
    assert p.hash == q.hash and p == q and hash(p) == hash(q)
    r = dataclasses.replace(p, n_workers=8)
    assert r.hash != p.hash
    assert Protocol.from_dict(p.to_dict()).hash == p.hash
    assert len(p.hash) == 64 and p.version == 2


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


def test_get_protocol_teaches_the_numerically_latest_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # v10 is newer than v9 (a string sort put v10 first and taught v9)
    base = get_protocol("sf-serial-v2")
    monkeypatch.setattr(_protocol, "_user_protocols", {})
    for v in (9, 10):
        register_protocol(dataclasses.replace(base, name=f"teach-me-v{v}"))
    with pytest.raises(ProtocolError, match="Please use 'teach-me-v10'"):
        get_protocol("teach-me")


def test_get_protocol_teaches() -> None:
    # the latest shipped version: v5 pins the discriminating suite with its scoring references
    with pytest.raises(ProtocolError, match="Please use 'mf-async4-v5'"):
        get_protocol("mf-async4")
    with pytest.raises(ProtocolError, match="Please use 'mf-async4-v5'"):
        get_protocol("mf-async4-v7")
    with pytest.raises(ProtocolError, match=r"Did you mean .*'sf-serial-v2'"):
        get_protocol("sf-serail-v2")
    p = get_protocol("sf-serial-v2")
    assert get_protocol(p) is p


def test_register_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_protocol, "_user_protocols", {})
    p = dataclasses.replace(get_protocol("sf-serial-v2"), name="my-sf-v1", n_repetitions=2)
    assert register_protocol(p) is p and get_protocol("my-sf-v1") is p
    with pytest.raises(ProtocolError, match="already registered"):
        register_protocol(p)
    with pytest.raises(ProtocolError, match="already registered"):
        register_protocol(get_protocol("sf-serial-v2"))


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


# -- pinned protocols -------------------------------------------------------------------------
def test_shipped_protocols_pin_the_installed_tables() -> None:
    """Each shipped protocol lists its exact tasks with backend kind and table sha256."""
    for name in ("sf-serial-v2", "mf-serial-v2", "mf-async4-v2"):
        p = get_protocol(name)
        # Pinned: tables registered since (e.g. gbt/kr-vs-kp-v2) never change it; every pinned
        # task is still registered and one its suite's patterns name.
        assert p.pinned and set(p.task_ids()) <= set(hpobench.list_benchmarks())
        assert all(
            any(fnmatch.fnmatchcase(i, pat) for pat in p.suite.patterns) for i in p.task_ids()
        )
        for t in p.tasks:
            bench = hpobench.make(t.id)
            assert (t.backend, t.sha256) == (bench.backend.kind, bench.backend.sha256)
            p.check_task(t.id, bench.backend)  # accepted
    assert get_protocol("sf-serial-v2").task_ids()[:1] == ("fcnet/naval-v1",)


def test_a_wildcard_takes_the_newest_version_of_each_task_and_an_exact_id_itself() -> None:
    assert Suite(name="kr", patterns=("gbt/kr-vs-kp-v*",)).resolve() == ("gbt/kr-vs-kp-v2",)
    both = Suite(name="both", patterns=("gbt/kr-vs-kp-v1", "gbt/*")).resolve()
    assert both[0] == "gbt/kr-vs-kp-v1" and "gbt/kr-vs-kp-v2" in both and "gbt/magic-v1" in both
    # shipped protocols were pinned before -v2 existed: they keep running v1
    assert "gbt/kr-vs-kp-v1" in get_protocol("mf-serial-v2").task_ids()
    assert "gbt/kr-vs-kp-v2" not in get_protocol("mf-serial-v2").task_ids()


def test_old_v1_names_point_to_the_latest_version() -> None:
    with pytest.raises(ProtocolError, match="Please use 'sf-serial-v3'"):
        get_protocol("sf-serial-v1")


def _task(**kw: Any) -> PinnedTask:
    d: dict[str, Any] = {"id": "fam/a-v1", "backend": "table", "sha256": "0" * 64}
    d.update(kw)
    return PinnedTask(**d)


def test_hash_covers_tasks_sha256_and_references() -> None:
    p = dataclasses.replace(get_protocol("mf-async4-v2"))
    t0 = p.tasks[0]
    other_sha = dataclasses.replace(
        p, tasks=(dataclasses.replace(t0, sha256="f" * 64), *p.tasks[1:])
    )
    other_kind = dataclasses.replace(
        p, tasks=(dataclasses.replace(t0, backend="surrogate"), *p.tasks[1:])
    )
    fewer = dataclasses.replace(p, tasks=p.tasks[1:])
    refs = p.with_references({t0.id: {"optimum": 0.1, "random_median": 0.5}}, version=3)
    hashes = {p.hash, other_sha.hash, other_kind.hash, fewer.hash, refs.hash}
    assert len(hashes) == 5
    # the same pins built again hash the same; the description stays outside the hash
    assert dataclasses.replace(refs, description="x").hash == refs.hash
    assert (
        Protocol.from_dict(refs.to_dict()) == refs
        and Protocol.from_dict(refs.to_dict()).hash == refs.hash
    )


def test_with_references_makes_a_new_version(tmp_path: Path) -> None:
    p = get_protocol("sf-serial-v2")
    bid = p.tasks[0].id
    refs = {"optimum": 0.01, "random_median": 0.2, "random_se": 0.003, "n_random": 100}
    q = p.with_references({bid: refs}, version=3)
    assert q.name == "sf-serial-v3" and q.task(bid).references == refs
    assert q.tasks[1].references == {} and q.n_workers == p.n_workers
    path = write_protocol(q, tmp_path / "sf-serial-v3.json")
    r = read_protocol(path)
    assert r == q and r.hash == q.hash and r.task(bid).references == refs
    # a hand edit of a reference is caught by the recorded hash
    text = path.read_text().replace('"optimum": 0.01', '"optimum": 0.0')
    (tmp_path / "edited.json").write_text(text)
    with pytest.raises(ProtocolError, match="edited by hand"):
        read_protocol(tmp_path / "edited.json")


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: _task(backend="sql"), ProtocolError, "backend must be one of"),
        (lambda: _task(sha256="abc"), ProtocolError, "sha256 must be 64 lower-case hex"),
        (lambda: _task(id="noslash"), ProtocolError, "must look like 'family/task-vN'"),
        (lambda: _task(references={"optimum": float("nan")}), ProtocolError, "finite numbers"),
        (lambda: _task(references={"n": True}), ProtocolError, "finite numbers"),
        (lambda: get_protocol("sf-serial-v2").with_references({}, version=2), ProtocolError,
         "`version > 2`"),
        (lambda: get_protocol("sf-serial-v2").with_references({"x/y-v1": {}}, version=3),
         ProtocolError, "are not pinned"),
        (lambda: Protocol(name="t-v1", suite=Suite(name="s", patterns=("a/*",)), n_workers=1,
                          n_repetitions=1, allow_resume=False).with_references({}, version=2),
         ProtocolError, "pins no tasks"),
        (lambda: Protocol(name="t-v1", suite=Suite(name="s", patterns=("a/*",)), n_workers=1,
                          n_repetitions=1, allow_resume=False, tasks=(_task(), _task())),
         ProtocolError, "must be unique"),
        (lambda: read_protocol("/nonexistent/p.json"), ProtocolError, "Cannot read protocol file"),
    ],
)  # fmt: skip
def test_bad_pins(make: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        make()


def test_run_against_another_table_is_refused(mf: SimpleNamespace, tmp_path: Path) -> None:
    """A pinned protocol refuses a task whose table sha256 differs from the pinned one, and a
    task it does not pin; run_suite refuses before running anything."""
    bid = mf.table()
    bench = hpobench.make(bid)
    pinned = dataclasses.replace(
        mf.protocol(name="pinned-v1"),
        tasks=(PinnedTask(id=bid, backend="table", sha256=bench.backend.sha256),),
    )
    traj = run_study(bid, mf.Random, pinned, 0)
    assert traj.meta.backend_sha256 == bench.backend.sha256
    wrong = dataclasses.replace(
        pinned, tasks=(dataclasses.replace(pinned.tasks[0], sha256="e" * 64),)
    )
    with pytest.raises(
        ProtocolError, match=r"pins .* to a table with sha256 e{64}, but the installed"
    ):
        run_study(bid, mf.Random, wrong, 0)
    with pytest.raises(ProtocolError, match=r"pins .* to a table with sha256 e{64}"):
        run_suite(mf.Random, wrong, out=tmp_path / "runs", repetitions=1)
    assert not (tmp_path / "runs" / "pinned-v1").exists()
    other = mf.table()
    with pytest.raises(ProtocolError, match=rf"but not '{other}'"):
        run_study(other, mf.Random, pinned, 0)
    with pytest.raises(ProtocolError, match=rf"but not '{other}'"):
        run_suite(mf.Random, pinned, out=tmp_path / "runs", suite=other, repetitions=1)
    res = run_suite(mf.Random, pinned, out=tmp_path / "runs", repetitions=1)
    assert [(r.benchmark_id, r.outcome) for r in res] == [(bid, "ran")]


def test_pinned_protocols_pickle() -> None:
    """Protocols travel to process-pool and Ray workers."""
    import pickle

    p = get_protocol("sf-serial-v2")
    q = p.with_references({p.tasks[0].id: {"optimum": 0.5}}, version=3)
    for proto in (p, q):
        back = pickle.loads(pickle.dumps(proto))
        assert back == proto and back.hash == proto.hash


def test_the_discriminating_suite_is_what_the_entry_rule_admits() -> None:
    """Re-apply the suite entry rule to every shipped multi-fidelity table: the suite (and so the
    mf-*-v4/v5 protocols pinned from it) must hold exactly the tables that pass."""
    from hpobench.generate._discrimination import discrimination, n_hyperparameters
    from hpobench.registry import list_benchmarks, spec
    from hpobench.table import read_table

    budget = get_protocol("mf-serial-v4")
    passing = []
    for bid in list_benchmarks():
        s = spec(bid)
        if s.path is None or s.n_steps <= 1:
            continue
        table = read_table(s.path)
        row = discrimination(table, n_full=budget.n_full(n_hyperparameters(table)))
        if not row.failures:
            passing.append(bid)
    assert sorted(passing) == sorted(_protocol.DISCRIMINATING)
    for name in ("mf-serial-v4", "mf-async4-v4"):
        assert [t.id for t in get_protocol(name).tasks] == list(_protocol.DISCRIMINATING)


@pytest.mark.parametrize("name", sorted(_protocol.TEMPLATES))
def test_each_template_pins_to_its_shipped_file(name: str) -> None:
    # the templates document how the shipped files were made: pinning one again against the
    # shipped tables must give the shipped protocol, hash for hash. Its tasks are the ones it
    # pinned then: a wildcard suite now also covers tables added since (gbt/kr-vs-kp-v2), which
    # is why shipped protocols pin their tasks.
    shipped = get_protocol(name)
    template = _protocol.TEMPLATES[name]
    assert _protocol.pin_protocol(template, ids=shipped.task_ids()).hash == shipped.hash
    assert all(
        any(fnmatch.fnmatchcase(i, pat) for pat in template.suite.patterns)
        for i in shipped.task_ids()
    )
