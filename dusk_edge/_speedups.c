/* C twins of dusk_edge/core/_native.py: hot leaf loops only, all policy stays in Python.
 * Every function has the same name, arguments, results and errors as its pure twin;
 * tests/test_speedups_equiv.py checks that with hypothesis, and a leak loop checks refcounts. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ---- crc32c: slice-by-8 software CRC-32C (Castagnoli, reflected) ---- */
static uint32_t crc_table[8][256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

static uint32_t crc_update(uint32_t c, const unsigned char *p, Py_ssize_t n) {
    c = ~c;
    while (n >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^ crc_table[5][(lo >> 16) & 0xFF] ^
            crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
            crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

static PyObject *py_crc32c(PyObject *self, PyObject *args) {
    Py_buffer view;
    unsigned long crc = 0;
    if (!PyArg_ParseTuple(args, "y*|k", &view, &crc)) return NULL;
    uint32_t out;
    Py_BEGIN_ALLOW_THREADS
    out = crc_update((uint32_t)crc, (const unsigned char *)view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(out);
}

/* ---- xor_bucket: highest set bit of a XOR b (little-endian), -1 when equal ---- */
static PyObject *py_xor_bucket(PyObject *self, PyObject *args) {
    Py_buffer a, b;
    if (!PyArg_ParseTuple(args, "y*y*", &a, &b)) return NULL;
    long result = -1;
    if (a.len != b.len) {
        PyBuffer_Release(&a);
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_ValueError, "ids differ in length");
        return NULL;
    }
    const unsigned char *pa = a.buf, *pb = b.buf;
    for (Py_ssize_t i = a.len - 1; i >= 0; i--) {
        unsigned x = pa[i] ^ pb[i];
        if (x) {
            int bit = 7;
            while (!((x >> bit) & 1)) bit--;
            result = (long)(i * 8 + bit);
            break;
        }
    }
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return PyLong_FromLong(result);
}

/* ---- bitset_indices: indices of set bits of a u64 below size ---- */
static PyObject *py_bitset_indices(PyObject *self, PyObject *args) {
    PyObject *bitset_obj;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "On", &bitset_obj, &size)) return NULL;
    if (!PyLong_Check(bitset_obj)) {
        PyErr_SetString(PyExc_TypeError, "bitset must be an int");
        return NULL;
    }
    if (size < 0 || size > 64) {
        PyErr_SetString(PyExc_ValueError, "size out of range");
        return NULL;
    }
    if (_PyLong_Sign(bitset_obj) < 0) {
        PyErr_SetString(PyExc_ValueError, "bitset out of range");
        return NULL;
    }
    unsigned long long bits = PyLong_AsUnsignedLongLong(bitset_obj);
    if (bits == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "bitset out of range");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (Py_ssize_t i = 0; i < size; i++) {
        if ((bits >> i) & 1ULL) {
            PyObject *v = PyLong_FromSsize_t(i);
            if (!v || PyList_Append(out, v) < 0) {
                Py_XDECREF(v);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(v);
        }
    }
    return out;
}

/* sortition_pick(weights, score): PROTOCOL.md section 4 walk; see core/_native.py. */
static PyObject *py_sortition_pick(PyObject *self, PyObject *args) {
    PyObject *weights, *score_obj;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &weights, &score_obj)) return NULL;
    if (!PyLong_Check(score_obj)) {
        PyErr_SetString(PyExc_TypeError, "score must be an int");
        return NULL;
    }
    unsigned long long score = PyLong_AsUnsignedLongLong(score_obj);
    if (score == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "score out of range");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(weights);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(weights, i);
        if (!PyLong_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "weights must be ints");
            return NULL;
        }
        unsigned long long w = PyLong_AsUnsignedLongLong(item);
        if (w == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "weight out of range");
            return NULL;
        }
        if (w >= score) return PyLong_FromSsize_t(i);
        score -= w;
    }
    PyErr_SetString(PyExc_ValueError, "score beyond the total weight");
    return NULL;
}

/* ---- GF(2^8) (0x11d) rows for the rs erasure code: dst ^= c*src, and matrix inversion ---- */
static unsigned char gf_exp[512], gf_log[256];
static unsigned char gf_mul_table[256][256];

