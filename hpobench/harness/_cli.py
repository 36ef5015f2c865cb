"""``hpobench run``: run an optimizer on a suite under a protocol (wired in by hpobench.cli)."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from hpobench._errors import ProtocolError

__all__ = ["register_cli"]

_DESCRIPTION = """\
Run an optimizer on every task of a suite, for every repetition of a protocol, in simulated time.
One trajectory file per (task, repetition) is written to
OUT/<protocol>/<family>/<task-vN>/rep-<r>.parquet. Rerunning the same command skips finished
runs and redoes interrupted ones, so it is safe to stop and restart.

Your optimizer is a factory make_optimizer(problem, seed) returning an object with
ask() -> Suggestion | None and tell(suggestion, evaluation); see docs/harness.md. Test it first
with `hpobench check --optimizer my_opt.py` (prints each conformance check and "ok").

A finished file is skipped only after its digest is verified (a damaged file is redone). A file
made by other source code of the same optimizer is refused; --redo-changed redoes those runs
instead. One --out takes one run at a time (a second run on it fails at once)."""


def _epilog() -> str:
    from hpobench.harness._protocol import get_protocol, get_suite, list_protocols, list_suites

    lines = ["protocols:"]
    for name in list_protocols():
        p = get_protocol(name)
        lines.append(
            f"  {name:<14} {p.n_workers} worker(s), "
            + (
                f"{len(p.tasks)} pinned tasks ({p.suite.name})"
                if p.pinned
                else f"suite {p.suite.name!r}"
            )
            + f", {p.n_repetitions} reps"
        )
    lines.append("suites (or give ids / patterns like 'fcnet/*', comma-separated):")
    for name in list_suites():
        lines.append(f"  {name:<16} {', '.join(get_suite(name).patterns)}")
    lines += [
        "examples:",
        "  hpobench run --optimizer hyperband --protocol mf-serial-v2 --out runs/hb",
        "  hpobench run --optimizer baselines/random_search.py --suite fcnet "
        "--protocol sf-serial-v2 --out runs/rs",
        "  hpobench run --optimizer my_opt.py:make_optimizer --protocol mf-async4-v2 "
        "--out runs/mine --workers-pool 8",
        "  hpobench run --optimizer my_pkg.opt:factory --protocol mf-serial-v2 --out runs/x "
        "--ray auto",
        "  hpobench run --optimizer my_opt.py --protocol sf-serial-v2 --out runs/mine --sandbox",
    ]
    return "\n".join(lines)


def register_cli(subparsers: Any) -> None:
    """Add the ``run`` subcommand to ``hpobench``'s subparsers."""
    p = subparsers.add_parser(
        "run",
        help="run an optimizer on a suite under a versioned protocol",
        description=_DESCRIPTION,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--optimizer",
        required=True,
        metavar="SPEC",
        help="a baseline name ('hyperband'; `hpobench baselines` lists them), "
        "'path/to/file.py[:factory]' or 'package.module:factory' (factory defaults to "
        "make_optimizer)",
    )
    p.add_argument(
        "--protocol", required=True, help="protocol name, e.g. sf-serial-v2 (listed below)"
    )
    p.add_argument(
        "--suite",
        help="suite name, benchmark id(s) or pattern(s), comma-separated (default: the protocol's suite)",
    )
    p.add_argument("--out", required=True, help="output directory (one per optimizer and protocol)")
    p.add_argument(
        "--repetitions",
        type=int,
        metavar="R",
        help="run repetitions 0..R-1 (default: the protocol's count)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers-pool",
        type=int,
        metavar="N",
        help="run N studies at once in local processes (default: one after another)",
    )
    where.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run studies as Ray tasks: on the running/local Ray, or on the cluster at ADDRESS "
        "('auto' or 'ray://host:10001'); needs pip install 'hpobench[ray]'",
    )
    p.add_argument(
        "--call-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wall-clock limit per ask/tell call; a slower call ends that run as failed "
        "(default 60; 0 = no limit)",
    )
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="run the optimizer in its own fresh process per run, unable to read the tables "
        "(where Linux Landlock allows), with the call timeout and a memory limit enforced from "
        "outside; same trajectories (see docs/harness.md)",
    )
    p.add_argument(
        "--memory-limit",
        type=int,
        default=8192,
        metavar="MB",
        help="with --sandbox: address-space limit of the optimizer's process (default 8192; "
        "0 = no limit)",
    )
    p.add_argument("--retry-failed", action="store_true", help="redo runs that ended as failed")
    p.add_argument(
        "--redo-changed",
        action="store_true",
        help="redo finished runs made by other source code of this optimizer (default: refuse "
        "them with an error, so that results of two code versions are never mixed)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)

    p = subparsers.add_parser(
        "check",
        help="run the conformance checks on an optimizer",
        description="Run every conformance check of hpobench.check_optimizer on an optimizer "
        "factory, print each check as it passes and 'ok' at the end; the first failure is an "
        "error naming what broke (exit code 2).",
        epilog="Example: hpobench check --optimizer baselines/random_search.py",
    )
    p.add_argument("--optimizer", required=True, metavar="SPEC", help="as for `hpobench run`")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from hpobench.harness._check import optimizer_checks
    from hpobench.harness._loading import load_optimizer

    factory = load_optimizer(args.optimizer)
    for name, check in optimizer_checks(factory):
        check()
        print(f"passed: {name}")
    print(f"ok: {args.optimizer} passes every conformance check")
    return 0


def _refuse_single_fidelity_tasks(optimizer: str, protocol: str, suite: str | None) -> None:
    """A registered multi-fidelity baseline on single-fidelity tasks would fail every run at
    construction; say so once, before running anything."""
    try:
        from baselines import BaselineNotFoundError, get_baseline
    except ImportError:
        return
    try:
        spec = get_baseline(optimizer)
    except BaselineNotFoundError:
        return
    if not spec.multi_fidelity:
        return
    from hpobench.harness._protocol import get_protocol, resolve_suite
    from hpobench.registry import spec as benchmark_spec

    ids = resolve_suite(suite if suite is not None else get_protocol(protocol).suite)
    single = [i for i in ids if benchmark_spec(i).n_steps < 2]
    if single:
        raise ProtocolError(
            f"--optimizer {spec.name} is a multi-fidelity method: every task must have at least 2 "
            f"fidelity values, but {len(single)} of {len(ids)} have one ({', '.join(single[:4])}"
            f"{', ...' if len(single) > 4 else ''}). Use a multi-fidelity protocol or suite (e.g. "
            "--protocol mf-serial-v2) or a single-fidelity baseline (`hpobench baselines`)."
        )


def _cmd_run(args: argparse.Namespace) -> int:
    from hpobench.harness._execute import run_suite

    if args.workers_pool is not None and args.workers_pool < 1:
        raise ProtocolError(f"--workers-pool must be >= 1, but got {args.workers_pool}.")
    if args.memory_limit < 0:
        raise ProtocolError(
            f"--memory-limit must be >= 0 MB (0 = no limit), but got {args.memory_limit}."
        )
    _refuse_single_fidelity_tasks(args.optimizer, args.protocol, args.suite)
    executor, n_proc, address = "serial", None, None
    if args.workers_pool is not None:
        executor, n_proc = "pool", args.workers_pool
    elif args.ray is not None:
        executor, address = "ray", (args.ray or None)
    results = run_suite(
        args.optimizer,
        args.protocol,
        out=args.out,
        suite=args.suite,
        repetitions=args.repetitions,
        executor=executor,
        n_processes=n_proc,
        ray_address=address,
        call_timeout=args.call_timeout or None,
        retry_failed=args.retry_failed,
        on_changed="redo" if args.redo_changed else "refuse",
        progress=not args.no_progress,
        sandbox=args.sandbox,
        memory_limit_mb=args.memory_limit or None,
    )
    outcomes = Counter(r.outcome for r in results)
    statuses = Counter(r.status for r in results if r.outcome != "error")
    print(
        f"{len(results)} runs: {outcomes['ran']} ran, {outcomes['skipped']} skipped, "
        f"{outcomes['error']} errors; status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )
    for r in results:
        if r.outcome == "error" or r.status == "failed":
            print(f"  {r.benchmark_id} rep {r.repetition}: {r.outcome} {r.status}: {r.reason}")
    from hpobench.harness._summary import format_summary, summarize

    table = format_summary(summarize(results))
    if table:
        print("\nincumbent scored on the test seeds at full fidelity, over repetitions:")
        print(table)
    print(f"\ntrajectories under {args.out}")
    return 1 if outcomes["error"] else 0
