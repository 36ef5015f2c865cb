"""A wall-clock limit per optimizer call, cheap enough for the simulator's hot path.

How it works: the study thread writes the deadline of the call in progress into the watchdog
(two attribute writes and one uncontended lock per call, well under a microsecond); a daemon
thread polls it every ``tick`` seconds. When a call is overdue the watchdog interrupts the study
thread:

* in the main thread (the usual case: serial runs, process-pool and Ray workers) it sends
  ``SIGALRM`` to that thread with a Python handler installed for the run, which raises
  :class:`CallTimeout`. A signal also interrupts blocking calls such as ``time.sleep`` or a
  lock wait;
* in any other thread it schedules :class:`CallTimeout` there with
  ``PyThreadState_SetAsyncExc`` (delivered at the next Python bytecode).

``CallTimeout`` derives from ``BaseException`` so that an optimizer's ``except Exception`` does
not swallow it, and it is re-sent every tick while the call stays overdue. Limitation: a call
stuck inside C code that never returns to the interpreter (and ignores signals) cannot be
interrupted in-process; stop such a run from outside (the suite's other runs are in other jobs).
The main-thread mode is used only when ``SIGALRM`` has its default handler and no interval
timer is armed, so it never displaces someone else's handler (e.g. pytest-timeout).
"""

from __future__ import annotations

import ctypes
import math
import signal
import threading
import time
from types import FrameType, TracebackType
from typing import Any

__all__ = ["CallTimeout", "Watchdog"]

_INF = math.inf


class CallTimeout(BaseException):  # a control-flow signal: not an Exception, not swallowed
    """Raised inside an optimizer call that ran over its wall-clock limit."""


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


class Watchdog:
    """Context manager that enforces ``limit`` seconds per :meth:`arm` ... :meth:`disarm` span.

    Usage on the hot path (the study thread)::

        with Watchdog(limit) as wd:
            wd.arm()
            try:
                out = optimizer.ask()
            finally:
                wd.disarm()          # raises CallTimeout if the call was found overdue
    """

    def __init__(self, limit: float) -> None:
        self.limit = float(limit)
        self.deadline = _INF
        self._lock = threading.Lock()
        self._fired = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tid = 0
        self._use_signal = False
        self._prev_handler: Any = None
        self.tick = min(max(self.limit / 20.0, 0.002), 0.25)
        self.mode = "off"

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Watchdog:
        if not math.isfinite(self.limit):
            return self
        self._tid = threading.get_ident()
        self._use_signal = (
            threading.current_thread() is threading.main_thread()
            and hasattr(signal, "SIGALRM")
            and hasattr(signal, "pthread_kill")
            and signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        )
        if self._use_signal:
            self._prev_handler = signal.signal(signal.SIGALRM, self._on_signal)
            self.mode = "signal"
        else:
            self.mode = "async-exception"
        self._thread = threading.Thread(target=self._watch, name="hpobench-watchdog", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is None:
            return
        with self._lock:
            self.deadline = _INF
            self._stop.set()
        self._thread.join()
        self._thread = None
        if self._use_signal:
            prev = signal.SIG_DFL if self._prev_handler is None else self._prev_handler
            signal.signal(signal.SIGALRM, prev)
        else:
            _set_async_exc(self._tid, None)

    # -- hot path --------------------------------------------------------------------------
    def arm(self) -> None:
        """Start the clock of one call (the caller measures its own wall time)."""
        self.deadline = time.perf_counter() + self.limit

    def disarm(self) -> None:
        """Stop the clock; raise :class:`CallTimeout` if the watchdog found the call overdue."""
        with self._lock:
            self.deadline = _INF
            fired = self._fired
            self._fired = False
        if fired:
            if not self._use_signal:
                _set_async_exc(self._tid, None)
            raise CallTimeout

    def clear(self) -> None:
        """Forget any pending interruption (after a ``CallTimeout`` was handled)."""
        with self._lock:
            self.deadline = _INF
            self._fired = False
        if self._thread is not None and not self._use_signal:
            _set_async_exc(self._tid, None)

    # -- watchdog thread -------------------------------------------------------------------
    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if time.perf_counter() > self.deadline:
            raise CallTimeout

    def _watch(self) -> None:
        while not self._stop.wait(self.tick):
            if time.perf_counter() <= self.deadline:
                continue
            with self._lock:
                if self._stop.is_set() or time.perf_counter() <= self.deadline:
                    continue
                self._fired = True
                if self._use_signal:
                    signal.pthread_kill(self._tid, signal.SIGALRM)
                else:
                    _set_async_exc(self._tid, CallTimeout)
