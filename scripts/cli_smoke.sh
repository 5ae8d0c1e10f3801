#!/usr/bin/env bash
# End-to-end check of the `edgevec` CLI: build an index, search it with
# ground truth, require recall@10 >= $MIN_RECALL; info, remove, and a crafted file refused.
#
#   scripts/cli_smoke.sh EDGEVEC DATA_DIR WORK_DIR
#
# Then metadata and filtered search on generated data (scripts/filter_smoke.py): build
# --metadata, info, search --filter/--filters/--json against a brute force, and the
# errors of bad TSV files and bad filters.
#
# Uses DATA_DIR/smoke_{base,query,groundtruth}.fvecs|ivecs (MiniLM, cosine)
# when present; otherwise prints "skipped: no shared data at ..." and runs on
# a small generated set (scripts/gen_fvecs.py, squared L2).
set -euo pipefail
edgevec=$1
data=$2
work=$3
min_recall=${MIN_RECALL:-0.95}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"

if [ -f "$data/smoke_base.fvecs" ] && [ -f "$data/smoke_query.fvecs" ] && [ -f "$data/smoke_groundtruth.ivecs" ]; then
    base=$data/smoke_base.fvecs
    queries=$data/smoke_query.fvecs
    groundtruth=$data/smoke_groundtruth.ivecs
    metric=cosine
    echo "data: MiniLM-Debian smoke set at $data (metric $metric)"
else
    echo "skipped: no shared data at $data; using a generated data set instead"
    "$python" "$here/gen_fvecs.py" --out "$work/generated" --base 2000 --queries 100 --dim 32 --k 10
    base=$work/generated/base.fvecs
    queries=$work/generated/query.fvecs
    groundtruth=$work/generated/groundtruth.ivecs
    metric=l2
fi

index=$work/smoke.edgevec
rm -f "$index"
set -x
"$edgevec" build --input "$base" --output "$index" --metric "$metric" --m 16 --ef-construction 200 --seed 42 --quiet
"$edgevec" info --index "$index" | tee "$work/smoke-info.txt"
"$edgevec" search --index "$index" --queries "$queries" --k 10 --ef 64 \
    --output "$work/smoke-results.ivecs" --groundtruth "$groundtruth" | tee "$work/smoke-search.txt"
{ set +x; } 2>/dev/null
grep -q '^removed: 0$' "$work/smoke-info.txt" || { echo "FAIL: info prints no 'removed: 0' line" >&2; exit 1; }
[ -s "$work/smoke-results.ivecs" ] || { echo "FAIL: search wrote no results file" >&2; exit 1; }
"$here/check_recall.sh" "$work/smoke-search.txt" "$min_recall" 10
# The ef sweep the report uses: one line per ef, recall rising with ef.
"$edgevec" search --index "$index" --queries "$queries" --k 10 --ef-sweep 16,64 --groundtruth "$groundtruth" \
    | tee "$work/smoke-sweep.txt"
