// Hostile index bytes through the wasm module: the Swift loader compiled for
// wasm32, where `Int` is 32 bits, is where crafted values ≥ 2³¹ used to trap.
// Every truncation, every single-bit flip, and every 32-bit word of a small
// file set to an extreme value (with both checksums recomputed, so that the
// loader's own checks are what stands in the way) must give CORRUPT (−8) or
// an index that works; never a trap, never another error. A file with every
// part (removed slots, metadata) gets a word at every byte offset; crafted
// binary metadata forms go through the C ABI too.
//
// The bytes go straight to the module's `ev_load`, thousands of times in one
// instance per variant. (Through `EdgeVec.load` each would be an instance of
// its own, each reserving ~10 GiB of address space until a GC finds it dead;
// Node 20 once deadlocked collecting them, a V8 GC request from a compiler
// thread while the main thread drained tasks. The wrapper's CORRUPT errors
// and messages are tested in errors.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { DIST, EdgeVec, crc32c, randomRows, row } from '../test-support/helpers.mjs';

const VARIANT_FILES = { dlmalloc: 'edgevec.wasm', arena: 'edgevec-arena.wasm' };

/** The raw exports of a fresh instance of a variant's module. */
async function rawModule(allocator) {
  const { instance } = await WebAssembly.instantiate(await readFile(`${DIST}/${VARIANT_FILES[allocator]}`), {});
  const x = instance.exports;
  if (typeof x.__wasm_call_ctors === 'function') x.__wasm_call_ctors();
  return x;
}

const DIM = 4;
const queries = randomRows(3, DIM, 77);

async function smallFile(metric, allocator) {
  const db = await EdgeVec.create({ dimensions: DIM, metric, m: 2, efConstruction: 8, allocator });
  db.insertBatch(randomRows(24, DIM, 76));
  const bytes = db.save();
  db.dispose();
  return bytes;
}

