"""The benchmark registry: versioned ids ``family/task-vN`` -> how to build the benchmark.

Tables live under *data roots*, each a folder ``<root>/<family>/<task>/`` with a
``<root>/manifest.json`` listing them (written by ``hpobench import``, ``hpobench generate
--merge`` and ``hpobench reindex``). The registry reads the manifests lazily on first use, never
as a side effect of importing a module. The roots searched, in this order (:func:`data_roots`):

1. the shipped tables, the ``data/`` folder of this checkout: always visible;
2. each folder of ``$HPOBENCH_DATA``, a path list (``os.pathsep``-separated, like ``PATH``);
3. the user root (:func:`data_root`): ``$HPOBENCH_USER_DATA`` if set, else
   ``$XDG_DATA_HOME/hpobench``, else ``~/.local/share/hpobench``. Imports and merges write here
   by default, so a table a user imports is visible to every later process (and the checkout's
   tracked ``data/`` is written only when asked for with ``--out``/``--data-root``).

An id must be unique over all roots: the same id in two roots is an error naming both paths,
never a silent choice. Writers refuse an id that exists already unless asked to replace it
(:func:`check_new_table`). Users add benchmarks for one process with :func:`register`;
registering an id twice is an error.

A manifest is written atomically (a crash or a full disk leaves the old one or the new one);
each entry must record ``meta_sha256``, and its ``path`` must stay inside its root (no ``..``,
no absolute path, no symlinked folder leading elsewhere).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpobench._atomic import write_atomic
from hpobench._errors import BenchmarkNotFoundError, HPOBenchError, TableError, did_you_mean
from hpobench.benchmark import Benchmark, TabularBenchmark
from hpobench.table import (
    META_FILE,
    TABLE_FILE,
    TableMeta,
    id_path,
    parse_id,
    read_table,
    sha256_file,
)

__all__ = [
    "BenchmarkSpec",
    "check_new_table",
    "data_root",
    "data_roots",
    "list_benchmarks",
    "make",
    "newest_versions",
    "register",
    "shipped_root",
    "spec",
    "update_manifest",
]

MANIFEST = "manifest.json"
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class BenchmarkSpec:
    """How to build one benchmark.

    Exactly one of ``path`` (a v1 table directory) and ``entry_point`` (``"module:callable"``,
    called with ``**kwargs`` to return a :class:`~hpobench.benchmark.Benchmark`) is set.
    ``meta_sha256`` (set for manifest entries) is checked against ``meta.json`` at load.
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
                f"BenchmarkSpec {self.id!r} needs exactly one of path and entry_point, but got "
                f"path={self.path!r}, entry_point={self.entry_point!r}."
            )

    @property
    def family(self) -> str:
        return parse_id(self.id)[0]


def shipped_root() -> Path:
    """The shipped tables: the ``data/`` folder of this checkout (always searched first)."""
    return Path(__file__).resolve().parent.parent / "data"