static void gf_init(void) {
    unsigned x = 1;
    for (int i = 0; i < 255; i++) {
        gf_exp[i] = (unsigned char)x;
        gf_log[x] = (unsigned char)i;
        x <<= 1;
        if (x & 0x100) x ^= 0x11D;
    }
    for (int i = 255; i < 512; i++) gf_exp[i] = gf_exp[i - 255];
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++)
            gf_mul_table[a][b] = (a && b) ? gf_exp[gf_log[a] + gf_log[b]] : 0;
}

/* SIMD rows: c*b = lo[b & 15] ^ hi[b >> 4] with two 16-entry tables, 16 bytes per shuffle
 * (SSSE3 pshufb, picked at run time; NEON tbl on aarch64). Same result as the table loop. */
static int gf_simd;

static void gf_nibble_tables(unsigned c, unsigned char lo[16], unsigned char hi[16]) {
    for (int x = 0; x < 16; x++) {
        lo[x] = gf_mul_table[c][x];
        hi[x] = gf_mul_table[c][x << 4];
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
__attribute__((target("ssse3")))
static Py_ssize_t gf_row_mul_add_simd(unsigned char *dst, const unsigned char *src, Py_ssize_t n, unsigned c) {
    unsigned char lo[16], hi[16];
    gf_nibble_tables(c, lo, hi);
    const __m128i tlo = _mm_loadu_si128((const __m128i *)lo), thi = _mm_loadu_si128((const __m128i *)hi);
    const __m128i mask = _mm_set1_epi8(0x0f);
    Py_ssize_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i s = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i p = _mm_xor_si128(_mm_shuffle_epi8(tlo, _mm_and_si128(s, mask)),
                                  _mm_shuffle_epi8(thi, _mm_and_si128(_mm_srli_epi64(s, 4), mask)));
        _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(_mm_loadu_si128((const __m128i *)(dst + i)), p));
    }
    return i;
}
static void gf_simd_detect(void) {
    __builtin_cpu_init();
    gf_simd = __builtin_cpu_supports("ssse3");
}
#elif defined(__aarch64__)
#include <arm_neon.h>
static Py_ssize_t gf_row_mul_add_simd(unsigned char *dst, const unsigned char *src, Py_ssize_t n, unsigned c) {
    unsigned char lo[16], hi[16];
    gf_nibble_tables(c, lo, hi);
    const uint8x16_t tlo = vld1q_u8(lo), thi = vld1q_u8(hi), mask = vdupq_n_u8(0x0f);
    Py_ssize_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint8x16_t s = vld1q_u8(src + i);
        uint8x16_t p = veorq_u8(vqtbl1q_u8(tlo, vandq_u8(s, mask)), vqtbl1q_u8(thi, vshrq_n_u8(s, 4)));
        vst1q_u8(dst + i, veorq_u8(vld1q_u8(dst + i), p));
    }
    return i;
}
static void gf_simd_detect(void) { gf_simd = 1; }
#else
static Py_ssize_t gf_row_mul_add_simd(unsigned char *dst, const unsigned char *src, Py_ssize_t n, unsigned c) {
    (void)dst; (void)src; (void)n; (void)c;
    return 0;
}
static void gf_simd_detect(void) { gf_simd = 0; }
#endif

static void gf_row_mul_add(unsigned char *dst, const unsigned char *src, Py_ssize_t n, unsigned c) {
    const unsigned char *t = gf_mul_table[c];
    Py_ssize_t i = (gf_simd && n >= 16) ? gf_row_mul_add_simd(dst, src, n, c) : 0;
    for (; i < n; i++) dst[i] ^= t[src[i]];
}

static PyObject *py_gf256_mul_add(PyObject *self, PyObject *args) {
    Py_buffer dst, src;
    int c;
    if (!PyArg_ParseTuple(args, "w*y*i", &dst, &src, &c)) return NULL;
    if (dst.len != src.len || c < 0 || c > 255) {
        PyBuffer_Release(&dst);
        PyBuffer_Release(&src);
        PyErr_SetString(PyExc_ValueError, c < 0 || c > 255 ? "coefficient out of range" : "rows differ in length");
        return NULL;
    }
    if (c) {
        Py_BEGIN_ALLOW_THREADS
        gf_row_mul_add(dst.buf, src.buf, dst.len, (unsigned)c);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&dst);
    PyBuffer_Release(&src);
    Py_RETURN_NONE;
}

