"""Top-level CLI: --version from the one version, and `hpobench check` says "ok" on success."""

from __future__ import annotations

from pathlib import Path

import pytest

import hpobench
from hpobench import _version
from hpobench.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_defined_once(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"hpobench {_version.__version__}"
    assert hpobench.__version__ == _version.__version__
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "hpobench._version.__version__" in pyproject


def test_check_prints_each_check_and_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--optimizer", str(ROOT / "baselines" / "random_search.py")]) == 0
    out = capsys.readouterr().out
    assert "passed: " in out and out.rstrip().endswith("passes every conformance check")


def test_check_names_what_broke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def make_optimizer(problem, seed):\n    return object()\n")
    assert main(["check", "--optimizer", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_run_help_suggests_a_check_that_prints(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "hpobench check --optimizer" in capsys.readouterr().out
