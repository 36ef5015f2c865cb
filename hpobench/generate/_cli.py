"""``hpobench generate``: train models to (re)generate tables, resumably, sharded, on Ray.

Plugged into :mod:`hpobench.cli` through :func:`register_cli`. Importing this module imports
neither torch nor ray: the neural trainer is imported when a neural chunk actually trains, Ray
when ``--ray`` is given.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from hpobench._errors import ConfigError

__all__ = ["register_cli"]

_DESCRIPTION = """\
Generate a benchmark table by really training models, then merge it into the data root.

A run trains every (configuration, seed) unit of a task, in chunks; each finished chunk is
written atomically to DIR/chunks/, so killing the process loses at most the chunks in flight.
Rerun the same command with --resume to continue; split the work over processes or machines
with --shard i/n (same --out on a shared disk, or separate ones copied together before the
merge) or hand the chunks to Ray with --ray. When every chunk exists, --merge checks them all
and writes data/<family>/<task>/{table.parquet,meta.json} and the manifest.

Variants: 'cpu' (default) is a named reduction that fits a laptop CPU (a sub-grid or fewer
sampled configurations, a train-set subsample); 'full' is the published design, for GPUs.
Everything a variant cuts is written to meta.json.
"""


def _families_epilog() -> str:
    from hpobench.generate._families import FAMILIES, task_name

    lines = ["families and tasks:"]
    for fam in FAMILIES.values():
        tasks = ", ".join(task_name(d) for d in fam.datasets)
        lines += textwrap.wrap(
            tasks, width=92, initial_indent=f"  {fam.name:<11} ", subsequent_indent=" " * 14
        )
        for v in fam.variants.values():
            lines += textwrap.wrap(
                f"--variant {v.name}: {v.description}",
                width=92,
                initial_indent=" " * 16,
                subsequent_indent=" " * 18,
            )
    lines += [
        "",
        "examples:",
        "  hpobench generate gbt/magic --out runs/gbt-magic",
        "  hpobench generate gbt/magic --out runs/gbt-magic --resume      # after a crash/kill",
        "  hpobench generate fcnet-grid/diamonds --variant full --device cuda --out runs/d \\",
        "      --shard 0/4                                                 # one of 4 machines",
        "  hpobench generate lcbench/phoneme --out runs/lc --ray auto     # on a Ray cluster",
        "  hpobench generate --status runs/gbt-magic",
        "  hpobench generate --merge runs/gbt-magic                        # -> data/gbt/magic/",
        "  hpobench generate gbt/kr-vs-kp --n-configs 512 --out runs/kr512  # a larger design",
        "  hpobench generate --merge runs/kr512 --version 2          # -> gbt/kr-vs-kp-v2 beside v1",
    ]
    return "\n".join(lines)


def register_cli(subparsers: Any) -> None:
    """Add the ``generate`` subcommand to ``hpobench``'s subparsers."""
    p = subparsers.add_parser(
        "generate",
        help="train models to (re)generate tables; resume, shard, Ray, merge",
        description=_DESCRIPTION,
        epilog=_families_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "task",
        nargs="?",
        metavar="FAMILY/TASK",
        help="what to generate, e.g. gbt/magic or fcnet-grid/concrete (see the list below)",
    )
    p.add_argument("--out", metavar="DIR", help="run directory (created; holds run.json, chunks/)")
    p.add_argument(
        "--variant",
        default="cpu",
        help="'cpu' (default, fits a CPU) or 'full' (the published design, for GPUs)",
    )
    p.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA if available, else CPU; default), cpu, cuda or cuda:N (neural families)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out: finished chunks are checked and kept, damaged ones "
        "quarantined and retrained",
    )
    p.add_argument(
        "--shard",
        default="0/1",
        metavar="i/n",
        help="train only chunks k with k %% n == i (0 <= i < n); default 0/1 = all",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run chunks as Ray tasks: no ADDRESS starts a local Ray, 'auto' or ray://host:port "
        "joins a cluster (pip install 'hpobench[ray]')",
    )
    p.add_argument(
        "--ray-gpus",
        type=float,
        default=None,
        metavar="G",
        help="GPUs per Ray task (default: 1 with --device cuda, else 0)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="train chunks in N local processes (default: in this process)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        metavar="S",
        help="training seeds (default: the family's 0 1 2 3); the first half tune, the rest test",
    )
    p.add_argument(
        "--n-configs",
        type=int,
        default=None,
        metavar="N",
        help="sampled families only: train the first N sampled configurations",
    )
    p.add_argument(
        "--max-chunks",
        type=int,
        default=None,
        metavar="K",
        help="stop after training K chunks (time-box a session; continue with --resume)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--merge",
        metavar="DIR",
        help="check every chunk of the run in DIR and write its table into the data root",
    )
    p.add_argument(
        "--data-root",
        metavar="D",
        help="with --merge: data root to write into (default: the user root, $HPOBENCH_USER_DATA "
        "or ~/.local/share/hpobench; the checkout's data/ only when named here)",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="with --merge: replace a table of the same id in that data root",
    )
    p.add_argument(
        "--version",
        type=int,
        default=None,
        metavar="N",
        help="with --merge: write the table as FAMILY/TASK-vN (default 1). A published table "
        "never changes, so a run of another design (e.g. more --n-configs) is a new version",
    )
    p.add_argument("--status", metavar="DIR", help="show how many chunks of a run exist")
    p.set_defaults(func=_cmd_generate)

    d = subparsers.add_parser(
        "discrimination",
        help="does each multi-fidelity table tell optimizers apart? numbers and suite rule",
        description=(
            "Per table: seed noise, spread of the final objective over configurations, the "
            "exact median rank random search reaches at the protocol budget and its gap to the "
            "optimum, and the Spearman correlation between low and full fidelity; then whether "
            "the table passes the rule for the official multi-fidelity suite."
        ),
        epilog="Example: hpobench discrimination 'sgd-linear/*' 'forest/*' gbt/magic-v1",
    )
    d.add_argument(
        "patterns",
        nargs="*",
        default=["*"],
        help="benchmark ids or fnmatch patterns (default: every table with > 1 fidelity step)",
    )
    d.add_argument("--protocol", default="mf-serial-v2", help="whose budget rule (n_full)")
    d.set_defaults(func=_cmd_discrimination)


