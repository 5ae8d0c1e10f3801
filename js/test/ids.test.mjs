// Ids of the caller's choosing, remove, update, has/get/ids, size, number[]
// inputs, all-or-nothing batches with a bad id inside, memory reuse, and
// format 2 (issue 20), checked against a brute-force model of the live set.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  ALLOCATORS, EdgeVec, METRICS, clustered, distance, prng, row, snapshot, throwsCode,
} from '../test-support/helpers.mjs';

const DIM = 12;
const { base, queries } = clustered({ count: 900, queries: 20, dim: DIM, clusters: 9, seed: 20 });
const MAX_ID = Number.MAX_SAFE_INTEGER;

/** Exact k nearest ids of `query` among the model's live vectors (Map id → vector). */
function exact(metric, model, query, k) {
  const all = [...model].map(([id, v]) => ({ id, d: distance(metric, v, query) }));
  all.sort((a, b) => a.d - b.d || a.id - b.id);
  return all.slice(0, k);
}

/** Every result live and at its model distance, min(k, size) of them; returns the hits of the exact top k. */
function checkSearches(db, metric, model, k = 10, ef = 64) {
  let hits = 0, wanted = 0;
  for (let q = 0; q < queries.length / DIM; q++) {
    const query = row(queries, DIM, q);
    const results = db.search(query, k, { ef });
    const truth = exact(metric, model, query, k);
    assert.equal(results.length, Math.min(k, model.size), `query ${q}: result count`);
    const radius = truth.length ? truth[truth.length - 1].d : 0;
    for (const r of results) {
      assert.ok(model.has(r.id), `query ${q}: id ${r.id} is not live`);
      const d = distance(metric, model.get(r.id), query);
      assert.ok(Math.abs(r.distance - d) <= 1e-4 * (1 + Math.abs(d)), `query ${q} id ${r.id}: ${r.distance} vs ${d}`);
      if (d <= radius + 1e-5 * Math.max(1, Math.abs(radius))) hits++;
    }
    wanted += truth.length;
  }
  assert.equal(db.size, model.size);
  return wanted === 0 ? 1 : Math.min(hits, wanted) / wanted;
}

