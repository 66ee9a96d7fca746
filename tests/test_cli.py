import subprocess
import sys

import zarr


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "gpu_omezarr", *args], capture_output=True, text=True
    )


def test_demo_writes_a_valid_image_with_labels_and_refuses_to_clobber(tmp_path):
    out = str(tmp_path / "demo.zarr")
    done = run("demo", out, "--size", "64", "--depth", "8", "--quiet")
    assert done.returncode == 0, done.stderr
    import ome_zarr_models

    assert type(ome_zarr_models.open_ome_zarr(zarr.open_group(out))).__name__ == "Image"
    again = run("demo", out, "--size", "64", "--depth", "8", "--quiet")
    assert again.returncode == 2 and "overwrite" in again.stderr and "Traceback" not in again.stderr
