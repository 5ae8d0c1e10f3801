// Every error path: each EdgeVecError code (string and numeric), and after
// each one the index is unchanged (same size, same bytes, same results) and
// still usable.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALLOCATORS, EdgeVec, EdgeVecError, crc32c, randomRows, rejectsCode, row, snapshot, throwsCode,
} from '../test-support/helpers.mjs';

const DIM = 8;
const base = randomRows(60, DIM, 21);
const queries = randomRows(4, DIM, 22);

async function filled(metric, allocator) {
  const db = await EdgeVec.create({ dimensions: DIM, metric, m: 6, efConstruction: 40, allocator });
  db.insertBatch(base);
  return db;
}

/** Runs `fn`, expects the error, and checks that the index did not change and still works. */
function rejected(db, fn, code, wasmCode) {
  const before = snapshot(db, queries);
  const error = throwsCode(fn, code, wasmCode);
  assert.deepEqual(snapshot(db, queries), before, `${code}: the index is unchanged`);
  const fresh = randomRows(1, DIM, 1000 + before.size);
  const id = db.insert(fresh);
  assert.equal(id, before.size, `${code}: the index still takes inserts`);
  // (Under dot a vector need not be its own nearest neighbour.)
  if (db.metric !== 'dot') assert.equal(db.search(fresh, 1)[0].id, id, `${code}: and finds them`);
  return error;
}

const vec = (...values) => Float32Array.from(values);
const withValue = (index, value) => {
  const v = new Float32Array(row(base, DIM, 0));
  v[index] = value;
  return v;
};

