// See include/edgevec_shims.h.
#include "edgevec_shims.h"

#if defined(__linux__)
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#endif

#if defined(__linux__) && defined(MADV_HUGEPAGE)
#define EV_HUGE_PAGE ((size_t)2 << 20)

// -1 unknown, 0 off, 1 on. Threads may race to set it, but every thread
// computes the same value; relaxed atomics make that race defined (and quiet
// under ThreadSanitizer).
static int ev_huge_pages = -1;

static int ev_huge_pages_on(void) {
    int on = __atomic_load_n(&ev_huge_pages, __ATOMIC_RELAXED);
    if (on < 0) {
        const char *value = getenv("EDGEVEC_HUGEPAGES");
        on = !(value && strcmp(value, "0") == 0);
        __atomic_store_n(&ev_huge_pages, on, __ATOMIC_RELAXED);
    }
    return on;
}

uintptr_t _ev_huge_page_alignment(uintptr_t bytes) {
    return bytes >= 2 * EV_HUGE_PAGE && ev_huge_pages_on() ? EV_HUGE_PAGE : 0;
}

void _ev_advise_huge_pages(void *pointer, uintptr_t bytes) {
    // Advice only: a kernel without THP, or with it set to "never", says no
    // and the buffer keeps 4 KiB pages.
    (void)madvise(pointer, bytes, MADV_HUGEPAGE);
}
#else
uintptr_t _ev_huge_page_alignment(uintptr_t bytes) { (void)bytes; return 0; }
void _ev_advise_huge_pages(void *pointer, uintptr_t bytes) { (void)pointer; (void)bytes; }
#endif

#if !defined(__wasm__)
#include <pthread.h>

static pthread_mutex_t ev_handles_mutex = PTHREAD_MUTEX_INITIALIZER;

void _ev_handles_lock(void) { pthread_mutex_lock(&ev_handles_mutex); }
void _ev_handles_unlock(void) { pthread_mutex_unlock(&ev_handles_mutex); }

// Thread-local, so each thread reads its own failure's message; static
// storage, so recording a failure allocates nothing.
static _Thread_local unsigned char ev_error_text[_EV_ERROR_TEXT_BYTES];

unsigned char *_ev_thread_error_text(void) { return ev_error_text; }
#endif

#if defined(__wasm__)
void *malloc(size_t size);

// Blocks of 2 GiB or more. wasi-libc's dlmalloc asks sbrk for less than
// 2 GiB at a time (sbrk takes a signed increment), so it hands out such a
// block only when its free top chunk already holds all but < 2 GiB of it;
// and once a request fails it stops extending the top in place for good
// (it disables "contiguous" mode), after which no such block can be had.
// So: refuse at once what cannot fit in the 4 GiB address space; grow the
// top in steps of 1.5 GiB (each block freed at once merges back into it);
// then ask. The memory stays with dlmalloc if the request still fails.
// The volatile store keeps the compiler from deleting the malloc/free pair.
static void *volatile ev_grown;

void *_ev_wasm_alloc_large(uintptr_t size, uintptr_t alignment) {
    const unsigned long long in_use = (unsigned long long)__builtin_wasm_memory_size(0) << 16;
    if (in_use + size > (1ull << 32)) return NULL;
    const uintptr_t step = (uintptr_t)3 << 29;
    for (uintptr_t s = step; s < size; s += step) {
        ev_grown = malloc(s);
        if (ev_grown == NULL) return NULL;
        free(ev_grown);
        ev_grown = NULL;
    }
    void *p = NULL;
    return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}
#endif
