#!/usr/bin/env bash
# The benchmark report end to end (called by `make report`):
#
#   1. the builds: `make report-build` (CLI, wasm, libedgevec.so, the insert
#      matrix's builds, the venvs);
#   2. the insert matrix: `make bench-insert-run` (bench/insert/run.py) and the
#      native allocation calls per insert (bench/report/native_allocs.py);
#      FULL also the malloc-interposer cross-check (two Benchmarks/ builds);
#   3. the paired search experiment: bench/search/run.py (EdgeVec native and
#      wasm, hnswlib, faiss, usearch; MiniLM-Debian and a synthetic 128-d set);
#   4. the churn experiment: bench/churn/run.py (EdgeVec and hnswlib on
#      MiniLM-Debian, from the search experiment's indexes);
#   5. the filtered-search experiment: bench/filtered/run.py (MiniLM-Debian's
#      five filtered workloads; hnswlib's index from the search experiment);
#   6. threads: bench/concurrency/run.py (parallel build and batch search,
#      EdgeVec and hnswlib on 2 threads; a shorter form than
#      `make bench-concurrency`; by default its builds are timed in step 3's
#      build rotation, bench/search/run.py --thread-builds minilm);
#   7. bench/report/make_report.py: REPORT.md, SVG charts, results.json.
#
#   scripts/report.sh EDGEVEC DIST DATA_DIR WORK_DIR OUT_DIR [quick|default|full]
#
# Before each step it prints a progress line: the step, the time since the
# start, and an estimate of what remains (the typical durations below, scaled
# by how this run compares with them so far).
#
# Environment: BENCH_PYTHON (a python with numpy, matplotlib, hnswlib, faiss,
# usearch; default .venv-bench/bin/python), MAKE (default make), ALLOC_CLIS
# ("system=PATH jemalloc=PATH arena=PATH": edgevec builds whose malloc calls
# per insert bench/report/native_allocs.py counts; missing paths are skipped),
# BENCH_SCRATCH (the Benchmarks/ build folder for the malloc-interposer
# cross-check; default .build-bench), SWIFT.
# quick: MiniLM smoke subset, 10,000 synthetic vectors, N 1,000 insert matrix;
# OUT_DIR should then be outside docs/ (the Makefile passes .build-work/report).
# JSON lines always go to WORK_DIR/report/.
set -euo pipefail
edgevec=$1
dist=$2
data=$3
work=$4
out=$5
mode=${6:-default}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
python=${BENCH_PYTHON:-$root/.venv-bench/bin/python}
make_cmd=${MAKE:-make}
case $mode in
    quick) make_flags=(QUICK=1 FULL=0); search_flags=(--quick) ;;
    full) make_flags=(QUICK=0 FULL=1)
          search_flags=(--passes 31 --min-pass-seconds 0.1 --build-repetitions 5 --synthetic-build-repetitions 5
                        --batch-build-datasets minilm,synthetic128 --batch-build-peers hnswlib,faiss,usearch) ;;
    # One build of the synthetic set per engine: its build ratio is context (REPORT.md does not judge a goal on it).
    default) make_flags=(QUICK=0 FULL=0); search_flags=(--thread-builds minilm --synthetic-build-repetitions 1) ;;
    *) echo "report.sh: mode must be quick, default or full, not $mode" >&2; exit 2 ;;
esac

mkdir -p "$work/report" "$out"
timings=$work/report/report-timings.tsv
: >"$timings"
notes=()
started=$(date +%s.%N)

# Typical seconds per step on the 2-core development machine, from a fresh clone (for the estimate only).
declare -A typical
if [ "$mode" = full ]; then
    typical=([build]=250 [insert]=12000 [allocs]=400 [search]=1500 [churn]=220 [filtered]=400 [threads]=400 [report]=15)
elif [ "$mode" = quick ]; then
    typical=([build]=250 [insert]=60 [allocs]=20 [search]=70 [churn]=20 [filtered]=70 [threads]=60 [report]=5)
else
    typical=([build]=260 [insert]=490 [allocs]=22 [search]=690 [churn]=110 [filtered]=185 [threads]=45 [report]=5)
fi
plan=(build insert allocs search churn filtered threads report)
done_typical=0      # typical seconds of the measuring steps done so far, and what they took here
done_actual=0

