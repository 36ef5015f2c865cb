"""Sandboxed runs: same bytes as in-process, no way to the answers, every fault ends only its run.

Each sandboxed run starts a Python process (about a second of CPU), so the fault table builds
:class:`SandboxSpec` directly (no probe process) and most tests use one run each.
"""

from __future__ import annotations

import importlib.machinery
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from hpobench import OptimizerError, ProtocolError, registry
from hpobench.harness import (
    RunStatus,
    SandboxSpec,
    Trajectory,
    isolation_available,
    run_study,
    run_suite,
    sandboxed_factory,
    trajectory_path,
)
from hpobench.harness._loading import load_optimizer, parse_optimizer, resolve_optimizer
from hpobench.harness._sandbox import protected_paths

needs_isolation = pytest.mark.skipif(
    not isolation_available(), reason="Landlock is not available in this kernel"
)

HEADER = """
import numpy as np
from hpobench.harness import Suggestion
"""

RANDOM = """
class Opt:
    def __init__(self, problem, seed):
        self.problem, self.rng, self.n = problem, np.random.default_rng(seed), 0
    def ask(self):
        self.n += 1
        ASK(self)
        return Suggestion(self.problem.space.sample(self.rng))
    def tell(self, suggestion, evaluation):
        pass

def make_optimizer(problem, seed):
    return Opt(problem, seed)
"""


def write(tmp_path: Path, body: str, ask: str = "pass", name: str = "opt.py") -> Path:
    """An optimizer file: ``body`` (default: random search calling ``ASK(self)`` in ask)."""
    folder = tmp_path / "optimizer"
    folder.mkdir(exist_ok=True)
    path = folder / name
    fn = "def ASK(self):\n" + textwrap.indent(textwrap.dedent(ask).strip() or "pass", "    ")
    path.write_text(HEADER + fn + "\n" + textwrap.dedent(body))
    return path


def spec(
    path: Path, *, call_timeout: float | None = 20.0, memory_mb: int | None = 2048
) -> SandboxSpec:
    return SandboxSpec(
        optimizer=parse_optimizer(str(path)),
        optimizer_name="opt",
        optimizer_version="",
        optimizer_source_sha256="",
        call_timeout=call_timeout,
        memory_limit_mb=memory_mb,
    )


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# -- the same run, byte for byte ---------------------------------------------------------------
TRICKY = """
class Opt:
    # numpy scalars in configs and fidelities, resumes, None while waiting, several workers
    def __init__(self, problem, seed):
        self.p, self.rng = problem, np.random.default_rng(seed)
        self.sent, self.done, self.waits = {}, [], 0
    def ask(self):
        if self.done and self.rng.random() < 0.4:
            tid, cfg, f = self.done.pop(0)
            later = [v for v in self.p.fidelity.values if v > f]
            if later:
                return Suggestion(cfg, fidelity=np.int64(later[0]), resume=np.int64(tid))
        if self.rng.random() < 0.1 and self.sent:
            self.waits += 1
            return None
        c = self.p.space.sample(self.rng)
        c = {k: (np.float64(v) if isinstance(v, float) else np.int64(v) if isinstance(v, int)
                 and not isinstance(v, bool) else np.str_(v) if isinstance(v, str) else v)
             for k, v in c.items()}
        s = Suggestion(c, fidelity=self.p.fidelity.values[int(self.rng.integers(2))])
        self.sent[id(s)] = s
        return s
    def tell(self, suggestion, evaluation):
        if evaluation.curve.dtype != np.float32 or evaluation.curve.flags.writeable:
            raise TypeError("curve must be read-only float32")
        if evaluation.config != dict(suggestion.config):
            raise TypeError("config changed on the way")
        if suggestion.resume is None and self.sent.pop(id(suggestion)) is not suggestion:
            raise TypeError("tell got another object than ask returned")
        self.done.append((evaluation.trial_id, evaluation.config, evaluation.fidelity))

def make_optimizer(problem, seed):
    return Opt(problem, seed)
"""


