"""``TableMeta``: the typed view of a table's ``meta.json`` (format v1).

meta.json is the declarative record of a table: what was trained on which data, the search
space and fidelity, every metric with its direction and split, which training seeds tune and
which test, provenance, citation, licence and the parquet's sha256. Derived facts (row counts,
shapes) are checked against the parquet, never trusted blindly.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hpobench._errors import HPOBenchError, TableError
from hpobench._validate import INT64_MAX, check_int
from hpobench.fidelity import Fidelity
from hpobench.space import SearchSpace

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MetricSpec", "TableMeta", "id_path", "parse_id"]

FORMAT_NAME = "hpobench-table"
FORMAT_VERSION = 1
_ID_RE = re.compile(
    r"^(?P<family>[a-z0-9][a-z0-9_\-]*)/(?P<task>[a-z0-9][a-z0-9_\-]*?)-v(?P<version>[0-9]+)$"
)
_DIRECTIONS = ("minimize", "maximize")
_SPLITS = ("train", "valid", "test", "none")


def parse_id(benchmark_id: str) -> tuple[str, str, int]:
    """Split ``'family/task-vN'`` into ``(family, task, N)``."""
    m = _ID_RE.match(benchmark_id) if isinstance(benchmark_id, str) else None
    if not m:
        raise TableError(
            f"A benchmark id must look like 'family/task-vN' (lower case, e.g. 'fcnet/protein-v1'), "
            f"but got {benchmark_id!r}."
        )
    return m["family"], m["task"], int(m["version"])


def id_path(benchmark_id: str) -> str:
    """The folder of ``benchmark_id`` under a data (or surrogate) root, ``/``-separated.

    Version 1 lives in ``family/task`` (every table shipped before versions existed), a later
    version beside it in ``family/task-vN``, so ``gbt/kr-vs-kp-v2`` never overwrites
    ``gbt/kr-vs-kp-v1``.
    """
    family, task, version = parse_id(benchmark_id)
    return f"{family}/{task}" if version == 1 else f"{family}/{task}-v{version}"


def _seed_tuple(benchmark_id: str, what: str, values: Any) -> tuple[int, ...]:
    """Seeds as a tuple of ints: ``0.5`` or ``True`` is refused, never truncated to 0 or 1."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise TableError(f"{benchmark_id}: {what} must be a list of integers, but got {values!r}.")
    return tuple(
        check_int(
            f"{benchmark_id}: each of {what}",
            v,
            low=-INT64_MAX - 1,
            high=INT64_MAX,
            error=TableError,
        )
        for v in values
    )


@dataclass(frozen=True)
class MetricSpec:
    """One metric column: direction to optimise, the data split it is measured on, a description."""

    name: str
    direction: str
    split: str
    description: str = ""

    def __post_init__(self) -> None:
        if self.direction not in _DIRECTIONS:
            raise TableError(
                f"Metric {self.name!r}: direction must be one of {_DIRECTIONS}, got {self.direction!r}."
            )
        if self.split not in _SPLITS:
            raise TableError(
                f"Metric {self.name!r}: split must be one of {_SPLITS}, got {self.split!r}."
            )

    def to_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, "split": self.split, "description": self.description}


