// Types for edgevec.mjs, the JavaScript API of EdgeVec (an HNSW vector index
// compiled from Swift to WebAssembly). See docs/JAVASCRIPT.md.

/** Distance measure; smaller is closer for all three. */
export type Metric =
  /** Squared Euclidean distance Σ (aᵢ − bᵢ)² (no square root). */
  | 'l2'
  /** 1 − cos(a, b); vectors and queries are normalised, the zero vector is rejected. */
  | 'cosine'
  /** −Σ aᵢ·bᵢ, the negative inner product. */
  | 'dot';

/**
 * Which build of the module to load: 'dlmalloc' (edgevec.wasm, wasi-libc's
 * malloc, frees and reuses memory) or 'arena' (edgevec-arena.wasm, a bump
 * arena per index: slightly faster inserts, memory freed only with the index).
 */
export type Allocator = 'dlmalloc' | 'arena';

/** Where the module comes from. A string is resolved as a URL relative to edgevec.mjs. */
export type WasmSource = URL | string | BufferSource | WebAssembly.Module;

export interface CreateOptions {
  /** Floats per vector, 1...65536. */
  dimensions: number;
  metric: Metric;
  /** Links per node on the upper layers (layer 0 keeps 2·m), 2...128. Default 16. */
  m?: number;
  /** Beam width while inserting, 1...65536. Default 200. */
  efConstruction?: number;
  /** Default search beam width, 1...65536 (raised to k when smaller). Default 64. Saved with the index. */
  efSearch?: number;
  /** Seed of the level generator (same seed + same inserts = same index). Default 42. */
  seed?: number | bigint;
  /** Module variant. Default 'dlmalloc'. */
  allocator?: Allocator;
  /** Module to use instead of the variant's file next to edgevec.mjs. */
  wasm?: WasmSource;
}

export interface LoadOptions {
  /** Overrides the saved default search beam width for this instance (not saved). */
  efSearch?: number;
  allocator?: Allocator;
  wasm?: WasmSource;
}

export interface SearchOptions {
  /** Beam width for this search, 1...65536 (raised to k when smaller). Default: `efSearch`. */
  ef?: number;
  /**
   * Only vectors whose metadata satisfies this filter (docs/FILTERS.md), e.g.
   * `section = "games" AND size < 200`: filter text (the last one given is kept
   * compiled) or a `compileFilter` result. The search then returns exactly
   * min(k, matching vectors) results.
   */
  filter?: string | CompiledFilter;
  /** Each result carries its `metadata` (`{}` for none). Default false. */
  includeMetadata?: boolean;
}

/** One metadata value: a string, a number, a boolean or a list of strings. */
export type MetadataValue = string | number | boolean | string[];

/**
 * A vector's metadata: a plain object of fields. Names are `[A-Za-z_][A-Za-z0-9_.]*`
 * (at most 64 bytes, not a filter keyword); at most 64 fields, 4,096 UTF-8 bytes per
 * string, 256 strings per list, 65,536 bytes in all. A number is stored as an integer
 * when `Number.isInteger` and within ±(2^53 − 1), as a double otherwise (NaN and
 * ±Infinity are refused). Anything else (null, undefined, objects, mixed arrays,
 * bigints) is INVALID_METADATA.
 */
export type Metadata = { [field: string]: MetadataValue };

/** A vector: a Float32Array or an array of numbers, `dimensions` long. */
export type Vector = Float32Array | number[];

export interface InsertOptions {
  /** The vector's id, an integer in 0...2^53 − 1. Default: one above every id the index has held. */
  id?: number;
  /** The vector's metadata. Default: none. */
  metadata?: Metadata;
}

export interface InsertBatchOptions {
  /** One id per row, integers in 0...2^53 − 1, none present and none twice. */
  ids?: ArrayLike<number>;
  /** One entry per row (undefined: none); invalid metadata in any row rejects the whole batch. */
  metadata?: ArrayLike<Metadata | undefined>;
}

