// EdgeVec wasm (dist/edgevec.mjs in Node) as an engine of the paired search
// experiment: bench/search/run.py keeps this process alive and sends one JSON
// command per line on stdin; each gets one JSON line on stdout.
//
//   node bench/search/wasm_worker.mjs --dist dist --index INDEX [--allocator dlmalloc|arena]
//
//   {"op":"queries","name":"tune","path":"Q.fvecs"}   load a query set
//   {"op":"warmup","name":"tune","ef":256,"searches":2000}
//   {"op":"pass","name":"report","k":10,"ef":32,"repeat":3,"ids":false}
//        -> {"seconds":...}   (+ "ids": the last repetition's ids, k per query)
//   {"op":"quit"}  -> {"quit":true}, then the process exits
//
// One pass times the whole loop of db.search(query, k, { ef }) calls, one
// query per call as a JavaScript caller makes them, inside this process: the
// pipe to Python is not timed. The warm-up lets V8 tier the module up from
// Liftoff to TurboFan before anything is timed.
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parsePairs, readVecs } from './vecs.mjs';

const args = parsePairs(process.argv.slice(2), { allocator: 'dlmalloc' });
for (const need of ['dist', 'index']) if (!args[need]) throw new Error(`--${need} is required`);
const { EdgeVec } = await import(pathToFileURL(resolve(args.dist, 'edgevec.mjs')).href);

const t0 = process.hrtime.bigint();
const db = await EdgeVec.loadFile(resolve(args.index), { allocator: args.allocator });
const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const sets = new Map();

function querySet(name) {
  const set = sets.get(name);
  if (!set) throw new Error(`no query set ${name}`);
  return set;
}

function run(set, k, ef, repeat, ids) {
  const options = { ef };
  const start = process.hrtime.bigint();
  for (let r = 0; r < repeat; r++) {
    const last = r === repeat - 1;
    for (let q = 0; q < set.length; q++) {
      const hits = db.search(set[q], k, options);
      if (last && ids) for (let i = 0; i < k; i++) ids[q * k + i] = i < hits.length ? hits[i].id : -1;
    }
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function handle(command) {
  switch (command.op) {
    case 'queries': {
      const { rows, dim, data } = readVecs(command.path, Float32Array);
      if (dim !== db.dimensions) throw new Error(`queries have dimension ${dim}, the index ${db.dimensions}`);
      const views = [];
      for (let r = 0; r < rows; r++) views.push(data.subarray(r * dim, (r + 1) * dim));
      sets.set(command.name, views);
      return { rows, n: db.size, load_seconds: loadSeconds, memory_bytes: db.memoryBytes,
               allocator: db.allocator, node: process.version };
    }
    case 'warmup': {
      const set = querySet(command.name);
      const repeat = Math.max(1, Math.ceil(command.searches / set.length));
      return { seconds: run(set, 10, command.ef, repeat, null) };
    }
    case 'pass': {
      const set = querySet(command.name);
      const ids = command.ids ? new Int32Array(set.length * command.k) : null;
      const seconds = run(set, command.k, command.ef, command.repeat, ids);
      return ids ? { seconds, ids: Array.from(ids) } : { seconds };
    }
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  if (command.op === 'quit') {
    db.dispose();
    process.stdout.write('{"quit":true}\n', () => process.exit(0));
    break;
  }
  let answer;
  try {
    answer = handle(command);
  } catch (error) {
    answer = { error: String(error && error.message || error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
