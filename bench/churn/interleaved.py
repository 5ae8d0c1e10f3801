#!/usr/bin/env python3
"""Alternating single removals and inserts (libedgevec.so through ctypes) on
MiniLM-Debian: 49,000 vectors inserted, then 300 pairs of ev_remove (a random
id) + ev_insert (a new vector), then 300 plain inserts; once into an index
reserved to exactly 49,000 (no room: each insert after a removal unlinks the
pending slot with a pass over the graph) and once into one with room.

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
    n, pairs = 49_000, 300
    for reserve in (n, 0):
        h = lib.ev_create_with_ef_search(base.shape[1], 1, 16, 200, 64, 42)
        if reserve:
            lib.ev_reserve(h, reserve)
        lib.ev_insert_batch(h, base[:n].ctypes.data, n)
        rng = np.random.default_rng(3)
        t = time.perf_counter()
        for i in range(pairs):
            lib.ev_remove(h, int(rng.integers(0, n)))
            lib.ev_insert(h, base[n + i].ctypes.data)
        pair = (time.perf_counter() - t) / pairs
        t = time.perf_counter()
        for i in range(pairs):
            lib.ev_insert(h, base[n + pairs + i].ctypes.data)
        plain = (time.perf_counter() - t) / pairs
        lib.ev_free(h)
        print(f"{'reserved exactly' if reserve else 'with room'}: remove + insert {pair * 1e6:.0f} µs a pair, "
              f"plain insert {plain * 1e6:.0f} µs, ratio {pair / plain:.2f}")


if __name__ == "__main__":
    main()
