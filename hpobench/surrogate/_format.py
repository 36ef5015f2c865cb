"""The surrogate file format: ``weights.npz`` + ``meta.json`` per task (no pickle).

``surrogates/<family>/<task>/``:

===============  ==========================================================================
file             content
===============  ==========================================================================
``weights.npz``  float32 arrays, read with ``allow_pickle=False`` (see ``_network.py``)
``meta.json``    ``format: "hpobench-surrogate"``, ``format_version``, ``id``, the table it
                 was fitted to (``table.sha256`` of its parquet and its whole ``meta``, so a
                 surrogate answers without the table present), ``weights.sha256``, the
                 network's layers and outputs (modelled metrics, transforms), fit provenance
``card.json``    the fidelity card (``hpobench.fit``), ``card.md`` its rendering
===============  ==========================================================================

Versions: ``1`` is a Gaussian seed model; ``2`` adds ``seed_model`` (``"gaussian"`` or
``"two-mode"``, the latter with the ``mode.WT``/``mode.b`` arrays, see ``_network.py``). A writer
uses version 1 whenever the model is Gaussian, so a file an older reader accepts is one it
answers correctly, and an older reader refuses a two-mode file instead of ignoring its modes.

Reading checks, in order, each failure a :class:`~hpobench.SurrogateError` naming the file and
what must hold: meta.json exists and is JSON of this format and version, declares the expected
id (and table sha256, when the caller knows the table), weights.npz exists, has the recorded
sha256 (a truncated or altered file fails here), and holds every array the layers name with
the shapes they need.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import HPOBenchError, SurrogateError
from hpobench.surrogate._network import TRANSFORMS, CurveNetwork, Layer
from hpobench.table import TableMeta

__all__ = [
    "CARD_FILE",
    "CARD_MD_FILE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "META_FILE",
    "WEIGHTS_FILE",
    "SurrogateFile",
    "read_surrogate",
    "write_surrogate",
]

FORMAT_NAME = "hpobench-surrogate"
FORMAT_VERSION = 2  # the newest this version reads and writes; see FORMAT_VERSIONS
FORMAT_VERSIONS = (1, 2)
SEED_MODELS = ("gaussian", "two-mode")
META_FILE = "meta.json"
WEIGHTS_FILE = "weights.npz"
CARD_FILE = "card.json"
CARD_MD_FILE = "card.md"


@dataclass(frozen=True, eq=False)
class SurrogateFile:
    """A read and verified surrogate: its table's metadata, the network, and meta.json."""

    path: Path
    table_meta: TableMeta
    table_sha256: str
    weights_sha256: str
    network: CurveNetwork
    meta: Mapping[str, Any]

    @property
    def id(self) -> str:
        return self.table_meta.id


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_surrogate(
    path: str | Path,
    *,
    table_meta: TableMeta,
    layers: list[Layer],
    arrays: Mapping[str, np.ndarray],
    metrics: list[str],
    transforms: list[str],
    fit: Mapping[str, Any],
) -> Path:
    """Write ``weights.npz`` and ``meta.json`` into ``path`` (created); same inputs, same bytes.

    The seed model follows from ``arrays`` (``mode.WT`` present: two-mode, format version 2;
    otherwise Gaussian, version 1)."""
    two_mode = "mode.WT" in arrays
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_FILE
    # np.savez stores a zip whose entries carry timestamps; write entries ourselves, fixed date.
    with zipfile.ZipFile(weights, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            arr = np.ascontiguousarray(arrays[name], dtype=np.float32)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as fh:
                np.lib.format.write_array(fh, arr, allow_pickle=False)
    meta = {
        "format": FORMAT_NAME,
        "format_version": 2 if two_mode else 1,
        **({"seed_model": "two-mode"} if two_mode else {}),
        "id": table_meta.id,
        "table": {"sha256": table_meta.sha256, "meta": table_meta.to_dict()},
        "weights": {"file": WEIGHTS_FILE, "sha256": _sha256(weights)},
        "network": {"layers": [[layer.kind, layer.name] for layer in layers]},
        "outputs": {
            "metrics": list(metrics),
            "transforms": list(transforms),
            "runtime_metric": table_meta.runtime_metric,
            "n_steps": len(table_meta.fidelity),
        },
        "fit": dict(fit),
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=1, allow_nan=False) + "\n")
    return out