@pytest.mark.parametrize(("continuous", "prefetch"), [(False, True), (True, False)])
def test_sandboxed_run_is_the_same_bytes(
    mf: SimpleNamespace, tmp_path: Path, continuous: bool, prefetch: bool
) -> None:
    bid = mf.table(continuous=continuous, n_steps=4)
    proto = mf.protocol(n_workers=3, budget_base=12.0)
    path = write(tmp_path, TRICKY)
    inproc = run_study(bid, load_optimizer(str(path)), proto, 1)
    factory = sandboxed_factory(str(path), call_timeout=30.0, prefetch=prefetch)
    boxed = run_study(bid, factory, proto, 1, call_timeout=None)
    assert inproc.meta.status is RunStatus.COMPLETED, inproc.meta.stop_reason
    assert inproc.meta.n_evaluations > 10
    assert boxed.to_bytes(include_timing=False) == inproc.to_bytes(include_timing=False)
    assert factory.sandbox_level.startswith("landlock") or not isolation_available()


def test_run_suite_sandboxed_writes_the_same_files(mf: SimpleNamespace, tmp_path: Path) -> None:
    bid = mf.table()
    proto = mf.protocol(n_workers=2, budget_base=8.0)
    path = write(tmp_path, RANDOM)
    kw: dict[str, Any] = {"suite": [bid], "repetitions": 1}
    [a] = run_suite(str(path), proto, out=tmp_path / "a", **kw)
    # on a process pool: the job's SandboxSpec is pickled to the worker, which starts the child
    [b] = run_suite(str(path), proto, out=tmp_path / "b", sandbox=True, executor="pool", **kw)
    assert (a.outcome, b.outcome, b.status) == ("ran", "ran", "completed")
    ta, tb = Trajectory.read(a.path), Trajectory.read(b.path)
    assert ta.to_bytes(include_timing=False) == tb.to_bytes(include_timing=False)
    assert "sandbox_level" in tb.timing and "sandbox_level" not in ta.timing


STRICT = """
class Opt:
    # fails if asked when the simulator would not ask: at or after the budget, or past the cap
    def __init__(self, problem, seed):
        self.p, self.rng, self.asks, self.now = problem, np.random.default_rng(seed), 0, 0.0
    def ask(self):
        self.asks += 1
        if self.now >= self.p.time_budget or self.asks > self.p.max_evaluations:
            raise RuntimeError(f"asked at {self.now} (ask {self.asks})")
        return Suggestion(self.p.space.sample(self.rng))
    def tell(self, suggestion, evaluation):
        self.now = evaluation.time

def make_optimizer(problem, seed):
    return Opt(problem, seed)
"""


@pytest.mark.parametrize("limit", ["budget", "cap"])
def test_prefetch_calls_ask_only_when_the_simulator_would(
    mf: SimpleNamespace, tmp_path: Path, limit: str
) -> None:
    bid = mf.table(n_steps=3, cost_by_config=True)
    kw = {"budget_base": 10.0} if limit == "budget" else {"max_evaluations_factor": 0.5}
    proto = mf.protocol(n_workers=2, budget_per_sqrt_dim=0.0, **kw)
    path = write(tmp_path, STRICT)
    traj = run_study(bid, sandboxed_factory(str(path)), proto, 0, call_timeout=None)
    assert traj.meta.status is RunStatus.COMPLETED, traj.meta.stop_reason
    assert limit in traj.meta.stop_reason or "evaluation cap" in traj.meta.stop_reason
    inproc = run_study(bid, load_optimizer(str(path)), proto, 0)
    assert traj.to_bytes(include_timing=False) == inproc.to_bytes(include_timing=False)


