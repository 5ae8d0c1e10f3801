// EdgeVec for JavaScript: an HNSW vector index compiled from Swift (Embedded
// Swift, wasm32 + simd128). One ES module for Node ≥ 18 and browsers; no
// dependencies, no top-level Node imports. See docs/JAVASCRIPT.md.
//
//   import { EdgeVec, EdgeVecError } from './edgevec.mjs'
//   const db = await EdgeVec.create({ dimensions: 384, metric: 'cosine' })
//   db.insert(vector)                       // → id (0, 1, 2, …)
//   db.search(query, 10)                    // → [{ id, distance }, …] nearest first
//   db.searchBatch(queries, 10)             // → one such array per query, in one call
//   db.insert(vector, { metadata: { section: 'games', size: 120 } })
//   db.search(query, 10, { filter: 'section = "games" AND size < 200', includeMetadata: true })
//
// Design. Each index lives in its own WebAssembly instance (its own linear
// memory, freed with the instance); the compiled WebAssembly.Module is cached
// per variant. Vectors are copied once, straight into a staging buffer inside
// wasm memory that the index owns (`ev_input`); results are read from a result
// buffer the index owns (`ev_output`). Typed-array views over the memory are
// cached and re-created only when `memory.buffer` changes (after growth).

const FORMAT_METRICS = ['l2', 'cosine', 'dot'];
const VARIANT_FILES = { dlmalloc: 'edgevec.wasm', arena: 'edgevec-arena.wasm' };
const ALLOCATOR_KINDS = { 0: 'dlmalloc', 1: 'jemalloc', 2: 'arena' };
const MAX_EF = 65536;
const MAX_DIMENSION = 65536;
const INT32_MAX = 0x7fffffff;
const U64_MAX = (1n << 64n) - 1n;
const DEFAULTS = Object.freeze({ m: 16, efConstruction: 200, efSearch: 64, seed: 42, allocator: 'dlmalloc' });
const CREATE_KEYS = new Set(['dimensions', 'metric', 'm', 'efConstruction', 'efSearch', 'seed', 'allocator', 'wasm']);
const LOAD_KEYS = new Set(['efSearch', 'allocator', 'wasm']);
const SEARCH_KEYS = new Set(['ef', 'filter', 'includeMetadata']);
const INSERT_KEYS = new Set(['id', 'metadata']);
const BATCH_KEYS = new Set(['ids', 'metadata']);
const MAX_ID = Number.MAX_SAFE_INTEGER;   // 2^53 − 1: every id is an exact number
const TWO_32 = 4294967296;
const REQUIRED_EXPORTS = [
  'memory', 'ev_create_with_ef_search', 'ev_input', 'ev_insert', 'ev_insert_batch', 'ev_output',
  'ev_reserve', 'ev_output_distances', 'ev_search', 'ev_size', 'ev_dimension', 'ev_metric', 'ev_m', 'ev_ef_construction',
  'ev_ef_search', 'ev_set_ef_search', 'ev_save_size', 'ev_save', 'ev_load', 'ev_free', 'ev_alloc',
  'ev_dealloc', 'ev_allocator_kind', 'ev_error_message', 'ev_last_error_message',
  'ev_insert_with_id', 'ev_input_ids', 'ev_insert_batch_with_ids', 'ev_remove', 'ev_update', 'ev_contains',
  'ev_get', 'ev_ids', 'ev_removed_count', 'ev_next_id', 'ev_compact',
  'ev_input_bytes', 'ev_insert_with_metadata', 'ev_insert_batch_with_metadata', 'ev_set_metadata',
  'ev_get_metadata', 'ev_output_bytes', 'ev_compile_filter', 'ev_free_filter', 'ev_search_filtered', 'ev_search_batch',
];

/** Stable string codes for the module's negative return codes. */
const CODE_NAMES = {
  [-1]: 'DIMENSION_MISMATCH',
  [-2]: 'NON_FINITE',
  [-3]: 'ZERO_VECTOR',
  [-4]: 'INVALID_K',
  [-5]: 'INVALID_OPTION',
  [-6]: 'CAPACITY_EXCEEDED',
  [-7]: 'OUT_OF_MEMORY',
  [-8]: 'CORRUPT',
  [-9]: 'IO',
  [-10]: 'VECTOR_TOO_LARGE',
  [-11]: 'DUPLICATE_ID',
  [-12]: 'INVALID_ID',
  [-13]: 'UNKNOWN_ID',
  [-14]: 'INVALID_FILTER',
  [-15]: 'INVALID_METADATA',
  [-20]: 'INVALID_HANDLE',
  [-21]: 'INVALID_OPTION',
  [-22]: 'BUFFER_TOO_SMALL',
};
/** The module code that goes with a code raised on the JavaScript side. */
const JS_CODES = {
  DIMENSION_MISMATCH: -1, INVALID_K: -4, INVALID_OPTION: -5, INVALID_ARGUMENT: -5, OUT_OF_MEMORY: -7,
  CORRUPT: -8, IO: -9, INVALID_ID: -12, INVALID_FILTER: -14, INVALID_METADATA: -15, DISPOSED: -20,
};

/**
 * Every failure of the API. `code` is a stable string ('DIMENSION_MISMATCH',
 * 'NON_FINITE', …); `wasmCode` the module's negative code (the same numbers
 * as the Swift `EdgeVecError.code` and the C ABI), undefined for failures that
 * have none ('UNSUPPORTED', 'INTERNAL'). INVALID_FILTER errors also carry
 * `column` (1-based, in Unicode code points of the filter text) and
 * `expected` (what the parser expected there, in words).
 */
export class EdgeVecError extends Error {
  constructor(code, message, wasmCode = JS_CODES[code], options = undefined) {
    super(message, options);
    this.name = 'EdgeVecError';
    this.code = code;
    this.wasmCode = wasmCode;
  }
}

function fail(code, message, cause) {
  return new EdgeVecError(code, message, JS_CODES[code], cause === undefined ? undefined : { cause });
}

// ---------------------------------------------------------------------------
// Compiling and instantiating the module

/** href or variant → Promise<WebAssembly.Module>, and BufferSource → Promise. */
const moduleCache = new Map();
const bufferModuleCache = new WeakMap();
const messageCache = new Map();
const textDecoder = new TextDecoder();

function isNode() {
  return typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';
}

// Node modules are imported only when a Node-only helper runs (the comments
// keep bundlers from trying to resolve them for browser builds).
function requireNode(what) {
  if (!isNode()) throw fail('UNSUPPORTED', `${what} is only available in Node.js`);
}
const nodeFs = () => import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
const nodePath = () => import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
const nodeUrl = () => import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:url');

// Temporary files of `saveFile(T)`: `<basename(T)>.tmp-<pid>-<nonce>` in T's
// directory, nonce 16 lowercase hex digits, the same scheme as the Swift
// library's `save(toFile:)`. A process killed mid-save leaves one behind;
// every `saveFile(T)` and `loadFile(T)` first removes those of T whose pid is
// not a live process.
const STALE_TEMPORARY = /^\.tmp-([0-9]{1,10})-[0-9a-f]{8,16}$/;

/** A `saveFile`/`loadFile` path (string or file: URL) as a file-system path. */
async function filePath(path) {
  return path instanceof URL ? (await nodeUrl()).fileURLToPath(path) : String(path);
}

function temporaryNonce() {
  let nonce = '';
  for (let i = 0; i < 4; i++) nonce += Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  return nonce;
}

