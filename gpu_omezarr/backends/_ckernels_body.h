/* The kernels for one element type, included by _ckernels.c once per type with T (the
 * element type), SUFFIX (a short name) and ACC (the type of sums) defined, and undefined again
 * at the end. KIND is 'i' (integers of at most 32 bits: mean and mode), 'n' (the mean alone,
 * with narrow sums), 'w' (64-bit integers, seen as int64_t; WIDE_HI_MASK keeps the high halves
 * of uint64 unsigned) or 'f' (floats). */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)

#if KIND == 'i' || KIND == 'n'
/* Mean of integers of at most 32 bits: exact sums in ACC (int64_t; int32_t for 8- and 16-bit
 * integers in blocks small enough that their sums fit, which vectorises twice as wide). */
KERNEL static int CAT(mean, SUFFIX)(const void *xv, void *outv, const Geometry *g,
                                    int64_t *rows) {
    const T *restrict x = xv;
    T *restrict out = outv;
    const int64_t f4 = g->f[4], n4 = g->n[4], m4 = g->m[4], full = n4 / f4, tail = n4 - full * f4;
    ACC *restrict acc = malloc(sizeof(ACC) * m4);
    if (!acc) return -1;
    for (int64_t r = 0; r < output_rows(g); ++r) {
        const int64_t nrows = block_rows(g, r, rows);
        T *restrict dst = out + r * m4;
        memset(acc, 0, sizeof(ACC) * m4);
        for (int64_t j = 0; j < nrows; ++j) {
            const T *restrict row = x + rows[j];
            if (f4 == 2) {
                for (int64_t k = 0; k < full; ++k) acc[k] += (ACC)row[2 * k] + (ACC)row[2 * k + 1];
            } else {
                for (int64_t k = 0; k < full; ++k) {
                    ACC s = 0;
                    for (int64_t i = k * f4; i < k * f4 + f4; ++i) s += row[i];
                    acc[k] += s;
                }
            }
            for (int64_t i = full * f4; i < n4; ++i) acc[full] += row[i];
        }
        const ACC n = (ACC)(nrows * f4);
        const int shift = log2_exact(n);
        if (shift >= 0) { /* the usual case (2x2x2...): a shift, not a division */
            const ACC half = (ACC)1 << (shift > 0 ? shift - 1 : 0);
            const ACC low = ((ACC)1 << shift) - 1;
            for (int64_t k = 0; k < full; ++k) {
                const ACC q = acc[k] >> shift, rest = acc[k] & low;
                dst[k] = (T)(q + (rest > half || (rest == half && n > 1 && (q & 1))));
            }
        } else {
            for (int64_t k = 0; k < full; ++k) dst[k] = (T)div_rhe(acc[k], n);
        }
        if (tail) dst[full] = (T)div_rhe(acc[full], nrows * tail);
    }
    free(acc);
    return 0;
}
#endif

#if KIND == 'f'
/* Mean of floats: float64 sums, each input row's share of a block first, in a fixed order. */
KERNEL static int CAT(mean, SUFFIX)(const void *xv, void *outv, const Geometry *g,
                                    int64_t *rows) {
    const T *x = xv;
    T *out = outv;
    const int64_t f4 = g->f[4], n4 = g->n[4], m4 = g->m[4], full = n4 / f4;
    double *acc = malloc(sizeof(double) * m4);
    if (!acc) return -1;
    for (int64_t r = 0; r < output_rows(g); ++r) {
        const int64_t nrows = block_rows(g, r, rows);
        T *dst = out + r * m4;
        for (int64_t k = 0; k < m4; ++k) acc[k] = 0.0;
        for (int64_t j = 0; j < nrows; ++j) {
            const T *row = x + rows[j];
            for (int64_t k = 0; k < m4; ++k) {
                const int64_t end = k * f4 + f4 < n4 ? k * f4 + f4 : n4;
                double s = 0.0;
                for (int64_t i = k * f4; i < end; ++i) s += (double)row[i];
                acc[k] += s;
            }
        }
        for (int64_t k = 0; k < m4; ++k)
            dst[k] = (T)(acc[k] / (double)(nrows * (k < full ? f4 : n4 - full * f4)));
    }
    free(acc);
    return 0;
}
#endif

#if KIND == 'w'
/* Mean of 64-bit integers: each value is hi * 2^32 + lo with lo in [0, 2^32); both sums are
 * exact in int64 and the quotient is formed by long division. */
