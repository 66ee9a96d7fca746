"""open_stream: frames appended as they are acquired give the image write_image gives for the
stacked frames (same bytes, same metadata); readers see a valid image between appends; a
killed stream resumes."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import cuda_available

import gpu_omezarr as g
import gpu_omezarr.storage
from gpu_omezarr.groups import read_blocks
from gpu_omezarr.validate import validate


def stored_files(root: Path) -> dict[str, bytes]:
    """Every file a reader can read (not hidden debris of cut-short writes)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".partial")
    }


def frames_of(n: int, frame: tuple[int, ...], dtype: str = "uint16", seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4000 if dtype != "uint8" else 250, (n, *frame)).astype(dtype)


# (axes, frame shape, frames, options): the streamed axis is the first; N is never a
# multiple of the chunk depth; factors along the first axis > 1 where it is z.
CASES = {
    "yx": ("yx", (45,), 37, {"chunks": (8, 16), "shards": None}, (2, 4)),  # line-scan lines
    "tyx": ("tyx", (37, 45), 7, {"chunks": (2, 16, 16)}, (2, 4)),
    "zyx": ("zyx", (40, 33), 19, {"chunks": (4, 16, 16), "shards": (4, 32, 32)}, (2, 4)),
    "tzyx": ("tzyx", (6, 20, 24), 5, {"chunks": (1, 4, 8, 8)}, (2,)),
    "tczyx": ("tczyx", (2, 6, 16, 18), 3, {"chunks": (1, 1, 2, 8, 8)}, (2, 4)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("length", ["growing", "known"])
@pytest.mark.parametrize("method", ["mean", "nearest", "mode"])
def test_stream_is_write_image_of_the_stacked_frames(tmp_path, case, length, method):
    axes, frame, n, options, factors = CASES[case]
    data = frames_of(n, frame, "uint8" if method == "mode" else "uint16")
    common = {
        "axes": axes,
        "scale_factors": factors,
        "method": method,
        "storage_options": options,
        "scale": [2.0] + [0.5] * len(frame),
        "backend": "numpy",
    }
    expected = tmp_path / "whole.zarr"
    g.write_image(data, str(expected), **common)
    streamed = tmp_path / "stream.zarr"
    with g.open_stream(
        str(streamed), frame, data.dtype, length=n if length == "known" else None, **common
    ) as stream:
        at = 0
        for step in [1, 2, 3, 1]:  # single frames and blocks, across tile boundaries
            stream.append(data[at] if step == 1 else data[at : at + step])
            at = min(at + step, n)
            if at == n:
                break
        if at < n:
            stream.append(data[at:])
    assert stored_files(streamed) == stored_files(expected)


def test_stream_version_04_and_default_pyramid_of_z_planes(tmp_path):
    data = frames_of(35, (40, 36))
    options = {"chunks": (8, 16, 16)}
    expected, streamed = tmp_path / "whole.zarr", tmp_path / "stream.zarr"
    g.write_image(data, str(expected), axes="zyx", version="0.4", storage_options=options)
    with g.open_stream(
        str(streamed),
        (40, 36),
        "uint16",
        axes="zyx",
        version="0.4",
        storage_options=options,
        length=35,  # known: coarse levels shorter than a chunk get chunks clamped, as planned
    ) as stream:
        for plane in data:
            stream.append(plane)
    # Default factors halve z too (isotropy): the coarsest level needs 16 frames per plane.
    levels = read_blocks(zarr.open_group(str(streamed)))["multiscales"][0]["datasets"]
    assert levels[-1]["coordinateTransformations"][0]["scale"][0] == 16
    assert stored_files(streamed) == stored_files(expected)


def test_readers_see_a_valid_image_of_the_frames_published(tmp_path):
    data = frames_of(21, (24, 20))
    options = {"chunks": (4, 8, 8), "shards": (4, 16, 16)}
    common = {"axes": "zyx", "scale_factors": (2, 4), "storage_options": options}
    whole = tmp_path / "whole.zarr"
    g.write_image(data, str(whole), **common)
    final = zarr.open_group(str(whole), mode="r")
    path = tmp_path / "stream.zarr"
    stream = g.open_stream(str(path), (24, 20), "uint16", **common)
    assert stream.depth == 4  # lcm of the unit depth (4) and the coarsest z factor (4)
    seen = []
    for i, plane in enumerate(data):
        stream.append(plane)
        published = stream.wait()
        assert published == (i + 1) // 4 * 4
        seen.append(published)
        if not published:
            continue
        report = validate(str(path))
        assert report.ok, report.problems
        reader = zarr.open_group(str(path), mode="r")
        for level, factor in zip(["s0", "s1", "s2"], [1, 2, 4]):
            array = reader[level]
            assert array.shape[0] == published // factor
            # Every level holds exactly its share of the frames so far, as the final image.
            np.testing.assert_array_equal(array[:], final[level][: published // factor])
    assert seen[-1] == 20
    stream.close()
    assert zarr.open_group(str(path), mode="r")["s0"].shape[0] == 21
    assert stored_files(path) == stored_files(whole)


def test_bad_frames_are_refused_before_anything_is_stored_and_the_stream_goes_on(tmp_path):
    path = tmp_path / "stream.zarr"
    stream = g.open_stream(str(path), (8, 8), "uint16", axes="tyx", length=3)
    before = stored_files(path)
    with pytest.raises(ValueError, match=r"frames.shape.*\(8, 9\)"):
        stream.append(np.zeros((8, 9), "uint16"))
    with pytest.raises(ValueError, match="frames.dtype.*float32"):
        stream.append(np.zeros((8, 8), "float32"))
    with pytest.raises(ValueError, match="past the stream's length"):
        stream.append(np.zeros((4, 8, 8), "uint16"))
    with pytest.raises(TypeError, match="frames"):
        stream.append([[0] * 8] * 8)
    assert stored_files(path) == before and stream.count == 0
    stream.append(np.ones((3, 8, 8), "uint16"))
    stream.close()
    with pytest.raises(ValueError, match="closed"):
        stream.append(np.ones((8, 8), "uint16"))
    np.testing.assert_array_equal(zarr.open_group(str(path))["s0"][:], 1)


def test_open_refuses_bad_arguments_and_existing_images(tmp_path):
    path = tmp_path / "img.zarr"
    with pytest.raises(ValueError, match="length"):
        g.open_stream(str(path), (8, 8), "uint16", length=0)
    with pytest.raises(ValueError, match="scale_factors.*known length"):
        g.open_stream(str(path), (8, 8), "uint16", axes="zyx", scale_factors="auto")
    with pytest.raises(TypeError, match="frame_shape"):
        g.open_stream(str(path), 8, "uint16")
    g.write_image(frames_of(2, (8, 8)), str(path), axes="tyx")
    with pytest.raises(ValueError, match="already holds an image"):
        g.open_stream(str(path), (8, 8), "uint16", axes="tyx")
    with g.open_stream(str(path), (8, 8), "uint8", axes="tyx", overwrite=True) as stream:
        stream.append(np.full((8, 8), 5, "uint8"))
    assert zarr.open_group(str(path))["s0"].dtype == np.uint8


KILLED = textwrap.dedent(
    """
    import sys
    import numpy as np
    import gpu_omezarr as g

    out, k = sys.argv[1], int(sys.argv[2])
    frames = np.random.default_rng(5).integers(0, 4000, (30, 48, 40)).astype("uint16")
    options = {"chunks": (4, 16, 16), "shards": (4, 32, 32)}
    stream = g.open_stream(out, (48, 40), "uint16", axes="zyx", scale_factors=(2, 4, 8),
                           storage_options=options)
    for plane in frames[:k]:
        stream.append(plane)
    print(stream.wait(), flush=True)  # the frames published: then the parent kills us
    sys.stdin.read()
    """
)


@pytest.mark.parametrize("k", [13, 16])
def test_a_killed_stream_is_a_valid_image_and_resumes_byte_identical(tmp_path, k):
    frames = np.random.default_rng(5).integers(0, 4000, (30, 48, 40)).astype("uint16")
    options = {"chunks": (4, 16, 16), "shards": (4, 32, 32)}
    common = {"axes": "zyx", "scale_factors": (2, 4, 8), "storage_options": options}
    whole = tmp_path / "whole.zarr"
    g.write_image(frames, str(whole), **common)
    path = tmp_path / "stream.zarr"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(path), str(k)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    published = int(child.stdout.readline())
    child.kill()
    child.wait()
    assert published == k // 8 * 8  # tiles of 8 frames (the coarsest z factor)
    report = validate(str(path))
    assert report.ok, report.problems
    assert zarr.open_group(str(path))["s0"].shape[0] == published
    with g.open_stream(str(path), (48, 40), "uint16", resume=True, **common) as stream:
        assert stream.count == published
        stream.append(frames[published:])
    assert stored_files(path) == stored_files(whole)


def test_a_closed_stream_resumes_after_its_partial_last_tile(tmp_path):
    frames = frames_of(23, (20, 24))
    common = {"axes": "zyx", "scale_factors": (2, 4), "storage_options": {"chunks": (4, 8, 8)}}
    whole = tmp_path / "whole.zarr"
    g.write_image(frames, str(whole), **common)
    path = tmp_path / "stream.zarr"
    with g.open_stream(str(path), (20, 24), "uint16", **common) as stream:
        stream.append(frames[:10])  # closed after 2 whole tiles of 4 and 2 frames
    assert validate(str(path)).ok
    with g.open_stream(str(path), (20, 24), "uint16", resume=True, **common) as stream:
        # The partial tile's frames read back and taken again: counted, not yet published.
        assert (stream.count, stream.published) == (10, 8)
        stream.append(frames[10:])
    assert stored_files(path) == stored_files(whole)
    with pytest.raises(ValueError, match="resume"):  # other settings: refused
        g.open_stream(str(path), (20, 24), "uint16", axes="zyx", resume=True)


def test_a_label_stream_beside_its_image_and_streamed_plate_fields(tmp_path):
    frames = frames_of(9, (16, 16))
    labels = (frames // 1000).astype("uint8")
    common = {"axes": "tyx", "scale_factors": (2,), "storage_options": {"chunks": (2, 8, 8)}}
    whole = tmp_path / "whole.zarr"
    g.write_image(frames, str(whole), **common)
    g.write_labels(labels, str(whole), "bands", **common)
    path = tmp_path / "stream.zarr"
    with (
        g.open_stream(str(path), (16, 16), "uint16", **common) as image,
        g.open_stream(
            str(path), (16, 16), "uint8", label="bands", method="mode", **common
        ) as label,
    ):
        for frame, frame_labels in zip(frames, labels):
            image.append(frame)
            label.append(frame_labels)
    report = validate(str(path))
    assert report.ok, report.problems
    assert stored_files(path) == stored_files(whole)

    plate = tmp_path / "plate.zarr"
    g.write_plate_metadata(str(plate), ["A"], ["1"], ["A/1"])
    g.write_well_metadata(str(plate / "A" / "1"), [{"path": "0"}, {"path": "1"}])
    fields = [g.open_stream(str(plate / "A" / "1" / f), (16, 16), "uint16", **common) for f in "01"]
    for frame in frames:
        for field in fields:
            field.append(frame)
    for field in fields:
        field.close()
    report = validate(str(plate))
    assert report.ok, report.problems
    field0 = zarr.open_group(str(plate / "A" / "1" / "0"))
    np.testing.assert_array_equal(field0["s1"][:], zarr.open_group(str(whole))["s1"][:])


def test_progress_counts_every_unit_once_and_threads(tmp_path):
    events = []
    with g.open_stream(
        str(tmp_path / "img.zarr"),
        (16, 16),
        "uint16",
        axes="zyx",
        length=10,
        storage_options={"chunks": (2, 8, 8), "shards": None},
        scale_factors=(2, 4),  # s2's units (2 planes) span 8 frames: stored early, then whole
        progress=events.append,
        threads=1,
    ) as stream:
        for frame in frames_of(10, (16, 16)):
            stream.append(frame)
    last = {e.level: e for e in events}
    done = [(last[i].units_done, last[i].units_total) for i in range(3)]
    assert done == [(20, 20), (3, 3), (2, 2)]
    assert max(e.all_bytes_done for e in events) == events[0].all_bytes_total
    assert events[0].all_bytes_total == 2 * (10 * 16 * 16 + 5 * 8 * 8 + 3 * 4 * 4)


def test_an_error_in_the_with_block_keeps_the_frames_appended(tmp_path):
    path = tmp_path / "img.zarr"
    data = frames_of(3, (8, 8))
    with (
        pytest.raises(RuntimeError, match="microscope"),
        g.open_stream(str(path), (8, 8), "uint16", axes="tyx", scale_factors=()) as stream,
    ):
        stream.append(data)
        raise RuntimeError("microscope lost")
    np.testing.assert_array_equal(zarr.open_group(str(path))["s0"][:], data)
    assert validate(str(path)).ok


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="no CuPy / CUDA device")
def test_cupy_frames_on_the_cupy_backend_give_the_same_bytes(tmp_path):
    import cupy

    data = frames_of(19, (40, 33))
    common = {"axes": "zyx", "scale_factors": (2, 4), "storage_options": {"chunks": (4, 16, 16)}}
    expected, streamed = tmp_path / "whole.zarr", tmp_path / "stream.zarr"
    g.write_image(data, str(expected), backend="numpy", **common)
    with g.open_stream(str(streamed), (40, 33), "uint16", backend="cupy", **common) as stream:
        for plane in data:
            stream.append(cupy.asarray(plane))
    metadata = read_blocks(zarr.open_group(str(streamed)))["multiscales"][0]["metadata"]
    assert metadata["backend"] == "cupy"
    streamed_files = stored_files(streamed)
    expected_files = stored_files(expected)
    assert {k: v for k, v in streamed_files.items() if k != "zarr.json"} == {
        k: v for k, v in expected_files.items() if k != "zarr.json"
    }


def test_a_unit_failing_to_store_stops_the_stream_at_the_last_published_tile(tmp_path, monkeypatch):
    data = frames_of(14, (16, 16))
    common = {"axes": "zyx", "scale_factors": (2, 4), "storage_options": {"chunks": (4, 8, 8)}}
    whole = tmp_path / "whole.zarr"
    g.write_image(data, str(whole), **common)
    put = gpu_omezarr.storage.ChunkStore.put

    def failing_put(self, coords, data):
        if self.array.path.endswith("s0") and coords[0] == 2:  # frames 8..11
            raise OSError("disk full")
        put(self, coords, data)

    monkeypatch.setattr(gpu_omezarr.storage.ChunkStore, "put", failing_put)
    path = tmp_path / "stream.zarr"
    stream = g.open_stream(str(path), (16, 16), "uint16", **common)
    with pytest.raises(OSError, match="disk full"):
        for frame in data:
            stream.append(frame)
            stream.wait()
    assert stream.closed and stream.published == 8
    with pytest.raises(ValueError, match="closed"):
        stream.append(data[0])
    assert validate(str(path)).ok
    assert zarr.open_group(str(path))["s0"].shape[0] == 8
    monkeypatch.setattr(gpu_omezarr.storage.ChunkStore, "put", put)
    with g.open_stream(str(path), (16, 16), "uint16", resume=True, **common) as stream:
        stream.append(data[8:])
    assert stored_files(path) == stored_files(whole)


def test_memory_is_bounded_by_tiles_not_by_the_length(tmp_path):
    import tracemalloc

    frame = frames_of(1, (128, 128))[0]  # 32 KiB
    common = {"axes": "zyx", "scale_factors": (2, 4), "storage_options": {"chunks": (4, 64, 64)}}
    numpy_only = [tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)]

    def most_held(length: int) -> int:
        """The most NumPy memory held between appends (array buffers, nothing else)."""
        most = 0
        with g.open_stream(str(tmp_path / f"{length}.zarr"), (128, 128), "uint16", **common) as s:
            tracemalloc.start()
            for i in range(length):
                s.append(frame)
                if i % 8 == 7:
                    s.wait()  # no unit in flight: what is held, not what encoders happen to hold
                    traces = tracemalloc.take_snapshot().filter_traces(numpy_only).traces
                    most = max(most, sum(t.size for t in traces))
            tracemalloc.stop()
        return most

    short, long = most_held(48), most_held(384)  # 1.5 MiB and 12 MiB appended
    # The tile being filled, two spare tiles, the units in flight, a unit row per level.
    assert long <= 1.2 * short and long < 384 * frame.nbytes / 10, (short, long)
