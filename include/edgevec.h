/*
 * edgevec.h: the C ABI of EdgeVec, an embedded HNSW vector index.
 *
 * Hand-written to match Modules/Bridge/Bridge.swift (the `@_cdecl` exports);
 * `make test-native` checks that every export is declared here with the same
 * parameter and return types, and that the shared library exports exactly
 * these functions. The wasm module (`make wasm`) exports the same functions.
 *
 * Build: `make native` leaves dist/native/libedgevec.so next to this header.
 * The library is self-contained (the Swift runtime is linked in statically and
 * hidden; it needs only libc, libm, libstdc++ and libgcc_s), so a C program
 * links it with
 *
 *     cc -I dist/native app.c -L dist/native -ledgevec -Wl,-rpath,"$PWD/dist/native"
 *
 * (or -Wl,-rpath,'$ORIGIN' when libedgevec.so is installed next to the program)
 * and Python loads it with ctypes.CDLL("dist/native/libedgevec.so").
 *
 * Conventions
 * -----------
 * - Every `int32_t` and `int64_t` result is >= 0 on success or a negative
 *   EV_ERR_* code.
 *   ev_error_message() turns a code into a sentence; ev_last_error_message()
 *   gives the calling thread's most recent failure's detailed one (for
 *   EV_ERR_CORRUPT, why).
 * - An index is named by a handle, a positive integer returned by ev_create()
 *   or ev_load() and valid until ev_free(). A handle carries a generation:
 *   once freed it is refused (EV_ERR_INVALID_HANDLE) for good, even when a
 *   later index takes its slot, and a forged handle is refused unless it
 *   equals a live one. At most 65,536 indexes are live at once.
 * - Vectors are `dimension` consecutive floats; a batch is `count` vectors
 *   stored row after row.
 * - Ids are uint64_t values 0 ... 2^53 - 1 (EV_MAX_ID, so that every id is an
 *   exact JavaScript number) of the caller's choosing (ev_insert_with_id), or
 *   assigned: one above every id the index has ever held, so 0, 1, 2, ... for
 *   a caller who never gives one. Calls that return an id return int64_t.
 * - Metrics (smaller is closer): EV_METRIC_L2 squared Euclidean distance,
 *   EV_METRIC_COSINE 1 - cos(a, b) (vectors and queries are normalised; the
 *   zero vector is rejected), EV_METRIC_DOT the negative inner product.
 * - A rejected call leaves the index exactly as it was.
 * - Metadata (named fields per vector) crosses the ABI in its binary form
 *   (see "Metadata" below); filters cross as UTF-8 text, compiled once into a
 *   filter handle (ev_compile_filter) that any index's ev_search_filtered
 *   takes. See docs/FILTERS.md for the filter language and the limits.
 *
 * Buffer ownership
 * ----------------
 * - Pointers passed in (vectors, queries, result buffers, serialized bytes)
 *   stay owned by the caller; they are only used during the call and never
 *   retained, so the caller may reuse or free them as soon as it returns.
 * - ev_input(), ev_input_ids(), ev_input_bytes(), ev_output(), ev_output_distances() and
 *   ev_output_bytes() return buffers owned
 *   by the handle (see there); ev_alloc() returns memory owned by the caller,
 *   released with ev_dealloc().
 * - ev_error_message() returns static strings; never free them.
 *   ev_last_error_message() returns library-owned text, valid until the
 *   calling thread's next failing call; never free it.
 * - Nothing returned by the library is to be passed to free().
 *
 * Thread safety
 * -------------
 * The native library may be called from any number of threads (the wasm
 * module is single-threaded: one thread per instance).
 * - Process-wide state is safe to share: the handle table (every call looks
 *   its handle up under one short internal lock; ev_create, ev_load,
 *   ev_compile_filter, ev_free and ev_free_filter change it under that lock)
 *   and the tables built on first use (CRC-32C, the filter parser's). Calls
 *   on different handles never interfere, and a compiled filter may serve
 *   any number of threads' ev_search_filtered at once.
 * - ev_last_error_message() is per thread: it returns the message of the
 *   calling thread's own most recent failed call, never another thread's.
 * - Freeing a handle while another thread is inside a call on it is safe:
 *   that call keeps the index (or filter) alive and completes normally, with
 *   the result it would have had; calls that start after ev_free (or
 *   ev_free_filter) fail with EV_ERR_INVALID_HANDLE. The handle's own buffers
 *   (below) must not be used after ev_free.
 * - On one index handle, any calls may overlap, with one exception: the
 *   handle's own staging and result buffers. The index orders overlapping
 *   calls itself (searches and other reads run side by side; inserts,
 *   removes, updates, ev_reserve, ev_compact and ev_set_metadata run one at
 *   a time, never beside a search), and ev_set_ef_search may change the
 *   default ef while other threads search. A change waits for the searches
 *   under way, and searches that start while it waits wait behind it, so a
 *   stream of searches cannot starve an insert.
 * - The handle's own buffers are the host's to guard: calls that hand out or
 *   grow them (ev_input, ev_input_ids, ev_input_bytes, ev_output,
 *   ev_output_distances, ev_output_bytes), ev_get_metadata (which fills one),
 *   and any call the host passes one of these buffers to must not overlap
 *   another such call on the same handle. Threads that search one index
 *   concurrently pass their own query and result buffers.
 * ev_error_message() and ev_allocator_kind() touch no state at all.
 */
