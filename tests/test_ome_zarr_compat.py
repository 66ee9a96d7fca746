"""ome-zarr-py compatibility (issue 16): its argument forms, names and class API on our
writers, and the two bugs found on the way (length-1 axes, labels without the channel
axis). ome-zarr-py's own writer suite runs in tests/ome_zarr_py/."""

import inspect

import numpy as np
import pytest
import zarr
from reference import reference_downsample

import gpu_omezarr as g
from gpu_omezarr.groups import read_blocks
from gpu_omezarr.ome_zarr import OMEZarrImage, OMEZarrLabels, OMEZarrMultiscale
from gpu_omezarr.ome_zarr.axes import Axes
from gpu_omezarr.ome_zarr.format import CurrentFormat, FormatV03, FormatV04, FormatV05
from gpu_omezarr.ome_zarr.scale import Methods, Scaler, _build_pyramid
from gpu_omezarr.ome_zarr.writer import _retuple, get_metadata

IMG = np.random.default_rng(1).integers(0, 200, (3, 40, 36), dtype=np.uint8)


def datasets(path, sub=""):
    group = zarr.open_group(path, mode="r")
    group = group[sub] if sub else group
    return read_blocks(group)["multiscales"][0]["datasets"]


def transforms(scales, shifts=None):
    return [
        [{"type": "scale", "scale": s}]
        + ([{"type": "translation", "translation": t}] if shifts else [])
        for s, t in zip(scales, shifts or scales, strict=True)
    ]


# --- coordinate_transformations, storage options -------------------------------------


def test_coordinate_transformations_written_as_given(tmp_path):
    path = str(tmp_path / "a.zarr")
    given = transforms([[1, 0.5, 0.5], [1, 1, 1]], [[0, 0, 0], [0, 0.25, 0.25]])
    g.write_image(IMG, path, [2], axes="cyx", coordinate_transformations=given)
    assert [d["coordinateTransformations"] for d in datasets(path)] == given
    labels = (IMG > 100).astype(np.uint8)
    g.write_labels(labels, path, "cells", coordinate_transformations=given[:1] * 2)
    assert [d["coordinateTransformations"] for d in datasets(path, "labels/cells")] == given[:1] * 2
    g.write_multiscale_labels(
        [labels, labels[:, ::2, ::2]], path, "given", coordinate_transformations=given
    )
    assert [d["coordinateTransformations"] for d in datasets(path, "labels/given")] == given
    with pytest.raises(ValueError, match="need one per level"):
        g.write_image(
            IMG, str(tmp_path / "b.zarr"), [2], axes="cyx", coordinate_transformations=given[:1]
        )
    assert not (tmp_path / "b.zarr").exists()


@pytest.mark.parametrize(
    ("option", "expected"), [((16, 8), (3, 16, 8)), (8, (3, 8, 8)), ((2, 16, 8), (2, 16, 8))]
)
def test_short_chunks_take_the_leading_axes_whole(tmp_path, option, expected):
    path = str(tmp_path / "a.zarr")
    g.write_image(IMG, path, [2], axes="cyx", storage_options={"chunks": option, "shards": None})
    assert zarr.open_array(f"{path}/s0").chunks == expected
    if not isinstance(option, int):  # ome-zarr-py's helper: an int stays on every axis
        assert _retuple(option, IMG.shape) == expected


def test_short_shards_take_the_leading_axes_whole(tmp_path):
    path = str(tmp_path / "a.zarr")
    g.write_image(
        IMG, path, [2], axes="cyx", storage_options={"chunks": (8, 8), "shards": (16, 16)}
    )
    array = zarr.open_array(f"{path}/s0")
    assert (array.chunks, array.shards) == ((3, 8, 8), (3, 16, 16))
    np.testing.assert_array_equal(array[...], IMG)


def test_storage_options_list_longer_than_levels_uses_the_first(tmp_path):
    path = str(tmp_path / "a.zarr")
    options = [{"chunks": (3, 8, 8)}, {"chunks": (3, 4, 4)}, {"chunks": (1, 2, 2)}]
    g.write_image(IMG, path, [2], axes="cyx", storage_options=options)
    assert [zarr.open_array(f"{path}/s{i}").chunks for i in (0, 1)] == [(3, 8, 8), (3, 4, 4)]
    with pytest.raises(ValueError, match="at least 3"):
        g.write_image(
            IMG, str(tmp_path / "b.zarr"), [2, 4], axes="cyx", storage_options=options[:2]
        )


