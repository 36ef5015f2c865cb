"""``hpobench evaluate`` and ``hpobench leaderboard {references,run,build,verify,submit}``
(wired in by hpobench.cli)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from hpobench.leaderboard._errors import LeaderboardError, SubmissionRejected

__all__ = ["register_cli"]

_EVALUATE = """\
Run your optimizer on every pinned task and repetition of a protocol (all cores by default, or
Ray), then print it beside every entry of the leaderboard: normalized score (0 = the task's
optimum on the test seeds, 1 = random search's median at the budget; lower is better) as an
interquartile mean with a 95% stratified bootstrap interval, anytime area, mean rank and its
position. Writes OUT/report.html, plots (anytime score, ranks over the budget, critical-difference
diagram, performance profile) as PNG under OUT/plots/, and OUT/submission/, a folder ready for
`hpobench leaderboard verify` and `submit`."""


def _where(p: argparse.ArgumentParser, *, default_workers: str) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"local processes running studies at once (default: {default_workers})",
    )
    g.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run studies as Ray tasks (local Ray, or the cluster at ADDRESS, e.g. 'auto')",
    )


def _executor(args: argparse.Namespace, default: int) -> tuple[str, int | None, str | None]:
    if args.ray is not None:
        return "ray", None, args.ray or None
    n = args.workers if args.workers is not None else default
    if n < 1:
        raise LeaderboardError(f"--workers must be >= 1, but got {n}.")
    return ("pool" if n > 1 else "serial"), n, None


def register_cli(subparsers: Any) -> None:
    """Add ``evaluate`` and ``leaderboard`` to ``hpobench``'s subcommands."""
    p = subparsers.add_parser(
        "evaluate",
        help="run your optimizer under a protocol and see where it stands on the leaderboard",
        description=_EVALUATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Examples: hpobench evaluate my_opt.py --protocol sf-serial-v1; "
        "hpobench evaluate baselines/regularized_evolution.py --protocol mf-async4-v1 --out runs/re",
    )
    p.add_argument("optimizer", help="'path/to/file.py[:factory]' or 'package.module:factory'")
    p.add_argument(
        "--protocol", required=True, help="e.g. sf-serial-v1 (see `hpobench run --help`)"
    )
    p.add_argument("--out", default="evaluation", help="output folder (default: ./evaluation)")
    p.add_argument("--name", help="the entry's name (default: the file's stem)")
    p.add_argument(
        "--repetitions",
        type=int,
        metavar="R",
        help="only repetitions 0..R-1 (a quick look; a submission needs all of the protocol's)",
    )
    p.add_argument("--board", help="leaderboard folder (default: the checkout's leaderboard/)")
    _where(p, default_workers="all cores")
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run the optimizer in-process (default: in the harness's sandbox where available)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_evaluate)

    lb = subparsers.add_parser(
        "leaderboard",
        help="references, board runs, rendering, verification and submission",
        description="Maintain the leaderboard: compute a protocol's fixed scoring references, "
        "run every baseline under every official protocol, render README.md and index.html, "
        "verify and submit entries. See docs/leaderboard.md.",
    )
    sub = lb.add_subparsers(dest="lb_command", metavar="ACTION")
    sub.required = True

    q = sub.add_parser(
        "references",
        help="compute a protocol's references (optimum, random-search median) from the tables",
        description="Compute every pinned task's optimum (exact, from the table) and random "
        "search's median final test score over --n-random seeded runs with its standard error, "
        "and write them into the next version of the protocol (e.g. sf-serial-v2 -> sf-serial-v3).",
    )
    q.add_argument("--protocol", required=True)
    q.add_argument("--n-random", type=int, default=100, help="random-search runs per task (100)")
    q.add_argument("--workers", type=int, default=2, help="local processes (2)")
    q.add_argument(
        "--out", help="file to write (default: the package's references/<protocol>.json)"
    )
    q.set_defaults(func=_cmd_references)

    q = sub.add_parser(
        "run",
        help="run the board baselines (BOARD_BASELINES) under every official protocol into the board folder",
        description="Run the board baselines (every registered one that fits the 30-minute regeneration target; --baseline for others) under each official protocol and write "
        "<board>/<protocol>/runs.parquet (same bytes on every machine) and compute.json. "
        "--check reruns and compares digests with the committed files instead of writing.",
    )
    q.add_argument("--protocol", action="append", help="only this protocol (repeatable)")
    q.add_argument("--baseline", action="append", help="only this baseline (repeatable)")
    q.add_argument("--board", help="board folder (default: the checkout's leaderboard/)")
    q.add_argument("--check", action="store_true", help="compare with the committed runs instead")
    _where(q, default_workers="2")
    q.set_defaults(func=_cmd_run)

    q = sub.add_parser("build", help="render <board>/README.md, index.html and plots/")
    q.add_argument("--board", help="board folder (default: the checkout's leaderboard/)")
    q.set_defaults(func=_cmd_build)

    q = sub.add_parser(
        "verify",
        help="verify a submission folder: replay every evaluation, re-run the code",
    )
    q.add_argument("folder")
    q.add_argument("--no-rerun", action="store_true", help="skip re-running the submitted code")
    q.add_argument("--no-sandbox", action="store_true", help="re-run in-process, not sandboxed")
    q.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for the rerun"
    )
    q.set_defaults(func=_cmd_verify)

    q = sub.add_parser("submit", help="verify a submission and add it to the board atomically")
    q.add_argument("folder")
    q.add_argument("--board", help="board folder (default: the checkout's leaderboard/)")
    q.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for the rerun"
    )
    q.set_defaults(func=_cmd_submit)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from hpobench.leaderboard._evaluate import evaluate, format_board

    executor, n, address = _executor(args, os.cpu_count() or 1)
    rep = evaluate(
        args.optimizer,
        args.protocol,
        out=args.out,
        name=args.name,
        repetitions=args.repetitions,
        executor=executor,
        n_processes=n,
        ray_address=address,
        board=args.board,
        progress=not args.no_progress,
        sandbox=False if args.no_sandbox else None,
    )
    b = rep.board
    how = "sandboxed" if rep.sandboxed else "in-process"
    print(
        f"{rep.name} on {b.protocol}: {rep.n_runs} runs ({how}) over {len(b.tasks)} pinned tasks; "
        f"position {b.position(rep.name)} of {len(b.entries)}\n"
    )
    print(format_board(b, highlight=rep.name))
    print(f"\nreport: {rep.report_html}\nplots: {Path(args.out) / 'plots'}")
    print(f"submission folder: {rep.submission} (hpobench leaderboard verify {rep.submission})")
    return 0


