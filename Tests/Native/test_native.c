/*
 * C host test of dist/native/libedgevec.so through include/edgevec.h.
 * Built and run by `make test-native`:
 *
 *     gcc -std=c11 -pedantic -Wall -Wextra -Werror -fsanitize=address,undefined -I dist/native \
 *         Tests/Native/test_native.c -L dist/native -ledgevec -Wl,-rpath,"$PWD/dist/native" -lm -o test_native
 *
 * Prints each failed check and a closing "N passed, N failed"; exits 1 on any failure.
 */
#include "edgevec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
            printf(__VA_ARGS__);                                           \
            printf("\n");                                                  \
        }                                                                  \
    } while (0)

#define CHECK_EQ(actual, expected, what)                                              \
    do {                                                                              \
        long long a_ = (long long)(actual), e_ = (long long)(expected);               \
        CHECK(a_ == e_, "%s: got %lld (%s), expected %lld", what, a_,                 \
              ev_error_message((int32_t)a_), e_);                                     \
    } while (0)

/* Deterministic data: xorshift64* → uniform floats in [-1, 1). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float next_float(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t x = rng_state * 0x2545F4914F6CDD1Dull;
    return (float)((double)(x >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

enum { DIM = 24, N = 600, Q = 40, K = 10 };

/* CRC-32C (bitwise), to reseal crafted files: header CRC at 92, trailer at the end. */
static uint32_t crc32c(const unsigned char *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void reseal(unsigned char *bytes, int32_t size) {
    put_u32(bytes + 92, crc32c(bytes, 92));
    put_u32(bytes + size - 4, crc32c(bytes, (size_t)size - 4));
}

static float l2(const float *a, const float *b) {
    double s = 0;
    for (int i = 0; i < DIM; i++) { double d = (double)a[i] - b[i]; s += d * d; }
    return (float)s;
}

/* Exact top-k under l2 (ties by lower id). */
static void brute_force(const float *base, int n, const float *q, int k, uint64_t *ids, float *dist) {
    for (int j = 0; j < k; j++) { ids[j] = UINT64_MAX; dist[j] = INFINITY; }
    for (int i = 0; i < n; i++) {
        float d = l2(base + (size_t)i * DIM, q);
        if (d >= dist[k - 1]) continue;
        int j = k - 1;
        while (j > 0 && dist[j - 1] > d) { dist[j] = dist[j - 1]; ids[j] = ids[j - 1]; j--; }
        dist[j] = d; ids[j] = (uint64_t)i;
    }
}

static int same_results(int h1, int h2, const float *queries, int nq, int k, int ef) {
    for (int q = 0; q < nq; q++) {
        uint64_t i1[64], i2[64];
        float d1[64], d2[64];
        int n1 = ev_search(h1, queries + (size_t)q * DIM, k, ef, i1, d1);
        int n2 = ev_search(h2, queries + (size_t)q * DIM, k, ef, i2, d2);
        if (n1 != n2 || n1 < 0) return 0;
        if (memcmp(i1, i2, sizeof(uint64_t) * n1) != 0 || memcmp(d1, d2, sizeof(float) * n1) != 0) return 0;
    }
    return 1;
}

static void test_messages(void) {
    const int32_t codes[] = {0, 5, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -20, -21, -22, -16, -99};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *m = ev_error_message(codes[i]);
        CHECK(m != NULL && m[0] != '\0', "message for %d", codes[i]);
    }
    CHECK(strcmp(ev_error_message(0), "ok") == 0, "0 -> %s", ev_error_message(0));
    CHECK(strcmp(ev_error_message(-99), "unknown error") == 0, "-99 -> %s", ev_error_message(-99));
    CHECK(strcmp(ev_error_message(EV_ERR_INVALID_HANDLE), ev_error_message(-16)) != 0, "-20 has its own message");
    CHECK(strcmp(ev_error_message(EV_ERR_INVALID_FILTER), "invalid filter") == 0, "-14 -> %s", ev_error_message(-14));
    CHECK(strcmp(ev_error_message(EV_ERR_INVALID_METADATA), "invalid metadata") == 0, "-15 -> %s", ev_error_message(-15));
    CHECK(strcmp(ev_error_message(-16), "unknown error") == 0, "-16 (reserved) -> %s", ev_error_message(-16));
}

static void test_create_errors(void) {
    CHECK_EQ(ev_create(DIM, 3, 16, 200, 1), EV_ERR_INVALID_METRIC, "metric 3");
    CHECK_EQ(ev_create(DIM, -1, 16, 200, 1), EV_ERR_INVALID_METRIC, "metric -1");
    CHECK_EQ(ev_create(0, EV_METRIC_L2, 16, 200, 1), EV_ERR_INVALID_PARAMETER, "dimension 0");
    CHECK_EQ(ev_create(65537, EV_METRIC_L2, 16, 200, 1), EV_ERR_INVALID_PARAMETER, "dimension 65537");
    CHECK_EQ(ev_create(DIM, EV_METRIC_L2, 1, 200, 1), EV_ERR_INVALID_PARAMETER, "m 1");
    CHECK_EQ(ev_create(DIM, EV_METRIC_L2, 129, 200, 1), EV_ERR_INVALID_PARAMETER, "m 129");
    CHECK_EQ(ev_create(DIM, EV_METRIC_L2, 16, 0, 1), EV_ERR_INVALID_PARAMETER, "efConstruction 0");
    CHECK_EQ(ev_create_with_ef_search(DIM, EV_METRIC_L2, 16, 200, 0, 1), EV_ERR_INVALID_PARAMETER, "efSearch 0");
    CHECK_EQ(ev_create_with_ef_search(DIM, EV_METRIC_L2, 16, 200, 65537, 1), EV_ERR_INVALID_PARAMETER,
             "efSearch 65537");
    CHECK_EQ(ev_create_with_ef_search(DIM, 9, 16, 200, 64, 1), EV_ERR_INVALID_METRIC, "metric 9");
}

static void test_invalid_handles(void) {
    float v[DIM] = {0};
    uint64_t ids[K];
    float dist[K];
    char buf[16];
    const int32_t bad[] = {-1, 12345};
    for (int i = 0; i < 2; i++) {
        int32_t h = bad[i];
        CHECK_EQ(ev_insert(h, v), EV_ERR_INVALID_HANDLE, "insert on a bad handle");
        CHECK_EQ(ev_insert_batch(h, v, 1), EV_ERR_INVALID_HANDLE, "insert_batch on a bad handle");
        CHECK_EQ(ev_search(h, v, K, 0, ids, dist), EV_ERR_INVALID_HANDLE, "search on a bad handle");
        CHECK_EQ(ev_size(h), EV_ERR_INVALID_HANDLE, "size on a bad handle");
        CHECK_EQ(ev_dimension(h), EV_ERR_INVALID_HANDLE, "dimension on a bad handle");
        CHECK_EQ(ev_save_size(h), EV_ERR_INVALID_HANDLE, "save_size on a bad handle");
        CHECK_EQ(ev_save(h, buf, sizeof buf), EV_ERR_INVALID_HANDLE, "save on a bad handle");
        CHECK(ev_input(h, 1) == NULL, "input on a bad handle");
        CHECK(ev_output(h, 1) == NULL, "output on a bad handle");
        CHECK(ev_output_distances(h) == NULL, "output_distances on a bad handle");
        CHECK_EQ(ev_metric(h), EV_ERR_INVALID_HANDLE, "metric on a bad handle");
        CHECK_EQ(ev_m(h), EV_ERR_INVALID_HANDLE, "m on a bad handle");
        CHECK_EQ(ev_ef_construction(h), EV_ERR_INVALID_HANDLE, "ef_construction on a bad handle");
        CHECK_EQ(ev_ef_search(h), EV_ERR_INVALID_HANDLE, "ef_search on a bad handle");
        CHECK_EQ(ev_set_ef_search(h, 10), EV_ERR_INVALID_HANDLE, "set_ef_search on a bad handle");
        CHECK_EQ(ev_reserve(h, 10), EV_ERR_INVALID_HANDLE, "reserve on a bad handle");
        ev_free(h); /* ignored */
    }
}


