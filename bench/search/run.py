#!/usr/bin/env python3
"""Search experiment: EdgeVec (native CLI and wasm in Node) side by side with
hnswlib, faiss (IndexHNSWFlat) and usearch, recall@10 against queries/s.

Every engine: one thread, M 16, efConstruction 200, k 10, queries issued ONE
AT A TIME and each call timed alone (p50/p99), queries/s = queries / wall time
of the whole loop. For the peers (called from Python) the per-call overhead of
the binding is measured separately (a k=1 query on a 1-vector index) and their
batch throughput (all queries in one call, one thread) is recorded as a second
column. Repetitions alternate the engines (the order rotates every repetition)
so that machine noise hits all of them alike; the records hold medians.

Data sets:
  minilm        $DATA/{,smoke_}base.fvecs etc. (cosine; peers: hnswlib 'cosine',
                faiss METRIC_INNER_PRODUCT on the unit vectors, usearch 'cos')
  synthetic128  deterministic clustered data generated here (numpy), 128-d,
                exact ground truth in float64 (squared L2 everywhere)

    .venv-bench/bin/python bench/search/run.py --edgevec .build-cli/release/edgevec \\
        --dist dist --data ../shared/data/minilm-debian --work .build-work/search \\
        --out .build-work/report/search.jsonl [--quick]

Writes one JSON object per line to --out (replaced): kind "curve" per
(dataset, engine, ef) and kind "build" per (dataset, engine, build mode).
"""
import os

# Before numpy / faiss load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import gc
import json
import re
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
K = 10
M = 16
EF_CONSTRUCTION = 200
FULL_EFS = [10, 12, 14, 16, 18, 20, 24, 28, 32, 48, 64, 96, 128, 192, 256]
QUICK_EFS = [10, 16, 32, 64, 128]
ENGINES = ["edgevec-native", "edgevec-wasm", "hnswlib", "faiss", "usearch"]
PEERS = ["hnswlib", "faiss", "usearch"]


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- files

def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        raise ValueError(f"{path}: empty")
    dim = int(raw[0])
    rows = raw.reshape(-1, dim + 1)
    if not (rows[:, 0] == dim).all():
        raise ValueError(f"{path}: rows of different dimensions")
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def write_vecs(path, matrix):
    matrix = np.ascontiguousarray(matrix)
    n, d = matrix.shape
    out = np.empty((n, d + 1), dtype=np.int32)
    out[:, 0] = d
    out[:, 1:] = matrix.view(np.int32)
    tmp = path + ".tmp"
    out.tofile(tmp)
    os.replace(tmp, path)


# ---------------------------------------------------------------- data sets

def minilm_dataset(data_dir, quick):
    prefix = "smoke_" if quick else ""
    paths = {name: os.path.join(data_dir, f"{prefix}{name}") for name in
             ("base.fvecs", "query.fvecs", "groundtruth.ivecs")}
    missing = [p for p in paths.values() if not os.path.isfile(p)]
    if missing:
        return None, f"MiniLM-Debian files not found ({', '.join(missing)})"
    label = "MiniLM-Debian smoke subset" if quick else "MiniLM-Debian"
    return {"name": "minilm", "label": label, "metric": "cosine",
            "base_path": paths["base.fvecs"], "query_path": paths["query.fvecs"],
            "gt_path": paths["groundtruth.ivecs"]}, None


