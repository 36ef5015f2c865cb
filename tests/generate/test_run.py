"""Run mechanics: chunking and shards, kill-and-resume, damaged chunks, foreign runs, merge, Ray."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hpobench
from hpobench._errors import ConfigError
from hpobench.generate import (
    _chunks,
    generate,
    merge_run,
    parse_shard,
    plan_run,
    run_status,
    shard_chunks,
)
from hpobench.generate._chunks import CHUNK_DIR, QUARANTINE_DIR, chunk_path
from hpobench.generate._errors import ChunkError, GenerationError, RunMismatchError
from hpobench.generate._executors import LocalExecutor, ProcessExecutor, RayExecutor
from hpobench.generate._families import Family
from hpobench.generate._rundir import RUN_FILE
from hpobench.table import read_table

# -- chunking and shards ---------------------------------------------------------------------


@given(st.integers(0, 300), st.integers(1, 12))
def test_shards_partition_the_chunks(n_chunks: int, count: int) -> None:
    seen = [k for i in range(count) for k in shard_chunks(n_chunks, i, count)]
    assert sorted(seen) == list(range(n_chunks))


def test_chunks_cover_every_unit_exactly_once(fake_family: Family) -> None:
    plan = plan_run((fake_family, "concrete"), chunk_size=5)
    assert (plan.n_units, plan.n_chunks) == (24, 5)
    pairs = []
    for k in range(plan.n_chunks):
        start, stop = plan.chunk_range(k)
        pairs += [(u.config_id, u.seed) for u in plan.units(start, stop)]
    assert sorted(pairs) == [(c, s) for c in range(6) for s in (0, 1, 2, 3)]
    assert len(set(pairs)) == len(pairs)


@pytest.mark.parametrize("text", ["1/1", "-1/2", "a/b", "2", "0/0", "3/2", ""])
def test_bad_shard_specs_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="i/n"):
        parse_shard(text)


def test_shard_spec_parses() -> None:
    assert parse_shard("2/4") == (2, 4)
    assert parse_shard(" 0 / 1 ") == (0, 1)


# -- kill and resume -------------------------------------------------------------------------


def _table_bytes(root: Path, family: str) -> bytes:
    return (root / family / "concrete" / "table.parquet").read_bytes()


def test_interrupted_then_resumed_equals_uninterrupted(
    fake_family: Family, tmp_path: Path, tick_clock: Any
) -> None:
    plan = plan_run((fake_family, "concrete"))
    generate(plan, tmp_path / "a", clock=tick_clock)
    merge_run(tmp_path / "a", data_root=tmp_path / "root_a")

    # "killed" after two chunks, then resumed in two more sessions
    first = generate(plan, tmp_path / "b", clock=tick_clock, max_chunks=2)
    assert (first.trained, first.remaining_in_shard) == (2, 3)
    with pytest.raises(ChunkError, match="3 chunk"):
        merge_run(tmp_path / "b", data_root=tmp_path / "root_b")
    second = generate(plan, tmp_path / "b", clock=tick_clock, resume=True, max_chunks=1)
    assert (second.already_done, second.trained) == (2, 1)
    generate(plan, tmp_path / "b", clock=tick_clock, resume=True)
    merge_run(tmp_path / "b", data_root=tmp_path / "root_b")
    assert _table_bytes(tmp_path / "root_a", "fake") == _table_bytes(tmp_path / "root_b", "fake")


def test_gbt_resume_is_byte_identical_with_a_deterministic_clock(
    tiny_gbt: Family, tmp_path: Path, tick_clock: Any
) -> None:
    plan = plan_run((tiny_gbt, "concrete"), seeds=[0, 1])
    generate(plan, tmp_path / "a", clock=tick_clock)
    generate(plan, tmp_path / "b", clock=tick_clock, max_chunks=1)
    generate(plan, tmp_path / "b", clock=tick_clock, resume=True)
    for name in ("a", "b"):
        merge_run(tmp_path / name, data_root=tmp_path / f"root_{name}")
    assert _table_bytes(tmp_path / "root_a", "gbt-tiny") == _table_bytes(
        tmp_path / "root_b", "gbt-tiny"
    )


class _CrashAfter:
    """An executor that dies (like a SIGKILL'ed driver would) after ``n`` results."""

    name = "crash"

    def __init__(self, n: int) -> None:
        self.n = n

    def map(self, fn: Any, context: Any, jobs: Sequence[Any]) -> Iterator[Any]:
        for i, job in enumerate(jobs):
            if i == self.n:
                raise KeyboardInterrupt
            yield fn(context, job)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}


