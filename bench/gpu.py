"""The first GPU run: bit-identity with the NumPy backend, kernel bandwidth against a device
copy, and end-to-end write throughput (GiB/s, per-stage times) of the CuPy backend against the
NumPy backend on all cores of the same machine.

Run (on the GPU machine, through bench/gpu_run.sh):  python3 bench/gpu.py --out "$OUT"
Dry run anywhere (the stand-in as cupy, tiny sizes):
    PYTHONPATH=tests/fakecupy python bench/gpu.py --cpu-check --out /tmp/gpu-check

Timing (METHOD.md): kernels with CUDA events after a warm-up, median of repeats, on random
data (never zeros); writes with a host clock around the whole call (it synchronizes), one
warm-up write first, each writer in turn on the same in-memory image. Everything lands in
``OUT/gpu.json``; a short table is printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gpu_omezarr as g
from gpu_omezarr import gpu_zstd
from gpu_omezarr.backends import NumpyBackend
from gpu_omezarr.backends.base import INTEGER_DTYPES

GiB = 2**30
CHUNKS = (16, 256, 256)


def device_info(cp) -> dict:
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return {
        "device": name.decode() if isinstance(name, bytes) else str(name),
        "cupy": cp.__version__,
        "cuda_runtime": cp.cuda.runtime.runtimeGetVersion(),
        "fake": bool(getattr(cp, "__fake__", False)),
    }


def identity(gpu, cases: int, rng) -> dict:
    """Random shapes, factors and dtypes through both backends: integers bit-identical."""
    cpu = NumpyBackend()
    dtypes = [*INTEGER_DTYPES, np.dtype("float32"), np.dtype("float64"), np.dtype(bool)]
    checked, float_max_rel = 0, 0.0
    for i in range(cases):
        dtype = dtypes[i % len(dtypes)]
        ndim = int(rng.integers(1, 6))
        shape = tuple(int(n) for n in rng.integers(1, 40 if ndim < 4 else 12, ndim))
        factors = tuple(int(f) for f in rng.integers(1, 5, ndim))
        if dtype == np.dtype(bool):
            x, methods = rng.integers(0, 2, shape).astype(bool), ["mode", "nearest"]
        elif dtype.kind == "f":
            x, methods = rng.standard_normal(shape).astype(dtype), ["mean", "nearest"]
        else:
            info = np.iinfo(dtype)
            x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
            methods = ["mean", "mode", "nearest"]
        for method in methods:
            got = gpu.to_host(gpu.downsample(gpu.asarray(x), factors, method))
            want = cpu.downsample(x, factors, method)
            if dtype.kind == "f":
                rel = np.abs(got - want).max(initial=0) / max(np.abs(want).max(initial=0), 1e-30)
                float_max_rel = max(float_max_rel, float(rel))
            elif not np.array_equal(got, want):
                raise AssertionError(f"GPU != CPU: {dtype} {shape} {factors} {method}")
            checked += 1
    return {"cases": checked, "integers": "bit-identical", "float_max_rel_diff": float_max_rel}


def timed(cp, fn, repeats: int) -> float:
    """Median seconds of ``fn`` on the device (events), after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end) / 1e3)
    return statistics.median(times)