def read_surrogate(
    path: str | Path, *, expect_id: str | None = None, expect_table_sha256: str | None = None
) -> SurrogateFile:
    """Read and verify the surrogate in directory ``path`` (see the module docstring)."""
    root = Path(path)
    meta_path = root / META_FILE
    try:
        text = meta_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SurrogateError(
            f"Surrogate metadata {str(meta_path)!r} does not exist; fit it with "
            f"`hpobench surrogate fit {expect_id or 'ID'}`."
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SurrogateError(f"Cannot read surrogate metadata {str(meta_path)!r}: {e}.") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise SurrogateError(
            f"{meta_path}: must be valid JSON (a truncated file?), but parsing failed: {e}."
        ) from None
    if not isinstance(d, dict):
        raise SurrogateError(f"{meta_path}: must hold a JSON object, got {type(d).__name__}.")
    version = d.get("format_version")
    if d.get("format") != FORMAT_NAME or version not in FORMAT_VERSIONS:
        raise SurrogateError(
            f"{meta_path}: must declare format {FORMAT_NAME!r} version one of "
            f"{list(FORMAT_VERSIONS)}, but declares {d.get('format')!r} version {version!r}; "
            "refit it with this version of hpobench."
        )
    seed_model = d.get("seed_model", "gaussian") if version == 2 else "gaussian"
    if seed_model not in SEED_MODELS:
        raise SurrogateError(
            f"{meta_path}: seed_model must be one of {list(SEED_MODELS)}, but got {seed_model!r}."
        )
    try:
        sid = d["id"]
        table_sha = d["table"]["sha256"]
        table_meta = TableMeta.from_dict(d["table"]["meta"], source=f"{meta_path} (table.meta)")
        weights_sha = d["weights"]["sha256"]
        layers = [Layer(kind, name) for kind, name in d["network"]["layers"]]
        outputs = d["outputs"]
        metrics, transforms = list(outputs["metrics"]), list(outputs["transforms"])
        runtime_metric = outputs["runtime_metric"]
    except HPOBenchError as e:
        raise SurrogateError(str(e)) from None
    except (KeyError, TypeError, ValueError) as e:
        raise SurrogateError(
            f"{meta_path}: malformed surrogate metadata, missing or wrong field {e}."
        ) from None
    if expect_id is not None and sid != expect_id:
        raise SurrogateError(
            f"{meta_path}: is the surrogate of {sid!r}, but {expect_id!r} was asked for."
        )
    if table_meta.id != sid:
        raise SurrogateError(
            f"{meta_path}: declares id {sid!r} but its table metadata is {table_meta.id!r}."
        )
    if expect_table_sha256 is not None and table_sha != expect_table_sha256:
        raise SurrogateError(
            f"{meta_path}: was fitted to the table with sha256 {table_sha!r}, but the registered "
            f"table {sid!r} has sha256 {expect_table_sha256!r}; the table changed, refit with "
            f"`hpobench surrogate fit {sid}`."
        )
    bad = [t for t in transforms if t not in TRANSFORMS]
    cols = set(table_meta.metrics)
    if (
        bad
        or len(transforms) != len(metrics)
        or set(metrics) | {runtime_metric} != cols
        or runtime_metric != table_meta.runtime_metric
        or any(kind not in ("dense", "residual") for kind, _ in ((la.kind, 0) for la in layers))
    ):
        raise SurrogateError(
            f"{meta_path}: outputs must name every metric of the table except the runtime "
            f"{table_meta.runtime_metric!r} with a transform from {TRANSFORMS} and layers must be "
            f"'dense' or 'residual', but got metrics {metrics}, transforms {transforms}, layers "
            f"{[la.kind for la in layers]}."
        )
    weights = root / d["weights"].get("file", WEIGHTS_FILE)
    if not weights.is_file():
        raise SurrogateError(
            f"Surrogate weights {str(weights)!r} do not exist ({meta_path} names them)."
        )
    got = _sha256(weights)
    if got != weights_sha:
        raise SurrogateError(
            f"{weights}: sha256 must equal {weights_sha!r} as recorded in {meta_path}, but is "
            f"{got!r} (truncated or altered); refit or restore the file."
        )
    try:
        with np.load(weights, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise SurrogateError(f"{weights}: must be an npz of plain arrays, but {e}.") from None
    if (seed_model == "two-mode") != ("mode.WT" in arrays):
        raise SurrogateError(
            f"{weights}: a {seed_model} surrogate must "
            + ("hold" if seed_model == "two-mode" else "not hold")
            + f" the arrays 'mode.WT' and 'mode.b' ({meta_path} declares seed_model "
            f"{seed_model!r}), but the arrays are {sorted(arrays)}."
        )
    network = _build(meta_path, layers, arrays, metrics, transforms, table_meta, runtime_metric)
    return SurrogateFile(
        path=root,
        table_meta=table_meta,
        table_sha256=table_sha,
        weights_sha256=weights_sha,
        network=network,
        meta=d,
    )


def _build(
    meta_path: Path,
    layers: list[Layer],
    arrays: Mapping[str, np.ndarray],
    metrics: list[str],
    transforms: list[str],
    table_meta: TableMeta,
    runtime_metric: str,
) -> CurveNetwork:
    need = ["out.WT", "out.b", "basis", "phi", "step_bias"]
    if "mode.WT" in arrays:
        need.append("mode.b")
    for layer in layers:
        need += [f"{layer.name}.W", f"{layer.name}.b"]
        if layer.kind == "residual":
            need += [f"{layer.name}.W2", f"{layer.name}.b2"]
    missing = [k for k in need if k not in arrays]
    if missing:
        raise SurrogateError(f"{meta_path}: the weights lack the arrays {missing}.")
    T, M, C = len(table_meta.fidelity), len(metrics), 2 * len(metrics) + 1
    basis, phi = arrays["basis"], arrays["phi"]
    R = phi.shape[1] if phi.ndim == 2 else -1
    if (
        basis.ndim != 3
        or basis.shape[:2] != (T, M)
        or phi.shape[0] != T
        or arrays["step_bias"].shape != (T, C)
        or arrays["out.WT"].shape[0] != 1 + R * C
    ):
        raise SurrogateError(
            f"{meta_path}: for {T} fidelity steps and {M} metrics, basis must be [{T}, {M}, K], "
            f"phi [{T}, R], step_bias [{T}, {C}] and out.WT [1 + R*{C}, H], but got "
            f"{basis.shape}, {phi.shape}, {arrays['step_bias'].shape}, {arrays['out.WT'].shape}."
        )
    if "mode.WT" in arrays and (
        arrays["mode.WT"].shape != (1 + R * M, arrays["out.WT"].shape[1])
        or arrays["mode.b"].shape != (1 + R * M,)
    ):
        raise SurrogateError(
            f"{meta_path}: a two-mode network's mode.WT must be [1 + R*M, H] = "
            f"[{1 + R * M}, {arrays['out.WT'].shape[1]}] and mode.b [{1 + R * M}], but got "
            f"{arrays['mode.WT'].shape} and {arrays['mode.b'].shape}."
        )
    return CurveNetwork(
        layers=layers,
        arrays=arrays,
        metrics=metrics,
        transforms=transforms,
        columns=list(table_meta.metrics),
        runtime_metric=runtime_metric,
    )
