#!/usr/bin/env python3
"""Data and checks for the filtered part of scripts/cli_smoke.sh (plain python3, no packages).

    filter_smoke.py gen DIR          DIR holds base.fvecs and query.fvecs (scripts/gen_fvecs.py); writes
                                     meta.tsv, filters.txt (one filter per query), single.txt (one filter),
                                     filters_gt.ivecs / single_gt.ivecs (exact filtered top 10, -1 padded),
                                     expected-info.txt (the `field ...` lines `edgevec info` must print)
    filter_smoke.py check DIR MODE RESULTS.ivecs [--exact] [--min-recall R] [--json LOG] [--gt]
                                     MODE: filters (per-query file) or single; checks every row of RESULTS
    filter_smoke.py json LOG         checks the --json line of an --ef-sweep run (arrays)

The brute force here is the oracle: each filter is written twice, in the filter language and as a Python
predicate over the row's typed values, and the exact top 10 is squared L2 over the matching rows (ties by
lower row). `check` requires, per query: exactly min(10, matches) ids, then -1 padding; every id matching
that query's filter, none twice; with --exact the brute force's ids (ties within 1e-4 relative allowed);
otherwise recall (hits / min(10, matches), averaged over queries with matches) >= --min-recall. With
--json it also checks the last line of LOG: one JSON object with exactly the keys queries, k, ef, qps,
p50_us, p99_us (and recall, equal to |results ∩ ground truth| / 10 averaged, with --gt).
"""
import json
import os
import random
import struct
import sys

K = 10

# (filter text, predicate over the typed row).
FILTERS = [
    ('group = "g1"', lambda r: r["group"] == "g1"),
    ('group IN ("g2", "g3") AND size < 500', lambda r: r["group"] in ("g2", "g3") and num(r["size"]) and r["size"] < 500),
    ("ratio > 0.25", lambda r: num(r["ratio"]) and r["ratio"] > 0.25),
    ("free = true", lambda r: r["free"] is True),
    ("free IS NULL AND size IS NOT NULL", lambda r: r["free"] is None and r["size"] is not None),
    ("id < 7", lambda r: r["id"] < 7),                                     # 7 matches: short rows
    ('group = "none"', lambda r: False),                                   # no match at all
    ('NOT group = "g0" AND size BETWEEN 100 AND 900', lambda r: r["group"] != "g0" and num(r["size"]) and 100 <= r["size"] <= 900),
    ('name = "café-3" OR name = "ünï-4"', lambda r: r["name"] in ("café-3", "ünï-4")),
    ("size >= 0", lambda r: num(r["size"]) and r["size"] >= 0),           # broad: a graph walk
    ('mixed = "1"', lambda r: r["mixed"] == "1"),                          # "1" is a string in that column
    ("big > 1000", lambda r: num(r["big"]) and r["big"] > 1000),
]
SINGLE = 9  # the --filter run: "size >= 0"


def num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def read_vecs(path, code):
    data = open(path, "rb").read()
    rows, o = [], 0
    while o < len(data):
        (d,) = struct.unpack_from("<i", data, o)
        rows.append(list(struct.unpack_from("<%d%s" % (d, code), data, o + 4)))
        o += 4 + 4 * d
    return rows


def write_ivecs(path, rows):
    with open(path, "wb") as f:
        for row in rows:
            f.write(struct.pack("<i", len(row)) + struct.pack("<%di" % len(row), *row))


