"""Verification of submissions: an honest one passes; every kind of tampering is rejected with
the check, the file (and row) and a reason; a failed submit leaves the board byte-identical."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hpobench.harness import Trajectory
from hpobench.leaderboard import SubmissionRejected
from hpobench.leaderboard._submission import MANIFEST, submit, verify, write_manifest

REP0 = "trajectories/lbtest-sf-v2/fcnet/protein-v1/rep-000.parquet"
REP1 = "trajectories/lbtest-sf-v2/fcnet/protein-v1/rep-001.parquet"
CAR0 = "trajectories/lbtest-sf-v2/hpobench-nn/car-v1/rep-000.parquet"


def _relist(sub: Path, lb: SimpleNamespace) -> None:
    d = json.loads((sub / MANIFEST).read_text())
    write_manifest(
        sub, name=d["name"], optimizer=d["optimizer"], protocol=lb.sf, references=lb.refs_sf
    )


def _edit_column(
    rel: str, column: str, fn: Callable[[np.ndarray], np.ndarray]
) -> Callable[[Path, SimpleNamespace], None]:
    """Change one column of one trajectory, re-digest it honestly and re-list the manifest: only
    the replay can notice."""

    def edit(sub: Path, lb: SimpleNamespace) -> None:
        traj = Trajectory.read(sub / rel)
        t = traj.table
        i = t.schema.get_field_index(column)
        col = fn(t.column(column).to_numpy().copy())
        t = t.set_column(i, column, pa.array(col, type=t.schema.field(column).type))
        Trajectory(meta=traj.meta, table=t, timing=traj.timing).write(sub / rel)
        _relist(sub, lb)

    return edit


def _edit_rows(
    rel: str, fn: Callable[[pa.Table], pa.Table]
) -> Callable[[Path, SimpleNamespace], None]:
    def edit(sub: Path, lb: SimpleNamespace) -> None:
        traj = Trajectory.read(sub / rel)
        t = fn(traj.table)
        meta = traj.meta
        from dataclasses import replace

        meta = replace(meta, n_evaluations=t.num_rows)
        Trajectory(meta=meta, table=t, timing=traj.timing).write(sub / rel)
        _relist(sub, lb)

    return edit


def _set(i: int, v: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(a: np.ndarray) -> np.ndarray:
        a[i] = v
        return a

    return f


def _peek(sub: Path, lb: SimpleNamespace) -> None:
    _edit_column(REP0, "seed", _set(3, 2))(sub, lb)  # protein's test seeds are (2, 3)


def _swap(t: pa.Table) -> pa.Table:
    idx = list(range(t.num_rows))
    idx[2], idx[3] = idx[3], idx[2]
    return t.take(pa.array(idx))


def _skip(t: pa.Table) -> pa.Table:
    return t.take(pa.array([i for i in range(t.num_rows) if i != 2]))


def _over_budget(sub: Path, lb: SimpleNamespace) -> None:
    traj = Trajectory.read(sub / REP0)
    _edit_column(REP0, "time", _set(-1, traj.meta.time_budget * 2))(sub, lb)


def _extra_rows(t: pa.Table) -> pa.Table:
    return pa.concat_tables([t, t.slice(t.num_rows - 1)])


def _other_code(sub: Path, lb: SimpleNamespace) -> None:
    f = sub / "regularized_evolution.py"
    f.write_text(f.read_text().replace("tournament", "tournament ") + "\n# tweaked\n")
    _relist(sub, lb)


def _other_code_forged(sub: Path, lb: SimpleNamespace) -> None:
    """Other code, and every trajectory's source digest forged to match it: only a rerun sees it."""
    f = sub / "regularized_evolution.py"
    text = f.read_text().replace("np.random.default_rng(seed)", "np.random.default_rng(seed + 1)")
    assert text != f.read_text()
    f.write_text(text)
    sha = hashlib.sha256(text.encode()).hexdigest()
    from dataclasses import replace

    for p in sorted((sub / "trajectories").rglob("*.parquet")):
        traj = Trajectory.read(p)
        Trajectory(meta=replace(traj.meta, optimizer_source_sha256=sha), table=traj.table).write(p)
    _relist(sub, lb)


def _missing_run(sub: Path, lb: SimpleNamespace) -> None:
    (sub / REP1).unlink()
    _relist(sub, lb)


def _missing_listed(sub: Path, lb: SimpleNamespace) -> None:
    (sub / REP1).unlink()


def _missing_manifest(sub: Path, lb: SimpleNamespace) -> None:
    (sub / MANIFEST).unlink()


def _manifest_edit(**kv: object) -> Callable[[Path, SimpleNamespace], None]:
    def edit(sub: Path, lb: SimpleNamespace) -> None:
        d = json.loads((sub / MANIFEST).read_text())
        d.update(kv)
        (sub / MANIFEST).write_text(json.dumps(d))

    return edit


def _other_task(sub: Path, lb: SimpleNamespace) -> None:
    shutil.copyfile(sub / CAR0, sub / REP0)
    _relist(sub, lb)


def _duplicate(sub: Path, lb: SimpleNamespace) -> None:
    shutil.copyfile(sub / REP0, sub / REP1)
    _relist(sub, lb)


def _tampered_digest(sub: Path, lb: SimpleNamespace) -> None:
    """Change a number and keep the stored digest (the file's own footer)."""
    t = pq.read_table(sub / REP0)
    md = t.schema.metadata
    col = t.column("value").to_numpy().copy()
    col[0] = col[0] * 0.5
    t = t.set_column(
        t.schema.get_field_index("value"), "value", pa.array(col)
    ).replace_schema_metadata(md)
    pq.write_table(t, sub / REP0)
    _relist(sub, lb)


