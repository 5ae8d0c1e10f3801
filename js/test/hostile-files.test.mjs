// Hostile index bytes through the wasm module: the Swift loader compiled for
// wasm32, where `Int` is 32 bits, is where crafted values ≥ 2³¹ used to trap.
// Every truncation, every single-bit flip, and every 32-bit word of a small
// file set to an extreme value (with both checksums recomputed, so that the
// loader's own checks are what stands in the way) must give CORRUPT or an
// index that works; never INTERNAL (a trap), never another error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdgeVec, EdgeVecError, crc32c, randomRows, row } from '../test-support/helpers.mjs';

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

/** Loads `bytes`: 'corrupt', or 'loaded' after checking that the index answers searches and takes an insert. */
async function outcome(bytes, allocator, what) {
  let db;
  try {
    db = await EdgeVec.load(bytes, { allocator });
  } catch (error) {
    assert.ok(error instanceof EdgeVecError, `${what}: ${error}`);
    assert.equal(error.code, 'CORRUPT', `${what}: ${error.code} ${error.message}`);
    return 'corrupt';
  }
  try {
    for (let q = 0; q < queries.length / DIM; q++) {
      const hits = db.search(row(queries, DIM, q), 5, { ef: 64 });
      assert.ok(hits.length >= 1 && hits.length <= 5, `${what}: ${hits.length} hits`);
      for (const h of hits) assert.ok(Number.isInteger(h.id) && h.id >= 0 && h.id < db.size && Number.isFinite(h.distance));
    }
    db.insert(row(queries, DIM, 0));
  } catch (error) {
    assert.fail(`${what}: loaded, then ${error?.code ?? ''} ${error?.message ?? error}`);
  } finally {
    db.dispose();
  }
  return 'loaded';
}

// The loader is the same code in both module variants, so the exhaustive
// passes run on dlmalloc (≈ 1 ms a load: a fresh instance each) and the
// crafted words on the arena variant too.
test('every truncation and every byte with one bit flipped is CORRUPT, never a trap', async () => {
  const bytes = await smallFile('l2', 'dlmalloc');
  for (let length = 0; length < bytes.length; length++) {
    assert.equal(await outcome(bytes.slice(0, length), 'dlmalloc', `length ${length}`), 'corrupt');
  }
  for (let at = 0; at < bytes.length; at++) {
    const flipped = bytes.slice();
    flipped[at] ^= 1 << (at % 8);
    // Checksums catch every single-bit flip.
    assert.equal(await outcome(flipped, 'dlmalloc', `bit ${at % 8} of byte ${at}`), 'corrupt');
  }
});

for (const [allocator, metrics] of [['dlmalloc', ['l2', 'cosine', 'dot']], ['arena', ['l2']]]) {
  test(`every word set to an extreme value, checksums recomputed: CORRUPT or a working index (${allocator})`, async () => {
    const counts = { corrupt: 0, loaded: 0 };
    for (const metric of metrics) {
      const bytes = await smallFile(metric, allocator);
      const n = new DataView(bytes.buffer).getUint32(24, true);
      const values = [0, 1, n - 1, n, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
      for (let at = 8; at + 4 <= bytes.length - 4; at += 4) {
        if (at === 92) continue;   // the header checksum itself
        for (const value of values) {
          const crafted = bytes.slice();
          new DataView(crafted.buffer).setUint32(at, value, true);
          counts[await outcome(reseal(crafted), allocator, `${metric} word at ${at} = ${value}`)]++;
        }
      }
    }
    // Most of these are refused; some (a neighbour id swapped for another valid one) still load.
    assert.ok(counts.corrupt > 0 && counts.loaded > 0, JSON.stringify(counts));
  });
}
