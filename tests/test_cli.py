"""The command line, driven in subprocesses as users run it."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import zarr

import gpu_omezarr as g
import gpu_omezarr.api.image


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "gpu_omezarr", *map(str, args)], capture_output=True, text=True
    )


def level0(path):
    return zarr.open_group(str(path), mode="r")["s0"][...]


def ome(path):
    return g.api.image.read_blocks(zarr.open_group(str(path), mode="r"))


def assert_valid(path):
    done = run("validate", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ome-zarr-models reads it as Image" in done.stdout


@pytest.fixture
def data():
    return np.random.default_rng(0).integers(0, 4000, (2, 10, 40, 50), dtype=np.uint16)


def test_demo_writes_a_valid_image_with_labels_and_refuses_to_clobber(tmp_path):
    out = tmp_path / "demo.zarr"
    done = run("demo", out, "--size", "64", "--depth", "8")
    assert done.returncode == 0, done.stderr
    auto = g.get_backend("auto").name  # cupy where a GPU (or the stand-in) is usable
    assert "wrote" in done.stdout and f"backend {auto}," in done.stdout
    assert_valid(out)
    again = run("demo", out, "--size", "64", "--depth", "8", "--quiet")
    assert again.returncode == 2 and "overwrite" in again.stderr and "Traceback" not in again.stderr


def test_convert_ome_tiff_keeps_axes_sizes_and_channel_names(tmp_path, data):
    src = tmp_path / "cells.ome.tif"
    tifffile.imwrite(
        src,
        data,
        ome=True,
        metadata={
            "axes": "CZYX",
            "PhysicalSizeX": 0.25,
            "PhysicalSizeY": 0.25,
            "PhysicalSizeZ": 1.5,
            "Channel": {"Name": ["DAPI", "GFP"]},
        },
    )
    out = tmp_path / "cells.zarr"
    done = run("convert", src, out, "--chunks", "1,4,16,16", "--levels", "3", "--quiet")
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(level0(out), data)
    ms = ome(out)["multiscales"][0]
    assert [a["name"] for a in ms["axes"]] == ["c", "z", "y", "x"]
    assert ms["axes"][1]["unit"] == "micrometer"
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 1.5, 0.25, 0.25]
    assert len(ms["datasets"]) == 3
    assert [c["label"] for c in ome(out)["omero"]["channels"]] == ["DAPI", "GFP"]
    assert zarr.open_array(str(out / "s0")).chunks == (1, 4, 16, 16)
    assert_valid(out)


@pytest.mark.parametrize(
    ("name", "write", "axes", "want"),
    [
        ("plane.tif", lambda p, x: tifffile.imwrite(p, x[0, 0]), "yx", lambda x: x[0, 0]),
        ("stack.tif", lambda p, x: tifffile.imwrite(p, x[0]), "zyx", lambda x: x[0]),
        (
            "hyper.tif",  # ImageJ hyperstack, stored z-c-y-x: read back in OME order c-z-y-x
            lambda p, x: tifffile.imwrite(
                p,
                x.transpose(1, 0, 2, 3),
                imagej=True,
                resolution=(4, 4),
                metadata={"axes": "ZCYX", "spacing": 2.0, "unit": "um"},
            ),
            "czyx",
            lambda x: x,
        ),
        (
            "big.tif",
            lambda p, x: tifffile.imwrite(p, x[0], bigtiff=True, tile=(16, 16)),
            "zyx",
            lambda x: x[0],
        ),
        (
            "rgb.tif",
            lambda p, x: tifffile.imwrite(
                p, (x[0, 0, :, :, None] % 256).astype(np.uint8).repeat(3, 2), photometric="rgb"
            ),
            "cyx",
            lambda x: (x[0, 0] % 256).astype(np.uint8)[None].repeat(3, 0),
        ),
    ],
)
def test_convert_tiffs(tmp_path, data, name, write, axes, want):
    src = tmp_path / name
    write(src, data)
    out = tmp_path / "out.zarr"
    done = run("convert", src, out, "--version", "0.4", "--quiet")
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(level0(out), want(data))
    assert "".join(a["name"] for a in ome(out)["multiscales"][0]["axes"]) == axes
    if name == "hyper.tif":
        scale = ome(out)["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]
        assert scale["scale"] == [1.0, 2.0, 0.25, 0.25]
    assert_valid(out)


def test_convert_npy_zarr_and_ome_zarr_with_labels(tmp_path, data):
    npy = tmp_path / "img.npy"
    np.save(npy, data[0])
    labels = tmp_path / "nuclei.npy"
    np.save(labels, (data[0] // 1000).astype(np.uint8))
    out = tmp_path / "a.zarr"
    done = run(
        "convert",
        npy,
        out,
        "--labels",
        labels,
        "--scale",
        "2,0.5,0.5",
        "--units",
        "micrometer",
        "--codec",
        "gzip:4",
        "--scale-factors",
        "2,4",
        "--shards",
        "none",
    )
    assert done.returncode == 0, done.stderr
    assert "labels 'nuclei'" in done.stdout
    np.testing.assert_array_equal(level0(out), data[0])
    root = zarr.open_group(str(out), mode="r")
    assert type(root["s0"].compressors[0]).__name__ == "GzipCodec"
    assert ome(out / "labels")["labels"] == ["nuclei"]
    assert len(ome(out / "labels" / "nuclei")["multiscales"][0]["datasets"]) == 3
    assert_valid(out)
    # a Zarr array, and an OME-Zarr image re-pyramided to another version
    arr = zarr.create_array(str(tmp_path / "raw.zarr"), data=data[0], chunks=(5, 20, 20))
    assert arr.shape == data[0].shape
    for src, extra in ((tmp_path / "raw.zarr", ()), (out, ("--version", "0.4"))):
        dest = tmp_path / f"from-{src.name}"
        done = run("convert", src, dest, "--quiet", *extra)
        assert done.returncode == 0, done.stderr
        np.testing.assert_array_equal(level0(dest), data[0])
    again = ome(tmp_path / "from-a.zarr")["multiscales"][0]
    assert again["datasets"][0]["coordinateTransformations"][0]["scale"] == [2.0, 0.5, 0.5]


def test_info_shows_levels_and_labels_and_json(tmp_path):
    out = tmp_path / "demo.zarr"
    assert run("demo", out, "--size", "64", "--depth", "8", "--quiet").returncode == 0
    text = run("info", out)
    assert text.returncode == 0
    assert "image 'blobs' (OME-NGFF 0.5, Zarr v3)" in text.stdout
    assert "z (micrometer)" in text.stdout and "zstd(level=1" in text.stdout
    assert "label 'blobs'" in text.stdout
    tree = json.loads(run("info", out, "--json").stdout)
    assert tree["kind"] == "image" and tree["levels"][0]["shape"] == [8, 64, 64]
    assert tree["labels"][0]["name"] == "blobs"
    assert len(tree["labels"][0]["levels"]) == len(tree["levels"])
    assert all(lv["bytes_stored"] > 0 for lv in tree["levels"])


def test_validate_finds_what_schemas_cannot(tmp_path):
    out = tmp_path / "demo.zarr"
    assert run("demo", out, "--size", "64", "--depth", "8", "--quiet").returncode == 0
    assert_valid(out)
    # a label image with fewer levels than its image
    import shutil

    shutil.rmtree(out / "labels" / "blobs" / "s4", ignore_errors=True)
    attrs_path = out / "labels" / "blobs" / "zarr.json"
    meta = json.loads(attrs_path.read_text())
    meta["attributes"]["ome"]["multiscales"][0]["datasets"].pop()
    attrs_path.write_text(json.dumps(meta))
    # dimension names that disagree with the axes
    s1 = out / "s1" / "zarr.json"
    array_meta = json.loads(s1.read_text())
    array_meta["dimension_names"] = ["x", "y", "z"]
    s1.write_text(json.dumps(array_meta))
    # a level that is missing
    shutil.rmtree(out / "s2")
    done = run("validate", out)
    assert done.returncode == 1, done.stdout
    assert "labels/blobs: 4 levels, the image has 5" in done.stdout
    assert "s1: dimension_names ['x', 'y', 'z'] differ" in done.stdout
    assert "s2: dataset listed in multiscales is missing" in done.stdout
    problems = [line for line in done.stdout.splitlines() if line.startswith("PROBLEM")]
    for line in problems:  # each names the group or array it is about, first
        where = line.removeprefix("PROBLEM  ").split(": ", 1)[0]
        assert where and " " not in where and ("/" in where or where.startswith("s")), line
    report = json.loads(run("validate", out, "--json").stdout)
    assert not report["ok"] and len(report["problems"]) >= 3


def test_validate_reports_a_broken_schema_and_levels_out_of_order(tmp_path):
    path = tmp_path / "img.zarr"
    g.write_image(np.zeros((32, 32), np.uint8), str(path), scale_factors=(2,))
    meta = json.loads((path / "zarr.json").read_text())
    datasets = meta["attributes"]["ome"]["multiscales"][0]["datasets"]
    datasets.reverse()  # coarse before fine
    (path / "zarr.json").write_text(json.dumps(meta))
    done = run("validate", path)
    assert done.returncode == 1
    assert "fine to coarse" in done.stdout
    nothing = tmp_path / "plain"
    zarr.open_group(str(nothing), mode="w")
    done = run("validate", nothing)
    assert done.returncode == 1 and "no OME-NGFF metadata" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("convert", "{tmp}/missing.tif", "{tmp}/o.zarr"), "no such file"),
        (("convert", "{tmp}/junk.tif", "{tmp}/o.zarr"), "not a readable TIFF"),
        (("convert", "{tmp}/junk.txt", "{tmp}/o.zarr"), "not a TIFF, .npy"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--codec", "lz9"), "--codec='lz9'"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--chunks", "0,8,8"), "chunks"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--axes", "zyq"), "axes"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--axes", "yx"), "the input has 3 axes"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--scale", "1,0,1"), "scale"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--levels", "0"), "--levels=0"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--shards", "3,8,8"), "shards"),
        (("convert", "{tmp}/img.npy", "{tmp}/img.npy"), "must differ from the input"),
        (("convert", "{tmp}/img.npy", "{tmp}/exists.zarr"), "pass --overwrite"),
        (("convert", "{tmp}/float.npy", "{tmp}/o.zarr", "--method", "mode"), "mode"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--labels", "{tmp}/float.npy"), "labels"),
        (("convert", "{tmp}/img.npy", "{tmp}/o.zarr", "--labels", "{tmp}/small.npy"), "match"),
        (("info", "{tmp}/nowhere.zarr"), "no such file"),
        (("validate", "{tmp}/nowhere.zarr"), "no such file"),
        (("demo", "{tmp}/d.zarr", "--size", "0"), "--size=0"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_write_nothing(tmp_path, args, message):
    np.save(tmp_path / "img.npy", np.zeros((4, 16, 16), np.uint16))
    np.save(tmp_path / "float.npy", np.zeros((4, 16, 16), np.float32))
    np.save(tmp_path / "small.npy", np.zeros((4, 8, 8), np.uint8))
    (tmp_path / "junk.tif").write_bytes(b"not a tiff at all")
    (tmp_path / "junk.txt").write_text("hello")
    g.write_image(np.zeros((16, 16), np.uint8), str(tmp_path / "exists.zarr"))
    done = run(*(a.format(tmp=tmp_path) for a in args))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o.zarr").exists() and not (tmp_path / "d.zarr").exists()


def test_bad_option_syntax_is_an_argparse_error(tmp_path):
    done = run("convert", "a.tif", "b.zarr", "--chunks", "x,y")
    assert done.returncode == 2 and "expected integers" in done.stderr


def test_convert_resume_finishes_an_interrupted_output(tmp_path, data):
    src = tmp_path / "img.npy"
    np.save(src, data[0])
    out = tmp_path / "out.zarr"
    assert run("convert", src, out, "--quiet", "--chunks", "5,16,16").returncode == 0
    files = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    meta = json.loads((out / "zarr.json").read_text())
    meta["attributes"] = {}  # as a write killed before its metadata leaves it
    (out / "zarr.json").write_text(json.dumps(meta))
    victim = next(
        p for p in sorted((out / "s0").rglob("*")) if p.is_file() and p.name != "zarr.json"
    )
    victim.unlink()
    done = run("convert", src, out, "--quiet", "--chunks", "5,16,16", "--resume")
    assert done.returncode == 0, done.stderr
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == files


def test_convert_a_folder_of_tiffs_named_by_well_and_field_to_a_plate(tmp_path):
    folder = tmp_path / "screen"
    folder.mkdir()
    expected = {}
    for row in "AB":
        for column in (1, 2, 10):
            for field in (0, 1):
                x = np.full((20, 30), ord(row) * 100 + column * 2 + field, np.uint16)
                tifffile.imwrite(folder / f"{row}{column:02d}_f{field}.tif", x)
                expected[f"{row}/{column}/{field}"] = x
    out = tmp_path / "plate.zarr"
    done = run("convert", folder, out, "--levels", "2")
    assert done.returncode == 0, done.stderr
    assert "plate of 6 wells, 12 fields" in done.stdout
    plate = ome(out)["plate"]
    assert [c["name"] for c in plate["columns"]] == ["1", "2", "10"]
    assert [w["path"] for w in plate["wells"]][:3] == ["A/1", "A/2", "A/10"]
    root = zarr.open_group(str(out), mode="r")
    for path, x in expected.items():
        np.testing.assert_array_equal(root[f"{path}/s0"][...], x)
    done = run("validate", out)
    assert done.returncode == 0 and "reads it as HCS" in done.stdout, done.stdout
    (folder / "notes.tif").write_bytes(b"")
    done = run("convert", folder, tmp_path / "again.zarr")
    assert done.returncode == 2 and "does not match" in done.stderr
    assert not (tmp_path / "again.zarr").exists()
