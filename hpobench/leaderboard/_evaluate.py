"""``hpobench evaluate``: run a user's optimizer under a protocol and place it on the board.

Runs the protocol's pinned suite (local processes, all cores by default; or Ray) into
``<out>/runs/`` (rerunning resumes), copies the trajectories into ``<out>/submission/`` laid out
as a submission (the optimizer's file, its trajectories and
``submission.json``; see :mod:`hpobench.leaderboard._submission`), scores it against the
protocol's fixed references beside every entry of the board, prints the table and writes the
plots (PNG) and a self-contained ``report.html`` into ``<out>``. The submission folder can go to
``hpobench leaderboard verify`` / ``submit`` as it is.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from hpobench.harness import get_protocol
from hpobench.harness._loading import resolve_optimizer
from hpobench.leaderboard._board import load_board
from hpobench.leaderboard._errors import LeaderboardError
from hpobench.leaderboard._produce import board_dir, run_entry, sandbox_options
from hpobench.leaderboard._render import BoardPage, write_site
from hpobench.leaderboard._submission import write_manifest
from hpobench.leaderboard._summary import ProtocolBoard

__all__ = ["EvaluationReport", "evaluate", "format_board"]


@dataclass(frozen=True)
class EvaluationReport:
    """What ``evaluate`` produced: the board with the new entry, its name, and the files."""

    board: ProtocolBoard
    name: str
    submission: Path
    report_html: Path
    n_runs: int
    sandboxed: bool


def _name_and_file(optimizer: str) -> tuple[str, Path | None]:
    path_part = optimizer.split(":", 1)[0] if optimizer.count(":") <= 1 else optimizer
    if path_part.endswith(".py"):
        p = Path(path_part)
        return p.stem, p
    return optimizer.split(":", 1)[0].rsplit(".", 1)[-1], None


def evaluate(
    optimizer: str,
    protocol: str,
    *,
    out: str | Path,
    name: str | None = None,
    repetitions: int | None = None,
    executor: str = "pool",
    n_processes: int | None = None,
    ray_address: str | None = None,
    board: str | Path | None = None,
    progress: bool = False,
    render: bool = True,
    sandbox: bool | None = None,
) -> EvaluationReport:
    """Run ``optimizer`` (``file.py[:factory]`` or ``module:factory``) on ``protocol``'s suite
    and summarize it beside the board's entries (see the module docstring). ``render=False``
    skips the plots and ``report.html``. ``sandbox=None`` runs the optimizer in the harness's
    sandboxed mode where this hpobench has it (``True``: require it; ``False``: in-process)."""
    proto = get_protocol(protocol)
    ref = resolve_optimizer(optimizer)  # fails early with a teaching message
    default_name, source = _name_and_file(optimizer)
    entry = name or default_name
    out = Path(out)
    sub = out / "submission"
    if sub.exists() and any(sub.iterdir()):
        meta = sub / "submission.json"
        if not meta.is_file():
            raise LeaderboardError(
                f"{sub} exists and is not a submission folder; use another --out."
            )
    sub.mkdir(parents=True, exist_ok=True)
    spec = optimizer
    if source is not None:
        target = sub / source.name
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
        attr = optimizer.split(":", 1)[1] if ":" in optimizer else "make_optimizer"
        spec = f"{target}:{attr}"
    del ref
    records = run_entry(
        entry,
        spec,
        proto.name,
        out=out / "runs",
        repetitions=repetitions,
        executor=executor,
        n_processes=n_processes or (os.cpu_count() or 1),
        ray_address=ray_address,
        progress=progress,
        sandbox=sandbox,
    )
    if not records:
        raise LeaderboardError(f"No run of {optimizer!r} could start; see the log above.")
    _copy_trajectories(out / "runs" / proto.name, sub / "trajectories" / proto.name)
    write_manifest(
        sub,
        name=entry,
        optimizer=f"{source.name}:{spec.rsplit(':', 1)[1]}" if source is not None else optimizer,
        protocol=proto,
    )
    summary, page = load_board(proto.name, board=board or board_dir(), extra={entry: records})
    page = BoardPage(
        board=summary,
        description=f"{entry} evaluated under {proto.name}: {proto.description}",
        compute=page.compute,
        submissions=page.submissions,
    )
    write_site(
        out, [page], title=f"{entry} on the {proto.name} board", highlight=entry, markdown=False
    )
    report = out / "report.html"
    (out / "index.html").replace(report)
    return EvaluationReport(
        board=summary,
        name=entry,
        submission=sub,
        report_html=report,
        n_runs=len(records),
        sandboxed=bool(sandbox_options(sandbox).get("sandbox")),
    )


def _copy_trajectories(src: Path, dst: Path) -> None:
    """Copy the run folder's trajectory files (nothing else: no lock or temp files) into the
    submission, replacing what an earlier evaluation left there."""
    if dst.exists():
        shutil.rmtree(dst)
    for f in sorted(src.rglob("rep-*.parquet")):
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)


def format_board(board: ProtocolBoard, *, highlight: str | None = None) -> str:
    """A plain-text table of a board (what ``hpobench evaluate`` prints)."""
    w = max(12, *(len(e.name) for e in board.entries))
    lines = [
        f"{'':2}{'#':>2}  {'optimizer':<{w}}  {'score IQM [95% CI]':<26} {'AUC IQM':>8} "
        f"{'mean rank':>9} {'ms/trial':>9} {'failed':>6}"
    ]
    for i, e in enumerate(board.entries, 1):
        mark = "→ " if e.name == highlight else "  "
        ci = f"{e.score.value:.3f} [{e.score.low:.3f}, {e.score.high:.3f}]"
        ms = (
            f"{e.optimizer_s_per_trial * 1e3:.3g}"
            if e.optimizer_s_per_trial == e.optimizer_s_per_trial
            else "–"
        )
        lines.append(
            f"{mark}{i:>2}  {e.name:<{w}}  {ci:<26} {e.auc.value:>8.3f} {e.mean_rank:>9.2f} "
            f"{ms:>9} {e.n_failed:>6}"
        )
    fr = board.friedman
    if fr.statistic == fr.statistic:
        lines.append(
            f"\nFriedman over {fr.n_tasks} tasks: p = {fr.p_value:.2g}; Nemenyi CD = "
            f"{fr.critical_difference:.2f} ranks (alpha {fr.alpha})."
        )
    lines.append(
        "normalized score: 0 = the task's optimum on the test seeds, 1 = random search's median at "
        "the budget; lower is better."
    )
    return "\n".join(lines)
