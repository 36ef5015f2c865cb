"""Sandboxed execution: the optimizer runs in its own fresh process and talks to the simulator over
a pipe; to the simulator it is an ordinary optimizer (a proxy), so the simulator's code path and
the trajectories are the same as in-process, bit for bit.

What the sandbox does (docs/harness.md, "Sandboxed runs", says what it guarantees and what not):

* **A fresh interpreter per run** (``python -I``, its own process group), started by
  :class:`SandboxedFactory` when the simulator calls the factory; it holds no benchmark, no table
  and no data root of its own (``HPOBENCH_DATA`` is unset, the user root points at a path that
  does not exist; the shipped ``data/`` is unreadable under Landlock). State an optimizer leaks (module globals, threads, signal handlers) dies with its run.
* **No table files.** Where Linux Landlock is available the child confines itself, before any
  optimizer code runs, to reading Python and its libraries and writing one scratch directory;
  the data root, the checkout's ``data/``, ``surrogates/`` and ``leaderboard/``, every registered
  table and the run's output directory are unreadable. Where it is not, the run goes on with
  ``sandbox_level == "process"`` and a logged warning.
* **Limits enforced from outside.** Each factory/``ask``/``tell`` call has a wall-clock deadline
  the parent waits for with ``poll``; past it the parent asks the child for its stack
  (``SIGUSR1`` to ``faulthandler``), then kills the child's process group with ``SIGKILL``, which
  no handler, blocked signal or ``except:`` loop can stop. The address space is capped
  (``RLIMIT_AS``) and the child drops every capability, so it cannot raise the cap again.
* **Nothing executable crosses back.** Replies are JSON lines (:mod:`hpobench.harness._wire`),
  checked against what the current request allows; the parent never unpickles child data.
* **Faults end the run, not the suite.** A crash, hang, memory blow-up, any ``BaseException``,
  a protocol violation or garbage on the pipe raises :class:`OptimizerFault` in the simulator,
  which records the run as failed with a reason naming the fault and, where known, the
  optimizer's file:line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from base64 import b64encode
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpobench._errors import OptimizerError, ProtocolError
from hpobench.harness import _landlock, _sandbox_child
from hpobench.harness._contract import Evaluation, Problem, Suggestion
from hpobench.harness._fault import OptimizerFault
from hpobench.harness._loading import OptimizerRef, parse_optimizer
from hpobench.harness._simulator import DEFAULT_CALL_TIMEOUT, check_call_timeout
from hpobench.harness._wire import (
    MAX_MESSAGE_BYTES,
    WireError,
    decode_config,
    decode_value,
    dumps,
    encode_config,
    encode_value,
    loads,
)

__all__ = [
    "DEFAULT_MEMORY_LIMIT_MB",
    "SandboxSpec",
    "SandboxedFactory",
    "isolation_available",
    "sandboxed_factory",
]

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_LIMIT_MB = 8192
"""Address-space cap of the optimizer's process (importing torch alone reserves ~2 GB of it)."""
DEFAULT_STARTUP_TIMEOUT = 120.0
"""Seconds for the child to start Python, confine itself and import the optimizer's module."""
_STACK_GRACE = 0.5  # seconds to wait for the child's stack dump after a timeout
_FAULT_KINDS = frozenset({"exception", "memory", "contract", "invalid_suggestion", "load"})
_MAX_TEXT = 5000
_FRAME = re.compile(r'File "([^"\n]{1,1000})", line (\d{1,9}) in ([^\n]{1,200})')
_ASK = dumps({"op": "ask"})
_START = dumps({"op": "start"})


def isolation_available() -> bool:
    """Whether this machine can keep the optimizer's process away from the table files."""
    return _landlock.abi_version() >= 1


@dataclass(frozen=True, kw_only=True)
class SandboxSpec:
    """Everything a worker needs to run an optimizer sandboxed (picklable; no code of the optimizer).

    Build it with :func:`sandboxed_factory` (which checks the optimizer once in a probe process
    and records its identity); :meth:`load` gives the factory in any process, without a probe.
    """

    optimizer: OptimizerRef
    optimizer_name: str
    optimizer_version: str
    optimizer_source_sha256: str
    call_timeout: float | None
    memory_limit_mb: int | None
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    protected: tuple[str, ...] = ()
    prefetch: bool = True

    def load(self) -> SandboxedFactory:
        return SandboxedFactory(self)


