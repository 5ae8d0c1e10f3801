#!/usr/bin/env bash
# Runs the libFuzzer targets built by Fuzz/build.sh (see docs/FUZZING.md).
#
#   Fuzz/run.sh selfcheck OUT            the planted-bug builds must find their bug (proves the
#                                        build is coverage- and comparison-guided)
#   Fuzz/run.sh runs OUT                 every target for a fixed number of runs from the seed
#                                        corpus (make test); fails on any finding
#   Fuzz/run.sh smoke OUT                selfcheck, then runs
#   Fuzz/run.sh fuzz OUT SECONDS [T...]  every target (or the named ones) for SECONDS each,
#                                        growing the corpus in OUT/corpus/<target>
#   Fuzz/run.sh seeds OUT                rewrites Fuzz/corpus/<target>/ from the targets' -write_seeds
#                                        (keeps regress-* files there: inputs of past findings,
#                                        and v1-* files: seeds of format 1)
#
# Findings are written to OUT/findings/<target>-crash-<sha1> (or -timeout-, -oom-, -leak-);
# reproduce one with `OUT/bin/<target> FILE`, keep it in Fuzz/findings/.
# Environment: SMOKE_RUNS_LOADER (default 100000), SMOKE_RUNS_ABI (default 5000), SMOKE_RUNS_FILTER (default 200000),
# SELFCHECK_SECONDS (default 150, the most each planted build may take).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:?usage: Fuzz/run.sh selfcheck|smoke|fuzz|seeds OUT [SECONDS] [TARGET...]}"
OUT="${2:-.build-fuzz}"
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
BIN="$OUT/bin"
TARGETS=(loader abi_ops filter)

# A Swift trap must not start swift-backtrace (seen to hang after libFuzzer wrote the
# crash file); allocation failures must come back as NULL (crafted sizes, ev_alloc),
# not abort the process.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

# Per-target libFuzzer options: index files up to 64 KiB; operation sequences up to 1 KiB
# (about 100 calls); filter text up to 4 KiB. RSS limit 2 GiB (it also caps single allocations: a larger malloc is
# reported as a finding); a run over 30 s is reported as a hang.
options() {
    case "$1" in
        loader) echo "-max_len=65536 -rss_limit_mb=2048 -timeout=30" ;;
        abi_ops) echo "-max_len=1024 -rss_limit_mb=2048 -timeout=30" ;;
        filter) echo "-max_len=4096 -rss_limit_mb=2048 -timeout=30" ;;
    esac
}

# run_target NAME LOG libFuzzer-args...: runs one binary; prints the executions; returns
# libFuzzer's status (non-zero on a finding).
run_target() {
    local name=$1 log=$2; shift 2
    mkdir -p "$OUT/findings"
    local status=0 start=$SECONDS
    # shellcheck disable=SC2046
    "$BIN/$name" $(options "${name%-planted}") -print_final_stats=1 \
        -artifact_prefix="$OUT/findings/$name-" "$@" >"$log" 2>&1 || status=$?
    local execs rate
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    printf '  %-16s %10s executions in %4ds (%s/s)%s\n' "$name" "${execs:-?}" $((SECONDS - start)) "${rate:-?}" \
        "$(grep -o 'INFO: Loaded 1 modules *([0-9]* inline 8-bit counters)' "$log" | head -1 | sed 's/INFO: Loaded 1 modules */, /')"
    return $status
}

report_finding() {
    local name=$1 log=$2
    echo "FINDING in $name (log: $log):"
    grep -E 'FUZZ FINDING|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY|Test unit written' "$log" | head -20 || true
    echo "Reproduce: $BIN/$name <the file above>; keep it in Fuzz/findings/ (see docs/FUZZING.md)."
}

