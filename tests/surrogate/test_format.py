"""Bad surrogate files: each a SurrogateError naming the file and what must hold."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import hpobench
from hpobench import BenchmarkNotFoundError, SurrogateError
from hpobench.surrogate import SurrogateBenchmark, load_surrogate, read_surrogate


def _edit_meta(sdir: Path, fn: Callable[[dict], None]) -> None:
    d = json.loads((sdir / "meta.json").read_text())
    fn(d)
    (sdir / "meta.json").write_text(json.dumps(d))


def _truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


CASES: list[tuple[str, Callable[[Path], None], dict, str]] = [
    ("missing meta", lambda s: (s / "meta.json").unlink(), {}, "meta.json' does not exist"),
    ("missing weights", lambda s: (s / "weights.npz").unlink(), {}, "weights.npz' do not exist"),
    ("truncated weights", lambda s: _truncate(s / "weights.npz"), {}, "sha256 must equal"),
    ("truncated meta", lambda s: _truncate(s / "meta.json"), {}, "must be valid JSON"),
    (
        "another format version",
        lambda s: _edit_meta(s, lambda d: d.update(format_version=99)),
        {},
        "must declare format 'hpobench-surrogate' version one of [1, 2]",
    ),
    (
        "another task",
        lambda s: None,
        {"expect_id": "synth/other-v1"},
        "is the surrogate of 'synth/grid-v1'",
    ),
    (
        "another table",
        lambda s: None,
        {"expect_table_sha256": "0" * 64},
        "was fitted to the table with sha256",
    ),
    (
        "malformed outputs",
        lambda s: _edit_meta(s, lambda d: d["outputs"].update(transforms=["sqrt", "log"])),
        {},
        "with a transform from",
    ),
    (
        "missing field",
        lambda s: _edit_meta(s, lambda d: d.pop("weights")),
        {},
        "missing or wrong field",
    ),
]


@pytest.mark.parametrize(("what", "damage", "kwargs", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_files_are_refused_with_the_file_named(
    make_surrogate: Callable[..., tuple[Path, Path]],
    what: str,
    damage: Callable[[Path], None],
    kwargs: dict,
    words: str,
) -> None:
    _, sdir = make_surrogate()
    damage(sdir)
    with pytest.raises(SurrogateError) as e:
        read_surrogate(sdir, **kwargs)
    assert words in str(e.value)
    assert str(sdir) in str(e.value)


def _rewrite_mode_head(s: Path, shape: tuple[int, int]) -> None:
    """Replace mode.WT by an array of ``shape`` and re-record the weights' sha256."""
    import hashlib

    import numpy as np

    with np.load(s / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["mode.WT"] = np.zeros(shape, np.float32)
    np.savez(s / "weights.npz", **arrays)
    digest = hashlib.sha256((s / "weights.npz").read_bytes()).hexdigest()
    _edit_meta(s, lambda d: d["weights"].update(sha256=digest))


def _as_v1(d: dict) -> None:
    d.update(format_version=1)
    d.pop("seed_model")


# (what, two-mode file?, damage, words the message must contain)
SEED_MODEL_CASES: list[tuple[str, bool, Callable[[Path], None], str]] = [
    (
        "two-mode declared, no mode arrays",
        False,
        lambda s: _edit_meta(s, lambda d: d.update(format_version=2, seed_model="two-mode")),
        "a two-mode surrogate must hold the arrays 'mode.WT' and 'mode.b'",
    ),
    (
        "mode arrays in a version-1 file",
        True,
        lambda s: _edit_meta(s, _as_v1),
        "a gaussian surrogate must not hold the arrays 'mode.WT'",
    ),
    (
        "unknown seed model",
        True,
        lambda s: _edit_meta(s, lambda d: d.update(seed_model="three-mode")),
        "seed_model must be one of ['gaussian', 'two-mode'], but got 'three-mode'",
    ),
    (
        "mode head of the wrong shape",
        True,
        lambda s: _rewrite_mode_head(s, (3, 8)),
        "a two-mode network's mode.WT must be [1 + R*M, H]",
    ),
]


@pytest.mark.parametrize(
    ("what", "two_mode", "damage", "words"), SEED_MODEL_CASES, ids=[c[0] for c in SEED_MODEL_CASES]
)
def test_seed_model_mismatches_are_refused(
    make_surrogate: Callable[..., tuple[Path, Path]],
    what: str,
    two_mode: bool,
    damage: Callable[[Path], None],
    words: str,
) -> None:
    _, sdir = make_surrogate(two_mode=two_mode)
    read_surrogate(sdir)  # sound before the damage
    damage(sdir)
    with pytest.raises(SurrogateError) as e:
        read_surrogate(sdir)
    assert words in str(e.value)
    assert str(sdir) in str(e.value)


def test_a_gaussian_file_stays_version_1(make_surrogate: Callable[..., tuple[Path, Path]]) -> None:
    # an older reader (version 1 only) reads every Gaussian file and refuses a two-mode one
    _, g = make_surrogate()
    _, t = make_surrogate(two_mode=True)
    dg, dt = (json.loads((p / "meta.json").read_text()) for p in (g, t))
    assert dg["format_version"] == 1 and "seed_model" not in dg
    assert dt["format_version"] == 2 and dt["seed_model"] == "two-mode"
    assert not read_surrogate(g).network.two_mode and read_surrogate(t).network.two_mode


def test_weights_with_a_pickle_are_refused(
    make_surrogate: Callable[..., tuple[Path, Path]],
) -> None:
    import hashlib

    import numpy as np

    _, sdir = make_surrogate()
    np.savez(sdir / "weights.npz", **{"out.WT": np.array([object()], dtype=object)})
    digest = hashlib.sha256((sdir / "weights.npz").read_bytes()).hexdigest()
    _edit_meta(sdir, lambda d: d["weights"].update(sha256=digest))
    with pytest.raises(SurrogateError, match=r"weights\.npz"):
        read_surrogate(sdir)


def test_make_with_the_surrogate_backend(
    make_surrogate: Callable[..., tuple[Path, Path]],
    isolated_registry: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from hpobench.registry import update_manifest
    from hpobench.surrogate import surrogate_dir
    from hpobench.surrogate import update_manifest as update_surrogates

    table_dir, sdir = make_surrogate()
    shutil.copytree(table_dir, isolated_registry / "synth" / "grid")
    update_manifest(isolated_registry)
    root = tmp_path / "surrogates"
    monkeypatch.setenv("HPOBENCH_SURROGATES", str(root))
    shutil.copytree(sdir, surrogate_dir("synth/grid-v1"))
    update_surrogates(root)
    bench = hpobench.make("synth/grid-v1", backend="surrogate")
    assert isinstance(bench, SurrogateBenchmark)
    assert load_surrogate("synth/grid-v1", sha256=bench.sha256) is bench
    with pytest.raises(SurrogateError, match="pinned"):
        load_surrogate("synth/grid-v1", sha256="f" * 64)
    with pytest.raises(BenchmarkNotFoundError, match="hpobench surrogate fit synth/nope-v1"):
        hpobench.make("synth/nope-v1", backend="surrogate")
    with pytest.raises(hpobench.HPOBenchError, match="backend must be 'table' or 'surrogate'"):
        hpobench.make("synth/grid-v1", backend="onnx")
    # a table suite never sweeps surrogates in: they are not registered ids
    assert hpobench.list_benchmarks() == ["synth/grid-v1"]
    assert type(hpobench.make("synth/grid-v1")).__name__ == "TabularBenchmark"
    # the table changed after fitting: refused, naming the file
    d = json.loads((isolated_registry / "synth" / "grid" / "meta.json").read_text())
    d["table"]["sha256"] = "1" * 64
    (isolated_registry / "synth" / "grid" / "meta.json").write_text(json.dumps(d))
    from hpobench.surrogate._store import _cached

    _cached.cache_clear()
    with pytest.raises(SurrogateError, match="was fitted to the table with sha256"):
        hpobench.make("synth/grid-v1", backend="surrogate")