def kernels(gpu, cp, nbytes: int, repeats: int, rng) -> dict:
    """Each kernel's bytes moved (input read + output written) per second, against a
    device-to-device copy of the same input."""
    shape = (max(1, nbytes // (2 * 2048 * 2048)), 2048, 2048)
    host = rng.integers(0, 65535, shape, dtype=np.uint16)
    x = cp.asarray(host)
    y = cp.empty_like(x) if hasattr(cp, "empty_like") else cp.empty(x.shape, x.dtype)
    copy_s = timed(cp, lambda: y.__setitem__(Ellipsis, x), repeats)
    result = {"copy_GBps": 2 * x.nbytes / copy_s / 1e9, "shape": list(shape)}
    for label, dtype, factors, method in [
        ("mean_u16_2x2x2", np.uint16, (2, 2, 2), "mean"),
        ("mean_u16_1x2x2", np.uint16, (1, 2, 2), "mean"),
        ("mode_u32_2x2x2", np.uint32, (2, 2, 2), "mode"),
    ]:
        xi = x if dtype == np.uint16 else cp.asarray(host[: max(1, shape[0] // 2)].astype(dtype))
        out_bytes = xi.nbytes // int(np.prod(factors))
        s = timed(cp, lambda xi=xi, f=factors, m=method: gpu.downsample(xi, f, m), repeats)
        rate = (xi.nbytes + out_bytes) / s / 1e9
        result[label] = {"s": s, "GBps": rate, "of_copy": rate / result["copy_GBps"]}
    return result


def make_image(shape, dtype, rng) -> np.ndarray:
    """Smooth background plus noise (some compressibility), or labels (runs of ids); a
    random 64 MiB block repeated, so making 8 GiB costs memory bandwidth, not RNG time."""
    x = np.empty(shape, dtype)
    flat = x.reshape(-1)
    block = min(flat.size, 32 * 2**20)
    if dtype == np.uint16:
        base = (np.arange(block) % 4096).astype(np.uint16) + rng.integers(0, 64, block).astype(
            np.uint16
        )
    else:
        base = np.repeat(rng.integers(0, 5000, block // 64 + 1).astype(dtype), 64)[:block]
    for start in range(0, flat.size, block):
        n = min(block, flat.size - start)
        flat[start : start + n] = base[:n]
        base = np.roll(base, 4097)
    return x


def end_to_end(writers: dict, shape, dtype, method: str, levels: int, workdir: Path) -> dict:
    """Write time of the same image with each writer (``name: (backend, GPU zstd setting)``);
    every level compared."""
    x = make_image(shape, np.dtype(dtype), np.random.default_rng(1))
    out: dict = {"shape": list(shape), "dtype": str(np.dtype(dtype)), "GiB": x.nbytes / GiB}
    paths = {}
    for name, (backend, zstd) in writers.items():
        os.environ[gpu_zstd.ENV_VAR] = zstd
        path = workdir / f"{name}-{np.dtype(dtype)}.zarr"
        kwargs = dict(
            axes="zyx",
            method=method,
            scale_factors=[{"y": 2**i, "x": 2**i} for i in range(1, levels)],
            storage_options={"chunks": CHUNKS},  # default shards: 4 x 4 chunks, one nvCOMP batch
            backend=backend,
        )
        warm = x[: CHUNKS[0], :512, :512]
        g.write_image(warm, str(workdir / "warm.zarr"), overwrite=True, **kwargs)
        if hasattr(backend, "stats"):
            backend.stats.clear()
        start = time.perf_counter()
        g.write_image(x, str(path), **kwargs)
        seconds = time.perf_counter() - start
        out[name] = {
            "backend": backend.name,
            "gpu_zstd": zstd,
            "s": seconds,
            "GiBps": x.nbytes / GiB / seconds,
            "stages_s": dict(getattr(backend, "stats", {})),
        }
        paths[name] = path
    import zarr

    roots = [zarr.open_group(str(p), mode="r") for p in paths.values()]
    for key in sorted(roots[0].array_keys()):  # every level, in slabs
        a, *others = (r[key] for r in roots)
        for z in range(0, a.shape[0], 64):
            want = a[z : z + 64]
            for o in others:
                if not np.array_equal(o[z : z + 64], want):
                    raise AssertionError(f"{key}: backends wrote different values")
    out["levels_identical"] = True
    for name in writers:
        out[name]["speedup_vs_numpy"] = out["numpy"]["s"] / out[name]["s"]
    for p in paths.values():
        shutil.rmtree(p, ignore_errors=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.environ.get("OUT", "bench-gpu-out"))
    p.add_argument("--gib", type=float, default=8.0, help="size of each end-to-end image")
    p.add_argument("--levels", type=int, default=5)
    p.add_argument("--cases", type=int, default=3000, help="bit-identity cases")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--workdir", default=None, help="where the outputs go (default: a temp dir)")
    p.add_argument("--cpu-check", action="store_true", help="tiny sizes: a dry run anywhere")
    args = p.parse_args()
    if args.cpu_check:
        args.gib, args.cases, args.repeats = 0.004, 30, 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    gpu = CupyBackend()
    cp = gpu.cupy
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "argv": sys.argv}
    report["device"] = device_info(cp)
    report["cpu_cores"] = os.cpu_count()
    rng = np.random.default_rng(20261203)

    def save() -> None:
        (out / "gpu.json").write_text(json.dumps(report, indent=2, default=str))

    report["identity"] = identity(gpu, args.cases, rng)
    save()
    report["kernels"] = kernels(gpu, cp, int(min(args.gib, 2) * GiB), args.repeats, rng)
    save()
    cpu = NumpyBackend()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gpu-bench-"))
    report["cpu_backend"] = cpu.name
    os.environ[gpu_zstd.ENV_VAR] = "auto"
    gpu_zstd._available.cache_clear()
    nvcomp_ok = not isinstance(gpu_zstd._available(), str)
    report["nvcomp"] = nvcomp_ok or gpu_zstd._available()
    for dtype, method in (("uint16", "mean"), ("uint32", "mode")):
        z = max(CHUNKS[0], int(args.gib * GiB / (np.dtype(dtype).itemsize * 4096 * 4096)))
        shape = (z, 4096, 4096) if not args.cpu_check else (16, 96, 160)
        writers = {
            "cupy+nvcomp": (gpu, "auto" if nvcomp_ok else "off"),
            "cupy": (gpu, "off"),
            "numpy": (cpu, "off"),
        }
        report[f"write_{dtype}_{method}"] = end_to_end(
            writers, shape, dtype, method, args.levels, workdir
        )
        save()
    shutil.rmtree(workdir, ignore_errors=True)
    k = report["kernels"]
    print(f"device: {report['device']['device']}  copy {k['copy_GBps']:.0f} GB/s")
    for label in ("mean_u16_2x2x2", "mean_u16_1x2x2", "mode_u32_2x2x2"):
        print(f"  kernel {label}: {k[label]['GBps']:.0f} GB/s ({k[label]['of_copy']:.0%} of copy)")
    print(f"identity: {report['identity']['cases']} cases, integers bit-identical")
    for key in ("write_uint16_mean", "write_uint32_mode"):
        w = report[key]
        print(f"{key}: {w['GiB']:.2f} GiB, levels identical: {w['levels_identical']}")
        for name in ("cupy+nvcomp", "cupy", "numpy"):
            r = w[name]
            stages = {k: round(v, 3) for k, v in r["stages_s"].items()}
            print(
                f"  {name:12s} {r['GiBps']:6.2f} GiB/s  x{r['speedup_vs_numpy']:.2f} vs numpy  "
                f"zstd {r['gpu_zstd']}  stages {stages}"
            )


if __name__ == "__main__":
    main()