def _cmd_discrimination(args: argparse.Namespace) -> int:
    import fnmatch

    from hpobench.generate._discrimination import (
        RULE,
        discrimination,
        format_rows,
        n_hyperparameters,
    )
    from hpobench.harness._protocol import get_protocol
    from hpobench.registry import list_benchmarks, spec
    from hpobench.table import read_table

    protocol = get_protocol(args.protocol)
    ids = [
        i
        for i in list_benchmarks()
        if any(fnmatch.fnmatchcase(i, p) for p in args.patterns)
        and spec(i).path is not None
        and spec(i).n_steps > 1
    ]
    if not ids:
        raise ConfigError(f"No multi-fidelity table matches {args.patterns}; see `hpobench list`.")
    rows = []
    for i in ids:
        path = spec(i).path
        assert path is not None
        table = read_table(path)
        rows.append(discrimination(table, n_full=protocol.n_full(n_hyperparameters(table))))
    print(format_rows(rows))
    passing = [r.id for r in rows if not r.failures]
    print(f"\nrule ({protocol.name} budget): {RULE}")
    print(f"{len(passing)} of {len(rows)} pass: {' '.join(passing)}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    modes = [m for m in ("merge", "status") if getattr(args, m)]
    if len(modes) > 1 or (modes and args.task):
        raise ConfigError(
            "Give either FAMILY/TASK (to train), --merge DIR or --status DIR, not several."
        )
    if args.version is not None and not args.merge:
        raise ConfigError(
            f"--version names the table a merge writes; it goes with --merge DIR, but got "
            f"--version {args.version} without --merge (training does not depend on it)."
        )
    if args.merge:
        return _merge(args)
    if args.status:
        return _status(args)
    if not args.task:
        raise ConfigError(
            "hpobench generate needs FAMILY/TASK (e.g. gbt/magic) and --out DIR, or --merge "
            "DIR; see `hpobench generate --help` for the families and tasks."
        )
    return _train(args)


def _executor(args: argparse.Namespace) -> Any:
    from hpobench.generate._executors import LocalExecutor, ProcessExecutor, RayExecutor

    if args.ray is not None and args.workers is not None:
        raise ConfigError("Give --ray or --workers, not both.")
    if args.ray is not None:
        gpus = args.ray_gpus
        if gpus is None:
            gpus = 1.0 if str(args.device).startswith("cuda") else 0.0
        address = None if args.ray == "local" else args.ray
        return RayExecutor(address=address, num_gpus=gpus)
    if args.workers is not None:
        return ProcessExecutor(n_workers=args.workers)
    return LocalExecutor()


def _train(args: argparse.Namespace) -> int:
    from hpobench.generate._plan import parse_shard, plan_run
    from hpobench.generate._run import generate

    if not args.out:
        raise ConfigError(
            f"--out DIR is required: the run directory for {args.task} (e.g. --out runs/"
            f"{args.task.replace('/', '-')})."
        )
    shard = parse_shard(args.shard)
    plan = plan_run(args.task, variant=args.variant, seeds=args.seeds, n_configs=args.n_configs)
    executor = _executor(args)
    print(
        f"{plan.benchmark_id} ({plan.variant}): {len(plan.configs):,} configurations x "
        f"{len(plan.seeds)} seeds x {len(plan.family.fidelity)} {plan.family.fidelity.name} "
        f"steps = {plan.n_units:,} runs in {plan.n_chunks} chunks; shard {shard[0]}/{shard[1]}; "
        f"{executor.name} executor",
        file=sys.stderr,
    )
    report = generate(
        plan,
        Path(args.out),
        device=args.device,
        resume=args.resume,
        shard=shard,
        executor=executor,
        max_chunks=args.max_chunks,
        progress=not args.no_progress,
    )
    print(
        f"trained {report.trained} chunk(s) in {report.wall_seconds:.1f} s; this shard has "
        f"{report.already_done + report.trained}/{report.shard_chunks} chunks"
        + (f", {report.quarantined} damaged chunk(s) quarantined" if report.quarantined else "")
        + f"; device {', '.join(report.devices) or 'n/a'}."
    )
    if report.remaining_in_shard:
        print(f"continue with: {plan.command()} --out {args.out} --resume --shard {args.shard}")
    else:
        print(f"when all shards are done: hpobench generate --merge {args.out}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from hpobench.generate._merge import merge_run
    from hpobench.registry import data_root
    from hpobench.table import id_path

    root = Path(args.data_root) if args.data_root else data_root()
    meta = merge_run(
        Path(args.merge),
        data_root=root,
        replace=args.replace,
        version=1 if args.version is None else args.version,
    )
    print(
        f"wrote {meta.id}: {meta.n_configs:,} configurations x {len(meta.seeds)} seeds x "
        f"{len(meta.fidelity)} steps to {root / id_path(meta.id)} "
        f"(sha256 {meta.sha256[:12]}...); manifest updated."
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    from hpobench.generate._merge import run_status

    st = run_status(Path(args.status))
    missing = st["missing"]
    shown = ", ".join(str(k) for k in missing[:20]) + (" ..." if len(missing) > 20 else "")
    damaged = st["damaged"]
    print(
        f"{st['benchmark_id']}: {st['present']}/{st['n_chunks']} chunk files present"
        + (f"; missing: {shown}" if missing else "")
        + (f"; damaged: {', '.join(str(k) for k in damaged[:20])}" if damaged else "")
        + ("; ready to merge" if not missing and not damaged else "")
        + ("; complete the run with --resume (damaged chunks are retrained)" if damaged else "")
    )
    return 0
