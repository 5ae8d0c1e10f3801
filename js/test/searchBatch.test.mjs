// searchBatch: many queries in one call into the module (ev_search_batch).
// Every batch is compared with one `search` per query on the same index
// (ids, distances and metadata equal), for the three metrics, both variants,
// every input form, filters, k above the size, an empty index; bad input
// throws the code `search` throws, names the row, and changes nothing.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALLOCATORS, EdgeVec, METRICS, randomRows, row, snapshot, throwsCode,
} from '../test-support/helpers.mjs';

const DIM = 16;
const N = 600;
const Q = 40;
const base = randomRows(N, DIM, 31);
const queries = randomRows(Q, DIM, 32);
const SECTIONS = ['games', 'libs', 'web'];
const meta = (i) => ({ section: SECTIONS[i % 3], size: i });

function perQuery(db, rows, k, options) {
  const out = [];
  for (let i = 0; i < rows.length / DIM; i++) out.push(db.search(row(rows, DIM, i), k, options));
  return out;
}

async function build(metric, allocator = 'dlmalloc', n = N) {
  const db = await EdgeVec.create({ dimensions: DIM, metric, m: 8, efConstruction: 80, seed: 5, allocator });
  const metadata = [];
  for (let i = 0; i < n; i++) metadata.push(meta(i));
  db.insertBatch(base.subarray(0, n * DIM), { metadata });
  return db;
}

describe('searchBatch equals one search per query', () => {
  for (const allocator of ALLOCATORS) {
    for (const metric of METRICS) {
      test(`${metric}, ${allocator}: every input form, ef, k above the size`, async () => {
        const db = await build(metric, allocator);
        const rowsF32 = [], rowsArray = [];
        for (let i = 0; i < Q; i++) {
          rowsF32.push(row(queries, DIM, i));
          rowsArray.push(Array.from(row(queries, DIM, i)));
        }
        for (const [k, options] of [[10, undefined], [1, {}], [10, { ef: 150 }], [N + 50, undefined]]) {
          const expected = perQuery(db, queries, k, options);
          assert.equal(expected[0].length, Math.min(k, N));
          assert.deepEqual(db.searchBatch(queries, k, options), expected, `flat Float32Array, k ${k}`);
          assert.deepEqual(db.searchBatch(rowsF32, k, options), expected, `Float32Array rows, k ${k}`);
          assert.deepEqual(db.searchBatch(rowsArray, k, options), expected, `number[] rows, k ${k}`);
          assert.deepEqual(db.searchBatch(Array.from(queries), k, options), expected, `flat number[], k ${k}`);
        }
        // A single query, and single searches after a batch grew the result buffer.
        assert.deepEqual(db.searchBatch([row(queries, DIM, 7)], 5), [db.search(row(queries, DIM, 7), 5)]);
        assert.deepEqual(perQuery(db, queries, 3), db.searchBatch(queries, 3));
        db.dispose();
      });
    }
  }

  test('a large batch (2,000 queries, k 50) through a grown memory', async () => {
    const db = await build('l2');
    const many = randomRows(2000, DIM, 33);
    const before = db.memoryBytes;
    assert.deepEqual(db.searchBatch(many, 50), perQuery(db, many, 50));
    assert.ok(db.memoryBytes >= before);
    db.dispose();
  });

  for (const metric of METRICS) {
    test(`filtered, ${metric}: text and compiled filters, includeMetadata`, async () => {
      const db = await build(metric);
      const compiled = db.compileFilter('section = "libs" AND size < 300');
      for (const filter of ['section = "games"', 'size < 4', 'section = "none"', compiled]) {
        for (const includeMetadata of [false, true]) {
          const options = { filter, includeMetadata };
          const batch = db.searchBatch(queries, 10, options);
          assert.deepEqual(batch, perQuery(db, queries, 10, options), `filter ${filter.text ?? filter}`);
          if (filter === 'size < 4') assert.ok(batch.every((r) => r.length === 4), 'min(k, matches) per query');
          if (filter === 'section = "none"') assert.ok(batch.every((r) => r.length === 0), 'no match, no hits');
          if (includeMetadata) {
            for (const results of batch) for (const r of results) assert.deepEqual(r.metadata, meta(r.id));
          }
        }
      }
      compiled.dispose();
      db.dispose();
    });
  }
});

