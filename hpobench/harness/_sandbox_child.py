"""The sandboxed side of :mod:`hpobench.harness._sandbox`: runs one optimizer for one run.

Started by the parent as ``python -I <this file> <setup JSON>`` in its own process group, with
three pipes (requests in, replies out, a diagnostics pipe for ``faulthandler``). Before any hpobench
or optimizer code runs it, using only the standard library:

1. asks to be killed when the parent dies, caps its address space (``RLIMIT_AS``) and core dumps;
2. points ``faulthandler`` at the diagnostics pipe (a crash, or ``SIGUSR1`` sent by the parent
   at a timeout, writes where the optimizer was);
3. confines itself with Landlock (:mod:`hpobench.harness._landlock`, loaded by file path) to the
   parent's rules: read-only Python and libraries, no table or trajectory file, one scratch dir;
4. drops every Linux capability, so that even as root it cannot raise its limits again;
5. replaces ``sys.path`` with the parent's (minus the working directory).

Then it says ``hello`` (with the isolation it reached) and serves requests: ``init`` (load the
optimizer by spec, call the factory), ``ask`` and ``tell``, one JSON line each way
(:mod:`hpobench.harness._wire`). A ``tell`` marked ``then_ask`` is answered with ``told`` and
the reply to the ``ask`` the parent knows comes next, in one write (one round trip per trial
instead of two); a fault in either is sent in their place. Any ``BaseException`` from the optimizer becomes a ``fault``
reply naming it and the optimizer's file:line, after which the process exits.
"""

from __future__ import annotations

import ctypes
import faulthandler
import importlib.util
import json
import os
import resource
import signal
import sys
import traceback
from base64 import b64decode
from typing import Any

_PR_SET_PDEATHSIG = 1
_SYS_CAPSET = 126 if os.uname().machine == "x86_64" else 91  # aarch64: 91
_CAP_V3 = 0x20080522


def _drop_capabilities() -> str:
    """Clear the effective, permitted and inheritable sets (always allowed: it only drops)."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    libc = ctypes.CDLL(None, use_errno=True)
    data = (Data * 2)()
    if libc.syscall(_SYS_CAPSET, ctypes.byref(Header(_CAP_V3, 0)), data) != 0:
        return f"capset failed: {os.strerror(ctypes.get_errno())}"
    return ""


def _confine(setup: dict[str, Any]) -> tuple[str, str]:
    """Steps 1-4 of the module docstring; returns ``(level, what did not work)``."""
    notes = []
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != setup["parent_pid"]:  # the parent died before the line above
        os._exit(3)
    mem = setup["memory_limit_bytes"]
    if mem is not None:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    diag = os.fdopen(setup["fds"]["diag"], "w", buffering=1, closefd=False)
    faulthandler.enable(file=diag, all_threads=True)
    faulthandler.register(signal.SIGUSR1, file=diag, all_threads=True)
    level = "process"
    if setup["landlock"]:
        spec = importlib.util.spec_from_file_location("_hpobench_landlock", setup["landlock_file"])
        assert spec is not None and spec.loader is not None
        landlock = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(landlock)
        try:
            abi = landlock.restrict([(p, int(r)) for p, r in setup["rules"]])
            level = f"landlock-abi{abi}"
        except OSError as e:
            notes.append(f"Landlock failed: {e}")
    cap = _drop_capabilities()
    if cap:
        notes.append(cap)
    sys.path[:] = setup["sys_path"]
    return level, "; ".join(notes)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _where(e: BaseException, roots: tuple[str, ...]) -> str:
    """``file:line in function`` of the optimizer's last frame in the traceback (else the last)."""
    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return ""
    mine = [f for f in frames if roots and f.filename.startswith(roots)]
    f = (mine or frames)[-1]
    return f"{f.filename}:{f.lineno} in {f.name}"


def _describe(e: BaseException, roots: tuple[str, ...]) -> str:
    try:
        text = str(e)
    except BaseException:
        text = "<unprintable>"
    where = _where(e, roots)
    return f"{type(e).__name__}: {text[:2000]}" + (f" (at {where})" if where else "")


