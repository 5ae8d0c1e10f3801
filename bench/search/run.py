#!/usr/bin/env python3
"""Search experiment: EdgeVec (C ABI in this process, and wasm in Node) against
hnswlib, faiss (IndexHNSWFlat) and usearch, recall@10 against queries/s,
compared pass by pass (bench/search/paired.py).

Every engine: one thread, M 16, efConstruction 200, k 10. A pass answers every
query of a set once (or a few times over, so that it lasts at least
--min-pass-seconds), one query after another, in one call from this script:
EdgeVec through bench/search/search_pass.c (a C loop over ev_search in
libedgevec.so), EdgeVec wasm through a Node process that loops over
db.search(q, 10, { ef }) (bench/search/wasm_worker.mjs; only its loop is
timed), the peers through their batch search with one thread. No engine pays
an interpreter call per query.

The queries are split: the first half tunes (the recall of each engine over a
fixed ef list picks each engine's ef grid: the efs around its own crossings of
recall 0.90, 0.95 and 0.99), the second half is measured and reported. At
every ef of its grid each engine gets an untimed warm-up pass, then --passes
timed passes in rounds, the engines timing an ef taking turns there, the
order rotating every pass. A pass's q/s curve is interpolated at each target
recall (log q/s linear in recall), and ratios are the median of per-pass
ratios with their range. --tune-passes more passes on the tune half give the same ratios
on the other queries, a cross-check of how much the query sample moves them.

Data sets:
  minilm        $DATA/{,smoke_}base.fvecs etc. (cosine; peers: hnswlib 'cosine',
                faiss METRIC_INNER_PRODUCT on the unit vectors, usearch 'cos')
  synthetic128  deterministic clustered data generated here (numpy), 128-d,
                exact ground truth in float64 (squared L2 everywhere)

    .venv-bench/bin/python bench/search/run.py --edgevec .build-cli/release/edgevec \\
        --dist dist --data ../shared/data/minilm-debian --work .build-work/search \\
        --out .build-work/report/search.jsonl [--quick]

--thread-builds minilm adds 2-thread builds to every build repetition on
MiniLM (`edgevec build --threads 2`, hnswlib add_items(num_threads=2)) for
bench/concurrency/run.py --builds-from WORK/minilm/thread-builds.json (make
report: the threads step builds nothing of its own).

Writes one JSON object per line to --out (replaced): kind "build" per
(dataset, engine, build mode), "curve" per (dataset, engine, ef), "at_recall"
per (dataset, engine, target) and "paired" per (dataset, pair, target).
"""
import os

# Before numpy / faiss load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import ctypes
import gc
import json
import math
import re
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

import paired

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
K = 10
M = 16
EF_CONSTRUCTION = 200
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
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- engines
#
# Every engine answers run(name, ef, repeat, ids): one pass over query set
# `name` (repeated `repeat` times), one query after another on one thread,
# timed as a whole; returns (seconds, ids of the last repetition or None).


