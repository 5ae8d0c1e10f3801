#!/usr/bin/env python3
"""The insert matrix (issue 4): N sequential 128-d inserts into an empty HNSW index.

    .venv-bench/bin/python bench/insert/run.py [--quick] [--out FILE]     # or: make bench-insert [QUICK=1]

Reproduces the published experiment (1,000 sequential 128-d l2 inserts, M 16,
efConstruction 200, empty index) across

- data: `constant` (every value 0.5: all vectors identical, all distances tie)
  and `uniform` [0, 1) (SplitMix64 from seed 1, top 24 bits; the generator of
  `edgevec bench`), N = 1,000 and 10,000 (--full: also 100,000; --quick: 1,000 only);
- targets and allocators: `native-swift` (`edgevec bench`, one build per
  allocator trait: system = glibc malloc, jemalloc, arena = BumpArena),
  `native-swift-sse` (a control: the system build with EDGEVEC_KERNELS=sse,
  4-lane kernels without FMA like wasm's simd128, x86_64 only),
  `native-c` (the C ABI, bench/insert/native_c_worker.c linked against
  libedgevec.so: dist/native's, system malloc, plus Jemalloc and BumpArena
  builds of the same library), `wasm-node` and `wasm-chromium`
  (dist/edgevec.mjs, allocator dlmalloc = wasi-libc's malloc, or arena);
  peers `hnswlib`, `faiss` (IndexHNSWFlat) and `usearch` from PyPI, one thread;
- API: `single` (one insert call per vector), `batch100` (100 rows per call),
  `batch1000` (1,000 rows per call; one call for N = 1,000); peers `single`
  and `batch` (one call with all N rows).

Every repetition runs every target once per data set, targets in an order
rotated per repetition (and, for the persistent workers, the APIs too), so
machine noise hits all of them alike. Each worker gets one untimed warm-up per
data set (JIT tier-up in V8; the run's smallest N, at most 10,000 rows);
`edgevec bench` runs an untimed warm-up run per API for N <= 10,000, on
constant data of the same N (`--warm-up 1`: it faults in the memory and
instantiates the runtime's metadata as a run on the cell's own data does, in
a tenth of a uniform run's time). Only the
insert calls are timed; each run starts from an empty index. After the timed
repetitions, allocations are counted in one untimed run per cell: the calls
to malloc/posix_memalign/... that the insert calls make (divided by N: allocs
per insert) and the bytes those calls ask for (allocated_bytes, growth steps
and arena chunks), for wasm with the allocation-counter build (`make wasm
ALLOCATION_COUNTER=1`: calls made inside the module), natively under the
LD_PRELOAD counter bench/report/malloc_count.c (jemalloc's mallocx included),
which `edgevec bench` and native_c_worker.c read around their insert calls.
`--count-only` does only that, for a matrix measured earlier.

Output: one JSON object per cell and line in --out (default
.build-work/report/insert.jsonl), and a table on stdout. Builds are made by
`make bench-insert`; a target whose build is missing is skipped with a note.
"""
import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

try:
    import numpy as np
except ImportError:  # run under the benchmark venv, which has numpy
    venv_python = os.path.join(ROOT, ".venv-bench", "bin", "python")
    if os.path.exists(venv_python) and os.path.realpath(sys.executable) != os.path.realpath(venv_python):
        os.execv(venv_python, [venv_python] + sys.argv)
    sys.exit("run.py needs numpy: make bench-insert creates .venv-bench with it")

DIM, M, EF_CONSTRUCTION, SEED, DATA_SEED = 128, 16, 200, 42, 1
OUR_APIS = ["single", "batch100", "batch1000"]
PEER_APIS = ["single", "batch"]
ROWS = {"single": 1, "batch100": 100, "batch1000": 1000}
INTERLEAVE_CHUNK = 100
WARMUP_MAX_N = 10000      # rows of a worker's untimed warm-up per data set, at most
ALL_TARGETS = ["native-swift", "native-swift-sse", "native-c", "wasm-node", "wasm-chromium", "hnswlib", "faiss",
               "usearch"]


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data

def splitmix_uniform(count, seed):
    """`count` floats in [0, 1): SplitMix64 from `seed`, top 24 bits (as Tools/edgevec/BenchCommand.swift)."""
    with np.errstate(over="ignore"):
        state = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15) * np.arange(1, count + 1, dtype=np.uint64)
        z = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def data_file(work, kind, n):
    """Writes (once) and returns the path of N x DIM float32 rows of `kind`."""
    path = os.path.join(work, "data", "%s-%dx%d.f32" % (kind, n, DIM))
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "constant":
            values = np.full(n * DIM, 0.5, dtype=np.float32)
        else:
            values = splitmix_uniform(n * DIM, DATA_SEED)
        values.astype("<f4").tofile(path + ".tmp")
        os.replace(path + ".tmp", path)
    return path


# ---------------------------------------------------------------- targets

class TargetError(Exception):
    pass


