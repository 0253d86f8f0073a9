/* The user, item and rating columns of a long ratings table parsed straight from a CSV's bytes, for an
 * installation without pyarrow (io/numeric_columns.py). pandas' C parser read ten million ratings 13 times
 * slower than a million: it parses a quarter of a million lines at a time and joins the pieces at the end,
 * and on a virtual machine that join (240 MB touched for the first time) was a quarter of the load.
 * Here each number is written once into arrays made for the file's lines, with the GIL released.
 *
 * It reads only the plainest form and declines everything else, returning -1: pandas then reads the file
 * exactly as before, and the text path names the line of any problem. Read: ids of up to 15 digits, an
 * optional sign and leading spaces (what pandas' skipinitialspace skips); ratings of up to 19 significant
 * digits with an optional fraction and exponent, converted only where one IEEE operation gives the correctly
 * rounded value (the mantissa below 2^53, a power of ten up to 10^22: Clinger's fast path, which is what
 * pandas' own conversion computes for such numbers); other columns skipped unless they hold a quote. Declined:
 * a blank line, a line with more or fewer fields, a quote, any other text in a used field.
 *
 * Optional as core/_kernels.c is: setup.py builds it where a C compiler is at hand. No locale is read (strtod
 * would follow the one Qt sets, where the decimal point may be a comma).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <stdint.h>
#include <string.h>

/* One rounding needs arithmetic in double itself: where it is carried out in wider registers (x87), the
 * product would be rounded twice, and every rating is left to pandas. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define EXACT_ARITHMETIC 1
#else
#define EXACT_ARITHMETIC 0
#endif

static const double POWERS_OF_TEN[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
#define LARGEST_EXACT_POWER 22
#define EXACT_MANTISSA (UINT64_C(1) << 53)
#define MOST_ID_DIGITS 15 /* below 10^15 < 2^53: a float holds it exactly, as the text path needs */

static inline int is_digit(char c) { return c >= '0' && c <= '9'; }

static inline const char *skip_spaces(const char *at, const char *end) {
    while (at < end && *at == ' ') at++;
    return at;
}

/* A whole number of 1..15 digits with an optional sign at ``at``; the byte after it, or NULL. */
static inline const char *parse_id(const char *at, const char *end, int64_t *out) {
    at = skip_spaces(at, end);
    int negative = 0;
    if (at < end && (*at == '-' || *at == '+')) negative = *at++ == '-';
    const char *first = at;
    int64_t value = 0;
    for (; at < end && is_digit(*at); at++) {
        if (at - first == MOST_ID_DIGITS) return NULL; /* before the sum could overflow */
        value = value * 10 + (*at - '0');
    }
    if (at == first) return NULL;
    *out = negative ? -value : value;
    return at;
}

/* A decimal number (digits, an optional fraction, an optional exponent) at ``at`` where its value is exact
 * after one rounding; the byte after it, or NULL. */
static inline const char *parse_real(const char *at, const char *end, double *out) {
    if (!EXACT_ARITHMETIC) return NULL;
    at = skip_spaces(at, end);
    int negative = 0;
    if (at < end && (*at == '-' || *at == '+')) negative = *at++ == '-';
    uint64_t mantissa = 0; /* wraps past 19 digits (unsigned: defined), and such a number is declined */
    Py_ssize_t digits = 0, significant = 0, fraction = 0;
    for (; at < end && is_digit(*at); at++, digits++) {
        mantissa = mantissa * 10 + (uint64_t)(*at - '0');
        significant += significant || *at != '0';
    }
    if (at < end && *at == '.') {
        for (at++; at < end && is_digit(*at); at++, digits++, fraction++) {
            mantissa = mantissa * 10 + (uint64_t)(*at - '0');
            significant += significant || *at != '0';
        }
    }
    if (digits == 0 || significant > 19) return NULL; /* 19 digits cannot overflow 64 bits */
    int exponent = 0;
    if (at < end && (*at == 'e' || *at == 'E')) {
        at++;
        int exponent_negative = 0;
        if (at < end && (*at == '-' || *at == '+')) exponent_negative = *at++ == '-';
        const char *first = at;
        while (at < end && is_digit(*at) && at - first < 4) exponent = exponent * 10 + (*at++ - '0');
        if (at == first || (at < end && is_digit(*at))) return NULL;
        if (exponent_negative) exponent = -exponent;
    }
    if (fraction > 2 * LARGEST_EXACT_POWER) return NULL; /* zeros past any exact power (0.000...01) */
    const int power = exponent - (int)fraction;
    if (mantissa > EXACT_MANTISSA || power > LARGEST_EXACT_POWER || power < -LARGEST_EXACT_POWER) return NULL;
    const double value = power >= 0 ? (double)mantissa * POWERS_OF_TEN[power]
                                    : (double)mantissa / POWERS_OF_TEN[-power];
    *out = negative ? -value : value;
    return at;
}