def data_root() -> Path:
    """The user root: where imports and merges write by default (see the module docstring)."""
    env = os.environ.get("HPOBENCH_USER_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "hpobench"


def data_roots() -> tuple[Path, ...]:
    """Every root searched for tables, in order: shipped, ``$HPOBENCH_DATA``'s, the user root."""
    roots = [shipped_root()]
    roots += [
        Path(p).expanduser() for p in os.environ.get("HPOBENCH_DATA", "").split(os.pathsep) if p
    ]
    roots.append(data_root())
    out: list[Path] = []
    seen: set[str] = set()
    for r in roots:
        key = os.path.realpath(r)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return tuple(out)


_user_specs: dict[str, BenchmarkSpec] = {}


def _entry_path(root: Path, raw: Any, manifest: Path, benchmark_id: str) -> Path:
    """``root / raw``, refused unless it is a relative path that stays inside ``root``."""
    if not isinstance(raw, str) or not raw:
        raise TableError(
            f"{manifest}: the 'path' of {benchmark_id!r} must be a non-empty relative path, but got {raw!r}."
        )
    rel = Path(raw)
    if rel.is_absolute() or ".." in rel.parts or raw.startswith(("/", "\\")):
        raise TableError(
            f"{manifest}: the 'path' of {benchmark_id!r} must be relative and stay inside the data "
            f"root {str(root)!r} (no '..', not absolute), but got {raw!r}."
        )
    path = root / rel
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except OSError:  # a symlink loop
        inside = False
    if not inside:
        raise TableError(
            f"{manifest}: the 'path' of {benchmark_id!r} must stay inside the data root "
            f"{str(root)!r}, but {raw!r} leads to {str(path.resolve())!r} (a symlinked folder?)."
        )
    return path


@functools.lru_cache(maxsize=16)
def _manifest_specs(root: str) -> dict[str, BenchmarkSpec]:
    path = Path(root) / MANIFEST
    if not path.is_file():
        return {}
    hint = f"Rebuild it from the tables with `hpobench reindex {root}`."
    try:
        d = json.loads(path.read_bytes().decode("utf-8"))
        entries = d["tables"]
        if not isinstance(entries, list):
            raise TypeError(f"'tables' is {type(entries).__name__}")
    except RecursionError:
        raise TableError(
            f"{path}: must be a JSON object with a 'tables' list, but it is nested too deeply. {hint}"
        ) from None
    except (ValueError, KeyError, TypeError) as e:  # ValueError: bad JSON or bad UTF-8
        raise TableError(
            f"{path}: must be a JSON object with a 'tables' list ({e}). {hint}"
        ) from None
    except OSError as e:
        raise TableError(f"{path}: cannot be read ({e}).") from None
    out = {}
    try:
        for entry in entries:
            if entry["id"] in out:
                raise TableError(f"{path}: ids must be unique, but {entry['id']!r} repeats.")
            raw_path = entry["path"]
            out[entry["id"]] = BenchmarkSpec(
                id=entry["id"],
                path=_entry_path(Path(root), raw_path, path, entry["id"]),
                description=entry.get("description", ""),
                n_configs=int(entry.get("n_configs", 0)),
                n_seeds=int(entry.get("n_seeds", 0)),
                n_steps=int(entry.get("n_steps", 0)),
                size_bytes=int(entry.get("size_bytes", 0)),
                meta_sha256=str(entry.get("meta_sha256")),
            )
            sha = entry.get("meta_sha256")
            if not isinstance(sha, str) or not _SHA256_RE.match(sha):
                raise TableError(
                    f"{path}: the entry of {entry['id']!r} must record 'meta_sha256' (64 hex "
                    f"digits) so that its meta.json is verified, but got {sha!r}. {hint}"
                )
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError) as e:
        if isinstance(e, HPOBenchError):
            raise
        raise TableError(
            f"{path}: each entry of 'tables' must be an object with 'id' and 'path', "
            f"but an entry is malformed ({type(e).__name__}: {e})."
        ) from None
    return out


def _root_specs() -> list[tuple[Path, dict[str, BenchmarkSpec]]]:
    return [(r, _manifest_specs(str(r))) for r in data_roots()]


def _all_specs() -> dict[str, BenchmarkSpec]:
    specs: dict[str, BenchmarkSpec] = {}
    where: dict[str, Path] = {}
    for root, found in _root_specs():
        for bid, s in found.items():
            if bid in specs:
                raise TableError(
                    f"Benchmark ids must be unique over the data roots, but {bid!r} is in both "
                    f"{str(where[bid])!r} and {str(root)!r}. Remove one (or give it a new version)."
                )
            specs[bid] = s
            where[bid] = root
    specs.update(_user_specs)
    return specs


def check_new_table(benchmark_id: str, root: str | Path, *, replace: bool = False) -> None:
    """Refuse to write ``benchmark_id`` into ``root`` when that would shadow or silently replace.

    An id already in ``root`` needs ``replace=True``. When ``root`` is a searched data root, an id
    in another searched root (e.g. a shipped table) is always refused, since two roots may not
    hold one id (a folder outside the search path may hold a copy).
    """
    folder = id_path(benchmark_id)
    root = Path(root)
    key = os.path.realpath(root)
    searched = {os.path.realpath(r) for r in data_roots()}
    for r, found in _root_specs():
        # Only a searched root can shadow: a scratch folder may hold a copy (e.g. a re-import
        # compared with the shipped table); adding it to HPOBENCH_DATA later is an error then.
        if key in searched and benchmark_id in found and os.path.realpath(r) != key:
            raise TableError(
                f"{benchmark_id!r} exists already in the data root {str(r)!r}; ids must be unique "
                "over the data roots. Give the new table another version (e.g. -v2), or write it "
                "into that root with --replace."
            )
    exists = benchmark_id in _manifest_specs(str(root)) or (root / folder / META_FILE).exists()
    if exists and not replace:
        raise TableError(
            f"{benchmark_id!r} exists already in {str(root)!r}; it is replaced only when asked "
            "(--replace on the command line, replace=True in Python)."
        )


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
            f"No benchmark {benchmark_id!r}: no tables found under "
            f"{', '.join(str(r) for r in data_roots())} (no {MANIFEST}). "
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


