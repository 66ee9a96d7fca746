"""One write, as data: :class:`Write` says what is written where; its steps write it.

The public functions (``api/``) check their arguments, plan the levels, build the OME blocks
and hand a ``Write`` over. A write has three steps, always in this order:

1. :meth:`Write.prepare`: the target group opened (a label's groups made), the arrays created
   (or reopened to resume), in a staging group when an image is replaced
   (:mod:`.transaction`);
2. :meth:`Write.stream`: every level's data stored (``stream.write_levels``: level 0 read once,
   the coarser levels computed from it; or each level given by the caller, as it is);
3. :meth:`Write.finish`: a staged image swapped in, then the OME metadata written (a label
   then listed in ``labels``): readers never see metadata pointing at unfinished arrays.

:meth:`Write.run` does the three here; :meth:`Write.graph` returns them as a dask graph of
region tasks (:mod:`.regions`) for any scheduler.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numcodecs
import numpy as np
import zarr

from . import metadata as meta
from .backends import Backend
from .groups import GroupLike, open_group, read_blocks, require_group, updating, write_blocks
from .metadata._errors import invalid
from .plan import Level, level_options
from .progress import ProgressCallback, Tracker
from .stream import write_levels
from .transaction import Transaction
from .writer import chunk_writers

DEFAULT_ZSTD_LEVEL = 1  # bench/results: level 1 encodes ~1.6x faster than 3 for ~3% more bytes
PASS_THROUGH = ("chunks", "shards", "compressors", "compressor")


@dataclass(frozen=True)
class Pass:
    """One streamed pass over a source: it is level 0 of ``levels``, which are the write's
    levels ``first``, ``first + 1``... (``source`` is None in a task's copy: the task
    reads its own region)."""

    source: Any
    levels: tuple[Level, ...]
    first: int
    method: str


class Prepared(NamedTuple):
    """What :meth:`Write.prepare` made: the target group, its transaction, the arrays."""

    target: zarr.Group
    transaction: Transaction
    arrays: list[zarr.Array]


@dataclass(frozen=True)
class Pyramid:
    """What a write stores: its sources, every level, and how the levels are computed.

    Attributes
    ----------
    sources : tuple of array-like
        Level 0 alone (the coarser levels computed from it with ``method``), or every level
        (given by the caller, ``method`` None).
    dtype : numpy.dtype
        The sources' dtype.
    levels : tuple of Level
        Every level's shape, factors, chunks, shards and transforms (:mod:`.plan`).
    axes : list of dict
        The OME axes.
    method : {"mean", "nearest", "mode"} or None
        Downsampling; None where the levels are given.
    backend : Backend
        Where the coarser levels are computed.
    storage_options : dict or list of dict, optional
        ``zarr.create_array`` arguments, for every level or one per level.
    """

    sources: tuple[Any, ...]
    dtype: np.dtype
    levels: tuple[Level, ...]
    axes: list[dict]
    method: str | None
    backend: Backend
    storage_options: Any = None


@dataclass(frozen=True)
class Write:
    """Everything one image write (or label write) is, checked and planned.

    Attributes
    ----------
    group : zarr.Group, str or Store
        Where the image goes; for a label, the image whose ``labels/label`` it is.
    fmt : Format
        The OME-NGFF version written.
    pyramid : Pyramid
        What is stored.
    blocks : dict
        The OME blocks written last (``multiscales``, ``omero``, ``image-label``).
    label : str, optional
        Write a label image ``group/labels/label``, listed in ``labels`` once complete.
    overwrite, resume : bool
        Replace an image already there; finish an interrupted write.
    progress : callable, optional
        Called once per stored unit (:class:`.progress.Progress`).
    """

    group: GroupLike
    fmt: meta.Format
    pyramid: Pyramid
    blocks: Mapping[str, Any]
    label: str | None = None
    overwrite: bool = False
    resume: bool = False
    progress: ProgressCallback | None = None

    def execute(self, compute: bool) -> list:
        """``compute``: run here and return ``[]``; else ``[dask.delayed]``, the graph."""
        if not compute:
            return [self.graph()]
        self.run()
        return []

    def run(self) -> zarr.Group:
        """Prepare, stream and finish, here (region tasks on a dask.distributed client when
        one is current). A failed write leaves no image behind (staging abandoned)."""
        prepared = self.prepare()
        try:
            self.stream(prepared.arrays)
        except BaseException:
            prepared.transaction.abandon()
            raise
        return self.finish(prepared)

    def graph(self) -> Any:
        """The write as one ``dask.delayed``: nothing is written until it is computed."""
        from . import regions

        return regions.graph(self)

    def prepare(self) -> Prepared:
        """The target group and the arrays, created (or reopened to resume)."""
        target = self._target()
        specs = self.array_specs()
        if self.resume:
            _check_resumable(target, specs)
        transaction = Transaction(target, self.fmt, self.overwrite or self.resume, self.resume)
        return Prepared(target, transaction, transaction.arrays(specs))

    def stream(self, arrays: Sequence[zarr.Array]) -> None:
        """Every level's data into ``arrays``: in this process, or as region tasks on the
        current dask.distributed client (returns once all is stored)."""
        from . import regions

        with contextlib.closing(self.tracker()) as tracker:
            client = regions.active_client()
            if client is not None:
                client.compute(regions.tasks(self, arrays, tracker), sync=True)
                return
            with chunk_writers(arrays, tracker.for_level, self.resume) as writers:
                for p in self.passes():
                    on = writers[p.first : p.first + len(p.levels)]
                    write_levels(p.source, p.levels, on, self.pyramid.backend, p.method)

    def finish(self, prepared: Prepared, *after: Any) -> zarr.Group:
        """A staged image swapped in, then the OME metadata (after the tasks ``after``); a
        label then named in its image's ``labels``."""
        target = prepared.target
        prepared.transaction.commit([lv.path for lv in self.pyramid.levels])
        blocks = dict(self.blocks)
        if "multiscales" in blocks:  # as ome-zarr-py: named after the group by default
            blocks["multiscales"] = [
                m if "name" in m else {**m, "name": target.name} for m in blocks["multiscales"]
            ]
        write_blocks(target, self.fmt, blocks)
        if self.label is not None:
            _list_label(target, self.fmt, self.label)
        return target

    def passes(self) -> list[Pass]:
        """The streamed passes: one from level 0 through every level, or one per given
        level (written as it is: nothing computed from it)."""
        pyramid = self.pyramid
        if len(pyramid.sources) == 1:
            return [Pass(pyramid.sources[0], pyramid.levels, 0, pyramid.method or "nearest")]
        return [
            Pass(source, (replace(level, factors=(1,) * len(level.shape)),), i, "nearest")
            for i, (source, level) in enumerate(zip(pyramid.sources, pyramid.levels, strict=True))
        ]

    def tracker(self) -> Tracker:
        """Counts every level's stored units for ``progress``."""
        units = [
            math.prod(-(-n // u) for n, u in zip(lv.shape, lv.shards or lv.chunks, strict=True))
            for lv in self.pyramid.levels
        ]
        nbytes = [math.prod(lv.shape) * self.pyramid.dtype.itemsize for lv in self.pyramid.levels]
        return Tracker(self.progress, units, nbytes)

    def bare(self) -> Write:
        """This write without its data and callback: what a task sent elsewhere needs."""
        return replace(self, pyramid=replace(self.pyramid, sources=()), progress=None)

    def array_specs(self) -> list[dict[str, Any]]:
        """``zarr.create_array`` arguments for every level."""
        pyramid, specs = self.pyramid, []
        for i, level in enumerate(pyramid.levels):
            options = level_options(pyramid.storage_options, i)
            extra = {k: v for k, v in options.items() if k not in PASS_THROUGH}
            kwargs: dict[str, Any] = {"fill_value": 0, **extra}
            if self.fmt.zarr_format == 2:
                kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
            else:
                kwargs["dimension_names"] = meta.axis_names(pyramid.axes)
            specs.append(
                {
                    "name": level.path,
                    "shape": level.shape,
                    "dtype": pyramid.dtype,
                    "chunks": level.chunks,
                    "shards": level.shards,
                    "compressors": _compressors(options, self.fmt),
                    **kwargs,
                }
            )
        return specs

    def _target(self) -> zarr.Group:
        """The group written to (opened for writing); a label's groups made where missing."""
        root = open_group(self.group, self.fmt)
        if self.label is None:
            return root
        with updating(root) as fresh:  # one creator, even with concurrent label writers
            labels_group = fresh.require_group("labels")
        return require_group(labels_group, self.label)


def _compressors(options: Mapping[str, Any], fmt: meta.Format) -> Any:
    if "compressors" in options:
        return options["compressors"]
    if "compressor" in options:
        return options["compressor"]
    if fmt.zarr_format == 2:
        return numcodecs.Zstd(level=DEFAULT_ZSTD_LEVEL)
    return zarr.codecs.ZstdCodec(level=DEFAULT_ZSTD_LEVEL)


def _check_resumable(target: zarr.Group, specs: Sequence[dict[str, Any]]) -> None:
    """Refuse to resume into arrays an earlier write made with other settings."""
    for spec in specs:
        if spec["name"] not in target:
            continue
        found = target[spec["name"]]
        probe = zarr.create_array(
            zarr.storage.MemoryStore(), zarr_format=target.metadata.zarr_format, **spec
        )
        if not isinstance(found, zarr.Array) or found.metadata != probe.metadata:
            invalid(
                "resume",
                True,
                f"{spec['name']} was not written with these settings (shape, dtype, chunks, "
                "shards, codecs); write again with overwrite=True",
            )


def _list_label(label_group: zarr.Group, fmt: meta.Format, name: str) -> None:
    """Name ``name`` once in the ``labels`` list of ``label_group``'s parent, last, after its
    image is complete; under a lock, so labels written by concurrent processes are all
    listed."""
    labels_group = zarr.open_group(label_group.store, path=_parent(label_group.path), mode="r+")
    with updating(labels_group) as fresh:
        names = meta.add_label_name(read_blocks(fresh).get("labels"), name)
        write_blocks(fresh, fmt, {"labels": names})


def _parent(path: str) -> str:
    return path.rstrip("/").rpartition("/")[0]
