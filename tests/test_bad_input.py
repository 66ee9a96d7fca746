"""Every kind of bad input is refused before anything is written, with a message naming the
parameter and the value.

This module is also the source of the table in docs/bad-input.md:
    python tests/test_bad_input.py > docs/bad-input.md
"""

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import gpu_omezarr as g

IMG = np.ones((16, 16), np.uint16)


def image(**kwargs):
    return lambda path: g.write_image(kwargs.pop("data", IMG), path, **kwargs)


def labels(data=None, **kwargs):
    return lambda path: g.write_labels(
        IMG.astype(np.uint8) if data is None else data, path, "x", **kwargs
    )


def plate(**kwargs):
    args = {"rows": ["A", "B"], "columns": ["1", "2"], "wells": ["A/1"], **kwargs}
    return lambda path: g.write_plate_metadata(path, **args)


# (what is wrong, the call, the exception type, text the message must contain)
CASES = [
    ("axes: count", image(axes="zyx"), ValueError, "has 3 entries, data is 2-D"),
    (
        "axes: order",
        image(data=np.ones((2, 8, 8)), axes="ytx"),
        ValueError,
        "'time' axis must come first",
    ),
    ("axes: duplicates", image(axes="yy"), ValueError, "names must be unique"),
    ("axes: not enough space axes", image(axes="ty"), ValueError, "2 or 3 axes of type 'space'"),
    (
        "axes: type not a string",
        image(axes=[{"name": "y", "type": 5}, {"name": "x", "type": "space"}]),
        TypeError,
        "axes[0].type=5",
    ),
    ("axes: unknown letter", image(axes="qx"), ValueError, "axes"),
    ("scale: wrong length", image(scale=[1.0]), ValueError, "scale=[1.0]"),
    ("scale: zero", image(scale=[1, 0]), ValueError, "scale=[1, 0]"),
    ("scale: negative", image(scale=[1, -2]), ValueError, "scale=[1, -2]"),
    ("scale: NaN", image(scale=[1, math.nan]), ValueError, "scale=[1, nan]"),
    ("translation: NaN", image(translation=[0, math.nan]), ValueError, "translation"),
    ("translation: wrong length", image(translation=[0, 0, 0]), ValueError, "translation"),
    (
        "scale_factors: not an integer",
        image(scale_factors=(2.5,)),
        TypeError,
        "scale_factors[0]=2.5",
    ),
    ("scale_factors: below 1", image(scale_factors=(0,)), ValueError, "scale_factors"),
    ("scale_factors: unknown axis name", image(scale_factors=[{"q": 2}]), ValueError, "not in"),
    (
        "scale_factors: not increasing",
        image(scale_factors=(2, 2)),
        ValueError,
        "at least one axis further",
    ),
    (
        "scale_factors: not a multiple of the level before",
        image(scale_factors=(2, 3)),
        ValueError,
        "not a multiple",
    ),
    ("chunks: zero", image(storage_options={"chunks": (0, 4)}), ValueError, "chunks"),
    ("chunks: wrong length", image(storage_options={"chunks": (4, 4, 4)}), ValueError, "chunks"),
    (
        "shards: not a multiple of chunks",
        image(storage_options={"chunks": (4, 4), "shards": (6, 6)}),
        ValueError,
        "multiples of chunks",
    ),
    (
        "shards: with Zarr v2 (0.4)",
        image(storage_options={"shards": (8, 8)}, version="0.4"),
        ValueError,
        "sharding needs Zarr v3",
    ),
    ("dtype: complex", image(data=np.ones((8, 8), np.complex64)), TypeError, "dtype=complex64"),
    ("dtype: object", image(data=np.ones((8, 8), object)), TypeError, "dtype=object"),
    ("dtype: strings", image(data=np.full((8, 8), "a")), TypeError, "dtype=<U1"),
    (
        "dtype: float labels",
        labels(data=np.ones((8, 8), np.float32)),
        ValueError,
        "labels.dtype='float32'",
    ),
    (
        "dtype: mean of bool",
        image(data=np.ones((8, 8), bool)),
        TypeError,
        "method='mean' with dtype=bool",
    ),
    ("method: unknown", image(method="median"), ValueError, "method='median'"),
    (
        "method: mode of floats",
        image(data=np.ones((8, 8), np.float32), method="mode"),
        TypeError,
        "mode is for integer",
    ),
    ("array: empty", image(data=np.ones((0, 5))), ValueError, "the image is empty"),
    ("array: 0-d", image(data=np.float32(1)), ValueError, "2 to 5 axes"),
    ("array: 6-D", image(data=np.ones((1,) * 6)), ValueError, "2 to 5 axes"),
    ("array: not an array", image(data=[[1, 2], [3, 4]]), TypeError, "image=[[1, 2], [3, 4]]"),
    ("backend: unknown", image(backend="gpu"), ValueError, "backend='gpu'"),
    ("version: unknown", image(version="0.3"), ValueError, "version='0.3'"),
    ("metadata: unknown keyword", image(colour="red"), ValueError, "unknown keyword"),
    (
        "omero: bad colour",
        image(metadata={"omero": {"channels": [{"color": "nope"}]}}),
        ValueError,
        "color",
    ),
    (
        "labels: name with a slash",
        lambda path: g.write_labels(IMG.astype(np.uint8), path, "a/b"),
        ValueError,
        "a/b",
    ),
    (
        "labels: colour out of range",
        labels(label_metadata={"colors": [{"label-value": 1, "rgba": [300, 0, 0, 255]}]}),
        ValueError,
        "rgba",
    ),
    (
        "labels: label value not a number",
        labels(label_metadata={"colors": [{"label-value": "one", "rgba": [1, 2, 3, 4]}]}),
        (ValueError, TypeError),
        "label-value",
    ),
    ("plate: repeated row name", plate(rows=["A", "A"]), ValueError, "rows"),
    ("plate: row name not alphanumeric", plate(rows=["A-1"]), ValueError, "rows"),
    ("plate: well not in rows/columns", plate(wells=["C/1"]), ValueError, "C/1"),
    ("plate: well path malformed", plate(wells=["A1"]), ValueError, "A1"),
    (
        "well: image path not a plain name",
        lambda path: g.write_well_metadata(path, ["../x"]),
        ValueError,
        "../x",
    ),
    ("version: newer than 0.6", image(version="0.7"), ValueError, "version='0.7'"),
    (
        "axes: orientation not RFC-4's",
        image(axes=["y", {"name": "x", "type": "space", "orientation": {"type": "anatomical"}}]),
        ValueError,
        "axes[1].orientation.value=None",
    ),
    (
        "scene: images and placements differ",
        lambda path: g.write_scene({"a": IMG}, path, {"b": {"translation": [0, 0]}}, axes="yx"),
        ValueError,
        "must place exactly the images ['a']",
    ),
    (
        "scene: placement of the wrong length",
        lambda path: g.write_scene({"a": IMG}, path, {"a": {"translation": [0]}}, axes="yx"),
        ValueError,
        "placements['a'].translation=[0]",
    ),
]