/**
 * Removes the entries of target's directory named exactly
 * `<basename(target)>.tmp-<pid>-<hex>` (pid 1–10 digits, at most 2³¹ − 1;
 * hex 8–16 lowercase digits) whose pid is not alive (`process.kill(pid, 0)`
 * fails with ESRCH). A live pid's file is kept, this process's included (a
 * concurrent save may be writing it), even if the pid now belongs to another
 * process: a later save or load removes it once that one has exited. Best
 * effort: every error is ignored.
 */
async function removeStaleTemporaries(fs, target) {
  try {
    const { basename, dirname, sep } = await nodePath();
    if (target.endsWith('/') || target.endsWith(sep)) return;
    const base = basename(target);
    const directory = dirname(target);
    for (const name of await fs.readdir(directory)) {
      if (!name.startsWith(base)) continue;
      const match = STALE_TEMPORARY.exec(name.slice(base.length));
      if (match === null) continue;
      const pid = Number(match[1]);
      if (pid < 1 || pid > INT32_MAX) continue;
      try {
        process.kill(pid, 0);
        continue; // alive
      } catch (error) {
        if (error?.code !== 'ESRCH') continue; // EPERM: alive, another user's
      }
      await fs.unlink(`${directory}${sep}${name}`).catch(() => {});
    }
  } catch { /* best effort */ }
}

async function fetchBytes(url) {
  if (url.protocol === 'file:' && isNode()) {
    const { readFile } = await nodeFs();
    return readFile(url);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  return response.arrayBuffer();
}

async function compileUrl(url) {
  let bytes;
  try {
    if (url.protocol !== 'file:' && typeof WebAssembly.compileStreaming === 'function') {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      try {
        // Needs `Content-Type: application/wasm`; otherwise compile the bytes.
        return await WebAssembly.compileStreaming(response.clone());
      } catch {
        bytes = await response.arrayBuffer();
      }
    } else {
      bytes = await fetchBytes(url);
    }
  } catch (error) {
    if (error instanceof EdgeVecError) throw error;
    throw fail('IO', `cannot read the EdgeVec WebAssembly module at ${url.href}: ${error?.message ?? error}`, error);
  }
  return compileBytes(bytes);
}

async function compileBytes(bytes) {
  try {
    return await WebAssembly.compile(bytes);
  } catch (error) {
    throw fail('INVALID_OPTION', `not a valid WebAssembly module: ${error?.message ?? error}`, error);
  }
}

function cached(map, key, make) {
  let promise = map.get(key);
  if (promise === undefined) {
    promise = make();
    map.set(key, promise);
    promise.catch(() => { if (map.get(key) === promise) map.delete(key); });
  }
  return promise;
}

/** The compiled module for `options.wasm` or the variant's default file; compiled once and cached. */
function getModule(allocator, wasm) {
  if (wasm === undefined) {
    const url = new URL(VARIANT_FILES[allocator], import.meta.url);
    return cached(moduleCache, url.href, () => compileUrl(url));
  }
  if (wasm instanceof WebAssembly.Module) return Promise.resolve(wasm);
  if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) {
    return cached(bufferModuleCache, wasm, () => compileBytes(wasm));
  }
  if (typeof wasm === 'string' || wasm instanceof URL) {
    let url;
    try {
      url = new URL(wasm, import.meta.url);
    } catch (error) {
      return Promise.reject(fail('INVALID_OPTION', `options.wasm is not a valid URL: ${wasm}`, error));
    }
    return cached(moduleCache, url.href, () => compileUrl(url));
  }
  return Promise.reject(fail('INVALID_OPTION',
    'options.wasm must be a URL, a string, an ArrayBuffer or typed array, or a WebAssembly.Module'));
}

/** A fresh instance with its own memory. */
async function instantiate(allocator, wasm, allocatorGiven) {
  const module = await getModule(allocator, wasm);
  let instance;
  try {
    instance = await WebAssembly.instantiate(module, {});
  } catch (error) {
    throw fail('INVALID_OPTION', `cannot instantiate the EdgeVec module: ${error?.message ?? error}`, error);
  }
  const x = instance.exports;
  for (const name of REQUIRED_EXPORTS) {
    if (!(name in x)) throw fail('INVALID_OPTION', `not an EdgeVec module: no export ${name}`);
  }
  if (typeof x.__wasm_call_ctors === 'function') x.__wasm_call_ctors();
  const kind = ALLOCATOR_KINDS[x.ev_allocator_kind()] ?? 'unknown';
  if (allocatorGiven && kind !== allocator) {
    throw fail('INVALID_OPTION', `options.allocator is '${allocator}' but options.wasm is the '${kind}' variant`);
  }
  return { x, kind };
}

/** The NUL-terminated string at byte address `p` of the module's memory. */
function wasmString(x, p) {
  const bytes = new Uint8Array(x.memory.buffer);
  let end = p;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return textDecoder.decode(bytes.subarray(p, end));
}

function wasmMessage(x, code) {
  let message = messageCache.get(code);
  if (message === undefined) {
    message = wasmString(x, x.ev_error_message(code) >>> 0);
    messageCache.set(code, message);
  }
  return message;
}

/**
 * The error for a negative module code. The message is the module's own
 * account of the failure when it gave one (`ev_last_error_message`: for
 * CORRUPT the reason, the same text as Swift's `EdgeVecError.message`),
 * otherwise the code's generic sentence. Codes raised here without a module
 * call (e.g. -7 for a failed staging buffer) pass `detailed = false`.
 */
function wasmError(x, code, context, detailed = true) {
  const name = CODE_NAMES[code] ?? 'INTERNAL';
  let message = detailed ? wasmString(x, x.ev_last_error_message() >>> 0) : '';
  if (message === '') message = wasmMessage(x, code);
  const error = new EdgeVecError(name, context ? `${context}: ${message}` : message, code);
  if (code === -14) {
    // "invalid filter at column 11: expected a value (…)", EdgeVecError.message in Swift.
    const at = /^invalid filter at column (\d+): expected (.*)$/.exec(message);
    if (at !== null) {
      error.column = Number(at[1]);
      error.expected = at[2];
    }
  }
  return error;
}

function trapError(error) {
  return new EdgeVecError('INTERNAL', `the EdgeVec module trapped (${error?.message ?? error}); this index was disposed`,
    undefined, { cause: error });
}

// ---------------------------------------------------------------------------
// Validation (cheap checks only: types, lengths, integer ranges)

function checkOptionsObject(options, allowed, what) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw fail('INVALID_OPTION', `${what} must be an object`);
  for (const key in options) {   // (no Object.keys: search options are checked on every call)
    if (Object.hasOwn(options, key) && !allowed.has(key)) {
      throw fail('INVALID_OPTION', `unknown option '${key}' in ${what}`);
    }
  }
  return options;
}

function intOption(options, key, min, max, fallback) {
  const value = options[key];
  if (value === undefined) {
    if (fallback === undefined) throw fail('INVALID_OPTION', `options.${key} is required`);
    return fallback;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw fail('INVALID_OPTION', `options.${key} must be an integer in ${min}...${max}, got ${describe(value)}`);
  }
  return value;
}

function allocatorOption(options) {
  const allocator = options.allocator ?? DEFAULTS.allocator;
  if (!Object.hasOwn(VARIANT_FILES, allocator)) {
    throw fail('INVALID_OPTION', `options.allocator must be 'dlmalloc' or 'arena', got ${describe(allocator)}`);
  }
  return allocator;
}

function seedOption(options) {
  const seed = options.seed ?? DEFAULTS.seed;
  if (typeof seed === 'bigint' && seed >= 0n && seed <= U64_MAX) return seed;
  if (Number.isSafeInteger(seed) && seed >= 0) return BigInt(seed);
  throw fail('INVALID_OPTION', `options.seed must be a non-negative safe integer or a bigint below 2^64, got ${describe(seed)}`);
}