#ifndef EDGEVEC_H
#define EDGEVEC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Metrics for ev_create() and ev_metric(). */
#define EV_METRIC_L2     0
#define EV_METRIC_COSINE 1
#define EV_METRIC_DOT    2

/* Allocators reported by ev_allocator_kind(). */
#define EV_ALLOCATOR_SYSTEM     0   /* the C library's malloc (dlmalloc in wasm) */
#define EV_ALLOCATOR_JEMALLOC   1
#define EV_ALLOCATOR_BUMP_ARENA 2

/* The largest id: 2^53 - 1. */
#define EV_MAX_ID 9007199254740991ULL

/* ev_insert_with_metadata: assign the next id (as ev_insert does). */
#define EV_NEXT_ID UINT64_MAX

/* Metadata type bytes of the binary form (see "Metadata" below). */
#define EV_META_STRING  1
#define EV_META_INTEGER 2
#define EV_META_DOUBLE  3
#define EV_META_BOOL    4
#define EV_META_STRINGS 5

/* Error codes (stable; -16 ... -19 are reserved for the core). */
#define EV_ERR_DIMENSION_MISMATCH  (-1)   /* wrong vector length (not returned here: the ABI always reads `dimension` floats) */
#define EV_ERR_NON_FINITE          (-2)   /* NaN or infinity in a vector or query */
#define EV_ERR_ZERO_VECTOR         (-3)   /* the zero vector under the cosine metric */
#define EV_ERR_INVALID_K           (-4)   /* k < 1 */
#define EV_ERR_INVALID_PARAMETER   (-5)   /* dimension, m, ef_construction, ef_search, ef, count or a length out of range */
#define EV_ERR_CAPACITY_EXCEEDED   (-6)   /* the index is full (4294967294 vectors) */
#define EV_ERR_OUT_OF_MEMORY       (-7)   /* allocation failed, or a size beyond int32; the index is unchanged */
#define EV_ERR_CORRUPT             (-8)   /* bytes given to ev_load are not a valid HNSW index */
#define EV_ERR_IO                  (-9)   /* file operation failed (not returned by these functions) */
#define EV_ERR_VECTOR_TOO_LARGE    (-10)  /* its l2/dot distances would overflow float32 */
#define EV_ERR_DUPLICATE_ID        (-11)  /* the id is in the index already (or twice in one batch) */
#define EV_ERR_INVALID_ID          (-12)  /* the id is above EV_MAX_ID (or assigned ids ran out) */
#define EV_ERR_UNKNOWN_ID          (-13)  /* no vector has the id */
#define EV_ERR_INVALID_FILTER      (-14)  /* filter text that does not parse (ev_last_error_message: column and what was expected) */
#define EV_ERR_INVALID_METADATA    (-15)  /* metadata over a limit or with a bad field name (ev_last_error_message: which) */
#define EV_ERR_INVALID_HANDLE      (-20)  /* unknown or freed handle (index or filter), or a NULL pointer argument */
#define EV_ERR_INVALID_METRIC      (-21)  /* metric is not 0, 1 or 2 */
#define EV_ERR_BUFFER_TOO_SMALL    (-22)  /* ev_save: capacity < ev_save_size(); ev_ids: capacity < ev_size() */