def test_a_crash_keeps_finished_chunks_and_leaves_no_partial_file(
    fake_family: Family, tmp_path: Path, tick_clock: Any
) -> None:
    plan = plan_run((fake_family, "concrete"))
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        generate(plan, out, executor=_CrashAfter(2), clock=tick_clock)
    files = sorted(p.name for p in (out / CHUNK_DIR).iterdir())
    assert files == ["chunk-000000.parquet", "chunk-000001.parquet"]
    # a writer killed mid-write leaves a temp file; resume removes it and finishes the run
    stale = out / CHUNK_DIR / ".chunk-000002.parquet.999.abc.tmp"
    stale.write_bytes(b"half a chunk")
    with pytest.raises(GenerationError, match="--resume"):
        generate(plan, out, clock=tick_clock)
    report = generate(plan, out, clock=tick_clock, resume=True)
    assert (report.already_done, report.trained) == (2, 3)
    assert not stale.exists()
    assert run_status(out)["missing"] == []


# -- damaged chunks --------------------------------------------------------------------------


def _edit_a_number(path: Path) -> None:
    """Silent corruption parquet cannot see: one value changed, metadata kept."""
    table = pq.read_table(path)
    col = table.column("valid_loss").combine_chunks()
    values = col.flatten().to_numpy().copy()
    values[0] += 1.0
    edited = pa.ListArray.from_arrays(col.offsets, pa.array(values, type=pa.float32()))
    i = table.column_names.index("valid_loss")
    pq.write_table(table.set_column(i, "valid_loss", edited), path)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), id="cut"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(_edit_a_number, id="edited"),
    ],
)
def test_damaged_chunks_are_detected_quarantined_and_retrained(
    fake_family: Family, tmp_path: Path, tick_clock: Any, damage: Any
) -> None:
    plan = plan_run((fake_family, "concrete"))
    out = tmp_path / "run"
    generate(plan, out, clock=tick_clock)
    merge_run(out, data_root=tmp_path / "clean")
    damage(chunk_path(out, 1))
    with pytest.raises(ChunkError, match="damaged"):
        merge_run(out, data_root=tmp_path / "never")
    assert not (tmp_path / "never").exists()
    report = generate(plan, out, clock=tick_clock, resume=True)
    assert (report.quarantined, report.trained) == (1, 1)
    assert len(list((out / QUARANTINE_DIR).glob("chunk-000001.parquet.*.reason.txt"))) == 1
    merge_run(out, data_root=tmp_path / "again")
    assert _table_bytes(tmp_path / "clean", "fake") == _table_bytes(tmp_path / "again", "fake")


def test_chunk_of_another_run_is_never_mixed_in(
    fake_family: Family, tmp_path: Path, tick_clock: Any
) -> None:
    generate(plan_run((fake_family, "concrete")), tmp_path / "a", clock=tick_clock)
    generate(plan_run((fake_family, "concrete"), seeds=[0, 1, 2, 3, 4]), tmp_path / "b")
    os.replace(chunk_path(tmp_path / "b", 0), chunk_path(tmp_path / "a", 0))
    with pytest.raises(ChunkError, match="another run"):
        merge_run(tmp_path / "a", data_root=tmp_path / "root")


def test_disk_full_while_writing_leaves_nothing(
    fake_family: Family, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tick_clock: Any
) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_chunks.os, "fsync", no_space)
    out = tmp_path / "run"
    with pytest.raises(GenerationError, match=r"No space left on device.*--resume"):
        generate(plan_run((fake_family, "concrete")), out, clock=tick_clock)
    assert list((out / CHUNK_DIR).iterdir()) == []


# -- foreign runs ----------------------------------------------------------------------------


def test_an_out_dir_of_another_run_is_refused(fake_family: Family, tmp_path: Path) -> None:
    out = tmp_path / "run"
    generate(plan_run((fake_family, "concrete")), out, max_chunks=1)
    with pytest.raises(RunMismatchError, match="variant"):
        generate(plan_run((fake_family, "concrete"), variant="other"), out, resume=True)
    with pytest.raises(RunMismatchError, match="seeds"):
        generate(plan_run((fake_family, "concrete"), seeds=[5, 6]), out, resume=True)
    run = json.loads((out / RUN_FILE).read_text())
    run["identity"]["code"]["generator_version"] = -1
    (out / RUN_FILE).write_text(json.dumps(run))
    with pytest.raises(RunMismatchError, match="generator_version"):
        generate(plan_run((fake_family, "concrete")), out, resume=True)
    with pytest.raises(RunMismatchError, match="generated by code"):
        merge_run(out, data_root=tmp_path / "root")


def test_a_non_empty_directory_without_run_json_is_refused(
    fake_family: Family, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunMismatchError, match=r"not empty.*notes\.txt"):
        generate(plan_run((fake_family, "concrete")), tmp_path)


