// Memory: growth of the WebAssembly memory never breaks a later call (the
// wrapper re-creates its views), and running out of memory is an
// OUT_OF_MEMORY error that leaves the index unchanged and usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALLOCATORS, EdgeVec, clustered, randomRows, row } from '../test-support/helpers.mjs';

const DIM = 128;
const COUNT = 30000;

for (const allocator of ALLOCATORS) {
  test(`memory growth: ${COUNT} × ${DIM} inserted one by one, with searches and a save after growth (${allocator})`,
    async (t) => {
      const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', m: 12, efConstruction: 48, allocator });
      // Clustered like real embeddings; the last 500 rows are inserted as one batch at the end.
      const data = clustered({ count: COUNT + 500, queries: 0, dim: DIM, clusters: 100, spread: 0.5, seed: 51 }).base;
      const startBytes = db.memoryBytes;
      let lastBytes = startBytes;
      let growths = 0;
      // An exhaustive beam (ef ≥ size) visits every node reachable from the entry
      // point, and the layer-0 tree makes that all of them: each stored vector
      // must then come back first at distance 0. (At a fixed ef such as 200,
      // approximate search may miss a few of these 30k clustered vectors.)
      const selfHit = (id) => {
        const hits = db.search(row(data, DIM, id), 3, { ef: Math.max(db.size, 3) });
        assert.equal(hits[0].distance, 0, `vector ${id} finds itself (distance 0)`);
        assert.equal(hits[0].id, id);
      };
      for (let i = 0; i < COUNT; i++) {
        assert.equal(db.insert(row(data, DIM, i)), i);
        if (db.memoryBytes !== lastBytes) {
          // The memory just grew: every kind of call must work right away.
          growths++;
          lastBytes = db.memoryBytes;
          selfHit(i);
          selfHit(i >> 1);
          selfHit(0);
        } else if (i % 997 === 0) {
          selfHit(i);
        }
        if (i === 20000) {
          const bytes = db.save();
          assert.equal(db.size, 20001);
          const copy = await EdgeVec.load(bytes, { allocator });
          assert.deepEqual(copy.search(row(data, DIM, 123), 5), db.search(row(data, DIM, 123), 5));
          copy.dispose();
        }
      }
      t.diagnostic(`memory ${startBytes} → ${db.memoryBytes} bytes in ${growths} growth steps seen between inserts`);
      assert.ok(growths >= 3, `memory grew ${growths} times`);
      assert.ok(db.memoryBytes >= COUNT * DIM * 4, 'the vectors are in wasm memory');
      assert.equal(db.size, COUNT);
      // A batch after all that growth, then searches and a final save/load round trip.
      assert.equal(db.insertBatch(data.subarray(COUNT * DIM))[0], COUNT);
      for (let i = 0; i < 20; i++) selfHit(i * 1524);
      const bytes = db.save();
      const copy = await EdgeVec.load(bytes, { allocator });
      assert.deepEqual(copy.save(), bytes);
      for (let i = 0; i < 20; i++) {
        const q = row(data, DIM, i * 7);
        assert.deepEqual(copy.search(q, 10), db.search(q, 10));
      }
      copy.dispose();
      db.dispose();
    });
}

test('out of memory for real: memory.grow fails in a capped process (both variants)', async (t) => {
  // An index whose bytes are too large to load under the cap (≈ 41 MB).
  const dir = await mkdtemp(join(tmpdir(), 'edgevec-oom-'));
  try {
    const bigPath = join(dir, 'big.edgevec');
    const big = await EdgeVec.create({ dimensions: 4096, metric: 'dot', m: 4, efConstruction: 8 });
    big.insertBatch(randomRows(2500, 4096, 61));
    await big.saveFile(bigPath);
    big.dispose();
    assert.ok((await stat(bigPath)).size > 40e6);

    const child = fileURLToPath(new URL('../test-support/oom-child.mjs', import.meta.url));
    for (const allocator of ALLOCATORS) {
      // 1024 pages = 64 MiB per wasm memory.
      const run = spawnSync(process.execPath, ['--wasm-max-mem-pages=1024', child, allocator, bigPath],
        { encoding: 'utf8', env: process.env, maxBuffer: 1 << 20 });
      assert.equal(run.status, 0, `child failed:\n${run.stderr}\n${run.stdout}`);
      const report = JSON.parse(run.stdout.trim().split('\n').pop());
      t.diagnostic(`${allocator}: ${JSON.stringify(report)}`);
      assert.deepEqual(report.failures, []);
      assert.ok(report.steps.some((s) => s.name === 'insertBatch' && s.code === 'OUT_OF_MEMORY'));
      assert.ok(report.steps.some((s) => s.name === 'insert' && s.code === 'OUT_OF_MEMORY'));
      assert.equal(report.bigLoadCode, 'OUT_OF_MEMORY');
      assert.ok(report.memoryBytes <= 64 * 1024 * 1024);
      assert.ok(report.finalSize > 10000);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// wasm32 addresses 4 GiB. Blocks of 2 GiB and more used to fail: their byte
// counts overflowed a 32-bit Int, so a 16,384-d index stopped at 16,384
// vectors (a 1 GiB vector block that could not double). Vectors here are
// 65,536-d (256 KiB each) and sparse, so the data is cheap to make.
const WIDE = 65536;
function sparseRows(first, count) {
  const rows = new Float32Array(count * WIDE);
  for (let r = 0; r < count; r++) {
    const id = first + r;
    rows[r * WIDE + (id % WIDE)] = 1 + (id % 7);
    rows[r * WIDE + ((id * 7919) % WIDE)] += 0.5;
  }
  return rows;
}

test('memory beyond 2 GiB: a 65,536-d index grows its vector block past 1 GiB and 2 GiB of memory', async () => {
  const db = await EdgeVec.create({ dimensions: WIDE, metric: 'l2', m: 2, efConstruction: 2 });
  const count = 4096 + 64;   // 4096 vectors fill 1 GiB; one more needs the next block
  for (let first = 0; first < count; first += 128) db.insertBatch(sparseRows(first, Math.min(128, count - first)));
  assert.equal(db.size, count);
  assert.ok(db.memoryBytes > 2 ** 31, `memory ${db.memoryBytes} bytes`);
  // An exhaustive beam (ef ≥ size) reaches every node: each vector finds itself.
  for (const id of [0, 4095, 4096, count - 1]) {
    const hits = db.search(sparseRows(id, 1), 1, { ef: count });
    assert.equal(hits[0].distance, 0, `vector ${id} is stored intact`);
  }
  db.dispose();
});

test('memory near 4 GiB: a reservation of 3.4 GiB of vectors, then inserts and searches', async () => {
  const db = await EdgeVec.create({ dimensions: WIDE, metric: 'l2', m: 2, efConstruction: 2 });
  const capacity = 14000;   // 14,000 × 256 KiB = 3.42 GiB in one block
  db.reserve(capacity);
  assert.ok(db.memoryBytes > 3.4 * 2 ** 30, `memory ${db.memoryBytes} bytes`);
  db.insertBatch(sparseRows(0, 64));
  for (const id of [0, 63]) assert.equal(db.search(sparseRows(id, 1), 1, { ef: 64 })[0].distance, 0);
  // Past what 4 GiB can hold: OUT_OF_MEMORY, the index unchanged.
  assert.throws(() => db.reserve(17000), (e) => e.code === 'OUT_OF_MEMORY');
  assert.equal(db.size, 64);
  assert.equal(db.search(sparseRows(5, 1), 1, { ef: 64 })[0].distance, 0);
  db.dispose();
});
