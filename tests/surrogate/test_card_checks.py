"""``sample_checks`` (``hpobench/fit/_card.py``) on random-weight surrogates: no torch needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hpobench.fit._card import sample_checks
from hpobench.surrogate import SurrogateBenchmark
from hpobench.table import read_table, write_table


@pytest.mark.filterwarnings("ignore:An input array is constant")  # the seed ceiling: n/a here
@pytest.mark.parametrize(("level", "share"), [(1e6, 1.0), (-1e6, 0.0)])
def test_beyond_best_run_counts_single_answers_past_the_table_s_best_run(
    make_surrogate: Callable[..., tuple[Path, Path]],
    synth: Any,
    tmp_path: Path,
    level: float,
    share: float,
) -> None:
    # valid_loss is minimised: a table whose every run scores 1e6 is beaten by every answer of
    # the surrogate, one whose every run scores -1e6 by none
    table_dir, sdir = make_surrogate()
    sur = SurrogateBenchmark.from_directory(sdir)
    table = read_table(table_dir)
    meta, configs = table.meta, synth.grid_configs()
    data = synth.make_data(meta, configs)
    data["valid_loss"] = np.full_like(data["valid_loss"], level)
    write_table(tmp_path / "t", meta, configs, data)
    got = sample_checks(sur, n=64, table=read_table(tmp_path / "t"))["beyond_best_run"]
    for key in ("share", "first_step", "last_step", "worst_step"):
        assert got[key] == share, key
    assert got["worst_step_fidelity"] in sur.fidelity.values
    n_runs = table.n_configs * len(meta.seeds)
    assert got["reference"] == 1 / (n_runs + 1)
