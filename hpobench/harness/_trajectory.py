"""``Trajectory``: every evaluation of one run plus its metadata, with a parquet round-trip.

One row per counted evaluation, in the order they finished (simulated time, ties in dispatch
order). Columns:

========================  =======  ==================================================================
``time``                  float64  simulated time the evaluation finished
``start_time``            float64  simulated time it was dispatched
``trial_id``              int64    trial (new trials are numbered 0, 1, ... in dispatch order)
``worker``                int64    worker that ran it
``fidelity``              float64  fidelity reached
``resumed_from``          float64  fidelity the trial had reached before (NaN: a new trial)
``config_id``             int64    table row answered (the snapped row for nearest lookups; -1 if none)
``seed``                  int64    the trial's tuning seed
``value``                 float64  objective at ``fidelity`` on ``seed`` (what ``tell`` received)
``cost``                  float64  simulated seconds charged (the extra training for a resume)
``incumbent_trial``       int64    incumbent after this event (-1: none yet)
``incumbent_config_id``   int64
``incumbent_fidelity``    float64
``incumbent_value``       float64  its objective on its tuning seed
``incumbent_test_score``  float64  reported metric, mean over test seeds, full fidelity (post hoc)
``config.<name>``         typed    one column per hyperparameter
``info``                  string   the suggestion's ``info`` as sorted compact JSON (``""``: none)
``ask_wall_s``            float64  wall time of the ``ask`` that proposed it (machine-dependent)
``tell_wall_s``           float64  wall time of its ``tell`` (machine-dependent)
========================  =======  ==================================================================

Columns are built here and only here: the simulator hands each finished evaluation to a
:class:`TrajectoryBuilder` by name and asks it for the :class:`Trajectory` at the end.

Determinism scope: everything except the two ``*_wall_s`` columns and the ``timing`` record is a
pure function of (benchmark backend, protocol, repetition, optimizer code). :meth:`Trajectory.digest`
is a sha256 over exactly that part (metadata JSON plus column bytes); it is stored in the file and
re-checked on read. ``write(path, include_timing=False)`` writes zeros for the wall-time columns and
no timing record, so that file is byte-identical across reruns.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import io
import json
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hpobench._arrowio import read_parquet_bytes
from hpobench._atomic import write_atomic
from hpobench._errors import HPOBenchError, ProtocolError, TrajectoryError
from hpobench.harness._protocol import Protocol
from hpobench.space import SearchSpace

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "RunStatus",
    "Trajectory",
    "TrajectoryBuilder",
    "TrajectoryError",
    "TrajectoryMeta",
]

FORMAT_NAME = "hpobench-trajectory"
FORMAT_VERSION = 3
"""2: the metadata records ``backend_kind`` and ``backend_sha256`` (a table's or a surrogate's
file) instead of version 1's ``table_sha256`` and ``lookup``. 3: the ``info`` column."""
_META_KEY = b"hpobench.trajectory"
_TIMING_KEY = b"hpobench.timing"
_DIGEST_KEY = b"hpobench.digest"

EVENT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("time", pa.float64()),
    ("start_time", pa.float64()),
    ("trial_id", pa.int64()),
    ("worker", pa.int64()),
    ("fidelity", pa.float64()),
    ("resumed_from", pa.float64()),
    ("config_id", pa.int64()),
    ("seed", pa.int64()),
    ("value", pa.float64()),
    ("cost", pa.float64()),
    ("incumbent_trial", pa.int64()),
    ("incumbent_config_id", pa.int64()),
    ("incumbent_fidelity", pa.float64()),
    ("incumbent_value", pa.float64()),
    ("incumbent_test_score", pa.float64()),
)
INFO_COLUMN = "info"
WALL_COLUMNS: tuple[str, ...] = ("ask_wall_s", "tell_wall_s")
CONFIG_PREFIX = "config."


class RunStatus(str, enum.Enum):
    """How a run ended."""

    COMPLETED = "completed"
    """The time budget or the evaluation cap was reached."""
    OPTIMIZER_STOPPED = "optimizer_stopped"
    """``ask`` returned ``None`` while no evaluation was in flight."""
    FAILED = "failed"
    """The optimizer broke the contract (exception, invalid suggestion, wall-clock limit)."""


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