def make_rows(n, seed=7):
    """Typed rows and their TSV cells. Columns and the type each must get:
    id integer, group string (skewed), size integer (10 % missing), ratio double (some cells look like
    integers), free bool (any case, 30 % missing), name string (non-ASCII), big double (2^53 is past the
    integer range), mixed string ("1" and "x")."""
    rng = random.Random(seed)
    rows, cells = [], []
    for i in range(n):
        g = min(9, int(rng.expovariate(0.5)))
        size = None if rng.random() < 0.1 else rng.randrange(1000)
        u = rng.random()
        if u < 0.2:
            ratio, ratio_cell = None, ""
        elif u < 0.3:
            ratio = rng.randrange(2)
            ratio_cell = str(ratio)
        else:
            ratio = round(rng.random(), 3)
            ratio_cell = "%.3f" % ratio
        f = rng.random()
        free = None if f < 0.3 else (f < 0.65)
        free_cell = "" if free is None else rng.choice(["true", "True", "TRUE"] if free else ["false", "FALSE"])
        name = ("café-%d" if i % 2 else "ünï-%d") % (i % 7)
        big = 2 ** 53 if i % 97 == 0 else i * 3
        mixed = "1" if i % 3 == 0 else "x"
        rows.append({"id": i, "group": "g%d" % g, "size": size, "ratio": ratio, "free": free,
                     "name": name, "big": big, "mixed": mixed})
        cells.append([str(i), "g%d" % g, "" if size is None else str(size), ratio_cell, free_cell, name,
                      str(big), mixed])
    header = ["id", "group", "size", "ratio", "free", "name", "big", "mixed"]
    return header, rows, cells


def distances(base, q):
    return [sum((a - b) * (a - b) for a, b in zip(q, v)) for v in base]


def exact(dist, rows, pred):
    match = [i for i, r in enumerate(rows) if pred(r)]
    match.sort(key=lambda i: (dist[i], i))
    return match[:K], len(match)


def gen(d):
    base = read_vecs(os.path.join(d, "base.fvecs"), "f")
    queries = read_vecs(os.path.join(d, "query.fvecs"), "f")
    header, rows, cells = make_rows(len(base))
    with open(os.path.join(d, "meta.tsv"), "w", encoding="utf-8") as f:
        f.write("\t".join(header) + "\n")
        for c in cells:
            f.write("\t".join(c) + "\n")
    with open(os.path.join(d, "filters.txt"), "w", encoding="utf-8") as f:
        for qi in range(len(queries)):
            f.write(FILTERS[qi % len(FILTERS)][0] + "\n")
    with open(os.path.join(d, "single.txt"), "w", encoding="utf-8") as f:
        f.write(FILTERS[SINGLE][0] + "\n")
    per, single = [], []
    for qi, q in enumerate(queries):
        dist = distances(base, q)
        ids, _ = exact(dist, rows, FILTERS[qi % len(FILTERS)][1])
        per.append(ids + [-1] * (K - len(ids)))
        ids, _ = exact(dist, rows, FILTERS[SINGLE][1])
        single.append(ids + [-1] * (K - len(ids)))
    write_ivecs(os.path.join(d, "filters_gt.ivecs"), per)
    write_ivecs(os.path.join(d, "single_gt.ivecs"), single)
    types = {"id": "integer", "group": "string", "size": "integer", "ratio": "double", "free": "bool",
             "name": "string", "big": "double", "mixed": "string"}
    with open(os.path.join(d, "expected-info.txt"), "w", encoding="utf-8") as f:
        f.write("metadata fields: %d\n" % len(header))
        for h in header:
            present = sum(1 for r in rows if r[h] is not None)
            f.write("field %s: %s (%d vectors)\n" % (h, types[h], present))
    print("wrote meta.tsv (%d rows), filters.txt (%d queries, %d filters) and their ground truth to %s"
          % (len(rows), len(queries), len(FILTERS), d))


def check_json(log, has_recall, expect_recall=None, sweep=None):
    lines = [l for l in open(log, encoding="utf-8").read().splitlines() if l.strip()]
    obj = json.loads(lines[-1])
    keys = {"queries", "k", "ef", "qps", "p50_us", "p99_us"} | ({"recall"} if has_recall else set())
    if set(obj) != keys:
        sys.exit("FAIL: --json keys %s, expected %s" % (sorted(obj), sorted(keys)))
    if sweep is not None:
        for key in ("ef", "qps", "p50_us", "p99_us") + (("recall",) if has_recall else ()):
            if not isinstance(obj[key], list) or len(obj[key]) != len(sweep):
                sys.exit("FAIL: --ef-sweep --json: %s is not a list of %d: %r" % (key, len(sweep), obj[key]))
        if obj["ef"] != sweep:
            sys.exit("FAIL: --ef-sweep --json: ef %r, expected %r" % (obj["ef"], sweep))
        if not all(q > 0 for q in obj["qps"]) or not all(0 < a <= b for a, b in zip(obj["p50_us"], obj["p99_us"])):
            sys.exit("FAIL: --ef-sweep --json: implausible qps or latencies: %r" % obj)
    else:
        if not (obj["qps"] > 0 and 0 < obj["p50_us"] <= obj["p99_us"]):
            sys.exit("FAIL: --json: implausible qps or latencies: %r" % obj)
    if expect_recall is not None and abs(obj["recall"] - expect_recall) > 1e-12:
        sys.exit("FAIL: --json recall %r, but the results file gives %r" % (obj["recall"], expect_recall))
    return obj


