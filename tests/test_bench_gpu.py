"""The prepared first GPU run (bench/gpu_run.sh: bench/gpu.py, bench/nvcomp_check.py), dry-run
on the stand-ins at tiny sizes, so that what awaits a GPU has at least run once."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import hostcuda
import pytest
from conftest import fake_cupy_active, use_fake_cupy

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(hostcuda.compiler() is None, reason="no C++ compiler for the host kernels")
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_gpu_run_script_dry_run(tmp_path):
    if fake_cupy_active():
        pytest.skip("already running on the stand-in")
    env = dict(os.environ, OUT=str(tmp_path), PYTHON=sys.executable)
    use_fake_cupy(env)
    done = subprocess.run(
        ["bash", "bench/gpu_run.sh", "--cpu-check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    summary = (tmp_path / "summary.txt").read_text()
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("import", "nvcomp", "bench"):
        assert f"{step}: rc=0" in summary, summary
    assert (tmp_path / "gpu.json").exists() and (tmp_path / "nvcomp.json").exists()
    assert "levels identical: True" in (tmp_path / "bench.log").read_text()
