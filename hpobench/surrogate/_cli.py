"""``hpobench surrogate fit|card|list``.

    hpobench surrogate fit ID [ID ...] [--device auto] [--ray]   fit, measure, write with card
    hpobench surrogate card ID [--json]                          print a task's fidelity card
    hpobench surrogate rank ID [--repetitions R]                 optimizer ranking, table vs surrogate
    hpobench surrogate list                                      shipped surrogates + headline

``card`` and ``list`` need only numpy; ``fit`` needs torch (the ``train`` extra) and, with
``--ray``, ray: the tasks are spread over Ray workers through the project's one executor
(``hpobench._executor``), one task per job; each job returns its files and the driver writes
them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import BenchmarkNotFoundError, HPOBenchError

__all__ = ["register_cli"]


def _fit_job(context: dict[str, Any], benchmark_id: str) -> dict[str, Any]:
    """One executor job: fit ``benchmark_id`` in a scratch folder and return its card and files.

    Module level (picklable); the driver writes the returned files, so on a Ray cluster the
    output folder need not be shared between nodes.
    """
    import tempfile

    from hpobench.fit import Arch, TrainConfig, default_arch, fit_surrogate
    from hpobench.registry import make

    bench = make(benchmark_id)
    table = bench.table  # type: ignore[attr-defined]
    arch = {**default_arch(table.n_configs).to_dict(), **context["arch"]}  # + the user's choices
    with tempfile.TemporaryDirectory(prefix="hpobench-fit-") as tmp:
        card = fit_surrogate(
            table,
            tmp,
            arch=Arch(**arch),
            config=TrainConfig(
                steps=context["steps"],
                seed=context["seed"],
                spread_around=context.get("spread_around", "prediction"),
            ),
            device=context["device"],
            progress=context["progress"],
            seed_model=context.get("seed_model", "gaussian"),
        )
        files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())}
    return {"card": card, "files": files}


def _cmd_fit(args: argparse.Namespace) -> int:
    from hpobench.registry import list_benchmarks
    from hpobench.surrogate._store import surrogate_root, update_manifest

    ids: list[str] = []
    for pattern in args.ids:
        import fnmatch

        got = [i for i in list_benchmarks() if fnmatch.fnmatchcase(i, pattern)]
        if not got:
            raise BenchmarkNotFoundError(
                f"{pattern!r} matches no registered table; see `hpobench list`."
            )
        ids += [i for i in got if i not in ids]
    root = Path(args.out) if args.out else surrogate_root()
    arch = {  # the user's choices; the rest by table size (default_arch)
        key: getattr(args, key)
        for key in ("kind", "width", "depth", "rank", "bottleneck", "members")
        if getattr(args, key) is not None
    }
    context = {
        "root": str(root),
        "arch": arch,
        "steps": args.steps,
        "seed": args.seed,
        "device": args.device,
        "progress": not args.no_progress and not args.ray,
        "seed_model": args.seed_model,
        "spread_around": args.spread_around,
    }
    from hpobench._executor import LocalExecutor, RayExecutor
    from hpobench.surrogate._store import surrogate_dir

    executor: Any = (
        RayExecutor(num_gpus=1.0 if args.device.startswith("cuda") else 0.0)
        if args.ray
        else LocalExecutor()
    )
    for done in executor.map(_fit_job, context, ids):
        card = done["card"]
        out = surrogate_dir(card["id"], root)
        out.mkdir(parents=True, exist_ok=True)
        for name, data in done["files"].items():
            (out / name).write_bytes(data)
        print(
            f"{card['id']}: Spearman {card['spearman']:.4f}, Kendall {card['kendall_tau']:.4f}, "
            f"coverage {card['coverage_objective']:.3f}, {card['seed_model']} seeds, runtime monotone "
            f"{100 * card['runtime_monotone']:.0f} %, range violations {card['range_violations']}, "
            f"fit {card['fit_seconds']:.1f} s on {card['device']}"
        )
    print(f"updated {update_manifest(root)}")
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    from hpobench.fit._fit import write_card
    from hpobench.fit._ranking import ranking_preservation
    from hpobench.registry import make
    from hpobench.surrogate._store import load_surrogate, surrogate_dir

    path = _card_path(args.id, args.out)
    card = json.loads(path.read_text())
    table = make(args.id)
    sur = load_surrogate(args.id, root=args.out)
    if args.rescore:  # recompute every figure from the repetitions the card stores
        from hpobench.fit._ranking import rescore

        sign = 1.0 if table.metrics[table.reported_metric].direction == "maximize" else -1.0
        keys = [k for k in ("ranking", "ranking_on_table") if card.get(k, {}).get("by_fraction")]
        for k in keys:
            card[k] = rescore(card[k], sign)
        write_card(surrogate_dir(args.id, args.out), card)
        print(f"{args.id}: rescored {', '.join(keys) or 'nothing (no stored repetitions)'}")
        return 0
    rk = ranking_preservation(
        table,
        sur,
        args.protocol,
        n_repetitions=args.repetitions,
        budget_fractions=args.budget_fraction or (1.0, 0.25, 0.1),
        candidates=args.candidates,
    )
    protocol = rk["protocol"]
    card["ranking" if args.candidates == "space" else "ranking_on_table"] = rk
    write_card(surrogate_dir(args.id, args.out), card)
    print(
        f"{args.id}: Kendall τ {rk['kendall_tau']:.3f} between the rankings of "
        f"{len(rk['optimizers'])} optimizers ({protocol}, {rk['n_repetitions']} repetitions); "
        f"best {rk['best_table']} on the table, {rk['best_surrogate']} on the surrogate"
    )
    for frac, v in rk["by_fraction"].items():
        sep = "separated" if v["table_separated"] else "not separated"
        print(f"  at {float(frac):.0%} of the budget: τ {v['kendall_tau']:.3f}, table {sep}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from hpobench.fit._card import sample_checks
    from hpobench.fit._fit import write_card
    from hpobench.registry import make
    from hpobench.surrogate._store import load_surrogate, surrogate_dir

    path = _card_path(args.id, args.out)
    card = json.loads(path.read_text())
    table = make(args.id).table  # type: ignore[attr-defined]
    sur = load_surrogate(args.id, root=args.out)
    if card["weights_sha256"] != sur.sha256:
        raise HPOBenchError(f"{path}: the card is for other weights; refit {args.id} instead.")
    card.update(sample_checks(sur, table=table))
    write_card(surrogate_dir(args.id, args.out), card)
    op, bb = card["optimism"], card["beyond_best_run"]
    print(
        f"{args.id}: runtime monotone {100 * card['runtime_monotone']:.0f} %, range violations "
        f"{card['range_violations']}, {100 * op['share_better_than_table_best']:.1f} % of sampled "
        f"configs beat the table's best ({op['sampled_best']:.4g} vs {op['table_best']:.4g}), "
        f"{100 * bb['share']:.2f} % of single answers beat the table's best run at their step "
        f"({100 * bb['first_step']:.2f} % at the first)"
    )
    return 0


def _card_path(benchmark_id: str, out: str | None) -> Path:
    from hpobench.surrogate._format import CARD_FILE
    from hpobench.surrogate._store import list_surrogates, surrogate_dir

    path = surrogate_dir(benchmark_id, out) / CARD_FILE
    if not path.is_file():
        raise BenchmarkNotFoundError(
            f"No fidelity card {str(path)!r}; surrogates exist for {list_surrogates(out)}. "
            f"Fit one with `hpobench surrogate fit {benchmark_id}`."
        )
    return path


def _cmd_card(args: argparse.Namespace) -> int:
    from hpobench.surrogate._format import CARD_MD_FILE

    path = _card_path(args.id, args.out)
    if args.json:
        print(path.read_text(), end="")
    else:
        print((path.parent / CARD_MD_FILE).read_text(), end="")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from hpobench.surrogate._store import list_surrogates, surrogate_root

    ids = list_surrogates(args.out)
    if not ids:
        print(f"No surrogates under {args.out or surrogate_root()}.")
        return 0
    cards = {}
    for i in ids:
        try:
            cards[i] = json.loads(_card_path(i, args.out).read_text())
        except (HPOBenchError, ValueError):
            cards[i] = None
    if args.markdown:
        print(_markdown(cards))
        return 0
    if args.ranking:
        print(_ranking_markdown(cards))
        return 0
    w = max(len(i) for i in ids)
    print(
        f"{'id':<{w}}  {'spearman':>8}  {'kendall':>7}  {'coverage':>8}  {'ranking τ':>9}  "
        f"{'beyond':>6}  {'at 1st':>6}  targets"
    )
    for i, c in cards.items():
        if c is None:
            print(f"{i:<{w}}  (no card)")
            continue
        rk = (c.get("ranking") or {}).get("kendall_tau")
        bb = c.get("beyond_best_run")
        beyond = (
            f"{100 * bb['share']:>5.2f}%  {100 * bb['first_step']:>5.2f}%"
            if bb
            else f"{'-':>6}  {'-':>6}"
        )
        print(
            f"{i:<{w}}  {c['spearman']:>8.4f}  {c['kendall_tau']:>7.4f}  "
            f"{c['coverage_objective']:>8.3f}  {'-' if rk is None else f'{rk:.2f}':>9}  "
            f"{beyond}  {'met' if c['targets']['all_met'] else 'MISSED'}"
        )
    print(
        f"\n{len(ids)} surrogates under {args.out or surrogate_root()}; beyond: share of sampled "
        "single answers better than the table's best run at their step (at 1st: the first step)"
    )
    return 0


def _pairs_alike(rk: dict[str, Any] | None) -> str:
    """``k of n`` pairs the table tells apart that the surrogate orders alike, over the shares."""
    if not rk:
        return "not run"
    if not rk.get("by_fraction"):  # a first-round card: one τ at the full budget
        return f"τ {rk['kendall_tau']:.2f} (first round)"
    pairs = [p for v in rk["by_fraction"].values() for p in v.get("separated_pairs") or []]
    return f"{sum(p[2] for p in pairs)} of {len(pairs)}"


def _ranking_cell(rk: dict[str, Any] | None, frac: str) -> str:
    v = ((rk or {}).get("by_fraction") or {}).get(frac)
    if v is None:
        return "-"
    pairs = v.get("separated_pairs") or []
    agree = f"{sum(p[2] for p in pairs)}/{len(pairs)}" if pairs else "0"
    return f"{v['kendall_tau']:.2f}{'' if v['table_separated'] else '*'} ({agree})"


def _ranking_markdown(cards: dict[str, Any]) -> str:
    """Ranking preservation per task and budget share, as the cards record it."""
    fracs = ("1", "0.25", "0.1")
    head = " | ".join(f"{float(f):.0%}" for f in fracs)
    lines = [
        f"| task | optimizers | any configuration: {head} | table's configurations: {head} |",
        "| --- | --- | "
        + " | ".join("---" for _ in fracs)
        + " | "
        + " | ".join("---" for _ in fracs)
        + " |",
    ]
    summary = {"pairs": 0, "agree": 0, "pairs_on": 0, "agree_on": 0}
    for i, c in cards.items():
        rk, on = (c or {}).get("ranking"), (c or {}).get("ranking_on_table")
        if rk is None or not rk.get("by_fraction"):
            continue
        for key, r in (("", rk), ("_on", on)):
            for v in ((r or {}).get("by_fraction") or {}).values():
                pairs = v.get("separated_pairs") or []
                summary["pairs" + key] += len(pairs)
                summary["agree" + key] += sum(p[2] for p in pairs)
        cells = [_ranking_cell(rk, f) for f in fracs] + [_ranking_cell(on, f) for f in fracs]
        lines.append(f"| {i} | {len(rk['optimizers'])} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Cells: Kendall τ between the table's and the surrogate's orderings of the optimizers by "
        "mean incumbent test score after that share of the budget (`*`: the table itself does not "
        "separate them, Tukey's studentized range: τ is noise), and in brackets how many of the "
        "pairs the table tells apart (Tukey's HSD, 5 %) the surrogate orders the same way. Over "
        f"all tasks and shares: {summary['agree']} of {summary['pairs']} such pairs ordered alike "
        f"on any configuration, {summary['agree_on']} of {summary['pairs_on']} on the table's."
    )
    lines += ["", *_split_markdown(cards, fracs)]
    return "\n".join(lines)


def _split_markdown(cards: dict[str, Any], fracs: Sequence[str]) -> list[str]:
    """Split-half τ per task and share: the table against itself, and against the surrogate."""
    head = " | ".join(f"{float(f):.0%}" for f in fracs)
    lines = [
        f"| task | table vs table: {head} | table vs surrogate: {head} |",
        "| --- | " + " | ".join("---" for _ in range(2 * len(fracs))) + " |",
    ]
    cells: dict[str, list[tuple[float, float]]] = {"all": [], "separated": []}
    for i, c in cards.items():
        by = ((c or {}).get("ranking") or {}).get("by_fraction") or {}
        if not any("kendall_tau_split_table" in v for v in by.values()):
            continue
        row_t, row_s = [], []
        for f in fracs:
            v = by.get(f) or {}
            t, su = v.get("kendall_tau_split_table"), v.get("kendall_tau_split_surrogate")
            row_t.append("-" if t is None else f"{t:.2f}")
            row_s.append("-" if su is None else f"{su:.2f}")
            if t is not None and su is not None:
                cells["all"].append((t, su))
                if v.get("table_separated"):
                    cells["separated"].append((t, su))
        lines.append(f"| {i} | " + " | ".join(row_t + row_s) + " |")
    if not cells["all"]:
        return []  # cards from before split halves: rescore them (surrogate rank --rescore)
    lines.append("")
    said = []
    for key, what in (("all", "all"), ("separated", "where the table separates the optimizers")):
        pts = np.asarray(cells[key], dtype=float).reshape(-1, 2)
        if len(pts):
            said.append(
                f"{what} ({len(pts)} cells): table vs table {pts[:, 0].mean():.2f}, table vs "
                f"surrogate {pts[:, 1].mean():.2f}; the surrogate within 0.1 of the table's own or "
                f"above in {int(np.sum(pts[:, 1] >= pts[:, 0] - 0.1))}"
            )
    lines.append(
        "Cells: Kendall τ between the optimizers' orderings from two disjoint halves of the "
        "repetitions, averaged over every split into halves (`split_half_taus`): the table's "
        "half against the table's other half (how far the table reproduces its own ordering; "
        "the ceiling for any surrogate at that many repetitions), and the table's half against "
        "the surrogate's other half (any configuration). Means over cells, " + "; ".join(said) + "."
    )
    return lines


def _short_arch(text: str) -> str:
    """``resnet width 128 depth 3 bottleneck 32`` -> ``resnet 128×3/32``."""
    words = text.replace(",", "").split()
    get = {words[k]: words[k + 1] for k in range(len(words) - 1)}
    out = f"{words[0]} {get.get('width', '?')}×{get.get('depth', '?')}"
    if "bottleneck" in get:
        out += f"/{get['bottleneck']}"
    if "of" in get:  # "ensemble of E"
        out += f" ×{get['of']} ensemble"
    return out


def _markdown(cards: dict[str, Any]) -> str:
    """The shipped surrogates' headline figures as a Markdown table (docs/surrogates.md)."""
    import statistics

    rows = [
        "| task | configs held out | Spearman | its ceiling (the table against itself) | "
        "Kendall τ | R² final (fitted scale) | "
        "seed coverage (objective) | held-out seed coverage | runtime monotone | range "
        "violations | sampled beating table best | table-separated optimizer pairs the surrogate "
        "orders alike (all budget shares) | network | fit s (CPU) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    sp = []
    for i, c in cards.items():
        if c is None:
            rows.append(f"| {i} | no card | | | | | | | | | | | | |")
            continue
        sp.append(c["spearman"])
        rank = _pairs_alike(c.get("ranking"))
        op = c.get("optimism")
        opt = "n/a" if not op else f"{100 * op['share_better_than_table_best']:.1f} %"
        hs = (c.get("coverage_heldout_seed") or {}).get(c["objective"])
        ceiling = c.get("spearman_ceiling")
        r2 = c["objective_r2"][-1]
        rows.append(
            f"| {i} | {c['n_heldout_configs']} | {c['spearman']:.3f}"
            f"{'' if c['spearman'] >= 0.8 else ' (miss)'} | "
            f"{'n/a' if ceiling is None else f'{ceiling:.3f}'} | "
            f"{c['kendall_tau']:.3f} | "
            f"{'n/a' if r2 is None else f'{r2:.3f}'} | {c['coverage_objective']:.3f} | "
            f"{'n/a' if hs is None else f'{hs:.3f}'} | {100 * c['runtime_monotone']:.0f} % | "
            f"{c['range_violations']} | {opt} | {rank} | {_short_arch(c['architecture'])} | "
            f"{c['fit_seconds']:.0f} |"
        )
    if sp:
        rows.append("")
        rows.append(
            f"Median held-out Spearman over {len(sp)} tables: {statistics.median(sp):.3f} "
            f"(target ≥ 0.95); worst {min(sp):.3f} (target ≥ 0.80); "
            f"{sum(v >= 0.8 for v in sp)} of {len(sp)} tables ≥ 0.80."
        )
        from hpobench.registry import newest_versions

        newest = newest_versions([i for i, c in cards.items() if c is not None])
        if len(newest) < len(sp):
            sn = [cards[i]["spearman"] for i in newest]
            rows.append(
                f"Over the newest version of each of the {len(sn)} tasks (a later version of a "
                f"task is a larger table of it): median {statistics.median(sn):.3f}, worst "
                f"{min(sn):.3f}; {sum(v >= 0.8 for v in sn)} of {len(sn)} tasks ≥ 0.80."
            )
    return "\n".join(rows)


def register_cli(sub: Any) -> None:
    p = sub.add_parser(
        "surrogate",
        help="fit, inspect and list neural surrogates of the tables",
        description="Neural surrogates of whole learning curves, answered without torch. "
        "See docs/surrogates.md.",
    )
    ss = p.add_subparsers(dest="surrogate_command", metavar="SUBCOMMAND")
    ss.required = True
    f = ss.add_parser(
        "fit",
        help="fit surrogates (torch), measure them, write them with fidelity cards",
        description="Fit each task's surrogate: cross-validated fidelity card, then the shipped "
        "fit on all data; writes <root>/<family>/<task>/{weights.npz, meta.json, card.json, "
        "card.md} and the manifest.",
        epilog="Example: hpobench surrogate fit lcbench/phoneme-v1 --device auto; "
        "hpobench surrogate fit 'gbt/*' --ray",
    )
    f.add_argument("ids", nargs="+", help="benchmark ids or patterns like 'gbt/*'")
    f.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda[:N]")
    f.add_argument("--ray", action="store_true", help="one Ray task per id (pip install ray)")
    f.add_argument("--out", help="surrogate root (default: $HPOBENCH_SURROGATES or surrogates/)")
    f.add_argument("--steps", type=int, default=None, help="optimizer steps (default by size)")
    f.add_argument("--seed", type=int, default=0, help="fitting seed (default 0)")
    f.add_argument("--kind", choices=["mlp", "resnet"], default=None)
    f.add_argument("--width", type=int, default=None)
    f.add_argument("--depth", type=int, default=None)
    f.add_argument("--rank", type=int, default=None, help="curve-basis rank (0: every step)")
    f.add_argument(
        "--bottleneck", type=int, default=None, help="residual block inner width (0: square)"
    )
    f.add_argument("--members", type=int, default=None, help="ensemble size (outputs averaged)")
    f.add_argument(
        "--spread-around",
        choices=["prediction", "seed-mean"],
        default="prediction",
        help="residuals the seed spread is fitted to (default: from the predicted mean)",
    )
    f.add_argument(
        "--seed-model",
        choices=["auto", "gaussian", "two-mode"],
        default="gaussian",
        help="seed noise model (default gaussian; auto: two-mode where the table's seeds are "
        "bimodal, see docs/surrogates.md)",
    )
    f.add_argument("--no-progress", action="store_true", help="no progress bar")
    f.set_defaults(func=_cmd_fit)
    c = ss.add_parser(
        "card",
        help="print a task's fidelity card",
        epilog="Example: hpobench surrogate card lcbench/phoneme-v1",
    )
    c.add_argument("id")
    c.add_argument("--json", action="store_true", help="print card.json")
    c.add_argument("--out", help="surrogate root")
    c.set_defaults(func=_cmd_card)
    r = ss.add_parser(
        "rank",
        help="ranking preservation: optimizers on the table vs on the surrogate (adds to the card)",
        epilog="Example: hpobench surrogate rank gbt/phoneme-v1 --repetitions 5",
    )
    r.add_argument("id")
    r.add_argument("--protocol", help="default: the newest mf-serial (multi-fidelity) or sf-serial")
    r.add_argument("--repetitions", type=int, default=10)
    r.add_argument(
        "--budget-fraction",
        type=float,
        action="append",
        help="score incumbents after this share of the budget (repeatable; the first is the "
        "headline; default 1, 0.25, 0.1)",
    )
    r.add_argument(
        "--rescore",
        action="store_true",
        help="recompute the card's rankings from the repetitions it stores (no runs)",
    )
    r.add_argument(
        "--candidates",
        choices=("space", "table"),
        default="space",
        help="the surrogate answers any configuration (space, as users run it; the card's "
        "'ranking') or only the table's (table: isolates its answers; 'ranking_on_table')",
    )
    r.add_argument("--out", help="surrogate root")
    r.set_defaults(func=_cmd_rank)
    k = ss.add_parser(
        "check",
        help="re-run the card's sampled checks (runtime, ranges, optimism) on the shipped weights",
        epilog="Example: hpobench surrogate check sgd-linear/concrete-v1",
    )
    k.add_argument("id")
    k.add_argument("--out", help="surrogate root")
    k.set_defaults(func=_cmd_check)
    ls = ss.add_parser("list", help="list shipped surrogates with their card headlines")
    ls.add_argument("--out", help="surrogate root")
    ls.add_argument("--markdown", action="store_true", help="a Markdown table of the cards")
    ls.add_argument(
        "--ranking", action="store_true", help="a Markdown table of the cards' ranking preservation"
    )
    ls.set_defaults(func=_cmd_list)
