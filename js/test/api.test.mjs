// The JavaScript API: create (defaults, every option, both variants, every
// way to pass the module), insert ids, insertBatch, search against brute
// force for all three metrics, properties, efSearch, dispose.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import {
  ALLOCATORS, DIST, EdgeVec, EdgeVecError, METRICS, bruteForce, randomRows, row, snapshot, throwsCode,
} from '../test-support/helpers.mjs';

const DIM = 16;
const N = 400;
const base = randomRows(N, DIM, 11);
const queries = randomRows(25, DIM, 12);

function closeTo(actual, expected, what) {
  const tolerance = 1e-5 + 1e-4 * Math.abs(expected);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

describe('create', () => {
  test('defaults: m 16, efConstruction 200, efSearch 64, dlmalloc', async () => {
    const db = await EdgeVec.create({ dimensions: 3, metric: 'l2' });
    assert.equal(db.size, 0);
    assert.equal(db.dimensions, 3);
    assert.equal(db.metric, 'l2');
    assert.equal(db.m, 16);
    assert.equal(db.efConstruction, 200);
    assert.equal(db.efSearch, 64);
    assert.equal(db.allocator, 'dlmalloc');
    assert.equal(db.disposed, false);
    assert.ok(db.memoryBytes >= 65536 && db.memoryBytes % 65536 === 0);
    assert.deepEqual(db.search(new Float32Array([1, 2, 3]), 5), [], 'an empty index finds nothing');
    assert.equal(db.allocationStats(), null, 'the default build has no allocation counter');
    db.dispose();
  });

  for (const allocator of ALLOCATORS) {
    for (const metric of METRICS) {
      test(`every option: ${metric}, ${allocator}`, async () => {
        const db = await EdgeVec.create({
          dimensions: DIM, metric, m: 8, efConstruction: 50, efSearch: 30, seed: 7, allocator,
        });
        assert.equal(db.dimensions, DIM);
        assert.equal(db.metric, metric);
        assert.equal(db.m, 8);
        assert.equal(db.efConstruction, 50);
        assert.equal(db.efSearch, 30);
        assert.equal(db.allocator, allocator);
        db.dispose();
      });
    }
  }

  test('seed as number or bigint; same seed, same index', async () => {
    const a = await EdgeVec.create({ dimensions: DIM, metric: 'l2', seed: 123 });
    const b = await EdgeVec.create({ dimensions: DIM, metric: 'l2', seed: 123n });
    const c = await EdgeVec.create({ dimensions: DIM, metric: 'l2', seed: (1n << 64n) - 1n });
    for (const db of [a, b, c]) db.insertBatch(base);
    assert.deepEqual(a.save(), b.save());
    assert.notDeepEqual(a.save(), c.save(), 'another seed draws other levels');
    for (const db of [a, b, c]) db.dispose();
  });

  test('the module can be given as URL, string, bytes or WebAssembly.Module', async () => {
    const url = pathToFileURL(`${DIST}/edgevec-arena.wasm`);
    const bytes = await readFile(url);
    const sources = [
      url,
      url.href,
      `${DIST}/edgevec-arena.wasm`,
      new Uint8Array(bytes),
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      await WebAssembly.compile(bytes),
    ];
    for (const wasm of sources) {
      const db = await EdgeVec.create({ dimensions: 2, metric: 'dot', wasm });
      assert.equal(db.allocator, 'arena', `the variant is read from the module (${typeof wasm})`);
      assert.equal(db.insert(new Float32Array([1, 2])), 0);
      db.dispose();
    }
  });

  test('each index has its own instance and memory', async () => {
    const a = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    const b = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    a.insertBatch(base);
    b.insert(row(base, DIM, 5));
    assert.equal(a.size, N);
    assert.equal(b.size, 1);
    assert.deepEqual(b.search(row(base, DIM, 5), 3), [{ id: 0, distance: 0 }]);
    a.dispose();
    assert.equal(b.search(row(base, DIM, 5), 3).length, 1, 'disposing one leaves the other working');
    b.dispose();
  });
});

for (const allocator of ALLOCATORS) {
  describe(`insert and search (${allocator})`, () => {
    test('insert returns sequential ids; the caller keeps its array', async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', allocator });
      const v = new Float32Array(row(base, DIM, 0));
      for (let i = 0; i < 10; i++) assert.equal(db.insert(row(base, DIM, i)), i);
      assert.equal(db.size, 10);
      // A subarray with an offset works, and later changes to it do not reach the index.
      const padded = new Float32Array(DIM + 3);
      padded.set(v, 3);
      assert.equal(db.insert(padded.subarray(3)), 10);
      padded.fill(0);
      const hits = db.search(v, 2);
      assert.deepEqual(hits.map((h) => h.id).sort((a, b) => a - b), [0, 10]);
      assert.deepEqual(hits.map((h) => h.distance), [0, 0]);
      db.dispose();
    });

    test('insertBatch returns consecutive ids as a Float64Array', async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', allocator });
      db.insert(row(base, DIM, 0));
      const ids = db.insertBatch(base.subarray(DIM, 101 * DIM));
      assert.ok(ids instanceof Float64Array);
      assert.deepEqual([...ids], Array.from({ length: 100 }, (_, i) => i + 1));
      assert.equal(db.size, 101);
      const empty = db.insertBatch(new Float32Array(0));
      assert.ok(empty instanceof Float64Array);
      assert.equal(empty.length, 0);
      assert.equal(db.size, 101);
      // A smaller batch after a larger one reuses the staging buffer.
      assert.deepEqual([...db.insertBatch(base.subarray(101 * DIM, 103 * DIM))], [101, 102]);
      assert.equal(db.insert(row(base, DIM, 103)), 103);
      db.dispose();
    });

    test('insertBatch is all or nothing: NaN in row 3 adds nothing', async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', allocator });
      db.insertBatch(base.subarray(0, 50 * DIM));
      const before = snapshot(db, queries);
      const batch = new Float32Array(base.subarray(50 * DIM, 60 * DIM));
      batch[3 * DIM + 5] = NaN;
      throwsCode(() => db.insertBatch(batch), 'NON_FINITE', -2);
      assert.deepEqual(snapshot(db, queries), before);
      batch[3 * DIM + 5] = 0.5;
      assert.deepEqual([...db.insertBatch(batch)], Array.from({ length: 10 }, (_, i) => 50 + i));
      db.dispose();
    });

    for (const metric of METRICS) {
      test(`${metric}: ordering and distances match brute force`, async () => {
        const db = await EdgeVec.create({ dimensions: DIM, metric, m: 12, efConstruction: 100, allocator });
        db.insertBatch(base);
        for (let q = 0; q < queries.length / DIM; q++) {
          const query = row(queries, DIM, q);
          const truth = bruteForce(metric, base, DIM, query, 10);
          // ef ≥ size: the search visits every node, so it is exact.
          const exact = db.search(query, 10, { ef: N });
          assert.equal(exact.length, 10);
          for (let i = 0; i < 10; i++) {
            assert.deepEqual(Object.keys(exact[i]), ['id', 'distance']);
            assert.equal(exact[i].id, truth[i].id, `query ${q} rank ${i}`);
            closeTo(exact[i].distance, truth[i].distance, `query ${q} rank ${i}`);
            if (i > 0) assert.ok(exact[i].distance >= exact[i - 1].distance, 'ascending');
          }
          // Default ef: still ascending, and every distance is the true distance of that id.
          const approximate = db.search(query, 10);
          for (let i = 0; i < approximate.length; i++) {
            const { id, distance } = approximate[i];
            closeTo(distance, bruteForce(metric, row(base, DIM, id), DIM, query, 1)[0].distance, `id ${id}`);
            if (i > 0) assert.ok(distance >= approximate[i - 1].distance);
          }
        }
        db.dispose();
      });
    }

    test('k larger than the index returns every vector; k = 1 returns the nearest', async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', allocator });
      db.insertBatch(base.subarray(0, 7 * DIM));
      const all = db.search(row(queries, DIM, 0), 1000);
      assert.equal(all.length, 7);
      assert.deepEqual(all.map((r) => r.id).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
      const huge = db.search(row(queries, DIM, 0), 2 ** 31 - 1);
      assert.deepEqual(huge, all, 'k is only bounded by int32; no buffer of k entries is needed');
      const one = db.search(row(queries, DIM, 0), 1);
      assert.deepEqual(one, all.slice(0, 1));
      db.dispose();
    });

    test('scaled copies are at cosine distance 0; dot prefers long vectors', async () => {
      const cos = await EdgeVec.create({ dimensions: 3, metric: 'cosine', allocator });
      cos.insertBatch(new Float32Array([1, 0, 0, 0, 1, 0, 1, 1, 0]));
      const hit = cos.search(new Float32Array([5, 0, 0]), 1)[0];
      assert.equal(hit.id, 0);
      assert.ok(Math.abs(hit.distance) < 1e-6);
      closeTo(cos.search(new Float32Array([0, 0, 2]), 3)[0].distance, 1, 'orthogonal: 1 − 0');
      cos.dispose();
      const dot = await EdgeVec.create({ dimensions: 2, metric: 'dot', allocator });
      dot.insertBatch(new Float32Array([1, 0, 3, 0, -2, 0]));
      assert.deepEqual(dot.search(new Float32Array([1, 0]), 3), [
        { id: 1, distance: -3 }, { id: 0, distance: -1 }, { id: 2, distance: 2 },
      ]);
      dot.dispose();
    });
  });
}

