// EdgeVecWorker: an EdgeVec index in a Web Worker (browsers) or a Node
// worker_threads Worker, so that building and searching never block the
// calling thread. The same methods as EdgeVec, returning promises; errors
// are the same EdgeVecError codes. See docs/JAVASCRIPT.md.
//
//   import { EdgeVecWorker } from './edgevec-worker.mjs'
//   const db = await EdgeVecWorker.create({ dimensions: 384, metric: 'cosine' })
//   await db.insertBatch(rows, { transfer: true })   // rows' buffer moves to the worker
//   const hits = await db.search(query, 10)
//   await db.dispose()
//
// One worker per index, running edgevec-worker-main.mjs (next to this file),
// which loads edgevec.mjs and the .wasm files from there too. Calls are
// messages answered in order, so promises settle in the order of the calls.
// Arguments are copied (structured clone) unless `transfer: true` moves a
// typed array's buffer; typed arrays that come back (save, get, ids,
// insertBatch) are transferred, never copied twice.
import { EdgeVecError } from './edgevec.mjs';

const WORKER_URL = new URL('./edgevec-worker-main.mjs', import.meta.url);
const CONSTRUCT = Symbol('EdgeVecWorker.construct');

function isNode() {
  return typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';
}

function fail(code, message, wasmCode) {
  return new EdgeVecError(code, message, wasmCode);
}
const disposedError = () => fail('DISPOSED', 'this EdgeVecWorker was disposed (or its worker ended)', -20);

/** The error a reply carries, as the EdgeVecError the main-thread class would have thrown. */
function rebuild(data) {
  const error = new EdgeVecError(data.code, data.message, data.wasmCode,
    data.cause === undefined ? undefined : { cause: new Error(data.cause) });
  if (data.column !== undefined) error.column = data.column;
  if (data.expected !== undefined) error.expected = data.expected;
  return error;
}

/** The buffers of `value` (a typed array, or an array of them) that may be moved to the worker. */
function buffersOf(value) {
  const out = new Set();
  const add = (v) => { if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer); };
  if (Array.isArray(value)) value.forEach(add); else add(value);
  return [...out];
}

/**
 * Splits `options.transfer` off an options object: [the options without it,
 * whether to transfer]. `transfer: true` moves the typed arrays' buffers to
 * the worker instead of copying them: they become detached (length 0) here,
 * whole (a view's entire buffer moves).
 */
function splitTransfer(options, what) {
  if (options === null || typeof options !== 'object' || !Object.hasOwn(options, 'transfer')) return [options, false];
  const { transfer, ...rest } = options;
  if (typeof transfer !== 'boolean') {
    throw fail('INVALID_OPTION', `options.transfer must be a boolean, got ${typeof transfer} (${what})`, -5);
  }
  return [rest, transfer];
}

/** A message channel to one worker: requests with ids, replies settling their promises in order. */
class Channel {
  constructor(worker, node) {
    this.worker = worker;
    this.node = node;
    this.next = 1;
    this.pending = new Map();
    this.closed = false;
    this.onState = null;
    const receive = (reply) => {
      const request = this.pending.get(reply.id);
      if (request === undefined) return;
      this.pending.delete(reply.id);
      if (this.node && this.pending.size === 0) worker.unref();   // an idle worker does not keep Node alive
      if (reply.state && this.onState) this.onState(reply.state);
      if (reply.ok) request.resolve(reply.value); else request.reject(rebuild(reply.error));
    };
    const crash = (what) => this.close(new EdgeVecError('INTERNAL', `the EdgeVec worker ${what}`));
    if (node) {
      worker.on('message', receive);
      worker.on('error', (error) => crash(`failed: ${error?.message ?? error}`));
      worker.on('exit', () => this.close(disposedError()));
      worker.unref();
    } else {
      worker.onmessage = (event) => receive(event.data);
      worker.onerror = (event) => { event.preventDefault?.(); crash(`failed: ${event.message ?? 'error'}`); };
      worker.onmessageerror = () => crash('sent a message that could not be read');
    }
  }

