"""``cupy.cuda``: runtime queries, streams, events and pinned memory, modelled strictly."""

from __future__ import annotations

import os
import time
import weakref
from typing import ClassVar

import numpy as np

from . import _fake

fake_stats = _fake.STATS


class CUDARuntimeError(RuntimeError):
    pass


class runtime:
    CUDARuntimeError = CUDARuntimeError

    @staticmethod
    def getDeviceCount() -> int:
        value = os.environ.get("FAKECUPY_DEVICES", "1")
        if value == "error":
            raise CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is too old")
        return int(value)

    @staticmethod
    def getDeviceProperties(device: int) -> dict:
        return {"name": b"fakecupy (NumPy on the host)", "major": 9, "minor": 0}

    @staticmethod
    def runtimeGetVersion() -> int:
        return 12080


class Device:
    def __init__(self, device: int = 0) -> None:
        self.id = device
        self.compute_capability = "90"

    @property
    def mem_info(self) -> tuple[int, int]:
        return (64 * 2**30, 80 * 2**30)

    def synchronize(self) -> None:
        Stream.flush_all()


class Stream:
    """A queue of operations, run in order when something waits for it."""

    null: Stream
    _all: ClassVar[weakref.WeakSet] = weakref.WeakSet()

    def __init__(self, null: bool = False, non_blocking: bool = False, ptds: bool = False):
        self.is_null = null
        self.non_blocking = non_blocking
        self.queue: list = []
        self.ptr = 0 if null else id(self)
        if not null:
            Stream._all.add(self)
            _fake.STATS["streams"] += 1

    def flush(self, upto=None) -> None:
        """Run queued operations up to (and including) ``upto``, or all of them."""
        with _fake.LOCK:
            if upto is not None and upto not in self.queue:
                return  # already run
            while self.queue:
                op = self.queue.pop(0)
                op()
                if op is upto:
                    return

    def synchronize(self) -> None:
        self.flush()

    def wait_event(self, event: Event) -> None:
        source, marker = event.stream, event.marker
        if source is None or marker is None:
            return
        _fake.run(lambda: source.flush(marker), self)

    def record(self, event: Event | None = None) -> Event:
        event = event or Event()
        event.record(self)
        return event

    @property
    def done(self) -> bool:
        return not self.queue

    def __enter__(self) -> Stream:
        _fake.push(self)
        return self

    def __exit__(self, *exc) -> None:
        _fake.pop()

    def use(self) -> Stream:
        _fake.push(self)
        return self

    @classmethod
    def flush_blocking(cls) -> None:
        for s in list(cls._all):
            if not s.non_blocking:
                s.flush()

    @classmethod
    def flush_all(cls) -> None:
        for s in list(cls._all):
            s.flush()


Stream.null = Stream(null=True)


def get_current_stream() -> Stream:
    return _fake.current()


class Event:
    def __init__(self, block: bool = False, disable_timing: bool = False, interprocess=False):
        self.stream: Stream | None = None
        self.marker = None
        self.time: float | None = None

    def record(self, stream: Stream | None = None) -> None:
        stream = _fake.current() if stream is None else stream
        self.stream, self.time = stream, None

        def marker() -> None:
            self.time = time.perf_counter()

        self.marker = marker
        _fake.run(marker, stream)

    def synchronize(self) -> None:
        if self.stream is not None:
            self.stream.flush(self.marker)

    @property
    def done(self) -> bool:
        return self.stream is None or self.marker not in self.stream.queue


def get_elapsed_time(start: Event, end: Event) -> float:
    """Milliseconds between two recorded, completed events."""
    if start.time is None or end.time is None:
        raise CUDARuntimeError("cudaErrorNotReady: an event has not completed")
    return (end.time - start.time) * 1e3


class PinnedMemoryPointer(bytearray):
    """Page-locked host memory: a poisoned buffer that NumPy can view (``np.frombuffer``)."""

    def __init__(self, nbytes: int) -> None:
        super().__init__(bytes([_fake.POISON]) * nbytes)
        view = np.frombuffer(self, np.uint8)
        self.ptr = view.ctypes.data if nbytes else 0
        self.size = nbytes
        _PINNED[self.ptr] = (self.ptr + nbytes, weakref.ref(self))


_PINNED: dict = {}


def alloc_pinned_memory(nbytes: int) -> PinnedMemoryPointer:
    _fake.STATS["pinned_allocs"] += 1
    return PinnedMemoryPointer(nbytes)


def is_pinned(a: np.ndarray) -> bool:
    """Whether every byte of ``a`` lies in live pinned memory of this stand-in."""
    start = a.__array_interface__["data"][0]
    for lo, (hi, ref) in list(_PINNED.items()):
        if ref() is None:
            del _PINNED[lo]
        elif lo <= start and start + a.nbytes <= hi:
            return True
    return False