# The planted bugs (-D FUZZ_PLANTED_BUG, see the targets) must be found, or the build is
# not the instrumented one we trust. They run at once (two cores: the filter one is quick).
selfcheck_one() {
    local name=$1 limit=$2 dir="$OUT/selfcheck/$1" log
    rm -rf "$dir" "$OUT/findings/$name-planted-"*
    mkdir -p "$dir/corpus" "$dir/seeds"
    if [ "$name" = loader ]; then
        # The planted value is a float an l2 or dot index accepts: start from those files.
        cp "$ROOT"/Fuzz/corpus/loader/*-l2-* "$ROOT"/Fuzz/corpus/loader/*-dot-* "$dir/seeds/"
    else
        cp "$ROOT"/Fuzz/corpus/"$name"/* "$dir/seeds/"
    fi
    log="$dir/log.txt"
    if run_target "$name-planted" "$log" -max_total_time="$limit" "$dir/corpus" "$dir/seeds"; then
        echo "FAIL: $name-planted did not find its planted bug in ${limit}s: the build is not"
        echo "      coverage-guided (or the harness no longer reaches the code); log: $log"
        return 1
    fi
    if ! grep -q 'planted bug reached' "$log"; then
        report_finding "$name-planted" "$log"
        echo "FAIL: $name-planted stopped on something other than its planted bug"
        return 1
    fi
    echo "  ok: $name-planted found its planted bug ($(grep -A1 'SUMMARY: libFuzzer' "$log" | grep -o 'MS: .*' | cut -d';' -f1))"
}

selfcheck() {
    local limit="${SELFCHECK_SECONDS:-150}" name status=0 pids=()
    echo "fuzz self-check: each planted bug must be found within ${limit}s"
    mkdir -p "$OUT/selfcheck"
    for name in "${TARGETS[@]}"; do
        selfcheck_one "$name" "$limit" >"$OUT/selfcheck/$name.out" 2>&1 &
        pids+=($!)
    done
    for i in "${!TARGETS[@]}"; do
        wait "${pids[$i]}" || status=1
        cat "$OUT/selfcheck/${TARGETS[$i]}.out"
    done
    return $status
}

# Fixed runs (deterministic: -seed=1), each build proven instrumented by libFuzzer's
# counters line. The planted-bug self-check is not part of it: how long a planted bug
# takes to find is luck (seen: 30 s to over 160 s), which a test must not depend on.
runs() {
    echo "fuzz smoke: every target from the seed corpus for a fixed number of runs"
    local name runs dir log
    for name in "${TARGETS[@]}"; do
        case "$name" in
            loader) runs="${SMOKE_RUNS_LOADER:-100000}" ;;
            filter) runs="${SMOKE_RUNS_FILTER:-200000}" ;;
            *) runs="${SMOKE_RUNS_ABI:-5000}" ;;
        esac
        dir="$OUT/smoke/$name"
        rm -rf "$dir"
        mkdir -p "$dir"
        log="$OUT/smoke/$name.log"
        # -seed: the same runs every time, so that a finding reproduces.
        if ! run_target "$name" "$log" -runs="$runs" -seed=1 "$dir" "$ROOT/Fuzz/corpus/$name"; then
            report_finding "$name" "$log"
            return 1
        fi
        if ! grep -qE 'INFO: Loaded 1 modules *\([1-9][0-9]* inline 8-bit counters\)' "$log"; then
            echo "FAIL: $name is not coverage-instrumented (no counters line in $log)"
            return 1
        fi
    done
    echo "fuzz smoke: no findings"
}

smoke() {
    selfcheck
    runs
}

fuzz() {
    local seconds="${1:?Fuzz/run.sh fuzz OUT SECONDS [TARGET...]}"; shift
    local names=("$@") name log status=0
    [ ${#names[@]} -gt 0 ] || names=("${TARGETS[@]}")
    echo "fuzzing each target for ${seconds}s (corpus kept in $OUT/corpus/; commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- Modules Allocators Fuzz 2>/dev/null || echo ' with uncommitted changes'))"
    for name in "${names[@]}"; do
        mkdir -p "$OUT/corpus/$name" "$OUT/logs"
        log="$OUT/logs/$name-$(date +%Y%m%d-%H%M%S).log"
        if ! run_target "$name" "$log" -max_total_time="$seconds" "$OUT/corpus/$name" "$ROOT/Fuzz/corpus/$name"; then
            report_finding "$name" "$log"
            status=1
        fi
    done
    return $status
}

seeds() {
    local name
    for name in "${TARGETS[@]}"; do
        # Generated seeds are replaced; regress-* files (inputs of past findings) and
        # v1-* and v2-* files (formats 1 and 2, which -write_seeds no longer writes) stay.
        mkdir -p "$ROOT/Fuzz/corpus/$name"
        find "$ROOT/Fuzz/corpus/$name" -type f ! -name 'regress-*' ! -name 'v1-*' ! -name 'v2-*' -delete
        "$BIN/$name" -write_seeds="$ROOT/Fuzz/corpus/$name" >/dev/null
        echo "Fuzz/corpus/$name: $(ls "$ROOT/Fuzz/corpus/$name" | wc -l) files, $(cat "$ROOT/Fuzz/corpus/$name"/* | wc -c) bytes"
    done
}

case "$MODE" in
    selfcheck) selfcheck ;;
    smoke) smoke ;;
    runs) runs ;;
    fuzz) shift 2; fuzz "$@" ;;
    seeds) seeds ;;
    *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