# -- an optimizer cannot reach the answers -----------------------------------------------------
CHEAT = """
import sys

def cheat(problem):
    found = []
    try:
        import hpobench
        hpobench.make(BID)
        found.append("make")
    except Exception as e:
        found.append(f"make failed: {type(e).__name__}")
    try:
        open(TABLE, "rb").read(16)
        found.append("read")
    except OSError as e:
        found.append(f"read failed: {type(e).__name__}")
    f = sys._getframe()
    while f is not None:
        if any(hasattr(v, "test_score") for v in f.f_locals.values()) or "oracle" in f.f_locals:
            found.append("oracle")
        f = f.f_back
    return found

class Opt:
    def __init__(self, problem, seed):
        raise RuntimeError("cheats: " + ", ".join(cheat(problem)))

def make_optimizer(problem, seed):
    return Opt(problem, seed)
"""


def cheater(mf: SimpleNamespace, tmp_path: Path) -> tuple[str, Path]:
    bid = mf.table()
    table = Path(registry.spec(bid).path) / "table.parquet"  # type: ignore[arg-type]
    src = CHEAT.replace("BID", repr(bid)).replace("TABLE", repr(str(table)))
    return bid, write(tmp_path, src)


def test_in_process_an_optimizer_can_reach_the_answers(mf: SimpleNamespace, tmp_path: Path) -> None:
    """What the sandbox is for: in-process, every way to the answers is open."""
    bid, path = cheater(mf, tmp_path)
    traj = run_study(bid, load_optimizer(str(path)), mf.protocol(), 0)
    assert "cheats: make, read, oracle" in traj.meta.stop_reason


@needs_isolation
def test_sandboxed_optimizer_cannot_reach_the_answers(mf: SimpleNamespace, tmp_path: Path) -> None:
    bid, path = cheater(mf, tmp_path)
    traj = run_study(bid, spec(path).load(), mf.protocol(), 0, call_timeout=None)
    assert traj.meta.status is RunStatus.FAILED
    cheats = traj.meta.stop_reason.split("cheats: ")[1]
    # make() fails (the parent's registration is not there; the shipped manifest is unreadable)
    assert cheats.startswith("make failed: "), cheats
    assert "read failed: PermissionError" in cheats
    assert "oracle" not in cheats


def test_protected_paths_cover_tables_and_outputs(mf: SimpleNamespace, tmp_path: Path) -> None:
    bid = mf.table()
    prot = protected_paths([str(tmp_path / "out")])
    assert str(Path(registry.spec(bid).path).resolve()) in prot  # type: ignore[arg-type]
    assert str(registry.data_root().resolve()) in prot
    assert str((tmp_path / "out").resolve()) in prot


# -- every fault ends only its run, with a reason and the optimizer's line ----------------------
FAULTS = [
    # (id, ask body, kind, words in the reason, the line marked in ask, options)
    (
        "exception",
        "raise ValueError('boom')  #HERE",
        "exception",
        ["ask() raised ValueError: boom"],
        True,
        {},
    ),
    ("generator-exit", "raise GeneratorExit  #HERE", "exception", ["GeneratorExit"], True, {}),
    (
        "own-base-exception",
        "class Stop(BaseException): pass\nraise Stop('mine')  #HERE",
        "exception",
        ["Stop: mine"],
        True,
        {},
    ),
    ("system-exit", "raise SystemExit(0)  #HERE", "exception", ["SystemExit"], True, {}),
    ("os-exit", "import os; os._exit(3)", "crash", ["exited with status 3", "ask()"], False, {}),
    (
        "segfault",
        "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)  #HERE",
        "crash",
        ["SIGSEGV"],
        True,
        {},
    ),
    (
        "ignores-sigalrm",
        "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM, signal.SIGUSR2])\n"
        "while True: time.sleep(0.01)  #HERE",
        "timeout",
        ["wall-clock limit of 0.5 s", "killed"],
        True,
        {"call_timeout": 0.5},
    ),
    (
        "hang-in-a-prefetched-ask",
        "import time\nif self.n == 2:\n    time.sleep(60)  #HERE",
        "timeout",
        ["tell() and the ask() after it ran over the wall-clock limit of 1 s for both (0.5 s"],
        True,
        {"call_timeout": 0.5},
    ),
    (
        "bare-except-retry",
        "import time\nwhile True:\n    try:\n        time.sleep(10)  #HERE\n    except:\n        pass",
        "timeout",
        ["wall-clock limit of 0.5 s"],
        True,
        {"call_timeout": 0.5},
    ),
    (
        "memory",
        "self.hog = bytearray(3 << 30)  #HERE",
        "memory",
        ["MemoryError", "memory limit is 512 MB"],
        True,
        {"memory_mb": 512},
    ),
    (
        "garbage-on-the-pipe",
        "import os\nfor fd in range(3, 64):\n    try: os.write(fd, b'\\x80garbage\\n')\n"
        "    except OSError: pass\nreturn_nothing = 1",
        "protocol",
        ["broke the sandbox protocol during ask()"],
        False,
        {},
    ),
    (
        "not-a-suggestion",
        "raise_later = 1",
        "contract",
        ["must return a Suggestion or None", "str"],
        False,
        {"body": RANDOM.replace("return Suggestion(", "return 'x' or Suggestion(")},
    ),
    (
        "config-not-sendable",
        "pass",
        "invalid_suggestion",
        ["list"],
        False,
        {
            "body": RANDOM.replace(
                "return Suggestion(self.problem.space.sample(self.rng))",
                "return Suggestion({'width': [1, 2]})",
            )
        },
    ),
    (
        "factory-raises",
        "pass",
        "exception",
        ["the factory raised KeyError"],
        False,
        {"body": RANDOM.replace("return Opt(problem, seed)", "raise KeyError('no')")},
    ),
]