class SandboxedFactory:
    """``factory(problem, seed)``: starts a fresh sandboxed process and returns its proxy.

    Carries the optimizer's identity (``optimizer_name``, ``version``,
    ``optimizer_source_sha256``) so that trajectories record the same provenance as in-process.
    ``sandbox_level`` is the isolation the last started process reached: ``"landlock-abiN"``
    (table files unreadable) or ``"process"`` (own process and limits only); ``startup_s`` the
    seconds it took to start and build the optimizer. :meth:`close` kills
    any process still running (the simulator does not say when a run ends; a proxy that is
    garbage-collected also kills its process).
    """

    def __init__(self, spec: SandboxSpec) -> None:
        self.spec = spec
        self.optimizer_name = spec.optimizer_name
        self.version = spec.optimizer_version
        self.optimizer_source_sha256 = spec.optimizer_source_sha256
        self.sandbox_level = ""
        self.startup_s = math.nan
        self._children: weakref.WeakSet[_Child] = weakref.WeakSet()

    def __call__(self, problem: Problem, seed: int) -> SandboxedOptimizer:
        opt = SandboxedOptimizer(self.spec, problem, seed)
        self.sandbox_level = opt.child.level
        self.startup_s = opt.startup_s
        self._children.add(opt.child)
        return opt

    def close(self) -> None:
        for child in list(self._children):
            child.close()

    def __repr__(self) -> str:
        return f"SandboxedFactory({self.spec.optimizer.spec!r})"


def sandboxed_factory(
    optimizer: str | OptimizerRef | Any,
    *,
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    protect: Iterable[str | Path] = (),
    prefetch: bool = True,
) -> SandboxedFactory:
    """A factory that runs ``optimizer`` sandboxed, one fresh process per run.

    Args:
        optimizer: ``"file.py[:factory]"``, ``"package.module:factory"``, an :class:`OptimizerRef`,
            or a factory defined at module level of an importable module or an optimizer file.
        call_timeout: wall-clock seconds per factory/``ask``/``tell`` call (``None``: no limit);
            a call over it kills the process and fails the run with ``fault == "timeout"``.
        memory_limit_mb: address-space cap of the process (``None``: none).
        startup_timeout: seconds to start the process and import the optimizer's module.
        protect: more paths the optimizer must not read (e.g. the run's output directory), on
            top of the data root, the checkout's data/surrogates/leaderboard and registered tables.
        prefetch: after each ``tell`` that the simulator follows with an ``ask`` (a worker is
            free, the evaluation cap and the time budget are not reached), let the child run that
            ``ask`` at once: one pipe round trip per trial instead of two, the same calls in the
            same order. Set it ``False`` under a protocol with ``charge_optimizer_time``: there
            the ask's wall time is charged and must be measured by the simulator itself
            (``run_suite`` does this).

    The optimizer's module is imported only in a probe *process* (never in this one), which also
    checks the factory's signature and reports the optimizer's name, version and source sha256;
    a module that fails to load raises ``OptimizerError`` here.
    """
    limit = check_call_timeout(call_timeout)
    if memory_limit_mb is not None and (
        isinstance(memory_limit_mb, bool)
        or not isinstance(memory_limit_mb, int)
        or memory_limit_mb < 64
    ):
        raise ProtocolError(
            f"memory_limit_mb must be None or an integer >= 64, but got {memory_limit_mb!r}."
        )
    if (
        isinstance(startup_timeout, bool)
        or not isinstance(startup_timeout, (int, float))
        or not startup_timeout > 0
    ):
        raise ProtocolError(f"startup_timeout must be `> 0` seconds, but got {startup_timeout!r}.")
    ref = _as_ref(optimizer)
    draft = SandboxSpec(
        optimizer=ref,
        optimizer_name="",
        optimizer_version="",
        optimizer_source_sha256="",
        call_timeout=limit,
        memory_limit_mb=memory_limit_mb,
        startup_timeout=float(startup_timeout),
        protected=tuple(sorted({str(Path(p).resolve()) for p in protect})),
        prefetch=bool(prefetch),
    )
    child = _Child(draft)
    try:
        child.send_init(None, 0)
        msg = child.receive(draft.startup_timeout, "loading the optimizer", ("identity",))
    except OptimizerFault as e:
        raise OptimizerError(
            f"--optimizer {ref.spec!r} failed to load in the sandbox: {e.message}"
        ) from None
    finally:
        child.close()
    return SandboxSpec(
        optimizer=ref,
        optimizer_name=msg["name"],
        optimizer_version=msg["version"],
        optimizer_source_sha256=msg["source_sha256"],
        call_timeout=draft.call_timeout,
        memory_limit_mb=draft.memory_limit_mb,
        startup_timeout=draft.startup_timeout,
        protected=draft.protected,
        prefetch=draft.prefetch,
    ).load()


