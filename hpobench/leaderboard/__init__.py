"""The leaderboard: fixed references, scores, statistics, verified submissions, a rendered board.

Pure functions turn trajectories into scores against fixed per-task references stored with the
protocol (0 = the task's optimum on the test seeds, 1 = random search's median at the budget);
statistics aggregate them across tasks (interquartile mean with stratified bootstrap intervals,
mean ranks, Friedman test with Nemenyi critical difference, performance profiles). See
docs/leaderboard.md.
"""

from hpobench.leaderboard._errors import LeaderboardError, SubmissionRejected
from hpobench.leaderboard._references import (
    References,
    TaskReference,
    compute_optimum,
    compute_references,
    load_references,
    protocol_with_references,
    references_from_protocol,
)
from hpobench.leaderboard._scores import (
    SCORE_CAP,
    RunRecord,
    anytime_auc,
    anytime_scores,
    final_score,
    normalized_scores,
    run_record,
)
from hpobench.leaderboard._stats import (
    FriedmanResult,
    IQMResult,
    friedman_nemenyi,
    iqm,
    mean_ranks,
    performance_profile,
    rank_matrix,
    stratified_bootstrap_iqm,
)

__all__ = [
    "SCORE_CAP",
    "FriedmanResult",
    "IQMResult",
    "LeaderboardError",
    "References",
    "RunRecord",
    "SubmissionRejected",
    "TaskReference",
    "anytime_auc",
    "anytime_scores",
    "compute_optimum",
    "compute_references",
    "final_score",
    "friedman_nemenyi",
    "iqm",
    "load_references",
    "mean_ranks",
    "normalized_scores",
    "performance_profile",
    "protocol_with_references",
    "rank_matrix",
    "references_from_protocol",
    "run_record",
    "stratified_bootstrap_iqm",
]
