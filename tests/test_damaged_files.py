"""Real-world TIFFs and damaged copies of them, built here: every failure is one line naming
the file, with its exit code, and what is left on disk is said (docs/bad-input.md)."""

import json
import logging
import os
import warnings

import numpy as np
import pytest
import tifffile
import zarr

import gpu_omezarr as g
from gpu_omezarr.cli import main
from gpu_omezarr.groups import read_blocks

RNG = np.random.default_rng(3)
STACK = RNG.integers(0, 4000, (60, 24, 32), dtype=np.uint16)


def convert(capsys, *args):
    """``gpu-omezarr convert ARGS --quiet``: exit code and stderr's lines."""
    code = main(["convert", *map(str, args), "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip().splitlines()


def one_line(lines, *words):
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def damaged(path, at, count, mask=0x5A):
    data = bytearray(path.read_bytes())
    for i in range(at, at + count):
        data[i] ^= mask
    path.write_bytes(bytes(data))


def level0(path):
    return zarr.open_group(str(path), mode="r")["s0"][...]


def cut_in_half(whole, name):
    """A copy of ``whole`` with its second half lost (a truncated download or copy)."""
    cut = whole.with_name(name)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return cut


def test_a_truncated_tiff_is_refused_naming_declared_and_readable_planes(tmp_path, capsys):
    cut, out = _truncated(tmp_path)
    code, lines = convert(capsys, cut, out)
    assert code == 2
    one_line(lines, str(cut), "truncated", "declares 60 planes, 1 readable")
    assert not (tmp_path / "o.zarr").exists()


def test_a_truncated_ome_tiff_and_its_lost_metadata_are_refused(tmp_path, capsys):
    whole = tmp_path / "cells.ome.tif"
    tifffile.imwrite(whole, STACK.reshape(2, 30, 24, 32), ome=True, metadata={"axes": "CZYX"})
    cut = cut_in_half(whole, "cut.ome.tif")
    code, lines = convert(capsys, cut, tmp_path / "o.zarr")
    assert code == 2
    one_line(lines, str(cut), "damaged or truncated TIFF", "tifffile:")
    assert not (tmp_path / "o.zarr").exists()


def test_a_page_whose_data_lies_past_the_end_is_refused(tmp_path, capsys):
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tif:  # IFDs first, then the data: cut data, whole IFDs
        for plane in STACK[:4]:
            tif.write(plane, contiguous=False, metadata=None)
    with tifffile.TiffFile(path) as tif:
        last = tif.pages[3]
        end = last.dataoffsets[0] + last.databytecounts[0]
    if end != path.stat().st_size:
        pytest.skip("tifffile wrote the last plane's data before its IFD")
    path.write_bytes(path.read_bytes()[: end - 100])
    code, lines = convert(capsys, path, tmp_path / "o.zarr")
    assert code == 2
    one_line(lines, str(path), "truncated TIFF", "3 of 4 planes readable")


def test_a_damaged_header_is_refused(tmp_path, capsys):
    path, out = _bad_header(tmp_path)  # the offset of the first IFD damaged
    code, lines = convert(capsys, path, out)
    assert code == 2
    one_line(lines, str(path), "damaged TIFF")
    assert not (tmp_path / "o.zarr").exists()


def test_not_a_tiff_at_all_is_refused(tmp_path, capsys):
    path = tmp_path / "junk.tif"
    path.write_bytes(b"II*\x00" + bytes(12))
    code, lines = convert(capsys, path, tmp_path / "o.zarr")
    assert code == 2
    one_line(lines, str(path))


def test_broken_ome_xml_is_refused_not_folded_into_z(tmp_path, capsys):
    path, out = _broken_ome_xml(tmp_path)  # <Pixls ...></Pixels>: mismatched tags
    code, lines = convert(capsys, path, out)
    assert code == 2
    one_line(lines, str(path), "OME", "ParseError")
    assert not (tmp_path / "o.zarr").exists()


def test_damaged_compressed_data_fails_midway_exit_3_and_removes_the_new_store(tmp_path, capsys):
    path, out, *chunks = _bad_strip(tmp_path)  # one tile of plane 5 damaged
    code, lines = convert(capsys, path, out, *chunks)
    assert code == 3
    line = one_line(lines, str(path), "reading failed midway", f"removed {out}")
    assert "LIBDEFLATE_BAD_DATA" in line or "Error" in line
    assert not out.exists()
    tifffile.imwrite(path, STACK[:8], compression="zlib", tile=(16, 16))  # a good copy
    code, lines = convert(capsys, path, out)  # the retry is not refused
    assert code == 0 and lines == []
    np.testing.assert_array_equal(level0(out), STACK[:8])


@pytest.mark.parametrize("compression", ["lzw", "jpeg", "zstd", "deflate"])
def test_compressed_tiffs_as_libvips_and_imagemagick_write_them(tmp_path, capsys, compression):
    """imagecodecs is a dependency: these just work, pixel-exact to tifffile's decode."""
    image = (STACK[:4] // 16).astype(np.uint8) if compression == "jpeg" else STACK[:4]
    path = tmp_path / f"{compression}.tif"
    tifffile.imwrite(path, image, compression=compression, photometric="minisblack")
    code, lines = convert(capsys, path, tmp_path / "o.zarr")
    assert code == 0 and lines == []
    np.testing.assert_array_equal(level0(tmp_path / "o.zarr"), tifffile.imread(path))


def write_two_series(path):
    first = STACK[:3]
    second = STACK[10:14, :16, :20].reshape(2, 2, 16, 20)
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(first, metadata={"axes": "ZYX", "Name": "overview", "PhysicalSizeX": 0.5})
        tif.write(second, metadata={"axes": "CZYX", "Channel": {"Name": ["DAPI", "GFP"]}})
    return first, second


def test_every_series_of_a_multi_series_file_is_written_in_the_bioformats2raw_layout(
    tmp_path, capsys
):
    path = tmp_path / "scenes.ome.tif"
    first, second = write_two_series(path)
    out = tmp_path / "scenes.zarr"
    code, lines = convert(capsys, path, out)
    assert code == 0 and lines == []
    root = zarr.open_group(str(out), mode="r")
    assert root.attrs["ome"]["bioformats2raw.layout"] == 3
    assert root["OME"].attrs["ome"]["series"] == ["0", "1"]
    assert (out / "OME" / "METADATA.ome.xml").read_text().startswith("<?xml")
    np.testing.assert_array_equal(root["0/s0"][...], first)
    np.testing.assert_array_equal(root["1/s0"][...], second)
    assert read_blocks(root["0"])["multiscales"][0]["axes"][-1]["name"] == "x"
    assert [c["label"] for c in read_blocks(root["1"])["omero"]["channels"]] == ["DAPI", "GFP"]
    assert main(["validate", str(out)]) == 0
    assert "BioFormats2Raw" in capsys.readouterr().out
    assert main(["info", str(out)]) == 0
    assert "2 series (bioformats2raw layout)" in capsys.readouterr().out


def test_series_chooses_one_and_nothing_is_dropped_silently(tmp_path, capsys):
    path = tmp_path / "scenes.ome.tif"
    _, second = write_two_series(path)
    code, lines = convert(capsys, path, tmp_path / "one.zarr", "--series", "1")
    assert code == 0
    np.testing.assert_array_equal(level0(tmp_path / "one.zarr"), second)
    code, lines = convert(capsys, path, tmp_path / "o.zarr", "--series", "2")
    assert code == 2
    one_line(lines, str(path), "--series", "0 to 1")
    np.save(tmp_path / "labels.npy", np.zeros((3, 24, 32), np.uint8))
    code, lines = convert(capsys, path, tmp_path / "o.zarr", "--labels", tmp_path / "labels.npy")
    assert code == 2
    one_line(lines, "2 series", "--series")
    assert not (tmp_path / "o.zarr").exists()


def test_overwrite_into_a_folder_that_is_not_a_zarr_store_is_refused(tmp_path, capsys):
    npy = tmp_path / "img.npy"
    np.save(npy, STACK[:2])
    folder = tmp_path / "my thesis"
    folder.mkdir()
    (folder / "thesis.txt").write_text("four years")
    code, lines = convert(capsys, npy, folder, "--overwrite")
    assert code == 2
    one_line(lines, "thesis.txt", "not a Zarr store")
    assert sorted(os.listdir(folder)) == ["thesis.txt"]
    assert (folder / "thesis.txt").read_text() == "four years"
    other = tmp_path / "theirs.zarr"
    zarr.open_group(str(other), mode="w").create_array("raw", shape=(2,), dtype="u1")
    code, lines = convert(capsys, npy, other)
    assert code == 2
    one_line(lines, "holding raw", "--overwrite")


def test_a_retry_is_not_refused_for_an_image_that_is_not_there(tmp_path, capsys):
    npy = tmp_path / "img.npy"
    np.save(npy, STACK[:2])
    out = tmp_path / "o.zarr"
    assert convert(capsys, npy, out)[0] == 0
    meta = json.loads((out / "zarr.json").read_text())
    meta["attributes"] = {}  # what a write killed before its metadata leaves
    (out / "zarr.json").write_text(json.dumps(meta))
    code, lines = convert(capsys, npy, out)
    assert code == 0 and lines == []
    np.testing.assert_array_equal(level0(out), STACK[:2])
    code, lines = convert(capsys, npy, out)  # now there is one
    assert code == 2
    one_line(lines, "holds an image", "--overwrite", "--resume")


def test_resolution_tags_imagej_labels_and_a_single_ome_channel_name(tmp_path, capsys):
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, STACK[0], resolution=(20, 20), resolutionunit="CENTIMETER")
    assert convert(capsys, plain, tmp_path / "plain.zarr")[0] == 0
    ms = read_blocks(zarr.open_group(str(tmp_path / "plain.zarr"), mode="r"))["multiscales"][0]
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [500.0, 500.0]
    assert [a["unit"] for a in ms["axes"]] == ["micrometer", "micrometer"]

    ij = tmp_path / "ij.tif"
    hyper = STACK[:8].reshape(4, 2, 24, 32)
    tifffile.imwrite(ij, hyper, imagej=True, metadata={"axes": "ZCYX", "Labels": ["a", "b"] * 4})
    assert convert(capsys, ij, tmp_path / "ij.zarr")[0] == 0
    blocks = read_blocks(zarr.open_group(str(tmp_path / "ij.zarr"), mode="r"))
    assert [c["label"] for c in blocks["omero"]["channels"]] == ["a", "b"]

    one = tmp_path / "one.ome.tif"
    tifffile.imwrite(
        one, STACK[:3], ome=True, metadata={"axes": "ZYX", "Channel": {"Name": "DAPI"}}
    )
    assert convert(capsys, one, tmp_path / "one.zarr")[0] == 0
    blocks = read_blocks(zarr.open_group(str(tmp_path / "one.zarr"), mode="r"))
    assert [c["label"] for c in blocks["omero"]["channels"]] == ["DAPI"]
    assert main(["validate", str(tmp_path / "one.zarr")]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "one.zarr")]) == 0
    assert "channels" not in capsys.readouterr().out  # no c axis: no channel list


