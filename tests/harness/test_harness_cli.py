"""``hpobench run``: the command a new user types."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from hpobench.cli import main
from hpobench.harness import Trajectory, _protocol, register_protocol

OPT = """
import numpy as np
from hpobench.harness import Suggestion

def make_optimizer(problem, seed):
    rng = np.random.default_rng(seed)

    class RS:
        def ask(self):
            return Suggestion(problem.space.sample(rng))

        def tell(self, suggestion, evaluation):
            pass

    return RS()
"""


@pytest.fixture
def setup(mf: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    monkeypatch.setattr(_protocol, "_user_protocols", {})
    register_protocol(mf.protocol(name="cli-test-v1", n_repetitions=2))
    opt = tmp_path / "my_opt.py"
    opt.write_text(OPT)
    return SimpleNamespace(ids=[mf.table(), mf.table()], opt=opt, out=tmp_path / "runs")


def test_run_and_rerun(setup: SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--optimizer", f"{setup.opt}:make_optimizer", "--suite", ",".join(setup.ids),
            "--protocol", "cli-test-v1", "--out", str(setup.out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "4 runs: 4 ran, 0 skipped, 0 errors; status: completed 4" in out
    files = sorted(setup.out.rglob("rep-*.parquet"))
    assert len(files) == 4 and Trajectory.read(files[0]).meta.protocol_name == "cli-test-v1"
    assert main([*argv, "--repetitions", "3"]) == 0
    assert "6 runs: 2 ran, 4 skipped" in capsys.readouterr().out


def test_run_sandboxed(setup: SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--optimizer", str(setup.opt), "--suite", setup.ids[0], "--repetitions", "1",
            "--protocol", "cli-test-v1", "--out", str(setup.out), "--no-progress", "--sandbox",
            "--memory-limit", "2048"]  # fmt: skip
    assert main(argv) == 0
    assert "1 runs: 1 ran, 0 skipped, 0 errors; status: completed 1" in capsys.readouterr().out
    [file] = setup.out.rglob("rep-*.parquet")
    assert Trajectory.read(file).timing["sandbox_level"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--protocol", "cli-tset-v1"], "Did you mean .*'cli-test-v1'"),
        (["--suite", "fcent"], "Did you mean .*'fcnet'"),
        (["--optimizer", "nope.py"], "must exist"),
        (["--workers-pool", "0"], "--workers-pool must be >= 1"),
        (["--call-timeout", "-1"], "call_timeout must be None \\(no limit\\) or a finite number"),
        (["--sandbox", "--memory-limit", "-5"], "--memory-limit must be >= 0"),
    ],
)
def test_bad_input_is_one_clear_line(
    setup: SimpleNamespace, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    base = {"--optimizer": str(setup.opt), "--protocol": "cli-test-v1", "--suite": setup.ids[0],
            "--out": str(setup.out)}  # fmt: skip
    argv = ["run", "--no-progress"]
    for k, v in base.items():
        if k not in args:
            argv += [k, v]
    assert main(argv + args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    import re

    assert re.search(message, err)


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["run", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for needle in (
        "sf-serial-v2",
        "mf-async4-v2",
        "--workers-pool",
        "--ray",
        "make_optimizer",
        "rep-<r>.parquet",
    ):
        assert needle in text
