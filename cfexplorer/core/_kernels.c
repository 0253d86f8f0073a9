/* Compiled kernels for the hot loops numpy cannot fuse (issue #18): an ALS half-step (core/als.py), a
 * full-batch pass of the dot-product models and their scores of (user, item) pairs (core/mf.py), Adam's
 * update (core/optim.py), the ratings' arrangement by row for the half-steps, and np.bincount and the readers'
 * check for repeated (user, item) pairs without the GIL (core/kernels.py, core/sorting.py).
 *
 * Optional: setup.py builds this where a C compiler with GCC's vector extensions is at hand, and each caller
 * falls back to its numpy form (the same numbers to rounding, tests/core) where it is not (core/kernels.py).
 * Pure C against CPython's buffer protocol: no numpy headers at build time. The callers pass C-contiguous
 * arrays of the stated types; this file checks their types, sizes and every index it follows.
 *
 * Why not numba: a first training in the app would wait seconds for its JIT, holding the GIL (a frozen
 * window), and it adds some 40 MB of llvmlite to every install. Why not numpy: an epoch there is dozens
 * of passes over gathered copies of the ratings (measured in benchmarks/bench_epoch.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The loops vectorize well only with AVX2 and FMA: each kernel's loop is compiled twice, for CPUs with them
 * and for others (two kernels three times: below), and chosen at each call (use_avx2, use_avx512), every
 * helper inlined into each copy. GCC's
 * target_clones("arch=haswell") would test the CPU's model, not its features: an AMD EPYC got the slow
 * copy. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WITH_AVX2 1
static int fast_cpu(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
/* The full batch's pass (score_batch) and the ALS half-step (solve_rows) have a third copy for CPUs with AVX-512
 * (F, VL and DQ; GCC checks that the system saves the registers too). The full batch's loops over the ratings'
 * scores and losses then go eight doubles at a time, and its four-double vectors get 32 registers instead of
 * 16. On an AMD EPYC (Zen 4, whose 512-bit units are two 256-bit ones), latest-small's Adam epoch after a
 * matmul, as bench_epoch.py times it: 0.86 of the AVX2 copy's (six invocations, 0.86-0.95); the squared loss's
 * 0.89-1.01; 1M ratings 0.97. Compiled without DQ it gained less (0.88 against 0.82 back to back), with 256-bit
 * vectors preferred little (0.97). The ALS half-step, compiled so as it was, was no faster (1.01; nor on a Xeon,
 * README): its copy has Gram tiles of its own (BASELINE_TILES) and solves eight small systems at once
 * (_kernels_lanes.h). */
#define WITH_AVX512 1
static int avx512_cpu(void) {
    return fast_cpu() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq");
}
#if defined(__clang__) || __GNUC__ < 8 /* neither knows prefer-vector-width in a target attribute */
#define AVX512_TARGET "avx2,fma,avx512f,avx512vl,avx512dq"
#else /* GCC's own tuning for AVX-512 CPUs prefers 256-bit vectors: not here */
#define AVX512_TARGET "avx2,fma,avx512f,avx512vl,avx512dq,prefer-vector-width=512"
#endif
#endif

/* The widest copies the kernels may choose where the CPU has them (vector_extensions): the tests check every
 * copy this machine can run against numpy, and the benchmarks compare them in one process. Read as each kernel
 * starts: a change meanwhile gives that call one copy or the other, each the same computation. */
enum { ONLY_BASELINE, UP_TO_AVX2, UP_TO_AVX512 };
static int widest_allowed = UP_TO_AVX512;
#ifdef WITH_AVX2
static int use_avx2(void) { return __atomic_load_n(&widest_allowed, __ATOMIC_RELAXED) >= UP_TO_AVX2 && fast_cpu(); }
static int use_avx512(void) {
    return __atomic_load_n(&widest_allowed, __ATOMIC_RELAXED) >= UP_TO_AVX512 && avx512_cpu();
}
#endif
#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

#define RIDGE 1e-9

typedef struct {
    double squared_residuals, squared_errors, absolute_errors;
} FitSums;

/* Four doubles in one register (GCC's and clang's vector extension: AVX with the avx2 copy, two SSE
 * registers without); loaded and stored unaligned from arrays of doubles (load4, store4). Used where the
 * compilers' own vectorization fell short (the Gram tiles, the full batch's gradient, the four-lane solves).
 * An array of Vector4 itself must be aligned to 32 bytes: see aligned_vectors. */
typedef double Vector4 __attribute__((vector_size(32)));
INLINE Vector4 load4(const double *at) {
    Vector4 v;
    memcpy(&v, at, sizeof v);
    return v;
}
INLINE void store4(double *at, Vector4 v) { memcpy(at, &v, sizeof v); }

/* Eight doubles: only the AVX-512 copy's Gram tiles and solves use them (gram_upper, _kernels_lanes.h; the
 * other copies never reach them). */
typedef double Vector8 __attribute__((vector_size(64)));
INLINE Vector8 load8(const double *at) {
    Vector8 v;
    memcpy(&v, at, sizeof v);
    return v;
}
INLINE void store8(double *at, Vector8 v) { memcpy(at, &v, sizeof v); }

/* Lanes i, j, k, l of the eight in a and b (0-3 a's, 4-7 b's): clang and GCC 12 spell it
 * __builtin_shufflevector, older GCC only __builtin_shuffle (tests/core/test_kernels.py compiles that branch
 * too, with KERNELS_WITHOUT_SHUFFLEVECTOR defined). */
#if defined(__has_builtin) && !defined(KERNELS_WITHOUT_SHUFFLEVECTOR)
#if __has_builtin(__builtin_shufflevector)
#define SHUFFLE4(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#endif
#endif
#ifndef SHUFFLE4
typedef int64_t Mask4 __attribute__((vector_size(32)));
#define SHUFFLE4(a, b, i, j, k, l) __builtin_shuffle(a, b, (Mask4){i, j, k, l})
#endif

/* Four vectors' lanes regrouped: out[i] holds lane i of a, b, c and d, in that order. */
INLINE void transpose4(Vector4 a, Vector4 b, Vector4 c, Vector4 d, Vector4 *out) {
    const Vector4 ab_even = SHUFFLE4(a, b, 0, 4, 2, 6), ab_odd = SHUFFLE4(a, b, 1, 5, 3, 7);
    const Vector4 cd_even = SHUFFLE4(c, d, 0, 4, 2, 6), cd_odd = SHUFFLE4(c, d, 1, 5, 3, 7);
    out[0] = SHUFFLE4(ab_even, cd_even, 0, 1, 4, 5);
    out[1] = SHUFFLE4(ab_odd, cd_odd, 0, 1, 4, 5);
    out[2] = SHUFFLE4(ab_even, cd_even, 2, 3, 6, 7);
    out[3] = SHUFFLE4(ab_odd, cd_odd, 2, 3, 6, 7);
}

/* One tile of a Gram matrix, rows i0..i0+3 and columns j0..j0+7 (or j0..j0+3): sum_r x[r][i] x[r][j] over n
 * rows of stride ld, held in registers while the rows stream past, then stored into ``gram`` (or, with
 * ``add``, added to what it holds). Written with explicit vectors: left
 * to itself the compiler shuffled every row's values into place (vpermpd), which cost more than the FMAs. */
INLINE void gram_tile_8(const double *x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t i0, Py_ssize_t j0, double *gram,
                        Py_ssize_t ldg, int add) {
    Vector4 low0 = {0}, low1 = {0}, low2 = {0}, low3 = {0}, high0 = {0}, high1 = {0}, high2 = {0}, high3 = {0};
    for (Py_ssize_t r = 0; r < n; r++) {
        const double *row = x + r * ld;
        const Vector4 low = load4(row + j0), high = load4(row + j0 + 4);
        low0 += row[i0] * low;
        high0 += row[i0] * high;
        low1 += row[i0 + 1] * low;
        high1 += row[i0 + 1] * high;
        low2 += row[i0 + 2] * low;
        high2 += row[i0 + 2] * high;
        low3 += row[i0 + 3] * low;
        high3 += row[i0 + 3] * high;
    }
    double *out = gram + i0 * ldg + j0;
    if (add) {
        low0 += load4(out), high0 += load4(out + 4), low1 += load4(out + ldg), high1 += load4(out + ldg + 4);
        low2 += load4(out + 2 * ldg), high2 += load4(out + 2 * ldg + 4);
        low3 += load4(out + 3 * ldg), high3 += load4(out + 3 * ldg + 4);
    }
    store4(out, low0), store4(out + 4, high0);
    store4(out + ldg, low1), store4(out + ldg + 4, high1);
    store4(out + 2 * ldg, low2), store4(out + 2 * ldg + 4, high2);
    store4(out + 3 * ldg, low3), store4(out + 3 * ldg + 4, high3);
}

/* The tiles of gram_tile_8 and gram_tile_4, eight columns to a vector: 4 x 16 and 4 x 8. */
INLINE void gram_tile_16(const double *x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t i0, Py_ssize_t j0, double *gram,
                         Py_ssize_t ldg, int add) {
    Vector8 low0 = {0}, low1 = {0}, low2 = {0}, low3 = {0}, high0 = {0}, high1 = {0}, high2 = {0}, high3 = {0};
    for (Py_ssize_t r = 0; r < n; r++) {
        const double *row = x + r * ld;
        const Vector8 low = load8(row + j0), high = load8(row + j0 + 8);
        low0 += row[i0] * low;
        high0 += row[i0] * high;
        low1 += row[i0 + 1] * low;
        high1 += row[i0 + 1] * high;
        low2 += row[i0 + 2] * low;
        high2 += row[i0 + 2] * high;
        low3 += row[i0 + 3] * low;
        high3 += row[i0 + 3] * high;
    }
    double *out = gram + i0 * ldg + j0;
    if (add) {
        low0 += load8(out), high0 += load8(out + 8), low1 += load8(out + ldg), high1 += load8(out + ldg + 8);
        low2 += load8(out + 2 * ldg), high2 += load8(out + 2 * ldg + 8);
        low3 += load8(out + 3 * ldg), high3 += load8(out + 3 * ldg + 8);
    }
    store8(out, low0), store8(out + 8, high0);
    store8(out + ldg, low1), store8(out + ldg + 8, high1);
    store8(out + 2 * ldg, low2), store8(out + 2 * ldg + 8, high2);
    store8(out + 3 * ldg, low3), store8(out + 3 * ldg + 8, high3);
}

INLINE void gram_tile_8_wide(const double *x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t i0, Py_ssize_t j0, double *gram,
                             Py_ssize_t ldg, int add) {
    Vector8 sum0 = {0}, sum1 = {0}, sum2 = {0}, sum3 = {0}, odd0 = {0}, odd1 = {0}, odd2 = {0}, odd3 = {0};
    Py_ssize_t r = 0;
    for (; r + 2 <= n; r += 2) { /* each sum in two, as in gram_tile_4 */
        const double *row = x + r * ld, *next = row + ld;
        const Vector8 columns = load8(row + j0), next_columns = load8(next + j0);
        sum0 += row[i0] * columns;
        sum1 += row[i0 + 1] * columns;
        sum2 += row[i0 + 2] * columns;
        sum3 += row[i0 + 3] * columns;
        odd0 += next[i0] * next_columns;
        odd1 += next[i0 + 1] * next_columns;
        odd2 += next[i0 + 2] * next_columns;
        odd3 += next[i0 + 3] * next_columns;
    }
    if (r < n) {
        const double *row = x + r * ld;
        const Vector8 columns = load8(row + j0);
        sum0 += row[i0] * columns;
        sum1 += row[i0 + 1] * columns;
        sum2 += row[i0 + 2] * columns;
        sum3 += row[i0 + 3] * columns;
    }
    sum0 += odd0, sum1 += odd1, sum2 += odd2, sum3 += odd3;
    double *out = gram + i0 * ldg + j0;
    if (add) sum0 += load8(out), sum1 += load8(out + ldg), sum2 += load8(out + 2 * ldg), sum3 += load8(out + 3 * ldg);
    store8(out, sum0), store8(out + ldg, sum1), store8(out + 2 * ldg, sum2), store8(out + 3 * ldg, sum3);
}