/* ------------------------------------------------------------------ lifecycle */

/*
 * Creates an empty HNSW index; the same as ev_create_with_ef_search() with
 * ef_search = 64.
 */
int32_t ev_create(int32_t dimension, int32_t metric, int32_t m, int32_t ef_construction, uint64_t seed);

/*
 * Creates an empty HNSW index.
 *   dimension        floats per vector, 1 ... 65536
 *   metric           EV_METRIC_L2, EV_METRIC_COSINE or EV_METRIC_DOT
 *   m                links per node on the upper layers, 2 ... 128 (layer 0 keeps 2*m); 16 is typical
 *   ef_construction  beam width while inserting, 1 ... 65536; 200 is typical
 *   ef_search        default search beam width, 1 ... 65536 (64 is typical);
 *                    stored in the index and in its serialized bytes
 *   seed             seed of the level generator: the same parameters, seed
 *                    and inserts give the same index, byte for byte
 * Returns a handle > 0, or EV_ERR_INVALID_METRIC, EV_ERR_INVALID_PARAMETER
 * (a parameter out of range), EV_ERR_OUT_OF_MEMORY (also when 65,536 indexes
 * are live).
 */
int32_t ev_create_with_ef_search(int32_t dimension, int32_t metric, int32_t m, int32_t ef_construction,
                                 int32_t ef_search, uint64_t seed);

/*
 * Loads an HNSW index from `length` serialized bytes (ev_save() output or an
 * `edgevec build` file, from any platform; flat indexes are not accepted).
 * The bytes are copied: the caller keeps its buffer. The new handle's default
 * ef (ev_ef_search) is the efSearch stored in the bytes.
 * Every field, count, id, level and vector is checked before use (vectors as
 * ev_insert checks them; cosine vectors must be stored unit length), in every
 * build, so no byte string can crash the library or load an index that
 * returns impossible distances.
 * Returns a new handle > 0, or EV_ERR_CORRUPT (truncated, altered, foreign
 * or flat-index bytes, length < 0, or bytes == NULL; ev_last_error_message()
 * says which field, vector or node is wrong), EV_ERR_OUT_OF_MEMORY.
 */
int32_t ev_load(const void *bytes, int32_t length);

/*
 * Frees an index and its staging and result buffers (pointers from ev_input,
 * ev_input_ids, ev_input_bytes, ev_output, ev_output_distances and
 * ev_output_bytes become invalid); the handle becomes
 * invalid for good (later calls with it return EV_ERR_INVALID_HANDLE, whatever
 * was created since). Unknown and already freed handles (and filter handles,
 * see ev_free_filter) are ignored.
 */
void ev_free(int32_t handle);

/* ------------------------------------------------------------------ inserting */

/*
 * Returns the staging buffer with room for `count` vectors (count * dimension
 * floats, 64-byte aligned), owned by the handle, for hosts that cannot pass
 * their own memory (wasm). Write vectors or a query into it, then pass it to
 * ev_insert, ev_insert_batch or ev_search. C hosts may pass their own
 * buffers instead. The buffer is reused and grown only for a larger count:
 * the pointer stays valid until an ev_input() call on this handle that asks
 * for more room than before (its contents are then not kept) or ev_free().
 * Do not free it.
 * Returns NULL for an unknown handle, count < 1, or when memory runs out (the
 * previous buffer then stays valid).
 */
float *ev_input(int32_t handle, int32_t count);

/*
 * Inserts one vector of `dimension` floats (read during the call only) under
 * the next id (ev_next_id: 0, 1, 2, ... when ids are never given). A removed
 * vector's slot is reused.
 * Returns its id, or EV_ERR_INVALID_HANDLE (unknown handle or vector == NULL),
 * EV_ERR_NON_FINITE, EV_ERR_ZERO_VECTOR (cosine), EV_ERR_VECTOR_TOO_LARGE,
 * EV_ERR_INVALID_ID (the next id would pass EV_MAX_ID),
 * EV_ERR_CAPACITY_EXCEEDED, EV_ERR_OUT_OF_MEMORY.
 */