describe('ids of the caller\'s choosing', () => {
  for (const allocator of ALLOCATORS) {
    test(`insert with { id }, insertBatch with { ids }, next ids above every id held (${allocator})`, async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', allocator });
      assert.equal(db.insert(row(base, DIM, 0)), 0);
      assert.equal(db.insert(row(base, DIM, 1), { id: 1000 }), 1000);
      assert.equal(db.insert(row(base, DIM, 2)), 1001);
      assert.equal(db.insert(row(base, DIM, 3), { id: MAX_ID }), MAX_ID);
      const ids = db.insertBatch(base.subarray(4 * DIM, 7 * DIM), { ids: [7, 3, 2 ** 40] });
      assert.ok(ids instanceof Float64Array);
      assert.deepEqual([...ids], [7, 3, 2 ** 40]);
      for (const [r, id] of [[0, 0], [1, 1000], [2, 1001], [3, MAX_ID], [4, 7], [5, 3], [6, 2 ** 40]]) {
        assert.equal(db.search(row(base, DIM, r), 1)[0].id, id, `row ${r}`);
        assert.ok(db.has(id));
        assert.deepEqual(db.get(id), row(base, DIM, r));
      }
      assert.equal(db.has(4), false);
      assert.equal(db.get(4), undefined);
      assert.deepEqual(new Set(db.ids()), new Set([0, 1000, 1001, MAX_ID, 7, 3, 2 ** 40]));
      assert.equal(db.size, 7);
      // Every id is taken up to 2^53 − 1: the next automatic one is out of range.
      throwsCode(() => db.insert(row(base, DIM, 8)), 'INVALID_ID', -12);
      db.dispose();
    });
  }

  test('DUPLICATE_ID and INVALID_ID, singly and in batches, leave the index unchanged', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'cosine' });
    db.insertBatch(base.subarray(0, 50 * DIM), { ids: Array.from({ length: 50 }, (_, i) => i * 10) });
    const before = snapshot(db, queries);
    const v = row(base, DIM, 60);
    const three = base.subarray(60 * DIM, 63 * DIM);
    throwsCode(() => db.insert(v, { id: 20 }), 'DUPLICATE_ID', -11);
    for (const bad of [-1, 1.5, MAX_ID + 1, 2 ** 64, NaN, Infinity, '7', 7n, null]) {
      throwsCode(() => db.insert(v, { id: bad }), 'INVALID_ID', -12);
      throwsCode(() => db.insertBatch(three, { ids: [1, bad, 2] }), 'INVALID_ID', -12);
    }
    throwsCode(() => db.insertBatch(three, { ids: [1, 2, 490] }), 'DUPLICATE_ID', -11);
    throwsCode(() => db.insertBatch(three, { ids: [1, 2, 1] }), 'DUPLICATE_ID', -11);
    throwsCode(() => db.insertBatch(three, { ids: [1, 2] }), 'DIMENSION_MISMATCH', -1);
    throwsCode(() => db.insertBatch(three, { ids: 5 }), 'INVALID_ARGUMENT', -5);
    throwsCode(() => db.insert(v, { key: 1 }), 'INVALID_OPTION', -5);
    throwsCode(() => db.update(7, v), 'UNKNOWN_ID', -13);
    throwsCode(() => db.update(20, [1, 2]), 'DIMENSION_MISMATCH', -1);
    throwsCode(() => db.update(20, new Float32Array(DIM).fill(NaN)), 'NON_FINITE', -2);
    for (const bad of [-1, 0.5, MAX_ID + 1]) {
      throwsCode(() => db.remove(bad), 'INVALID_ID', -12);
      throwsCode(() => db.has(bad), 'INVALID_ID', -12);
      throwsCode(() => db.get(bad), 'INVALID_ID', -12);
    }
    assert.equal(db.remove(7), false);
    assert.deepEqual(snapshot(db, queries), before);
    assert.equal(db.insert(v), 491);
    db.dispose();
  });

  test('vectors as number[] and batches as number[][] (or flat number[]) everywhere', async () => {
    const a = await EdgeVec.create({ dimensions: DIM, metric: 'dot', seed: 3 });
    const b = await EdgeVec.create({ dimensions: DIM, metric: 'dot', seed: 3 });
    a.insertBatch(base.subarray(0, 40 * DIM));
    b.insertBatch(Array.from({ length: 20 }, (_, i) => Array.from(row(base, DIM, i))));
    b.insertBatch(Array.from(base.subarray(20 * DIM, 40 * DIM)));
    a.insert(row(base, DIM, 40), { id: 99 });
    b.insert(Array.from(row(base, DIM, 40)), { id: 99 });
    a.update(5, row(base, DIM, 41));
    b.update(5, Array.from(row(base, DIM, 41)));
    assert.deepEqual(a.save(), b.save());
    assert.deepEqual(b.search(Array.from(row(queries, DIM, 0)), 5), a.search(row(queries, DIM, 0), 5));
    throwsCode(() => b.insertBatch([row(base, DIM, 0), [1, 2]]), 'DIMENSION_MISMATCH', -1);
    throwsCode(() => b.insertBatch([row(base, DIM, 0), 'x']), 'INVALID_ARGUMENT', -5);
    assert.equal(b.size, 41);
    a.dispose();
    b.dispose();
  });
});

