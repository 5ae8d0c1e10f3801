// Metadata from JavaScript: the value mapping, reading back, persistence
// through save/load, update, remove and compact, and all-or-nothing inserts
// with bad metadata anywhere (the index unchanged after every error).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOCATORS, EdgeVec, randomRows, row, snapshot, throwsCode } from '../test-support/helpers.mjs';

const DIM = 6;
const base = randomRows(120, DIM, 31);
const queries = randomRows(3, DIM, 32);

/** Expects INVALID_METADATA (-15) from `fn` with the index unchanged; returns the error. */
function rejected(db, fn, pattern) {
  const before = snapshot(db, queries);
  const metadataBefore = [...db.ids()].map((id) => db.getMetadata(id));
  const error = throwsCode(fn, 'INVALID_METADATA', -15);
  if (pattern !== undefined) assert.match(error.message, pattern);
  assert.deepEqual(snapshot(db, queries), before, `unchanged after: ${error.message}`);
  assert.deepEqual([...db.ids()].map((id) => db.getMetadata(id)), metadataBefore);
  return error;
}

describe('value mapping', () => {
  test('strings, integers, doubles, bools and lists of strings come back as given', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    const m = {
      s: 'games', empty: '', unicode: 'été 日本 \u{1D11E}', quote: 'a"b\\c',
      i: 120, neg: -7, zero: 0, max: Number.MAX_SAFE_INTEGER, min: -Number.MAX_SAFE_INTEGER,
      d: 0.5, tiny: 5e-324, big: 1.5e300, beyond: 2 ** 53, minusBeyond: -(2 ** 60),
      t: true, f: false,
      list: ['2d', 'puzzle', ''], none: [],
      'dotted.name_2': 1,
    };
    const id = db.insert(row(base, DIM, 0), { metadata: m });
    assert.deepEqual(db.getMetadata(id), m);
    assert.deepEqual(Object.keys(db.getMetadata(id)), Object.keys(m), 'field order kept');
    // -0 is an integer 0; an integral double is an integer (indistinguishable in JS).
    db.setMetadata(id, { a: -0, b: 3.0 });
    assert.deepEqual(db.getMetadata(id), { a: 0, b: 3 });
    assert.ok(Object.is(db.getMetadata(id).a, 0));
    // Integers and doubles compare numerically in filters, whatever the stored type.
    db.setMetadata(id, { x: 2 ** 53, y: 7 });
    assert.equal(db.search(row(base, DIM, 0), 1, { filter: 'x = 9007199254740992 AND y = 7.0' }).length, 1);
    db.dispose();
  });

  test('anything else is INVALID_METADATA naming the field; the index is unchanged', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    db.insertBatch(base.subarray(0, 10 * DIM), { metadata: Array.from({ length: 10 }, (_, i) => ({ n: i })) });
    const v = row(base, DIM, 11);
    const cases = [
      [{ x: null }, /field "x": null is not a string/],
      [{ x: undefined }, /field "x": undefined is not/],
      [{ x: { nested: 1 } }, /field "x": Object is not/],
      [{ x: ['a', 1] }, /field "x"/],
      [{ x: [['a']] }, /field "x"/],
      [{ x: 5n }, /field "x": 5n is not/],
      [{ x: NaN }, /field "x": NaN is not a finite number/],
      [{ x: Infinity }, /field "x": Infinity is not a finite number/],
      [{ x: -Infinity }, /field "x"/],
      [{ x: () => 1 }, /field "x"/],
      [{ x: Symbol('s') }, /field "x"/],
      [{ x: new Date(0) }, /field "x"/],
      [{ x: 'lone \uD800 surrogate' }, /field "x": a string with a lone surrogate/],
      [{ x: 'a'.repeat(4097) }, /field "x": a string over 4096 UTF-8 bytes/],
      [{ x: 'é'.repeat(2049) }, /field "x": a string over 4096/],
      [{ x: Array(257).fill('a') }, /field "x": 257 strings, more than 256/],
      [{ x: ['a'.repeat(4097)] }, /field "x": a string over 4096/],
      [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i])), /65 fields, more than 64/],
      [{ ['n'.repeat(65)]: 1 }, /invalid field name/],
      // Checked by the module (docs/FILTERS.md):
      [{ AND: 1 }, /invalid field name "AND"/],
      [{ null: 1 }, /invalid field name "null"/],
      [{ '1x': 1 }, /invalid field name "1x"/],
      [{ 'a b': 1 }, /invalid field name "a b"/],
      [{ '': 1 }, /invalid field name ""/],
      [{ été: 1 }, /invalid field name "été"/],
      [Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, 'x'.repeat(4000)])), /over its size limit/],
      [null, /expected a plain object/],
      [undefined, /expected a plain object/],
      ['section', /expected a plain object/],
      [[1, 2], /expected a plain object/],
      [new Map([['a', 1]]), /expected a plain object of fields, got Map/],
    ];
    for (const [metadata, pattern] of cases) {
      rejected(db, () => db.setMetadata(3, metadata), pattern);
      // (Undefined metadata of an insert or a batch row is none.)
      if (metadata === undefined) continue;
      rejected(db, () => db.insert(v, { metadata }), pattern);
      rejected(db, () => db.insertBatch([v, v], { metadata: [{ ok: 1 }, metadata] }), pattern);
    }
    // A prototype-less object is a plain object; an empty one is no metadata.
    const bare = Object.create(null);
    bare.k = 'v';
    db.setMetadata(3, bare);
    assert.deepEqual(db.getMetadata(3), { k: 'v' });
    db.setMetadata(3, {});
    assert.deepEqual(db.getMetadata(3), {});
    db.dispose();
  });
});

