#!/usr/bin/env python3
"""Insert-matrix worker for a peer library, driven by bench/insert/run.py.

    OMP_NUM_THREADS=1 .venv-bench/bin/python bench/insert/peer_worker.py hnswlib|faiss|usearch

One JSON command per stdin line, one JSON answer per stdout line:

    {"op":"run","file":F,"n":N,"dim":D,"api":"single|batch","m":16,"ef_construction":200}

A run builds an empty l2 HNSW index with one thread and inserts the N rows of
F (float32, row after row): `single` is one add call per vector (a one-row
slice of the loaded array), `batch` one add call with all N rows. Only the add
calls are timed (time.perf_counter). Parameters:

- hnswlib: Index(space="l2"), init_index(max_elements=N, M=m, ef_construction),
  set_num_threads(1), add_items(..., num_threads=1). hnswlib needs its
  capacity up front, so its storage is allocated before the timer starts;
- faiss: IndexHNSWFlat(dim, m) (l2), hnsw.efConstruction, omp_set_num_threads(1),
  add(...);
- usearch: Index(ndim, metric="l2sq", dtype="f32", connectivity=m,
  expansion_add=ef_construction), add(keys, vectors, threads=1); storage
  grows as needed (no reserve), as in EdgeVec.

The answer has the seconds and the peak RSS of this process since the run
started (VmHWM after /proc/self/clear_refs; the interpreter, numpy and the
library are part of it).
"""
import gc
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

LIBRARY = sys.argv[1]

if LIBRARY == "hnswlib":
    import hnswlib

    VERSION = getattr(hnswlib, "__version__", None)
    if VERSION is None:
        from importlib.metadata import version as _version

        VERSION = _version("hnswlib")

    def make(n, dim, m, efc):
        index = hnswlib.Index(space="l2", dim=dim)
        index.init_index(max_elements=n, M=m, ef_construction=efc, random_seed=100)
        index.set_num_threads(1)
        return index

    def add_one(index, i, row):
        index.add_items(row, [i], num_threads=1)

    def add_all(index, ids, rows):
        index.add_items(rows, ids, num_threads=1)

    def count(index):
        return index.get_current_count()

    def kernel():
        # hnswlib picks its SIMD at compile time; pip builds it from source with -march=native.
        flags = open("/proc/cpuinfo").read()
        isa = "avx512" if " avx512f" in flags else "avx2" if " avx2" in flags else "sse"
        return isa + " (-march=native build)"

elif LIBRARY == "faiss":
    import faiss

    VERSION = faiss.__version__
    faiss.omp_set_num_threads(1)

    def make(n, dim, m, efc):
        index = faiss.IndexHNSWFlat(dim, m)
        index.hnsw.efConstruction = efc
        return index

    def add_one(index, i, row):
        index.add(row)

    def add_all(index, ids, rows):
        index.add(rows)

    def count(index):
        return index.ntotal

    def kernel():
        try:
            return faiss.SIMDConfig.get_level_name().lower()
        except Exception:  # older faiss: the loader picks one module per instruction set
            return "n/a"

elif LIBRARY == "usearch":
    import usearch
    from usearch.index import Index

    VERSION = usearch.VERSION if hasattr(usearch, "VERSION") else getattr(usearch, "__version__", "?")

    def make(n, dim, m, efc):
        return Index(ndim=dim, metric="l2sq", dtype="f32", connectivity=m, expansion_add=efc)

    def add_one(index, i, row):
        index.add(i, row[0], threads=1)

    def add_all(index, ids, rows):
        index.add(ids, rows, threads=1)

    def count(index):
        return len(index)

    def kernel():
        return str(make(1, 128, 16, 200).hardware_acceleration)

else:
    sys.exit("unknown library %r (hnswlib, faiss or usearch)" % LIBRARY)

_data = {}


def load(path, n, dim):
    key = (path, dim)
    if key not in _data:
        _data.clear()
        _data[key] = np.fromfile(path, dtype=np.float32).reshape(-1, dim)
    data = _data[key]
    if data.shape[0] < n:
        raise ValueError("%s holds %d rows, need %d" % (path, data.shape[0], n))
    return data[:n]


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def run(cmd):
    n, dim = cmd["n"], cmd["dim"]
    data = load(cmd["file"], n, dim)
    ids = np.arange(n, dtype=np.int64)
    gc.collect()
    reset = reset_peak()
    index = make(n, dim, cmd.get("m", 16), cmd.get("ef_construction", 200))
    if cmd["api"] == "single":
        rows = [data[i:i + 1] for i in range(n)]   # views, made before the timer
        start = time.perf_counter()
        for i in range(n):
            add_one(index, i, rows[i])
        seconds = time.perf_counter() - start
    elif cmd["api"] == "batch":
        start = time.perf_counter()
        add_all(index, ids, data)
        seconds = time.perf_counter() - start
    else:
        raise ValueError("unknown api %r" % cmd["api"])
    peak = peak_rss()
    got = count(index)
    del index
    if got != n:
        raise RuntimeError("the index holds %d vectors, expected %d" % (got, n))
    return {"seconds": seconds, "peak_bytes": peak,
            "peak_source": "VmHWM since run start (Python process)" if reset else "VmHWM of process"}


def main():
    print(json.dumps({"ready": True, "library": LIBRARY, "version": str(VERSION), "kernel": kernel()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
            if cmd.get("op") == "quit":
                break
            answer = run(cmd)
        except Exception as error:  # reported to run.py, which fails the cell
            answer = {"error": "%s: %s" % (type(error).__name__, error)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
