// EdgeVec wasm (dist/edgevec.mjs in Node) side of the search experiment:
// loads an index file written by `edgevec build` with EdgeVec.loadFile, then
// for each ef runs every query ONE AT A TIME through db.search(query, k, { ef }),
// timing each call alone. Prints one JSON object per ef on stdout.
//
//   node bench/search/wasm_search.mjs --dist dist --index INDEX --queries Q.fvecs \
//        --groundtruth GT.ivecs --efs 10,16,32 [--k 10] [--allocator dlmalloc|arena] [--warmup 1000]
//
// Before the sweep, an untimed warm-up of --warmup searches (default 1,000,
// cycling through the queries) at the largest ef lets V8 tier the module up from Liftoff to TurboFan
// (native code needs no such warm-up: `edgevec search --ef-sweep` only pages in
// the index with 100 queries).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parsePairs, readVecs } from './vecs.mjs';

function parseArgs(argv) {
  const args = parsePairs(argv, { k: 10, allocator: 'dlmalloc', warmup: 1000 });
  for (const need of ['dist', 'index', 'queries', 'efs']) {
    if (!args[need]) throw new Error(`--${need} is required`);
  }
  args.k = Number(args.k);
  args.warmup = Number(args.warmup);
  args.efs = String(args.efs).split(',').map(Number);
  return args;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

const args = parseArgs(process.argv.slice(2));
const { EdgeVec } = await import(pathToFileURL(resolve(args.dist, 'edgevec.mjs')).href);
const queries = readVecs(args.queries, Float32Array);
const truth = args.groundtruth ? readVecs(args.groundtruth, Int32Array) : null;

const t0 = process.hrtime.bigint();
const db = await EdgeVec.loadFile(resolve(args.index), { allocator: args.allocator });
const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const size = db.size;
const memoryBytes = db.memoryBytes;

const rows = queries.rows;
const dim = queries.dim;
if (dim !== db.dimensions) throw new Error(`queries have dimension ${dim}, the index ${db.dimensions}`);
const views = [];
for (let r = 0; r < rows; r++) views.push(queries.data.subarray(r * dim, (r + 1) * dim));
const k = args.k;
const results = new Int32Array(rows * k).fill(-1);
const latencies = new Float64Array(rows);

for (let round = -1; round < args.efs.length; round++) {
  const ef = round < 0 ? Math.max(...args.efs) : args.efs[round];
  const count = round < 0 ? args.warmup : rows;
  const options = { ef };
  const start = process.hrtime.bigint();
  for (let r = 0; r < count; r++) {
    const a = process.hrtime.bigint();
    const hits = db.search(views[r % rows], k, options);
    const b = process.hrtime.bigint();
    if (round < 0) continue;
    latencies[r] = Number(b - a) / 1000;
    for (let i = 0; i < hits.length; i++) results[r * k + i] = hits[i].id;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (round < 0) continue;

  let recall = null;
  if (truth) {
    let found = 0;
    for (let r = 0; r < rows; r++) {
      const mine = new Set(results.subarray(r * k, (r + 1) * k));
      for (let i = 0; i < k; i++) if (mine.has(truth.data[r * truth.dim + i])) found++;
    }
    recall = found / (rows * k);
  }
  const sorted = Array.from(latencies).sort((x, y) => x - y);
  console.log(JSON.stringify({
    ef: Math.max(ef, k), queries: rows, k, qps: rows / seconds,
    p50_us: percentile(sorted, 0.5), p99_us: percentile(sorted, 0.99), recall_at_10: recall,
    n: size, load_seconds: loadSeconds, memory_bytes: memoryBytes, allocator: db.allocator,
    node: process.version,
  }));
}
db.dispose();
