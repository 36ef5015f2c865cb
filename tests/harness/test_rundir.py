"""The run directory tells the truth: verified skips, changed optimizers, one writer, no leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hpobench import HPOBenchError, OptimizerError, ProtocolError, TrajectoryError
from hpobench.harness import Trajectory, _protocol, _rundir, register_protocol, run_suite
from hpobench.harness._trajectory import read_meta

OPTIMIZER = """
import numpy as np
from hpobench.harness import Suggestion

class RS:
    def __init__(self, problem, seed):
        self.problem, self.rng = problem, np.random.default_rng(seed + {shift})
    def ask(self):
        return Suggestion(self.problem.space.sample(self.rng))
    def tell(self, suggestion, evaluation):
        pass

def make_optimizer(problem, seed):
    return RS(problem, seed)
"""


def write_optimizer(directory: Path, shift: int = 0) -> str:
    path = directory / "opt.py"
    path.write_text(OPTIMIZER.format(shift=shift))
    return f"{path}:make_optimizer"


@pytest.fixture
def setup(mf: SimpleNamespace, tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(
        ids=[mf.table()],
        protocol=mf.protocol(n_workers=2, budget_base=8.0),
        out=tmp_path / "runs",
        opt=write_optimizer(tmp_path),
        tmp=tmp_path,
    )


def _run(s: SimpleNamespace, opt: str | None = None, **kw: object) -> list:
    return run_suite(opt or s.opt, s.protocol, out=s.out, suite=s.ids, repetitions=2, **kw)  # type: ignore[arg-type]


def test_a_flipped_byte_is_redone_not_skipped(setup: SimpleNamespace) -> None:
    first = _run(setup)
    path = first[0].path
    good = path.read_bytes()
    for i in range(len(good) // 4, len(good)):  # the first flip that only the digest notices
        data = bytearray(good)
        data[i] ^= 0x01
        path.write_bytes(bytes(data))
        try:
            read_meta(path)  # what the old rerun looked at: the footer still reads fine
            Trajectory.read(path)
        except TrajectoryError:
            try:
                read_meta(path)
                break
            except TrajectoryError:
                continue
    else:
        pytest.fail("no single flipped byte was caught by the digest")
    again = _run(setup)
    assert [r.outcome for r in again] == ["ran", "skipped"]
    assert Trajectory.read(path).digest() == Trajectory.from_bytes(good).digest()


def test_an_edited_incumbent_score_is_redone_not_reported(setup: SimpleNamespace) -> None:
    first = _run(setup)
    path = first[0].path
    true_score = first[0].incumbent_test_score
    table = pq.read_table(path)
    md = dict(table.schema.metadata)
    d = json.loads(md[b"hpobench.trajectory"])
    d["incumbent_test_score"] = -1.0  # a better-looking answer, digest left as it was
    md[b"hpobench.trajectory"] = json.dumps(d).encode()
    i = table.schema.get_field_index("incumbent_test_score")
    table = table.set_column(i, "incumbent_test_score", pc.multiply(table.column(i), 0.0))
    pq.write_table(table.replace_schema_metadata(md), path)
    again = _run(setup)
    assert again[0].outcome == "ran" and again[0].incumbent_test_score == true_score


def test_changed_optimizer_source_is_refused_or_redone(setup: SimpleNamespace) -> None:
    first = _run(setup)
    changed = write_optimizer(setup.tmp, shift=1)  # same file and name, other code
    with pytest.raises(
        OptimizerError,
        match=r"2 finished run\(s\) in this output directory were made by other source code of optimizer 'opt:make_optimizer' \(optimizer_source_sha256 differs\).*--redo-changed",
    ):
        _run(setup, changed)
    assert first[0].path.read_bytes() == first[0].path.read_bytes()
    redone = _run(setup, changed, on_changed="redo")
    assert [r.outcome for r in redone] == ["ran", "ran"]
    assert [r.outcome for r in _run(setup, changed)] == ["skipped", "skipped"]


def test_one_writer_per_directory(setup: SimpleNamespace) -> None:
    setup.out.mkdir()
    with (
        _rundir.locked(setup.out),
        pytest.raises(
            ProtocolError,
            match=rf"is in use by another hpobench run \(pid {os.getpid()}\); one output directory takes one run at a time",
        ),
    ):
        _run(setup)
    assert [r.outcome for r in _run(setup)] == ["ran", "ran"]  # released afterwards


def test_a_killed_writers_temp_file_is_removed(setup: SimpleNamespace) -> None:
    first = _run(setup)
    target = first[1].path
    target.unlink()
    # A real writer, killed while writing: write_atomic's own temp-file pattern is left behind.
    code = (
        "import os, sys, time\n"
        "from hpobench import _atomic\n"
        "os.fsync = lambda fd: (print('writing', flush=True), time.sleep(60))\n"
        f"_atomic.write_atomic({str(target)!r}, b'x' * 1000)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    leftovers = list(target.parent.glob(f".{target.name}.{proc.pid}.*.tmp"))
    assert len(leftovers) == 1 and not target.exists()
    again = _run(setup)
    assert [r.outcome for r in again] == ["skipped", "ran"]
    assert not list(target.parent.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("out", "match"),
    [("", r"must be a non-empty path, but got ''"), ("  ", r"must be a non-empty path")],
)
def test_empty_out_is_refused(setup: SimpleNamespace, out: str, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        run_suite(setup.opt, setup.protocol, out=out, suite=setup.ids, repetitions=1)


def test_a_full_disk_is_an_error_naming_the_file(
    setup: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: object, payload: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_rundir, "write_atomic", full)
    with pytest.raises(
        HPOBenchError,
        match=r"rep-000.parquet: the trajectory must be written, but writing failed \(OSError: .*No space left on device\)",
    ):
        _run(setup)


def test_the_cli_says_what_to_do_about_changed_code(
    setup: SimpleNamespace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hpobench.cli import main

    monkeypatch.setattr(_protocol, "_user_protocols", {})
    register_protocol(setup.protocol)
    args = ["run", "--optimizer", setup.opt, "--protocol", setup.protocol.name, "--out",
            str(setup.out), "--suite", ",".join(setup.ids), "--repetitions", "1", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    write_optimizer(setup.tmp, shift=2)
    capsys.readouterr()
    assert main(args) == 2
    assert "--redo-changed" in capsys.readouterr().err
    assert main([*args, "--redo-changed"]) == 0
    assert "1 ran, 0 skipped" in capsys.readouterr().out
