"""Opening the target group for a format and updating its OME attributes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

import zarr
from zarr.abc.store import Store

from .metadata import Format, format_from_version, merge_attributes, read_ome, resolve_format
from .metadata._errors import invalid, wrong_type

GroupLike = zarr.Group | str | Store
# What a Zarr store (v2 or v3) has at its root; a local folder with none of these is not one.
ZARR_FILES = ("zarr.json", ".zgroup", ".zarray", ".zattrs")


class MissingGroup(str):
    """The name of a group that does not exist yet, below a zarr.Group or Store: for the
    existence checks and their messages, never opened as a path."""


def not_a_store(path: str) -> str | None:
    """What a local ``path`` is when it exists but is no Zarr store (a file, or a folder
    holding other things), else None: such a path is never written into, since writing
    there would mix levels with (or replace) the user's own files."""
    if not os.path.lexists(path):
        return None
    if not os.path.isdir(path):
        return "a file"
    names = os.listdir(path)
    if not names or any(name in names for name in ZARR_FILES):
        return None
    return folder_listing(path)


def folder_listing(path: str) -> str:
    """``a folder holding a, b, c, ...``: the first names in ``path``, for messages."""
    names = sorted(os.listdir(path))
    return "a folder holding " + ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def _existing(group: GroupLike) -> zarr.Group | None:
    if isinstance(group, zarr.Group):
        return group
    if isinstance(group, MissingGroup):
        return None
    if not isinstance(group, str | Store):
        wrong_type("group", group, "a zarr.Group, a zarr Store, a path or a URL string")
    local = group.removeprefix("file://") if isinstance(group, str) else None
    if local is not None and "://" not in local and (what := not_a_store(local)):
        invalid("group", group, f"{what}, not a Zarr store; choose another path")
    try:
        return zarr.open_group(group, mode="r")
    except (FileNotFoundError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError):
        return None


def group_format(group: zarr.Group) -> Format:
    """The OME format an existing group holds (by its metadata, else its Zarr format)."""
    version, _ = read_ome(group.attrs.asdict())
    if version is not None:
        return format_from_version(version)
    return format_from_version("0.4" if group.metadata.zarr_format == 2 else "0.5")


def resolve_group_format(
    group: GroupLike, fmt: Any = None, version: str | None = None
) -> tuple[zarr.Group | None, Format]:
    """The format to write: the one asked for, else an existing group's, else 0.5 (a Zarr v3
    group without OME metadata is taken for 0.5: ask for 0.6 to write 0.6 there).

    Refuses a format that disagrees with the existing group's Zarr format or OME version.
    Opens nothing for writing.
    """
    existing = _existing(group)
    if fmt is None and version is None and existing is not None:
        return existing, group_format(existing)
    chosen = resolve_format(fmt, version)
    if existing is not None:
        if existing.metadata.zarr_format != chosen.zarr_format:
            invalid(
                "version",
                chosen.version,
                f"Group is zarr_format: {existing.metadata.zarr_format}; OME-NGFF "
                f"{chosen.version} needs zarr_format {chosen.zarr_format}",
            )
        held, _ = read_ome(existing.attrs.asdict())
        if held is not None and format_from_version(held) != chosen:
            invalid("version", chosen.version, f"the group holds OME-NGFF {held} metadata")
    return existing, chosen


def open_group(group: GroupLike, fmt: Format, existing: zarr.Group | None = None) -> zarr.Group:
    """The group to write in (opened for writing), created for ``fmt`` where it is missing."""
    if isinstance(group, zarr.Group):
        return group
    return zarr.open_group(group, mode="a", zarr_format=fmt.zarr_format)


def require_group(parent: zarr.Group, path: str) -> zarr.Group:
    """The group at ``path`` below ``parent`` (``"A/1/0"``), each missing step created.

    Safe against other processes creating the same groups at once: zarr's ``require_group``
    looks, then creates, and a creator that lost the race in between is refused
    (``ContainsGroupError``); the group the winner made is opened instead.
    """
    group = parent
    for name in path.split("/"):
        try:
            group = group.require_group(name)
        except zarr.errors.ContainsGroupError:
            group = group[name]
    return group


def read_blocks(group: zarr.Group) -> dict[str, Any]:
    return read_ome(group.attrs.asdict())[1]


def write_blocks(group: zarr.Group, fmt: Format, blocks: Mapping[str, Any]) -> None:
    """Set OME ``blocks`` on ``group``, keeping its other attributes, in one write."""
    attributes = merge_attributes(group.attrs.asdict(), fmt, blocks)
    group.attrs.put(attributes)


@contextlib.contextmanager
def updating(group: zarr.Group) -> Iterator[zarr.Group]:
    """``group`` re-read under an exclusive lock, for a read-modify-write of its attributes
    that concurrent writers (other processes adding labels) must not lose.

    Local stores lock a file named after the group (``fcntl.flock``). Other stores
    have no lock to offer: there, writers of one group must be coordinated by the caller.
    """
    store = group.store
    if not isinstance(store, zarr.storage.LocalStore):
        yield group
        return
    import fcntl

    # The lock file lives outside the hierarchy (zarr warns about foreign files in a group),
    # named after the group's absolute path; locks hold between processes of one machine.
    where = os.path.abspath(os.path.join(str(store.root), group.path))
    digest = hashlib.sha1(where.encode()).hexdigest()[:20]
    lock_dir = os.path.join(tempfile.gettempdir(), "gpu-omezarr-locks")
    os.makedirs(lock_dir, exist_ok=True)
    with open(os.path.join(lock_dir, f"{digest}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield zarr.open_group(store, path=group.path, mode="r+")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