# --- positional order, method= and scaler= ---------------------------------------------


# ome-zarr-py 0.18.0's positional parameters (its sdist's ome_zarr/writer.py)
OME_ZARR_018 = {
    "write_image": "image group scale_factors name method scaler fmt axes "
    "coordinate_transformations storage_options compute scale axes_units",
    "write_labels": "labels group name scaler scale_factors method fmt axes "
    "coordinate_transformations storage_options label_metadata scale axes_units compute",
    "write_multiscale_labels": "pyramid group name fmt axes coordinate_transformations "
    "storage_options label_metadata scale axes_units compute",
    "write_multiscale": "pyramid group fmt axes coordinate_transformations storage_options "
    "name compute scale axes_units",
}


@pytest.mark.parametrize("name", sorted(OME_ZARR_018))
def test_positional_order_is_ome_zarr_pys(name):
    parameters = inspect.signature(getattr(g, name)).parameters.values()
    positional = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == OME_ZARR_018[name].split()
    extras = inspect.signature(g.write_image).parameters
    for extra in ("backend", "progress", "version", "overwrite", "resume", "translation"):
        assert extras[extra].kind is inspect.Parameter.KEYWORD_ONLY


def test_positional_call_means_what_it_means_in_ome_zarr_py(tmp_path):
    path = str(tmp_path / "a.zarr")
    g.write_image(IMG, path, [2], "named", Methods.NEAREST, None, FormatV04(), "cyx")
    multiscale = zarr.open_group(path).attrs["multiscales"][0]
    assert (multiscale["name"], multiscale["type"]) == ("named", "nearest")
    labels = (IMG > 100).astype(np.uint8)
    g.write_labels(labels, path, "cells", None, [2], "nearest")
    assert zarr.open_group(path)["labels/cells"].attrs["multiscales"][0]["type"] == "nearest"


@pytest.mark.parametrize(
    ("method", "ours"),
    [(Methods.LOCAL_MEAN, "mean"), (Methods.NEAREST, "nearest"), ("local_mean", "mean")],
)
def test_ome_zarr_methods_map_to_ours(tmp_path, method, ours):
    path = str(tmp_path / "a.zarr")
    g.write_image(IMG, path, [2], method=method, axes="cyx")
    stored = zarr.open_array(f"{path}/s1")[...]
    np.testing.assert_array_equal(stored, reference_downsample(IMG, (1, 2, 2), ours))


@pytest.mark.parametrize("method", [Methods.RESIZE, Methods.ZOOM, "resize"])
def test_interpolating_methods_are_refused_naming_the_alternative(tmp_path, method):
    with pytest.raises(ValueError, match="LOCAL_MEAN.*NEAREST"):
        g.write_image(IMG, str(tmp_path / "a.zarr"), method=method, axes="cyx")
    assert not (tmp_path / "a.zarr").exists()


def test_scaler_sets_method_and_yx_factors(tmp_path):
    path = str(tmp_path / "a.zarr")
    g.write_image(
        IMG, path, scaler=Scaler(method="local_mean", max_layer=2, downscale=2), axes="zyx"
    )
    shapes = [zarr.open_array(f"{path}/s{i}").shape for i in range(3)]
    assert shapes == [(3, 40, 36), (3, 20, 18), (3, 10, 9)]  # z kept, as ome-zarr-py
    assert not (tmp_path / "a.zarr" / "s3").exists()
    np.testing.assert_array_equal(
        zarr.open_array(f"{path}/s2")[...],
        reference_downsample(reference_downsample(IMG, (1, 2, 2), "mean"), (1, 2, 2), "mean"),
    )