describe('efSearch and ef', () => {
  test('efSearch is settable; ef per search overrides it; both accept the full range', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', efSearch: 10 });
    db.insertBatch(base);
    assert.equal(db.efSearch, 10);
    db.efSearch = 400;
    assert.equal(db.efSearch, 400);
    const q = row(queries, DIM, 0);
    assert.deepEqual(db.search(q, 10), db.search(q, 10, { ef: 400 }));
    assert.deepEqual(db.search(q, 10, {}), db.search(q, 10));
    assert.deepEqual(db.search(q, 10, { ef: undefined }), db.search(q, 10));
    assert.equal(db.search(q, 10, { ef: 1 }).length, 10, 'ef is raised to k');
    assert.equal(db.search(q, 10, { ef: 65536 }).length, 10);
    db.efSearch = 65536;
    db.efSearch = 1;
    assert.equal(db.efSearch, 1);
    db.dispose();
  });
});

describe('dispose', () => {
  test('every method and property throws DISPOSED afterwards; dispose is idempotent', async () => {
    const db = await EdgeVec.create({ dimensions: 2, metric: 'l2' });
    db.insert(new Float32Array([1, 2]));
    db.dispose();
    assert.equal(db.disposed, true);
    db.dispose();
    const v = new Float32Array([1, 2]);
    const uses = {
      insert: () => db.insert(v),
      insertBatch: () => db.insertBatch(v),
      reserve: () => db.reserve(10),
      search: () => db.search(v, 1),
      save: () => db.save(),
      size: () => db.size,
      dimensions: () => db.dimensions,
      metric: () => db.metric,
      m: () => db.m,
      efConstruction: () => db.efConstruction,
      efSearch: () => db.efSearch,
      setEfSearch: () => { db.efSearch = 5; },
      allocator: () => db.allocator,
      memoryBytes: () => db.memoryBytes,
      allocationStats: () => db.allocationStats(),
    };
    for (const [name, use] of Object.entries(uses)) {
      const error = throwsCode(use, 'DISPOSED', -20);
      assert.match(error.message, /disposed/, name);
    }
  });

  test('the constructor is not public', () => {
    assert.throws(() => new EdgeVec(), TypeError);
    assert.ok(new EdgeVecError('X', 'y') instanceof Error);
  });
});
