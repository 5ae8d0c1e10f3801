// Insert-matrix worker for the wasm module in Node, driven by
// bench/insert/run.py: one JSON command per stdin line, one JSON answer per
// stdout line. Start with `node --expose-gc node_worker.mjs DIST [COUNTING_DIST]`.
//
//   {"op":"run","file":F,"n":N,"dim":D,"api":"single|batch100|batch1000",
//    "allocator":"dlmalloc|arena","m":16,"ef_construction":200,"seed":42,"counting":false}
//
// A run creates an empty l2 index through the public API (EdgeVec.create),
// inserts the N rows of F (float32, row after row): `single` calls
// db.insert(row) per vector (a subarray view of the loaded data, as an
// application would pass it), `batchK` calls db.insertBatch with K rows per
// call. Only the insert calls are timed (performance.now). Untimed: a full GC
// before the run, the peak-RSS reset, disposing the index. With "counting"
// the index comes from the allocation-counter build (COUNTING_DIST) and the
// answer carries the allocations made during the insert calls.
//
//   {"op":"interleave","file":F,"n":N,"dim":D,"allocator":...,"chunk":100}
//
// builds two indexes from the same rows at once, one by single inserts and
// one by batches of `chunk`, alternating chunk by chunk (see
// interleavedInserts), and answers both APIs' seconds.
//
//   {"op":"overhead","file":F,"n":N,"dim":D,"allocator":...}
//
// times the per-call costs of the JavaScript path (see overhead() below).
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { interleaveAndCheck, timedInserts } from './browser/timed_inserts.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const countingDist = process.argv[3] ? resolve(process.argv[3]) : null;
const { EdgeVec } = await import(pathToFileURL(`${dist}/edgevec.mjs`).href);
const variantFile = { dlmalloc: 'edgevec.wasm', arena: 'edgevec-arena.wasm' };

const cache = new Map();
function loadData(file, floats) {
  let data = cache.get(file);
  if (!data) {
    const bytes = readFileSync(file);
    data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    cache.clear();
    cache.set(file, data);
  }
  if (data.length < floats) throw new Error(`${file} holds ${data.length} floats, need ${floats}`);
  return data;
}

function resetPeak() {
  try { writeFileSync('/proc/self/clear_refs', '5'); return true; } catch { return false; }
}

function peakRSS() {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS * 1024;
}

function rowsOf(api) {
  if (api === 'single') return 1;
  const m = /^batch(\d+)$/.exec(api);
  if (!m) throw new Error(`unknown api ${api}`);
  return Number(m[1]);
}

async function create(cmd, counting) {
  const options = {
    dimensions: cmd.dim, metric: 'l2', m: cmd.m ?? 16, efConstruction: cmd.ef_construction ?? 200,
    seed: cmd.seed ?? 42, allocator: cmd.allocator,
  };
  if (counting) {
    if (!countingDist) throw new Error('no allocation-counter build given');
    options.wasm = pathToFileURL(`${countingDist}/${variantFile[cmd.allocator]}`);
  }
  return EdgeVec.create(options);
}

async function run(cmd) {
  const { n, dim } = cmd;
  const data = loadData(cmd.file, n * dim);
  const rows = rowsOf(cmd.api);
  const counting = Boolean(cmd.counting);
  globalThis.gc?.();
  const resetWorked = resetPeak();
  const db = await create(cmd, counting);
  const before = counting ? db.allocationStats() : null;
  const seconds = timedInserts(db, data, n, dim, rows);
  const after = counting ? db.allocationStats() : null;
  const size = db.size;
  const wasmMemory = db.memoryBytes;
  const peak = peakRSS();
  db.dispose();
  if (size !== n) throw new Error(`the index holds ${size} vectors, expected ${n}`);
  return {
    seconds,
    allocations: after ? after.allocations - before.allocations : null,
    allocation_bytes: after?.bytes !== undefined ? after.bytes - before.bytes : null,   // older counting builds: no bytes
    frees: after ? after.frees - before.frees : null,
    wasm_memory_bytes: wasmMemory,
    peak_bytes: peak,
    peak_source: resetWorked ? 'VmHWM since run start (Node process)' : 'maxRSS of Node process',
  };
}

async function interleave(cmd) {
  const { n, dim } = cmd;
  const data = loadData(cmd.file, n * dim);
  globalThis.gc?.();
  const single = await create(cmd, false), batch = await create(cmd, false);
  return interleaveAndCheck(single, batch, data, n, dim, cmd.chunk ?? 100);
}

// The wrapper's share of one insert: N single inserts through db.insert and
// through the raw exports (what db.insert does minus argument checks and
// error mapping), into fresh indexes with M 2 and efConstruction 1 so that
// the insert itself is cheap and the per-call costs stand out; plus N bare
// export calls (ev_size) and N row copies into wasm memory. Medians of 3,
// alternating.
async function overhead(cmd) {
  const { n, dim } = cmd;
  const data = loadData(cmd.file, n * dim);
  const cheap = { ...cmd, m: 2, ef_construction: 1 };
  const times = { wrapper: [], raw: [], call: [], copy: [] };
  for (let r = 0; r < 3; r++) {
    for (const how of r % 2 ? ['raw', 'wrapper'] : ['wrapper', 'raw']) {
      globalThis.gc?.();
      const db = await create(cheap, false);
      db.insert(data.subarray(0, dim));          // sets up the staging buffer
      let t;
      if (how === 'wrapper') {
        t = performance.now();
        for (let i = 1; i < n; i++) db.insert(data.subarray(i * dim, (i + 1) * dim));
      } else {
        const x = db._x, h = db._h, p = db._in >>> 0, memory = x.memory;
        let buffer = memory.buffer, f32 = new Float32Array(buffer);
        t = performance.now();
        for (let i = 1; i < n; i++) {
          if (memory.buffer !== buffer) { buffer = memory.buffer; f32 = new Float32Array(buffer); }
          f32.set(data.subarray(i * dim, (i + 1) * dim), p >>> 2);
          if (x.ev_insert(h, p) < 0) throw new Error('ev_insert failed');
        }
      }
      times[how].push((performance.now() - t) * 1000 / (n - 1));
      if (how === 'raw') {
        const x = db._x, h = db._h, p = db._in >>> 0;
        const f32 = new Float32Array(x.memory.buffer);
        let sink = 0;
        t = performance.now();
        for (let i = 0; i < n; i++) sink += x.ev_size(h);
        times.call.push((performance.now() - t) * 1000 / n);
        t = performance.now();
        for (let i = 0; i < n; i++) f32.set(data.subarray(i * dim, (i + 1) * dim), p >>> 2);
        times.copy.push((performance.now() - t) * 1000 / n);
        if (sink < 0) throw new Error('unreachable');
      }
      db.dispose();
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { n, m: 2, ef_construction: 1, wrapper_us: med(times.wrapper), raw_us: med(times.raw),
           export_call_us: med(times.call), row_copy_us: med(times.copy) };
}

const rl = createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ ready: true, node: process.version, counting: countingDist !== null }) + '\n');
for await (const line of rl) {
  if (!line.trim()) continue;
  let answer;
  try {
    const cmd = JSON.parse(line);
    if (cmd.op === 'quit') break;
    answer = cmd.op === 'overhead' ? await overhead(cmd) : cmd.op === 'interleave' ? await interleave(cmd) : await run(cmd);
  } catch (error) {
    answer = { error: String(error?.stack ?? error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
process.exit(0);