export interface SearchResult {
  /** The vector's id (yours, or the one `insert` assigned: 0, 1, 2, …). */
  id: number;
  /** Distance under the index metric (l2: squared; cosine: 1 − cos; dot: −inner product). */
  distance: number;
  /** The vector's metadata, with `includeMetadata: true` (`{}` when it has none). */
  metadata?: Metadata;
}

/**
 * A filter compiled by `db.compileFilter(text)`, for many searches of that
 * index. It holds memory in the index's WebAssembly instance until `dispose()`
 * (or the index's).
 */
export class CompiledFilter {
  private constructor();
  /** The filter text. */
  readonly text: string;
  /** Whether `dispose()` was called, or the index disposed. */
  readonly disposed: boolean;
  /** Frees the compiled filter; searches with it then throw DISPOSED. Idempotent. */
  dispose(): void;
}

/** Stable error codes. */
export type EdgeVecErrorCode =
  | 'DIMENSION_MISMATCH'  // wrong vector length, or a batch not a multiple of the dimension
  | 'NON_FINITE'          // NaN or ±Infinity in a vector or query
  | 'ZERO_VECTOR'         // the zero vector under cosine
  | 'VECTOR_TOO_LARGE'    // l2/dot: its distances would overflow float32
  | 'INVALID_K'           // k not an integer ≥ 1
  | 'INVALID_OPTION'      // an unknown option or one out of range (also an unusable `wasm`)
  | 'INVALID_ARGUMENT'    // a vector that is not a Float32Array, bytes that are not a Uint8Array, …
  | 'CAPACITY_EXCEEDED'   // more than 2³² − 2 vectors
  | 'DUPLICATE_ID'        // the id is in the index already (or twice in one batch)
  | 'INVALID_ID'          // an id that is not an integer in 0...2^53 − 1
  | 'UNKNOWN_ID'          // update of an id no vector has
  | 'INVALID_FILTER'      // filter text that does not parse
  | 'INVALID_METADATA'    // metadata over a limit or with a bad field name
  | 'OUT_OF_MEMORY'       // WebAssembly memory cannot grow enough; the index is unchanged
  | 'CORRUPT'             // bytes given to load are not a valid index
  | 'IO'                  // file, fetch or IndexedDB failure (see `cause`)
  | 'DISPOSED'            // the index was disposed
  | 'UNSUPPORTED'         // a Node-only helper in a browser, or IndexedDB where there is none
  | 'INTERNAL';           // the module trapped (a bug); the index was disposed

export class EdgeVecError extends Error {
  constructor(code: EdgeVecErrorCode | string, message: string, wasmCode?: number, options?: { cause?: unknown });
  readonly name: 'EdgeVecError';
  readonly code: EdgeVecErrorCode | string;
  /**
   * The module's negative code (−1 … −15 as Swift's EdgeVecError.code, −20 … bridge codes);
   * undefined for UNSUPPORTED and INTERNAL.
   */
  readonly wasmCode: number | undefined;
  /** INVALID_FILTER: the 1-based column (in Unicode code points) where the filter stopped parsing. */
  readonly column?: number;
  /** INVALID_FILTER: what the parser expected there, e.g. 'a value (a string, a number, TRUE or FALSE)'. */
  readonly expected?: string;
}

export class EdgeVec {
  private constructor();

  /** A new, empty index in its own WebAssembly instance. */
  static create(options: CreateOptions): Promise<EdgeVec>;
  /** An index from bytes written by `save()` or by the Swift library / CLI (same format). */
  static load(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: LoadOptions): Promise<EdgeVec>;
  /**
   * Node.js only: reads a file written by `saveFile` or the CLI, after removing
   * stale temporary files of it (`<basename>.tmp-<pid>-<hex>` of dead processes).
   */
  static loadFile(path: string | URL, options?: LoadOptions): Promise<EdgeVec>;
  /** Browsers: reads an index stored by `saveToIndexedDB(name)`. */
  static loadFromIndexedDB(name: string, options?: LoadOptions): Promise<EdgeVec>;