def check(d, mode, results_path, exact_mode, min_recall, log, with_gt):
    base = read_vecs(os.path.join(d, "base.fvecs"), "f")
    queries = read_vecs(os.path.join(d, "query.fvecs"), "f")
    _, rows, _ = make_rows(len(base))
    results = read_vecs(results_path, "i")
    if len(results) != len(queries):
        sys.exit("FAIL: %d result rows for %d queries" % (len(results), len(queries)))
    gt = read_vecs(os.path.join(d, "filters_gt.ivecs" if mode == "filters" else "single_gt.ivecs"), "i")
    recalls, short, gt_hits = [], 0, 0
    for qi, (q, got) in enumerate(zip(queries, results)):
        text, pred = FILTERS[qi % len(FILTERS)] if mode == "filters" else FILTERS[SINGLE]
        dist = distances(base, q)
        want, matches = exact(dist, rows, pred)
        n = min(K, matches)
        ids = [i for i in got if i != -1]
        if got[:n] != ids or len(ids) != n or any(i != -1 for i in got[n:]):
            sys.exit("FAIL: query %d (%s): %d matches, expected %d ids then -1, got %r" % (qi, text, matches, n, got))
        if len(set(ids)) != len(ids):
            sys.exit("FAIL: query %d (%s): an id twice: %r" % (qi, text, got))
        bad = [i for i in ids if not (0 <= i < len(rows)) or not pred(rows[i])]
        if bad:
            sys.exit("FAIL: query %d (%s): ids %r do not satisfy the filter" % (qi, text, bad))
        if n < K:
            short += 1
        gt_hits += len(set(ids) & {i for i in gt[qi] if i >= 0})
        if n == 0:
            continue
        if exact_mode:
            radius = dist[want[-1]]
            for i in set(ids) - set(want):
                if dist[i] > radius * (1 + 1e-4) + 1e-9:
                    sys.exit("FAIL: query %d (%s): exact results %r, brute force %r" % (qi, text, ids, want))
        recalls.append(len(set(ids) & set(want)) / n)
    recall = sum(recalls) / len(recalls)
    if not exact_mode and recall < min_recall:
        sys.exit("FAIL: filtered recall %.4f below %.2f (%s)" % (recall, min_recall, mode))
    print("ok: %s: %d queries, every one min(10, matches) matching ids (%d short), recall %.4f%s"
          % (results_path, len(queries), short, recall, " (exact)" if exact_mode else ""))
    if log:
        check_json(log, with_gt, gt_hits / (len(queries) * K) if with_gt else None)
        print("ok: %s ends with one JSON object with the documented keys" % log)


def main():
    args = sys.argv[1:]
    if args[:1] == ["gen"]:
        gen(args[1])
    elif args[:1] == ["check"]:
        d, mode, results = args[1:4]
        rest = args[4:]
        exact_mode = "--exact" in rest
        min_recall = float(rest[rest.index("--min-recall") + 1]) if "--min-recall" in rest else 0.95
        log = rest[rest.index("--json") + 1] if "--json" in rest else None
        check(d, mode, results, exact_mode, min_recall, log, "--gt" in rest)
    elif args[:1] == ["json"]:
        sweep = [int(x) for x in args[2].split(",")]
        obj = check_json(args[1], "--gt" in args, sweep=sweep)
        print("ok: --ef-sweep --json: one object, arrays of %d: %s" % (len(sweep), json.dumps(obj)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