def _existing(path: str) -> None:
    g.write_image(IMG, path)


EXISTING = [
    ("existing image without overwrite", image(), ValueError, "pass overwrite=True"),
    (
        "version differs from the existing group",
        image(version="0.4", overwrite=True),
        ValueError,
        "Group is zarr_format: 3",
    ),
]


def _user_folder(path: str) -> None:
    """A folder of the user's own that is no Zarr store, with a sub-folder named like a level."""
    Path(path, "s0").mkdir(parents=True)
    Path(path, "notes.txt").write_text("mine")
    Path(path, "s0", "data.txt").write_text("precious")


NOT_A_STORE = "not a Zarr store; choose another path"
USER_FOLDER = [
    ("image into a folder that is no Zarr store", image(), ValueError, NOT_A_STORE),
    ("... with overwrite=True", image(overwrite=True), ValueError, NOT_A_STORE),
    ("... with resume=True", image(resume=True), ValueError, NOT_A_STORE),
    ("labels into it", labels(), ValueError, NOT_A_STORE),
    (
        "write_multiscale into it, overwrite=True",
        lambda path: g.write_multiscale([IMG], path, overwrite=True),
        ValueError,
        NOT_A_STORE,
    ),
    ("plate metadata into it", plate(), ValueError, NOT_A_STORE),
    (
        "open_stream into it, overwrite=True",
        lambda path: g.open_stream(path, (16, 16), "uint16", axes="zyx", overwrite=True),
        ValueError,
        NOT_A_STORE,
    ),
]


