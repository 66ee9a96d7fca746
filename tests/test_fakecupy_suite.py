"""The writer's tests a second time, with ``auto`` meaning the CuPy backend on the strict
stand-in (tests/fakecupy): every write goes through the GPU path's code."""

import re
import subprocess
import sys
from pathlib import Path

import hostcuda
import pytest
from conftest import EVIDENCE, fake_cupy_active, use_fake_cupy

ROOT = Path(__file__).resolve().parents[1]
SUITE = ["tests/test_writer.py"]


@pytest.mark.skipif(hostcuda.compiler() is None, reason="no C++ compiler for the host kernels")
def test_writer_suite_passes_on_the_cupy_backend():
    if fake_cupy_active():
        pytest.skip("already running on the stand-in")
    import os

    env = dict(os.environ)
    use_fake_cupy(env)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--fake-cupy", *SUITE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    passed = int(re.search(r"(\d+) passed", done.stdout).group(1))
    launches = int(re.search(r"fakecupy: (\d+) kernel launches", done.stdout).group(1))
    assert passed >= 60 and "failed" not in done.stdout.splitlines()[-1], tail
    assert launches > 100, tail  # the writes really ran the GPU kernels
    EVIDENCE["stand-in suite"] = (
        f"{' '.join(SUITE)} with backend cupy on tests/fakecupy: {passed} passed, "
        f"{launches} kernel launches"
    )
