"""Trajectory files: round trip, integrity checks, protocol checks."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hpobench import ProtocolError
from hpobench.harness import RunStatus, Trajectory, TrajectoryError, run_study
from hpobench.harness._trajectory import FORMAT_VERSION


@pytest.fixture
def traj(mf: SimpleNamespace) -> Trajectory:
    return run_study(mf.table(continuous=True), lambda p, s: mf.Random(p, s, fidelity="random"),
                     mf.protocol(n_workers=2), 1)  # fmt: skip


def test_round_trip(traj: Trajectory, tmp_path: Path) -> None:
    path = traj.write(tmp_path / "sub" / "run.parquet")
    back = Trajectory.read(path, protocol=traj.meta.protocol)
    assert back.digest() == traj.digest()
    assert back.meta.to_json() == traj.meta.to_json()
    assert back.events.equals(traj.events)
    assert back.timing["n_ask_calls"] == traj.timing["n_ask_calls"]
    assert back.meta.status is RunStatus.COMPLETED
    assert [c for c in back.events.columns if c.startswith("config.")] == [
        "config.lr",
        "config.width",
    ]
    assert not list(path.parent.glob("*.partial"))


def test_without_timing_the_file_is_deterministic(traj: Trajectory, tmp_path: Path) -> None:
    a = traj.write(tmp_path / "a.parquet", include_timing=False)
    back = Trajectory.read(a)
    assert back.digest() == traj.digest()  # the wall times are outside the digest
    assert (back.events["ask_wall_s"] == 0).all() and back.timing == {}


def test_truncated_or_foreign_files(traj: Trajectory, tmp_path: Path) -> None:
    path = traj.write(tmp_path / "run.parquet")
    payload = path.read_bytes()
    (tmp_path / "cut.parquet").write_bytes(payload[: len(payload) // 2])
    with pytest.raises(TrajectoryError, match="not a readable parquet"):
        Trajectory.read(tmp_path / "cut.parquet")
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "other.parquet")
    with pytest.raises(TrajectoryError, match="not an hpobench trajectory"):
        Trajectory.read(tmp_path / "other.parquet")
    with pytest.raises(TrajectoryError, match="does not exist"):
        Trajectory.read(tmp_path / "missing.parquet")


def _rewrite(path: Path, out: Path, edit_meta: object = None, edit_table: object = None) -> None:
    table = pq.read_table(path)
    md = dict(table.schema.metadata)
    d = json.loads(md[b"hpobench.trajectory"])
    if callable(edit_meta):
        edit_meta(d)
    md[b"hpobench.trajectory"] = json.dumps(d).encode()
    if callable(edit_table):
        table = edit_table(table)
    pq.write_table(table.replace_schema_metadata(md), out)


def test_edited_values_fail_the_digest(traj: Trajectory, tmp_path: Path) -> None:
    path = traj.write(tmp_path / "run.parquet")

    def bump(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index("incumbent_test_score")
        return t.set_column(i, "incumbent_test_score", pa.compute.add(t.column(i), 1.0))

    _rewrite(path, tmp_path / "edited.parquet", edit_table=bump)
    with pytest.raises(TrajectoryError, match="digest"):
        Trajectory.read(tmp_path / "edited.parquet")


def test_other_format_version_or_protocol(
    traj: Trajectory, tmp_path: Path, mf: SimpleNamespace
) -> None:
    path = traj.write(tmp_path / "run.parquet")
    _rewrite(path, tmp_path / "v99.parquet", edit_meta=lambda d: d.update(format_version=99))
    with pytest.raises(
        TrajectoryError, match=f"version {FORMAT_VERSION}, but declares .* version 99"
    ):
        Trajectory.read(tmp_path / "v99.parquet")
    _rewrite(path, tmp_path / "v1.parquet", edit_meta=lambda d: d.update(format_version=1))
    with pytest.raises(TrajectoryError, match=r"Version 1 recorded a table_sha256 .* rerun it"):
        Trajectory.read(tmp_path / "v1.parquet")
    _rewrite(
        path, tmp_path / "proto.parquet", edit_meta=lambda d: d["protocol"].update(n_workers=3)
    )
    with pytest.raises(TrajectoryError, match="protocol_hash"):
        Trajectory.read(tmp_path / "proto.parquet")
    other = mf.protocol(name="test-v2", n_workers=2)
    with pytest.raises(
        ProtocolError, match=r"must come from protocol 'test-v2'.*produced under 'test-v1'"
    ):
        Trajectory.read(path, protocol=other)
