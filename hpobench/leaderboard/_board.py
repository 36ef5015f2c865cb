"""The board folder: which entries a protocol has, and building the rendered pages.

Layout of ``leaderboard/`` (data, not code)::

    <protocol>/runs.parquet        the baselines' runs (hpobench leaderboard run)
    <protocol>/compute.json        their optimizer compute and the board run's wall time
    submissions/<protocol>/<name>/ verified submissions (hpobench leaderboard submit)
    plots/, README.md, index.html  rendered (hpobench leaderboard build)

A protocol is on the board when its ``runs.parquet`` exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from hpobench.harness import Trajectory, get_protocol
from hpobench.leaderboard._errors import LeaderboardError
from hpobench.leaderboard._produce import OFFICIAL_PROTOCOLS, board_dir
from hpobench.leaderboard._records import read_compute, read_records
from hpobench.leaderboard._references import load_references
from hpobench.leaderboard._render import BoardPage, write_site
from hpobench.leaderboard._scores import RunRecord, run_record
from hpobench.leaderboard._summary import ProtocolBoard, summarize

__all__ = ["board_entries", "board_protocols", "build", "load_board", "submission_records"]

SUBMISSIONS = "submissions"


def submission_records(path: str | Path, name: str) -> list[RunRecord]:
    """Records of a submission folder's trajectories (``trajectories/**/rep-*.parquet``)."""
    files = sorted(Path(path, "trajectories").rglob("rep-*.parquet"))
    return [run_record(Trajectory.read(f), optimizer=name) for f in files]


def board_entries(protocol: str, *, board: str | Path | None = None) -> dict[str, list[RunRecord]]:
    """Every entry of ``protocol`` on the board: baselines, then submissions (by folder name)."""
    root = Path(board) if board is not None else board_dir()
    proto = get_protocol(protocol)
    out: dict[str, list[RunRecord]] = {}
    for rec in read_records(root / proto.name / "runs.parquet", protocol_hash=proto.hash):
        out.setdefault(rec.optimizer, []).append(rec)
    sub_root = root / SUBMISSIONS / proto.name
    if sub_root.is_dir():
        for d in sorted(p for p in sub_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if d.name in out:
                raise LeaderboardError(f"Submission {d.name!r} has the name of another entry.")
            out[d.name] = submission_records(d, d.name)
    return out


def load_board(
    protocol: str,
    *,
    board: str | Path | None = None,
    extra: Mapping[str, Sequence[RunRecord]] | None = None,
) -> tuple[ProtocolBoard, BoardPage]:
    """The summarized board of ``protocol`` (plus ``extra`` entries, e.g. the optimizer being
    evaluated) and its page record for rendering."""
    root = Path(board) if board is not None else board_dir()
    proto = get_protocol(protocol)
    refs = load_references(proto)
    entries = board_entries(proto.name, board=root)
    subs = [n for n in entries if (root / SUBMISSIONS / proto.name / n).is_dir()]
    for name, recs in (extra or {}).items():
        if name in entries:
            raise LeaderboardError(
                f"The entry name {name!r} is taken on the {proto.name} board; choose another --name."
            )
        entries[name] = list(recs)
    compute = read_compute(root / proto.name / "compute.json")
    summary = summarize(entries, refs, compute=compute.get("optimizer_s_per_trial"))
    page = BoardPage(
        board=summary, description=proto.description, compute=compute, submissions=subs
    )
    return summary, page


def board_protocols(root: str | Path) -> list[str]:
    """Protocols on the board (those with a ``runs.parquet``): the official ones first."""
    root = Path(root)
    found = sorted(p.parent.name for p in root.glob("*/runs.parquet"))
    return [p for p in OFFICIAL_PROTOCOLS if p in found] + [
        p for p in found if p not in OFFICIAL_PROTOCOLS
    ]


def build(*, board: str | Path | None = None, protocols: Sequence[str] | None = None) -> list[Path]:
    """Render ``README.md``, ``index.html`` and the plots for every protocol on the board."""
    root = Path(board) if board is not None else board_dir()
    names = [
        p for p in (protocols or board_protocols(root)) if (root / p / "runs.parquet").is_file()
    ]
    if not names:
        raise LeaderboardError(
            f"{root} holds no protocol's runs.parquet; run `hpobench leaderboard run` first."
        )
    pages = [load_board(p, board=root)[1] for p in names]
    return write_site(root, pages)