class EdgeVecNative:
    """EdgeVec's C ABI (DIST/native/libedgevec.so) in this process. The index
    is the file `edgevec build` wrote; its build time is the CLI's."""
    name = "edgevec-native"

    def __init__(self, binary, dist, ds, work):
        self.binary = binary
        self.dist = dist
        self.ds = ds
        self.work = work
        self.index = os.path.join(work, f"{ds['name']}-{ds['n']}.edgevec")
        self.handle = None

    def build_command(self, output=None, base=None, threads=1):
        return [self.binary, "build", "--input", base or self.ds["base_path"], "--output", output or self.index,
                "--metric", self.ds["metric"], "--m", str(M), "--ef-construction", str(EF_CONSTRUCTION),
                "--seed", "42", "--threads", str(threads), "--quiet"]

    def build(self, output=None, threads=1):
        out, peak = run_with_rusage(self.build_command(output=output, threads=threads) + ["--part-times"])
        match = re.search(r", ([\d.]+) s, ", out)
        memory = re.search(r"index memory (\d+) bytes", out)
        parts = re.search(r"^part seconds: ([\d. ]+)$", out, re.MULTILINE)
        if not match or not memory or not parts:
            raise RuntimeError(f"unexpected edgevec build output: {out}")
        return {"seconds": float(match.group(1)), "peak_rss": peak, "parts": [float(x) for x in parts.group(1).split()],
                "file_bytes": os.path.getsize(output or self.index), "index_memory_bytes": int(memory.group(1))}

    def memory_command(self, index=None, queries=None, k=K):
        return [self.binary, "search", "--index", index or self.index, "--queries", queries or self.ds["query_path"],
                "--k", str(k), "--ef-sweep", "64", "--threads", "1", "--quiet"]

    def search_peak_rss(self):
        """Peak RSS of `edgevec search` over this index and over a 1-vector one
        (what the process needs besides the index): their difference / n is
        the memory a loaded index costs."""
        _, peak = run_with_rusage(self.memory_command())
        one = os.path.join(self.work, f"{self.ds['name']}-one.fvecs")
        write_vecs(one, self.ds["base"][:1])
        index = os.path.join(self.work, f"{self.ds['name']}-one.edgevec")
        run_with_rusage(self.build_command(output=index, base=one))
        _, baseline = run_with_rusage(self.memory_command(index=index, k=1))
        return peak, baseline

    def open(self, sets):
        library = os.path.join(self.dist, "native", "libedgevec.so")
        self.lib = ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
        self.lib.ev_load.restype = ctypes.c_int32
        self.lib.ev_load.argtypes = [ctypes.c_char_p, ctypes.c_int32]
        self.lib.ev_last_error_message.restype = ctypes.c_char_p
        self.helper = ctypes.CDLL(compile_search_pass(self.work, self.dist))
        array = lambda dtype: np.ctypeslib.ndpointer(dtype, flags="C_CONTIGUOUS")
        self.helper.edgevec_search_pass.restype = ctypes.c_int32
        self.helper.edgevec_search_pass.argtypes = [ctypes.c_int32, array(np.float32)] + [ctypes.c_int32] * 5 + [
            array(np.int64), array(np.float32)]
        with open(self.index, "rb") as f:
            data = f.read()
        handle = self.lib.ev_load(data, len(data))
        if handle <= 0:
            raise RuntimeError(f"ev_load({self.index}): {handle} {self.lib.ev_last_error_message()}")
        self.handle = handle
        self.sets = {name: np.ascontiguousarray(q, dtype=np.float32) for name, q in sets.items()}

    def run(self, name, ef, repeat, ids):
        queries = self.sets[name]
        count, dim = queries.shape
        out = np.empty((count, K), dtype=np.int64)
        distances = np.empty((count, K), dtype=np.float32)
        start = time.perf_counter()
        code = self.helper.edgevec_search_pass(self.handle, queries, count, dim, K, ef, repeat, out, distances)
        seconds = time.perf_counter() - start
        if code != 0:
            raise RuntimeError(f"ev_search: {code} {self.lib.ev_last_error_message()}")
        return seconds, (out if ids else None)

    def close(self):
        if self.handle:
            self.lib.ev_free(self.handle)
            self.handle = None


def compile_search_pass(work, dist):
    """bench/search/search_pass.c as WORK/search_pass.so against DIST/native
    (rebuilt when older than its inputs)."""
    source = os.path.join(HERE, "search_pass.c")
    native = os.path.abspath(os.path.join(dist, "native"))
    library = os.path.join(native, "libedgevec.so")
    out = os.path.join(work, "search_pass.so")
    inputs = (source, os.path.join(native, "edgevec.h"), library)
    if not os.path.exists(out) or os.path.getmtime(out) < max(os.path.getmtime(p) for p in inputs):
        subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                        "-I", native, source, "-L", native, "-ledgevec", f"-Wl,-rpath,{native}", "-o", out],
                       check=True)
    return out


