"""The JSON spec of ``hpobench import long``: a schema checked field by field, nothing coerced.

A spec says how to read a long-format table (one row per configuration, seed and fidelity step)
and what the resulting benchmark is. Every field is checked for its JSON type before use:
``"log": "false"`` is an error (not a log scale), ``tuning_seeds: [0.5]`` is an error (not seed 0),
``[true]`` is an error (not seed 1), an unknown key is an error with a suggestion. The complete
field list is :data:`FIELDS`; docs/tables.md shows a runnable example.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpobench._errors import HPOBenchError, TableError, did_you_mean
from hpobench._validate import INT64_MAX, check_int
from hpobench.space import SearchSpace
from hpobench.table import MetricSpec, parse_id

__all__ = ["FIELDS", "MISSING_POLICIES", "LongSpec", "read_spec"]

MISSING_POLICIES = ("error", "drop", "nan")

#: field -> (required, JSON type, what it means)
FIELDS: dict[str, tuple[bool, str, str]] = {
    "id": (True, "string", "benchmark id 'family/task-vN'"),
    "space": (True, "object", "the search space: {'hyperparameters': [...]}"),
    "fidelity_column": (True, "string", "column holding the fidelity step (e.g. epoch)"),
    "seed_column": (True, "string", "column holding the integer training seed"),
    "metrics": (True, "object", "metric column -> {'direction', 'split', 'description'?}"),
    "objective": (True, "string", "the metric optimizers minimise/maximise (not a test split)"),
    "tuning_seeds": (True, "array", "seeds optimizers see (non-empty list of integers)"),
    "test_seeds": (True, "array", "seeds incumbents are scored on (non-empty list of integers)"),
    "reported_metric": (False, "string", "metric scored on the test seeds (default: objective)"),
    "runtime_metric": (False, "string", "cumulative seconds per step (default 'runtime')"),
    "missing": (False, "string", f"what missing cells do: one of {list(MISSING_POLICIES)}"),
    "description": (False, "string", "one line about the task"),
    "dataset": (False, "object", "dataset provenance"),
    "citation": (False, "string", "what to cite"),
    "licence": (False, "string", "the data's licence"),
    "runtime_description": (False, "string", "what a runtime second means"),
}
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
}
_METRIC_FIELDS = ("direction", "split", "description")


def _type_name(v: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
        type(None): "null",
    }.get(type(v), type(v).__name__)


@dataclass(frozen=True)
class LongSpec:
    """A checked spec; the keyword arguments of :func:`import_long_format` are ``kwargs()``."""

    id: str
    space: SearchSpace
    fidelity_column: str
    seed_column: str
    metrics: Mapping[str, MetricSpec]
    objective: str
    tuning_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    reported_metric: str | None = None
    runtime_metric: str = "runtime"
    missing: str = "error"
    description: str = ""
    dataset: Mapping[str, Any] | None = None
    citation: str = ""
    licence: str = ""
    runtime_description: str = ""

    @classmethod
    def from_dict(cls, d: Any, *, source: str = "spec") -> LongSpec:
        """Check every field of ``d`` (the parsed JSON) and build the spec."""
        if not isinstance(d, dict):
            raise TableError(
                f"{source}: must be a JSON object with the fields {sorted(FIELDS)}, but is "
                f"{_type_name(d)}."
            )
        unknown = [k for k in d if k not in FIELDS]
        if unknown:
            raise TableError(
                f"{source}: unknown field {unknown[0]!r}; the fields are {sorted(FIELDS)}."
                + did_you_mean(str(unknown[0]), FIELDS)
            )
        missing = [k for k, (req, _, _) in FIELDS.items() if req and k not in d]
        if missing:
            raise TableError(f"{source}: the fields {missing} are required but missing.")
        for k, v in d.items():
            want = FIELDS[k][1]
            if not isinstance(v, _JSON_TYPES[want]):
                raise TableError(
                    f"{source}: field {k!r} must be a JSON {want} ({FIELDS[k][2]}), but is "
                    f"{_type_name(v)}: {v!r}."
                )
        try:
            parse_id(d["id"])
            space = SearchSpace.from_dict(d["space"])
        except HPOBenchError as e:
            raise TableError(f"{source}: {e}") from None
        metrics = {}
        for name, m in d["metrics"].items():
            if (
                not isinstance(m, dict)
                or set(m) - set(_METRIC_FIELDS)
                or {"direction", "split"} - set(m)
            ):
                raise TableError(
                    f"{source}: metrics[{name!r}] must be an object with 'direction', 'split' and "
                    f"optionally 'description', but is {m!r}."
                )
            if not all(isinstance(v, str) for v in m.values()):
                raise TableError(
                    f"{source}: metrics[{name!r}] fields must be strings, but got {m!r}."
                )
            try:
                metrics[name] = MetricSpec(
                    name, m["direction"], m["split"], m.get("description", "")
                )
            except HPOBenchError as e:
                raise TableError(f"{source}: {e}") from None
        seeds = {}
        for k in ("tuning_seeds", "test_seeds"):
            if not d[k]:
                raise TableError(
                    f"{source}: field {k!r} must list at least one seed, but is empty."
                )
            seeds[k] = tuple(
                check_int(
                    f"{source}: each of {k!r}",
                    s,
                    low=-INT64_MAX - 1,
                    high=INT64_MAX,
                    error=TableError,
                )
                for s in d[k]
            )
        missing_policy = d.get("missing", "error")
        if missing_policy not in MISSING_POLICIES:
            raise TableError(
                f"{source}: field 'missing' must be one of {list(MISSING_POLICIES)}, but got "
                f"{missing_policy!r}."
            )
        return cls(
            id=d["id"],
            space=space,
            fidelity_column=d["fidelity_column"],
            seed_column=d["seed_column"],
            metrics=metrics,
            objective=d["objective"],
            tuning_seeds=seeds["tuning_seeds"],
            test_seeds=seeds["test_seeds"],
            reported_metric=d.get("reported_metric"),
            runtime_metric=d.get("runtime_metric", "runtime"),
            missing=missing_policy,
            description=d.get("description", ""),
            dataset=d.get("dataset"),
            citation=d.get("citation", ""),
            licence=d.get("licence", ""),
            runtime_description=d.get("runtime_description", ""),
        )

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~hpobench.importers.import_long_format`."""
        return {
            "benchmark_id": self.id,
            "space": self.space,
            "fidelity_column": self.fidelity_column,
            "seed_column": self.seed_column,
            "metrics": dict(self.metrics),
            "objective": self.objective,
            "tuning_seeds": self.tuning_seeds,
            "test_seeds": self.test_seeds,
            "reported_metric": self.reported_metric,
            "runtime_metric": self.runtime_metric,
            "missing": self.missing,
            "description": self.description,
            "dataset": self.dataset,
            "citation": self.citation,
            "licence": self.licence,
            "runtime_description": self.runtime_description,
        }


def read_spec(path: str | Path) -> LongSpec:
    """Read and check a spec file; every failure is a ``TableError`` naming the file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise TableError(
            f"--spec {str(p)!r} must be a readable JSON file, but: {e.strerror or e}."
        ) from None
    try:
        d = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise TableError(
            f"--spec {str(p)!r} must be UTF-8 JSON text, but holds binary data."
        ) from None
    except json.JSONDecodeError as e:
        raise TableError(
            f"--spec {str(p)!r} must be valid JSON, but parsing failed: {e}."
        ) from None
    except RecursionError:
        raise TableError(
            f"--spec {str(p)!r} must be a JSON object, but it is nested too deeply."
        ) from None
    return LongSpec.from_dict(d, source=str(p))
