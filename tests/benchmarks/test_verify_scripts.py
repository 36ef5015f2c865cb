"""The verification scripts' statistics (benchmarks/ is not a package: loaded by path)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("scipy")

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_verdict_direction_follows_the_signed_ranks_not_the_mean() -> None:
    # ``a`` is lower (better) in 19 of 20 pairs, but one huge regret drags its mean above
    # ``b``'s: the Wilcoxon test is significant, and its direction is ``a`` better. (The first
    # report called it "b better" from the means: a heavy-tailed regret flipped the verdict.)
    vb = _load("verify_baselines")
    b = np.linspace(1.0, 2.0, 20)
    a = b - 0.5
    a[0] = 100.0
    assert a.mean() > b.mean()
    p, word = vb.verdict(a, b, "a", "b")
    assert p < 0.05 and word == "a better"
    p, word = vb.verdict(b, a, "b", "a")
    assert word == "a better"
    assert vb.verdict(b, b, "b", "b") == (1.0, "n.s.")