@dataclass(frozen=True, kw_only=True)
class TrajectoryMeta:
    """Everything needed to interpret, verify and reproduce one run.

    ``backend_kind`` (``"table"`` or ``"surrogate"``) and ``backend_sha256`` identify what answered
    the evaluations (:attr:`hpobench.benchmark.Benchmark.backend`).
    ``incumbent_*`` describe the final incumbent (``None`` when the run has none): the trial with
    the best objective among evaluations at the highest fidelity reached with a finite objective
    (ties: the earlier evaluation stays); ``incumbent_test_score`` is the run's answer.
    """

    protocol: Protocol
    benchmark_id: str
    backend_kind: str
    backend_sha256: str
    objective: str
    direction: str
    reported_metric: str
    fidelity_name: str
    fidelity_values: tuple[float, ...]
    space: Mapping[str, Any]
    repetition: int
    repetition_seed: int
    optimizer_seed: int
    tuning_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    reference_runtime: float
    n_full: float
    time_budget: float
    max_evaluations: int
    optimizer_name: str
    optimizer_version: str
    optimizer_source_sha256: str
    hpobench_version: str
    code_sha256: str
    status: RunStatus
    stop_reason: str
    fault: str
    end_time: float
    n_evaluations: int
    n_trials: int
    n_discarded: int
    incumbent_trial: int | None
    incumbent_config_id: int | None
    incumbent_fidelity: float | None
    incumbent_value: float | None
    incumbent_test_score: float | None
    incumbent_config: Mapping[str, Any] | None
    format: str = field(default=FORMAT_NAME)
    format_version: int = field(default=FORMAT_VERSION)

    @property
    def protocol_name(self) -> str:
        return self.protocol.name

    @property
    def protocol_hash(self) -> str:
        return self.protocol.hash

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "protocol":
                d["protocol"] = v.to_dict()
                d["protocol_hash"] = v.hash
            elif isinstance(v, RunStatus):
                d[f.name] = v.value
            else:
                d[f.name] = _jsonable(v)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = "<trajectory>") -> TrajectoryMeta:
        if not isinstance(d, Mapping):
            raise TrajectoryError(
                f"{source}: metadata must be a JSON object, but is {type(d).__name__}."
            )
        if d.get("format") != FORMAT_NAME or d.get("format_version") != FORMAT_VERSION:
            older = d.get("format") == FORMAT_NAME and d.get("format_version") == 1
            raise TrajectoryError(
                f"{source}: must be format {FORMAT_NAME!r} version {FORMAT_VERSION}, but declares "
                f"{d.get('format')!r} version {d.get('format_version')!r}. "
                + (
                    "Version 1 recorded a table_sha256 instead of the backend kind and sha256 and "
                    "was produced under a v1 protocol; rerun it with this hpobench."
                    if older
                    else "It was written by another hpobench version; rerun it or read it with "
                    "that version."
                )
            )
        names = {f.name for f in fields(cls)}
        missing = sorted(names - set(d))
        if missing:
            raise TrajectoryError(f"{source}: metadata lacks the fields {missing}.")
        kw = {k: d[k] for k in names}
        try:
            proto = Protocol.from_dict(d["protocol"])
        except HPOBenchError as e:
            raise TrajectoryError(f"{source}: its protocol record is invalid: {e}") from None
        if proto.hash != d.get("protocol_hash"):
            raise TrajectoryError(
                f"{source}: the protocol record must hash to the stored protocol_hash "
                f"{d.get('protocol_hash')!r}, but hashes to {proto.hash!r} (edited or corrupted)."
            )
        kw["protocol"] = proto
        for k in ("fidelity_values", "tuning_seeds", "test_seeds"):
            kw[k] = tuple(kw[k])
        try:
            kw["status"] = RunStatus(kw["status"])
        except ValueError:
            raise TrajectoryError(
                f"{source}: status must be one of {[s.value for s in RunStatus]}, got {kw['status']!r}."
            ) from None
        for k in ("incumbent_value", "incumbent_test_score", "incumbent_fidelity"):
            if kw[k] is None and kw["incumbent_trial"] is not None:
                kw[k] = math.nan
        return cls(**kw)


