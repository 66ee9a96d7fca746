"""High-content screening: the ``plate`` and ``well`` blocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import invalid, wrong_type


def _names(field: str, values: Any) -> list[str]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        wrong_type(field, values, "a list of names")
    if not values:
        invalid(field, values, "must not be empty")
    for i, v in enumerate(values):
        if not isinstance(v, str):
            wrong_type(f"{field}[{i}]", v, "a string")
        if not v.isalnum() or not v.isascii():
            invalid(f"{field}[{i}]", v, "must be alphanumeric (letters and digits only)")
    if len(set(values)) != len(values):
        invalid(field, list(values), "names must be unique")
    return list(values)


def _well(i: int, well: Any, rows: list[str], columns: list[str]) -> dict[str, Any]:
    field = f"wells[{i}]"
    if isinstance(well, str):
        well = {"path": well}
    elif isinstance(well, Mapping):
        well = dict(well)
    else:
        wrong_type(field, well, "a path 'A/1' or a dict")
    path = well.get("path")
    if not isinstance(path, str) or path.count("/") != 1:
        invalid(f"{field}.path", path, "must be 'ROW/COLUMN', e.g. 'A/1'")
    row, column = path.split("/")
    if row not in rows:
        invalid(f"{field}.path", path, f"row {row!r} is not in rows {rows}")
    if column not in columns:
        invalid(f"{field}.path", path, f"column {column!r} is not in columns {columns}")
    for key, index in (("rowIndex", rows.index(row)), ("columnIndex", columns.index(column))):
        given = well.setdefault(key, index)
        if given != index or isinstance(given, bool):
            invalid(f"{field}.{key}", given, f"path {path!r} means {key} {index}")
    return {"path": path, "rowIndex": well["rowIndex"], "columnIndex": well["columnIndex"]} | {
        k: v for k, v in well.items() if k not in ("path", "rowIndex", "columnIndex")
    }


def _acquisitions(acquisitions: Any) -> list[dict[str, Any]]:
    if not isinstance(acquisitions, Sequence) or isinstance(acquisitions, str):
        wrong_type("acquisitions", acquisitions, "a list of dicts")
    ids = []
    for i, acq in enumerate(acquisitions):
        if not isinstance(acq, Mapping):
            wrong_type(f"acquisitions[{i}]", acq, "a dict")
        acq_id = acq.get("id")
        if not isinstance(acq_id, int) or isinstance(acq_id, bool) or acq_id < 0:
            invalid(f"acquisitions[{i}].id", acq_id, "must be a non-negative integer")
        ids.append(acq_id)
        for key in ("maximumfieldcount", "starttime", "endtime"):
            value = acq.get(key)
            if value is not None and (not isinstance(value, int) or value < 0):
                invalid(f"acquisitions[{i}].{key}", value, "must be a non-negative integer")
    if len(set(ids)) != len(ids):
        invalid("acquisitions.id", ids, "ids must be unique")
    return [dict(a) for a in acquisitions]


def build_plate(
    rows: Sequence[str],
    columns: Sequence[str],
    wells: Sequence[str | Mapping[str, Any]],
    *,
    acquisitions: Sequence[Mapping[str, Any]] | None = None,
    field_count: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """The ``plate`` block (without version: :mod:`.attrs` places it)."""
    rows = _names("rows", rows)
    columns = _names("columns", columns)
    if not isinstance(wells, Sequence) or isinstance(wells, str) or not wells:
        invalid("wells", wells, "must be a non-empty list of paths such as 'A/1'")
    checked = [_well(i, w, rows, columns) for i, w in enumerate(wells)]
    paths = [w["path"] for w in checked]
    if len(set(paths)) != len(paths):
        invalid("wells", paths, "each well must be listed once")
    plate: dict[str, Any] = {
        "columns": [{"name": c} for c in columns],
        "rows": [{"name": r} for r in rows],
        "wells": checked,
    }
    if name is not None:
        if not isinstance(name, str):
            wrong_type("name", name, "a string")
        plate["name"] = name
    if field_count is not None:
        if not isinstance(field_count, int) or isinstance(field_count, bool) or field_count < 1:
            invalid("field_count", field_count, "must be a positive integer")
        plate["field_count"] = field_count
    if acquisitions is not None:
        plate["acquisitions"] = _acquisitions(acquisitions)
    return plate


def build_well(images: Sequence[str | Mapping[str, Any]]) -> dict[str, Any]:
    """The ``well`` block: one entry per field of view, ``{"path": "0", "acquisition": 1}``."""
    if not isinstance(images, Sequence) or isinstance(images, str) or not images:
        invalid("images", images, "must be a non-empty list of field paths")
    checked = []
    for i, image in enumerate(images):
        entry = {"path": image} if isinstance(image, str) else image
        if not isinstance(entry, Mapping):
            wrong_type(f"images[{i}]", image, "a path or a dict")
        path = entry.get("path")
        if not isinstance(path, str) or not path.isalnum():
            invalid(f"images[{i}].path", path, "must be an alphanumeric path such as '0'")
        acq = entry.get("acquisition")
        if acq is not None and (not isinstance(acq, int) or isinstance(acq, bool)):
            invalid(f"images[{i}].acquisition", acq, "must be an integer acquisition id")
        checked.append(dict(entry))
    paths = [e["path"] for e in checked]
    if len(set(paths)) != len(paths):
        invalid("images", paths, "each field path must be listed once")
    return {"images": checked}