describe('reading back and lifecycle', () => {
  for (const allocator of ALLOCATORS) {
    test(`getMetadata, setMetadata, update, remove, compact, save/load (${allocator})`, async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric: 'cosine', m: 6, allocator });
      const meta = (i) => ({ section: ['games', 'libs', 'web'][i % 3], size: i * 10, odd: i % 2 === 1, tags: [`t${i % 4}`] });
      for (let i = 0; i < 60; i++) {
        assert.equal(db.insert(row(base, DIM, i), { id: 1000 + i, metadata: i % 10 === 9 ? undefined : meta(i) }), 1000 + i);
      }
      const ids = db.insertBatch(base.subarray(60 * DIM, 100 * DIM),
        { metadata: Array.from({ length: 40 }, (_, i) => (i % 10 === 9 ? undefined : meta(60 + i))) });
      assert.deepEqual([...ids], Array.from({ length: 40 }, (_, i) => 1060 + i));
      const expected = new Map();
      for (let i = 0; i < 100; i++) expected.set(1000 + i, i % 10 === 9 ? {} : meta(i));
      const check = (what, index = db) => {
        for (const [id, m] of expected) assert.deepEqual(index.getMetadata(id), m, `${what}: metadata of ${id}`);
        assert.equal(index.getMetadata(5), undefined, `${what}: absent id`);
        const games = index.search(row(queries, DIM, 0), 200, { filter: 'section = "games"' }).map((r) => r.id).sort();
        assert.deepEqual(games, [...expected].filter(([, m]) => m.section === 'games').map(([id]) => id).sort(),
          `${what}: filter over the current metadata`);
      };
      check('inserted');
      // Update keeps the metadata, setMetadata replaces it, {} clears it.
      db.update(1003, row(queries, DIM, 1));
      db.setMetadata(1004, { section: 'games', size: -1 });
      expected.set(1004, { section: 'games', size: -1 });
      db.setMetadata(1006, {});
      expected.set(1006, {});
      check('updated');
      throwsCode(() => db.setMetadata(5, { a: 1 }), 'UNKNOWN_ID', -13);
      throwsCode(() => db.setMetadata(-1, { a: 1 }), 'INVALID_ID', -12);
      throwsCode(() => db.getMetadata(1.5), 'INVALID_ID', -12);
      // Remove drops it; the id reinserted has only what it is given.
      for (let i = 0; i < 30; i++) {
        assert.equal(db.remove(1000 + 3 * i), true);
        expected.delete(1000 + 3 * i);
      }
      assert.equal(db.getMetadata(1000), undefined);
      db.insert(row(base, DIM, 0), { id: 1000 });
      expected.set(1000, {});
      db.insert(row(base, DIM, 3), { id: 1003, metadata: { section: 'web' } });
      expected.set(1003, { section: 'web' });
      check('after removals (slots reused)');
      db.compact();
      check('compacted');
      // Save and load: the same metadata, bytes and answers.
      const bytes = db.save();
      const copy = await EdgeVec.load(bytes, { allocator });
      check('loaded', copy);
      assert.deepEqual(Buffer.from(copy.save()), Buffer.from(bytes));
      for (let q = 0; q < 3; q++) {
        const opts = { filter: 'odd = true AND size < 700', includeMetadata: true };
        assert.deepEqual(copy.search(row(queries, DIM, q), 10, opts), db.search(row(queries, DIM, q), 10, opts));
      }
      copy.dispose();
      db.dispose();
    });
  }
});

