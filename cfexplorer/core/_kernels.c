/* Compiled kernels for the hot loops numpy cannot fuse (issue #18): one ALS half-step.
 *
 * Optional: setup.py builds this where a C compiler is at hand, and core/als.py falls back to its numpy
 * form (the same solutions to 1e-8, tests/core/test_als.py) where it is not. Pure C against CPython's
 * buffer protocol: no numpy headers at build time. The caller (core/kernels.py) passes C-contiguous
 * arrays of the stated types; this file checks their sizes and every index it follows.
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

/* The Gram matrices' tiles vectorize well only with AVX2 and FMA: the loop over rows is compiled twice,
 * for CPUs with them and for others, and chosen at each call (solve_rows), every helper inlined into each
 * copy. GCC's target_clones("arch=haswell") would test the CPU's model, not its features: an AMD EPYC
 * got the slow copy. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WITH_AVX2 1
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

/* acc[a][b] = sum_r x[r][i0 + a] x[r][j0 + b] for a < 4, b < W: one tile of a Gram matrix, held in
 * registers while the rows stream past. x is n rows of stride ld. */
#define GRAM_TILE(W)                                                                                      \
    INLINE void gram_tile_##W(const double *x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t i0,       \
                                     Py_ssize_t j0, double *gram, Py_ssize_t ldg) {                     \
        double acc[4][W];                                                                                \
        for (int a = 0; a < 4; a++)                                                                      \
            for (int b = 0; b < W; b++) acc[a][b] = 0.0;                                                 \
        for (Py_ssize_t r = 0; r < n; r++) {                                                             \
            const double *row = x + r * ld;                                                              \
            for (int a = 0; a < 4; a++) {                                                                \
                double xa = row[i0 + a];                                                                 \
                for (int b = 0; b < W; b++) acc[a][b] += xa * row[j0 + b];                               \
            }                                                                                            \
        }                                                                                                \
        for (int a = 0; a < 4; a++)                                                                      \
            for (int b = 0; b < W; b++) gram[(i0 + a) * ldg + j0 + b] = acc[a][b];                       \
    }
GRAM_TILE(8)
GRAM_TILE(4)

/* The upper triangle (in 4-row tiles) of x^T x, x being n rows of width ld (a multiple of 4). */
INLINE void gram_upper(const double *x, Py_ssize_t n, Py_ssize_t ld, double *gram) {
    for (Py_ssize_t i0 = 0; i0 < ld; i0 += 4) {
        Py_ssize_t j0 = i0;
        for (; j0 + 8 <= ld; j0 += 8) gram_tile_8(x, n, ld, i0, j0, gram, ld);
        if (j0 < ld) gram_tile_4(x, n, ld, i0, j0, gram, ld);
    }
}

/* In-place Cholesky factor (lower, row-major, stride ld) of the leading m x m block of a symmetric
 * matrix whose upper triangle is filled, and the reciprocals of its diagonal (one division a column, not
 * one an entry); returns 0 where a pivot is not positive (NaN or inf input). */
INLINE int cholesky(double *a, Py_ssize_t m, Py_ssize_t ld, double *inverse_diagonal) {
    for (Py_ssize_t j = 0; j < m; j++) {
        double *row_j = a + j * ld;
        double s = row_j[j];
        for (Py_ssize_t k = 0; k < j; k++) s -= row_j[k] * row_j[k];
        if (!(s > 0.0) || !isfinite(s)) return 0;
        row_j[j] = sqrt(s);
        const double inverse = inverse_diagonal[j] = 1.0 / row_j[j];
        for (Py_ssize_t i = j + 1; i < m; i++) {
            double *row_i = a + i * ld;
            double t = row_j[i]; /* the upper triangle's (j, i) is the symmetric (i, j) */
            for (Py_ssize_t k = 0; k < j; k++) t -= row_i[k] * row_j[k];
            row_i[j] = t * inverse;
        }
    }
    return 1;
}

/* x = L^-T x for the lower factor of :func:`cholesky`, by columns of L^T (rows of L, contiguous). */
INLINE void back_substitute(const double *lower, Py_ssize_t m, Py_ssize_t ld, const double *inverse_diagonal,
                            double *x) {
    for (Py_ssize_t i = m - 1; i >= 0; i--) {
        const double *row_i = lower + i * ld;
        const double xi = x[i] *= inverse_diagonal[i];
        for (Py_ssize_t k = 0; k < i; k++) x[k] -= row_i[k] * xi;
    }
}