static PyObject *py_gf256_invert(PyObject *self, PyObject *args) {
    Py_buffer m;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*n", &m, &n)) return NULL;
    if (n < 0 || n > 4096 || m.len != n * n) {
        PyBuffer_Release(&m);
        PyErr_SetString(PyExc_ValueError, "matrix is not n x n");
        return NULL;
    }
    unsigned char *a = PyMem_Malloc(n * n + 1), *inv = PyMem_Calloc(n * n + 1, 1);
    if (!a || !inv) {
        PyMem_Free(a);
        PyMem_Free(inv);
        PyBuffer_Release(&m);
        return PyErr_NoMemory();
    }
    memcpy(a, m.buf, n * n);
    PyBuffer_Release(&m);
    for (Py_ssize_t r = 0; r < n; r++) inv[r * n + r] = 1;
    int singular = 0;
    for (Py_ssize_t col = 0; col < n && !singular; col++) {
        Py_ssize_t piv = col;
        while (piv < n && a[piv * n + col] == 0) piv++;
        if (piv == n) { singular = 1; break; }
        if (piv != col) {
            for (Py_ssize_t j = 0; j < n; j++) {
                unsigned char t = a[col * n + j]; a[col * n + j] = a[piv * n + j]; a[piv * n + j] = t;
                t = inv[col * n + j]; inv[col * n + j] = inv[piv * n + j]; inv[piv * n + j] = t;
            }
        }
        unsigned scale = gf_exp[255 - gf_log[a[col * n + col]]];
        for (Py_ssize_t j = 0; j < n; j++) {
            a[col * n + j] = gf_mul_table[scale][a[col * n + j]];
            inv[col * n + j] = gf_mul_table[scale][inv[col * n + j]];
        }
        for (Py_ssize_t r = 0; r < n; r++) {
            unsigned f = a[r * n + col];
            if (r != col && f) {
                gf_row_mul_add(a + r * n, a + col * n, n, f);
                gf_row_mul_add(inv + r * n, inv + col * n, n, f);
            }
        }
    }
    PyObject *out = NULL;
    if (singular) PyErr_SetString(PyExc_ValueError, "matrix is singular");
    else out = PyBytes_FromStringAndSize((const char *)inv, n * n);
    PyMem_Free(a);
    PyMem_Free(inv);
    return out;
}

/* sortition_extract(weights, hashes, unit): the PROTOCOL.md section 4 extraction loop over
   precomputed hashes with the weights held as u64; see core/_native.py. */
