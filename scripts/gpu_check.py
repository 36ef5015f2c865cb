"""The one prepared GPU check (issue "gpu: the first real GPU run"), timed to fit a short lease.

Device time is scarce (one H200 for ~15 minutes in all, machine start included), so everything
the GPU run does is in this one script, tested here on CPU at tiny sizes
(``tests/scripts/test_gpu_check.py``), and every stage has its own time box so that a slow
stage cannot eat the next one. Stages, in order:

``correctness``
    fcnet and lcbench configurations on a real offline dataset, trained batched on the target
    device and on the CPU with the same seeds, and one at a time on the target device. Reports
    the largest relative curve difference over numerically stable (never diverged) units; the
    documented tolerance is ``--tolerance`` (default 1e-3: CUDA's matmul and reduction order
    differ from the CPU's, so float32 curves agree to a few ulps per step, compounding over
    epochs; CPU batched-vs-alone agrees to ~1e-7).
``speed``
    configuration-epochs per second, batched vs one at a time on the same device, in one run:
    fcnet on a uniform full-grid sample and on a contiguous shard (what a full-grid job sees),
    and lcbench; plus the extrapolated wall time of the full FCNet grid (62,208 configurations x
    4 seeds x 100 epochs) on one dataset from the shard's throughput.
``tables``
    ``hpobench generate lcbench/<task> --variant full --device <device>`` for as many tasks as
    the stage's time box allows (``--max-chunks`` slices, resumable), each run directory tarred
    into ``$OUT`` (the lease returns at most 8 files of 16 MiB) to merge here with
    ``hpobench generate --merge``.
``surrogate``
    if ``hpobench surrogate fit`` exists: one task fitted on the device and on the CPU, wall time
    of each.

Everything measured goes to ``<out>/gpu_check.json`` (written after every stage, so a killed run
still returns what it finished) and a log. Example (what ``scripts/gpu_check.sh`` runs)::

    python scripts/gpu_check.py --device cuda --scale full --out "$OUT" --budget 420

and the CPU rehearsal::

    python scripts/gpu_check.py --device cpu --scale tiny --out /tmp/gpu-check --budget 60
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

# Sizes per scale: (correctness configs, speed configs, speed alone, speed epochs, lcbench tasks,
# rows). "tiny" is the CPU rehearsal that CI runs; "full" is sized for ~7 minutes on an H200.
SCALES: dict[str, dict[str, Any]] = {
    "tiny": {
        "correct_configs": 3,
        "correct_epochs": 2,
        "speed_configs": 8,
        "speed_alone": 2,
        "speed_epochs": 1,
        "speed_rows": 400,
        "lcbench_tasks": ("phoneme",),
        "lcbench_variant": "cpu",
        "lcbench_n_configs": 1,
        "max_train_rows": 300,
    },
    "full": {
        "correct_configs": 32,
        "correct_epochs": 5,
        "speed_configs": 4096,
        "speed_alone": 16,
        "speed_epochs": 2,
        "speed_rows": 5000,
        "lcbench_tasks": ("phoneme", "kr-vs-kp", "wa-churn", "magic", "satimage"),
        "lcbench_variant": "full",
        "lcbench_n_configs": None,
        "max_train_rows": None,
    },
}

FULL_FCNET_GRID = 62_208 * 4 * 100  # configuration-epochs of the whole FCNet grid on one task


class Report:
    """Results so far, rewritten atomically after every stage."""

    def __init__(self, out: Path, args: argparse.Namespace) -> None:
        self.path = out / "gpu_check.json"
        self.data: dict[str, Any] = {
            "args": {k: v for k, v in vars(args).items() if k != "func"},
            "host": platform.node(),
            "python": sys.version.split()[0],
            "stages": {},
        }

    def stage(self, name: str, value: Any) -> None:
        self.data["stages"][name] = value
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2, default=str) + "\n")
        tmp.replace(self.path)


def device_info(device: str) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"torch": torch.__version__, "device": device}
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        info.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            multiprocessors=props.multi_processor_count,
            cuda=torch.version.cuda,
        )
    else:
        info.update(cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads())
    return info


def _dataset(name: str, max_train_rows: int | None) -> Any:
    from hpobench.generate import load_dataset

    # load_dataset's DatasetSplits is what the trainers take (TrainData is the same class)
    return load_dataset(name, max_train_rows=max_train_rows)


def _sample(family: str, n: int, seed: int) -> list[dict[str, Any]]:
    from hpobench.generate import get_family

    fam = get_family("fcnet-grid" if family == "fcnet" else "lcbench")
    space = fam.variant("full").space
    rng = np.random.default_rng(seed)
    return [dict(space.sample(rng)) for _ in range(n)]


def _max_rel(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    worst = 0.0
    for name, ref in a.items():
        other = np.asarray(b[name], dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
        ok = np.isfinite(ref) & np.isfinite(other)
        if ok.any():
            rel = np.abs(other[ok] - ref[ok]) / np.maximum(np.abs(ref[ok]), 1e-6)
            worst = max(worst, float(rel.max()))
    return worst


def stage_correctness(args: argparse.Namespace, size: dict[str, Any]) -> dict[str, Any]:
    from hpobench.generate._trainer import train_batch, train_one

    out: dict[str, Any] = {"tolerance": args.tolerance}
    for family, dataset in (("fcnet", "concrete"), ("lcbench", "phoneme")):
        data = _dataset(dataset, size["max_train_rows"] or 2000)
        configs = _sample(family, size["correct_configs"], seed=1)
        seeds = list(range(len(configs)))
        n_epochs = size["correct_epochs"]
        on_dev = train_batch(family, configs, seeds, data, n_epochs=n_epochs, device=args.device)
        on_cpu = train_batch(family, configs, seeds, data, n_epochs=n_epochs, device="cpu")
        alone = [
            train_one(family, configs[i], seeds[i], data, n_epochs=n_epochs, device=args.device)
            for i in range(min(4, len(configs)))
        ]
        stable = [
            i
            for i, (d, c) in enumerate(zip(on_dev, on_cpu, strict=True))
            if all(np.isfinite(v).all() for v in (*d.metrics.values(), *c.metrics.values()))
        ]
        dev_vs_cpu = [_max_rel(on_cpu[i].metrics, on_dev[i].metrics) for i in stable]
        batched_vs_alone = [
            _max_rel(a.metrics, on_dev[i].metrics)
            for i, a in enumerate(alone)
            if i in stable and all(np.isfinite(v).all() for v in a.metrics.values())
        ]
        out[family] = {
            "dataset": dataset,
            "configs": len(configs),
            "stable": len(stable),
            "device_vs_cpu_max_rel": max(dev_vs_cpu, default=0.0),
            "device_vs_cpu_median_rel": float(np.median(dev_vs_cpu)) if dev_vs_cpu else 0.0,
            "within_tolerance": float(np.mean([r <= args.tolerance for r in dev_vs_cpu]))
            if dev_vs_cpu
            else 1.0,
            "batched_vs_alone_max_rel": max(batched_vs_alone, default=0.0),
        }
    return out


def _throughput(
    family: str,
    configs: list[dict[str, Any]],
    data: Any,
    n_epochs: int,
    n_alone: int,
    device: str,
) -> dict[str, Any]:
    import torch

    from hpobench.generate._trainer import train_batch, train_one

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    seeds = list(range(len(configs)))
    train_one(family, configs[0], 0, data, n_epochs=1, device=device)  # warm up kernels
    sync()
    start = time.perf_counter()
    train_batch(family, configs, seeds, data, n_epochs=n_epochs, device=device)
    sync()
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(n_alone):
        train_one(family, configs[i], seeds[i], data, n_epochs=n_epochs, device=device)
    sync()
    t_alone = time.perf_counter() - start
    batched = len(configs) * n_epochs / t_batched
    one = n_alone * n_epochs / t_alone
    return {
        "configs": len(configs),
        "epochs": n_epochs,
        "alone": n_alone,
        "batched_config_epochs_per_s": round(batched, 2),
        "alone_config_epochs_per_s": round(one, 2),
        "speedup": round(batched / one, 2),
    }


def stage_speed(args: argparse.Namespace, size: dict[str, Any]) -> dict[str, Any]:
    from bench_trainer import sample_configs

    rng = np.random.default_rng(0)
    data = _dataset("concrete", size["max_train_rows"])
    out: dict[str, Any] = {}
    n, alone, epochs = size["speed_configs"], size["speed_alone"], size["speed_epochs"]
    for sampling in ("random", "shard"):
        configs = sample_configs(n, rng, sampling)
        out[f"fcnet_{sampling}"] = _throughput("fcnet", configs, data, epochs, alone, args.device)
    shard = out["fcnet_shard"]["batched_config_epochs_per_s"]
    uniform = out["fcnet_random"]["batched_config_epochs_per_s"]
    out["full_fcnet_grid_hours_extrapolated"] = {
        "from_shard": round(FULL_FCNET_GRID / shard / 3600, 2),
        "from_uniform_sample": round(FULL_FCNET_GRID / uniform / 3600, 2),
        "note": (
            "config-epochs of the full grid (62,208 x 4 seeds x 100 epochs) divided by the "
            "measured batched throughput on 'concrete'; one device, no overlap of data loading"
        ),
    }
    lc_data = _dataset("phoneme", size["max_train_rows"])
    lc_configs = _sample("lcbench", max(n // 4, 2), seed=0)
    out["lcbench"] = _throughput("lcbench", lc_configs, lc_data, epochs, alone, args.device)
    return out


def _cli(*argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(
        [sys.executable, "-m", "hpobench.cli", *argv],
        capture_output=True,
        text=True,
        timeout=max(timeout, 1.0),
        env=env,
        check=False,
    )


def stage_tables(
    args: argparse.Namespace, size: dict[str, Any], work: Path, deadline: float
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for task in size["lcbench_tasks"]:
        left = deadline - time.monotonic()
        if left < 20:
            out[task] = {"status": "skipped: stage time box spent"}
            continue
        run_dir = work / f"lcbench-{task}"
        cmd = ["generate", f"lcbench/{task}", "--variant", size["lcbench_variant"]]
        cmd += ["--device", args.device]
        cmd += ["--out", str(run_dir), "--no-progress"]
        if size["lcbench_n_configs"]:
            cmd += ["--n-configs", str(size["lcbench_n_configs"])]
        if run_dir.exists():
            cmd.append("--resume")
        start = time.monotonic()
        try:
            proc = _cli(*cmd, timeout=left - 10)
            status = "finished" if proc.returncode == 0 else f"failed: {proc.stderr[-500:]}"
        except subprocess.TimeoutExpired:
            status = "time box reached (partial; resume with --resume)"
        record: dict[str, Any] = {"status": status, "wall_s": round(time.monotonic() - start, 1)}
        chunks = sorted((run_dir / "chunks").glob("chunk-*.parquet"))
        record["chunks"] = len(chunks)
        if chunks:
            archive = args.out / f"lcbench-{task}.tar.gz"
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(run_dir, arcname=run_dir.name)
            record["archive"] = archive.name
            record["archive_mib"] = round(archive.stat().st_size / 2**20, 2)
        out[task] = record
    return out


def stage_surrogate(args: argparse.Namespace, work: Path, deadline: float) -> dict[str, Any]:
    probe = _cli("surrogate", "--help", timeout=60)
    if probe.returncode != 0:
        return {"status": "skipped: this checkout has no `hpobench surrogate` command"}
    out: dict[str, Any] = {}
    for device in (args.device, "cpu") if args.device != "cpu" else ("cpu",):
        left = deadline - time.monotonic()
        if left < 15:
            out[device] = {"status": "skipped: stage time box spent"}
            continue
        start = time.monotonic()
        dest = work / f"surrogate-{device.replace(':', '-')}"
        try:
            proc = _cli(
                "surrogate",
                "fit",
                "lcbench/phoneme-v1",
                "--device",
                device,
                "--out",
                str(dest),
                *args.surrogate_args,
                timeout=left - 5,
            )
            status = "finished" if proc.returncode == 0 else f"failed: {proc.stderr[-500:]}"
        except subprocess.TimeoutExpired:
            status = "time box reached"
        out[device] = {"status": status, "wall_s": round(time.monotonic() - start, 1)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (rehearsal)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--out", type=Path, required=True, help="results folder ($OUT)")
    parser.add_argument("--work", type=Path, default=None, help="scratch (default: <out>/../work)")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for all stages")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument(
        "--stages", nargs="+", default=["correctness", "speed", "tables", "surrogate"]
    )
    parser.add_argument("--surrogate-args", nargs="*", default=[])
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(os.environ.get("TMPDIR", "/tmp")) / "hpobench-gpu-check"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    size = SCALES[args.scale]
    report = Report(args.out, args)
    report.stage("device", device_info(args.device))
    # Shares of the budget per stage; what a stage leaves unused passes on to the next ones.
    shares = {"correctness": 0.1, "speed": 0.3, "tables": 0.45, "surrogate": 0.15}
    end = time.monotonic() + args.budget
    stages: dict[str, Callable[[float], Any]] = {
        "correctness": lambda _d: stage_correctness(args, size),
        "speed": lambda _d: stage_speed(args, size),
        "tables": lambda d: stage_tables(args, size, work, d),
        "surrogate": lambda d: stage_surrogate(args, work, d),
    }
    failed = 0
    for i, name in enumerate(args.stages):
        remaining = [s for s in args.stages[i:] if s in shares]
        left = end - time.monotonic()
        share = shares.get(name, 0.0) / max(sum(shares[s] for s in remaining), 1e-9)
        deadline = time.monotonic() + left * share
        start = time.monotonic()
        print(f"== {name} (time box {left * share:.0f} s)", flush=True)
        try:
            result = stages[name](deadline)
        except Exception as exc:  # a broken stage must not lose the others' results
            failed += 1
            result = {"status": f"error: {type(exc).__name__}: {exc}"}
        if isinstance(result, dict):
            result["stage_wall_s"] = round(time.monotonic() - start, 1)
        report.stage(name, result)
        print(json.dumps(result, indent=2, default=str), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
