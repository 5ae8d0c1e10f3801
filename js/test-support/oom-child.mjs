// Run by js/test/memory.test.mjs in a separate Node process whose wasm
// memories are capped (`--wasm-max-mem-pages`), so that memory.grow really
// fails: fills an index until OUT_OF_MEMORY and checks, after each failure,
// that nothing changed and the index still works. Prints one JSON report.
//
//   node --wasm-max-mem-pages=1024 js/test-support/oom-child.mjs dlmalloc|arena [big-index-file]
import { EdgeVec, randomRows, row } from './helpers.mjs';

const allocator = process.argv[2] ?? 'dlmalloc';
const DIM = 64;
const report = { allocator, steps: [], failures: [] };
const fail = (message) => report.failures.push(message);

const queries = randomRows(5, DIM, 99);
function observe(db) {
  const hits = [];
  for (let q = 0; q < 5; q++) hits.push(db.search(row(queries, DIM, q), 5));
  return JSON.stringify({ size: db.size, hits });
}

/** Calls `fn` expecting OUT_OF_MEMORY or success; on OOM checks that `db` did not change. */
function attempt(db, name, fn) {
  const before = observe(db);
  try {
    fn();
    return true;
  } catch (error) {
    if (error?.code !== 'OUT_OF_MEMORY' || error.wasmCode !== -7) {
      fail(`${name}: expected OUT_OF_MEMORY, got ${error?.code} ${error?.stack ?? error}`);
    } else if (observe(db) !== before) {
      fail(`${name}: the index changed after OUT_OF_MEMORY`);
    }
    report.steps.push({ name, size: db.size, memoryBytes: db.memoryBytes, code: error?.code });
    return false;
  }
}

const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', m: 8, efConstruction: 24, allocator });
let seed = 1;

// 1. Batches until one does not fit.
let batchOOM = false;
for (let i = 0; i < 200 && !batchOOM; i++) {
  const batch = randomRows(2000, DIM, seed++);
  batchOOM = !attempt(db, 'insertBatch', () => db.insertBatch(batch));
}
if (!batchOOM) fail('insertBatch never ran out of memory');

// 2. Single inserts until one does not fit (the index fills its last reserve).
let singleOOM = false;
for (let i = 0; i < 200000 && !singleOOM; i++) {
  const v = randomRows(1, DIM, seed++);
  singleOOM = !attempt(db, 'insert', () => db.insert(v));
}
if (!singleOOM) fail('insert never ran out of memory');

// 3. Searching still works, including for a result buffer too large to fit.
const q = row(queries, DIM, 0);
if (db.search(q, 10).length !== 10) fail('search after OOM');
attempt(db, 'search k = size', () => db.search(q, db.size));
if (db.search(q, 10).length !== 10) fail('search after a large search');

// 4. save either works or is OUT_OF_MEMORY; saved bytes load elsewhere (or are OOM there).
let bytes;
attempt(db, 'save', () => { bytes = db.save(); });
report.saved = bytes !== undefined;
if (bytes) {
  try {
    const copy = await EdgeVec.load(bytes, { allocator });
    if (copy.size !== db.size) fail('loaded copy has another size');
    if (JSON.stringify(copy.search(q, 5)) !== JSON.stringify(db.search(q, 5))) fail('loaded copy differs');
    copy.dispose();
    report.loaded = true;
  } catch (error) {
    if (error?.code !== 'OUT_OF_MEMORY') fail(`load: ${error?.code} ${error?.stack ?? error}`);
    report.loaded = false;
    report.loadCode = error?.code;
  }
}
report.finalSize = db.size;
report.memoryBytes = db.memoryBytes;

// 5. Bytes too large for this memory cap (written by the parent) are OUT_OF_MEMORY to load.
if (process.argv[3]) {
  const { readFile } = await import('node:fs/promises');
  const big = await readFile(process.argv[3]);
  try {
    (await EdgeVec.load(big, { allocator })).dispose();
    fail(`loading ${big.length} bytes under the cap succeeded`);
  } catch (error) {
    report.bigLoadCode = error?.code;
    if (error?.code !== 'OUT_OF_MEMORY' || error.wasmCode !== -7) fail(`big load: ${error?.stack ?? error}`);
  }
}

// 6. After dispose, a new index works (its own instance and memory).
db.dispose();
const fresh = await EdgeVec.create({ dimensions: DIM, metric: 'l2', allocator });
if (fresh.insert(randomRows(1, DIM, 5)) !== 0) fail('a new index after dispose');
fresh.dispose();

console.log(JSON.stringify(report));