def test_a_partial_scale_is_refused_or_completed_from_the_file(tmp_path, capsys):
    npy = tmp_path / "img.npy"
    np.save(npy, STACK[:4])
    code, lines = convert(capsys, npy, tmp_path / "o.zarr", "--scale", "z=0.29,y=0.26")
    assert code == 2
    one_line(lines, "--scale", "no pixel size for x")
    tif = tmp_path / "res.tif"
    tifffile.imwrite(
        tif, STACK[:4], resolution=(20, 20), resolutionunit="CENTIMETER", photometric="minisblack"
    )
    code, _ = convert(capsys, tif, tmp_path / "o.zarr", "--scale", "z=2")
    assert code == 0
    ms = read_blocks(zarr.open_group(str(tmp_path / "o.zarr"), mode="r"))["multiscales"][0]
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [2.0, 500.0, 500.0]


def test_messages_name_the_flags_typed_not_python_parameters(tmp_path, capsys):
    npy = tmp_path / "img.npy"
    np.save(npy, STACK[:4])
    code, lines = convert(
        capsys, npy, tmp_path / "o.zarr", "--chunks", "4,8,8", "--shards", "4,12,12"
    )
    assert code == 2
    line = one_line(lines, "--shards")
    assert "storage_options" not in line
    assert convert(capsys, npy, tmp_path / "o.zarr")[0] == 0
    code, lines = convert(capsys, npy, tmp_path / "o.zarr", "--resume", "--chunks", "2,8,8")
    assert code == 2
    line = one_line(lines, "--resume", "--overwrite")
    assert "=True" not in line


