#!/usr/bin/env bash
# End-to-end check of the `edgevec` CLI: build an index, search it with
# ground truth, require recall@10 >= $MIN_RECALL; info, remove, and a crafted file refused.
#
#   scripts/cli_smoke.sh EDGEVEC DATA_DIR WORK_DIR
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