int64_t ev_insert(int32_t handle, const float *vector);

/*
 * Inserts one vector under `id` (0 ... EV_MAX_ID).
 * Returns `id`, or EV_ERR_DUPLICATE_ID (a vector has it), EV_ERR_INVALID_ID
 * (id > EV_MAX_ID), or the errors of ev_insert.
 */
int64_t ev_insert_with_id(int32_t handle, const float *vector, uint64_t id);

/*
 * Inserts `count` vectors stored row after row (count * dimension floats),
 * all or nothing: on any error no vector is added. The rows get consecutive
 * ids starting at the returned first id (the next id); count == 0 inserts
 * nothing and returns the next id.
 * Returns the first id, or EV_ERR_INVALID_HANDLE (unknown handle or
 * vectors == NULL), EV_ERR_INVALID_PARAMETER (count < 0), EV_ERR_OUT_OF_MEMORY
 * (also when count * dimension overflows the address space), or the errors
 * of ev_insert.
 */
int64_t ev_insert_batch(int32_t handle, const float *vectors, int32_t count);

/*
 * Returns the id staging buffer with room for `count` ids (uint64_t, 64-byte
 * aligned), owned by the handle, for ev_insert_batch_with_ids from hosts that
 * cannot pass their own memory (wasm); the same rules as ev_input().
 * Returns NULL for an unknown handle, count < 1, or when memory runs out.
 */
uint64_t *ev_input_ids(int32_t handle, int32_t count);

/*
 * ev_insert_batch with the caller's ids: row i gets ids[i]. All or nothing:
 * an id present, given twice, or above EV_MAX_ID rejects the whole batch.
 * Returns the first id (ids[0]; count == 0: the next id), or
 * EV_ERR_INVALID_HANDLE (also ids == NULL), EV_ERR_DUPLICATE_ID,
 * EV_ERR_INVALID_ID, or the errors of ev_insert_batch.
 */
int64_t ev_insert_batch_with_ids(int32_t handle, const float *vectors, int32_t count, const uint64_t *ids);

/*
 * Reserves memory for `capacity` vectors in all, exactly, so that inserts up
 * to that count (and searches with ef up to efConstruction) allocate nothing.
 * The graph built afterwards is the same as without it. Inserts past the
 * capacity grow the index again. capacity <= size does nothing.
 * Returns 0, EV_ERR_INVALID_HANDLE, EV_ERR_INVALID_PARAMETER (capacity < 0)
 * or EV_ERR_OUT_OF_MEMORY (the index is unchanged).
 */
int32_t ev_reserve(int32_t handle, int32_t capacity);

/* ------------------------------------------------------------------ removing, updating, reading back */

/*
 * Removes the vector with `id`: it is never returned by a search again, and
 * its slot is reused by later inserts (removed slots are unlinked from the
 * graph in batches; past a quarter of the slots removed the index compacts).
 * Returns 1, 0 when no vector has `id` (nothing changes), or
 * EV_ERR_INVALID_HANDLE. Removing the last vector leaves an empty index.
 */
int32_t ev_remove(int32_t handle, uint64_t id);

/*
 * Replaces the vector of `id` with `vector` (dimension floats); the id stays.
 * Returns 0, or EV_ERR_UNKNOWN_ID, EV_ERR_INVALID_HANDLE (also vector == NULL),
 * EV_ERR_NON_FINITE, EV_ERR_ZERO_VECTOR (cosine), EV_ERR_VECTOR_TOO_LARGE,
 * EV_ERR_OUT_OF_MEMORY; the index is unchanged on any error.
 */
int32_t ev_update(int32_t handle, uint64_t id, const float *vector);

/* 1 when a vector has `id`, 0 when none does, or EV_ERR_INVALID_HANDLE. */
int32_t ev_contains(int32_t handle, uint64_t id);

/*
 * Copies the stored vector of `id` (dimension floats; cosine indexes store
 * and return it normalised to unit length) to `out`.
 * Returns 1, 0 when no vector has `id` (out untouched), or
 * EV_ERR_INVALID_HANDLE (also out == NULL).
 */
int32_t ev_get(int32_t handle, uint64_t id, float *out);