/* Where a field ends (at ``delimiter``, a line's end or the data's end) for a field not read; NULL where it
 * holds a quote (quoted text may hold the delimiter: pandas splits it differently), a NUL, or a carriage
 * return not followed by a newline (pandas ends a line there). */
static inline const char *skip_field(const char *at, const char *end, char delimiter) {
    for (; at < end && *at != delimiter && *at != '\n'; at++) {
        if (*at == '"' || *at == '\0') return NULL;
        if (*at == '\r') return at + 1 < end && at[1] == '\n' ? at : NULL;
    }
    return at;
}

/* Whether ``at``..``end`` holds nothing but spaces, tabs and carriage returns. */
static int blank(const char *at, const char *end) {
    for (; at < end; at++)
        if (*at != ' ' && *at != '\t' && *at != '\r') return 0;
    return 1;
}

/* Whether each field of the line ``at``..``end`` (a header's) holds no quote, or is one quoted name with no
 * quote inside ("userId", as R writes it): pandas follows any other quote, which may run past the line's end
 * to the file's, and reads every line after it differently. */
static int plainly_quoted(const char *at, const char *end, char delimiter) {
    while (at <= end) {
        const char *field_end = memchr(at, delimiter, (size_t)(end - at));
        if (field_end == NULL) field_end = end;
        const char *last = field_end;
        while (last > at && (last[-1] == '\r' || last[-1] == ' ')) last--;
        while (at < last && *at == ' ') at++;
        const char *quote = memchr(at, '"', (size_t)(last - at));
        if (quote != NULL) {
            const int whole_field = quote == at && last - at >= 2 && last[-1] == '"' &&
                                    memchr(at + 1, '"', (size_t)(last - at - 2)) == NULL;
            if (!whole_field) return 0;
        }
        at = field_end + 1;
    }
    return 1;
}

/* Whether ``at``..``end`` holds a carriage return not followed by a newline. */
static int lone_carriage_return(const char *at, const char *end) {
    for (; (at = memchr(at, '\r', (size_t)(end - at))) != NULL; at++)
        if (at + 1 == end || at[1] != '\n') return 1;
    return 0;
}

typedef struct {
    char delimiter;
    Py_ssize_t width, user_column, item_column, rating_column;
} Layout;

/* Rows parsed into the three arrays (at most ``capacity``), or -1 where the text is not of the plainest form. */
static Py_ssize_t parse_rows(const char *at, const char *end, Py_ssize_t skip, const Layout *layout,
                             Py_ssize_t capacity, int64_t *users, int64_t *items, double *ratings) {
    for (Py_ssize_t line = 0; line < skip; line++) {
        const char *newline = memchr(at, '\n', (size_t)(end - at));
        /* pandas counts lines ended by a lone carriage return, and follows quotes across lines; a blank line
         * it would have seen (has_blank_line) */
        if (newline == NULL || blank(at, newline) || lone_carriage_return(at, newline + 1) ||
            !plainly_quoted(at, newline, layout->delimiter))
            return -1;
        at = newline + 1;
    }
    Py_ssize_t row = 0;
    while (at < end) {
        if (row == capacity) return -1;
        for (Py_ssize_t field = 0; field < layout->width; field++) {
            if (field == layout->user_column) at = parse_id(at, end, &users[row]);
            else if (field == layout->item_column) at = parse_id(at, end, &items[row]);
            else if (field == layout->rating_column) at = parse_real(at, end, &ratings[row]);
            else at = skip_field(at, end, layout->delimiter);
            if (at == NULL) return -1;
            if (field + 1 < layout->width) {
                if (at == end || *at != layout->delimiter) return -1; /* fewer fields */
                at++;
            }
        }
        if (at < end && *at == '\r') at++;
        if (at < end && *at++ != '\n') return -1; /* more fields, or text after the number */
        row++;
    }
    return row;
}

