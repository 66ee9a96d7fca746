"""A stream's arrays on disk: made at length 0 (or reopened to resume), and resized as tiles
are published, so that what the arrays' metadata says is always what is stored.

The levels are planned for the stream's length (or, while it is unknown, for
``PLAN_LENGTH`` frames: chunks and shards as asked, never clamped to a short length). The
writers see each array at that planned shape (``capacity``); readers see the stored shape,
which grows only after the units it covers are stored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import zarr
from zarr.core.array import AsyncArray

from ..groups import read_blocks
from ..job import Prepared, Write, _check_resumable
from ..metadata._errors import invalid
from ..transaction import Transaction, _withdraw_image

PLAN_LENGTH = 2**40  # a growing stream's planned length: no real acquisition reaches it


def shapes_at(write: Write, count: int) -> list[tuple[int, ...]]:
    """Every level's shape once ``count`` frames are stored."""
    return [(-(-count // lv.cumulative[0]), *lv.shape[1:]) for lv in write.pyramid.levels]


def tile_depth(write: Write) -> int:
    """Frames per tile: whole level-0 units deep, and a multiple of every level's factor
    along the first axis, so each tile's pyramid is computed from the tile alone and every
    tile boundary completes level 0's units."""
    levels = write.pyramid.levels
    unit = (levels[0].shards or levels[0].chunks)[0]
    return math.lcm(unit, max(lv.cumulative[0] for lv in levels))


def prepare(write: Write) -> tuple[Prepared, int]:
    """The target and its arrays: made at length 0, or reopened to resume (checked to have
    this stream's settings; every level resized back to the frames level 0 holds, should a
    crash have come between two levels' resizes). Returns them and the frames stored."""
    target = write._target()
    specs = write.array_specs()
    found = {s["name"]: target[s["name"]] for s in specs if write.resume and s["name"] in target}
    if found:
        for spec in specs:  # compared at their stored length: everything else must match
            if spec["name"] in found and isinstance(found[spec["name"]], zarr.Array):
                spec["shape"] = (found[spec["name"]].shape[0], *spec["shape"][1:])
        _check_resumable(target, specs)
    count = found["s0"].shape[0] if "s0" in found else 0
    if not found and write.overwrite and "multiscales" in read_blocks(target):
        old = [d["path"] for d in read_blocks(target)["multiscales"][0]["datasets"]]
        _withdraw_image(target, write.fmt)  # no reader takes the new arrays for the old image
        for path in set(old) - {s["name"] for s in specs}:
            del target[path]
    for spec in specs:
        if spec["name"] not in found:
            spec["shape"] = (0, *spec["shape"][1:])
    transaction = Transaction(target, write.fmt, False, bool(found))
    prepared = Prepared(target, transaction, transaction.arrays(specs))
    for i, level in enumerate(write.pyramid.levels):
        held = prepared.arrays[i].shape[0] * level.cumulative[0]
        if held < count:
            invalid(
                "resume",
                True,
                f"{level.path} holds {prepared.arrays[i].shape[0]} planes, fewer than the "
                f"{count} frames of s0 need; write again with overwrite=True",
            )
    if count > write.pyramid.levels[0].shape[0]:
        invalid("length", write.pyramid.levels[0].shape[0], f"s0 already holds {count} frames")
    resize(prepared.arrays, shapes_at(write, count))
    return prepared, count


def resize(arrays: Sequence[zarr.Array], shapes: Sequence[tuple[int, ...]]) -> None:
    """Each array to its shape, the coarsest first: level 0's length, resized last, is the
    stream's count of frames stored, and every other level covers at least as many."""
    for array, shape in reversed(list(zip(arrays, shapes, strict=True))):
        if tuple(array.shape) != tuple(shape):
            array.resize(shape)


def capacity(array: zarr.Array, shape: Sequence[int]) -> zarr.Array:
    """``array`` as its writer sees it: the planned shape, nothing written to the store
    (units at the real end are cut there by ``ChunkWriter.flush``)."""
    async_array: Any = array.async_array
    grown = async_array.metadata.update_shape(tuple(shape))
    return zarr.Array(
        AsyncArray(metadata=grown, store_path=async_array.store_path, config=async_array.config)
    )
