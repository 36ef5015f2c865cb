"""The board leaves out (baseline, protocol) pairs that cannot run, instead of scoring failures."""

from __future__ import annotations

import pytest

pytest.importorskip("baselines")

from hpobench.leaderboard._produce import BOARD_BASELINES, baseline_specs, not_applicable


@pytest.mark.parametrize(
    ("name", "protocol", "applicable"),
    [
        ("hyperband", "sf-serial-v3", False),  # failed 120 of 120 runs before this check
        ("asha", "sf-serial-v3", False),
        ("hyperband", "mf-serial-v3", True),
        ("random-search", "sf-serial-v3", True),
        ("regularized-evolution", "mf-async4-v3", True),
    ],
)
def test_multi_fidelity_baselines_are_not_run_on_single_fidelity_protocols(
    name: str, protocol: str, applicable: bool
) -> None:
    reason = not_applicable(name, protocol)
    assert (reason is None) is applicable
    if reason is not None:
        assert "multi-fidelity" in reason and "one fidelity value" in reason


def test_board_baselines_are_registered() -> None:
    assert set(BOARD_BASELINES) <= set(baseline_specs())
