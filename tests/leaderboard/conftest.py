"""Fixtures of the leaderboard tests: two tiny protocols on real shipped tables, their references,
a small board of four baselines and an honest submission made by ``evaluate``.

Everything is built once per session under a session temp folder (a few seconds); tests that
change something copy it into their own ``tmp_path`` first.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from hpobench.harness import Protocol, Suite, pin_protocol, register_protocol
from hpobench.harness._protocol import _user_protocols
from hpobench.leaderboard._evaluate import evaluate
from hpobench.leaderboard._produce import produce
from hpobench.leaderboard._references import (
    compute_references,
    load_references,
    protocol_with_references,
)

BASELINES = Path(__file__).resolve().parents[2] / "baselines"
TEST_BOARD = ["random-search", "regularized-evolution", "asha", "hyperband"]

SF0 = Protocol(
    name="lbtest-sf-v1",
    description="leaderboard tests: single fidelity, one worker",
    suite=Suite(name="lbtest-sf", patterns=("fcnet/protein-v1", "hpobench-nn/car-v1")),
    n_workers=1,
    n_repetitions=2,
    budget_base=8.0,
    budget_per_sqrt_dim=0.0,
    time_factor=1000.0,
    allow_resume=False,
)
MF0 = Protocol(
    name="lbtest-mf-v1",
    description="leaderboard tests: multi-fidelity, two workers, resumes",
    suite=Suite(name="lbtest-mf", patterns=("gbt/magic-v1",)),
    n_workers=2,
    n_repetitions=2,
    budget_base=6.0,
    budget_per_sqrt_dim=0.0,
    max_evaluations_factor=100.0,
    allow_resume=True,
)


@pytest.fixture(scope="session")
def lb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """Pinned protocols with references (v1 -> v2, registered), a board of four baselines, and
    honest submissions."""
    root = tmp_path_factory.mktemp("lb")
    protocols, pinned = [], []
    for p0, n_random in ((SF0, 5), (MF0, 3)):
        pinned.append(pin_protocol(p0))
        refs = compute_references(pinned[-1], n_random=n_random)
        protocols.append(register_protocol(protocol_with_references(refs, pinned[-1])))
    SF, MF = protocols
    refs_sf, refs_mf = load_references(SF), load_references(MF)
    board = root / "board"
    produce(
        board=board, protocols=[SF.name, MF.name], executor="serial",
        baselines=TEST_BOARD,
    )  # fmt: skip
    sub_sf = evaluate(
        str(BASELINES / "regularized_evolution.py"), SF.name, out=root / "eval-sf", board=board,
        executor="serial", name="re-sub", render=False,
    )  # fmt: skip
    sub_mf = evaluate(
        str(BASELINES / "asha.py"), MF.name, out=root / "eval-mf", board=board, executor="serial",
        name="asha-sub", render=False,
    )  # fmt: skip
    yield SimpleNamespace(
        sf=SF, mf=MF, sf0=SF0, sf_pinned=pinned[0], refs_sf=refs_sf, refs_mf=refs_mf, board=board, root=root,
        sub_sf=sub_sf.submission, sub_mf=sub_mf.submission, eval_sf=sub_sf, baselines=TEST_BOARD,
    )  # fmt: skip
    for p in (SF, MF):
        _user_protocols.pop(p.name, None)


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