def synthetic_dataset(work, n, queries, dim=128, clusters=64, intrinsic=24, noise=0.1, seed=2024):
    """Clustered data with a low intrinsic dimension, like embeddings: each
    cluster is a random 24-dimensional subspace around a centre (spread
    decaying from 1 to 0.5 along its axes), plus isotropic noise (sd 0.1). Deterministic (numpy default_rng(seed)); ground truth is
    exact squared L2 in float64, top 100, ties to the lower index."""
    params = {"n": n, "queries": queries, "dim": dim, "clusters": clusters,
              "intrinsic": intrinsic, "noise": noise, "seed": seed, "version": 2}
    folder = os.path.join(work, f"synthetic{dim}-{n}")
    paths = {"base": os.path.join(folder, "base.fvecs"), "query": os.path.join(folder, "query.fvecs"),
             "gt": os.path.join(folder, "groundtruth.ivecs")}
    stamp = os.path.join(folder, "params.json")
    fresh = False
    try:
        with open(stamp) as f:
            fresh = json.load(f) == params and all(os.path.isfile(p) for p in paths.values())
    except (OSError, ValueError):
        pass
    if not fresh:
        log(f"generating synthetic data: {n} + {queries} vectors, {dim}-d, {clusters} clusters")
        os.makedirs(folder, exist_ok=True)
        rng = np.random.default_rng(seed)
        centres = rng.normal(0.0, 1.0, (clusters, dim))
        bases = rng.normal(0.0, 1.0, (clusters, dim, intrinsic)) / np.sqrt(intrinsic)
        scales = np.linspace(1.0, 0.5, intrinsic)          # decaying spread per latent axis

        def draw(count):
            which = rng.integers(0, clusters, count)
            z = rng.normal(0.0, 1.0, (count, intrinsic)) * scales
            x = centres[which] + np.einsum("ndk,nk->nd", bases[which], z)
            x += rng.normal(0.0, noise, (count, dim))
            return x.astype(np.float32)

        base = draw(n)
        query = draw(queries)
        top = min(100, n)
        b64 = base.astype(np.float64)
        norms = (b64 * b64).sum(axis=1)
        gt = np.empty((queries, top), dtype=np.int32)
        for start in range(0, queries, 100):
            q64 = query[start:start + 100].astype(np.float64)
            d = norms[None, :] - 2.0 * q64 @ b64.T + (q64 * q64).sum(axis=1)[:, None]
            part = np.argpartition(d, top - 1, axis=1)[:, :top]
            for row in range(part.shape[0]):
                ids = part[row]
                order = np.lexsort((ids, d[row, ids]))
                gt[start + row] = ids[order]
        write_vecs(paths["base"], base)
        write_vecs(paths["query"], query)
        write_vecs(paths["gt"], gt)
        with open(stamp, "w") as f:
            json.dump(params, f)
    return {"name": "synthetic128", "label": f"synthetic {dim}-d clustered ({n:,} base)", "metric": "l2",
            "base_path": paths["base"], "query_path": paths["query"], "gt_path": paths["gt"],
            "generator": params}


def load_arrays(ds):
    ds["base"] = read_vecs(ds["base_path"], np.float32)
    ds["query"] = read_vecs(ds["query_path"], np.float32)
    ds["gt"] = read_vecs(ds["gt_path"], np.int32)
    ds["n"], ds["dim"] = ds["base"].shape
    ds["nq"] = ds["query"].shape[0]


def recall_at_10(results, gt):
    found = 0
    for row, ids in enumerate(results):
        found += len(set(int(i) for i in ids[:K]) & set(int(i) for i in gt[row, :K]))
    return found / (len(results) * K)


# ---------------------------------------------------------------- processes