@pytest.mark.parametrize(
    ("ask", "kind", "words", "has_line", "opts"),
    [pytest.param(*f[1:], id=f[0]) for f in FAULTS],
)
def test_fault_fails_the_run_with_a_reason(
    mf: SimpleNamespace,
    tmp_path: Path,
    ask: str,
    kind: str,
    words: list[str],
    has_line: bool,
    opts: dict,
) -> None:
    bid = mf.table()
    path = write(tmp_path, opts.get("body", RANDOM), ask=ask)
    s = spec(
        path, call_timeout=opts.get("call_timeout", 20.0), memory_mb=opts.get("memory_mb", 2048)
    )
    traj = run_study(bid, s.load(), mf.protocol(), 0, call_timeout=None)
    m = traj.meta
    assert (m.status, m.fault) == (RunStatus.FAILED, kind), m.stop_reason
    for w in words:
        assert w in m.stop_reason
    if has_line:
        assert f"{path}:{line_of(path, '#HERE')}" in m.stop_reason, m.stop_reason


@pytest.mark.slow
def test_a_hang_fails_one_run_and_the_suite_goes_on(mf: SimpleNamespace, tmp_path: Path) -> None:
    """The optimizer hangs (ignoring SIGALRM) on 5-step tasks only; finished files stay."""
    a, b = mf.table(n_steps=5), mf.table(n_steps=3)
    path = write(
        tmp_path,
        RANDOM,
        ask="import signal, time\nif len(self.problem.fidelity.values) == 5:\n"
        "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    time.sleep(60)",
    )
    proto, out = mf.protocol(), tmp_path / "out"
    kw: dict[str, Any] = {"out": out, "sandbox": True, "call_timeout": 1.0}
    [first] = run_suite(str(path), proto, suite=[b], repetitions=1, **kw)
    assert first.status == "completed"
    before = first.path.read_bytes()
    res = run_suite(str(path), proto, suite=[a, b], repetitions=2, **kw)
    assert [(r.benchmark_id, r.repetition, r.outcome, r.status) for r in res] == [
        (a, 0, "ran", "failed"),
        (a, 1, "ran", "failed"),
        (b, 0, "skipped", "completed"),
        (b, 1, "ran", "completed"),
    ]
    assert "wall-clock limit of 1 s" in res[0].reason
    assert f"{path}:{line_of(path, 'time.sleep(60)')}" in res[0].reason
    assert Trajectory.read(trajectory_path(out, proto, a, 0)).meta.fault == "timeout"
    assert first.path.read_bytes() == before


