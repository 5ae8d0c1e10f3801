// Insert-matrix page for headless Chromium, driven by bench/insert/chromium_worker.py
// (page.evaluate("window.benchRun(cmd)")). The same runs as bench/insert/node_worker.mjs:
// an empty l2 index from /dist/edgevec.mjs (or the allocation-counter build under
// /counting/), the N rows of /data/FILE inserted through db.insert (one call per
// vector) or db.insertBatch (K rows per call); only the insert calls are timed.
import { EdgeVec } from '/dist/edgevec.mjs';
import { interleaveAndCheck, timedInserts } from '/timed_inserts.mjs';

const variantFile = { dlmalloc: 'edgevec.wasm', arena: 'edgevec-arena.wasm' };
const cache = new Map();

async function loadData(name, floats) {
  let data = cache.get(name);
  if (!data) {
    const response = await fetch(`/data/${name}`);
    if (!response.ok) throw new Error(`GET /data/${name}: HTTP ${response.status}`);
    data = new Float32Array(await response.arrayBuffer());
    cache.clear();
    cache.set(name, data);
  }
  if (data.length < floats) throw new Error(`${name} holds ${data.length} floats, need ${floats}`);
  return data;
}

function rowsOf(api) {
  if (api === 'single') return 1;
  const m = /^batch(\d+)$/.exec(api);
  if (!m) throw new Error(`unknown api ${api}`);
  return Number(m[1]);
}

function createOptions(cmd) {
  return {
    dimensions: cmd.dim, metric: 'l2', m: cmd.m ?? 16, efConstruction: cmd.ef_construction ?? 200,
    seed: cmd.seed ?? 42, allocator: cmd.allocator,
  };
}

// Single against batched inserts, interleaved chunk by chunk (as node_worker.mjs's "interleave").
window.benchInterleave = async (cmd) => {
  const { n, dim } = cmd;
  const data = await loadData(cmd.file, n * dim);
  globalThis.gc?.();
  const single = await EdgeVec.create(createOptions(cmd)), batch = await EdgeVec.create(createOptions(cmd));
  return interleaveAndCheck(single, batch, data, n, dim, cmd.chunk ?? 100);
};

window.benchRun = async (cmd) => {
  const { n, dim } = cmd;
  const data = await loadData(cmd.file, n * dim);
  const rows = rowsOf(cmd.api);
  const options = createOptions(cmd);
  if (cmd.counting) options.wasm = new URL(`/counting/${variantFile[cmd.allocator]}`, location.href);
  globalThis.gc?.();
  const db = await EdgeVec.create(options);
  const before = cmd.counting ? db.allocationStats() : null;
  const seconds = timedInserts(db, data, n, dim, rows);
  const after = cmd.counting ? db.allocationStats() : null;
  const size = db.size;
  const wasmMemory = db.memoryBytes;
  db.dispose();
  if (size !== n) throw new Error(`the index holds ${size} vectors, expected ${n}`);
  return {
    seconds,
    allocations: after ? after.allocations - before.allocations : null,
    allocation_bytes: after?.bytes !== undefined ? after.bytes - before.bytes : null,   // older counting builds: no bytes
    frees: after ? after.frees - before.frees : null,
    wasm_memory_bytes: wasmMemory,
    peak_bytes: wasmMemory,
    peak_source: 'wasm memory of the instance (never shrinks)',
  };
};

window.benchInfo = { crossOriginIsolated: globalThis.crossOriginIsolated === true, userAgent: navigator.userAgent };
window.benchReady = true;
