"""``hpobench leaderboard run``: every baseline under every official protocol, into ``leaderboard/``.

One command, deterministic output: each (protocol, baseline) runs through
:func:`~hpobench.run_suite` (a local process pool, or Ray: the same code path) into a temporary
folder; each trajectory is reduced to a :class:`RunRecord` and the protocol's records are written
to ``leaderboard/<protocol>/runs.parquet`` (sorted, no wall-clock data: the same bytes on every
machine) with the machine-dependent optimizer compute in ``compute.json`` beside it.
``check=True`` reruns and compares every run's digest with the committed file instead of
writing.
"""

from __future__ import annotations

import inspect
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpobench._errors import HPOBenchError
from hpobench.harness import Trajectory, get_protocol, run_suite
from hpobench.leaderboard._errors import LeaderboardError
from hpobench.leaderboard._records import read_records, write_compute, write_records
from hpobench.leaderboard._references import load_references
from hpobench.leaderboard._scores import RunRecord, run_record
from hpobench.registry import spec

__all__ = [
    "BOARD_BASELINES",
    "OFFICIAL_PROTOCOLS",
    "ProduceReport",
    "baseline_specs",
    "board_dir",
    "produce",
    "run_entry",
    "sandbox_options",
]

logger = logging.getLogger(__name__)

OFFICIAL_PROTOCOLS = ("sf-serial-v3", "mf-serial-v5", "mf-async4-v5")

BOARD_BASELINES = (
    "asha",
    "async-hyperband",
    "bohb",
    "dehb",
    "hyperband",
    "one-epoch-top-k",
    "random-search",
    "regularized-evolution",
    "successive-halving",
    "tpe",
)
"""The baselines the committed board holds: every registered baseline whose whole board run fits
the 30-minute, 2-core regeneration target. The other model-based ones (``gp-ei``, ``rf-bo``,
``cqr``, ``cqr-mf``) and the Optuna adapters cost 0.1 to 1 s of optimizer compute per trial,
i.e. hours per protocol here; ``hpobench leaderboard run --baseline NAME`` adds them on
a bigger machine or through ``--ray``."""
"""The protocols the board shows: the pinned v2 protocols with their references filled in."""


def board_dir() -> Path:
    """The board folder: ``$HPOBENCH_LEADERBOARD`` or the checkout's top-level ``leaderboard/``."""
    env = os.environ.get("HPOBENCH_LEADERBOARD")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "leaderboard"


def baseline_specs() -> dict[str, str]:
    """Baseline name -> optimizer spec, from the ``baselines`` package's registry."""
    try:
        import baselines
    except ImportError:
        raise LeaderboardError(
            "The board runs the baselines of the checkout's `baselines/` package, which is not "
            "importable here; run from the repository root."
        ) from None
    reg = getattr(baselines, "BASELINES", None)
    if callable(reg):
        reg = reg()
    if not isinstance(reg, Mapping) or not reg:
        raise LeaderboardError("baselines.BASELINES must map baseline names to optimizer specs.")
    out: dict[str, str] = {}
    for name, value in reg.items():
        spec = value if isinstance(value, str) else getattr(value, "spec", None)
        if not isinstance(spec, str):
            raise LeaderboardError(
                f"Baseline {name!r} has no optimizer spec string, but {value!r}."
            )
        out[str(name)] = spec
    return dict(sorted(out.items()))


def not_applicable(name: str, protocol: str) -> str | None:
    """Why registered baseline ``name`` cannot run under ``protocol``, or ``None`` if it can.

    A multi-fidelity method refuses a single-fidelity problem at construction (by design: a clear
    error, not a crash mid-run), so on a protocol whose pinned tasks have one fidelity value every
    run would fail and score the cap; the board leaves such a pair out and says so instead.
    """
    try:
        from baselines import BaselineNotFoundError, get_baseline
    except ImportError:
        return None
    try:
        multi_fidelity = get_baseline(name).multi_fidelity
    except BaselineNotFoundError:
        return None
    if not multi_fidelity:
        return None
    single = [t for t in load_references(protocol).task_ids if spec(t).n_steps < 2]
    if not single:
        return None
    return (
        f"{name} is a multi-fidelity method and {len(single)} of the protocol's tasks have one "
        "fidelity value"
    )


def sandbox_options(sandbox: bool | None) -> dict[str, Any]:
    """``run_suite`` keyword arguments for the sandboxed mode: ``None`` means sandboxed where
    this hpobench has the mode, ``True`` requires it, ``False`` runs in-process."""
    has = "sandbox" in inspect.signature(run_suite).parameters
    if not has:
        if sandbox:
            raise LeaderboardError("This hpobench has no sandboxed mode (run_suite(sandbox=...)).")
        return {}
    return {"sandbox": True if sandbox is None else bool(sandbox)}


