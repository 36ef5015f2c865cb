"""What a run trains: the plan (configurations × seeds, cut into chunks) and the shards.

A run is ``n_configs × n_seeds`` *units*, numbered config-major (unit ``u`` is config
``u // n_seeds`` with seed ``seeds[u % n_seeds]``) and cut into consecutive chunks of
``chunk_size`` units. Shard ``i/n`` owns chunks ``k`` with ``k % n == i`` (round-robin, so
shards of an ordered grid get similar work). Everything here is pure: no I/O, no training.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpobench._errors import ConfigError, SeedError
from hpobench._validate import INT64_MAX, check_int
from hpobench.generate._families import Family, Unit, get_family, resolve_task, task_name
from hpobench.space import Config

__all__ = [
    "RunPlan",
    "expected_chunk",
    "parse_shard",
    "plan_from_run",
    "plan_run",
    "shard_chunks",
]


@dataclass(frozen=True, eq=False, kw_only=True)
class RunPlan:
    """What a run trains: family, variant, dataset, the configurations and seeds, the chunking."""

    family: Family
    variant: str
    dataset: str
    configs: tuple[Config, ...]
    seeds: tuple[int, ...]
    tuning_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    chunk_size: int
    n_configs_override: int | None = None
    #: The table's version. Training does not depend on it (a run's identity names version 1);
    #: :func:`hpobench.generate.merge_run` sets it when the table is written (``--version``).
    version: int = 1

    @property
    def benchmark_id(self) -> str:
        return f"{self.family.name}/{task_name(self.dataset)}-v{self.version}"

    @property
    def task(self) -> str:
        return f"{self.family.name}/{task_name(self.dataset)}"

    @property
    def n_units(self) -> int:
        return len(self.configs) * len(self.seeds)

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.n_units / self.chunk_size)

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """``[start, stop)`` unit indices of ``chunk``."""
        start = chunk * self.chunk_size
        return start, min(start + self.chunk_size, self.n_units)

    def unit_ids(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(config_id, seed)`` int64 arrays of units ``[start, stop)``."""
        u = np.arange(start, stop, dtype=np.int64)
        n_seeds = len(self.seeds)
        return u // n_seeds, np.asarray(self.seeds, dtype=np.int64)[u % n_seeds]

    def units(self, start: int, stop: int) -> tuple[Unit, ...]:
        cids, seeds = self.unit_ids(start, stop)
        return tuple(
            Unit(index=start + i, config_id=int(c), seed=int(s), config=self.configs[int(c)])
            for i, (c, s) in enumerate(zip(cids, seeds, strict=True))
        )

    def config_hash(self) -> str:
        """sha256 of the configuration list (canonical JSON, config_id order)."""
        text = json.dumps([list(c.items()) for c in self.configs], separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def command(self) -> str:
        """The CLI command that reproduces this plan (without --out/--device)."""
        parts = [f"hpobench generate {self.task} --variant {self.variant}"]
        if self.seeds != self.family.seeds:
            parts.append("--seeds " + " ".join(str(s) for s in self.seeds))
        if self.n_configs_override is not None:
            parts.append(f"--n-configs {self.n_configs_override}")
        return " ".join(parts)


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    out = []
    for s in seeds:
        out.append(check_int("each training seed", s, low=0, high=INT64_MAX, error=SeedError))
    if not out or len(set(out)) != len(out):
        raise SeedError(f"Training seeds must be a non-empty list of distinct integers, got {out}.")
    return tuple(out)


def plan_run(
    task: str | tuple[Family, str],
    *,
    variant: str = "cpu",
    seeds: Sequence[int] | None = None,
    n_configs: int | None = None,
    chunk_size: int | None = None,
) -> RunPlan:
    """Build the :class:`RunPlan` of ``task`` (``"FAMILY/TASK"`` or ``(family, dataset)``).

    ``seeds`` overrides the family's training seeds; the first ``ceil(n/2)`` become tuning
    seeds and the rest test seeds. ``n_configs`` overrides a sampled variant's count (a prefix
    of the same sequence). Raises :class:`ConfigError` / :class:`SeedError` on bad input.
    """
    family, dataset = resolve_task(task) if isinstance(task, str) else task
    if dataset not in family.datasets:
        raise ConfigError(f"Family {family.name!r} has no dataset {dataset!r}.")
    v = family.variant(variant)
    configs = tuple(family.configs(variant, n_configs))
    if seeds is None:
        all_seeds, tuning, test = family.seeds, family.tuning_seeds, family.test_seeds
    else:
        all_seeds = _check_seeds(seeds)
        half = math.ceil(len(all_seeds) / 2)
        tuning, test = all_seeds[:half], all_seeds[half:]
    size = check_int(
        "chunk_size", v.chunk_size if chunk_size is None else chunk_size, low=1, error=ConfigError
    )
    return RunPlan(
        family=family,
        variant=variant,
        dataset=dataset,
        configs=configs,
        seeds=tuple(all_seeds),
        tuning_seeds=tuple(tuning),
        test_seeds=tuple(test),
        chunk_size=size,
        n_configs_override=n_configs,
    )


_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"i/n"`` (``0 <= i < n``) into ``(i, n)``; else :class:`ConfigError`."""
    m = _SHARD_RE.match(text) if isinstance(text, str) else None
    if m is None or not 0 <= int(m[1]) < int(m[2]):
        raise ConfigError(
            f"A shard must be 'i/n' with 0 <= i < n (e.g. 0/4 ... 3/4 for four shards), "
            f"but got {text!r}."
        )
    return int(m[1]), int(m[2])


def shard_chunks(n_chunks: int, index: int, count: int) -> list[int]:
    """Chunks of shard ``index`` of ``count``: ``k % count == index`` (every chunk in one shard)."""
    if not 0 <= index < count:
        raise ConfigError(f"`0 <= index < count` must hold, but got {index=}, {count=}.")
    return list(range(index, n_chunks, count))


def expected_chunk(plan: RunPlan, chunk: int) -> dict[str, Any]:
    """What chunk file ``chunk`` must hold (index, config ids, seeds): keywords of ``read_chunk``."""
    start, stop = plan.chunk_range(chunk)
    cids, seeds = plan.unit_ids(start, stop)
    return {"chunk": chunk, "config_id": cids, "seed": seeds}


def plan_from_run(run: Mapping[str, Any]) -> RunPlan:
    """The plan a run directory's parsed ``run.json`` was made from (as this code builds it)."""
    ident = run["identity"]
    family = get_family(ident["family"])
    seeds = ident["seeds"]
    plan = plan_run(
        (family, ident["dataset"]),
        variant=ident["variant"],
        seeds=None if tuple(seeds) == family.seeds else seeds,
        n_configs=run.get("n_configs_override"),
        chunk_size=ident["chunk_size"],
    )
    return plan