function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return String(value);
}

// Type tests read internal slots, not the prototype chain: a Proxy around a
// typed array passes `instanceof`, but its `length` getter then throws a
// plain TypeError. `ArrayBuffer.isView` and the `byteLength` getter below
// look at the object itself and refuse proxies.
function isFloat32Array(value) {
  return ArrayBuffer.isView(value) && (value instanceof Float32Array || value[Symbol.toStringTag] === 'Float32Array');
}

/** A Float32Array, or a plain array of numbers (checked element by element). */
function isVectorLike(value) {
  if (isFloat32Array(value)) return true;
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'number') return false;
  return true;
}

/** k of a search: an integer in 1...2^31 − 1, or INVALID_K. */
function checkK(k) {
  if (!Number.isInteger(k) || k < 1 || k > INT32_MAX) {
    throw fail('INVALID_K', `k must be an integer in 1...${INT32_MAX}, got ${describe(k)}`);
  }
}

const NO_SEARCH_OPTIONS = Object.freeze({ ef: 0, filter: 0, includeMetadata: false });

/** An id: an integer in 0...2^53 − 1, or INVALID_ID. */
function checkId(id, what) {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw fail('INVALID_ID', `${what}: ids are integers in 0...${MAX_ID}, got ${describe(id)}`);
  }
  return id;
}

/** A wasm int64 result (a BigInt): the id, or throws the module's error. */
function idResult(x, r, context) {
  const n = Number(r);
  if (n < 0) throw wasmError(x, n, context);
  return n;
}

const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;

function isArrayBuffer(value) {
  try {
    arrayBufferByteLength.call(value);
    return true;
  } catch {
    return false;
  }
}

function toBytes(bytes, what) {
  if (ArrayBuffer.isView(bytes)) {
    return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  if (isArrayBuffer(bytes)) return new Uint8Array(bytes);
  throw fail('INVALID_ARGUMENT', `${what} must be a Uint8Array (or ArrayBuffer), got ${describe(bytes)}`);
}

// ---------------------------------------------------------------------------
// Metadata: JavaScript objects ↔ the binary form of include/edgevec.h
//
//   u8 field count; per field: u8 name length, name, u8 type, value:
//   1 string (u32 length, UTF-8), 2 integer (i64), 3 double (f64), 4 bool (u8),
//   5 list of strings (u16 count, then strings as for 1); little-endian.
//
// The wrapper checks the JavaScript types (and the sizes the encoding needs);
// the module checks everything else (names, limits) and says which.

const META_STRING = 1, META_INTEGER = 2, META_DOUBLE = 3, META_BOOL = 4, META_STRINGS = 5;
const META_MAX_FIELDS = 64;
const META_MAX_NAME_BYTES = 64;
const META_MAX_STRING_BYTES = 4096;
const META_MAX_LIST = 256;
const textEncoder = new TextEncoder();

/** A growable byte buffer the binary form is written into; one per module, reused. */
class MetaWriter {
  constructor() {
    this.bytes = new Uint8Array(1024);
    this.view = new DataView(this.bytes.buffer);
    this.n = 0;
  }

  room(k) {
    if (this.n + k <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.n + k) size *= 2;
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, this.n));
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
  }

  u8(v) { this.room(1); this.bytes[this.n++] = v; }

  /** UTF-8 of `s` after a u8 (names) or u32 (strings) length; returns the byte length. */
  text(s, wide) {
    const head = wide ? 4 : 1;
    this.room(head + 3 * s.length);
    const { written } = textEncoder.encodeInto(s, this.bytes.subarray(this.n + head));
    if (wide) this.view.setUint32(this.n, written, true); else this.bytes[this.n] = written;
    this.n += head + written;
    return written;
  }
}
const metaWriter = new MetaWriter();

