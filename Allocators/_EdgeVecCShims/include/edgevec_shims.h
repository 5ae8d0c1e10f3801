// The few libc entry points the allocators (and the bridge) need, declared so
// that the same header serves native builds and Embedded Swift on
// wasm32-unknown-none-wasm (where no Glibc module exists; wasi-libc's libc.a
// supplies the symbols).
#ifndef EDGEVEC_SHIMS_H
#define EDGEVEC_SHIMS_H
#include <stddef.h>
#include <stdint.h>

int posix_memalign(void **memptr, size_t alignment, size_t size);
void free(void *ptr);

// Returns NULL on failure instead of trapping, so callers can report
// out-of-memory as a typed error and leave the index untouched. Sizes are
// `uintptr_t` (Swift `UInt`), not `size_t` (imported as `Int`): on wasm32 a
// block may be 2 GiB or more, beyond a 32-bit `Int`.
#if defined(__wasm__)
void *_ev_wasm_alloc_large(uintptr_t size, uintptr_t alignment);   // shims.c
#endif

static inline void *_ev_aligned_alloc(uintptr_t size, uintptr_t alignment) {
    void *p = NULL;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
#if defined(__wasm__)
    if (size >= ((uintptr_t)1 << 31)) return _ev_wasm_alloc_large(size, alignment);
#endif
    return posix_memalign(&p, alignment, size ? size : 1) == 0 ? p : NULL;
}

// Zeroes `bytes` bytes (any size the address space holds; memset from libc).
static inline void _ev_zero(void *pointer, uintptr_t bytes) { __builtin_memset(pointer, 0, bytes); }

static inline void _ev_free(void *p) { free(p); }

// Transparent huge pages for the large buffers that are read at random (the
// vector slab, layer-0 lists, visited stamps): with 4 KiB pages nearly every
// vector a search touches costs a TLB miss as well as a cache miss. Linux
// gives huge pages to anonymous memory only on request in its "madvise" THP
// mode (Debian's default). Returns the alignment to ask for (2 MiB) when a
// block of `bytes` should get them, 0 otherwise: always 0 off Linux, in wasm,
// below 4 MiB, and when the environment sets EDGEVEC_HUGEPAGES=0.
uintptr_t _ev_huge_page_alignment(uintptr_t bytes);

// Asks the kernel to back [pointer, pointer + bytes) with huge pages; a hint
// that may be refused. Call before the memory is first touched.
void _ev_advise_huge_pages(void *pointer, uintptr_t bytes);

// Bytes of the C ABI's per-thread error message buffer (ev_last_error_message).
#define _EV_ERROR_TEXT_BYTES 512

#if !defined(__wasm__)
// Native hosts may call the C ABI from many threads (the wasm module has one,
// so the bridge compiles these out there). A statically initialised mutex
// guards the bridge's handle table: nothing to build lazily, nothing to race on.
void _ev_handles_lock(void);
void _ev_handles_unlock(void);
// This thread's ev_last_error_message() buffer, _EV_ERROR_TEXT_BYTES bytes
// (zeroed: an empty message before the thread's first failure).
unsigned char *_ev_thread_error_text(void);
#endif

#endif