/*
 * Writes the ids of the vectors in the index (in slot order: insertion order
 * until slots are reused) to `out`, which has room for `capacity` ids.
 * Returns how many (ev_size), or EV_ERR_INVALID_HANDLE (also out == NULL),
 * EV_ERR_BUFFER_TOO_SMALL (capacity < ev_size(); nothing written).
 */
int32_t ev_ids(int32_t handle, uint64_t *out, int32_t capacity);

/* Slots of removed vectors not yet reused or compacted away, or EV_ERR_INVALID_HANDLE. */
int32_t ev_removed_count(int32_t handle);

/*
 * Bytes of memory the index holds (vectors, graph, ids, search scratch; not
 * the handle's staging and result buffers), or EV_ERR_INVALID_HANDLE.
 */
int64_t ev_memory_bytes(int32_t handle);

/* The id the next ev_insert gets (one above every id held so far), or EV_ERR_INVALID_HANDLE. */
int64_t ev_next_id(int32_t handle);

/*
 * Rebuilds the index from its vectors into dense slots, giving the memory of
 * removed ones back; no id changes. Costs what building the vectors anew
 * costs, and that much memory besides the index while it runs.
 * Returns 0, EV_ERR_INVALID_HANDLE or EV_ERR_OUT_OF_MEMORY (the index is unchanged).
 */
int32_t ev_compact(int32_t handle);

/* ------------------------------------------------------------------ searching */

/*
 * Returns the result buffer for `k` hits: room for k ids (uint64_t), with the k
 * distances in the parallel buffer ev_output_distances() returns. Owned by the
 * handle, for hosts that cannot pass their own memory (wasm); reused and grown
 * only for a larger k (contents then not kept). Both pointers stay valid until
 * an ev_output() call that needs more room or ev_free(). Do not free them.
 * Returns NULL for an unknown handle, k < 1, or when memory runs out (the
 * previous buffers then stay valid). A search never returns more than
 * min(k, size) hits, so min(k, size) is enough.
 */
uint64_t *ev_output(int32_t handle, int32_t k);

/*
 * The distances half of the result buffer (see ev_output); NULL before the
 * first successful ev_output() on this handle, or for an unknown handle.
 */
float *ev_output_distances(int32_t handle);

/*
 * Searches for the k nearest neighbours of `query` (dimension floats).
 *   k             number of neighbours wanted, >= 1
 *   ef            beam width, 1 ... 65536, raised to k when smaller;
 *                 ef <= 0 uses the handle's default (ev_ef_search)
 *   out_ids       buffer with room for min(k, size) ids (e.g. ev_output)
 *   out_distances buffer with room for min(k, size) distances
 * Writes min(k, size) results, nearest first (ascending distance; ties in no
 * particular order), and returns how many; entries past that count are left
 * untouched.
 * Returns EV_ERR_INVALID_HANDLE (unknown handle or a NULL pointer),
 * EV_ERR_INVALID_K, EV_ERR_INVALID_PARAMETER (ef > 65536),
 * EV_ERR_NON_FINITE, EV_ERR_ZERO_VECTOR (cosine), EV_ERR_VECTOR_TOO_LARGE,
 * EV_ERR_OUT_OF_MEMORY.
 */
int32_t ev_search(int32_t handle, const float *query, int32_t k, int32_t ef,
                  uint64_t *out_ids, float *out_distances);

/*
 * Sets the handle's default search beam width (used when ev_search gets
 * ef <= 0) to 1 ... 65536. Only this handle changes: serialized bytes keep the
 * efSearch the index was created with.
 * Returns 0, EV_ERR_INVALID_HANDLE or EV_ERR_INVALID_PARAMETER.
 */
int32_t ev_set_ef_search(int32_t handle, int32_t ef);

/* ------------------------------------------------------------------ metadata */