class _Server:
    def __init__(self, fds: dict[str, int]) -> None:
        self.rin = os.fdopen(fds["requests"], "rb", buffering=1 << 16)
        self.wfd = fds["replies"]
        self.suggestions: dict[int, Any] = {}
        self.next_id = 0
        self.roots: tuple[str, ...] = ()
        self.held = b""  # a "told" sent together with the prefetched ask's reply

    def send(self, msg: dict[str, Any]) -> None:
        from hpobench.harness._wire import dumps

        data, self.held = self.held + dumps(msg), b""
        _write(self.wfd, data)

    def fault(self, kind: str, message: str) -> None:
        self.held = b""  # the parent reads the fault in place of "told": the run ends either way
        self.send({"op": "fault", "kind": kind, "message": message})
        os._exit(0)

    def raised(self, call: str, e: BaseException) -> None:
        kind = "memory" if isinstance(e, MemoryError) else "exception"
        self.fault(kind, f"{call} raised {_describe(e, self.roots)}")

    def serve(self) -> None:
        from hpobench.harness._contract import Evaluation, Problem, Suggestion
        from hpobench.harness._wire import (
            WireError,
            decode_config,
            decode_value,
            encode_config,
            encode_value,
        )

        init = json.loads(self.rin.readline())
        opt_spec = init["optimizer"]
        path = opt_spec.get("path")
        if path:
            self.roots = (os.path.dirname(path) + os.sep,)
        elif opt_spec.get("module"):
            top = opt_spec["module"].split(".")[0]
            found = importlib.util.find_spec(top)
            origin = getattr(found, "origin", None) if found else None
            if origin:
                self.roots = (os.path.dirname(origin) + os.sep,)
        try:
            from hpobench.harness._loading import OptimizerRef
            from hpobench.harness._provenance import optimizer_identity

            ref = OptimizerRef(**opt_spec)
            factory = ref.load()
            name, version, sha = optimizer_identity(factory)
        except BaseException as e:
            self.fault("load", _describe(e, self.roots))
        identity = {"name": name, "version": version, "source_sha256": sha}
        if init["problem"] is None:  # a probe: who is the optimizer?
            self.send({"op": "identity", **identity})
            os._exit(0)
        self.send({"op": "loaded"})
        if json.loads(self.rin.readline()) != {"op": "start"}:
            os._exit(4)
        p = init["problem"]
        from hpobench.fidelity import Fidelity
        from hpobench.space import SearchSpace

        problem = Problem(
            space=SearchSpace.from_dict(p["space"]),
            fidelity=Fidelity(p["fidelity"]["name"], tuple(p["fidelity"]["values"])),
            objective=p["objective"],
            direction=p["direction"],
            n_workers=p["n_workers"],
            time_budget=p["time_budget"],
            max_evaluations=p["max_evaluations"],
            allow_resume=p["allow_resume"],
        )
        try:
            opt = factory(problem, init["seed"])
        except BaseException as e:
            self.raised("the factory", e)
        ask: Any = getattr(opt, "ask", None)
        tell: Any = getattr(opt, "tell", None)
        if not callable(ask) or not callable(tell):
            self.fault(
                "contract",
                f"the factory must return an object with ask() and tell(suggestion, evaluation) "
                f"methods, but returned {type(opt).__name__}.",
            )
        self.send({"op": "ready"})
        import numpy as np

        def do_ask() -> None:
            try:
                s = ask()
            except BaseException as e:
                self.raised("ask()", e)
            if s is None:
                self.send({"op": "none"})
                return
            if not isinstance(s, Suggestion):
                try:
                    shown = f"{s!r:.200}"
                except BaseException:
                    shown = "<unprintable>"
                self.fault(
                    "contract",
                    f"ask() must return a Suggestion or None, but returned "
                    f"{type(s).__name__}: {shown}.",
                )
            try:
                msg = {
                    "op": "suggestion",
                    "id": self.next_id,
                    "config": encode_config(s.config),
                    "fidelity": encode_value(s.fidelity),
                    "resume": encode_value(s.resume),
                }
            except WireError as e:
                self.fault("invalid_suggestion", f"ask() suggested an invalid suggestion: {e}")
            except BaseException as e:
                self.raised("reading ask()'s suggestion", e)
            self.suggestions[self.next_id] = s
            self.next_id += 1
            self.send(msg)

        for line in self.rin:
            req = json.loads(line)
            op = req["op"]
            if op == "ask":
                do_ask()
            elif op == "tell":
                ev = req["evaluation"]
                # raw bytes (exact, and 50x cheaper than a JSON list); read-only over bytes
                curve = np.frombuffer(b64decode(ev["curve"]["b64"]), dtype=ev["curve"]["dtype"])
                evaluation = Evaluation(
                    decode_value(ev["trial_id"]),
                    decode_config(ev["config"]),
                    decode_value(ev["fidelity"]),
                    decode_value(ev["value"]),
                    decode_value(ev["cost"]),
                    curve,
                    decode_value(ev["time"]),
                )
                s = self.suggestions.pop(req["id"])
                try:
                    tell(s, evaluation)
                except BaseException as e:
                    self.raised("tell()", e)
                if req[
                    "then_ask"
                ]:  # the simulator's next call is ask(): answer it now, in one write
                    from hpobench.harness._wire import dumps

                    self.held = dumps({"op": "told"})
                    do_ask()
                else:
                    self.send({"op": "told"})
        os._exit(0)  # the parent closed the pipe: the run is over


def main() -> None:
    setup = json.loads(sys.argv[1])
    level, notes = _confine(setup)
    server = _Server(setup["fds"])
    from hpobench.harness._wire import dumps

    _write(setup["fds"]["replies"], dumps({"op": "hello", "level": level, "notes": notes}))
    server.serve()


if __name__ == "__main__":
    main()
