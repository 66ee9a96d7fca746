"""The stream: frames gathered into tiles along the first axis, each full tile's pyramid
computed and handed to the levels' writers, then published in the background.

Memory: the tile being filled (``tile_depth`` frames), the tiles whose units are still being
encoded (bounded by the writers' limit on units in flight), and per coarser level the units
begun: about one write unit deep of each level, never the length.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..backends import is_device_array
from ..job import Prepared, Write
from ..metadata._errors import invalid, wrong_type
from ..progress import Tracker
from ..stream import tile_shape, tiles, write_coarser
from ..writer import chunk_writers
from .publish import PLAN_LENGTH, capacity, prepare, resize, shapes_at, tile_depth

SPARE_TILES = 2  # tile buffers kept for reuse: the one before the last is usually stored


class FrameStream:
    """An image written frame by frame along its first axis (from :func:`open_stream`).

    ``append`` frames; ``close`` (or leave the ``with`` block) to store the last, partial
    units and the final metadata. Between appends, a reader sees a valid image of every
    frame of the tiles completed so far (``published``).

    Attributes
    ----------
    count : int
        Frames appended (stored, or waiting in the tile being filled).
    published : int
        Frames readers can see: stored at every level, the arrays resized to them.
    """

    def __init__(self, write: Write, frame_shape: tuple[int, ...], threads: int | None):
        self.write = write
        self.frame_shape = frame_shape
        self.dtype = write.pyramid.dtype
        self.depth = tile_depth(write)
        levels = write.pyramid.levels
        self.length = levels[0].shape[0]  # planned: the known length, or PLAN_LENGTH
        self.prepared: Prepared
        self.prepared, stored = prepare(write)
        self._exits = contextlib.ExitStack()
        tracker = self._exits.enter_context(contextlib.closing(self._tracker()))
        views = [capacity(a, lv.shape) for a, lv in zip(self.prepared.arrays, levels, strict=True)]
        self.writers = self._exits.enter_context(
            chunk_writers(views, tracker.for_level, workers=threads)
        )
        self._publisher = ThreadPoolExecutor(1, thread_name_prefix="gpu-omezarr-publish")
        self._published: list[Future[None]] = []
        self._metadata_written = False
        self._failure: BaseException | None = None
        self._tile: np.ndarray | None = None
        self._spare: deque[tuple[np.ndarray, Future[None]]] = deque(maxlen=SPARE_TILES)
        self._filled = 0
        self.count = 0
        self.published = 0
        self.closed = False
        self._reload(stored)

    # -- the public interface ------------------------------------------------------------

    def append(self, frames: Any) -> None:
        """Append one frame (shape ``frame_shape``) or a block of frames along the first axis
        (shape ``(k, *frame_shape)``); NumPy or CuPy, of the stream's dtype.

        A wrong shape or dtype, or frames past a known length, are refused before anything
        is stored (the stream stays usable). The frames are copied: the caller may reuse its
        buffer once this returns.
        """
        if self.closed:
            raise ValueError(f"append: the stream to {self._where()} is closed")
        block = self._check(frames)
        self._raise_failure()
        try:
            self._take(block)
        except BaseException:  # a unit failed to store, or interrupted: stop here
            self.abort()  # what was published stays a valid image, to resume from
            raise

    def wait(self) -> int:
        """Block until every completed tile is published; return the frames published (a
        reader opening the image now sees exactly those)."""
        try:
            for future in self._published:
                future.result()
        except BaseException:
            self.abort()
            raise
        self._published = []
        return self.published

    def close(self) -> None:
        """Store the last tile and every unit begun (cut at the last frame), resize the
        levels to the final length and write the final metadata. A second call does
        nothing."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._filled:
                self._compute(self._tile, self._filled)
            self._publish(keep=False).result()
        finally:
            self._shutdown()

    def abort(self) -> None:
        """Stop without storing the tile being filled: the frames published so far stay a
        valid image (``resume=True`` continues after them)."""
        if not self.closed:
            self.closed = True
            self._shutdown()

    def __enter__(self) -> FrameStream:
        return self

    def __exit__(self, kind: type | None, *exc: object) -> None:
        if kind is None:
            self.close()
            return
        try:  # keep what was appended; the exception raised in the block wins
            self.close()
        except Exception:
            self.abort()

    # -- frames into tiles -----------------------------------------------------------------

    def _check(self, frames: Any) -> Any:
        shape = getattr(frames, "shape", None)
        dtype = getattr(frames, "dtype", None)
        if shape is None or dtype is None:
            wrong_type("frames", frames, "a NumPy or CuPy array")
        shape = tuple(int(n) for n in shape)
        if shape == self.frame_shape:
            frames, shape = frames[None], (1, *shape)
        if shape[1:] != self.frame_shape or len(shape) != len(self.frame_shape) + 1:
            invalid(
                "frames.shape",
                shape,
                f"frames are {self.frame_shape}: give one, or (k, *{self.frame_shape})",
            )
        if np.dtype(dtype) != self.dtype:
            invalid("frames.dtype", str(np.dtype(dtype)), f"the stream is {self.dtype}")
        if self.count + shape[0] > self.length:
            invalid(
                "frames",
                f"{shape[0]} frames",
                f"{self.count} of {self.length} appended: past the stream's length",
            )
        return frames

    def _take(self, block: Any) -> None:
        """Copy ``block`` into the tile being filled; each full tile computed and published."""
        at = 0
        while at < block.shape[0]:
            if self._tile is None:
                self._tile = self._new_tile()
            piece = block[at : at + self.depth - self._filled]
            host = piece.get() if is_device_array(piece) else np.asarray(piece)
            self._tile[self._filled : self._filled + len(host)] = host
            self._filled += len(host)
            self.count += len(host)
            at += len(host)
            if self._filled == self.depth:
                tile, self._tile = self._tile, None
                self._compute(tile, self.depth)
                self._filled = 0
                published = self._publish(keep=True)
                self._published.append(published)
                self._spare.append((tile, published))

    def _new_tile(self) -> np.ndarray:
        """A tile buffer: one whose tile is published (its units stored) reused, as fresh
        memory costs a page fault per page (and more on VMs that hand freed pages back)."""
        if self._spare and self._spare[0][1].done():
            return self._spare.popleft()[0]
        return np.empty((self.depth, *self.frame_shape), self.dtype)

    def _compute(self, tile: np.ndarray, frames: int) -> None:
        """The pyramid of one tile (its first ``frames``), piece by piece, into the writers:
        level 0's units are views of the tile (a fresh buffer per tile)."""
        write = self.write
        levels, backend = write.pyramid.levels, write.pyramid.backend
        method = write.pyramid.method or "nearest"
        start = self.count - self._filled
        data = tile[:frames]
        units = [w.unit for w in self.writers]
        extent = tile_shape(levels, units, self.dtype.itemsize, data.shape)

        def level0() -> Iterator[tuple[tuple[slice, ...], np.ndarray]]:
            for local in tiles(data.shape, extent):
                part = data[local]
                region = (slice(start + local[0].start, start + local[0].stop), *local[1:])
                self.writers[0].write([r.start for r in region], part)
                yield region, part

        write_coarser(level0(), levels, self.writers, backend, method)

    # -- publishing ------------------------------------------------------------------------

    def _publish(self, keep: bool) -> Future[None]:
        """Store every unit begun as it stands (``keep``: to be stored again whole later),
        then, once all queued units are stored, resize the levels to ``count`` frames and
        write the metadata (in order, on the publisher thread)."""
        count = self.count
        shapes = shapes_at(self.write, count)
        for writer, shape in zip(self.writers, shapes, strict=True):
            writer.flush(shape, keep=keep)
        queued = [f for w in self.writers for f in w.in_flight()]
        return self._publisher.submit(self._resize, queued, shapes, count, not keep)

    def _resize(
        self, queued: Sequence[Future[None]], shapes: list[tuple[int, ...]], count: int, last: bool
    ) -> None:
        if self._failure is not None:  # never publish past units that failed to store
            raise self._failure
        try:
            for future in queued:
                future.result()
            for writer in self.writers:  # units that failed before ``queued`` was taken
                if writer.error is not None:
                    raise writer.error
        except BaseException as exc:
            self._failure = exc
            raise
        resize(self.prepared.arrays, shapes)
        if last or not self._metadata_written:
            self.write.finish(self.prepared)
            self._metadata_written = True
        self.published = count

    def _raise_failure(self) -> None:
        """The first error of a unit or a publication, raised at the next append."""
        for future in self._published:
            if future.done() and future.exception() is not None:
                self.closed = True
                self._shutdown()
                raise future.exception()  # type: ignore[misc]
        self._published = [f for f in self._published if not f.done()]

    def _shutdown(self) -> None:
        self._publisher.shutdown(wait=True)
        self._exits.close()

    # -- resuming --------------------------------------------------------------------------

    def _reload(self, stored: int) -> None:
        """Continue after ``stored`` frames: the coarser levels' units begun in the last
        whole tile read back, the frames of a last partial tile (a closed stream's end) read
        back and taken again (their coarser planes are recomputed)."""
        if not stored:
            return
        whole = stored // self.depth * self.depth
        for writer, array, level in zip(
            self.writers[1:], self.prepared.arrays[1:], self.write.pyramid.levels[1:], strict=True
        ):
            planes = whole // level.cumulative[0]
            begun = planes // writer.unit[0] * writer.unit[0]
            if begun < planes:
                writer.write([begun] + [0] * (array.ndim - 1), np.asarray(array[begun:planes]))
        self.count = self.published = whole
        self._metadata_written = True
        if stored > whole:
            self._take(np.asarray(self.prepared.arrays[0][whole:stored]))

    def _tracker(self) -> Tracker:
        if self.length < PLAN_LENGTH:
            return self.write.tracker()
        levels = len(self.write.pyramid.levels)  # growing: totals unknown (0)
        return Tracker(self.write.progress, [0] * levels, [0] * levels)

    def _where(self) -> str:
        group = self.write.group
        return group if isinstance(group, str) else self.prepared.target.name
