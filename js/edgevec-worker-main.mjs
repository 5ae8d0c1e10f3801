// The worker side of EdgeVecWorker (edgevec-worker.mjs): runs one EdgeVec
// index in a Web Worker or a Node worker_threads Worker. Not imported by
// applications; EdgeVecWorker starts it.
//
// Protocol: requests { id, op, args } arrive in order and are answered in
// order with { id, ok: true, value, state } or { id, ok: false, error }.
// Requests run one after another (async ones too), so replies keep the order
// of the calls. `state` carries what the main thread's getters read without
// a round trip: size, memoryBytes, efSearch. Typed arrays in a reply are
// transferred, not copied (each is a fresh copy made for the reply).
import { EdgeVec, EdgeVecError } from './edgevec.mjs';

// Node: worker_threads' parentPort; browsers: the worker global scope.
const isNode = typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';
const port = isNode ? (await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:worker_threads')).parentPort
  : null;
const post = port ? (message, transfer) => port.postMessage(message, transfer)
  : (message, transfer) => self.postMessage(message, transfer);

let db = null;
const filters = new Map();   // filter id of the main thread → CompiledFilter
const FACTORIES = { create: EdgeVec.create, load: EdgeVec.load, loadFile: EdgeVec.loadFile,
  loadFromIndexedDB: EdgeVec.loadFromIndexedDB };
// Methods of EdgeVec the main thread may call (anything else is a bug there).
const METHODS = new Set(['insert', 'insertBatch', 'remove', 'update', 'has', 'get', 'setMetadata', 'getMetadata',
  'search', 'searchBatch', 'compact', 'reserve', 'save', 'saveFile', 'saveToIndexedDB', 'allocationStats']);

function state() {
  return db === null || db.disposed ? null : { size: db.size, memoryBytes: db.memoryBytes, efSearch: db.efSearch };
}

/** A search option `filter: { filterId }` (a WorkerCompiledFilter) as this side's CompiledFilter. */
function withFilter(options) {
  const f = options?.filter;
  if (f === null || typeof f !== 'object' || !('filterId' in f)) return options;
  const compiled = filters.get(f.filterId);
  if (compiled === undefined) throw new EdgeVecError('DISPOSED', 'search: this compiled filter was disposed');
  return { ...options, filter: compiled };
}

async function run(op, args) {
  if (op in FACTORIES) {
    db = await FACTORIES[op].apply(EdgeVec, args);
    return { dimensions: db.dimensions, metric: db.metric, m: db.m, efConstruction: db.efConstruction,
      allocator: db.allocator };
  }
  if (db === null) throw new EdgeVecError('DISPOSED', 'this EdgeVec index was disposed');
  switch (op) {
    case 'ids': return Float64Array.from(db.ids());
    case 'setEfSearch': db.efSearch = args[0]; return undefined;
    case 'compileFilter': filters.set(args[1], db.compileFilter(args[0])); return undefined;
    case 'disposeFilter': filters.get(args[0])?.dispose(); filters.delete(args[0]); return undefined;
    case 'dispose': db.dispose(); return undefined;
    case 'search': case 'searchBatch': return db[op](args[0], args[1], withFilter(args[2]));
    default:
      if (!METHODS.has(op)) throw new EdgeVecError('INTERNAL', `EdgeVecWorker: unknown operation ${op}`);
      return db[op](...args);
  }
}

/** An error as plain data: EdgeVecError's fields survive, others become INTERNAL. */
function errorData(error) {
  if (error instanceof EdgeVecError) {
    const data = { code: error.code, message: error.message, wasmCode: error.wasmCode };
    if (error.column !== undefined) data.column = error.column;
    if (error.expected !== undefined) data.expected = error.expected;
    if (error.cause !== undefined) data.cause = String(error.cause?.message ?? error.cause);
    return data;
  }
  return { code: 'INTERNAL', message: `the EdgeVec worker failed: ${error?.stack ?? error}`, wasmCode: undefined };
}

function transferable(value) {
  return ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer ? [value.buffer] : [];
}

let queue = Promise.resolve();
function receive(message) {
  const { id, op, args } = message;
  queue = queue.then(async () => {
    let reply, transfer = [];
    try {
      const value = await run(op, args);
      transfer = transferable(value);
      reply = { id, ok: true, value, state: state() };
    } catch (error) {
      reply = { id, ok: false, error: errorData(error), state: state() };
    }
    post(reply, transfer);
  });
}

if (port) port.on('message', receive);
else self.onmessage = (event) => receive(event.data);
