import json
import warnings

import pytest
import zarr
from conftest import SPEC

import gpu_omezarr as g
from gpu_omezarr import metadata as meta

VERSIONS = ["0.4", "0.5"]


def attrs_of(path):
    group = zarr.open_group(path, mode="r")
    return group.attrs.asdict()


# --- rules, valid and invalid ---------------------------------------------------------------


def test_axes_from_names_get_types_and_units():
    axes = meta.build_axes("tczyx", {"z": "micrometer", "t": "second"})
    assert axes[0] == {"name": "t", "type": "time", "unit": "second"}
    assert axes[2] == {"name": "z", "type": "space", "unit": "micrometer"}


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ("x", "2 to 5"),
        ("tczyxq", "2 to 5"),
        ("yy", "unique"),
        ("cx", "2 or 3 axes of type 'space'"),
        ("tt" + "yx", "unique"),
        (
            [{"name": "a", "type": "time"}, {"name": "t", "type": "time"}, "y", "x"],
            "at most one axis",
        ),
        ("ztyx", "'time' axis must come first"),
        ("zcyx", "space axes must come last"),
        (["c", {"name": "q", "type": "foo"}, "y", "x"], "channel' or a custom"),
        ([{"name": "", "type": "space"}, "x"], "axes\\[0\\].name"),
    ],
)
def test_bad_axes_are_refused(axes, message):
    with pytest.raises(ValueError, match=message):
        meta.build_axes(axes)