for (const allocator of ALLOCATORS) {
  describe(`vector errors leave the index unchanged (${allocator})`, () => {
    test('DIMENSION_MISMATCH (-1): insert, insertBatch, search', async () => {
      const db = await filled('l2', allocator);
      rejected(db, () => db.insert(new Float32Array(DIM - 1)), 'DIMENSION_MISMATCH', -1);
      rejected(db, () => db.insert(new Float32Array(DIM + 1)), 'DIMENSION_MISMATCH', -1);
      rejected(db, () => db.insert(new Float32Array(0)), 'DIMENSION_MISMATCH', -1);
      rejected(db, () => db.insertBatch(new Float32Array(DIM * 3 + 1)), 'DIMENSION_MISMATCH', -1);
      rejected(db, () => db.search(new Float32Array(DIM * 2), 3), 'DIMENSION_MISMATCH', -1);
      db.dispose();
    });

    test('NON_FINITE (-2): NaN and ±Infinity in insert, insertBatch and search', async () => {
      const db = await filled('l2', allocator);
      for (const bad of [NaN, Infinity, -Infinity]) {
        rejected(db, () => db.insert(withValue(DIM - 1, bad)), 'NON_FINITE', -2);
        const batch = new Float32Array(base.subarray(0, 5 * DIM));
        batch[4 * DIM] = bad;
        rejected(db, () => db.insertBatch(batch), 'NON_FINITE', -2);
        rejected(db, () => db.search(withValue(0, bad), 3), 'NON_FINITE', -2);
      }
      db.dispose();
    });

    test('ZERO_VECTOR (-3): cosine insert, batch and query', async () => {
      const db = await filled('cosine', allocator);
      rejected(db, () => db.insert(new Float32Array(DIM)), 'ZERO_VECTOR', -3);
      const batch = new Float32Array(base.subarray(0, 4 * DIM));
      batch.fill(0, 2 * DIM, 3 * DIM);
      rejected(db, () => db.insertBatch(batch), 'ZERO_VECTOR', -3);
      rejected(db, () => db.search(new Float32Array(DIM), 3), 'ZERO_VECTOR', -3);
      db.dispose();
    });

    test('VECTOR_TOO_LARGE (-10): l2 and dot reject vectors whose distances would overflow', async () => {
      for (const metric of ['l2', 'dot']) {
        const db = await filled(metric, allocator);
        const huge = new Float32Array(DIM).fill(3e37);
        rejected(db, () => db.insert(huge), 'VECTOR_TOO_LARGE', -10);
        rejected(db, () => db.search(huge, 2), 'VECTOR_TOO_LARGE', -10);
        db.dispose();
      }
    });

    test('INVALID_K (-4): k must be an integer in 1...2^31-1', async () => {
      const db = await filled('dot', allocator);
      const q = row(queries, DIM, 1);
      for (const k of [0, -1, 1.5, NaN, Infinity, undefined, null, '3', 3n, 2 ** 31]) {
        rejected(db, () => db.search(q, k), 'INVALID_K', -4);
      }
      db.dispose();
    });

    test('INVALID_OPTION (-5): search options and efSearch', async () => {
      const db = await filled('l2', allocator);
      const q = row(queries, DIM, 2);
      for (const options of [{ ef: 0 }, { ef: -3 }, { ef: 65537 }, { ef: 2.5 }, { ef: '64' }, { ef: null },
        { k: 3 }, { efSearch: 10 }, null, 5, 'ef']) {
        rejected(db, () => db.search(q, 3, options), 'INVALID_OPTION', -5);
      }
      for (const value of [0, 65537, 1.5, '10', undefined, NaN]) {
        rejected(db, () => { db.efSearch = value; }, 'INVALID_OPTION', -5);
      }
      assert.equal(db.efSearch, 64);
      db.dispose();
    });

    test('INVALID_ARGUMENT (-5): vectors must be Float32Arrays or arrays of numbers', async () => {
      const db = await filled('l2', allocator);
      const strings = Array.from(row(base, DIM, 0), String);
      const holey = Array.from(row(base, DIM, 0));
      delete holey[3];
      // A Proxy passes `instanceof Float32Array` but is not one (its `length` getter throws a TypeError).
      for (const bad of [strings, holey, new Float64Array(DIM), new Uint8Array(DIM * 4), null, undefined, 'x',
        new Float32Array(DIM).buffer, new Proxy(new Float32Array(DIM), {}), new Proxy(row(base, DIM, 0), {})]) {
        rejected(db, () => db.insert(bad), 'INVALID_ARGUMENT', -5);
        rejected(db, () => db.insertBatch(bad), 'INVALID_ARGUMENT', -5);
        rejected(db, () => db.search(bad, 1), 'INVALID_ARGUMENT', -5);
      }
      db.dispose();
    });

    test('OUT_OF_MEMORY (-7): a batch larger than wasm32 memory', async () => {
      const db = await filled('l2', allocator);
      // 2^29 floats = 2 GiB: more than the module can stage (never touched, so it costs no RSS).
      const huge = new Float32Array(2 ** 29);
      const error = rejected(db, () => db.insertBatch(huge), 'OUT_OF_MEMORY', -7);
      assert.match(error.message, /out of memory/);
      db.dispose();
    });

    test('reserve: INVALID_ARGUMENT (-5) for a bad capacity, OUT_OF_MEMORY (-7) beyond wasm32 memory', async () => {
      const db = await filled('l2', allocator);
      for (const bad of [-1, 1.5, '10', null, undefined, NaN, 2 ** 31]) {
        rejected(db, () => db.reserve(bad), 'INVALID_ARGUMENT', -5);
      }
      rejected(db, () => db.reserve(2 ** 31 - 1), 'OUT_OF_MEMORY', -7);
      db.reserve(0);                       // at or below size: nothing to do
      db.reserve(db.size + 50);
      const id = db.insert(row(base, DIM, 1));
      assert.equal(id, db.size - 1);
      db.dispose();
    });
  });
}