/* ------------------------------------------------------------------ metadata and filters */

/* A metadata encoder for the binary form documented in edgevec.h. */
typedef struct { unsigned char b[512]; int n; } meta_t;
static void m_u8(meta_t *m, unsigned v) { m->b[m->n++] = (unsigned char)v; }
static void m_u32(meta_t *m, uint32_t v) { for (int i = 0; i < 4; i++) m_u8(m, (v >> (8 * i)) & 0xFF); }
static void m_u64(meta_t *m, uint64_t v) { for (int i = 0; i < 8; i++) m_u8(m, (unsigned)(v >> (8 * i)) & 0xFF); }
static void m_name(meta_t *m, const char *name, unsigned type) {
    m_u8(m, (unsigned)strlen(name));
    memcpy(m->b + m->n, name, strlen(name));
    m->n += (int)strlen(name);
    m_u8(m, type);
}
static void m_str(meta_t *m, const char *s) {
    m_u32(m, (uint32_t)strlen(s));
    memcpy(m->b + m->n, s, strlen(s));
    m->n += (int)strlen(s);
}
static void m_string(meta_t *m, const char *name, const char *s) { m_name(m, name, EV_META_STRING); m_str(m, s); }
static void m_int(meta_t *m, const char *name, int64_t v) { m_name(m, name, EV_META_INTEGER); m_u64(m, (uint64_t)v); }
static void m_double(meta_t *m, const char *name, double v) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    m_name(m, name, EV_META_DOUBLE);
    m_u64(m, bits);
}
static void m_bool(meta_t *m, const char *name, int v) { m_name(m, name, EV_META_BOOL); m_u8(m, (unsigned)v); }

static const char *SECTIONS[] = {"games", "libs", "python", "perl", "web"};

/* Row i's metadata: section (i % 5), size i, even (bool), ratio i / 4 (double), and for
   i % 7 == 0 tags ["seven", "s<i%5>"]; every 50th row has none. */
static void row_metadata(int i, meta_t *m) {
    m->n = 0;
    if (i % 50 == 49) { m_u8(m, 0); return; }
    m_u8(m, i % 7 == 0 ? 5 : 4);
    m_string(m, "section", SECTIONS[i % 5]);
    m_int(m, "size", i);
    m_bool(m, "even", i % 2 == 0);
    m_double(m, "ratio", i / 4.0);
    if (i % 7 == 0) {
        m_name(m, "tags", EV_META_STRINGS);
        m_u8(m, 2); m_u8(m, 0);
        m_str(m, "seven");
        m_str(m, SECTIONS[i % 5]);
    }
}

/* The filters of the brute-force comparison and the rows they match. */
static const char *FILTERS[] = {
    "section = \"games\"",
    "size < 3",
    "size >= 100 AND even = true",
    "tags CONTAINS \"seven\" AND section IN (\"libs\", \"perl\")",
    "NOT section = \"web\" OR ratio BETWEEN 10 AND 20",
    "size IS NULL",
    "section = \"nothing\"",
    "ratio >= 0",
};
static int filter_matches(int f, int i) {
    int none = i % 50 == 49;
    if (f == 5) return none;
    if (none) return f == 4;   /* NOT section = "web" holds without the field */
    switch (f) {
    case 0: return i % 5 == 0;
    case 1: return i < 3;
    case 2: return i >= 100 && i % 2 == 0;
    case 3: return i % 7 == 0 && (i % 5 == 1 || i % 5 == 3);
    case 4: return i % 5 != 4 || (i / 4.0 >= 10 && i / 4.0 <= 20);
    case 7: return 1;
    default: return 0;
    }
}

/* The saved bytes of `h` (malloc'd; *size set). */
static unsigned char *saved(int32_t h, int32_t *size) {
    *size = ev_save_size(h);
    unsigned char *b = malloc((size_t)(*size > 0 ? *size : 1));
    if (*size > 0) CHECK_EQ(ev_save(h, b, *size), *size, "save");
    return b;
}

/* Whether `h` saves exactly `before` (size `n`). */
static int unchanged(int32_t h, const unsigned char *before, int32_t n) {
    int32_t m;
    unsigned char *now = saved(h, &m);
    int same = m == n && memcmp(now, before, (size_t)n) == 0;
    free(now);
    return same;
}