/*
 * Metadata: each vector may carry named fields, each a string, an integer
 * within +-(2^53 - 1), a finite double, a bool, or a list of strings. Field
 * names are [A-Za-z_][A-Za-z0-9_.]*, at most 64 bytes, not a keyword of the
 * filter language (AND OR NOT IN BETWEEN CONTAINS IS NULL TRUE FALSE, any
 * case), each at most once per vector. Limits: 64 fields per vector, 4,096
 * bytes per string (and per string of a list), 256 strings per list, 65,536
 * bytes per vector (names, strings, and 8 per number, bool or list entry).
 * Metadata stays with its id through ev_update, slot reuse, ev_compact,
 * ev_save and ev_load; ev_remove drops it.
 *
 * The binary form of one vector's metadata (little-endian):
 *
 *     u8   field count (<= 64; 0: no metadata)
 *     per field:
 *       u8   name length, then the name's bytes
 *       u8   type: EV_META_STRING, EV_META_INTEGER, EV_META_DOUBLE, EV_META_BOOL, EV_META_STRINGS
 *       EV_META_STRING:  u32 byte length (<= 4096), UTF-8 bytes
 *       EV_META_INTEGER: i64 (within +-(2^53 - 1))
 *       EV_META_DOUBLE:  f64 (finite)
 *       EV_META_BOOL:    u8, 0 or 1
 *       EV_META_STRINGS: u16 string count (<= 256), then each string as for EV_META_STRING
 *
 * e.g. { section: "games", size: 120 } is
 *     02  07 "section" 01 05 00 00 00 "games"  04 "size" 02 78 00 00 00 00 00 00 00
 * The library checks every byte before anything changes: a length that runs
 * past the end, an unknown type, a bool other than 0 or 1, a string that is
 * not UTF-8, a non-finite double, an integer out of range, a bad or repeated
 * name, or a limit passed is EV_ERR_INVALID_METADATA, and
 * ev_last_error_message() says which ("invalid metadata: malformed binary
 * metadata at byte 12", "invalid metadata: invalid field name \"AND\"", ...).
 */

/*
 * Returns the byte staging buffer with room for `count` bytes (16-byte
 * aligned), owned by the handle, for metadata and filter text from hosts that
 * cannot pass their own memory (wasm); the same rules as ev_input().
 * Returns NULL for an unknown handle, count < 1, or when memory runs out.
 */
uint8_t *ev_input_bytes(int32_t handle, int32_t count);

/*
 * Inserts one vector with metadata: `length` bytes of one binary form (a
 * single 0 byte for none). `id` is the vector's id (0 ... EV_MAX_ID), or
 * EV_NEXT_ID for the next id, as ev_insert gives.
 * Returns the id, or EV_ERR_INVALID_METADATA, EV_ERR_INVALID_HANDLE (also
 * vector or metadata NULL), EV_ERR_INVALID_PARAMETER (length < 0), or the
 * errors of ev_insert_with_id (ev_insert for EV_NEXT_ID). Nothing changes on
 * any error.
 */
int64_t ev_insert_with_metadata(int32_t handle, const float *vector, uint64_t id, const void *metadata,
                                int32_t length);

/*
 * Inserts `count` vectors row after row with metadata, all or nothing:
 * `metadata` holds `count` binary forms back to back, `length` bytes in all,
 * the i-th for row i (a single 0 byte for a row without metadata). Row i gets
 * ids[i], or, with ids == NULL, consecutive ids from the next one. On any
 * error (bad metadata in any row or bytes left over, a bad vector or id)
 * nothing is added; for bad metadata ev_last_error_message() names the row
 * ("invalid metadata in row 3: ...") and byte offsets count from the start
 * of `metadata`. The same index as inserting the rows one by one with
 * ev_insert_with_metadata.
 * Returns the first id (count == 0: the next id), or EV_ERR_INVALID_METADATA,
 * EV_ERR_INVALID_HANDLE (also vectors or metadata NULL), or the errors of
 * ev_insert_batch_with_ids (ev_insert_batch with ids == NULL).
 */
int64_t ev_insert_batch_with_metadata(int32_t handle, const float *vectors, int32_t count, const uint64_t *ids,
                                      const void *metadata, int32_t length);

/*
 * Replaces the metadata of `id` with `length` bytes of one binary form (a
 * single 0 byte removes it).
 * Returns 0, or EV_ERR_UNKNOWN_ID, EV_ERR_INVALID_METADATA, EV_ERR_INVALID_HANDLE
 * (also metadata == NULL), EV_ERR_INVALID_PARAMETER (length < 0),
 * EV_ERR_OUT_OF_MEMORY; the index is unchanged on any error.
 */
int32_t ev_set_metadata(int32_t handle, uint64_t id, const void *metadata, int32_t length);