describe('create and load options', () => {
  const bad = {
    'no options': undefined,
    'options not an object': 5,
    'dimensions missing': { metric: 'l2' },
    'dimensions 0': { dimensions: 0, metric: 'l2' },
    'dimensions 65537': { dimensions: 65537, metric: 'l2' },
    'dimensions 2^32 + 4': { dimensions: 2 ** 32 + 4, metric: 'l2' },
    'dimensions 1.5': { dimensions: 1.5, metric: 'l2' },
    'dimensions "4"': { dimensions: '4', metric: 'l2' },
    'metric missing': { dimensions: 4 },
    'metric "L2"': { dimensions: 4, metric: 'L2' },
    'metric "euclidean"': { dimensions: 4, metric: 'euclidean' },
    'm 1': { dimensions: 4, metric: 'l2', m: 1 },
    'm 129': { dimensions: 4, metric: 'l2', m: 129 },
    'efConstruction 0': { dimensions: 4, metric: 'l2', efConstruction: 0 },
    'efConstruction 65537': { dimensions: 4, metric: 'l2', efConstruction: 65537 },
    'efSearch 0': { dimensions: 4, metric: 'l2', efSearch: 0 },
    'efSearch 1e9': { dimensions: 4, metric: 'l2', efSearch: 1e9 },
    'seed -1': { dimensions: 4, metric: 'l2', seed: -1 },
    'seed 0.5': { dimensions: 4, metric: 'l2', seed: 0.5 },
    'seed 2^64': { dimensions: 4, metric: 'l2', seed: 1n << 64n },
    'seed 2^53': { dimensions: 4, metric: 'l2', seed: 2 ** 53 },
    'allocator "jemalloc"': { dimensions: 4, metric: 'l2', allocator: 'jemalloc' },
    'unknown option (typo)': { dimension: 4, metric: 'l2' },
    'wasm of the wrong type': { dimensions: 4, metric: 'l2', wasm: 42 },
    'wasm bytes that are not wasm': { dimensions: 4, metric: 'l2', wasm: new Uint8Array([1, 2, 3]) },
    'a wasm module that is not EdgeVec': {
      dimensions: 4, metric: 'l2', wasm: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    },
  };
  for (const [name, options] of Object.entries(bad)) {
    test(`create rejects ${name} with INVALID_OPTION (-5)`, async () => {
      await rejectsCode(() => EdgeVec.create(options), 'INVALID_OPTION', -5);
    });
  }

  test('allocator that contradicts the given module: INVALID_OPTION', async () => {
    const { DIST } = await import('../test-support/helpers.mjs');
    await rejectsCode(() => EdgeVec.create({ dimensions: 4, metric: 'l2', allocator: 'dlmalloc',
      wasm: `${DIST}/edgevec-arena.wasm` }), 'INVALID_OPTION', -5);
  });

  test('a missing module file: IO (-9)', async () => {
    const error = await rejectsCode(() => EdgeVec.create({ dimensions: 4, metric: 'l2', wasm: '/nonexistent/x.wasm' }),
      'IO', -9);
    assert.ok(error.cause, 'the underlying error is kept as cause');
  });

  test('load rejects unknown or bad options', async () => {
    const db = await filled('l2', 'dlmalloc');
    const bytes = db.save();
    db.dispose();
    for (const options of [{ metric: 'l2' }, { efSearch: 0 }, { allocator: 'x' }, 'arena']) {
      await rejectsCode(() => EdgeVec.load(bytes, options), 'INVALID_OPTION', -5);
    }
    for (const bytesLike of [undefined, null, 'EDGEVEC', [1, 2, 3], new Proxy(new Uint8Array(100), {}),
      new Proxy(new ArrayBuffer(100), {})]) {
      await rejectsCode(() => EdgeVec.load(bytesLike), 'INVALID_ARGUMENT', -5);
    }
  });
});

describe('CORRUPT (-8)', () => {
  for (const allocator of ALLOCATORS) {
    test(`load rejects empty, truncated, altered, extended and foreign bytes (${allocator})`, async () => {
      const db = await filled('cosine', allocator);
      const bytes = db.save();
      const cases = {
        empty: new Uint8Array(0),
        'one byte': bytes.slice(0, 1),
        'header only': bytes.slice(0, 96),
        'truncated by one byte': bytes.slice(0, bytes.length - 1),
        'one trailing byte': Uint8Array.from([...bytes, 0]),
        'random bytes': Uint8Array.from(randomRows(64, 4, 3), (x) => (x + 1) * 100),
        'a PNG signature': Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...bytes.slice(8)]),
      };
      // Flip one bit at a spread of positions: header, vectors, graph, trailer.
      for (const at of [0, 9, 20, 50, 95, 96, 200, Math.floor(bytes.length / 2), bytes.length - 5, bytes.length - 1]) {
        const altered = bytes.slice();
        altered[at] ^= 0x10;
        cases[`bit flipped at ${at}`] = altered;
      }
      for (const [name, corrupt] of Object.entries(cases)) {
        const error = await rejectsCode(() => EdgeVec.load(corrupt, { allocator }), 'CORRUPT', -8);
        assert.match(error.message, /corrupt/, name);
      }
      // The original still loads, and so does an ArrayBuffer or a DataView of it.
      for (const good of [bytes, bytes.slice().buffer, new DataView(bytes.slice().buffer)]) {
        const copy = await EdgeVec.load(good, { allocator });
        assert.equal(copy.size, db.size);
        copy.dispose();
      }
      db.dispose();
    });
  }
});

