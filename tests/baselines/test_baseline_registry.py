"""The registry of baselines by name: lookup, settings, loading by name, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from baselines import (
    BASELINES,
    BaselineError,
    BaselineNotFoundError,
    get_baseline,
    list_baselines,
    make_factory,
)
from hpobench import HPOBenchError
from hpobench.cli import main
from hpobench.harness import load_optimizer

ROOT = Path(__file__).resolve().parents[2]


def test_every_entry_is_complete() -> None:
    names = list_baselines()
    assert len(names) == len(set(names))
    for name in names:
        s = get_baseline(name)
        assert s.name == name == name.lower() and "_" not in name
        assert s.description and s.references and all(s.references)
        assert s.entry_point.startswith("baselines.") and ":" in s.entry_point
        assert BASELINES[name] == s.entry_point


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: get_baseline("hyperbandd"), BaselineNotFoundError, "Did you mean"),
        (lambda: get_baseline(3), BaselineNotFoundError, "No baseline is registered as 3"),
        (lambda: make_factory("asha", etaa=2.0), BaselineError, "Did you mean 'eta'"),
        (lambda: make_factory("nope"), BaselineNotFoundError, "hpobench baselines"),
    ],
)
def test_bad_lookups(call: object, error: type[HPOBenchError], words: str) -> None:
    with pytest.raises(error, match=words):
        call()  # type: ignore[operator]


def test_names_are_forgiving_about_case_and_underscores() -> None:
    assert get_baseline("Random_Search").name == "random-search"


def test_make_factory_binds_settings() -> None:
    f = make_factory("asha", eta=4.0)
    assert f.keywords == {"eta": 4.0}  # type: ignore[attr-defined]


def test_load_optimizer_by_name_module_and_file() -> None:
    by_name = load_optimizer("asha")
    assert by_name is load_optimizer("baselines.asha:make_optimizer")
    by_file = load_optimizer(str(ROOT / "baselines" / "asha.py"))
    assert by_file.__name__ == "make_optimizer"


def test_importing_hpobench_and_the_registry_imports_no_optional_dependency() -> None:
    code = (
        "import sys, hpobench, baselines; baselines.list_baselines();"
        "from hpobench.harness import load_optimizer;"
        "bad = [m for m in ('optuna', 'torch', 'ray', 'matplotlib') if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_lists_every_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baselines"]) == 0
    text = capsys.readouterr().out
    for name in list_baselines():
        assert name in text
    assert main(["baselines", "--json", "asha"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "asha" and rows[0]["defaults"] == {"eta": 3.0}
    assert rows[0]["multi_fidelity"] is True and rows[0]["references"]


def test_cli_unknown_name_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baselines", "ashaa"]) == 2
    assert "Did you mean 'asha'" in capsys.readouterr().err


def test_run_by_name_from_another_directory(tmp_path: Path) -> None:
    """`--optimizer NAME` works from any directory (the package is importable, not a file)."""
    env_path = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-m", "hpobench.cli", "run", "--optimizer", "asha", "--protocol",
         "mf-serial-v2", "--suite", "gbt/phoneme-v1", "--repetitions", "1", "--out",
         str(tmp_path / "runs"), "--no-progress"],
        cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "1 ran" in out.stdout


def test_run_refuses_a_multi_fidelity_baseline_on_single_fidelity_tasks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--optimizer", "hyperband", "--protocol", "sf-serial-v2", "--suite",
            "fcnet/protein-v1", "--out", str(tmp_path / "runs"), "--no-progress"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "hyperband is a multi-fidelity method" in err and "fcnet/protein-v1" in err
    assert not (tmp_path / "runs").exists()  # nothing ran