INLINE void count_fit(FitSums *fit, double residual, double rating, double low, double high) {
    double prediction = rating + residual;
    double clipped = prediction < low ? low : (prediction > high ? high : prediction);
    double error = clipped - rating;
    fit->squared_residuals += residual * residual;
    fit->squared_errors += error * error;
    fit->absolute_errors += fabs(error);
}

/* One row with n >= d ratings (or any row when the dual form is off): the bordered normal equations
 * [[X^T X + D, X^T t], [t^T X, t^T t + 1]] = L L^T, whose last row holds L^-1 X^T t; then L^T v = y. */
INLINE int solve_primal(const double *gathered, Py_ssize_t n, Py_ssize_t d, Py_ssize_t ld, const double *reg,
                        double *gram, double *inverse_diagonal, double *v) {
    gram_upper(gathered, n, ld, gram);
    for (Py_ssize_t i = 0; i < d; i++) gram[i * ld + i] += reg[i] + RIDGE;
    gram[d * ld + d] += 1.0;
    if (!cholesky(gram, d + 1, ld, inverse_diagonal)) return 0;
    for (Py_ssize_t i = 0; i < d; i++) v[i] = gram[d * ld + i];
    back_substitute(gram, d, ld, inverse_diagonal, v);
    return 1;
}

/* One row with n < d ratings: v = D^-1 X^T a with (X D^-1 X^T + I) a = t, an n x n system. The rows of
 * ``gathered`` are scaled by D^-1/2 in place; ``dual`` receives a (the residuals are -a). */
INLINE int solve_dual(double *gathered, Py_ssize_t n, Py_ssize_t d, Py_ssize_t ld, const double *root_scale,
                      double *gram, double *inverse_diagonal, double *dual, double *v) {
    for (Py_ssize_t r = 0; r < n; r++) {
        double *row = gathered + r * ld;
        for (Py_ssize_t k = 0; k < d; k++) row[k] *= root_scale[k];
    }
    if (n == 1) { /* a = t / (1 + s.s): no factor (the most common row of all, a movie rated once) */
        double s = 1.0;
        for (Py_ssize_t k = 0; k < d; k++) s += gathered[k] * gathered[k];
        if (!(s > 0.0) || !isfinite(s)) return 0;
        dual[0] = gathered[d] / s;
        for (Py_ssize_t k = 0; k < d; k++) v[k] = dual[0] * gathered[k] * root_scale[k];
        return 1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const double *row_i = gathered + i * ld;
        for (Py_ssize_t j = i; j < n; j++) {
            const double *row_j = gathered + j * ld;
            double s = 0.0;
            for (Py_ssize_t k = 0; k < d; k++) s += row_i[k] * row_j[k];
            gram[i * n + j] = s + (i == j ? 1.0 : 0.0);
        }
    }
    if (!cholesky(gram, n, n, inverse_diagonal)) return 0;
    for (Py_ssize_t i = 0; i < n; i++) { /* L y = t */
        double s = gathered[i * ld + d];
        for (Py_ssize_t k = 0; k < i; k++) s -= gram[i * n + k] * dual[k];
        dual[i] = s * inverse_diagonal[i];
    }
    back_substitute(gram, n, n, inverse_diagonal, dual); /* L^T a = y */
    for (Py_ssize_t k = 0; k < d; k++) v[k] = 0.0;
    for (Py_ssize_t r = 0; r < n; r++) {
        const double *row = gathered + r * ld;
        for (Py_ssize_t k = 0; k < d; k++) v[k] += dual[r] * row[k];
    }
    for (Py_ssize_t k = 0; k < d; k++) v[k] *= root_scale[k];
    return 1;
}

typedef struct {
    const double *design, *reg_diag, *root_scale, *value_of, *offset_of; /* offset_of: NULL for none */
    const int64_t *starts;
    const int32_t *column_of;
    Py_ssize_t n_rows, d, width, ld;
    int use_dual;
    double low, high;
} Problem;

/* Each row's working space, as long as the longest row needs: its gathered rows (stride ld), its system,
 * the dual form's unknowns and the factor's reciprocal diagonal. */
typedef struct {
    double *gathered, *gram, *dual, *inverse_diagonal;
} Scratch;

