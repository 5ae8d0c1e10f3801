#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (see docs/FUZZING.md), coverage-instrumented.
#
#   Fuzz/build.sh [OUT]          OUT defaults to .build-fuzz
#
# Route (docs RECIPES "Fuzzing Swift with libFuzzer"): NOT `swift build --sanitize=fuzzer`,
# which links libFuzzer but leaves the code uninstrumented. Instead every module is
# compiled here by hand with the same flags:
#   C modules      clang -fsanitize=fuzzer-no-link,address     (shims.c, kernels.c)
#   Swift modules  swiftc -sanitize=fuzzer,address -emit-module, one object per module (-wmo)
#   targets        Fuzz/<target>.swift + Fuzz/Support/*.swift as one more module, then
#                  swiftc -sanitize=fuzzer,address links them with libFuzzer's main.
# Each module takes every *.swift (or *.c) file of its folder, so new files are picked up.
# Outputs: OUT/bin/<target> and OUT/bin/<target>-planted, the same target built with
# -D FUZZ_PLANTED_BUG (a trap a working fuzzer finds in seconds; Fuzz/run.sh self-check).
# A module is recompiled only when its sources, flags or dependencies changed (a hash
# of all of them is kept next to the object).
#
# Environment: SWIFTC (default swiftc on PATH), CLANG (default the clang next to swiftc),
# FUZZ_DEFINES (extra -D flags for every Swift module, e.g. "-D BumpArena").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-.build-fuzz}"
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
SWIFTC="${SWIFTC:-swiftc}"
CLANG="${CLANG:-$(dirname "$(readlink -f "$(command -v "$SWIFTC")")")/clang}"
FUZZ_DEFINES="${FUZZ_DEFINES:-}"

# -O keeps Swift's overflow and bounds checks (they trap: findings). EDGEVEC_INTERNAL_CHECKS
# turns on the library's internal consistency checks, as in debug builds.
SWIFT_FLAGS=(-O -wmo -parse-as-library -g -package-name edgevec -sanitize=fuzzer,address -D EDGEVEC_INTERNAL_CHECKS $FUZZ_DEFINES)
C_FLAGS=(-O2 -g -fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer)

MODS="$OUT/modules"    # .swiftmodule files and generated module maps
OBJ="$OUT/obj"
BIN="$OUT/bin"
mkdir -p "$MODS" "$OBJ" "$BIN"

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

COMPILED=()    # the source folders compiled so far