def test_ome_zarr_pys_own_scaler_and_methods_are_understood(tmp_path):
    scale = pytest.importorskip("ome_zarr.scale")
    path = str(tmp_path / "a.zarr")
    with pytest.warns(DeprecationWarning):
        scaler = scale.Scaler(method="nearest", max_layer=1)
    g.write_image(IMG, path, scaler=scaler, axes="cyx")
    assert zarr.open_array(f"{path}/s1").shape == (3, 20, 18)
    g.write_image(IMG, path, method=scale.Methods.LOCAL_MEAN, axes="cyx", overwrite=True)
    assert read_blocks(zarr.open_group(path))["multiscales"][0]["type"] == "mean"


def test_scaler_methods_use_our_kernels():
    x = np.random.default_rng(2).integers(0, 255, (2, 33, 20), dtype=np.uint8)
    near = Scaler(max_layer=2).nearest(x)
    assert [lv.shape for lv in near] == [(2, 33, 20), (2, 17, 10), (2, 9, 5)]
    np.testing.assert_array_equal(near[2], x[:, ::4, ::4])
    mean = Scaler(max_layer=1, method="local_mean").func(x)
    np.testing.assert_array_equal(mean[1], reference_downsample(x, (1, 2, 2), "mean"))
    with pytest.raises(ValueError, match="LOCAL_MEAN"):
        Scaler(method="resize_image").func(x)
    levels = _build_pyramid(x, [{"y": 2, "x": 2}, {"y": 4, "x": 4}], dims="cyx")
    np.testing.assert_array_equal(levels[2].compute(), x[:, ::4, ::4])


# --- names the suite imports ----------------------------------------------------------


def test_formats_and_their_helpers():
    import ome_zarr.format as theirs

    assert CurrentFormat is FormatV05 and FormatV04() == g.FormatV04()
    fmt = FormatV04()
    shapes = [(4, 64, 64), (4, 32, 32), (4, 16, 16)]
    assert fmt.generate_coordinate_transformations(
        shapes
    ) == theirs.FormatV04().generate_coordinate_transformations(shapes)
    assert fmt.generate_well_dict("B/2", ["A", "B"], ["1", "2"]) == {
        "path": "B/2",
        "rowIndex": 1,
        "columnIndex": 1,
    }
    fmt.validate_well_dict({"path": "B/2", "rowIndex": 1, "columnIndex": 1}, ["A", "B"], ["1", "2"])
    with pytest.raises(ValueError, match="columnIndex"):
        fmt.validate_well_dict(
            {"path": "B/2", "rowIndex": 1, "columnIndex": 0}, ["A", "B"], ["1", "2"]
        )
    fmt.validate_coordinate_transformations(2, 1, transforms([[1, 1]]))
    with pytest.raises(ValueError, match="one per level"):
        fmt.validate_coordinate_transformations(2, 2, transforms([[1, 1]]))


def test_version_0_3_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="supported versions are 0.4, 0.5"):
        g.write_image(IMG, str(tmp_path / "a.zarr"), fmt=FormatV03(), axes="cyx")
    assert not (tmp_path / "a.zarr").exists()


def test_axes_class():
    axes = Axes("tzyx", {"z": "micrometer"}, FormatV04())
    assert axes.to_list()[1] == {"name": "z", "type": "space", "unit": "micrometer"}
    with pytest.raises(ValueError, match="space axes must come last"):
        Axes(["y", "c", "x"])


def test_get_metadata(tmp_path):
    path = str(tmp_path / "a.zarr")
    g.write_image(IMG, path, axes="cyx")
    assert get_metadata(path)["multiscales"][0]["datasets"][0]["path"] == "s0"


# --- exceptions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda p: g.write_multiscales_metadata(p, None, axes="yx"),
        lambda p: g.write_image(IMG, p, axes="cyx", scale=["1", 1, 1]),
        lambda p: g.write_plate_metadata(p, ["A"], ["1"], ["A/1"], acquisitions=[0, 1]),
        lambda p: g.write_plate_metadata(p, ["A"], ["1"], [1]),
        lambda p: g.write_multiscales_metadata(
            p, [{"path": "0"}], axes="yx", metadata={"omero": {"channels": [{"color": "F0"}]}}
        ),
    ],
    ids=["datasets-None", "scale-str", "acquisitions-ints", "wells-ints", "omero-color"],
)
def test_errors_are_both_value_and_type_errors(tmp_path, call):
    with pytest.raises(ValueError) as caught:
        call(str(tmp_path / "a.zarr"))
    assert isinstance(caught.value, TypeError)


