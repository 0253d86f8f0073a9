/* The ALS half-step's small systems (18 unknowns for latest-small; a dual form's fewer), solved LANES at once,
 * one in each lane of a vector, since their own loops are too short to fill the vectors (their Cholesky
 * factors, one row at a time, were a fifth of an epoch). _kernels.c includes this twice: with LANES 4
 * (Lanes = Vector4) for the baseline and AVX2 copies, and with LANES 8 (Vector8) for the AVX-512 copy, where a
 * step of eight lanes costs what one of four does if the CPU's 512-bit units are whole (a Xeon's; not measured
 * there), and on an AMD EPYC, whose are two 256-bit halves, latest-small's ALS epoch took 0.95-0.98 of the time
 * of four lanes. Eight lanes in the AVX2 copy, two vectors a value, took 1.9 times as long (the compiler kept
 * them on the stack). LANED(f) names this inclusion's f: f_4 or f_8. */
#if !defined(LANES) || (LANES != 4 && LANES != 8)
#error "_kernels_lanes.h: define LANES as 4 or 8 before including it (see _kernels.c)"
#endif
#if LANES == 8
#define Lanes Vector8
#else
#define Lanes Vector4
#endif
#define LANED(name) LANED_WITH(name, LANES)
#define LANED_WITH(name, lanes) LANED_PASTE(name, lanes)
#define LANED_PASTE(name, lanes) name##_##lanes

/* LANED(cholesky) factors LANES symmetric m x m systems in place, the lower triangle kept by columns (column j
 * at system + j m, entries j..m-1; the upper triangle's rows, as gram_upper leaves them, are those columns) and
 * the diagonal replaced by its reciprocals. Right-looking: each column, once scaled, updates the columns after
 * it, multiply-adds that do not wait for one another. Returns which lanes had only positive pivots (1.0) and
 * which not (0.0: a failed lane goes on harmlessly; the caller discards it). */
INLINE Lanes LANED(cholesky)(Lanes *system, Py_ssize_t m) {
    Lanes positive = (Lanes){0} + 1.0;
    for (Py_ssize_t j = 0; j < m; j++) {
        Lanes *column_j = system + j * m;
        const Lanes pivot = column_j[j];
        Lanes root = {0};
        for (int l = 0; l < LANES; l++) {
            if (!(pivot[l] > 0.0) || !isfinite(pivot[l])) positive[l] = 0.0;
            root[l] = sqrt(pivot[l] > 0.0 ? pivot[l] : 1.0);
        }
        const Lanes inverse = 1.0 / root;
        column_j[j] = inverse;
        for (Py_ssize_t i = j + 1; i < m; i++) column_j[i] *= inverse;
        for (Py_ssize_t c = j + 1; c < m; c++) {
            Lanes *column_c = system + c * m;
            const Lanes lower_cj = column_j[c];
            for (Py_ssize_t i = c; i < m; i++) column_c[i] -= column_j[i] * lower_cj;
        }
    }
    return positive;
}

/* x = L^-T x with the first n columns of a factor of LANED(cholesky) (row i of L^T is column i of L). */
INLINE void LANED(back_substitute)(const Lanes *system, Py_ssize_t m, Py_ssize_t n, Lanes *x) {
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        const Lanes *column_i = system + i * m;
        Lanes sum = x[i];
        for (Py_ssize_t k = i + 1; k < n; k++) sum -= column_i[k] * x[k];
        x[i] = sum * column_i[i];
    }
}

/* The value at at[l] + offset in each lane l. */
INLINE Lanes LANED(into_lanes)(const double *const at[LANES], Py_ssize_t offset) {
    Lanes v;
    for (int l = 0; l < LANES; l++) v[l] = at[l][offset];
    return v;
}

/* LANES rows with at least d ratings each (or any rows when the dual form is off) at once, one in each lane,
 * the first ``lanes`` of them real (the others repeat one, and their answers are dropped). ``grams`` are their
 * upper triangles of [x, t]^T [x, t] (stride ld): the bordered normal equations [[X^T X + D, X^T t],
 * [t^T X, t^T t + 1]] = L L^T, whose last row holds L^-1 X^T t; then L^T v = it. ``system`` is room for
 * (d + 1)^2 vectors. ``v[l]`` gets lane l's solution (NaN where it failed), and ``solved[l]`` whether its
 * pivots were positive. */