static PyObject *py_sortition_extract(PyObject *self, PyObject *args) {
    PyObject *weights, *hashes, *unit_obj;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyList_Type, &weights, &PyList_Type, &hashes, &PyLong_Type, &unit_obj))
        return NULL;
    unsigned long long unit = PyLong_AsUnsignedLongLong(unit_obj);
    if (unit == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "unit out of range");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(weights);
    unsigned long long *w = PyMem_Malloc(sizeof(unsigned long long) * (size_t)(n > 0 ? n : 1));
    if (!w) return PyErr_NoMemory();
    unsigned long long total = 0;
    PyObject *picks = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(weights, i);
        if (!PyLong_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "weights must be ints");
            goto fail;
        }
        w[i] = PyLong_AsUnsignedLongLong(item);
        if (w[i] == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "weight out of range");
            goto fail;
        }
        if (total + w[i] < total) {
            PyErr_SetString(PyExc_ValueError, "total weight out of range");
            goto fail;
        }
        total += w[i];
    }
    picks = PyList_New(0);
    if (!picks) goto fail;
    Py_ssize_t m = PyList_GET_SIZE(hashes);
    for (Py_ssize_t k = 0; k < m; k++) {
        PyObject *h = PyList_GET_ITEM(hashes, k);
        if (!PyLong_Check(h)) {
            PyErr_SetString(PyExc_TypeError, "hashes must be ints");
            goto fail;
        }
        if (total == 0) break;
        PyObject *tot = PyLong_FromUnsignedLongLong(total);
        if (!tot) goto fail;
        PyObject *rem = PyNumber_Remainder(h, tot);
        Py_DECREF(tot);
        if (!rem) goto fail;
        unsigned long long score = PyLong_AsUnsignedLongLong(rem);
        Py_DECREF(rem);
        if (score == (unsigned long long)-1 && PyErr_Occurred()) goto fail;
        Py_ssize_t i = 0;
        while (w[i] < score) { /* score < total, so some i covers it */
            score -= w[i];
            i++;
        }
        unsigned long long taken = w[i] < unit ? w[i] : unit;
        w[i] -= taken;
        PyObject *index = PyLong_FromSsize_t(i);
        if (!index || PyList_Append(picks, index) < 0) {
            Py_XDECREF(index);
            goto fail;
        }
        Py_DECREF(index);
        PyObject *value = PyLong_FromUnsignedLongLong(w[i]);
        if (!value) goto fail;
        PyList_SetItem(weights, i, value); /* steals value */
        if (total > taken) total -= taken;
        else break;
    }
    PyMem_Free(w);
    return picks;
fail:
    PyMem_Free(w);
    Py_XDECREF(picks);
    return NULL;
}

/* ---- gf256_combine: sum_j coefficients[j] * symbols[j], one rs repair/decoded symbol per call ---- */
static PyObject *py_gf256_combine(PyObject *self, PyObject *args) {
    PyObject *symbols, *seq;
    Py_buffer coefs;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "Oy*n", &symbols, &coefs, &size)) return NULL;
    seq = PySequence_Fast(symbols, "symbols must be a sequence");
    if (seq == NULL) {
        PyBuffer_Release(&coefs);
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject *out = NULL;
    if (size < 0 || coefs.len != count) {
        PyErr_SetString(PyExc_ValueError, "coefficients and symbols differ in count");
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, size);
    if (out == NULL) goto done;
    unsigned char *acc = (unsigned char *)PyBytes_AS_STRING(out);
    memset(acc, 0, size);
    for (Py_ssize_t j = 0; j < count; j++) {
        Py_buffer sym;
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, j), &sym, PyBUF_SIMPLE) < 0) {
            Py_CLEAR(out);
            goto done;
        }
        if (sym.len != size) {
            PyBuffer_Release(&sym);
            PyErr_SetString(PyExc_ValueError, "rows differ in length");
            Py_CLEAR(out);
            goto done;
        }
        unsigned c = ((const unsigned char *)coefs.buf)[j];
        if (c) gf_row_mul_add(acc, sym.buf, size, c);
        PyBuffer_Release(&sym);
    }
done:
    Py_DECREF(seq);
    PyBuffer_Release(&coefs);
    return out;
}

static PyMethodDef methods[] = {
    {"crc32c", py_crc32c, METH_VARARGS, "crc32c(data, crc=0) -> int"},
    {"xor_bucket", py_xor_bucket, METH_VARARGS, "xor_bucket(a, b) -> int"},
    {"bitset_indices", py_bitset_indices, METH_VARARGS, "bitset_indices(bitset, size) -> list[int]"},
    {"sortition_pick", py_sortition_pick, METH_VARARGS, "sortition_pick(weights, score) -> int"},
    {"sortition_extract", py_sortition_extract, METH_VARARGS, "sortition_extract(weights, hashes, unit) -> list[int]"},
    {"gf256_mul_add", py_gf256_mul_add, METH_VARARGS, "gf256_mul_add(dst, src, c) -> None"},
    {"gf256_invert", py_gf256_invert, METH_VARARGS, "gf256_invert(matrix, n) -> bytes"},
    {"gf256_combine", py_gf256_combine, METH_VARARGS, "gf256_combine(symbols, coefficients, size) -> bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "dusk_edge._speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    crc_init();
    gf_init();
    gf_simd_detect();
    return PyModule_Create(&module);
}