class Worker:
    """A persistent process speaking one JSON (or text) command per line."""

    def __init__(self, argv, env=None, text_protocol=False):
        self.argv = argv
        self.text_protocol = text_protocol
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1, env=env, cwd=ROOT)
        self.info = None

    def ready(self):
        if self.info is None:
            self.info = self._read()
            if not self.info.get("ready"):
                raise TargetError("worker did not start: %s" % self.info)
        return self.info

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise TargetError("%s exited (%s): %s" % (os.path.basename(self.argv[-1]), self.proc.returncode,
                                                      self.proc.stderr.read()[-2000:].strip()))
        return json.loads(line)

    def call(self, command):
        self.ready()
        self.proc.stdin.write((command if self.text_protocol else json.dumps(command)) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        if "error" in answer:
            raise TargetError(answer["error"])
        return answer

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n" if self.text_protocol else '{"op":"quit"}\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait()


class Target:
    name = allocator = None
    apis = OUR_APIS
    kernel = "n/a"
    runtime = ""

    @property
    def label(self):
        return "%s:%s" % (self.name, self.allocator)

    # Path of malloc_count.so (bench/report/malloc_count.c) for the native targets' counting runs.
    counter_library = None

    def start(self):
        pass

    def ready(self):
        pass

    def close(self):
        pass

    def group(self, kind, n, path, apis, warmup=False):
        """One timed run per API: {api: {"seconds": ..., ...}}."""
        raise NotImplementedError


class CliTarget(Target):
    """`edgevec bench` (one process per repetition and data set; it runs single, batch100, batch1000 in turn).

    With `kernels="sse"` (target `native-swift-sse`, a control) the same binary runs its 4-lane SSE
    kernels without FMA (EDGEVEC_KERNELS=sse), the SIMD width and operations wasm's simd128 has."""

    def __init__(self, allocator, path, warmup_limit, kernels=None):
        self.allocator, self.path, self.warmup_limit, self.kernels = allocator, path, warmup_limit, kernels
        self.name = "native-swift-" + kernels if kernels else "native-swift"
        self.runtime = "edgevec bench" + (" with EDGEVEC_KERNELS=" + kernels if kernels else "")
        self.env = dict(os.environ)
        self.env.pop("EDGEVEC_KERNELS", None)
        if kernels:
            self.env["EDGEVEC_KERNELS"] = kernels
        self.counts = {}   # (data, n) -> {api: counts}

    def command(self, kind, n, repetitions):
        """`edgevec bench` for `repetitions` timed runs per API, after an untimed warm-up run per API on
        constant data of the same N (--warm-up 1: the memory a run uses faulted in, the runtime's metadata
        instantiated; a tenth of a uniform run's time at N 10,000) up to --cli-warmup-limit."""
        warm_up = ["--warm-up", "1"] if n <= self.warmup_limit else []
        return [self.path, "bench", "--dimensions", str(DIM), "--n", str(n), "--data", kind, "--api", "all",
                "--m", str(M), "--ef-construction", str(EF_CONSTRUCTION), "--seed", str(SEED),
                "--data-seed", str(DATA_SEED), "--repetitions", str(repetitions)] + warm_up + ["--json"]

    def group(self, kind, n, path, apis, warmup=False):
        if warmup:
            return {}
        proc = subprocess.run(self.command(kind, n, 1), capture_output=True, text=True, cwd=ROOT, env=self.env)
        if proc.returncode != 0:
            raise TargetError("edgevec bench failed: %s" % (proc.stderr or proc.stdout)[-2000:].strip())
        out = {}
        for line in proc.stdout.splitlines():
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            if row.get("kind") != "run":
                continue
            expected = {"system": "system", "jemalloc": "jemalloc", "arena": "bump-arena"}[self.allocator]
            if row["allocator"] != expected:
                raise TargetError("%s allocates with %s, expected %s" % (self.path, row["allocator"], expected))
            self.kernel = row.get("instruction_set", self.kernel)
            if self.kernels and self.kernel != self.kernels:
                raise TargetError("EDGEVEC_KERNELS=%s, but %s runs %s kernels" % (self.kernels, self.path, self.kernel))
            extra_bytes = {k: v for k, v in row.items() if k in ("arena_reserved_bytes", "jemalloc_allocated_bytes")}
            out[row["api"]] = {"seconds": row["us_per_vector"] * n / 1e6, "bytes_allocated": row["allocated_bytes"],
                               "bytes_allocated_source": "index.allocatedBytes", **extra_bytes,
                               "peak_bytes": row["peak_rss_bytes"], "peak_source": row["peak_rss_source"]}
        if set(out) != set(OUR_APIS):
            raise TargetError("edgevec bench printed runs for %s" % sorted(out))
        return out

    def count(self, kind, n, path, api):
        """Allocation calls and bytes of the inserts, one untimed run per (data, n) under the
        LD_PRELOAD counter (all three APIs in one process, cached), after the same warm-up as the
        timed runs: the first inserts of a process also instantiate Swift runtime metadata. (A
        constant-data warm-up leaves the same counts as one on the run's own data: 152, 109 and 71
        calls at N 10,000, uniform and constant.)"""
        if (kind, n) not in self.counts:
            env = dict(self.env, LD_PRELOAD=self.counter_library)
            proc = subprocess.run(self.command(kind, n, 1), capture_output=True, text=True, cwd=ROOT, env=env)
            if proc.returncode != 0:
                raise TargetError("edgevec bench failed: %s" % (proc.stderr or proc.stdout)[-2000:].strip())
            rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
            self.counts[(kind, n)] = {r["api"]: {"allocations": r["allocation_calls"],
                                                 "allocation_bytes": r["allocation_bytes"], "frees": None}
                                      for r in rows if r.get("kind") == "run" and "allocation_calls" in r}
        counted = self.counts[(kind, n)].get(api)
        if counted is None:
            raise TargetError("%s reported no allocation counts under %s" % (self.path, self.counter_library))
        return counted


class NativeCTarget(Target):
    name = "native-c"

    def __init__(self, allocator, binary, libdir):
        self.allocator, self.binary, self.libdir = allocator, binary, libdir
        self.counting_worker = None
        self.runtime = "C ABI (%s)" % os.path.relpath(os.path.join(libdir, "libedgevec.so"), ROOT)

    def start(self):
        env = dict(os.environ, LD_LIBRARY_PATH=self.libdir)
        self.worker = Worker([self.binary], env=env, text_protocol=True)

    def ready(self):
        info = self.worker.ready()
        if info["allocator_kind"] != self.allocator:
            raise TargetError("%s allocates with %s, expected %s" % (self.libdir, info["allocator_kind"],
                                                                     self.allocator))
        self.kernel = info["kernel"]

    def group(self, kind, n, path, apis, warmup=False, worker=None):
        return {api: (worker or self.worker).call("run %s %d %d %d %d %d %d" % (path, n, DIM, ROWS[api], M,
                                                                              EF_CONSTRUCTION, SEED))
                for api in apis}

    def count(self, kind, n, path, api):
        """Allocation calls and bytes of the inserts: an untimed run in a second worker under the
        LD_PRELOAD counter, which first inserts 1,000 rows once (the first inserts of a process also
        instantiate Swift runtime metadata)."""
        if self.counting_worker is None:
            env = dict(os.environ, LD_LIBRARY_PATH=self.libdir, LD_PRELOAD=self.counter_library)
            self.counting_worker = Worker([self.binary], env=env, text_protocol=True)
            self.counting_worker.ready()
            self.group(kind, min(n, 1000), path, ["single"], worker=self.counting_worker)
        r = self.group(kind, n, path, [api], worker=self.counting_worker)[api]
        if "allocation_calls" not in r:
            raise TargetError("the C worker reported no allocation counts under %s" % self.counter_library)
        return {"allocations": r["allocation_calls"], "allocation_bytes": r["allocation_bytes"], "frees": None}

    def close(self):
        self.worker.close()
        if self.counting_worker is not None:
            self.counting_worker.close()


class JsTarget(Target):
    """wasm in Node (one process per allocator variant) or in Chromium (one browser for both variants)."""
    kernel = "simd128"

    def __init__(self, name, allocator, worker_factory):
        self.name, self.allocator, self.worker_factory = name, allocator, worker_factory

    def start(self):
        self.worker = self.worker_factory()

    def ready(self):
        info = self.worker.ready()
        if "node" in info:
            self.runtime = "node %s" % info["node"]
        else:
            self.runtime = "chromium %s (headless)" % info.get("chromium")
            if not info.get("crossOriginIsolated"):
                log("note: the Chromium page is not cross-origin isolated: performance.now() has 100 µs steps")

    def command(self, kind, n, path, api, counting=False):
        file = os.path.basename(path) if self.name == "wasm-chromium" else path
        return {"op": "run", "file": file, "n": n, "dim": DIM, "api": api, "allocator": self.allocator,
                "m": M, "ef_construction": EF_CONSTRUCTION, "seed": SEED, "counting": counting}

    def group(self, kind, n, path, apis, warmup=False):
        return {api: self.worker.call(self.command(kind, n, path, api)) for api in apis}

    def count(self, kind, n, path, api):
        return self.worker.call(self.command(kind, n, path, api, counting=True))

    def interleave(self, kind, n, path, chunk):
        command = dict(self.command(kind, n, path, "single"), op="interleave", chunk=chunk)
        return self.worker.call(command)

    def close(self):
        pass   # shared workers are closed by run()


class PeerTarget(Target):
    apis = PEER_APIS
    allocator = "n/a"

    def __init__(self, library, python):
        self.name, self.python = library, python

    def start(self):
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.worker = Worker([self.python, os.path.join(HERE, "peer_worker.py"), self.name], env=env)

    def ready(self):
        info = self.worker.ready()
        self.kernel = info["kernel"]
        self.runtime = "%s %s" % (self.name, info["version"])

    def group(self, kind, n, path, apis, warmup=False):
        return {api: self.worker.call({"op": "run", "file": path, "n": n, "dim": DIM, "api": api, "m": M,
                                       "ef_construction": EF_CONSTRUCTION}) for api in apis}

    def close(self):
        self.worker.close()


# ---------------------------------------------------------------- setup

def wanted(spec, name, allocator):
    return not spec or name in spec or "%s:%s" % (name, allocator) in spec


def compile_c_worker(work, dist):
    """bench/insert/native_c_worker.c against DIST/native (rebuilt when older than its inputs)."""
    source = os.path.join(HERE, "native_c_worker.c")
    header = os.path.join(dist, "native", "edgevec.h")
    library = os.path.join(dist, "native", "libedgevec.so")
    binary = os.path.join(work, "native_c_worker")
    if not (os.path.exists(header) and os.path.exists(library)):
        return None
    newest = max(os.path.getmtime(p) for p in (source, header, library))
    if not os.path.exists(binary) or os.path.getmtime(binary) < newest:
        os.makedirs(work, exist_ok=True)
        subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", os.path.dirname(header),
                        source, "-L", os.path.dirname(library), "-ledgevec", "-o", binary], check=True)
    return binary


