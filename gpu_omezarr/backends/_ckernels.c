/* Compiled CPU kernels of the NumPy backend: block mean and mode (semantics in base.py).
 *
 * Built at install time, so they cost nothing to load (numba cost half a second and 120 MB
 * per process). The input is any strided buffer of at most 5 dimensions whose rows (last
 * axis) are contiguous, seen as 5-D (leading axes of length 1 added): a view into a larger
 * array needs no copy. The output is C-contiguous. One pass over the input in memory order: a mean accumulates one output row at a
 * time, every input row of a block row added into a row of accumulators, then divided and
 * rounded half to even. The GIL is released while a kernel runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t n[5], f[5], m[5]; /* input shape, factors, output shape */
    int64_t s[4];             /* input strides of the first four axes, in elements */
} Geometry;

static inline int64_t output_rows(const Geometry *g) {
    return g->m[0] * g->m[1] * g->m[2] * g->m[3];
}

/* Offsets of the input rows that feed output row r (its index over the first four axes);
 * returns how many. */
static int64_t block_rows(const Geometry *g, int64_t r, int64_t *rows) {
    int64_t lo[4], hi[4], count = 0;
    for (int a = 3; a >= 0; --a) {
        lo[a] = r % g->m[a] * g->f[a];
        hi[a] = lo[a] + g->f[a] < g->n[a] ? lo[a] + g->f[a] : g->n[a];
        r /= g->m[a];
    }
    for (int64_t i0 = lo[0]; i0 < hi[0]; ++i0)
        for (int64_t i1 = lo[1]; i1 < hi[1]; ++i1)
            for (int64_t i2 = lo[2]; i2 < hi[2]; ++i2)
                for (int64_t i3 = lo[3]; i3 < hi[3]; ++i3)
                    rows[count++] = i0 * g->s[0] + i1 * g->s[1] + i2 * g->s[2] + i3 * g->s[3];
    return count;
}

/* Kernels are compiled twice on x86-64 (AVX2 and baseline), the better chosen at load time:
 * AVX2 makes the means 2-3x faster, and the extension still runs on any x86-64. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define KERNEL __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef KERNEL
#define KERNEL
#endif

/* floor(a / n) rounded half to even, n >= 1. */
static inline int64_t div_rhe(int64_t a, int64_t n) {
    int64_t q = a / n, r = a % n;
    if (r < 0) {
        r += n;
        q -= 1;
    }
    return q + (2 * r > n || (2 * r == n && (q & 1)));
}

/* log2(n) when n is a power of two, else -1. */
static inline int log2_exact(int64_t n) {
    if (n & (n - 1)) return -1;
    int s = 0;
    while (((int64_t)1 << s) < n) ++s;
    return s;
}

#define KIND 'n'
#define ACC int32_t
#define T uint8_t
#define SUFFIX u8_narrow
#include "_ckernels_body.h"
#define ACC int32_t
#define T int8_t
#define SUFFIX i8_narrow
#include "_ckernels_body.h"
#define ACC int32_t
#define T uint16_t
#define SUFFIX u16_narrow
#include "_ckernels_body.h"
#define ACC int32_t
#define T int16_t
#define SUFFIX i16_narrow
#include "_ckernels_body.h"
#undef KIND

#define KIND 'i'
#define ACC int64_t
#define T uint8_t
#define SUFFIX u8
#include "_ckernels_body.h"
#define ACC int64_t
#define T int8_t
#define SUFFIX i8
#include "_ckernels_body.h"
#define ACC int64_t
#define T uint16_t
#define SUFFIX u16
#include "_ckernels_body.h"
#define ACC int64_t
#define T int16_t
#define SUFFIX i16
#include "_ckernels_body.h"
#define ACC int64_t
#define T uint32_t
#define SUFFIX u32
#include "_ckernels_body.h"
#define ACC int64_t
#define T int32_t
#define SUFFIX i32
#include "_ckernels_body.h"
#undef KIND

#define KIND 'w'
#define T uint64_t
#define SUFFIX u64
#define WIDE_HI_MASK 0xFFFFFFFFLL
#include "_ckernels_body.h"
#define T int64_t
#define SUFFIX i64
#define WIDE_HI_MASK -1LL
#include "_ckernels_body.h"
#undef KIND

#define KIND 'f'
#define T float
#define SUFFIX f32
#include "_ckernels_body.h"
#define T double
#define SUFFIX f64
#include "_ckernels_body.h"
#undef KIND

typedef int (*Kernel)(const void *x, void *out, const Geometry *g, int64_t *rows);