static void test_metadata(const float *base, const float *queries) {
    enum { MN = 400 };
    int32_t h = ev_create(DIM, EV_METRIC_L2, 8, 100, 5);
    meta_t m;
    /* Rows 0 ... 199 one by one (next ids), 200 ... 399 in one batch with ids. */
    for (int i = 0; i < 200; i++) {
        row_metadata(i, &m);
        CHECK_EQ(ev_insert_with_metadata(h, base + (size_t)i * DIM, EV_NEXT_ID, m.b, m.n), i, "insert with metadata");
    }
    {
        unsigned char *all = malloc(512 * 200);
        int n = 0;
        uint64_t ids[200];
        for (int i = 200; i < MN; i++) {
            row_metadata(i, &m);
            memcpy(all + n, m.b, (size_t)m.n);
            n += m.n;
            ids[i - 200] = (uint64_t)i;
        }
        CHECK_EQ(ev_insert_batch_with_metadata(h, base + (size_t)200 * DIM, 200, ids, all, n), 200, "batch with metadata");
        free(all);
    }
    CHECK_EQ(ev_size(h), MN, "size");

    /* Read back: the bytes given, or the single 0 byte; 0 for an absent id. */
    int same = 1;
    for (int i = 0; i < MN; i++) {
        row_metadata(i, &m);
        int32_t n = ev_get_metadata(h, (uint64_t)i);
        const uint8_t *out = ev_output_bytes(h);
        same &= n == m.n && out != NULL && memcmp(out, m.b, (size_t)n) == 0;
    }
    CHECK(same, "ev_get_metadata returns each row's binary form");
    CHECK_EQ(ev_get_metadata(h, 5000), 0, "no vector has id 5000");
    CHECK_EQ(ev_get_metadata(-3, 1), EV_ERR_INVALID_HANDLE, "get_metadata on a bad handle");
    CHECK(ev_output_bytes(-3) == NULL, "output_bytes of a bad handle");

    /* Malformed and invalid metadata: -15, the index unchanged. */
    int32_t n0;
    unsigned char *before = saved(h, &n0);
    struct { const char *what; meta_t m; } bad[16];
    int nb = 0;
#define BAD(label) (bad[nb].what = (label), bad[nb].m.n = 0, &bad[nb++].m)
    { meta_t *b = BAD("empty bytes"); (void)b; }
    { meta_t *b = BAD("truncated string"); m_u8(b, 1); m_name(b, "s", EV_META_STRING); m_u32(b, 10); m_u8(b, 'a'); }
    { meta_t *b = BAD("unknown type 9"); m_u8(b, 1); m_name(b, "s", 9); m_u8(b, 0); }
    { meta_t *b = BAD("type 0"); m_u8(b, 1); m_name(b, "s", 0); }
    { meta_t *b = BAD("bool 2"); m_u8(b, 1); m_name(b, "b", EV_META_BOOL); m_u8(b, 2); }
    { meta_t *b = BAD("invalid UTF-8"); m_u8(b, 1); m_name(b, "s", EV_META_STRING); m_u32(b, 2); m_u8(b, 0xC3); m_u8(b, 0x28); }
    { meta_t *b = BAD("NaN"); m_u8(b, 1); m_double(b, "d", NAN); }
    { meta_t *b = BAD("integer 2^53"); m_u8(b, 1); m_int(b, "i", (int64_t)1 << 53); }
    { meta_t *b = BAD("keyword name"); m_u8(b, 1); m_int(b, "AND", 1); }
    { meta_t *b = BAD("name with a space"); m_u8(b, 1); m_int(b, "a b", 1); }
    { meta_t *b = BAD("duplicate field"); m_u8(b, 2); m_int(b, "x", 1); m_int(b, "x", 2); }
    { meta_t *b = BAD("65 fields"); m_u8(b, 65); }
    { meta_t *b = BAD("string of 4097 bytes"); m_u8(b, 1); m_name(b, "s", EV_META_STRING); m_u32(b, 4097); }
    { meta_t *b = BAD("a trailing byte"); m_u8(b, 1); m_int(b, "x", 1); m_u8(b, 0); }
    { meta_t *b = BAD("count past the fields"); m_u8(b, 2); m_int(b, "x", 1); }
#undef BAD
    float fresh[DIM];
    for (int i = 0; i < DIM; i++) fresh[i] = 0.25f * (float)i;
    for (int i = 0; i < nb; i++) {
        CHECK_EQ(ev_insert_with_metadata(h, fresh, EV_NEXT_ID, bad[i].m.b, bad[i].m.n), EV_ERR_INVALID_METADATA, bad[i].what);
        CHECK(strncmp(ev_last_error_message(), "invalid metadata: ", 18) == 0, "%s: message %s", bad[i].what,
              ev_last_error_message());
        CHECK_EQ(ev_insert_with_metadata(h, fresh, 9000, bad[i].m.b, bad[i].m.n), EV_ERR_INVALID_METADATA, bad[i].what);
        CHECK_EQ(ev_set_metadata(h, 3, bad[i].m.b, bad[i].m.n), EV_ERR_INVALID_METADATA, bad[i].what);
        /* The bad row last in a batch of three good ones: nothing is added. */
        unsigned char batch[2048];
        int n = 0;
        for (int r = 0; r < 3; r++) { row_metadata(r, &m); memcpy(batch + n, m.b, (size_t)m.n); n += m.n; }
        memcpy(batch + n, bad[i].m.b, (size_t)bad[i].m.n);
        n += bad[i].m.n;
        int64_t rc = ev_insert_batch_with_metadata(h, base, 4, NULL, batch, n);
        CHECK_EQ(rc, EV_ERR_INVALID_METADATA, bad[i].what);
        /* (A trailing byte after the last row is bytes left over, not row 3's.) */
        const char *prefix = strcmp(bad[i].what, "a trailing byte") == 0 ? "invalid metadata: malformed binary metadata at byte"
                                                                         : "invalid metadata in row 3: ";
        CHECK(strncmp(ev_last_error_message(), prefix, strlen(prefix)) == 0, "%s: batch message %s",
              bad[i].what, ev_last_error_message());
    }
    CHECK(strstr(ev_last_error_message(), "at byte") != NULL, "malformed bytes name the offset: %s", ev_last_error_message());
    {   /* Offsets count from the start of the whole buffer: row 0 of 0 + bool 2 at byte 4 + its length. */
        unsigned char batch[64];
        batch[0] = 0;
        meta_t b = { .n = 0 };
        m_u8(&b, 1); m_name(&b, "b", EV_META_BOOL); m_u8(&b, 2);
        memcpy(batch + 1, b.b, (size_t)b.n);
        CHECK_EQ(ev_insert_batch_with_metadata(h, base, 2, NULL, batch, 1 + b.n), EV_ERR_INVALID_METADATA, "bool 2 in row 1");
        CHECK(strcmp(ev_last_error_message(), "invalid metadata in row 1: malformed binary metadata at byte 5") == 0,
              "offset within the batch: %s", ev_last_error_message());
        /* Too few forms for the rows, or bytes left over. */
        CHECK_EQ(ev_insert_batch_with_metadata(h, base, 3, NULL, batch, 1), EV_ERR_INVALID_METADATA, "2 forms short");
        unsigned char two[2] = {0, 0};
        CHECK_EQ(ev_insert_batch_with_metadata(h, base, 1, NULL, two, 2), EV_ERR_INVALID_METADATA, "a form left over");
    }
    row_metadata(0, &m);
    CHECK_EQ(ev_insert_with_metadata(h, fresh, EV_NEXT_ID, NULL, 0), EV_ERR_INVALID_HANDLE, "NULL metadata");
    CHECK_EQ(ev_insert_with_metadata(h, NULL, EV_NEXT_ID, m.b, m.n), EV_ERR_INVALID_HANDLE, "NULL vector");
    CHECK_EQ(ev_insert_with_metadata(h, fresh, EV_NEXT_ID, m.b, -1), EV_ERR_INVALID_PARAMETER, "negative length");
    CHECK_EQ(ev_insert_with_metadata(h, fresh, 3, m.b, m.n), EV_ERR_DUPLICATE_ID, "a present id");
    CHECK_EQ(ev_insert_with_metadata(h, fresh, EV_MAX_ID + 1, m.b, m.n), EV_ERR_INVALID_ID, "an id past EV_MAX_ID");
    fresh[2] = NAN;
    CHECK_EQ(ev_insert_with_metadata(h, fresh, EV_NEXT_ID, m.b, m.n), EV_ERR_NON_FINITE, "NaN vector, good metadata");
    fresh[2] = 0.5f;
    CHECK_EQ(ev_insert_batch_with_metadata(h, base, 1, NULL, NULL, 0), EV_ERR_INVALID_HANDLE, "batch: NULL metadata");
    CHECK_EQ(ev_insert_batch_with_metadata(h, base, -1, NULL, m.b, m.n), EV_ERR_INVALID_PARAMETER, "batch: count -1");
    {
        uint64_t dup[2] = {7, 9100};
        unsigned char two[2] = {0, 0};
        CHECK_EQ(ev_insert_batch_with_metadata(h, base, 2, dup, two, 2), EV_ERR_DUPLICATE_ID, "batch: a present id");
    }
    CHECK_EQ(ev_set_metadata(h, 5000, m.b, m.n), EV_ERR_UNKNOWN_ID, "set_metadata of an absent id");
    CHECK_EQ(ev_set_metadata(h, 3, NULL, 1), EV_ERR_INVALID_HANDLE, "set_metadata NULL");
    CHECK_EQ(ev_set_metadata(-1, 3, m.b, m.n), EV_ERR_INVALID_HANDLE, "set_metadata bad handle");
    CHECK_EQ(ev_size(h), MN, "size unchanged by rejected calls");
    CHECK(unchanged(h, before, n0), "rejected metadata calls leave the saved bytes as they were");
    free(before);

    /* Filters: compile errors. */
    const char *syntax = "section = games";
    CHECK_EQ(ev_compile_filter(syntax, (int32_t)strlen(syntax)), EV_ERR_INVALID_FILTER, "unquoted string");
    CHECK(strcmp(ev_last_error_message(),
                 "invalid filter at column 11: expected a value (a string, a number, TRUE or FALSE)") == 0,
          "the column and what was expected: %s", ev_last_error_message());
    CHECK_EQ(ev_compile_filter("x = 1", 0), EV_ERR_INVALID_FILTER, "empty text");
    CHECK(strstr(ev_last_error_message(), "column 1:") != NULL, "empty text: column 1 (%s)", ev_last_error_message());
    CHECK_EQ(ev_compile_filter("x = \"\xC3\xA9\xC3\xA9\" AND", 14), EV_ERR_INVALID_FILTER, "ends after AND");
    CHECK(strstr(ev_last_error_message(), "column 13:") != NULL, "columns count Unicode scalars, not bytes (%s)",
          ev_last_error_message());
    CHECK_EQ(ev_compile_filter(NULL, 3), EV_ERR_INVALID_HANDLE, "NULL text");
    CHECK_EQ(ev_compile_filter("x = 1", -1), EV_ERR_INVALID_PARAMETER, "negative length");
    {
        int32_t f = ev_compile_filter("x = 1 trailing", 5);
        CHECK(f > 0, "only `length` bytes are read: %d", f);
        ev_free_filter(f);
    }

    /* Filtered search against brute force. */
    uint64_t ids[MN], truth[MN];
    float dist[MN], tdist[MN];
    for (int f = 0; f < (int)(sizeof FILTERS / sizeof FILTERS[0]); f++) {
        int32_t fh = ev_compile_filter(FILTERS[f], (int32_t)strlen(FILTERS[f]));
        CHECK(fh > 0, "compile %s: %d (%s)", FILTERS[f], fh, ev_last_error_message());
        int matches = 0;
        for (int i = 0; i < MN; i++) matches += filter_matches(f, i);
        int exact = 1, all_match = 1, counts = 1, hits = 0, wanted = 0;
        for (int q = 0; q < Q; q++) {
            const float *query = queries + (size_t)q * DIM;
            /* Brute force over the matching rows. */
            int nt = 0;
            for (int i = 0; i < MN; i++) {
                if (!filter_matches(f, i)) continue;
                float d = l2(base + (size_t)i * DIM, query);
                int j = nt++;
                while (j > 0 && tdist[j - 1] > d) { tdist[j] = tdist[j - 1]; truth[j] = truth[j - 1]; j--; }
                tdist[j] = d; truth[j] = (uint64_t)i;
            }
            for (int k = 1; k <= 50; k += 49) {
                int want = k < matches ? k : matches;
                /* ef = MN: the matches are scanned exactly. */
                int n = ev_search_filtered(h, query, k, MN, fh, ids, dist);
                counts &= n == want;
                for (int j = 0; j < n && j < want; j++) {
                    all_match &= filter_matches(f, (int)ids[j]);
                    exact &= fabsf(dist[j] - tdist[j]) <= 1e-4f * (1 + tdist[j]);
                }
                /* ef 10 (the beam is max(ef, k)): for k = 1 the graph walk when more than
                   10 x 2M = 160 rows match; the default ef (ev_ef_search, 64) for k = 50. */
                n = ev_search_filtered(h, query, k, k == 1 ? 10 : 0, fh, ids, dist);
                counts &= n == want;
                for (int j = 0; j < n && j < want; j++) {
                    all_match &= filter_matches(f, (int)ids[j]);
                    for (int t = 0; t < want; t++) hits += ids[j] == truth[t];
                }
                wanted += want;
            }
        }
        CHECK(counts, "%s: min(k, %d matches) results", FILTERS[f], matches);
        CHECK(all_match, "%s: every result matches", FILTERS[f]);
        CHECK(exact, "%s: exact with ef >= size", FILTERS[f]);
        CHECK(wanted == 0 || hits >= 0.9 * wanted, "%s: recall %d / %d with ef 10 or the default", FILTERS[f], hits, wanted);
        ev_free_filter(fh);
        CHECK_EQ(ev_search_filtered(h, queries, K, 0, fh, ids, dist), EV_ERR_INVALID_HANDLE, "a freed filter handle");
    }

    /* Filter handles against index handles, and errors of the search itself. */
    int32_t fh = ev_compile_filter("size < 10", 9);
    CHECK(fh > 0 && fh != h, "compile: %d", fh);
    CHECK_EQ(ev_search_filtered(h, queries, K, 0, h, ids, dist), EV_ERR_INVALID_HANDLE, "an index handle as the filter");
    CHECK_EQ(ev_search_filtered(fh, queries, K, 0, fh, ids, dist), EV_ERR_INVALID_HANDLE, "a filter handle as the index");
    CHECK_EQ(ev_size(fh), EV_ERR_INVALID_HANDLE, "ev_size of a filter handle");
    ev_free(fh);       /* not an index: ignored */
    ev_free_filter(h); /* not a filter: ignored */
    CHECK_EQ(ev_size(h), MN, "ev_free_filter(index handle) left the index");
    CHECK_EQ(ev_search_filtered(h, queries, K, 0, fh, ids, dist), K, "ev_free(filter handle) left the filter");
    CHECK_EQ(ev_search_filtered(h, queries, K, 0, fh + (1 << 16), ids, dist), EV_ERR_INVALID_HANDLE, "a forged filter generation");
    CHECK_EQ(ev_search_filtered(h, queries, 0, 0, fh, ids, dist), EV_ERR_INVALID_K, "k 0");
    CHECK_EQ(ev_search_filtered(h, queries, K, 65537, fh, ids, dist), EV_ERR_INVALID_PARAMETER, "ef 65537");
    CHECK_EQ(ev_search_filtered(h, NULL, K, 0, fh, ids, dist), EV_ERR_INVALID_HANDLE, "NULL query");
    CHECK_EQ(ev_search_filtered(h, queries, K, 0, fh, NULL, dist), EV_ERR_INVALID_HANDLE, "NULL ids");

    /* Update keeps metadata, remove drops it, set replaces and the empty form clears. */
    CHECK_EQ(ev_update(h, 4, queries), 0, "update 4");
    row_metadata(4, &m);
    CHECK(ev_get_metadata(h, 4) == m.n && memcmp(ev_output_bytes(h), m.b, (size_t)m.n) == 0, "update keeps the metadata");
    CHECK_EQ(ev_search_filtered(h, queries, 1, 0, fh, ids, dist), 1, "search near the updated vector");
    CHECK(ids[0] == 4 && dist[0] == 0.0f, "the updated vector is found under the filter (%llu)", (unsigned long long)ids[0]);
    CHECK_EQ(ev_remove(h, 4), 1, "remove 4");
    CHECK_EQ(ev_get_metadata(h, 4), 0, "a removed id has no metadata");
    CHECK_EQ(ev_search_filtered(h, queries, 1, 0, fh, ids, dist), 1, "search after removal");
    CHECK(ids[0] != 4, "the removed vector is not found");
    {
        meta_t s = { .n = 0 };
        m_u8(&s, 1); m_int(&s, "size", 1000);
        CHECK_EQ(ev_set_metadata(h, 2, s.b, s.n), 0, "set_metadata(2)");
        CHECK(ev_get_metadata(h, 2) == s.n && memcmp(ev_output_bytes(h), s.b, (size_t)s.n) == 0, "replaced");
        unsigned char none = 0;
        CHECK_EQ(ev_set_metadata(h, 1, &none, 1), 0, "clear 1");
        CHECK_EQ(ev_get_metadata(h, 1), 1, "cleared: the empty form");
        CHECK(ev_output_bytes(h)[0] == 0, "cleared: byte 0");
        int n = ev_search_filtered(h, queries, MN, MN, fh, ids, dist);
        int ok = n == 7;   /* sizes 0 ... 9 but 1, 2 (changed) and 4 (removed) */
        for (int j = 0; j < n; j++) ok &= ids[j] < 10 && ids[j] != 1 && ids[j] != 2 && ids[j] != 4;
        CHECK(ok, "the filter sees the new metadata: %d results", n);
    }

    /* Save and load keep metadata; the loaded index answers the same. */
    {
        int32_t size;
        unsigned char *bytes = saved(h, &size);
        int32_t h2 = ev_load(bytes, size);
        CHECK(h2 > 0, "load with metadata: %d (%s)", h2, ev_last_error_message());
        int ok = 1;
        for (int i = 0; i < MN; i++) {
            int32_t a = ev_get_metadata(h, (uint64_t)i);
            unsigned char copy[512];
            if (a > 0) memcpy(copy, ev_output_bytes(h), (size_t)a);
            int32_t b = ev_get_metadata(h2, (uint64_t)i);
            ok &= a == b && (a <= 0 || memcmp(copy, ev_output_bytes(h2), (size_t)a) == 0);
        }
        CHECK(ok, "loaded metadata equals the original's");
        uint64_t i2[K];
        float d2[K];
        int same_hits = 1;
        for (int q = 0; q < Q; q++) {
            int n1 = ev_search_filtered(h, queries + (size_t)q * DIM, K, 0, fh, ids, dist);
            int n2 = ev_search_filtered(h2, queries + (size_t)q * DIM, K, 0, fh, i2, d2);
            same_hits &= n1 == n2 && memcmp(ids, i2, sizeof(uint64_t) * (size_t)n1) == 0;
        }
        CHECK(same_hits, "a filter handle works on every index, same answers after load");
        ev_free(h2);
        free(bytes);
    }
    ev_free_filter(fh);
    ev_free(h);
}

