"""TableMeta: construction checks, JSON round trip, malformed meta.json files."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from hpobench import HPOBenchError, TableError, TableMeta
from hpobench.table import MetricSpec, parse_id


def test_parse_id() -> None:
    assert parse_id("fcnet/protein-v1") == ("fcnet", "protein", 1)
    assert parse_id("hpobench-nn/blood-transfusion-v12") == ("hpobench-nn", "blood-transfusion", 12)
    for bad in ("fcnet/protein", "FCNet/protein-v1", "protein-v1", "a/b/c-v1", "a/b-vx", 3, None):
        with pytest.raises(TableError, match=r"must look like 'family/task-vN'.*but got"):
            parse_id(bad)  # type: ignore[arg-type]


def test_metric_spec_checks() -> None:
    with pytest.raises(TableError, match=r"direction must be one of .*'minimize'.*got 'min'"):
        MetricSpec("loss", "min", "valid")
    with pytest.raises(TableError, match=r"split must be one of .*got 'validation'"):
        MetricSpec("loss", "minimize", "validation")


def test_round_trip_and_properties(synth: SimpleNamespace) -> None:
    meta = synth.make_meta(sha256="ab" * 32, n_configs=36, extra={"note": "x"})
    again = TableMeta.from_dict(json.loads(meta.to_json()))
    assert again == meta
    assert again.to_json() == meta.to_json()
    assert (meta.family, meta.task, meta.version, meta.direction) == (
        "synth",
        "grid",
        1,
        "minimize",
    )
    d = meta.to_dict()
    assert d["format"] == "hpobench-table" and d["format_version"] == 1
    assert d["seeds"] == {"all": [0, 1, 7], "tuning": [0, 1], "test": [7]}
    assert d["table"] == {"file": "table.parquet", "sha256": "ab" * 32, "n_configs": 36}


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"id": "Synth/x"}, r"must look like 'family/task-vN'"),
        ({"objective": "acc"}, r"metric 'acc' is named in meta but not among \["),
        ({"reported_metric": "x"}, r"metric 'x' is named in meta but not among"),
        ({"runtime_metric": "time"}, r"metric 'time' is named in meta"),
        ({"seeds": (0, 0, 1)}, r"seeds must be distinct, got \[0, 0, 1\]"),
        ({"tuning_seeds": ()}, r"tuning seeds \(non-empty\) and test seeds must be subsets of"),
        ({"tuning_seeds": (0, 5)}, r"must be subsets of \[0, 1, 7\], got tuning=\[0, 5\]"),
        ({"test_seeds": (9,)}, r"got tuning=\[0, 1\], test=\[9\]"),
        (
            {"test_seeds": (1, 7)},
            r"tuning and test seeds must be disjoint, got \[0, 1\] and \[1, 7\]",
        ),
    ],
)
def test_inconsistent_meta(synth: SimpleNamespace, overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(TableError, match=match):
        synth.make_meta(**overrides)


def _write(tmp_path: Path, content: str | bytes) -> Path:
    p = tmp_path / "meta.json"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


def _meta_dict(synth: SimpleNamespace) -> dict[str, Any]:
    return json.loads(synth.make_meta(sha256="0" * 64).to_json())


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=r"Table metadata file '.*meta.json' does not exist"):
        TableMeta.read(tmp_path / "meta.json")


def test_read_a_directory(tmp_path: Path) -> None:
    (tmp_path / "meta.json").mkdir()
    with pytest.raises(TableError, match=r"Cannot read table metadata '.*meta.json'"):
        TableMeta.read(tmp_path / "meta.json")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", r"meta.json: must be valid JSON, but parsing failed"),
        ('{"id": ', r"must be valid JSON, but parsing failed"),
        (b"\xff\xfe\x00garbage", r"Cannot read table metadata '.*meta.json'.*utf-8"),
        ("[1, 2]", r"meta.json: must hold a JSON object, but got list"),
        ('{"format": "other"}', r"must declare format 'hpobench-table' version 1, but declares"),
    ],
)
def test_read_malformed(tmp_path: Path, content: Any, match: str) -> None:
    with pytest.raises(TableError, match=match):
        TableMeta.read(_write(tmp_path, content))


def _drop(d: dict[str, Any], *path: str) -> None:
    for key in path[:-1]:
        d = d[key]
    del d[path[-1]]


def _set(d: dict[str, Any], value: Any, *path: str) -> None:
    for key in path[:-1]:
        d = d[key]
    d[path[-1]] = value


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: _drop(d, "id"), r"malformed v1 metadata, missing or wrong field 'id'"),
        (lambda d: _drop(d, "metrics"), r"missing or wrong field 'metrics'"),
        (lambda d: _drop(d, "seeds", "tuning"), r"missing or wrong field 'tuning'"),
        (lambda d: _drop(d, "table"), r"missing or wrong field 'table'"),
        (lambda d: _drop(d, "table", "sha256"), r"missing or wrong field 'sha256'"),
        (lambda d: _set(d, 2, "format_version"), r"declares 'hpobench-table' version 2"),
        (lambda d: _set(d, [1], "metrics"), r"malformed v1 metadata, missing or wrong field"),
        (
            lambda d: _set(d, ["a", "b"], "seeds", "all"),
            r"invalid v1 metadata: .*each of seeds must be an integer.*'a'",
        ),
        (lambda d: _set(d, [0.5], "seeds", "test"), r"each of test_seeds must be an integer.*0\.5"),
        (
            lambda d: _set(d, [True], "seeds", "test"),
            r"each of test_seeds must be an integer.*True \(a bool\)",
        ),
        (lambda d: _set(d, "many", "table", "n_configs"), r"malformed v1 metadata.*'many'"),
        (lambda d: _set(d, 5, "space"), r"invalid v1 metadata: A search space dict must have"),
        (
            lambda d: _set(d, {"hyperparameters": [{"type": "int", "name": "a"}]}, "space"),
            r"invalid v1 metadata: Hyperparameter 'a' of type 'int' lacks the field 'low'",
        ),
        (
            lambda d: _set(d, [3, 1], "fidelity", "values"),
            r"invalid v1 metadata: Fidelity 'epoch' values must strictly increase",
        ),
        (
            lambda d: _set(d, {"direction": "up", "split": "valid"}, "metrics", "valid_loss"),
            r"invalid v1 metadata: Metric 'valid_loss': direction must be one of",
        ),
        (
            lambda d: _set(d, [0], "seeds", "test"),
            r"invalid v1 metadata: .*tuning and test seeds must be disjoint",
        ),
        (lambda d: _set(d, "acc", "objective"), r"invalid v1 metadata: .*metric 'acc' is named"),
        (lambda d: _set(d, "x/y", "id"), r"invalid v1 metadata: A benchmark id must look like"),
    ],
)
def test_read_wrong_fields(tmp_path: Path, synth: SimpleNamespace, edit: Any, match: str) -> None:
    d = _meta_dict(synth)
    edit(d)
    path = _write(tmp_path, json.dumps(d))
    with pytest.raises(TableError, match=match) as info:
        TableMeta.read(path)
    assert isinstance(info.value, HPOBenchError)
    assert str(path) in str(info.value)  # the message names the file


@pytest.mark.parametrize(
    ("benchmark_id", "folder"),
    [
        ("gbt/kr-vs-kp-v1", "gbt/kr-vs-kp"),
        ("gbt/kr-vs-kp-v2", "gbt/kr-vs-kp-v2"),
        ("fcnet-grid/concrete-v12", "fcnet-grid/concrete-v12"),
    ],
)
def test_id_path_keeps_v1_where_it_was_and_puts_later_versions_beside_it(
    benchmark_id: str, folder: str
) -> None:
    from hpobench.table import id_path

    assert id_path(benchmark_id) == folder


def test_surrogate_folder_of_a_later_version_is_its_own() -> None:
    from hpobench.surrogate._store import surrogate_dir

    assert surrogate_dir("gbt/kr-vs-kp-v2", "R").as_posix() == "R/gbt/kr-vs-kp-v2"
    assert surrogate_dir("gbt/kr-vs-kp-v1", "R").as_posix() == "R/gbt/kr-vs-kp"