describe('searchBatch edge cases', () => {
  test('an empty index: an empty result per query; no queries: []', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'cosine' });
    const out = db.searchBatch(queries, 10);
    assert.equal(out.length, Q);
    assert.ok(out.every((r) => Array.isArray(r) && r.length === 0));
    assert.deepEqual(db.searchBatch([], 10), []);
    assert.deepEqual(db.searchBatch(new Float32Array(0), 10), []);
    // Rows are still checked in an empty index, as `search` checks its query.
    const zero = Float32Array.from(queries.subarray(0, 3 * DIM));
    zero.fill(0, DIM, 2 * DIM);
    throwsCode(() => db.searchBatch(zero, 10), 'ZERO_VECTOR', -3);
    db.dispose();
  });

  test('after remove, update and compact: still equal to per-query search', async () => {
    const db = await build('l2');
    for (let i = 0; i < N; i += 3) db.remove(i);
    db.update(1, row(queries, DIM, 0));
    assert.deepEqual(db.searchBatch(queries, 10), perQuery(db, queries, 10));
    db.compact();
    assert.deepEqual(db.searchBatch(queries, 10, { filter: 'size >= 500' }), perQuery(db, queries, 10, { filter: 'size >= 500' }));
    db.dispose();
  });
});

describe('searchBatch errors change nothing', () => {
  test('every bad input: its code, the row named, the index and later batches unchanged', async () => {
    const db = await build('l2');
    const cosine = await build('cosine', 'dlmalloc', 50);
    const before = snapshot(db, queries);
    const expected = db.searchBatch(queries, 10);
    const withRow = (index, value) => {
      const q = Float32Array.from(queries);
      q[index] = value;
      return q;
    };
    const cases = [
      ['NON_FINITE', -2, () => db.searchBatch(withRow(3 * DIM + 5, NaN), 10), /query row 3: .*position 5/],
      ['NON_FINITE', -2, () => db.searchBatch(withRow((Q - 1) * DIM, Infinity), 10, { filter: 'size < 9' }),
        new RegExp(`query row ${Q - 1}`)],
      ['VECTOR_TOO_LARGE', -10, () => db.searchBatch(withRow(12 * DIM, 1e30), 10), /row 12/],
      ['ZERO_VECTOR', -3, () => cosine.searchBatch(new Float32Array(3 * DIM).fill(1, 0, DIM).fill(1, 2 * DIM), 5),
        /row 1/],
      ['DIMENSION_MISMATCH', -1, () => db.searchBatch([row(queries, DIM, 0), new Float32Array(DIM - 1)], 10),
        /searchBatch: row 1 has 15 floats/],
      ['DIMENSION_MISMATCH', -1, () => db.searchBatch(queries.subarray(1), 10), /not a multiple/],
      ['INVALID_ARGUMENT', -5, () => db.searchBatch([row(queries, DIM, 0), 'x'], 10), /searchBatch: row 1/],
      ['INVALID_ARGUMENT', -5, () => db.searchBatch(new Float64Array(DIM), 10), /searchBatch expects/],
      ['INVALID_ARGUMENT', -5, () => db.searchBatch(7, 10), /searchBatch expects/],
      ['INVALID_K', -4, () => db.searchBatch(queries, 0), /k must be/],
      ['INVALID_K', -4, () => db.searchBatch(queries, 1.5), /k must be/],
      ['INVALID_OPTION', -5, () => db.searchBatch(queries, 10, { ef: 70000 }), /ef/],
      ['INVALID_OPTION', -5, () => db.searchBatch(queries, 10, { efSearch: 10 }), /unknown option 'efSearch' in searchBatch options/],
      ['INVALID_OPTION', -5, () => db.searchBatch(queries, 10, { includeMetadata: 1 }), /includeMetadata/],
      ['INVALID_FILTER', -14, () => db.searchBatch(queries, 10, { filter: 'section = games' }), /searchBatch: invalid filter at column 11/],
      ['INVALID_ARGUMENT', -5, () => db.searchBatch(queries, 10, { filter: cosine.compileFilter('size < 3') }),
        /searchBatch: the filter was compiled by another index/],
    ];
    for (const [code, wasmCode, call, message] of cases) {
      const error = throwsCode(call, code, wasmCode);
      assert.match(error.message, message, `${code}: ${error.message}`);
      assert.deepEqual(snapshot(db, queries), before, `${code} (${error.message}) changed the index`);
      assert.deepEqual(db.searchBatch(queries, 10), expected, `a batch after ${code} (${error.message})`);
    }
    const filter = db.compileFilter('size < 5');
    filter.dispose();
    throwsCode(() => db.searchBatch(queries, 10, { filter }), 'DISPOSED', -20);
    cosine.dispose();
    db.dispose();
    throwsCode(() => db.searchBatch(queries, 10), 'DISPOSED', -20);
  });
});
