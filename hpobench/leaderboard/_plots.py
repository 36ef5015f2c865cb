"""Plots of a :class:`ProtocolBoard` (matplotlib, imported lazily: the ``plots`` extra).

Four figures per protocol: the anytime normalized score (IQM over runs), the mean rank over the
budget, the critical-difference diagram (Demšar 2006; drawn by scikit-posthocs from the Nemenyi
p-values, with the CD bar) and the performance profiles. Figures are built on
``matplotlib.figure.Figure`` (no pyplot, no global backend) and saved without dates or version
stamps, so the same board gives the same PNG and SVG bytes on one matplotlib version.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpobench.leaderboard._errors import LeaderboardError
from hpobench.leaderboard._summary import ProtocolBoard

__all__ = ["PLOT_KINDS", "figure", "png_bytes", "svg_text"]

PLOT_KINDS = ("anytime", "ranks", "cd", "profile")
"""The figures of a board, in display order."""

_TITLES = {
    "anytime": "Normalized score over the budget (IQM over runs; 0 = optimum, 1 = random search)",
    "ranks": "Mean rank across tasks over the budget (1 = best)",
    "cd": "Critical-difference diagram (Friedman/Nemenyi, alpha = {alpha})",
    "profile": "Performance profile: fraction of runs with normalized score <= tau",
}


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise LeaderboardError(
            "Plots need matplotlib: pip install 'hpobench[plots]' (or pip install matplotlib)."
        ) from None
    matplotlib.rcParams["svg.hashsalt"] = "hpobench"
    matplotlib.rcParams["svg.fonttype"] = "none"
    return Figure


def _colors(names: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(sorted(names))}


def figure(board: ProtocolBoard, kind: str, *, highlight: str | None = None) -> Any:
    """The ``kind`` figure (one of :data:`PLOT_KINDS`) of ``board``; ``highlight`` draws that
    entry thicker (``hpobench evaluate``'s optimizer)."""
    if kind not in PLOT_KINDS:
        raise LeaderboardError(f"kind must be one of {PLOT_KINDS}, but got {kind!r}.")
    Figure = _matplotlib()
    names = [e.name for e in board.entries]
    colors = _colors(names)
    fig = Figure(figsize=(7.5, 4.2 if kind != "cd" else max(2.2, 0.35 * len(names) + 1.2)), dpi=100)
    ax = fig.add_subplot()
    title = _TITLES[kind].format(alpha=board.friedman.alpha)
    if kind in ("anytime", "ranks", "profile"):
        series: Mapping[str, np.ndarray]
        if kind == "anytime":
            series, x = board.anytime, board.grid
        elif kind == "ranks":
            series, x = board.ranks_over_budget, board.grid
        else:
            series, x = board.profiles, board.taus
        for n in names:
            lw = 3.0 if n == highlight else 1.5
            ax.plot(x, series[n], label=n, color=colors[n], linewidth=lw)
        if kind == "anytime":
            ax.axhline(1.0, color="0.5", linestyle="--", linewidth=0.8)
            ax.axhline(0.0, color="0.5", linestyle=":", linewidth=0.8)
            ax.set_xlabel("fraction of the budget used")
            ax.set_ylabel("normalized score (lower is better)")
            ax.set_ylim(bottom=-0.05)
        elif kind == "ranks":
            ax.set_xlabel("fraction of the budget used")
            ax.set_ylabel("mean rank")
            ax.invert_yaxis()
        else:
            ax.axvline(1.0, color="0.5", linestyle="--", linewidth=0.8)
            ax.set_xlabel("tau (normalized score)")
            ax.set_ylabel("fraction of runs")
            ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    else:
        fr = board.friedman
        if len(fr.names) < 3 or np.isnan(fr.nemenyi_p).all():
            ax.axis("off")
            ax.text(0.5, 0.5, "needs at least 3 entries and 2 tasks", ha="center", va="center")
        else:
            import pandas as pd
            import scikit_posthocs as sp

            ranks = pd.Series(dict(zip(fr.names, fr.mean_ranks, strict=True)))
            sig = pd.DataFrame(fr.nemenyi_p, index=list(fr.names), columns=list(fr.names))
            sp.critical_difference_diagram(
                ranks,
                sig,
                ax=ax,
                cd=fr.critical_difference,
                alpha=fr.alpha,
                color_palette={n: colors[n] for n in fr.names},
                label_props={"fontsize": 8},
            )
            title += f": CD = {fr.critical_difference:.2f}, Friedman p = {fr.p_value:.2g}"
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes, without a software/date stamp."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def svg_text(fig: Any) -> str:
    """The figure as an SVG document string, without a date stamp."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text