/* ------------------------------------------------------------------ batch search */

enum { BQ = 40, BK = 10, BPAD = 0xAB };

/* Batch output buffers for `count` queries of `k`, filled with BPAD so that writes show. */
typedef struct { uint64_t *ids; float *dist; int32_t *counts; size_t nk, n; } batch_out_t;
static batch_out_t batch_out(size_t count, size_t k) {
    batch_out_t o = {malloc(sizeof(uint64_t) * count * k + 1), malloc(sizeof(float) * count * k + 1),
                     malloc(sizeof(int32_t) * count + 1), count * k, count};
    memset(o.ids, BPAD, sizeof(uint64_t) * o.nk);
    memset(o.dist, BPAD, sizeof(float) * o.nk);
    memset(o.counts, BPAD, sizeof(int32_t) * o.n);
    return o;
}
static int batch_untouched(const batch_out_t *o) {
    const unsigned char *p;
    p = (const unsigned char *)o->ids;
    for (size_t i = 0; i < sizeof(uint64_t) * o->nk; i++) if (p[i] != BPAD) return 0;
    p = (const unsigned char *)o->dist;
    for (size_t i = 0; i < sizeof(float) * o->nk; i++) if (p[i] != BPAD) return 0;
    p = (const unsigned char *)o->counts;
    for (size_t i = 0; i < sizeof(int32_t) * o->n; i++) if (p[i] != BPAD) return 0;
    return 1;
}
static void batch_free(batch_out_t *o) { free(o->ids); free(o->dist); free(o->counts); }

