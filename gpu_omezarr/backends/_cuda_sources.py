"""CUDA C sources of the CuPy backend, one thread per output element, 5-D canonical shapes.

The arithmetic mirrors the CPU kernels (``_ckernels.c``) exactly (same sums, same long
division, same rounding), so integer results are bit-identical to the CPU backend.
"""

from __future__ import annotations

# Shared prologue: unravel the output index and bound the input block.
_PROLOGUE = r"""
    const long long n[5] = {n0, n1, n2, n3, n4};
    const long long f[5] = {f0, f1, f2, f3, f4};
    const long long m[5] = {m0, m1, m2, m3, m4};
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        long long t = idx, lo[5], hi[5];
        for (int a = 4; a >= 0; --a) {
            long long o = t % m[a];
            t /= m[a];
            lo[a] = o * f[a];
            hi[a] = min(lo[a] + f[a], n[a]);
        }
"""

_PARAMS = (
    "long long n0, long long n1, long long n2, long long n3, long long n4, "
    "long long f0, long long f1, long long f2, long long f3, long long f4, "
    "long long m0, long long m1, long long m2, long long m3, long long m4, long long total"
)

_LOOP = r"""
        for (long long i0 = lo[0]; i0 < hi[0]; ++i0)
        for (long long i1 = lo[1]; i1 < hi[1]; ++i1)
        for (long long i2 = lo[2]; i2 < hi[2]; ++i2)
        for (long long i3 = lo[3]; i3 < hi[3]; ++i3) {
            const T* row = x + (((i0 * n1 + i1) * n2 + i2) * n3 + i3) * n4;
            for (long long i4 = lo[4]; i4 < hi[4]; ++i4) {
                BODY
            }
        }
"""

MEAN_INT = (
    r"""
extern "C" __global__ void mean_int(const T* x, T* out, PARAMS) {
PROLOGUE
        long long s = 0, cnt = 0;
"""
    + _LOOP.replace("BODY", "s += (long long)row[i4]; ++cnt;")
    + r"""
        long long q = s / cnt, r = s % cnt;
        if (r < 0) { r += cnt; q -= 1; }
        if (2 * r > cnt || (2 * r == cnt && (q & 1))) q += 1;
        out[idx] = (T)q;
    }
}
"""
)

# CuPy compiles every kernel with -ftz=true, which would flush float32 subnormals to zero in
# the float32 <-> float64 conversions (the CPU keeps them): the conversions are written as PTX
# instructions without .ftz, which that flag does not touch. Host builds (tests) use casts.
_CONVERT = r"""
__device__ __forceinline__ double widen(double v) { return v; }
__device__ __forceinline__ void narrow(double v, double* out) { *out = v; }
#ifdef __CUDA_ARCH__
__device__ __forceinline__ double widen(float v) {
    double d; asm("cvt.f64.f32 %0, %1;" : "=d"(d) : "f"(v)); return d;
}
__device__ __forceinline__ void narrow(double v, float* out) {
    float r; asm("cvt.rn.f32.f64 %0, %1;" : "=f"(r) : "d"(v)); *out = r;
}
#else
__device__ __forceinline__ double widen(float v) { return (double)v; }
__device__ __forceinline__ void narrow(double v, float* out) { *out = (float)v; }
#endif
"""

MEAN_FLOAT = (
    _CONVERT
    + r"""
extern "C" __global__ void mean_float(const T* x, T* out, PARAMS) {
PROLOGUE
        double s = 0.0;
        long long cnt = 0;
"""
    + _LOOP.replace("BODY", "s += widen(row[i4]); ++cnt;")
    + r"""
        narrow(s / (double)cnt, &out[idx]);
    }
}
"""
)

# 64-bit integers (x and out seen as long long): v = hi * 2^32 + lo, lo in [0, 2^32).
MEAN_WIDE = (
    r"""
extern "C" __global__ void mean_wide(const T* x, T* out, PARAMS, int is_unsigned) {
PROLOGUE
        long long shi = 0, slo = 0, cnt = 0;
"""
    + _LOOP.replace(
        "BODY",
        "long long v = row[i4]; long long h = v >> 32; if (is_unsigned) h &= 0xFFFFFFFFLL;"
        " shi += h; slo += v & 0xFFFFFFFFLL; ++cnt;",
    )
    + r"""
        long long q1 = shi / cnt, r1 = shi % cnt;
        if (r1 < 0) { r1 += cnt; q1 -= 1; }
        long long rest = r1 * 4294967296LL + slo;
        long long q2 = rest / cnt, r = rest % cnt;
        unsigned long long mean = (unsigned long long)q1 * 4294967296ULL + (unsigned long long)q2;
        if (2 * r > cnt || (2 * r == cnt && (q2 & 1))) mean += 1;
        out[idx] = (T)mean;
    }
}
"""
)

# Mode: pairwise counts over the block, most frequent wins, ties to the smallest value.
MODE = r"""
extern "C" __global__ void mode(const T* x, T* out, PARAMS) {
PROLOGUE
        long long ext[5], count = 1;
        for (int a = 0; a < 5; ++a) { ext[a] = hi[a] - lo[a]; count *= ext[a]; }
        const T first = x[(((lo[0] * n1 + lo[1]) * n2 + lo[2]) * n3 + lo[3]) * n4 + lo[4]];
        T best = first;
        long long best_count = 0;
        for (long long k = 0; k < count; ++k) {
            long long t2 = k, off[5];
            for (int a = 4; a >= 0; --a) { off[a] = lo[a] + t2 % ext[a]; t2 /= ext[a]; }
            const T v = x[(((off[0] * n1 + off[1]) * n2 + off[2]) * n3 + off[3]) * n4 + off[4]];
            long long c = 0;
            for (long long j = 0; j < count; ++j) {
                long long t3 = j, p[5];
                for (int a = 4; a >= 0; --a) { p[a] = lo[a] + t3 % ext[a]; t3 /= ext[a]; }
                c += x[(((p[0] * n1 + p[1]) * n2 + p[2]) * n3 + p[3]) * n4 + p[4]] == v;
            }
            if (c > best_count || (c == best_count && v < best)) { best = v; best_count = c; }
            if (best_count == count) break;  // one label fills the block
        }
        out[idx] = best;
    }
}
"""

CTYPES = {
    "uint8": "unsigned char",
    "uint16": "unsigned short",
    "uint32": "unsigned int",
    "uint64": "unsigned long long",
    "int8": "signed char",
    "int16": "short",
    "int32": "int",
    "int64": "long long",
    "float32": "float",
    "float64": "double",
    "bool": "unsigned char",
}


TEMPLATES = {"mean_int": MEAN_INT, "mean_float": MEAN_FLOAT, "mean_wide": MEAN_WIDE, "mode": MODE}


def source(template: str, ctype: str) -> str:
    """Kernel source for element type ``ctype``."""
    body = template.replace("PARAMS", _PARAMS).replace("PROLOGUE", _PROLOGUE)
    return f"typedef {ctype} T;\n{body}"
