"""Submissions: the format, their verification, and adding a verified one to the board.

A submission is a folder::

    submission.json                                  manifest (below)
    <optimizer>.py                                   the optimizer's code: one file, factory inside
    trajectories/<protocol>/<family>/<task>/rep-<r>.parquet   one trajectory per pinned task and
                                                     repetition 0..n-1 (run_suite's layout)

``submission.json``: ``format`` ("hpobench-submission"), ``format_version`` (1), ``name`` (the
entry's name on the board), ``optimizer`` ("<file>.py:<factory>"), ``protocol`` and
``protocol_hash``, ``references_hash``, ``hpobench_version``, ``description`` (free text) and
``files``: every other file's path (relative, '/'-separated) with its sha256.
``hpobench evaluate`` writes exactly this folder into ``<out>/submission``.

:func:`verify` rejects with a :class:`SubmissionRejected` naming the check, the file and row, and
what must hold. It checks, in order: the manifest (missing, unlisted or altered files), the
protocol (name, version, hash, references), that every pinned (task, repetition) is there once,
then every trajectory: its digest, its task and pinned table sha256, the seeds and budget rules
derived from the protocol, the optimizer's source digest and the harness code; then it **replays
every recorded evaluation against the table** (config → row, tuning seed of the trial, value,
cost, resume chain, order, budget cut, incumbent and its test score). Finally it **re-runs the
submitted code** (sandboxed where the harness offers it) and requires every trajectory to come
out identical, bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpobench._errors import HPOBenchError
from hpobench.harness import Protocol, Trajectory, get_protocol, run_suite, trajectory_path
from hpobench.harness._provenance import code_sha256, hpobench_version
from hpobench.harness._seeding import optimizer_seed, repetition_seed, trial_seed_index
from hpobench.harness._trajectory import CONFIG_PREFIX
from hpobench.leaderboard._errors import LeaderboardError, SubmissionRejected
from hpobench.leaderboard._produce import sandbox_options
from hpobench.leaderboard._records import read_records
from hpobench.leaderboard._references import References, load_references

__all__ = ["FORMAT_NAME", "VerificationReport", "submit", "verify", "write_manifest"]

FORMAT_NAME = "hpobench-submission"
FORMAT_VERSION = 1
MANIFEST = "submission.json"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_REP_RE = re.compile(r"^rep-(\d{3,})\.parquet$")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name != MANIFEST and "__pycache__" not in p.parts
    )


def write_manifest(
    folder: str | Path,
    *,
    name: str,
    optimizer: str,
    protocol: Protocol,
    description: str = "",
    references: References | None = None,
) -> Path:
    """Write ``submission.json`` for the files now in ``folder`` (hashes every file)."""
    root = Path(folder)
    refs = references or load_references(protocol)
    d = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": name,
        "optimizer": optimizer,
        "protocol": protocol.name,
        "protocol_hash": protocol.hash,
        "references_hash": refs.hash,
        "hpobench_version": hpobench_version(),
        "description": description,
        "files": {f: _sha256(root / f) for f in _files(root)},
    }
    p = root / MANIFEST
    p.write_text(json.dumps(d, indent=1, sort_keys=True) + "\n")
    return p


@dataclass(frozen=True)
class VerificationReport:
    """A submission that passed: its name, protocol, and what was checked."""

    name: str
    protocol: str
    n_runs: int
    n_evaluations: int
    reran: bool
    sandboxed: bool


def _reject(check: str, where: str, reason: str) -> SubmissionRejected:
    return SubmissionRejected(check, where, reason)


def _read_manifest(root: Path) -> dict[str, Any]:
    if not root.is_dir():
        raise _reject(
            "missing_file", str(root), "a submission must be a folder, but it does not exist."
        )
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise _reject(
            "missing_file", MANIFEST, f"the folder must contain {MANIFEST}, but it does not."
        )
    try:
        d = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _reject("manifest", MANIFEST, f"must be valid JSON, but: {e}.") from None
    need = ("format", "format_version", "name", "optimizer", "protocol", "protocol_hash",
            "references_hash", "files")  # fmt: skip
    if not isinstance(d, dict) or any(k not in d for k in need):
        missing = [k for k in need if not isinstance(d, dict) or k not in d]
        raise _reject(
            "manifest", MANIFEST, f"must have the keys {list(need)}, but lacks {missing}."
        )
    if d["format"] != FORMAT_NAME or d["format_version"] != FORMAT_VERSION:
        raise _reject(
            "manifest", MANIFEST,
            f"must declare format {FORMAT_NAME!r} version {FORMAT_VERSION}, but declares "
            f"{d['format']!r} version {d['format_version']!r}.",
        )  # fmt: skip
    if not isinstance(d["name"], str) or not _NAME_RE.match(d["name"]):
        raise _reject(
            "manifest", MANIFEST,
            f"name must be 1-64 letters, digits, '_', '-' or '.', but is {d['name']!r}.",
        )  # fmt: skip
    if not isinstance(d["files"], dict):
        raise _reject("manifest", MANIFEST, "files must map relative paths to sha256 digests.")
    return d


def _check_files(root: Path, d: Mapping[str, Any]) -> None:
    listed: Mapping[str, str] = d["files"]
    for rel in sorted(listed):
        p = root / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise _reject("manifest", rel, "paths must be relative and stay inside the folder.")
        if not p.is_file():
            raise _reject("missing_file", rel, "is listed in submission.json, but does not exist.")
        got = _sha256(p)
        if got != listed[rel]:
            raise _reject(
                "file_digest", rel,
                f"its sha256 must be {listed[rel]!r} as listed, but is {got!r} (altered after listing).",
            )  # fmt: skip
    unlisted = [f for f in _files(root) if f not in listed]
    if unlisted:
        raise _reject(
            "unlisted_file", unlisted[0], "is in the folder but not listed in submission.json."
        )
    opt_file = str(d["optimizer"]).rsplit(":", 1)[0]
    if not opt_file.endswith(".py") or "/" in opt_file:
        raise _reject(
            "manifest", MANIFEST,
            f"optimizer must be '<file>.py:<factory>' for a file at the folder's top, but is {d['optimizer']!r}.",
        )  # fmt: skip
    if opt_file not in listed:
        raise _reject("missing_file", opt_file, "the optimizer's code must be in the submission.")


def _check_protocol(d: Mapping[str, Any], refs: References | None) -> tuple[Protocol, References]:
    try:
        proto = get_protocol(d["protocol"])
    except HPOBenchError as e:
        raise _reject("protocol", MANIFEST, str(e)) from None
    if d["protocol_hash"] != proto.hash:
        raise _reject(
            "protocol", MANIFEST,
            f"protocol_hash must be {proto.hash!r} ({proto.name} as installed), but is "
            f"{d['protocol_hash']!r}: the runs were made under another definition of the protocol.",
        )  # fmt: skip
    try:
        r = refs or load_references(proto)
        r.check_protocol(proto)
    except LeaderboardError as e:
        raise _reject("protocol", MANIFEST, str(e)) from None
    if d["references_hash"] != r.hash:
        raise _reject(
            "protocol", MANIFEST,
            f"references_hash must be {r.hash!r}, but is {d['references_hash']!r} (other references).",
        )  # fmt: skip
    return proto, r


def _expected_runs(root: Path, proto: Protocol, refs: References) -> dict[str, tuple[str, int]]:
    """rel path -> (task, rep) of every run the protocol asks for; checks presence and extras."""
    base = root / "trajectories"
    want: dict[str, tuple[str, int]] = {}
    for task in refs.task_ids:
        for r in range(proto.n_repetitions):
            rel = trajectory_path(base, proto, task, r).relative_to(root).as_posix()
            want[rel] = (task, r)
    have = (
        {p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file()}
        if base.is_dir()
        else set()
    )
    for rel in sorted(want):
        if rel not in have:
            raise _reject(
                "missing_run", rel,
                f"protocol {proto.name} needs every pinned task × repetitions 0..{proto.n_repetitions - 1}; "
                "this run is missing.",
            )  # fmt: skip
    extra = sorted(have - set(want))
    if extra:
        raise _reject(
            "unexpected_run", extra[0],
            f"is not a run protocol {proto.name} asks for (pinned tasks {list(refs.task_ids)}, "
            f"repetitions 0..{proto.n_repetitions - 1}).",
        )  # fmt: skip
    return want


def _eq(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def _check_meta(rel: str, traj: Trajectory, proto: Protocol, refs: References,
                task: str, rep: int, source_sha: str) -> None:  # fmt: skip
    m = traj.meta
    if m.protocol.hash != proto.hash:
        raise _reject("protocol", rel, f"must be a run of {proto.name} (hash {proto.hash[:12]}), but "
                      f"is of {m.protocol.name} (hash {m.protocol.hash[:12]}).")  # fmt: skip
    if m.benchmark_id != task:
        raise _reject(
            "task", rel, f"must be a trajectory of {task} (its path), but is of {m.benchmark_id}."
        )
    if m.backend_sha256 != refs[task].table_sha256:
        raise _reject("task", rel, f"must be run on the pinned backend sha256 {refs[task].table_sha256[:16]}, "
                      f"but was run on {m.backend_sha256[:16]}.")  # fmt: skip
    if m.repetition != rep:
        raise _reject(
            "repetition", rel, f"must be repetition {rep} (its path), but records {m.repetition}."
        )
    want_seed = repetition_seed(proto.name, proto.seed, task, rep)
    if m.repetition_seed != want_seed or m.optimizer_seed != optimizer_seed(want_seed):
        raise _reject("seeds", rel, f"repetition_seed / optimizer_seed must be {want_seed} / "
                      f"{optimizer_seed(want_seed)}, but are {m.repetition_seed} / {m.optimizer_seed}.")  # fmt: skip
    if m.optimizer_source_sha256 != source_sha:
        raise _reject("optimizer", rel, f"was produced by code with source sha256 "
                      f"{m.optimizer_source_sha256[:16]}, but the submitted optimizer file hashes to "
                      f"{source_sha[:16]}: a run of other code.")  # fmt: skip
    if m.code_sha256 != code_sha256():
        raise _reject("harness", rel, f"was produced by harness code {m.code_sha256[:16]}, but this "
                      f"installation's is {code_sha256()[:16]}; rerun it with this hpobench version.")  # fmt: skip


def _replay(rel: str, traj: Trajectory, proto: Protocol) -> None:
    """Check every recorded evaluation against the table (see the module docstring)."""
    from hpobench.harness._oracle import make_oracle
    from hpobench.registry import make

    m = traj.meta
    bench = make(m.benchmark_id)
    oracle = make_oracle(bench, objective=proto.objective, reported_metric=proto.reported_metric)
    d = len(bench.space)
    if tuple(m.tuning_seeds) != tuple(oracle.tuning_seeds) or tuple(m.test_seeds) != tuple(
        oracle.test_seeds
    ):
        raise _reject("seeds", rel, f"tuning/test seeds must be {oracle.tuning_seeds}/{oracle.test_seeds}, "
                      f"but are {m.tuning_seeds}/{m.test_seeds}.")  # fmt: skip
    ref_rt = oracle.reference_runtime()
    rules = {
        "reference_runtime": ref_rt,
        "n_full": proto.n_full(d),
        "time_budget": proto.time_budget(d, ref_rt),
        "max_evaluations": proto.max_evaluations(d),
    }
    for k, v in rules.items():
        if not _eq(float(getattr(m, k)), float(v)):
            raise _reject("budget_rules", rel, f"{k} must be {v!r} (from the protocol and the table), "
                          f"but is {getattr(m, k)!r}.")  # fmt: skip
    B, cap = rules["time_budget"], rules["max_evaluations"]
    cols = traj.table.to_pydict()
    n = traj.table.num_rows
    if m.n_evaluations != n:
        raise _reject(
            "meta", rel, f"n_evaluations must equal its {n} rows, but is {m.n_evaluations}."
        )
    if n > cap or n + m.n_discarded > cap:
        raise _reject("over_budget", rel, f"at most {cap} evaluations may be dispatched, but it records "
                      f"{n} (+{m.n_discarded} discarded).")  # fmt: skip
    fvals = bench.fidelity.values
    fpos = {float(v): i for i, v in enumerate(fvals)}
    tune = list(oracle.tuning_seeds)
    test = set(oracle.test_seeds)
    space_names = bench.space.names
    sign = 1.0 if oracle.direction == "minimize" else -1.0
    trials: dict[int, dict[str, Any]] = {}
    inc_trial, inc_row, inc_fidx, inc_key, inc_test = -1, -1, -1, math.inf, math.nan
    inc_value = math.nan
    last_time = 0.0
    for i in range(n):
        where = f"{rel} row {i}"
        t, start, cost = cols["time"][i], cols["start_time"][i], cols["cost"][i]
        val, fid = cols["value"][i], cols["fidelity"][i]
        for k in ("time", "start_time", "cost", "fidelity"):
            if not math.isfinite(cols[k][i]):
                raise _reject("non_finite", where, f"{k} must be finite, but is {cols[k][i]!r}.")
        if math.isinf(val) or (cols["incumbent_test_score"][i] is not None
                               and math.isinf(cols["incumbent_test_score"][i])):  # fmt: skip
            raise _reject(
                "non_finite", where, "value and incumbent_test_score must not be infinite."
            )
        if t > B:
            raise _reject("over_budget", where, f"finished at simulated time {t!r}, after the budget {B!r}; "
                          "evaluations finishing after the budget do not count.")  # fmt: skip
        if t < last_time or start > t:
            raise _reject("order", where, f"evaluations must be recorded in the order they finished "
                          f"(time {t!r} after {last_time!r}, started {start!r}): reordered.")  # fmt: skip
        if proto.n_workers == 1 and start != last_time:
            raise _reject("order", where, f"with one worker an evaluation starts when the previous one "
                          f"finished ({last_time!r}), but this one starts at {start!r}: an evaluation was "
                          "skipped or reordered.")  # fmt: skip
        last_time = t
        tid = cols["trial_id"][i]
        resumed = cols["resumed_from"][i]
        config = {h: cols[CONFIG_PREFIX + h][i] for h in space_names}
        if float(fid) not in fpos:
            raise _reject(
                "replay", where, f"fidelity must be one of {list(fvals)}, but is {fid!r}."
            )
        fidx = fpos[float(fid)]
        want_sidx = trial_seed_index(m.repetition_seed, tid, len(tune))
        try:
            row, value, cum, _ = bench.query_curve(
                config, fidelity=fvals[fidx], seed=tune[want_sidx], metric=oracle.objective
            )
        except HPOBenchError as e:
            raise _reject(
                "replay", where, f"its config is not answerable by the table: {e}"
            ) from None
        if row != cols["config_id"][i]:
            raise _reject("replay", where, f"config_id must be {row} (the table's row of its config), but "
                          f"is {cols['config_id'][i]}.")  # fmt: skip
        if resumed is None or resumed != resumed:  # a new trial
            if tid in trials:
                raise _reject("duplicate", where, f"trial {tid} starts twice.")
            prev_cum = 0.0
        else:
            tr = trials.get(tid)
            if tr is None or tr["running"]:
                raise _reject(
                    "replay",
                    where,
                    f"resumes trial {tid}, which has no finished evaluation before.",
                )
            if float(resumed) != float(fvals[tr["fidx"]]) or tr["row"] != row:
                raise _reject("replay", where, f"a resume must continue trial {tid} from fidelity "
                              f"{fvals[tr['fidx']]!r} with config_id {tr['row']}, but records "
                              f"{resumed!r} / {row}.")  # fmt: skip
            if fidx <= tr["fidx"]:
                raise _reject("replay", where, "a resume must go beyond the fidelity reached.")
            prev_cum = tr["cum"]
        seed = cols["seed"][i]
        if seed != tune[want_sidx]:
            what = "a test-seed peek: " if seed in test else ""
            raise _reject("seed", where, f"{what}trial {tid} must be evaluated on tuning seed "
                          f"{tune[want_sidx]} (drawn from the repetition seed), but records seed {seed}.")  # fmt: skip
        if not _eq(float(val), float(value)):
            raise _reject("replay", where, f"value must be the table's {float(value)!r} (config_id {row}, "
                          f"seed {seed}, {bench.fidelity.name} {fvals[fidx]}), but is {val!r}: an "
                          "altered number.")  # fmt: skip
        want_cost = cum - prev_cum
        if not want_cost >= 0.0:
            want_cost = 0.0
        if not _eq(float(cost), float(want_cost)):
            raise _reject(
                "replay",
                where,
                f"cost must be {want_cost!r} (the table's runtime), but is {cost!r}.",
            )
        if not _eq(t, start + want_cost):
            raise _reject("replay", where, f"time must be start_time + cost = {start + want_cost!r}, "
                          f"but is {t!r}.")  # fmt: skip
        trials[tid] = {"row": row, "fidx": fidx, "cum": cum, "running": False}
        if value == value and (fidx > inc_fidx or (fidx == inc_fidx and sign * value < inc_key)):
            inc_trial, inc_row, inc_fidx, inc_key = tid, row, fidx, sign * value
            inc_value = value
            inc_test = oracle.test_score(row, config)
        got = (
            cols["incumbent_trial"][i],
            cols["incumbent_config_id"][i],
            cols["incumbent_test_score"][i],
        )
        if got[0] != inc_trial or got[1] != inc_row or not _eq(float(got[2]), float(inc_test)):
            raise _reject("incumbent", where, f"the incumbent must be trial {inc_trial} (config_id "
                          f"{inc_row}) with test score {inc_test!r}, but the row records trial {got[0]} "
                          f"(config_id {got[1]}) with {got[2]!r}.")  # fmt: skip
    final = m.incumbent_test_score
    if n and inc_trial >= 0:
        if (
            m.incumbent_trial != inc_trial
            or final is None
            or not _eq(float(final), float(inc_test))
        ):
            raise _reject("incumbent", rel, f"the final incumbent must be trial {inc_trial} with test "
                          f"score {inc_test!r}, but the metadata records {m.incumbent_trial} with {final!r}.")  # fmt: skip
        if not _eq(float(m.incumbent_value or math.nan), float(inc_value)):
            raise _reject(
                "incumbent",
                rel,
                f"incumbent_value must be {inc_value!r}, but is {m.incumbent_value!r}.",
            )
    elif m.incumbent_trial is not None:
        raise _reject(
            "incumbent", rel, "records an incumbent, but no evaluation has a finite value."
        )


def _rerun(root: Path, d: Mapping[str, Any], proto: Protocol, refs: References,
           n_processes: int | None, sandbox: bool | None) -> None:  # fmt: skip
    opt_file, _, attr = str(d["optimizer"]).partition(":")
    spec = f"{root / opt_file}:{attr or 'make_optimizer'}"
    with tempfile.TemporaryDirectory(prefix="hpobench-verify-") as tmp:
        results = run_suite(
            spec,
            proto,
            out=tmp,
            suite=list(refs.task_ids),
            executor="pool" if (n_processes or 1) > 1 else "serial",
            n_processes=n_processes,
            **sandbox_options(sandbox),
        )
        for res in results:
            rel = trajectory_path(root / "trajectories", proto, res.benchmark_id, res.repetition)
            rel_s = rel.relative_to(root).as_posix()
            if res.outcome == "error":
                raise _reject("rerun", rel_s, f"re-running the submitted code failed: {res.reason}")
            mine = Trajectory.read(root / rel_s)
            theirs = Trajectory.read(res.path)
            if mine.digest() != theirs.digest():
                raise _reject("rerun", rel_s, _first_difference(mine, theirs))


def _first_difference(sub: Trajectory, rerun: Trajectory) -> str:
    a, b = sub.meta.to_dict(), rerun.meta.to_dict()
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            return (f"re-running the submitted code must reproduce it bit for bit, but metadata {k!r} "
                    f"differs: submitted {str(a.get(k))[:80]!r}, rerun {str(b.get(k))[:80]!r}.")  # fmt: skip
    n = min(sub.table.num_rows, rerun.table.num_rows)
    for name in sub.table.column_names:
        if name.endswith("_wall_s"):
            continue
        x = sub.table.column(name).to_pylist()
        y = rerun.table.column(name).to_pylist()
        for i in range(n):
            if not (x[i] == y[i] or (x[i] != x[i] and y[i] != y[i])):
                return (f"re-running the submitted code must reproduce it bit for bit, but row {i} "
                        f"column {name!r} differs: submitted {x[i]!r}, rerun {y[i]!r}.")  # fmt: skip
    return (f"re-running the submitted code must reproduce it bit for bit, but it has "
            f"{sub.table.num_rows} rows and the rerun {rerun.table.num_rows}.")  # fmt: skip


def verify(
    folder: str | Path,
    *,
    rerun: bool = True,
    references: References | None = None,
    n_processes: int | None = None,
    sandbox: bool | None = None,
) -> VerificationReport:
    """Verify a submission folder (see the module docstring); raise ``SubmissionRejected``.

    The rerun is sandboxed where this hpobench has the mode (``sandbox=None``)."""
    root = Path(folder)
    d = _read_manifest(root)
    _check_files(root, d)
    proto, refs = _check_protocol(d, references)
    want = _expected_runs(root, proto, refs)
    opt_file = str(d["optimizer"]).rsplit(":", 1)[0]
    source_sha = hashlib.sha256((root / opt_file).read_text(encoding="utf-8").encode()).hexdigest()
    seen: dict[str, str] = {}
    n_evals = 0
    for rel, (task, rep) in sorted(want.items()):
        try:
            traj = Trajectory.read(root / rel)
        except HPOBenchError as e:
            raise _reject("digest", rel, str(e)) from None
        dg = traj.digest()
        if dg in seen:
            raise _reject("duplicate", rel, f"is the same run as {seen[dg]} (identical digests).")
        seen[dg] = rel
        _check_meta(rel, traj, proto, refs, task, rep, source_sha)
        _replay(rel, traj, proto)
        n_evals += len(traj)
    sandboxed = False
    if rerun:
        sandboxed = bool(sandbox_options(sandbox).get("sandbox"))
        _rerun(root, d, proto, refs, n_processes, sandbox)
    return VerificationReport(
        name=d["name"],
        protocol=proto.name,
        n_runs=len(want),
        n_evaluations=n_evals,
        reran=rerun,
        sandboxed=sandboxed,
    )


def submit(
    folder: str | Path,
    *,
    board: str | Path | None = None,
    references: References | None = None,
    n_processes: int | None = None,
) -> Path:
    """Verify ``folder`` and add it to the board atomically; re-render the board.

    Nothing on the board changes unless verification passed and the new pages rendered: the
    submission is copied to a hidden temporary folder beside its final place, the pages are
    rendered into a temporary folder, then both are renamed into place.
    """
    from hpobench.leaderboard._board import SUBMISSIONS
    from hpobench.leaderboard._produce import board_dir

    root = Path(board) if board is not None else board_dir()
    report = verify(folder, references=references, n_processes=n_processes)
    target = root / SUBMISSIONS / report.protocol / report.name
    runs = root / report.protocol / "runs.parquet"
    taken = target.exists() or (
        runs.is_file() and report.name in {r.optimizer for r in read_records(runs)}
    )
    if taken:
        raise _reject(
            "name", MANIFEST, f"the name {report.name!r} is taken on the {report.protocol} board."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{report.name}.", dir=target.parent))
    site = Path(tempfile.mkdtemp(prefix=".site.", dir=root))
    try:
        shutil.copytree(
            folder, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
        )
        os.replace(staging, target)
        try:
            written = _render_to(site, root)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        for f in written:
            dest = root / f.relative_to(site)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(site, ignore_errors=True)
    return target


def _render_to(site: Path, root: Path) -> list[Path]:
    """Render the board whose data is under ``root`` into ``site`` (a temporary folder)."""
    from hpobench.leaderboard._board import board_protocols, load_board
    from hpobench.leaderboard._render import write_site

    pages = [load_board(p, board=root)[1] for p in board_protocols(root)]
    return write_site(site, pages) if pages else []
