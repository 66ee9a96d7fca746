"""Shared state of the stand-in: the stream model, poisoned memory and counters."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np

STATS: Counter = Counter()
LOCK = threading.RLock()
POISON = 0xA5
IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)


def poisoned(shape, dtype) -> np.ndarray:
    a = np.empty(shape, dtype)
    a.reshape(-1).view(np.uint8)[...] = POISON
    return a


_local = threading.local()


def current():
    from .cuda import Stream

    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else Stream.null


def push(stream) -> None:
    if not hasattr(_local, "stack"):
        _local.stack = []
    _local.stack.append(stream)


def pop() -> None:
    _local.stack.pop()


def run(fn, stream=None) -> None:
    """Run ``fn`` on ``stream`` (default the current one): at once on the null stream (after
    the blocking streams, as the legacy default stream does), else queued."""
    stream = current() if stream is None else stream
    with LOCK:
        if stream.is_null:
            from .cuda import Stream

            Stream.flush_blocking()
            fn()
        else:
            stream.queue.append(fn)
