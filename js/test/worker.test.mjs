// EdgeVecWorker in Node (worker_threads): every method through the worker
// gives what the main-thread EdgeVec gives on the same data (compared call
// by call, and byte for byte through save); errors come back as the same
// EdgeVecError with the same code, wasmCode, message, column/expected;
// promises settle in call order; transfers detach the caller's buffer;
// dispose/terminate reject what is pending and everything after.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, EdgeVec, EdgeVecError, METRICS, randomRows, row } from '../test-support/helpers.mjs';

const { EdgeVecWorker, WorkerCompiledFilter } = await import(pathToFileURL(`${DIST}/edgevec-worker.mjs`).href);

const DIM = 12;
const N = 300;
const base = randomRows(N, DIM, 41);
const queries = randomRows(20, DIM, 42);
const SECTIONS = ['games', 'libs', 'web'];
const meta = (i) => ({ section: SECTIONS[i % 3], size: i, tags: i % 5 === 0 ? ['five'] : [] });

/** Runs `op` on the main-thread index and on the worker: the same value, or the same error. */
async function same(local, remote, op, what) {
  let a, b, ea, eb;
  try { a = await op(local); } catch (error) { ea = error; }
  try { b = await op(remote); } catch (error) { eb = error; }
  if (ea !== undefined || eb !== undefined) {
    assert.ok(ea instanceof EdgeVecError, `${what}: main thread threw ${ea?.stack ?? ea}`);
    assert.ok(eb instanceof EdgeVecError, `${what}: worker gave ${eb?.stack ?? eb}`);
    for (const key of ['name', 'code', 'wasmCode', 'message', 'column', 'expected']) {
      assert.deepEqual(eb[key], ea[key], `${what}: error ${key}`);
    }
    assert.ok(eb.stack.includes('worker.test.mjs') || eb.stack.includes('edgevec-worker.mjs'), 'a stack of this thread');
    return ea;
  }
  assert.deepEqual(b, a, what);
  return a;
}

