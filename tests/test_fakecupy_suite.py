"""The writer's tests (and the gpu-marked kernel tests) a second time, with ``auto`` meaning the CuPy backend on the strict
stand-in (tests/fakecupy): every write goes through the GPU path's code."""

import re
import subprocess
import sys
from pathlib import Path

import hostcuda
import pytest
from conftest import EVIDENCE, fake_cupy_active, use_fake_cupy

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(hostcuda.compiler() is None, reason="no C++ compiler for the host kernels")
def test_writer_suite_passes_on_the_cupy_backend():
    if fake_cupy_active():
        pytest.skip("already running on the stand-in")
    import os

    env = dict(os.environ)
    use_fake_cupy(env)
    runs = [
        ("tests/test_writer.py", []),  # every write through the GPU path
        ("tests/test_kernels.py", ["-k", "cupy"]),  # the gpu-marked kernel tests
    ]
    for path, extra in runs:
        pytest_args = ["-q", "-p", "no:cacheprovider", "--fake-cupy", path, *extra]
        done = subprocess.run(
            [sys.executable, "-m", "pytest", *pytest_args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        tail = done.stdout[-3000:] + done.stderr[-2000:]
        assert done.returncode == 0, tail
        summary = done.stdout.strip().splitlines()[-1]
        passed = int(re.search(r"(\d+) passed", summary).group(1))
        assert "failed" not in summary and "error" not in summary, tail
        found = re.search(r"fakecupy: (\d+) kernel launches.*, (\d+) chunks zstd", done.stdout)
        launches, chunks = int(found.group(1)), int(found.group(2))
        assert passed >= 20 and launches > 100, tail  # the GPU kernels really ran
        if path.endswith("test_writer.py"):
            assert chunks > 0, tail  # and the GPU zstd encoder (nvCOMP stand-in)
        EVIDENCE[f"stand-in suite {path}"] = (
            f"{' '.join([path, *extra])} with backend cupy on tests/fakecupy: {passed} passed, "
            f"{launches} kernel launches, {chunks} chunks through the nvCOMP stand-in"
        )