/* Whether query i's part of `o` (stride k) holds exactly what ev_search(_filtered) returns for
   it, and nothing was written past its count. */
static int batch_matches(int32_t h, const float *queries, int count, int k, int ef, int32_t filter,
                         const batch_out_t *o) {
    uint64_t *ids = malloc(sizeof(uint64_t) * (size_t)k);
    float *dist = malloc(sizeof(float) * (size_t)k);
    int ok = 1;
    for (int q = 0; q < count && ok; q++) {
        const float *query = queries + (size_t)q * DIM;
        int n = filter ? ev_search_filtered(h, query, k, ef, filter, ids, dist) : ev_search(h, query, k, ef, ids, dist);
        if (n < 0 || o->counts[q] != n) { ok = 0; break; }
        const uint64_t *bi = o->ids + (size_t)q * k;
        const float *bd = o->dist + (size_t)q * k;
        ok = memcmp(bi, ids, sizeof(uint64_t) * (size_t)n) == 0 && memcmp(bd, dist, sizeof(float) * (size_t)n) == 0;
        for (int j = n; j < k && ok; j++) {   /* past the count: untouched */
            const unsigned char *a = (const unsigned char *)(bi + j), *b = (const unsigned char *)(bd + j);
            for (size_t t = 0; t < 8; t++) ok &= a[t] == BPAD;
            for (size_t t = 0; t < 4; t++) ok &= b[t] == BPAD;
        }
    }
    free(ids);
    free(dist);
    return ok;
}

