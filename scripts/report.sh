#!/usr/bin/env bash
# The native part of the main job: build an HNSW index over MiniLM-Debian with
# the release CLI, search it against exact ground truth, and print a report.
#
#   scripts/report.sh EDGEVEC DATA_DIR WORK_DIR OUT_FILE [QUICK]
#
# QUICK=1 uses the 5,000-vector smoke subset. Without the shared data it says
# so and runs on a generated set, writing WORK_DIR/native-generated.txt instead
# of OUT_FILE (those numbers say nothing about MiniLM).
set -euo pipefail
edgevec=$1
data=$2
work=$3
out=$4
quick=${5:-}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"

if [ -n "$quick" ] && [ "$quick" != 0 ]; then prefix=smoke_; set_name="MiniLM-Debian smoke (5,000 x 384, 200 queries)"
else prefix=; set_name="MiniLM-Debian (50,000 x 384, 1,000 queries)"; fi

if [ -f "$data/${prefix}base.fvecs" ]; then
    base=$data/${prefix}base.fvecs
    queries=$data/${prefix}query.fvecs
    groundtruth=$data/${prefix}groundtruth.ivecs
    metric=cosine
else
    echo "no shared data at $data: using a generated data set (20,000 x 64, squared L2) instead"
    set_name="generated (20,000 x 64 Gaussian clusters, 200 queries; NOT MiniLM)"
    "$python" "$here/gen_fvecs.py" --out "$work/report-generated" --base 20000 --queries 200 --dim 64 --k 10
    base=$work/report-generated/base.fvecs
    queries=$work/report-generated/query.fvecs
    groundtruth=$work/report-generated/groundtruth.ivecs
    metric=l2
    out=$work/native-generated.txt   # not MiniLM: keep it out of docs/benchmarks
fi

index=$work/report.edgevec
rm -f "$index"

# Wall time (and peak RSS where GNU time exists) of one command, appended to timings.txt.
timed() {
    local label=$1
    shift
    local start end
    start=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "$label: max RSS %M KB" -o "$work/time.txt" "$@"
    else
        "$@"
        : >"$work/time.txt"
    fi
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v l="$label" 'BEGIN { printf "%s: wall %.2f s\n", l, e - s }' >>"$work/timings.txt"
    cat "$work/time.txt" >>"$work/timings.txt"
}

: >"$work/timings.txt"
timed build "$edgevec" build --input "$base" --output "$index" --metric "$metric" \
    --m 16 --ef-construction 200 --seed 42 --quiet | tee "$work/report-build.txt"
"$edgevec" info --index "$index" | tee "$work/report-info.txt"
timed search "$edgevec" search --index "$index" --queries "$queries" --k 10 --ef 64 \
    --groundtruth "$groundtruth" | tee "$work/report-search.txt"

mkdir -p "$(dirname "$out")"
{
    echo "# EdgeVec native report"
    echo "data:      $set_name"
    echo "files:     $base, $queries, $groundtruth"
    echo "index:     HNSW, metric $metric, m 16, ef-construction 200, seed 42; search k 10, ef 64"
    echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit:    $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$here/.." diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "machine:   $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, $(uname -sm)"
    echo "toolchain: $(swift --version 2>/dev/null | head -1)"
    echo
    echo "## edgevec build"
    cat "$work/report-build.txt"
    echo
    echo "## edgevec info"
    cat "$work/report-info.txt"
    echo
    echo "## edgevec search"
    cat "$work/report-search.txt"
    echo
    echo "## wall time (whole process, including file I/O)"
    cat "$work/timings.txt"
} >"$out"

echo
echo "report written to $out"
cat "$out"