describe('EdgeVecWorker gives what EdgeVec gives', () => {
  for (const metric of METRICS) {
    test(`every method, ${metric}`, async () => {
      const options = { dimensions: DIM, metric, m: 8, efConstruction: 60, efSearch: 40, seed: 9 };
      const local = await EdgeVec.create(options);
      const remote = await EdgeVecWorker.create(options);
      try {
        for (const key of ['size', 'dimensions', 'metric', 'm', 'efConstruction', 'efSearch', 'allocator']) {
          assert.equal(remote[key], local[key], key);
        }
        assert.equal(await same(local, remote, (db) => db.insert(row(base, DIM, 0)), 'insert'), 0);
        await same(local, remote, (db) => db.insert(Array.from(row(base, DIM, 1)), { id: 1000, metadata: meta(1) }),
          'insert with id and metadata');
        const metadata = [];
        for (let i = 2; i < N; i++) metadata.push(meta(i));
        await same(local, remote, (db) => db.insertBatch(base.slice(2 * DIM), { metadata }), 'insertBatch');
        assert.equal(remote.size, local.size, 'size after the batch');
        await same(local, remote, (db) => db.reserve(N + 50), 'reserve');
        for (const id of [5, 6, 7, 1000, 99999]) await same(local, remote, (db) => db.remove(id), `remove ${id}`);
        await same(local, remote, (db) => db.update(8, row(queries, DIM, 0)), 'update');
        for (const id of [0, 5, 8, 1000]) {
          await same(local, remote, (db) => db.has(id), `has ${id}`);
          await same(local, remote, (db) => db.get(id), `get ${id}`);
          await same(local, remote, (db) => db.getMetadata(id), `getMetadata ${id}`);
        }
        await same(local, remote, (db) => db.setMetadata(9, { section: 'moved' }), 'setMetadata');
        await same(local, remote, (db) => db.getMetadata(9), 'getMetadata after set');
        for (const opts of [undefined, { ef: 100 }, { filter: 'section = "games"', includeMetadata: true },
          { filter: 'tags CONTAINS "five"' }]) {
          for (let q = 0; q < 20; q += 4) {
            await same(local, remote, (db) => db.search(row(queries, DIM, q), 10, opts), `search ${JSON.stringify(opts)}`);
          }
          await same(local, remote, (db) => db.searchBatch(queries, 7, opts), `searchBatch ${JSON.stringify(opts)}`);
        }
        const cl = local.compileFilter('size < 100 AND section IN ("libs", "web")');
        const cr = await remote.compileFilter('size < 100 AND section IN ("libs", "web")');
        assert.ok(cr instanceof WorkerCompiledFilter && cr.text === cl.text && !cr.disposed);
        assert.deepEqual(await remote.searchBatch(queries, 5, { filter: cr }), local.searchBatch(queries, 5, { filter: cl }));
        assert.deepEqual(await remote.search(row(queries, DIM, 3), 5, { filter: cr }),
          local.search(row(queries, DIM, 3), 5, { filter: cl }));
        await cr.dispose();
        assert.ok(cr.disposed);
        assert.equal((await remote.search(row(queries, DIM, 3), 5, { filter: cr }).catch((e) => e)).code, 'DISPOSED');
        await same(local, remote, async (db) => [...await db.ids()], 'ids');
        await same(local, remote, (db) => db.compact(), 'compact');
        await same(local, remote, (db) => db.searchBatch(queries, 10), 'searchBatch after compact');
        await same(local, remote, (db) => db.allocationStats(), 'allocationStats');
        local.efSearch = 120;
        await remote.setEfSearch(120);
        assert.equal(remote.efSearch, 120);
        await same(local, remote, (db) => db.searchBatch(queries, 10), 'searchBatch at efSearch 120');
        assert.equal(remote.size, local.size);
        assert.ok(remote.memoryBytes > 0);
        const bytes = await same(local, remote, (db) => db.save(), 'save: the same bytes');
        assert.ok(bytes instanceof Uint8Array && bytes.buffer.byteLength === bytes.length, 'a buffer of its own');

        // Loading: from bytes (moved to the worker) and from a file written in the worker.
        const copy = Uint8Array.from(bytes);
        const loaded = await EdgeVecWorker.load(copy, { transfer: true, efSearch: 50 });
        assert.equal(copy.length, 0, 'transfer: true detached the bytes here');
        assert.equal(loaded.efSearch, 50);
        assert.deepEqual(await loaded.searchBatch(queries, 10, { ef: 80 }), local.searchBatch(queries, 10, { ef: 80 }));
        await loaded.dispose();
        const dir = await mkdtemp(join(tmpdir(), 'edgevec-worker-'));
        try {
          await remote.saveFile(pathToFileURL(join(dir, 'index.evi')));
          const fromFile = await EdgeVecWorker.loadFile(join(dir, 'index.evi'));
          assert.deepEqual(await fromFile.save(), bytes, 'saveFile in the worker, loadFile in another');
          await fromFile.terminate();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      } finally {
        local.dispose();
        await remote.dispose();
      }
    });
  }
});

describe('errors come back as EdgeVecError with their codes', () => {
  test('every code the API throws, field for field as the main thread', async () => {
    const local = await EdgeVec.create({ dimensions: DIM, metric: 'cosine' });
    const remote = await EdgeVecWorker.create({ dimensions: DIM, metric: 'cosine' });
    try {
      await same(local, remote, (db) => db.insertBatch(base.subarray(0, 50 * DIM), { metadata: new Array(50).fill({ a: 1 }) }), 'insertBatch');
      const nan = Float32Array.from(row(base, DIM, 0));
      nan[4] = NaN;
      const seen = new Set();
      const calls = [
        (db) => db.insert(new Float32Array(DIM - 1)),
        (db) => db.insert(nan),
        (db) => db.insert(new Float32Array(DIM)),
        (db) => db.search(row(queries, DIM, 0), 0),
        (db) => db.search(row(queries, DIM, 0), 5, { ef: 0 }),
        (db) => db.search(row(queries, DIM, 0), 5, { bogus: 1 }),
        (db) => db.insert('not a vector'),
        (db) => db.insert(row(base, DIM, 1), { id: 3 }),
        (db) => db.insert(row(base, DIM, 1), { id: -1 }),
        (db) => db.update(777, row(base, DIM, 1)),
        (db) => db.search(row(queries, DIM, 0), 5, { filter: 'section = games' }),
        (db) => db.setMetadata(1, { AND: 1 }),
        (db) => db.setMetadata(1, { x: null }),
        (db) => db.searchBatch([row(queries, DIM, 0), nan], 5),
        (db) => db.reserve(-1),
      ];
      for (const call of calls) {
        const error = await same(local, remote, call, String(call));
        assert.ok(error instanceof EdgeVecError, `${call} threw nothing`);
        seen.add(error.code);
      }
      for (const code of ['DIMENSION_MISMATCH', 'NON_FINITE', 'ZERO_VECTOR', 'INVALID_K', 'INVALID_OPTION',
        'INVALID_ARGUMENT', 'DUPLICATE_ID', 'INVALID_ID', 'UNKNOWN_ID', 'INVALID_FILTER', 'INVALID_METADATA']) {
        assert.ok(seen.has(code), `${code} was exercised`);
      }
      const filterError = await remote.search(row(queries, DIM, 0), 5, { filter: 'section = games' }).catch((e) => e);
      assert.equal(filterError.column, 11);
      assert.equal(filterError.expected, 'a value (a string, a number, TRUE or FALSE)');
      assert.equal(remote.size, 50, 'the index is unchanged by the errors');
      // Factories: CORRUPT and IO (with the cause's message), INVALID_OPTION; no worker is left running.
      let e = await EdgeVecWorker.load(new Uint8Array([1, 2, 3])).catch((x) => x);
      assert.ok(e instanceof EdgeVecError && e.code === 'CORRUPT' && e.wasmCode === -8, String(e));
      e = await EdgeVecWorker.loadFile('/nonexistent/edgevec.evi').catch((x) => x);
      assert.ok(e instanceof EdgeVecError && e.code === 'IO' && e.cause instanceof Error, String(e));
      const expected = await EdgeVec.create({ dimensions: 0, metric: 'l2' }).catch((x) => x);
      e = await EdgeVecWorker.create({ dimensions: 0, metric: 'l2' }).catch((x) => x);
      assert.ok(e instanceof EdgeVecError && e.code === 'INVALID_OPTION' && e.message === expected.message, String(e));
      // What cannot be sent to a worker at all.
      e = await remote.insert(() => 1).catch((x) => x);
      assert.ok(e instanceof EdgeVecError && e.code === 'INVALID_ARGUMENT', String(e));
      e = await remote.search(row(queries, DIM, 0), 5, { transfer: 'yes' }).catch((x) => x);
      assert.ok(e instanceof EdgeVecError && e.code === 'INVALID_OPTION', String(e));
      const other = await EdgeVecWorker.create({ dimensions: DIM, metric: 'cosine' });
      const foreign = await other.compileFilter('a = 1');
      e = await remote.search(row(queries, DIM, 0), 5, { filter: foreign }).catch((x) => x);
      assert.ok(e instanceof EdgeVecError && e.code === 'INVALID_ARGUMENT', String(e));
      await other.dispose();
    } finally {
      local.dispose();
      await remote.dispose();
    }
  });
});

describe('ordering, transfers, disposal', () => {
  test('concurrent calls settle in call order with the results of that order', async () => {
    const local = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    const remote = await EdgeVecWorker.create({ dimensions: DIM, metric: 'l2' });
    const settled = [];
    const promises = [];
    const expected = [];
    for (let i = 0; i < 200; i++) {
      // Inserts, searches (which see every insert before them), a failing call now and then.
      const op = i % 7 === 3 ? (db) => db.insert(new Float32Array(3))
        : i % 3 === 0 ? (db) => db.search(row(queries, DIM, i % 20), 3)
          : (db) => db.insert(row(base, DIM, i));
      try { expected.push(op(local)); } catch (error) { expected.push(error.code); }
      promises.push(op(remote).then((v) => { settled.push(i); return v; }, (error) => { settled.push(i); return error.code; }));
    }
    const values = await Promise.all(promises);
    assert.deepEqual(settled, [...settled].sort((a, b) => a - b), 'settled in call order');
    assert.deepEqual(values, expected, 'each call saw the calls before it');
    assert.equal(remote.size, local.size);
    local.dispose();
    await remote.dispose();
  });

  test('transfer: true moves buffers; without it the caller keeps them', async () => {
    const remote = await EdgeVecWorker.create({ dimensions: DIM, metric: 'l2' });
    const kept = base.slice(0, 10 * DIM);
    await remote.insertBatch(kept);
    assert.equal(kept.length, 10 * DIM, 'copied');
    const moved = base.slice(10 * DIM, 20 * DIM);
    const ids = await remote.insertBatch(moved, { transfer: true });
    assert.equal(moved.length, 0, 'detached');
    assert.deepEqual([...ids], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const rows = [base.slice(20 * DIM, 21 * DIM), base.slice(21 * DIM, 22 * DIM)];
    await remote.insertBatch(rows, { transfer: true });
    assert.ok(rows.every((r) => r.length === 0), 'every row detached');
    const q = row(base, DIM, 21).slice();
    assert.equal((await remote.search(q, 1, { transfer: true }))[0].id, 21);
    assert.equal(q.length, 0);
    const qs = queries.slice();
    assert.equal((await remote.searchBatch(qs, 3, { transfer: true })).length, 20);
    assert.equal(qs.length, 0);
    const v = row(base, DIM, 30).slice();
    assert.equal(await remote.insert(v, { transfer: true, id: 500 }), 500);
    assert.equal(v.length, 0);
    assert.equal(remote.size, 23);
    await remote.dispose();
  });

  test('dispose and terminate: pending calls and later ones reject with DISPOSED', async () => {
    for (const end of ['dispose', 'terminate']) {
      const remote = await EdgeVecWorker.create({ dimensions: DIM, metric: 'l2' });
      const pending = remote.insertBatch(randomRows(3000, DIM, 43));
      const ended = remote[end]();
      assert.equal(remote.disposed, true);
      const e = await pending.catch((x) => x);
      assert.ok(e instanceof EdgeVecError && e.code === 'DISPOSED' && e.wasmCode === -20, String(e));
      await ended;
      const later = await remote.search(row(queries, DIM, 0), 3).catch((x) => x);
      assert.ok(later instanceof EdgeVecError && later.code === 'DISPOSED', String(later));
      await remote[end]();   // again: nothing
    }
  });
});