describe('crafted headers (valid checksum, absurd fields)', () => {
  /** `bytes` with a 32-bit header field replaced and the header checksum recomputed. */
  function crafted(bytes, offset, value) {
    const copy = bytes.slice();
    const view = new DataView(copy.buffer);
    view.setUint32(offset, value, true);
    view.setUint32(92, crc32c(copy.subarray(0, 92)), true);
    return copy;
  }
  const fields = { dimension: 20, m: 32, efConstruction: 36, efSearch: 40, maxLevel: 44 };

  test('never crash the process: CORRUPT, or INTERNAL when the module traps; other indexes keep working', async () => {
    const db = await filled('l2', 'dlmalloc');
    const bytes = db.save();
    const before = snapshot(db, queries);
    for (const [name, offset] of Object.entries(fields)) {
      for (const value of [0, 0x7fffffff, 0x80000000, 0xffffffff]) {
        let error;
        try {
          (await EdgeVec.load(crafted(bytes, offset, value))).dispose();
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof EdgeVecError, `${name} = ${value}: ${error}`);
        assert.equal(error.code, 'CORRUPT', `${name} = ${value}: ${error.code}`);
      }
    }
    assert.deepEqual(snapshot(db, queries), before);
    db.dispose();
  });

  test('are CORRUPT, never a trap, for values ≥ 2³¹ on wasm32', async () => {
    const db = await filled('l2', 'dlmalloc');
    const bytes = db.save();
    db.dispose();
    for (const [name, offset] of Object.entries(fields)) {
      const error = await rejectsCode(() => EdgeVec.load(crafted(bytes, offset, 0x80000000)), 'CORRUPT', -8);
      assert.ok(error, name);
    }
  });
});

describe('misuse', () => {
  test('methods and getters called on something that is not an index: INVALID_ARGUMENT, not a TypeError', async () => {
    const db = await filled('l2', 'dlmalloc');
    const q = row(base, DIM, 0);
    const calls = {
      insert: (self) => EdgeVec.prototype.insert.call(self, q),
      insertBatch: (self) => EdgeVec.prototype.insertBatch.call(self, q),
      search: (self) => EdgeVec.prototype.search.call(self, q, 1),
      save: (self) => EdgeVec.prototype.save.call(self),
      reserve: (self) => EdgeVec.prototype.reserve.call(self, 10),
      size: (self) => Reflect.get(EdgeVec.prototype, 'size', self),
      efSearch: (self) => Reflect.set(EdgeVec.prototype, 'efSearch', 10, self),
    };
    for (const [name, call] of Object.entries(calls)) {
      for (const self of [{}, undefined, null, 42, EdgeVec.prototype]) {
        throwsCode(() => call(self), 'INVALID_ARGUMENT', -5);
      }
      assert.ok(name);
    }
    // A detached method is the same mistake.
    const { search } = db;
    throwsCode(() => search(q, 1), 'INVALID_ARGUMENT', -5);
    // And the index itself was not touched.
    assert.equal(db.size, base.length / DIM);
    db.dispose();
    throwsCode(() => db.search(q, 1), 'DISPOSED', -20);
  });
});

