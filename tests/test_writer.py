import dask.array as da
import numpy as np
import pytest
import zarr
from conftest import backends, make_backend
from reference import reference_downsample

import gpu_omezarr as g
import gpu_omezarr.stream

CASES = [
    ("yx", (67, 45), {"chunks": (16, 16), "shards": (32, 32)}, "mean", "uint16"),
    ("zyx", (19, 40, 33), {"chunks": (4, 16, 16)}, "mean", "float32"),
    (
        "czyx",
        (2, 9, 30, 31),
        {"chunks": (1, 4, 8, 8), "shards": (1, 8, 16, 16)},
        "nearest",
        "int16",
    ),
    ("tczyx", (2, 3, 5, 21, 18), {"chunks": (1, 1, 2, 8, 8)}, "mean", "uint8"),
    ("tyx", (3, 50, 70), None, "mode", "uint32"),
]


def expected_levels(x, factors_list, method):
    levels = [x]
    for f in factors_list:
        levels.append(reference_downsample(levels[-1], f, method))
    return levels


@pytest.mark.parametrize("tile_bytes", [None, 1], ids=["one-tile", "smallest-tiles"])
@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize(("axes", "shape", "options", "method", "dtype"), CASES)
def test_every_level_equals_the_reference(
    tmp_path, monkeypatch, tile_bytes, version, axes, shape, options, method, dtype
):
    if tile_bytes is not None:  # many tiles: coarse units assembled across tiles, edge tiles
        monkeypatch.setattr(g.stream, "TILE_BYTES", tile_bytes)
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 200, shape) if method == "mode" else rng.integers(0, 250, shape)).astype(
        dtype
    )
    if version == "0.4" and options and "shards" in options:
        options = {k: v for k, v in options.items() if k != "shards"}
    path = str(tmp_path / "img.zarr")
    g.write_image(
        x,
        path,
        scale_factors=(2, 4),
        method=method,
        axes=axes,
        version=version,
        storage_options=options,
        scale={"x": 0.5, "y": 0.5},
    )
    root = zarr.open_group(path, mode="r")
    assert root.metadata.zarr_format == (2 if version == "0.4" else 3)
    ms = g.api.image.read_blocks(root)["multiscales"][0]
    factors_list = []
    prev = [1.0] * len(shape)
    for d in ms["datasets"][1:]:
        s = d["coordinateTransformations"][0]["scale"]
        s0 = ms["datasets"][0]["coordinateTransformations"][0]["scale"]
        cum = [round(a / b) for a, b in zip(s, s0)]
        factors_list.append(tuple(int(c // p) for c, p in zip(cum, prev)))
        prev = cum
    want = expected_levels(x, factors_list, method)
    for d, w in zip(ms["datasets"], want):
        got = root[d["path"]][...]
        if x.dtype.kind == "f" and d["path"] != "s0":
            np.testing.assert_allclose(got, w, rtol=1e-6)
        else:
            np.testing.assert_array_equal(got, w)  # level 0 byte for byte
        if options and "chunks" in options:
            assert root[d["path"]].chunks == tuple(
                min(c, n) for c, n in zip(options["chunks"], got.shape)
            )
    if method == "mode":
        assert set(np.unique(root["s2"][...])) <= set(np.unique(x))


@pytest.mark.parametrize(
    ("shape", "factors", "options"),
    [
        ((23, 61, 47), [{"z": 2, "y": 2, "x": 2}, {"z": 2, "y": 6, "x": 6}], {"chunks": (3, 8, 8)}),
        ((9, 40, 50), [{"y": 3, "x": 3}, {"z": 3, "y": 9, "x": 9}], {"chunks": (1, 16, 16)}),
        ((30, 33, 17), [{"z": 2}, {"z": 4, "y": 2}], {"chunks": (4, 4, 4), "shards": (8, 8, 8)}),
    ],
)
def test_per_axis_factors_over_many_tiles(tmp_path, monkeypatch, shape, factors, options):
    monkeypatch.setattr(g.stream, "TILE_BYTES", 1)
    x = np.random.default_rng(3).integers(0, 60000, shape).astype(np.uint16)
    path = str(tmp_path / "img.zarr")
    g.write_image(x, path, axes="zyx", scale_factors=factors, storage_options=options)
    root = zarr.open_group(path, mode="r")
    prev = {"z": 1, "y": 1, "x": 1}
    want = x
    for i, cumulative in enumerate(factors, start=1):
        relative = tuple(cumulative.get(a, 1) // prev[a] for a in "zyx")
        prev = {a: cumulative.get(a, 1) for a in "zyx"}
        want = reference_downsample(want, relative, "mean")
        np.testing.assert_array_equal(root[f"s{i}"][...], want)
    np.testing.assert_array_equal(root["s0"][...], x)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_output_is_read_by_independent_readers(tmp_path, version):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 4000, (2, 12, 64, 70), dtype=np.uint16)
    labels = (rng.integers(0, 5, (12, 64, 70))).astype(np.uint32)
    path = str(tmp_path / "img.zarr")
    g.write_image(
        image,
        path,
        axes="czyx",
        version=version,
        scale_factors=(2, 4),
        axes_units={"x": "micrometer", "y": "micrometer"},
        metadata={
            "omero": {
                "channels": [
                    {"color": c, "window": {"min": 0, "max": 4000, "start": 0, "end": 3000}}
                    for c in ("FF0000", "00FF00")
                ]
            }
        },
    )
    g.write_labels(
        labels[None],
        path,
        "cells",
        axes="czyx",
        label_metadata={"colors": [{"label-value": 1, "rgba": [1, 2, 3, 255]}]},
    )
    g.write_labels(labels[None], path, "cells", axes="czyx", overwrite=True)  # listed once
    root = zarr.open_group(path, mode="r")
    labels_attrs = g.api.image.read_blocks(root["labels"])
    assert labels_attrs["labels"] == ["cells"]
    assert len(g.api.image.read_blocks(root["labels/cells"])["multiscales"][0]["datasets"]) == 3

    import ome_zarr_models

    group = ome_zarr_models.open_ome_zarr(root)
    assert type(group).__name__ == "Image"
    if version == "0.4":
        from ome_zarr_models.v04 import ImageLabel
    else:
        from ome_zarr_models.v05 import ImageLabel
    ImageLabel.from_zarr(root["labels/cells"])

    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    nodes = list(Reader(parse_url(path))())
    data = nodes[0].data
    assert len(data) == 3
    np.testing.assert_array_equal(np.asarray(data[0]), image)


def test_strict_schema_accepts_written_images(tmp_path):
    from test_metadata import spec_validator

    path = tmp_path / "img.zarr"
    g.write_image(np.ones((20, 20), np.uint8), str(path))
    attrs = zarr.open_group(str(path), mode="r").attrs.asdict()
    spec_validator("0.5", "strict_image").validate(attrs)


class ArrayLike:
    """Only ``shape``, ``dtype`` and slicing, as an h5py dataset offers; remembers the reads."""

    def __init__(self, x):
        self.x, self.shape, self.dtype, self.reads = x, x.shape, x.dtype, []

    def __getitem__(self, region):
        self.reads.append(region)
        return self.x[region].copy()


def source_of_kind(kind, x, tmp_path):
    """``x`` as the kinds of source users hand in."""
    if kind == "dask":
        return da.from_array(x, chunks=(7, 30, 20))
    if kind == "zarr":
        return zarr.create_array(str(tmp_path / "src.zarr"), data=x, chunks=(5, 32, 32))
    if kind == "memmap":
        mm = np.lib.format.open_memmap(str(tmp_path / "src.npy"), "w+", x.dtype, x.shape)
        mm[...] = x
        mm.flush()
        return np.load(str(tmp_path / "src.npy"), mmap_mode="r")
    if kind == "tiff":  # tifffile's Zarr view of a tiled, compressed TIFF
        tifffile = pytest.importorskip("tifffile")
        tifffile.imwrite(tmp_path / "src.tif", x, tile=(16, 16), compression="zlib")
        return zarr.open(tifffile.imread(tmp_path / "src.tif", aszarr=True), mode="r")
    if kind == "array-like":
        return ArrayLike(x)
    return x


@pytest.mark.parametrize("backend_name", backends())
@pytest.mark.parametrize("kind", ["numpy", "dask", "zarr", "memmap", "tiff", "array-like"])
def test_sources_and_backends(tmp_path, monkeypatch, kind, backend_name):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 9, (33, 70, 50), dtype=np.int32)
    src = source_of_kind(kind, x, tmp_path)
    kwargs = dict(
        axes="zyx",
        method="mode",
        scale_factors="auto",
        storage_options={"chunks": (8, 16, 16)},
        backend=make_backend(backend_name),
    )
    g.write_image(x, str(tmp_path / "from_numpy.zarr"), **kwargs)  # one tile
    monkeypatch.setattr(gpu_omezarr.stream, "TILE_BYTES", 1)  # many tiles: a streamed read
    path = str(tmp_path / "out.zarr")
    g.write_image(src, path, **kwargs)
    root, want = (zarr.open_group(p, mode="r") for p in (path, str(tmp_path / "from_numpy.zarr")))
    np.testing.assert_array_equal(root["s0"][...], x)
    n = len(list(root.array_keys()))
    assert n == len(list(want.array_keys())) > 2
    for i in range(n):  # every level as from the in-memory image
        np.testing.assert_array_equal(root[f"s{i}"][...], want[f"s{i}"][...])
    assert root[f"s{n - 1}"].shape[1] <= 16 and root[f"s{n - 1}"].shape[2] <= 16
    if kind == "array-like":  # read in pieces, never whole
        assert len(src.reads) > 1
        assert all(np.prod([s.stop - s.start for s in r]) < x.size for r in src.reads)


def test_codecs_and_translation_options(tmp_path):
    x = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    path = str(tmp_path / "gz.zarr")
    g.write_image(
        x,
        path,
        scale_factors=(2,),
        write_translation=False,
        storage_options={"compressors": zarr.codecs.GzipCodec(level=1), "chunks": (32, 32)},
    )
    arr = zarr.open_array(path + "/s0", mode="r")
    assert type(arr.compressors[0]).__name__ == "GzipCodec"
    np.testing.assert_array_equal(arr[...], x)
    ct = g.api.image.read_blocks(zarr.open_group(path))["multiscales"][0]["datasets"][1]
    assert ct["coordinateTransformations"] == [{"type": "scale", "scale": [2.0, 2.0]}]
    # An unknown codec goes through zarr itself and still round-trips.
    path2 = str(tmp_path / "blosc.zarr")
    g.write_image(
        x, path2, scale_factors=(2,), storage_options={"compressors": zarr.codecs.BloscCodec()}
    )
    np.testing.assert_array_equal(
        zarr.open_array(path2 + "/s1", mode="r")[...], reference_downsample(x, (2, 2), "mean")
    )


def test_block_methods_keep_pixel_centres(tmp_path):
    path = str(tmp_path / "t.zarr")
    g.write_image(
        np.ones((8, 8), np.uint8),
        path,
        scale_factors=(2, 4),
        scale=[0.5, 0.25],
        translation=[10, 20],
    )
    ds = g.api.image.read_blocks(zarr.open_group(path))["multiscales"][0]["datasets"]
    assert ds[2]["coordinateTransformations"] == [
        {"type": "scale", "scale": [2.0, 1.0]},
        {"type": "translation", "translation": [10.75, 20.375]},
    ]


def test_compute_false_writes_only_when_computed(tmp_path):
    path = tmp_path / "lazy.zarr"
    [task] = g.write_image(np.ones((16, 16), np.uint8), str(path), compute=False)
    assert not path.exists()
    task.compute()
    assert "multiscales" in g.api.image.read_blocks(zarr.open_group(str(path)))


def test_write_multiscale_given_levels(tmp_path):
    x = np.arange(30 * 20, dtype=np.uint16).reshape(30, 20)
    pyramid = [x, x[::2, ::2], x[::4, ::4]]
    path = str(tmp_path / "ms.zarr")
    g.write_multiscale(pyramid, path)
    root = zarr.open_group(path, mode="r")
    for i, level in enumerate(pyramid):
        np.testing.assert_array_equal(root[f"s{i}"][...], level)
    scales = [
        d["coordinateTransformations"][0]["scale"]
        for d in g.api.image.read_blocks(root)["multiscales"][0]["datasets"]
    ]
    assert scales == [[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_write_multiscale_labels_given_levels(tmp_path, version):
    rng = np.random.default_rng(11)
    image = rng.integers(0, 900, (9, 40, 30), dtype=np.uint16)
    path = str(tmp_path / "img.zarr")
    g.write_image(
        image, path, axes="zyx", scale=(2.0, 0.5, 0.5), scale_factors=(2, 4), version=version
    )
    labels = rng.integers(0, 4, image.shape).astype(np.uint8)
    pyramid = [labels, labels[:, ::2, ::2], labels[:, ::4, ::4]]
    colors = [{"label-value": 1, "rgba": [255, 0, 0, 255]}]
    g.write_multiscale_labels(pyramid, path, "cells", label_metadata={"colors": colors})
    root = zarr.open_group(path, mode="r")
    for i, level in enumerate(pyramid):  # as given: nothing downsampled again
        np.testing.assert_array_equal(root[f"labels/cells/s{i}"][...], level)
    blocks = g.api.image.read_blocks
    assert blocks(root["labels"])["labels"] == ["cells"]
    assert blocks(root["labels/cells"])["image-label"]["colors"] == colors
    image_ms, label_ms = (blocks(g)["multiscales"][0] for g in (root, root["labels/cells"]))
    assert label_ms["axes"] == image_ms["axes"]

    def scales(ms):
        return [d["coordinateTransformations"][0]["scale"] for d in ms["datasets"]]

    assert scales(label_ms) == scales(image_ms)  # the parent's physical scale: it overlays
    assert all(len(d["coordinateTransformations"]) == 1 for d in label_ms["datasets"])

    import ome_zarr_models

    if version == "0.4":
        from ome_zarr_models.v04 import ImageLabel
    else:
        from ome_zarr_models.v05 import ImageLabel
    ImageLabel.from_zarr(root["labels/cells"])
    assert type(ome_zarr_models.open_ome_zarr(root)).__name__ == "Image"


def test_write_multiscale_labels_refuses_bad_levels_before_writing(tmp_path):
    path = str(tmp_path / "img.zarr")
    g.write_image(np.zeros((16, 16), np.uint16), path, scale_factors=(2,))
    labels = np.zeros((16, 16), np.uint32)
    with pytest.raises(ValueError, match=r"pyramid\[1\]\.dtype"):
        g.write_multiscale_labels([labels, labels[::2, ::2].astype(np.float32)], path, "cells")
    with pytest.raises(ValueError, match=r"pyramid\[1\]"):
        g.write_multiscale_labels([labels, labels[::2, ::2].astype(np.uint8)], path, "cells")
    with pytest.raises(ValueError, match=r"pyramid\[1\]\.shape"):
        g.write_multiscale_labels([labels[::2, ::2], labels], path, "cells")
    assert not (tmp_path / "img.zarr" / "labels").exists()  # nothing was written
    g.write_multiscale_labels([labels, labels[::2, ::2]], path, "cells")
    with pytest.raises(ValueError, match="overwrite=True"):  # kept unless overwrite=True
        g.write_multiscale_labels([labels + 1, labels[::2, ::2]], path, "cells")
    assert not zarr.open_group(path, mode="r")["labels/cells/s0"][...].any()
    g.write_multiscale_labels([labels + 1, labels[::2, ::2]], path, "cells", overwrite=True)
    assert (zarr.open_group(path, mode="r")["labels/cells/s0"][...] == 1).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"axes": "zyx"}, ValueError, "has 3 entries, data is 2-D"),
        ({"scale_factors": (2, 3)}, ValueError, "not a multiple"),
        ({"scale_factors": (2, 2)}, ValueError, "at least one axis further"),
        ({"scale_factors": [{"q": 2}]}, ValueError, "not in"),
        ({"scale": [1, 0]}, ValueError, "scale="),
        ({"scale": [1, float("nan")]}, ValueError, "scale="),
        ({"storage_options": {"chunks": (0, 4)}}, ValueError, "chunks"),
        (
            {"storage_options": {"chunks": (4, 4), "shards": (6, 6)}},
            ValueError,
            "multiples of chunks",
        ),
        (
            {"storage_options": {"shards": (8, 8)}, "version": "0.4"},
            ValueError,
            "sharding needs Zarr v3",
        ),
        ({"method": "mode"}, TypeError, "mode is for integer"),
        ({"method": "median"}, ValueError, "method='median'"),
        ({"backend": "gpu"}, ValueError, "backend='gpu'"),
        ({"version": "0.3"}, ValueError, "version='0.3'"),
        ({"metadata": {"omero": {"channels": [{"color": "nope"}]}}}, ValueError, "color"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(tmp_path, kwargs, error, message):
    path = tmp_path / "bad.zarr"
    with pytest.raises(error, match=message):
        g.write_image(np.ones((16, 16), np.float32), str(path), **kwargs)
    assert not path.exists()


def test_bad_sources_and_existing_images(tmp_path):
    with pytest.raises(ValueError, match="2 to 5 axes"):
        g.write_image(np.ones(5), str(tmp_path / "a.zarr"))
    with pytest.raises(ValueError, match="empty"):
        g.write_image(np.ones((0, 5)), str(tmp_path / "a.zarr"))
    with pytest.raises(ValueError, match="labels.dtype"):
        g.write_labels(np.ones((4, 4), np.float32), str(tmp_path / "a.zarr"), "x")
    path = str(tmp_path / "b.zarr")
    g.write_image(np.ones((8, 8), np.uint8), path)
    with pytest.raises(ValueError, match="overwrite=True"):
        g.write_image(np.ones((8, 8), np.uint8), path)
    with pytest.raises(ValueError, match="version='0.4': Group is zarr_format: 3"):
        g.write_image(np.ones((8, 8), np.uint8), path, version="0.4", overwrite=True)
    g.write_image(np.zeros((8, 8), np.uint8), path, overwrite=True)
    assert zarr.open_array(path + "/s0")[...].max() == 0


def test_progress_reports_every_unit(tmp_path):
    events = []
    g.write_image(
        np.ones((64, 64), np.uint8),
        str(tmp_path / "p.zarr"),
        scale_factors=(2,),
        storage_options={"chunks": (16, 16), "shards": None},
        progress=events.append,
    )
    last = {e.level: e for e in events}
    assert last[0].units_done == last[0].units_total == 16
    assert last[1].units_done == last[1].units_total == 4
    assert last[0].bytes_done == 64 * 64