def _altered_after_listing(sub: Path, lb: SimpleNamespace) -> None:
    _edit_column(REP0, "value", _set(0, 0.123))(sub, lb)
    (sub / REP0).write_bytes((sub / REP0).read_bytes() + b"\0")


def _unlisted(sub: Path, lb: SimpleNamespace) -> None:
    (sub / "notes.txt").write_text("hello")


CASES: list[tuple[str, Callable[[Path, SimpleNamespace], None], str, tuple[str, ...]]] = [
    (
        "altered number",
        _edit_column(REP0, "value", _set(4, 0.2)),
        "replay",
        ("row 4", "altered number"),
    ),
    ("altered cost", _edit_column(REP0, "cost", _set(1, 1.0)), "replay", ("row 1", "cost")),
    ("skipped evaluation", _edit_rows(REP0, _skip), "order", ("row 2", "skipped")),
    ("reordered evaluations", _edit_rows(REP0, _swap), "order", ("row 2",)),
    ("test-seed peek", _peek, "seed", ("row 3", "test-seed peek")),
    ("over budget (time)", _over_budget, "over_budget", ("row", "after the budget")),
    ("over budget (count)", _edit_rows(REP0, _extra_rows), "over_budget", ("at most",)),
    ("run of other code", _other_code, "optimizer", ("other code",)),
    ("other code, forged source digest", _other_code_forged, "rerun", ("bit for bit",)),
    ("missing run", _missing_run, "missing_run", ("rep-001", "missing")),
    ("missing listed file", _missing_listed, "missing_file", ("does not exist",)),
    ("missing manifest", _missing_manifest, "missing_file", ("submission.json",)),
    ("unknown protocol", _manifest_edit(protocol="nope-v1"), "protocol", ("nope-v1",)),
    (
        "wrong protocol version",
        _manifest_edit(protocol="lbtest-sf-v3"),
        "protocol",
        ("lbtest-sf-v2",),
    ),
    ("wrong protocol hash", _manifest_edit(protocol_hash="0" * 64), "protocol", ("protocol_hash",)),
    (
        "other references",
        _manifest_edit(references_hash="0" * 64),
        "protocol",
        ("references_hash",),
    ),
    ("trajectory of another task", _other_task, "task", ("fcnet/protein-v1", "hpobench-nn/car-v1")),
    (
        "non-finite value",
        _edit_column(REP0, "cost", _set(2, math.inf)),
        "non_finite",
        ("row 2", "finite"),
    ),
    (
        "infinite objective",
        _edit_column(REP0, "value", _set(2, -math.inf)),
        "non_finite",
        ("row 2",),
    ),
    ("duplicated run", _duplicate, "duplicate", ("rep-001", "same run")),
    ("tampered digest", _tampered_digest, "digest", ("digest", "edited")),
    ("file altered after listing", _altered_after_listing, "file_digest", ("sha256",)),
    ("unlisted file", _unlisted, "unlisted_file", ("notes.txt",)),
    (
        "altered incumbent score",
        _edit_column(REP0, "incumbent_test_score", _set(-1, 0.2)),
        "incumbent",
        ("row",),
    ),
    ("bad name", _manifest_edit(name="../evil"), "manifest", ("name",)),
]


@pytest.fixture
def sub(lb: SimpleNamespace, tmp_path: Path) -> Path:
    return Path(shutil.copytree(lb.sub_sf, tmp_path / "sub"))


def test_honest_submission_passes(lb: SimpleNamespace) -> None:
    rep = verify(lb.sub_sf, n_processes=1)
    assert (rep.name, rep.protocol, rep.n_runs, rep.reran) == ("re-sub", "lbtest-sf-v2", 4, True)


def test_honest_multi_fidelity_submission_with_resumes_passes(lb: SimpleNamespace) -> None:
    files = sorted((lb.sub_mf / "trajectories").rglob("*.parquet"))
    assert any(Trajectory.read(f).events["resumed_from"].notna().any() for f in files)
    rep = verify(lb.sub_mf, n_processes=1)
    assert rep.n_runs == 2


@pytest.mark.parametrize(("what", "tamper", "check", "words"), CASES, ids=[c[0] for c in CASES])
def test_tampering_is_rejected(
    lb: SimpleNamespace, sub: Path, what: str, tamper: Callable[[Path, SimpleNamespace], None],
    check: str, words: tuple[str, ...],
) -> None:  # fmt: skip
    tamper(sub, lb)
    with pytest.raises(SubmissionRejected) as e:
        verify(sub, n_processes=1, rerun=check == "rerun")
    assert e.value.check == check, str(e.value)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(p.relative_to(root).as_posix().encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("case", [CASES[0], CASES[4], CASES[19]], ids=lambda c: c[0])
def test_failed_submit_changes_nothing(
    lb: SimpleNamespace, sub: Path, tmp_path: Path, case: tuple
) -> None:  # type: ignore[type-arg]
    board = Path(shutil.copytree(lb.board, tmp_path / "board"))
    before = _tree_digest(board)
    case[1](sub, lb)
    with pytest.raises(SubmissionRejected):
        submit(sub, board=board, n_processes=1)
    assert _tree_digest(board) == before


@pytest.mark.slow
def test_submit_adds_a_verified_entry_and_rerenders(
    lb: SimpleNamespace, sub: Path, tmp_path: Path
) -> None:
    board = Path(shutil.copytree(lb.board, tmp_path / "board"))
    target = submit(sub, board=board, n_processes=1)
    assert target == board / "submissions" / "lbtest-sf-v2" / "re-sub"
    assert "re-sub (submission)" in (board / "README.md").read_text()
    assert not [p for p in board.rglob(".*") if p.name not in (".", "..")]
    with pytest.raises(SubmissionRejected, match="taken"):
        submit(sub, board=board, n_processes=1)
