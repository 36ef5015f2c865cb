"""Landlock rules: carving protected folders out of allowed ones, and the confinement itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hpobench.harness import _landlock
from hpobench.harness._landlock import READ, READ_DIR, carve


def tree(root: Path) -> Path:
    for d in ("repo/hpobench", "repo/data/fcnet", "repo/docs", "other"):
        (root / d).mkdir(parents=True)
    (root / "repo/README.md").write_text("x")
    (root / "repo/data/fcnet/table.parquet").write_text("answers")
    return root


def test_carve_keeps_protected_folders_out(tmp_path: Path) -> None:
    r = tree(tmp_path).resolve()
    rules = dict(carve([(str(r / "repo"), READ), (str(r / "other"), READ)], [str(r / "repo/data")]))
    assert rules == {
        str(r / "repo"): READ_DIR,  # listing only: no file beneath is readable through it
        str(r / "repo/README.md"): READ & ~READ_DIR,
        str(r / "repo/docs"): READ,
        str(r / "repo/hpobench"): READ,
        str(r / "other"): READ,
    }


def test_carve_drops_allowed_paths_inside_protected_ones_and_missing_ones(tmp_path: Path) -> None:
    r = tree(tmp_path).resolve()
    allowed = [(str(r / "repo/data/fcnet"), READ), (str(r / "missing"), READ)]
    assert carve(allowed, [str(r / "repo/data")]) == []
    assert carve([(str(r / "other"), READ)], [str(r / "missing")]) == [(str(r / "other"), READ)]


@pytest.mark.skipif(_landlock.abi_version() < 1, reason="Landlock is not available in this kernel")
def test_a_confined_process_cannot_read_a_carved_out_file(tmp_path: Path) -> None:
    r = tree(tmp_path).resolve()
    code = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("ll", {_landlock.__file__!r})
        ll = importlib.util.module_from_spec(spec); spec.loader.exec_module(ll)
        allowed = [(p, ll.READ) for p in sys.path if p] + [({str(r / "repo")!r}, ll.READ)]
        ll.restrict(ll.carve(allowed, [{str(r / "repo/data")!r}]))
        print(open({str(r / "repo/README.md")!r}).read())
        try:
            open({str(r / "repo/data/fcnet/table.parquet")!r}).read()
            print("READ")
        except PermissionError:
            print("DENIED")
        try:
            open({str(r / "other/new.txt")!r}, "w")
            print("WROTE")
        except PermissionError:
            print("DENIED")
    """)
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["x", "DENIED", "DENIED"]