/*
 * Writes the metadata of `id` in binary form (fields in the order the index
 * first saw their names) to the handle's byte output buffer, ev_output_bytes().
 * Returns its length (>= 1; a vector without metadata gives the single byte 0),
 * 0 when no vector has `id`, or EV_ERR_INVALID_HANDLE, EV_ERR_OUT_OF_MEMORY.
 */
int32_t ev_get_metadata(int32_t handle, uint64_t id);

/*
 * The byte output buffer, owned by the handle: what the last successful
 * ev_get_metadata() wrote. Valid until the next ev_get_metadata() on this
 * handle or ev_free(); do not free it. NULL before the first ev_get_metadata()
 * that found metadata, or for an unknown handle.
 */
uint8_t *ev_output_bytes(int32_t handle);

/* ------------------------------------------------------------------ filters */

/*
 * Compiles `length` bytes of UTF-8 filter text (not NUL-terminated; see
 * docs/FILTERS.md for the language), e.g.
 *     section = "games" AND installed_size_kib < 200
 * into a filter handle for ev_search_filtered(), usable with every index
 * until ev_free_filter(). Compile once, search many times.
 * Filter handles share the handle table with indexes (65,536 live handles in
 * all) and carry a generation too: once freed they are refused for good, and
 * an index handle is never a filter handle or the other way round.
 * Returns a filter handle > 0, or EV_ERR_INVALID_FILTER (the text does not
 * parse; ev_last_error_message() gives the 1-based column, counted in Unicode
 * scalars, and what was expected there:
 * "invalid filter at column 11: expected a value (a string, a number, TRUE or FALSE)"),
 * EV_ERR_INVALID_HANDLE (text == NULL), EV_ERR_INVALID_PARAMETER (length < 0),
 * EV_ERR_OUT_OF_MEMORY.
 */
int32_t ev_compile_filter(const char *text, int32_t length);

/* Frees a filter handle; unknown and freed handles (and index handles) are ignored. */
void ev_free_filter(int32_t filter);

/*
 * ev_search over the vectors whose metadata satisfies the compiled filter
 * `filter` (from ev_compile_filter): writes min(k, matching vectors) results,
 * nearest first, and returns how many. Every search evaluates the filter over
 * the index's metadata columns (O(size)), then scans the matches exactly when
 * they are few (at most ef * 2M) and otherwise walks the graph over matching
 * nodes; either way the count is exact, never short (docs/FILTERS.md).
 * Returns the count, or the errors of ev_search (EV_ERR_INVALID_HANDLE also
 * for a filter handle that is not live).
 */
int32_t ev_search_filtered(int32_t handle, const float *query, int32_t k, int32_t ef, int32_t filter,
                           uint64_t *out_ids, float *out_distances);

/* ------------------------------------------------------------------ batch search */

/*
 * Searches `count` queries at once (one boundary crossing; natively on several threads).
 *   queries        count * dimension floats, row after row
 *   count          >= 0 (0 returns 0 and writes nothing)
 *   k, ef          as ev_search, the same for every query (ef <= 0: the handle's default)
 *   filter         0, or a compiled filter handle as in ev_search_filtered
 *   threads        native hosts: threads to use, 0 = all cores, at most 1024 (never more than count);
 *                  the wasm module runs one thread and ignores it
 *   out_ids        room for count * k ids: query i's hits at [i*k, i*k + out_counts[i])
 *   out_distances  room for count * k distances, the same layout
 *   out_counts     room for count int32: hits per query, each min(k, size) (fewer for a filter that matches fewer)
 * Each query's hits are exactly what ev_search (ev_search_filtered with a
 * filter) returns for it with the same k and ef, nearest first; entries past
 * a query's count are left untouched.
 * Every query is validated before any search runs; on an error nothing is written.
 * Returns count, EV_ERR_INVALID_HANDLE (unknown handle, a NULL pointer, a filter handle that is not one),
 * EV_ERR_INVALID_K, EV_ERR_INVALID_PARAMETER (ef > 65536, negative count, threads outside 0 ... 1024,
 * count * k overflowing int32),
 * EV_ERR_NON_FINITE, EV_ERR_ZERO_VECTOR (cosine), EV_ERR_VECTOR_TOO_LARGE, EV_ERR_OUT_OF_MEMORY.
 * For a bad query ev_last_error_message() names its row ("query row 3: non-finite value (NaN or
 * infinity) at position 5", "zero vector at row 3 has no direction under the cosine metric").
 * Natively the rows are shared among the threads in chunks, all under one read lock of the index
 * (a change waits for the whole batch); see "Thread safety" above.
 */