def test_program_version_ngff_version_and_plain_help(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"gpu-omezarr {g.__version__}"
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    help_text = capsys.readouterr().out
    assert "``" not in help_text and "--ngff-version" in help_text
    npy = tmp_path / "img.npy"
    np.save(npy, STACK[:2])
    assert convert(capsys, npy, tmp_path / "v4.zarr", "--ngff-version", "0.4")[0] == 0
    assert (tmp_path / "v4.zarr" / ".zattrs").exists()
    assert convert(capsys, npy, tmp_path / "v4b.zarr", "--version", "0.4")[0] == 0
    assert (tmp_path / "v4b.zarr" / ".zattrs").exists()


@pytest.mark.parametrize(
    ("message", "code"),
    [("TiffTag 270 coercing invalid ASCII to bytes", 0), ("shaped series raised Oops", 2)],
)
def test_tifffile_warnings_are_errors_unless_they_lose_nothing(
    tmp_path, capsys, monkeypatch, message, code
):
    """tifffile logs what it could not read; here that is a refusal, except the few
    complaints about secondary metadata, which are shown."""
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, STACK[:5])
    init = tifffile.TiffFile.__init__

    def complaining(self, *args, **kwargs):
        init(self, *args, **kwargs)
        logging.getLogger("tifffile").warning(message)

    monkeypatch.setattr(tifffile.TiffFile, "__init__", complaining)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        got, lines = convert(capsys, path, tmp_path / "o.zarr")
    assert got == code
    if code:
        one_line(lines, str(path), message)
    else:
        assert any(message in str(w.message) and str(path) in str(w.message) for w in shown)


