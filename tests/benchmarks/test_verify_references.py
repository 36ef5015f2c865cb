"""benchmarks/verify_baselines.py and the reference wrappers in benchmarks/reference_optimizers.py.

The script logic (protocol choice, anytime scores, resumable records, the report) runs without
the reference libraries; each reference wrapper's tests skip unless its library is installed
(``pip install --no-deps dehb==0.1.2 loguru``, ``pip install syne-tune==0.16.0``: benchmark-only,
CI installs neither).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from hpobench.harness import optimizer_checks, run_study

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import reference_optimizers as ro  # noqa: E402
import verify_baselines as vb  # noqa: E402

HAS_DEHB = importlib.util.find_spec("dehb") is not None
HAS_SYNETUNE = importlib.util.find_spec("syne_tune") is not None
needs_dehb = pytest.mark.skipif(not HAS_DEHB, reason="dehb==0.1.2 is a benchmark-only extra")
needs_synetune = pytest.mark.skipif(
    not HAS_SYNETUNE, reason="syne-tune==0.16.0 is a benchmark-only extra"
)
TASK = "forest/phoneme-v1"


@pytest.mark.parametrize(
    "r, expected",
    [(1, 1), (3, 3), (9, 12), (12, 12), (8.9999999999, 12), (9.0000000001, 12), (17, 16)],
)
def test_ceil_to_grid_is_the_first_step_past_a_milestone(r: float, expected: int) -> None:
    assert ro.ceil_to_grid(r, (1, 2, 3, 4, 6, 8, 12, 16)) == expected


def test_protocol_defaults_to_the_newest_single_fidelity_one_and_takes_a_name() -> None:
    assert vb.protocol(None, None).name.startswith("sf-serial-v")
    assert vb.protocol("mf-serial-v5", None).name == "mf-serial-v5"
    capped = vb.protocol("mf-serial-v5", 3)
    assert capped.budget_base == 3.0 and capped.budget_per_sqrt_dim == 0.0


def test_at_fraction_picks_the_recorded_anytime_score() -> None:
    row = {"score": 0.5, "scores_at": {"0.1": 0.9}}
    assert vb.at_fraction(row, 1.0) is row
    assert vb.at_fraction(row, 0.1) == {"score": 0.9, "scores_at": {"0.1": 0.9}}
    assert vb.at_fraction(row, 0.25) is None
    assert vb.at_fraction({"score": 0.5}, 0.1) is None  # written before --protocol existed


def test_settings_keep_old_rows_apart_from_protocol_rows() -> None:
    assert vb.setting({"budget": 30}) == (None, 30)
    assert vb.setting({"budget": None, "protocol": "mf-serial-v5"}) == ("mf-serial-v5", None)


def test_incumbent_at_is_the_last_incumbent_within_the_fraction() -> None:
    from baselines import make_factory

    traj = run_study(TASK, make_factory("asha"), vb.protocol("mf-serial-v5", 3), 0)
    e = traj.events
    half = e[e["time"] <= 0.5 * traj.meta.time_budget]["incumbent_test_score"].iloc[-1]
    assert vb.incumbent_at(traj, 0.5) == pytest.approx(half)
    assert vb.incumbent_at(traj, 1.0) == pytest.approx(traj.meta.incumbent_test_score)
    assert vb.incumbent_at(traj, 1e-12) is None  # nothing has finished at time ~0


def test_a_multi_fidelity_run_records_anytime_scores_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v.jsonl"
    argv = ["--protocol", "mf-serial-v5", "--budget", "3", "--tasks", TASK, "--reps", "6",
            "--methods", "random,asha", "--out", str(out)]  # fmt: skip
    vb.main(argv)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 12
    assert {r["method"] for r in rows} == {"random", "asha"}
    assert all(r["protocol"] == "mf-serial-v5" and r["budget"] == 3 for r in rows)
    assert all(set(r["scores_at"]) == {str(f) for f in vb.FRACTIONS} for r in rows)
    printed = capsys.readouterr().out
    assert "=== mf-serial-v5, budget 3 evaluations ===" in printed
    assert "asha vs random: 1 tasks, 6 (task, repetition) pairs" in printed
    vb.main(argv)  # everything is recorded: nothing runs again
    assert len(out.read_text().splitlines()) == 12
    vb.main([*argv[:-2], "--budget-fraction", "0.1", "--report", str(out)])
    assert "incumbents after 10% of the time budget" in capsys.readouterr().out


def test_an_unrecorded_budget_fraction_is_refused() -> None:
    with pytest.raises(SystemExit):
        vb.main(["--budget-fraction", "0.3", "--report", "x.jsonl"])


def test_the_default_methods_follow_the_protocol_kind() -> None:
    assert "dehb-ref" in vb.MULTI_FIDELITY and "synetune-bohb" in vb.MULTI_FIDELITY
    assert "random" in vb.MULTI_FIDELITY and "random" in vb.SINGLE_FIDELITY
    assert not set(vb.MULTI_FIDELITY) - {"random"} & set(vb.SINGLE_FIDELITY)
    for ours, ref in vb.PAIRS:
        assert ours in vb.OURS and ref in vb.REFERENCES


MF_CHECKS = ("multi_fidelity_async_resume", "multi_fidelity_no_resume", "deterministic")
REFS = [
    pytest.param(ro.dehb_ref, marks=needs_dehb, id="dehb-ref"),
    pytest.param(ro.synetune_asha, marks=needs_synetune, id="synetune-asha"),
    pytest.param(ro.synetune_bohb, marks=[needs_synetune, pytest.mark.slow], id="synetune-bohb"),
]


@pytest.mark.parametrize("factory", REFS)
@pytest.mark.parametrize("check_name", MF_CHECKS)
def test_reference_passes_the_multi_fidelity_conformance_checks(factory, check_name) -> None:  # type: ignore[no-untyped-def]
    checks = dict(optimizer_checks(factory, call_timeout=None))
    checks[check_name]()


def _events(factory, rep: int = 0):  # type: ignore[no-untyped-def]
    return run_study(TASK, factory, vb.protocol("mf-serial-v5", 4), rep, call_timeout=None).events


@needs_dehb
def test_dehb_ref_runs_dehbs_rungs_on_the_grid_and_resumes_its_promotions() -> None:
    e = _events(ro.dehb_ref)
    # dehb's fidelities 16 * 3**-k = 1.78, 5.33, 16 map to 2, 6, 16 (log-nearest, as ours)
    assert set(e["fidelity"]) == {2.0, 6.0, 16.0}
    assert list(e["fidelity"][:9]) == [2.0] * 9  # bracket s=2 starts 9 configurations at 2
    resumed = e[e["resumed_from"] >= 0]
    assert len(resumed) > 0 and (resumed["fidelity"] > resumed["resumed_from"]).all()


@needs_synetune
def test_synetune_asha_stops_or_continues_at_its_milestones() -> None:
    e = _events(ro.synetune_asha)
    # grace period 1, eta 3: milestones 1, 3, 9 (-> the grid's 12), then max_t 16
    assert set(e["fidelity"]) <= {1.0, 3.0, 12.0, 16.0}
    first = e.groupby("trial_id")["fidelity"].first()
    assert (first == 1.0).all()  # every trial starts at the grace period
    # the first result at a milestone always continues
    assert list(e[e["trial_id"] == 0]["fidelity"]) == [1.0, 3.0, 12.0, 16.0]
    cont = e[e["trial_id"].duplicated()]
    assert len(cont) > 0 and (cont["resumed_from"] >= 0).all()