int32_t ev_search_batch(int32_t handle, const float *queries, int32_t count, int32_t k, int32_t ef,
                        int32_t filter, int32_t threads, uint64_t *out_ids, float *out_distances, int32_t *out_counts);

/* ------------------------------------------------------------------ properties */

/* Number of vectors in the index (removed ones not counted), or EV_ERR_INVALID_HANDLE. */
int32_t ev_size(int32_t handle);

/* The index dimension, or EV_ERR_INVALID_HANDLE. */
int32_t ev_dimension(int32_t handle);

/* The metric (EV_METRIC_*), or EV_ERR_INVALID_HANDLE. */
int32_t ev_metric(int32_t handle);

/* M, or EV_ERR_INVALID_HANDLE. */
int32_t ev_m(int32_t handle);

/* efConstruction, or EV_ERR_INVALID_HANDLE. */
int32_t ev_ef_construction(int32_t handle);

/*
 * The handle's default search beam width: the index's efSearch until
 * ev_set_ef_search() changes it; or EV_ERR_INVALID_HANDLE.
 */
int32_t ev_ef_search(int32_t handle);

/* ------------------------------------------------------------------ persistence */

/*
 * Bytes ev_save() will write for the index as it is now, or
 * EV_ERR_INVALID_HANDLE, or EV_ERR_OUT_OF_MEMORY when the serialized form
 * could exceed INT32_MAX bytes (such an index cannot be saved through this ABI).
 */
int32_t ev_save_size(int32_t handle);

/*
 * Serializes the index into the caller's buffer `out` of `capacity` bytes, in
 * the EdgeVec format (version 3, little-endian, CRC-32C checked): the same
 * bytes `edgevec build` writes to a file, loadable by ev_load() and by the
 * CLI on any platform, wasm included.
 * Returns the number of bytes written (== ev_save_size()), or
 * EV_ERR_INVALID_HANDLE (unknown handle or out == NULL),
 * EV_ERR_BUFFER_TOO_SMALL (capacity < ev_save_size(); nothing is written),
 * EV_ERR_OUT_OF_MEMORY.
 */
int32_t ev_save(int32_t handle, void *out, int32_t capacity);

/* ------------------------------------------------------------------ memory and misc */

/*
 * `bytes` bytes (16-byte aligned) from the library's C allocator, for hosts
 * that need memory inside the module (wasm: bytes for ev_load, a buffer for
 * ev_save). Owned by the caller; release with ev_dealloc(), never free().
 * Returns NULL when memory runs out or bytes < 0.
 */
void *ev_alloc(int32_t bytes);

/* Frees a block from ev_alloc(); NULL is ignored. */
void ev_dealloc(void *pointer);

/*
 * The allocator new indexes use in this build (fixed when the library is
 * built): EV_ALLOCATOR_SYSTEM, EV_ALLOCATOR_JEMALLOC or EV_ALLOCATOR_BUMP_ARENA.
 * dist/native/libedgevec.so uses EV_ALLOCATOR_SYSTEM.
 */
int32_t ev_allocator_kind(void);

/*
 * A static, NUL-terminated English sentence for an error code: "ok" for
 * codes >= 0, "unknown error" for unknown negative codes. Never NULL; never
 * free it.
 */
const char *ev_error_message(int32_t code);

/*
 * The message of the calling thread's most recent failed call (each thread
 * has its own), NUL-terminated, with the details ev_error_message() leaves
 * out: for EV_ERR_CORRUPT the reason (e.g. "corrupt index data: invalid
 * header field dimension (70000)"), for EV_ERR_NON_FINITE the position, and
 * so on. Empty for the bridge's own codes (-20 ...) and before the thread's
 * first failure. Valid until the thread's next failing call (or its exit);
 * never NULL; never free it.
 */
const char *ev_last_error_message(void);

#ifdef __cplusplus
}
#endif

#endif /* EDGEVEC_H */
