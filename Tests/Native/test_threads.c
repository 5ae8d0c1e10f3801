/*
 * The C ABI from several threads (issue 22, point 6): libedgevec.so through
 * include/edgevec.h, with pthreads. Built and run by `make test-native`
 * (gcc, ASan + UBSan on this program) and `make test-sanitizers-native`
 * (ThreadSanitizer, the library built with --sanitize=thread).
 *
 *     test_threads [PARTS] [--runs R] [--searches S] [--rounds N]
 *
 * PARTS is any of the letters below (default: all of them):
 *   f  first use: the lazily built tables (CRC-32C, the file magic, the filter
 *      parser's keyword and number tables) are first used by three threads at once
 *      (all three compute a CRC-32C, two of them parse filters).
 *   a  concurrent searches of ONE index: 2 threads x S searches (default 10,000),
 *      every result equal to the same query's serial result; R runs (default 10).
 *      (Before searches took their scratch from a pool, they shared the index's,
 *      and this part crashed in 9 runs of 10.)
 *   b  one thread creates, inserts into, searches, saves, loads and frees indexes
 *      in a loop, and sets the default ef of the others' indexes, while two others
 *      search their own long-lived indexes; all three fail calls on purpose and
 *      must each read back their own error message.
 *   c  ev_free of a handle while another thread searches it: each search either
 *      returns the serial result or EV_ERR_INVALID_HANDLE (and then always does).
 *      Only the searching thread searches that index.
 *   d  filters compiled and freed on one thread while two others run
 *      ev_search_filtered on their own indexes, with long-lived filters and with
 *      the other thread's short-lived ones.
 * Parts b, c and d never search one index from two threads at once, so they
 * hold before the core change too. N rounds (default 100) of b and c.
 *
 * Prints each failed check and a closing "N passed, N failed"; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "edgevec.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_long passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            atomic_fetch_add(&passed, 1);                                  \
        } else {                                                           \
            atomic_fetch_add(&failed, 1);                                  \
            flockfile(stdout);                                             \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
            printf(__VA_ARGS__);                                           \
            printf("\n");                                                  \
            funlockfile(stdout);                                           \
        }                                                                  \
    } while (0)

/* Deterministic data: xorshift64* -> uniform floats in [-1, 1). */
static float next_float(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    uint64_t x = *state * 0x2545F4914F6CDD1Dull;
    return (float)((double)(x >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static float *random_floats(size_t n, uint64_t seed) {
    float *p = malloc(sizeof(float) * n);
    if (!p) { perror("malloc"); exit(2); }
    for (size_t i = 0; i < n; i++) p[i] = next_float(&seed);
    return p;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { K = 10, EF = 32 };

/* Serial results of `nq` queries: ids and distances, K per query, and the count. */
typedef struct {
    int nq, dim;
    const float *queries;
    uint64_t *ids;
    float *dist;
    int32_t *count;
} reference_t;

static void reference(reference_t *r, int32_t h, const float *queries, int nq, int dim, int32_t filter) {
    r->nq = nq;
    r->dim = dim;
    r->queries = queries;
    r->ids = calloc((size_t)nq * K, sizeof(uint64_t));
    r->dist = calloc((size_t)nq * K, sizeof(float));
    r->count = calloc((size_t)nq, sizeof(int32_t));
    for (int q = 0; q < nq; q++) {
        const float *v = queries + (size_t)q * dim;
        r->count[q] = filter ? ev_search_filtered(h, v, K, EF, filter, r->ids + (size_t)q * K, r->dist + (size_t)q * K)
                             : ev_search(h, v, K, EF, r->ids + (size_t)q * K, r->dist + (size_t)q * K);
        CHECK(r->count[q] == K, "reference search %d: %d (%s)", q, r->count[q], ev_error_message(r->count[q]));
    }
}

static void free_reference(reference_t *r) {
    free(r->ids);
    free(r->dist);
    free(r->count);
}

/* Query q on `h` with beam width `ef` (0: the handle's default), filtered
 * when `filter` > 0: 1 when the result is the reference's, 0 when it
 * differs, -1 when the call failed with `*code`. */
static int search_ef(int32_t h, int32_t ef, int32_t filter, const reference_t *r, int q, int32_t *code) {
    uint64_t ids[K];
    float dist[K];
    const float *v = r->queries + (size_t)q * r->dim;
    int32_t n = filter ? ev_search_filtered(h, v, K, ef, filter, ids, dist) : ev_search(h, v, K, ef, ids, dist);
    *code = n;
    if (n < 0) return -1;
    return n == r->count[q] && memcmp(ids, r->ids + (size_t)q * K, sizeof(uint64_t) * (size_t)n) == 0
        && memcmp(dist, r->dist + (size_t)q * K, sizeof(float) * (size_t)n) == 0;
}

static int search_matches(int32_t h, int32_t filter, const reference_t *r, int q, int32_t *code) {
    return search_ef(h, EF, filter, r, q, code);
}

/* ------------------------------------------------------------------ shared data */

enum { DIM = 32, N = 1000, NQ = 64, GROUPS = 7 };

/* Metadata binary form of vector i: one integer field g = i % GROUPS. */
static void metadata(int i, unsigned char form[12]) {
    int64_t g = i % GROUPS;
    form[0] = 1;
    form[1] = 1;
    form[2] = 'g';
    form[3] = EV_META_INTEGER;
    for (int b = 0; b < 8; b++) form[4 + b] = (unsigned char)((uint64_t)g >> (8 * b));
}

/* An l2 index of `n` vectors of `data`, each with its metadata. */
static int32_t build(const float *data, int n, int dim, uint64_t seed) {
    int32_t h = ev_create(dim, EV_METRIC_L2, 16, 64, seed);
    CHECK(h > 0, "create: %d (%s)", h, ev_error_message(h));
    for (int i = 0; i < n; i++) {
        unsigned char form[12];
        metadata(i, form);
        int64_t id = ev_insert_with_metadata(h, data + (size_t)i * dim, EV_NEXT_ID, form, sizeof form);
        if (id != i) {
            CHECK(id == i, "insert %d: %lld (%s)", i, (long long)id, ev_error_message((int32_t)id));
            break;
        }
    }
    return h;
}

static float *base, *queries;
static int32_t shared_a;                /* built by main: N vectors with metadata */
static unsigned char *bytes_a;          /* its serialized form, from part f */
static int32_t size_a;
static const char *FILTER_TEXT[] = {"g = 3", "g < 2", "g IN (1, 4, 6) AND g != 4"};
enum { FILTERS = 3 };

static int32_t load_a(void) {
    int32_t h = ev_load(bytes_a, size_a);
    CHECK(h > 0, "load: %d (%s) %s", h, ev_error_message(h), ev_last_error_message());
    return h;
}

static int32_t compile(const char *text) {
    int32_t f = ev_compile_filter(text, (int32_t)strlen(text));
    CHECK(f > 0, "compile %s: %d (%s) %s", text, f, ev_error_message(f), ev_last_error_message());
    return f;
}

/* ------------------------------------------------------------------ f: first use of the lazy tables */

static pthread_barrier_t barrier;
static int32_t small_b;                 /* built by main: 50 vectors */
static unsigned char *bytes_b;
static int32_t size_b;

static unsigned char *save(int32_t h, int32_t *size) {
    *size = ev_save_size(h);
    CHECK(*size > 0, "save_size: %d", *size);
    unsigned char *out = malloc(*size > 0 ? (size_t)*size : 1);
    int32_t n = ev_save(h, out, *size);
    CHECK(n == *size, "save: %d of %d (%s)", n, *size, ev_error_message(n));
    return out;
}

static void *first_use(void *arg) {
    int t = (int)(intptr_t)arg;
    pthread_barrier_wait(&barrier);
    if (t == 0) {
        bytes_a = save(shared_a, &size_a);
    } else if (t == 1) {
        bytes_b = save(small_b, &size_b);
        int32_t h = ev_load(bytes_b, size_b);
        CHECK(h > 0, "load of the small index: %d (%s)", h, ev_error_message(h));
        CHECK(ev_size(h) == 50, "size of the loaded small index: %d", ev_size(h));
        ev_free(h);
        int32_t f = compile("g IN (1, 2) OR NOT g >= 4.25");
        ev_free_filter(f);
    } else {
        int32_t f = compile("g = 3 AND g < 2.5e0 AND g BETWEEN -1 AND 7");
        ev_free_filter(f);
        unsigned char junk[200] = "EDGEVEC";   /* the magic and 96+ bytes: reaches the header CRC */
        int32_t h = ev_load(junk, sizeof junk);
        CHECK(h == EV_ERR_CORRUPT, "load of junk: %d", h);
    }
    return NULL;
}

static void part_f(void) {
    small_b = build(base, 50, DIM, 5);
    pthread_t th[3];
    pthread_barrier_init(&barrier, NULL, 3);
    for (int t = 0; t < 3; t++) pthread_create(&th[t], NULL, first_use, (void *)(intptr_t)t);
    for (int t = 0; t < 3; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&barrier);
    ev_free(small_b);
    free(bytes_b);
}

/* ------------------------------------------------------------------ a: concurrent searches of one index */

enum { DIM_A = 64, N_A = 3000, NQ_A = 256 };
static int runs = 10, searches = 10000, rounds = 100;

typedef struct {
    int32_t h;
    int t;
    const reference_t *r;
    long wrong, failed_calls;
} searcher_a_t;

static void *search_a(void *arg) {
    searcher_a_t *s = arg;
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < searches; i++) {
        int q = (i * 7 + s->t * 101) % s->r->nq;   /* the threads interleave different queries */
        int32_t code;
        int ok = search_matches(s->h, 0, s->r, q, &code);
        if (ok < 0) s->failed_calls++;
        else if (!ok) s->wrong++;
    }
    return NULL;
}

static void part_a(void) {
    float *data = random_floats((size_t)N_A * DIM_A, 0xA11CE);
    float *qs = random_floats((size_t)NQ_A * DIM_A, 0xB0B);
    int32_t h = ev_create(DIM_A, EV_METRIC_L2, 16, 100, 7);
    CHECK(ev_insert_batch(h, data, N_A) == 0, "batch insert of part a");
    reference_t r;
    reference(&r, h, qs, NQ_A, DIM_A, 0);
    long wrong = 0, failed_calls = 0;
    for (int run = 0; run < runs; run++) {
        searcher_a_t s[2] = {{h, 0, &r, 0, 0}, {h, 1, &r, 0, 0}};
        pthread_t th[2];
        pthread_barrier_init(&barrier, NULL, 2);
        for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, search_a, &s[t]);
        for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
        pthread_barrier_destroy(&barrier);
        CHECK(s[0].wrong + s[1].wrong == 0 && s[0].failed_calls + s[1].failed_calls == 0,
              "run %d: %ld wrong results, %ld failed searches of %d", run, s[0].wrong + s[1].wrong,
              s[0].failed_calls + s[1].failed_calls, 2 * searches);
        wrong += s[0].wrong + s[1].wrong;
        failed_calls += s[0].failed_calls + s[1].failed_calls;
    }
    printf("a: %d runs of 2 threads x %d searches on one index (%d x %d-d): %ld wrong, %ld failed\n", runs,
           searches, N_A, DIM_A, wrong, failed_calls);
    free_reference(&r);
    ev_free(h);
    free(data);
    free(qs);
}

/* ------------------------------------------------------------------ b: create/free while others search; errors per thread */

/* The message each thread expects after compiling `pad` spaces + "g = "
 * (column pad + 5), and after loading junk; captured serially beforehand. */
enum { PADS = 24, THREADS_B = 3 };
static char filter_message[PADS][256];
static char corrupt_message[256];

static void capture_messages(void) {
    char text[64];
    for (int p = 0; p < PADS; p++) {
        snprintf(text, sizeof text, "%*sg = ", p, "");
        int32_t f = ev_compile_filter(text, (int32_t)strlen(text));
        CHECK(f == EV_ERR_INVALID_FILTER, "compile of %s: %d", text, f);
        snprintf(filter_message[p], sizeof filter_message[p], "%s", ev_last_error_message());
        CHECK(p == 0 || strcmp(filter_message[p], filter_message[p - 1]) != 0, "messages for pads %d and %d differ",
              p - 1, p);
    }
    unsigned char junk[8] = "EDGEVEC";
    CHECK(ev_load(junk, sizeof junk) == EV_ERR_CORRUPT, "load of 8 bytes");
    snprintf(corrupt_message, sizeof corrupt_message, "%s", ev_last_error_message());
    CHECK(strncmp(corrupt_message, "corrupt index data", 18) == 0, "corrupt message: %s", corrupt_message);
}

static atomic_int creator_done;

/* A failing call of thread t's own (iteration i), and the check that this
 * thread reads its own message, also after successful calls in between. */
typedef struct {
    int t;
    long mixed;   /* messages that were not this thread's */
} errors_t;

static void fail_and_check(errors_t *e, int i, int32_t h) {
    char text[64];
    int p = e->t + THREADS_B * (i % (PADS / THREADS_B));
    snprintf(text, sizeof text, "%*sg = ", p, "");
    int32_t f = ev_compile_filter(text, (int32_t)strlen(text));
    if (f != EV_ERR_INVALID_FILTER || strcmp(ev_last_error_message(), filter_message[p]) != 0) e->mixed++;
    /* A successful call leaves the message as it was. */
    if (ev_size(h) < 0 || strcmp(ev_last_error_message(), filter_message[p]) != 0) e->mixed++;
    /* The static messages are static. */
    if (strcmp(ev_error_message(EV_ERR_INVALID_FILTER), "invalid filter") != 0) e->mixed++;
    if (i % 5 == 0) {
        /* A bridge code empties this thread's message only. */
        if (ev_size(-1) != EV_ERR_INVALID_HANDLE || ev_last_error_message()[0] != '\0') e->mixed++;
        unsigned char junk[8] = "EDGEVEC";
        if (ev_load(junk, sizeof junk) != EV_ERR_CORRUPT || strcmp(ev_last_error_message(), corrupt_message) != 0)
            e->mixed++;
    }
}

typedef struct {
    errors_t e;
    int32_t h;
    const reference_t *r;
    long searches, wrong;
} searcher_b_t;

static void *search_b(void *arg) {
    searcher_b_t *s = arg;
    for (int i = 0; !atomic_load(&creator_done) || i < 200; i++) {
        int32_t code;
        /* Odd searches use the handle's default ef, which the creator keeps setting (to EF). */
        int ok = search_ef(s->h, i % 2 ? 0 : EF, 0, s->r, i % s->r->nq, &code);
        s->searches++;
        if (ok != 1) s->wrong++;
        if (i % 4 == 0) fail_and_check(&s->e, i, s->h);
    }
    return NULL;
}

typedef struct {
    errors_t e;
    long indexes, wrong;
    int32_t searched[2];   /* the searchers' handles */
} creator_t;

enum { N_SMALL = 200 };
static reference_t small_ref;   /* searches of a fresh index of base[0 ..< N_SMALL] */

static void *create_b(void *arg) {
    creator_t *c = arg;
    for (int i = 0; i < rounds; i++) {
        int32_t h = ev_create(DIM, EV_METRIC_L2, 16, 64, 11);
        if (h <= 0 || ev_insert_batch(h, base, N_SMALL) != 0) { c->wrong++; ev_free(h); continue; }
        int32_t code;
        for (int q = 0; q < 8; q++)
            if (search_matches(h, 0, &small_ref, (i + q) % small_ref.nq, &code) != 1) c->wrong++;
        fail_and_check(&c->e, i, h);
        for (int t = 0; t < 2; t++)
            if (ev_set_ef_search(c->searched[t], EF) != 0 || ev_ef_search(c->searched[t]) != EF) c->wrong++;
        /* A save/load round trip: the loaded copy answers the same. */
        int32_t size = ev_save_size(h);
        unsigned char *bytes = malloc(size > 0 ? (size_t)size : 1);
        int32_t copy = ev_save(h, bytes, size) == size ? ev_load(bytes, size) : -1;
        free(bytes);
        ev_free(h);
        if (copy <= 0 || search_matches(copy, 0, &small_ref, i % small_ref.nq, &code) != 1) c->wrong++;
        ev_free(copy);
        if (ev_size(h) != EV_ERR_INVALID_HANDLE || ev_size(copy) != EV_ERR_INVALID_HANDLE) c->wrong++;
        c->indexes++;
    }
    atomic_store(&creator_done, 1);
    return NULL;
}

static void part_b(const reference_t *ref) {
    int32_t h = ev_create(DIM, EV_METRIC_L2, 16, 64, 11);
    CHECK(ev_insert_batch(h, base, N_SMALL) == 0, "batch insert of the small reference index");
    reference(&small_ref, h, queries, NQ, DIM, 0);
    ev_free(h);

    searcher_b_t s[2];
    creator_t c = {{0, 0}, 0, 0, {0, 0}};
    for (int t = 0; t < 2; t++) {
        s[t] = (searcher_b_t){{t + 1, 0}, load_a(), ref, 0, 0};
        c.searched[t] = s[t].h;
        CHECK(ev_set_ef_search(s[t].h, EF) == 0, "set_ef_search");
    }
    atomic_store(&creator_done, 0);
    pthread_t th[3];
    pthread_create(&th[0], NULL, create_b, &c);
    for (int t = 0; t < 2; t++) pthread_create(&th[t + 1], NULL, search_b, &s[t]);
    for (int t = 0; t < 3; t++) pthread_join(th[t], NULL);
    CHECK(c.indexes == rounds && c.wrong == 0, "creator: %ld of %d indexes, %ld wrong", c.indexes, rounds, c.wrong);
    CHECK(c.e.mixed == 0, "creator: %ld error messages not its own", c.e.mixed);
    for (int t = 0; t < 2; t++) {
        CHECK(s[t].wrong == 0, "searcher %d: %ld wrong of %ld", t, s[t].wrong, s[t].searches);
        CHECK(s[t].e.mixed == 0, "searcher %d: %ld error messages not its own", t, s[t].e.mixed);
        ev_free(s[t].h);
    }
    printf("b: %ld indexes created, searched, saved, loaded and freed while 2 threads ran %ld + %ld searches\n",
           c.indexes, s[0].searches, s[1].searches);
    free_reference(&small_ref);
}

/* ------------------------------------------------------------------ c: ev_free during a search */

static atomic_int published;            /* the handle being searched, 0 between rounds */
static atomic_int inside;               /* the searcher is inside ev_search */
static atomic_int freed;                /* the round's handle has been freed */
static atomic_int round_over;

typedef struct {
    const reference_t *r;
    atomic_long ok;                     /* read by the freeing thread */
    long invalid, wrong, across;        /* across: succeeded although freed during the call */
} searcher_c_t;

static void *search_c(void *arg) {
    searcher_c_t *s = arg;
    for (int i = 0;; i++) {
        int32_t h = atomic_load(&published);
        if (h == 0) {
            if (atomic_load(&round_over) < 0) return NULL;
            continue;
        }
        int before = atomic_load(&freed);
        atomic_store(&inside, 1);
        int32_t code;
        int ok = search_matches(h, 0, s->r, i % s->r->nq, &code);
        atomic_store(&inside, 0);
        if (ok == 1) {
            atomic_fetch_add(&s->ok, 1);
            if (!before && atomic_load(&freed)) s->across++;
        } else if (ok < 0 && code == EV_ERR_INVALID_HANDLE && before + atomic_load(&freed) > 0) {
            s->invalid++;
            /* Stale for good: the next call with it fails too. */
            if (ev_size(h) != EV_ERR_INVALID_HANDLE) s->wrong++;
            atomic_store(&published, 0);
            atomic_store(&round_over, 1);
        } else {
            s->wrong++;
        }
    }
}

static void part_c(const reference_t *ref) {
    searcher_c_t s = {ref, 0, 0, 0, 0};
    long overlapped = 0;
    atomic_store(&round_over, 0);
    pthread_t th;
    pthread_create(&th, NULL, search_c, &s);
    for (int i = 0; i < rounds; i++) {
        int32_t h = load_a();
        atomic_store(&freed, 0);
        atomic_store(&round_over, 0);
        long started = atomic_load(&s.ok);
        atomic_store(&published, h);
        /* Let some searches complete, then free at a varying moment. */
        while (atomic_load(&s.ok) < started + 1 + i % 3 && atomic_load(&round_over) == 0) { }
        for (volatile int spin = 0; spin < (i * 7919) % 20000; spin++) { }
        overlapped += atomic_load(&inside);
        atomic_store(&freed, 1);
        ev_free(h);
        while (atomic_load(&round_over) == 0) { }
    }
    atomic_store(&round_over, -1);
    pthread_join(th, NULL);
    CHECK(s.wrong == 0, "%ld searches neither right nor refused", s.wrong);
    CHECK(s.invalid == rounds, "%ld of %d rounds ended with EV_ERR_INVALID_HANDLE", s.invalid, rounds);
    /* Without a free landing mid-search, this part would prove nothing. */
    CHECK(overlapped > 0, "no ev_free happened while the searcher was inside ev_search");
    printf("c: %d handles freed during searches (%ld while the searcher was inside one); %ld searches right, "
           "%ld of them completed although freed mid-call\n", rounds, overlapped, atomic_load(&s.ok), s.across);
}

/* ------------------------------------------------------------------ d: filters compiled and freed during filtered searches */

static reference_t filter_ref[FILTERS];
static _Atomic int64_t transient;       /* (text << 32) | handle of the compiler thread's current filter */
static atomic_int compiler_done;

typedef struct {
    int32_t h, filter[FILTERS];
    long searches, transient_ok, transient_invalid, wrong;
} searcher_d_t;

static void *search_d(void *arg) {
    searcher_d_t *s = arg;
    for (int i = 0; !atomic_load(&compiler_done) || i < 100; i++) {
        int f = i % FILTERS;
        int32_t code;
        if (search_matches(s->h, s->filter[f], &filter_ref[f], i % NQ, &code) != 1) s->wrong++;
        s->searches++;
        int64_t tr = atomic_load(&transient);
        if (tr == 0) continue;
        int text = (int)(tr >> 32);
        int32_t fh = (int32_t)(tr & 0xFFFFFFFF);
        int ok = search_matches(s->h, fh, &filter_ref[text], i % NQ, &code);
        if (ok == 1) s->transient_ok++;
        else if (ok < 0 && code == EV_ERR_INVALID_HANDLE) s->transient_invalid++;
        else s->wrong++;
        s->searches++;
    }
    return NULL;
}

static void *compile_d(void *arg) {
    long *compiled = arg;
    for (int i = 0; i < 20 * rounds; i++) {
        int text = i % FILTERS;
        int32_t f = compile(FILTER_TEXT[text]);
        atomic_store(&transient, ((int64_t)text << 32) | f);
        for (volatile int spin = 0; spin < (i * 7919) % 50000; spin++) { }
        /* Every other filter is freed while still published: searches then use a freed handle. */
        if (i % 2) {
            ev_free_filter(f);
            for (volatile int spin = 0; spin < 20000; spin++) { }
        }
        atomic_store(&transient, 0);
        ev_free_filter(f);   /* the second time (odd i): a stale filter handle is ignored */
        (*compiled)++;
    }
    atomic_store(&compiler_done, 1);
    return NULL;
}

static void part_d(void) {
    searcher_d_t s[2];
    for (int t = 0; t < 2; t++) {
        s[t] = (searcher_d_t){load_a(), {0}, 0, 0, 0, 0};
        for (int f = 0; f < FILTERS; f++) s[t].filter[f] = compile(FILTER_TEXT[f]);
    }
    long compiled = 0;
    atomic_store(&compiler_done, 0);
    atomic_store(&transient, 0);
    pthread_t th[3];
    pthread_create(&th[0], NULL, compile_d, &compiled);
    for (int t = 0; t < 2; t++) pthread_create(&th[t + 1], NULL, search_d, &s[t]);
    for (int t = 0; t < 3; t++) pthread_join(th[t], NULL);
    long ok = 0, invalid = 0;
    for (int t = 0; t < 2; t++) {
        CHECK(s[t].wrong == 0, "filtered searcher %d: %ld wrong of %ld", t, s[t].wrong, s[t].searches);
        ok += s[t].transient_ok;
        invalid += s[t].transient_invalid;
        for (int f = 0; f < FILTERS; f++) ev_free_filter(s[t].filter[f]);
        ev_free(s[t].h);
    }
    CHECK(ok > 0 && invalid > 0, "filtered searches with the other thread's filters: %ld right, %ld refused; "
          "both should happen", ok, invalid);
    printf("d: %ld filters compiled and freed during %ld + %ld filtered searches (%ld with them: %ld right, "
           "%ld refused as freed)\n", compiled, s[0].searches, s[1].searches, ok + invalid, ok, invalid);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    const char *parts = "fabcd";
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--runs") == 0) runs = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--searches") == 0) searches = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0) rounds = atoi(argv[++i]);
        else if (argv[i][0] != '-') parts = argv[i];
        else { fprintf(stderr, "usage: %s [fabcd] [--runs R] [--searches S] [--rounds N]\n", argv[0]); return 2; }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    double t0 = now();
    if (strchr(parts, 'a')) {
        printf("a: concurrent searches of one index\n");
        part_a();
    }
    if (strpbrk(parts, "fbcd")) {
        base = random_floats((size_t)N * DIM, 0x5EED);
        queries = random_floats((size_t)NQ * DIM, 0xFEED);
        shared_a = build(base, N, DIM, 3);
        /* Part f runs first: it must be the first use of the lazily built tables. */
        part_f();
        reference_t ref;
        reference(&ref, shared_a, queries, NQ, DIM, 0);
        for (int f = 0; f < FILTERS; f++) {
            int32_t fh = compile(FILTER_TEXT[f]);
            reference(&filter_ref[f], shared_a, queries, NQ, DIM, fh);
            ev_free_filter(fh);
        }
        if (strchr(parts, 'f')) printf("f: lazily built tables first used by 3 threads at once\n");
        capture_messages();
        if (strchr(parts, 'b')) part_b(&ref);
        if (strchr(parts, 'c')) part_c(&ref);
        if (strchr(parts, 'd')) part_d();
        free_reference(&ref);
        for (int f = 0; f < FILTERS; f++) free_reference(&filter_ref[f]);
        ev_free(shared_a);
        free(bytes_a);
        free(base);
        free(queries);
    }
    printf("test_threads %s: %ld passed, %ld failed (%.1f s)\n", parts, atomic_load(&passed), atomic_load(&failed),
           now() - t0);
    return atomic_load(&failed) == 0 ? 0 : 1;
}