  /** Vectors in the index (removed ones not counted). */
  readonly size: number;
  readonly dimensions: number;
  readonly metric: Metric;
  readonly m: number;
  readonly efConstruction: number;
  /** Default search beam width; setting it affects this instance only (not `save()`). */
  efSearch: number;
  /** The module variant this index runs in. */
  readonly allocator: Allocator;
  /** Bytes of WebAssembly memory this index's instance holds (grows, never shrinks). */
  readonly memoryBytes: number;
  /** Whether `dispose()` was called. */
  readonly disposed: boolean;

  /**
   * Adds one vector under `options.id` or the next id (0, 1, 2, … when ids are never given), with
   * `options.metadata`; returns the id.
   */
  insert(vector: Vector, options?: InsertOptions): number;
  /**
   * Adds n vectors, all or nothing: n × dimensions floats row after row, or n rows. Row i gets
   * `options.ids[i]` or the next ids in order; returns the ids.
   */
  insertBatch(vectors: Float32Array | number[] | Vector[], options?: InsertBatchOptions): Float64Array;
  /** Removes the vector with `id` (never found again; its slot is reused); false when absent. */
  remove(id: number): boolean;
  /** Replaces the vector of `id`, which keeps its id; UNKNOWN_ID when absent. */
  update(id: number, vector: Vector): void;
  /** Whether a vector has `id`. */
  has(id: number): boolean;
  /** A copy of the stored vector of `id` (cosine: normalised, as stored), or undefined. */
  get(id: number): Float32Array | undefined;
  /** The ids of the vectors in the index, a snapshot in slot order. */
  ids(): IterableIterator<number>;
  /** Rebuilds into dense slots, giving removed vectors' memory back to the index; ids unchanged. */
  compact(): void;
  /** Reserves memory for `capacity` vectors in all (exact), so that inserts up to that count allocate nothing. */
  reserve(capacity: number): void;
  /**
   * The k nearest vectors by ascending distance (fewer when the index holds fewer); with a
   * filter, exactly min(k, matching vectors).
   */
  search(query: Vector, k: number, options?: SearchOptions): SearchResult[];
  /**
   * `search` for many queries in one call into the module: n queries (rows), or n × dimensions floats row
   * after row. One result array per query, in order, each what `search` returns for it. Every query is
   * checked first: a bad one throws (the message names its row) and nothing is searched.
   */
  searchBatch(queries: Float32Array | number[] | Vector[], k: number, options?: SearchOptions): SearchResult[][];
  /** Replaces the metadata of `id` (`{}` removes it); UNKNOWN_ID when absent, INVALID_METADATA. */
  setMetadata(id: number, metadata: Metadata): void;
  /** The metadata of `id` (`{}` when none), or undefined when no vector has `id`. */
  getMetadata(id: number): Metadata | undefined;
  /** Compiles filter text once for many searches of this index; INVALID_FILTER with `column` and `expected`. */
  compileFilter(text: string): CompiledFilter;

  /** The index as bytes (EdgeVec format v3, as native files). */
  save(): Uint8Array;
  /**
   * Node.js only: writes `save()` to a file atomically (temporary file
   * `<basename>.tmp-<pid>-<16 hex>` in the same directory, fsync, rename), after
   * removing stale temporary files of it left by dead processes.
   */
  saveFile(path: string | URL): Promise<void>;
  /** Browsers: stores `save()` in IndexedDB (database 'edgevec', object store 'indexes') under `name`. */
  saveToIndexedDB(name: string): Promise<void>;

  /** Allocation calls (and the bytes they asked for) and frees of this index's module; null unless built with `make wasm ALLOCATION_COUNTER=1`. */
  allocationStats(): { allocations: number; bytes: number; frees: number } | null;

