"""``OptimizerFault``: how a wrapper between the simulator and an optimizer ends the run.

The sandbox proxy (:mod:`hpobench.harness._sandbox`) sees faults the simulator cannot: the
optimizer's process crashed, hung past its limit, ran out of memory, raised inside the child, or
wrote garbage on the pipe. It raises this with the fault's ``kind`` and a readable ``message``
(naming the optimizer's file:line where known); the simulator records both and ends the run as
``FAILED``. It derives from ``BaseException`` so that no ``except Exception`` on the way turns it
into a generic error.
"""

from __future__ import annotations

__all__ = ["OptimizerFault"]


class OptimizerFault(BaseException):
    """The optimizer broke down; ``kind`` (e.g. ``"timeout"``, ``"crash"``) and ``message``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