def run_entry(
    name: str,
    optimizer: str,
    protocol: str,
    *,
    out: str | Path,
    repetitions: int | None = None,
    executor: str = "pool",
    n_processes: int | None = None,
    ray_address: str | None = None,
    progress: bool = False,
    sandbox: bool | None = False,
) -> list[RunRecord]:
    """Run ``optimizer`` on every pinned task of ``protocol`` (trajectories under ``out``) and
    return one :class:`RunRecord` per run, named ``name``. Runs that could not start are logged
    and left out (they score the cap). ``sandbox``: see :func:`sandbox_options` (the board's own
    baselines run in-process: they are the package's code)."""
    refs = load_references(protocol)
    results = run_suite(
        optimizer,
        protocol,
        out=out,
        suite=list(refs.task_ids),
        repetitions=repetitions,
        executor=executor,
        n_processes=n_processes,
        ray_address=ray_address,
        progress=progress,
        **sandbox_options(sandbox),
    )
    records = []
    for res in results:
        if res.outcome == "error":
            logger.error(
                "%s: %s rep %d could not run: %s",
                name,
                res.benchmark_id,
                res.repetition,
                res.reason,
            )
            continue
        traj = Trajectory.read(res.path)
        records.append(run_record(traj, optimizer=name))
    return records


@dataclass(frozen=True)
class ProduceReport:
    """What one protocol's board run did: runs, wall seconds, and (check mode) mismatches."""

    protocol: str
    n_runs: int
    wall_s: float
    per_entry_s: Mapping[str, float]
    mismatches: tuple[str, ...]
    skipped: Mapping[str, str]
    """Baselines that refused the protocol (name -> reason)."""


def produce(
    *,
    board: str | Path | None = None,
    protocols: Sequence[str] = OFFICIAL_PROTOCOLS,
    baselines: Sequence[str] | None = None,
    executor: str = "pool",
    n_processes: int | None = 2,
    ray_address: str | None = None,
    check: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[ProduceReport]:
    """Run every baseline under every protocol and write (or, with ``check``, compare) the board.

    ``baselines`` selects names from :func:`baseline_specs` (default: :data:`BOARD_BASELINES`,
    those registered). Written per
    protocol: ``<board>/<protocol>/runs.parquet`` and ``compute.json``.
    """
    root = Path(board) if board is not None else board_dir()
    specs = baseline_specs()
    chosen = [b for b in BOARD_BASELINES if b in specs] if baselines is None else list(baselines)
    unknown = [b for b in chosen if b not in specs]
    if unknown:
        raise LeaderboardError(f"Unknown baselines {unknown}; the baselines are {list(specs)}.")
    reports = []
    for pname in protocols:
        proto = get_protocol(pname)
        load_references(proto)  # no board without references: fail before running anything
        t0 = time.perf_counter()
        records: list[RunRecord] = []
        per_entry: dict[str, float] = {}
        skipped: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="hpobench-board-") as tmp:
            for name in chosen:
                t1 = time.perf_counter()
                reason = not_applicable(name, proto.name)
                if reason is not None:
                    skipped[name] = reason
                    if progress is not None:
                        progress(f"{proto.name} {name}: not applicable ({reason})")
                    continue
                try:
                    records += run_entry(
                        name,
                        specs[name],
                        proto.name,
                        out=Path(tmp) / name,
                        executor=executor,
                        n_processes=n_processes,
                        ray_address=ray_address,
                    )
                except HPOBenchError as e:  # e.g. a multi-fidelity method on single-fidelity tasks
                    skipped[name] = str(e)
                    logger.warning("%s: %s is not run: %s", proto.name, name, e)
                    if progress is not None:
                        progress(f"{proto.name} {name}: not applicable ({e})")
                    continue
                per_entry[name] = time.perf_counter() - t1
                if progress is not None:
                    progress(f"{proto.name} {name}: {per_entry[name]:.1f} s")
        mismatches: list[str] = []
        runs_path = root / proto.name / "runs.parquet"
        if check:
            committed = {
                (r.optimizer, r.benchmark_id, r.repetition): r.digest
                for r in read_records(runs_path, protocol_hash=proto.hash)
            }
            fresh = {(r.optimizer, r.benchmark_id, r.repetition): r.digest for r in records}
            for key in sorted(set(committed) | set(fresh)):
                if committed.get(key) != fresh.get(key):
                    mismatches.append(
                        f"{key}: committed {str(committed.get(key))[:12]} vs rerun "
                        f"{str(fresh.get(key))[:12]}"
                    )
        else:
            write_records(runs_path, records, protocol=proto.name, protocol_hash=proto.hash)
            write_compute(
                root / proto.name / "compute.json",
                records,
                wall_s=per_entry,
                n_processes=None if executor == "ray" else n_processes,
            )
        reports.append(
            ProduceReport(
                protocol=proto.name,
                n_runs=len(records),
                wall_s=time.perf_counter() - t0,
                per_entry_s=per_entry,
                mismatches=tuple(mismatches),
                skipped=skipped,
            )
        )
    return reports
