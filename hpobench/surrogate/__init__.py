"""Surrogates: the file format and the numpy inference of fitted curve surrogates.

Light core (numpy only): reading a surrogate and answering queries never imports torch.
Fitting lives in :mod:`hpobench.fit`. See docs/surrogates.md.
"""

from hpobench.surrogate._benchmark import SurrogateBenchmark
from hpobench.surrogate._format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SurrogateFile,
    read_surrogate,
    write_surrogate,
)
from hpobench.surrogate._network import TRANSFORMS, CurveNetwork, Layer
from hpobench.surrogate._store import (
    list_surrogates,
    load_surrogate,
    surrogate_dir,
    surrogate_root,
    update_manifest,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TRANSFORMS",
    "CurveNetwork",
    "Layer",
    "SurrogateBenchmark",
    "SurrogateFile",
    "list_surrogates",
    "load_surrogate",
    "read_surrogate",
    "surrogate_dir",
    "surrogate_root",
    "update_manifest",
    "write_surrogate",
]