INLINE void gram_tile_4(const double *x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t i0, Py_ssize_t j0, double *gram,
                        Py_ssize_t ldg, int add, int few_registers) {
    /* Each sum in two, over the even and the odd rows: with four alone, each multiply-add waited on the one
     * before it (eight in flight keep the two units busy); 0.96 of a latest-small ALS epoch. Not where the
     * registers are few (see BASELINE_TILES). */
    Vector4 sum0 = {0}, sum1 = {0}, sum2 = {0}, sum3 = {0}, odd0 = {0}, odd1 = {0}, odd2 = {0}, odd3 = {0};
    Py_ssize_t r = 0;
    for (; !few_registers && r + 2 <= n; r += 2) {
        const double *row = x + r * ld, *next = row + ld;
        const Vector4 columns = load4(row + j0), next_columns = load4(next + j0);
        sum0 += row[i0] * columns;
        sum1 += row[i0 + 1] * columns;
        sum2 += row[i0 + 2] * columns;
        sum3 += row[i0 + 3] * columns;
        odd0 += next[i0] * next_columns;
        odd1 += next[i0 + 1] * next_columns;
        odd2 += next[i0 + 2] * next_columns;
        odd3 += next[i0 + 3] * next_columns;
    }
    for (; r < n; r++) {
        const double *row = x + r * ld;
        const Vector4 columns = load4(row + j0);
        sum0 += row[i0] * columns;
        sum1 += row[i0 + 1] * columns;
        sum2 += row[i0 + 2] * columns;
        sum3 += row[i0 + 3] * columns;
    }
    sum0 += odd0, sum1 += odd1, sum2 += odd2, sum3 += odd3;
    double *out = gram + i0 * ldg + j0;
    if (add) sum0 += load4(out), sum1 += load4(out + ldg), sum2 += load4(out + 2 * ldg), sum3 += load4(out + 3 * ldg);
    store4(out, sum0), store4(out + ldg, sum1), store4(out + 2 * ldg, sum2), store4(out + 3 * ldg, sum3);
}

/* The Gram tiles each copy of the loops takes (gram_upper). The copy for CPUs without AVX2 has, on x86-64, 16
 * registers of two doubles: the tiles' eight four-double sums (4 x 8, or 4 x 4 in two) took all of them, and GCC
 * spilled them to the stack at every row: an ALS epoch of latest-small 14 times the AVX2 copy's, 4 times numpy's
 * (on AVX-512 BLAS). There the tiles are 4 x 4 of four sums: 0.30 of that epoch. The AVX-512 copy's are eight
 * columns to a vector: half the multiply-adds where the CPU's 512-bit units are whole (a Xeon's; not measured
 * there), 0.98-0.99 of the epoch on an AMD EPYC (Zen 4), whose units are two 256-bit ones. */
enum { FOUR_WIDE_FEW_REGISTERS, FOUR_WIDE, EIGHT_WIDE };
#if defined(__x86_64__) && !defined(__AVX__)
#define BASELINE_TILES FOUR_WIDE_FEW_REGISTERS
#else
#define BASELINE_TILES FOUR_WIDE
#endif

/* Adds (or, without ``add``, stores) the upper triangle (in 4-row tiles) of x^T x, x being n rows of width ld
 * (a multiple of 4): the rows go through every tile a block of GRAM_BLOCK_ROWS at a time, read from the
 * first-level cache by each of its tiles. */
#define GRAM_BLOCK_ROWS 128
INLINE void gram_upper(const double *x, Py_ssize_t n, Py_ssize_t ld, double *gram, int add, int tiles) {
    for (Py_ssize_t i0 = 0; i0 < ld; i0 += 4) {
        Py_ssize_t j0 = i0;
        if (tiles == EIGHT_WIDE) {
            for (; j0 + 16 <= ld; j0 += 16) gram_tile_16(x, n, ld, i0, j0, gram, ld, add);
            for (; j0 + 8 <= ld; j0 += 8) gram_tile_8_wide(x, n, ld, i0, j0, gram, ld, add);
        } else if (tiles == FOUR_WIDE) {
            for (; j0 + 8 <= ld; j0 += 8) gram_tile_8(x, n, ld, i0, j0, gram, ld, add);
        }
        for (; j0 < ld; j0 += 4) gram_tile_4(x, n, ld, i0, j0, gram, ld, add, tiles == FOUR_WIDE_FEW_REGISTERS);
    }
}

INLINE double clip(double x, double low, double high) { return x < low ? low : (x > high ? high : x); }

INLINE void count_fit(FitSums *fit, double residual, double rating, double low, double high) {
    double error = clip(rating + residual, low, high) - rating;
    fit->squared_residuals += residual * residual;
    fit->squared_errors += error * error;
    fit->absolute_errors += fabs(error);
}