# c_module NAME DIR: compiles DIR/*.c against DIR/include and writes a module map for
# the include folder's headers, as SwiftPM generates for a C target.
c_module() {
    local name=$1 dir="$ROOT/$2"
    COMPILED+=("$dir")
    local srcs=("$dir"/*.c) headers=("$dir"/include/*.h)
    mkdir -p "$MODS/$name"
    {
        echo "module $name {"
        for h in "${headers[@]}"; do echo "    header \"$h\""; done
        echo "    export *"
        echo "}"
    } > "$MODS/$name/module.modulemap.new"
    cmp -s "$MODS/$name/module.modulemap.new" "$MODS/$name/module.modulemap" 2>/dev/null \
        && rm "$MODS/$name/module.modulemap.new" || mv "$MODS/$name/module.modulemap.new" "$MODS/$name/module.modulemap"
    local stamp
    stamp=$( { hash_of "${srcs[@]}" "${headers[@]}"; echo "${C_FLAGS[*]} $CLANG"; } | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$OBJ/$name.stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "fuzz build: $name (C)"
        local objs=() s
        for s in "${srcs[@]}"; do
            "$CLANG" "${C_FLAGS[@]}" -I "$dir/include" -c "$s" -o "$OBJ/$name-$(basename "$s" .c).o"
            objs+=("$OBJ/$name-$(basename "$s" .c).o")
        done
        "$CLANG" -r -nostdlib "${objs[@]}" -o "$OBJ/$name.o" 2>/dev/null || ld -r "${objs[@]}" -o "$OBJ/$name.o"
        echo "$stamp" > "$OBJ/$name.stamp"
    fi
}

# swift_module NAME "DEPS" DIR...: one object and one .swiftmodule from every *.swift in DIRs.
swift_module() {
    local name=$1 deps=$2; shift 2
    COMPILED+=("$@")
    local srcs=() d
    for d in "$@"; do
        while IFS= read -r f; do srcs+=("$f"); done < <(find "$d" -maxdepth 1 -name '*.swift' | LC_ALL=C sort)
    done
    local depstamps=()
    for d in $deps; do depstamps+=("$OBJ/$d.stamp"); done
    local stamp
    stamp=$( { hash_of "${srcs[@]}" ${depstamps[@]+"${depstamps[@]}"}; printf '%s\n' "${srcs[@]}";
               echo "${SWIFT_FLAGS[*]} ${EXTRA_FLAGS:-} $SWIFTC"; } | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$OBJ/$name.stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "fuzz build: $name (${#srcs[@]} Swift files)"
        local includes=() m
        for m in "$MODS"/_*/; do [ -d "$m" ] && includes+=(-I "$m"); done
        "$SWIFTC" "${SWIFT_FLAGS[@]}" ${EXTRA_FLAGS:-} -module-name "$name" -I "$MODS" "${includes[@]}" \
            -emit-module -emit-module-path "$MODS/$name.swiftmodule" \
            -c -o "$OBJ/$name.o" "${srcs[@]}"
        echo "$stamp" > "$OBJ/$name.stamp"
    fi
}

c_module _EdgeVecCShims Allocators/_EdgeVecCShims
c_module _EdgeVecSearchKernels Modules/SearchKernels
swift_module EdgeVecAllocators "_EdgeVecCShims" "$ROOT/Allocators/EdgeVecAllocators"
swift_module EdgeVecStorage "EdgeVecAllocators" "$ROOT/Modules/Storage"
swift_module EdgeVecGraph "EdgeVecAllocators" "$ROOT/Modules/Graph"
swift_module EdgeVecFilter "EdgeVecAllocators" "$ROOT/Modules/Filter"
swift_module EdgeVecFormat "EdgeVecAllocators EdgeVecGraph" "$ROOT/Modules/Format"
swift_module EdgeVecConcurrency "" "$ROOT/Modules/Concurrency"
swift_module EdgeVecSearch "EdgeVecAllocators EdgeVecStorage EdgeVecGraph EdgeVecFilter EdgeVecFormat EdgeVecConcurrency _EdgeVecSearchKernels" "$ROOT/Modules/Search"
swift_module EdgeVecBridge "EdgeVecSearch" "$ROOT/Modules/Bridge"

# Every folder of Modules/ but the umbrella must be compiled above: a module left out
# here (EdgeVecConcurrency once) failed fuzz-smoke only at link time.
for d in "$ROOT"/Modules/*/; do
    d=${d%/}
    [ "$(basename "$d")" = EdgeVec ] && continue
    found=0
    for c in "${COMPILED[@]}"; do [ "$c" = "$d" ] && found=1; done
    if [ $found = 0 ]; then echo "Fuzz/build.sh: $d is not compiled; add it to the module list" >&2; exit 1; fi
done

LIB_OBJS=("$OBJ/_EdgeVecCShims.o" "$OBJ/_EdgeVecSearchKernels.o" "$OBJ/EdgeVecAllocators.o"
          "$OBJ/EdgeVecStorage.o" "$OBJ/EdgeVecGraph.o" "$OBJ/EdgeVecFilter.o" "$OBJ/EdgeVecFormat.o" "$OBJ/EdgeVecConcurrency.o"
          "$OBJ/EdgeVecSearch.o")

# target NAME NEEDS_BRIDGE: Fuzz/NAME.swift + Fuzz/Support/*.swift, normal and planted.
target() {
    local name=$1 bridge=$2 variant module deps objs
    deps="EdgeVecSearch"
    objs=("${LIB_OBJS[@]}")
    if [ "$bridge" = 1 ]; then deps="EdgeVecSearch EdgeVecBridge"; objs+=("$OBJ/EdgeVecBridge.o"); fi
    for variant in "" "-planted"; do
        module="Fuzz_${name}${variant//-/_}"
        local tmp="$OBJ/$module-src"
        mkdir -p "$tmp"
        # One folder per module: the target file and the shared support files.
        rm -f "$tmp"/*.swift
        ln -s "$ROOT/Fuzz/$name.swift" "$tmp/$name.swift"
        for s in "$ROOT"/Fuzz/Support/*.swift; do ln -s "$s" "$tmp/$(basename "$s")"; done
        EXTRA_FLAGS="$([ -n "$variant" ] && echo "-D FUZZ_PLANTED_BUG" || true)" \
            swift_module "$module" "$deps" "$tmp"
        local bin="$BIN/$name$variant"
        if [ ! -x "$bin" ] || [ "$(cat "$bin.stamp" 2>/dev/null)" != "$(cat "$OBJ/$module.stamp")" ]; then
            echo "fuzz link: $bin"
            "$SWIFTC" -sanitize=fuzzer,address "${objs[@]}" "$OBJ/$module.o" -o "$bin" 2>&1 \
                | { grep -v "Cannot export local symbol '__asan_" || true; }
            cp "$OBJ/$module.stamp" "$bin.stamp"
        fi
    done
}

target loader 0
target abi_ops 1
target filter 0

# Every object must carry libFuzzer's inline 8-bit counters (section __sancov_cntrs):
# an uninstrumented module would make the fuzzer blind to it.
for o in "${LIB_OBJS[@]}" "$OBJ/EdgeVecBridge.o"; do
    # (grep -c, not -q: -q stops reading early and pipefail then reports objdump's SIGPIPE)
    if ! "$(dirname "$CLANG")/llvm-objdump" -h "$o" | grep -c '__sancov_cntrs' >/dev/null; then
        echo "FAIL: $o has no coverage counters (__sancov_cntrs)" >&2
        exit 1
    fi
done
echo "fuzz build: ok, binaries in $BIN"
