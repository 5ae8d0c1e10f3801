#!/usr/bin/env bash
# Reads the recall printed by `edgevec search --groundtruth` (or the example)
# from a log and fails when it is below a threshold.
#
#   scripts/check_recall.sh LOG MIN [K]
#
# It takes the first line containing "recall@K" (K defaults to 10) and the
# first number after that word, e.g. "recall@10: 0.9870". Exit status: 0 when
# recall >= MIN, 1 when below, 2 when no recall line is found.
set -euo pipefail
log=$1
min=$2
k=${3:-10}
line=$(grep -m1 -F "recall@$k" "$log" || true)
if [ -z "$line" ]; then
    echo "FAIL: no 'recall@$k' line in $log" >&2
    exit 2
fi
value=$(sed -E "s/.*recall@$k[^0-9.]*([0-9]*\.?[0-9]+).*/\1/" <<<"$line")
if ! [[ $value =~ ^[0-9]*\.?[0-9]+$ ]]; then
    echo "FAIL: cannot read a number after 'recall@$k' in: $line" >&2
    exit 2
fi
if awk -v r="$value" -v m="$min" 'BEGIN { exit !(r + 0 >= m + 0) }'; then
    echo "ok: recall@$k = $value (>= $min)"
else
    echo "FAIL: recall@$k = $value is below $min" >&2
    exit 1
fi
