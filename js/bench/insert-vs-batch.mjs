// Rough timing, not a test: 1,000 single inserts vs one insertBatch of the
// same 1,000 128-d vectors (M 16, efConstruction 200) into fresh indexes from
// the same compiled module; median of 5 runs, alternating which goes first.
//
//   node js/bench/insert-vs-batch.mjs [dist-dir] [dlmalloc|arena]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const dist = resolve(process.argv[2] ?? 'dist');
const allocator = process.argv[3] ?? 'dlmalloc';
const { EdgeVec } = await import(pathToFileURL(`${dist}/edgevec.mjs`).href);

const N = 1000, DIM = 128, RUNS = 5;
let state = 12345;
const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
const data = new Float32Array(N * DIM);
for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
const options = { dimensions: DIM, metric: 'l2', m: 16, efConstruction: 200, allocator };

async function single() {
  const db = await EdgeVec.create(options);
  const t = performance.now();
  for (let i = 0; i < N; i++) db.insert(data.subarray(i * DIM, (i + 1) * DIM));
  const ms = performance.now() - t;
  db.dispose();
  return ms;
}

async function batch() {
  const db = await EdgeVec.create(options);
  const t = performance.now();
  db.insertBatch(data);
  const ms = performance.now() - t;
  db.dispose();
  return ms;
}

await single(); await batch();   // warm-up: compile, tier up
const singles = [], batches = [];
for (let r = 0; r < RUNS; r++) {
  if (r % 2 === 0) { singles.push(await single()); batches.push(await batch()); }
  else { batches.push(await batch()); singles.push(await single()); }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const s = median(singles), b = median(batches);
console.log(`${allocator}: ${N} × insert ${s.toFixed(1)} ms (${(s * 1000 / N).toFixed(1)} µs each); ` +
  `insertBatch ${b.toFixed(1)} ms (${(b * 1000 / N).toFixed(1)} µs per vector); ratio ${(s / b).toFixed(3)}`);
console.log(`  runs: insert [${singles.map((x) => x.toFixed(1)).join(', ')}] batch [${batches.map((x) => x.toFixed(1)).join(', ')}]`);
