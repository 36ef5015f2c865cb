"""``run.json``: a run directory's identity, written once, checked before chunks are added.

``<out>/run.json`` records the run's *identity*: task, variant, code identity, configuration
hash, seeds, fidelity, chunking, dataset fingerprint. A process whose identity differs is
refused (:class:`RunMismatchError` naming each difference), so chunks of two runs are never
mixed; a merge by other generator code is refused the same way (:func:`check_code`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hpobench.generate._errors import GenerationError, RunMismatchError
from hpobench.generate._plan import RunPlan
from hpobench.generate._provenance import code_identity, git_commit, utc_iso

__all__ = [
    "RUN_FILE",
    "check_code",
    "identity_fingerprint",
    "prepare_out",
    "read_run",
    "run_identity",
]

RUN_FILE = "run.json"


_RUN_FORMAT = "hpobench-generation-run"


_RUN_FORMAT_VERSION = 1


def _data_fingerprint(data: Any) -> str:
    h = hashlib.sha256()
    h.update(f"{data.task_type}|{data.n_classes}".encode())
    for name in ("X_train", "y_train", "X_valid", "y_valid", "X_test", "y_test"):
        arr = np.ascontiguousarray(getattr(data, name))
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def run_identity(plan: RunPlan, data: Any) -> dict[str, Any]:
    """What must be equal for two processes to add chunks to the same run directory."""
    v = plan.family.variant(plan.variant)
    return {
        "benchmark_id": plan.benchmark_id,
        "family": plan.family.name,
        "variant": plan.variant,
        "dataset": plan.dataset,
        "code": code_identity(),
        "n_configs": len(plan.configs),
        "config_hash": plan.config_hash(),
        "seeds": list(plan.seeds),
        "tuning_seeds": list(plan.tuning_seeds),
        "test_seeds": list(plan.test_seeds),
        "fidelity": plan.family.fidelity.to_dict(),
        "metrics": list(plan.family.metrics(data.task_type)),
        "chunk_size": plan.chunk_size,
        "n_units": plan.n_units,
        "n_chunks": plan.n_chunks,
        "split_seed": plan.family.split_seed,
        "max_train_rows": v.max_train_rows,
        "settings": dict(v.settings),
        "data_sha256": _data_fingerprint(data),
    }


def identity_fingerprint(identity: Mapping[str, Any]) -> str:
    """sha256 of the identity's canonical JSON; every chunk file carries it."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _atomic_json(path: Path, payload: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise GenerationError(f"Could not write {path}: {e.strerror or e}.") from e


def read_run(out: str | Path) -> dict[str, Any]:
    """The parsed ``run.json`` of a run directory, or :class:`GenerationError` saying why not."""
    path = Path(out) / RUN_FILE
    if not path.is_file():
        raise GenerationError(
            f"{out} is not a generation run directory (no {RUN_FILE}); start one with "
            "`hpobench generate FAMILY/TASK --out DIR`."
        )
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise GenerationError(f"{path} is unreadable ({e}).") from None
    if not isinstance(run, dict) or run.get("format") != _RUN_FORMAT:
        raise GenerationError(f"{path} is not a {_RUN_FORMAT} file.")
    if run.get("format_version") != _RUN_FORMAT_VERSION:
        raise GenerationError(
            f"{path} has run format version {run.get('format_version')!r}; this hpobench reads "
            f"version {_RUN_FORMAT_VERSION}."
        )
    return run


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human-readable ``key (old there, new here)`` for every differing (nested) field."""
    diffs = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            diffs += _differences(a, b, prefix=f"{prefix}{key}.")
            continue
        sa, sb = json.dumps(a), json.dumps(b)
        if len(sa) > 60 or len(sb) > 60:
            diffs.append(f"{prefix}{key}")
        else:
            diffs.append(f"{prefix}{key} ({sa} there, {sb} here)")
    return diffs


def prepare_out(out: Path, plan: RunPlan, data: Any, identity: dict[str, Any], device: str) -> str:
    """Create ``run.json`` or check that the existing one is this run; return the fingerprint."""
    fingerprint = identity_fingerprint(identity)
    path = out / RUN_FILE
    if path.exists():
        run = read_run(out)
        old = run.get("identity", {})
        if run.get("fingerprint") != fingerprint or old != identity:
            diffs = _differences(old, identity)
            raise RunMismatchError(
                f"{out} holds a run of {old.get('benchmark_id')!r} ({old.get('variant')!r} "
                f"variant) that differs from this one in: {', '.join(diffs) or 'fingerprint'}. "
                "Chunks of different runs are never mixed: use another --out, or repeat the "
                "original command (same task, variant, seeds, n-configs, hpobench version)."
            )
        return fingerprint
    try:
        out.mkdir(parents=True, exist_ok=True)
        foreign = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    except OSError as e:
        raise GenerationError(f"Cannot create or read the output directory {out}: {e}.") from e
    if foreign:
        raise RunMismatchError(
            f"{out} is not empty and holds no {RUN_FILE} (found {sorted(foreign)[:5]}); "
            "generation writes only into a new or empty directory or one it created."
        )
    v = plan.family.variant(plan.variant)
    run = {
        "format": _RUN_FORMAT,
        "format_version": _RUN_FORMAT_VERSION,
        "fingerprint": fingerprint,
        "identity": identity,
        "command": plan.command(),
        "n_configs_override": plan.n_configs_override,
        "config_seed": plan.family.config_seed if v.n_configs is not None else None,
        "created_utc": utc_iso(time.time()),
        "created_by": {"git": git_commit(), "device_requested": device},
        "dataset_provenance": data.provenance,
        "dataset_sizes": {
            "train": len(data.y_train),
            "valid": len(data.y_valid),
            "test": len(data.y_test),
            "n_features": int(data.X_train.shape[1]),
        },
    }
    _atomic_json(path, run)
    return fingerprint


def check_code(out: Path, run: Mapping[str, Any]) -> None:
    """:class:`RunMismatchError` unless this code has the code identity that made the run."""
    old, new = run["identity"].get("code"), code_identity()
    if old != new:
        raise RunMismatchError(
            f"{out} was generated by code {old}, but this is {new}. Chunks and tables of "
            "different generator versions are never mixed: merge with the hpobench version that "
            "generated the run, or regenerate it."
        )
