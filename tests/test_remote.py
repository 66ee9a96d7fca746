"""Object stores: a real S3 API (moto's server) on loopback, reached through fsspec/s3fs."""

import numpy as np
import pytest
import zarr

import gpu_omezarr as g
from gpu_omezarr.groups import read_blocks
from gpu_omezarr.validate import validate

moto_server = pytest.importorskip("moto.server")
pytest.importorskip("s3fs")


@pytest.fixture(scope="module")
def s3():
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="screens")
    options = {
        "key": "test",
        "secret": "test",
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    yield lambda url, read_only=False: zarr.storage.FsspecStore.from_url(
        url, storage_options=options, read_only=read_only
    )
    server.stop()


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_image_labels_and_plate_round_trip_through_s3(s3, version):
    x = np.random.default_rng(0).integers(0, 1000, (12, 64, 64), dtype=np.uint16)
    url = f"s3://screens/img-{version}.zarr"
    root = zarr.open_group(s3(url), mode="w", zarr_format=2 if version == "0.4" else 3)
    options = {"chunks": (4, 32, 32)}
    g.write_image(x, root, axes="zyx", scale_factors=(2,), storage_options=options)
    g.write_labels((x // 500).astype(np.uint8), root, "cells", storage_options=options)
    again = zarr.open_group(s3(url, read_only=True), mode="r")
    np.testing.assert_array_equal(again["s0"][...], x)
    assert read_blocks(again["labels"])["labels"] == ["cells"]
    report = validate(again)
    assert report.ok, report.problems

    plate_url = f"s3://screens/plate-{version}.zarr"
    plate = zarr.open_group(s3(plate_url), mode="w", zarr_format=2 if version == "0.4" else 3)
    wells = {f"{r}/{c}": [x[:2], x[2:4]] for r in "AB" for c in "12"}
    g.write_plate(wells, plate, axes="cyx", scale_factors=(2,))
    report = validate(zarr.open_group(s3(plate_url, read_only=True), mode="r"))
    assert report.ok, report.problems


def test_a_store_object_is_a_group(s3):
    x = np.arange(32 * 48, dtype=np.uint16).reshape(32, 48)
    store = s3("s3://screens/store.zarr")
    g.write_image(x, store, scale_factors=(2,))
    g.write_labels((x % 3).astype(np.uint8), store, "thirds")
    again = zarr.open_group(s3("s3://screens/store.zarr", read_only=True), mode="r")
    np.testing.assert_array_equal(again["s0"][...], x)
    assert read_blocks(again["labels"])["labels"] == ["thirds"]
    assert validate(again).ok