def _as_ref(optimizer: Any) -> OptimizerRef:
    if isinstance(optimizer, OptimizerRef):
        return optimizer
    if isinstance(optimizer, str):
        return parse_optimizer(optimizer)
    mod_name = getattr(optimizer, "__module__", None)
    qual = getattr(optimizer, "__qualname__", None)
    module = sys.modules.get(mod_name) if isinstance(mod_name, str) else None
    if callable(optimizer) and module is not None and isinstance(qual, str) and "<" not in qual:
        source = getattr(module, "__hpobench_source__", None)
        path = getattr(module, "__file__", None)
        if isinstance(source, str) and isinstance(path, str):
            return OptimizerRef(spec=f"{path}:{qual}", attr=qual, path=path, source=source)
        if mod_name != "__main__":
            return OptimizerRef(spec=f"{mod_name}:{qual}", attr=qual, module=mod_name)
    raise OptimizerError(
        "A sandboxed run imports the optimizer afresh in its own process, so the optimizer must be "
        "'file.py:factory', 'package.module:factory' or a factory defined at module level of an "
        f"importable module, but got {optimizer!r:.200}."
    )


# -- the proxy the simulator sees --------------------------------------------------------------
class SandboxedOptimizer:
    """The simulator's view of the sandboxed optimizer: ``ask``/``tell`` forwarded over the pipe.

    A suggestion is rebuilt from checked JSON as a new :class:`Suggestion`; ``tell`` maps it back
    to the child's own object by an id, so the optimizer receives what its ``ask`` returned.
    """

    def __init__(self, spec: SandboxSpec, problem: Problem, seed: int) -> None:
        t0 = time.perf_counter()
        self.child = _Child(spec)
        self._limit = math.inf if spec.call_timeout is None else spec.call_timeout
        self._pending: dict[int, tuple[int, Suggestion]] = {}
        self._next_id = 0
        self._prefetch = spec.prefetch
        self._cap = problem.max_evaluations
        self._budget = problem.time_budget
        self._ahead = False  # the child already runs the ask the simulator calls next
        weakref.finalize(self, self.child.close)
        self.child.send_init(_problem_message(problem), int(seed))
        self.child.receive(spec.startup_timeout, "loading the optimizer", ("loaded",))
        self.child.send(_START, self._limit, "the factory")
        self.child.receive(self._limit, "the factory", ("ready",))
        self.startup_s = time.perf_counter() - t0
        """Seconds from starting the process to the optimizer built (imports included)."""

    def ask(self) -> Suggestion | None:
        child = self.child
        if self._ahead:
            self._ahead = False
        else:
            child.send(_ASK, self._limit, "ask()")
        msg = child.receive(self._limit, "ask()", ("suggestion", "none"))
        if msg["op"] == "none":
            return None
        try:
            _keys(msg, ("op", "id", "config", "fidelity", "resume"))
            if msg["id"] != self._next_id or type(msg["id"]) is not int:
                raise WireError(f"suggestion id must be {self._next_id}, got {msg['id']!r:.50}")
            s = Suggestion(
                decode_config(msg["config"]),
                fidelity=decode_value(msg["fidelity"]),
                resume=decode_value(msg["resume"]),
            )
        except WireError as e:
            child.violation("ask()", str(e))
        self._pending[id(s)] = (self._next_id, s)
        self._next_id += 1
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        child = self.child
        if self._ahead:  # a prefetched ask the simulator did not call (it charges wall time)
            self._ahead = False
            if child.receive(self._limit, "ask()", ("suggestion", "none"))["op"] == "suggestion":
                self._next_id += 1
        sid, _ = self._pending.pop(id(suggestion))
        ev = evaluation
        # After a tell the simulator asks again iff the cap and the budget are not reached
        # (a worker was just freed); "now" is the evaluation's finish time.
        then_ask = self._prefetch and self._next_id < self._cap and float(ev.time) < self._budget
        curve = np.asarray(ev.curve)
        msg = {
            "op": "tell",
            "id": sid,
            "evaluation": {
                "trial_id": encode_value(ev.trial_id),
                "config": encode_config(ev.config),
                "fidelity": encode_value(ev.fidelity),
                "value": encode_value(ev.value),
                "cost": encode_value(ev.cost),
                "curve": {"dtype": curve.dtype.str, "b64": b64encode(curve.tobytes()).decode()},
                "time": encode_value(ev.time),
            },
            "then_ask": then_ask,
        }
        child.send(dumps(msg), self._limit, "tell()")
        # With then_ask, "told" comes with the next ask's reply: the two calls share the wait.
        limit = 2 * self._limit if then_ask else self._limit
        child.receive(limit, "tell()" if not then_ask else "tell() and the ask() after it",
                      ("told",), more=then_ask)  # fmt: skip
        self._ahead = then_ask