def run_with_rusage(command):
    """stdout and peak RSS (bytes, or None) of one child process. The peak
    comes from GNU time: a child forked from this (large) Python process
    inherits its peak RSS through exec, so its own rusage would be wrong."""
    stdout_path = os.path.join(RUN_TMP, "stdout.txt")
    stderr_path = os.path.join(RUN_TMP, "stderr.txt")
    time_path = os.path.join(RUN_TMP, "time.txt")
    wrapped = (["/usr/bin/time", "-f", "%M", "-o", time_path] + command) if os.path.exists("/usr/bin/time") \
        else command
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        code = subprocess.run(wrapped, stdout=out, stderr=err).returncode
    with open(stdout_path) as f:
        stdout = f.read()
    if code != 0:
        with open(stderr_path) as f:
            raise RuntimeError(f"command failed ({code}): {shlex.join(command)}\n{f.read()}")
    peak = None
    if wrapped is not command:
        try:
            with open(time_path) as f:
                peak = int(f.read().split()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    return stdout, peak


def malloc_trim():
    """Return freed heap memory to the system, so that RSS growth measures the next allocation."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- EdgeVec

SEARCH_LINE = re.compile(r"ef (\d+): ([\d.]+) queries/s, p50 ([\d.]+) µs, p99 ([\d.]+) µs, recall@10 ([\d.]+)")


class EdgeVecNative:
    name = "edgevec-native"

    def __init__(self, binary, ds, work):
        self.binary = binary
        self.ds = ds
        self.index = os.path.join(work, f"{ds['name']}-{ds['n']}.edgevec")

    def build_command(self, output=None, base=None):
        return [self.binary, "build", "--input", base or self.ds["base_path"], "--output", output or self.index,
                "--metric", self.ds["metric"], "--m", str(M), "--ef-construction", str(EF_CONSTRUCTION),
                "--seed", "42", "--quiet"]

    def build(self):
        out, peak = run_with_rusage(self.build_command())
        match = re.search(r", ([\d.]+) s, ", out)
        memory = re.search(r"index memory (\d+) bytes", out)
        if not match or not memory:
            raise RuntimeError(f"unexpected edgevec build output: {out}")
        return {"seconds": float(match.group(1)), "peak_rss": peak,
                "file_bytes": os.path.getsize(self.index), "index_memory_bytes": int(memory.group(1))}

    def search_command(self, efs, index=None):
        return [self.binary, "search", "--index", index or self.index, "--queries", self.ds["query_path"],
                "--k", str(K), "--groundtruth", self.ds["gt_path"], "--ef-sweep", ",".join(map(str, efs)),
                "--quiet"]

    def sweep(self, efs):
        out, peak = run_with_rusage(self.search_command(efs))
        rows = {}
        for match in SEARCH_LINE.finditer(out):
            ef = int(match.group(1))
            rows[ef] = {"qps": float(match.group(2)), "p50_us": float(match.group(3)),
                        "p99_us": float(match.group(4)), "recall_at_10": float(match.group(5)),
                        "peak_rss": peak}
        if len(rows) != len(set(max(e, K) for e in efs)):
            raise RuntimeError(f"unexpected edgevec search output: {out}")
        return rows

    def baseline_rss(self, work):
        """Peak RSS of the same search over a 1-vector index: what the process
        needs besides the index (binary, queries, ground truth, results)."""
        one = os.path.join(work, f"{self.ds['name']}-one.fvecs")
        write_vecs(one, self.ds["base"][:1])
        index = os.path.join(work, f"{self.ds['name']}-one.edgevec")
        run_with_rusage(self.build_command(output=index, base=one))
        command = [self.binary, "search", "--index", index, "--queries", self.ds["query_path"], "--k", "1",
                   "--ef-sweep", "10", "--quiet"]
        _, peak = run_with_rusage(command)
        return peak


class EdgeVecWasm:
    name = "edgevec-wasm"

    def __init__(self, node, dist, native):
        self.node = node
        self.dist = dist
        self.native = native

    def search_command(self, efs):
        ds = self.native.ds
        return [self.node, os.path.join(HERE, "wasm_search.mjs"), "--dist", self.dist,
                "--index", self.native.index, "--queries", ds["query_path"], "--groundtruth", ds["gt_path"],
                "--k", str(K), "--efs", ",".join(map(str, efs)), "--allocator", "dlmalloc"]

    def build_command(self):
        ds = self.native.ds
        return [self.node, os.path.join(HERE, "wasm_build.mjs"), "--dist", self.dist, "--base", ds["base_path"],
                "--metric", ds["metric"], "--m", str(M), "--ef-construction", str(EF_CONSTRUCTION),
                "--allocator", "dlmalloc", "--compare", self.native.index]

    def build(self):
        """The native CLI's build in wasm (room reserved, one insert per vector); its
        saved index is compared with the native file, which must exist."""
        out, peak = run_with_rusage(self.build_command())
        result = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
        result["peak_rss"] = peak
        return result

    def sweep(self, efs):
        out, peak = run_with_rusage(self.search_command(efs))
        rows = {}
        for line in out.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                row["peak_rss"] = peak
                rows[row["ef"]] = row
        return rows


# ---------------------------------------------------------------- peers

class Peer:
    """One library: build (single adds or one batch), then per ef one query per
    call and one batch call."""

    def __init__(self, ds):
        self.ds = ds
        self.index = None

    def sweep(self, efs, warmup=100):
        queries = self.ds["query"]
        rows_1 = [queries[i:i + 1] for i in range(len(queries))]
        out = {}
        for round_ in range(-1, len(efs)):
            ef = efs[max(round_, 0)]
            self.set_ef(ef)
            count = min(warmup, len(rows_1)) if round_ < 0 else len(rows_1)
            one = self.one_query_function()
            latencies = np.empty(count, dtype=np.int64)
            results = [None] * count
            clock = time.perf_counter_ns
            start = clock()
            for i in range(count):
                a = clock()
                r = one(rows_1[i])
                b = clock()
                latencies[i] = b - a
                results[i] = r
            seconds = (clock() - start) / 1e9
            if round_ < 0:
                continue
            recall = recall_at_10([np.asarray(r).reshape(-1) for r in results], self.ds["gt"])
            start = time.perf_counter()
            batch = self.batch_query(queries)
            batch_seconds = time.perf_counter() - start
            batch_recall = recall_at_10(np.asarray(batch), self.ds["gt"])
            latencies.sort()
            out[max(ef, K)] = {"qps": count / seconds,
                               "p50_us": nearest_rank(latencies, 0.50) / 1000,
                               "p99_us": nearest_rank(latencies, 0.99) / 1000,
                               "recall_at_10": recall, "qps_batch": count / batch_seconds,
                               "recall_at_10_batch": batch_recall}
        return out

    def call_overhead_us(self, calls=3000):
        """Median µs of a k=1 query on a 1-vector index of the same kind: the
        price of one call through the Python binding."""
        saved = self.index
        self.index = self.make_index(1)
        self.add_batch(self.ds["base"][:1])
        self.set_ef(1)
        one = self.one_query_function(k=1)
        q = self.ds["query"][:1]
        for _ in range(200):
            one(q)
        times = np.empty(calls, dtype=np.int64)
        clock = time.perf_counter_ns
        for i in range(calls):
            a = clock()
            one(q)
            times[i] = clock() - a
        self.index = saved
        return float(np.median(times)) / 1000

    def build(self, mode):
        self.index = None
        gc.collect()
        malloc_trim()
        base = self.ds["base"]
        before = rss_bytes()
        self.index = self.make_index(len(base))
        start = time.perf_counter()
        if mode == "single":
            self.add_single(base)
        else:
            self.add_batch(base)
        seconds = time.perf_counter() - start
        grown = rss_bytes() - before
        return {"seconds": seconds, "rss_growth": grown}


def nearest_rank(sorted_values, q):
    if len(sorted_values) == 0:
        return 0
    rank = int(np.ceil(q * len(sorted_values)))
    return float(sorted_values[min(max(rank, 1), len(sorted_values)) - 1])


class Hnswlib(Peer):
    name = "hnswlib"

    def __init__(self, ds):
        super().__init__(ds)
        import hnswlib
        self.lib = hnswlib
        self.space = "cosine" if ds["metric"] == "cosine" else "l2"

    def make_index(self, capacity):
        index = self.lib.Index(space=self.space, dim=self.ds["dim"])
        index.init_index(max_elements=capacity, M=M, ef_construction=EF_CONSTRUCTION, random_seed=100)
        index.set_num_threads(1)
        return index

    def add_single(self, base):
        index = self.index
        ids = np.arange(len(base))
        for i in range(len(base)):
            index.add_items(base[i:i + 1], ids[i:i + 1], num_threads=1)

    def add_batch(self, base):
        self.index.add_items(base, np.arange(len(base)), num_threads=1)

    def set_ef(self, ef):
        self.index.set_ef(ef)

    def one_query_function(self, k=K):
        knn = self.index.knn_query
        return lambda q: knn(q, k=k, num_threads=1)[0]

    def batch_query(self, queries):
        return self.index.knn_query(queries, k=K, num_threads=1)[0]

    def serialized_bytes(self, work):
        path = os.path.join(work, f"{self.ds['name']}.hnswlib")
        self.index.save_index(path)
        size = os.path.getsize(path)
        os.remove(path)
        return size

    call = "hnswlib.Index(space={space}).add_items / knn_query(q, k=10, num_threads=1), set_ef(ef)"


class Faiss(Peer):
    name = "faiss"

    def __init__(self, ds):
        super().__init__(ds)
        import faiss
        faiss.omp_set_num_threads(1)
        self.lib = faiss
        self.metric = faiss.METRIC_INNER_PRODUCT if ds["metric"] == "cosine" else faiss.METRIC_L2
        self.space = "METRIC_INNER_PRODUCT" if ds["metric"] == "cosine" else "METRIC_L2"

    def make_index(self, capacity):
        index = self.lib.IndexHNSWFlat(self.ds["dim"], M, self.metric)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        return index

    def add_single(self, base):
        add = self.index.add
        for i in range(len(base)):
            add(base[i:i + 1])

    def add_batch(self, base):
        self.index.add(base)

    def set_ef(self, ef):
        self.index.hnsw.efSearch = ef

    def one_query_function(self, k=K):
        search = self.index.search
        return lambda q: search(q, k)[1]

    def batch_query(self, queries):
        return self.index.search(queries, K)[1]

    def serialized_bytes(self, work):
        return int(self.lib.serialize_index(self.index).size)

    call = "faiss.IndexHNSWFlat(d, 16, {space}).add / search(q, 10), hnsw.efSearch = ef, omp_set_num_threads(1)"


class Usearch(Peer):
    name = "usearch"

    def __init__(self, ds):
        super().__init__(ds)
        from usearch.index import Index
        self.Index = Index
        self.space = "cos" if ds["metric"] == "cosine" else "l2sq"

    def make_index(self, capacity):
        index = self.Index(ndim=self.ds["dim"], metric=self.space, dtype="f32", connectivity=M,
                           expansion_add=EF_CONSTRUCTION, expansion_search=64)
        return index

    def add_single(self, base):
        add = self.index.add
        for i in range(len(base)):
            add(i, base[i], threads=1)

    def add_batch(self, base):
        self.index.add(np.arange(len(base), dtype=np.uint64), base, threads=1)

    def set_ef(self, ef):
        self.index.expansion_search = ef

    def one_query_function(self, k=K):
        search = self.index.search
        return lambda q: search(q[0], k, threads=1).keys

    def batch_query(self, queries):
        return self.index.search(queries, K, threads=1).keys

    def serialized_bytes(self, work):
        path = os.path.join(work, f"{self.ds['name']}.usearch")
        self.index.save(path)
        size = os.path.getsize(path)
        os.remove(path)
        return size

    call = ("usearch.index.Index(metric='{space}', dtype='f32', connectivity=16, expansion_add=200).add / "
            "search(q, 10, threads=1), expansion_search = ef")


PEER_CLASSES = {"hnswlib": Hnswlib, "faiss": Faiss, "usearch": Usearch}


def library_versions():
    from importlib import metadata
    versions = {}
    for name in ("numpy", "hnswlib", "faiss-cpu", "usearch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# ---------------------------------------------------------------- experiment

def run_dataset(ds, args, engines, efs, out_records, build_repetitions):
    load_arrays(ds)
    work = os.path.join(args.work, ds["name"])
    os.makedirs(work, exist_ok=True)
    log(f"\n== {ds['label']}: {ds['n']} x {ds['dim']}, {ds['nq']} queries, metric {ds['metric']}")
    me = " ".join(shlex.quote(a) for a in sys.argv)

    native = EdgeVecNative(args.edgevec, ds, work)
    wasm = EdgeVecWasm(args.node, args.dist, native) if "edgevec-wasm" in engines else None
    peers = {name: PEER_CLASSES[name](ds) for name in PEERS if name in engines}

    # Builds, alternating: every repetition builds each engine once (rotating
    # the order); the goal pair (edgevec, hnswlib) gets --build-repetitions,
    # the others one repetition (a 50k MiniLM build takes 20-40 s).
    jobs = [("edgevec-native", "single")]
    for name in peers:
        jobs += [(name, "single"), (name, "batch")]
    builds = {job: [] for job in jobs}
    for rep in range(build_repetitions):
        todo = [j for j in jobs if rep == 0 or j[0] in ("edgevec-native", "hnswlib")]
        todo = todo[rep % len(todo):] + todo[:rep % len(todo)]
        # the single-add index of each peer must be the one left for the search
        todo.sort(key=lambda j: j[1] == "single")
        for engine, mode in todo:
            if engine == "edgevec-native":
                result = native.build()
            else:
                result = peers[engine].build(mode)
                if mode == "single":
                    result["serialized_bytes"] = peers[engine].serialized_bytes(work)
            builds[(engine, mode)].append(result)
            log(f"build {engine:<15} {mode:<6} rep {rep + 1}: {result['seconds']:.2f} s")
    # The wasm build once, after the native ones: it compares its index with the native file.
    if wasm:
        result = wasm.build()
        builds[("edgevec-wasm", "single")] = [result]
        log(f"build {'edgevec-wasm':<15} {'single':<6}: {result['seconds']:.2f} s, "
            f"index {'identical to' if result['identical_to_native'] else 'DIFFERENT from'} the native file")

    overhead = {}
    for name, peer in peers.items():
        overhead[name] = peer.call_overhead_us()
        log(f"call overhead {name}: {overhead[name]:.2f} µs per k=1 query on a 1-vector index")
    native_baseline = native.baseline_rss(work) if "edgevec-native" in engines else None

    # Searches: every repetition runs each engine's whole ef sweep once, in an order that rotates.
    order = [e for e in ENGINES if e in engines]
    runs = {e: {} for e in order}
    for rep in range(args.repetitions):
        shift = rep % len(order)
        for engine in order[shift:] + order[:shift]:
            if engine == "edgevec-native":
                rows = native.sweep(efs)
            elif engine == "edgevec-wasm":
                rows = wasm.sweep(efs)
            else:
                rows = peers[engine].sweep(efs)
            for ef, row in rows.items():
                runs[engine].setdefault(ef, []).append(row)
        log(f"search repetition {rep + 1}/{args.repetitions} done")

    n = ds["n"]
    common = {"experiment": "search", "dataset": ds["name"], "dataset_label": ds["label"], "n": n,
              "dim": ds["dim"], "queries": ds["nq"], "k": K, "m": M, "ef_construction": EF_CONSTRUCTION,
              "metric": ds["metric"], "threads": 1, "quick": bool(args.quick)}
    if "generator" in ds:
        common["generator"] = ds["generator"]

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    # Build records.
    build_summary = {}
    for (engine, mode), results in builds.items():
        if not results:
            continue
        seconds = med([r["seconds"] for r in results])
        record = dict(common, kind="build", engine=engine, ef=None, build_mode=mode, build_seconds=seconds,
                      build_runs=[r["seconds"] for r in results],
                      us_per_insert=seconds / n * 1e6)
        if engine == "edgevec-native":
            record["bytes_per_vector"] = results[-1]["file_bytes"] / n
            record["bytes_per_vector_source"] = "index file size / n"
            record["build_peak_rss_bytes"] = med([r["peak_rss"] for r in results])
            record["memory_bytes_per_vector"] = results[-1]["index_memory_bytes"] / n
            record["memory_source"] = ("memory the index holds after `edgevec build` (`allocatedBytes`: vectors, "
                                       "graph, search scratch) / n")
            record["reserves_capacity"] = True
            record["command"] = shlex.join(native.build_command())
        elif engine == "edgevec-wasm":
            record["bytes_per_vector"] = results[-1]["saved_bytes"] / n
            record["bytes_per_vector_source"] = "db.save() size / n"
            record["memory_bytes_per_vector"] = results[-1]["memory_growth_bytes"] / n
            record["memory_source"] = "growth of WebAssembly memory while building / n"
            record["identical_to_native"] = results[-1]["identical_to_native"]
            record["reserves_capacity"] = True
            record["node"] = results[-1].get("node")
            record["command"] = shlex.join(wasm.build_command())
        else:
            peer = peers[engine]
            if mode == "single":
                record["bytes_per_vector"] = results[-1]["serialized_bytes"] / n
                record["bytes_per_vector_source"] = "serialized index size / n"
            record["memory_bytes_per_vector"] = med([r["rss_growth"] for r in results]) / n
            record["memory_source"] = "growth of the Python process RSS while building / n"
            what = "one add call per vector" if mode == "single" else "one add call with all vectors"
            record["command"] = f"{me}  # {peer.call.format(space=peer.space)}; {what}"
            record["call_overhead_us"] = overhead[engine]
        build_summary[(engine, mode)] = record
        out_records.append(record)

    # Curve records.
    for engine in order:
        for ef in sorted(runs[engine]):
            samples = runs[engine][ef]
            record = dict(common, kind="curve", engine=engine, ef=ef,
                          recall_at_10=med([s["recall_at_10"] for s in samples]),
                          qps=med([s["qps"] for s in samples]),
                          p50_us=med([s["p50_us"] for s in samples]),
                          p99_us=med([s["p99_us"] for s in samples]),
                          qps_runs=[round(s["qps"], 1) for s in samples],
                          repetitions=len(samples), build_mode="single")
            if engine == "edgevec-native":
                b = build_summary[("edgevec-native", "single")]
                record.update(build_seconds=b["build_seconds"], bytes_per_vector=b["bytes_per_vector"],
                              search_peak_rss_bytes=med([s["peak_rss"] for s in samples]),
                              baseline_peak_rss_bytes=native_baseline,
                              memory_bytes_per_vector=b["memory_bytes_per_vector"], memory_source=b["memory_source"])
                # A peak while loading: the file's bytes and the index are both in memory.
                record["search_peak_bytes_per_vector"] = (
                    (record["search_peak_rss_bytes"] - native_baseline) / n
                    if record["search_peak_rss_bytes"] and native_baseline else None)
                record["command"] = shlex.join(native.search_command(efs))
            elif engine == "edgevec-wasm":
                b = build_summary[("edgevec-wasm", "single")]
                record.update(build_seconds=b["build_seconds"], bytes_per_vector=b["bytes_per_vector"],
                              load_seconds=med([s["load_seconds"] for s in samples]),
                              memory_bytes_per_vector=b["memory_bytes_per_vector"], memory_source=b["memory_source"],
                              # dlmalloc keeps the freed copy of the file's bytes.
                              load_memory_bytes_per_vector=samples[0]["memory_bytes"] / n,
                              process_peak_rss_bytes=med([s["peak_rss"] for s in samples]),
                              node=samples[0].get("node"))
                record["command"] = shlex.join(wasm.search_command(efs))
                record["note"] = ("searches the index file the native CLI built, loaded with EdgeVec.loadFile; "
                                  "build_seconds is the wasm build of the same index")
            else:
                b = build_summary[(engine, "single")]
                peer = peers[engine]
                record.update(build_seconds=b["build_seconds"], bytes_per_vector=b["bytes_per_vector"],
                              build_seconds_batch=build_summary[(engine, "batch")]["build_seconds"],
                              memory_bytes_per_vector=b["memory_bytes_per_vector"],
                              memory_source=b["memory_source"],
                              qps_batch=med([s["qps_batch"] for s in samples]),
                              recall_at_10_batch=med([s["recall_at_10_batch"] for s in samples]),
                              call_overhead_us=overhead[engine])
                record["command"] = (f"{me}  # {peer.call.format(space=peer.space)}; one query per call, "
                                     f"then one call with all queries (qps_batch)")
            out_records.append(record)

    print_summary(ds, order, runs, build_summary, overhead)


def print_summary(ds, order, runs, build_summary, overhead):
    print(f"\n{ds['label']} ({ds['n']:,} x {ds['dim']}, {ds['nq']} queries, {ds['metric']}): "
          f"recall@10 / queries/s (median of runs, one query per call)")
    efs = sorted({ef for e in order for ef in runs[e]})
    header = f"{'ef':>5} " + " ".join(f"{e:>22}" for e in order)
    print(header)
    for ef in efs:
        cells = []
        for e in order:
            samples = runs[e].get(ef)
            if not samples:
                cells.append(f"{'-':>22}")
                continue
            r = statistics.median(s["recall_at_10"] for s in samples)
            q = statistics.median(s["qps"] for s in samples)
            cells.append(f"{r:>8.4f} {q:>13,.0f}")
        print(f"{ef:>5} " + " ".join(cells))
    print("build (single thread, median s):  " + ",  ".join(
        f"{e} {m} {r['build_seconds']:.2f}" for (e, m), r in build_summary.items()))
    if overhead:
        print("Python call overhead per query (µs):  " + ",  ".join(f"{e} {v:.2f}" for e, v in overhead.items()))


RUN_TMP = None


def main():
    global RUN_TMP
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgevec", required=True, help="the release edgevec CLI")
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"), help="directory with edgevec.mjs")
    parser.add_argument("--node", default="node")
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "minilm-debian"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-work", "search"))
    parser.add_argument("--out", default=os.path.join(ROOT, ".build-work", "report", "search.jsonl"))
    parser.add_argument("--quick", action="store_true",
                        help="MiniLM smoke subset, 10k synthetic vectors, ef 10,16,32,64,128")
    parser.add_argument("--repetitions", type=int, default=5, help="search sweeps per engine (alternating)")
    parser.add_argument("--build-repetitions", type=int, default=3,
                        help="builds of edgevec and hnswlib (the goal pair); other peers build once per mode")
    parser.add_argument("--synthetic-build-repetitions", type=int, default=1,
                        help="--build-repetitions for the synthetic set (a 100k build takes 30-50 s)")
    parser.add_argument("--synthetic-n", type=int, help="default 100000, 10000 with --quick")
    parser.add_argument("--synthetic-queries", type=int, default=1000)
    parser.add_argument("--efs", help="comma-separated ef values")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--datasets", default="minilm,synthetic128")
    args = parser.parse_args()

    efs = [int(x) for x in args.efs.split(",")] if args.efs else (QUICK_EFS if args.quick else FULL_EFS)
    engines = [e for e in args.engines.split(",") if e]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines {sorted(unknown)}")
    if "edgevec-native" not in engines:
        parser.error("edgevec-native is required (it builds the index the wasm engine loads)")
    if "edgevec-wasm" in engines and not os.path.isfile(os.path.join(args.dist, "edgevec.mjs")):
        log(f"skipping edgevec-wasm: no {args.dist}/edgevec.mjs (run `make wasm`)")
        engines.remove("edgevec-wasm")
    for peer in PEERS:
        if peer in engines:
            try:
                __import__({"hnswlib": "hnswlib", "faiss": "faiss", "usearch": "usearch.index"}[peer])
            except ImportError as error:
                log(f"skipping {peer}: {error}")
                engines.remove(peer)

    os.makedirs(args.work, exist_ok=True)
    RUN_TMP = args.work
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    records = []
    skipped = []
    started = time.time()
    for name in args.datasets.split(","):
        if name == "minilm":
            ds, reason = minilm_dataset(args.data, args.quick)
            if ds is None:
                print(f"skipping MiniLM: {reason}")
                skipped.append({"experiment": "search", "kind": "skipped", "dataset": "minilm", "reason": reason})
                continue
        elif name == "synthetic128":
            n = args.synthetic_n or (10_000 if args.quick else 100_000)
            ds = synthetic_dataset(args.work, n, args.synthetic_queries)
        else:
            parser.error(f"unknown data set {name}")
        reps = args.build_repetitions if name == "minilm" else args.synthetic_build_repetitions
        run_dataset(ds, args, engines, efs, records, reps)
        gc.collect()

    meta = {"experiment": "search", "kind": "meta", "versions": library_versions(),
            "engines": engines, "efs": efs, "repetitions": args.repetitions,
            "build_repetitions": args.build_repetitions,
            "synthetic_build_repetitions": args.synthetic_build_repetitions, "quick": bool(args.quick),
            "seconds": time.time() - started, "command": " ".join(shlex.quote(a) for a in sys.argv),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        for record in [meta] + skipped + records:
            f.write(json.dumps(record) + "\n")
    os.replace(tmp, args.out)
    log(f"\n{len(records)} records -> {args.out} ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
