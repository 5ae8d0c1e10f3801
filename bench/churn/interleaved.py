#!/usr/bin/env python3
"""Alternating single removals and inserts (libedgevec.so through ctypes) on
MiniLM-Debian: 48,000 vectors inserted, then 1,000 pairs of ev_remove (a random
id) + ev_insert (a new vector); once into an index with room (which then takes
1,000 plain inserts, the reference) and once into one reserved to exactly
48,000 (no room: the first insert after a removal grows the buffers by one
removal batch, n/64 slots, and the 751st removal unlinks the batch).

    .venv-bench/bin/python bench/churn/interleaved.py [--dist dist] [--data ../shared/data/minilm-debian]
"""
import argparse
import ctypes
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench", "search"))
from run import read_vecs  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "minilm-debian"))
    args = parser.parse_args()
    lib = ctypes.CDLL(os.path.join(args.dist, "native", "libedgevec.so"))
    lib.ev_create_with_ef_search.restype = ctypes.c_int32
    lib.ev_create_with_ef_search.argtypes = [ctypes.c_int32] * 5 + [ctypes.c_uint64]
    lib.ev_insert_batch.restype = ctypes.c_int64
    lib.ev_insert_batch.argtypes = [ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32]
    lib.ev_insert.restype = ctypes.c_int64
    lib.ev_insert.argtypes = [ctypes.c_int32, ctypes.c_void_p]
    lib.ev_remove.restype = ctypes.c_int32
    lib.ev_remove.argtypes = [ctypes.c_int32, ctypes.c_uint64]
    lib.ev_reserve.restype = ctypes.c_int32
    lib.ev_reserve.argtypes = [ctypes.c_int32, ctypes.c_int32]
    base = np.ascontiguousarray(read_vecs(os.path.join(args.data, "base.fvecs"), np.float32))
    n, pairs = 48_000, 1_000
    pair, plain = {}, None
    for case in ("with room", "reserved exactly"):
        h = lib.ev_create_with_ef_search(base.shape[1], 1, 16, 200, 64, 42)
        if case == "reserved exactly":
            lib.ev_reserve(h, n)
        lib.ev_insert_batch(h, base[:n].ctypes.data, n)
        rng = np.random.default_rng(3)
        t = time.perf_counter()
        for i in range(pairs):
            lib.ev_remove(h, int(rng.integers(0, n)))
            lib.ev_insert(h, base[n + i].ctypes.data)
        pair[case] = (time.perf_counter() - t) / pairs
        if plain is None:       # the reference: inserts that fit in the room (no growth)
            t = time.perf_counter()
            for i in range(pairs):
                lib.ev_insert(h, base[n + pairs + i].ctypes.data)
            plain = (time.perf_counter() - t) / pairs
        lib.ev_free(h)
    print(f"plain insert (with room): {plain * 1e6:.0f} µs")
    for case, seconds in pair.items():
        print(f"{case}: remove + insert {seconds * 1e6:.0f} µs a pair, {seconds / plain:.2f} × a plain insert")

if __name__ == "__main__":
    main()