  /** Frees the index and its WebAssembly instance; later calls throw DISPOSED. Idempotent. */
  dispose(): void;
}

// ---------------------------------------------------------------------------
// EdgeVecWorker: the runtime class is in edgevec-worker.mjs (typed by
// edgevec-worker.d.ts, which re-exports these declarations).

/** `transfer: true` moves the typed arrays' buffers to the worker (detached here) instead of copying them. */
export interface TransferOption {
  transfer?: boolean;
}

/** A filter compiled in the worker by `EdgeVecWorker.compileFilter`, for that index's searches. */
export class WorkerCompiledFilter {
  private constructor();
  readonly text: string;
  readonly disposed: boolean;
  /** Frees it in the worker; searches with it then reject with DISPOSED. */
  dispose(): Promise<void>;
}

export interface WorkerSearchOptions extends Omit<SearchOptions, 'filter'>, TransferOption {
  filter?: string | WorkerCompiledFilter;
}

/**
 * An EdgeVec index in a Web Worker (browsers) or a worker_threads Worker
 * (Node): the methods of EdgeVec, returning promises that settle in call
 * order; failures reject with the same EdgeVecError (code, wasmCode,
 * message, column/expected). One worker per index.
 */
export class EdgeVecWorker {
  private constructor();

  static create(options: CreateOptions): Promise<EdgeVecWorker>;
  static load(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: LoadOptions & TransferOption): Promise<EdgeVecWorker>;
  /** Node.js only: the file is read in the worker. */
  static loadFile(path: string | URL, options?: LoadOptions): Promise<EdgeVecWorker>;
  /** Browsers: read in the worker. */
  static loadFromIndexedDB(name: string, options?: LoadOptions): Promise<EdgeVecWorker>;

  /** As of the last completed call. */
  readonly size: number;
  /** As of the last completed call. */
  readonly memoryBytes: number;
  /** As of the last completed call; change it with `setEfSearch`. */
  readonly efSearch: number;
  readonly dimensions: number;
  readonly metric: Metric;
  readonly m: number;
  readonly efConstruction: number;
  readonly allocator: Allocator;
  /** Whether `dispose()`/`terminate()` was called or the worker ended. */
  readonly disposed: boolean;

  insert(vector: Vector, options?: InsertOptions & TransferOption): Promise<number>;
  insertBatch(vectors: Float32Array | number[] | Vector[], options?: InsertBatchOptions & TransferOption): Promise<Float64Array>;
  remove(id: number): Promise<boolean>;
  update(id: number, vector: Vector): Promise<void>;
  has(id: number): Promise<boolean>;
  get(id: number): Promise<Float32Array | undefined>;
  ids(): Promise<IterableIterator<number>>;
  compact(): Promise<void>;
  reserve(capacity: number): Promise<void>;
  setEfSearch(value: number): Promise<void>;
  search(query: Vector, k: number, options?: WorkerSearchOptions): Promise<SearchResult[]>;
  searchBatch(queries: Float32Array | number[] | Vector[], k: number, options?: WorkerSearchOptions): Promise<SearchResult[][]>;
  setMetadata(id: number, metadata: Metadata): Promise<void>;
  getMetadata(id: number): Promise<Metadata | undefined>;
  compileFilter(text: string): Promise<WorkerCompiledFilter>;
  /** The index's bytes, transferred from the worker. */
  save(): Promise<Uint8Array>;
  /** Node.js only: written by the worker, atomically as `EdgeVec.saveFile`. */
  saveFile(path: string | URL): Promise<void>;
  saveToIndexedDB(name: string): Promise<void>;
  allocationStats(): Promise<{ allocations: number; bytes: number; frees: number } | null>;
  /** Ends the worker and frees everything; pending and later calls reject with DISPOSED. Idempotent. */
  dispose(): Promise<void>;
  /** The same as `dispose()`. */
  terminate(): Promise<void>;
}
