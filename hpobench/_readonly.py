"""Arrays that cannot be made writable again: the storage of tables after their checksum.

``arr.flags.writeable = False`` alone is a request anyone can undo (``arr.setflags(write=True)``
succeeds on an array that owns its memory, or through ``arr.base``). :func:`sealed` copies an
array into an immutable ``bytes`` object and views it with ``np.frombuffer``: every array on
that memory, and its ``base`` chain, is read-only for good (numpy refuses to set the write flag
of an array over a read-only buffer), so no code can alter a table after it was verified.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["is_sealed", "sealed"]


def is_sealed(arr: np.ndarray) -> bool:
    """Whether ``arr``'s memory is an immutable ``bytes`` object (through its ``base`` chain)."""
    base: Any = arr
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    return isinstance(base, bytes)


def sealed(arr: Any) -> np.ndarray:
    """``arr`` as an array over immutable memory (a copy unless it already is one).

    Object arrays whose items are all ``str`` become fixed-width unicode arrays (``dtype 'U'``);
    other object arrays cannot live in a byte buffer and raise ``TypeError``.
    """
    a = np.asarray(arr)
    if is_sealed(a):
        return a
    if a.dtype.hasobject:
        items = a.ravel().tolist()
        if not all(type(x) is str for x in items):
            raise TypeError(
                f"an object array can be sealed only when it holds str items, but it holds "
                f"{sorted({type(x).__name__ for x in items})}."
            )
        a = np.asarray(items, dtype=str if items else "U1").reshape(a.shape)
    out = np.frombuffer(np.ascontiguousarray(a).tobytes(), dtype=a.dtype)
    return out.reshape(a.shape)