/* The dot product of two rows of n values, n a multiple of 4 (the gathered rows' padded stride). */
INLINE double dot4(const double *a, const double *b, Py_ssize_t n) {
    Vector4 sum = {0};
    for (Py_ssize_t k = 0; k < n; k += 4) sum += load4(a + k) * load4(b + k);
    return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

/* A chunk of design rows that stays in a second-level cache (1 MB on the smallest of the machines measured)
 * and a panel of Gram matrices, each read once a chunk: see solve_panel. Where the design rows fit one chunk, a
 * row's Gram matrix is whole once its own ratings are read: panels of as many rows as a solve has lanes,
 * solved at once (solve_panel_systems) while their Gram matrices are in the first-level cache. */
#define CHUNK_BYTES (512 * 1024)
#define MOST_LANES 8
#define PANEL_BYTES (4 * 1024 * 1024)

typedef struct {
    /* padded_design: the design rows as [x_c, -column offset, 0...], stride ld; offset_of: NULL: none */
    const double *padded_design, *reg_diag, *root_scale, *value_of, *offset_of;
    const int64_t *starts;
    const int32_t *column_of;
    Py_ssize_t n_rows, n_columns, d, ld;
    Py_ssize_t panel_rows, chunk_columns; /* see solve_panel */
    int use_dual, with_fit;
    double low, high;
} Problem;

/* Working space: a Gram block's gathered design rows (stride ld), a row of ld values; for a panel of rows their
 * Gram matrices, their indices, where each one's ratings stand in the current chunk, and whether each one's
 * system was solved. */
typedef struct {
    double *gathered, *padded, *panel_grams;
    /* room for up to eight rows' systems, one in each lane (_kernels_lanes.h: solve_primal), and eight dual-form
     * rows' design rows, interleaved, and unknowns (solve_dual); aligned to 64 bytes */
    void *systems, *dual_xs, *dual_a;
    Py_ssize_t *panel, *cursor, *solved;
    Py_ssize_t *dual_rows, *dual_waiting; /* for each n < d, up to MOST_LANES rows of n ratings, and how many */
} Scratch;

/* Design rows [x_c, t] of ratings begin..begin + n - 1 into ``gathered`` (stride ld), t being the rating's
 * value less its column's offset: each a copy of the padded design row [x_c, -offset_c, 0...] and the value. */
INLINE void gather(const Problem *p, Py_ssize_t begin, Py_ssize_t n, double *gathered) {
    const Py_ssize_t d = p->d, ld = p->ld;
    const double *design = p->padded_design, *value_of = p->value_of + begin;
    const int32_t *column_of = p->column_of + begin;
    for (Py_ssize_t r = 0; r < n; r++) {
        if (r + 8 < n) /* the design rows lie at random in up to a few MB: ask for them ahead */
            __builtin_prefetch(design + (Py_ssize_t)column_of[r + 8] * ld);
        const double *source = design + (Py_ssize_t)column_of[r] * ld;
        double *target = gathered + r * ld;
        for (Py_ssize_t k = 0; k < ld; k += 4) store4(target + k, load4(source + k));
        target[d] += value_of[r];
    }
}

/* Where row ``row``'s ratings in columns below ``end`` stop, from ``begin`` on: a binary search, its columns
 * ascending (a scan read every rating's column once more: 5% of an epoch on 10M ratings). */
INLINE Py_ssize_t chunk_end(const Problem *p, Py_ssize_t row, Py_ssize_t begin, Py_ssize_t end) {
    Py_ssize_t last = (Py_ssize_t)p->starts[row + 1];
    if (end >= p->n_columns) return last; /* the last chunk (or the only one) */
    while (begin < last) {
        const Py_ssize_t middle = begin + (last - begin) / 2;
        if (p->column_of[middle] < end)
            begin = middle + 1;
        else
            last = middle;
    }
    return begin;
}

#define LANES 4
#include "_kernels_lanes.h"
#undef LANES
#define LANES 8
#include "_kernels_lanes.h"
#undef LANES

/* The primal rows of a panel (``count`` of them, in s->panel). Their design rows are read a chunk of
 * p->chunk_columns columns at a time, every row of the panel taking its ratings in that chunk before the
 * next chunk, so that a chunk's rows stay in the second-level cache while the panel reads them: a row at a
 * time read the whole design at random from memory for each row (the movies' half-step of 10M ratings read
 * its 60,400 users' rows, 8 MB, so for each of 3,706 movies: half of the half-step's time). The more
 * ratings a panel has, the more often each row of a chunk is read from that cache; the panel's Gram
 * matrices add up chunk by chunk. After the systems are solved, a second pass over the chunks counts every
 * rating's residual, where the caller wants the fit. */
INLINE int solve_panel(const Problem *p, const Scratch *s, Py_ssize_t count, double *out, FitSums *fit,
                       int tiles, int width) {
    const Py_ssize_t d = p->d, ld = p->ld;
    int positive_definite = 1;
    for (Py_ssize_t i = 0; i < count; i++) s->cursor[i] = (Py_ssize_t)p->starts[s->panel[i]];
    for (Py_ssize_t first = 0; first < p->n_columns; first += p->chunk_columns) {
        for (Py_ssize_t i = 0; i < count; i++) {
            const Py_ssize_t row = s->panel[i], begin = s->cursor[i];
            const Py_ssize_t end = s->cursor[i] = chunk_end(p, row, begin, first + p->chunk_columns);
            for (Py_ssize_t block = begin; block < end; block += GRAM_BLOCK_ROWS) {
                const Py_ssize_t n = end - block < GRAM_BLOCK_ROWS ? end - block : GRAM_BLOCK_ROWS;
                gather(p, block, n, s->gathered);
                gram_upper(s->gathered, n, ld, s->panel_grams + i * ld * ld, block > (Py_ssize_t)p->starts[row],
                           tiles);
            }
        }
    }
    if (width == 8)
        solve_panel_systems_8(p, s, count, out);
    else
        solve_panel_systems_4(p, s, count, out);
    for (Py_ssize_t i = 0; i < count; i++) {
        positive_definite &= s->solved[i] != 0;
        s->cursor[i] = (Py_ssize_t)p->starts[s->panel[i]];
    }
    if (!p->with_fit) return positive_definite;
    for (Py_ssize_t first = 0; first < p->n_columns; first += p->chunk_columns) {
        for (Py_ssize_t i = 0; i < count; i++) {
            const Py_ssize_t row = s->panel[i], begin = s->cursor[i];
            const Py_ssize_t end = s->cursor[i] = chunk_end(p, row, begin, first + p->chunk_columns);
            if (!s->solved[i]) continue;
            const double *v = out + row * d, rating_offset = p->offset_of ? p->offset_of[row] : 0.0;
            /* x . v - t = [x, -offset, 0...] . [v, -1, 0...] - value */
            double *padded = s->padded;
            for (Py_ssize_t k = 0; k < d; k++) padded[k] = v[k];
            padded[d] = -1.0;
            for (Py_ssize_t k = d + 1; k < ld; k++) padded[k] = 0.0;
            for (Py_ssize_t r = begin; r < end; r++) {
                if (r + 8 < end) __builtin_prefetch(p->padded_design + (Py_ssize_t)p->column_of[r + 8] * ld);
                const double *x = p->padded_design + (Py_ssize_t)p->column_of[r] * ld;
                count_fit(fit, dot4(x, padded, ld) - p->value_of[r], p->value_of[r] + rating_offset, p->low, p->high);
            }
        }
    }
    return positive_definite;
}

INLINE int solve_dual(const Problem *p, const Scratch *s, const Py_ssize_t *rows, int lanes, Py_ssize_t n,
                      double *out, FitSums *fit, int width) {
    if (width == 8)
        return solve_dual_8(p, rows, lanes, n, (Vector8 *)s->dual_xs, (Vector8 *)s->systems, (Vector8 *)s->dual_a,
                            out, fit);
    return solve_dual_4(p, rows, lanes, n, (Vector4 *)s->dual_xs, (Vector4 *)s->systems, (Vector4 *)s->dual_a, out,
                        fit);
}

/* Every row's solution into ``out`` and the fit's sums; 0 where a system was not positive definite. Rows in the
 * dual form, a few ratings each, wait until ``width`` rows (the solves' lanes: 4 or 8) have as many, then are
 * solved at once (solve_dual_4 or _8), the few left of a count at the end together; the others in panels
 * (solve_panel). */
INLINE int solve_rows_in(const Problem *p, const Scratch *s, double *out, FitSums *fit, int tiles, int width) {
    int positive_definite = 1;
    Py_ssize_t count = 0;
    /* a design in one chunk: panels of one solve's rows (see CHUNK_BYTES) */
    const Py_ssize_t panel_rows = p->n_columns <= p->chunk_columns && p->panel_rows > width ? width : p->panel_rows;
    for (Py_ssize_t n = 0; n < p->d; n++) s->dual_waiting[n] = 0;
    for (Py_ssize_t row = 0; row < p->n_rows; row++) {
        const Py_ssize_t n = (Py_ssize_t)(p->starts[row + 1] - p->starts[row]);
        if (n <= 0) { /* below 0 only where the offsets changed after check_rows (the inputs must not change) */
            memset(out + row * p->d, 0, (size_t)p->d * sizeof(double));
        } else if (p->use_dual && n < p->d) {
            Py_ssize_t *waiting = s->dual_rows + MOST_LANES * n;
            waiting[s->dual_waiting[n]++] = row;
            if (s->dual_waiting[n] == width) {
                positive_definite &= solve_dual(p, s, waiting, width, n, out, fit, width);
                s->dual_waiting[n] = 0;
            }
        } else {
            s->panel[count++] = row;
            if (count == panel_rows) {
                positive_definite &= solve_panel(p, s, count, out, fit, tiles, width);
                count = 0;
            }
        }
    }
    if (count) positive_definite &= solve_panel(p, s, count, out, fit, tiles, width);
    for (Py_ssize_t n = 1; n < p->d; n++) { /* the rows left of a count, the lanes past them repeating one */
        const int lanes = (int)s->dual_waiting[n];
        if (lanes == 0) continue;
        Py_ssize_t *waiting = s->dual_rows + MOST_LANES * n;
        for (int l = lanes; l < width; l++) waiting[l] = waiting[lanes - 1];
        positive_definite &= solve_dual(p, s, waiting, lanes, n, out, fit, width);
    }
    return positive_definite;
}

#define SOLVE_ROWS_ARGUMENTS const Problem *p, const Scratch *scratch, double *out, FitSums *fit
static int solve_rows_baseline(SOLVE_ROWS_ARGUMENTS) {
    return solve_rows_in(p, scratch, out, fit, BASELINE_TILES, 4);
}
#ifdef WITH_AVX2
__attribute__((target("avx2,fma"))) static int solve_rows_avx2(SOLVE_ROWS_ARGUMENTS) {
    return solve_rows_in(p, scratch, out, fit, FOUR_WIDE, 4);
}
#endif
#ifdef WITH_AVX512
__attribute__((target(AVX512_TARGET))) static int solve_rows_avx512(SOLVE_ROWS_ARGUMENTS) {
    return solve_rows_in(p, scratch, out, fit, EIGHT_WIDE, 8);
}
#endif

static int solve_rows(SOLVE_ROWS_ARGUMENTS) {
#ifdef WITH_AVX512
    if (use_avx512()) return solve_rows_avx512(p, scratch, out, fit);
#endif
#ifdef WITH_AVX2
    if (use_avx2()) return solve_rows_avx2(p, scratch, out, fit);
#endif
    return solve_rows_baseline(p, scratch, out, fit);
}

/* A C-contiguous buffer of ``count`` items (any number where count < 0) of the given size, floating point
 * (itemsize 8: float64) or integer (4: int32, 8: int64). */
static int buffer_of(PyObject *object, Py_buffer *view, int writable, int floating, Py_ssize_t itemsize,
                     Py_ssize_t count, const char *name) {
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return 0;
    const char *format = view->format ? view->format : "B";
    if (format[0] == '@' || format[0] == '=') format++;
    /* one type in the machine's own byte order: not '>q' (another order), not a structure */
    const char kind = format[0] != '\0' && format[1] == '\0' ? format[0] : 0;
    int right_kind = floating ? kind == 'd' : kind != 0 && strchr("ilq", kind) != NULL;
    if (!right_kind || view->itemsize != itemsize || (count >= 0 && view->len != count * itemsize)) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd %s items of %zd bytes, got %zd bytes of %zd ('%s')",
                     name, count, floating ? "floating-point" : "integer", itemsize, view->len, view->itemsize,
                     view->format ? view->format : "B");
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

/* Releases the buffers a call took (those it got before an error, too). */
static void release_views(Py_buffer *views, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (views[i].obj) PyBuffer_Release(&views[i]);
}

PyDoc_STRVAR(als_half_step_doc,
"als_half_step(design, column_offset, indptr, columns, values, row_offset, reg, dual, solution, low, high,\n"
"              with_fit=True, chunk_columns=0, bias=None)\n"
"\n"
"Every row's ridge solution v (core/als.py's module docstring) into ``solution`` (n_rows x d float64).\n"
"``design``: the columns' design rows (n_columns x d float64), ``column_offset`` a fixed part of each\n"
"column's scores (n_columns float64). With ``bias`` (n_rows float64), the last of the d unknowns is a bias:\n"
"``design`` then holds the first d - 1 values of each design row (the last is 1), ``solution`` gets the\n"
"first d - 1 unknowns of each row and ``bias`` the last (a model's own arrays, written as they are). ``indptr``\n"
"(n_rows + 1 int64), ``columns`` (int32, ascending within each row) and ``values`` (float64, the rating\n"
"minus the row's offset): each row's ratings; ``row_offset``: that offset (n_rows float64, or empty for\n"
"none); ``reg``: D's diagonal (d float64); ``dual``: whether rows with fewer than d ratings use the dual\n"
"form. Returns the sums (squared residuals, squared errors, absolute errors) of the predictions clipped\n"
"to [low, high] (zeros without ``with_fit``), or NaNs where a system was not positive definite (a\n"
"diverging run). ``chunk_columns``: design rows read at a time (0: as many as fit the cache; tests ask for\n"
"fewer).");

typedef enum { ROWS_OK, BAD_OFFSETS, BAD_COLUMN, UNSORTED } RowsProblem;

/* Whether every int32 index is in 0..bound-1 (all_below for int64 ones), in one unsigned comparison an index
 * (a negative one wraps to above any bound), a loop that vectorizes. */
INLINE int all_below_int32(const int32_t *indices, Py_ssize_t n, Py_ssize_t bound) {
    const uint32_t limit = bound > INT32_MAX ? (uint32_t)INT32_MAX + 1u : (uint32_t)bound;
    uint32_t outside = 0;
    for (Py_ssize_t r = 0; r < n; r++) outside |= (uint32_t)indices[r] >= limit;
    return !outside;
}

/* Whether ``starts`` (n_rows + 1 of them) never fall from one row to the next: one loop that vectorizes. */
INLINE int never_falling(const int64_t *starts, Py_ssize_t n_rows) {
    int64_t falls = 0;
    for (Py_ssize_t row = 0; row < n_rows; row++) falls |= starts[row + 1] < starts[row];
    return !falls;
}

/* Whether CSR ``starts`` (n_rows + 1 offsets) and ``column_of`` (n_ratings indices) describe rows of columns
 * below n_columns, ascending within each row. Reads buffers only: called without the GIL. Each check is a loop
 * over all the ratings that vectorizes (checked row by row, they were 3% of a latest-small ALS epoch). */
static RowsProblem check_rows(const int64_t *starts, Py_ssize_t n_rows, Py_ssize_t n_ratings, const int32_t *column_of,
                              Py_ssize_t n_columns) {
    if (n_rows && (starts[0] < 0 || starts[n_rows] > n_ratings || !never_falling(starts, n_rows))) return BAD_OFFSETS;
    if (!all_below_int32(column_of, n_ratings, n_columns)) return BAD_COLUMN;
    /* The descents from one rating to the next, less those where a row begins. */
    const Py_ssize_t first = n_rows ? (Py_ssize_t)starts[0] : n_ratings;
    Py_ssize_t descents = 0, at_row_starts = 0;
    for (Py_ssize_t r = first + 1; r < n_ratings; r++) descents += column_of[r] < column_of[r - 1];
    for (Py_ssize_t row = 0; row < n_rows; row++) {
        const Py_ssize_t start = (Py_ssize_t)starts[row];
        if (start > first && starts[row + 1] > start) at_row_starts += column_of[start] < column_of[start - 1];
    }
    return descents > at_row_starts ? UNSORTED : ROWS_OK;
}

/* Unknowns a row, at most: the working space grows with their square (and a million factors is no model). */
#define MOST_UNKNOWNS 1000000
#define MOST_UNKNOWNS_TEXT "1000000"

/* ``count`` vectors aligned to their size, from malloc (aligned_alloc is missing from some C libraries); what
 * to free goes to ``allocated``. NULL where there is no memory. */
static Vector8 *aligned_vectors(Py_ssize_t count, void **allocated) {
    *allocated = malloc((size_t)count * sizeof(Vector8) + sizeof(Vector8));
    if (!*allocated) return NULL;
    const uintptr_t address = ((uintptr_t)*allocated + sizeof(Vector8) - 1) & ~(uintptr_t)(sizeof(Vector8) - 1);
    return (Vector8 *)address;
}

static PyObject *als_half_step(PyObject *self, PyObject *args) {
    PyObject *objects[8]; /* design, column_offset, indptr, columns, values, row_offset, reg, solution */
    PyObject *bias_object = Py_None;
    int use_dual;
    double low, high;
    int with_fit = 1;
    Py_ssize_t chunk_columns = 0;
    if (!PyArg_ParseTuple(args, "OOOOOOOpOdd|pnO", &objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &objects[5], &objects[6], &use_dual, &objects[7], &low, &high, &with_fit, &chunk_columns,
                          &bias_object))
        return NULL;
    if (chunk_columns < 0) {
        PyErr_SetString(PyExc_ValueError, "chunk_columns: 0 (by the cache) or a positive number expected");
        return NULL;
    }
    Py_buffer design_view = {0}, column_offset = {0}, indptr = {0}, columns = {0}, values = {0}, row_offset = {0},
              reg = {0}, solution = {0}, bias = {0};
    PyObject *result = NULL;
    double *scratch = NULL, *panel_scratch = NULL, *padded_design = NULL, *unknowns = NULL;
    void *vector_scratch = NULL; /* what aligned_vectors allocated */
    Py_ssize_t *dual_buckets = NULL;
    if (!buffer_of(objects[6], &reg, 0, 1, 8, -1, "reg")) return NULL;
    const Py_ssize_t d = reg.len / 8;
    if (d < 1 || d > MOST_UNKNOWNS) {
        PyErr_SetString(PyExc_ValueError, "reg: from one unknown a row to " MOST_UNKNOWNS_TEXT " expected");
        goto done;
    }
    const int with_bias = bias_object != Py_None;
    const Py_ssize_t given = with_bias ? d - 1 : d; /* values of a design row (and unknowns of a solution row) given */
    if (!buffer_of(objects[1], &column_offset, 0, 1, 8, -1, "column_offset")) goto done;
    const Py_ssize_t n_columns = column_offset.len / 8;
    if (!buffer_of(objects[0], &design_view, 0, 1, 8, n_columns * given, "design")) goto done;
    if (!buffer_of(objects[2], &indptr, 0, 0, 8, -1, "indptr") || indptr.len < 8) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "indptr: at least one entry expected");
        goto done;
    }
    const Py_ssize_t n_rows = indptr.len / 8 - 1;
    const int64_t *starts = (const int64_t *)indptr.buf;
    const Py_ssize_t n_ratings = (Py_ssize_t)starts[n_rows];
    if (n_ratings < 0) {
        PyErr_SetString(PyExc_ValueError, "indptr: a negative number of ratings");
        goto done;
    }
    if (!buffer_of(objects[3], &columns, 0, 0, 4, n_ratings, "columns") ||
        !buffer_of(objects[4], &values, 0, 1, 8, n_ratings, "values") ||
        !buffer_of(objects[5], &row_offset, 0, 1, 8, -1, "row_offset") ||
        !buffer_of(objects[7], &solution, 1, 1, 8, n_rows * given, "solution") ||
        (with_bias && !buffer_of(bias_object, &bias, 1, 1, 8, n_rows, "bias")))
        goto done;
    if (row_offset.len != 0 && row_offset.len != n_rows * 8) {
        PyErr_SetString(PyExc_ValueError, "row_offset: one value per row, or none");
        goto done;
    }
    const int32_t *column_of = (const int32_t *)columns.buf;
    RowsProblem rows_problem;
    /* A pass over every rating: 10-28 ms for 25M, which the GUI thread must not wait for. */
    Py_BEGIN_ALLOW_THREADS
    rows_problem = check_rows(starts, n_rows, n_ratings, column_of, n_columns);
    Py_END_ALLOW_THREADS
    if (rows_problem == BAD_OFFSETS) {
        PyErr_SetString(PyExc_ValueError, "indptr: not a non-decreasing run of offsets into the ratings");
        goto done;
    }
    if (rows_problem == BAD_COLUMN) {
        PyErr_SetString(PyExc_IndexError, "columns: an index outside the design rows");
        goto done;
    }
    if (rows_problem == UNSORTED) {
        PyErr_SetString(PyExc_ValueError, "columns: not ascending within a row");
        goto done;
    }
    const Py_ssize_t ld = (d + 1 + 3) / 4 * 4; /* gathered rows [x, t] padded with zeros to whole tiles */
    const Py_ssize_t gram_size = ld * ld; /* a primal row's Gram matrix in a panel */
    if (chunk_columns == 0) chunk_columns = CHUNK_BYTES / (ld * (Py_ssize_t)sizeof(double));
    if (chunk_columns < 1) chunk_columns = 1;
    Py_ssize_t panel_rows =
        n_columns <= chunk_columns ? MOST_LANES : PANEL_BYTES / (gram_size * (Py_ssize_t)sizeof(double));
    if (panel_rows > n_rows) panel_rows = n_rows;
    if (panel_rows < 1) panel_rows = 1;
    /* a Gram block's gathered rows, D^-1/2 and a row of ld values; each written before it is read */
    scratch = malloc((size_t)(GRAM_BLOCK_ROWS * ld + 2 * ld) * sizeof(double));
    panel_scratch = malloc((size_t)panel_rows * ((size_t)gram_size * sizeof(double) + 3 * sizeof(Py_ssize_t)) + 1);
    /* up to eight lanes of: a system of d + 1 unknowns, room for d interleaved design rows (ld each; a dual-form
     * row has fewer) and d unknowns */
    Vector8 *systems = aligned_vectors((d + 1) * (d + 1) + d * ld + d, &vector_scratch);
    padded_design = malloc((size_t)(n_columns * ld) * sizeof(double) + 1);
    /* for each n < d: MOST_LANES rows, and how many */
    dual_buckets = malloc((size_t)((MOST_LANES + 1) * d) * sizeof(Py_ssize_t));
    /* with a bias, each row's d unknowns are solved into here, then parted between solution and bias */
    unknowns = with_bias ? malloc((size_t)(n_rows * d) * sizeof(double) + 1) : NULL;
    if (!scratch || !panel_scratch || !systems || !padded_design || !dual_buckets || (with_bias && !unknowns)) {
        PyErr_NoMemory();
        goto done;
    }
    double *gathered = scratch, *root_scale = gathered + GRAM_BLOCK_ROWS * ld, *padded = root_scale + ld,
           *panel_grams = panel_scratch;
    Py_ssize_t *panel = (Py_ssize_t *)(panel_grams + panel_rows * gram_size), *cursor = panel + panel_rows,
               *solved = cursor + panel_rows;
    const double *design = (const double *)design_view.buf, *reg_diag = (const double *)reg.buf,
                 *value_of = (const double *)values.buf,
                 *offset_of = row_offset.len ? (const double *)row_offset.buf : NULL;
    double *out = with_bias ? unknowns : (double *)solution.buf;
    int positive_definite;
    FitSums fit = {0.0, 0.0, 0.0};
    for (Py_ssize_t k = 0; k < d; k++) root_scale[k] = 1.0 / sqrt(reg_diag[k] + RIDGE);
    const Problem problem = {padded_design, reg_diag, root_scale, value_of, offset_of, starts, column_of,
                             n_rows, n_columns, d, ld, panel_rows, chunk_columns, use_dual, with_fit, low, high};
    Vector8 *dual_xs = systems + (d + 1) * (d + 1), *dual_a = dual_xs + d * ld;
    const Scratch rows_scratch = {gathered, padded, panel_grams, systems, dual_xs,
                                  dual_a, panel, cursor, solved, dual_buckets, dual_buckets + MOST_LANES * d};

    Py_BEGIN_ALLOW_THREADS
    const double *offset_of_column = (const double *)column_offset.buf;
    for (Py_ssize_t column = 0; column < n_columns; column++) {
        double *row = padded_design + column * ld;
        memcpy(row, design + column * given, (size_t)given * sizeof(double));
        if (with_bias) row[d - 1] = 1.0;
        row[d] = -offset_of_column[column];
        for (Py_ssize_t k = d + 1; k < ld; k++) row[k] = 0.0;
    }
    positive_definite = solve_rows(&problem, &rows_scratch, out, &fit);
    if (with_bias) {
        double *factors_out = (double *)solution.buf, *bias_out = (double *)bias.buf;
        for (Py_ssize_t row = 0; row < n_rows; row++) {
            memcpy(factors_out + row * given, unknowns + row * d, (size_t)given * sizeof(double));
            bias_out[row] = unknowns[row * d + given];
        }
    }
    Py_END_ALLOW_THREADS

    if (!positive_definite) fit.squared_residuals = fit.squared_errors = fit.absolute_errors = NAN;
    result = Py_BuildValue("(ddd)", fit.squared_residuals, fit.squared_errors, fit.absolute_errors);
