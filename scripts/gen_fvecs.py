#!/usr/bin/env python3
"""Writes a small synthetic ANN data set in the SIFT .fvecs/.ivecs format.

Plain python3 (struct, random, heapq): no packages, so it runs on a fresh CI
machine. Vectors are drawn around a few Gaussian cluster centres; the ground
truth is exact brute force under squared L2, ties broken by lower row index.

    python3 scripts/gen_fvecs.py --out DIR [--base 2000] [--queries 100]
                                 [--dim 32] [--k 10] [--clusters 16] [--seed 42]

Writes DIR/base.fvecs, DIR/query.fvecs and DIR/groundtruth.ivecs (k ids per
query, 0-based rows of base.fvecs).
"""
import argparse
import heapq
import os
import random
import struct


def write_vecs(path, rows, code):
    """Each row: int32 dimension, then the values ('f' float32 or 'i' int32), little-endian."""
    with open(path, "wb") as f:
        for row in rows:
            f.write(struct.pack("<i", len(row)))
            f.write(struct.pack("<%d%s" % (len(row), code), *row))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--base", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--clusters", type=int, default=16)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    centres = [[rng.gauss(0.0, 1.0) for _ in range(args.dim)] for _ in range(args.clusters)]

    def point():
        c = centres[rng.randrange(args.clusters)]
        return [struct.unpack("<f", struct.pack("<f", x + rng.gauss(0.0, 0.6)))[0] for x in c]

    base = [point() for _ in range(args.base)]
    queries = [point() for _ in range(args.queries)]

    groundtruth = []
    for q in queries:
        scored = ((sum((a - b) * (a - b) for a, b in zip(q, v)), i) for i, v in enumerate(base))
        groundtruth.append([i for _, i in heapq.nsmallest(args.k, scored)])

    os.makedirs(args.out, exist_ok=True)
    write_vecs(os.path.join(args.out, "base.fvecs"), base, "f")
    write_vecs(os.path.join(args.out, "query.fvecs"), queries, "f")
    write_vecs(os.path.join(args.out, "groundtruth.ivecs"), groundtruth, "i")
    print("wrote %d base, %d query vectors (dim %d) and top-%d ground truth to %s"
          % (args.base, args.queries, args.dim, args.k, args.out))


if __name__ == "__main__":
    main()
