// EdgeVec wasm (dist/edgevec.mjs in Node) build for the search experiment:
// the same build as `edgevec build` (M, efConstruction, seed 42, room
// reserved for all rows, then one db.insert per vector), timed from the
// reservation to the last insert. Prints one JSON object: seconds, the
// growth of WebAssembly memory while building, and whether the saved index
// is byte for byte the file the native CLI built (--compare).
//
//   node bench/search/wasm_build.mjs --dist dist --base BASE.fvecs --metric cosine \
//        [--m 16] [--ef-construction 200] [--allocator dlmalloc|arena] [--compare NATIVE.edgevec]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parsePairs, readVecs } from './vecs.mjs';

const args = parsePairs(process.argv.slice(2), { m: 16, 'ef-construction': 200, allocator: 'dlmalloc' });
for (const need of ['dist', 'base', 'metric']) {
  if (!args[need]) throw new Error(`--${need} is required`);
}
const { EdgeVec } = await import(pathToFileURL(resolve(args.dist, 'edgevec.mjs')).href);
const base = readVecs(args.base, Float32Array);
const views = [];
for (let r = 0; r < base.rows; r++) views.push(base.data.subarray(r * base.dim, (r + 1) * base.dim));

const db = await EdgeVec.create({
  dimensions: base.dim, metric: args.metric, m: Number(args.m), efConstruction: Number(args['ef-construction']),
  seed: 42, allocator: args.allocator,
});
const memoryBefore = db.memoryBytes;
const start = process.hrtime.bigint();
db.reserve(base.rows);
for (let r = 0; r < base.rows; r++) db.insert(views[r]);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const memoryAfter = db.memoryBytes;

const mine = db.save();
let identical = null;
if (args.compare) {
  const native = readFileSync(resolve(args.compare));
  identical = mine.length === native.length && Buffer.compare(Buffer.from(mine.buffer, mine.byteOffset, mine.length),
    native) === 0;
}
console.log(JSON.stringify({
  n: db.size, seconds, memory_bytes_before: memoryBefore, memory_bytes: memoryAfter,
  memory_growth_bytes: memoryAfter - memoryBefore, saved_bytes: mine.length, identical_to_native: identical, allocator: db.allocator,
  node: process.version,
}));
db.dispose();