done:
    free(scratch);
    free(panel_scratch);
    free(vector_scratch);
    free(padded_design);
    free(dual_buckets);
    free(unknowns);
    Py_buffer *views[] = {&design_view, &column_offset, &indptr, &columns, &values, &row_offset, &reg, &solution,
                          &bias};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (views[i]->obj) PyBuffer_Release(views[i]);
    return result;
}


/* --- matrix factorization: a full batch's scores, data term and gradient in one pass ---------------- */

enum { SQUARED = 0, Y_RANGE = 1, CROSS_ENTROPY = 2 };

typedef struct {
    const int32_t *users;       /* each rating's, the ratings sorted by item */
    const int64_t *item_starts; /* item i's ratings are item_starts[i] .. item_starts[i + 1] - 1 */
    const double *y, *item_offsets, *user_factors, *item_factors, *user_bias, *item_bias; /* biases: NULL for none */
    double *prediction, *user_gradient, *item_gradient, *user_bias_gradient, *item_bias_gradient;
    Py_ssize_t n, k, n_users, n_items;
    int loss;
    double low, high;           /* the y-range */
    double clip_low, clip_high; /* the rating scale, for the training errors */
    double factor_reg, bias_reg;
} Batch;

/* Adds reg * param to each gradient entry; returns the sum of the parameters' squares. */
INLINE double add_weight_decay(const double *param, double *gradient, Py_ssize_t n, double reg) {
    double squares = 0.0;
    for (Py_ssize_t j = 0; j < n; j++) {
        gradient[j] += reg * param[j];
        squares += param[j] * param[j];
    }
    return squares;
}

typedef enum { RATINGS_OK, INDEX_OUTSIDE } RatingsProblem;

typedef struct {
    double data_term, squared_errors, absolute_errors, factor_squares, bias_squares;
    RatingsProblem problem;
} BatchSums;

/* e^x for x <= 0 in plain arithmetic, so that a loop of them vectorizes (libm's exp is one call per value,
 * and was a third of a full-batch epoch): e^x = 2^n e^r with n = rint(x / ln 2), |r| <= ln(2) / 2, e^r by
 * its Taylor series to r^13 (the rest is below 4e-18 of it) and 2^n written straight into the exponent's
 * bits. Below ln(2^-1022) = -708.396..., where e^x is no longer a normal double, 0; NaN stays NaN. Written to survive
 * -fassociative-math: r comes from fused multiply-adds (one rounding, not rearranged) and n is rounded by
 * rint, not by adding and subtracting 1.5 * 2^52, which reassociation would cancel. But clang, given all of
 * setup.py's flags, takes them for unsafe math and expands fma() into a multiply and an add where the CPU has no
 * FMA (the copy for CPUs without AVX2: 510 units in the last place at x = -542): there r comes from ln 2 in two
 * parts instead, the first of 32 bits, so that n times it is exact (GCC, given that form, reassociates it).
 * Within a few units in the last place of libm's exp (tests/core/test_kernels.py, each copy). */
