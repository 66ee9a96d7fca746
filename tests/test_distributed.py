"""Writes on a dask.distributed cluster of processes: region tasks, byte-identical results."""

import numpy as np
import pytest
import zarr

import gpu_omezarr as g
import gpu_omezarr.regions

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as c,
    ):
        yield c


def files(root):
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


CASES = [
    ("yx", (300, 250), {"chunks": (32, 32), "shards": (64, 64)}, "mean", "0.5"),
    ("zyx", (20, 90, 70), {"chunks": (4, 16, 16), "shards": None}, "mean", "0.4"),
    ("czyx", (2, 9, 64, 64), {"chunks": (1, 4, 16, 16), "shards": (1, 4, 32, 32)}, "mode", "0.5"),
]


@pytest.mark.parametrize("kind", ["numpy", "dask", "zarr"])
@pytest.mark.parametrize(("axes", "shape", "options", "method", "version"), CASES)
def test_cluster_writes_are_byte_identical_to_one_process(
    tmp_path, client, monkeypatch, kind, axes, shape, options, method, version
):
    monkeypatch.setattr(gpu_omezarr.regions, "REGION_BYTES", 1)  # many regions, a coarse stage
    x = np.random.default_rng(5).integers(0, 50, shape).astype(np.uint16)
    if kind == "dask":  # chunks that cut across chunks and shards
        source = da.from_array(x, chunks=tuple(max(1, n // 3 + 1) for n in shape))
    elif kind == "zarr":
        source = zarr.create_array(str(tmp_path / "src.zarr"), data=x, chunks=(7,) * len(shape))
    else:
        source = x
    kwargs = dict(
        axes=axes, method=method, version=version, storage_options=options, scale_factors=(2, 4, 8)
    )
    one = tmp_path / "one.zarr"
    g.write_image(x, str(one), **kwargs)  # no client current: one process
    on_cluster = tmp_path / "cluster.zarr"
    with client.as_current(), distributed.get_task_stream(client) as stream:
        g.write_image(source, str(on_cluster), **kwargs)
    keys = [t["key"][0] if isinstance(t["key"], tuple) else t["key"] for t in stream.data]
    ran = [str(k).split("-", 1)[0] for k in keys]
    assert ran.count("write_region") > 1 and ran.count("write_coarse") == 1  # both stages ran
    assert files(on_cluster) == files(one)


def test_given_levels_on_a_cluster_are_region_tasks(tmp_path, client, monkeypatch):
    monkeypatch.setattr(gpu_omezarr.regions, "REGION_BYTES", 1)
    rng = np.random.default_rng(12)
    x = rng.integers(0, 900, (12, 70, 90)).astype(np.uint16)
    labels = rng.integers(0, 5, x.shape).astype(np.uint32)
    pyramid, label_levels = ([a, a[:, ::2, ::2], a[::2, ::4, ::4]] for a in (x, labels))
    kwargs = dict(axes="zyx", storage_options={"chunks": (4, 16, 16), "shards": (4, 32, 32)})
    one, on_cluster = tmp_path / "one.zarr", tmp_path / "cluster.zarr"
    g.write_multiscale(pyramid, str(one), **kwargs)  # no client current: one process
    g.write_multiscale_labels(label_levels, str(one), "cells", **kwargs)
    with client.as_current(), distributed.get_task_stream(client) as stream:
        g.write_multiscale(pyramid, str(on_cluster), **kwargs)
        g.write_multiscale_labels(label_levels, str(on_cluster), "cells", **kwargs)
    keys = [t["key"][0] if isinstance(t["key"], tuple) else t["key"] for t in stream.data]
    assert [str(k).split("-", 1)[0] for k in keys].count("write_region") > 2 * len(pyramid)
    assert files(on_cluster) == files(one)


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_compute_false_is_a_graph_of_region_tasks(tmp_path, monkeypatch, scheduler):
    monkeypatch.setattr(gpu_omezarr.regions, "REGION_BYTES", 1)
    x = np.random.default_rng(6).integers(0, 900, (12, 70, 90)).astype(np.uint16)
    kwargs = dict(axes="zyx", storage_options={"chunks": (4, 16, 16), "shards": (4, 32, 32)})
    one = tmp_path / "one.zarr"
    g.write_image(x, str(one), **kwargs)
    lazy = tmp_path / "lazy.zarr"
    [graph] = g.write_image(x, str(lazy), compute=False, **kwargs)
    assert not lazy.exists()  # nothing written before it is computed
    regions = [k for k in dict(graph.dask) if str(k).startswith("write_region")]
    assert len(regions) > 1
    graph.compute(scheduler=scheduler)
    assert files(lazy) == files(one)


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_labels_with_compute_false_are_region_tasks_listed_last(tmp_path, monkeypatch, scheduler):
    monkeypatch.setattr(gpu_omezarr.regions, "REGION_BYTES", 1)
    rng = np.random.default_rng(9)
    x = rng.integers(0, 900, (12, 70, 90)).astype(np.uint16)
    labels = rng.integers(0, 5, x.shape).astype(np.uint32)
    kwargs = dict(storage_options={"chunks": (4, 16, 16), "shards": (4, 32, 32)})
    for root in ("one.zarr", "lazy.zarr"):
        g.write_image(x, str(tmp_path / root), axes="zyx", **kwargs)
    g.write_labels(labels, str(tmp_path / "one.zarr"), "cells", **kwargs)
    [graph] = g.write_labels(labels, str(tmp_path / "lazy.zarr"), "cells", compute=False, **kwargs)
    assert not (tmp_path / "lazy.zarr" / "labels").exists()  # nothing before it is computed
    assert sum(str(k).startswith("write_region") for k in dict(graph.dask)) > 1
    graph.compute(scheduler=scheduler)
    assert files(tmp_path / "lazy.zarr") == files(tmp_path / "one.zarr")
    assert zarr.open_group(str(tmp_path / "lazy.zarr/labels")).attrs["ome"]["labels"] == ["cells"]


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_given_levels_with_compute_false_are_region_tasks(tmp_path, monkeypatch, scheduler):
    monkeypatch.setattr(gpu_omezarr.regions, "REGION_BYTES", 1)  # many regions per level
    rng = np.random.default_rng(10)
    x = rng.integers(0, 900, (12, 70, 90)).astype(np.uint16)
    labels = rng.integers(0, 5, x.shape).astype(np.uint32)
    # a strided view, a dask array with chunks across the stored chunks, odd shapes
    pyramid = [x, x[:, ::2, ::2], da.from_array(np.ascontiguousarray(x[::2, ::4, ::4]), chunks=5)]
    label_levels = [labels, labels[:, ::2, ::2], labels[::2, ::4, ::4]]
    kwargs = dict(axes="zyx", storage_options={"chunks": (4, 16, 16), "shards": (4, 32, 32)})
    one, lazy = tmp_path / "one.zarr", tmp_path / "lazy.zarr"
    g.write_multiscale(pyramid, str(one), **kwargs)
    g.write_multiscale_labels(label_levels, str(one), "cells", **kwargs)
    [graph] = g.write_multiscale(pyramid, str(lazy), compute=False, **kwargs)
    assert not lazy.exists()  # nothing written before it is computed
    assert sum(str(k).startswith("write_region") for k in dict(graph.dask)) > len(pyramid)
    graph.compute(scheduler=scheduler)
    [graph] = g.write_multiscale_labels(label_levels, str(lazy), "cells", compute=False, **kwargs)
    assert not (lazy / "labels").exists()
    graph.compute(scheduler=scheduler)
    assert files(lazy) == files(one)


class Recorder:
    """A progress callback that remembers its events and whether it was closed."""

    def __init__(self):
        self.events, self.closed = [], False

    def __call__(self, event):
        assert not self.closed
        self.events.append(event)

    def close(self):
        self.closed = True


@pytest.mark.parametrize("given_levels", [False, True])
@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_compute_false_reports_progress_from_this_process(
    tmp_path, monkeypatch, scheduler, given_levels
):
    monkeypatch.setattr(gpu_omezarr.regions, "REGION_BYTES", 1)  # a coarse stage too
    x = np.random.default_rng(7).integers(0, 900, (12, 70, 90)).astype(np.uint16)
    progress = Recorder()
    kwargs = dict(
        axes="zyx",
        storage_options={"chunks": (4, 16, 16), "shards": (4, 32, 32)},
        compute=False,
        progress=progress,
    )
    if given_levels:  # each level's tasks report as their own level
        pyramid = [x, x[:, ::2, ::2], x[:, ::4, ::4]]
        [graph] = g.write_multiscale(pyramid, str(tmp_path / "lazy.zarr"), **kwargs)
    else:
        [graph] = g.write_image(x, str(tmp_path / "lazy.zarr"), **kwargs)
    assert progress.events == []  # nothing before it is computed
    graph.compute(scheduler=scheduler)
    if scheduler == "processes":  # the tasks ran elsewhere: their copies reported nothing
        assert progress.events == []
        return
    assert progress.closed
    done = {}
    for e in progress.events:
        done.setdefault(e.level, []).append(e.units_done)
    levels = zarr.open_group(str(tmp_path / "lazy.zarr")).attrs["ome"]["multiscales"][0]
    assert sorted(done) == list(range(len(levels["datasets"])))
    for level, counts in done.items():  # every unit once, counted up to the total
        total = next(e.units_total for e in progress.events if e.level == level)
        assert sorted(counts) == list(range(1, total + 1))
    assert max(e.all_bytes_done for e in progress.events) == progress.events[0].all_bytes_total


def test_progress_on_a_cluster_of_processes_does_not_break_the_write(tmp_path, client):
    x = np.random.default_rng(8).integers(0, 900, (12, 70, 90)).astype(np.uint16)
    progress = Recorder()
    with client.as_current():
        g.write_image(x, str(tmp_path / "c.zarr"), axes="zyx", progress=progress)
    assert progress.closed
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "c.zarr/s0"))[...], x)
