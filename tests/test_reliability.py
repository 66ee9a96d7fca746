"""Crashes, resume and concurrent writers: nothing half-written looks finished, nothing is lost."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

import gpu_omezarr as g
import gpu_omezarr.storage
import gpu_omezarr.stream
from gpu_omezarr.groups import read_blocks

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import gpu_omezarr as g

    out, resume = sys.argv[1], sys.argv[2] == "resume"
    rng = np.random.default_rng(7)
    image = rng.integers(0, 3000, (48, 512, 512), dtype=np.uint16)
    labels = (image // 1000).astype(np.uint8)
    options = {"chunks": (8, 64, 64), "shards": (8, 128, 128)}
    print("go", flush=True)
    g.write_image(image, out, axes="zyx", storage_options=options, resume=resume)
    g.write_labels(labels, out, "bands", storage_options=options, resume=resume)
    """
)


def writer(out: Path, mode: str = "fresh") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(out), mode], stdout=subprocess.PIPE, text=True
    )


def stored_files(root: Path) -> dict[str, bytes]:
    """Every file a reader can read: not the debris of writes cut short, ours (hidden
    ``.NAME.PID-THREAD.part``) or zarr-python's (``zarr.UUID.partial``), which no key names."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".partial")
    }


def looks_finished(root: Path) -> bool:
    try:
        return "multiscales" in read_blocks(zarr.open_group(str(root), mode="r"))
    except Exception:
        return False


@pytest.fixture(scope="module")
def timed_reference(tmp_path_factory) -> tuple[dict[str, bytes], float]:
    """The files of an uninterrupted write, and how long it took after "go"."""
    out = tmp_path_factory.mktemp("ref") / "img.zarr"
    proc = writer(out)
    assert proc.stdout.readline().strip() == "go"
    start = time.perf_counter()
    assert proc.wait() == 0
    return stored_files(out), time.perf_counter() - start


def test_killed_writes_never_look_finished_and_resume_is_byte_identical(tmp_path, timed_reference):
    reference, seconds = timed_reference
    rng = np.random.default_rng(0)
    delays = sorted(rng.uniform(0.0, seconds, 8))  # kills land while it writes
    for i, delay in enumerate(delays):
        out = tmp_path / f"kill{i}.zarr"
        proc = writer(out)
        assert proc.stdout.readline().strip() == "go"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        finished = proc.wait() == 0
        if not finished:
            # The image claims to be an image only once all its data is stored: a label
            # cut short never appears in the labels list.
            if looks_finished(out):
                files = stored_files(out)
                image_files = {k: v for k, v in reference.items() if not k.startswith("labels")}
                assert {k: files.get(k) for k in image_files} == image_files
            labels = out / "labels"
            if labels.exists() and (labels / "zarr.json").exists():
                listed = read_blocks(zarr.open_group(str(labels), mode="r")).get("labels", [])
                assert listed in ([], ["bands"])
                if listed:
                    assert stored_files(out) == reference
        assert writer(out, "resume").wait() == 0
        assert stored_files(out) == reference, f"kill after {delay:.2f} s, then resume"
        assert not list(out.rglob("*.part")), "the killed writer's cut units are removed"


def test_resume_refuses_other_settings_and_replaces_corrupt_units(tmp_path):
    x = np.arange(40 * 50, dtype=np.uint16).reshape(40, 50)
    path = tmp_path / "img.zarr"
    g.write_image(x, str(path), storage_options={"chunks": (16, 16), "shards": None})
    with pytest.raises(ValueError, match="resume=True: s0 was not written with these settings"):
        g.write_image(x, str(path), storage_options={"chunks": (8, 8)}, resume=True)
    before = stored_files(path)
    chunk = next(p for p in sorted((path / "s0").rglob("*")) if p.is_file() and "c" in p.parts)
    chunk.write_bytes(b"garbage")  # corrupt: read back unequal, so written again
    (path / "s1" / "c").rename(path / "s1" / "gone")  # missing: written again
    g.write_image(x, str(path), storage_options={"chunks": (16, 16), "shards": None}, resume=True)
    after = {k: v for k, v in stored_files(path).items() if not k.startswith("s1/gone")}
    assert after == before


def dead_pid() -> int:
    """The PID of a process of this machine that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_resume_removes_units_killed_writers_left_half_written(tmp_path, monkeypatch):
    monkeypatch.setattr(g.storage, "HOST", "node-7.cluster.example")  # dots in the name
    here = g.storage.HOST
    x = np.arange(40 * 50, dtype=np.uint16).reshape(40, 50)
    path = tmp_path / "img.zarr"
    options = {"chunks": (16, 16), "shards": None}
    g.write_image(x, str(path), storage_options=options)
    before = stored_files(path)
    where = path / "s0" / "c" / "1"
    killed = where / f".0.140.{dead_pid()}@{here}.part"
    running = where / f".1.140.{os.getppid()}@{here}.part"  # a live process's: kept
    elsewhere = where / f".2.140.{dead_pid()}@node-8.cluster.example.part"  # can't tell: kept
    for debris in (killed, running, elsewhere):
        debris.write_bytes(b"cut short")
    g.write_image(x, str(path), storage_options=options, resume=True)
    assert (killed.exists(), running.exists(), elsewhere.exists()) == (False, True, True)
    assert stored_files(path) == before


