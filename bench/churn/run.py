#!/usr/bin/env python3
"""Churn experiment (issue 20): EdgeVec (C ABI, libedgevec.so in this process)
and hnswlib (mark_deleted + replace_deleted) through the same churn, each
against a fresh build of the same live set, in one run.

Per engine: an index of the n rows (cosine, M 16, efConstruction 200, one
thread), loaded twice from its serialized form: one copy goes through the
churn, the other is the fresh build of the live set it is compared with (the
churn adds the removed rows' vectors back, so the live set is the same n
vectors under other ids). The index is built here, or taken from the search
experiment (--edgevec-index, --hnswlib-index: built there from the same rows
with the same parameters), which saves `make report` a build per engine.
The churn: --rounds rounds of removing --remove random live vectors and
adding the removed rows' vectors back under new ids. EdgeVec: one call per
vector (their times give the cost of a remove against an insert on the same
data). hnswlib: mark_deleted per vector, then one add_items(replace_deleted)
per round on --hnswlib-threads threads (it is here for quality after churn;
one replace at a time took 2.9 ms, 143 s for the churn). Searches (k 10, ef
16 and 64, one query after another on one thread; EdgeVec through
bench/search/search_pass.c, hnswlib's batch query with one thread) take
turns pass by pass, the order rotating, after an untimed warm-up pass:
--passes timed passes per index and ef. q/s ratios are the median of
per-pass ratios (churned ÷ fresh) with their range; recall@10 is against the
exact ground truth of the rows. Memory: EdgeVec's ev_memory_bytes (churned ÷
fresh; a loaded index holds exactly its size, the tightest reference);
hnswlib preallocates max_elements and replace_deleted reuses its slots, so
its memory does not move: not measured.

    .venv-bench/bin/python bench/churn/run.py --dist dist --data ../shared/data/minilm-debian \\
        --work .build-work/churn --out .build-work/churn/churn.json [--quick] \\
        [--edgevec-index F.edgevec --hnswlib-index F.hnswlib]

--quick: the smoke set (5,000 rows), 3 rounds of 1,000. Without ../shared (no --data):
a generated clustered 128-d set (numpy), 10k vectors, exact ground truth.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import ctypes
import json
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "search"))
import paired  # noqa: E402
from run import compile_search_pass, read_vecs, synthetic_dataset  # noqa: E402

K = 10
M = 16
EF_CONSTRUCTION = 200
EFS = [16, 64]
COSINE = 1


def log(message):
    print(message, file=sys.stderr, flush=True)


def load_data(args):
    if args.data and os.path.isdir(args.data):
        prefix = "smoke_" if args.quick else ""
        base = read_vecs(os.path.join(args.data, prefix + "base.fvecs"), np.float32)
        queries = read_vecs(os.path.join(args.data, prefix + "query.fvecs"), np.float32)
        gt = read_vecs(os.path.join(args.data, prefix + "groundtruth.ivecs"), np.int32)
        return "minilm" + ("-smoke" if args.quick else ""), base, queries, gt
    log("no --data directory: a generated clustered 128-d set (10k)")
    ds = synthetic_dataset(args.work, 10_000, 500)
    base = read_vecs(ds["base_path"], np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = read_vecs(ds["query_path"], np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    gt = np.argsort(-(queries.astype(np.float64) @ base.astype(np.float64).T), axis=1)[:, :K].astype(np.int32)
    return "synthetic128-cosine", base, queries, gt


class EdgeVecIndex:
    """One index through the C ABI: built from rows, or loaded from bytes."""

    def __init__(self, lib, helper, dim, serialized=None, seed=42):
        self.lib, self.helper, self.dim = lib, helper, dim
        if serialized is None:
            self.h = lib.ev_create_with_ef_search(dim, COSINE, M, EF_CONSTRUCTION, 64, seed)
        else:
            self.h = lib.ev_load(serialized, len(serialized))
        if self.h <= 0:
            raise RuntimeError(f"ev_create/ev_load: {self.h}")

    def add_batch(self, rows, ids):
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.uint64)
        r = self.lib.ev_insert_batch_with_ids(self.h, rows.ctypes.data, len(rows), ids.ctypes.data)
        if r < 0:
            raise RuntimeError(f"ev_insert_batch_with_ids: {r}")

    def add_round(self, rows, ids):
        """One call per vector: the cost this experiment measures."""
        for row, id_ in zip(rows, ids):
            r = self.lib.ev_insert_with_id(self.h, row.ctypes.data, id_)
            if r < 0:
                raise RuntimeError(f"ev_insert_with_id: {r}")

    def remove(self, id_):
        if self.lib.ev_remove(self.h, id_) != 1:
            raise RuntimeError(f"ev_remove({id_})")

    def search(self, queries, ef):
        count = len(queries)
        out = np.empty((count, K), dtype=np.int64)
        distances = np.empty((count, K), dtype=np.float32)
        start = time.perf_counter()
        code = self.helper.edgevec_search_pass(self.h, queries, count, self.dim, K, ef, 1, out, distances)
        seconds = time.perf_counter() - start
        if code != 0:
            raise RuntimeError(f"ev_search: {code}")
        return seconds, out

    def count(self):
        return self.lib.ev_size(self.h)

    def memory(self):
        return self.lib.ev_memory_bytes(self.h)

    def close(self):
        self.lib.ev_free(self.h)


class HnswlibIndex:
    def __init__(self, dim, capacity, path=None, threads=1):
        import hnswlib
        self.threads = threads
        self.index = hnswlib.Index(space="cosine", dim=dim)
        if path is None:
            self.index.init_index(max_elements=capacity, M=M, ef_construction=EF_CONSTRUCTION, random_seed=100,
                                  allow_replace_deleted=True)
        else:
            self.index.load_index(path, max_elements=capacity, allow_replace_deleted=True)
        self.index.set_num_threads(1)

    def add_batch(self, rows, ids):
        self.index.add_items(rows, ids, num_threads=1)

    def add_round(self, rows, ids):
        self.index.add_items(np.asarray(rows), np.asarray(ids), num_threads=self.threads, replace_deleted=True)

    def remove(self, id_):
        self.index.mark_deleted(id_)

    def search(self, queries, ef):
        self.index.set_ef(ef)
        start = time.perf_counter()
        labels = self.index.knn_query(queries, k=K, num_threads=1)[0]
        return time.perf_counter() - start, labels.astype(np.int64)

    def count(self):
        return self.index.get_current_count()

    def memory(self):
        return None

    def close(self):
        pass


def open_library(dist, work):
    """DIST/native/libedgevec.so and the search-pass helper compiled against it, with their signatures."""
    native = os.path.abspath(os.path.join(dist, "native"))
    lib = ctypes.CDLL(os.path.join(native, "libedgevec.so"))
    for fn, res, argt in [("ev_create_with_ef_search", ctypes.c_int32, [ctypes.c_int32] * 5 + [ctypes.c_uint64]),
                          ("ev_insert_batch_with_ids", ctypes.c_int64,
                           [ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p]),
                          ("ev_insert_with_id", ctypes.c_int64, [ctypes.c_int32, ctypes.c_void_p, ctypes.c_uint64]),
                          ("ev_remove", ctypes.c_int32, [ctypes.c_int32, ctypes.c_uint64]),
                          ("ev_memory_bytes", ctypes.c_int64, [ctypes.c_int32]),
                          ("ev_load", ctypes.c_int32, [ctypes.c_char_p, ctypes.c_int32]),
                          ("ev_save_size", ctypes.c_int32, [ctypes.c_int32]),
                          ("ev_save", ctypes.c_int32, [ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32]),
                          ("ev_size", ctypes.c_int32, [ctypes.c_int32]),
                          ("ev_free", None, [ctypes.c_int32])]:
        getattr(lib, fn).restype = res
        getattr(lib, fn).argtypes = argt
    helper = ctypes.CDLL(compile_search_pass(work, dist))
    array = lambda dtype: np.ctypeslib.ndpointer(dtype, flags="C_CONTIGUOUS")
    helper.edgevec_search_pass.restype = ctypes.c_int32
    helper.edgevec_search_pass.argtypes = [ctypes.c_int32, array(np.float32)] + [ctypes.c_int32] * 5 + [
        array(np.int64), array(np.float32)]
    return lib, helper


def churn(index, base, rounds, remove, seed):
    """Rounds of removing `remove` random live ids and adding their rows back
    under new ids. Returns (row of each live id, remove seconds, insert seconds, ops)."""
    rng = np.random.default_rng(seed)
    n = len(base)
    row_of = {i: i for i in range(n)}
    live = list(range(n))
    next_id = n
    removing = inserting = 0.0
    for r in range(rounds):
        picks = rng.choice(len(live), size=remove, replace=False)
        gone = [live[p] for p in picks]
        t = time.perf_counter()
        for id_ in gone:
            index.remove(id_)
        removing += time.perf_counter() - t
        keep = np.ones(len(live), dtype=bool)
        keep[picks] = False
        live = [live[i] for i in np.flatnonzero(keep)]
        rows = [row_of.pop(id_) for id_ in gone]
        ids = list(range(next_id, next_id + remove))
        vectors = [base[row] for row in rows]
        t = time.perf_counter()
        index.add_round(vectors, ids)
        inserting += time.perf_counter() - t
        for id_, row in zip(ids, rows):
            row_of[id_] = row
        live += ids
        next_id += remove
        log(f"  round {r + 1}/{rounds}: remove {removing / ((r + 1) * remove) * 1e6:.0f} µs, "
            f"insert {inserting / ((r + 1) * remove) * 1e6:.0f} µs per vector")
    return row_of, removing, inserting, rounds * remove


def recall(ids, row_of_id, gt):
    rows = np.where(ids >= 0, row_of_id[np.clip(ids, 0, len(row_of_id) - 1)], -1)
    hits = sum(len(set(rows[q]) & set(gt[q, :K])) for q in range(len(rows)))
    return hits / (len(rows) * K)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "minilm-debian"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-work", "churn"))
    parser.add_argument("--out", default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--remove", type=int, default=None)
    parser.add_argument("--passes", type=int, default=15)
    parser.add_argument("--engines", default="edgevec,hnswlib")
    parser.add_argument("--edgevec-index", help="index of the data's rows (cosine, M 16, efConstruction 200)")
    parser.add_argument("--hnswlib-index", help="hnswlib save_index of the data's rows, same parameters")
    parser.add_argument("--hnswlib-threads", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rounds = args.rounds or (3 if args.quick else 10)
    remove = args.remove or (1_000 if args.quick else 5_000)
    name, base, queries, gt = load_data(args)
    n, dim = base.shape
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    log(f"{name}: {n} × {dim}, {len(queries)} queries; {rounds} rounds of {remove} removals and inserts")

    lib, helper = open_library(args.dist, args.work)

    engines = [e for e in args.engines.split(",") if e]
    prebuilt = {"edgevec": args.edgevec_index, "hnswlib": args.hnswlib_index}
    indexes, row_maps, costs, builds = {}, {}, {}, {}
    for engine in engines:
        # The original index of rows 0…n-1 (id = row), serialized: built here or by the search experiment.
        path = prebuilt[engine]
        if path:
            log(f"{engine}: the search experiment's index {path}")
            builds[engine] = None
        else:
            log(f"{engine}: build {n}")
            original = EdgeVecIndex(lib, helper, dim) if engine == "edgevec" else HnswlibIndex(dim, n)
            t = time.perf_counter()
            original.add_batch(base, np.arange(n))
            builds[engine] = time.perf_counter() - t
            path = os.path.join(args.work, f"original.{engine}")
            if engine == "edgevec":
                size = lib.ev_save_size(original.h)
                buffer = ctypes.create_string_buffer(size)
                if lib.ev_save(original.h, buffer, size) != size:
                    raise RuntimeError("ev_save")
                with open(path, "wb") as f:
                    f.write(buffer.raw)
            else:
                original.index.save_index(path)
            original.close()
        if engine == "edgevec":
            with open(path, "rb") as f:
                serialized = f.read()
            open_copy = lambda: EdgeVecIndex(lib, helper, dim, serialized)
        else:
            open_copy = lambda: HnswlibIndex(dim, n, path, threads=args.hnswlib_threads)
        churned, fresh = open_copy(), open_copy()
        if churned.count() != n:
            raise SystemExit(f"{path} holds {churned.count()} vectors, not the {n} rows of {name}")
        log(f"{engine}: churn")
        row_of, removing, inserting, ops = churn(churned, base, rounds, remove, seed=7)
        ids = np.array(sorted(row_of), dtype=np.int64)
        churned_map = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
        churned_map[ids] = [row_of[i] for i in ids.tolist()]
        indexes[engine] = {"churned": churned, "fresh": fresh}
        row_maps[engine] = {"churned": churned_map, "fresh": np.arange(n, dtype=np.int64)}
        costs[engine] = {"remove_us": removing / ops * 1e6, "insert_us": inserting / ops * 1e6,
                         "remove_over_insert": removing / inserting,
                         "insert_calls": "one per vector" if engine == "edgevec"
                         else f"one add_items per round, {args.hnswlib_threads} threads"}

    # Searches: every (engine, state) in turn, order rotating by pass.
    order = [(e, s) for e in engines for s in ("churned", "fresh")]
    qps = {(e, s, ef): [] for e, s in order for ef in EFS}
    recalls = {}
    for ef in EFS:
        for e, s in order:                      # warm-up, and recall (deterministic)
            _, ids = indexes[e][s].search(queries, ef)
            recalls[(e, s, ef)] = recall(ids, row_maps[e][s], gt)
        for p in range(args.passes):
            for e, s in paired.rotation(order, p):
                seconds, _ = indexes[e][s].search(queries, ef)
                qps[(e, s, ef)].append(len(queries) / seconds)

    report = {"dataset": name, "n": n, "dim": dim, "queries": len(queries), "rounds": rounds, "remove": remove,
              "passes": args.passes, "engines": {},
              "command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    for e in engines:
        entry = {"build_seconds": builds[e], "fresh_index": prebuilt[e] or "built here (add_batch), saved and loaded",
                 **costs[e], "ef": {}}
        for ef in EFS:
            ratios = [c / f for c, f in zip(qps[(e, "churned", ef)], qps[(e, "fresh", ef)])]
            entry["ef"][str(ef)] = {
                "recall_churned": recalls[(e, "churned", ef)], "recall_fresh": recalls[(e, "fresh", ef)],
                "recall_difference": recalls[(e, "churned", ef)] - recalls[(e, "fresh", ef)],
                "qps_churned": statistics.median(qps[(e, "churned", ef)]),
                "qps_fresh": statistics.median(qps[(e, "fresh", ef)]),
                "qps_ratio": statistics.median(ratios), "qps_ratio_range": [min(ratios), max(ratios)]}
        churned_memory = indexes[e]["churned"].memory()
        if churned_memory is not None:
            entry["memory_churned"] = churned_memory
            entry["memory_fresh"] = indexes[e]["fresh"].memory()
            entry["memory_ratio"] = churned_memory / entry["memory_fresh"]
        report["engines"][e] = entry
    for e in engines:
        for s in ("churned", "fresh"):
            indexes[e][s].close()

    text = json.dumps(report, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print_summary(report)


def print_summary(report):
    print(f"churn on {report['dataset']} ({report['n']} × {report['dim']}): {report['rounds']} rounds of "
          f"{report['remove']} removals + inserts; {report['passes']} passes per index and ef")
    for e, entry in report["engines"].items():
        print(f"{e}: remove {entry['remove_us']:.0f} µs, insert {entry['insert_us']:.0f} µs per vector "
              f"({entry['insert_calls']}; remove ÷ insert {entry['remove_over_insert']:.2f})"
              + (f"; memory churned ÷ fresh {entry['memory_ratio']:.3f}" if "memory_ratio" in entry else ""))
        for ef, m in entry["ef"].items():
            low, high = m["qps_ratio_range"]
            print(f"  ef {ef}: recall@10 churned {m['recall_churned']:.4f}, fresh {m['recall_fresh']:.4f} "
                  f"(difference {m['recall_difference']:+.4f}); q/s churned ÷ fresh {m['qps_ratio']:.3f} "
                  f"({low:.3f}–{high:.3f})")


if __name__ == "__main__":
    main()
