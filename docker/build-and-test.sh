#!/usr/bin/env bash
# Build docker/Dockerfile.cpu and docker/Dockerfile.gpu for real and test them end to end.
#
#   docker/build-and-test.sh [--cpu-only]
#
# Engine: podman (installed with apt when neither podman nor a running docker is present),
# run with runc; docker when its daemon answers and podman is absent (ENGINE=docker|podman
# chooses). Base: a Debian bookworm made here with mmdebstrap (no image registry needed), or
# BASE=python:3.12.7-slim-bookworm (any image with python3 >= 3.11 and venv) where one can be
# pulled. pip inside the builds uses this host's pip configuration (index, find-links, CA
# bundle), mounted read-only; nothing of it stays in the images.
#
# In each image, as its non-root user, on a bind-mounted folder: `demo`, `convert` of a TIFF
# made here, `validate` of both; then, from the host (a venv with numpy, zarr and tifffile),
# level 0 of the converted image equals the TIFF and both images wrote the same arrays. In
# the GPU image, without a GPU: backend "auto" falls back to NumPy and says why, "cupy" is
# refused with one clear line before anything is written, and every CUDA kernel compiles
# with the image's NVRTC. Exits non-zero on the first failure; prints the image sizes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
kinds=(cpu gpu)
[[ "${1:-}" == "--cpu-only" ]] && kinds=(cpu)
t0=$SECONDS
step() { printf '\n== [%4ds] %s\n' $((SECONDS - t0)) "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
work=$(mktemp -d /tmp/gpu-omezarr-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- engine and tools ---------------------------------------------------------------------
docker_up() { command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; }
engine=${ENGINE:-}
if [[ -z "$engine" ]]; then
    if command -v podman >/dev/null; then engine=podman
    elif docker_up; then engine=docker
    else engine=podman
    fi
fi
need=()
[[ $engine == podman ]] && ! command -v podman >/dev/null && need+=(podman)
[[ $engine == podman ]] && ! command -v runc >/dev/null && need+=(runc)
[[ -z "${BASE:-}" ]] && ! command -v mmdebstrap >/dev/null && need+=(mmdebstrap)
if ((${#need[@]})); then
    step "installing ${need[*]} (apt)"
    [[ $(id -u) == 0 ]] || fail "need root to apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
eng=("$engine")
# podman's default crun refuses hybrid cgroup hierarchies; runc runs there.
[[ $engine == podman ]] && command -v runc >/dev/null && eng+=(--runtime runc)
step "engine: ${eng[*]} ($("$engine" --version))"

# --- base image ---------------------------------------------------------------------------
base=${BASE:-localhost/gpu-omezarr-base:bookworm}
if [[ -z "${BASE:-}" ]]; then
    if [[ -n "${REUSE_BASE:-}" ]] && "$engine" image inspect "$base" >/dev/null 2>&1; then
        step "base: reusing $base (REUSE_BASE set)"
    else
        step "base: mmdebstrap bookworm minbase + python3, python3-venv, ca-certificates"
        mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
            --dpkgopt='path-exclude=/usr/share/man/*' \
            --dpkgopt='path-exclude=/usr/share/locale/*' \
            --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            bookworm "$work/rootfs.tar"
        "$engine" import "$work/rootfs.tar" "$base" >/dev/null
        rm "$work/rootfs.tar"
    fi
fi

# Where the engine cannot raise the container's rlimits to its defaults (no CAP_SYS_RESOURCE
# here), give limits the host allows.
limits=()
if ! "${eng[@]}" run --rm --entrypoint python3 "$base" -c "" 2>"$work/probe.err"; then
    nofile=$(ulimit -Hn); ((nofile > 4096)) && nofile=4096
    limits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=16384:16384)
    "${eng[@]}" run --rm "${limits[@]}" --entrypoint python3 "$base" -c "" \
        || fail "cannot run a container from $base: $(cat "$work/probe.err")"
    step "rlimits: ${limits[*]} (the defaults failed: $(tail -c 120 "$work/probe.err"))"
fi

# --- this host's pip configuration, for the builds ----------------------------------------
# Keys that say where packages come from and how to reach them; the paths they name (CA
# bundle, find-links folders, the folder holding a file:// index's simple/) are mounted
# read-only at the same place.
python3 - "$work/pip.conf" "$work/mounts" <<'EOF'
import os, subprocess, sys
keys = {"index-url", "extra-index-url", "find-links", "cert", "client-cert", "trusted-host",
        "proxy", "timeout", "default-timeout", "retries"}
out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                     text=True).stdout
found = {}
for line in sorted(out.splitlines(), key=lambda s: s.startswith(":env:")):  # env wins
    name, _, value = line.partition("=")
    key = name.split(".", 1)[-1]
    if key in keys:
        found[key] = value.strip().strip("'\"")
paths = set()
for key, value in found.items():
    for item in value.split():
        path = item.removeprefix("file://")
        if key.endswith("index-url") and item.startswith("file://"):
            path = os.path.dirname(path.rstrip("/"))  # its pages link to files beside simple/
        if key in ("cert", "client-cert", "find-links") or item.startswith("file://"):
            if os.path.exists(path):
                paths.add(path)
with open(sys.argv[1], "w") as f:
    f.write("[global]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(found.items())))
with open(sys.argv[2], "w") as f:
    f.write("".join(f"{p}\n" for p in sorted(paths)))
EOF
build_opts=(--network host "${limits[@]}")
if [[ $engine == podman ]]; then
    build_opts+=(-v "$work/pip.conf:/etc/pip.conf:ro")
    while read -r path; do build_opts+=(-v "$path:$path:ro"); done <"$work/mounts"
    step "pip in the builds: $(tr '\n' ' ' <"$work/pip.conf" | sed 's/\[global\] //')"
fi

# --- build ----------------------------------------------------------------------------------
for kind in "${kinds[@]}"; do
    step "building gpu-omezarr:$kind from $base (log: build-$kind.log)"
    start=$SECONDS
    if ! "${eng[@]}" build "${build_opts[@]}" --build-arg "BASE=$base" \
        -f "$repo/docker/Dockerfile.$kind" -t "gpu-omezarr:$kind" "$repo" \
        >"$work/build-$kind.log" 2>&1; then
        tail -40 "$work/build-$kind.log"
        fail "building gpu-omezarr:$kind"
    fi
    echo "built in $((SECONDS - start)) s"
done

# --- host-side checker: numpy + zarr + tifffile in a venv of its own ----------------------
step "host checker venv (numpy, zarr, tifffile at the images' pinned versions)"
python3 -m venv "$work/hostpy"
"$work/hostpy/bin/pip" install -q -c "$repo/docker/constraints.txt" numpy zarr tifffile
check() { "$work/hostpy/bin/python" - "$@"; }
data="$work/data"
mkdir "$data" && chmod a+rwx "$data"  # the images' user (uid 1000) writes here
check "$data/in.tif" <<'EOF'
import sys
import numpy as np
import tifffile
image = np.random.default_rng(22).integers(0, 4096, size=(7, 300, 211), dtype=np.uint16)
tifffile.imwrite(sys.argv[1], image, metadata={"axes": "ZYX"})
print(f"made {sys.argv[1]}: {image.shape} {image.dtype}")
EOF

# --- run in each image ----------------------------------------------------------------------
in_image() {  # in_image KIND ARGS...: gpu-omezarr ARGS in the image, as its user, on $data
    local kind=$1; shift
    "${eng[@]}" run --rm "${limits[@]}" -v "$data:/data" "gpu-omezarr:$kind" "$@"
}
expect() {  # expect FILE PATTERN WHAT
    grep -q -e "$2" "$1" || { cat "$1"; fail "$3"; }
}
for kind in "${kinds[@]}"; do
    step "gpu-omezarr:$kind"
    user=$("${eng[@]}" run --rm "${limits[@]}" --entrypoint id "gpu-omezarr:$kind" -u)
    [[ $user != 0 ]] || fail "gpu-omezarr:$kind runs as root"
    if "${eng[@]}" run --rm "${limits[@]}" --entrypoint sh "gpu-omezarr:$kind" \
        -c 'command -v gcc || command -v cc' >/dev/null; then
        fail "gpu-omezarr:$kind has a C compiler in its final stage"
    fi
    echo "runs as uid $user; no C compiler"
    in_image "$kind" demo "/data/demo-$kind.zarr" --size 200 --depth 8 | tee "$work/demo-$kind.out"
    expect "$work/demo-$kind.out" "backend numpy (auto, not cupy: backend='cupy': " \
        "$kind: demo did not say why backend auto is NumPy"
    if [[ $kind == gpu ]]; then  # CuPy is there: the reason must be the missing device
        expect "$work/demo-$kind.out" "CUDA driver failed\|no CUDA device" \
            "gpu: backend auto fell back for another reason than the missing GPU"
    fi
    in_image "$kind" convert /data/in.tif "/data/conv-$kind.zarr" | tee "$work/conv-$kind.out"
    expect "$work/conv-$kind.out" "backend numpy (auto" "$kind: convert did not report auto"
    in_image "$kind" validate "/data/demo-$kind.zarr"
    in_image "$kind" validate "/data/conv-$kind.zarr"
    if [[ $kind == gpu ]]; then
        status=0
        in_image gpu demo /data/refused.zarr --backend cupy >"$work/refused.out" 2>&1 || status=$?
        cat "$work/refused.out"
        ((status == 2)) || fail "gpu: --backend cupy without a GPU exited $status, not 2"
        expect "$work/refused.out" "^gpu-omezarr: error: backend='cupy': " \
            "gpu: --backend cupy was not refused with one clear line"
        ! grep -q Traceback "$work/refused.out" || fail "gpu: --backend cupy: a traceback"
        [[ ! -e "$data/refused.zarr" ]] || fail "gpu: --backend cupy wrote before refusing"
        "${eng[@]}" run --rm "${limits[@]}" --entrypoint python \
            -v "$repo/docker/check_nvrtc.py:/checks/check_nvrtc.py:ro" gpu-omezarr:gpu \
            /checks/check_nvrtc.py
    fi
done

# --- check the outputs from the host --------------------------------------------------------
step "host checks of the outputs"
check "$data" "${kinds[@]}" <<'EOF'
import sys
from pathlib import Path
import numpy as np
import tifffile
import zarr

data, kinds = Path(sys.argv[1]), sys.argv[2:]

def levels(path):
    group = zarr.open_group(path, mode="r")
    attrs = group.attrs.asdict()
    multiscales = attrs.get("ome", attrs)["multiscales"][0]
    return [group[d["path"]][...] for d in multiscales["datasets"]]

source = tifffile.imread(data / "in.tif")
for kind in kinds:
    converted = levels(data / f"conv-{kind}.zarr")
    assert converted[0].dtype == source.dtype and np.array_equal(converted[0], source), kind
    shapes = [a.shape for a in converted]
    assert len(shapes) > 1 and all(a[1] < b[1] for a, b in zip(shapes[1:], shapes)), shapes
    print(f"{kind}: convert level 0 equals the TIFF {source.shape} {source.dtype}; "
          f"levels {shapes}")
    for path in (data / f"demo-{kind}.zarr", data / f"demo-{kind}.zarr/labels/blobs"):
        demo = levels(path)
        assert demo[0].shape == (8, 200, 200) and demo[0].any(), (path, demo[0].shape)
    print(f"{kind}: demo image and labels (8, 200, 200), {len(demo)} levels")
if len(kinds) == 2:  # the same bytes from both images
    for name in ("conv-{}.zarr", "demo-{}.zarr", "demo-{}.zarr/labels/blobs"):
        a, b = (levels(data / name.format(k)) for k in kinds)
        assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b)), name
    print("cpu and gpu images wrote equal arrays at every level")
EOF

# --- sizes -----------------------------------------------------------------------------------
step "image sizes"
for image in "$base" "${kinds[@]/#/gpu-omezarr:}"; do
    size=$("$engine" image inspect --format '{{.Size}}' "$image")
    printf '%-40s %6d MiB\n' "$image" $((size / 1048576))
done
step "all checks passed"