/* Every row's solution into ``out`` and the fit's sums; 0 where a system was not positive definite. */
INLINE int solve_rows_in(const Problem *p, const Scratch *scratch, double *out, FitSums *fit) {
    const Py_ssize_t d = p->d, width = p->width, ld = p->ld;
    const double *design = p->design, *value_of = p->value_of;
    double *gathered = scratch->gathered, *gram = scratch->gram, *dual = scratch->dual,
           *inverse_diagonal = scratch->inverse_diagonal;
    int positive_definite = 1;
    for (Py_ssize_t row = 0; row < p->n_rows; row++) {
        const Py_ssize_t begin = (Py_ssize_t)p->starts[row], n = (Py_ssize_t)(p->starts[row + 1] - begin);
        double *v = out + row * d;
        if (n == 0) {
            memset(v, 0, (size_t)d * sizeof(double));
            continue;
        }
        for (Py_ssize_t r = 0; r < n; r++) { /* [x_c, t] with t = value - the column's offset */
            if (r + 8 < n) /* the design rows lie at random in a few MB: ask for them ahead */
                __builtin_prefetch(design + (Py_ssize_t)p->column_of[begin + r + 8] * width);
            const double *source = design + (Py_ssize_t)p->column_of[begin + r] * width;
            double *target = gathered + r * ld;
            for (Py_ssize_t k = 0; k < d; k++) target[k] = source[k];
            target[d] = value_of[begin + r] - source[d];
        }
        const int solved = p->use_dual && n < d
                               ? solve_dual(gathered, n, d, ld, p->root_scale, gram, inverse_diagonal, dual, v)
                               : solve_primal(gathered, n, d, ld, p->reg_diag, gram, inverse_diagonal, v);
        if (!solved) {
            positive_definite = 0;
            for (Py_ssize_t k = 0; k < d; k++) v[k] = NAN;
            continue;
        }
        const double rating_offset = p->offset_of ? p->offset_of[row] : 0.0;
        if (p->use_dual && n < d) {
            for (Py_ssize_t r = 0; r < n; r++)
                count_fit(fit, -dual[r], value_of[begin + r] + rating_offset, p->low, p->high);
        } else {
            for (Py_ssize_t r = 0; r < n; r++) {
                const double *row_r = gathered + r * ld;
                double prediction = 0.0;
                for (Py_ssize_t k = 0; k < d; k++) prediction += row_r[k] * v[k];
                count_fit(fit, prediction - row_r[d], value_of[begin + r] + rating_offset, p->low, p->high);
            }
        }
    }
    return positive_definite;
}

#define SOLVE_ROWS_ARGUMENTS const Problem *p, const Scratch *scratch, double *out, FitSums *fit
static int solve_rows_baseline(SOLVE_ROWS_ARGUMENTS) {
    return solve_rows_in(p, scratch, out, fit);
}
#ifdef WITH_AVX2
__attribute__((target("avx2,fma"))) static int solve_rows_avx2(SOLVE_ROWS_ARGUMENTS) {
    return solve_rows_in(p, scratch, out, fit);
}
#endif

static int solve_rows(SOLVE_ROWS_ARGUMENTS) {
#ifdef WITH_AVX2
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return solve_rows_avx2(p, scratch, out, fit);
#endif
    return solve_rows_baseline(p, scratch, out, fit);
}

/* A C-contiguous buffer of ``count`` items (any number where count < 0) of the given size, floating point
 * (itemsize 8: float64) or integer (4: int32, 8: int64). */
static int buffer_of(PyObject *object, Py_buffer *view, int writable, int floating, Py_ssize_t itemsize,
                     Py_ssize_t count, const char *name) {
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return 0;
    char kind = view->format ? view->format[strlen(view->format) - 1] : 'B';
    int right_kind = floating ? kind == 'd' : strchr("ilq", kind) != NULL;
    if (!right_kind || view->itemsize != itemsize || (count >= 0 && view->len != count * itemsize)) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd %s items of %zd bytes, got %zd bytes of %zd ('%s')",
                     name, count, floating ? "floating-point" : "integer", itemsize, view->len, view->itemsize,
                     view->format ? view->format : "B");
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

PyDoc_STRVAR(als_half_step_doc,
"als_half_step(extended, indptr, columns, values, row_offset, reg, dual, solution, low, high)\n"
"\n"
"Every row's ridge solution v (core/als.py's module docstring) into ``solution`` (n_rows x d float64).\n"
"``extended``: the columns' design rows, then their offset (n_columns x (d + 1) float64); ``indptr``\n"
"(n_rows + 1 int64), ``columns`` (int32) and ``values`` (float64, the rating minus the row's offset):\n"
"each row's ratings; ``row_offset``: that offset (n_rows float64, or empty for none); ``reg``: D's\n"
"diagonal (d float64); ``dual``: whether rows with fewer than d ratings use the dual form. Returns the\n"
"sums (squared residuals, squared errors, absolute errors) of the predictions clipped to [low, high],\n"
"or NaNs where a system was not positive definite (a diverging run).");

