// The few libc entry points the allocators need, declared so that the same
// header serves native builds and Embedded Swift on wasm32-unknown-none-wasm
// (where no Glibc module exists; wasi-libc's libc.a supplies the symbols).
#ifndef EDGEVEC_SHIMS_H
#define EDGEVEC_SHIMS_H
#include <stddef.h>

int posix_memalign(void **memptr, size_t alignment, size_t size);
void free(void *ptr);

// Returns NULL on failure instead of trapping, so callers can report
// out-of-memory as a typed error and leave the index untouched.
static inline void *_ev_aligned_alloc(size_t size, size_t alignment) {
    void *p = NULL;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    return posix_memalign(&p, alignment, size ? size : 1) == 0 ? p : NULL;
}

static inline void _ev_free(void *p) { free(p); }

#endif