def test_unknown_unit_warns_and_unknown_axis_unit_fails():
    with pytest.warns(UserWarning, match="not a space unit"):
        meta.build_axes("yx", {"x": "furlong"})
    with pytest.raises(ValueError, match="axes_units"):
        meta.build_axes("yx", {"z": "micrometer"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        meta.build_axes("tyx", {"t": "millisecond", "y": "nanometer"})


@pytest.mark.parametrize(
    ("transforms", "message"),
    [
        ([], "must contain a 'scale'"),
        ([{"type": "translation", "translation": [0, 0]}], "first transformation"),
        ([{"type": "scale", "scale": [1, 1]}, {"type": "scale", "scale": [1, 1]}], "exactly one"),
        ([{"type": "scale", "scale": [1]}], "must have 2 values"),
        ([{"type": "scale", "scale": [1, 0]}], "positive"),
        ([{"type": "scale", "scale": [1, float("nan")]}], "finite"),
        ([{"type": "scale", "scale": [1, "2"]}], "expected a number"),
        (
            [{"type": "scale", "scale": [1, 1]}, {"type": "translation", "translation": [0]}],
            "must have 2 values",
        ),
        (
            [{"type": "scale", "scale": [1, 1]}, {"type": "translation", "translation": [0, 0]}] * 1
            + [{"type": "translation", "translation": [0, 0]}],
            "only one 'translation'",
        ),
    ],
)
def test_bad_transformations_are_refused(transforms, message):
    with pytest.raises((ValueError, TypeError), match=message):
        meta.validate_transformations(transforms, 2, "datasets[0].coordinateTransformations")


def test_datasets_must_go_fine_to_coarse_and_be_unique():
    axes = meta.build_axes("yx")
    with pytest.raises(ValueError, match="fine to coarse"):
        meta.build_multiscale(axes, meta.build_datasets([[2, 2], [1, 1]]))
    with pytest.raises(ValueError, match="unique"):
        meta.build_multiscale(axes, meta.build_datasets([[1, 1], [2, 2]], paths=["a", "a"]))
    with pytest.raises(ValueError, match="must not be empty"):
        meta.build_multiscale(axes, [])


@pytest.mark.parametrize(
    ("omero", "message"),
    [
        ({"channels": [{"color": "red"}]}, "6 hexadecimal"),
        ({"channels": [{"window": {"min": 0, "max": 1, "start": 0}}]}, "lacks 'end'"),
        ({"channels": [{"window": {"min": 2, "max": 1, "start": 0, "end": 1}}]}, "min must not"),
        ({"channels": [{"active": "yes"}]}, "expected a bool"),
        ({"channels": "x"}, "omero.channels"),
        ({"channels": [], "rdefs": {"model": "rgb"}}, "color' or 'greyscale"),
    ],
)
def test_bad_omero_is_refused(omero, message):
    with pytest.raises((ValueError, TypeError), match=message):
        meta.validate_omero(omero)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": ["A", "A"], "columns": ["1"], "wells": ["A/1"]}, "unique"),
        ({"rows": ["A-1"], "columns": ["1"], "wells": ["A-1/1"]}, "alphanumeric"),
        ({"rows": ["A"], "columns": ["1"], "wells": ["B/1"]}, "row 'B' is not in rows"),
        ({"rows": ["A"], "columns": ["1"], "wells": ["A1"]}, "ROW/COLUMN"),
        (
            {
                "rows": ["A"],
                "columns": ["1", "2"],
                "wells": [{"path": "A/2", "rowIndex": 0, "columnIndex": 0}],
            },
            "columnIndex",
        ),
        ({"rows": ["A"], "columns": ["1"], "wells": ["A/1", "A/1"]}, "listed once"),
        (
            {"rows": ["A"], "columns": ["1"], "wells": ["A/1"], "acquisitions": [{"id": "x"}]},
            "acquisitions\\[0\\].id",
        ),
        ({"rows": ["A"], "columns": ["1"], "wells": ["A/1"], "field_count": 0}, "field_count"),
    ],
)
def test_bad_plates_are_refused(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        meta.build_plate(**kwargs)


def test_bad_wells_and_labels_are_refused():
    with pytest.raises(ValueError, match="images\\[0\\].path"):
        meta.build_well([{"path": "a/b"}])
    with pytest.raises(ValueError, match="acquisition"):
        meta.build_well([{"path": "0", "acquisition": "1"}])
    with pytest.raises(ValueError, match="rgba"):
        meta.build_image_label(colors=[{"label-value": 1, "rgba": [0, 0, 0, 256]}])
    with pytest.raises(ValueError, match="appears twice"):
        meta.build_image_label(colors=[{"label-value": 1}, {"label-value": 1}])
    with pytest.raises(TypeError, match="an integer"):
        meta.build_image_label(properties=[{"label-value": 1.5}])
    with pytest.raises(ValueError, match="name"):
        meta.add_label_name([], "a/b")
    assert meta.add_label_name(["a"], "a") == ["a"]


def test_format_resolution():
    assert meta.resolve_format() == meta.FormatV05()
    assert meta.resolve_format(version="0.4").zarr_format == 2

    class TheirFormat:  # stands for ome-zarr-py's Format objects
        version = "0.4"

    assert meta.resolve_format(TheirFormat()) == meta.FormatV04()
    with pytest.raises(ValueError, match="version='0.3'"):
        meta.resolve_format(version="0.3")
    with pytest.raises(ValueError, match="contradicts"):
        meta.resolve_format(meta.FormatV04(), "0.5")


def test_metadata_module_needs_no_array_library():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['numpy'] = None; sys.modules['zarr'] = None\n"
        "import importlib.util, pathlib\n"
        "import gpu_omezarr.metadata as m\n"
        "m.build_multiscale(m.build_axes('yx'), m.build_datasets([[1, 1]]))\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


# --- writers: layout per version, validated by independent readers ---------------------------

DATASETS = [
    {"path": "s0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 0.5, 0.5]}]},
    {
        "path": "s1",
        "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 1.0, 1.0]},
            {"type": "translation", "translation": [0.0, 0.25, 0.25]},
        ],
    },
]
OMERO = {
    "channels": [
        {
            "color": "00FF00",
            "label": "GFP",
            "active": True,
            "window": {"min": 0, "max": 65535, "start": 0, "end": 1000},
        }
    ]
}


def write_all(tmp_path, version, ours: bool):
    """The same metadata calls through our functions or ome-zarr-py's."""
    if ours:
        w = g
        fmt = meta.format_from_version(version)
    else:
        from ome_zarr import format as ozf
        from ome_zarr import writer as w

        fmt = ozf.format_from_version(version)
    root = tmp_path / ("ours" if ours else "theirs") / version
    zf = fmt.zarr_format
    image = zarr.open_group(str(root / "image.zarr"), mode="w", zarr_format=zf)
    w.write_multiscales_metadata(
        image,
        DATASETS,
        fmt=fmt,
        axes="cyx",
        name="img",
        metadata={"method": "mean", "omero": json.loads(json.dumps(OMERO))},
    )
    labels = image.create_group("labels")
    cells = labels.create_group("cells")
    w.write_multiscales_metadata(cells, DATASETS, fmt=fmt, axes="cyx", name="cells")
    w.write_label_metadata(
        labels,
        "cells",
        colors=[{"label-value": 1, "rgba": [255, 0, 0, 255]}],
        properties=[{"label-value": 1, "class": "cell"}],
        fmt=fmt,
    )
    plate = zarr.open_group(str(root / "plate.zarr"), mode="w", zarr_format=zf)
    w.write_plate_metadata(
        plate,
        ["A", "B"],
        ["1", "2"],
        ["A/1", "B/2"],
        fmt=fmt,
        acquisitions=[{"id": 0, "name": "run", "maximumfieldcount": 2}],
        field_count=2,
        name="p",
    )
    well = plate.create_group("A").create_group("1")
    w.write_well_metadata(well, [{"path": "0", "acquisition": 0}, "1"], fmt=fmt)
    return {
        "image": attrs_of(root / "image.zarr"),
        "labels": attrs_of(root / "image.zarr" / "labels"),
        "label": attrs_of(root / "image.zarr" / "labels" / "cells"),
        "plate": attrs_of(root / "plate.zarr"),
        "well": attrs_of(root / "plate.zarr" / "A" / "1"),
    }


# Where we differ from ome-zarr-py on purpose (README, "Improvements over ome-zarr-py"):
# in 0.5 the labels group carries ome.version, and image-label has no version of its own.
def normalise_theirs(theirs, version):
    if version == "0.5":
        theirs["labels"]["ome"]["version"] = "0.5"
        theirs["label"]["ome"]["image-label"].pop("version")
        theirs["label"]["ome"]["version"] = "0.5"
    return theirs


@pytest.mark.parametrize("version", VERSIONS)
def test_json_equals_ome_zarr_py(tmp_path, version):
    pytest.importorskip("ome_zarr")
    ours = write_all(tmp_path, version, ours=True)
    theirs = normalise_theirs(write_all(tmp_path, version, ours=False), version)
    for key in ours:
        assert ours[key] == theirs[key], key


@pytest.mark.parametrize("version", VERSIONS)
def test_validated_by_ome_zarr_models(tmp_path, version):
    pytest.importorskip("ome_zarr_models")
    attrs = write_all(tmp_path, version, ours=True)
    if version == "0.4":
        from ome_zarr_models.v04 import hcs, image, image_label, labels, well
    else:
        from ome_zarr_models.v05 import hcs, image, image_label, labels, well
    image.ImageAttrs.model_validate(attrs["image"] if version == "0.4" else attrs["image"]["ome"])
    labels.LabelsAttrs.model_validate(
        attrs["labels"] if version == "0.4" else attrs["labels"]["ome"]
    )
    hcs.HCSAttrs.model_validate(attrs["plate"] if version == "0.4" else attrs["plate"]["ome"])
    well.WellAttrs.model_validate(attrs["well"] if version == "0.4" else attrs["well"]["ome"])
    image_label.ImageLabelAttrs.model_validate(
        attrs["label"] if version == "0.4" else attrs["label"]["ome"]
    )


def spec_validator(version, name):
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("referencing")
    import referencing
    import referencing.jsonschema

    folder = SPEC / "schemas" / version
    if not folder.is_dir():
        pytest.skip("../shared/ngff-spec is absent")
    resources = []
    for path in folder.glob("*.schema"):
        schema = json.loads(path.read_text())
        resource = referencing.jsonschema.DRAFT202012.create_resource(schema)
        resources.append((schema["$id"], resource))
    registry = referencing.Registry().with_resources(resources)
    schema = json.loads((folder / f"{name}.schema").read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


@pytest.mark.parametrize("version", VERSIONS)
def test_validated_by_the_official_schemas(tmp_path, version):
    attrs = write_all(tmp_path, version, ours=True)
    for key, schema in [
        ("image", "image"),
        ("plate", "strict_plate"),
        ("well", "strict_well"),
        ("label", "strict_label"),
    ]:
        spec_validator(version, schema).validate(attrs[key])


@pytest.mark.parametrize("version", VERSIONS)
def test_official_examples_read_back(version):
    folder = SPEC / "examples" / version
    if not folder.is_dir():
        pytest.skip("../shared/ngff-spec is absent")
    seen = 0
    for path in folder.rglob("*.json"):
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError:  # some examples carry comments
            continue
        attrs = doc.get("attributes", doc)
        if not isinstance(attrs, dict):
            continue
        found, blocks = meta.read_ome(attrs)
        if found is not None:
            assert found == version, path
            seen += 1
    assert seen > 0


def test_label_names_are_never_duplicated_and_versions_never_mixed(tmp_path):
    image = zarr.open_group(str(tmp_path / "img.zarr"), mode="w", zarr_format=3)
    labels = image.create_group("labels")
    labels.create_group("a")
    for _ in range(2):
        g.write_label_metadata(labels, "a")
    assert attrs_of(tmp_path / "img.zarr" / "labels")["ome"]["labels"] == ["a"]
    with pytest.raises(ValueError, match="version='0.4'"):
        g.write_label_metadata(labels, "a", version="0.4")
    with pytest.raises(ValueError, match="no label image 'b'"):
        g.write_label_metadata(labels, "b")


def test_invalid_input_writes_nothing(tmp_path):
    target = tmp_path / "never.zarr"
    with pytest.raises(ValueError):
        g.write_multiscales_metadata(str(target), DATASETS, axes="zz")
    with pytest.raises(ValueError):
        g.write_plate_metadata(str(target), ["A"], ["1"], ["C/1"])
    assert not target.exists()


def test_foreign_attributes_are_kept(tmp_path):
    group = zarr.open_group(str(tmp_path / "x.zarr"), mode="w", zarr_format=2)
    group.attrs["mine"] = 1
    g.write_multiscales_metadata(group, DATASETS[:1], axes="cyx")
    assert attrs_of(tmp_path / "x.zarr")["mine"] == 1