PyDoc_STRVAR(count_lines_doc,
"count_lines(data) -> int\n"
"\n"
"The number of newlines in ``data`` (a bytes-like object), counted with the GIL released.");

static PyObject *count_lines(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data)) return NULL;
    Py_ssize_t lines = 0;
    Py_BEGIN_ALLOW_THREADS
    const char *at = data.buf, *end = at + data.len;
    while ((at = memchr(at, '\n', (size_t)(end - at))) != NULL) {
        lines++;
        at++;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return PyLong_FromSsize_t(lines);
}

PyDoc_STRVAR(parse_long_table_doc,
"parse_long_table(data, delimiter, skip, width, user_column, item_column, rating_column, users, items, ratings)\n"
"    -> int\n"
"\n"
"Every line of ``data`` after the first ``skip`` as ``width`` fields split on the one-byte ``delimiter``: the\n"
"user and item columns' whole numbers into ``users`` and ``items`` (int64 arrays), the rating column's into\n"
"``ratings`` (float64), as many rows as each holds at most. Returns the number of rows (0: nothing after\n"
"the header), or -1 where the text is not of the plainest form (the module's docstring), the arrays then\n"
"partly written. Called on a file's blocks, ``data`` must end where a line does (or at the file's end).");

/* The struct-module type of a buffer's items in the machine's own byte order ('B' without a format), else 0
 * (another byte order, a structure). */
static char native_kind(const char *format) {
    if (format == NULL) return 'B';
    if (format[0] == '@' || format[0] == '=') format++;
    return format[0] != '\0' && format[1] == '\0' ? format[0] : 0;
}

static int writable_array(PyObject *object, Py_buffer *view, char kind, const char *name) {
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) return 0;
    const char found = native_kind(view->format);
    const int right = kind == 'd' ? found == 'd' : found == 'l' || found == 'q';
    if (!right || view->itemsize != 8) {
        PyErr_Format(PyExc_ValueError, "%s: expected a writable array of 8-byte %s", name,
                     kind == 'd' ? "floats" : "integers");
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

static PyObject *parse_long_table(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data = {0}, views[3];
    memset(views, 0, sizeof(views));
    PyObject *outputs[3];
    const char *delimiter;
    Py_ssize_t delimiter_length, skip;
    Layout layout;
    if (!PyArg_ParseTuple(args, "y*s#nnnnnOOO", &data, &delimiter, &delimiter_length, &skip, &layout.width,
                          &layout.user_column, &layout.item_column, &layout.rating_column, &outputs[0], &outputs[1],
                          &outputs[2]))
        return NULL;
    PyObject *result = NULL;
    const Py_ssize_t columns[3] = {layout.user_column, layout.item_column, layout.rating_column};
    int columns_valid = delimiter_length == 1 && skip >= 0 && layout.width > 0;
    for (int c = 0; c < 3; c++) columns_valid &= columns[c] >= 0 && columns[c] < layout.width;
    columns_valid &= columns[0] != columns[1] && columns[0] != columns[2] && columns[1] != columns[2];
    if (!columns_valid) {
        PyErr_SetString(PyExc_ValueError, "a one-byte delimiter and three distinct columns below width");
        goto done;
    }
    layout.delimiter = delimiter[0];
    if (!writable_array(outputs[0], &views[0], 'q', "users") || !writable_array(outputs[1], &views[1], 'q', "items") ||
        !writable_array(outputs[2], &views[2], 'd', "ratings"))
        goto done;
    Py_ssize_t capacity = views[0].len / 8;
    for (int v = 1; v < 3; v++) capacity = views[v].len / 8 < capacity ? views[v].len / 8 : capacity;
    Py_ssize_t rows;
    Py_BEGIN_ALLOW_THREADS
    rows = parse_rows(data.buf, (const char *)data.buf + data.len, skip, &layout, capacity, views[0].buf,
                      views[1].buf, views[2].buf);
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(rows);
done:
    for (int v = 0; v < 3; v++)
        if (views[v].obj) PyBuffer_Release(&views[v]);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef methods[] = {
    {"count_lines", count_lines, METH_VARARGS, count_lines_doc},
    {"parse_long_table", parse_long_table, METH_VARARGS, parse_long_table_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_numbers", "A long ratings table's numbers parsed from CSV bytes (io/numeric_columns.py).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__numbers(void) { return PyModule_Create(&module); }