def _problem_message(p: Problem) -> dict[str, Any]:
    return {
        "space": p.space.to_dict(),
        "fidelity": {"name": p.fidelity.name, "values": list(p.fidelity.values)},
        "objective": p.objective,
        "direction": p.direction,
        "n_workers": p.n_workers,
        "time_budget": p.time_budget,
        "max_evaluations": p.max_evaluations,
        "allow_resume": p.allow_resume,
    }


def _keys(msg: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    if len(msg) != len(keys) or any(k not in msg for k in keys):
        raise WireError(f"a {msg.get('op')!r} message must have exactly the keys {list(keys)}, "
                        f"got {sorted(msg)[:20]}")  # fmt: skip


def _text(x: Any, what: str, limit: int = _MAX_TEXT) -> str:
    if type(x) is not str or len(x) > limit:
        raise WireError(f"{what} must be a string of <= {limit} characters, got {x!r:.100}")
    return x


# -- the child process -------------------------------------------------------------------------
def protected_paths(extra: Iterable[str] = ()) -> list[str]:
    """Paths the optimizer's process must not read: every place tables and results live here."""
    from hpobench.registry import data_roots, list_benchmarks, spec

    root = Path(__file__).resolve().parent.parent.parent
    paths = {*data_roots(), root / "data", root / "surrogates", root / "leaderboard"}
    try:
        ids = list_benchmarks()
    except Exception:  # a broken manifest must not stop the sandbox: its root is covered
        ids = []
    for bid in ids:
        try:
            p = spec(bid).path
        except Exception:
            continue
        if p is not None:
            paths.add(Path(p))
    paths.update(Path(p) for p in extra)
    return sorted(str(p.resolve()) for p in paths)


def _rules(ref: OptimizerRef, scratch: str, protected: list[str]) -> list[tuple[str, int]]:
    import hpobench

    read = _landlock.READ
    roots = [p for p in sys.path if p and os.path.isabs(p)]
    roots += [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)]
    roots += [str(Path(hpobench.__file__).resolve().parent)]
    roots += ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt", "/proc", "/sys"]
    roots += ["/dev"]
    if ref.path is not None:
        roots.append(os.path.dirname(ref.path))
    allowed = [(r, read) for r in roots]
    allowed += [(scratch, _landlock.WRITE), ("/dev/null", _landlock.WRITE), ("/dev/shm", _landlock.WRITE)]  # fmt: skip
    return _landlock.carve(allowed, protected)


_warned: set[str] = set()