def _config_arrow_type(hp: Mapping[str, Any]) -> pa.DataType:
    kind = hp["type"]
    if kind == "float":
        return pa.float64()
    if kind == "int":
        return pa.int64()
    values = hp["values"] if kind == "ordinal" else hp["choices"]
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return pa.bool_()
    if kinds <= {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def _schema(meta: TrajectoryMeta) -> list[tuple[str, pa.DataType]]:
    cols = list(EVENT_COLUMNS)
    for hp in meta.space["hyperparameters"]:
        cols.append((CONFIG_PREFIX + hp["name"], _config_arrow_type(hp)))
    cols.append((INFO_COLUMN, pa.string()))
    cols.extend((w, pa.float64()) for w in WALL_COLUMNS)
    return cols


class TrajectoryBuilder:
    """Collects one run's events and builds the trajectory's columns (the one place that knows
    the column layout besides :data:`EVENT_COLUMNS`).

    The simulator calls :meth:`add` once per counted evaluation, in finishing order, and
    :meth:`set_tell_wall` after its ``tell``; :meth:`table` builds the Arrow table. Fidelities
    and seeds are passed as indices into ``fidelity_values`` / ``tuning_seeds`` (``-1``: none).
    """

    __slots__ = ("_fv", "_fv_ext", "_infos", "_rows", "_seeds", "_space", "_tell_walls")

    def __init__(
        self,
        *,
        space: SearchSpace,
        fidelity_values: tuple[int | float, ...],
        tuning_seeds: tuple[int, ...],
    ) -> None:
        self._space = space
        self._fv = np.asarray(fidelity_values, dtype=np.float64)
        self._fv_ext = np.append(self._fv, np.nan)  # index -1 -> NaN
        self._seeds = np.asarray(tuning_seeds, dtype=np.int64)
        self._rows: list[tuple[Any, ...]] = []
        self._infos: list[str] = []
        self._tell_walls: list[float] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(
        self,
        *,
        time: float,
        start_time: float,
        trial_id: int,
        worker: int,
        fidelity_index: int,
        resumed_from_index: int,
        config_id: int,
        seed_index: int,
        value: float,
        cost: float,
        incumbent_trial: int,
        incumbent_config_id: int,
        incumbent_fidelity_index: int,
        incumbent_value: float,
        incumbent_test_score: float,
        ask_wall_s: float,
        info: str = "",
    ) -> None:
        """Record one counted evaluation and the incumbent after it (``info``: the suggestion's
        ``info`` as JSON, ``""`` for none)."""
        self._infos.append(info)
        self._rows.append(
            (time, start_time, trial_id, worker, fidelity_index, resumed_from_index, config_id,
             seed_index, value, cost, incumbent_trial, incumbent_config_id,
             incumbent_fidelity_index, incumbent_value, incumbent_test_score, ask_wall_s)
        )  # fmt: skip

    def set_tell_wall(self, seconds: float) -> None:
        """Wall time of the ``tell`` of the latest recorded evaluation."""
        self._tell_walls.append(seconds)

    def table(self, trial_configs: Sequence[Mapping[str, Any]]) -> pa.Table:
        """The events as an Arrow table; ``trial_configs[i]`` is trial ``i``'s configuration."""
        n = len(self._rows)
        cols: dict[str, np.ndarray] = {}
        if n:
            t = list(zip(*self._rows, strict=True))
            f64, i64 = np.float64, np.int64
            cols["time"] = np.asarray(t[0], dtype=f64)
            cols["start_time"] = np.asarray(t[1], dtype=f64)
            cols["trial_id"] = np.asarray(t[2], dtype=i64)
            cols["worker"] = np.asarray(t[3], dtype=i64)
            cols["fidelity"] = self._fv[np.asarray(t[4], dtype=i64)]
            cols["resumed_from"] = self._fv_ext[np.asarray(t[5], dtype=i64)]
            cols["config_id"] = np.asarray(t[6], dtype=i64)
            cols["seed"] = self._seeds[np.asarray(t[7], dtype=i64)]
            cols["value"] = np.asarray(t[8], dtype=f64)
            cols["cost"] = np.asarray(t[9], dtype=f64)
            cols["incumbent_trial"] = np.asarray(t[10], dtype=i64)
            cols["incumbent_config_id"] = np.asarray(t[11], dtype=i64)
            cols["incumbent_fidelity"] = self._fv_ext[np.asarray(t[12], dtype=i64)]
            cols["incumbent_value"] = np.where(
                cols["incumbent_trial"] >= 0, np.asarray(t[13], dtype=f64), np.nan
            )
            cols["incumbent_test_score"] = np.asarray(t[14], dtype=f64)
            ask_walls = np.asarray(t[15], dtype=f64)
        else:
            for name, typ in EVENT_COLUMNS:
                cols[name] = np.zeros(0, dtype=np.int64 if pa.types.is_integer(typ) else np.float64)
            ask_walls = np.zeros(0)
        tell_walls = np.full(n, np.nan)
        tell_walls[: len(self._tell_walls)] = np.asarray(self._tell_walls[:n], dtype=np.float64)
        arrays: dict[str, pa.Array] = {
            name: pa.array(cols[name], type=typ) for name, typ in EVENT_COLUMNS
        }
        trial_ids = cols["trial_id"].tolist()
        in_order = trial_ids == list(range(len(trial_configs)))  # every trial evaluated once
        for hp, hp_dict in zip(self._space, self._space.to_dict()["hyperparameters"], strict=True):
            name = hp.name
            per_trial = list(map(operator.itemgetter(name), trial_configs))
            values = _canonical_values(
                hp, per_trial if in_order else [per_trial[i] for i in trial_ids]
            )
            arrays[CONFIG_PREFIX + name] = pa.array(values, type=_config_arrow_type(hp_dict))
        arrays[INFO_COLUMN] = pa.array(self._infos[:n], type=pa.string())
        arrays["ask_wall_s"] = pa.array(ask_walls, type=pa.float64())
        arrays["tell_wall_s"] = pa.array(tell_walls, type=pa.float64())
        return pa.table(arrays)


def _canonical_values(hp: Any, values: list[Any]) -> list[Any]:
    """``hp.validate`` of each value: the declared form (``0.30000000000000004`` -> ``0.3``).

    The values were validated when they were evaluated; this only canonicalises them, once per
    distinct ``(type, value)`` (a column has few), and not at all for the common case of values
    already in their declared form (re-validating every event was a third of a run's harness
    time).
    """
    try:
        distinct = set(zip(map(type, values), values, strict=True))
    except TypeError:  # unhashable: validate says what is wrong
        return [hp.validate(v) for v in values]
    canon = {key: hp.validate(key[1]) for key in distinct}
    if all(type(c) is t and c == v for (t, v), c in canon.items()):
        return values
    return [canon[(type(v), v)] for v in values]


def _digest(meta_json: str, table: pa.Table) -> str:
    h = hashlib.sha256()
    h.update(f"{FORMAT_NAME}-v{FORMAT_VERSION}\n".encode())
    h.update(meta_json.encode())
    for name in table.column_names:
        if name in WALL_COLUMNS:
            continue
        col = table.column(name)
        h.update(f"\n{name}:{col.type}:{len(col)}\n".encode())
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            h.update(json.dumps(col.to_pylist()).encode())
        else:
            h.update(np.ascontiguousarray(col.to_numpy(zero_copy_only=False)).tobytes())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One run: ``meta`` (deterministic), ``table`` (the events, an Arrow table), ``timing``
    (machine-dependent wall-clock totals). Build with :func:`~hpobench.harness.run_study` or
    :meth:`read`; use :attr:`events` for a pandas view.
    """

    meta: TrajectoryMeta
    table: pa.Table
    timing: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        want = _schema(self.meta)
        got = [(f.name, f.type) for f in self.table.schema]
        if [n for n, _ in got] != [n for n, _ in want] or any(
            not a.equals(b) for (_, a), (_, b) in zip(got, want, strict=True)
        ):
            raise TrajectoryError(
                f"Trajectory columns must be {[f'{n}: {t}' for n, t in want]}, but are "
                f"{[f'{n}: {t}' for n, t in got]}."
            )

    @functools.cached_property
    def events(self) -> pd.DataFrame:
        """The events as a DataFrame (one row per counted evaluation)."""
        return self.table.to_pandas()

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def digest(self) -> str:
        """sha256 of the deterministic part (metadata and every column but the wall times)."""
        return _digest(self.meta.to_json(), self.table)

    # -- serialisation -------------------------------------------------------------------
    def to_bytes(self, *, include_timing: bool = True) -> bytes:
        """The parquet file's bytes (see :meth:`write`)."""
        table = self.table
        timing: Mapping[str, Any] = self.timing
        if not include_timing:
            zeros = pa.array(np.zeros(table.num_rows), type=pa.float64())
            for w in WALL_COLUMNS:
                table = table.set_column(table.schema.get_field_index(w), w, zeros)
            timing = {}
        meta_json = self.meta.to_json()
        table = table.replace_schema_metadata(
            {
                _META_KEY: meta_json.encode(),
                _TIMING_KEY: json.dumps(_jsonable(dict(timing)), sort_keys=True).encode(),
                _DIGEST_KEY: _digest(meta_json, table).encode(),
            }
        )
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd", write_statistics=False)
        return sink.getvalue()

    def write(self, path: str | Path, *, include_timing: bool = True) -> Path:
        """Write atomically (temp file in the same directory, then rename) and return the path.

        ``include_timing=False`` zeroes the wall-time columns and drops the timing record: the
        file is then byte-identical for identical inputs.
        """
        path = Path(path)
        payload = self.to_bytes(include_timing=include_timing)
        write_atomic(path, payload)
        return path

    @classmethod
    def from_bytes(
        cls, payload: bytes, *, source: str = "<bytes>", protocol: Protocol | None = None
    ) -> Trajectory:
        try:
            table = read_parquet_bytes(payload)  # no Python buffers left to Arrow threads
        except (pa.ArrowInvalid, OSError, ValueError) as e:
            raise TrajectoryError(
                f"{source}: not a readable parquet file (truncated or corrupted?): {e}"
            ) from None
        md = table.schema.metadata or {}
        if _META_KEY not in md:
            raise TrajectoryError(
                f"{source}: has no {_META_KEY.decode()!r} metadata; it is not an hpobench trajectory."
            )
        try:
            d = json.loads(md[_META_KEY])
            timing = json.loads(md.get(_TIMING_KEY, b"{}"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise TrajectoryError(f"{source}: its metadata is not valid JSON ({e}).") from None
        meta = TrajectoryMeta.from_dict(d, source=source)
        table = table.replace_schema_metadata(None)
        try:
            traj = cls(meta=meta, table=table, timing=timing)
        except TrajectoryError as e:
            raise TrajectoryError(f"{source}: {e}") from None
        stored = md.get(_DIGEST_KEY, b"").decode()
        got = _digest(meta.to_json(), table)
        if stored != got:
            raise TrajectoryError(
                f"{source}: the digest of its contents must equal the stored {stored!r}, but is "
                f"{got!r}; the file was edited or corrupted."
            )
        if protocol is not None:
            check_protocol(meta, protocol, source=source)
        return traj

    @classmethod
    def read(cls, path: str | Path, *, protocol: Protocol | None = None) -> Trajectory:
        """Read and verify a trajectory file (format version, schema, digest).

        With ``protocol``, the file must have been produced under exactly that protocol (same
        name and hash), else ``ProtocolError``.
        """
        p = Path(path)
        try:
            payload = p.read_bytes()
        except FileNotFoundError:
            raise TrajectoryError(f"Trajectory file {str(p)!r} does not exist.") from None
        except OSError as e:
            raise TrajectoryError(f"Cannot read trajectory file {str(p)!r}: {e}.") from None
        return cls.from_bytes(payload, source=str(p), protocol=protocol)


def check_protocol(meta: TrajectoryMeta, protocol: Protocol, *, source: str) -> None:
    if meta.protocol.hash != protocol.hash:
        raise ProtocolError(
            f"{source}: must come from protocol {protocol.name!r} (hash {protocol.hash[:12]}), but was "
            f"produced under {meta.protocol.name!r} (hash {meta.protocol.hash[:12]}). Results of "
            "different protocols (or versions) are not comparable; use another output directory."
        )


def read_meta(path: str | Path) -> TrajectoryMeta:
    """Only the metadata of a trajectory file (footer read; no digest check)."""
    try:
        md = pq.read_schema(path).metadata or {}
        return TrajectoryMeta.from_dict(json.loads(md[_META_KEY]), source=str(path))
    except (pa.ArrowInvalid, OSError, KeyError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TrajectoryError(
            f"{path}: not a readable trajectory ({type(e).__name__}: {e})."
        ) from None