def compile_malloc_counter(work):
    """bench/report/malloc_count.c as WORK/malloc_count.so (rebuilt when older than the source), or None
    without gcc."""
    source = os.path.join(ROOT, "bench", "report", "malloc_count.c")
    library = os.path.join(work, "malloc_count.so")
    if not shutil.which("gcc"):
        return None
    if not os.path.exists(library) or os.path.getmtime(library) < os.path.getmtime(source):
        os.makedirs(work, exist_ok=True)
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", library, source, "-ldl"], check=True)
    return library


def make_targets(args, skipped):
    targets, shared = [], []
    prefix = args.build_prefix
    for allocator, suffix in (("system", ""), ("jemalloc", "-jemalloc"), ("arena", "-arena")):
        if not wanted(args.targets, "native-swift", allocator):
            continue
        path = args.system_cli if allocator == "system" else os.path.join(
            ROOT, "%s-insert-cli%s" % (prefix, suffix), "release", "edgevec")
        if os.path.exists(path):
            targets.append(CliTarget(allocator, path, args.cli_warmup_limit))
        else:
            skipped.append("native-swift:%s (no %s; make bench-insert builds it)" % (allocator, path))
    # Control for the wasm ÷ native comparison: the system build with 4-lane SSE kernels (x86_64 only).
    if wanted(args.targets, "native-swift-sse", "system") and platform.machine() == "x86_64":
        path = args.system_cli
        if os.path.exists(path):
            targets.append(CliTarget("system", path, args.cli_warmup_limit, kernels="sse"))
        else:
            skipped.append("native-swift-sse:system (no %s; make bench-insert builds it)" % path)

    if any(wanted(args.targets, "native-c", a) for a in ("system", "jemalloc", "arena")):
        binary = compile_c_worker(args.work, args.dist)
        for allocator in ("system", "jemalloc", "arena"):
            if not wanted(args.targets, "native-c", allocator):
                continue
            libdir = (os.path.join(args.dist, "native") if allocator == "system"
                      else os.path.join(args.work, "lib", allocator))
            if binary and os.path.exists(os.path.join(libdir, "libedgevec.so")):
                targets.append(NativeCTarget(allocator, binary, libdir))
            else:
                skipped.append("native-c:%s (no %s/libedgevec.so; make bench-insert builds it)" % (allocator, libdir))

    counting = args.counting_dist if os.path.exists(os.path.join(args.counting_dist, "edgevec.mjs")) else None
    have_dist = os.path.exists(os.path.join(args.dist, "edgevec.mjs"))
    for allocator in ("dlmalloc", "arena"):
        if not wanted(args.targets, "wasm-node", allocator):
            continue
        if not have_dist:
            skipped.append("wasm-node:%s (no %s/edgevec.mjs; run make wasm)" % (allocator, args.dist))
            continue
        argv = ["node", "--expose-gc", os.path.join(HERE, "node_worker.mjs"), args.dist] + ([counting] if counting else [])
        factory = (lambda argv=argv: shared.append(Worker(argv)) or shared[-1])
        targets.append(JsTarget("wasm-node", allocator, factory))

    chromium_allocators = [a for a in ("dlmalloc", "arena") if wanted(args.targets, "wasm-chromium", a)]
    if chromium_allocators:
        if not (have_dist and os.path.exists(args.browser_python) and os.path.exists(args.chromium)):
            skipped.append("wasm-chromium (needs %s/edgevec.mjs, %s and %s; make bench-insert installs them)"
                           % (args.dist, args.browser_python, args.chromium))
        else:
            argv = [args.browser_python, os.path.join(HERE, "chromium_worker.py"), "--dist", args.dist,
                    "--data-dir", os.path.join(args.work, "data"), "--chromium", args.chromium]
            if counting:
                argv += ["--counting-dist", counting]
            cell = []

            def factory():
                if not cell:
                    cell.append(Worker(argv))
                    shared.append(cell[0])
                return cell[0]
            for allocator in chromium_allocators:
                targets.append(JsTarget("wasm-chromium", allocator, factory))

    for library in ("hnswlib", "faiss", "usearch"):
        if not wanted(args.targets, library, "n/a"):
            continue
        if os.path.exists(args.peer_python):
            targets.append(PeerTarget(library, args.peer_python))
        else:
            skipped.append("%s (no %s; make bench-insert creates the venv)" % (library, args.peer_python))
    return targets, shared, counting


