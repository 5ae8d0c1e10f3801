#!/usr/bin/env python3
"""Native allocation calls per insert, amortised, for the allocation goal.

Runs `edgevec bench --api single --repetitions 1` at two sizes under an
LD_PRELOAD library that counts malloc/calloc/realloc/posix_memalign/
aligned_alloc/memalign and jemalloc's mallocx/rallocx calls
(bench/report/malloc_count.c, compiled here with gcc) and reports
(calls(N2) - calls(N1)) / (N2 - N1): start-up, argument parsing, data
generation and printing cancel out, the inserts' own calls (buffer growth
steps, arena chunks) remain.

Steady state: `edgevec bench --reserve` reserves room for the N vectors
(`reserveCapacity`, outside the measured region) and reports the calls its
inserts made (the counter read around them); the second of two runs is
taken, since a process's first inserts also build Swift runtime metadata.

Cross-check: --interposer ALLOCATOR=DIR reads the p90 malloc counts that
`Benchmarks/alloc-check.sh counts` exported (package-benchmark's
malloc-interposer, benchmarks matrix-{data}-1k-{api}: the insert matrix's
N = 1,000 cells) and adds them as "interposer-allocs" records.

    python3 bench/report/native_allocs.py --cli system=.build-cli/release/edgevec \\
        --cli jemalloc=.build-insert-cli-jemalloc/release/edgevec \\
        --cli arena=.build-insert-cli-arena/release/edgevec --out .build-work/report/allocs.jsonl
"""
import argparse
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def bench_command(cli, n, data, *extra):
    """`edgevec bench`: n single 128-d inserts, JSON lines."""
    return [cli, "bench", "--n", str(n), "--dimensions", "128", "--data", data, "--api", "single", "--json",
            *extra]


def count(cli, library, n, data):
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        env = dict(os.environ, LD_PRELOAD=library, MALLOC_COUNT_OUT=out.name)
        command = bench_command(cli, n, data, "--repetitions", "1")
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        return int(open(out.name).read().strip()), command


def count_reserved(cli, library, n, data):
    """Calls and bytes of n inserts after reserveCapacity(n), from the second run."""
    env = dict(os.environ, LD_PRELOAD=library)
    command = bench_command(cli, n, data, "--repetitions", "2", "--reserve")
    out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    runs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    last = [r for r in runs if r.get("kind") == "run"][-1]
    if "allocation_calls" not in last:
        sys.exit(f"{cli} reported no allocation_calls under LD_PRELOAD={library}")
    return last["allocation_calls"], last["allocation_bytes"], command


def interposer_records(allocator, directory):
    records = []
    for path in sorted(glob.glob(os.path.join(directory, "EdgeVecBenchmarks.matrix-*.p90.json"))):
        name = os.path.basename(path)[len("EdgeVecBenchmarks."):-len(".p90.json")]
        _, data, size, api = name.split("-")
        n = {"1k": 1000}[size]
        with open(path) as f:
            calls = json.load(f)["mallocCountTotal"]
        records.append({"experiment": "interposer-allocs", "target": "native-swift", "allocator": allocator,
                        "api": api, "data": data, "n": n, "dim": 128, "calls": calls, "allocs_per_insert": calls / n,
                        "method": "package-benchmark malloc-interposer (mallocCountTotal, p90 of 5 iterations), "
                                  f"benchmark {name}",
                        "command": f"Benchmarks/alloc-check.sh counts SCRATCH OUT"
                                   f"{'' if allocator == 'system' else ' BumpArena'}"})
        print(f"{allocator:<8} {data:<8} {api:<9} interposer: {calls} calls in {n} inserts")
    if not records:
        sys.exit(f"no EdgeVecBenchmarks.matrix-*.p90.json in {directory}")
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", action="append", default=[], metavar="ALLOCATOR=PATH")
    parser.add_argument("--out", required=True)
    parser.add_argument("--work", default=tempfile.gettempdir())
    parser.add_argument("--n", default="2000,12000", help="the two sizes N1,N2")
    parser.add_argument("--interposer", action="append", default=[], metavar="ALLOCATOR=DIR",
                        help="p90 files of `Benchmarks/alloc-check.sh counts` for this allocator")
    args = parser.parse_args()
    n1, n2 = (int(x) for x in args.n.split(","))

    os.makedirs(args.work, exist_ok=True)
    library = os.path.join(os.path.abspath(args.work), "malloc_count.so")
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", library, os.path.join(HERE, "malloc_count.c"), "-ldl"],
                   check=True)
    records = []
    for spec in args.cli:
        allocator, path = spec.split("=", 1)
        if not os.access(path, os.X_OK):
            print(f"skipping {allocator}: no {path}", file=sys.stderr)
            continue
        for data in ("uniform", "constant"):
            c1, _ = count(path, library, n1, data)
            c2, command = count(path, library, n2, data)
            per = (c2 - c1) / (n2 - n1)
            reserved_calls, reserved_bytes, reserved_command = count_reserved(path, library, n2, data)
            records.append({"experiment": "native-allocs", "target": "native-swift", "allocator": allocator,
                            "api": "single", "data": data, "n": n2, "n_from": n1, "dim": 128,
                            "calls_at_n_from": c1, "calls_at_n": c2, "allocs_per_insert": per,
                            "method": "LD_PRELOAD call counter, (calls(N2) - calls(N1)) / (N2 - N1)",
                            "command": "LD_PRELOAD=malloc_count.so " + shlex.join(command),
                            "reserved_calls": reserved_calls, "reserved_bytes": reserved_bytes,
                            "allocs_per_insert_reserved": reserved_calls / n2,
                            "reserved_method": "LD_PRELOAD call counter read around the inserts, "
                                               "after reserveCapacity(n), second run of the process",
                            "reserved_command": "LD_PRELOAD=malloc_count.so " + shlex.join(reserved_command)})
            print(f"{allocator:<8} {data:<8} {c1} calls at n={n1}, {c2} at n={n2}: {per:.5f} per insert; "
                  f"after reserveCapacity({n2}): {reserved_calls} calls, {reserved_bytes} bytes in {n2} inserts")
    for spec in args.interposer:
        allocator, directory = spec.split("=", 1)
        records += interposer_records(allocator, directory)
    with open(args.out, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
