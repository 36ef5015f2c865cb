"""Errors of the leaderboard: one class for bad input, one for a rejected submission."""

from __future__ import annotations

from hpobench._errors import HPOBenchError

__all__ = ["LeaderboardError", "SubmissionRejected"]


class LeaderboardError(HPOBenchError, ValueError):
    """Leaderboard input is invalid: references, board files, scoring arguments."""


class SubmissionRejected(LeaderboardError):
    """A submission failed verification. ``where`` names the file (and row) and ``reason`` says
    what must hold and what came; ``check`` is the short name of the failed check."""

    def __init__(self, check: str, where: str, reason: str) -> None:
        super().__init__(f"rejected [{check}] {where}: {reason}")
        self.check = check
        self.where = where
        self.reason = reason
