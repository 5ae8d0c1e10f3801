// Counts every allocation and free the wasm module makes, for tests that
// check how often inserts and searches allocate. Linked only with the
// `AllocationCounter` trait, which also passes `--wrap=` for each function
// below to wasm-ld: references to `malloc` then resolve to `__wrap_malloc`,
// which counts and calls the real one (`__real_malloc`). Calls inside libc
// itself are not redirected, so each host-visible allocation counts once.
//
// Exports (wasm): uint64_t ev_allocation_count(void), uint64_t ev_free_count(void),
// uint64_t ev_allocated_bytes(void) (the sizes the counted calls asked for).
#include <stddef.h>
#include "edgevec_allocation_counter.h"

#if defined(__wasm__)
static unsigned long long allocations, frees, bytes;

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);
int __real_posix_memalign(void **p, size_t alignment, size_t size);
void __real_free(void *p);

static void note(size_t size) { allocations++; bytes += size; }

void *__wrap_malloc(size_t size) { note(size); return __real_malloc(size); }
void *__wrap_calloc(size_t count, size_t size) { note(count * size); return __real_calloc(count, size); }
void *__wrap_realloc(void *p, size_t size) { note(size); return __real_realloc(p, size); }
void *__wrap_aligned_alloc(size_t alignment, size_t size) { note(size); return __real_aligned_alloc(alignment, size); }
int __wrap_posix_memalign(void **p, size_t alignment, size_t size) {
    note(size);
    return __real_posix_memalign(p, alignment, size);
}
void __wrap_free(void *p) {
    if (p) frees++;
    __real_free(p);
}

__attribute__((export_name("ev_allocation_count"))) unsigned long long ev_allocation_count(void) { return allocations; }
__attribute__((export_name("ev_free_count"))) unsigned long long ev_free_count(void) { return frees; }
__attribute__((export_name("ev_allocated_bytes"))) unsigned long long ev_allocated_bytes(void) { return bytes; }
#endif
