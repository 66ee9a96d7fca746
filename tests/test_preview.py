"""Previews: the PNG decoded and checked for what it must show, on constructed images."""

import subprocess
import sys

import imagecodecs
import numpy as np
import pytest
import zarr

import gpu_omezarr as g
import gpu_omezarr.view.read as view_read
from gpu_omezarr.cli import main
from gpu_omezarr.view import read_text, render, save_preview
from gpu_omezarr.view.font import text_mask
from gpu_omezarr.view.read import open_image, read_picture

VERSIONS = ["0.4", "0.5"]


def options(version):
    return {"shards": None} if version == "0.4" else None


def png(path):
    with open(path, "rb") as f:
        data = f.read()
    return imagecodecs.png_decode(data), read_text(data)


def write(image, path, version="0.5", **kwargs):
    kwargs.setdefault("scale_factors", ())
    kwargs.setdefault("storage_options", options(version))
    g.write_image(image, str(path), version=version, **kwargs)
    return str(path)


def omero(colors, end=3000):
    return {
        "channels": [
            {"color": c, "window": {"min": 0, "max": 65535, "start": 0, "end": end}} for c in colors
        ]
    }


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("size", [96, 192])
def test_a_bright_square_in_channel_1_shows_in_its_colour_at_its_place(tmp_path, version, size):
    image = np.zeros((3, 64, 96), np.uint16)
    image[1, 16:32, 40:56] = 3000
    store = write(
        image,
        tmp_path / "c.zarr",
        version,
        axes="cyx",
        metadata={"omero": omero(["FF0000", "FFFF00", "0000FF"])},
    )
    made = save_preview(store, tmp_path / "c.png", size)
    rgb, text = png(tmp_path / "c.png")
    assert rgb.shape == (64 * size // 96, size, 3) and np.array_equal(rgb, made.rgb)
    k = size // 96
    expected = np.zeros(rgb.shape[:2], bool)
    expected[16 * k : 32 * k, 40 * k : 56 * k] = True
    assert (rgb[expected] == [255, 255, 0]).all()
    assert (rgb[~expected] == 0).all()
    assert text["Level"] == "s0" and text["Windows"] == "0-3000; 0-3000; 0-3000"
    assert "Scale bar" not in text  # no units on the axes


@pytest.mark.parametrize("version", VERSIONS)
def test_default_colours_and_windows_where_omero_gives_none(tmp_path, version):
    """Two channels: green and magenta; windows from percentiles of what was read, also
    where omero's window only spans the dtype (what convert writes)."""
    image = np.zeros((2, 40, 40), np.uint16)
    image[0, :20] = 500
    image[1, 20:] = 800
    store = write(image, tmp_path / "d.zarr", version, axes="cyx")
    rgb = g.preview(store, 40)
    assert (rgb[:20] == [0, 255, 0]).all() and (rgb[20:] == [255, 0, 255]).all()
    spanning = omero(["00FFFF", "FFFF00"], end=65535)
    store = write(image, tmp_path / "e.zarr", version, axes="cyx", metadata={"omero": spanning})
    made = render(store, 40)
    assert made.windows == [(0.0, 500.0), (0.0, 800.0)]
    assert (made.rgb[:20] == [0, 255, 255]).all() and (made.rgb[20:] == [255, 255, 0]).all()


def test_inactive_channels_are_not_shown(tmp_path):
    image = np.full((2, 16, 16), 1000, np.uint16)
    meta = omero(["FF0000", "00FF00"])
    meta["channels"][0]["active"] = False
    store = write(image, tmp_path / "i.zarr", axes="cyx", metadata={"omero": meta})
    assert (g.preview(store, 16) == [0, 85, 0]).all()  # 1000 of a 0-3000 window


def test_max_projection_finds_a_spot_in_one_plane_and_t_picks_the_time_point(tmp_path):
    image = np.zeros((3, 9, 24, 24), np.uint16)
    image[1, 6, 10:14, 4:8] = 1000
    store = write(
        image, tmp_path / "z.zarr", axes="tzyx", storage_options={"chunks": (1, 2, 24, 24)}
    )
    spot = np.zeros((24, 24), bool)
    spot[10:14, 4:8] = True
    projected = render(store, 24, z="max", t=1)
    assert projected.z == "max"
    assert (projected.rgb[spot] == 255).all() and (projected.rgb[~spot] == 0).all()
    assert (g.preview(store, 24, z=6, t=1)[spot] == 255).all()
    assert (g.preview(store, 24, z="mid", t=1) == 0).all()  # plane 4 is empty
    assert (g.preview(store, 24, z="max", t=0) == 0).all()
    with pytest.raises(ValueError, match="z=9: .* 9 z position"):
        render(store, 24, z=9)
    with pytest.raises(ValueError, match="t=3"):
        render(store, 24, t=3)


@pytest.mark.parametrize("seed", range(4))
def test_read_picture_equals_the_obvious_reference(tmp_path, monkeypatch, seed):
    """Mean of the stored pixels under each picture pixel (or the centre one, for labels),
    maximum over z; read in strips and slabs as small as one row and one plane."""
    rng = np.random.default_rng(seed)
    nz, ny, nx = int(rng.integers(2, 9)), int(rng.integers(5, 60)), int(rng.integers(5, 60))
    data = rng.integers(0, 5000, (nz, ny, nx), dtype=np.uint16)
    chunks = tuple(int(rng.integers(1, n + 1)) for n in data.shape)
    store = write(data, tmp_path / "r.zarr", axes="zyx", storage_options={"chunks": chunks})
    image = open_image(zarr.open_group(store, mode="r"))
    out = (int(rng.integers(1, 2 * ny)), int(rng.integers(1, 2 * nx)))
    monkeypatch.setattr(view_read, "BUDGET", int(rng.choice([1, 500, 2**20])))
    projected = data.max(axis=0).astype(np.float64)
    reference = np.empty(out)
    for i in range(out[0]):
        for j in range(out[1]):
            r0, r1 = i * ny // out[0], max((i + 1) * ny // out[0], i * ny // out[0] + 1)
            c0, c1 = j * nx // out[1], max((j + 1) * nx // out[1], j * nx // out[1] + 1)
            reference[i, j] = projected[r0:r1, c0:c1].mean()
    got = read_picture(image.levels[0], image, {}, out)
    np.testing.assert_allclose(got, reference, rtol=1e-5)
    nearest = read_picture(image.levels[0], image, {0: 1}, out, nearest=True)
    rows = [(2 * i + 1) * ny // (2 * out[0]) for i in range(out[0])]
    cols = [(2 * j + 1) * nx // (2 * out[1]) for j in range(out[1])]
    assert np.array_equal(nearest, data[1][np.ix_(rows, cols)])


@pytest.mark.parametrize("version", VERSIONS)
def test_a_label_outline_surrounds_its_object(tmp_path, version):
    image = np.full((64, 64), 100, np.uint16)
    labels = np.zeros((64, 64), np.uint32)
    labels[20:40, 30:50] = 7
    store = write(
        image,
        tmp_path / "l.zarr",
        version,
        axes="yx",
        metadata={"omero": omero(["FFFFFF"], end=200)},
    )
    g.write_labels(
        labels,
        store,
        "cells",
        scale_factors=(),
        storage_options=options(version),
        label_metadata={"colors": [{"label-value": 7, "rgba": [255, 0, 0, 255]}]},
    )
    save_preview(store, tmp_path / "l.png", 64)
    rgb, _ = png(tmp_path / "l.png")
    ring = np.zeros((64, 64), bool)
    ring[20:40, 30:50] = True
    ring[21:39, 31:49] = False
    red = (rgb == [255, 0, 0]).all(axis=-1)
    assert np.array_equal(red, ring)
    assert (rgb[~ring] == 128).all()  # the image under and around it, 100 of a 0-200 window
    assert not (g.preview(store, 64, labels="none") == [255, 0, 0]).all(axis=-1).any()
    assert np.array_equal((g.preview(store, 64, labels="cells") == [255, 0, 0]).all(-1), ring)
    with pytest.raises(ValueError, match="labels='nuclei'.*\\['cells'\\]"):
        render(store, 64, labels="nuclei")


class CountingStore(zarr.storage.WrapperStore):
    """Records the keys read."""

    def __init__(self, store):
        super().__init__(store)
        self.keys = []

    async def get(self, key, prototype, byte_range=None):
        self.keys.append(key)
        return await super().get(key, prototype, byte_range)

    async def get_partial_values(self, prototype, key_ranges):
        key_ranges = list(key_ranges)
        self.keys += [k for k, _ in key_ranges]
        return await super().get_partial_values(prototype, key_ranges)


@pytest.mark.parametrize(
    ("size", "level"), [(20, 3), (32, 3), (33, 2), (64, 2), (65, 1), (100, 1), (128, 1), (300, 0)]
)
def test_the_level_read_is_the_smallest_that_fills_the_picture(tmp_path, size, level):
    data = np.random.default_rng(0).integers(0, 1000, (4, 256, 256), dtype=np.uint16)
    store = write(data, tmp_path / "p.zarr", axes="zyx", scale_factors=(2, 4, 8))
    g.write_labels((data > 500).astype(np.uint8), store, "mask")
    counting = CountingStore(zarr.storage.LocalStore(store, read_only=True))
    made = render(zarr.open_group(counting, mode="r"), size)
    assert made.level == level and made.arrays == [f"s{level}", f"labels/mask/s{level}"]
    metadata = ("zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata")
    chunks = {k.split("/c/")[0] for k in counting.keys if not k.endswith(metadata)}
    assert chunks == {f"s{level}", f"labels/mask/s{level}"}
    assert render(store, size, level=0).arrays[0] == "s0"


def test_scale_bar_in_physical_units(tmp_path):
    image = np.zeros((512, 512), np.uint8)
    store = write(
        image,
        tmp_path / "s.zarr",
        axes="yx",
        scale=[0.5, 0.5],
        axes_units={"y": "micrometer", "x": "micrometer"},
    )
    made = save_preview(store, tmp_path / "s.png", 512)
    rgb, text = png(tmp_path / "s.png")
    assert made.scale_bar == (50.0, "micrometer") and text["Scale bar"] == "50 micrometer"
    white = (rgb == 255).all(axis=-1)
    assert white[-20:].sum(axis=1).max() == 100  # 50 um of 0.5 um pixels, the bar's rows
    ink = white[:-14]  # above the bar: its length, written in the built-in font
    rows, cols = np.nonzero(ink)
    written = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    assert np.array_equal(written, text_mask("50 µm", 2))
    made = render(store, 128)  # 2 um pixels: 50 um is 25 of them
    assert made.scale_bar == (50.0, "micrometer")
    assert (made.rgb == 255).all(axis=-1)[-8:].sum(axis=1).max() == 25


@pytest.mark.parametrize("version", VERSIONS)
def test_a_plate_shows_its_wells_at_their_row_and_column(tmp_path, version):
    wells = {}
    for k, path in enumerate(["A/1", "A/3", "B/2"]):
        field = np.zeros((32, 32), np.uint16)
        field[8:24, 8:24] = (k + 1) * 1000
        wells[path] = [field]
    store = str(tmp_path / "plate.zarr")
    g.write_plate(
        wells,
        store,
        rows=["A", "B"],
        columns=["1", "2", "3"],
        axes="yx",
        scale_factors=(2,),
        version=version,
        storage_options=options(version),
    )
    made = save_preview(store, tmp_path / "plate.png", 200)
    rgb, text = png(tmp_path / "plate.png")
    boxes = made.wells
    assert set(boxes) == {"A/1", "A/3", "B/2"}
    (a1, a3, b2) = (boxes[p] for p in ["A/1", "A/3", "B/2"])
    pitch_y, pitch_x = b2[0] - a1[0], (a3[1] - a1[1]) // 2
    assert pitch_y > 0 and pitch_x > 0 and a1[0] == a3[0] and b2[1] == a1[1] + pitch_x
    greys = []
    for top, left, bottom, right in (a1, a3, b2):
        tile = rgb[top:bottom, left:right, 1]
        h, w = tile.shape
        assert (tile[: h // 5, : w // 5] == 0).all()  # the field's own dark background
        greys.append(int(tile[h // 2, w // 2]))
    assert greys[0] < greys[1] < greys[2] == 255  # windows pooled over the wells
    for row, column in [(0, 1), (1, 0), (1, 2)]:  # wells with nothing: the empty grey
        y, x = a1[0] + row * pitch_y + 2, a1[1] + column * pitch_x + 2
        assert (rgb[y, x] == 24).all()
    assert made.level is None and len(made.arrays) == 3 and text["Level"].startswith("A/1/0/")
    assert made.windows == [(0.0, 3000.0)]


def test_cli_preview_and_convert_preview(tmp_path, capsys):
    demo = tmp_path / "demo.zarr"
    assert main(["demo", str(demo), "--size", "64", "--depth", "8", "--quiet"]) == 0
    args = ["preview", demo, tmp_path / "demo.png", "--z", "max", "--size", "48"]
    done = subprocess.run(  # once as users run it
        [sys.executable, "-m", "gpu_omezarr", *args],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "48 x 48 px from s0, z max, scale bar 5 micrometer" in done.stdout
    rgb, text = png(tmp_path / "demo.png")
    assert rgb.shape == (48, 48, 3) and text["Z"] == "max"
    capsys.readouterr()
    for args, message in [
        (["--z", "top"], "error: z='top': use 'mid', 'max' or a plane number"),
        (["--labels", "cells"], "error: labels='cells': "),
        (["--size", "4"], "error: size=4: "),
    ]:
        assert main(["preview", str(demo), str(tmp_path / "x.png"), *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    assert main(["preview", str(demo / "s0"), str(tmp_path / "x.png")]) == 2
    assert "a Zarr array, not an OME-Zarr image" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    source, out = tmp_path / "in.npy", tmp_path / "out.zarr"
    np.save(source, np.arange(40 * 60, dtype=np.uint16).reshape(40, 60))
    with pytest.raises(SystemExit):  # checked before anything is written
        main(["convert", str(source), str(out), "--preview", str(tmp_path / "no" / "p.png")])
    assert "does not exist" in capsys.readouterr().err and not out.exists()
    assert main(["convert", str(source), str(out), "--preview", str(tmp_path / "o.png")]) == 0
    assert "wrote " + str(tmp_path / "o.png") in capsys.readouterr().out
    rgb, _ = png(tmp_path / "o.png")
    assert rgb.shape == (341, 512, 3) and rgb[0, 0, 0] < rgb[-1, -1, 0]  # a ramp, dark to bright


def test_a_well_shows_its_first_field_and_other_groups_are_refused(tmp_path):
    fields = [np.full((16, 16), v, np.uint16) for v in (0, 1000)]
    fields[0][4:8, 4:8] = 500
    store = str(tmp_path / "plate.zarr")
    g.write_plate({"A/1": fields}, store, axes="yx", scale_factors=())
    assert np.array_equal(g.preview(store + "/A/1", 16), g.preview(store + "/A/1/0", 16))
    assert (g.preview(store + "/A/1", 16)[4:8, 4:8] == 255).all()
    zarr.open_group(str(tmp_path / "plain.zarr"), mode="w")
    with pytest.raises(ValueError, match="not an OME-Zarr image"):
        render(str(tmp_path / "plain.zarr"))
