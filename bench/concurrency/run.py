#!/usr/bin/env python3
"""Issue 22's goals on MiniLM-Debian, EdgeVec and hnswlib side by side in one run.

Build: `edgevec build --threads 1`, `edgevec build --threads 2` and hnswlib's
`add_items(num_threads=2)` (and `num_threads=1`), taking turns pass by pass
(ABAB…, the order rotating), cosine, M 16, efConstruction 200. EdgeVec's time
is the insert time the CLI prints (wall, the file read and write left out),
hnswlib's the `add_items` call. Recall@10 at ef 64 of each EdgeVec build.

Search, batch form for both: `ev_search_batch` (libedgevec.so through ctypes,
`threads` 1 and 2) and hnswlib's `knn_query(num_threads=1 and 2)` over the
same queries (the 1,000 query rows, or with --queries report the 500 that
bench/search/run.py reports on, repeated --query-repeats times), at every ef of
a fixed grid, in turns; each pass's recall–q/s curve is interpolated at recall 0.95
(bench/search/paired.py) and the ratios taken per pass. The CLI's own
`edgevec search --threads 1|2 --ef 16` is timed the same way (the goal's
literal form). Every figure is a median over the passes with its range.
`make report` runs a shorter form (scripts/report.sh): hnswlib's one-thread
build left out (context only, 20 s a pass), the report half of the queries,
and no builds of its own: with --builds-from it takes the three builds from
bench/search/run.py --thread-builds minilm, which times them in the search
experiment's build rotation (its 1-thread EdgeVec build is this one's), and
searches their indexes. The 1-thread build is deterministic (seed 42): its
recall is measured once.

    .venv-bench/bin/python bench/concurrency/run.py --edgevec .build-cli/release/edgevec --dist dist \\
        --data ../shared/data/minilm-debian --out .build-work/concurrency/results.jsonl
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "search"))
from paired import interpolate, part_ratios, spread, split_queries  # noqa: E402
from run import read_vecs, write_vecs, recall_at_10, log  # noqa: E402

K = 10
M = 16
EF_CONSTRUCTION = 200
EFS = (10, 12, 14, 16, 20, 24, 32)
TARGET = 0.95


def edgevec_build(binary, base, output, threads):
    out = subprocess.run([binary, "build", "--input", base, "--output", output, "--metric", "cosine", "--m", str(M),
                          "--ef-construction", str(EF_CONSTRUCTION), "--seed", "42", "--threads", str(threads),
                          "--quiet"], capture_output=True, text=True, check=True).stdout
    seconds = re.search(r", ([0-9.]+) s, ", out)
    if not seconds:
        raise RuntimeError(f"unexpected edgevec build output: {out}")
    return float(seconds.group(1))


def edgevec_recall(binary, index, queries, gt, ef):
    out = subprocess.run([binary, "search", "--index", index, "--queries", queries, "--groundtruth", gt,
                          "--k", str(K), "--ef", str(ef), "--json", "--quiet"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["recall"]


def cli_qps(binary, index, queries, ef, threads):
    out = subprocess.run([binary, "search", "--index", index, "--queries", queries, "--k", str(K), "--ef", str(ef),
                          "--threads", str(threads), "--warm-up", "1000", "--json", "--quiet"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["qps"]


class EdgeVecBatch:
    def __init__(self, dist, index):
        self.lib = ctypes.CDLL(os.path.join(dist, "native", "libedgevec.so"))
        self.lib.ev_load.argtypes = [ctypes.c_char_p, ctypes.c_int32]
        self.lib.ev_search_batch.restype = ctypes.c_int32
        pointer = ctypes.c_void_p
        self.lib.ev_search_batch.argtypes = [ctypes.c_int32, pointer] + [ctypes.c_int32] * 5 + [pointer] * 3
        with open(index, "rb") as f:
            data = f.read()
        self.handle = self.lib.ev_load(data, len(data))
        if self.handle <= 0:
            raise RuntimeError(f"ev_load: {self.handle}")

    def search(self, queries, ef, threads):
        count = len(queries)
        ids = np.empty((count, K), dtype=np.uint64)
        distances = np.empty((count, K), dtype=np.float32)
        counts = np.empty(count, dtype=np.int32)
        start = time.perf_counter()
        code = self.lib.ev_search_batch(self.handle, queries.ctypes.data, count, K, ef, 0, threads,
                                        ids.ctypes.data, distances.ctypes.data, counts.ctypes.data)
        seconds = time.perf_counter() - start
        if code != count:
            raise RuntimeError(f"ev_search_batch: {code}")
        return seconds, ids


def hnswlib_build(base, threads):
    import hnswlib
    index = hnswlib.Index(space="cosine", dim=base.shape[1])
    index.init_index(max_elements=len(base), M=M, ef_construction=EF_CONSTRUCTION, random_seed=100)
    start = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=threads)
    return time.perf_counter() - start, index


def read_thread_builds(path, base_path, n):
    """bench/search/run.py's thread-builds.json when it is of this base file and its index files exist, else None."""
    try:
        with open(path) as f:
            shared = json.load(f)
    except (OSError, ValueError):
        return None
    files = [shared.get("edgevec_1_index"), shared.get("hnswlib_2_index")] + shared.get("edgevec_2_indexes", [])
    counts = {len(v) for v in shared.get("seconds", {}).values()}
    if (shared.get("base") != os.path.abspath(base_path) or shared.get("n") != n or len(counts) != 1
            or counts == {0} or not all(f and os.path.isfile(f) for f in files)):
        return None
    return shared