describe('remove, update, read back', () => {
  for (const metric of METRICS) {
    test(`random inserts, removes and updates match brute force (${metric})`, async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric, m: 8, efConstruction: 80, seed: 9 });
      const model = new Map();
      const live = [];
      const rng = prng(40 + METRICS.indexOf(metric));
      const stored = (v) => {
        if (metric !== 'cosine') return Float32Array.from(v);
        const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
        return Float32Array.from(v, (x) => x / norm);
      };
      let next = 0;
      const take = () => row(base, DIM, next++ % 900);
      for (const id of db.insertBatch(base.subarray(0, 500 * DIM))) {
        model.set(id, row(base, DIM, id));
        live.push(id);
      }
      next = 500;
      const recalls = [];
      for (let round = 0; round < 4; round++) {
        for (let op = 0; op < 250; op++) {
          const r = rng() * 10;
          if (r < 4) {
            const at = Math.floor(rng() * live.length);
            const id = live[at];
            assert.equal(db.remove(id), true);
            model.delete(id);
            live[at] = live[live.length - 1];
            live.pop();
          } else if (r < 8) {
            const v = take();
            const id = rng() < 0.5 ? db.insert(v) : db.insert(v, { id: 10_000 + next });
            model.set(id, v);
            live.push(id);
          } else {
            const id = live[Math.floor(rng() * live.length)];
            const v = take();
            db.update(id, v);
            model.set(id, v);
          }
        }
        recalls.push(checkSearches(db, metric, model));
        assert.deepEqual(new Set(db.ids()), new Set(model.keys()));
      }
      for (const id of live.slice(0, 30)) {
        const got = db.get(id);
        const want = stored(model.get(id));
        for (let i = 0; i < DIM; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-6, `get(${id})[${i}]`);
      }
      assert.ok(Math.min(...recalls) >= 0.9, `recall@10 per round ${recalls}`);
      db.dispose();
    });
  }

  test('an update\'s old position is never found again', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    db.insertBatch(base.subarray(0, 300 * DIM));
    for (const id of [0, 17, 299]) {
      const old = row(base, DIM, id);
      db.update(id, old.map((x, i) => x + 50 + i));
      assert.ok(db.search(old, 20, { ef: 200 }).every((r) => r.id !== id));
      assert.equal(db.search(db.get(id), 1)[0].id, id);
    }
    assert.equal(db.size, 300);
    db.dispose();
  });

  test('removing every vector leaves an empty, usable index; a removed id comes back', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'cosine' });
    db.insertBatch(base.subarray(0, 100 * DIM));
    for (let id = 0; id < 100; id++) assert.equal(db.remove(id), true);
    assert.equal(db.size, 0);
    assert.deepEqual([...db.ids()], []);
    assert.deepEqual(db.search(row(queries, DIM, 0), 5), []);
    assert.equal(db.insert(row(base, DIM, 5), { id: 5 }), 5);
    assert.equal(db.insert(row(base, DIM, 6)), 100);
    assert.equal(db.search(row(base, DIM, 5), 1)[0].id, 5);
    db.dispose();
  });

  test('a search returns min(k, size) results after heavy removal', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', m: 6, efConstruction: 40 });
    db.insertBatch(base.subarray(0, 900 * DIM));
    const model = new Map();
    for (let id = 0; id < 900; id++) model.set(id, row(base, DIM, id));
    for (let id = 0; id < 900; id++) {
      if (id % 10 !== 0) {
        db.remove(id);
        model.delete(id);
      }
    }
    assert.ok(checkSearches(db, 'l2', model, 10, 16) >= 0.9);
    assert.equal(db.search(row(queries, DIM, 0), 500).length, 90);
    db.dispose();
  });
});

describe('memory and format', () => {
  for (const allocator of ALLOCATORS) {
    test(`remove-then-add reuses slots: the saved size and wasm memory do not grow (${allocator})`, async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', allocator });
      db.insertBatch(base.subarray(0, 600 * DIM));
      const bytes = db.save().length;
      const memory = db.memoryBytes;
      let next = 5000;
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 100; i++) db.remove(round * 100 + i);
        for (let i = 0; i < 100; i++) db.insert(row(base, DIM, 600 + i), { id: next++ });
        assert.equal(db.size, 600);
      }
      assert.equal(db.memoryBytes, memory);
      // The pending removals (under 1/64 of the slots) may hold a few slots more.
      assert.ok(db.save().length <= bytes + 10 * (DIM * 4 + 8 + 4 + 1 + 4 + 4 * 33), `${db.save().length} vs ${bytes}`);
      db.compact();
      const compacted = db.save();
      // No removed slot is left (header word 68); the rebuild draws new levels, so the
      // upper layers may differ in size from the first build's.
      assert.equal(new DataView(compacted.buffer, compacted.byteOffset).getUint32(68, true), 0);
      assert.ok(compacted.length <= bytes * 1.05, `${compacted.length} vs ${bytes}`);
      assert.equal(db.size, 600);
      db.dispose();
    });
  }

  test('removals survive save/load, the copy goes on identically, native format 1 files load', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'cosine', seed: 4 });
    db.insertBatch(base.subarray(0, 300 * DIM), { ids: Array.from({ length: 300 }, (_, i) => 3 * i + 1) });
    for (let i = 0; i < 60; i++) db.remove(3 * (i * 4) + 1);
    db.update(4, row(base, DIM, 400));
    const copy = await EdgeVec.load(db.save());
    assert.deepEqual(copy.save(), db.save());
    assert.deepEqual([...copy.ids()], [...db.ids()]);
    assert.equal(copy.size, 240);
    for (const target of [db, copy]) {
      target.insert(row(base, DIM, 500));
      target.remove(7);
    }
    assert.deepEqual(copy.save(), db.save());
    db.dispose();
    copy.dispose();
    // A format 1 file committed from the last release (Tests/Fixtures/format-v1).
    const v1 = new Uint8Array(await readFile(new URL('../../Tests/Fixtures/format-v1/v1-hnsw-l2.evi', import.meta.url)));
    const old = await EdgeVec.load(v1);
    assert.equal(old.size, 300);
    assert.deepEqual([...old.ids()], Array.from({ length: 300 }, (_, i) => i));
    const saved = old.save();
    assert.equal(new DataView(saved.buffer, saved.byteOffset).getUint32(8, true), 3, 'saves as format 3');
    old.dispose();
  });
});
