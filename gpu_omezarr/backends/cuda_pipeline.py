"""Tiles through the GPU with copies and kernels overlapped.

Each tile in flight has a *slot*: a non-blocking CUDA stream, a pinned (page-locked) host
buffer the tile is staged in, the device buffer it is copied to, and pinned buffers its coarser
levels are copied back into. On the slot's stream, in order: host-to-device copy, every
level's kernel (each level from the one before, all on the device), device-to-host copies of
every level, an event. With ``DEPTH`` slots in turn, the copy of tile k+1 in, the kernels of
tile k and the copies of tile k-1 out run at once on the device's copy engines and SMs, while
the host reads and encodes. A tile already on the device is used where it is (no round trip),
after an event on the null stream, on which its producer may still be writing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

DEPTH = 3  # tiles in flight: one copied in, one computed, one copied out


class _Pinned:
    """A growable page-locked host buffer, viewed as arrays of any shape."""

    def __init__(self, cupy: Any) -> None:
        self.cupy, self.memory, self.capacity = cupy, None, 0

    def view(self, shape: Sequence[int], dtype: np.dtype) -> np.ndarray:
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes > self.capacity:
            self.capacity = max(nbytes, 2 * self.capacity)
            self.memory = self.cupy.cuda.alloc_pinned_memory(self.capacity)
        count = nbytes // dtype.itemsize
        return np.frombuffer(self.memory, dtype, count).reshape(shape)


class _Slot:
    def __init__(self, backend: Any) -> None:
        cp = backend.cupy
        self.backend, self.cp = backend, cp
        self.stream = cp.cuda.Stream(non_blocking=True)
        self.staging = _Pinned(cp)
        self.outputs: list[_Pinned] = []
        self.device_in: Any = None
        self.events = [cp.cuda.Event() for _ in range(4)]  # start, copied in, computed, done
        self.key: Any = None
        self.views: list[np.ndarray] = []
        self.keep: list[Any] = []  # device arrays in use until the slot is finished

    def submit(self, key: Any, tile: Any, factors: Sequence[Sequence[int]], method: str) -> float:
        """Queue tile ``key``; returns the host seconds spent staging it."""
        cp, stream = self.cp, self.stream
        start, copied, computed, done = self.events
        staged = 0.0
        start.record(stream)
        if self.backend.is_device(tile):
            ready = cp.cuda.Event()
            ready.record(cp.cuda.Stream.null)
            stream.wait_event(ready)
            device = tile
        else:
            from .cupy_backend import native

            t0 = time.perf_counter()
            host = native(np.asarray(tile))
            pinned = self.staging.view(host.shape, host.dtype)
            np.copyto(pinned, host)
            staged = time.perf_counter() - t0
            d = self.device_in
            if d is None or d.shape != host.shape or d.dtype != host.dtype:
                d = self.device_in = cp.empty(host.shape, host.dtype)
            d.set(pinned, stream=stream)
            device = d
        copied.record(stream)
        with stream:
            levels = self.backend.pyramid(device, factors, method)
        computed.record(stream)
        while len(self.outputs) < len(levels):
            self.outputs.append(_Pinned(cp))
        self.views = []
        for level, out in zip(levels, self.outputs, strict=False):
            view = out.view(level.shape, level.dtype)
            level.get(stream=stream, out=view, blocking=False)  # CuPy >= 13
            self.views.append(view)
        done.record(stream)
        self.key, self.keep = key, [device, *levels]
        return staged

    def finish(self, stats: dict[str, float]) -> tuple[Any, list[np.ndarray]]:
        """Wait for the slot's tile; its levels as host arrays of their own."""
        start, copied, computed, done = self.events
        done.synchronize()
        elapsed = self.cp.cuda.get_elapsed_time
        stats["h2d_s"] = stats.get("h2d_s", 0.0) + elapsed(start, copied) / 1e3
        stats["kernels_s"] = stats.get("kernels_s", 0.0) + elapsed(copied, computed) / 1e3
        stats["d2h_s"] = stats.get("d2h_s", 0.0) + elapsed(computed, done) / 1e3
        stats["tiles"] = stats.get("tiles", 0) + 1
        result = (self.key, [v.copy() for v in self.views])  # the buffers are reused
        self.keep, self.views = [], []
        return result


def pyramid_tiles(
    backend: Any,
    tiles: Iterable[tuple[Any, Any]],
    factors: Sequence[Sequence[int]],
    method: str,
) -> Iterator[tuple[Any, list[np.ndarray]]]:
    """``(key, levels)`` for each ``(key, tile)`` of ``tiles``, in order, up to ``DEPTH - 1``
    tiles behind the input. ``backend.stats`` accumulates per-stage seconds."""
    slots = [_Slot(backend) for _ in range(DEPTH)]
    pending: deque[_Slot] = deque()
    stats = backend.stats
    for k, (key, tile) in enumerate(tiles):
        slot = slots[k % DEPTH]
        if pending and pending[0] is slot:  # its previous tile: wait, hand it on
            yield pending.popleft().finish(stats)
        stats["staging_s"] = stats.get("staging_s", 0.0) + slot.submit(key, tile, factors, method)
        pending.append(slot)
    while pending:
        yield pending.popleft().finish(stats)