/** Whether `s` is well-formed UTF-16 (no lone surrogates, which UTF-8 cannot carry). */
function wellFormed(s) {
  if (typeof s.isWellFormed === 'function') return s.isWellFormed();
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function metaFail(what, message) {
  return fail('INVALID_METADATA', `${what}: invalid metadata: ${message}`);
}

/**
 * Appends the binary form of `metadata` (a plain object of fields) to `w`.
 * Strings map to strings, numbers to integers when Number.isInteger and
 * within ±(2^53 − 1) and to doubles otherwise, booleans to bools, arrays of
 * strings to lists; anything else is INVALID_METADATA naming the field.
 */
function encodeMetadata(w, metadata, what) {
  const proto = metadata !== null && typeof metadata === 'object' ? Object.getPrototypeOf(metadata) : undefined;
  if (proto !== Object.prototype && proto !== null) {   // a plain object: not an array, a Map, a class instance
    throw metaFail(what, `expected a plain object of fields, got ${describe(metadata)}`);
  }
  const names = Object.keys(metadata);
  if (names.length > META_MAX_FIELDS) throw metaFail(what, `${names.length} fields, more than ${META_MAX_FIELDS}`);
  w.u8(names.length);
  for (const name of names) {
    const value = metadata[name];
    if (!wellFormed(name) || w.text(name, false) > META_MAX_NAME_BYTES) {
      throw metaFail(what, `invalid field name ${JSON.stringify(name)}`);
    }
    const field = `field ${JSON.stringify(name)}`;
    const string = (s) => {
      if (!wellFormed(s)) throw metaFail(what, `${field}: a string with a lone surrogate (not UTF-8)`);
      if (w.text(s, true) > META_MAX_STRING_BYTES) {
        throw metaFail(what, `${field}: a string over ${META_MAX_STRING_BYTES} UTF-8 bytes`);
      }
    };
    switch (typeof value) {
      case 'string':
        w.u8(META_STRING);
        string(value);
        break;
      case 'number':
        if (!Number.isFinite(value)) throw metaFail(what, `${field}: ${value} is not a finite number`);
        w.room(9);
        if (Number.isSafeInteger(value)) {
          w.bytes[w.n] = META_INTEGER;
          w.view.setBigInt64(w.n + 1, BigInt(value), true);
        } else {
          w.bytes[w.n] = META_DOUBLE;
          w.view.setFloat64(w.n + 1, value, true);
        }
        w.n += 9;
        break;
      case 'boolean':
        w.u8(META_BOOL);
        w.u8(value ? 1 : 0);
        break;
      default:
        if (Array.isArray(value) && value.every((s) => typeof s === 'string')) {
          if (value.length > META_MAX_LIST) {
            throw metaFail(what, `${field}: ${value.length} strings, more than ${META_MAX_LIST}`);
          }
          w.u8(META_STRINGS);
          w.room(2);
          w.view.setUint16(w.n, value.length, true);
          w.n += 2;
          for (const s of value) string(s);
          break;
        }
        throw metaFail(what, `${field}: ${value === null ? 'null' : describe(value)} is not a string, a number, ` +
          'a boolean or an array of strings');
    }
  }
}

/** The object of the binary form at `bytes` (a Uint8Array over wasm memory), fields in stored order. */
function decodeMetadata(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = {};
  let at = 0;
  const text = (n) => {
    const s = textDecoder.decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  const string = () => {
    const n = view.getUint32(at, true);
    at += 4;
    return text(n);
  };
  const fields = bytes[at++];
  for (let f = 0; f < fields; f++) {
    const name = text(bytes[at++]);
    const type = bytes[at++];
    let value;
    if (type === META_STRING) {
      value = string();
    } else if (type === META_INTEGER) {
      value = Number(view.getBigInt64(at, true));
      at += 8;
    } else if (type === META_DOUBLE) {
      value = view.getFloat64(at, true);
      at += 8;
    } else if (type === META_BOOL) {
      value = bytes[at++] === 1;
    } else {
      const n = view.getUint16(at, true);
      at += 2;
      value = new Array(n);
      for (let i = 0; i < n; i++) value[i] = string();
    }
    out[name] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Compiled filters

const FILTER = Symbol('CompiledFilter.construct');

/**
 * A filter compiled once by `db.compileFilter(text)` for many searches of
 * that index (`search(q, k, { filter })`). It holds a handle inside the
 * index's WebAssembly instance: `dispose()` frees it (so does disposing the
 * index).
 */
export class CompiledFilter {
  /** Use `db.compileFilter(text)`. */
  constructor(token, db, handle, text) {
    if (token !== FILTER) throw new TypeError('use db.compileFilter(text)');
    this._db = db;
    this._h = handle;
    this._text = text;
  }

  /** The filter text. */
  get text() { return this._text; }
  /** Whether `dispose()` was called (or its index disposed). */
  get disposed() { return this._h === 0 || this._db._x === null; }

  /** Frees the compiled filter; later searches with it throw DISPOSED. Calling it again does nothing. */
  dispose() {
    if (this._h !== 0 && this._db._x !== null) this._db._x.ev_free_filter(this._h);
    this._h = 0;
  }
}

// ---------------------------------------------------------------------------
// The index

const CONSTRUCT = Symbol('EdgeVec.construct');

/**
 * The module exports of a live index, or the error for `db`: DISPOSED, or
 * INVALID_ARGUMENT when `db` is not an index at all (a method called on
 * another object: `EdgeVec.prototype.search.call({}, …)`, a detached method).
 * A module function, not a method, so that it still runs for such a `db`.
 */
function live(db) {
  const x = db?._x;
  if (x == null) {
    if (x === null && db instanceof EdgeVec) throw fail('DISPOSED', 'this EdgeVec index was disposed');
    throw fail('INVALID_ARGUMENT', 'not an EdgeVec index (a method called on another object?)');
  }
  return x;
}

export class EdgeVec {
  /** Use `EdgeVec.create` or `EdgeVec.load`. */
  constructor(token, runtime, handle) {
    if (token !== CONSTRUCT) throw new TypeError('use EdgeVec.create(options) or EdgeVec.load(bytes, options)');
    const x = runtime.x;
    this._x = x;
    this._mem = x.memory;
    this._h = handle;
    this._allocator = runtime.kind;
    this._dim = x.ev_dimension(handle);
    this._metric = FORMAT_METRICS[x.ev_metric(handle)];
    this._size = x.ev_size(handle);
    this._in = 0;          // staging buffer (byte address) and its capacity in vectors
    this._inRows = 0;
    this._outIds = 0;      // result buffers (byte addresses) and their capacity in hits
    this._outDist = 0;
    this._outCap = 0;
    this._inBytes = 0;     // byte staging buffer (metadata, filter text) and its capacity
    this._inBytesCap = 0;
    this._filterText = null;   // the last string filter of `search`, compiled, and its handle
    this._filterHandle = 0;
    this._buf = null;      // memory.buffer the views below were made over
    this._f32 = null;
    this._u32 = null;
  }

  /**
   * A new, empty index.
   * @param {object} options dimensions, metric ('l2' | 'cosine' | 'dot'), m?, efConstruction?, efSearch?,
   *   seed?, allocator? ('dlmalloc' | 'arena'), wasm? (URL | string | BufferSource | WebAssembly.Module)
   */
  static async create(options) {
    if (options === undefined) throw fail('INVALID_OPTION', 'EdgeVec.create needs options with dimensions and metric');
    const o = checkOptionsObject(options, CREATE_KEYS, 'create options');
    const dimensions = intOption(o, 'dimensions', 1, MAX_DIMENSION);
    const metric = FORMAT_METRICS.indexOf(o.metric);
    if (metric < 0) throw fail('INVALID_OPTION', `options.metric must be 'l2', 'cosine' or 'dot', got ${describe(o.metric)}`);
    const m = intOption(o, 'm', 2, 128, DEFAULTS.m);
    const efConstruction = intOption(o, 'efConstruction', 1, MAX_EF, DEFAULTS.efConstruction);
    const efSearch = intOption(o, 'efSearch', 1, MAX_EF, DEFAULTS.efSearch);
    const seed = seedOption(o);
    const allocator = allocatorOption(o);
    const runtime = await instantiate(allocator, o.wasm, o.allocator !== undefined);
    let handle;
    try {
      handle = runtime.x.ev_create_with_ef_search(dimensions, metric, m, efConstruction, efSearch, seed);
    } catch (error) {
      throw error instanceof WebAssembly.RuntimeError ? trapError(error) : error;
    }
    if (handle < 0) throw wasmError(runtime.x, handle, 'create');
    return new EdgeVec(CONSTRUCT, runtime, handle);
  }

  /**
   * An index from bytes written by `save()` (or by the Swift library / CLI: same format).
   * @param {Uint8Array} bytes
   * @param {object} [options] efSearch?, allocator?, wasm?
   */
  static async load(bytes, options) {
    const data = toBytes(bytes, 'bytes');
    const o = checkOptionsObject(options, LOAD_KEYS, 'load options');
    const efSearch = o.efSearch === undefined ? undefined : intOption(o, 'efSearch', 1, MAX_EF);
    const allocator = allocatorOption(o);
    const runtime = await instantiate(allocator, o.wasm, o.allocator !== undefined);
    const x = runtime.x;
    if (data.length > INT32_MAX) throw fail('OUT_OF_MEMORY', `load: ${data.length} bytes do not fit in wasm32 memory`);
    const p = x.ev_alloc(data.length) >>> 0;
    if (p === 0) throw wasmError(x, -7, 'load', false);
    let handle;
    try {
      new Uint8Array(x.memory.buffer, p, data.length).set(data);
      handle = x.ev_load(p, data.length);
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) throw trapError(error);
      throw error;
    } finally {
      x.ev_dealloc(p);
    }
    if (handle < 0) throw wasmError(x, handle, 'load');
    const db = new EdgeVec(CONSTRUCT, runtime, handle);
    if (efSearch !== undefined) db.efSearch = efSearch;
    return db;
  }

  /**
   * Node.js: reads a file written by `saveFile` (or the Swift library / CLI),
   * after removing stale temporary files of earlier saves of it whose process
   * is gone (see `saveFile`).
   */
  static async loadFile(path, options) {
    requireNode('EdgeVec.loadFile');
    const fs = await nodeFs();
    await removeStaleTemporaries(fs, await filePath(path));
    let bytes;
    try {
      bytes = await fs.readFile(path);
    } catch (error) {
      throw fail('IO', `cannot read ${path}: ${error?.message ?? error}`, error);
    }
    return EdgeVec.load(bytes, options);
  }

  /** Browsers: reads an index stored by `saveToIndexedDB(name)`. */
  static async loadFromIndexedDB(name, options) {
    checkName(name);
    const bytes = await idbRequest('readonly', (store) => store.get(name));
    if (bytes === undefined) throw fail('IO', `no index named ${JSON.stringify(name)} in IndexedDB`);
    return EdgeVec.load(bytes, options);
  }

  // -- properties -----------------------------------------------------------

  /** Vectors in the index. */
  get size() { live(this); return this._size; }
  /** Floats per vector. */
  get dimensions() { live(this); return this._dim; }
  /** 'l2' (squared Euclidean), 'cosine' (1 − cos) or 'dot' (−inner product). */
  get metric() { live(this); return this._metric; }
  /** Links per node (upper layers; layer 0 keeps up to 2·M). */
  get m() { return live(this).ev_m(this._h); }
  /** Beam width used while inserting. */
  get efConstruction() { return live(this).ev_ef_construction(this._h); }
  /** Default beam width of `search` (raised to k when smaller). Setting it is not saved by `save()`. */
  get efSearch() { return live(this).ev_ef_search(this._h); }
  set efSearch(value) {
    const x = live(this);
    if (!Number.isInteger(value) || value < 1 || value > MAX_EF) {
      throw fail('INVALID_OPTION', `efSearch must be an integer in 1...${MAX_EF}, got ${describe(value)}`);
    }
    const r = x.ev_set_ef_search(this._h, value);
    if (r < 0) throw wasmError(x, r, 'efSearch');
  }
  /** The allocator variant of this index's module: 'dlmalloc' or 'arena'. */
  get allocator() { live(this); return this._allocator; }
  /** Bytes of WebAssembly memory this index's instance holds (grows, never shrinks). */
  get memoryBytes() { live(this); return this._mem.buffer.byteLength; }
  /** Whether `dispose()` was called. */
  get disposed() { return this._x === null; }

  // -- operations -----------------------------------------------------------

  /**
   * Adds one vector under `options.id` (an integer in 0...2^53 − 1), or,
   * without one, under the next id: one above every id the index has held
   * (0, 1, 2, … when ids are never given). Returns the id. A removed
   * vector's slot is reused. `options.metadata` gives the vector's fields
   * (`{ section: 'games', size: 120 }`, see `setMetadata`). Throws
   * DUPLICATE_ID (the id is present), INVALID_ID or INVALID_METADATA, with
   * the index unchanged, like every failing call.
   * @param {Float32Array | number[]} vector `dimensions` floats
   * @param {{ id?: number, metadata?: object }} [options]
   */
  insert(vector, options) {
    const x = live(this);
    this._checkVector(vector);
    let id;
    let metaBytes = -1;
    if (options !== undefined) {
      const o = checkOptionsObject(options, INSERT_KEYS, 'insert options');
      if (o.id !== undefined) id = checkId(o.id, 'insert');
      if (o.metadata !== undefined) {
        metaWriter.n = 0;
        encodeMetadata(metaWriter, o.metadata, 'insert');
        metaBytes = metaWriter.n;
      }
    }
    const p = this._inRows >= 1 ? this._in : this._stage(1);
    const mp = metaBytes < 0 ? 0 : this._stageBytes(metaBytes);
    if (this._mem.buffer !== this._buf) this._views();
    this._f32.set(vector, p >>> 2);
    let r;
    try {
      if (metaBytes >= 0) {
        new Uint8Array(this._buf, mp, metaBytes).set(metaWriter.bytes.subarray(0, metaBytes));
        r = x.ev_insert_with_metadata(this._h, p, id === undefined ? U64_MAX : BigInt(id), mp, metaBytes);
      } else {
        r = id === undefined ? x.ev_insert(this._h, p) : x.ev_insert_with_id(this._h, p, BigInt(id));
      }
    } catch (error) {
      throw this._trap(error);
    }
    const result = idResult(x, r, 'insert');
    this._size += 1;
    return result;
  }

  /**
   * Adds vectors, all or nothing: a Float32Array (or number[]) of
   * `n · dimensions` floats row after row, or an array of `n` rows (each a
   * Float32Array or number[]). Row `i` gets `options.ids[i]`, or, without
   * ids, consecutive ids from the next one. Returns the ids. A batch holding
   * a present id, an id twice, or an invalid one is rejected whole
   * (DUPLICATE_ID, INVALID_ID); so is one with invalid metadata in any row
   * (INVALID_METADATA). Row `i` gets the fields `options.metadata[i]`
   * (undefined: none).
   * @param {Float32Array | number[] | Array<Float32Array | number[]>} vectors
   * @param {{ ids?: ArrayLike<number>, metadata?: ArrayLike<object | undefined> }} [options]
   * @returns {Float64Array} the ids, in row order
   */
  insertBatch(vectors, options) {
    const x = live(this);
    const { flat, n } = this._batch(vectors);
    let ids;
    let metaBytes = -1;
    if (options !== undefined) {
      const o = checkOptionsObject(options, BATCH_KEYS, 'insertBatch options');
      if (o.ids !== undefined) {
        ids = o.ids;
        if (ids === null || typeof ids !== 'object' || !Number.isInteger(ids.length)) {
          throw fail('INVALID_ARGUMENT', `insertBatch: options.ids must be an array of ids, got ${describe(ids)}`);
        }
        if (ids.length !== n) {
          throw fail('DIMENSION_MISMATCH', `insertBatch: ${ids.length} ids for ${n} vectors`);
        }
        for (let i = 0; i < n; i++) checkId(ids[i], `insertBatch: ids[${i}]`);
      }
      const metadata = o.metadata;
      if (metadata !== undefined) {
        if (metadata === null || typeof metadata !== 'object' || !Number.isInteger(metadata.length)) {
          throw fail('INVALID_ARGUMENT', `insertBatch: options.metadata must be an array, got ${describe(metadata)}`);
        }
        if (metadata.length !== n) {
          throw fail('DIMENSION_MISMATCH', `insertBatch: ${metadata.length} metadata entries for ${n} vectors`);
        }
        metaWriter.n = 0;
        for (let i = 0; i < n; i++) {
          if (metadata[i] === undefined) metaWriter.u8(0);
          else encodeMetadata(metaWriter, metadata[i], `insertBatch: metadata[${i}]`);
        }
        metaBytes = metaWriter.n;
      }
    }
    if (n === 0) return new Float64Array(0);
    const p = this._inRows >= n ? this._in : this._stage(n);
    let q = 0;
    if (ids !== undefined) {
      q = x.ev_input_ids(this._h, n) >>> 0;
      if (q === 0) throw wasmError(x, -7, `staging ${n} ids`, false);
    }
    const mp = metaBytes < 0 ? 0 : this._stageBytes(metaBytes);
    if (this._mem.buffer !== this._buf) this._views();
    if (metaBytes >= 0) new Uint8Array(this._buf, mp, metaBytes).set(metaWriter.bytes.subarray(0, metaBytes));
    if (flat !== null) {
      this._f32.set(flat, p >>> 2);
    } else {
      for (let i = 0; i < n; i++) this._f32.set(vectors[i], (p >>> 2) + i * this._dim);
    }
    if (ids !== undefined) {
      const u32 = this._u32, b = q >>> 2;
      for (let i = 0; i < n; i++) {
        u32[b + 2 * i] = ids[i] % TWO_32;
        u32[b + 2 * i + 1] = Math.floor(ids[i] / TWO_32);
      }
    }
    let r;
    try {
      if (metaBytes >= 0) r = x.ev_insert_batch_with_metadata(this._h, p, n, q, mp, metaBytes);
      else r = ids === undefined ? x.ev_insert_batch(this._h, p, n) : x.ev_insert_batch_with_ids(this._h, p, n, q);
    } catch (error) {
      throw this._trap(error);
    }
    const first = idResult(x, r, 'insertBatch');
    this._size += n;
    if (ids !== undefined) return Float64Array.from(ids);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = first + i;
    return out;
  }

  /**
   * Removes the vector with `id`; it is never found again, and its slot is
   * reused by later inserts. Returns false when no vector has `id`.
   * @param {number} id
   */
  remove(id) {
    const x = live(this);
    checkId(id, 'remove');
    let r;
    try {
      r = x.ev_remove(this._h, BigInt(id));
    } catch (error) {
      throw this._trap(error);
    }
    if (r < 0) throw wasmError(x, r, 'remove');
    if (r === 1) this._size -= 1;
    return r === 1;
  }

  /**
   * Replaces the vector of `id`, which keeps its id; the old vector is never
   * found again. Throws UNKNOWN_ID when no vector has `id`.
   * @param {number} id
   * @param {Float32Array | number[]} vector
   */
  update(id, vector) {
    const x = live(this);
    checkId(id, 'update');
    this._checkVector(vector);
    const p = this._inRows >= 1 ? this._in : this._stage(1);
    if (this._mem.buffer !== this._buf) this._views();
    this._f32.set(vector, p >>> 2);
    let r;
    try {
      r = x.ev_update(this._h, BigInt(id), p);
    } catch (error) {
      throw this._trap(error);
    }
    if (r < 0) throw wasmError(x, r, 'update');
  }

  /** Whether a vector has `id`. @param {number} id */
  has(id) {
    const x = live(this);
    checkId(id, 'has');
    return x.ev_contains(this._h, BigInt(id)) === 1;
  }

  /**
   * A copy of the vector stored under `id`, or undefined. Cosine indexes
   * store vectors normalised to unit length and return them so.
   * @param {number} id
   * @returns {Float32Array | undefined}
   */
  get(id) {
    const x = live(this);
    checkId(id, 'get');
    const p = this._inRows >= 1 ? this._in : this._stage(1);
    const r = x.ev_get(this._h, BigInt(id), p);
    if (r < 0) throw wasmError(x, r, 'get');
    if (r === 0) return undefined;
    if (this._mem.buffer !== this._buf) this._views();
    return this._f32.slice(p >>> 2, (p >>> 2) + this._dim);
  }

  /**
   * Replaces the metadata of `id` with the fields of `metadata`, a plain
   * object: `{ section: 'games', size: 120, free: true, tags: ['2d'] }`.
   * Strings stay strings; numbers become integers when `Number.isInteger`
   * and within ±(2^53 − 1), doubles otherwise; booleans bools; arrays of
   * strings lists. `{}` removes the metadata. Field names are
   * `[A-Za-z_][A-Za-z0-9_.]*` and not a keyword of the filter language.
   * Throws UNKNOWN_ID (no vector has `id`) or INVALID_METADATA (null,
   * undefined, a nested object, a mixed array, a bigint, NaN, a bad name, a
   * limit passed: docs/FILTERS.md), with the index unchanged.
   * @param {number} id
   * @param {object} metadata
   */
  setMetadata(id, metadata) {
    const x = live(this);
    checkId(id, 'setMetadata');
    metaWriter.n = 0;
    encodeMetadata(metaWriter, metadata, 'setMetadata');
    const n = metaWriter.n;
    const p = this._stageBytes(n);
    let r;
    try {
      new Uint8Array(this._mem.buffer, p, n).set(metaWriter.bytes.subarray(0, n));
      r = x.ev_set_metadata(this._h, BigInt(id), p, n);
    } catch (error) {
      throw this._trap(error);
    }
    if (r < 0) throw wasmError(x, r, 'setMetadata');
  }

  /**
   * The metadata of `id` as a fresh object (fields in the order the index
   * first saw their names; `{}` when it has none), or undefined when no
   * vector has `id`.
   * @param {number} id
   * @returns {object | undefined}
   */
  getMetadata(id) {
    const x = live(this);
    checkId(id, 'getMetadata');
    return this._metadata(x, id);
  }

  /**
   * Compiles a filter (docs/FILTERS.md) once for many searches of this
   * index: `search(q, k, { filter: compiled })`. A string given to `search`
   * works too (the wrapper keeps the last one compiled). Throws
   * INVALID_FILTER with `column` (1-based, in code points) and `expected`.
   * @param {string} text e.g. `section = "games" AND size < 200`
   * @returns {CompiledFilter}
   */
  compileFilter(text) {
    const x = live(this);
    return new CompiledFilter(FILTER, this, this._compile(x, text, 'compileFilter'), text);
  }

  /**
   * An iterator over the ids of the vectors in the index (a snapshot taken
   * by this call, in slot order: insertion order until slots are reused).
   * @returns {IterableIterator<number>}
   */
  ids() {
    const x = live(this);
    const n = this._size;
    const out = new Float64Array(n);
    if (n > 0) {
      const p = x.ev_alloc(n * 8) >>> 0;
      if (p === 0) throw wasmError(x, -7, `a buffer for ${n} ids`, false);
      try {
        const r = x.ev_ids(this._h, p, n);
        if (r < 0) throw wasmError(x, r, 'ids');
        if (this._mem.buffer !== this._buf) this._views();
        const u32 = this._u32, b = p >>> 2;
        for (let i = 0; i < n; i++) out[i] = u32[b + 2 * i + 1] * TWO_32 + u32[b + 2 * i];
      } finally {
        x.ev_dealloc(p);
      }
    }
    return out.values();
  }

  /**
   * Rebuilds the index from its vectors into dense slots, giving the memory
   * of removed ones back to the index (not to the wasm memory, which never
   * shrinks). Ids do not change. `remove` does this by itself once a quarter
   * of the slots are removed ones.
   */
  compact() {
    const x = live(this);
    let r;
    try {
      r = x.ev_compact(this._h);
    } catch (error) {
      throw this._trap(error);
    }
    if (r < 0) throw wasmError(x, r, 'compact');
  }

  /**
   * Reserves memory for `capacity` vectors in all (exact size), so that
   * inserts up to that count allocate nothing and never grow wasm memory.
   * The graph built afterwards is the same as without it; inserts past the
   * capacity grow the index again; a capacity at or below `size` does nothing.
   * Throws INVALID_ARGUMENT (not an integer in 0...2147483647) or
   * OUT_OF_MEMORY (the index is unchanged).
   * @param {number} capacity vectors in all, not more
   */
  reserve(capacity) {
    const x = live(this);
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > INT32_MAX) {
      throw fail('INVALID_ARGUMENT', `reserve expects an integer in 0...${INT32_MAX}, got ${describe(capacity)}`);
    }
    let r;
    try {
      r = x.ev_reserve(this._h, capacity);
    } catch (error) {
      throw this._trap(error);
    }
    if (r < 0) throw wasmError(x, r, 'reserve');
  }

  /**
   * The k nearest vectors, nearest first. With `filter` (filter text or a
   * `compileFilter` result), only vectors whose metadata satisfies it:
   * exactly min(k, matching vectors) of them. With `includeMetadata`, each
   * result carries its `metadata` object.
   * @param {Float32Array | number[]} query `dimensions` floats
   * @param {number} k results wanted (≥ 1); fewer come back when the index holds fewer
   * @param {{ ef?: number, filter?: string | CompiledFilter, includeMetadata?: boolean }} [options]
   *   ef: beam width 1...65536 (default `efSearch`, raised to k)
   * @returns {Array<{ id: number, distance: number, metadata?: object }>}
   */
  search(query, k, options) {
    const x = live(this);
    this._checkVector(query);
    checkK(k);
    const { ef, filter, includeMetadata } = this._searchOptions(x, options, 'search');
    // A search returns at most `size` hits: the result buffer needs no more.
    const wanted = Math.min(k, Math.max(this._size, 1));
    if (this._outCap < wanted) this._output(wanted);
    const p = this._inRows >= 1 ? this._in : this._stage(1);
    if (this._mem.buffer !== this._buf) this._views();
    this._f32.set(query, p >>> 2);
    let n;
    try {
      n = filter === 0 ? x.ev_search(this._h, p, wanted, ef, this._outIds, this._outDist)
        : x.ev_search_filtered(this._h, p, wanted, ef, filter, this._outIds, this._outDist);
    } catch (error) {
      throw this._trap(error);
    }
    if (n < 0) throw wasmError(x, n, 'search');
    // The search may have grown memory (scratch for a larger beam).
    if (this._mem.buffer !== this._buf) this._views();
    const u32 = this._u32, distances = this._f32;
    const bi = this._outIds >>> 2, bd = this._outDist >>> 2;
    const results = new Array(n);
    for (let i = 0; i < n; i++) {
      results[i] = { id: u32[bi + 2 * i + 1] * TWO_32 + u32[bi + 2 * i], distance: distances[bd + i] };
    }
    if (includeMetadata) for (const result of results) result.metadata = this._metadata(x, result.id);
    return results;
  }

  /**
   * `search` for many queries in one call into the module: an array of
   * queries (each a Float32Array or number[]), or one Float32Array (or
   * number[]) of `n · dimensions` floats row after row. Returns one result
   * array per query, in order, each exactly what `search(query, k, options)`
   * returns. Every query is checked before any is searched: a bad one throws
   * (its message names the row) and nothing else happens.
   * @param {Float32Array | number[] | Array<Float32Array | number[]>} queries
   * @param {number} k results wanted per query (≥ 1)
   * @param {{ ef?: number, filter?: string | CompiledFilter, includeMetadata?: boolean }} [options]
   * @returns {Array<Array<{ id: number, distance: number, metadata?: object }>>}
   */
  searchBatch(queries, k, options) {
    const x = live(this);
    const { flat, n } = this._batch(queries, 'searchBatch');
    checkK(k);
    const { ef, filter, includeMetadata } = this._searchOptions(x, options, 'searchBatch');
    if (n === 0) return [];
    // As in `search`: at most `size` hits per query, so the results need no more room.
    const wanted = Math.min(k, Math.max(this._size, 1));
    if (n * wanted > INT32_MAX) {
      throw fail('OUT_OF_MEMORY', `searchBatch: ${n} queries × ${wanted} results do not fit in wasm32 memory`);
    }
    const p = this._inRows >= n ? this._in : this._stage(n);
    if (this._outCap < n * wanted) this._output(n * wanted);
    const pc = this._stageBytes(4 * n);   // out_counts (the byte buffer is free once a filter is compiled)
    if (this._mem.buffer !== this._buf) this._views();
    if (flat !== null) {
      this._f32.set(flat, p >>> 2);
    } else {
      for (let i = 0; i < n; i++) this._f32.set(queries[i], (p >>> 2) + i * this._dim);
    }
    let r;
    try {
      r = x.ev_search_batch(this._h, p, n, wanted, ef, filter, 0, this._outIds, this._outDist, pc);
    } catch (error) {
      throw this._trap(error);
    }
    if (r < 0) throw wasmError(x, r, 'searchBatch');
    if (this._mem.buffer !== this._buf) this._views();
    const u32 = this._u32, distances = this._f32;
    const out = new Array(n);
    for (let q = 0; q < n; q++) {
      const count = u32[(pc >>> 2) + q];
      const bi = (this._outIds >>> 2) + 2 * q * wanted, bd = (this._outDist >>> 2) + q * wanted;
      const results = new Array(count);
      for (let i = 0; i < count; i++) {
        results[i] = { id: u32[bi + 2 * i + 1] * TWO_32 + u32[bi + 2 * i], distance: distances[bd + i] };
      }
      if (includeMetadata) for (const result of results) result.metadata = this._metadata(x, result.id);
      out[q] = results;
    }
    return out;
  }

  /**
   * The index as bytes: EdgeVec format version 3, the same bytes the Swift
   * library and CLI write and read.
   * @returns {Uint8Array}
   */
  save() {
    const x = live(this);
    const size = x.ev_save_size(this._h);
    if (size < 0) throw wasmError(x, size, 'save');
    const p = x.ev_alloc(size) >>> 0;
    if (p === 0) throw wasmError(x, -7, 'save', false);
    try {
      let written;
      try {
        written = x.ev_save(this._h, p, size);
      } catch (error) {
        throw this._trap(error);
      }
      if (written < 0) throw wasmError(x, written, 'save');
      return new Uint8Array(this._mem.buffer, p, written).slice();
    } finally {
      if (this._x !== null) x.ev_dealloc(p);
    }
  }

  /**
   * Node.js: writes `save()` to `path` atomically: a temporary file
   * `<basename>.tmp-<pid>-<16 hex>` in the same directory (created
   * exclusively, mode 0644), fsync, rename over `path`, fsync of the
   * directory. Temporary files of earlier saves of `path` whose process is
   * gone (killed mid-save) are removed first.
   */
  async saveFile(path) {
    live(this);
    requireNode('saveFile');
    const fs = await nodeFs();
    const target = await filePath(path);
    await removeStaleTemporaries(fs, target);
    const bytes = this.save();
    let temporary;
    try {
      // 'wx' (O_EXCL): never truncate someone else's file; a taken name is retried.
      let file;
      for (let attempt = 0; file === undefined; attempt++) {
        const name = `${target}.tmp-${process.pid}-${temporaryNonce()}`;
        try {
          file = await fs.open(name, 'wx', 0o644);
          temporary = name;
        } catch (error) {
          if (error?.code !== 'EEXIST' || attempt >= 15) throw error;
        }
      }
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await fs.rename(temporary, target);
    } catch (error) {
      if (temporary !== undefined) await fs.rm(temporary, { force: true }).catch(() => {});
      throw fail('IO', `cannot write ${target}: ${error?.message ?? error}`, error);
    }
    // Make the rename durable (best effort: not every platform can open a directory).
    try {
      const { dirname } = await nodePath();
      const directory = await fs.open(dirname(target), 'r');
      try { await directory.sync(); } finally { await directory.close(); }
    } catch { /* ignore */ }
  }

  /** Browsers: stores `save()` in IndexedDB (database 'edgevec', store 'indexes') under `name`. */
  async saveToIndexedDB(name) {
    live(this);
    checkName(name);
    const bytes = this.save();
    await idbRequest('readwrite', (store) => store.put(bytes, name));
  }

  /**
   * Allocation counts of this index's module (`malloc`/`posix_memalign`/…
   * calls, the bytes they asked for, and frees since it was instantiated),
   * or null unless the module was built with the AllocationCounter trait
   * (`make wasm ALLOCATION_COUNTER=1`).
   * @returns {{ allocations: number, bytes: number, frees: number } | null}
   */
  allocationStats() {
    const x = live(this);
    if (typeof x.ev_allocation_count !== 'function') return null;
    return { allocations: Number(x.ev_allocation_count()), bytes: Number(x.ev_allocated_bytes()),
      frees: Number(x.ev_free_count()) };
  }

  /** Frees the index and its WebAssembly instance. Later calls throw DISPOSED; calling it again does nothing. */
  dispose() {
    if (this._x === null) return;
    try { this._x.ev_free(this._h); } catch { /* a trapped instance is dropped anyway */ }
    this._release();
  }

  // -- internals --------------------------------------------------------------

  _release() {
    this._x = null;
    this._mem = null;
    this._buf = this._f32 = this._u32 = null;
  }

  _trap(error) {
    if (!(error instanceof WebAssembly.RuntimeError)) return error;
    this._release();
    return trapError(error);
  }

  _views() {
    const buffer = this._mem.buffer;
    this._buf = buffer;
    this._f32 = new Float32Array(buffer);
    this._u32 = new Uint32Array(buffer);
  }

  _checkVector(vector) {
    if (!isVectorLike(vector)) {
      throw fail('INVALID_ARGUMENT', `expected a Float32Array or an array of numbers, got ${describe(vector)}`);
    }
    if (vector.length !== this._dim) {
      throw fail('DIMENSION_MISMATCH', `expected ${this._dim} floats, got ${vector.length}`);
    }
  }

  /**
   * A batch's rows: `flat` (a Float32Array or number[] of n · dimensions
   * floats) or null for an array of rows (checked here, copied by the caller).
   */
  _batch(vectors, what = 'insertBatch') {
    if (isFloat32Array(vectors) || (Array.isArray(vectors) && (vectors.length === 0 || typeof vectors[0] === 'number'))) {
      if (!isVectorLike(vectors)) {
        throw fail('INVALID_ARGUMENT', `${what} expects numbers or rows, got ${describe(vectors)}`);
      }
      const n = vectors.length / this._dim;
      if (!Number.isInteger(n)) {
        throw fail('DIMENSION_MISMATCH',
          `${what}: ${vectors.length} floats is not a multiple of the dimension ${this._dim}`);
      }
      return { flat: vectors, n };
    }
    if (!Array.isArray(vectors)) {
      throw fail('INVALID_ARGUMENT',
        `${what} expects a Float32Array, an array of numbers or an array of rows, got ${describe(vectors)}`);
    }
    for (let i = 0; i < vectors.length; i++) {
      if (!isVectorLike(vectors[i])) {
        throw fail('INVALID_ARGUMENT', `${what}: row ${i} is not a Float32Array or an array of numbers`);
      }
      if (vectors[i].length !== this._dim) {
        throw fail('DIMENSION_MISMATCH', `${what}: row ${i} has ${vectors[i].length} floats, expected ${this._dim}`);
      }
    }
    return { flat: null, n: vectors.length };
  }

  /** Grows the staging buffer to `rows` vectors; returns its address. */
  _stage(rows) {
    const p = this._x.ev_input(this._h, rows) >>> 0;
    if (p === 0) {
      throw wasmError(this._x, -7, `staging ${rows} × ${this._dim} floats`, false);
    }
    this._in = p;
    this._inRows = rows;
    return p;
  }

  /** Grows the byte staging buffer to `n` bytes (at least 1); returns its address. */
  _stageBytes(n) {
    if (n <= this._inBytesCap && this._inBytes !== 0) return this._inBytes;
    const size = Math.max(n, 64);
    const p = this._x.ev_input_bytes(this._h, size) >>> 0;
    if (p === 0) throw wasmError(this._x, -7, `staging ${n} bytes`, false);
    this._inBytes = p;
    this._inBytesCap = size;
    return p;
  }

  /** The metadata object of `id`, or undefined when no vector has it. */
  _metadata(x, id) {
    let n;
    try {
      n = x.ev_get_metadata(this._h, BigInt(id));
    } catch (error) {
      throw this._trap(error);
    }
    if (n < 0) throw wasmError(x, n, 'getMetadata');
    if (n === 0) return undefined;
    const p = x.ev_output_bytes(this._h) >>> 0;
    return decodeMetadata(new Uint8Array(this._mem.buffer, p, n));
  }

  /** Compiles filter text; returns the filter handle. */
  _compile(x, text, what) {
    if (typeof text !== 'string') throw fail('INVALID_ARGUMENT', `${what}: a filter is a string, got ${describe(text)}`);
    const bytes = textEncoder.encode(text);
    if (bytes.length > INT32_MAX) throw fail('INVALID_FILTER', `${what}: the filter text is too long`);
    const p = this._stageBytes(bytes.length);
    let h;
    try {
      new Uint8Array(this._mem.buffer, p, bytes.length).set(bytes);
      h = x.ev_compile_filter(p, bytes.length);
    } catch (error) {
      throw this._trap(error);
    }
    if (h < 0) throw wasmError(x, h, what);
    return h;
  }

  /** The filter handle for a search's `filter` option: a string (the last one is kept compiled) or a CompiledFilter. */
  _filter(x, filter, what) {
    if (typeof filter === 'string') {
      if (filter !== this._filterText) {
        const h = this._compile(x, filter, what);
        if (this._filterHandle !== 0) x.ev_free_filter(this._filterHandle);
        this._filterHandle = h;
        this._filterText = filter;
      }
      return this._filterHandle;
    }
    if (filter instanceof CompiledFilter) {
      if (filter._db !== this) {
        throw fail('INVALID_ARGUMENT', `${what}: the filter was compiled by another index (compile it with this one)`);
      }
      if (filter._h === 0) throw fail('DISPOSED', `${what}: this compiled filter was disposed`);
      return filter._h;
    }
    throw fail('INVALID_OPTION', `options.filter must be filter text or a compiled filter, got ${describe(filter)}`);
  }

  /** The options of `search`/`searchBatch`: ef (0: the default), the filter handle (0: none), includeMetadata. */
  _searchOptions(x, options, what) {
    if (options === undefined) return NO_SEARCH_OPTIONS;
    const o = checkOptionsObject(options, SEARCH_KEYS, `${what} options`);
    let ef = 0, filter = 0, includeMetadata = false;
    if (o.ef !== undefined) ef = intOption(o, 'ef', 1, MAX_EF);
    if (o.includeMetadata !== undefined) {
      if (typeof o.includeMetadata !== 'boolean') {
        throw fail('INVALID_OPTION', `options.includeMetadata must be a boolean, got ${describe(o.includeMetadata)}`);
      }
      includeMetadata = o.includeMetadata;
    }
    if (o.filter !== undefined) filter = this._filter(x, o.filter, what);
    return { ef, filter, includeMetadata };
  }

  /** Grows the result buffers to `k` hits. */
  _output(k) {
    const x = this._x;
    const ids = x.ev_output(this._h, k) >>> 0;
    if (ids === 0) throw wasmError(x, -7, `result buffer for ${k} hits`, false);
    this._outIds = ids;
    this._outDist = x.ev_output_distances(this._h) >>> 0;
    this._outCap = k;
  }
}

// ---------------------------------------------------------------------------
// IndexedDB (browsers)

const IDB_DATABASE = 'edgevec';
const IDB_STORE = 'indexes';

function checkName(name) {
  if (typeof name !== 'string' || name.length === 0) {
    throw fail('INVALID_ARGUMENT', `the IndexedDB key must be a non-empty string, got ${describe(name)}`);
  }
}

function idbOpen() {
  const idb = globalThis.indexedDB;
  if (idb === undefined || idb === null) throw fail('UNSUPPORTED', 'IndexedDB is not available here');
  return new Promise((resolve, reject) => {
    const request = idb.open(IDB_DATABASE, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(IDB_STORE)) request.result.createObjectStore(IDB_STORE);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('the IndexedDB database is blocked by another connection'));
  });
}

/** Runs one request in its own transaction; resolves with its result once the transaction completes. */
async function idbRequest(mode, makeRequest) {
  let db;
  try {
    db = await idbOpen();
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(IDB_STORE, mode);
      const request = makeRequest(transaction.objectStore(IDB_STORE));
      let result;
      request.onsuccess = () => { result = request.result; };
      transaction.oncomplete = () => resolve(result);
      transaction.onerror = () => reject(transaction.error ?? request.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('transaction aborted'));
    });
  } catch (error) {
    if (error instanceof EdgeVecError) throw error;
    throw fail('IO', `IndexedDB: ${error?.message ?? error}`, error);
  } finally {
    db?.close();
  }
}
