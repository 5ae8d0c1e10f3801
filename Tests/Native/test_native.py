#!/usr/bin/env python3
"""Python ctypes host test of the native library, plus the ABI consistency check.

    python3 Tests/Native/test_native.py [--lib dist/native/libedgevec.so]
                                        [--header include/edgevec.h]
                                        [--bridge Modules/Bridge]

1. ABI check: every `@_cdecl("ev_…")` function in Modules/Bridge is declared in
   the header with the same parameter and return types, the header declares
   nothing else, and the shared library exports exactly those functions.
2. ctypes (argument and result types taken from the header): create,
   insert, batch insert, the staging and result buffers, search (against
   brute force), save/load round trip, error paths.

Standard library only. Prints a closing "N passed, N failed"; exits 1 on failure.
"""
import argparse
import ctypes
import os
import random
import re
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


# ---------------------------------------------------------------- ABI check

# Swift parameter/return types of the bridge → their C spelling in the header.
SWIFT_TO_C = {
    "Int32": "int32_t",
    "UInt32": "uint32_t",
    "Int64": "int64_t",
    "UInt64": "uint64_t",
    "Float": "float",
    "Double": "double",
    "Bool": "bool",
    "UnsafePointer<Float>": "const float *",
    "UnsafeMutablePointer<Float>": "float *",
    "UnsafePointer<Int32>": "const int32_t *",
    "UnsafeMutablePointer<Int32>": "int32_t *",
    "UnsafePointer<UInt32>": "const uint32_t *",
    "UnsafePointer<UInt64>": "const uint64_t *",
    "UnsafeMutablePointer<UInt64>": "uint64_t *",
    "UnsafeMutablePointer<UInt32>": "uint32_t *",
    "UnsafePointer<UInt8>": "const uint8_t *",
    "UnsafeMutablePointer<UInt8>": "uint8_t *",
    "UnsafeRawPointer": "const void *",
    "UnsafeMutableRawPointer": "void *",
    "UnsafePointer<CChar>": "const char *",
    "UnsafePointer<Int8>": "const char *",
    "Void": "void",
    "()": "void",
}


def c_type(swift_type):
    t = swift_type.strip().rstrip("?!").strip()
    if t not in SWIFT_TO_C:
        raise ValueError("no C spelling known for Swift type %r (extend SWIFT_TO_C in %s)"
                         % (swift_type, os.path.relpath(__file__, ROOT)))
    return SWIFT_TO_C[t]