INLINE double exp_nonpositive(double x) {
#if defined(__clang__) /* setup.py's flags allow reassociation, which would undo what ln 2's two parts keep */
#pragma clang fp reassociate(off)
#endif
    const double n = rint(x * 1.4426950408889634);
#if defined(__clang__)
    double r = x - n * 6.93147180369123816490e-01; /* ln 2's first 32 bits, */
    r -= n * 1.90821492927058770002e-10;           /* and what they leave out */
#else
    double r = fma(-n, 0.6931471805599453, x);  /* ln 2 as the nearest double, */
    r = fma(-n, 2.3190468138462996e-17, r);      /* and what that leaves out */
#endif
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* n + 1.5 * 2^52 holds n in its low bits; its bits less those of 1.5 * 2^52 are n as an integer. */
    const double shifter = 6755399441055744.0, shifted = n + shifter;
    int64_t shifted_bits, shifter_bits;
    memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
    memcpy(&shifter_bits, &shifter, sizeof shifter_bits);
    const int64_t scale_bits = (int64_t)((uint64_t)(shifted_bits - shifter_bits + 1023) << 52);
    double scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    return x < -708.3964185322641 ? 0.0 : p * scale; /* ln(2^-1022) */
}

/* 1 / (1 + e^-z) from e = e^-|z|, the side where the exponential cannot overflow. numpy's form (core/mf.py)
 * takes 0.5 (1 + tanh(z / 2)); the two agree to rounding. */
INLINE double sigmoid_given(double z, double e) { return (z >= 0.0 ? 1.0 : e) / (1.0 + e); }
INLINE double sigmoid(double z) { return sigmoid_given(z, exp_nonpositive(-fabs(z))); }

/* One item's run of ratings begin..end, factors f0..f0 + 4 vectors - 1: the item's gradient (its weight decay
 * included) summed in registers and stored, each rater's added to its row. The first block (``first``) also
 * adds each residual to its rater's bias gradient (if any) and returns their sum, the item's bias gradient
 * less its weight decay; the next ones return 0. ``vectors`` is a constant in each call the switch of item_run
 * makes (8 for a block of 8 or more), so the loops over it unroll and the arrays stay in registers. */
#define ITEM_RUN_VECTORS 8
INLINE double item_run_of(const int32_t *restrict users, const double *restrict residual, Py_ssize_t begin,
                          Py_ssize_t end, const double *restrict user_factors, double *restrict user_gradient,
                          double *restrict user_bias_gradient, Py_ssize_t k, Py_ssize_t f0, const double *restrict x,
                          double *restrict gx, double factor_reg, int first, const int vectors) {
    Vector4 xf[ITEM_RUN_VECTORS], sum[ITEM_RUN_VECTORS];
    for (int v = 0; v < vectors; v++) {
        xf[v] = load4(x + f0 + 4 * v);
        sum[v] = factor_reg * xf[v];
    }
    double bias_sum = 0.0;
    for (Py_ssize_t r = begin; r < end; r++) {
        const Py_ssize_t user = users[r], at = user * k + f0;
        const double e = residual[r];
        const double *w = user_factors + at;
        double *gw = user_gradient + at;
        for (int v = 0; v < vectors; v++) {
            sum[v] += e * load4(w + 4 * v);
            store4(gw + 4 * v, load4(gw + 4 * v) + e * xf[v]);
        }
        if (first) {
            if (user_bias_gradient) user_bias_gradient[user] += e;
            bias_sum += e;
        }
    }
    for (int v = 0; v < vectors; v++) store4(gx + f0 + 4 * v, sum[v]);
    return bias_sum;
}

INLINE double item_run(const int32_t *users, const double *residual, Py_ssize_t begin, Py_ssize_t end,
                       const double *user_factors, double *user_gradient, double *user_bias_gradient, Py_ssize_t k,
                       Py_ssize_t f0, const double *x, double *gx, double factor_reg, Py_ssize_t vectors) {
#define ITEM_RUN_CASE(V)                                                                                          \
    case V:                                                                                                    \
        return f0 == 0 ? item_run_of(users, residual, begin, end, user_factors, user_gradient, user_bias_gradient, \
                                     k, f0, x, gx, factor_reg, 1, V)                                           \
                       : item_run_of(users, residual, begin, end, user_factors, user_gradient, user_bias_gradient, \
                                     k, f0, x, gx, factor_reg, 0, V)
    switch (vectors) {
        ITEM_RUN_CASE(1); ITEM_RUN_CASE(2); ITEM_RUN_CASE(3); ITEM_RUN_CASE(4);
        ITEM_RUN_CASE(5); ITEM_RUN_CASE(6); ITEM_RUN_CASE(7); default: ITEM_RUN_CASE(8);
    }
#undef ITEM_RUN_CASE
}

/* One item's run of ratings begin..end, factors f0..f0 + 4 vectors - 1 of each rating's dot product: the item's
 * factors held in registers, each rater's row read in whole vectors. The first block (``first``) writes each
 * score, the item's offset and bias (``item_constant``) and the rater's bias added; the next ones add to it.
 * ``vectors`` is a constant in each call run_scores makes, as in item_run. */
INLINE void run_scores_of(const int32_t *restrict users, Py_ssize_t begin, Py_ssize_t end,
                          const double *restrict user_factors, Py_ssize_t k, Py_ssize_t f0, const double *restrict x,
                          const double *restrict user_bias, double item_constant, int first,
                          double *restrict prediction, const int vectors) {
    Vector4 xf[ITEM_RUN_VECTORS];
    for (int v = 0; v < vectors; v++) xf[v] = load4(x + f0 + 4 * v);
    for (Py_ssize_t r = begin; r < end; r++) {
        const Py_ssize_t user = users[r];
        const double *w = user_factors + user * k + f0;
        /* two sums, so that the multiply-adds do not all wait on one another */
        Vector4 even = xf[0] * load4(w), odd = {0.0, 0.0, 0.0, 0.0};
        for (int v = 1; v < vectors; v++) {
            if (v % 2) odd += xf[v] * load4(w + 4 * v);
            else even += xf[v] * load4(w + 4 * v);
        }
        const Vector4 sum = even + odd;
        const double z = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        if (first)
            prediction[r] = z + item_constant + (user_bias ? user_bias[user] : 0.0);
        else
            prediction[r] += z;
    }
}

INLINE void run_scores(const int32_t *users, Py_ssize_t begin, Py_ssize_t end, const double *user_factors,
                       Py_ssize_t k, Py_ssize_t f0, const double *x, const double *user_bias, double item_constant,
                       double *prediction, Py_ssize_t vectors) {
#define RUN_SCORES_CASE(V)                                                                                        \
    case V:                                                                                                    \
        if (f0 == 0)                                                                                           \
            run_scores_of(users, begin, end, user_factors, k, f0, x, user_bias, item_constant, 1, prediction, V); \
        else                                                                                                   \
            run_scores_of(users, begin, end, user_factors, k, f0, x, user_bias, item_constant, 0, prediction, V); \
        break
    switch (vectors) {
        RUN_SCORES_CASE(1); RUN_SCORES_CASE(2); RUN_SCORES_CASE(3); RUN_SCORES_CASE(4);
        RUN_SCORES_CASE(5); RUN_SCORES_CASE(6); RUN_SCORES_CASE(7); default: RUN_SCORES_CASE(8);
    }
#undef RUN_SCORES_CASE
}

/* The data term; every rating's prediction (unclipped) and the gradient of J (its weight decay included). In
 * three passes, each a loop whose iterations do not wait on one another: the scores (dot products), the
 * loss of each (an exponential), then the gradient; the first and the last run by run of one item's ratings
 * (b->item_starts: finding where each run ends by reading every rating's item was 8% of a latest-small
 * epoch), the item's factors and its gradient held in registers, its offset and biases taken with the first
 * block of factors (separate loops for them were a tenth of an epoch). Every user index is checked in the
 * first pass before it is used (a pass of its own was 7% of an epoch): the sums' ``problem`` says what was
 * wrong, the outputs then partly written. The item starts are the caller's to check (starts_cover).
 * ``residual``: room for n values. */