step() {   # step KEY NAME COMMAND...: progress line, runs it, records its wall time; never aborts the report
    local key=$1 name=$2 start end status now elapsed remaining=0 k seen=
    shift 2
    for k in "${plan[@]}"; do
        [ "$k" = "$key" ] && seen=1
        [ -n "$seen" ] && remaining=$((remaining + ${typical[$k]}))
    done
    now=$(date +%s.%N)
    # Builds may be cached, so only the measuring steps done so far scale the estimate.
    awk -v s="$started" -v n="$now" -v r="$remaining" -v d="$done_typical" -v a="$done_actual" -v name="$name" \
        -v k="$key" -v i="$(( $(printf '%s\n' "${plan[@]}" | grep -nx "$key" | cut -d: -f1) ))" -v t="${#plan[@]}" \
        'BEGIN { scale = (d > 0 && a > 0) ? a / d : 1;
                 printf "\n==> [%d/%d %s] %s\n    elapsed %d s, about %d min left\n", i, t, k, name, n - s, r * scale / 60 + 0.5 }'
    start=$(date +%s.%N)
    status=0
    "$@" || status=$?
    end=$(date +%s.%N)
    if [ "$key" != build ]; then
        done_typical=$((done_typical + ${typical[$key]}))
        done_actual=$(awk -v a="$done_actual" -v s="$start" -v e="$end" 'BEGIN { printf "%d", a + e - s }')
    fi
    awk -v s="$start" -v e="$end" -v n="$name" -v r="$status" \
        'BEGIN { printf "<== %s: %s (%.1f s)\n", n, (r == 0 ? "ok" : "FAILED, status " r), e - s }'
    printf '%s\t%.1f\t%s\n' "$name" "$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')" "$status" >>"$timings"
    return "$status"
}

# 1. Builds. Nothing can be measured without them.
if ! step build "builds: make report-build" "$make_cmd" --no-print-directory -C "$root" report-build "${make_flags[@]}"; then
    echo "report.sh: the builds failed; nothing measured" >&2
    exit 1
fi

# 2. Insert matrix, then native allocation calls per insert (the allocation goal), when gcc is there.
rm -f "$work/report/insert.jsonl" "$work/report/allocs.jsonl"   # never report a previous run's data as this one's
# bench-insert-run: bench-insert without a second pass over the builds report-build just made.
if ! step insert "insert matrix: make bench-insert-run ${make_flags[*]}" \
        "$make_cmd" --no-print-directory -C "$root" bench-insert-run "${make_flags[@]}"; then
    notes+=("\`make bench-insert\` failed in this run; the insert matrix is missing or incomplete.")