def test_omero_none_and_missing_window_keys_are_key_errors(tmp_path):
    path = str(tmp_path / "a.zarr")
    with pytest.raises(KeyError, match="cannot be `None`"):
        g.write_image(IMG, path, axes="cyx", metadata={"omero": None})
    assert not (tmp_path / "a.zarr").exists()
    with pytest.raises(KeyError, match="window"):
        omero = {"channels": [{"window": {"start": 0, "end": 1, "min": 0}}]}
        g.write_multiscales_metadata(path, [{"path": "0"}], axes="yx", metadata={"omero": omero})


# --- bugs: length-1 axes, labels without the channel axis -----------------------------


def test_length_1_axis_keeps_its_scale(tmp_path):
    path = str(tmp_path / "a.zarr")
    g.write_image(np.ones((1, 2, 1, 64, 64), np.uint8), path, scale=[1, 1, 2.0, 0.5, 0.5])
    for level, d in enumerate(datasets(path)):
        scale, shift = (
            t[k] for t, k in zip(d["coordinateTransformations"], ("scale", "translation"))
        )
        f = 2**level
        assert scale == [1, 1, 2.0, 0.5 * f, 0.5 * f]
        assert shift[:3] == [0, 0, 0]
    assert zarr.open_array(f"{path}/s3").shape == (1, 2, 1, 8, 8)


@pytest.mark.parametrize(("image_axes", "label_axes"), [("czyx", "zyx"), ("tczyx", "tzyx")])
def test_labels_without_channel_axis_take_the_parent_by_name(tmp_path, image_axes, label_axes):
    path = str(tmp_path / "a.zarr")
    shape = dict(zip("tczyx", (2, 3, 16, 64, 64), strict=True))
    scale = dict(zip("tczyx", (4.0, 1, 2.0, 0.5, 0.25), strict=True))
    image = np.ones([shape[a] for a in image_axes], np.uint8)
    g.write_image(image, path, [2, 4], axes=image_axes, scale=[scale[a] for a in image_axes])
    labels = np.ones([shape[a] for a in label_axes], np.uint8)
    g.write_labels(labels, path, "cells", axes=label_axes)
    parent = [d["coordinateTransformations"][0]["scale"] for d in datasets(path)]
    mine = [d["coordinateTransformations"][0]["scale"] for d in datasets(path, "labels/cells")]
    keep = [image_axes.index(a) for a in label_axes]
    assert mine == [[level[i] for i in keep] for level in parent]


# --- the class API --------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_class_api_round_trip_with_our_writer(tmp_path, version):
    path = str(tmp_path / "a.zarr")
    image = OMEZarrImage(IMG, "czyx"[1:], scale={"y": 0.5, "x": 0.5}, name="cells")
    labels = OMEZarrLabels(OMEZarrImage((IMG > 100).astype(np.uint8), "zyx", name="mask"))
    multiscale = OMEZarrMultiscale(image, [2, 4], method=Methods.LOCAL_MEAN, labels=labels)
    multiscale.to_ome_zarr(path, version=version)
    back = OMEZarrMultiscale.from_ome_zarr(path)
    assert [im.data.shape for im in back.images] == [im.data.shape for im in multiscale.images]
    for planned, stored in zip(multiscale.images, back.images, strict=True):  # kernels = writer
        np.testing.assert_array_equal(planned.data.compute(), stored.data.compute())
        assert planned.scale == stored.scale
    assert set(back.labels) == {"mask"} and back.labels["mask"].image_label["colors"]
    assert back.omero["channels"][0]["label"] == "Channel 0"
    back.labels["more"] = OMEZarrLabels(OMEZarrImage(np.zeros((3, 8, 8), np.uint8), "zyx"))
    with pytest.warns(UserWarning, match="'mask' exists"):  # kept, as ome-zarr-py
        back.to_ome_zarr(path, version=version)  # the image is there: only the new label
    assert read_blocks(zarr.open_group(f"{path}/labels"))["labels"] == ["mask", "more"]
    with pytest.raises(ValueError, match="channel_names"):
        OMEZarrMultiscale(OMEZarrImage(IMG, "cyx"), channel_names=["only one"])