def split_params(text):
    """Splits a parameter list at top-level commas (generic brackets nest)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts]


def bridge_exports(path):
    """{name: (return C type, [param C types])} from the @_cdecl/@c functions of
    `path`, a Swift file or a folder of them (Modules/Bridge)."""
    files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".swift")) \
        if os.path.isdir(path) else [path]
    source = "\n".join(open(f, encoding="utf-8").read() for f in files)
    # Drop comments so commented-out exports do not count.
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"//[^\n]*", "", source)
    exports = {}
    pattern = re.compile(
        r'@(?:_cdecl|c)\(\s*"?(\w+)"?\s*\)\s*(?:@[^\n]*\s*)*'      # @_cdecl("name") / @c(name), other attributes
        r'(?:public\s+|internal\s+|package\s+)?func\s+(\w+)\s*'     # func swiftName
        r'\((.*?)\)\s*(?:->\s*([^{]+?))?\s*\{', re.S)
    for m in pattern.finditer(source):
        name, params, ret = m.group(1), m.group(3), m.group(4)
        types = []
        for p in split_params(params):
            types.append(c_type(p.split(":", 1)[1]))
        exports[name] = (c_type(ret) if ret else "void", types)
    names_anywhere = set(re.findall(r'@(?:_cdecl|c)\(\s*"?(\w+)"?\s*\)', source))
    return exports, names_anywhere


def normalise_c_type(t):
    t = re.sub(r"\s+", " ", t.strip())
    t = re.sub(r"\s*\*\s*", " *", t)
    return t.strip()


def header_declarations(path):
    """{name: (return type, [param types])} for every ev_* prototype."""
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"#[^\n]*", "", text)
    decls = {}
    for m in re.finditer(r"([A-Za-z_][\w\s\*]*?)\b(ev_\w+)\s*\(([^)]*)\)\s*;", text):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        types = []
        if params.strip() not in ("", "void"):
            for p in params.split(","):
                p = p.strip()
                pm = re.match(r"(.*?)(\w+)$", p)   # drop the parameter name
                types.append(normalise_c_type(pm.group(1) if pm and pm.group(1).strip() else p))
        if name in decls:
            raise ValueError("%s declared twice in %s" % (name, path))
        decls[name] = (normalise_c_type(ret), types)
    return decls


def library_exports(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        # Global code only: gold leaves a few symbols the version script made local in .dynsym
        # (lowercase, LOCAL binding) in sanitizer builds; no host can bind to those.
        if len(parts) >= 3 and parts[1] in "TWi":
            names.add(parts[2].split("@")[0])
    return names


def abi_check(lib, header, bridge):
    print("ABI check: %s vs %s vs %s" % (os.path.relpath(bridge, ROOT), os.path.relpath(header, ROOT),
                                         os.path.relpath(lib, ROOT)))
    exports, names_anywhere = bridge_exports(bridge)
    check(exports, "no @_cdecl functions found in " + bridge)
    check(set(exports) == names_anywhere,
          "could not parse the signature of: %s" % sorted(names_anywhere - set(exports)))
    decls = header_declarations(header)
    for name in sorted(set(exports) - set(decls)):
        check(False, "%s is exported by Bridge.swift but not declared in %s" % (name, header))
    for name in sorted(set(decls) - set(exports)):
        check(False, "%s is declared in %s but not exported by Bridge.swift" % (name, header))
    for name in sorted(set(exports) & set(decls)):
        sr, sp = exports[name]
        hr, hp = decls[name]
        check(sr == hr, "%s returns %s in Bridge.swift but %s in the header" % (name, sr, hr))
        check(sp == hp, "%s takes (%s) in Bridge.swift but (%s) in the header"
              % (name, ", ".join(sp), ", ".join(hp)))
    so = {n for n in library_exports(lib) if n.startswith("ev_")}
    others = {n for n in library_exports(lib) if not n.startswith("ev_")}
    check(so == set(decls), "the library exports %s, the header declares %s"
          % (sorted(so - set(decls)) or "-", sorted(set(decls) - so) or "-"))
    check(not others, "the library exports non-ev_ functions: %s" % sorted(others)[:10])
    print("  %d functions: %s" % (len(decls), " ".join(sorted(decls))))


# ---------------------------------------------------------------- ctypes

EV_ERR = {"NON_FINITE": -2, "ZERO_VECTOR": -3, "INVALID_K": -4, "INVALID_PARAMETER": -5, "CORRUPT": -8,
          "VECTOR_TOO_LARGE": -10, "DUPLICATE_ID": -11, "INVALID_ID": -12, "UNKNOWN_ID": -13,
          "INVALID_HANDLE": -20, "INVALID_METRIC": -21, "BUFFER_TOO_SMALL": -22}
MAX_ID = 2**53 - 1

F32P = ctypes.POINTER(ctypes.c_float)
I32P = ctypes.POINTER(ctypes.c_int32)
U64P = ctypes.POINTER(ctypes.c_uint64)


C_TO_CTYPES = {
    "int32_t": ctypes.c_int32, "uint32_t": ctypes.c_uint32, "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64, "float": ctypes.c_float, "double": ctypes.c_double, "bool": ctypes.c_bool,
    "float *": F32P, "const float *": F32P, "int32_t *": I32P, "const int32_t *": I32P,
    "uint64_t *": U64P, "const uint64_t *": U64P, "uint8_t *": ctypes.POINTER(ctypes.c_uint8),
    "void *": ctypes.c_void_p, "const void *": ctypes.c_void_p, "const char *": ctypes.c_char_p, "void": None,
}


def load_library(path, header):
    """The library with argtypes/restype of every function taken from the header."""
    lib = ctypes.CDLL(path)
    for name, (ret, params) in header_declarations(header).items():
        fn = getattr(lib, name)
        fn.restype = C_TO_CTYPES[ret]
        fn.argtypes = [C_TO_CTYPES[t] for t in params]
    return lib


def floats(values):
    return (ctypes.c_float * len(values))(*values)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Index:
    """A thin Pythonic wrapper, the way a ctypes user would write one."""

    def __init__(self, lib, handle):
        self.lib, self.h = lib, handle
        self.dim = lib.ev_dimension(handle)

    def search(self, query, k, ef=0):
        ids = (ctypes.c_uint64 * k)()
        dist = (ctypes.c_float * k)()
        n = self.lib.ev_search(self.h, floats(query), k, ef, ids, dist)
        if n < 0:
            raise RuntimeError(n)
        return list(ids[:n]), list(dist[:n])

    def save(self):
        size = self.lib.ev_save_size(self.h)
        buf = ctypes.create_string_buffer(size)
        written = self.lib.ev_save(self.h, buf, size)
        if written != size:
            raise RuntimeError(written)
        return buf.raw


def ids_tests(lib, base, queries, l2):
    """Ids of the caller's choosing, remove, update, get, ids, against brute force (issue 20)."""
    h = lib.ev_create_with_ef_search(len(base[0]), 0, 12, 100, 40, 2024)
    idx = Index(lib, h)
    dim, n = idx.dim, len(base)
    check(lib.ev_insert_batch(h, floats([x for row in base for x in row]), n) == 0, "batch")
    live = {i: base[i] for i in range(n)}
    check(lib.ev_next_id(h) == n, "next id %d" % lib.ev_next_id(h))
    check(lib.ev_insert_with_id(h, floats(base[1]), MAX_ID) == MAX_ID, "insert with id 2^53 - 1")
    live[MAX_ID] = base[1]
    check(lib.ev_insert_with_id(h, floats(base[1]), MAX_ID + 1) == EV_ERR["INVALID_ID"], "id 2^53")
    check(lib.ev_insert_with_id(h, floats(base[1]), 7) == EV_ERR["DUPLICATE_ID"], "id 7 twice")
    check(lib.ev_insert(h, floats(base[2])) == EV_ERR["INVALID_ID"], "next id past 2^53 - 1")
    before = idx.save()
    ids = lib.ev_input_ids(h, 3)
    for i, v in enumerate([10**12, 10**12 + 1, 5]):
        ids[i] = v
    flat = [x for row in base[:3] for x in row]
    check(lib.ev_insert_batch_with_ids(h, floats(flat), 3, ids) == EV_ERR["DUPLICATE_ID"], "batch with a present id")
    ids[2] = 10**12
    check(lib.ev_insert_batch_with_ids(h, floats(flat), 3, ids) == EV_ERR["DUPLICATE_ID"], "batch with an id twice")
    check(lib.ev_insert_batch_with_ids(h, floats(flat), 3, None) == EV_ERR["INVALID_HANDLE"], "NULL ids")
    check(idx.save() == before, "rejected batches leave the index unchanged")
    ids[2] = 10**12 + 2
    check(lib.ev_insert_batch_with_ids(h, floats(flat), 3, ids) == 10**12, "batch with ids")
    for i in range(3):
        live[10**12 + i] = base[i]
    removed = [3, 50, 10**12 + 1, 299]
    for r in removed:
        check(lib.ev_remove(h, r) == 1, "remove %d" % r)
        del live[r]
    check(lib.ev_remove(h, 50) == 0, "remove an absent id")
    check(lib.ev_contains(h, 50) == 0 and lib.ev_contains(h, 51) == 1, "contains")
    check(lib.ev_update(h, 60, floats(base[61])) == 0, "update")
    live[60] = base[61]
    check(lib.ev_update(h, 50, floats(base[61])) == EV_ERR["UNKNOWN_ID"], "update an absent id")
    out = (ctypes.c_float * dim)()
    check(lib.ev_get(h, 60, out) == 1 and list(out) == base[61], "get an updated vector")
    check(lib.ev_get(h, 50, out) == 0, "get an absent id")
    check(lib.ev_size(h) == len(live) and lib.ev_removed_count(h) >= 0, "size counts live vectors")
    buf = (ctypes.c_uint64 * len(live))()
    check(lib.ev_ids(h, buf, len(live) - 1) == EV_ERR["BUFFER_TOO_SMALL"], "ids into a short buffer")
    check(lib.ev_ids(h, buf, len(live)) == len(live) and set(buf) == set(live), "ids")
    exact = True
    for q in queries:
        truth = sorted(live, key=lambda i: (l2(live[i], q), i))[:5]
        got, _ = idx.search(q, 5, ef=len(live))
        exact &= set(got) == set(truth)
    check(exact, "after removals and updates, ef = size gives brute force's top-k ids")
    before_compact = lib.ev_memory_bytes(h)
    check(lib.ev_compact(h) == 0 and lib.ev_removed_count(h) == 0, "compact")
    check(0 < lib.ev_memory_bytes(h) <= before_compact, "memory after compact: %d vs %d"
          % (lib.ev_memory_bytes(h), before_compact))
    check(lib.ev_ids(h, buf, len(live)) == len(live) and set(buf) == set(live), "ids after compact")
    for r in removed + [60, MAX_ID] + [10**12, 10**12 + 2]:
        lib.ev_remove(h, r)
    for i in [3, 50, 60, 299]:
        check(lib.ev_insert_with_id(h, floats(base[i]), i) == i, "re-add %d" % i)
    check(lib.ev_size(h) == 400 and lib.ev_next_id(h) == MAX_ID + 1, "back to 400 vectors")
    lib.ev_free(h)