[ "$(grep -c 'recall@10' "$work/smoke-sweep.txt")" -eq 2 ] || { echo "FAIL: --ef-sweep printed no line per ef" >&2; exit 1; }
# A crafted file (more free slots than removed ones, both checksums recomputed): the
# CLI refuses it with the loader's reason, exit status 1, and no crash.
"$python" - "$index" "$work/crafted.edgevec" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
table = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    table.append(c)
def crc32c(b):
    crc = 0xFFFFFFFF
    for x in b:
        crc = table[(crc ^ x) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
struct.pack_into("<I", data, 88, 7)
struct.pack_into("<I", data, 92, crc32c(data[:92]))
struct.pack_into("<I", data, len(data) - 4, crc32c(data[:-4]))
open(sys.argv[2], "wb").write(data)
PY
status=0
"$edgevec" info --index "$work/crafted.edgevec" 2>"$work/crafted.txt" || status=$?
if [ "$status" -ne 1 ] || ! grep -q "invalid header field freeCount (7)" "$work/crafted.txt"; then
    echo "FAIL: edgevec info on a crafted file: status $status, stderr: $(cat "$work/crafted.txt")" >&2
    exit 1
fi
echo "ok: a crafted file is refused: $(cat "$work/crafted.txt")"
# remove: an absent or repeated id removes nothing and leaves the file as it was;
# a good list removes, and searches never return a removed id.
cp "$index" "$work/edited.edgevec"
for bad in "3 3" "3 999999999"; do
    status=0
    # shellcheck disable=SC2086
    "$edgevec" remove --index "$work/edited.edgevec" $bad 2>"$work/remove-bad.txt" || status=$?
    if [ "$status" -ne 1 ] || ! cmp -s "$index" "$work/edited.edgevec"; then
        echo "FAIL: edgevec remove $bad: status $status, file changed or not: $(cat "$work/remove-bad.txt")" >&2
        exit 1
    fi
    echo "ok: edgevec remove $bad refused: $(cat "$work/remove-bad.txt")"
done
"$edgevec" remove --index "$work/edited.edgevec" 0 1 2 3 4 5 6 7 8 9
"$edgevec" info --index "$work/edited.edgevec" | grep -q '^removed: 10$' \
    || { echo "FAIL: info after removing 10 ids" >&2; exit 1; }
"$edgevec" search --index "$work/edited.edgevec" --queries "$queries" --k 10 --ef 64 \
    --output "$work/edited-results.ivecs" --quiet >/dev/null
"$python" - "$work/edited-results.ivecs" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
ids = [struct.unpack_from("<i", data, o)[0] for o in range(0, len(data), 4)]
row, o, bad = 0, 0, []
while o < len(ids):
    n = ids[o]
    bad += [i for i in ids[o + 1:o + 1 + n] if 0 <= i < 10]
    o += 1 + n
if bad:
    sys.exit(f"FAIL: removed ids returned: {bad[:10]}")
print("ok: no removed id in", len(ids), "result words")
PY

# --part-times (what the report pairs builds by): 25,000 vectors make parts of 10,000, 10,000 and
# 5,000 on one thread and on two; the times add up to the build's; one thread's file is the same with it.
pdir=$work/parts
"$python" "$here/gen_fvecs.py" --out "$pdir" --base 25000 --queries 1 --dim 8 --k 1 >/dev/null
for threads in 1 2; do
    "$edgevec" build --input "$pdir/base.fvecs" --output "$pdir/t$threads.edgevec" --seed 7 --threads "$threads" \
        --part-times --quiet | tee "$pdir/t$threads.txt"
done
"$edgevec" build --input "$pdir/base.fvecs" --output "$pdir/plain.edgevec" --seed 7 --threads 1 --quiet >/dev/null
cmp -s "$pdir/t1.edgevec" "$pdir/plain.edgevec" || { echo "FAIL: --part-times changed the one-thread build" >&2; exit 1; }
"$python" - "$pdir/t1.txt" "$pdir/t2.txt" <<'PY'
import re, sys
for path in sys.argv[1:]:
    text = open(path).read()
    total = float(re.search(r", ([\d.]+) s, ", text).group(1))
    parts = [float(x) for x in re.search(r"^part seconds: (.*)$", text, re.M).group(1).split()]
    if len(parts) != 3 or min(parts) <= 0 or abs(sum(parts) - total) > 0.002 + 1e-3 * total:
        sys.exit(f"FAIL: {path}: parts {parts} against {total} s")
print("ok: three parts adding up to the build time, one and two threads")
PY

# ---- Metadata and filtered search (issue 21), always on generated data ----
# scripts/filter_smoke.py writes meta.tsv (a column of each type, missing cells,
# non-ASCII strings), one filter per query and the brute force's filtered top 10.
fdir=$work/filtered
rm -rf "$fdir"
"$python" "$here/gen_fvecs.py" --out "$fdir" --base 3000 --queries 60 --dim 16 --k 10 --seed 11 >/dev/null
"$python" "$here/filter_smoke.py" gen "$fdir"
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_error WHAT PATTERN... -- COMMAND...: exit status $STATUS (default 1: an error;
# 64: a usage error), every fixed PATTERN in stderr.
expect_error() {
    local what=$1; shift
    local patterns=()
    while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
    shift
    local status=0
    "$@" >"$work/err-out.txt" 2>"$work/err.txt" || status=$?
    [ "$status" -eq "${STATUS:-1}" ] || fail "$what: exit status $status, expected ${STATUS:-1}; stderr: $(cat "$work/err.txt")"
    for p in "${patterns[@]}"; do
        grep -qF -- "$p" "$work/err.txt" || fail "$what: stderr lacks '$p': $(cat "$work/err.txt")"
    done
    echo "ok: $what refused: $(head -1 "$work/err.txt")"
}
set -x
"$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/hnsw.edgevec" --metadata "$fdir/meta.tsv" \
    --m 8 --ef-construction 100 --quiet | tee "$fdir/build.txt"
"$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/flat.edgevec" --metadata "$fdir/meta.tsv" --flat --quiet
"$edgevec" info --index "$fdir/hnsw.edgevec" | tee "$fdir/info.txt"
"$edgevec" info --index "$fdir/flat.edgevec" >"$fdir/info-flat.txt"
{ set +x; } 2>/dev/null
# info: every field with the type its column must get (integer, double although some
# cells look like integers, bool in any case, string for "1"/"x", double past 2^53)
# and its count of non-empty cells.
for info in "$fdir/info.txt" "$fdir/info-flat.txt"; do
    # (in the order the index first saw the fields: after a load, by slot; so compared sorted)
    grep -E '^(metadata fields|field )' "$info" | sort >"$fdir/got-info.txt" || true
    sort "$fdir/expected-info.txt" | diff - "$fdir/got-info.txt" >&2 \
        || fail "$info: metadata fields differ (expected < > got)"
done
grep -q '^metadata fields: 0$' "$work/smoke-info.txt" || fail "info of an index without metadata: no 'metadata fields: 0'"
echo "ok: info lists the 8 metadata fields with their types and counts"
set -x
# One filter per query: exact from the flat index, and from HNSW (scans and walks).
"$edgevec" search --index "$fdir/flat.edgevec" --queries "$fdir/query.fvecs" --k 10 \
    --filters "$fdir/filters.txt" --output "$fdir/flat-results.ivecs" --json >"$fdir/flat-search.txt"
"$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --k 10 --ef 64 \
    --filters "$fdir/filters.txt" --groundtruth "$fdir/filters_gt.ivecs" --output "$fdir/hnsw-results.ivecs" \
    --json | tee "$fdir/hnsw-search.txt"
{ set +x; } 2>/dev/null
"$python" "$here/filter_smoke.py" check "$fdir" filters "$fdir/flat-results.ivecs" --exact --json "$fdir/flat-search.txt"
grep -q '"ef": null' "$fdir/flat-search.txt" || fail "--json of a flat index: ef is not null"
"$python" "$here/filter_smoke.py" check "$fdir" filters "$fdir/hnsw-results.ivecs" --min-recall 0.95 \
    --json "$fdir/hnsw-search.txt" --gt
grep -q 'queries with fewer than 10 results' "$fdir/hnsw-search.txt" \
    || fail "the summary does not count the queries with fewer than 10 results"
set -x
# One filter for every query, recall from the CLI against the brute force.
"$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --k 10 --ef 32 \
    --filter "$(cat "$fdir/single.txt")" --groundtruth "$fdir/single_gt.ivecs" --output "$fdir/single-results.ivecs" \
    --json | tee "$fdir/single-search.txt"
{ set +x; } 2>/dev/null
"$python" "$here/filter_smoke.py" check "$fdir" single "$fdir/single-results.ivecs" --min-recall 0.95 \
    --json "$fdir/single-search.txt" --gt
"$here/check_recall.sh" "$fdir/single-search.txt" 0.95 10
# --warm-up: untimed searches first change no result.
"$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --k 10 --ef 32 \
    --filter "$(cat "$fdir/single.txt")" --output "$fdir/warm-results.ivecs" --warm-up 25 --quiet >/dev/null
cmp -s "$fdir/single-results.ivecs" "$fdir/warm-results.ivecs" || fail "--warm-up changed the results"
echo "ok: --warm-up 25 gives the same results"
# --json with --ef-sweep: still one object, the per-ef figures as arrays.
"$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --k 10 --ef-sweep 16,64 \
    --filters "$fdir/filters.txt" --groundtruth "$fdir/filters_gt.ivecs" --json >"$fdir/sweep.txt"
"$python" "$here/filter_smoke.py" json "$fdir/sweep.txt" 16,64 --gt
"$edgevec" search --index "$index" --queries "$queries" --k 10 --json >"$fdir/plain.txt"
"$python" - "$fdir/plain.txt" <<'PY' || fail "--json without --groundtruth"
import json, sys
obj = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert set(obj) == {"queries", "k", "ef", "qps", "p50_us", "p99_us"}, obj
assert obj["k"] == 10 and obj["ef"] == 64 and obj["queries"] > 0, obj
print("ok: --json without ground truth:", obj)
PY

# Bad metadata files: refused before anything is built, naming the line and the column.
rm -f "$fdir/bad.edgevec"
head -1 "$fdir/meta.tsv" | sed 's/size/si ze/' >"$fdir/bad-name.tsv"; tail -n +2 "$fdir/meta.tsv" >>"$fdir/bad-name.tsv"
expect_error "a header with an invalid field name" "line 1, column 3" 'invalid field name "si ze"' -- \
    "$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/bad.edgevec" --metadata "$fdir/bad-name.tsv" --quiet
head -1 "$fdir/meta.tsv" | sed 's/^id/NULL/' >"$fdir/bad-keyword.tsv"; tail -n +2 "$fdir/meta.tsv" >>"$fdir/bad-keyword.tsv"
expect_error "a keyword as a field name" "line 1, column 1" 'invalid field name "NULL"' -- \
    "$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/bad.edgevec" --metadata "$fdir/bad-keyword.tsv" --quiet
head -1 "$fdir/meta.tsv" | sed 's/mixed/group/' >"$fdir/bad-twice.tsv"; tail -n +2 "$fdir/meta.tsv" >>"$fdir/bad-twice.tsv"
expect_error "a field named twice" "line 1, column 8" 'field "group" named twice (also column 2)' -- \
    "$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/bad.edgevec" --metadata "$fdir/bad-twice.tsv" --quiet
head -n 3000 "$fdir/meta.tsv" >"$fdir/bad-short.tsv"
expect_error "one data line too few" "2999 data lines after the header" "holds 3000 vectors" -- \
    "$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/bad.edgevec" --metadata "$fdir/bad-short.tsv" --quiet
{ cat "$fdir/meta.tsv"; tail -1 "$fdir/meta.tsv"; } >"$fdir/bad-long.tsv"
expect_error "one data line too many" "3001 data lines after the header" -- \
    "$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/bad.edgevec" --metadata "$fdir/bad-long.tsv" --quiet
awk -F'\t' -v OFS='\t' 'NR == 42 { NF = 7 } { print }' "$fdir/meta.tsv" >"$fdir/bad-cells.tsv"
expect_error "a line with a cell missing" "line 42: 7 cells, but the header has 8 columns" -- \
    "$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/bad.edgevec" --metadata "$fdir/bad-cells.tsv" --quiet
long=$(head -c 4097 /dev/zero | tr '\0' 'a')
awk -F'\t' -v OFS='\t' -v long="$long" 'NR == 1234 { $6 = long } { print }' "$fdir/meta.tsv" >"$fdir/bad-string.tsv"
expect_error "a string over 4,096 bytes" "line 1234, column 6 (name)" "4097 bytes" -- \
    "$edgevec" build --input "$fdir/base.fvecs" --output "$fdir/bad.edgevec" --metadata "$fdir/bad-string.tsv" --quiet
[ ! -e "$fdir/bad.edgevec" ] || fail "a refused build wrote an index file"

# Bad filters: the column (1-based) and what was expected; with --filters the line too.
expect_error "a filter whose value is not quoted" "--filter: invalid filter at column 9: expected a value" -- \
    "$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --filter 'group = g1'
sed '3s/.*/size < 10 AND (group = "g1"/' "$fdir/filters.txt" >"$fdir/bad-filters.txt"
expect_error "an unclosed parenthesis on line 3 of --filters" "bad-filters.txt: line 3: invalid filter at column 28" \
    'expected ")"' -- \
    "$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --filters "$fdir/bad-filters.txt"
head -n 59 "$fdir/filters.txt" >"$fdir/short-filters.txt"
expect_error "--filters with a line too few" "59 filter lines" "holds 60 queries" -- \
    "$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --filters "$fdir/short-filters.txt"
STATUS=64 expect_error "a negative --warm-up" "--warm-up must be 0 or more" -- \
    "$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --warm-up=-1
STATUS=64 expect_error "--filter with --filters" "--filter and --filters exclude each other" -- \
    "$edgevec" search --index "$fdir/hnsw.edgevec" --queries "$fdir/query.fvecs" --filter 'id < 3' \
    --filters "$fdir/filters.txt"
