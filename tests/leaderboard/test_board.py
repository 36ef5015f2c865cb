"""The board: same runs -> same bytes; rendered pages are deterministic and self-contained;
``--check`` notices a changed run; ``evaluate`` places an optimizer among the entries."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from hpobench.cli import main
from hpobench.leaderboard._board import board_entries, build, load_board
from hpobench.leaderboard._produce import produce
from hpobench.leaderboard._records import read_records, write_records

BASELINES = Path(__file__).resolve().parents[2] / "baselines"


def test_board_run_gives_the_same_bytes(lb: SimpleNamespace, tmp_path: Path) -> None:
    produce(
        board=tmp_path,
        protocols=[lb.sf.name],
        baselines=["random-search", "regularized-evolution"],
        executor="serial",
    )
    again = tmp_path / "again"
    produce(
        board=again,
        protocols=[lb.sf.name],
        baselines=["random-search", "regularized-evolution"],
        executor="serial",
    )
    a = (tmp_path / lb.sf.name / "runs.parquet").read_bytes()
    assert a == (again / lb.sf.name / "runs.parquet").read_bytes()
    recs = read_records(tmp_path / lb.sf.name / "runs.parquet", protocol_hash=lb.sf.hash)
    assert {r.optimizer for r in recs} == {"random-search", "regularized-evolution"}
    assert len(recs) == 2 * 2 * lb.sf.n_repetitions


def test_check_mode_finds_a_changed_run(lb: SimpleNamespace, tmp_path: Path) -> None:
    board = Path(shutil.copytree(lb.board, tmp_path / "b"))
    runs = board / lb.sf.name / "runs.parquet"
    rep = produce(
        board=board,
        protocols=[lb.sf.name],
        baselines=["random-search"],
        executor="serial",
        check=True,
    )
    assert [m for m in rep[0].mismatches if "'random-search'" in m] == []
    recs = read_records(runs)
    from dataclasses import replace

    recs[-1] = replace(recs[-1], digest="0" * 64)
    write_records(runs, recs, protocol=lb.sf.name, protocol_hash=lb.sf.hash)
    rep = produce(
        board=board, protocols=[lb.sf.name], baselines=lb.baselines, executor="serial", check=True
    )
    assert len(rep[0].mismatches) == 1 and "000000000000" in rep[0].mismatches[0]


@pytest.mark.slow
def test_build_is_deterministic_and_self_contained(lb: SimpleNamespace, tmp_path: Path) -> None:
    board = Path(shutil.copytree(lb.board, tmp_path / "b"))
    build(board=board, protocols=[lb.sf.name])
    first = {
        p.name: p.read_bytes()
        for p in board.rglob("*")
        if p.is_file() and p.suffix in (".md", ".html", ".png")
    }
    build(board=board, protocols=[lb.sf.name])
    second = {
        p.name: p.read_bytes()
        for p in board.rglob("*")
        if p.is_file() and p.suffix in (".md", ".html", ".png")
    }
    assert first == second
    page = (board / "index.html").read_text()
    assert page.count("<svg") == 4  # four plots per protocol
    assert 'class="sortable"' in page and "<script>" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must not fetch anything"
    md = (board / "README.md").read_text()
    for kind in ("anytime", "ranks", "cd", "profile"):
        assert f"plots/{lb.sf.name}-{kind}.png" in md
    assert "random-search" in md and "Friedman" in md


def test_every_applicable_baseline_is_on_the_board(lb: SimpleNamespace) -> None:
    from hpobench.leaderboard._produce import not_applicable

    entries = board_entries(lb.sf.name, board=lb.board)
    expected = {b for b in lb.baselines if not_applicable(b, lb.sf.name) is None}
    assert set(entries) == expected == {"random-search", "regularized-evolution"}
    board, _ = load_board(lb.sf.name, board=lb.board)
    assert [e.n_runs for e in board.entries] == [len(board.tasks) * lb.sf.n_repetitions] * len(
        entries
    )


def test_evaluate_places_the_optimizer(lb: SimpleNamespace) -> None:
    b = lb.eval_sf.board
    assert lb.eval_sf.name == "re-sub"
    assert 1 <= b.position("re-sub") <= len(b.entries)
    # the same code as the regularized-evolution baseline gets the same scores
    assert b.entry("re-sub").score == b.entry("regularized-evolution").score


@pytest.mark.slow
def test_cli_evaluate_verify(
    lb: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["evaluate", str(BASELINES / "random_search.py"), "--protocol", lb.sf.name,
               "--out", str(tmp_path / "e"), "--board", str(lb.board), "--workers", "1",
               "--name", "rs2", "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0 and "→" in out and "position" in out and "rs2" in out
    assert (tmp_path / "e" / "report.html").is_file()
    assert (tmp_path / "e" / "plots" / f"{lb.sf.name}-cd.png").is_file()
    assert main(["leaderboard", "verify", str(lb.sub_sf), "--no-rerun"]) == 0
    assert "OK re-sub" in capsys.readouterr().out
    bad = Path(shutil.copytree(lb.sub_sf, tmp_path / "bad"))
    (bad / "submission.json").unlink()
    assert main(["leaderboard", "verify", str(bad)]) == 1
    assert "REJECTED [missing_file]" in capsys.readouterr().out