@pytest.mark.slow
def test_leaked_module_state_does_not_reach_the_next_run(
    mf: SimpleNamespace, tmp_path: Path
) -> None:
    bid = mf.table()
    body = RANDOM.replace(
        "def make_optimizer(problem, seed):\n",
        "USED = []\n\ndef make_optimizer(problem, seed):\n"
        "    if USED:\n        raise RuntimeError('state of an earlier run')\n    USED.append(1)\n",
    )
    path = write(tmp_path, body)
    proto = mf.protocol()
    inproc = run_suite(str(path), proto, out=tmp_path / "a", suite=[bid], repetitions=2)
    assert [r.status for r in inproc] == ["completed", "failed"]  # the leak, in-process
    boxed = run_suite(
        str(path), proto, out=tmp_path / "b", suite=[bid], repetitions=2, sandbox=True
    )
    assert [r.status for r in boxed] == ["completed", "completed"]


@pytest.mark.parametrize("exc", ["GeneratorExit", "SystemExit(0)", "Stop('x')"])
def test_in_process_base_exceptions_end_only_their_run(
    mf: SimpleNamespace, tmp_path: Path, exc: str
) -> None:
    a, b = mf.table(n_steps=5), mf.table(n_steps=3)
    path = write(
        tmp_path,
        "class Stop(BaseException): pass\n" + RANDOM,
        ask=f"if len(self.problem.fidelity.values) == 5:\n    raise {exc}",
    )
    res = run_suite(str(path), mf.protocol(), out=tmp_path / "o", suite=[a, b], repetitions=1)
    assert [(r.outcome, r.status) for r in res] == [("ran", "failed"), ("ran", "completed")]
    assert exc.split("(")[0] in res[0].reason


def test_a_file_beside_the_optimizer_does_not_shadow_installed_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = write(tmp_path, RANDOM)
    (path.parent / "tqdm.py").write_text("raise ImportError('the shadow tqdm.py was imported')\n")
    resolve_optimizer(str(path))
    found = importlib.machinery.PathFinder.find_spec("tqdm")
    assert found is not None and found.origin is not None
    assert Path(found.origin) != path.parent / "tqdm.py"


def test_a_module_that_fails_to_load_is_an_error_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, RANDOM + "\nraise ImportError('missing dependency')\n")
    with pytest.raises(OptimizerError, match=r"failed to load in the sandbox.*missing dependency"):
        sandboxed_factory(str(path))
    with pytest.raises(OptimizerError, match=r"must be 'file\.py:factory'"):
        sandboxed_factory(lambda problem, seed: None)


BAD_ARGUMENTS = [
    # (keyword arguments, error class, words the message must contain)
    ({"call_timeout": 0}, ProtocolError, "call_timeout must be None (no limit) or a finite"),
    ({"call_timeout": True}, ProtocolError, "call_timeout must be None (no limit) or a finite"),
    ({"memory_limit_mb": 10}, ProtocolError, "memory_limit_mb must be None or an integer >= 64"),
    ({"memory_limit_mb": 1.5e3}, ProtocolError, "memory_limit_mb must be None or an integer"),
    ({"startup_timeout": -1.0}, ProtocolError, "startup_timeout must be `> 0` seconds"),
    ({"optimizer": "nope.py"}, OptimizerError, "must exist"),
    ({"optimizer": "not a module"}, OptimizerError, "neither a .py file nor a dotted module"),
]


@pytest.mark.parametrize(("kw", "error", "words"), BAD_ARGUMENTS)
def test_bad_arguments_say_what_must_hold(
    mf: SimpleNamespace, tmp_path: Path, kw: dict[str, Any], error: type[Exception], words: str
) -> None:
    kw = {"optimizer": "baselines/random_search.py", **kw}
    with pytest.raises(error) as e:
        sandboxed_factory(**kw)
    assert words in str(e.value)
    opt = kw.pop("optimizer")
    if "startup_timeout" in kw:  # not a run_suite argument
        return
    with pytest.raises(error) as e:
        run_suite(opt, mf.protocol(), out=tmp_path, suite=[mf.table()], sandbox=True, **kw)
    assert words in str(e.value)
