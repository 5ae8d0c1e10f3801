#!/usr/bin/env bash
# Runs one named step of a make target, prints its wall time and appends
# "NAME<TAB>SECONDS<TAB>ok|FAILED" to $STEP_TIMINGS (when set).
# Usage: scripts/step.sh NAME COMMAND [ARGS...]
set -uo pipefail
name=$1
shift
printf '\n==> %s\n' "$name"
start=$(date +%s.%N)
"$@"
status=$?
end=$(date +%s.%N)
seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
result=ok
[ "$status" -eq 0 ] || result=FAILED
printf '<== %s: %s (%ss)\n' "$name" "$result" "$seconds"
if [ -n "${STEP_TIMINGS:-}" ]; then
    printf '%s\t%s\t%s\n' "$name" "$seconds" "$result" >>"$STEP_TIMINGS"
fi
exit "$status"