  static async open() {
    if (isNode()) {
      const { Worker } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:worker_threads');
      // The worker inherits the process's Node flags (say --wasm-max-mem-pages), except
      // --input-type, which Node refuses for a worker's file.
      const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
      return new Channel(new Worker(WORKER_URL, { execArgv }), true);
    }
    if (typeof Worker !== 'function') throw fail('UNSUPPORTED', 'Web Workers are not available here');
    return new Channel(new Worker(WORKER_URL, { type: 'module' }), false);
  }

  call(op, args, transfer = []) {
    if (this.closed) return Promise.reject(disposedError());
    const id = this.next++;
    return new Promise((resolve, reject) => {
      try {
        this.worker.postMessage({ id, op, args }, transfer);
      } catch (error) {   // DataCloneError: a function, a Proxy, a class instance, …
        reject(new EdgeVecError('INVALID_ARGUMENT', `${op}: an argument cannot be sent to the worker ` +
          `(${error?.message ?? error})`, -5, { cause: error }));
        return;
      }
      this.pending.set(id, { resolve, reject });
      if (this.node && this.pending.size === 1) this.worker.ref();
    });
  }

  /** Ends the worker; pending calls reject with `error`. */
  close(error = disposedError()) {
    if (this.closed) return undefined;
    this.closed = true;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    return this.worker.terminate();
  }
}

/** A filter compiled in the worker by `compileFilter`, for that worker's searches. */
export class WorkerCompiledFilter {
  constructor(token, owner, id, text) {
    if (token !== CONSTRUCT) throw new TypeError('use db.compileFilter(text)');
    this._owner = owner;
    this._id = id;
    this._text = text;
  }

  get text() { return this._text; }
  get disposed() { return this._id === 0 || this._owner.disposed; }

  /** Frees the compiled filter in the worker; searches with it then reject with DISPOSED. */
  async dispose() {
    if (this._id === 0) return;
    const id = this._id;
    this._id = 0;
    if (!this._owner.disposed) await this._owner._channel.call('disposeFilter', [id]);
  }
}

export class EdgeVecWorker {
  /** Use `EdgeVecWorker.create`, `load`, `loadFile` or `loadFromIndexedDB`. */
  constructor(token, channel, info) {
    if (token !== CONSTRUCT) throw new TypeError('use EdgeVecWorker.create(options) or EdgeVecWorker.load(bytes)');
    this._channel = channel;
    this._info = info;
    this._state = { size: 0, memoryBytes: 0, efSearch: 0 };
    this._filters = 0;
    channel.onState = (state) => { this._state = state; };
  }

  static async _open(op, args, transfer) {
    const channel = await Channel.open();
    try {
      let state;
      channel.onState = (s) => { state = s; };
      const info = await channel.call(op, args, transfer);
      const db = new EdgeVecWorker(CONSTRUCT, channel, info);
      db._state = state;
      return db;
    } catch (error) {
      channel.close();
      throw error;
    }
  }

  /** A new, empty index in a new worker; the options of `EdgeVec.create` (a `wasm` URL is sent as its href). */
  static async create(options) {
    let o = options;
    if (o !== null && typeof o === 'object' && o.wasm instanceof URL) o = { ...o, wasm: o.wasm.href };
    return EdgeVecWorker._open('create', [o]);
  }

  /** An index from saved bytes, in a new worker; `options.transfer: true` moves the bytes' buffer there. */
  static async load(bytes, options) {
    const [o, transfer] = splitTransfer(options, 'load');
    return EdgeVecWorker._open('load', [bytes, o], transfer ? buffersOf(bytes) : []);
  }

  /** Node.js: `EdgeVec.loadFile` in a new worker (the file is read there). */
  static async loadFile(path, options) {
    const p = path instanceof URL ? (await import(/* webpackIgnore: true */ 'node:url')).fileURLToPath(path) : path;
    return EdgeVecWorker._open('loadFile', [p, options]);
  }

  /** Browsers: `EdgeVec.loadFromIndexedDB` in a new worker. */
  static loadFromIndexedDB(name, options) {
    return EdgeVecWorker._open('loadFromIndexedDB', [name, options]);
  }

  // -- properties: as of the last completed call ------------------------------

