"""Replacing an image without ever showing a half-written one: the overwrite transaction.

A write that replaces an image on a local filesystem builds the new levels in full in a hidden
sibling directory (*staging*) and swaps them in by renames once they are complete; the old
metadata is withdrawn first, so a reader sees the old image, no image, or the new one, never a
mixture. Where renames are not cheap (object stores) the old image's metadata is withdrawn
and the arrays are rewritten in place. Whatever killed writers of this machine left (staging
copies, levels a swap moved aside, cut-short units) is removed by the next writer.

Interface: :class:`Transaction` (``arrays``, ``commit``, ``abandon``).
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import zarr

from . import metadata as meta
from .groups import read_blocks
from .storage import abandoned, remove_debris, writer_tag


class Transaction:
    """One write's arrays in ``target``: where they are made, and how they take the place of
    an image already there.

    Parameters
    ----------
    target : zarr.Group
        The group the image is written to (opened for writing).
    fmt : Format
        Its OME-NGFF format.
    replace : bool
        Whether an image already in ``target`` may be replaced (``overwrite`` or ``resume``).
    resume : bool
        Whether arrays already there are reopened (finishing an interrupted write) rather than
        made anew; resumed arrays are written in place, never staged.
    """

    def __init__(self, target: zarr.Group, fmt: meta.Format, replace: bool, resume: bool):
        self.target, self.fmt, self.resume = target, fmt, resume
        replacing = replace and "multiscales" in read_blocks(target)
        self.staging = _staging(target, fmt) if replacing and not resume else None
        if replacing and self.staging is None:
            _withdraw_image(target, fmt)  # no reader may take a half-rewritten image for one

    @property
    def home(self) -> zarr.Group:
        """Where the arrays are made: the staging group, else the target itself."""
        return self.target if self.staging is None else self.staging

    def arrays(self, specs: Sequence[Mapping[str, Any]]) -> list[zarr.Array]:
        """Every level's array, made from its ``zarr.create_array`` arguments (or reopened
        when resuming); a resumed array's cut-short units from killed writers removed."""
        home = self.home
        arrays = [
            home[spec["name"]]
            if self.resume and spec["name"] in home
            else home.create_array(overwrite=True, **spec)
            for spec in specs
        ]
        if self.resume and isinstance(home.store, zarr.storage.LocalStore):
            for array in arrays:  # once, here: region tasks on a cluster must not race for it
                remove_debris(_local_path(array))
        return arrays

    def commit(self, paths: Sequence[str]) -> None:
        """The new levels ``paths`` in place of the old image's (a staged write is swapped
        in); the caller writes the metadata next."""
        if self.staging is not None:
            _swap_in(self.target, self.staging, self.fmt, list(paths))

    def abandon(self) -> None:
        """Give up a failed write: a staged copy is deleted, the old image left as it was."""
        if self.staging is not None:
            shutil.rmtree(_local_path(self.staging), ignore_errors=True)


def _local_path(node: zarr.Group | zarr.Array) -> Path:
    return Path(node.store.root) / node.path


def _withdraw_image(group: zarr.Group, fmt: meta.Format) -> None:
    current = read_blocks(group)
    current.pop("multiscales", None)
    group.attrs.put(meta.merge_attributes({}, fmt, current) if current else {})


def _staging(target: zarr.Group, fmt: meta.Format) -> zarr.Group | None:
    """Where a replacement image is written in full before it takes the old one's place: a
    hidden sibling directory, on a local filesystem (None elsewhere: no cheap rename)."""
    if not isinstance(target.store, zarr.storage.LocalStore):
        return None
    home = _local_path(target)
    _remove_abandoned(home, "new")  # killed overwrites' incomplete copies
    staging = _beside(home, "new", writer_tag())
    shutil.rmtree(staging, ignore_errors=True)
    return zarr.open_group(str(staging), mode="w", zarr_format=fmt.zarr_format)


def _beside(home: Path, kind: str, tag: str) -> Path:
    """A hidden sibling of ``home`` for one writer: ``new`` (a replacement being staged) or
    ``old`` (the replaced levels, on their way out)."""
    return home.parent / f".{home.name}.gpu-omezarr-{kind}-{tag}"


def _remove_abandoned(home: Path, kind: str) -> None:
    """Delete the ``kind`` siblings of ``home`` that writers killed on this machine left."""
    prefix = _beside(home, kind, "").name
    for sibling in home.parent.glob(f"{glob.escape(prefix)}*"):
        if abandoned(sibling.name[len(prefix) :]):
            shutil.rmtree(sibling, ignore_errors=True)


def _swap_in(target: zarr.Group, staging: zarr.Group, fmt: meta.Format, paths: list[str]) -> None:
    """Replace the old image's levels by the complete new ones: withdraw the old metadata,
    move the old levels aside, move the new ones in (renames), then drop the old."""
    old_paths = [d["path"] for d in read_blocks(target)["multiscales"][0]["datasets"]]
    _withdraw_image(target, fmt)
    home, new = _local_path(target), _local_path(staging)
    trash = _beside(home, "old", writer_tag())
    for path in dict.fromkeys([*old_paths, *paths]):
        if (home / path).exists():
            (trash / path).parent.mkdir(parents=True, exist_ok=True)
            os.rename(home / path, trash / path)
    for path in paths:
        (home / path).parent.mkdir(parents=True, exist_ok=True)
        os.rename(new / path, home / path)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(new, ignore_errors=True)
    _remove_abandoned(home, "old")  # levels a swap killed midway kept: replaced now
