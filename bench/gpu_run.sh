#!/usr/bin/env bash
# The whole first GPU run in one go (../shared/device/README.md). Prepare on this machine:
#   ../shared/device/fetch-wheels.sh nvidia-nvcomp-cu13 nvidia-libnvcomp-cu13
# then run through the device tool, from the project's root:  bash bench/gpu_run.sh
# (--cpu-check: the same steps on the stand-in, tiny sizes, anywhere.) Every step logs under
# $OUT and the run goes on after a failed step; the summary is printed last.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-run-out}
mkdir -p "$OUT"
CHECK=()
if [ "${1:-}" = "--cpu-check" ]; then
  CHECK=(--cpu-check)
  export PYTHONPATH="$PWD/tests/fakecupy:$PWD${PYTHONPATH:+:$PYTHONPATH}"
  PY=${PYTHON:-python}
else
  PY=python3
  if [ -d .whl ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl > "$OUT/pip.log" 2>&1 || echo "wheel install failed" >> "$OUT/summary.txt"
  fi
  export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
  nvidia-smi -L > "$OUT/nvidia-smi.txt" 2>&1
  nvidia-smi >> "$OUT/nvidia-smi.txt" 2>&1
  # The CPU kernels (the NumPy backend's speed): built in place, as pip install would.
  SUFFIX=$($PY -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
  INC=$($PY -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  cc -O3 -shared -fPIC -I"$INC" gpu_omezarr/backends/_ckernels.c \
    -o "gpu_omezarr/backends/_ckernels$SUFFIX" > "$OUT/ckernels.log" 2>&1 \
    || echo "C kernels not built: the NumPy baseline is numpy-pure" >> "$OUT/summary.txt"
fi
step() {  # step NAME SECONDS COMMAND...: run, log, note the outcome
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "$name: rc=$rc in $((SECONDS - start)) s" >> "$OUT/summary.txt"
  tail -n 3 "$OUT/$name.log" | sed "s/^/    /" >> "$OUT/summary.txt"
}
date -u +"%F %T UTC" > "$OUT/summary.txt"
step import 60 $PY -c 'import cupy, gpu_omezarr.backends as b; print(cupy.__version__, b.get_backend("auto").name)'
if [ ${#CHECK[@]} -eq 0 ]; then
  # The gpu-marked tests (kernels against the reference on the real device), then the writer
  # suite with auto meaning the CuPy backend.
  step gpu-tests 240 $PY -m pytest -q -p no:cacheprovider -m gpu tests/test_kernels.py tests/test_writer.py
  # (less the three tests that need ome-zarr / ome-zarr-models / jsonschema, not carried)
  step writer-suite 240 env GPU_OMEZARR_BACKEND=cupy $PY -m pytest -q -p no:cacheprovider tests/test_writer.py \
    -k "not independent_readers and not strict_schema and not labels_given_levels"
fi
step nvcomp 120 $PY bench/nvcomp_check.py --out "$OUT" "${CHECK[@]}"
step bench 420 $PY bench/gpu.py --out "$OUT" "${CHECK[@]}"
cat "$OUT/summary.txt"
