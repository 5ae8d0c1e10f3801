#!/usr/bin/env python3
"""Interleaved insert-throughput comparison: `edgevec bench` builds vs hnswlib.

Each repetition runs every EdgeVec binary once (`--api all`: single, batch100,
batch1000) and hnswlib once (single, batch), one after the other, so machine
noise hits all of them alike; then prints the median µs per vector of each and
the ratio EdgeVec / hnswlib (single vs single, batches vs hnswlib's one batch).

    python3 Benchmarks/peers/compare_insert.py --n 1000 --repetitions 5 \
        --edgevec system=.build-cli/release/edgevec --edgevec bumpArena=.build-arena-cli/release/edgevec \
        --peer-python /tmp/peers/bin/python
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def json_lines(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgevec", action="append", required=True, metavar="LABEL=PATH")
    parser.add_argument("--peer-python", help="a python with hnswlib and numpy; omit to skip hnswlib")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dimensions", type=int, default=128)
    parser.add_argument("--data", default="uniform")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--jsonl", help="also append every run as JSON lines to this file")
    args = parser.parse_args()

    builds = [spec.split("=", 1) for spec in args.edgevec]
    samples = {}   # (system, api) -> [µs per vector]
    meta = {}
    log = open(args.jsonl, "a") if args.jsonl else None
    workload = ["--n", str(args.n), "--dimensions", str(args.dimensions), "--data", args.data]
    for repetition in range(1, args.repetitions + 1):
        for label, path in builds:
            for row in json_lines([path, "bench", *workload, "--api", "all", "--repetitions", "1", "--json"]):
                if row["kind"] != "run":
                    continue
                samples.setdefault((label, row["api"]), []).append(row["us_per_vector"])
                meta[label] = (row["allocator"], row["instruction_set"])
                if log:
                    log.write(json.dumps({"system": label, **row}) + "\n")
        if args.peer_python:
            for row in json_lines([args.peer_python, os.path.join(HERE, "hnswlib_insert.py"), *workload,
                                   "--api", "all", "--repetitions", "1", "--json"]):
                if row["kind"] != "run":
                    continue
                samples.setdefault(("hnswlib", row["api"]), []).append(row["us_per_vector"])
                if log:
                    log.write(json.dumps({"system": "hnswlib", **row}) + "\n")
        print(f"repetition {repetition}/{args.repetitions} done", file=sys.stderr, flush=True)

    med = {key: statistics.median(values) for key, values in samples.items()}
    print(f"n {args.n}, dimensions {args.dimensions}, data {args.data}, M 16, efConstruction 200, "
          f"median of {args.repetitions} interleaved repetitions, µs per vector")
    print(f"{'system':<22} {'api':<10} {'median':>9} {'min':>9} {'max':>9}  {'/ hnswlib':>9}")
    for (system, api), values in samples.items():
        peer_api = "single" if api == "single" else "batch"
        peer = med.get(("hnswlib", peer_api))
        ratio = f"{med[(system, api)] / peer:9.2f}" if peer and system != "hnswlib" else f"{'':9}"
        name = system if system == "hnswlib" else f"{system} ({meta[system][1]})"
        print(f"{name:<22} {api:<10} {med[(system, api)]:9.2f} {min(values):9.2f} {max(values):9.2f}  {ratio}")


if __name__ == "__main__":
    main()
