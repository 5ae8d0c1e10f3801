// The allocation counter (`make wasm ALLOCATION_COUNTER=1`): compiled out of
// the default build, and in a counting build inserts allocate only when
// storage grows and searches not at all once the result buffer exists.
// `make test-js` builds the counting modules and passes their directory in
// EDGEVEC_COUNTING_DIST; without it the counting checks are skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { ALLOCATORS, EdgeVec, randomRows, row } from '../test-support/helpers.mjs';

const countingDist = process.env.EDGEVEC_COUNTING_DIST;

test('the default build has no allocation counter', async () => {
  for (const allocator of ALLOCATORS) {
    const db = await EdgeVec.create({ dimensions: 4, metric: 'l2', allocator });
    assert.equal(db.allocationStats(), null);
    db.dispose();
  }
});

for (const allocator of ALLOCATORS) {
  test(`counting build: allocations per insert and search (${allocator})`,
    { skip: countingDist ? false : 'EDGEVEC_COUNTING_DIST not set' }, async (t) => {
      const { EdgeVec: Counting } = await import(pathToFileURL(`${countingDist}/edgevec.mjs`).href);
      const DIM = 32;
      const data = randomRows(3000, DIM, 71);
      const db = await Counting.create({ dimensions: DIM, metric: 'cosine', m: 8, efConstruction: 64, allocator });
      const start = db.allocationStats();
      assert.equal(typeof start.allocations, 'number');
      assert.equal(typeof start.frees, 'number');
      assert.equal(typeof start.bytes, 'number');
      for (let i = 0; i < 1000; i++) db.insert(row(data, DIM, i));
      const warm = db.allocationStats();
      for (let i = 1000; i < 3000; i++) db.insert(row(data, DIM, i));
      const inserted = db.allocationStats();
      const perInsert = (inserted.allocations - warm.allocations) / 2000;
      // Growth asks for at least the 2000 new rows of storage (4 bytes per float).
      assert.ok(inserted.bytes - warm.bytes >= 2000 * DIM * 4,
        `bytes asked for while growing by 2000 rows: ${inserted.bytes - warm.bytes}`);
      db.search(row(data, DIM, 0), 10);
      const searched = db.allocationStats();
      for (let i = 0; i < 500; i++) db.search(row(data, DIM, i), 10);
      const after = db.allocationStats();
      t.diagnostic(`${allocator}: ${warm.allocations - start.allocations} allocations for the first 1000 inserts, ` +
        `${inserted.allocations - warm.allocations} for the next 2000 (${perInsert.toFixed(4)} per insert), ` +
        `${after.allocations - searched.allocations} for 500 searches`);
      assert.ok(perInsert < 0.05, `inserts allocate only when storage grows (${perInsert} per insert)`);
      assert.equal(after.allocations - searched.allocations, 0, 'searches do not allocate');
      assert.equal(after.frees - searched.frees, 0, 'searches do not free');
      assert.equal(after.bytes - searched.bytes, 0, 'searches ask for no bytes');
      db.dispose();
    });

  test(`counting build: no allocation and no memory growth within reserve() (${allocator})`,
    { skip: countingDist ? false : 'EDGEVEC_COUNTING_DIST not set' }, async () => {
      const { EdgeVec: Counting } = await import(pathToFileURL(`${countingDist}/edgevec.mjs`).href);
      const DIM = 32;
      const data = randomRows(3000, DIM, 72);
      const db = await Counting.create({ dimensions: DIM, metric: 'l2', m: 8, efConstruction: 64, allocator });
      db.insert(row(data, DIM, 0));      // stages the input row
      db.reserve(3000);
      const reserved = db.allocationStats();
      const memory = db.memoryBytes;
      for (let i = 1; i < 3000; i++) db.insert(row(data, DIM, i));
      const inserted = db.allocationStats();
      assert.equal(inserted.allocations - reserved.allocations, 0, 'inserts within the reservation allocate');
      assert.equal(inserted.bytes - reserved.bytes, 0);
      assert.equal(db.memoryBytes, memory, 'wasm memory grew within the reservation');
      // The graph is the one built without the reservation.
      const plain = await Counting.create({ dimensions: DIM, metric: 'l2', m: 8, efConstruction: 64, allocator });
      plain.insertBatch(data);
      assert.deepEqual(db.save(), plain.save());
      db.insert(row(data, DIM, 0));      // past the reservation: grows again
      assert.ok(db.allocationStats().allocations > inserted.allocations);
      db.dispose();
      plain.dispose();
    });
}