class EdgeVecWasm:
    """dist/edgevec.mjs in a Node process that stays alive for the whole
    experiment (bench/search/wasm_worker.mjs), searching the native index file."""
    name = "edgevec-wasm"

    def __init__(self, node, dist, native):
        self.node = node
        self.dist = dist
        self.native = native
        self.process = None

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

    def worker_command(self):
        return [self.node, os.path.join(HERE, "wasm_worker.mjs"), "--dist", self.dist,
                "--index", self.native.index, "--allocator", "dlmalloc"]

    def ask(self, command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"wasm worker ended: {shlex.join(self.worker_command())}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"wasm worker: {answer['error']}")
        return answer

    def open(self, sets):
        self.process = subprocess.Popen(self.worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.info = {}
        for name, queries in sets.items():
            path = os.path.join(self.native.work, f"queries-{name}.fvecs")
            write_vecs(path, queries)
            self.info = self.ask({"op": "queries", "name": name, "path": path})
        # V8 tiers the module up from Liftoff to TurboFan after some thousands of calls.
        self.ask({"op": "warmup", "name": next(iter(sets)), "ef": 128, "searches": 3000})

    def run(self, name, ef, repeat, ids):
        answer = self.ask({"op": "pass", "name": name, "k": K, "ef": ef, "repeat": repeat, "ids": ids})
        out = np.asarray(answer["ids"], dtype=np.int32).reshape(-1, K) if ids else None
        return answer["seconds"], out

    def close(self):
        if self.process:
            try:
                self.ask({"op": "quit"})
            except (RuntimeError, BrokenPipeError, ValueError):
                pass
            self.process.wait(timeout=60)
            self.process = None


class Peer:
    """One library from PyPI, in this process: build (single adds or one
    batch), then passes of one batch call with one thread (the library loops
    over the queries in C++, one after another)."""

    def __init__(self, ds):
        self.ds = ds
        self.index = None

    def open(self, sets):
        self.sets = sets

    def run(self, name, ef, repeat, ids):
        queries = self.sets[name]
        self.set_ef(ef)
        start = time.perf_counter()
        for _ in range(repeat):
            result = self.batch_query(queries)
        seconds = time.perf_counter() - start
        return seconds, (np.asarray(result, dtype=np.int64) if ids else None)

    def close(self):
        pass

    def build(self, mode):
        self.index = None
        gc.collect()
        malloc_trim()
        base = self.ds["base"]
        before = rss_bytes()
        self.index = self.make_index(len(base))
        if mode == "single":
            seconds, parts = timed_parts(len(base), lambda first, rows: self.add_single(base[first:first + rows], first))
        else:
            start = time.perf_counter()
            self.add_batch(base)
            seconds, parts = time.perf_counter() - start, None
        grown = rss_bytes() - before
        return {"seconds": seconds, "rss_growth": grown, "parts": parts}


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

    def add_single(self, base, first=0):
        index = self.index
        ids = np.arange(first, first + len(base))
        for i in range(len(base)):
            index.add_items(base[i:i + 1], ids[i:i + 1], num_threads=1)

    def add_batch(self, base):
        self.index.add_items(base, np.arange(len(base)), num_threads=1)

    def set_ef(self, ef):
        self.index.set_ef(ef)

    def batch_query(self, queries):
        return self.index.knn_query(queries, k=K, num_threads=1)[0]

    def serialized_bytes(self, work):
        # The file stays: the churn experiment (bench/churn/run.py) starts from it instead of building again.
        path = os.path.join(work, f"{self.ds['name']}.hnswlib")
        self.index.save_index(path)
        return os.path.getsize(path)

    call = "hnswlib.Index(space={space}).add_items / knn_query(queries, k=10, num_threads=1), set_ef(ef)"


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

    def add_single(self, base, first=0):
        add = self.index.add          # faiss numbers the vectors in the order added
        for i in range(len(base)):
            add(base[i:i + 1])

    def add_batch(self, base):
        self.index.add(base)

    def set_ef(self, ef):
        self.index.hnsw.efSearch = ef

    def batch_query(self, queries):
        return self.index.search(queries, K)[1]

    def serialized_bytes(self, work):
        return int(self.lib.serialize_index(self.index).size)

    call = ("faiss.IndexHNSWFlat(d, 16, {space}).add / search(queries, 10), hnsw.efSearch = ef, "
            "omp_set_num_threads(1)")


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

    def add_single(self, base, first=0):
        add = self.index.add
        for i in range(len(base)):
            add(first + i, base[i], threads=1)

    def add_batch(self, base):
        self.index.add(np.arange(len(base), dtype=np.uint64), base, threads=1)

    def set_ef(self, ef):
        self.index.expansion_search = ef

    def batch_query(self, queries):
        return self.index.search(queries, K, threads=1).keys

    def serialized_bytes(self, work):
        path = os.path.join(work, f"{self.ds['name']}.usearch")
        self.index.save(path)
        size = os.path.getsize(path)
        os.remove(path)
        return size

    call = ("usearch.index.Index(metric='{space}', dtype='f32', connectivity=16, expansion_add=200).add / "
            "search(queries, 10, threads=1), expansion_search = ef")


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

def run_builds(ds, native, wasm, peers, repetitions, work, batch_builds, thread_builds=False):
    """Build times, alternating: every repetition builds each engine once
    (rotating the order); the goal pair (edgevec, hnswlib, one add per vector)
    gets `repetitions`, the others one (a 50k MiniLM build takes 15-40 s).
    Each peer's single-add index is the one left for the search.
    thread_builds: every repetition also builds with 2 threads, `edgevec build
    --threads 2` (an index file per repetition) and hnswlib's add_items(num_threads=2)
    (the last one saved), mode "threads2": bench/concurrency/run.py's build
    comparison (issue 22), timed here instead of in builds of its own."""
    jobs = [("edgevec-native", "single")]
    for name in peers:
        jobs += ([(name, "batch")] if name in batch_builds else []) + [(name, "single")]
    repeated = {("edgevec-native", "single"), ("hnswlib", "single")}
    if thread_builds:
        jobs += [("edgevec-native", "threads2"), ("hnswlib", "threads2")]
        repeated |= {("edgevec-native", "threads2"), ("hnswlib", "threads2")}
    builds = {job: [] for job in jobs}
    for rep in range(repetitions):
        for engine, mode in paired.build_order(jobs, rep, repeated):
            if (engine, mode) == ("edgevec-native", "threads2"):
                result = native.build(output=thread_index(work, ds, rep), threads=2)
                result["index"] = thread_index(work, ds, rep)
            elif mode == "threads2":
                result = hnswlib_threads_build(ds, work if rep == repetitions - 1 else None)
            elif engine == "edgevec-native":
                result = native.build()
            else:
                result = peers[engine].build(mode)
                if mode == "single":
                    result["serialized_bytes"] = peers[engine].serialized_bytes(work)
            result["repetition"] = rep
            builds[(engine, mode)].append(result)
            log(f"build {engine:<15} {mode:<6} rep {rep + 1}: {result['seconds']:.2f} s")
    # The wasm build once, after the native ones: it compares its index with the native file.
    if wasm:
        result = wasm.build()
        builds[("edgevec-wasm", "single")] = [result]
        log(f"build {'edgevec-wasm':<15} {'single':<6}: {result['seconds']:.2f} s, "
            f"index {'identical to' if result['identical_to_native'] else 'DIFFERENT from'} the native file")
    return builds


def timed_parts(n, add):
    """Calls add(first, rows) for each part of paired.build_parts(n), the parts `edgevec build --part-times`
    times; returns (seconds in all, [seconds of each part])."""
    start = time.perf_counter()
    ends = []
    for first, rows in paired.build_parts(n):
        add(first, rows)
        ends.append(time.perf_counter())
    return (ends[-1] if ends else start) - start, [b - a for a, b in zip([start] + ends, ends)]


def thread_index(work, ds, rep):
    """A 2-thread build's file, in a folder of their own: make report's churn step takes the one
    WORK/NAME-N.edgevec (the 1-thread build) it finds."""
    os.makedirs(os.path.join(work, "threads2"), exist_ok=True)
    return os.path.join(work, "threads2", f"{ds['name']}-{ds['n']}-rep{rep}.edgevec")


def hnswlib_threads_build(ds, save_to):
    """hnswlib's add_items(num_threads=2) in an index of its own (the search's stays), as bench/concurrency/run.py
    builds it; saved as WORK/threads2/NAME.hnswlib when save_to is the work folder."""
    peer = Hnswlib(ds)
    base = ds["base"]
    index = peer.make_index(len(base))
    # One call per part, as `edgevec build --threads 2` batches.
    seconds, parts = timed_parts(len(base), lambda first, rows: index.add_items(
        base[first:first + rows], np.arange(first, first + rows), num_threads=2))
    result = {"seconds": seconds, "parts": parts}
    if save_to:
        os.makedirs(os.path.join(save_to, "threads2"), exist_ok=True)
        result["index"] = os.path.join(save_to, "threads2", f"{ds['name']}.hnswlib")
        index.save_index(result["index"])
    return result


def write_thread_builds(path, ds, builds, native):
    """The 2-thread builds' file for bench/concurrency/run.py --builds-from: per repetition, the seconds of
    edgevec --threads 1 (this experiment's own build), --threads 2 and hnswlib's 2-thread add_items, in the order
    they ran; the index files."""
    record = {"base": os.path.abspath(ds["base_path"]), "n": ds["n"], "metric": ds["metric"],
              "seconds": {"edgevec-1": [r["seconds"] for r in builds[("edgevec-native", "single")]],
                          "edgevec-2": [r["seconds"] for r in builds[("edgevec-native", "threads2")]],
                          "hnswlib-2": [r["seconds"] for r in builds[("hnswlib", "threads2")]]},
              "parts": {"edgevec-1": [r.get("parts") for r in builds[("edgevec-native", "single")]],
                        "edgevec-2": [r.get("parts") for r in builds[("edgevec-native", "threads2")]],
                        "hnswlib-2": [r.get("parts") for r in builds[("hnswlib", "threads2")]]},
              "edgevec_1_index": os.path.abspath(native.index),
              "edgevec_2_indexes": [os.path.abspath(r["index"]) for r in builds[("edgevec-native", "threads2")]],
              "hnswlib_2_index": next(os.path.abspath(r["index"]) for r in builds[("hnswlib", "threads2")]
                                      if "index" in r),
              "command": " ".join(shlex.quote(a) for a in sys.argv)}
    with open(path + ".tmp", "w") as f:
        json.dump(record, f)
    os.replace(path + ".tmp", path)


def tune(engines, gt, log_name):
    """Recall of every engine on the tune queries over paired.TUNE_EFS, each
    sweep stopping one ef after the highest target is reached."""
    recalls = {}
    for name, engine in engines.items():
        recalls[name] = {}
        above = 0
        for ef in paired.TUNE_EFS:
            _, ids = engine.run("tune", ef, 1, True)
            recalls[name][ef] = recall_at_10(ids, gt)
            if recalls[name][ef] >= max(paired.TARGETS):
                above += 1
                if above == 2:
                    break
        log(f"tune {log_name} {name:<15} " + " ".join(f"{ef}:{r:.3f}" for ef, r in recalls[name].items()))
    return recalls


def measure(engines, grids, sets, min_pass_seconds, tune_recalls):
    """For each query set in `sets` ({name: (ground truth, passes)}), first one
    untimed pass per engine at each ef of its grid (`grids`: {engine: efs};
    warm-up, recall, and the repeat count that makes a pass last at least
    min_pass_seconds). Where a set's recall at an engine's top ef is still
    below the highest target, which that engine reached on the tune sweep
    (`tune_recalls`), the next tune efs join its grid (`grids` is updated),
    up to three: the other half of the queries can need a larger ef to
    bracket the target. Then rounds, each sweeping every grid, the engines that
    time an ef taking turns there (the order rotating). A round lasts seconds,
    so the rounds spread over the run and
    the per-pass ratios see the machine's slow phases, which last minutes,
    instead of one moment per ef. A set with fewer passes than the most takes
    its passes in rounds spread evenly over them (3 of 7: rounds 0, 3 and 6),
    so that its ratios see the same stretch of the run as the others'.
    Returns {set: {engine: {ef: {"recall", "repeat", "qps": [per pass]}}}}."""
    names = list(engines)
    out = {query_set: {name: {} for name in engines} for query_set in sets}

    def warm(name, ef):
        for query_set, (gt, _) in sets.items():
            seconds, ids = engines[name].run(query_set, ef, 1, True)
            repeat = max(1, math.ceil(min_pass_seconds / max(seconds, 1e-6)))
            out[query_set][name][ef] = {"recall": recall_at_10(ids, gt), "repeat": repeat, "qps": []}

    top = max(paired.TARGETS)
    for name in names:
        for ef in grids[name]:
            warm(name, ef)
        above = [ef for ef in paired.TUNE_EFS if ef > grids[name][-1]][:3]
        reached = max(tune_recalls[name].values(), default=0) >= top
        while reached and above and min(out[s][name][grids[name][-1]]["recall"] for s in sets) < top:
            grids[name].append(above.pop(0))
            warm(name, grids[name][-1])
            log(f"{name}: ef {grids[name][-1]} added, the other query half's recall still below {top}")
    grid = paired.union_grid(grids)
    rounds = max(passes for _, passes in sets.values())
    schedule = {query_set: paired.spread_rounds(passes, rounds) for query_set, (_, passes) in sets.items()}
    for p in range(rounds):
        for query_set, (gt, _) in sets.items():
            if p not in schedule[query_set]:
                continue
            for i, ef in enumerate(grid):
                for name in paired.rotation([n for n in names if ef in grids[n]], p + i):
                    cell = out[query_set][name][ef]
                    seconds, _ = engines[name].run(query_set, ef, cell["repeat"], False)
                    cell["qps"].append(len(gt) * cell["repeat"] / seconds)
    for query_set in sets:
        for ef in grid:
            log(f"{query_set} ef {ef:>4}: " + ",  ".join(
                f"{n} {out[query_set][n][ef]['recall']:.4f} {statistics.median(out[query_set][n][ef]['qps']):,.0f} q/s"
                for n in names if ef in grids[n]))
    return out


def pass_curves(measured):
    """{engine: {target: [q/s at the target, per pass]}} from measure()'s output."""
    return {name: {t: paired.per_pass_at({ef: cell["recall"] for ef, cell in cells.items()},
                                         {ef: cell["qps"] for ef, cell in cells.items()}, t)
                   for t in paired.TARGETS} for name, cells in measured.items()}


def spread_fields(values):
    s = paired.spread(values)
    return ({"ratio": s["median"], "low": s["low"], "high": s["high"], "q1": s["q1"], "q3": s["q3"],
             "passes": s["count"], "runs": [round(r, 4) for r in values]} if s else {"ratio": None})


def run_dataset(ds, args, engine_names, out_records, build_repetitions):
    load_arrays(ds)
    work = os.path.join(args.work, ds["name"])
    os.makedirs(work, exist_ok=True)
    tune_rows, report_rows = paired.split_queries(ds["nq"])
    log(f"\n== {ds['label']}: {ds['n']} x {ds['dim']}, {ds['nq']} queries (rows {tune_rows.start}-"
        f"{tune_rows.stop - 1} tune the ef grid, rows {report_rows.start}-{report_rows.stop - 1} are reported), "
        f"metric {ds['metric']}")
    me = " ".join(shlex.quote(a) for a in sys.argv)

    native = EdgeVecNative(args.edgevec, args.dist, ds, work)
    wasm = EdgeVecWasm(args.node, args.dist, native) if "edgevec-wasm" in engine_names else None
    peers = {name: PEER_CLASSES[name](ds) for name in PEERS if name in engine_names}
    batch_builds = args.batch_build_peers.split(",") if ds["name"] in args.batch_build_datasets.split(",") else []
    threads_file = os.path.join(work, "thread-builds.json")
    if os.path.exists(threads_file):
        os.remove(threads_file)            # never another run's
    thread_builds = ds["name"] in args.thread_builds.split(",") and "hnswlib" in peers
    builds = run_builds(ds, native, wasm, peers, build_repetitions, work, batch_builds, thread_builds)
    if thread_builds:
        write_thread_builds(threads_file, ds, builds, native)
        for job in (("edgevec-native", "threads2"), ("hnswlib", "threads2")):
            del builds[job]                # their records are bench/concurrency/run.py's
    search_peak, baseline_peak = native.search_peak_rss()

    sets = {"tune": ds["query"][tune_rows.start:tune_rows.stop],
            "report": ds["query"][report_rows.start:report_rows.stop]}
    gt_tune, gt_report = ds["gt"][tune_rows.start:tune_rows.stop], ds["gt"][report_rows.start:report_rows.stop]
    engines = {"edgevec-native": native}
    if wasm:
        engines["edgevec-wasm"] = wasm
    engines.update(peers)
    try:
        for engine in engines.values():
            engine.open(sets)
        for engine in engines.values():     # pages the index in; JIT and caches warm
            engine.run("tune", 64, 1, False)
        tune_recalls = tune(engines, gt_tune, ds["name"])
        grids = paired.engine_grids(tune_recalls)
        log("ef grids (from the tune queries): " + ",  ".join(f"{n} {g}" for n, g in grids.items()))
        # The tune queries measured too, in rounds spread over the report's: the same comparison on the queries
        # that tuned the grid shows how much the choice of 500 queries moves a ratio at fixed recall (the passes'
        # range covers timing noise only).
        sets = {"report": (gt_report, args.passes)}
        if args.tune_passes:
            sets["tune"] = (gt_tune, args.tune_passes)
        both = measure(engines, grids, sets, args.min_pass_seconds, tune_recalls)
        measured, cross = both["report"], both.get("tune")
    finally:
        for engine in engines.values():
            engine.close()

    common = {"experiment": "search", "dataset": ds["name"], "dataset_label": ds["label"], "n": ds["n"],
              "dim": ds["dim"], "queries": ds["nq"], "tune_queries": [tune_rows.start, tune_rows.stop],
              "report_queries": [report_rows.start, report_rows.stop], "k": K, "m": M,
              "ef_construction": EF_CONSTRUCTION, "metric": ds["metric"], "threads": 1, "quick": bool(args.quick)}
    if "generator" in ds:
        common["generator"] = ds["generator"]
    build_records = build_records_of(ds, builds, common, native, wasm, peers, me, search_peak, baseline_peak,
                                     getattr(wasm, "info", {}))
    out_records.extend(build_records.values())

    for name in engines:
        for ef in grids[name]:
            cell = measured[name][ef]
            s = paired.spread(cell["qps"])
            out_records.append(dict(common, kind="curve", engine=name, ef=ef, recall_at_10=cell["recall"],
                                    recall_tune=tune_recalls[name].get(ef), qps=s["median"], qps_low=s["low"],
                                    qps_high=s["high"], qps_runs=[round(q, 1) for q in cell["qps"]],
                                    passes=len(cell["qps"]), repeat=cell["repeat"]))
    per_pass = pass_curves(measured)
    per_pass_tune = pass_curves(cross) if cross else None
    for name in engines:
        for t in paired.TARGETS:
            s = paired.spread(per_pass[name][t])
            out_records.append(dict(common, kind="at_recall", engine=name, target=t, reached=s is not None,
                                    **({"qps": s["median"], "qps_low": s["low"], "qps_high": s["high"],
                                        "passes": s["count"]} if s else {})))
    pairs = [("edgevec-native", other) for other in engines if other != "edgevec-native"]
    pairs += [("edgevec-wasm", other) for other in peers if wasm]
    for a, b in pairs:
        for t in paired.TARGETS:
            out_records.append(dict(common, kind="paired", measure="qps", a=a, b=b, target=t,
                                    **spread_fields(paired.paired_ratios(per_pass[a][t], per_pass[b][t]))))
            if per_pass_tune:
                out_records.append(dict(common, kind="paired", measure="qps_tune_half", a=a, b=b, target=t,
                                        **spread_fields(paired.paired_ratios(per_pass_tune[a][t],
                                                                             per_pass_tune[b][t]))))
    # Build time of the goal pair, paired part by part within each repetition.
    ours, theirs = builds[("edgevec-native", "single")], builds.get(("hnswlib", "single"), [])
    ratios = paired.part_ratios(ours, theirs)
    if ratios:
        out_records.append(dict(common, kind="paired", measure="build_seconds", a="edgevec-native", b="hnswlib",
                                target=None, repetitions=min(len(ours), len(theirs)),
                                paired_by="part" if len(ratios) > min(len(ours), len(theirs)) else "repetition",
                                **spread_fields(ratios)))
    print_summary(ds, engines, grids, measured, out_records)


def build_records_of(ds, builds, common, native, wasm, peers, me, search_peak, baseline_peak, wasm_info):
    n = ds["n"]
    records = {}
    for (engine, mode), results in builds.items():
        if not results:
            continue
        seconds = statistics.median(r["seconds"] for r in results)
        record = dict(common, kind="build", engine=engine, ef=None, build_mode=mode, build_seconds=seconds,
                      build_runs=[r["seconds"] for r in results], us_per_insert=seconds / n * 1e6)
        if engine == "edgevec-native":
            record["bytes_per_vector"] = results[-1]["file_bytes"] / n
            record["bytes_per_vector_source"] = "index file size / n"
            record["build_peak_rss_bytes"] = statistics.median(r["peak_rss"] or 0 for r in results) or None
            record["memory_bytes_per_vector"] = results[-1]["index_memory_bytes"] / n
            record["memory_source"] = ("memory the index holds after `edgevec build` (`allocatedBytes`: vectors, "
                                       "graph, search scratch) / n")
            record["search_peak_rss_bytes"] = search_peak
            record["baseline_peak_rss_bytes"] = baseline_peak
            record["search_peak_bytes_per_vector"] = ((search_peak - baseline_peak) / n
                                                      if search_peak and baseline_peak else None)
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
            record["load_seconds"] = wasm_info.get("load_seconds")
            # dlmalloc keeps the freed copy of the file's bytes.
            record["load_memory_bytes_per_vector"] = (wasm_info["memory_bytes"] / n
                                                      if wasm_info.get("memory_bytes") else None)
            record["command"] = shlex.join(wasm.build_command())
        else:
            peer = peers[engine]
            if mode == "single":
                record["bytes_per_vector"] = results[-1]["serialized_bytes"] / n
                record["bytes_per_vector_source"] = "serialized index size / n"
            record["memory_bytes_per_vector"] = statistics.median(r["rss_growth"] for r in results) / n
            record["memory_source"] = "growth of the Python process RSS while building / n"
            what = "one add call per vector" if mode == "single" else "one add call with all vectors"
            record["command"] = f"{me}  # {peer.call.format(space=peer.space)}; {what}"
        records[(engine, mode)] = record
    return records


def print_summary(ds, engines, grids, measured, records):
    print(f"\n{ds['label']} ({ds['n']:,} x {ds['dim']}, {ds['metric']}): recall@10 / queries/s on the report "
          f"queries (median of passes, one thread)")
    print(f"{'ef':>5} " + " ".join(f"{e:>22}" for e in engines))
    for ef in paired.union_grid(grids):
        cells = [f"{measured[e][ef]['recall']:>8.4f} {statistics.median(measured[e][ef]['qps']):>13,.0f}"
                 if ef in grids[e] else f"{'':>22}" for e in engines]
        print(f"{ef:>5} " + " ".join(cells))
    print("paired q/s ratios at recall@10 (median of per-pass ratios [range]):")
    for r in records:
        if r.get("kind") == "paired" and r["dataset"] == ds["name"]:
            at = f"recall {r['target']:.2f}" if r["target"] is not None else "build time"
            value = (f"{r['ratio']:.3f} [{r['low']:.3f}-{r['high']:.3f}] over {r['passes']}"
                     if r["ratio"] is not None else "not bracketed by both")
            half = " (tune queries)" if r["measure"] == "qps_tune_half" else ""
            print(f"  {r['a']} / {r['b']} at {at}{half}: {value}")


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
                        help="MiniLM smoke subset, 10k synthetic vectors, 3 passes")
    # 15 passes: a second run's median of 15 falls outside the first run's range of 15 with probability 0.2 % when
    # both draw from one distribution (bench/report/compare_runs.py), against 7 % for 7 and 39 % for 3 passes. Short
    # passes pay for them: the count is what makes a range hold a rerun, not each pass's length.
    parser.add_argument("--passes", type=int, help="timed passes per engine and ef (default 15, --quick 3)")
    parser.add_argument("--tune-passes", type=int,
                        help="timed passes on the tune queries too, a cross-check of the ratios (0 skips; "
                             "default --passes)")
    parser.add_argument("--min-pass-seconds", type=float, default=0.02,
                        help="a pass repeats the report queries until it lasts about this long")
    parser.add_argument("--build-repetitions", type=int, default=3,
                        help="builds of edgevec and hnswlib (the goal pair); other peers build once per mode")
    parser.add_argument("--synthetic-build-repetitions", type=int, default=3,
                        help="--build-repetitions for the synthetic set (a 100k build takes 13-25 s)")
    parser.add_argument("--batch-build-datasets", default="minilm",
                        help="data sets on which peers also build with one add call for all vectors "
                             "(comma-separated; default minilm)")
    parser.add_argument("--batch-build-peers", default="hnswlib",
                        help="the peers that do (default hnswlib: the build goal's reference; usearch's MiniLM "
                             "build takes over a minute)")
    parser.add_argument("--thread-builds", default="",
                        help="data sets (comma-separated) on which every build repetition also builds with 2 threads, "
                             "edgevec and hnswlib, for bench/concurrency/run.py --builds-from WORK/NAME/thread-builds.json "
                             "(make report: minilm)")
    parser.add_argument("--synthetic-n", type=int, help="default 100000, 10000 with --quick")
    parser.add_argument("--synthetic-queries", type=int, default=1000)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--datasets", default="minilm,synthetic128")
    args = parser.parse_args()

    if args.passes is None:
        args.passes = 3 if args.quick else 15
    if args.passes < 1:
        parser.error("--passes must be at least 1")
    if args.tune_passes is None:
        args.tune_passes = args.passes
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
        run_dataset(ds, args, engines, records, reps)
        gc.collect()

    meta = {"experiment": "search", "kind": "meta", "versions": library_versions(),
            "engines": engines, "targets": list(paired.TARGETS), "tune_efs": list(paired.TUNE_EFS),
            "passes": args.passes, "tune_passes": args.tune_passes, "min_pass_seconds": args.min_pass_seconds,
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
