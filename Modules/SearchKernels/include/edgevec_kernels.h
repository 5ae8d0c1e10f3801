// Distance kernels and a prefetch hint for x86_64 hosts, in C because Swift
// cannot select an instruction set per function. Each kernel is compiled for
// AVX-512, AVX2+FMA and baseline SSE; the first call picks the best the CPU
// runs (or a lower one named by the environment variable EDGEVEC_KERNELS: sse,
// avx2, avx512), so one binary is fast on every x86_64 and safe on old ones.
// Other targets (wasm32, arm64) use the Swift SIMD kernels.
#ifndef EDGEVEC_KERNELS_H
#define EDGEVEC_KERNELS_H

#include <stddef.h>

#if defined(__x86_64__) && defined(__linux__)
#define EDGEVEC_C_KERNELS 1
/// Σ (a[i] − b[i])² over `n` floats; `n` is a multiple of 16.
float _ev_l2sq(const float *a, const float *b, long n);
/// Σ a[i]·b[i] over `n` floats; `n` is a multiple of 16.
float _ev_dot(const float *a, const float *b, long n);
/// The instruction set the kernels dispatch to: 3 AVX-512, 2 AVX2+FMA, 1 SSE.
int _ev_kernel_level(void);
#endif

/// Hints that `p` will be read soon (no effect where unsupported).
static inline void _ev_prefetch(const void *p) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p, 0, 3);
#else
    (void)p;
#endif
}

#endif