@pytest.mark.parametrize(("what", "call", "error", "message"), CASES, ids=[c[0] for c in CASES])
def test_refused_before_anything_is_written(tmp_path, what, call, error, message):
    path = tmp_path / "out.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as caught:
            call(str(path))
    assert message in str(caught.value), str(caught.value)
    assert not path.exists(), f"{what}: something was written"


KEPT = [(_existing, *c) for c in EXISTING] + [(_user_folder, *c) for c in USER_FOLDER]


def _snapshot(path: Path) -> dict:
    """Every path below ``path``, with a file's bytes (None for a folder)."""
    return {p: p.read_bytes() if p.is_file() else None for p in sorted(path.rglob("*"))}


@pytest.mark.parametrize(
    ("setup", "what", "call", "error", "message"), KEPT, ids=[c[1] for c in KEPT]
)
def test_what_is_there_is_kept(tmp_path, setup, what, call, error, message):
    """An existing image, or a folder of the user's that is no Zarr store: refused, and
    not one path below it added, removed or changed."""
    path = tmp_path / "out.zarr"
    setup(str(path))
    before = _snapshot(path)
    with pytest.raises(error, match=message):
        call(str(path))
    assert _snapshot(path) == before


def test_a_file_is_never_written_over(tmp_path):
    path = tmp_path / "thesis.txt"
    path.write_text("mine")
    with pytest.raises(ValueError, match="a file, not a Zarr store"):
        g.write_image(IMG, str(path), overwrite=True)
    assert path.read_text() == "mine"


def test_unknown_units_warn_naming_the_unit(tmp_path):
    with pytest.warns(UserWarning, match="axes\\[0\\].unit='furlong'"):
        g.write_image(IMG, str(tmp_path / "u.zarr"), axes_units={"y": "furlong"})


def _table() -> str:
    import tempfile

    rows = ["| input | error | message |", "|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (what, call, error, _) in enumerate(CASES + EXISTING + USER_FOLDER):
            path = str(Path(tmp) / f"{i}.zarr")
            if (what, call) in [(c[0], c[1]) for c in EXISTING]:
                _existing(path)
            if (what, call) in [(c[0], c[1]) for c in USER_FOLDER]:
                _user_folder(path)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    call(path)
                rows.append(f"| {what} | (none) | |")
            except Exception as exc:
                message = str(exc).replace("|", "\\|")
                declared = error if isinstance(error, tuple) else (error,)
                kind = " / ".join(e.__name__ for e in declared if isinstance(exc, e))
                rows.append(f"| {what} | `{kind}` | {message} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(
        "# Bad input and what it is told\n\n"
        "Every case is refused before the first byte is written (tests/test_bad_input.py);\n"
        "made by `python tests/test_bad_input.py > docs/bad-input.md`. A source whose reads\n"
        "fail midway raises its own error and leaves no image (tests/test_reliability.py).\n"
        "The command line's table below: `python tests/test_damaged_files.py >> docs/bad-input.md`.\n\n"
        "Each error is an `ArgumentError`, both a `ValueError` and a `TypeError`, so that code\n"
        "written for ome-zarr-py (which raises one where we might say the other) catches it.\n\n"
        + _table()
        + "\n"
    )
