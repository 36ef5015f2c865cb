"""Reading parquet held in memory without leaving Python objects to Arrow's background threads.

Why this module exists (issue 8, item 7): ``pq.read_table(io.BytesIO(payload))`` reads through
a Python file object, so every buffer Arrow reads is a ``PyBuffer`` that owns a Python object.
With ``pre_buffer=True`` (pyarrow's default) those reads are futures completed on Arrow's I/O
thread pool, and the last reference to such a buffer can be dropped *on that pool thread*. If that
happens while the interpreter is finalizing, the thread's ``PyGILState_Ensure`` calls
``pthread_exit``, whose forced unwind runs through a ``noexcept`` C++ destructor, and the process
dies with ``terminate called without an active exception`` (exit 134) after the script's last
line -- about one exit in ten after a ``run_suite`` plus ``Trajectory.read``.

:func:`read_parquet_bytes` copies the payload into an Arrow-owned buffer (no Python object behind
it, so no buffer's destructor ever needs the GIL) and reads it synchronously on the calling
thread (``pre_buffer=False, use_threads=False``), so no Arrow thread holds anything of the read
afterwards. Trajectories are small; the copy costs microseconds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["read_parquet_bytes"]


def read_parquet_bytes(payload: bytes) -> pa.Table:
    """Parse parquet ``payload``; errors are pyarrow's (``ArrowInvalid``, ``OSError``)."""
    buf = pa.allocate_buffer(len(payload))
    if len(payload):
        np.frombuffer(buf, dtype=np.uint8)[:] = np.frombuffer(payload, dtype=np.uint8)
    return pq.read_table(pa.BufferReader(buf), pre_buffer=False, use_threads=False)
