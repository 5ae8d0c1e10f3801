// save/load: byte-identical round trips, same results, the native file
// format, determinism, saveFile/loadFile.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ALLOCATORS, EdgeVec, METRICS, randomRows, row } from '../test-support/helpers.mjs';

const DIM = 24;
const N = 500;
const base = randomRows(N, DIM, 31);
const extra = randomRows(100, DIM, 32);
const queries = randomRows(30, DIM, 33);

function results(db, ef) {
  const out = [];
  for (let q = 0; q < queries.length / DIM; q++) out.push(db.search(row(queries, DIM, q), 10, ef ? { ef } : undefined));
  return out;
}

async function build(metric, allocator, options = {}) {
  const db = await EdgeVec.create({ dimensions: DIM, metric, m: 10, efConstruction: 80, seed: 5, allocator, ...options });
  db.insertBatch(base.subarray(0, 450 * DIM));
  for (let i = 450; i < N; i++) db.insert(row(base, DIM, i));
  return db;
}

for (const allocator of ALLOCATORS) {
  for (const metric of METRICS) {
    test(`round trip is byte-identical with the same results (${metric}, ${allocator})`, async () => {
      const db = await build(metric, allocator);
      const bytes = db.save();
      assert.ok(bytes instanceof Uint8Array);
      const copy = await EdgeVec.load(bytes, { allocator });
      assert.equal(copy.size, N);
      assert.equal(copy.dimensions, DIM);
      assert.equal(copy.metric, metric);
      assert.equal(copy.m, 10);
      assert.equal(copy.efConstruction, 80);
      assert.equal(copy.efSearch, 64);
      assert.equal(copy.allocator, allocator);
      assert.deepEqual(copy.save(), bytes);
      assert.deepEqual(results(copy), results(db));
      assert.deepEqual(results(copy, 300), results(db, 300));
      // The saved bytes are a copy: later inserts do not change them.
      const snapshot = bytes.slice();
      db.insert(row(extra, DIM, 0));
      assert.deepEqual(bytes, snapshot);
      db.dispose();
      copy.dispose();
    });
  }
}

describe('format and determinism', () => {
  test('the header is the EdgeVec format v3 (the native file format)', async () => {
    const db = await build('cosine', 'dlmalloc');
    const bytes = db.save();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'EDGEVEC\0');
    assert.equal(view.getUint32(8, true), 3, 'format version');
    assert.equal(view.getUint32(12, true), 0, 'kind: HNSW');
    assert.equal(view.getUint32(16, true), 1, 'metric: cosine');
    assert.equal(view.getUint32(20, true), DIM, 'dimension');
    assert.equal(view.getBigUint64(24, true), BigInt(N), 'count');
    assert.equal(view.getUint32(32, true), 10, 'M');
    assert.equal(view.getUint32(36, true), 80, 'efConstruction');
    assert.equal(view.getUint32(40, true), 64, 'efSearch');
    assert.equal(view.getBigUint64(48, true), 5n, 'seed');
    assert.equal(view.getBigUint64(80, true), BigInt(bytes.length - 100), 'body bytes');
    db.dispose();
  });

  test('both variants build and save the same bytes, and read each other\'s', async () => {
    const a = await build('l2', 'dlmalloc');
    const b = await build('l2', 'arena');
    assert.deepEqual(a.save(), b.save());
    const c = await EdgeVec.load(a.save(), { allocator: 'arena' });
    assert.deepEqual(results(c), results(a));
    for (const db of [a, b, c]) db.dispose();
  });

  test('insertBatch builds the same index as inserting one by one', async () => {
    const a = await EdgeVec.create({ dimensions: DIM, metric: 'dot', m: 10, efConstruction: 80 });
    const b = await EdgeVec.create({ dimensions: DIM, metric: 'dot', m: 10, efConstruction: 80 });
    a.insertBatch(base);
    for (let i = 0; i < N; i++) b.insert(row(base, DIM, i));
    assert.deepEqual(a.save(), b.save());
    a.dispose();
    b.dispose();
  });

  test('a loaded index continues exactly like the original (generator state is saved)', async () => {
    const original = await build('l2', 'dlmalloc');
    const loaded = await EdgeVec.load(original.save());
    original.insertBatch(extra.subarray(0, 50 * DIM));
    loaded.insertBatch(extra.subarray(0, 50 * DIM));
    for (let i = 50; i < 100; i++) {
      assert.equal(original.insert(row(extra, DIM, i)), loaded.insert(row(extra, DIM, i)));
    }
    assert.deepEqual(loaded.save(), original.save());
    original.dispose();
    loaded.dispose();
  });

  test('efSearch is saved when given at create; overriding it at load or later is not', async () => {
    const db = await build('l2', 'dlmalloc', { efSearch: 99 });
    const bytes = db.save();
    const a = await EdgeVec.load(bytes);
    assert.equal(a.efSearch, 99);
    const b = await EdgeVec.load(bytes, { efSearch: 7 });
    assert.equal(b.efSearch, 7);
    assert.deepEqual(b.save(), bytes);
    b.efSearch = 300;
    assert.deepEqual(b.save(), bytes);
    assert.deepEqual(results(b), results(a, 300));
    for (const x of [db, a, b]) x.dispose();
  });

  test('an empty index round-trips', async () => {
    const db = await EdgeVec.create({ dimensions: 5, metric: 'cosine' });
    const bytes = db.save();
    assert.equal(bytes.length, 116, 'header, next id, an empty metadata section (two u32 counts), trailer');
    const copy = await EdgeVec.load(bytes);
    assert.equal(copy.size, 0);
    assert.deepEqual(copy.search(new Float32Array([1, 0, 0, 0, 0]), 3), []);
    assert.equal(copy.insert(new Float32Array([1, 0, 0, 0, 0])), 0);
    db.dispose();
    copy.dispose();
  });
});

describe('saveFile / loadFile (Node)', () => {
  test('writes save() atomically and reads it back, by path or file: URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgevec-files-'));
    try {
      const db = await build('cosine', 'dlmalloc');
      const path = join(dir, 'index.edgevec');
      await db.saveFile(path);
      assert.deepEqual(new Uint8Array(await readFile(path)), db.save());
      assert.deepEqual(await readdir(dir), ['index.edgevec'], 'no temporary file is left behind');

      const loaded = await EdgeVec.loadFile(path);
      assert.deepEqual(results(loaded), results(db));
      const arena = await EdgeVec.loadFile(pathToFileURL(path), { allocator: 'arena', efSearch: 20 });
      assert.equal(arena.allocator, 'arena');
      assert.equal(arena.efSearch, 20);

      // Saving again replaces the file.
      await writeFile(join(dir, 'other.edgevec'), 'not an index');
      db.insertBatch(extra);
      await db.saveFile(pathToFileURL(join(dir, 'other.edgevec')));
      const replaced = await EdgeVec.loadFile(join(dir, 'other.edgevec'));
      assert.equal(replaced.size, N + 100);
      assert.deepEqual((await readdir(dir)).sort(), ['index.edgevec', 'other.edgevec']);
      for (const x of [db, loaded, arena, replaced]) x.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