class _Child:
    """One sandboxed process: start, one request at a time with a deadline, kill."""

    def __init__(self, spec: SandboxSpec) -> None:
        self.spec = spec
        self.proc: subprocess.Popen[bytes] | None = None
        self.scratch = tempfile.mkdtemp(prefix="hpobench-sandbox-")
        self.buf = bytearray()
        self.level = ""
        self.closed = False
        ref = spec.optimizer
        self.roots = (os.path.dirname(ref.path) + os.sep,) if ref.path else ()
        cmd_r, self.cmd_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        self.diag_r, diag_w = os.pipe()
        os.set_blocking(self.rep_r, False)
        os.set_blocking(self.diag_r, False)
        landlock = isolation_available()
        rules = _rules(ref, self.scratch, protected_paths(spec.protected)) if landlock else []
        setup = {
            "parent_pid": os.getpid(),
            "memory_limit_bytes": None
            if spec.memory_limit_mb is None
            else spec.memory_limit_mb << 20,
            "fds": {"requests": cmd_r, "replies": rep_w, "diag": diag_w},
            "landlock": landlock,
            "landlock_file": _landlock.__file__,
            "rules": rules,
            "sys_path": [p for p in sys.path if p and os.path.isabs(p)]
            + ([os.path.dirname(ref.path)] if ref.path else []),
        }
        env = dict(os.environ)
        env.pop("HPOBENCH_DATA", None)  # no extra data roots; the user root points nowhere
        env["HPOBENCH_USER_DATA"] = os.path.join(self.scratch, "no-data-in-the-sandbox")
        env["TMPDIR"] = self.scratch
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", _sandbox_child.__file__, json.dumps(setup)],
                pass_fds=(cmd_r, rep_w, diag_w),
                stdin=subprocess.DEVNULL,
                stdout=2,  # what the optimizer prints goes to stderr, never onto the pipe
                process_group=0,  # its own group (killed as one), same session
                env=env,
                cwd=self.scratch,
            )
        finally:
            for fd in (cmd_r, rep_w, diag_w):
                os.close(fd)
        self.poller = select.poll()
        self.poller.register(self.rep_r, select.POLLIN)
        hello = self.receive(spec.startup_timeout, "starting the sandbox", ("hello",))
        try:
            _keys(hello, ("op", "level", "notes"))
            self.level = _text(hello["level"], "level", 40)
            notes = _text(hello["notes"], "notes")
        except WireError as e:
            self.violation("starting the sandbox", str(e))
        if not self.level.startswith("landlock") and self.level not in _warned:
            _warned.add(self.level)
            logger.warning(
                "the sandbox cannot keep the optimizer away from the table files on this machine "
                "(%s); it runs in its own process with limits only (sandbox_level=%r)",
                notes or "Landlock is not available in this kernel",
                self.level,
            )

    def send_init(self, problem: dict[str, Any] | None, seed: int) -> None:
        ref = self.spec.optimizer
        opt = {"spec": ref.spec, "attr": ref.attr, "module": ref.module, "path": ref.path,
               "source": ref.source}  # fmt: skip
        msg = {"op": "init", "optimizer": opt, "problem": problem, "seed": seed}
        self.send(dumps(msg), self.spec.startup_timeout, "starting the optimizer")

    # -- requests --------------------------------------------------------------------------
    def send(self, data: bytes, limit: float, call: str) -> None:
        deadline = time.perf_counter() + limit
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.cmd_w, view)
            except BrokenPipeError:
                self.died(call)
            view = view[n:]
            if view and time.perf_counter() > deadline:
                self.timeout(call, limit)

    def receive(
        self, limit: float, call: str, ops: tuple[str, ...], *, more: bool = False
    ) -> dict[str, Any]:
        """The next reply, one of ``ops`` (a ``fault`` raises); checks framing and size.

        ``more``: a second reply may follow at once (a prefetched ask); else any byte after the
        reply is a protocol violation."""
        buf = self.buf
        deadline = time.perf_counter() + limit
        while True:
            i = buf.find(b"\n")
            if i >= 0:
                break
            if len(buf) > MAX_MESSAGE_BYTES:
                self.violation(call, f"a reply longer than {MAX_MESSAGE_BYTES} bytes")
            wait = deadline - time.perf_counter()
            if wait <= 0:
                self.timeout(call, limit)
            ms = None if wait == math.inf else max(1, math.ceil(wait * 1000))
            if self.poller.poll(ms):
                try:
                    chunk = os.read(self.rep_r, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    self.died(call)
                buf += chunk
        line = bytes(buf[:i])
        del buf[: i + 1]
        if buf and not more:
            self.violation(call, f"more than one reply to one request: {bytes(buf[:100])!r}")
        try:
            msg = loads(line)
        except WireError as e:
            self.violation(call, str(e))
        op = msg["op"]
        if op == "fault":
            try:
                _keys(msg, ("op", "kind", "message"))
                kind = _text(msg["kind"], "kind", 40)
                text = _text(msg["message"], "message")
                if kind not in _FAULT_KINDS:
                    raise WireError(
                        f"fault kind must be one of {sorted(_FAULT_KINDS)}, got {kind!r}"
                    )
            except WireError as e:
                self.violation(call, str(e))
            self.close()
            if kind == "memory" and self.spec.memory_limit_mb is not None:
                text += f" (the sandbox's memory limit is {self.spec.memory_limit_mb} MB)"
            raise OptimizerFault(kind, text)
        if op not in ops:
            self.violation(call, f"expected a reply {' or '.join(map(repr, ops))}, got {op!r:.50}")
        if op == "identity":
            try:
                _keys(msg, ("op", "name", "version", "source_sha256"))
                for k in ("name", "version", "source_sha256"):
                    _text(msg[k], k, 500)
            except WireError as e:
                self.violation(call, str(e))
        elif op in ("loaded", "ready", "none", "told"):
            try:
                _keys(msg, ("op",))
            except WireError as e:
                self.violation(call, str(e))
        return msg

    # -- faults ----------------------------------------------------------------------------
    def _where(self) -> str:
        """The optimizer's frame from the child's faulthandler text (most recent call first)."""
        data = b""
        while True:
            try:
                chunk = os.read(self.diag_r, 1 << 16)
            except (BlockingIOError, OSError):
                break
            if not chunk or len(data) > 1 << 20:
                break
            data += chunk
        frames = _FRAME.findall(data.decode("utf-8", "replace"))
        child_file = _sandbox_child.__file__
        mine = [f for f in frames if self.roots and f[0].startswith(self.roots)]
        other = [f for f in frames if f[0] != child_file]
        pick = (mine or other or [None])[0]
        return f" (at {pick[0]}:{pick[1]} in {pick[2].strip()})" if pick else ""

    def timeout(self, call: str, limit: float) -> None:
        where = ""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGUSR1)
            end = time.perf_counter() + _STACK_GRACE
            diag = select.poll()
            diag.register(self.diag_r, select.POLLIN)
            while time.perf_counter() < end and not diag.poll(20):
                pass
            time.sleep(0.02)  # let the rest of the dump arrive
            self.kill()
            where = self._where()
        self.close()
        raise OptimizerFault(
            "timeout",
            f"{call} ran over the wall-clock limit of {limit:.6g} s"
            + (" per call" if " and " not in call else f" for both ({limit / 2:.6g} s per call)")
            + "; the sandbox killed "
            f"the optimizer's process{where}",
        )

    def died(self, call: str) -> None:
        assert self.proc is not None
        try:
            rc = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.proc.wait()
        where = self._where()
        self.close()
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            how = f"was killed by {name}"
            if -rc == signal.SIGKILL:
                how += " (the kernel's out-of-memory killer, or a kill from outside)"
        else:
            how = f"exited with status {rc}"
        raise OptimizerFault("crash", f"the optimizer's process {how} during {call}{where}")

    def violation(self, call: str, what: str) -> Any:
        self.kill()
        self.close()
        raise OptimizerFault(
            "protocol", f"the optimizer's process broke the sandbox protocol during {call}: {what}"
        )

    def kill(self) -> None:
        """SIGKILL the whole process group (what the optimizer started too) and reap the child."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        """Kill the process (group) and free the pipes and the scratch directory; idempotent."""
        if self.closed:
            return
        self.closed = True
        self.kill()
        for fd in (self.cmd_w, self.rep_r, self.diag_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.scratch, ignore_errors=True)