def _cmd_references(args: argparse.Namespace) -> int:
    from hpobench.harness import write_protocol
    from hpobench.leaderboard._references import (
        compute_references,
        protocol_with_references,
        shipped_protocol_path,
    )

    refs = compute_references(args.protocol, n_random=args.n_random, n_processes=args.workers)
    new = protocol_with_references(refs, args.protocol)
    path = write_protocol(new, args.out or shipped_protocol_path(new.name))
    print(f"{new.name} (hash {new.hash[:16]}): {args.protocol} with the references of "
          f"{len(refs.tasks)} tasks -> {path}")  # fmt: skip
    for tid, r in refs.tasks.items():
        print(
            f"  {tid:<32} optimum {r.optimum:.6g}  random median {r.random_median:.6g} "
            f"± {r.random_se:.2g} (n={r.n_random})"
        )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from hpobench.leaderboard._produce import OFFICIAL_PROTOCOLS, produce

    executor, n, address = _executor(args, 2)
    reports = produce(
        board=args.board,
        protocols=args.protocol or OFFICIAL_PROTOCOLS,
        baselines=args.baseline,
        executor=executor,
        n_processes=n,
        ray_address=address,
        check=args.check,
        progress=lambda s: print(s, file=sys.stderr, flush=True),
    )
    bad = 0
    for r in reports:
        print(f"{r.protocol}: {r.n_runs} runs in {r.wall_s / 60:.1f} min")
        for m in r.mismatches:
            print(f"  mismatch {m}")
        for name, why in r.skipped.items():
            print(f"  {name} not run: {why}")
        bad += len(r.mismatches)
    if args.check:
        print("all digests match" if not bad else f"{bad} runs differ from the committed board")
    return 1 if bad else 0


def _cmd_build(args: argparse.Namespace) -> int:
    from hpobench.leaderboard._board import build

    for p in build(board=args.board):
        print(p)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from hpobench.leaderboard._submission import verify

    try:
        rep = verify(
            args.folder,
            rerun=not args.no_rerun,
            n_processes=args.workers,
            sandbox=False if args.no_sandbox else None,
        )
    except SubmissionRejected as e:
        print(f"REJECTED [{e.check}] {e.where}\n  {e.reason}")
        return 1
    how = "re-ran the code " + ("sandboxed" if rep.sandboxed else "in worker processes")
    print(
        f"OK {rep.name} under {rep.protocol}: {rep.n_runs} runs, {rep.n_evaluations} evaluations "
        f"replayed against the tables" + (f"; {how}: identical" if rep.reran else "")
    )
    return 0


def _cmd_submit(args: argparse.Namespace) -> int:
    from hpobench.leaderboard._submission import submit

    try:
        path = submit(args.folder, board=args.board, n_processes=args.workers)
    except SubmissionRejected as e:
        print(f"REJECTED [{e.check}] {e.where}\n  {e.reason}\nthe board is unchanged.")
        return 1
    print(f"added {path}; board re-rendered")
    return 0