def own_builds(args, parser, base, base_path, query_path, gt_path, edgevec_index):
    """--build-passes passes over --build-engines, the order rotating: (times, recalls, the last 2-thread hnswlib
    index). The one-thread EdgeVec build is deterministic (seed 42): its recall is measured once."""
    times = {name: [] for name in args.build_engines.split(",")}
    if not {"edgevec-1", "hnswlib-2"} <= set(times):
        parser.error("--build-engines must include edgevec-1 and hnswlib-2 (the search part uses their indexes)")
    recalls = {name: [] for name in times if name.startswith("edgevec")}
    order = list(times)
    hnsw_index = None
    for p in range(args.build_passes):
        for name in order[p % len(order):] + order[:p % len(order)]:
            engine, threads = name.split("-")
            if engine == "edgevec":
                index = edgevec_index if threads == "1" else os.path.join(args.work, f"minilm-t{threads}.edgevec")
                times[name].append(edgevec_build(args.edgevec, base_path, index, int(threads)))
                if threads != "1" or not recalls[name]:
                    recalls[name].append(edgevec_recall(args.edgevec, index, query_path, gt_path, 64))
            else:
                seconds, built = hnswlib_build(base, int(threads))
                times[name].append(seconds)
                if threads == "2":
                    hnsw_index = built
            log(f"build pass {p}: {name} {times[name][-1]:.2f} s")
    return times, recalls, hnsw_index


