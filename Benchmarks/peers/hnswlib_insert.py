#!/usr/bin/env python3
"""The `edgevec bench` insert workload on hnswlib, for a side-by-side ratio.

Same data as `edgevec bench --data uniform|constant` (SplitMix64 from
--data-seed, top 24 bits -> [0, 1), row after row), l2, M 16, efConstruction
200, one thread. APIs: `single` = one add_items call per vector, `batch` = one
add_items call with all N rows. hnswlib preallocates max_elements = N in
init_index (untimed); EdgeVec grows its buffers as it goes (timed).

Needs hnswlib and numpy (from PyPI, e.g. in a throwaway venv):
    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install hnswlib numpy
    /tmp/peers/bin/python Benchmarks/peers/hnswlib_insert.py --n 1000 --json
"""
import argparse
import json
import resource
import statistics
import time

import hnswlib
import numpy as np


def splitmix_uniform(count, seed):
    """count floats in [0, 1): the generator of `edgevec bench` (SplitMix64, top 24 bits)."""
    with np.errstate(over="ignore"):
        golden = np.uint64(0x9E3779B97F4A7C15)
        state = np.uint64(seed) + golden * np.arange(1, count + 1, dtype=np.uint64)
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def run_once(api, data, m, ef_construction, seed):
    n, d = data.shape
    index = hnswlib.Index(space="l2", dim=d)
    index.init_index(max_elements=n, M=m, ef_construction=ef_construction, random_seed=seed)
    index.set_num_threads(1)
    ids = np.arange(n)
    start = time.perf_counter()
    if api == "single":
        for i in range(n):
            index.add_items(data[i:i + 1], ids[i:i + 1], num_threads=1)
    else:
        index.add_items(data, ids, num_threads=1)
    seconds = time.perf_counter() - start
    assert index.get_current_count() == n
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dimensions", type=int, default=128)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--data", choices=["constant", "uniform"], default="uniform")
    parser.add_argument("--api", choices=["single", "batch", "all"], default="all")
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--seed", type=int, default=100, help="hnswlib's level seed")
    parser.add_argument("--data-seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    if args.data == "constant":
        data = np.full((args.n, args.dimensions), 0.5, dtype=np.float32)
    else:
        data = splitmix_uniform(args.n * args.dimensions, args.data_seed).reshape(args.n, args.dimensions)
    apis = ["single", "batch"] if args.api == "all" else [args.api]
    common = {"n": args.n, "dimensions": args.dimensions, "data": args.data, "m": args.m,
              "ef_construction": args.ef_construction, "library": "hnswlib", "threads": 1}
    samples = {api: [] for api in apis}
    for repetition in range(1, args.repetitions + 1):
        for api in apis:
            seconds = run_once(api, data, args.m, args.ef_construction, args.seed)
            us = seconds * 1e6 / args.n
            samples[api].append(us)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            if args.json:
                print(json.dumps({"kind": "run", "api": api, "repetition": repetition, **common,
                                  "seconds": round(seconds, 6), "us_per_vector": round(us, 3),
                                  "peak_rss_bytes": rss}), flush=True)
            else:
                print(f"  rep {repetition}  {api:9s} {us:9.2f} µs/vector  {seconds:.3f} s", flush=True)
    for api in apis:
        middle = statistics.median(samples[api])
        if args.json:
            print(json.dumps({"kind": "summary", "api": api, **common, "repetitions": len(samples[api]),
                              "median_us_per_vector": round(middle, 3)}))
        else:
            print(f"median {api:9s} {middle:9.2f} µs/vector ({len(samples[api])} runs)")


if __name__ == "__main__":
    main()