INLINE BatchSums score_batch_in(const Batch *b, double *residual) {
    const Py_ssize_t k = b->k, n = b->n, n_users = b->n_users, n_items = b->n_items;
    /* Read once into locals: the stores to the outputs could otherwise alias *b, reloaded at every rating. */
    const int32_t *users = b->users;
    const int64_t *item_starts = b->item_starts;
    const double *user_factors = b->user_factors, *item_factors = b->item_factors, *item_offsets = b->item_offsets;
    const double *user_bias = b->user_bias, *item_bias = b->item_bias, *y_of = b->y;
    double *user_gradient = b->user_gradient, *user_bias_gradient = b->user_bias_gradient;
    double *item_gradient = b->item_gradient, *item_bias_gradient = b->item_bias_gradient, *predictions = b->prediction;
    BatchSums sums = {0.0, 0.0, 0.0, 0.0, 0.0, RATINGS_OK};
    const Py_ssize_t whole = k - k % 4; /* the factors in whole vectors */
    /* a loop of its own for the last k mod 4 factors, and for the offsets and biases where no block takes them */
    const int rest = whole < k || whole == 0;
    for (Py_ssize_t item = 0; item < n_items; item++) {
        const Py_ssize_t begin = (Py_ssize_t)item_starts[item], end = (Py_ssize_t)item_starts[item + 1];
        if (begin == end) continue;
        if (!all_below_int32(users + begin, end - begin, n_users)) {
            sums.problem = INDEX_OUTSIDE;
            return sums;
        }
        const double *x = item_factors + item * k;
        const double c = item_offsets[item] + (item_bias ? item_bias[item] : 0.0);
        for (Py_ssize_t f0 = 0; f0 < whole; f0 += 4 * ITEM_RUN_VECTORS)
            run_scores(users, begin, end, user_factors, k, f0, x, user_bias, c, predictions, (whole - f0) / 4);
        if (rest) {
            for (Py_ssize_t r = begin; r < end; r++) {
                const double *w = user_factors + (Py_ssize_t)users[r] * k;
                double z = whole ? predictions[r] : c + (user_bias ? user_bias[users[r]] : 0.0);
                for (Py_ssize_t f = whole; f < k; f++) z += w[f] * x[f];
                predictions[r] = z;
            }
        }
    }
    const double low = b->low, span = b->high - b->low;
    /* The prediction and d(data term)/dz of each score, a loop for each loss so that each vectorizes (but the
     * cross-entropy's, whose log1p is a call). */
    const double clip_low = b->clip_low, clip_high = b->clip_high;
    double data_term = 0.0, squared_errors = 0.0, absolute_errors = 0.0;
#define COUNT_ERRORS(prediction, y)                                                                            \
    do {                                                                                                       \
        const double error = clip(prediction, clip_low, clip_high) - (y);                                     \
        squared_errors += error * error;                                                                       \
        absolute_errors += fabs(error);                                                                        \
    } while (0)
    if (b->loss == CROSS_ENTROPY) {
        for (Py_ssize_t r = 0; r < n; r++) {
            const double z = predictions[r], y = y_of[r];
            /* e^-|z| serves both the sigmoid and log(1 + e^z) = max(z, 0) + log1p(e^-|z|) */
            const double e = exp_nonpositive(-fabs(z)), prediction = sigmoid_given(z, e);
            data_term += (z > 0.0 ? z : 0.0) + log1p(e) - y * z;
            residual[r] = prediction - y;
            predictions[r] = prediction;
            COUNT_ERRORS(prediction, y);
        }
    } else if (b->loss == Y_RANGE) {
        for (Py_ssize_t r = 0; r < n; r++) {
            const double z = predictions[r], y = y_of[r];
            const double s = sigmoid(z), prediction = low + span * s;
            data_term += 0.5 * (prediction - y) * (prediction - y);
            residual[r] = (prediction - y) * span * s * (1.0 - s);
            predictions[r] = prediction;
            COUNT_ERRORS(prediction, y);
        }
    } else {
        for (Py_ssize_t r = 0; r < n; r++) {
            const double z = predictions[r], y = y_of[r];
            data_term += 0.5 * (z - y) * (z - y);
            residual[r] = z - y;
            COUNT_ERRORS(z, y);
        }
    }
#undef COUNT_ERRORS
    sums.data_term = data_term;
    sums.squared_errors = squared_errors;
    sums.absolute_errors = absolute_errors;
    /* The users' gradient is summed over the pass (it is small); each item's is written once, when its run of
     * ratings is done, with its weight decay: no pass of its own over the items' arrays, which are the
     * large ones (all of them are written: an item without ratings, an empty run, gets its weight decay
     * alone). */
    memset(user_gradient, 0, (size_t)(n_users * k) * sizeof(double));
    if (user_bias_gradient) memset(user_bias_gradient, 0, (size_t)n_users * sizeof(double));
    const double factor_reg = b->factor_reg, bias_reg = b->bias_reg;
    double item_factor_squares = 0.0, item_bias_squares = 0.0;
    for (Py_ssize_t item = 0; item < n_items; item++) {
        const Py_ssize_t begin = (Py_ssize_t)item_starts[item], end = (Py_ssize_t)item_starts[item + 1];
        const double *x = item_factors + item * k;
        double *gx = item_gradient + item * k;
        /* Up to 32 factors at a time across the item's ratings: their sums stay in registers, and each
         * rating's user index and residual are read once a block, not once every four factors. */
        double bias_sum = 0.0;
        for (Py_ssize_t f0 = 0; f0 < whole; f0 += 4 * ITEM_RUN_VECTORS)
            bias_sum += item_run(users, residual, begin, end, user_factors, user_gradient, user_bias_gradient, k,
                                 f0, x, gx, factor_reg, (whole - f0) / 4);
        for (Py_ssize_t f = 0; f < k; f++) item_factor_squares += x[f] * x[f];
        if (rest) {
            for (Py_ssize_t f = whole; f < k; f++) gx[f] = factor_reg * x[f];
            for (Py_ssize_t r = begin; r < end; r++) {
                const Py_ssize_t user = users[r];
                const double e = residual[r], *w = user_factors + user * k;
                double *gw = user_gradient + user * k;
                for (Py_ssize_t f = whole; f < k; f++) {
                    gx[f] += e * w[f];
                    gw[f] += e * x[f];
                }
                if (!whole) {
                    if (user_bias_gradient) user_bias_gradient[user] += e;
                    bias_sum += e;
                }
            }
        }
        if (item_bias) {
            item_bias_gradient[item] = bias_sum + bias_reg * item_bias[item];
            item_bias_squares += item_bias[item] * item_bias[item];
        }
    }
    sums.factor_squares = add_weight_decay(user_factors, user_gradient, n_users * k, factor_reg) + item_factor_squares;
    sums.bias_squares = item_bias_squares;
    if (user_bias) sums.bias_squares += add_weight_decay(user_bias, user_bias_gradient, n_users, bias_reg);
    return sums;
}

static BatchSums score_batch_baseline(const Batch *b, double *residual) { return score_batch_in(b, residual); }
#ifdef WITH_AVX2
__attribute__((target("avx2,fma"))) static BatchSums score_batch_avx2(const Batch *b, double *residual) {
    return score_batch_in(b, residual);
}
#endif

#ifdef WITH_AVX512
__attribute__((target(AVX512_TARGET))) static BatchSums score_batch_avx512(const Batch *b, double *residual) {
    return score_batch_in(b, residual);
}
#endif

static BatchSums score_batch(const Batch *b, double *residual) {
#ifdef WITH_AVX512
    if (use_avx512()) return score_batch_avx512(b, residual);
#endif
#ifdef WITH_AVX2
    if (use_avx2()) return score_batch_avx2(b, residual);
#endif
    return score_batch_baseline(b, residual);
}

PyDoc_STRVAR(mf_full_batch_doc,
"mf_full_batch(users, item_starts, y, item_offsets, user_factors, item_factors, user_bias, item_bias, loss, low,\n"
"              high, clip_low, clip_high, factor_reg, bias_reg, prediction, user_gradient, item_gradient,\n"
"              user_bias_gradient, item_bias_gradient)\n"
"\n"
"core/mf.py's scores z = w_u . x_i + b_u + c_i + o_i for every rating (``users``: int32, the ratings sorted\n"
"by item, item i's at item_starts[i] .. item_starts[i + 1] - 1, int64, one start an item and one past the\n"
"last; ``item_offsets``: o_i an item), in one call: each prediction (unclipped) into ``prediction``, and\n"
"the gradient of J = data term + factor_reg/2 |factors|^2 + bias_reg/2 |biases|^2 with respect to each\n"
"parameter array into the ``*_gradient`` arrays (overwritten; the parameters' shapes). Returns the data\n"
"term, the sums of squared and absolute errors of the predictions clipped to [clip_low, clip_high], and\n"
"the sums of squares of the factors and of the biases. The factors are 2-d arrays (users x k, items x k).\n"
"``loss``: 0 squared, 1 squared through the y-range (low, high), 2 binary cross-entropy. A bias and its\n"
"gradient are empty arrays for a model without that bias. ValueError where the starts do not begin at 0,\n"
"end at the number of ratings and never fall; the users are checked as the ratings are scored: IndexError\n"
"for one outside the arrays, the outputs then partly written.");

/* Whether ``starts`` (n_rows + 1 of them) part n_ratings ratings into runs: from 0 to n_ratings, never falling. */
static int starts_cover(const int64_t *starts, Py_ssize_t n_rows, Py_ssize_t n_ratings) {
    return starts[0] == 0 && starts[n_rows] == n_ratings && never_falling(starts, n_rows);
}

/* The rows and columns of a 2-d float64 array, else 0 with an exception set. */
static int matrix_shape(Py_buffer *view, Py_ssize_t *rows, Py_ssize_t *columns, const char *name) {
    if (view->ndim != 2 || !view->shape) {
        PyErr_Format(PyExc_ValueError, "%s: a 2-d array expected", name);
        return 0;
    }
    *rows = view->shape[0];
    *columns = view->shape[1];
    return 1;
}

/* The two factor arrays of a dot-product model: float64 matrices of n_users x k and n_items x k, the same k. */
static int factor_arrays(PyObject *users_object, PyObject *items_object, Py_buffer *user_view, Py_buffer *item_view,
                         Py_ssize_t *n_users, Py_ssize_t *n_items, Py_ssize_t *k) {
    Py_ssize_t k_items;
    if (!buffer_of(users_object, user_view, 0, 1, 8, -1, "user_factors") ||
        !matrix_shape(user_view, n_users, k, "user_factors") ||
        !buffer_of(items_object, item_view, 0, 1, 8, -1, "item_factors") ||
        !matrix_shape(item_view, n_items, &k_items, "item_factors"))
        return 0;
    if (*k != k_items) {
        PyErr_SetString(PyExc_ValueError, "user_factors, item_factors: the same number of factors expected");
        return 0;
    }
    return 1;
}

static PyObject *mf_full_batch(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[13];
    int loss;
    double low, high, clip_low, clip_high, factor_reg, bias_reg;
    if (!PyArg_ParseTuple(args, "OOOOOOOOiddddddOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &loss,
                          &low, &high, &clip_low, &clip_high, &factor_reg, &bias_reg, &o[8], &o[9], &o[10], &o[11],
                          &o[12]))
        return NULL;
    if (loss < SQUARED || loss > CROSS_ENTROPY) {
        PyErr_SetString(PyExc_ValueError, "loss: 0 (squared), 1 (y-range) or 2 (cross-entropy)");
        return NULL;
    }
    Py_buffer views[13];
    memset(views, 0, sizeof(views));
    PyObject *result = NULL;
    double *scratch = NULL;
    Py_ssize_t n_users, n_items, k;
    if (!factor_arrays(o[4], o[5], &views[4], &views[5], &n_users, &n_items, &k)) goto done;
    if (!buffer_of(o[0], &views[0], 0, 0, 4, -1, "users")) goto done;
    const Py_ssize_t n = views[0].len / 4;
    if (!buffer_of(o[1], &views[1], 0, 0, 8, n_items + 1, "item_starts") ||
        !buffer_of(o[2], &views[2], 0, 1, 8, n, "y") ||
        !buffer_of(o[3], &views[3], 0, 1, 8, n_items, "item_offsets") ||
        !buffer_of(o[6], &views[6], 0, 1, 8, -1, "user_bias") ||
        !buffer_of(o[7], &views[7], 0, 1, 8, -1, "item_bias") ||
        !buffer_of(o[8], &views[8], 1, 1, 8, n, "prediction") ||
        !buffer_of(o[9], &views[9], 1, 1, 8, n_users * k, "user_gradient") ||
        !buffer_of(o[10], &views[10], 1, 1, 8, n_items * k, "item_gradient") ||
        !buffer_of(o[11], &views[11], 1, 1, 8, views[6].len / 8, "user_bias_gradient") ||
        !buffer_of(o[12], &views[12], 1, 1, 8, views[7].len / 8, "item_bias_gradient"))
        goto done;
    if ((views[6].len && views[6].len != n_users * 8) || (views[7].len && views[7].len != n_items * 8)) {
        PyErr_SetString(PyExc_ValueError, "user_bias, item_bias: one value a user (an item), or none");
        goto done;
    }
    const int32_t *users = views[0].buf;
    const int64_t *item_starts = views[1].buf;
    if (!starts_cover(item_starts, n_items, n)) {
        PyErr_SetString(PyExc_ValueError, "item_starts: from 0 to the number of ratings, never falling, expected");
        goto done;
    }
    const Batch batch = {users, item_starts, views[2].buf, views[3].buf, views[4].buf, views[5].buf,
                         views[6].len ? views[6].buf : NULL, views[7].len ? views[7].buf : NULL,
                         views[8].buf, views[9].buf, views[10].buf,
                         views[11].len ? views[11].buf : NULL, views[12].len ? views[12].buf : NULL,
                         n, k, n_users, n_items, loss, low, high, clip_low, clip_high, factor_reg, bias_reg};
    scratch = malloc((size_t)(n + 1) * sizeof(double));
    if (!scratch) {
        PyErr_NoMemory();
        goto done;
    }
    BatchSums sums;
    Py_BEGIN_ALLOW_THREADS
    sums = score_batch(&batch, scratch);
    Py_END_ALLOW_THREADS
    if (sums.problem == INDEX_OUTSIDE)
        PyErr_SetString(PyExc_IndexError, "users: an index outside the parameter arrays");
    else
        result = Py_BuildValue("(ddddd)", sums.data_term, sums.squared_errors, sums.absolute_errors,
                               sums.factor_squares, sums.bias_squares);
done:
    free(scratch);
    release_views(views, sizeof(views) / sizeof(views[0]));
    return result;
}