@dataclass(frozen=True)
class TableMeta:
    """Everything meta.json says about one table. Construct with keywords."""

    id: str
    description: str
    space: SearchSpace
    fidelity: Fidelity
    metrics: Mapping[str, MetricSpec]
    objective: str
    reported_metric: str
    seeds: tuple[int, ...]
    tuning_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    dataset: Mapping[str, Any]
    generation: Mapping[str, Any]
    citation: str
    licence: str
    runtime_metric: str = "runtime"
    runtime_description: str = ""
    sha256: str = ""
    n_configs: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    reference_runtime: float | None = None
    """Median full-fidelity runtime (s) over all configurations and tuning seeds (the unit of a
    protocol's time budget); computed by ``write_table`` and checked by ``read_table``."""

    def __post_init__(self) -> None:
        parse_id(self.id)
        for name in (self.objective, self.reported_metric, self.runtime_metric):
            if name not in self.metrics:
                raise TableError(
                    f"{self.id}: metric {name!r} is named in meta but not among {list(self.metrics)}."
                )
        seeds, tuning, test = (
            _seed_tuple(self.id, what, v)
            for what, v in (
                ("seeds", self.seeds),
                ("tuning_seeds", self.tuning_seeds),
                ("test_seeds", self.test_seeds),
            )
        )
        if len(set(seeds)) != len(seeds):
            raise TableError(f"{self.id}: seeds must be distinct, got {list(seeds)}.")
        if not tuning or not set(tuning) <= set(seeds) or not set(test) <= set(seeds):
            raise TableError(
                f"{self.id}: tuning seeds (non-empty) and test seeds must be subsets of {list(seeds)}, "
                f"got tuning={list(tuning)}, test={list(test)}."
            )
        if set(tuning) & set(test):
            raise TableError(
                f"{self.id}: tuning and test seeds must be disjoint, got {list(tuning)} and {list(test)}."
            )
        ref = self.reference_runtime
        if ref is not None and (
            isinstance(ref, bool)
            or not isinstance(ref, (int, float))
            or not math.isfinite(ref)
            or ref <= 0
        ):
            raise TableError(
                f"{self.id}: reference_runtime must be None or a positive finite number of "
                f"seconds, but got {ref!r}."
            )
        if ref is not None:
            object.__setattr__(self, "reference_runtime", float(ref))
        for name in ("metrics", "dataset", "generation", "extra"):  # read-only views
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(self, "tuning_seeds", tuning)
        object.__setattr__(self, "test_seeds", test)

    def __reduce__(self) -> tuple[Any, ...]:
        # mappingproxy fields do not pickle; rebuild from plain dicts
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("metrics", "dataset", "generation", "extra"):
            kw[name] = dict(kw[name])
        return (_rebuild_meta, (kw,))

    @property
    def family(self) -> str:
        return parse_id(self.id)[0]

    @property
    def task(self) -> str:
        return parse_id(self.id)[1]

    @property
    def version(self) -> int:
        return parse_id(self.id)[2]

    @property
    def direction(self) -> str:
        return self.metrics[self.objective].direction

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "id": self.id,
            "family": self.family,
            "task": self.task,
            "version": self.version,
            "description": self.description,
            "dataset": dict(self.dataset),
            "space": self.space.to_dict(),
            "fidelity": self.fidelity.to_dict(),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "objective": self.objective,
            "reported_metric": self.reported_metric,
            "runtime_metric": self.runtime_metric,
            "runtime_description": self.runtime_description,
            **(
                {"reference_runtime": self.reference_runtime}
                if self.reference_runtime is not None
                else {}
            ),
            "seeds": {
                "all": list(self.seeds),
                "tuning": list(self.tuning_seeds),
                "test": list(self.test_seeds),
            },
            "generation": dict(self.generation),
            "citation": self.citation,
            "licence": self.licence,
            "table": {"file": "table.parquet", "sha256": self.sha256, "n_configs": self.n_configs},
            "extra": dict(self.extra),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, d: Any, *, source: str = "meta.json") -> TableMeta:
        if not isinstance(d, Mapping):
            raise TableError(f"{source}: must hold a JSON object, but got {type(d).__name__}.")
        if d.get("format") != FORMAT_NAME or d.get("format_version") != FORMAT_VERSION:
            raise TableError(
                f"{source}: must declare format {FORMAT_NAME!r} version {FORMAT_VERSION}, but declares "
                f"{d.get('format')!r} version {d.get('format_version')!r}."
            )
        try:
            metrics = {
                k: MetricSpec(k, v["direction"], v["split"], v.get("description", ""))
                for k, v in d["metrics"].items()
            }
            return cls(
                id=d["id"],
                description=d.get("description", ""),
                space=SearchSpace.from_dict(d["space"]),
                fidelity=Fidelity.from_dict(d["fidelity"]),
                metrics=metrics,
                objective=d["objective"],
                reported_metric=d["reported_metric"],
                runtime_metric=d.get("runtime_metric", "runtime"),
                runtime_description=d.get("runtime_description", ""),
                seeds=tuple(d["seeds"]["all"]),
                tuning_seeds=tuple(d["seeds"]["tuning"]),
                test_seeds=tuple(d["seeds"]["test"]),
                dataset=d.get("dataset", {}),
                generation=d.get("generation", {}),
                citation=d.get("citation", ""),
                licence=d.get("licence", ""),
                sha256=d["table"]["sha256"],
                n_configs=int(d["table"].get("n_configs", 0)),
                extra=d.get("extra", {}),
                reference_runtime=_optional_float(d.get("reference_runtime")),
            )
        except HPOBenchError as e:  # a bad space, fidelity, metric or seed list: name the file
            raise TableError(f"{source}: invalid v1 metadata: {e}") from None
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise TableError(
                f"{source}: malformed v1 metadata, missing or wrong field {e}."
            ) from None

    @classmethod
    def read(cls, path: str | Path) -> TableMeta:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TableError(f"Table metadata file {str(p)!r} does not exist.") from None
        except (OSError, UnicodeDecodeError) as e:
            raise TableError(f"Cannot read table metadata {str(p)!r}: {e}.") from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise TableError(f"{p}: must be valid JSON, but parsing failed: {e}.") from None
        return cls.from_dict(d, source=str(p))


def _optional_float(x: Any) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"'reference_runtime' must be a number, got {x!r}")
    return float(x)


def _rebuild_meta(kw: dict[str, Any]) -> TableMeta:
    return TableMeta(**kw)
