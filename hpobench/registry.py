"""The benchmark registry: versioned ids ``family/task-vN`` -> how to build the benchmark.

Shipped tables are listed in ``<data root>/manifest.json`` (written by ``hpobench import`` and
``hpobench generate --merge``); the registry reads it lazily on first use, never as a side effect
of importing a module. Users add their own with :func:`register`; registering an id twice is an
error. The data root is ``$HPOBENCH_DATA`` if set, else the ``data/`` folder of this checkout.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpobench._errors import BenchmarkNotFoundError, HPOBenchError, TableError, did_you_mean
from hpobench.benchmark import Benchmark, TabularBenchmark
from hpobench.table import META_FILE, TABLE_FILE, TableMeta, parse_id, read_table, sha256_file

__all__ = [
    "BenchmarkSpec",
    "data_root",
    "list_benchmarks",
    "make",
    "register",
    "spec",
    "update_manifest",
]

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BenchmarkSpec:
    """How to build one benchmark.

    Exactly one of ``path`` (a v1 table directory) and ``entry_point`` (``"module:callable"``,
    called with ``**kwargs`` to return a :class:`~hpobench.benchmark.Benchmark`) is set.
    """

    id: str
    path: Path | None = None
    entry_point: str | None = None
    description: str = ""
    n_configs: int = 0
    n_seeds: int = 0
    n_steps: int = 0
    size_bytes: int = 0
    meta_sha256: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parse_id(self.id)
        if (self.path is None) == (self.entry_point is None):
            raise HPOBenchError(
                f"BenchmarkSpec {self.id!r} needs exactly one of path and entry_point."
            )

    @property
    def family(self) -> str:
        return parse_id(self.id)[0]


def data_root() -> Path:
    """``$HPOBENCH_DATA`` if set, else the checkout's ``data/``."""
    env = os.environ.get("HPOBENCH_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data"


_user_specs: dict[str, BenchmarkSpec] = {}


@functools.lru_cache(maxsize=8)
def _manifest_specs(root: str) -> dict[str, BenchmarkSpec]:
    path = Path(root) / MANIFEST
    if not path.is_file():
        return {}
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        entries = d["tables"]
        if not isinstance(entries, list):
            raise TypeError(f"'tables' is {type(entries).__name__}")
    except (ValueError, KeyError, TypeError) as e:  # ValueError: bad JSON or bad UTF-8
        raise TableError(f"{path}: must be a JSON object with a 'tables' list ({e}).") from None
    out = {}
    try:
        for entry in entries:
            if entry["id"] in out:
                raise TableError(f"{path}: ids must be unique, but {entry['id']!r} repeats.")
            out[entry["id"]] = BenchmarkSpec(
                id=entry["id"],
                path=Path(root) / entry["path"],
                description=entry.get("description", ""),
                n_configs=int(entry.get("n_configs", 0)),
                n_seeds=int(entry.get("n_seeds", 0)),
                n_steps=int(entry.get("n_steps", 0)),
                size_bytes=int(entry.get("size_bytes", 0)),
                meta_sha256=entry.get("meta_sha256", ""),
            )
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        if isinstance(e, HPOBenchError):
            raise
        raise TableError(
            f"{path}: each entry of 'tables' must be an object with 'id' and 'path', "
            f"but an entry is malformed ({type(e).__name__}: {e})."
        ) from None
    return out


def _all_specs() -> dict[str, BenchmarkSpec]:
    specs = dict(_manifest_specs(str(data_root())))
    specs.update(_user_specs)
    return specs


def register(
    spec_or_id: BenchmarkSpec | str,
    *,
    path: str | Path | None = None,
    entry_point: str | None = None,
    description: str = "",
    **kwargs: Any,
) -> BenchmarkSpec:
    """Register a benchmark; an id that is already registered raises ``HPOBenchError``."""
    if isinstance(spec_or_id, BenchmarkSpec):
        s = spec_or_id
    else:
        s = BenchmarkSpec(
            id=spec_or_id,
            path=Path(path) if path is not None else None,
            entry_point=entry_point,
            description=description,
            kwargs=kwargs,
        )
    if s.id in _all_specs():
        raise HPOBenchError(
            f"A benchmark with id {s.id!r} is already registered; ids must be unique."
        )
    _user_specs[s.id] = s
    return s


def unregister(benchmark_id: str) -> None:
    """Remove a user registration (shipped tables cannot be unregistered)."""
    if benchmark_id not in _user_specs:
        raise BenchmarkNotFoundError(f"{benchmark_id!r} is not a user registration.")
    del _user_specs[benchmark_id]


def spec(benchmark_id: str) -> BenchmarkSpec:
    """The spec of ``benchmark_id`` or a ``BenchmarkNotFoundError`` that teaches."""
    specs = _all_specs()
    if isinstance(benchmark_id, str) and benchmark_id in specs:
        return specs[benchmark_id]
    if not isinstance(benchmark_id, str):
        raise BenchmarkNotFoundError(
            f"A benchmark id must be a string like 'fcnet/protein-v1', got {benchmark_id!r}."
        )
    base = benchmark_id.rsplit("-v", 1)[0] if "-v" in benchmark_id else benchmark_id
    versions = sorted(i for i in specs if i.rsplit("-v", 1)[0] == base)
    if versions:
        raise BenchmarkNotFoundError(
            f"No benchmark {benchmark_id!r}; ids carry a version. Please use {versions[-1]!r}"
            + (f" (available: {versions})." if len(versions) > 1 else ".")
        )
    hint = did_you_mean(benchmark_id, specs)
    if not specs:
        raise BenchmarkNotFoundError(
            f"No benchmark {benchmark_id!r}: no tables found under {data_root()} (no {MANIFEST}). "
            "Set HPOBENCH_DATA or run `hpobench import fcnet`."
        )
    raise BenchmarkNotFoundError(
        f"No benchmark {benchmark_id!r}.{hint} Run `hpobench list` to see the {len(specs)} registered ids."
    )


def list_benchmarks(family: str | None = None) -> list[str]:
    """Registered ids, sorted; optionally only those of one family."""
    ids = sorted(_all_specs())
    if family is not None:
        fams = sorted({parse_id(i)[0] for i in ids})
        if family not in fams:
            raise BenchmarkNotFoundError(
                f"No family {family!r}; families are {fams}.{did_you_mean(family, fams)}"
            )
        ids = [i for i in ids if parse_id(i)[0] == family]
    return ids


@functools.lru_cache(maxsize=32)
def _load_table(path: str, meta_sha256: str) -> Any:
    p = Path(path)
    if meta_sha256:
        if not (p / META_FILE).is_file():
            raise TableError(
                f"Table metadata {str(p / META_FILE)!r} does not exist (the manifest lists it)."
            )
        got = sha256_file(p / META_FILE)
        if got != meta_sha256:
            raise TableError(
                f"{p / META_FILE}: sha256 must equal {meta_sha256!r} as recorded in the manifest, but is "
                f"{got!r}. The metadata was changed; re-import or re-merge the table."
            )
    return read_table(p)


def make(benchmark_id: str, **kwargs: Any) -> Benchmark:
    """Build the benchmark registered as ``benchmark_id`` (tables are loaded once per process).

    >>> import hpobench
    >>> hpobench.make("fcnet/protein-v1").fidelity.max
    100
    """
    s = spec(benchmark_id)
    if s.path is not None:
        table = _load_table(str(s.path), s.meta_sha256)
        if table.meta.id != s.id:
            raise TableError(
                f"{s.path}: meta.json declares id {table.meta.id!r}, but the registry expects {s.id!r}."
            )
        return TabularBenchmark(table, path=s.path, **kwargs)
    assert s.entry_point is not None
    mod_name, _, attr = s.entry_point.partition(":")
    try:
        factory: Callable[..., Benchmark] = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as e:
        raise HPOBenchError(
            f"{s.id}: entry point {s.entry_point!r} cannot be loaded ({e})."
        ) from None
    bench = factory(**{**s.kwargs, **kwargs})
    if not isinstance(bench, Benchmark):
        raise HPOBenchError(
            f"{s.id}: entry point {s.entry_point!r} returned {type(bench).__name__}, not a Benchmark."
        )
    return bench


def update_manifest(root: str | Path | None = None) -> Path:
    """Rescan ``<root>/<family>/<task>/meta.json`` and rewrite ``<root>/manifest.json``.

    Sorted by id, so the same tables give the same bytes. Each entry records the sha256 of
    meta.json (which itself records the parquet's sha256).
    """
    root = Path(root) if root is not None else data_root()
    entries: list[dict[str, Any]] = []
    for meta_path in sorted(root.glob(f"*/*/{META_FILE}")):
        meta = TableMeta.read(meta_path)
        tdir = meta_path.parent
        entries.append(
            {
                "id": meta.id,
                "path": tdir.relative_to(root).as_posix(),
                "description": meta.description,
                "n_configs": meta.n_configs,
                "n_seeds": len(meta.seeds),
                "n_steps": len(meta.fidelity),
                "size_bytes": (tdir / TABLE_FILE).stat().st_size
                if (tdir / TABLE_FILE).exists()
                else 0,
                "meta_sha256": hashlib.sha256(meta_path.read_bytes()).hexdigest(),
            }
        )
    ids = [str(e["id"]) for e in entries]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise TableError(
            f"{root}: ids must be unique, but {dupes} appear in more than one directory."
        )
    entries.sort(key=lambda e: str(e["id"]))
    out = root / MANIFEST
    out.write_text(
        json.dumps({"format": "hpobench-manifest", "version": 1, "tables": entries}, indent=1)
        + "\n"
    )
    _manifest_specs.cache_clear()
    _load_table.cache_clear()
    return out