KERNEL static int CAT(mean, SUFFIX)(const void *xv, void *outv, const Geometry *g,
                                    int64_t *rows) {
    const int64_t *x = xv;
    T *out = outv;
    const int64_t f4 = g->f[4], n4 = g->n[4], m4 = g->m[4], full = n4 / f4;
    int64_t *hi = malloc(sizeof(int64_t) * 2 * m4);
    if (!hi) return -1;
    int64_t *lo = hi + m4;
    for (int64_t r = 0; r < output_rows(g); ++r) {
        const int64_t nrows = block_rows(g, r, rows);
        T *dst = out + r * m4;
        memset(hi, 0, sizeof(int64_t) * 2 * m4);
        for (int64_t j = 0; j < nrows; ++j) {
            const int64_t *row = x + rows[j];
            for (int64_t k = 0; k < m4; ++k) {
                const int64_t end = k * f4 + f4 < n4 ? k * f4 + f4 : n4;
                for (int64_t i = k * f4; i < end; ++i) {
                    hi[k] += (row[i] >> 32) & (WIDE_HI_MASK);
                    lo[k] += row[i] & 0xFFFFFFFFLL;
                }
            }
        }
        for (int64_t k = 0; k < m4; ++k) {
            const int64_t n = nrows * (k < full ? f4 : n4 - full * f4);
            int64_t q1 = hi[k] / n, r1 = hi[k] % n;
            if (r1 < 0) {
                r1 += n;
                q1 -= 1;
            }
            const int64_t rest = r1 * 4294967296LL + lo[k];
            const int64_t q2 = rest / n, r2 = rest % n;
            uint64_t mean = (uint64_t)q1 * 4294967296ULL + (uint64_t)q2; /* wraps to the bits */
            if (2 * r2 > n || (2 * r2 == n && (q2 & 1))) mean += 1;
            dst[k] = (T)mean;
        }
    }
    free(hi);
    return 0;
}
#endif

#if KIND == 'i' || KIND == 'w'
/* Mode of one block in buf: pairwise counts (branch free), the most frequent wins, ties to
 * the smallest. */
static inline T CAT(mode_of, SUFFIX)(const T *buf, int32_t *counts, int64_t count) {
    for (int64_t i = 0; i < count; ++i) counts[i] = 1;
    for (int64_t i = 0; i < count; ++i)
        for (int64_t j = i + 1; j < count; ++j) {
            const int32_t eq = buf[j] == buf[i];
            counts[i] += eq;
            counts[j] += eq;
        }
    T best = buf[0];
    int32_t best_count = counts[0];
    for (int64_t i = 1; i < count; ++i) { /* selects, not branches: the data decides */
        const int better = (counts[i] > best_count) | ((counts[i] == best_count) & (buf[i] < best));
        best = better ? buf[i] : best;
        best_count = better ? counts[i] : best_count;
    }
    return best;
}

/* Mode of a 2x2 block, branch free. */
static inline T CAT(mode4, SUFFIX)(T a, T b, T c, T d) {
    const int ca = (a == b) + (a == c) + (a == d), cb = (b == c) + (b == d), cc = (c == d);
    const int counts[4] = {ca, cb + (b == a), cc + (c == a) + (c == b), (d == a) + (d == b) + cc};
    const T v[4] = {a, b, c, d};
    T best = a;
    int best_count = counts[0];
    for (int i = 1; i < 4; ++i)
        if (counts[i] > best_count || (counts[i] == best_count && v[i] < best)) {
            best = v[i];
            best_count = counts[i];
        }
    return best;
}

/* Mode of integers; a block of one value (most blocks of a label image) costs one pass. */
KERNEL static int CAT(mode, SUFFIX)(const void *xv, void *outv, const Geometry *g,
                                    int64_t *rows) {
    const T *x = xv;
    T *out = outv;
    const int64_t f4 = g->f[4], n4 = g->n[4], m4 = g->m[4];
    const int64_t block = g->f[0] * g->f[1] * g->f[2] * g->f[3] * f4;
    T *buf = malloc(sizeof(T) * block);
    int32_t *counts = malloc(sizeof(int32_t) * block);
    if (!buf || !counts) {
        free(buf);
        free(counts);
        return -1;
    }
    for (int64_t r = 0; r < output_rows(g); ++r) {
        const int64_t nrows = block_rows(g, r, rows);
        T *dst = out + r * m4;
        int64_t k = 0;
        if (f4 == 2 && nrows == 2) { /* 2x2 blocks */
            const T *a = x + rows[0], *b = x + rows[1];
            for (; k < n4 / 2; ++k)
                dst[k] = CAT(mode4, SUFFIX)(a[2 * k], a[2 * k + 1], b[2 * k], b[2 * k + 1]);
        } else if (f4 == 2 && nrows == 4) { /* 2x2x2 blocks: uniform ones first */
            const T *a = x + rows[0], *b = x + rows[1], *c = x + rows[2], *d = x + rows[3];
            for (; k < n4 / 2; ++k) {
                const int64_t i = 2 * k;
                const T first = a[i];
                if (a[i + 1] == first && b[i] == first && b[i + 1] == first && c[i] == first &&
                    c[i + 1] == first && d[i] == first && d[i + 1] == first) {
                    dst[k] = first;
                    continue;
                }
                const T v[8] = {a[i], a[i + 1], b[i], b[i + 1], c[i], c[i + 1], d[i], d[i + 1]};
                int32_t c8[8];
                dst[k] = CAT(mode_of, SUFFIX)(v, c8, 8);
            }
        }
        for (; k < m4; ++k) { /* any other block */
            const int64_t end = k * f4 + f4 < n4 ? k * f4 + f4 : n4;
            const T first = x[rows[0] + k * f4];
            int64_t count = 0;
            int same = 1;
            for (int64_t j = 0; j < nrows; ++j)
                for (int64_t i = k * f4; i < end; ++i) {
                    const T v = x[rows[j] + i];
                    buf[count++] = v;
                    same &= v == first;
                }
            dst[k] = same ? first : CAT(mode_of, SUFFIX)(buf, counts, count);
        }
    }
    free(buf);
    free(counts);
    return 0;
}
#endif

#undef CAT
#undef CAT_
#undef T
#undef SUFFIX
#undef WIDE_HI_MASK
#undef ACC
