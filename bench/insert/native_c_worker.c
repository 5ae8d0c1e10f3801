/*
 * Insert-matrix worker for the C ABI (dist/native/libedgevec.so or a trait
 * variant of it), driven by bench/insert/run.py over stdin/stdout.
 *
 * Linked with -ledgevec and no rpath: run.py picks the library variant with
 * LD_LIBRARY_PATH (a directory holding libedgevec.so). One command per line:
 *
 *     run FILE N DIM ROWS M EF_CONSTRUCTION SEED
 *
 * FILE holds N x DIM little-endian float32, row after row. The worker creates
 * an empty l2 index (ev_create), inserts the N rows from its own memory (as a
 * C host does, no staging buffer): ROWS = 1 is one ev_insert per vector,
 * ROWS > 1 is ev_insert_batch with ROWS rows per call (the last call takes
 * the remainder). Only the inserts are timed. It answers with one JSON line:
 * seconds, bytes the allocator holds for the index afterwards (glibc
 * mallinfo2 in-use delta, or jemalloc's stats.allocated delta when the
 * library allocates with jemalloc), peak RSS since the run started (VmHWM
 * after resetting it through /proc/self/clear_refs), and ev_allocator_kind.
 * Under the allocation counter (LD_PRELOAD=malloc_count.so, see
 * bench/report/malloc_count.c) it also answers the allocation calls and bytes
 * the insert calls made. "quit" or end of input ends the worker.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgevec.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0). */
static int reset_peak_rss(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0) return 0;
    int ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

static long long peak_rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) { kb = atoll(line + 6); break; }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

/* Bytes the index's allocator has handed out: jemalloc's stats.allocated when
 * the library allocates with jemalloc (libjemalloc is then loaded), else glibc's
 * in-use bytes (heap + mmapped chunks). */
static long long allocator_bytes(int kind) {
    if (kind == EV_ALLOCATOR_JEMALLOC) {
        mallctl_fn mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
        if (!mallctl) return -1;
        uint64_t epoch = 1;
        size_t len = sizeof epoch;
        mallctl("epoch", &epoch, &len, &epoch, len);
        size_t allocated = 0;
        len = sizeof allocated;
        if (mallctl("stats.allocated", &allocated, &len, NULL, 0) != 0) return -1;
        return (long long)allocated;
    }
    struct mallinfo2 mi = mallinfo2();
    return (long long)(mi.uordblks + mi.hblkhd);
}

typedef void (*count_fn)(unsigned long long *, unsigned long long *);

static float *data = NULL;
static char data_path[4096];
static long long data_floats = 0;

static int load(const char *path, long long floats) {
    if (data && strcmp(path, data_path) == 0 && floats <= data_floats) return 1;
    free(data);
    data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    data = aligned_alloc(64, ((size_t)floats * 4 + 63) / 64 * 64);
    size_t got = data ? fread(data, 4, (size_t)floats, f) : 0;
    fclose(f);
    if (got != (size_t)floats) { free(data); data = NULL; return 0; }
    snprintf(data_path, sizeof data_path, "%s", path);
    data_floats = floats;
    return 1;
}

int main(void) {
    char line[8192];
    const char *kinds[] = {"system", "jemalloc", "arena"};
    int kind = ev_allocator_kind();
    /* The library binds its distance kernels with the same test (Modules/SearchKernels/kernels.c). */
    __builtin_cpu_init();
    const char *kernel = __builtin_cpu_supports("avx512f") ? "avx512"
        : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "avx2+fma" : "sse";
    printf("{\"ready\":true,\"allocator_kind\":\"%s\",\"kernel\":\"%s\"}\n",
           kind >= 0 && kind <= 2 ? kinds[kind] : "unknown", kernel);
    fflush(stdout);
    count_fn count = (count_fn)dlsym(RTLD_DEFAULT, "malloc_count_read");   /* NULL unless preloaded */
    while (fgets(line, sizeof line, stdin)) {
        char path[4096];
        long long n, dim, rows, m, efc;
        unsigned long long seed;
        if (strncmp(line, "quit", 4) == 0) break;
        if (sscanf(line, "run %4095s %lld %lld %lld %lld %lld %llu", path, &n, &dim, &rows, &m, &efc, &seed) != 7) {
            printf("{\"error\":\"bad command\"}\n");
            fflush(stdout);
            continue;
        }
        if (!load(path, n * dim)) {
            printf("{\"error\":\"cannot read %lld floats from the data file\"}\n", n * dim);
            fflush(stdout);
            continue;
        }
        int reset = reset_peak_rss();
        long long before = allocator_bytes(kind);
        int32_t h = ev_create((int32_t)dim, EV_METRIC_L2, (int32_t)m, (int32_t)efc, seed);
        if (h < 0) {
            printf("{\"error\":\"ev_create: %s\"}\n", ev_error_message(h));
            fflush(stdout);
            continue;
        }
        int64_t status = 0;   /* an id, or a negative error code */
        unsigned long long calls0 = 0, bytes0 = 0, calls1 = 0, bytes1 = 0;
        if (count) count(&calls0, &bytes0);
        double start = now_seconds();
        if (rows == 1) {
            for (long long i = 0; i < n && status >= 0; i++) status = ev_insert(h, data + i * dim);
        } else {
            for (long long i = 0; i < n && status >= 0; i += rows) {
                long long count = n - i < rows ? n - i : rows;
                status = ev_insert_batch(h, data + i * dim, (int32_t)count);
            }
        }
        double seconds = now_seconds() - start;
        if (count) count(&calls1, &bytes1);
        long long after = allocator_bytes(kind);
        long long peak = peak_rss_bytes();
        int32_t size = ev_size(h);
        ev_free(h);
        if (status < 0 || size != n) {
            printf("{\"error\":\"insert failed: %s (size %d)\"}\n", ev_error_message((int32_t)status), size);
        } else {
            printf("{\"seconds\":%.9f,\"bytes_allocated\":%lld,\"bytes_allocated_source\":\"%s\","
                   "\"peak_bytes\":%lld,\"peak_source\":\"%s\"",
                   seconds, before >= 0 && after >= 0 ? after - before : -1,
                   kind == EV_ALLOCATOR_JEMALLOC ? "jemalloc stats.allocated delta" : "glibc mallinfo2 in-use delta",
                   peak, reset ? "VmHWM since run start" : "VmHWM of process");
            if (count) printf(",\"allocation_calls\":%llu,\"allocation_bytes\":%llu", calls1 - calls0, bytes1 - bytes0);
            printf("}\n");
        }
        fflush(stdout);
    }
    free(data);
    return 0;
}