fi
allocations() {
    local alloc_args=() spec allocator trait
    for spec in ${ALLOC_CLIS:-}; do alloc_args+=(--cli "$spec"); done
    # The same cells counted by package-benchmark's malloc-interposer (FULL: two builds of Benchmarks/).
    if [ "$mode" = full ] && [ ${#alloc_args[@]} -gt 0 ]; then
        for allocator in system arena; do
            trait=; [ $allocator = arena ] && trait=BumpArena
            if "$root/Benchmarks/alloc-check.sh" counts "${BENCH_SCRATCH:-$root/.build-bench}" \
                    "$work/report/interposer-$allocator" $trait; then
                alloc_args+=(--interposer "$allocator=$work/report/interposer-$allocator")
            else
                notes+=("The malloc-interposer cross-check ($allocator) failed in this run.")
            fi
        done
    fi
    if [ ${#alloc_args[@]} -gt 0 ] && command -v gcc >/dev/null 2>&1; then
        "$python" "$root/bench/report/native_allocs.py" "${alloc_args[@]}" --out "$work/report/allocs.jsonl" \
            --work "$work/report"
    fi
}
step allocs "native allocation calls per insert: bench/report/native_allocs.py" allocations \
    || notes+=("Counting native allocation calls failed in this run.")

# 3. Search experiment.
if [ ! -f "$data/base.fvecs" ] && [ ! -f "$data/smoke_base.fvecs" ]; then
    echo
    echo "no MiniLM-Debian data at $data: the search experiment runs on the synthetic set only"
    notes+=("No MiniLM-Debian data at \`$data\`: MiniLM was skipped; only the synthetic set was measured.")
fi
rm -f "$work/search/minilm/thread-builds.json"    # the threads step's builds: never a previous run's
search_args=(--edgevec "$edgevec" --dist "$dist" --data "$data" --work "$work/search"
             --out "$work/report/search.jsonl" "${search_flags[@]}")
if ! step search "search experiment: bench/search/run.py ${search_flags[*]}" \
        "$python" "$root/bench/search/run.py" "${search_args[@]}"; then
    notes+=("The search experiment failed in this run; see the make output.")
    rm -f "$work/report/search.jsonl"
fi

# 4. Churn (issue 20), from the search experiment's MiniLM indexes of EdgeVec and hnswlib when it left them.
rm -f "$work/report/churn.json"
churn_args=(--dist "$dist" --data "$data" --work "$work/churn" --out "$work/report/churn.json")
[ "$mode" = quick ] && churn_args+=(--quick)
# The newest MiniLM-N.edgevec: this run's (a QUICK run's smoke-set index may sit beside it; not minilm-one).
prebuilt_edgevec=$(ls -t "$work"/search/minilm/minilm-[0-9]*.edgevec 2>/dev/null | head -1 || true)
[ -n "$prebuilt_edgevec" ] && [ -f "$work/search/minilm/minilm.hnswlib" ] && [ -f "$data/base.fvecs" ] \
    && churn_args+=(--edgevec-index "$prebuilt_edgevec" --hnswlib-index "$work/search/minilm/minilm.hnswlib")
if ! step churn "churn experiment: bench/churn/run.py" "$python" "$root/bench/churn/run.py" "${churn_args[@]}"; then
    notes+=("The churn experiment failed in this run; see the make output.")
    rm -f "$work/report/churn.json"
fi

# 5. Filtered search (issue 21) on MiniLM-Debian's workloads; hnswlib's index from the search experiment when it
# left one (the script builds one if that index is not of the full set). Skipped, and said so, without the data.
rm -f "$work/report/filtered.json"
filtered_args=(--edgevec "$edgevec" --data "$data" --work "$work/filtered" --out "$work/report/filtered.json")
case $mode in
    quick) filtered_args+=(--quick) ;;
    # 15 passes, hnswlib in each on 100 queries (its filter callback takes about 11 ms a query).
    default) filtered_args+=(--passes 15 --hnswlib-queries 100) ;;
    full) filtered_args+=(--passes 31 --hnswlib-queries 200) ;;
esac
[ -f "$work/search/minilm/minilm.hnswlib" ] && filtered_args+=(--hnswlib-index "$work/search/minilm/minilm.hnswlib")
if ! step filtered "filtered search: bench/filtered/run.py" "$python" "$root/bench/filtered/run.py" "${filtered_args[@]}"; then
    notes+=("The filtered-search experiment failed in this run; see the make output.")
    rm -f "$work/report/filtered.json"
fi

# 6. Threads (issue 22): EdgeVec's 2-thread build and batch search against one thread and against hnswlib's.
# hnswlib's one-thread build is left out by default (context only, 20 s a pass); skipped, and said so, without the data.
rm -f "$work/report/concurrency.jsonl"
threads_args=(--edgevec "$edgevec" --dist "$dist" --data "$data" --work "$work/concurrency"
              --out "$work/report/concurrency.jsonl" --queries report)
case $mode in
    quick) threads_args+=(--build-engines edgevec-1,edgevec-2,hnswlib-2 --build-passes 1 --search-passes 2
                          --query-repeats 2) ;;
    # The builds from the search experiment's rotation (--thread-builds minilm); without them (it failed), its own.
    default) threads_args+=(--build-engines edgevec-1,edgevec-2,hnswlib-2 --search-passes 15 --query-repeats 3
                            --builds-from "$work/search/minilm/thread-builds.json") ;;
    full) threads_args+=(--build-passes 5 --search-passes 31) ;;
esac
if ! step threads "threads: bench/concurrency/run.py" "$python" "$root/bench/concurrency/run.py" "${threads_args[@]}"; then
    notes+=("The threads experiment failed in this run; see the make output.")
    rm -f "$work/report/concurrency.jsonl"
fi
[ -f "$work/report/concurrency.jsonl" ] || [ ! -f "$data/base.fvecs" ] \
    || notes+=("The threads experiment wrote no results in this run.")
[ -f "$data/base.fvecs" ] || notes+=("No MiniLM-Debian data at \`$data\`: the threads experiment was skipped.")

# 7. The report; its total wall time runs from the start of this script (the builds included).
report_args=(--in "$work/report" --out "$out" --started "$started")
[ "$mode" = quick ] && report_args+=(--quick)
for note in "${notes[@]}"; do report_args+=(--note "$note"); done
step report "report: bench/report/make_report.py" "$python" "$root/bench/report/make_report.py" "${report_args[@]}"

ended=$(date +%s.%N)
echo
echo "wall time per step:"
awk -F'\t' '{ printf "  %7.1f s  %s%s\n", $2, $1, ($3 == 0 ? "" : "  (FAILED)") }' "$timings"
awk -v s="$started" -v e="$ended" 'BEGIN { printf "  %7.1f s  total\n", e - s }'
echo "report: $out/REPORT.md"
# Fail the target when a measuring step failed, after the report is written.
! awk -F'\t' '$3 != 0 { bad = 1 } END { exit !bad }' "$timings"