def ctypes_tests(path, header):
    lib = load_library(path, header)
    msg = lib.ev_error_message
    check(msg(0) == b"ok", "message 0: %r" % msg(0))
    check(msg(-20) == b"invalid handle or null pointer", "message -20: %r" % msg(-20))
    check(msg(-12345) == b"unknown error", "message -12345")

    check(lib.ev_create(8, 7, 16, 200, 1) == EV_ERR["INVALID_METRIC"], "metric 7")
    check(lib.ev_create(0, 0, 16, 200, 1) == EV_ERR["INVALID_PARAMETER"], "dimension 0")
    check(lib.ev_create(8, 0, 200, 200, 1) == EV_ERR["INVALID_PARAMETER"], "m 200")
    check(lib.ev_create(8, 0, 16, 200, 2**64 - 1) >= 0, "seed 2^64-1 is accepted")
    check(lib.ev_create_with_ef_search(8, 0, 16, 200, 0, 1) == EV_ERR["INVALID_PARAMETER"], "efSearch 0")
    check(lib.ev_allocator_kind() == 0, "allocator kind: system malloc")

    rng = random.Random(7)
    dim, n, nq, k = 12, 400, 30, 5
    base = [[f32(rng.uniform(-1, 1)) for _ in range(dim)] for _ in range(n)]
    queries = [[f32(rng.uniform(-1, 1)) for _ in range(dim)] for _ in range(nq)]

    h = lib.ev_create_with_ef_search(dim, 0, 12, 100, 40, 2024)
    check(h >= 0, "create: %d" % h)
    idx = Index(lib, h)
    check(idx.dim == dim, "dimension")
    check((lib.ev_metric(h), lib.ev_m(h), lib.ev_ef_construction(h), lib.ev_ef_search(h)) == (0, 12, 100, 40),
          "metric, m, ef_construction, ef_search")
    check(lib.ev_insert(h, floats(base[0])) == 0, "insert")
    flat = [x for row in base[1:300] for x in row]
    check(lib.ev_insert_batch(h, floats(flat), 299) == 1, "batch returns the first id")
    staging = lib.ev_input(h, 100)
    check(bool(staging), "ev_input")
    for i, x in enumerate(x for row in base[300:] for x in row):
        staging[i] = x
    check(lib.ev_insert_batch(h, staging, 100) == 300, "batch from the staging buffer")
    check(lib.ev_size(h) == n, "size %d" % lib.ev_size(h))
    check(not lib.ev_input(h, 0), "ev_input(0) is NULL")

    def l2(a, b):
        return sum((x - y) ** 2 for x, y in zip(a, b))

    exact = True
    for q in queries:
        truth = sorted(range(n), key=lambda i: (l2(base[i], q), i))[:k]
        ids, dist = idx.search(q, k, ef=n)
        exact &= ids == truth and all(abs(d - l2(base[i], q)) <= 1e-4 * (1 + d) for i, d in zip(ids, dist))
    check(exact, "ef = n gives brute force's top-k with matching distances")
    ids, dist = idx.search(base[123], 1)
    check(ids == [123] and dist == [0.0], "self query: %r %r" % (ids, dist))
    out, out_dist = lib.ev_output(h, k), lib.ev_output_distances(h)
    check(bool(out) and bool(out_dist), "ev_output")
    check(lib.ev_search(h, floats(queries[0]), k, 0, out, out_dist) == k, "search into the result buffer")
    check((out[:k], out_dist[:k]) == idx.search(queries[0], k), "the result buffer holds the same hits")
    # Batch search: one call, the same hits as one search per query.
    b_ids, b_dist, b_counts = (ctypes.c_uint64 * (nq * k))(), (ctypes.c_float * (nq * k))(), (ctypes.c_int32 * nq)()
    flat_q = floats([x for q in queries for x in q])
    check(lib.ev_search_batch(h, flat_q, nq, k, 0, 0, 0, b_ids, b_dist, b_counts) == nq, "search_batch returns the count")
    check(all(b_counts[i] == k and (b_ids[i * k:(i + 1) * k], b_dist[i * k:(i + 1) * k]) == idx.search(q, k)
              for i, q in enumerate(queries)), "search_batch: every query's hits equal ev_search's")
    bad_q = [x for q in queries for x in q]
    bad_q[3 * dim + 2] = float("nan")
    check(lib.ev_search_batch(h, floats(bad_q), nq, k, 0, 0, 0, b_ids, b_dist, b_counts) == EV_ERR["NON_FINITE"]
          and b"query row 3" in lib.ev_last_error_message(), "search_batch: a NaN names its row")
    ids_tests(lib, base, queries, l2)
    check(lib.ev_set_ef_search(h, 0) == EV_ERR["INVALID_PARAMETER"], "set_ef_search(0)")
    check(lib.ev_set_ef_search(h, 300) == 0 and lib.ev_ef_search(h) == 300, "set_ef_search(300)")

    # Errors.
    nan = list(queries[0])
    nan[0] = float("nan")
    check(lib.ev_insert(h, floats(nan)) == EV_ERR["NON_FINITE"], "NaN insert")
    check(lib.ev_insert_batch(h, floats(base[0] + nan), 2) == EV_ERR["NON_FINITE"], "NaN batch")
    check(lib.ev_size(h) == n, "size unchanged after rejected inserts")
    big = [1e30] * dim
    check(lib.ev_insert(h, floats(big)) == EV_ERR["VECTOR_TOO_LARGE"], "1e30 vector")
    check(lib.ev_insert(h, None) == EV_ERR["INVALID_HANDLE"], "NULL vector")
    out_ids, out_dist = (ctypes.c_uint64 * 4)(), (ctypes.c_float * 4)()
    check(lib.ev_search(h, floats(queries[0]), 0, 0, out_ids, out_dist) == EV_ERR["INVALID_K"], "k 0")
    check(lib.ev_search(h, floats(queries[0]), 4, 70000, out_ids, out_dist) == EV_ERR["INVALID_PARAMETER"],
          "ef 70000")
    check(lib.ev_search(h, floats(queries[0]), 4, 0, None, out_dist) == EV_ERR["INVALID_HANDLE"], "NULL ids")
    check(lib.ev_size(999) == EV_ERR["INVALID_HANDLE"], "size of an unknown handle")

    # Save / load.
    data = idx.save()
    check(data[:8] == b"EDGEVEC\0", "magic")
    small = ctypes.create_string_buffer(len(data) - 1)
    check(lib.ev_save(h, small, len(data) - 1) == EV_ERR["BUFFER_TOO_SMALL"], "buffer one byte short")
    h2 = lib.ev_load(data, len(data))
    check(lib.ev_ef_search(h2) == 40, "the stored efSearch, not the handle's setting, survives save/load")
    check(h2 >= 0 and h2 != h, "load: %d" % h2)
    idx2 = Index(lib, h2)
    check(lib.ev_size(h2) == n, "loaded size")
    check(all(idx.search(q, k) == idx2.search(q, k) for q in queries), "loaded index searches identically")
    check(idx2.save() == data, "save(load(bytes)) == bytes")
    check(lib.ev_load(data[:-1], len(data) - 1) == EV_ERR["CORRUPT"], "truncated")
    tampered = bytearray(data)
    tampered[len(data) // 3] ^= 0x40
    check(lib.ev_load(bytes(tampered), len(data)) == EV_ERR["CORRUPT"], "flipped bit")
    check(lib.ev_load(b"", 0) == EV_ERR["CORRUPT"], "empty bytes")
    check(lib.ev_load(None, 0) == EV_ERR["CORRUPT"], "NULL bytes")
    mem = lib.ev_alloc(len(data))
    check(bool(mem) and mem % 16 == 0, "ev_alloc")
    ctypes.memmove(mem, data, len(data))
    h3 = lib.ev_load(mem, len(data))
    lib.ev_dealloc(mem)
    check(h3 >= 0 and lib.ev_size(h3) == n, "load from ev_alloc memory")
    lib.ev_free(h3)

    # Cosine.
    hc = lib.ev_create(dim, 1, 16, 200, 1)
    check(lib.ev_insert_batch(hc, floats(flat), 299) == 0, "cosine batch")
    check(lib.ev_insert(hc, floats([0.0] * dim)) == EV_ERR["ZERO_VECTOR"], "zero vector under cosine")
    ids, dist = Index(lib, hc).search([2.5 * x for x in base[42]], 1)
    check(ids == [41] and abs(dist[0]) < 1e-5, "cosine scaled copy: %r %r" % (ids, dist))  # base[42] is row 41 of flat

    for handle in (h, h2, hc):
        lib.ev_free(handle)
    check(lib.ev_size(h) == EV_ERR["INVALID_HANDLE"], "freed handle")
    lib.ev_free(h)  # ignored


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", default=os.path.join(ROOT, "dist/native/libedgevec.so"))
    parser.add_argument("--header", default=os.path.join(ROOT, "include/edgevec.h"))
    parser.add_argument("--bridge", default=os.path.join(ROOT, "Modules/Bridge"))
    args = parser.parse_args()
    try:
        abi_check(os.path.abspath(args.lib), os.path.abspath(args.header), os.path.abspath(args.bridge))
    except ValueError as error:
        check(False, str(error))
    ctypes_tests(os.path.abspath(args.lib), os.path.abspath(args.header))
    print("Python ctypes + ABI check: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
