"""``generate --status`` counts only chunks a merge would accept; ``--merge`` never replaces unasked."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpobench.cli import main
from hpobench.generate._chunks import chunk_path

pytest.importorskip("sklearn")


def test_status_reports_damaged_chunks_and_merge_needs_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_registry: Path
) -> None:
    out = tmp_path / "run"
    args = ["generate", "gbt/concrete", "--out", str(out), "--n-configs", "2", "--seeds", "0", "1"]
    try:
        code = main([*args, "--no-progress"])
    except Exception as e:  # the dataset package is an optional extra
        pytest.skip(f"cannot train gbt/concrete here: {e}")
    if code != 0:
        pytest.skip("cannot train gbt/concrete here (dataset package missing)")
    chunk = chunk_path(out, 0)
    good = chunk.read_bytes()
    chunk.write_bytes(good[: len(good) // 2])  # a chunk cut short by a full disk
    capsys.readouterr()
    assert main(["generate", "--status", str(out)]) == 0
    text = capsys.readouterr().out
    assert "damaged: 0" in text and "ready to merge" not in text
    chunk.write_bytes(good)
    assert main(["generate", "--status", str(out)]) == 0
    assert "ready to merge" in capsys.readouterr().out
    assert main(["generate", "--merge", str(out)]) == 0  # the user root by default
    assert (isolated_registry / "gbt" / "concrete" / "meta.json").exists()
    assert main(["generate", "--merge", str(out)]) == 2
    assert "replaced only when asked (--replace" in capsys.readouterr().err
    assert main(["generate", "--merge", str(out), "--replace"]) == 0
    # A run of another design is published beside v1 as a new version, never over it.
    assert main(["generate", "--merge", str(out), "--version", "2"]) == 0
    assert "gbt/concrete-v2" in capsys.readouterr().out
    v2 = isolated_registry / "gbt" / "concrete-v2" / "meta.json"
    assert v2.exists() and (isolated_registry / "gbt" / "concrete" / "meta.json").exists()
    import hpobench

    assert {"gbt/concrete-v1", "gbt/concrete-v2"} <= set(hpobench.list_benchmarks("gbt"))
    meta = hpobench.make("gbt/concrete-v2").meta
    assert meta.version == 2 and "--version 2" in meta.generation["command"]
    assert main(["generate", "--merge", str(out), "--version", "2"]) == 2  # no silent replace


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["generate", "gbt/concrete", "--out", "x", "--version", "2"], "goes with --merge"),
        (["generate", "--merge", "RUN", "--version", "0"], "version must be an integer"),
    ],
)
def test_version_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    argv = [a.replace("RUN", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    assert words in capsys.readouterr().err
