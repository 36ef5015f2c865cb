"""Where shipped surrogates live and how an id finds its surrogate.

``<surrogate root>/<family>/<task>/`` holds one surrogate (``_format.py``); the root is
``$HPOBENCH_SURROGATES`` if set, else the checkout's ``surrogates/``, with a ``manifest.json``
listing id, path and weights sha256 (rewritten by ``hpobench surrogate fit``). Surrogates are
never registered as benchmark ids of their own: a table suite cannot sweep them in. They are
reached only by asking, ``make(id, backend="surrogate")``.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from hpobench._errors import BenchmarkNotFoundError, SurrogateError, did_you_mean
from hpobench.surrogate._benchmark import SurrogateBenchmark
from hpobench.surrogate._format import META_FILE
from hpobench.table import id_path

__all__ = [
    "list_surrogates",
    "load_surrogate",
    "surrogate_dir",
    "surrogate_root",
    "update_manifest",
]

MANIFEST = "manifest.json"


def surrogate_root() -> Path:
    """``$HPOBENCH_SURROGATES`` if set, else the checkout's ``surrogates/``."""
    env = os.environ.get("HPOBENCH_SURROGATES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "surrogates"


def surrogate_dir(benchmark_id: str, root: str | Path | None = None) -> Path:
    """``<root>/<family>/<task>`` of ``benchmark_id`` (``<task>-vN`` from version 2 on; it need
    not exist yet): the same folder as the table's under its data root."""
    return (Path(root) if root is not None else surrogate_root()) / id_path(benchmark_id)


def list_surrogates(root: str | Path | None = None) -> list[str]:
    """Ids with a surrogate under the root (by scanning meta.json files), sorted."""
    base = Path(root) if root is not None else surrogate_root()
    ids = []
    for p in sorted(base.glob(f"*/*/{META_FILE}")):
        try:
            ids.append(str(json.loads(p.read_text(encoding="utf-8"))["id"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # listed by load_surrogate's error when asked for
    return sorted(ids)


def update_manifest(root: str | Path | None = None) -> Path:
    """Rewrite ``<root>/manifest.json`` from the meta.json files (sorted: same files, same bytes)."""
    base = Path(root) if root is not None else surrogate_root()
    entries: list[dict[str, Any]] = []
    for p in sorted(base.glob(f"*/*/{META_FILE}")):
        d = json.loads(p.read_text(encoding="utf-8"))
        entries.append(
            {
                "id": d["id"],
                "path": p.parent.relative_to(base).as_posix(),
                "weights_sha256": d["weights"]["sha256"],
                "table_sha256": d["table"]["sha256"],
            }
        )
    entries.sort(key=lambda e: str(e["id"]))
    out = base / MANIFEST
    out.write_text(
        json.dumps({"format": "hpobench-surrogates", "version": 1, "surrogates": entries}, indent=1)
        + "\n"
    )
    _cached.cache_clear()
    return out


@functools.lru_cache(maxsize=32)
def _cached(path: str, benchmark_id: str, table_sha256: str | None) -> SurrogateBenchmark:
    return SurrogateBenchmark.from_directory(
        path, expect_id=benchmark_id, table_sha256=table_sha256
    )


def load_surrogate(
    benchmark_id: str, *, sha256: str | None = None, root: str | Path | None = None
) -> SurrogateBenchmark:
    """The shipped surrogate of ``benchmark_id`` (loaded once per process).

    When the table is registered, the surrogate must have been fitted to exactly that table
    (its parquet sha256); ``sha256`` pins the weights file (what a protocol records).
    """
    from hpobench.registry import list_benchmarks, spec

    path = surrogate_dir(benchmark_id, root)
    if not (path / META_FILE).is_file():
        have = list_surrogates(root)
        raise BenchmarkNotFoundError(
            f"No surrogate for {benchmark_id!r}: {str(path / META_FILE)!r} does not exist. "
            f"Fit one with `hpobench surrogate fit {benchmark_id}`"
            + (f"; shipped: {have}." if have else ".")
            + did_you_mean(benchmark_id, have)
        )
    table_sha: str | None = None
    if benchmark_id in list_benchmarks():
        s = spec(benchmark_id)
        if s.path is not None:
            from hpobench.table import META_FILE as TABLE_META
            from hpobench.table import TableMeta

            table_sha = TableMeta.read(s.path / TABLE_META).sha256
    bench = _cached(str(path), benchmark_id, table_sha)
    if sha256 is not None and bench.sha256 != sha256:
        raise SurrogateError(
            f"{path / META_FILE}: the weights must have sha256 {sha256!r} (pinned), but have "
            f"{bench.sha256!r}; the surrogate was refitted since the pin was taken."
        )
    return bench
