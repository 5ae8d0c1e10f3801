// Browser smoke test of dist/edgevec.mjs, loaded by Tests/Browser/index.html
// and driven by Tests/Browser/run_browser_test.py (headless Chromium).
//
// Every check appends {name, ok, detail} to window.__results; window.__done
// becomes true at the end (also after an unexpected exception, which is
// recorded as a failed check).
import { EdgeVec, EdgeVecError } from './edgevec.mjs';
import { prng } from './prng.mjs';   // js/test-support/prng.mjs, served beside the page

const results = (window.__results = []);
window.__done = false;

function record(name, ok, detail = '') {
  results.push({ name, ok: Boolean(ok), detail: String(detail) });
  const line = document.createElement('div');
  line.textContent = `${ok ? 'ok' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`;
  document.getElementById('log').append(line);
}

async function check(name, body) {
  try {
    const detail = await body();
    record(name, true, detail ?? '');
  } catch (error) {
    record(name, false, error && error.stack ? error.stack : error);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function assertEqual(actual, expected, message) {
  if (actual !== expected) throw new Error(`${message}: got ${actual}, expected ${expected}`);
}

/**
 * Asserts that `body` throws (or rejects with) an EdgeVecError with this
 * string `code` and numeric `wasmCode` (the C ABI's code).
 */
async function expectError(code, wasmCode, body, what) {
  try {
    await body();
  } catch (error) {
    assert(error instanceof EdgeVecError, `${what}: expected an EdgeVecError, got ${error}`);
    assert(error instanceof Error, `${what}: EdgeVecError extends Error`);
    assertEqual(error.name, 'EdgeVecError', `${what}: name`);
    assertEqual(error.code, code, `${what}: code`);
    assertEqual(error.wasmCode, wasmCode, `${what}: wasmCode`);
    assert(typeof error.message === 'string' && error.message.length > 0, `${what}: has a message`);
    return `${what} → ${error.code} (${error.wasmCode}) "${error.message}"`;
  }
  throw new Error(`${what}: no error thrown`);
}


function randomRows(rows, dim, seed) {
  const rand = prng(seed);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = rand() * 2 - 1;
  return out;
}

const DIM = 16;
const N = 500;
const Q = 30;
const K = 10;
const base = randomRows(N, DIM, 1);
const queries = randomRows(Q, DIM, 2);
const row = (data, i) => data.subarray(i * DIM, (i + 1) * DIM);

function bruteForce(q, k) {
  const scored = [];
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < DIM; j++) {
      const d = base[i * DIM + j] - q[j];
      s += d * d;
    }
    scored.push([s, i]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return scored.slice(0, k);
}

function sameResults(a, b) {
  for (let q = 0; q < Q; q++) {
    const ra = a.search(row(queries, q), K);
    const rb = b.search(row(queries, q), K);
    if (ra.length !== rb.length) return false;
    for (let i = 0; i < ra.length; i++) {
      if (ra[i].id !== rb[i].id || ra[i].distance !== rb[i].distance) return false;
    }
  }
  return true;
}

async function variant(allocator) {
  const tag = `[${allocator}]`;
  let db;
  await check(`${tag} create`, async () => {
    db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', m: 16, efConstruction: 100, efSearch: 64,
      seed: 42, allocator });
    assertEqual(db.size, 0, 'size');
    assertEqual(db.dimensions, DIM, 'dimensions');
    assertEqual(db.metric, 'l2', 'metric');
    assertEqual(db.allocator, allocator, 'allocator variant of the loaded module');
    assertEqual(db.search(row(queries, 0), K).length, 0, 'search on an empty index');
  });
  if (!db) return;

  await check(`${tag} reserve, insert and insertBatch`, () => {
    db.reserve(N);      // the graph is the same as without it (checked in Node); here: it runs
    assertEqual(db.insert(row(base, 0)), 0, 'first id');
    const ids = db.insertBatch(base.subarray(DIM));
    assert(ids instanceof Float64Array, `insertBatch returns a Float64Array, got ${ids && ids.constructor.name}`);
    assertEqual(ids.length, N - 1, 'batch ids');
    for (let i = 0; i < ids.length; i++) assertEqual(ids[i], i + 1, `id ${i}`);
    assertEqual(db.size, N, 'size');
    return `${db.size} vectors`;
  });

  await check(`${tag} search vs brute force`, () => {
    let hits = 0;
    for (let q = 0; q < Q; q++) {
      const truth = bruteForce(row(queries, q), K);
      const exact = db.search(row(queries, q), K, { ef: N });
      assertEqual(exact.length, K, 'result count');
      for (let i = 0; i < K; i++) {
        assertEqual(exact[i].id, truth[i][1], `query ${q}, rank ${i}: id with ef = n`);
        assert(Math.abs(exact[i].distance - truth[i][0]) <= 1e-4 * (1 + truth[i][0]),
          `query ${q}, rank ${i}: distance ${exact[i].distance} vs ${truth[i][0]}`);
        if (i > 0) assert(exact[i].distance >= exact[i - 1].distance, 'ascending distances');
      }
      const ids = new Set(truth.map((t) => t[1]));
      for (const r of db.search(row(queries, q), K)) hits += ids.has(r.id);
    }
    const recall = hits / (Q * K);
    assert(recall >= 0.9, `recall@${K} ${recall}`);
    const self = db.search(row(base, 77), 1);
    assert(self.length === 1 && self[0].id === 77 && self[0].distance === 0, 'a stored vector finds itself');
    return `exact with ef = n; recall@${K} = ${recall.toFixed(3)} with the default ef`;
  });

  await check(`${tag} errors are EdgeVecError with codes`, async () => {
    const bad = Float32Array.from(row(queries, 0));
    bad[3] = NaN;
    const details = [];
    details.push(await expectError('NON_FINITE', -2, () => db.insert(bad), 'insert(NaN)'));
    const batch = Float32Array.from(base.subarray(0, 3 * DIM));
    batch[2 * DIM] = Infinity;
    details.push(await expectError('NON_FINITE', -2, () => db.insertBatch(batch), 'insertBatch(… Infinity)'));
    assertEqual(db.size, N, 'size unchanged after rejected inserts');
    details.push(await expectError('DIMENSION_MISMATCH', -1, () => db.insert(new Float32Array(DIM - 1)),
      'insert(wrong length)'));
    details.push(await expectError('DISPOSED', -20, async () => {
      const gone = await EdgeVec.create({ dimensions: 2, metric: 'l2', allocator });
      gone.dispose();
      return gone.size;
    }, 'size after dispose()'));
    details.push(await expectError('INVALID_K', -4, () => db.search(row(queries, 0), 0), 'search(k = 0)'));
    details.push(await expectError('CORRUPT', -8, () => EdgeVec.load(new Uint8Array([1, 2, 3, 4, 5])), 'load(garbage)'));
    const cosine = await EdgeVec.create({ dimensions: 4, metric: 'cosine', allocator });
    try {
      details.push(await expectError('ZERO_VECTOR', -3, () => cosine.insert(new Float32Array(4)), 'cosine insert(zero)'));
    } finally {
      cosine.dispose();
    }
    return details.join('; ');
  });

  await check(`${tag} save/load round trip`, async () => {
    const bytes = db.save();
    assert(bytes instanceof Uint8Array, 'save() returns a Uint8Array');
    const magic = String.fromCharCode(...bytes.subarray(0, 7));
    assertEqual(magic, 'EDGEVEC', 'magic');
    const copy = await EdgeVec.load(bytes, { allocator });
    try {
      assertEqual(copy.size, N, 'loaded size');
      assertEqual(copy.dimensions, DIM, 'loaded dimensions');
      assertEqual(copy.metric, 'l2', 'loaded metric');
      assert(sameResults(db, copy), 'identical ids and distances');
      const again = copy.save();
      assertEqual(again.length, bytes.length, 'save(load(bytes)) length');
      assert(again.every((b, i) => b === bytes[i]), 'save(load(bytes)) == bytes');
      const tampered = Uint8Array.from(bytes);
      tampered[bytes.length >> 1] ^= 1;
      await expectError('CORRUPT', -8, () => EdgeVec.load(tampered), 'load(one flipped bit)');
    } finally {
      copy.dispose();
    }
    return `${bytes.length} bytes`;
  });

  await check(`${tag} IndexedDB save/load round trip`, async () => {
    const name = `edgevec-browser-test-${allocator}`;
    await db.saveToIndexedDB(name);
    const copy = await EdgeVec.loadFromIndexedDB(name);
    try {
      assertEqual(copy.size, N, 'size from IndexedDB');
      assert(sameResults(db, copy), 'identical ids and distances');
    } finally {
      copy.dispose();
    }
    // Overwriting the same name replaces the stored index.
    db.insert(row(queries, 0));
    await db.saveToIndexedDB(name);
    const newer = await EdgeVec.loadFromIndexedDB(name);
    try {
      assertEqual(newer.size, N + 1, 'size after overwriting');
      assert(sameResults(db, newer), 'identical results after overwriting');
    } finally {
      newer.dispose();
    }
    const missing = await expectError('IO', -9, () => EdgeVec.loadFromIndexedDB(`${name}-missing`),
      'loadFromIndexedDB(unknown name)');
    return `${name}; ${missing}`;
  });

  await check(`${tag} ids of the caller's choosing, remove, update, get (i64 through the engine's BigInt bridge)`, () => {
    const big = 2 ** 53 - 1;
    const v = row(queries, 1);
    assertEqual(db.insert(v, { id: big }), big, 'insert with id 2^53 - 1');
    assertEqual(db.search(v, 1)[0].id, big, 'found under its id');
    assert(db.has(big) && db.get(big).every((x, i) => x === v[i]), 'has and get');
    db.update(big, row(queries, 2));
    assertEqual(db.search(row(queries, 2), 1)[0].id, big, 'found at its new vector');
    assert(db.remove(big) && !db.has(big) && db.get(big) === undefined, 'removed');
    assert(db.search(row(queries, 2), 5).every((r) => r.id !== big), 'never found again');
    assertEqual(db.size, N + 1, 'size');
    return `${db.size} vectors`;
  });

  await check(`${tag} dispose`, () => {
    db.dispose();
  });
}

try {
  await variant('dlmalloc');
  await variant('arena');
} catch (error) {
  record('unexpected exception', false, error && error.stack ? error.stack : error);
} finally {
  window.__done = true;
}