/* Narrow: the same mean with int32 sums, exact for blocks of at most NARROW elements. */
#define NARROW_8 (1 << 23)
#define NARROW_16 (1 << 15)
static const struct {
    const char *method, *dtype;
    int64_t itemsize;
    Kernel kernel, narrow;
    int64_t narrow_max;
} KERNELS[] = {
    {"mean", "uint8", 1, mean_u8, mean_u8_narrow, NARROW_8},
    {"mean", "int8", 1, mean_i8, mean_i8_narrow, NARROW_8},
    {"mean", "uint16", 2, mean_u16, mean_u16_narrow, NARROW_16},
    {"mean", "int16", 2, mean_i16, mean_i16_narrow, NARROW_16},
    {"mean", "uint32", 4, mean_u32},
    {"mean", "int32", 4, mean_i32},
    {"mean", "uint64", 8, mean_u64},
    {"mean", "int64", 8, mean_i64},
    {"mean", "float32", 4, mean_f32},
    {"mean", "float64", 8, mean_f64},
    {"mode", "bool", 1, mode_u8},
    {"mode", "uint8", 1, mode_u8},
    {"mode", "int8", 1, mode_i8},
    {"mode", "uint16", 2, mode_u16},
    {"mode", "int16", 2, mode_i16},
    {"mode", "uint32", 4, mode_u32},
    {"mode", "int32", 4, mode_i32},
    {"mode", "uint64", 8, mode_u64},
    {"mode", "int64", 8, mode_i64},
};

static PyObject *downsample(PyObject *self, PyObject *args) {
    const char *method, *dtype;
    PyObject *x_obj;
    Py_buffer x = {0}, out = {0};
    long long f[5];
    if (!PyArg_ParseTuple(args, "ssOw*(LLLLL):downsample", &method, &dtype, &x_obj, &out, &f[0],
                          &f[1], &f[2], &f[3], &f[4]))
        return NULL;
    PyObject *result = NULL;
    Kernel kernel = NULL;
    int64_t itemsize = 0, out_size = 1, block_rows_max = 1;
    int64_t *rows = NULL;
    Geometry g;
    size_t which = 0;
    if (PyObject_GetBuffer(x_obj, &x, PyBUF_STRIDES) < 0) goto done;
    for (size_t i = 0; i < sizeof(KERNELS) / sizeof(KERNELS[0]); ++i)
        if (!strcmp(KERNELS[i].method, method) && !strcmp(KERNELS[i].dtype, dtype)) {
            which = i;
            kernel = KERNELS[i].kernel;
            itemsize = KERNELS[i].itemsize;
        }
    if (!kernel) {
        PyErr_Format(PyExc_TypeError, "no %s kernel for dtype %s", method, dtype);
        goto done;
    }
    if (x.ndim < 1 || x.ndim > 5 || x.itemsize != itemsize || x.strides[x.ndim - 1] != itemsize) {
        PyErr_SetString(PyExc_ValueError, "x must have 1 to 5 axes, the kernel's item size and "
                                          "contiguous rows");
        goto done;
    }
    const int pad = 5 - x.ndim;
    for (int a = 0; a < 5; ++a) {
        const int64_t n = a < pad ? 1 : x.shape[a - pad];
        const int64_t stride = a < pad ? 0 : x.strides[a - pad];
        if (n < 1 || f[a] < 1 || stride % itemsize) {
            PyErr_SetString(PyExc_ValueError, "shape and factors must be positive, strides "
                                              "whole elements");
            goto done;
        }
        g.n[a] = n;
        g.f[a] = f[a];
        g.m[a] = (n + f[a] - 1) / f[a];
        if (a < 4) g.s[a] = stride / itemsize;
        out_size *= g.m[a];
        if (a < 4) block_rows_max *= g.f[a];
    }
    if (KERNELS[which].narrow && block_rows_max * g.f[4] <= KERNELS[which].narrow_max)
        kernel = KERNELS[which].narrow;
    if (out.len != out_size * itemsize) {
        PyErr_SetString(PyExc_ValueError, "out's size does not match x's shape and factors");
        goto done;
    }
    rows = malloc(sizeof(int64_t) * block_rows_max);
    int failed = !rows;
    if (!failed) {
        Py_BEGIN_ALLOW_THREADS;
        failed = kernel(x.buf, out.buf, &g, rows);
        Py_END_ALLOW_THREADS;
    }
    if (failed)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
done:
    free(rows);
    if (x.obj) PyBuffer_Release(&x);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"downsample", downsample, METH_VARARGS,
     "downsample(method, dtype, x, out, factors)\n\n"
     "Block-reduce x (1-5 axes, contiguous rows, any other strides) by `factors` (5, "
     "leading ones for missing axes) into the C-contiguous out (ceil(shape / factors)). "
     "method: 'mean' or 'mode'; dtype: a NumPy dtype name."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ckernels", NULL, -1, methods};

PyMODINIT_FUNC PyInit__ckernels(void) { return PyModule_Create(&module); }