INLINE void LANED(solve_primal)(Py_ssize_t d, Py_ssize_t ld, const double *reg, double *const grams[LANES],
                               int lanes, Lanes *system, double *const v[LANES], Py_ssize_t solved[LANES]) {
    const Py_ssize_t m = d + 1;
    for (Py_ssize_t j = 0; j < m; j++)
        for (Py_ssize_t i = j; i < m; i++)
            system[j * m + i] = LANED(into_lanes)((const double *const *)grams, j * ld + i);
    for (Py_ssize_t i = 0; i < d; i++) system[i * m + i] += reg[i] + RIDGE;
    system[d * m + d] += 1.0;
    const Lanes positive = LANED(cholesky)(system, m);
    /* The factor's last row, L[d][i] = system[i m + d], is L^-1 X^T t; then L^T v = it. The unknowns go where
     * the factor keeps nothing: column d above its diagonal. */
    Lanes *x = system + d * m;
    for (Py_ssize_t i = 0; i < d; i++) x[i] = system[i * m + d];
    LANED(back_substitute)(system, m, d, x);
    for (int l = 0; l < lanes; l++) {
        solved[l] = positive[l] != 0.0;
        for (Py_ssize_t k = 0; k < d; k++) v[l][k] = solved[l] ? x[k][l] : NAN;
    }
}

/* Four values of each of LANES rows (at[l] + k), transposed into the lanes: out[j] holds value k + j of every
 * row (a value at a time into its lane was 7% of a latest-small epoch). */
INLINE void LANED(transpose_into_lanes)(const double *const at[LANES], Py_ssize_t k, Lanes out[4]) {
#if LANES == 8
    Vector4 low[4], high[4];
    transpose4(load4(at[0] + k), load4(at[1] + k), load4(at[2] + k), load4(at[3] + k), low);
    transpose4(load4(at[4] + k), load4(at[5] + k), load4(at[6] + k), load4(at[7] + k), high);
    for (int j = 0; j < 4; j++) {
        memcpy(&out[j], &low[j], sizeof low[j]);
        memcpy((char *)&out[j] + sizeof low[j], &high[j], sizeof high[j]);
    }
#else
    transpose4(load4(at[0] + k), load4(at[1] + k), load4(at[2] + k), load4(at[3] + k), out);
#endif
}

/* The other way: by_lane[l] holds lane l of sums[0..3]. */
INLINE void LANED(transpose_out_of_lanes)(const Lanes sums[4], Vector4 by_lane[LANES]) {
#if LANES == 8
    Vector4 low[4], high[4];
    for (int j = 0; j < 4; j++) {
        memcpy(&low[j], &sums[j], sizeof low[j]);
        memcpy(&high[j], (const char *)&sums[j] + sizeof low[j], sizeof high[j]);
    }
    transpose4(low[0], low[1], low[2], low[3], by_lane);
    transpose4(high[0], high[1], high[2], high[3], by_lane + 4);
#else
    transpose4(sums[0], sums[1], sums[2], sums[3], by_lane);
#endif
}

/* LANES rows of n < d ratings each in the dual form at once, one in each lane, the first ``lanes`` of them
 * real (the others repeat one, and their answers are dropped): v = D^-1 X^T a with (X D^-1 X^T + I) a = t, an
 * n x n system for a row's n ratings instead of d x d; the residuals are -a. The design rows are gathered
 * interleaved, ``xs[r ld + k]`` holding the rows' k-th value of their r-th rating, so that each entry of the
 * n x n systems is d multiply-adds of all lanes, not LANES dot products summed across a vector. ``system``
 * keeps the factor by columns as LANED(solve_primal) does; ``a`` is room for n vectors. Returns 0 where a real
 * lane's system was not positive definite or its target not finite (its row gets NaN). */