static void test_search_batch(const float *base, const float *queries) {
    const char *metric_names[] = {"l2", "cosine", "dot"};
    meta_t m;
    for (int metric = 0; metric < 3; metric++) {
        const char *mn = metric_names[metric];
        int32_t h = ev_create(DIM, metric, 8, 100, 11);
        for (int i = 0; i < 300; i++) {
            row_metadata(i, &m);
            ev_insert_with_metadata(h, base + (size_t)i * DIM, EV_NEXT_ID, m.b, m.n);
        }
        CHECK_EQ(ev_size(h), 300, mn);

        /* Unfiltered: the default ef, a wider one, k above the size; any thread count gives the same. */
        const int ks[] = {BK, BK, 1, 350};
        const int efs[] = {0, 120, 0, 0};
        for (int c = 0; c < 4; c++) {
            for (int threads = 0; threads <= 2; threads++) {
                batch_out_t o = batch_out(BQ, (size_t)ks[c]);
                CHECK_EQ(ev_search_batch(h, queries, BQ, ks[c], efs[c], 0, threads, o.ids, o.dist, o.counts), BQ,
                         "search_batch returns the count");
                CHECK(batch_matches(h, queries, BQ, ks[c], efs[c], 0, &o),
                      "%s, k %d, ef %d, threads %d: every query's hits equal ev_search's", mn, ks[c], efs[c], threads);
                int all = 1;
                for (int q = 0; q < BQ; q++) all &= o.counts[q] == (ks[c] < 300 ? ks[c] : 300);
                CHECK(all, "%s, k %d: min(k, size) hits per query", mn, ks[c]);
                batch_free(&o);
            }
        }

        /* Filtered: every filter of the brute-force comparison, hits equal ev_search_filtered's. */
        for (size_t f = 0; f < sizeof FILTERS / sizeof FILTERS[0]; f++) {
            int32_t fh = ev_compile_filter(FILTERS[f], (int32_t)strlen(FILTERS[f]));
            int matches = 0;
            for (int i = 0; i < 300; i++) matches += filter_matches((int)f, i);
            batch_out_t o = batch_out(BQ, BK);
            CHECK_EQ(ev_search_batch(h, queries, BQ, BK, 0, fh, 1, o.ids, o.dist, o.counts), BQ, FILTERS[f]);
            CHECK(batch_matches(h, queries, BQ, BK, 0, fh, &o), "%s, filter %s: hits equal ev_search_filtered's",
                  mn, FILTERS[f]);
            CHECK(o.counts[0] == (matches < BK ? matches : BK), "%s, filter %s: %d hits for %d matches", mn,
                  FILTERS[f], o.counts[0], matches);
            batch_free(&o);
            ev_free_filter(fh);
        }
        ev_free(h);
    }

    /* Count 0 writes nothing; an empty index gives 0 hits per query. */
    int32_t h = ev_create(DIM, EV_METRIC_L2, 8, 100, 11);
    {
        batch_out_t o = batch_out(BQ, BK);
        CHECK_EQ(ev_search_batch(h, queries, 0, BK, 0, 0, 0, o.ids, o.dist, o.counts), 0, "count 0");
        CHECK(batch_untouched(&o), "count 0 writes nothing");
        CHECK_EQ(ev_search_batch(h, queries, 3, BK, 0, 0, 0, o.ids, o.dist, o.counts), 3, "an empty index");
        CHECK(o.counts[0] == 0 && o.counts[1] == 0 && o.counts[2] == 0, "no hits in an empty index");
        batch_free(&o);
    }
    CHECK_EQ(ev_insert_batch(h, base, 200), 0, "insert");

    /* Every error writes nothing and leaves the index unchanged. */
    int32_t saved_size;
    unsigned char *before = saved(h, &saved_size);
    int32_t fh = ev_compile_filter("size < 3", 8);
    int32_t freed = ev_compile_filter("size < 4", 8);
    ev_free_filter(freed);
    float *bad = malloc(sizeof(float) * BQ * DIM);
    memcpy(bad, queries, sizeof(float) * BQ * DIM);
    batch_out_t o = batch_out(BQ, BK);
    struct { const char *what; int32_t got, expected; const char *message; } cases[32];
    int nc = 0;
#define BATCH_ERR(label, call, code, text)                                                  \
    do {                                                                                    \
        cases[nc].what = (label);                                                           \
        cases[nc].got = (call);                                                             \
        cases[nc].expected = (code);                                                        \
        cases[nc].message = (text);                                                         \
        CHECK(cases[nc].message == NULL || strstr(ev_last_error_message(), cases[nc].message) != NULL, \
              "%s: the message names it: \"%s\"", (label), ev_last_error_message());         \
        nc++;                                                                               \
    } while (0)
    BATCH_ERR("unknown handle", ev_search_batch(12345, queries, BQ, BK, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_HANDLE, NULL);
    BATCH_ERR("NULL queries", ev_search_batch(h, NULL, BQ, BK, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_HANDLE, NULL);
    BATCH_ERR("NULL ids", ev_search_batch(h, queries, BQ, BK, 0, 0, 0, NULL, o.dist, o.counts),
              EV_ERR_INVALID_HANDLE, NULL);
    BATCH_ERR("NULL distances", ev_search_batch(h, queries, BQ, BK, 0, 0, 0, o.ids, NULL, o.counts),
              EV_ERR_INVALID_HANDLE, NULL);
    BATCH_ERR("NULL counts", ev_search_batch(h, queries, BQ, BK, 0, 0, 0, o.ids, o.dist, NULL),
              EV_ERR_INVALID_HANDLE, NULL);
    BATCH_ERR("a freed filter", ev_search_batch(h, queries, BQ, BK, 0, freed, 0, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_HANDLE, NULL);
    BATCH_ERR("an index handle as the filter", ev_search_batch(h, queries, BQ, BK, 0, h, 0, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_HANDLE, NULL);
    BATCH_ERR("a filter handle as the index", ev_search_batch(fh, queries, BQ, BK, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_HANDLE, NULL);
    BATCH_ERR("k 0", ev_search_batch(h, queries, BQ, 0, 0, 0, 0, o.ids, o.dist, o.counts), EV_ERR_INVALID_K, "k must");
    BATCH_ERR("k -1", ev_search_batch(h, queries, BQ, -1, 0, fh, 0, o.ids, o.dist, o.counts), EV_ERR_INVALID_K, NULL);
    BATCH_ERR("ef 65537", ev_search_batch(h, queries, BQ, BK, 65537, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_PARAMETER, "invalid ef: 65537");
    BATCH_ERR("count -1", ev_search_batch(h, queries, -1, BK, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_PARAMETER, "invalid count: -1");
    BATCH_ERR("threads -1", ev_search_batch(h, queries, BQ, BK, 0, 0, -1, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_PARAMETER, "invalid threads: -1");
    BATCH_ERR("count * k past int32", ev_search_batch(h, queries, 65536, 32768, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_INVALID_PARAMETER, "invalid count * k: 2147483648");
    bad[(BQ - 1) * DIM + 7] = NAN;   /* the last row: found before any search runs */
    BATCH_ERR("NaN in the last row", ev_search_batch(h, bad, BQ, BK, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_NON_FINITE, "query row 39: non-finite value (NaN or infinity) at position 7");
    BATCH_ERR("NaN, filtered", ev_search_batch(h, bad, BQ, BK, 0, fh, 0, o.ids, o.dist, o.counts),
              EV_ERR_NON_FINITE, "query row 39");
    bad[(BQ - 1) * DIM + 7] = queries[(BQ - 1) * DIM + 7];
    bad[17 * DIM] = INFINITY;
    BATCH_ERR("infinity in row 17", ev_search_batch(h, bad, BQ, BK, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_NON_FINITE, "query row 17: non-finite value (NaN or infinity) at position 0");
    bad[17 * DIM] = 1e30f;
    BATCH_ERR("1e30 in row 17", ev_search_batch(h, bad, BQ, BK, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_VECTOR_TOO_LARGE, "vector at row 17 is too large");
    int32_t hc = ev_create(DIM, EV_METRIC_COSINE, 8, 100, 11);
    CHECK_EQ(ev_insert_batch(hc, base, 50), 0, "cosine insert");
    memcpy(bad, queries, sizeof(float) * BQ * DIM);
    memset(bad + 5 * DIM, 0, sizeof(float) * DIM);
    BATCH_ERR("a zero row under cosine", ev_search_batch(hc, bad, BQ, BK, 0, 0, 0, o.ids, o.dist, o.counts),
              EV_ERR_ZERO_VECTOR, "zero vector at row 5");
    for (int i = 0; i < nc; i++) CHECK_EQ(cases[i].got, cases[i].expected, cases[i].what);
    CHECK(batch_untouched(&o), "no error wrote to the output buffers");
    CHECK(unchanged(h, before, saved_size), "no error changed the index");
    /* ...and the same buffers then take a good batch. */
    CHECK_EQ(ev_search_batch(h, queries, BQ, BK, 0, 0, 0, o.ids, o.dist, o.counts), BQ, "a good batch after errors");
    CHECK(batch_matches(h, queries, BQ, BK, 0, 0, &o), "its hits equal ev_search's");

    batch_free(&o);
    free(bad);
    free(before);
    ev_free_filter(fh);
    ev_free(hc);
    ev_free(h);
}

int main(void) {
    test_messages();
    test_create_errors();
    test_invalid_handles();

    float *base = malloc(sizeof(float) * (size_t)N * DIM);
    float *queries = malloc(sizeof(float) * (size_t)Q * DIM);
    for (int i = 0; i < N * DIM; i++) base[i] = next_float();
    for (int i = 0; i < Q * DIM; i++) queries[i] = next_float();

    int32_t h = ev_create(DIM, EV_METRIC_L2, 16, 200, 42);
    CHECK(h >= 0, "create: %d (%s)", h, ev_error_message(h));
    CHECK_EQ(ev_dimension(h), DIM, "dimension");
    CHECK_EQ(ev_size(h), 0, "size of a new index");
    CHECK_EQ(ev_metric(h), EV_METRIC_L2, "metric");
    CHECK_EQ(ev_m(h), 16, "m");
    CHECK_EQ(ev_ef_construction(h), 200, "ef_construction");
    CHECK_EQ(ev_ef_search(h), 64, "ev_create's default ef_search");
    CHECK_EQ(ev_allocator_kind(), EV_ALLOCATOR_SYSTEM, "allocator kind of the native library");

    uint64_t ids[64];
    float dist[64];
    CHECK_EQ(ev_search(h, queries, K, 0, ids, dist), 0, "search on an empty index");

    /* Insert one, a batch, then through the staging buffer. */
    CHECK_EQ(ev_insert(h, base), 0, "first id");
    CHECK_EQ(ev_insert_batch(h, base + DIM, 399), 1, "batch first id");
    CHECK_EQ(ev_size(h), 400, "size after the batch");
    CHECK_EQ(ev_insert_batch(h, base, 0), 400, "empty batch returns the size");
    float *staging = ev_input(h, 100);
    CHECK(staging != NULL, "ev_input(100)");
    if (staging) {
        memcpy(staging, base + (size_t)400 * DIM, sizeof(float) * DIM);
        CHECK_EQ(ev_insert(h, staging), 400, "insert from the staging buffer");
        float *again = ev_input(h, 99);
        CHECK(again == staging, "a smaller ev_input reuses the buffer");
        memcpy(again, base + (size_t)401 * DIM, sizeof(float) * 99 * DIM);
        CHECK_EQ(ev_insert_batch(h, again, 99), 401, "batch from the staging buffer");
    }
    CHECK_EQ(ev_insert_batch(h, base + (size_t)500 * DIM, N - 500), 500, "last batch");
    CHECK_EQ(ev_size(h), N, "size");
    CHECK(ev_input(h, 0) == NULL, "ev_input(0) is NULL");
    CHECK(ev_input(h, -3) == NULL, "ev_input(-3) is NULL");

    /* Search: exact with ef >= n, recall with the default ef, self-queries. */
    int exact = 1, sorted = 1, hits = 0;
    for (int q = 0; q < Q; q++) {
        uint64_t truth[K];
        float tdist[K];
        brute_force(base, N, queries + (size_t)q * DIM, K, truth, tdist);
        int n = ev_search(h, queries + (size_t)q * DIM, K, N, ids, dist);
        if (n != K) { exact = 0; continue; }
        for (int j = 0; j < K; j++) {
            if (ids[j] != truth[j] || fabsf(dist[j] - tdist[j]) > 1e-4f * (1 + tdist[j])) exact = 0;
            if (j > 0 && dist[j] < dist[j - 1]) sorted = 0;
        }
        n = ev_search(h, queries + (size_t)q * DIM, K, 0, ids, dist);
        for (int j = 0; j < n; j++)
            for (int t = 0; t < K; t++) hits += ids[j] == truth[t];
    }
    CHECK(exact, "ef = n gives the exact top-%d of brute force", K);
    CHECK(sorted, "distances ascend");
    double recall = (double)hits / (Q * K);
    CHECK(recall >= 0.9, "recall@%d with the default ef: %.3f", K, recall);
    printf("recall@%d (default ef) = %.3f\n", K, recall);

    int self = 1;
    for (int i = 0; i < N; i += 37) {
        int n = ev_search(h, base + (size_t)i * DIM, 1, 0, ids, dist);
        if (n != 1 || ids[0] != (uint64_t)i || dist[0] != 0.0f) self = 0;
    }
    CHECK(self, "every sampled vector finds itself at distance 0");
    uint64_t *all_ids = malloc(sizeof(uint64_t) * 1000);
    float *all_dist = malloc(sizeof(float) * 1000);
    CHECK_EQ(ev_search(h, queries, 1000, 0, all_ids, all_dist), N, "k > size returns size results");

    /* The handle's result buffer. */
    uint64_t *out = ev_output(h, K);
    float *out_dist = ev_output_distances(h);
    CHECK(out != NULL && out_dist != NULL, "ev_output / ev_output_distances");
    CHECK(ev_output(h, 0) == NULL && ev_output(h, -1) == NULL, "ev_output(k < 1) is NULL");
    CHECK(ev_output(h, K - 3) == out && ev_output_distances(h) == out_dist, "a smaller ev_output reuses the buffers");
    if (out && out_dist) {
        CHECK_EQ(ev_search(h, queries, K, 0, out, out_dist), K, "search into the result buffer");
        int n = ev_search(h, queries, K, 0, ids, dist);
        CHECK(n == K && memcmp(ids, out, sizeof(uint64_t) * K) == 0 && memcmp(dist, out_dist, sizeof(float) * K) == 0,
              "the result buffer holds the same hits as caller buffers");
    }

    /* Reservations: bad ones change nothing, a good one leaves the index as it was. */
    CHECK_EQ(ev_reserve(h, -1), EV_ERR_INVALID_PARAMETER, "reserve(-1)");
    CHECK_EQ(ev_reserve(h, 0), 0, "reserve(0) below the size");
    CHECK_EQ(ev_reserve(h, 2 * N), 0, "reserve(2n)");
    CHECK_EQ(ev_size(h), N, "size unchanged by reserve");

    /* The handle's default ef. */
    CHECK_EQ(ev_set_ef_search(h, 0), EV_ERR_INVALID_PARAMETER, "set_ef_search(0)");
    CHECK_EQ(ev_set_ef_search(h, 65537), EV_ERR_INVALID_PARAMETER, "set_ef_search(65537)");
    CHECK_EQ(ev_ef_search(h), 64, "ef_search unchanged after rejected calls");
    CHECK_EQ(ev_set_ef_search(h, N), 0, "set_ef_search(n)");
    CHECK_EQ(ev_ef_search(h), N, "ef_search after set");
    {
        int same = 1;
        for (int q = 0; q < Q; q++) {
            uint64_t i1[K], i2[K];
            float d1[K], d2[K];
            int n1 = ev_search(h, queries + (size_t)q * DIM, K, 0, i1, d1);
            int n2 = ev_search(h, queries + (size_t)q * DIM, K, N, i2, d2);
            same &= n1 == K && n2 == K && memcmp(i1, i2, sizeof i1) == 0;
        }
        CHECK(same, "ef <= 0 uses the handle's ef_search");
    }

    /* Search errors. */
    CHECK_EQ(ev_search(h, queries, 0, 0, ids, dist), EV_ERR_INVALID_K, "k 0");
    CHECK_EQ(ev_search(h, queries, -1, 0, ids, dist), EV_ERR_INVALID_K, "k -1");
    CHECK_EQ(ev_search(h, queries, K, 65537, ids, dist), EV_ERR_INVALID_PARAMETER, "ef 65537");
    CHECK_EQ(ev_search(h, NULL, K, 0, ids, dist), EV_ERR_INVALID_HANDLE, "NULL query");
    CHECK_EQ(ev_search(h, queries, K, 0, NULL, dist), EV_ERR_INVALID_HANDLE, "NULL ids");
    CHECK_EQ(ev_search(h, queries, K, 0, ids, NULL), EV_ERR_INVALID_HANDLE, "NULL distances");
    float bad[DIM];
    memcpy(bad, queries, sizeof bad);
    bad[3] = NAN;
    CHECK_EQ(ev_search(h, bad, K, 0, ids, dist), EV_ERR_NON_FINITE, "NaN query");

    /* Insert errors leave the index unchanged. */
    CHECK_EQ(ev_insert(h, bad), EV_ERR_NON_FINITE, "NaN vector");
    bad[3] = INFINITY;
    CHECK_EQ(ev_insert(h, bad), EV_ERR_NON_FINITE, "infinite vector");
    bad[3] = 1e30f;
    CHECK_EQ(ev_insert(h, bad), EV_ERR_VECTOR_TOO_LARGE, "1e30 component");
    CHECK_EQ(ev_insert(h, NULL), EV_ERR_INVALID_HANDLE, "NULL vector");
    CHECK_EQ(ev_insert_batch(h, NULL, 2), EV_ERR_INVALID_HANDLE, "NULL batch");
    CHECK_EQ(ev_insert_batch(h, base, -1), EV_ERR_INVALID_PARAMETER, "negative count");
    float batch[3 * DIM];
    memcpy(batch, base, sizeof batch);
    batch[2 * DIM + 5] = NAN; /* the last row is bad: nothing is inserted */
    CHECK_EQ(ev_insert_batch(h, batch, 3), EV_ERR_NON_FINITE, "batch with a NaN in its last row");
    CHECK_EQ(ev_size(h), N, "size unchanged after rejected inserts");

    /* Save / load round trip. */
    int32_t size = ev_save_size(h);
    CHECK(size > 96, "save_size %d", size);
    unsigned char *bytes = malloc((size_t)size + 16);
    memset(bytes, 0xAB, (size_t)size + 16);
    CHECK_EQ(ev_save(h, bytes, size - 1), EV_ERR_BUFFER_TOO_SMALL, "capacity one byte short");
    CHECK(bytes[0] == 0xAB && bytes[size - 2] == 0xAB, "nothing written when the buffer is too small");
    CHECK_EQ(ev_save(h, bytes, -5), EV_ERR_BUFFER_TOO_SMALL, "negative capacity");
    CHECK_EQ(ev_save(h, NULL, size), EV_ERR_INVALID_HANDLE, "NULL output");
    CHECK_EQ(ev_save(h, bytes, size + 16), size, "save returns save_size");
    CHECK(memcmp(bytes, "EDGEVEC", 8) == 0, "magic EDGEVEC\\0");
    CHECK(bytes[size] == 0xAB, "no byte written past save_size");

    int32_t h2 = ev_load(bytes, size);
    CHECK(h2 >= 0 && h2 != h, "load: %d (%s)", h2, ev_error_message(h2));
    CHECK_EQ(ev_size(h2), N, "loaded size");
    CHECK_EQ(ev_dimension(h2), DIM, "loaded dimension");
    CHECK(same_results(h, h2, queries, Q, K, 0), "loaded index: identical ids and distances (default ef)");
    CHECK(same_results(h, h2, queries, Q, 50, 120), "loaded index: identical ids and distances (k 50, ef 120)");
    CHECK_EQ(ev_save_size(h2), size, "loaded save_size");
    CHECK_EQ(ev_ef_search(h2), 64, "set_ef_search is not stored in the bytes");
    CHECK_EQ(ev_metric(h2), EV_METRIC_L2, "loaded metric");
    CHECK_EQ(ev_m(h2), 16, "loaded m");
    CHECK_EQ(ev_ef_construction(h2), 200, "loaded ef_construction");
    unsigned char *bytes2 = malloc((size_t)size);
    CHECK_EQ(ev_save(h2, bytes2, size), size, "save of the loaded index");
    CHECK(memcmp(bytes, bytes2, (size_t)size) == 0, "save(load(bytes)) == bytes");
    /* Both keep working independently. */
    CHECK_EQ(ev_insert(h2, queries), N, "insert into the loaded index");
    CHECK_EQ(ev_size(h), N, "the original is unaffected");

    /* Library-owned byte buffers, as a wasm host would use them. */
    CHECK(ev_alloc(-1) == NULL, "ev_alloc(-1) is NULL");
    ev_dealloc(NULL);
    unsigned char *lib_bytes = ev_alloc(size);
    CHECK(lib_bytes != NULL && ((uintptr_t)lib_bytes % 16) == 0, "ev_alloc: 16-byte aligned");
    if (lib_bytes) {
        CHECK_EQ(ev_save(h, lib_bytes, size), size, "save into ev_alloc memory");
        int32_t h6 = ev_load(lib_bytes, size);
        CHECK(h6 >= 0 && ev_size(h6) == N, "load from ev_alloc memory");
        ev_free(h6);
        ev_dealloc(lib_bytes);
    }

    /* ef_search is stored by ev_create_with_ef_search. */
    {
        int32_t he = ev_create_with_ef_search(DIM, EV_METRIC_L2, 8, 50, 77, 3);
        CHECK_EQ(ev_ef_search(he), 77, "ef_search of ev_create_with_ef_search");
        CHECK_EQ(ev_insert_batch(he, base, 50), 0, "insert");
        int32_t n = ev_save_size(he);
        unsigned char *b = malloc((size_t)n);
        CHECK_EQ(ev_save(he, b, n), n, "save");
        int32_t hl = ev_load(b, n);
        CHECK_EQ(ev_ef_search(hl), 77, "ef_search survives save/load");
        ev_free(hl);
        ev_free(he);
        free(b);
    }

    /* Same seed, same inserts: the same bytes. */
    int32_t h3 = ev_create(DIM, EV_METRIC_L2, 16, 200, 42);
    CHECK_EQ(ev_insert_batch(h3, base, N), 0, "rebuild");
    CHECK(ev_save(h3, bytes2, size) == size && memcmp(bytes, bytes2, (size_t)size) == 0,
          "a batch-built index with the same seed saves the same bytes as one built by single inserts");
    ev_free(h3);

    /* Corrupt input. */
    CHECK_EQ(ev_load(bytes, size - 1), EV_ERR_CORRUPT, "truncated");
    CHECK_EQ(ev_load(bytes, 50), EV_ERR_CORRUPT, "a partial header");
    CHECK_EQ(ev_load(bytes, 0), EV_ERR_CORRUPT, "zero bytes");
    CHECK_EQ(ev_load(bytes, -1), EV_ERR_CORRUPT, "negative length");
    CHECK_EQ(ev_load(NULL, 0), EV_ERR_CORRUPT, "NULL, 0");
    CHECK_EQ(ev_load(NULL, 200), EV_ERR_CORRUPT, "NULL, 200");
    unsigned char *extra = malloc((size_t)size + 1);
    memcpy(extra, bytes, (size_t)size);
    extra[size] = 0;
    CHECK_EQ(ev_load(extra, size + 1), EV_ERR_CORRUPT, "a trailing byte");
    bytes[size / 2] ^= 0x10;
    CHECK_EQ(ev_load(bytes, size), EV_ERR_CORRUPT, "one flipped bit in the body");
    bytes[size / 2] ^= 0x10;
    bytes[20] ^= 0x01;
    CHECK_EQ(ev_load(bytes, size), EV_ERR_CORRUPT, "one flipped bit in the header");
    bytes[20] ^= 0x01;
    bytes[0] = 'X';
    CHECK_EQ(ev_load(bytes, size), EV_ERR_CORRUPT, "bad magic");
    bytes[0] = 'E';
    /* A crafted file with valid checksums: the reason comes with the code. */
    {
        unsigned char *crafted = malloc((size_t)size);
        memcpy(crafted, bytes, (size_t)size);
        crafted[88] = 1; /* more free slots (1) than removed ones (0) */
        reseal(crafted, size);
        CHECK_EQ(ev_load(crafted, size), EV_ERR_CORRUPT, "a free count above the removed count");
        CHECK(strstr(ev_last_error_message(), "freeCount (1)") != NULL, "the reason names the field: %s",
              ev_last_error_message());
        free(crafted);
    }
    CHECK_EQ(ev_size(-5), EV_ERR_INVALID_HANDLE, "a bridge error");
    CHECK(strcmp(ev_last_error_message(), "") == 0, "bridge errors leave no stale reason: %s", ev_last_error_message());
    int32_t h4 = ev_load(bytes, size);
    CHECK(h4 > 0, "the restored bytes load again");
    ev_free(h4);

    /* Cosine: zero vector, scale invariance. */
    int32_t hc = ev_create(DIM, EV_METRIC_COSINE, 8, 64, 7);
    CHECK(hc >= 0, "cosine create");
    CHECK_EQ(ev_insert_batch(hc, base, 200), 0, "cosine batch");
    float zero[DIM] = {0};
    CHECK_EQ(ev_insert(hc, zero), EV_ERR_ZERO_VECTOR, "zero vector under cosine");
    CHECK_EQ(ev_search(hc, zero, K, 0, ids, dist), EV_ERR_ZERO_VECTOR, "zero query under cosine");
    float scaled[DIM];
    for (int i = 0; i < DIM; i++) scaled[i] = base[17 * DIM + i] * 3.0f;
    int n = ev_search(hc, scaled, 1, 0, ids, dist);
    CHECK(n == 1 && ids[0] == 17 && fabsf(dist[0]) < 1e-5f, "a scaled copy is at cosine distance ~0 (id %llu, %g)",
          (unsigned long long)ids[0], dist[0]);

    /* Dot. */
    int32_t hd = ev_create(DIM, EV_METRIC_DOT, 16, 100, 7);
    CHECK_EQ(ev_insert_batch(hd, base, 200), 0, "dot batch");
    CHECK_EQ(ev_insert(hd, zero), 200, "the zero vector is fine under dot");
    n = ev_search(hd, queries, 201, 201, all_ids, all_dist);
    int dot_ok = n == 201;
    for (int j = 1; j < n; j++) dot_ok &= all_dist[j] >= all_dist[j - 1];
    CHECK(dot_ok, "dot search sorted");

    test_metadata(base, queries);
    test_search_batch(base, queries);

    /* Free, then the handle is stale for good: the next index takes the slot
       under a new generation, and the old handle never names it. */
    ev_free(hc);
    CHECK_EQ(ev_size(hc), EV_ERR_INVALID_HANDLE, "a freed handle is invalid");
    ev_free(hc); /* double free is ignored */
    int32_t h5 = ev_create(4, EV_METRIC_L2, 16, 200, 1);
    CHECK(h5 > 0 && h5 != hc, "a new handle (%d), not the freed one (%d)", h5, hc);
    CHECK_EQ(ev_size(h5), 0, "the new handle names the new, empty index");
    CHECK_EQ(ev_size(hc), EV_ERR_INVALID_HANDLE, "the stale handle is still refused");
    CHECK_EQ(ev_insert(hc, base), EV_ERR_INVALID_HANDLE, "insert through the stale handle");
    CHECK_EQ(ev_size(h5), 0, "and did not reach the new index");
    for (int round = 0; round < 1000; round++) {   /* churn one slot through many generations */
        int32_t t = ev_create(4, EV_METRIC_L2, 16, 200, 1);
        CHECK(t > 0 && t != hc && t != h5, "round %d: a fresh handle (%d)", round, t);
        ev_free(t);
        CHECK_EQ(ev_size(t), EV_ERR_INVALID_HANDLE, "a handle freed in the churn");
    }
    CHECK_EQ(ev_size(h5), 0, "the live handle survives the churn");
    CHECK_EQ(ev_size(h5 + 1), EV_ERR_INVALID_HANDLE, "a forged neighbour of a live handle");
    CHECK_EQ(ev_size(h5 + (1 << 16)), EV_ERR_INVALID_HANDLE, "a live slot under a forged generation");

    ev_free(h5);
    ev_free(hd);
    ev_free(h2);
    ev_free(h);
    free(all_ids); free(all_dist);
    free(base); free(queries); free(bytes); free(bytes2); free(extra);

    printf("C ABI: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
