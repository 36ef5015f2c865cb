"""Choose the surrogate architecture by measurement: held-out figures of several networks.

    python benchmarks/compare_surrogate_archs.py [--tasks ID ...] [--archs mlp:128:2:0 ...]

Each architecture ``kind:width:depth:rank[:bottleneck[:members]]`` is cross-validated exactly as the fidelity card
does (``hpobench.fit.cross_validate``) on each task; prints held-out Spearman of the final
objective, its R² (fitted scale), the seed-spread coverage and the CPU fit time. The figures
behind the choice in docs/surrogates.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import time

import hpobench
from hpobench.fit import Arch, TrainConfig, cross_validate

DEFAULT_TASKS = ["lcbench/phoneme-v1", "gbt/phoneme-v1", "fcnet-grid/computers-v1"]
DEFAULT_ARCHS = ["mlp:128:2:0", "resnet:128:3:0", "mlp:128:2:4", "mlp:64:2:4"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", nargs="*", default=DEFAULT_TASKS)
    p.add_argument("--archs", nargs="*", default=DEFAULT_ARCHS)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()
    rows = []
    print(
        f"{'task':<26} {'arch':<16} {'spearman':>8} {'kendall':>7} {'R2 final':>8} {'cover':>6} {'fit s':>6}"
    )
    for task in args.tasks:
        table = hpobench.make(task).table
        for spec in args.archs:
            kind, width, depth, rank, *neck = spec.split(":")
            arch = Arch(
                kind=kind,
                width=int(width),
                depth=int(depth),
                rank=int(rank),
                bottleneck=int(neck[0]) if neck else 0,
                members=int(neck[1]) if len(neck) > 1 else 1,
            )
            t0 = time.perf_counter()
            fig = cross_validate(
                table,
                arch=arch,
                config=TrainConfig(steps=args.steps),
                device="auto",
                progress=False,
            )
            row = {
                "task": task,
                "arch": spec,
                "spearman": fig["spearman"],
                "kendall_tau": fig["kendall_tau"],
                "final_r2": fig["final_objective_r2"],
                "coverage": fig["coverage_objective"],
                "fit_seconds": fig["cv_fit_seconds"],
                "wall_seconds": time.perf_counter() - t0,
            }
            rows.append(row)
            print(
                f"{task:<26} {spec:<16} {row['spearman']:>8.4f} {row['kendall_tau']:>7.4f} "
                f"{row['final_r2']:>8.4f} {row['coverage']:>6.3f} {row['fit_seconds']:>6.1f}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