INLINE int LANED(solve_dual)(const Problem *p, const Py_ssize_t rows[LANES], int lanes, Py_ssize_t n, Lanes *xs,
                            Lanes *system, Lanes *a, double *out, FitSums *fit) {
    const Py_ssize_t d = p->d, ld = p->ld;
    Py_ssize_t row_begin[LANES];
    const double *values[LANES];
    for (int l = 0; l < LANES; l++) {
        row_begin[l] = (Py_ssize_t)p->starts[rows[l]];
        values[l] = p->value_of + row_begin[l];
    }
    for (Py_ssize_t r = 0; r < n; r++) {
        const double *source[LANES];
        for (int l = 0; l < LANES; l++)
            source[l] = p->padded_design + (Py_ssize_t)p->column_of[row_begin[l] + r] * ld;
        for (Py_ssize_t k = 0; k < ld; k += 4) LANED(transpose_into_lanes)(source, k, xs + r * ld + k);
        xs[r * ld + d] += LANED(into_lanes)(values, r);
    }
    for (Py_ssize_t r = 0; r < n; r++) { /* t aside, x scaled by D^-1/2 */
        a[r] = xs[r * ld + d];
        for (Py_ssize_t k = 0; k < d; k++) xs[r * ld + k] *= p->root_scale[k];
    }
    for (Py_ssize_t j = 0; j < n; j++)
        for (Py_ssize_t i = j; i < n; i++) { /* in four sums: in one, each multiply-add would wait for the last */
            const Lanes *x_i = xs + i * ld, *x_j = xs + j * ld;
            Lanes sum0 = {0}, sum1 = {0}, sum2 = {0}, sum3 = {0};
            Py_ssize_t k = 0;
            for (; k + 4 <= d; k += 4) {
                sum0 += x_i[k] * x_j[k];
                sum1 += x_i[k + 1] * x_j[k + 1];
                sum2 += x_i[k + 2] * x_j[k + 2];
                sum3 += x_i[k + 3] * x_j[k + 3];
            }
            for (; k < d; k++) sum0 += x_i[k] * x_j[k];
            system[j * n + i] = (sum0 + sum1) + (sum2 + sum3);
        }
    for (Py_ssize_t i = 0; i < n; i++) system[i * n + i] += 1.0;
    Lanes positive = LANED(cholesky)(system, n);
    for (Py_ssize_t j = 0; j < n; j++) { /* L y = t, y over t */
        const Lanes *column_j = system + j * n;
        a[j] *= column_j[j];
        for (Py_ssize_t i = j + 1; i < n; i++) a[i] -= column_j[i] * a[j];
    }
    LANED(back_substitute)(system, n, n, a); /* L^T a = y */
    for (Py_ssize_t r = 0; r < n; r++) /* a NaN target (t) leaves the pivots positive and a NaN */
        for (int l = 0; l < LANES; l++)
            if (!isfinite(a[r][l])) positive[l] = 0.0;
    int all_solved = 1;
    Py_ssize_t k0 = 0;
    for (; k0 + 4 <= d; k0 += 4) { /* v = D^-1/2 (scaled X)^T a, four unknowns at a time, back out of the lanes */
        Lanes sum[4] = {{0}, {0}, {0}, {0}};
        Vector4 by_lane[LANES];
        for (Py_ssize_t r = 0; r < n; r++)
            for (int j = 0; j < 4; j++) sum[j] += a[r] * xs[r * ld + k0 + j];
        for (int j = 0; j < 4; j++) sum[j] *= p->root_scale[k0 + j];
        LANED(transpose_out_of_lanes)(sum, by_lane);
        for (int l = 0; l < lanes; l++)
            store4(out + rows[l] * d + k0, positive[l] != 0.0 ? by_lane[l] : (Vector4){NAN, NAN, NAN, NAN});
    }
    for (Py_ssize_t k = k0; k < d; k++) {
        Lanes sum = {0};
        for (Py_ssize_t r = 0; r < n; r++) sum += a[r] * xs[r * ld + k];
        for (int l = 0; l < lanes; l++) out[rows[l] * d + k] = positive[l] != 0.0 ? sum[l] * p->root_scale[k] : NAN;
    }
    for (int l = 0; l < lanes; l++) {
        if (positive[l] == 0.0) {
            all_solved = 0;
            continue;
        }
        if (!p->with_fit) continue;
        const Py_ssize_t begin = (Py_ssize_t)p->starts[rows[l]];
        const double rating_offset = p->offset_of ? p->offset_of[rows[l]] : 0.0;
        for (Py_ssize_t r = 0; r < n; r++) /* the residual is -a */
            count_fit(fit, -a[r][l], p->value_of[begin + r] + rating_offset, p->low, p->high);
    }
    return all_solved;
}

/* The primal systems of a panel's rows (solve_panel), their Gram matrices added up, LANES at once; lanes past
 * the panel's end repeat its last row. */
INLINE void LANED(solve_panel_systems)(const Problem *p, const Scratch *s, Py_ssize_t count, double *out) {
    const Py_ssize_t d = p->d, ld = p->ld;
    for (Py_ssize_t i = 0; i < count; i += LANES) {
        const int lanes = count - i < LANES ? (int)(count - i) : LANES;
        double *grams[LANES];
        double *v[LANES];
        for (int l = 0; l < LANES; l++) {
            const Py_ssize_t at = i + (l < lanes ? l : lanes - 1);
            grams[l] = s->panel_grams + at * ld * ld;
            v[l] = out + s->panel[at] * d;
        }
        LANED(solve_primal)(d, ld, p->reg_diag, grams, lanes, (Lanes *)s->systems, v, s->solved + i);
    }
}

#undef Lanes
#undef LANED
#undef LANED_WITH
#undef LANED_PASTE