def newest_versions(ids: Sequence[str]) -> list[str]:
    """The highest version of each ``family/task`` among ``ids``, in the order of ``ids``.

    >>> newest_versions(["gbt/kr-vs-kp-v1", "gbt/kr-vs-kp-v2", "gbt/magic-v1"])
    ['gbt/kr-vs-kp-v2', 'gbt/magic-v1']
    """
    best: dict[tuple[str, str], tuple[int, str]] = {}
    for i in ids:
        family, task, version = parse_id(i)
        if (family, task) not in best or version > best[(family, task)][0]:
            best[(family, task)] = (version, i)
    keep = {i for _, i in best.values()}
    return [i for i in ids if i in keep]


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


def make(benchmark_id: str, *, backend: str = "table", **kwargs: Any) -> Benchmark:
    """Build the benchmark registered as ``benchmark_id`` (tables are loaded once per process).

    Keyword arguments go to an entry point's constructor; a table benchmark takes none (an
    unknown keyword is an ``HPOBenchError``). ``backend="surrogate"`` answers from the task's
    shipped neural surrogate instead of the table (``hpobench.surrogate.load_surrogate``;
    ``sha256=`` pins its weights file).

    >>> import hpobench
    >>> hpobench.make("fcnet/protein-v1").fidelity.max
    100
    """
    if backend == "surrogate":
        from hpobench.surrogate import load_surrogate

        unknown = sorted(set(kwargs) - {"sha256"})
        if unknown:
            raise HPOBenchError(
                f"make({benchmark_id!r}, backend='surrogate', ...) accepts only the keyword "
                f"sha256, but got {unknown}."
            )
        return load_surrogate(benchmark_id, **kwargs)
    if backend != "table":
        raise HPOBenchError(f"backend must be 'table' or 'surrogate', but got {backend!r}.")
    s = spec(benchmark_id)
    if s.path is not None:
        if kwargs:
            raise HPOBenchError(
                f"make({s.id!r}, ...) takes no keywords for a table benchmark (a configuration the "
                f"table does not store is answered by the nearest stored one), but got "
                f"{sorted(kwargs)}."
            )
        table = _load_table(str(s.path), s.meta_sha256)
        if table.meta.id != s.id:
            raise TableError(
                f"{s.path}: meta.json declares id {table.meta.id!r}, but the registry expects {s.id!r}."
            )
        return TabularBenchmark(table, path=s.path)
    assert s.entry_point is not None
    mod_name, _, attr = s.entry_point.partition(":")
    try:
        factory: Callable[..., Benchmark] = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as e:
        raise HPOBenchError(
            f"{s.id}: entry point {s.entry_point!r} cannot be loaded ({e})."
        ) from None
    try:
        bench = factory(**{**s.kwargs, **kwargs})
    except TypeError as e:
        raise HPOBenchError(
            f"{s.id}: entry point {s.entry_point!r} must accept the keywords it was given "
            f"({sorted({**s.kwargs, **kwargs})}), but calling it failed: {e}."
        ) from None
    if not isinstance(bench, Benchmark):
        raise HPOBenchError(
            f"{s.id}: entry point {s.entry_point!r} returned {type(bench).__name__}, not a Benchmark."
        )
    return bench


def update_manifest(root: str | Path | None = None) -> Path:
    """Rescan ``<root>/<family>/<task>/meta.json`` and rewrite ``<root>/manifest.json`` atomically.

    ``root`` defaults to the user root (:func:`data_root`). Sorted by id, so the same tables give
    the same bytes. Each entry records the sha256 of meta.json (which itself records the
    parquet's sha256). A crash, kill or full disk while writing leaves the previous manifest.
    """
    root = Path(root) if root is not None else data_root()
    entries: list[dict[str, Any]] = []
    for meta_path in sorted(root.glob(f"*/*/{META_FILE}")):
        meta = TableMeta.read(meta_path)
        tdir = meta_path.parent
        _entry_path(root, tdir.relative_to(root).as_posix(), root / MANIFEST, meta.id)
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
    payload = json.dumps({"format": "hpobench-manifest", "version": 1, "tables": entries}, indent=1)
    try:
        write_atomic(out, (payload + "\n").encode("utf-8"))
    except OSError as e:
        raise TableError(
            f"{out}: the manifest must be written, but writing failed ({type(e).__name__}: {e}); "
            "the previous manifest is unchanged."
        ) from None
    _manifest_specs.cache_clear()
    _load_table.cache_clear()
    return out