static PyObject *als_half_step(PyObject *self, PyObject *args) {
    PyObject *objects[8];
    int use_dual;
    double low, high;
    if (!PyArg_ParseTuple(args, "OOOOOOpOdd", &objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &objects[5], &use_dual, &objects[6], &low, &high))
        return NULL;
    Py_buffer extended = {0}, indptr = {0}, columns = {0}, values = {0}, row_offset = {0}, reg = {0},
              solution = {0};
    PyObject *result = NULL;
    double *scratch = NULL;
    if (!buffer_of(objects[5], &reg, 0, 1, 8, -1, "reg")) return NULL;
    const Py_ssize_t d = reg.len / 8, width = d + 1;
    if (!buffer_of(objects[0], &extended, 0, 1, 8, -1, "extended") || extended.len % (width * 8)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "extended: rows of d + 1 values expected");
        goto done;
    }
    const Py_ssize_t n_columns = extended.len / (width * 8);
    if (!buffer_of(objects[1], &indptr, 0, 0, 8, -1, "indptr") || indptr.len < 8) {
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
    if (!buffer_of(objects[2], &columns, 0, 0, 4, n_ratings, "columns") ||
        !buffer_of(objects[3], &values, 0, 1, 8, n_ratings, "values") ||
        !buffer_of(objects[4], &row_offset, 0, 1, 8, -1, "row_offset") ||
        !buffer_of(objects[6], &solution, 1, 1, 8, n_rows * d, "solution"))
        goto done;
    if (row_offset.len != 0 && row_offset.len != n_rows * 8) {
        PyErr_SetString(PyExc_ValueError, "row_offset: one value per row, or none");
        goto done;
    }
    Py_ssize_t longest = 0;
    for (Py_ssize_t row = 0; row < n_rows; row++) {
        Py_ssize_t count = (Py_ssize_t)(starts[row + 1] - starts[row]);
        if (count < 0 || starts[row] < 0 || starts[row + 1] > n_ratings) {
            PyErr_SetString(PyExc_ValueError, "indptr: not a non-decreasing run of offsets into the ratings");
            goto done;
        }
        if (count > longest) longest = count;
    }
    const int32_t *column_of = (const int32_t *)columns.buf;
    for (Py_ssize_t r = 0; r < n_ratings; r++) {
        if (column_of[r] < 0 || column_of[r] >= n_columns) {
            PyErr_SetString(PyExc_IndexError, "columns: an index outside the design rows");
            goto done;
        }
    }
    const Py_ssize_t ld = (width + 3) / 4 * 4; /* gathered rows padded with zeros to whole tiles */
    const Py_ssize_t gram_size = ld * ld; /* the dual form's n x n systems are smaller: n < d < ld */
    scratch = calloc((size_t)(longest * ld + gram_size + longest + ld + d), sizeof(double));
    if (!scratch) {
        PyErr_NoMemory();
        goto done;
    }
    double *gathered = scratch, *gram = gathered + longest * ld, *dual = gram + gram_size,
           *inverse_diagonal = dual + longest, *root_scale = inverse_diagonal + ld;
    const double *design = (const double *)extended.buf, *reg_diag = (const double *)reg.buf,
                 *value_of = (const double *)values.buf,
                 *offset_of = row_offset.len ? (const double *)row_offset.buf : NULL;
    double *out = (double *)solution.buf;
    int positive_definite;
    FitSums fit = {0.0, 0.0, 0.0};
    double smallest_reg = INFINITY;
    for (Py_ssize_t k = 0; k < d; k++) {
        root_scale[k] = 1.0 / sqrt(reg_diag[k] + RIDGE);
        if (reg_diag[k] < smallest_reg) smallest_reg = reg_diag[k];
    }
    /* As core/als.py: with a regularization this small the primal form is the better conditioned. */
    use_dual = use_dual && smallest_reg + RIDGE >= 1e-3;
    const Problem problem = {design, reg_diag, root_scale, value_of, offset_of, starts, column_of, n_rows, d,
                             width, ld, use_dual, low, high};
    const Scratch rows_scratch = {gathered, gram, dual, inverse_diagonal};

    Py_BEGIN_ALLOW_THREADS
    positive_definite = solve_rows(&problem, &rows_scratch, out, &fit);
    Py_END_ALLOW_THREADS

    if (!positive_definite) fit.squared_residuals = fit.squared_errors = fit.absolute_errors = NAN;
    result = Py_BuildValue("(ddd)", fit.squared_residuals, fit.squared_errors, fit.absolute_errors);
done:
    free(scratch);
    Py_buffer *views[] = {&extended, &indptr, &columns, &values, &row_offset, &reg, &solution};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (views[i]->obj) PyBuffer_Release(views[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"als_half_step", als_half_step, METH_VARARGS, als_half_step_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Compiled kernels of cfexplorer.core (see core/kernels.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