# ---------------------------------------------------------------- run

def reproduce_command(args, target, kind, n):
    if isinstance(target, CliTarget):
        env = "EDGEVEC_KERNELS=%s " % target.kernels if target.kernels else ""
        return env + " ".join(shlex.quote(os.path.relpath(a, ROOT) if os.path.isabs(a) else a)
                              for a in target.command(kind, n, repetitions_for(args, n)))
    spec = target.name if target.allocator == "n/a" else target.label
    return ("make bench-insert-build && .venv-bench/bin/python bench/insert/run.py --targets %s --data %s --n %d "
            "--repetitions %d" % (spec, kind, n, repetitions_for(args, n)))


def run(args):
    skipped = []
    targets, shared, counting = make_targets(args, skipped)
    for note in skipped:
        log("skipping %s" % note)
    if not targets:
        sys.exit("nothing to run")
    paths = {(kind, n): data_file(args.work, kind, n) for n in args.n for kind in args.data}
    # One warm-up per data set: constant data takes paths (the selection's copy stop) that a
    # uniform warm-up leaves in V8's baseline tier, and the first timed constant run paid for it.
    # Tier-up needs thousands of inserts, not the run's N: capped, a `--n 100000` run does not
    # spend a repetition's time (about 45 minutes on uniform data) warming up.
    warm_n = min(min(args.n), WARMUP_MAX_N)
    warm_paths = {kind: data_file(args.work, kind, warm_n) for kind in args.data}

    failed = {}
    live = []
    for target in targets:          # start every worker, then wait: their start-ups overlap
        try:
            target.start()
        except Exception as error:
            failed[target.label] = str(error)
    for target in targets:
        if target.label in failed:
            continue
        try:
            target.ready()
            log("%s: %s, kernel %s" % (target.label, target.runtime, target.kernel))
            for kind, path in ({} if args.count_only else warm_paths).items():          # untimed warm-ups
                target.group(kind, warm_n, path, target.apis, warmup=True)
            live.append(target)
        except Exception as error:
            failed[target.label] = str(error)
            log("FAILED %s: %s" % (target.label, error))

    samples = {}   # (label, api, kind, n) -> list of result dicts
    started = time.monotonic()
    for n in args.n:
        repetitions = repetitions_for(args, n)
        for repetition in range(0 if args.count_only else repetitions):
            for d, kind in enumerate(args.data if repetition % 2 == 0 else list(reversed(args.data))):
                shift = (repetition * len(args.data) + d) % len(live) if live else 0
                for target in live[shift:] + live[:shift]:
                    if target.label in failed:
                        continue
                    k = (repetition + d) % len(target.apis)
                    apis = target.apis[k:] + target.apis[:k]
                    try:
                        for api, result in target.group(kind, n, paths[(kind, n)], apis).items():
                            samples.setdefault((target.label, api, kind, n), []).append(result)
                    except Exception as error:
                        failed[target.label] = str(error)
                        log("FAILED %s (n %d, %s): %s" % (target.label, n, kind, error))
            log("n %d: repetition %d/%d done (%.0f s)" % (n, repetition + 1, repetitions,
                                                           time.monotonic() - started))

    # Allocation counts: one untimed run per cell, wasm with the counting build, native under the
    # LD_PRELOAD counter (bench/report/malloc_count.c).
    allocations = {}
    counter = compile_malloc_counter(args.work) if not args.no_counting else None
    if not args.no_counting:
        if counter is None:
            log("no gcc: allocs_per_insert stays null for the native targets")
        for target in live:
            if target.label in failed:
                continue
            if isinstance(target, JsTarget):
                if not counting:
                    continue
            elif isinstance(target, (CliTarget, NativeCTarget)):
                if counter is None:
                    continue
                target.counter_library = counter
            else:
                continue
            for n in args.n:
                for kind in args.data:
                    for api in target.apis:
                        try:
                            allocations[(target.label, api, kind, n)] = target.count(kind, n, paths[(kind, n)], api)
                        except Exception as error:
                            log("allocation count failed for %s %s %s %d: %s" % (target.label, api, kind, n, error))
        log("allocation counts done (%.0f s)" % (time.monotonic() - started))
    if not counting and not args.no_counting:
        log("no allocation-counter build at %s: allocs_per_insert stays null for wasm "
            "(make wasm ALLOCATION_COUNTER=1 DIST=%s)" % (args.counting_dist, args.counting_dist))

    # Single against batch100, interleaved chunk by chunk in one process (wasm only): the
    # cells above run each API alone, and their medians drift more than the 5% the goal
    # asks about.
    interleaved = {}
    if args.interleave_repetitions != 0 and not args.count_only:
        runs = {n: interleave_runs(n, args.interleave_repetitions) for n in args.n}
        for repetition in range(max(runs.values())):
            for n in args.n:
                if repetition >= runs[n]:
                    continue
                for kind in args.data:
                    for target in live:
                        if not isinstance(target, JsTarget) or target.label in failed:
                            continue
                        try:
                            r = target.interleave(kind, n, paths[(kind, n)], INTERLEAVE_CHUNK)
                        except Exception as error:
                            log("interleaved run failed for %s %s %d: %s" % (target.label, kind, n, error))
                            continue
                        interleaved.setdefault((target.label, kind, n), []).append(r)
        log("interleaved single/batch%d runs done (%.0f s)" % (INTERLEAVE_CHUNK, time.monotonic() - started))

    overhead = {}
    if not args.no_overhead and not args.count_only:
        for target in live:
            if target.name == "wasm-node" and target.label not in failed:
                try:
                    overhead[target.allocator] = target.worker.call(
                        {"op": "overhead", "file": data_file(args.work, "uniform", 10000), "n": 10000,
                         "dim": DIM, "allocator": target.allocator})
                except Exception as error:
                    log("overhead measurement failed: %s" % error)

    for target in targets:
        try:
            target.close()
        except Exception:
            pass
    for worker in shared:
        worker.close()

    records = []
    for target in live:
        for n in args.n:
            for kind in args.data:
                for api in target.apis:
                    runs = samples.get((target.label, api, kind, n)) or []
                    counted = allocations.get((target.label, api, kind, n))
                    if not runs and not counted:
                        continue
                    us = [r["seconds"] * 1e6 / n for r in runs]
                    record = {
                        "experiment": "insert", "target": target.name, "allocator": target.allocator, "api": api,
                        "data": kind, "n": n, "dim": DIM, "m": M, "ef_construction": EF_CONSTRUCTION,
                        "repetitions": [round(x, 3) for x in us],
                        "median_us_per_vector": round(statistics.median(us), 3) if us else None,
                        "allocs_per_insert": (round(counted["allocations"] / n, 4) if counted else None),
                        "bytes_allocated": _median_int(runs, "bytes_allocated"),
                        "peak_bytes": _max_int(runs, "peak_bytes"),
                        "kernel": target.kernel,
                        "command": reproduce_command(args, target, kind, n),
                        # Beyond the shared schema: where the numbers come from.
                        "runtime": target.runtime,
                        "peak_source": runs[-1].get("peak_source") if runs else None,
                        "bytes_allocated_source": runs[-1].get("bytes_allocated_source") if runs else None,
                    }
                    if runs and "wasm_memory_bytes" in runs[-1]:
                        record["wasm_memory_bytes"] = _max_int(runs, "wasm_memory_bytes")
                    for key in ("arena_reserved_bytes", "jemalloc_allocated_bytes"):
                        if runs and key in runs[-1]:
                            record[key] = _median_int(runs, key)
                    if counted:
                        # Bytes the counted calls asked for during the N inserts (growth steps, arena chunks).
                        record["allocated_bytes"] = counted.get("allocation_bytes")
                        record["allocations_source"] = ("allocation-counter build" if isinstance(target, JsTarget)
                                                        else "LD_PRELOAD malloc_count.so")
                        if counted.get("frees") is not None:
                            record["frees_per_insert"] = round(counted["frees"] / n, 4)
                    pairs = interleaved.get((target.label, kind, n))
                    if api == "single" and pairs:
                        record["interleaved"] = interleaved_summary(pairs, n)
                    records.append(record)

    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".tmp", "w") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    os.replace(out + ".tmp", out)

    print_table(records, args, time.monotonic() - started)
    for allocator, o in overhead.items():
        print("wasm-node:%s per-call costs (%d single inserts with M %d, efConstruction %d so the insert itself "
              "is cheap; medians of 3): db.insert %.2f µs, raw exports (f32.set + ev_insert) %.2f µs, so the "
              "wrapper adds %.2f µs per call; a bare export call %.3f µs; copying one row into wasm memory %.3f µs"
              % (allocator, o["n"], o["m"], o["ef_construction"], o["wrapper_us"], o["raw_us"],
                 o["wrapper_us"] - o["raw_us"], o["export_call_us"], o["row_copy_us"]))
    for note in skipped:
        print("skipped: %s" % note)
    for label, error in failed.items():
        print("FAILED: %s: %s" % (label, error))
    print("wrote %d cells to %s" % (len(records), os.path.relpath(out, os.getcwd())))
    return 1 if failed else 0


