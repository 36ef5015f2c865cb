"""The merged table's meta.json: what was trained, on which data, by which code, timed how.

Built from a run's ``run.json`` and the provenance every chunk carries (devices, commits,
libraries, train settings, runtime calibration samples); no host names.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpobench.generate._families import Family, grid_description
from hpobench.generate._plan import RunPlan
from hpobench.generate._provenance import utc_iso
from hpobench.table import TableMeta

__all__ = ["runtime_calibration", "table_meta", "trained_description"]

_DIVERGED_CONVENTION = (
    "a unit whose loss became non-finite keeps NaN from the first non-finite fidelity step on "
    "(the trainer's convention); the batch it trained in continues"
)


def runtime_calibration(provs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One runtime factor for the table from the calibration samples of every chunk.

    ``scale = sum(alone) / sum(batched)`` over all sampled runs' seconds per epoch (see
    :mod:`hpobench.generate._neural`); 1.0 when no chunk carries samples (one model at a time).
    """
    alone: list[float] = []
    batched: list[float] = []
    epochs: set[int] = set()
    for p in provs:
        cal = (p.get("train_info") or {}).get("calibration")
        if cal:
            alone.extend(float(x) for x in cal["alone_epoch_seconds"])
            batched.extend(float(x) for x in cal["batched_epoch_seconds"])
            epochs.add(int(cal["epochs"]))
    if not alone or sum(batched) <= 0:
        return {"scale": 1.0, "method": "none: every model was timed alone"}
    ratios = np.asarray(alone) / np.maximum(np.asarray(batched), 1e-12)
    return {
        "scale": float(sum(alone) / sum(batched)),
        "method": (
            "per chunk, a few units (seeded choice) were retrained alone with the reference "
            "trainer for the given epochs; scale = sum(alone seconds per epoch) / "
            "sum(apportioned batched seconds per epoch) over all samples of all chunks; the "
            "runtime column is the apportioned seconds times scale"
        ),
        "n_samples": len(alone),
        "epochs": sorted(epochs),
        "ratio_alone_over_batched": {
            "min": float(ratios.min()),
            "median": float(np.median(ratios)),
            "max": float(ratios.max()),
        },
    }


