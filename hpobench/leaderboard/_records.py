"""The board's committed results: one parquet of :class:`RunRecord` rows per protocol.

``leaderboard/<protocol>/runs.parquet`` holds one row per (entry, task, repetition) with the
incumbent's change points (what every score is computed from) and the digest of the run's full
trajectory (so a rerun of ``hpobench leaderboard run`` can be checked against it, bit for bit).
Rows are sorted by (optimizer, task, repetition) and written without wall-clock data, so the same
runs give the same bytes. Optimizer compute per trial is machine-dependent and lives beside it in
``compute.json``.

Columns: ``optimizer`` (string), ``benchmark_id`` (string), ``repetition`` (int64), ``status``
(string), ``n_evaluations`` (int64), ``final_test_score`` (float64), ``progress`` and
``test_scores`` (list<float64>), ``digest`` (string). The file's metadata records the protocol
name and hash and the references' hash.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hpobench._atomic import write_atomic
from hpobench.leaderboard._errors import LeaderboardError
from hpobench.leaderboard._scores import RunRecord

__all__ = ["read_compute", "read_records", "records_bytes", "write_compute", "write_records"]

_SCHEMA = pa.schema(
    [
        ("optimizer", pa.string()),
        ("benchmark_id", pa.string()),
        ("repetition", pa.int64()),
        ("status", pa.string()),
        ("n_evaluations", pa.int64()),
        ("final_test_score", pa.float64()),
        ("progress", pa.list_(pa.float64())),
        ("test_scores", pa.list_(pa.float64())),
        ("digest", pa.string()),
    ]
)
_KEY = b"hpobench.leaderboard"


def records_bytes(records: Iterable[RunRecord], *, protocol: str, protocol_hash: str) -> bytes:
    """The parquet bytes of ``records`` (sorted; deterministic)."""
    rows = sorted(records, key=lambda r: (r.optimizer, r.benchmark_id, r.repetition))
    keys = [(r.optimizer, r.benchmark_id, r.repetition) for r in rows]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise LeaderboardError(
            f"Each (optimizer, task, repetition) must appear once, but {dup} repeats."
        )
    cols: dict[str, list[Any]] = {f.name: [] for f in _SCHEMA}
    for r in rows:
        cols["optimizer"].append(r.optimizer)
        cols["benchmark_id"].append(r.benchmark_id)
        cols["repetition"].append(r.repetition)
        cols["status"].append(r.status)
        cols["n_evaluations"].append(r.n_evaluations)
        cols["final_test_score"].append(r.final_test_score)
        cols["progress"].append(list(r.progress))
        cols["test_scores"].append(list(r.test_scores))
        cols["digest"].append(r.digest)
    table = pa.table(cols, schema=_SCHEMA).replace_schema_metadata(
        {_KEY: json.dumps({"protocol": protocol, "protocol_hash": protocol_hash}).encode()}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", compression_level=19, write_statistics=False)
    return sink.getvalue()


def write_records(
    path: str | Path, records: Iterable[RunRecord], *, protocol: str, protocol_hash: str
) -> Path:
    p = Path(path)
    write_atomic(p, records_bytes(records, protocol=protocol, protocol_hash=protocol_hash))
    return p


def read_records(path: str | Path, *, protocol_hash: str | None = None) -> list[RunRecord]:
    """The records of a ``runs.parquet``; with ``protocol_hash``, it must match."""
    p = Path(path)
    try:
        table = pq.read_table(p)
    except FileNotFoundError:
        raise LeaderboardError(
            f"{p} does not exist; run `hpobench leaderboard run` first."
        ) from None
    except (pa.ArrowInvalid, OSError) as e:
        raise LeaderboardError(f"{p}: not a readable parquet file ({e}).") from None
    md = json.loads((table.schema.metadata or {}).get(_KEY, b"{}"))
    if protocol_hash is not None and md.get("protocol_hash") != protocol_hash:
        raise LeaderboardError(
            f"{p}: must hold runs of protocol hash {protocol_hash[:12]}, but records "
            f"{str(md.get('protocol_hash'))[:12]} ({md.get('protocol')!r}); rerun the board."
        )
    if table.schema.remove_metadata() != _SCHEMA:
        raise LeaderboardError(
            f"{p}: columns must be {_SCHEMA.names}, but are {table.schema.names}."
        )
    d = table.to_pydict()
    out = []
    for i in range(table.num_rows):
        out.append(
            RunRecord(
                optimizer=d["optimizer"][i],
                benchmark_id=d["benchmark_id"][i],
                repetition=int(d["repetition"][i]),
                status=d["status"][i],
                n_evaluations=int(d["n_evaluations"][i]),
                final_test_score=float(d["final_test_score"][i]),
                progress=tuple(d["progress"][i]),
                test_scores=tuple(d["test_scores"][i]),
                digest=d["digest"][i],
            )
        )
    return out


def write_compute(
    path: str | Path,
    records: Iterable[RunRecord],
    *,
    wall_s: Mapping[str, float] | None = None,
    n_processes: int | None = None,
) -> Path:
    """``compute.json``: per entry, the median optimizer wall seconds per trial over its runs, and
    the wall seconds the board run took per entry (machine-dependent, measured where it ran)."""
    by: dict[str, list[float]] = {}
    for r in records:
        if math.isfinite(r.optimizer_s_per_trial):
            by.setdefault(r.optimizer, []).append(r.optimizer_s_per_trial)
    d = {
        "optimizer_s_per_trial": {k: float(np.median(v)) for k, v in sorted(by.items())},
        "board_run_wall_s": {k: round(float(v), 2) for k, v in sorted((wall_s or {}).items())},
        "n_processes": n_processes,
    }
    p = Path(path)
    write_atomic(p, (json.dumps(d, indent=1, sort_keys=True) + "\n").encode())
    return p


def read_compute(path: str | Path) -> dict[str, Any]:
    """``compute.json`` as written by :func:`write_compute` (empty sections if absent)."""
    p = Path(path)
    empty: dict[str, Any] = {
        "optimizer_s_per_trial": {},
        "board_run_wall_s": {},
        "n_processes": None,
    }
    if not p.is_file():
        return empty
    try:
        d = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise LeaderboardError(f"{p}: not valid JSON ({e}).") from None
    return {**empty, **d}
