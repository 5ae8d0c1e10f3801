/*
 * One timed pass of the paired search experiment for EdgeVec's C ABI, loaded
 * by bench/search/run.py with ctypes next to libedgevec.so. The loop runs in
 * C, one ev_search per query on one thread, so EdgeVec pays no interpreter
 * cost per query, like the peers' one-call-per-pass batch searches with one
 * thread.
 */
#include <stdint.h>

#include "edgevec.h"

/*
 * Searches `count` queries of `dimension` floats, `repeat` times over, at beam
 * width `ef`; the last repetition's ids (k per query, -1 past a short result)
 * land in `ids`. Returns 0 or the first negative ev_search error code.
 */
int32_t edgevec_search_pass(int32_t handle, const float *queries, int32_t count, int32_t dimension, int32_t k,
                            int32_t ef, int32_t repeat, int64_t *ids, float *distances) {
    for (int32_t r = 0; r < repeat; r++) {
        for (int32_t q = 0; q < count; q++) {
            int64_t *row = ids + (int64_t)q * k;
            /* Ids are uint64 (at most 2^53 - 1): the same bits as int64. */
            int32_t found = ev_search(handle, queries + (int64_t)q * dimension, k, ef, (uint64_t *)row,
                                      distances + (int64_t)q * k);
            if (found < 0) return found;
            for (int32_t i = found; i < k; i++) row[i] = -1;
        }
    }
    return 0;
}