def ratio(a, b):
    """Per-pass ratios a[i] / b[i], summarised."""
    return spread([x / y for x, y in zip(a, b) if x and y])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edgevec", default=os.path.join(ROOT, ".build-cli", "release", "edgevec"))
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "minilm-debian"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-work", "concurrency"))
    parser.add_argument("--out", default=None)
    parser.add_argument("--build-passes", type=int, default=3)
    parser.add_argument("--search-passes", type=int, default=5)
    parser.add_argument("--build-engines", default="edgevec-1,edgevec-2,hnswlib-1,hnswlib-2",
                        help="builds to time (edgevec-1 and hnswlib-2 are needed by the search part)")
    parser.add_argument("--queries", choices=("all", "report"), default="all",
                        help="search with all query rows, or only the half bench/search/run.py reports on")
    parser.add_argument("--query-repeats", type=int, default=10, help="times the query rows are repeated per pass")
    parser.add_argument("--builds-from", metavar="JSON",
                        help="take the builds from bench/search/run.py --thread-builds minilm (its "
                             "WORK/minilm/thread-builds.json: edgevec --threads 1 and 2 and hnswlib's 2-thread "
                             "add_items, timed in the search experiment's build rotation) instead of building here")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    base_path, query_path, gt_path = (os.path.join(args.data, f) for f in
                                      ("base.fvecs", "query.fvecs", "groundtruth.ivecs"))
    if not all(os.path.isfile(p) for p in (base_path, query_path, gt_path)):
        log(f"skipped: MiniLM-Debian files not found in {args.data}")
        return 0
    base = read_vecs(base_path, np.float32)
    queries = read_vecs(query_path, np.float32)
    gt = read_vecs(gt_path, np.int32)
    if args.queries == "report":
        rows = split_queries(len(queries))[1]
        queries, gt = queries[rows.start:rows.stop], gt[rows.start:rows.stop]
        query_path = os.path.join(args.work, "query-report.fvecs")
        gt_path = os.path.join(args.work, "groundtruth-report.ivecs")
        write_vecs(query_path, queries)
        write_vecs(gt_path, gt)
    repeated = np.ascontiguousarray(np.tile(queries, (args.query_repeats, 1)))
    repeated_path = os.path.join(args.work, f"query-x{args.query_repeats}.fvecs")
    write_vecs(repeated_path, repeated)
    records = []
    cores = os.cpu_count()
    log(f"MiniLM-Debian: {base.shape[0]} x {base.shape[1]}, {len(queries)} queries ({args.queries}, "
        f"x{args.query_repeats}), {cores} cores")

    # ---- build
    edgevec_index = os.path.join(args.work, "minilm-t1.edgevec")
    shared = read_thread_builds(args.builds_from, base_path, len(base)) if args.builds_from else None
    if shared:
        # The search experiment's builds: edgevec-1 is deterministic (one thread, seed 42): its recall once.
        times = shared["seconds"]
        edgevec_index = shared["edgevec_1_index"]
        recalls = {"edgevec-1": [edgevec_recall(args.edgevec, edgevec_index, query_path, gt_path, 64)],
                   "edgevec-2": [edgevec_recall(args.edgevec, index, query_path, gt_path, 64)
                                 for index in shared["edgevec_2_indexes"]]}
        import hnswlib
        hnsw_index = hnswlib.Index(space="cosine", dim=base.shape[1])
        hnsw_index.load_index(shared["hnswlib_2_index"], max_elements=len(base))
        passes = len(times["edgevec-1"])
        log(f"builds from {args.builds_from} ({passes} repetitions of bench/search/run.py's build rotation): "
            + ", ".join(f"{name} " + " ".join(f"{t:.2f}" for t in ts) + " s" for name, ts in times.items()))
    else:
        if args.builds_from:
            log(f"{args.builds_from}: missing, or not of {base_path}: building here")
        times, recalls, hnsw_index = own_builds(args, parser, base, base_path, query_path, gt_path, edgevec_index)
        passes = args.build_passes
    # The search experiment's builds are timed part by part (`edgevec build --part-times`, hnswlib one add_items
    # per part): their ratios pair the parts of each repetition, several per build instead of one.
    parts = (shared or {}).get("parts") or {}

    def build_ratio(a, b):
        if parts.get(a) and parts.get(b):
            builds = {n: [{"seconds": t, "parts": p} for t, p in zip(times[n], parts[n])] for n in (a, b)}
            return spread(part_ratios(builds[a], builds[b]))
        return ratio(times.get(a, []), times.get(b, []))

    build = {"kind": "build", "seconds": {n: spread(v) for n, v in times.items()},
             "recall_ef64": {n: spread(v) for n, v in recalls.items()},
             "edgevec_2_speedup": build_ratio("edgevec-1", "edgevec-2"),
             "edgevec_2_over_hnswlib_2": build_ratio("edgevec-2", "hnswlib-2"),
             "paired_by": "part" if parts else "build",
             "hnswlib_2_speedup": ratio(times.get("hnswlib-1", []), times["hnswlib-2"]),
             "recall_difference": (statistics.median(recalls["edgevec-2"]) - statistics.median(recalls["edgevec-1"])
                                   if recalls.get("edgevec-2") else None),
             "passes": passes,
             **({"timed_in": shared["command"]} if shared else {}),
             "commands": {"edgevec": f"{args.edgevec} build --threads N (cosine, M {M}, efConstruction {EF_CONSTRUCTION})",
                          "hnswlib": "hnswlib.Index(space='cosine').add_items(base, num_threads=N)"}}
    records.append(build)

    # ---- search (batch form for both)
    edgevec = EdgeVecBatch(args.dist, edgevec_index)
    engines = {"edgevec-1": lambda ef: edgevec.search(repeated, ef, 1),
               "edgevec-2": lambda ef: edgevec.search(repeated, ef, 2)}

    def hnswlib_run(threads):
        def run(ef):
            hnsw_index.set_ef(ef)
            start = time.perf_counter()
            labels, _ = hnsw_index.knn_query(repeated, k=K, num_threads=threads)
            return time.perf_counter() - start, labels
        return run
    engines["hnswlib-1"] = hnswlib_run(1)
    engines["hnswlib-2"] = hnswlib_run(2)
    search_recall = {}
    for name, run in engines.items():          # warm-up, and the recall of each ef (deterministic)
        for ef in EFS:
            _, ids = run(ef)
            search_recall.setdefault(name, {})[ef] = recall_at_10(ids[:len(queries)], gt)
    qps = {name: {ef: [] for ef in EFS} for name in engines}
    names = list(engines)
    for p in range(args.search_passes):
        for ef in EFS:
            for name in names[p % len(names):] + names[:p % len(names)]:
                seconds, _ = engines[name](ef)
                qps[name][ef].append(len(repeated) / seconds)
        log(f"search pass {p} done")
    at_target = {name: [interpolate([(ef, search_recall[name][ef], qps[name][ef][p]) for ef in EFS], TARGET)
                        for p in range(args.search_passes)] for name in engines}
    cli = {"1": [], "2": []}
    index = edgevec_index
    for p in range(args.search_passes):
        for threads in (("1", "2") if p % 2 == 0 else ("2", "1")):
            cli[threads].append(cli_qps(args.edgevec, index, repeated_path, 16, int(threads)))
    search = {"kind": "search", "target_recall": TARGET, "efs": list(EFS), "recall": search_recall,
              "queries": f"{args.queries} ({len(queries)} rows) x {args.query_repeats}", "passes": args.search_passes,
              "qps_at_target": {n: spread(v) for n, v in at_target.items()},
              "edgevec_2_speedup": ratio(at_target["edgevec-2"], at_target["edgevec-1"]),
              "edgevec_2_over_hnswlib_2": ratio(at_target["edgevec-2"], at_target["hnswlib-2"]),
              "hnswlib_2_speedup": ratio(at_target["hnswlib-2"], at_target["hnswlib-1"]),
              "cli_ef16_recall": edgevec_recall(args.edgevec, index, query_path, gt_path, 16),
              "cli_ef16_qps": {t: spread(v) for t, v in cli.items()},
              "cli_ef16_speedup": ratio(cli["2"], cli["1"]),
              "commands": {"edgevec": f"ev_search_batch(handle, {len(repeated):,} queries, k 10, ef, 0, threads) via ctypes; "
                                      f"{args.edgevec} search --threads N --ef 16 --warm-up 1000",
                           "hnswlib": "index.set_ef(ef); knn_query(queries, k=10, num_threads=N)"}}
    records.append(search)

    if args.out:
        command = " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])
        with open(args.out, "w") as f:
            for r in records:
                r["command"] = command
                f.write(json.dumps(r) + "\n")

    def show(s, digits=2):
        return "n/a" if not s else f"{s['median']:.{digits}f} ({s['low']:.{digits}f}-{s['high']:.{digits}f})"
    print(f"build (s, {passes} passes): " + ", ".join(f"{n} {show(s)}" for n, s in build["seconds"].items()))
    difference = build["recall_difference"]
    print(f"  edgevec --threads 2 speedup {show(build['edgevec_2_speedup'])} (goal >= 1.6); "
          f"edgevec-2 / hnswlib-2 time {show(build['edgevec_2_over_hnswlib_2'])} (goal <= 0.8); "
          f"hnswlib 2-thread speedup {show(build['hnswlib_2_speedup'])}")
    print(f"  recall@10 ef 64: 1 thread {show(build['recall_ef64']['edgevec-1'], 4)}, "
          f"2 threads {show(build['recall_ef64'].get('edgevec-2'), 4)} "
          f"(difference {'n/a' if difference is None else f'{difference:+.4f}'}, goal within 0.005)")
    print(f"search q/s at recall {TARGET} ({args.search_passes} passes): "
          + ", ".join(f"{n} {show(s, 0)}" for n, s in search["qps_at_target"].items()))
    print(f"  edgevec 2 threads / 1 {show(search['edgevec_2_speedup'])} (goal >= 1.8); "
          f"edgevec-2 / hnswlib-2 {show(search['edgevec_2_over_hnswlib_2'])} (goal >= 1.2); "
          f"hnswlib 2/1 {show(search['hnswlib_2_speedup'])}")
    print(f"  edgevec search --ef 16 (recall {search['cli_ef16_recall']:.4f}): --threads 2 / --threads 1 "
          f"{show(search['cli_ef16_speedup'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
