#!/usr/bin/env bash
# Allocation check of EdgeVec's native hot paths (package-benchmark).
#
#   Benchmarks/alloc-check.sh check  SCRATCH   # run, compare with Benchmarks/Thresholds; non-zero on any change
#   Benchmarks/alloc-check.sh update SCRATCH   # run, rewrite Benchmarks/Thresholds (then review and commit)
#   Benchmarks/alloc-check.sh counts SCRATCH OUT [TRAIT]
#       # the matrix-* benchmarks only (the insert matrix's N = 1,000 cells), built
#       # with TRAIT (BumpArena, …) in SCRATCH-TRAIT: their p90 malloc counts as
#       # OUT/EdgeVecBenchmarks.matrix-*.p90.json, for the report's cross-check
#
# Only allocation metrics are recorded and compared: mallocCountTotal (malloc
# calls in the measured region) and memoryLeakedBytes (bytes allocated minus
# bytes freed in it). Wall clock is never checked: timings on shared machines
# are too noisy to gate on. Tolerances are in Benchmarks/EdgeVecBenchmarks.swift.
# SCRATCH is the build folder (default Benchmarks/.build); the package builds
# in release mode, the benchmark tool also in debug.
set -euo pipefail

mode=${1:-check}
here=$(cd "$(dirname "$0")" && pwd)
scratch=${2:-$here/.build}
case $scratch in /*) ;; *) scratch=$PWD/$scratch ;; esac
swift=${SWIFT:-swift}
metrics=(--metric mallocCountTotal --metric memoryLeakedBytes)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

cd "$here"
case $mode in
check)
    # A run that dies before comparing (once seen: SIGILL in the benchmark
    # child, not reproduced in ~35 runs) is retried once, loudly; a run that
    # compares and finds different counts is never retried.
    for attempt in 1 2; do
        status=0
        "$swift" package --scratch-path "$scratch" benchmark thresholds check "${metrics[@]}" --no-progress \
            >"$log" 2>&1 || status=$?
        if [ $status -eq 0 ] || grep -q "than the defined thresholds" "$log" || [ $attempt -eq 2 ]; then break; fi
        grep -v '^\[[0-9]*/[0-9]*\]' "$log" || true
        echo "bench-alloc: WARNING: the run failed before comparing (exit $status); retrying once."
    done
    # Drop the build's progress lines; keep what the check says.
    grep -v '^\[[0-9]*/[0-9]*\]' "$log" || true
    if [ $status -ne 0 ]; then
        if grep -q "is BETTER than the defined thresholds" "$log"; then
            echo "bench-alloc: fewer allocations than Benchmarks/Thresholds records: if that is intended," \
                 "run 'make bench-alloc-update' and commit the new thresholds."
        elif grep -q "is WORSE than the defined thresholds" "$log"; then
            echo "bench-alloc: FAILED: more allocations than Benchmarks/Thresholds allows (see the table above)."
        else
            echo "bench-alloc: FAILED (exit $status) before comparing: see the output above."
        fi
        exit 1
    fi
    echo "bench-alloc: allocation counts match Benchmarks/Thresholds."
    ;;
update)
    "$swift" package --scratch-path "$scratch" --allow-writing-to-package-directory \
        benchmark thresholds update "${metrics[@]}" --no-progress >"$log" 2>&1 || { cat "$log"; exit 1; }
    grep -v '^\[[0-9]*/[0-9]*\]' "$log" || true
    # A benchmark that crashed writes no file but the command may still exit 0.
    if grep -q "failed during runtime" "$log"; then echo "bench-alloc-update: a benchmark failed"; exit 1; fi
    "$swift" package --scratch-path "$scratch" benchmark thresholds read --no-progress 2>/dev/null \
        | grep -v '^\[[0-9]*/[0-9]*\]' || true
    ;;
counts)
    out=${3:?usage: $0 counts SCRATCH OUT [TRAIT]}
    trait=${4:-}
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    rm -f "$out"/EdgeVecBenchmarks.matrix-*.p90.json
    "$swift" package ${trait:+--traits "$trait"} --scratch-path "$scratch${trait:+-$trait}" \
        --allow-writing-to-directory "$out" benchmark --filter 'matrix-.*' --format metricP90AbsoluteThresholds \
        --path "$out" --no-progress >"$log" 2>&1 || { cat "$log"; exit 1; }
    grep -v '^\[[0-9]*/[0-9]*\]' "$log" | tail -n 5 || true
    ls "$out"/EdgeVecBenchmarks.matrix-*.p90.json >/dev/null
    ;;
*)
    echo "usage: $0 check|update [SCRATCH] | counts SCRATCH OUT [TRAIT]" >&2
    exit 2
    ;;
esac