def test_overwrite_removes_what_killed_overwrites_left_beside(tmp_path):
    here = g.storage.HOST
    path = tmp_path / "img.zarr"
    g.write_image(np.zeros((32, 32), np.uint8), str(path))

    def beside(kind: str, tag: str) -> Path:
        sibling = tmp_path / f".img.zarr.gpu-omezarr-{kind}-{tag}"
        (sibling / "s0").mkdir(parents=True)
        (sibling / "s0" / "zarr.json").write_text("{}")
        return sibling

    staged = beside("new", f"{dead_pid()}@{here}")  # a killed overwrite's incomplete copy
    replaced = beside("old", f"{dead_pid()}@{here}")  # levels a swap killed midway kept
    running = beside("new", f"{os.getppid()}@{here}")
    elsewhere = beside("new", f"{dead_pid()}@another-host")
    g.write_image(np.ones((32, 32), np.uint8), str(path), overwrite=True)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["img.zarr", running.name, elsewhere.name])
    assert not staged.exists() and not replaced.exists()
    np.testing.assert_array_equal(zarr.open_array(str(path / "s0"))[...], 1)


class FailingSource:
    """An array whose reads fail after a few tiles, like a network file going away."""

    def __init__(self, x: np.ndarray, fail_after: int) -> None:
        self.x, self.left = x, fail_after
        self.shape, self.dtype = x.shape, x.dtype

    def __getitem__(self, region):
        self.left -= 1
        if self.left < 0:
            raise OSError("source went away")
        return self.x[region]


def test_a_source_failing_midway_leaves_no_image(tmp_path, monkeypatch):
    monkeypatch.setattr(g.stream, "TILE_BYTES", 1)  # many tiles
    x = np.ones((64, 64), np.uint8)
    path = tmp_path / "img.zarr"
    with pytest.raises(OSError, match="source went away"):
        g.write_image(
            FailingSource(x, 2), str(path), storage_options={"chunks": (16, 16), "shards": None}
        )
    assert not looks_finished(path)
    g.write_image(x, str(path), storage_options={"chunks": (16, 16), "shards": None}, resume=True)
    assert looks_finished(path)
    np.testing.assert_array_equal(zarr.open_array(str(path / "s0"))[...], x)


class CountingSource:
    """An in-memory image that counts the tiles read from it."""

    def __init__(self, x: np.ndarray) -> None:
        self.x, self.reads = x, 0
        self.shape, self.dtype = x.shape, x.dtype

    def __getitem__(self, region):
        self.reads += 1
        return self.x[region]


def test_a_failing_store_write_stops_the_stream_early(tmp_path, monkeypatch):
    monkeypatch.setattr(g.stream, "TILE_BYTES", 1)  # a tile per row of chunks: 16 tiles
    put = g.storage.ChunkStore.put
    calls = []

    def failing_put(self, coords, data):
        calls.append(coords)
        if len(calls) > 3:
            raise OSError("disk full")
        put(self, coords, data)

    monkeypatch.setattr(g.storage.ChunkStore, "put", failing_put)
    source = CountingSource(np.ones((256, 64), np.uint8))
    path = tmp_path / "img.zarr"
    with pytest.raises(OSError, match="disk full"):
        g.write_image(source, str(path), storage_options={"chunks": (16, 16), "shards": None})
    assert source.reads < 16  # raised while streaming, not after reading everything
    assert not looks_finished(path)


ADD_LABEL = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import gpu_omezarr as g

    out, names, start = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3])
    time.sleep(max(0.0, start - time.time()))  # every process starts together
    for name in names:
        g.write_labels(np.full((64, 64), len(name), np.uint8), out, name)
    """
)


def test_concurrent_processes_adding_labels_are_all_listed(tmp_path):
    path = tmp_path / "img.zarr"
    g.write_image(np.zeros((64, 64), np.uint8), str(path))
    start = time.time() + 2.0
    groups = [[f"p{p}l{i}" for i in range(3)] for p in range(4)]
    procs = [
        subprocess.Popen([sys.executable, "-c", ADD_LABEL, str(path), ",".join(n), str(start)])
        for n in groups
    ]
    assert all(p.wait() == 0 for p in procs)
    listed = read_blocks(zarr.open_group(str(path / "labels"), mode="r"))["labels"]
    assert sorted(listed) == sorted(n for names in groups for n in names)
    for name in listed:
        assert zarr.open_array(str(path / "labels" / name / "s0"))[0, 0] == len(name)
    assert not any(p.name.endswith(".part") for p in path.rglob("*"))
    assert json.loads((path / "labels" / "zarr.json").read_text())["attributes"]["ome"]


def test_overwrite_keeps_the_old_image_until_the_new_one_is_complete(tmp_path, monkeypatch):
    monkeypatch.setattr(g.stream, "TILE_BYTES", 1)
    old = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    path = tmp_path / "img.zarr"
    options = {"chunks": (16, 16), "shards": None}
    g.write_image(old, str(path), storage_options=options)
    g.write_labels(np.ones((64, 64), np.uint8), str(path), "cells", storage_options=options)
    before = stored_files(path)
    new = old[::-1].copy()
    with pytest.raises(OSError, match="source went away"):
        g.write_image(FailingSource(new, 3), str(path), storage_options=options, overwrite=True)
    assert stored_files(path) == before  # the old image, whole and still an image
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.zarr"]  # no staging left
    g.write_image(new, str(path), scale_factors=(2,), storage_options=options, overwrite=True)
    root = zarr.open_group(str(path), mode="r")
    np.testing.assert_array_equal(root["s0"][...], new)
    assert sorted(root.array_keys()) == ["s0", "s1"]  # old levels s2.. are gone
    assert len(read_blocks(root)["multiscales"][0]["datasets"]) == 2
    assert read_blocks(root["labels"])["labels"] == ["cells"]  # other content kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.zarr"]