/* --- Adam's update, one pass over a parameter array ---------------------------------------------------- */

INLINE void adam_in(double *param, const double *grad, double *m, double *v, Py_ssize_t n, double learning_rate,
                    double beta1, double beta2, double eps, double correction1, double correction2) {
    /* lr (m / c1) / (sqrt(v / c2) + eps) as (lr / c1) m / (sqrt(v) / sqrt(c2) + eps): one division and one
     * square root an entry instead of three divisions and a square root, the update's largest cost. */
    const double step_scale = learning_rate / correction1, root_scale = 1.0 / sqrt(correction2);
    for (Py_ssize_t j = 0; j < n; j++) {
        const double g = grad[j];
        m[j] = beta1 * m[j] + (1.0 - beta1) * g;
        v[j] = beta2 * v[j] + (1.0 - beta2) * g * g;
        param[j] -= step_scale * m[j] / (sqrt(v[j]) * root_scale + eps);
    }
}

#define ADAM_ARGUMENTS                                                                                          \
    double *param, const double *grad, double *m, double *v, Py_ssize_t n, double learning_rate, double beta1, \
        double beta2, double eps, double correction1, double correction2
#define ADAM_CALL param, grad, m, v, n, learning_rate, beta1, beta2, eps, correction1, correction2
static void adam_baseline(ADAM_ARGUMENTS) { adam_in(ADAM_CALL); }
#ifdef WITH_AVX2
__attribute__((target("avx2,fma"))) static void adam_avx2(ADAM_ARGUMENTS) { adam_in(ADAM_CALL); }
#endif

PyDoc_STRVAR(adam_step_doc,
"adam_step(param, grad, m, v, learning_rate, beta1, beta2, eps, correction1, correction2)\n"
"\n"
"core/optim.py's Adam update of one parameter array in place (all float64 of one size): the moments m\n"
"and v from ``grad``, then param -= learning_rate (m / correction1) / (sqrt(v / correction2) + eps), computed\n"
"as core/optim.py's numpy form orders it (the corrections folded into two constants).");

static PyObject *adam_step(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[4];
    double learning_rate, beta1, beta2, eps, correction1, correction2;
    if (!PyArg_ParseTuple(args, "OOOOdddddd", &o[0], &o[1], &o[2], &o[3], &learning_rate, &beta1, &beta2, &eps,
                          &correction1, &correction2))
        return NULL;
    Py_buffer views[4];
    memset(views, 0, sizeof(views));
    PyObject *result = NULL;
    if (!buffer_of(o[0], &views[0], 1, 1, 8, -1, "param")) goto done;
    const Py_ssize_t n = views[0].len / 8;
    if (!buffer_of(o[1], &views[1], 0, 1, 8, n, "grad") || !buffer_of(o[2], &views[2], 1, 1, 8, n, "m") ||
        !buffer_of(o[3], &views[3], 1, 1, 8, n, "v"))
        goto done;
    double *param = views[0].buf, *m = views[2].buf, *v = views[3].buf;
    const double *grad = views[1].buf;
    Py_BEGIN_ALLOW_THREADS
#ifdef WITH_AVX2
    if (use_avx2())
        adam_avx2(ADAM_CALL);
    else
#endif
        adam_baseline(ADAM_CALL);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_views(views, sizeof(views) / sizeof(views[0]));
    return result;
}

/* --- scores: the dot products of (user, item) pairs' factor rows ----------------------------------------- */

/* Whether every index is in 0..bound-1. Reads buffers only: called without the GIL. */
static int all_below(const int64_t *indices, Py_ssize_t n, Py_ssize_t bound) {
    int64_t outside = 0;
    for (Py_ssize_t r = 0; r < n; r++) outside |= (indices[r] < 0) | (indices[r] >= bound);
    return !outside;
}

INLINE void factor_dots_in(const double *user_factors, const double *item_factors, const int64_t *users,
                           const int64_t *items, Py_ssize_t n, Py_ssize_t k, double *out) {
    for (Py_ssize_t r = 0; r < n; r++) {
        const double *w = user_factors + users[r] * k, *x = item_factors + items[r] * k;
        double z = 0.0;
        for (Py_ssize_t f = 0; f < k; f++) z += w[f] * x[f];
        out[r] = z;
    }
}

#define FACTOR_DOTS_ARGUMENTS                                                                                    \
    const double *user_factors, const double *item_factors, const int64_t *users, const int64_t *items,         \
        Py_ssize_t n, Py_ssize_t k, double *out
#define FACTOR_DOTS_CALL user_factors, item_factors, users, items, n, k, out
static void factor_dots_baseline(FACTOR_DOTS_ARGUMENTS) { factor_dots_in(FACTOR_DOTS_CALL); }
#ifdef WITH_AVX2
__attribute__((target("avx2,fma"))) static void factor_dots_avx2(FACTOR_DOTS_ARGUMENTS) {
    factor_dots_in(FACTOR_DOTS_CALL);
}
#endif

PyDoc_STRVAR(factor_dots_doc,
"factor_dots(user_factors, item_factors, users, items, out)\n"
"\n"
"w_u . x_i for each pair (users[r], items[r]) into ``out`` (float64, one value a pair): the factor arrays\n"
"float64 of n_users x k and n_items x k, the pairs' indices int64. One pass with the GIL released, where\n"
"numpy gathered both rows of every pair into copies first (five times the time, core/mf.py).");

static PyObject *factor_dots(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    Py_buffer views[5];
    memset(views, 0, sizeof(views));
    PyObject *result = NULL;
    Py_ssize_t n_users, n_items, k;
    if (!factor_arrays(o[0], o[1], &views[0], &views[1], &n_users, &n_items, &k)) goto done;
    if (!buffer_of(o[2], &views[2], 0, 0, 8, -1, "users")) goto done;
    const Py_ssize_t n = views[2].len / 8;
    if (!buffer_of(o[3], &views[3], 0, 0, 8, n, "items") || !buffer_of(o[4], &views[4], 1, 1, 8, n, "out")) goto done;
    const int64_t *users = views[2].buf, *items = views[3].buf;
    int inside;
    Py_BEGIN_ALLOW_THREADS
    inside = all_below(users, n, n_users) && all_below(items, n, n_items);
    Py_END_ALLOW_THREADS
    if (!inside) {
        PyErr_SetString(PyExc_IndexError, "users, items: an index outside the factor arrays");
        goto done;
    }
    const double *user_factors = views[0].buf, *item_factors = views[1].buf;
    double *out = views[4].buf;
    Py_BEGIN_ALLOW_THREADS
#ifdef WITH_AVX2
    if (use_avx2())
        factor_dots_avx2(FACTOR_DOTS_CALL);
    else
#endif
        factor_dots_baseline(FACTOR_DOTS_CALL);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_views(views, sizeof(views) / sizeof(views[0]));
    return result;
}

/* --- counts and sums by index ----------------------------------------------------------------------------- */

PyDoc_STRVAR(bincount_doc,
"bincount(indices, out, weights=None)\n"
"\n"
"np.bincount into ``out`` (zeros of n values): each index (int64, 0 <= index < n) counted (``out`` int64) or\n"
"its weight added (``out`` float64, ``weights`` float64 one a index). With the GIL released, and reading a\n"
"read-only ``indices`` in place: np.bincount copies read-only input (the ratings' index arrays are) first,\n"
"holding the GIL, 40 ms for 25 million ratings.");

