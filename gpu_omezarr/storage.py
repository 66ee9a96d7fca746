"""The stored chunks (or shards) of one zarr array, by key: files read and written directly in
a local store, the store's own API anywhere else (fsspec, memory, zip)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import zarr
from zarr.abc.store import RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore

HOST = socket.gethostname()


def writer_tag() -> str:
    """``PID@HOST``: who writes, in the names of what is written beside its place first, so
    that what a killed writer left can be told from what a running one is writing."""
    return f"{os.getpid()}@{HOST}"


def abandoned(tag: str) -> bool:
    """Whether ``tag`` (``PID@HOST``) names a process of this machine that no longer runs.

    False for other machines' writers (a shared filesystem): nothing here can tell."""
    pid, _, host = tag.partition("@")
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process, running
        return False
    return False


def remove_debris(directory: Path) -> None:
    """Delete the units that writers killed on this machine left half-written below
    ``directory`` (hidden ``.KEY.THREAD.PID@HOST.part`` files, never a key)."""
    for path in directory.rglob(".*.part"):
        before, _, host = path.name[: -len(".part")].rpartition("@")  # hosts may have dots
        if abandoned(f"{before.rpartition('.')[2]}@{host}"):
            path.unlink(missing_ok=True)


class ChunkStore:
    """Bytes of one array's write units (chunks, or shards where sharded) by grid position."""

    def __init__(self, array: zarr.Array) -> None:
        self.array = array
        self._prefix = f"{array.path}/" if array.path else ""
        store = array.store
        self._root = Path(store.root) / self._prefix if isinstance(store, LocalStore) else None
        self._made_dirs: set[Path] = set()
        self._dir_lock = threading.Lock()

    def key(self, coords: tuple[int, ...]) -> str:
        return self.array.metadata.encode_chunk_key(coords)

    def get(self, coords: tuple[int, ...], scratch: ReadBuffer | None = None) -> Any:
        """The stored bytes, or None where nothing is stored (read as the fill value).

        ``scratch``: a local file is read into it and a memoryview of it returned, valid until
        the next read into it."""
        key = self.key(coords)
        if self._root is not None:
            try:
                with open(self._root / key, "rb", buffering=0) as f:
                    if scratch is None:
                        return f.read()
                    view = scratch.view(os.fstat(f.fileno()).st_size)
                    return view[: f.readinto(view)]
            except FileNotFoundError:
                return None
        buffer = sync(self.array.store.get(self._prefix + key, default_buffer_prototype()))
        return None if buffer is None else buffer.to_bytes()

    def get_ranges(
        self,
        coords: tuple[int, ...],
        ranges: Sequence[tuple[int, int]],
        scratch: ReadBuffer | None = None,
    ) -> list[Any] | None:
        """Parts of the stored bytes, each ``(offset, length)``; a negative offset counts from
        the end. None where nothing is stored. ``scratch``: as for ``get``."""
        key = self.key(coords)
        if self._root is not None:
            try:
                fd = os.open(self._root / key, os.O_RDONLY)
            except FileNotFoundError:
                return None
            try:
                size = os.fstat(fd).st_size if any(o < 0 for o, _ in ranges) else 0
                starts = [o if o >= 0 else size + o for o, _ in ranges]
                if scratch is None:
                    return [os.pread(fd, n, o) for o, (_, n) in zip(starts, ranges, strict=True)]
                view, parts, at = scratch.view(sum(n for _, n in ranges)), [], 0
                for o, (_, n) in zip(starts, ranges, strict=True):
                    got = os.preadv(fd, [view[at : at + n]], o)
                    parts.append(view[at : at + got])
                    at += n
                return parts
            finally:
                os.close(fd)
        store, proto = self.array.store, default_buffer_prototype()
        requests = [
            SuffixByteRequest(-o) if o < 0 else RangeByteRequest(o, o + n) for o, n in ranges
        ]

        async def fetch() -> list[Any]:
            return await asyncio.gather(
                *(store.get(self._prefix + key, proto, byte_range=r) for r in requests)
            )

        parts = sync(fetch())
        if any(p is None for p in parts):
            return None
        return [p.to_bytes()[:n] for p, (_, n) in zip(parts, ranges, strict=True)]

    def exists(self, coords: tuple[int, ...]) -> bool:
        key = self.key(coords)
        if self._root is not None:
            return (self._root / key).exists()
        return bool(sync(self.array.store.exists(self._prefix + key)))

    def put(self, coords: tuple[int, ...], data: bytes) -> None:
        key = self.key(coords)
        if self._root is None:
            buffer = default_buffer_prototype().buffer.from_bytes(data)
            sync(self.array.store.set(self._prefix + key, buffer))
            return
        path = self._root / key
        parent = path.parent
        if parent not in self._made_dirs:
            os.makedirs(parent, exist_ok=True)
            with self._dir_lock:
                self._made_dirs.add(parent)
        # Write beside, then rename: a crash leaves the unit whole or absent, never cut.
        partial = path.with_name(f".{path.name}.{threading.get_ident()}.{writer_tag()}.part")
        try:
            with open(partial, "wb") as f:
                f.write(data)
            os.replace(partial, path)
        except BaseException:  # a full disk, an I/O error: no debris of this writer stays
            partial.unlink(missing_ok=True)
            raise


class ReadBuffer:
    """Memory read into again and again: it stays mapped, where a fresh buffer per chunk is
    faulted in anew (costly on VMs that hand freed memory back to their host)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def view(self, size: int) -> memoryview:
        """``size`` bytes of it; earlier views stay valid only until the next read."""
        if len(self._buffer) < size:
            self._buffer = bytearray(max(size, 2 * len(self._buffer)))
        return memoryview(self._buffer)[:size]
