// Rough timing, not a test: 1,000 single inserts (without and with { id }) vs
// one insertBatch of the same 1,000 128-d vectors (M 16, efConstruction 200)
// into fresh indexes from the same compiled module; median of 7 runs, the
// order of the three rotating run by run.
//
//   node js/bench/insert-vs-batch.mjs [dist-dir] [dlmalloc|arena]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const dist = resolve(process.argv[2] ?? 'dist');
const allocator = process.argv[3] ?? 'dlmalloc';
const { EdgeVec } = await import(pathToFileURL(`${dist}/edgevec.mjs`).href);

const N = 1000, DIM = 128, RUNS = 7;
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

async function singleWithId() {
  const db = await EdgeVec.create(options);
  const t = performance.now();
  for (let i = 0; i < N; i++) db.insert(data.subarray(i * DIM, (i + 1) * DIM), { id: 1_000_003 * i + 7 });
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

await single(); await singleWithId(); await batch();   // warm-up: compile, tier up
const kinds = [['insert', single], ['insert with id', singleWithId], ['insertBatch', batch]];
const times = new Map(kinds.map(([name]) => [name, []]));
for (let r = 0; r < RUNS; r++) {
  const order = kinds.slice(r % 3).concat(kinds.slice(0, r % 3));
  for (const [name, run] of order) times.get(name).push(await run());
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const batches = times.get('insertBatch');
for (const [name] of kinds) {
  const m = median(times.get(name));
  // Ratios run by run (each run holds one of each), then their median and range.
  const ratios = times.get(name).map((x, r) => x / batches[r]);
  console.log(`${allocator}: ${N} × ${name} ${m.toFixed(1)} ms (${(m * 1000 / N).toFixed(1)} µs per vector); ` +
    `÷ insertBatch ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`);
}