static PyObject *bincount(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[3] = {NULL, NULL, Py_None};
    if (!PyArg_ParseTuple(args, "OO|O", &o[0], &o[1], &o[2])) return NULL;
    Py_buffer views[3];
    memset(views, 0, sizeof(views));
    PyObject *result = NULL;
    const int weighted = o[2] != Py_None;
    if (!buffer_of(o[0], &views[0], 0, 0, 8, -1, "indices")) goto done;
    const Py_ssize_t n = views[0].len / 8;
    if (!buffer_of(o[1], &views[1], 1, weighted, 8, -1, "out") ||
        (weighted && !buffer_of(o[2], &views[2], 0, 1, 8, n, "weights")))
        goto done;
    const Py_ssize_t bins = views[1].len / 8;
    const int64_t *indices = views[0].buf;
    int inside;
    Py_BEGIN_ALLOW_THREADS
    inside = all_below(indices, n, bins);
    if (inside && weighted) {
        double *sums = views[1].buf;
        const double *weights = views[2].buf;
        for (Py_ssize_t r = 0; r < n; r++) sums[indices[r]] += weights[r];
    } else if (inside) {
        int64_t *counts = views[1].buf;
        for (Py_ssize_t r = 0; r < n; r++) counts[indices[r]]++;
    }
    Py_END_ALLOW_THREADS
    if (!inside) {
        PyErr_SetString(PyExc_IndexError, "indices: an index outside out");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    release_views(views, sizeof(views) / sizeof(views[0]));
    return result;
}

PyDoc_STRVAR(pairs_repeat_doc,
"pairs_repeat(rows, columns, n_rows, n_columns) -> bool\n"
"\n"
"Whether a (row, column) pair occurs twice (rows and columns int64, 0 <= row < n_rows, 0 <= column <\n"
"n_columns), by a table of one bit a possible pair, with the GIL released: a table of one byte a pair\n"
"(numpy's) was 224 MB for ten million ratings of 60,400 users and 3,706 movies, scattered into at random\n"
"and most of a load's time on a machine slow to give memory.");

static PyObject *pairs_repeat(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[2];
    Py_ssize_t n_rows, n_columns;
    if (!PyArg_ParseTuple(args, "OOnn", &o[0], &o[1], &n_rows, &n_columns)) return NULL;
    Py_buffer views[2];
    memset(views, 0, sizeof(views));
    PyObject *result = NULL;
    if (!buffer_of(o[0], &views[0], 0, 0, 8, -1, "rows")) goto done;
    const Py_ssize_t n = views[0].len / 8;
    if (!buffer_of(o[1], &views[1], 0, 0, 8, n, "columns")) goto done;
    if (n_rows <= 0 || n_columns <= 0 || n_rows > PY_SSIZE_T_MAX / n_columns) {
        PyErr_SetString(PyExc_ValueError, "n_rows and n_columns: positive, their product a size");
        goto done;
    }
    const int64_t *rows = views[0].buf, *columns = views[1].buf;
    const size_t words = ((size_t)n_rows * (size_t)n_columns + 63) / 64;
    int inside, repeated = 0, allocated;
    Py_BEGIN_ALLOW_THREADS
    inside = all_below(rows, n, n_rows) && all_below(columns, n, n_columns);
    uint64_t *seen = inside ? calloc(words, sizeof(uint64_t)) : NULL;
    allocated = seen != NULL;
    if (allocated) {
        for (Py_ssize_t r = 0; r < n; r++) {
            const uint64_t key = (uint64_t)rows[r] * (uint64_t)n_columns + (uint64_t)columns[r];
            const uint64_t bit = UINT64_C(1) << (key & 63);
            if (seen[key >> 6] & bit) {
                repeated = 1;
                break;
            }
            seen[key >> 6] |= bit;
        }
        free(seen);
    }
    Py_END_ALLOW_THREADS
    if (!inside) {
        PyErr_SetString(PyExc_IndexError, "rows or columns: an index outside n_rows or n_columns");
        goto done;
    }
    if (!allocated) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyBool_FromLong(repeated);
done:
    release_views(views, sizeof(views) / sizeof(views[0]));
    return result;
}

PyDoc_STRVAR(arrange_rows_doc,
"arrange_rows(rows, columns, values, row_offset, n_rows, n_columns, indptr, columns_out, values_out)\n"
"\n"
"The ratings by row, then column, equal pairs in their given order (a stable sort: np.lexsort((columns,\n"
"rows))), as CSR: ``indptr`` (n_rows + 1 int64) the start of each row, ``columns_out`` (int32, or int64 when\n"
"it is 8 bytes an item) each rating's column and ``values_out`` (float64) its value minus its row's\n"
"``row_offset`` (n_rows float64, or empty for none). ``rows`` and ``columns`` int64, ``values`` float64, one\n"
"a rating; n_rows below 2^32. Two counting sorts with the GIL released, without an order array: numpy's\n"
"radix sorts of an order and the gathers through it took three times as long (1.1 s of a 10M-rating fit's\n"
"start).");

/* The CSR starts of ``count`` keys into ``starts`` (n_keys + 1); 0 where a key is outside 0..n_keys-1. */
static int counting_starts(const int64_t *keys, Py_ssize_t count, Py_ssize_t n_keys, int64_t *starts) {
    memset(starts, 0, (size_t)(n_keys + 1) * sizeof(int64_t));
    int64_t outside = 0;
    for (Py_ssize_t r = 0; r < count; r++) {
        const uint64_t key = (uint64_t)keys[r];
        outside |= key >= (uint64_t)n_keys;
        starts[(key < (uint64_t)n_keys ? key : 0) + 1]++;
    }
    for (Py_ssize_t key = 0; key < n_keys; key++) starts[key + 1] += starts[key];
    return !outside;
}

typedef struct {
    const int64_t *rows, *columns;
    const double *values, *row_offset; /* row_offset NULL: none */
    Py_ssize_t n, n_rows, n_columns;
    int64_t *indptr;
    void *columns_out; /* int32_t or int64_t */
    int wide;
    double *values_out;
} Arrangement;

/* Places rating (row, column, value) at the next free slot of its row; 0 where the row or column is outside or
 * the row's slots are full. The GIL is released: another thread may change the inputs between the counting
 * pass and this one, so every index is checked where it is used, never trusted from an earlier pass. */
INLINE int place(const Arrangement *a, int64_t *next, int64_t row, int64_t column, double value) {
    if ((uint64_t)row >= (uint64_t)a->n_rows || (uint64_t)column >= (uint64_t)a->n_columns) return 0;
    const int64_t slot = next[row];
    if (slot >= a->indptr[row + 1]) return 0;
    next[row] = slot + 1;
    if (a->wide)
        ((int64_t *)a->columns_out)[slot] = column;
    else
        ((int32_t *)a->columns_out)[slot] = (int32_t)column;
    a->values_out[slot] = a->row_offset ? value - a->row_offset[row] : value;
    return 1;
}

enum { ARRANGED = 1, ARRANGE_OUT_OF_MEMORY = 0, ARRANGE_INDEX_OUTSIDE = -1 };

/* Two stable counting sorts: by column (skipped where the columns ascend already, as in a file listed by movie
 * for the users' side, or by user for the movies'), then by row. Sorting each row's few ratings by column after
 * one sort by row instead took twice as long (0.7 s at 10M: a merge sort's unpredictable branches). */
static int arrange(const Arrangement *a) {
    const Py_ssize_t n = a->n;
    int64_t *next = malloc((size_t)(a->n_rows > 0 ? a->n_rows : 1) * sizeof(int64_t));
    if (!next) return ARRANGE_OUT_OF_MEMORY;
    int result = counting_starts(a->rows, n, a->n_rows, a->indptr) ? ARRANGED : ARRANGE_INDEX_OUTSIDE;
    memcpy(next, a->indptr, (size_t)a->n_rows * sizeof(int64_t));
    int columns_ascend = 1;
    for (Py_ssize_t r = 1; r < n && columns_ascend; r++) columns_ascend = a->columns[r] >= a->columns[r - 1];
    if (result == ARRANGED && columns_ascend) {
        for (Py_ssize_t r = 0; r < n && result == ARRANGED; r++)
            if (!place(a, next, a->rows[r], a->columns[r], a->values[r])) result = ARRANGE_INDEX_OUTSIDE;
        free(next);
        return result;
    }
    /* By column into these (each rating's row and value; its column is its bucket), then by row. */
    int64_t *column_starts = NULL, *column_next = NULL;
    uint32_t *rows_by_column = NULL;
    double *values_by_column = NULL;
    if (result == ARRANGED) {
        column_starts = malloc((size_t)(a->n_columns + 1) * sizeof(int64_t));
        rows_by_column = malloc((size_t)(n > 0 ? n : 1) * sizeof(uint32_t));
        values_by_column = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
        column_next = malloc((size_t)(a->n_columns > 0 ? a->n_columns : 1) * sizeof(int64_t));
        if (!(column_starts && rows_by_column && values_by_column && column_next)) result = ARRANGE_OUT_OF_MEMORY;
    }
    if (result == ARRANGED && !counting_starts(a->columns, n, a->n_columns, column_starts))
        result = ARRANGE_INDEX_OUTSIDE;
    if (result == ARRANGED) {
        memcpy(column_next, column_starts, (size_t)a->n_columns * sizeof(int64_t));
        for (Py_ssize_t r = 0; r < n && result == ARRANGED; r++) {
            const uint64_t column = (uint64_t)a->columns[r], row = (uint64_t)a->rows[r];
            if (column >= (uint64_t)a->n_columns || row >= (uint64_t)a->n_rows ||
                column_next[column] >= column_starts[column + 1]) {
                result = ARRANGE_INDEX_OUTSIDE;
                break;
            }
            const int64_t slot = column_next[column]++;
            rows_by_column[slot] = (uint32_t)row;
            values_by_column[slot] = a->values[r];
        }
        for (Py_ssize_t column = 0; column < a->n_columns && result == ARRANGED; column++)
            for (int64_t slot = column_starts[column]; slot < column_starts[column + 1]; slot++)
                if (!place(a, next, rows_by_column[slot], column, values_by_column[slot])) {
                    result = ARRANGE_INDEX_OUTSIDE;
                    break;
                }
    }
    free(column_next);
    free(values_by_column);
    free(rows_by_column);
    free(column_starts);
    free(next);
    return result;
}

static PyObject *arrange_rows(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[7];
    Py_ssize_t n_rows, n_columns;
    if (!PyArg_ParseTuple(args, "OOOOnnOOO", &o[0], &o[1], &o[2], &o[3], &n_rows, &n_columns, &o[4], &o[5], &o[6]))
        return NULL;
    Py_buffer views[7];
    memset(views, 0, sizeof(views));
    PyObject *result = NULL;
    if (n_rows < 0 || n_columns < 0 || (uint64_t)n_rows > UINT32_MAX || n_columns >= PY_SSIZE_T_MAX / 8) {
        PyErr_SetString(PyExc_ValueError, "n_rows: 0 to 2^32 - 1 expected; n_columns: 0 to 2^60 expected");
        goto done;
    }
    if (!buffer_of(o[0], &views[0], 0, 0, 8, -1, "rows")) goto done;
    const Py_ssize_t n = views[0].len / 8;
    if (!buffer_of(o[1], &views[1], 0, 0, 8, n, "columns") || !buffer_of(o[2], &views[2], 0, 1, 8, n, "values"))
        goto done;
    if (!buffer_of(o[3], &views[3], 0, 1, 8, -1, "row_offset")) goto done;
    if (views[3].len != 0 && views[3].len != n_rows * 8) {
        PyErr_SetString(PyExc_ValueError, "row_offset: n_rows values or none expected");
        goto done;
    }
    if (!buffer_of(o[4], &views[4], 1, 0, 8, n_rows + 1, "indptr")) goto done;
    if (PyObject_GetBuffer(o[5], &views[5], PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) goto done;
    const int wide = views[5].itemsize == 8;
    PyBuffer_Release(&views[5]);
    if (!buffer_of(o[5], &views[5], 1, 0, wide ? 8 : 4, n, "columns_out") ||
        !buffer_of(o[6], &views[6], 1, 1, 8, n, "values_out"))
        goto done;
    if (!wide && n_columns > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "columns_out: int64 expected for more than 2^31 - 1 columns");
        goto done;
    }
    const Arrangement a = {views[0].buf, views[1].buf, views[2].buf, views[3].len ? views[3].buf : NULL,
                           n, n_rows, n_columns, views[4].buf, views[5].buf, wide, views[6].buf};
    int arranged;
    Py_BEGIN_ALLOW_THREADS
    arranged = arrange(&a);
    Py_END_ALLOW_THREADS
    if (arranged == ARRANGE_INDEX_OUTSIDE) {
        PyErr_SetString(PyExc_IndexError, "rows or columns: an index outside n_rows or n_columns (or changed "
                                          "during the call)");
        goto done;
    }
    if (arranged == ARRANGE_OUT_OF_MEMORY) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    release_views(views, sizeof(views) / sizeof(views[0]));
    return result;
}

PyDoc_STRVAR(vector_extensions_doc,
"vector_extensions(widest=None)\n"
"\n"
"The widest vector extensions the kernels use on this CPU: 'avx512' (the full batch's pass and the ALS\n"
"half-step; the rest AVX2), 'avx2' (with FMA) or 'none'. ``widest`` ('avx512', 'avx2' or 'none') limits the\n"
"copies they choose from, from the next call on: for the tests and benchmarks that compare the copies. By\n"
"default all.");

static PyObject *vector_extensions(PyObject *self, PyObject *args) {
    const char *widest = NULL;
    if (!PyArg_ParseTuple(args, "|z:vector_extensions", &widest)) return NULL;
    if (widest) {
        int allowed;
        if (strcmp(widest, "avx512") == 0)
            allowed = UP_TO_AVX512;
        else if (strcmp(widest, "avx2") == 0)
            allowed = UP_TO_AVX2;
        else if (strcmp(widest, "none") == 0)
            allowed = ONLY_BASELINE;
        else {
            PyErr_SetString(PyExc_ValueError, "widest: 'avx512', 'avx2' or 'none' expected");
            return NULL;
        }
        __atomic_store_n(&widest_allowed, allowed, __ATOMIC_RELAXED);
    }
#ifdef WITH_AVX2
    if (use_avx512()) return PyUnicode_FromString("avx512");
    if (use_avx2()) return PyUnicode_FromString("avx2");
#endif
    return PyUnicode_FromString("none");
}

static PyMethodDef methods[] = {
    {"arrange_rows", arrange_rows, METH_VARARGS, arrange_rows_doc},
    {"bincount", bincount, METH_VARARGS, bincount_doc},
    {"pairs_repeat", pairs_repeat, METH_VARARGS, pairs_repeat_doc},
    {"factor_dots", factor_dots, METH_VARARGS, factor_dots_doc},
    {"als_half_step", als_half_step, METH_VARARGS, als_half_step_doc},
    {"mf_full_batch", mf_full_batch, METH_VARARGS, mf_full_batch_doc},
    {"adam_step", adam_step, METH_VARARGS, adam_step_doc},
    {"vector_extensions", vector_extensions, METH_VARARGS, vector_extensions_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Compiled kernels of cfexplorer.core (see core/kernels.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
