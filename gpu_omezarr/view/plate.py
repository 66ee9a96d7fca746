"""A plate's picture: the first field of each well in a grid laid out by row and column,
rows and columns named in the margins, wells without a field shown dark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zarr

from ..metadata import read_ome
from .font import ADVANCE, HEIGHT, draw_text
from .picture import Options, Picture, paint, read_image, resolve_windows
from .read import where

GRID, EMPTY = 64, 24  # grey of the lines between wells, and of a well with nothing in it


@dataclass(frozen=True)
class Layout:
    """Where each well goes: a square ``cell`` of pixels per well after the margins."""

    rows: list[str]
    columns: list[str]
    cell: int
    top: int
    left: int

    @property
    def gap(self) -> int:
        return 1 if self.cell >= 6 else 0

    def box(self, row: int, column: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of a well's picture area."""
        y, x = self.top + row * self.cell, self.left + column * self.cell
        return y, x, y + self.cell - self.gap, x + self.cell - self.gap


def layout(rows: list[str], columns: list[str], size: int) -> Layout:
    """Cells as large as ``size`` allows; names in the margins where cells fit their text."""
    left = ADVANCE * max(len(r) for r in rows) + 3
    top = HEIGHT + 4
    cell = min((size - left) // len(columns), (size - top) // len(rows))
    if cell < HEIGHT + 2:  # too small for names: the whole picture for the wells
        left = top = 0
        cell = min(size // len(columns), size // len(rows))
    return Layout(rows, columns, max(cell, 1), top, left)


def render_plate(
    group: zarr.Group, size: int, options: Options
) -> tuple[np.ndarray, list[Picture], list[list[tuple[float, float]]], dict[str, tuple[int, ...]]]:
    """The plate's picture, the fields read, their windows and each well's box in it."""
    _, blocks = read_ome(group.attrs.asdict())
    plate = blocks["plate"]
    rows = [r["name"] for r in plate.get("rows", [])]
    columns = [c["name"] for c in plate.get("columns", [])]
    if not rows or not columns:
        raise ValueError(f"{where(group)}: the plate lists no rows or no columns")
    grid = layout(rows, columns, size)
    placed: list[tuple[str, Picture, tuple[int, int, int, int]]] = []
    for well in plate.get("wells", []):
        path = well.get("path", "")
        row, column = _position(well, rows, columns)
        field = _first_field(group, path)
        if field is None or row is None or column is None:
            continue
        box = grid.box(row, column)
        picture = read_image(field, (box[2] - box[0], box[3] - box[1]), options, strict=False)
        placed.append((path, picture, box))
    height = grid.top + len(rows) * grid.cell
    width = grid.left + len(columns) * grid.cell
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[grid.top :, grid.left :] = GRID
    for r in range(len(rows)):
        for c in range(len(columns)):
            y0, x0, y1, x1 = grid.box(r, c)
            rgb[y0:y1, x0:x1] = EMPTY
    windows = resolve_windows([p for _, p, _ in placed])
    boxes = {}
    for (path, picture, (y0, x0, y1, x1)), win in zip(placed, windows, strict=True):
        tile = paint(picture, win)
        ty, tx = y0 + (y1 - y0 - tile.shape[0]) // 2, x0 + (x1 - x0 - tile.shape[1]) // 2
        rgb[ty : ty + tile.shape[0], tx : tx + tile.shape[1]] = tile
        boxes[path] = (ty, tx, ty + tile.shape[0], tx + tile.shape[1])
    if grid.top:
        _names(rgb, grid)
    return rgb, [p for _, p, _ in placed], windows, boxes


def _names(rgb: np.ndarray, grid: Layout) -> None:
    for c, name in enumerate(grid.columns):
        y0, x0, _, x1 = grid.box(0, c)
        if len(name) * ADVANCE <= grid.cell + 1:
            draw_text(rgb, name, 1, (x0 + x1 - len(name) * ADVANCE) // 2 + 1, color=200)
    for r, name in enumerate(grid.rows):
        y0, _, y1, _ = grid.box(r, 0)
        draw_text(rgb, name, (y0 + y1 - HEIGHT) // 2, 1, color=200)


def _position(well: dict, rows: list[str], columns: list[str]) -> tuple[int | None, int | None]:
    """A well's row and column index: as listed, else from its path ``ROW/COLUMN``."""
    row, column = well.get("rowIndex"), well.get("columnIndex")
    parts = str(well.get("path", "")).split("/")
    if not isinstance(row, int) and len(parts) == 2 and parts[0] in rows:
        row = rows.index(parts[0])
    if not isinstance(column, int) and len(parts) == 2 and parts[1] in columns:
        column = columns.index(parts[1])
    ok = isinstance(row, int) and 0 <= row < len(rows)
    ok = ok and isinstance(column, int) and 0 <= column < len(columns)
    return (row, column) if ok else (None, None)


def _first_field(plate: zarr.Group, path: str) -> zarr.Group | None:
    """The group of a well's first field of view; None where the well or field is missing."""
    if not path or path not in plate:
        return None
    well = plate[path]
    _, blocks = read_ome(well.attrs.asdict())
    images = blocks.get("well", {}).get("images", [])
    first = images[0].get("path") if images else None
    if first is None or first not in well:
        return None
    return well[first]