def repetitions_for(args, n):
    """Timed repetitions at N: --repetitions, else 7 with --full, else 5 up to N = 1,000 and 3 above (the
    default report's time budget; each repetition pairs every cell with every other)."""
    if args.repetitions is not None:
        return args.repetitions
    return 7 if args.full else (5 if n <= 1000 else 3)


def interleave_runs(n, requested):
    """Interleaved runs for size n: as requested, or by default (None) enough for
    about 100 chunk pairs in all, at least 3 (N 1,000: 10; N 10,000: 3), and one
    at N >= 100,000, whose single run holds 1,000 pairs."""
    if requested is not None:
        return requested
    return 1 if n >= 100000 else max(3, -(-100 * INTERLEAVE_CHUNK // n))


def interleaved_summary(runs, n):
    """The single cell's interleaved comparison with batch100 (see run())."""
    ratios = [r["single_seconds"] / r["batch_seconds"] for r in runs]
    return {"against": "batch%d" % INTERLEAVE_CHUNK, "chunk": INTERLEAVE_CHUNK, "chunks": runs[0]["chunks"],
            "single_us_per_vector": [round(r["single_seconds"] * 1e6 / n, 3) for r in runs],
            "batch_us_per_vector": [round(r["batch_seconds"] * 1e6 / n, 3) for r in runs],
            "ratios": [round(x, 4) for x in ratios], "ratio": round(statistics.median(ratios), 4)}


def _median_int(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None and r[key] >= 0]
    return int(statistics.median(values)) if values else None


def _max_int(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None and r[key] >= 0]
    return max(values) if values else None


def print_table(records, args, seconds):
    peers = ("hnswlib", "faiss", "usearch")
    by_key = {(r["target"], r["allocator"], r["api"], r["data"], r["n"]): r for r in records}

    def best_peer(api, kind, n):
        values = [r["median_us_per_vector"] for r in records
                  if r["target"] in peers and r["api"] == api and r["data"] == kind and r["n"] == n]
        return min(values) if values else None

    order = {name: i for i, name in enumerate(ALL_TARGETS)}
    records = sorted(records, key=lambda r: (r["n"], r["data"], order[r["target"]], r["allocator"],
                                             (OUR_APIS + PEER_APIS).index(r["api"])))
    print()
    if args.count_only:
        print("allocation counts: dim %d, M %d, efConstruction %d, l2, one untimed run per cell from an empty index"
              % (DIM, M, EF_CONSTRUCTION))
        print("%-16s %-8s %-9s %-8s %7s %10s %12s  %s" % ("target", "alloc", "api", "data", "n", "allocs/in",
                                                        "MiB alloc'd", "counted by"))
        for r in records:
            print("%-16s %-8s %-9s %-8s %7d %10.4f %12.1f  %s" % (
                r["target"], r["allocator"], r["api"], r["data"], r["n"], r["allocs_per_insert"],
                (r.get("allocated_bytes") or 0) / 1048576, r.get("allocations_source")))
        return
    print("insert matrix: dim %d, M %d, efConstruction %d, l2, median of %s repetitions, µs per vector (%s, %s)"
          % (DIM, M, EF_CONSTRUCTION, "/".join(str(repetitions_for(args, n)) for n in args.n),
             platform.node() or "host", time.strftime("%Y-%m-%d %H:%M")))
    print("  ÷peer: against the best peer's single (single rows) or batch (batch rows); ÷native: against "
          "native-swift:system, same API; 1/b1000: single ÷ batch1000 of the same build")
    header = "%-16s %-8s %-9s %-8s %7s %9s %6s %9s %8s %7s %7s %7s  %s" % (
        "target", "alloc", "api", "data", "n", "µs/vec", "range", "allocs/in", "peak MiB", "÷peer", "÷native",
        "1/b1000", "kernel")
    print(header)
    print("-" * len(header))
    previous = None
    for r in records:
        group = (r["n"], r["data"])
        if previous is not None and group != previous:
            print()
        previous = group
        kind, n = r["data"], r["n"]
        peer = best_peer("single" if r["api"] == "single" else "batch", kind, n)
        native = by_key.get(("native-swift", "system", r["api"], kind, n))
        b1000 = by_key.get((r["target"], r["allocator"], "batch1000", kind, n))
        median = r["median_us_per_vector"]
        spread = (max(r["repetitions"]) - min(r["repetitions"])) / median * 100
        print("%-16s %-8s %-9s %-8s %7d %9.1f %5.0f%% %9s %8s %7s %7s %7s  %s" % (
            r["target"], r["allocator"], r["api"], kind, n, median, spread,
            "-" if r["allocs_per_insert"] is None else "%.3f" % r["allocs_per_insert"],
            "-" if r["peak_bytes"] is None else "%.1f" % (r["peak_bytes"] / 1048576),
            "%.2f" % (median / peer) if peer else "-",
            "%.2f" % (median / native["median_us_per_vector"]) if native and r["target"] not in peers else "-",
            "%.2f" % (median / b1000["median_us_per_vector"]) if r["api"] == "single" and b1000 else "",
            r["kernel"]))
    print("(%d cells, %.0f s of measuring; range = (max − min) / median of the repetitions)" % (len(records), seconds))
    for r in records:
        x = r.get("interleaved")
        if x:
            print("%s:%s %s n=%d: single ÷ %s interleaved in %d chunks of %d: %.3f (runs %s)"
                  % (r["target"], r["allocator"], r["data"], r["n"], x["against"], x["chunks"], x["chunk"],
                     x["ratio"], ", ".join("%.3f" % v for v in x["ratios"])))
    # The published numbers this experiment reproduces (1,000 inserts, 128-d, M 16, efConstruction 200).
    mine = {key: by_key.get(key) for key in (("native-swift", "system", "single", "uniform", 1000),
                                             ("wasm-node", "dlmalloc", "single", "uniform", 1000),
                                             ("wasm-node", "dlmalloc", "batch100", "uniform", 1000))}
    if all(mine.values()):
        native, single, batch = (mine[k]["median_us_per_vector"] for k in mine)
        print("published: native 180 µs/insert, wasm single 1,540 µs (8.5× native), wasm batch100 200 µs/vector "
              "(single 7.7× batch); measured (uniform, N 1,000, wasm-node dlmalloc): native %.0f µs, wasm single "
              "%.0f µs (%.2f× native), wasm batch100 %.0f µs (single %.2f× batch100)"
              % (native, single, single / native, batch, single / batch))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 1,000 only, 5 repetitions, both data sets")
    parser.add_argument("--full", action="store_true", help="N = 1,000, 10,000 and 100,000, 7 repetitions")
    parser.add_argument("--out", default=os.path.join(ROOT, ".build-work", "report", "insert.jsonl"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-work", "bench-insert"),
                        help="scratch: data files, C worker, library variants, counting build")
    parser.add_argument("--build-prefix", default=".build",
                        help="prefix of the CLI scratch paths (PREFIX-insert-cli-jemalloc|-arena)")
    parser.add_argument("--system-cli", help="the system-malloc edgevec CLI (default PREFIX-cli/release/edgevec, "
                                              "which `make cli` builds)")
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--counting-dist", help="allocation-counter build (default WORK/wasm-counting)")
    parser.add_argument("--peer-python", default=os.path.join(ROOT, ".venv-bench", "bin", "python"))
    parser.add_argument("--browser-python", default=os.path.join(ROOT, ".venv-browser", "bin", "python"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--n", type=lambda s: [int(x) for x in s.split(",")],
                        help="comma-separated N (default 1000,10000,100000; --quick 1000)")
    parser.add_argument("--data", type=lambda s: s.split(","), default=["constant", "uniform"])
    parser.add_argument("--repetitions", type=int,
                        help="repetitions per N (default: 5 at N <= 1,000 and 3 above; --full 7)")
    parser.add_argument("--targets", type=lambda s: set(s.split(",")) if s else set(), default=set(),
                        help="comma-separated TARGET or TARGET:ALLOCATOR (default: all), e.g. wasm-node:arena,faiss")
    parser.add_argument("--cli-warmup-limit", type=int, default=10000,
                        help="edgevec bench runs an untimed warm-up run per API (constant data, --warm-up 1) up to "
                             "this N (default 10000)")
    parser.add_argument("--no-counting", action="store_true", help="skip the allocation-counter runs")
    parser.add_argument("--count-only", action="store_true",
                        help="only the allocation-counter runs: records with counts and no timings, which "
                             "bench/report/make_report.py pools with timed records of the same cells")
    parser.add_argument("--interleave-repetitions", type=int, default=None,
                        help="wasm single against batch100 interleaved in one process, runs per cell (0 skips; "
                             "default: about 100 chunk pairs per cell, at least 3 runs: N 1,000 10, N 10,000 3, "
                             "N >= 100,000 1)")
    parser.add_argument("--no-overhead", action="store_true", help="skip the JavaScript wrapper overhead check")
    args = parser.parse_args()
    if args.quick and args.full:
        parser.error("--quick and --full exclude each other")
    if args.n is None:
        args.n = [1000] if args.quick else [1000, 10000, 100000] if args.full else [1000, 10000]
    if args.repetitions is not None and args.repetitions < 1:
        parser.error("--repetitions must be at least 1")
    if args.count_only and args.no_counting:
        parser.error("--count-only and --no-counting exclude each other")
    for kind in args.data:
        if kind not in ("constant", "uniform"):
            parser.error("--data: constant and/or uniform, got %r" % kind)
    unknown = {t.split(":")[0] for t in args.targets} - set(ALL_TARGETS)
    if unknown:
        parser.error("--targets: unknown %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(ALL_TARGETS)))
    args.system_cli = os.path.abspath(args.system_cli or os.path.join(ROOT, "%s-cli" % args.build_prefix,
                                                                      "release", "edgevec"))
    args.work = os.path.abspath(args.work)
    args.dist = os.path.abspath(args.dist)
    args.counting_dist = os.path.abspath(args.counting_dist or os.path.join(args.work, "wasm-counting"))
    args.peer_python = os.path.abspath(args.peer_python)
    args.browser_python = os.path.abspath(args.browser_python)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
