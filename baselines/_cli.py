"""``hpobench baselines``: the registered baselines, their defaults and papers (wired in by
hpobench.cli)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from baselines._registry import get_baseline, list_baselines

__all__ = ["register_cli"]


def register_cli(subparsers: Any) -> None:
    """Add the ``baselines`` subcommand to ``hpobench``'s subparsers."""
    p = subparsers.add_parser(
        "baselines",
        help="list the baseline optimizers runnable by name (hpobench run --optimizer NAME)",
        description="The baseline optimizers registered by name, with their default settings, "
        "the papers they implement and whether they need a multi-fidelity task. Run one with "
        "`hpobench run --optimizer NAME --protocol P --out DIR`; see docs/baselines.md.",
    )
    p.add_argument("names", nargs="*", help="only these baselines (default: all)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_baselines)


def _row(name: str) -> dict[str, Any]:
    s = get_baseline(name)
    return {
        "name": s.name,
        "entry_point": s.entry_point,
        "description": s.description,
        "multi_fidelity": s.multi_fidelity,
        "defaults": dict(s.defaults),
        "references": list(s.references),
        "extra": s.extra,
        "requires": list(s.requires),
    }


def _cmd_baselines(args: argparse.Namespace) -> int:
    rows = [_row(n) for n in (args.names or list_baselines())]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        kind = "multi-fidelity" if r["multi_fidelity"] else "any fidelity"
        extra = f", needs pip install 'hpobench[{r['extra']}]'" if r["extra"] else ""
        print(f"{r['name']:<{width}}  {r['description']} ({kind}{extra})")
        settings = ", ".join(f"{k}={v!r}" for k, v in r["defaults"].items()) or "(none)"
        print(f"{'':<{width}}  defaults: {settings}")
        for ref in r["references"]:
            print(f"{'':<{width}}  ref: {ref}")
        print(f"{'':<{width}}  entry point: {r['entry_point']}")
    print(
        f"\n{len(rows)} baselines; run one with: hpobench run --optimizer NAME --protocol P --out DIR"
    )
    return 0
