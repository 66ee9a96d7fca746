"""Progress of a write: one event per stored unit (chunk or shard), per level."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Progress:
    """One unit stored. ``bytes_*`` count uncompressed bytes; ``all_*`` cover every level."""

    level: int
    units_done: int
    units_total: int
    bytes_done: int
    bytes_total: int
    all_bytes_done: int
    all_bytes_total: int


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

    def __getstate__(self) -> dict[str, Any]:
        # Sent to another process (a dask worker): its events stay there, unreported.
        return {"units_total": self.units_total, "bytes_total": self.bytes_total}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(None, state["units_total"], state["bytes_total"])

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
                    sum(self.bytes),
                    sum(self.bytes_total),
                )
                self.callback(event)

        return done

    def from_level(self, first: int) -> LevelsFrom:
        """This tracker as seen by a write of levels ``first``.. alone."""
        return LevelsFrom(self, first)

    def close(self) -> None:
        close = getattr(self.callback, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class LevelsFrom:
    """A :class:`Tracker` for a write that starts at level ``first``: its level ``i`` is the
    tracker's level ``first + i``."""

    tracker: Tracker
    first: int

    def for_level(self, level: int) -> Callable[[int], None] | None:
        return self.tracker.for_level(self.first + level)


class Bar:
    """``progress=True``: a progress bar on stderr (bytes, throughput, time left), drawn by
    rich when the stream is a terminal; nothing otherwise."""

    def __init__(self, description: str = "writing", stream: Any = None) -> None:
        from rich.console import Console

        self.description = description
        self.console = Console(file=stream or sys.stderr)
        self.progress: Any = None
        self.task: Any = None
        self.lock = threading.Lock()

    def __call__(self, event: Progress) -> None:
        if not self.console.is_terminal:
            return
        with self.lock:
            if self.progress is None:
                from rich import progress as rp

                self.progress = rp.Progress(
                    rp.TextColumn("{task.description}"),
                    rp.BarColumn(),
                    rp.DownloadColumn(binary_units=True),
                    _binary_speed(),
                    rp.TimeRemainingColumn(),
                    console=self.console,
                    transient=True,
                )
                self.progress.start()
                self.task = self.progress.add_task(self.description, total=event.all_bytes_total)
            self.progress.update(
                self.task,
                completed=event.all_bytes_done,
                description=f"{self.description} s{event.level}",
            )

    def close(self) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.stop()
                self.progress = None


def _binary_speed() -> Any:
    """Throughput in MiB/s, as the byte counts beside it (rich's own column says MB/s)."""
    from rich import progress as rp
    from rich.text import Text

    class BinarySpeed(rp.ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            if speed is None:
                return Text("?", style="progress.data.speed")
            return Text(f"{speed / 2**20:,.1f} MiB/s", style="progress.data.speed")

    return BinarySpeed()