describe('all or nothing', () => {
  test('a batch with bad metadata in any row adds nothing', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    db.insertBatch(base.subarray(0, 20 * DIM), { metadata: Array.from({ length: 20 }, (_, i) => ({ n: i })) });
    const rows = base.subarray(20 * DIM, 30 * DIM);
    for (const at of [0, 4, 9]) {
      const metadata = Array.from({ length: 10 }, (_, i) => ({ n: 20 + i }));
      metadata[at] = { n: null };
      let error = rejected(db, () => db.insertBatch(rows, { metadata }), new RegExp(`metadata\\[${at}\\]: invalid metadata: field "n"`));
      // Found by the module: the message names the row.
      metadata[at] = { OR: 1 };
      error = rejected(db, () => db.insertBatch(rows, { metadata }), new RegExp(`invalid metadata in row ${at}: invalid field name "OR"`));
      rejected(db, () => db.insertBatch(rows, { ids: Array.from({ length: 10 }, (_, i) => 500 + i), metadata }));
      assert.ok(error.message.startsWith('insertBatch: '));
    }
    // Bad vectors or ids with good metadata: nothing either.
    const metadata = Array.from({ length: 10 }, (_, i) => ({ n: 20 + i }));
    const bad = new Float32Array(rows);
    bad[5 * DIM + 1] = NaN;
    const before = snapshot(db, queries);
    throwsCode(() => db.insertBatch(bad, { metadata }), 'NON_FINITE', -2);
    throwsCode(() => db.insertBatch(rows, { metadata, ids: [1, ...Array.from({ length: 9 }, (_, i) => 600 + i)] }),
      'DUPLICATE_ID', -11);
    throwsCode(() => db.insert(row(base, DIM, 0), { id: 3, metadata: { n: 1 } }), 'DUPLICATE_ID', -11);
    throwsCode(() => db.insertBatch(rows, { metadata: metadata.slice(1) }), 'DIMENSION_MISMATCH', -1);
    throwsCode(() => db.insertBatch(rows, { metadata: 'n' }), 'INVALID_ARGUMENT', -5);
    assert.deepEqual(snapshot(db, queries), before);
    // And the good batch goes in whole, undefined rows without metadata.
    metadata[2] = undefined;
    const ids = db.insertBatch(rows, { metadata });
    assert.equal(db.size, 30);
    assert.deepEqual(db.getMetadata(ids[2]), {});
    assert.deepEqual(db.getMetadata(ids[3]), { n: 23 });
    db.dispose();
  });

  test('an empty batch with metadata adds nothing', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    assert.equal(db.insertBatch([], { metadata: [] }).length, 0);
    assert.equal(db.size, 0);
    db.dispose();
  });
});