# The table in docs/bad-input.md: each case built in a scratch folder and converted, as above.
def _truncated(tmp):
    tifffile.imwrite(tmp / "stack.tif", STACK)
    return [cut_in_half(tmp / "stack.tif", "cut.tif"), tmp / "o.zarr"]


def _broken_ome_xml(tmp):
    path = tmp / "cells.ome.tif"
    tifffile.imwrite(path, STACK[:8].reshape(2, 4, 24, 32), ome=True, metadata={"axes": "CZYX"})
    data = path.read_bytes()
    at = data.index(b"<Pixels")
    path.write_bytes(data[: at + 1] + b"Pixls" + data[at + 6 :])
    return [path, tmp / "o.zarr"]


def _bad_header(tmp):
    path = tmp / "header.tif"
    tifffile.imwrite(path, STACK[:3], photometric="minisblack")
    damaged(path, 4, 4, 0xFF)
    return [path, tmp / "o.zarr"]


def _bad_strip(tmp):
    path = tmp / "deflate.tif"
    tifffile.imwrite(path, STACK[:8], compression="zlib", tile=(16, 16))
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[5]
        damaged(path, page.dataoffsets[2], page.databytecounts[2])
    return [path, tmp / "o.zarr", "--chunks", "1,16,16"]


def _series_out_of_range(tmp):
    write_two_series(tmp / "scenes.ome.tif")
    return [tmp / "scenes.ome.tif", tmp / "o.zarr", "--series", "2"]


def _user_folder(tmp):
    np.save(tmp / "img.npy", STACK[:2])
    (tmp / "mine").mkdir()
    (tmp / "mine" / "thesis.txt").write_text("four years")
    return [tmp / "img.npy", tmp / "mine", "--overwrite"]


def _existing_image(tmp):
    np.save(tmp / "img.npy", STACK[:2])
    g.write_image(STACK[0], str(tmp / "o.zarr"))
    return [tmp / "img.npy", tmp / "o.zarr"]


def _partial_scale(tmp):
    np.save(tmp / "img.npy", STACK[:4])
    return [tmp / "img.npy", tmp / "o.zarr", "--scale", "z=0.29,y=0.26"]


def _full_disk(tmp):
    np.save(tmp / "img.npy", RNG.integers(0, 60000, (32, 256, 256), dtype=np.uint16))
    (tmp / "disk").mkdir()
    os.system(f"mount -t tmpfs -o size=2m tmpfs {tmp / 'disk'} 2>/dev/null")
    return [tmp / "img.npy", tmp / "disk" / "o.zarr", "--codec", "none"]


TABLE = [
    ("TIFF cut short (a truncated copy)", _truncated),
    ("TIFF header damaged", _bad_header),
    ("OME-XML damaged", _broken_ome_xml),
    ("compressed data damaged (found midway)", _bad_strip),
    ("--series beyond the file's series", _series_out_of_range),
    ("--overwrite into a folder that is not a Zarr store", _user_folder),
    ("output holds an image, no --overwrite", _existing_image),
    ("--scale missing a space axis", _partial_scale),
    ("disk full (a 2 MiB tmpfs)", _full_disk),
]


def _left(tmp, output):
    if not output.exists():
        return "nothing"
    names = sorted(p.name for p in output.iterdir())
    return ", ".join(names) if names else "an empty folder"


def _rows():
    import contextlib
    import io
    import tempfile
    from pathlib import Path

    for what, build in TABLE:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            args = [str(a) for a in build(tmp)]
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = main(["convert", *args, "--quiet"])
            message = err.getvalue().strip().replace(name, "...").replace("|", "\\|")
            left = _left(tmp, Path(args[1]))
            os.system(f"umount {tmp / 'disk'} 2>/dev/null")
            yield f"| {what} | {code} | {message} | {left} |"


if __name__ == "__main__":
    print(
        "\n## Damaged files, full disks, Ctrl-C: the command line\n\n"
        "Exit codes: 2 refused before anything was written; 3 failed while writing (a store\n"
        "this run began is removed; one it did not is kept for `--resume`); 130 interrupted.\n"
        "Made by `python tests/test_damaged_files.py >> docs/bad-input.md`\n"
        "(tests/test_damaged_files.py, tests/test_interrupt.py).\n\n"
        "| failure | exit | message | left in the output |\n|---|---|---|---|"
    )
    for row in _rows():
        print(row)
    print(
        "| Ctrl-C (SIGINT) during a convert | 130 | gpu-omezarr: interrupted; .../o.zarr keeps "
        "what was stored: run the same command with --resume to finish it | the units stored "
        "(no metadata: no reader takes it for an image); queued units are cancelled, those "
        "being encoded finish |"
    )
