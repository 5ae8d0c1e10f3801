#!/usr/bin/env bash
# The benchmark report of issue 4, end to end (called by `make report`):
#
#   1. the insert matrix: `make bench-insert` (bench/insert/run.py), when the
#      Makefile has that target; otherwise the report says it is missing;
#   2. the search experiment: bench/search/run.py (EdgeVec native and wasm,
#      hnswlib, faiss, usearch; MiniLM-Debian and a synthetic 128-d set);
#   3. bench/report/make_report.py: REPORT.md, SVG charts, results.json.
#
#   scripts/report.sh EDGEVEC DIST DATA_DIR WORK_DIR OUT_DIR [QUICK]
#
# Environment: BENCH_PYTHON (a python with numpy, hnswlib, faiss, usearch;
# default .venv-bench/bin/python), MAKE (to run bench-insert; default make),
# ALLOC_CLIS ("system=PATH jemalloc=PATH arena=PATH": edgevec builds whose malloc calls per
# insert bench/report/native_allocs.py counts; missing paths are skipped),
# BENCH_SCRATCH (the Benchmarks/ build folder for the malloc-interposer
# cross-check of a full run; default .build-bench), SWIFT.
# QUICK=1: MiniLM smoke subset, 10,000 synthetic vectors, fewer ef values, a
# small insert matrix; OUT_DIR should then be outside docs/ (the Makefile
# passes .build-work/report). JSON lines always go to WORK_DIR/report/.
set -euo pipefail
edgevec=$1
dist=$2
data=$3
work=$4
out=$5
quick=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
python=${BENCH_PYTHON:-$root/.venv-bench/bin/python}
make_cmd=${MAKE:-make}
is_quick=
if [ -n "$quick" ] && [ "$quick" != 0 ]; then is_quick=1; fi

mkdir -p "$work/report" "$out"
timings=$work/report/report-timings.tsv
: >"$timings"
notes=()
started=$(date +%s.%N)

step() {   # step NAME COMMAND...: runs it, prints and records its wall time; never aborts the report
    local name=$1 start end status
    shift
    printf '\n==> %s\n' "$name"
    start=$(date +%s.%N)
    status=0
    "$@" || status=$?
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v n="$name" -v r="$status" \
        'BEGIN { printf "<== %s: %s (%.1f s)\n", n, (r == 0 ? "ok" : "FAILED, status " r), e - s }'
    printf '%s\t%.1f\t%s\n' "$name" "$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')" "$status" >>"$timings"
    return "$status"
}

# 1. Insert matrix (helper target; absent in older trees).
rm -f "$work/report/insert.jsonl"   # never report a previous run's matrix as this one's
if grep -qE '^bench-insert[[:space:]]*:' "$root/Makefile"; then
    if ! step "insert matrix: make bench-insert${is_quick:+ QUICK=1}" \
            bash -c "cd '$root' && $make_cmd --no-print-directory bench-insert QUICK='$quick'"; then
        notes+=("\`make bench-insert\` failed in this run; the insert matrix is missing or incomplete.")
    fi
else
    echo
    echo "no bench-insert target in the Makefile: the report has no insert matrix"
    notes+=("The Makefile has no \`bench-insert\` target yet, so this report has no insert matrix.")
fi

# 1b. Native allocation calls per insert (the allocation goal), when gcc and the builds are there.
rm -f "$work/report/allocs.jsonl"
alloc_args=()
for spec in ${ALLOC_CLIS:-}; do alloc_args+=(--cli "$spec"); done
# The same cells counted by package-benchmark's malloc-interposer (full runs: two builds of Benchmarks/).
if [ -z "$is_quick" ] && [ ${#alloc_args[@]} -gt 0 ]; then
    for allocator in system arena; do
        trait=; [ $allocator = arena ] && trait=BumpArena
        if step "malloc-interposer counts ($allocator): Benchmarks/alloc-check.sh counts" \
                "$root/Benchmarks/alloc-check.sh" counts "${BENCH_SCRATCH:-$root/.build-bench}" \
                "$work/report/interposer-$allocator" $trait; then
            alloc_args+=(--interposer "$allocator=$work/report/interposer-$allocator")
        else
            notes+=("The malloc-interposer cross-check ($allocator) failed in this run.")
        fi
    done
fi
if [ ${#alloc_args[@]} -gt 0 ] && command -v gcc >/dev/null 2>&1; then
    step "native allocation calls per insert: bench/report/native_allocs.py" \
        "$python" "$root/bench/report/native_allocs.py" "${alloc_args[@]}" --out "$work/report/allocs.jsonl" \
        --work "$work/report" || notes+=("Counting native allocation calls failed in this run.")
fi

# 2. Search experiment.
if [ ! -f "$data/base.fvecs" ] && [ ! -f "$data/smoke_base.fvecs" ]; then
    echo
    echo "no MiniLM-Debian data at $data: the search experiment runs on the synthetic set only"
    notes+=("No MiniLM-Debian data at \`$data\`: MiniLM was skipped; only the synthetic set was measured.")
fi
search_args=(--edgevec "$edgevec" --dist "$dist" --data "$data" --work "$work/search"
             --out "$work/report/search.jsonl")
[ -n "$is_quick" ] && search_args+=(--quick)
if ! step "search experiment: bench/search/run.py${is_quick:+ --quick}" \
        "$python" "$root/bench/search/run.py" "${search_args[@]}"; then
    notes+=("The search experiment failed in this run; see the make output.")
    rm -f "$work/report/search.jsonl"
fi

# 3. The report.
report_args=(--in "$work/report" --out "$out")
[ -n "$is_quick" ] && report_args+=(--quick)
for note in "${notes[@]}"; do report_args+=(--note "$note"); done
step "report: bench/report/make_report.py" "$python" "$root/bench/report/make_report.py" "${report_args[@]}"

ended=$(date +%s.%N)
echo
echo "wall time per step:"
awk -F'\t' '{ printf "  %7.1f s  %s%s\n", $2, $1, ($3 == 0 ? "" : "  (FAILED)") }' "$timings"
awk -v s="$started" -v e="$ended" 'BEGIN { printf "  %7.1f s  total\n", e - s }'
echo "report: $out/REPORT.md"
# Fail the target when a measuring step failed, after the report is written.
! awk -F'\t' '$3 != 0 { bad = 1 } END { exit !bad }' "$timings"
