"""High-content screening: ``write_plate`` writes a whole plate, fields in parallel, each
well's metadata once its fields are complete and the plate's last."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import zarr

from .. import metadata as meta
from ..groups import (
    GroupLike,
    open_group,
    read_blocks,
    require_group,
    resolve_group_format,
    updating,
    write_blocks,
)
from ..metadata._errors import invalid, wrong_type
from .image import write_image

Field = Any  # an array, or a callable returning one (read when its turn comes)


def write_plate(
    wells: Mapping[str, Sequence[Field]],
    group: GroupLike,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    *,
    name: str | None = None,
    acquisitions: Sequence[Mapping[str, Any]] | None = None,
    fmt: Any = None,
    version: str | None = None,
    workers: int = 2,
    **image_options: Any,
) -> None:
    """Write a plate: ``wells`` maps ``"ROW/COLUMN"`` to the well's fields of view.

    Parameters
    ----------
    wells : mapping of str to sequence of arrays or callables
        ``{"A/1": [field0, field1], ...}``; a callable field is called (no arguments) when
        it is written, so a plate larger than memory is read one field at a time.
    group : zarr.Group or str
        The plate group. Several processes may each write some wells of one plate: the
        plate's ``wells``, ``rows`` and ``columns`` are merged under a lock, each listed once.
    rows, columns : list of str, optional
        Default: the names used in ``wells``, rows in alphabetical and columns in numeric order.
    workers : int
        Fields written at once (each write also encodes on every core).
    **image_options
        Passed to :func:`write_image` for every field (``axes``, ``scale_factors``,
        ``method``, ``scale``, ``storage_options``, ``backend``, ``overwrite``...).
    """
    if not isinstance(wells, Mapping) or not wells:
        wrong_type("wells", wells, "a non-empty dict of 'ROW/COLUMN' to lists of fields")
    rows = list(rows) if rows is not None else _sorted_names(p.split("/")[0] for p in wells)
    columns = (
        list(columns) if columns is not None else _sorted_names(p.split("/")[-1] for p in wells)
    )
    meta.build_plate(rows, columns, list(wells), acquisitions=acquisitions, name=name)
    for path, fields in wells.items():
        if not isinstance(fields, Sequence) or isinstance(fields, str) or not fields:
            invalid(f"wells[{path!r}]", fields, "must be a non-empty list of fields")
        meta.build_well([str(i) for i in range(len(fields))])
    if not isinstance(workers, int) or workers < 1:
        invalid("workers", workers, "must be a positive integer")
    existing, fmt = resolve_group_format(group, fmt, version)
    # Every in-memory field is checked (as write_image would) before anything is written,
    # and a first field read by a callable stands for the others.
    first_path, first_fields = next(iter(wells.items()))
    if callable(first_fields[0]):
        sample = first_fields[0]()
        write_image(sample, _at(group, first_path, 0, fmt), fmt=fmt, compute=False, **image_options)
    for path, fields in wells.items():
        for i, field in enumerate(fields):
            if not callable(field):
                write_image(
                    field, _at(group, path, i, fmt), fmt=fmt, compute=False, **image_options
                )

    root = open_group(group, fmt, existing)
    targets = {  # the hierarchy first, on one thread: no two fields create one group
        path: [require_group(root, f"{path}/{i}") for i in range(len(fields))]
        for path, fields in wells.items()
    }
    with ThreadPoolExecutor(workers, thread_name_prefix="gpu-omezarr-field") as pool:
        jobs = {
            path: [
                pool.submit(_write_field, target, field, fmt, image_options)
                for target, field in zip(targets[path], wells[path], strict=True)
            ]
            for path in wells
        }
        for path, futures in jobs.items():
            for future in futures:
                future.result()
            row, column = path.split("/")
            images = [str(i) for i in range(len(futures))]
            write_blocks(root[row][column], fmt, {"well": meta.build_well(images)})
    _list_wells(root, fmt, rows, columns, list(wells), acquisitions, name)


def _at(group: GroupLike, path: str, field: int, fmt: meta.Format) -> GroupLike:
    """Where a field goes, for the checks: its path, or a scratch group in memory."""
    if isinstance(group, str):
        return f"{group.rstrip('/')}/{path}/{field}"
    return zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=fmt.zarr_format)


def _write_field(target: zarr.Group, field: Field, fmt: meta.Format, options: dict) -> None:
    write_image(field() if callable(field) else field, target, fmt=fmt, **options)


def _sorted_names(names: Any) -> list[str]:
    """Shorter names first, then in order: A..Z, AA..; 1, 2, .. 10."""
    return sorted(set(names), key=lambda n: (len(n), n))


def _list_wells(
    root: zarr.Group,
    fmt: meta.Format,
    rows: list[str],
    columns: list[str],
    wells: list[str],
    acquisitions: Any,
    name: str | None,
) -> None:
    """The plate block last, merged with what other writers of this plate listed."""
    with updating(root) as fresh:
        current = read_blocks(fresh).get("plate") or {}
        all_rows = _sorted_names({*(r["name"] for r in current.get("rows", [])), *rows})
        all_columns = _sorted_names({*(c["name"] for c in current.get("columns", [])), *columns})
        all_wells = sorted(
            {*(w["path"] for w in current.get("wells", [])), *wells},
            key=lambda p: (all_rows.index(p.split("/")[0]), all_columns.index(p.split("/")[1])),
        )
        plate = meta.build_plate(
            all_rows,
            all_columns,
            all_wells,
            acquisitions=acquisitions if acquisitions is not None else current.get("acquisitions"),
            name=name if name is not None else current.get("name"),
        )
        write_blocks(fresh, fmt, {"plate": plate})