describe('crafted bodies (valid checksums): CORRUPT with the reason, never a trap', () => {
  /** Offsets of the documented v1 HNSW layout. */
  function layout(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dim = view.getUint32(20, true), n = Number(view.getBigUint64(24, true)), m = view.getUint32(32, true);
    const vectors = 96, levels = vectors + n * dim * 4, parents = levels + ((n + 3) & ~3), layer0 = parents + n * 4;
    return { dim, n, m, vector: (i) => vectors + i * dim * 4, block0: (i) => layer0 + i * (1 + 2 * m) * 4 };
  }
  /** A copy with `edit(view, layout)` applied and both checksums recomputed. */
  function resealed(bytes, edit) {
    const copy = bytes.slice();
    const view = new DataView(copy.buffer);
    edit(view, layout(copy));
    view.setUint32(92, crc32c(copy.subarray(0, 92)), true);
    view.setUint32(copy.length - 4, crc32c(copy.subarray(0, copy.length - 4)), true);
    return copy;
  }

  test('layer-0 neighbour ids and counts ≥ 2³¹ are CORRUPT in wasm too (not INTERNAL)', async () => {
    const db = await filled('l2', 'dlmalloc');
    const bytes = db.save();
    db.dispose();
    const { n } = layout(bytes);
    for (const node of [0, 7, n - 1]) {
      for (const value of [0x80000000, 0xfffffffe, 0xffffffff, n]) {
        const count = resealed(bytes, (v, l) => v.setUint32(l.block0(node), value, true));
        let error = await rejectsCode(() => EdgeVec.load(count), 'CORRUPT', -8);
        assert.match(error.message, new RegExp(`neighbour list of node ${node} on layer 0: more neighbours`));
        const id = resealed(bytes, (v, l) => {
          v.setUint32(l.block0(node), Math.max(1, v.getUint32(l.block0(node), true)), true);
          v.setUint32(l.block0(node) + 4, value, true);
        });
        error = await rejectsCode(() => EdgeVec.load(id), 'CORRUPT', -8);
        assert.match(error.message, /links to a node that does not exist/);
      }
    }
  });

  test('vectors add would refuse, and non-zero reserved words, are CORRUPT with the same reason text as Swift', async () => {
    const cosine = await filled('cosine', 'dlmalloc');
    const cosineBytes = cosine.save();
    cosine.dispose();
    const l2 = await filled('l2', 'dlmalloc');
    const l2Bytes = l2.save();
    l2.dispose();
    const cases = [
      ['a cosine vector scaled × 1000', cosineBytes, (v, l) => {
        for (let i = 0; i < l.dim; i++) v.setFloat32(l.vector(3) + 4 * i, v.getFloat32(l.vector(3) + 4 * i, true) * 1000, true);
      }, 'load: corrupt index data: vector 3 is not unit length, as stored cosine vectors are'],
      ['a zero cosine vector', cosineBytes, (v, l) => {
        for (let i = 0; i < l.dim; i++) v.setFloat32(l.vector(5) + 4 * i, 0, true);
      }, 'load: corrupt index data: vector 5 is zero under the cosine metric'],
      ['an l2 file relabelled cosine', l2Bytes, (v) => v.setUint32(16, 1, true), /is not unit length/],
      ['an l2 vector of 1e19', l2Bytes, (v, l) => v.setFloat32(l.vector(2), 1e19, true),
        'load: corrupt index data: vector 2 is too large: its distances would overflow float32'],
      ['an infinite component', l2Bytes, (v, l) => v.setFloat32(l.vector(9) + 4, Infinity, true),
        'load: corrupt index data: vector 9 has a non-finite value'],
      ['removed count = count at 68', l2Bytes, (v) => v.setUint32(68, Number(v.getBigUint64(24, true)), true),
        /^load: corrupt index data: invalid header field removedCount \(\d+\)$/],
      ['free count above the removed count at 88', l2Bytes, (v) => v.setUint32(88, 0x80000000, true),
        'load: corrupt index data: invalid header field freeCount (2147483648)'],
      ['metric 7', l2Bytes, (v) => v.setUint32(16, 7, true), 'load: corrupt index data: invalid header field metric (7)'],
    ];
    for (const [name, bytes, edit, expected] of cases) {
      const error = await rejectsCode(() => EdgeVec.load(resealed(bytes, edit)), 'CORRUPT', -8);
      if (typeof expected === 'string') assert.equal(error.message, expected, name);
      else assert.match(error.message, expected, name);
    }
    // The untouched bytes still load (the cosine vectors are unit length within the tolerance).
    for (const bytes of [cosineBytes, l2Bytes]) (await EdgeVec.load(bytes)).dispose();
  });
});

describe('host helpers', () => {
  test('IO (-9): loadFile of a missing file, saveFile into a missing directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgevec-errors-'));
    try {
      await rejectsCode(() => EdgeVec.loadFile(join(dir, 'missing.edgevec')), 'IO', -9);
      const db = await filled('l2', 'dlmalloc');
      const before = snapshot(db, queries);
      const error = await rejectsCode(() => db.saveFile(join(dir, 'no', 'such', 'dir.edgevec')), 'IO', -9);
      assert.equal(error.cause?.code, 'ENOENT');
      assert.deepEqual(snapshot(db, queries), before);
      db.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('UNSUPPORTED: IndexedDB helpers where there is no IndexedDB', async () => {
    assert.equal(globalThis.indexedDB, undefined);
    const db = await filled('l2', 'dlmalloc');
    const error = await rejectsCode(() => db.saveToIndexedDB('x'), 'UNSUPPORTED');
    assert.equal(error.wasmCode, undefined);
    await rejectsCode(() => EdgeVec.loadFromIndexedDB('x'), 'UNSUPPORTED');
    await rejectsCode(() => db.saveToIndexedDB(''), 'INVALID_ARGUMENT', -5);
    db.dispose();
  });

  test('EdgeVecError carries code, wasmCode, message and cause', () => {
    const cause = new Error('inner');
    const error = new EdgeVecError('IO', 'outer', -9, { cause });
    assert.equal(error.code, 'IO');
    assert.equal(error.wasmCode, -9);
    assert.equal(error.message, 'outer');
    assert.equal(error.cause, cause);
    assert.equal(error.name, 'EdgeVecError');
    assert.ok(error.stack.includes('EdgeVecError'));
  });
});