def test_runtimes_of_different_devices_are_not_mixed(
    fake_family: Family, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_run((fake_family, "concrete"))
    generate(plan, tmp_path / "run", max_chunks=1)
    monkeypatch.setenv("HPOBENCH_FAKE_DEVICE", "cuda: some GPU")
    with pytest.raises(GenerationError, match="different devices"):
        generate(plan, tmp_path / "run", resume=True)
    assert run_status(tmp_path / "run")["present"] == 1


# -- merge -----------------------------------------------------------------------------------


def test_merge_writes_a_loadable_registered_table(
    tiny_gbt: Family, tmp_path: Path, isolated_registry: Path
) -> None:
    plan = plan_run((tiny_gbt, "concrete"))
    generate(plan, tmp_path / "run")
    meta = merge_run(tmp_path / "run")  # default data root = $HPOBENCH_DATA
    assert meta.id == "gbt-tiny/concrete-v1"
    table = read_table(isolated_registry / "gbt-tiny" / "concrete")
    assert table.data.shape == (3, 4, 3, 4)
    assert np.all(np.diff(table.metric("runtime"), axis=2) >= 0)
    bench = hpobench.make("gbt-tiny/concrete-v1")
    result = bench.query(table.config(1), fidelity=6, seed=2)
    assert result.metrics["valid_loss"] == pytest.approx(float(table.metric("valid_loss")[1, 2, 2]))
    gen = table.meta.generation
    assert gen["variant"] == "cpu" and gen["devices"] and gen["library_versions"]
    assert "scikit-learn" in gen["library_versions"][0]
    assert table.meta.dataset["sizes"]["train"] == 618
    assert table.meta.objective == "valid_loss" and table.meta.reported_metric == "test_loss"
    assert "hostname" not in json.dumps(table.meta.to_dict()).lower()
    assert (
        os.uname().nodename not in (isolated_registry / "gbt-tiny/concrete/meta.json").read_text()
    )


@pytest.mark.torch
def test_neural_runtime_is_calibrated_at_merge(tiny_lcbench: Family, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    plan = plan_run((tiny_lcbench, "phoneme"), seeds=[0, 1])
    generate(plan, tmp_path / "run", device="cpu")
    raw = np.concatenate(
        [
            pq.read_table(chunk_path(tmp_path / "run", k)).column("runtime").to_pylist()
            for k in (0, 1)
        ]
    )
    meta = merge_run(tmp_path / "run", data_root=tmp_path / "root")
    cal = meta.generation["calibration"]
    assert cal["n_samples"] == 2 and cal["scale"] > 0
    table = read_table(tmp_path / "root" / "lcbench-tiny" / "phoneme")
    np.testing.assert_allclose(
        table.metric("runtime").reshape(4, 3), raw * np.float32(cal["scale"]), rtol=1e-6
    )
    assert "calibration factor" in meta.runtime_description
    assert meta.generation["devices"][0].endswith("1 torch thread")
    assert meta.objective == "valid_accuracy" and meta.reported_metric == "test_accuracy"
    assert meta.dataset["subsample"]["applied"] is True


# -- executors: the same code path everywhere ------------------------------------------------


def _non_runtime(root: Path, family: str) -> dict[str, np.ndarray]:
    table = read_table(root / family / "concrete")
    return {m: table.metric(m) for m in table.metric_names if m != "runtime"}


def test_process_pool_gives_the_local_result(tiny_gbt: Family, tmp_path: Path) -> None:
    plan = plan_run((tiny_gbt, "concrete"), seeds=[0, 1])
    generate(plan, tmp_path / "local", executor=LocalExecutor())
    generate(plan, tmp_path / "pool", executor=ProcessExecutor(n_workers=1))
    for name in ("local", "pool"):
        merge_run(tmp_path / name, data_root=tmp_path / f"root_{name}")
    a, b = (
        _non_runtime(tmp_path / "root_local", "gbt-tiny"),
        _non_runtime(tmp_path / "root_pool", "gbt-tiny"),
    )
    for m in a:
        np.testing.assert_array_equal(a[m], b[m])


@pytest.mark.ray
def test_local_ray_generation_matches_local(tiny_gbt: Family, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    plan = plan_run((tiny_gbt, "concrete"), seeds=[0, 1])
    generate(plan, tmp_path / "local")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        report = generate(plan, tmp_path / "ray", executor=RayExecutor())
    finally:
        ray.shutdown()
    assert report.trained == plan.n_chunks
    for name in ("local", "ray"):
        merge_run(tmp_path / name, data_root=tmp_path / f"root_{name}")
    a, b = (
        _non_runtime(tmp_path / "root_local", "gbt-tiny"),
        _non_runtime(tmp_path / "root_ray", "gbt-tiny"),
    )
    for m in a:
        np.testing.assert_array_equal(a[m], b[m])
    chunk = json.loads((tmp_path / "root_ray" / "gbt-tiny/concrete/meta.json").read_text())
    assert chunk["generation"]["executors"][0]["executor"] == "ray"
