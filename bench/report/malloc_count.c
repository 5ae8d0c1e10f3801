// LD_PRELOAD library that counts the C allocation calls of a process (malloc,
// calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
// and jemalloc's mallocx and rallocx) and the bytes they ask for.
//
// - At exit it writes the call total to the file named by $MALLOC_COUNT_OUT:
//   bench/report/native_allocs.py runs `edgevec bench` at two sizes and takes
//   the difference, which cancels start-up and leaves the allocations the
//   inserts themselves make (growth steps included).
// - malloc_count_read(&calls, &bytes) gives the totals so far to the process
//   itself: `edgevec bench` and bench/insert/native_c_worker.c look it up with
//   dlsym and report what their timed insert calls allocated.
//
//   gcc -O2 -shared -fPIC -o malloc_count.so malloc_count.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>

static atomic_ulong calls, bytes;

static void note(size_t size) {
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes, size, memory_order_relaxed);
}

__attribute__((visibility("default"))) void malloc_count_read(unsigned long long *out_calls,
                                                               unsigned long long *out_bytes) {
    *out_calls = atomic_load(&calls);
    *out_bytes = atomic_load(&bytes);
}

// dlsym itself may call calloc before the real one is known: serve that from
// a small static buffer.
static char bootstrap[4096];
static size_t bootstrap_used;
static int resolving;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static void (*real_free)(void *);
static void *(*real_mallocx)(size_t, int);
static void *(*real_rallocx)(void *, size_t, int);

static void resolve(void) {
    if (real_malloc || resolving) return;
    resolving = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_valloc = dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_mallocx = dlsym(RTLD_NEXT, "mallocx");   // NULL unless jemalloc is loaded
    real_rallocx = dlsym(RTLD_NEXT, "rallocx");
    resolving = 0;
}

static int from_bootstrap(void *p) {
    return (char *)p >= bootstrap && (char *)p < bootstrap + sizeof bootstrap;
}

void *malloc(size_t size) {
    resolve();
    note(size);
    return real_malloc(size);
}

void *calloc(size_t count, size_t size) {
    if (!real_calloc) {
        resolve();
        if (!real_calloc) {   // called from dlsym: static memory, never freed
            size_t bytes = (count * size + 15) & ~(size_t)15;
            if (bootstrap_used + bytes > sizeof bootstrap) return NULL;
            void *p = bootstrap + bootstrap_used;
            bootstrap_used += bytes;
            memset(p, 0, bytes);
            return p;
        }
    }
    note(count * size);
    return real_calloc(count, size);
}

void *realloc(void *p, size_t size) {
    resolve();
    note(size);
    if (from_bootstrap(p)) {
        void *q = real_malloc(size);
        if (q) memcpy(q, p, size);   // bootstrap blocks are tiny; over-reading stays inside the buffer
        return q;
    }
    return real_realloc(p, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    resolve();
    note(size);
    return real_posix_memalign(out, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    resolve();
    note(size);
    return real_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    resolve();
    note(size);
    return real_memalign(alignment, size);
}

void *valloc(size_t size) {
    resolve();
    note(size);
    return real_valloc(size);
}

void *pvalloc(size_t size) {
    resolve();
    note(size);
    return real_pvalloc(size);
}

void *mallocx(size_t size, int flags) {
    resolve();
    note(size);
    return real_mallocx(size, flags);
}

void *rallocx(void *p, size_t size, int flags) {
    resolve();
    note(size);
    return real_rallocx(p, size, flags);
}

void free(void *p) {
    if (from_bootstrap(p)) return;
    resolve();
    real_free(p);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("MALLOC_COUNT_OUT");
    if (!path) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    char line[64];
    int n = snprintf(line, sizeof line, "%lu\n", (unsigned long)atomic_load(&calls));
    if (n > 0) (void)!write(fd, line, (size_t)n);
    close(fd);
}
