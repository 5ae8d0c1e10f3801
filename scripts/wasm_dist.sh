#!/usr/bin/env bash
# Optimises the two linked wasm modules into DIST, checks them, copies the
# JavaScript wrapper (edgevec.mjs, and EdgeVecWorker: edgevec-worker.mjs with its
# worker side edgevec-worker-main.mjs) and the types next to them and prints their
# sizes. Called by `make wasm`.
#
#   scripts/wasm_dist.sh DIST "WASM_OPT_FLAGS" COUNTER(0|1) DLMALLOC.wasm ARENA.wasm
#
# Checks: no imports at all; every ev_* export the wrapper needs (plus
# ev_allocation_count, ev_allocated_bytes and ev_free_count when COUNTER is 1,
# and no ev_allocation_count otherwise); and the module instantiates in Node
# and creates an index.
set -euo pipefail

dist=$1
opt_flags=$2
counter=$3
dlmalloc=$4
arena=$5

required=(memory __wasm_call_ctors ev_create ev_create_with_ef_search ev_input ev_insert ev_insert_batch ev_reserve
          ev_output ev_output_distances ev_search ev_size ev_dimension ev_metric ev_m ev_ef_construction
          ev_ef_search ev_set_ef_search ev_save_size ev_save ev_load ev_free ev_alloc ev_dealloc
          ev_allocator_kind ev_error_message ev_input_bytes ev_insert_with_metadata ev_insert_batch_with_metadata
          ev_set_metadata ev_get_metadata ev_output_bytes ev_compile_filter ev_free_filter ev_search_filtered
          ev_search_batch)

mkdir -p "$dist"
for pair in "$dlmalloc:edgevec.wasm:0" "$arena:edgevec-arena.wasm:2"; do
    IFS=: read -r source name kind <<<"$pair"
    out=$dist/$name
    # The compiler already emits bulk-memory, sign-ext, nontrapping-fptoint,
    # mutable-globals, multivalue and reference-types (LLVM's default wasm
    # CPU); binaryen reads them from the target_features section. Node 18+
    # and Chromium run all of them. simd128 comes from -msimd128.
    # shellcheck disable=SC2086
    wasm-opt $opt_flags --enable-simd --enable-bulk-memory --strip-debug --strip-producers \
        --strip-target-features "$source" -o "$out.tmp"
    mv -f "$out.tmp" "$out"

    headers=$(wasm-objdump -h "$out")
    if grep -q '^ *Import ' <<<"$headers"; then
        wasm-objdump -x -j Import "$out"
        echo "FAIL: $out imports something (it must be self-contained)" >&2
        exit 1
    fi
    exports=$(wasm-objdump -x -j Export "$out" | sed -n 's/.*-> "\(.*\)"$/\1/p')
    for e in "${required[@]}"; do
        grep -qx "$e" <<<"$exports" || { echo "FAIL: $out does not export $e" >&2; exit 1; }
    done
    if [ "$counter" = 1 ]; then
        for e in ev_allocation_count ev_allocated_bytes ev_free_count; do   # what allocationStats() calls
            grep -qx "$e" <<<"$exports" || { echo "FAIL: $out lacks $e" >&2; exit 1; }
        done
    elif grep -qx ev_allocation_count <<<"$exports"; then
        echo "FAIL: $out exports ev_allocation_count without ALLOCATION_COUNTER=1" >&2
        exit 1
    fi
    # It instantiates with no imports, reports its allocator and makes an index.
    node --input-type=module -e "
        import { readFileSync } from 'node:fs';
        const { instance } = await WebAssembly.instantiate(readFileSync('$out'), {});
        const x = instance.exports;
        x.__wasm_call_ctors();
        if (x.ev_allocator_kind() !== $kind) throw new Error('allocator kind ' + x.ev_allocator_kind());
        const h = x.ev_create(4, 0, 16, 200, 42n);
        if (h < 0) throw new Error('ev_create returned ' + h);
    "
done

cp js/edgevec.mjs js/edgevec-worker.mjs js/edgevec-worker-main.mjs js/edgevec.d.ts js/edgevec-worker.d.ts "$dist"/

printf '\n%-22s %10s %10s\n' "$dist/" bytes gzip-9
for f in "$dist/edgevec.wasm" "$dist/edgevec-arena.wasm" "$dist/edgevec.mjs" "$dist/edgevec-worker.mjs" "$dist/edgevec-worker-main.mjs"; do
    printf '%-22s %10d %10d\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done