function reseal(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(92, crc32c(bytes.subarray(0, 92)), true);
  view.setUint32(bytes.length - 4, crc32c(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/**
 * Loads `bytes` with `ev_load`: 'corrupt', or 'loaded' after checking that
 * the index answers searches with well-formed hits and takes an insert. A
 * trap (a WebAssembly.RuntimeError) fails the test.
 */
function outcome(x, bytes, what) {
  const p = x.ev_alloc(Math.max(bytes.length, 1)) >>> 0;
  assert.ok(p !== 0, `${what}: ev_alloc`);
  new Uint8Array(x.memory.buffer, p, bytes.length).set(bytes);
  const h = x.ev_load(p, bytes.length);
  x.ev_dealloc(p);
  if (h < 0) {
    assert.equal(h, -8, `${what}: code ${h}, not CORRUPT`);
    return 'corrupt';
  }
  try {
    const size = x.ev_size(h);
    assert.equal(x.ev_dimension(h), DIM, what);
    const input = x.ev_input(h, 1) >>> 0;
    const ids = x.ev_output(h, 5) >>> 0;
    const distances = x.ev_output_distances(h) >>> 0;
    for (let q = 0; q < queries.length / DIM; q++) {
      new Float32Array(x.memory.buffer, input, DIM).set(row(queries, DIM, q));
      const n = x.ev_search(h, input, 5, 64, ids, distances);
      assert.ok(n >= 1 && n <= 5, `${what}: ${n} hits`);
      const hitIds = new BigUint64Array(x.memory.buffer, ids, n);
      const hitDistances = new Float32Array(x.memory.buffer, distances, n);
      for (let i = 0; i < n; i++) {
        assert.ok(x.ev_contains(h, hitIds[i]) === 1 && Number.isFinite(hitDistances[i]), `${what}: hit ${i}`);
      }
    }
    new Float32Array(x.memory.buffer, input, DIM).set(row(queries, DIM, 0));
    // A loaded index goes on under the next id its file names (format 2 keeps it).
    const next = x.ev_next_id(h);
    assert.equal(x.ev_insert(h, input), next, `${what}: insert`);
    assert.equal(x.ev_size(h), size + 1, `${what}: size after the insert`);
  } finally {
    x.ev_free(h);
  }
  return 'loaded';
}

// The loader is the same code in both module variants: the exhaustive
// passes run on dlmalloc, the crafted words on the arena variant too.
test('every truncation and every byte with one bit flipped is CORRUPT, never a trap', async () => {
  const bytes = await smallFile('l2', 'dlmalloc');
  const x = await rawModule('dlmalloc');
  for (let length = 0; length < bytes.length; length++) {
    assert.equal(outcome(x, bytes.slice(0, length), `length ${length}`), 'corrupt');
  }
  for (let at = 0; at < bytes.length; at++) {
    const flipped = bytes.slice();
    flipped[at] ^= 1 << (at % 8);
    // Checksums catch every single-bit flip.
    assert.equal(outcome(x, flipped, `bit ${at % 8} of byte ${at}`), 'corrupt');
  }
});

for (const [allocator, metrics] of [['dlmalloc', ['l2', 'cosine', 'dot']], ['arena', ['l2']]]) {
  test(`every word set to an extreme value, checksums recomputed: CORRUPT or a working index (${allocator})`, async () => {
    const counts = { corrupt: 0, loaded: 0 };
    const x = await rawModule(allocator);
    for (const metric of metrics) {
      const bytes = await smallFile(metric, allocator);
      const n = new DataView(bytes.buffer).getUint32(24, true);
      const values = [0, 1, n - 1, n, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
      for (let at = 8; at + 4 <= bytes.length - 4; at += 4) {
        if (at === 92) continue;   // the header checksum itself
        for (const value of values) {
          const crafted = bytes.slice();
          new DataView(crafted.buffer).setUint32(at, value, true);
          counts[outcome(x, reseal(crafted), `${metric} word at ${at} = ${value}`)]++;
        }
      }
    }
    // Most of these are refused; some (a neighbour id swapped for another valid one) still load.
    assert.ok(counts.corrupt > 0 && counts.loaded > 0, JSON.stringify(counts));
  });
}

/**
 * A small file with every part a file can have: upper layers, chosen ids, free
 * and pending removed slots, a reused slot, and metadata of every type (some
 * vectors without).
 */
async function richFile() {
  const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', m: 2, efConstruction: 8 });
  const rows = randomRows(26, DIM, 78);
  for (let i = 0; i < 24; i++) {
    const metadata = { s: 'ab'.repeat(i % 3), n: i, d: i / 7, ok: i % 2 === 0, tags: ['x', 'yz'].slice(0, i % 3) };
    db.insert(row(rows, DIM, i), i % 4 === 3 ? { id: 1000 + 7 * i } : { id: 1000 + 7 * i, metadata });
  }
  for (const id of [1000, 1014, 1070, 1161]) db.remove(id);
  db.insert(row(rows, DIM, 24), { id: 5, metadata: { s: 'reused' } });
  db.remove(1021);
  const bytes = db.save();
  db.dispose();
  return bytes;
}

// Lengths and slot numbers sit at any byte offset (metadata forms are not
// aligned) and some are read as `UInt32` and made `Int`s, which in wasm32
// traps from 2³¹ on: every offset, not only every fourth.
for (const allocator of ['dlmalloc', 'arena']) {
  test(`a file with every part: a 32-bit word at every byte offset set to an extreme value, checksums recomputed: CORRUPT or a working index (${allocator})`, async () => {
    const bytes = await richFile();
    const x = await rawModule(allocator);
    const counts = { corrupt: 0, loaded: 0 };
    for (let at = 8; at + 4 <= bytes.length - 4; at++) {
      if (at + 4 > 92 && at < 96) continue;   // the header checksum itself
      for (const value of [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
        const crafted = bytes.slice();
        new DataView(crafted.buffer).setUint32(at, value, true);
        counts[outcome(x, reseal(crafted), `word at ${at} = ${value}`)]++;
      }
    }
    assert.ok(counts.corrupt > 0 && counts.loaded > 0, JSON.stringify(counts));
  });
}

test('binary metadata forms with lengths of 2^31 and more through the C ABI: INVALID_METADATA, never a trap', async () => {
  const x = await rawModule('dlmalloc');
  const h = x.ev_create(DIM, 0, 8, 16, 1n);
  const input = x.ev_input(h, 1) >>> 0;
  new Float32Array(x.memory.buffer, input, DIM).set(row(queries, DIM, 0));
  for (const length of [0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff]) {
    // "s": a string of `length` bytes; "l": a list of one such string; three bytes follow either.
    for (const [form, at] of [[[1, 1, 0x73, 1, 0, 0, 0, 0, 0x61, 0x62, 0x63], 4], [[1, 1, 0x6c, 5, 1, 0, 0, 0, 0, 0, 0x61], 6]]) {
      const bytes = new Uint8Array(form);
      new DataView(bytes.buffer).setUint32(at, length, true);
      const p = x.ev_input_bytes(h, bytes.length) >>> 0;
      new Uint8Array(x.memory.buffer, p, bytes.length).set(bytes);
      const what = `${form[2] === 0x73 ? 'string' : 'list'} length ${length}`;
      assert.equal(x.ev_insert_with_metadata(h, input, 0xffffffffffffffffn, p, bytes.length), -15n, what);
      assert.equal(x.ev_insert_batch_with_metadata(h, input, 1, 0, p, bytes.length), -15n, `batch, ${what}`);
      assert.equal(x.ev_size(h), 0, what);
    }
  }
  x.ev_free(h);
});
