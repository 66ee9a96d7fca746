"""Progress of a write: one event per stored unit (chunk or shard), per level."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    level: int
    units_done: int
    units_total: int
    bytes_done: int  # uncompressed bytes of this level stored so far
    bytes_total: int


ProgressCallback = Callable[[Progress], None]


class Tracker:
    """Counts stored units per level and calls ``callback`` (thread-safe)."""

    def __init__(
        self, callback: ProgressCallback | None, units: Sequence[int], nbytes: Sequence[int]
    ):
        self.callback = callback
        self.units_total = list(units)
        self.bytes_total = list(nbytes)
        self.units = [0] * len(units)
        self.bytes = [0] * len(units)
        self.lock = threading.Lock()

    def for_level(self, level: int) -> Callable[[int], None] | None:
        if self.callback is None:
            return None

        def done(nbytes: int) -> None:
            with self.lock:
                self.units[level] += 1
                self.bytes[level] += nbytes
                event = Progress(
                    level,
                    self.units[level],
                    self.units_total[level],
                    self.bytes[level],
                    self.bytes_total[level],
                )
                self.callback(event)

        return done


class TextBar:
    """``progress=True``: one line on stderr, updated at most 5 times a second."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.start = time.perf_counter()
        self.last = 0.0
        self.done: dict[int, int] = {}
        self.total: dict[int, int] = {}

    def __call__(self, event: Progress) -> None:
        self.done[event.level] = event.bytes_done
        self.total[event.level] = event.bytes_total
        now = time.perf_counter()
        finished = event.units_done == event.units_total
        if now - self.last < 0.2 and not finished:
            return
        self.last = now
        done = sum(self.done.values())
        rate = done / max(now - self.start, 1e-9) / 2**20
        self.stream.write(
            f"\rlevel s{event.level}: {event.units_done}/{event.units_total} units, "
            f"{done / 2**20:,.0f} MiB at {rate:,.0f} MiB/s "
        )
        self.stream.flush()