  get size() { return this._state.size; }
  get memoryBytes() { return this._state.memoryBytes; }
  get efSearch() { return this._state.efSearch; }
  get dimensions() { return this._info.dimensions; }
  get metric() { return this._info.metric; }
  get m() { return this._info.m; }
  get efConstruction() { return this._info.efConstruction; }
  get allocator() { return this._info.allocator; }
  /** Whether `dispose()` or `terminate()` was called (or the worker ended). */
  get disposed() { return this._channel.closed; }

  // -- operations: EdgeVec's, as promises ---------------------------------------

  _call(op, args, transfer) { return this._channel.call(op, args, transfer); }

  /** `options.transfer: true` moves a Float32Array's buffer to the worker. */
  async insert(vector, options) {
    const [o, transfer] = splitTransfer(options, 'insert');
    return this._call('insert', [vector, o], transfer ? buffersOf(vector) : []);
  }

  /** Resolves to the ids (a Float64Array); `options.transfer: true` moves the rows' buffers to the worker. */
  async insertBatch(vectors, options) {
    const [o, transfer] = splitTransfer(options, 'insertBatch');
    return this._call('insertBatch', [vectors, o], transfer ? buffersOf(vectors) : []);
  }

  remove(id) { return this._call('remove', [id]); }
  update(id, vector) { return this._call('update', [id, vector]); }
  has(id) { return this._call('has', [id]); }
  get(id) { return this._call('get', [id]); }
  setMetadata(id, metadata) { return this._call('setMetadata', [id, metadata]); }
  getMetadata(id) { return this._call('getMetadata', [id]); }
  compact() { return this._call('compact', []); }
  reserve(capacity) { return this._call('reserve', [capacity]); }
  /** Resolves to the index's bytes (a Uint8Array transferred from the worker). */
  save() { return this._call('save', []); }
  /** Node.js: `EdgeVec.saveFile` in the worker (atomic; the bytes never come to this thread). */
  async saveFile(path) {
    const p = path instanceof URL ? (await import(/* webpackIgnore: true */ 'node:url')).fileURLToPath(path) : path;
    return this._call('saveFile', [p]);
  }
  saveToIndexedDB(name) { return this._call('saveToIndexedDB', [name]); }
  allocationStats() { return this._call('allocationStats', []); }
  /** Resolves to an iterator over the ids (a snapshot). */
  async ids() { return (await this._call('ids', [])).values(); }
  /** Sets the default beam width (`efSearch` of EdgeVec, a setter there). */
  setEfSearch(value) { return this._call('setEfSearch', [value]); }

  /** `options.transfer: true` moves the query's buffer to the worker. */
  async search(query, k, options) {
    const [o, transfer] = splitTransfer(options, 'search');
    return this._call('search', [query, k, this._filterOption(o, 'search')], transfer ? buffersOf(query) : []);
  }

  /** `options.transfer: true` moves the queries' buffers to the worker. */
  async searchBatch(queries, k, options) {
    const [o, transfer] = splitTransfer(options, 'searchBatch');
    return this._call('searchBatch', [queries, k, this._filterOption(o, 'searchBatch')],
      transfer ? buffersOf(queries) : []);
  }

  /** Compiles filter text once in the worker for many searches of this index. */
  async compileFilter(text) {
    const id = ++this._filters;
    await this._call('compileFilter', [text, id]);
    return new WorkerCompiledFilter(CONSTRUCT, this, id, text);
  }

  /** Frees the index: ends its worker (all its memory goes with it). Pending calls reject with DISPOSED. */
  async dispose() { await this._channel.close(); }
  /** The same as `dispose()`, named as Worker's method. */
  terminate() { return this.dispose(); }

  /** A search's options with a WorkerCompiledFilter replaced by its id in the worker. */
  _filterOption(options, what) {
    const f = options?.filter;
    if (!(f instanceof WorkerCompiledFilter)) return options;
    if (f._owner !== this) {
      throw fail('INVALID_ARGUMENT', `${what}: the filter was compiled by another index (compile it with this one)`, -5);
    }
    if (f._id === 0) throw fail('DISPOSED', `${what}: this compiled filter was disposed`, -20);
    return { ...options, filter: { filterId: f._id } };
  }
}

export { EdgeVecError };