def _train_info(provs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Distinct per-chunk train settings (calibration samples and group sizes summarized)."""
    seen: dict[str, dict[str, Any]] = {}
    sizes: set[int] = set()
    for p in provs:
        info = dict(p.get("train_info") or {})
        info.pop("calibration", None)
        sizes.update(int(g) for g in info.pop("group_sizes", []) or [])
        seen.setdefault(json.dumps(info, sort_keys=True), info)
    out = [seen[k] for k in sorted(seen)]
    if sizes:
        for info in out:
            info["models_per_group"] = {"min": min(sizes), "max": max(sizes)}
    return out


def trained_description(plan: RunPlan) -> str:
    """What the run trained: the variant's description, unless ``--n-configs`` changed the count.

    A variant's description names its own configuration count ("the first 128 of ..."); a run
    with ``--n-configs N`` trained the first ``N`` of the same sampled sequence instead, and the
    table must say so (it once said 128 after a 32-configuration merge).
    """
    v = plan.family.variant(plan.variant)
    n = plan.n_configs_override
    if n is None or n == v.n_configs:
        return v.description
    text = (
        f"the first {n:,} configurations sampled with config_seed {plan.family.config_seed} "
        f"(--n-configs {n}; the {plan.variant!r} variant's own count is {v.n_configs:,})"
    )
    if v.max_train_rows is not None:
        text += f"; train split subsampled to at most {v.max_train_rows:,} rows"
    return text


def _runtime_description(
    family: Family, generation: Mapping[str, Any], calibration: Mapping[str, Any]
) -> str:
    """The family's definition of the seconds plus this table's device and factor."""
    text = f"{family.runtime_description} Measured on: {'; '.join(generation['devices'])}."
    if "n_samples" in calibration:
        text += (
            f" This table's calibration factor: {calibration['scale']:.4g} "
            f"(from {calibration['n_samples']} runs timed alone)."
        )
    return text


def table_meta(
    plan: RunPlan,
    run: Mapping[str, Any],
    provs: Sequence[Mapping[str, Any]],
    n_diverged: int,
    calibration: Mapping[str, Any],
) -> TableMeta:
    """The v1 table's meta of ``plan`` from its run.json and its chunks' provenance."""
    family = plan.family
    v = family.variant(plan.variant)
    prov = dict(run["dataset_provenance"])
    sizes = run["dataset_sizes"]
    task_type = prov.get("task_type", "regression")
    source = prov.get("source", {})
    started = min(str(p.get("started_utc")) for p in provs)
    finished = max(str(p.get("finished_utc")) for p in provs)
    span = (
        _dt.datetime.fromisoformat(finished) - _dt.datetime.fromisoformat(started)
    ).total_seconds()
    commits = sorted(
        {json.dumps(p.get("git"), sort_keys=True) for p in provs},
    )
    libs = sorted({json.dumps(p.get("libraries"), sort_keys=True) for p in provs})
    sources = sorted({str(p.get("source_sha256")) for p in provs})
    executors = sorted({json.dumps(p.get("executor"), sort_keys=True) for p in provs})
    generation: dict[str, Any] = {
        "generated_by": "hpobench generate (hpobench.generate)",
        "command": plan.command()
        + (f"; merged with --version {plan.version}" if plan.version != 1 else ""),
        "family": family.name,
        "variant": plan.variant,
        "variant_description": trained_description(plan),
        "n_configs": len(plan.configs),
        "configurations": (
            {"kind": "grid", "values": grid_description(v.space)}
            if v.n_configs is None
            else {
                "kind": "sampled",
                "method": "n successive SearchSpace.sample(numpy.random.default_rng(config_seed)) calls (the stream SearchSpace.sample_many used before 2026-12)",
                "config_seed": family.config_seed,
                "n_configs_override": plan.n_configs_override,
            }
        ),
        "fidelity": family.fidelity_description,
        "seeds": family.seed_description,
        "max_train_rows": v.max_train_rows,
        "train_rows_used": sizes["train"],
        "settings": dict(v.settings),
        "diverged_units": n_diverged,
        "diverged_convention": _DIVERGED_CONVENTION,
        "devices": sorted({str(p.get("device")) for p in provs}),
        "device_requested": run.get("created_by", {}).get("device_requested"),
        "train_info": _train_info(provs),
        "calibration": dict(calibration),
        "code": run["identity"]["code"],
        "source_sha256": sources,
        "git": [json.loads(s) for s in commits],
        "library_versions": [json.loads(s) for s in libs],
        "executors": [json.loads(s) for s in executors],
        "chunks": {"n_chunks": plan.n_chunks, "chunk_size": plan.chunk_size},
        "compute_seconds": round(sum(float(p.get("wall_seconds", 0.0)) for p in provs), 3),
        "wall_clock": {"first_chunk_started_utc": started, "last_chunk_finished_utc": finished},
        "wall_seconds_span": span,
        "run_created_utc": run.get("created_utc"),
        "merged_utc": utc_iso(time.time()),
        "run_fingerprint": run["fingerprint"],
        "data_sha256": run["identity"]["data_sha256"],
    }
    description = (
        f"{family.description}. Variant {plan.variant!r}: {trained_description(plan)}. Dataset "
        f"{plan.dataset} ({task_type}), {sizes['train']:,}/{sizes['valid']:,}/{sizes['test']:,} "
        f"train/valid/test rows, {sizes['n_features']} features."
    )
    licence = "; ".join(
        x
        for x in (
            f"dataset: {source.get('licence', 'see dataset provenance')}",
            "table: generated by hpobench (Apache-2.0)",
        )
        if x
    )
    citation = family.citation
    if source.get("citation"):
        citation += f" Dataset: {source['citation']}"
    return TableMeta(
        id=plan.benchmark_id,
        description=description,
        space=v.space,
        fidelity=family.fidelity,
        metrics=family.metrics(task_type),
        objective=family.objective(task_type),
        reported_metric=family.reported_metric(task_type),
        seeds=plan.seeds,
        tuning_seeds=plan.tuning_seeds,
        test_seeds=plan.test_seeds,
        dataset={**prov, "sizes": sizes},
        generation=generation,
        citation=citation,
        licence=licence,
        runtime_description=_runtime_description(family, generation, calibration),
        extra={"off_table": "nearest" if v.n_configs is not None else "error"},
    )
