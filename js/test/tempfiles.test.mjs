// Temporary files of saveFile: `<basename>.tmp-<pid>-<hex>` in the target's
// directory; the next saveFile or loadFile of the same target removes those
// whose process is gone, and nothing else (the same scheme as Swift's
// save(toFile:), Tests/EdgeVecTests/TempFileTests.swift).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EdgeVec, EdgeVecError, randomRows } from '../test-support/helpers.mjs';

const DIM = 8;
// Pids no process can have: Linux pids stay below 2^22, macOS's below 100,000.
const DEAD = [4194305, 2147483647];

const STALE = [
  `index.evx.tmp-${DEAD[0]}-0123abcd`,
  `index.evx.tmp-${DEAD[1]}-0123456789abcdef`,
  `index.evx.tmp-${DEAD[0]}-ffffffffff`,
];

const d = DEAD[0];
const KEPT = [
  `index.evx.tmp-${process.pid}-0123abcd`,   // live pid: this very process
  `other.evx.tmp-${d}-0123abcd`,             // another target
  `xindex.evx.tmp-${d}-0123abcd`,            // another target, same suffix
  `index.ev.tmp-${d}-0123abcd`,              // another target, a prefix of ours
  `index.evx.tmp-${d}`,                      // old scheme: no nonce
  `index.evx.tmp-${d}-0123ABCD`,             // uppercase hex
  `index.evx.tmp-${d}-0123abc`,              // 7 hex digits
  `index.evx.tmp-${d}-0123456789abcdef0`,    // 17 hex digits
  `index.evx.tmp-${d}-0123abcg`,             // not hex
  `index.evx.tmp-${d}-0123abcd.bak`,         // trailing text
  'index.evx.tmp--0123abcd',                 // no pid
  'index.evx.tmp-0-0123abcd',                // pid 0 (the process group)
  'index.evx.tmp-2147483648-0123abcd',       // pid beyond pid_t
  'index.evx.tmp-12345678901-0123abcd',      // 11 digits
  `index.evx.tmp-+${d}-0123abcd`,            // sign
  `index.evx.tmp-${d}-0123abcd-0123abcd`,    // two nonces
  `index.evx.TMP-${d}-0123abcd`,             // case of the marker
  `index.evx.tmp-${d}-`,                     // empty nonce
];

async function makeIndex(rows, seed) {
  const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2', m: 6, efConstruction: 30, seed: 3 });
  db.insertBatch(randomRows(rows, DIM, seed));
  return db;
}

async function withDebris(body) {
  const dir = await mkdtemp(join(tmpdir(), 'edgevec-tempfiles-'));
  try {
    const db = await makeIndex(200, 41);
    const target = join(dir, 'index.evx');
    await db.saveFile(target);
    for (const name of [...STALE, ...KEPT]) await writeFile(join(dir, name), 'debris');
    assert.equal((await readdir(dir)).length, 1 + STALE.length + KEPT.length);
    await body(dir, target, db);
    db.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function restoreStale(dir) {
  for (const name of STALE) await writeFile(join(dir, name), 'debris');
}

async function assertOnlyKept(dir, extra = []) {
  assert.deepEqual((await readdir(dir)).sort(), [...KEPT, 'index.evx', ...extra].sort());
  for (const name of KEPT) assert.equal(await readFile(join(dir, name), 'utf8'), 'debris', name);
}

describe('temporary files of saveFile', () => {
  test('saveFile removes stale temporary files of its target and nothing else', async () => {
    await withDebris(async (dir, target, db) => {
      const other = await makeIndex(50, 42);
      await other.saveFile(target);
      await assertOnlyKept(dir);
      assert.deepEqual(new Uint8Array(await readFile(target)), other.save());
      await restoreStale(dir);
      await db.saveFile(pathToFileURL(target));
      await assertOnlyKept(dir);
      assert.deepEqual(new Uint8Array(await readFile(target)), db.save());
      other.dispose();
    });
  });

  test('loadFile removes stale temporary files of its target and nothing else', async () => {
    await withDebris(async (dir, target, db) => {
      const loaded = await EdgeVec.loadFile(target);
      assert.deepEqual(loaded.save(), db.save());
      await assertOnlyKept(dir);
      await restoreStale(dir);
      const viaUrl = await EdgeVec.loadFile(pathToFileURL(target), { allocator: 'arena' });
      assert.deepEqual(viaUrl.save(), db.save());
      await assertOnlyKept(dir);
      assert.deepEqual(new Uint8Array(await readFile(target)), db.save());
      loaded.dispose();
      viaUrl.dispose();
    });
  });

  test('failed loads and saves still clean up; cleanup failures are ignored', async () => {
    await withDebris(async (dir, target, db) => {
      // A stale-looking directory cannot be unlinked: ignored.
      const blocked = `index.evx.tmp-${DEAD[0]}-deadbeef`;
      await mkdir(join(dir, blocked));
      const loaded = await EdgeVec.loadFile(target);
      await assertOnlyKept(dir, [blocked]);
      await db.saveFile(target);
      await assertOnlyKept(dir, [blocked]);
      await rm(join(dir, blocked), { recursive: true });

      // The target missing, then not an index: the load fails as before, after the cleanup.
      await restoreStale(dir);
      await rm(target);
      await assert.rejects(EdgeVec.loadFile(target), (e) => e instanceof EdgeVecError && e.code === 'IO');
      assert.deepEqual((await readdir(dir)).sort(), [...KEPT].sort());
      await restoreStale(dir);
      await writeFile(target, 'not an index');
      await assert.rejects(EdgeVec.loadFile(target), (e) => e instanceof EdgeVecError && e.code === 'CORRUPT');
      await assertOnlyKept(dir);

      // A save that fails (the target is a non-empty directory): IO, its own temporary file removed.
      await restoreStale(dir);
      await rm(target);
      await mkdir(target);
      await writeFile(join(target, 'x'), 'x');
      await assert.rejects(db.saveFile(target), (e) => e instanceof EdgeVecError && e.code === 'IO');
      await assertOnlyKept(dir);
      loaded.dispose();
    });
  });

  test('the temporary file is created exclusively: a taken name is retried, never truncated', async () => {
    await withDebris(async (dir, target, db) => {
      const before = await readFile(target);
      const random = Math.random;
      // Math.random() = 0 gives the nonce 0000000000000000; that name is taken.
      const taken = join(dir, `index.evx.tmp-${process.pid}-0000000000000000`);
      await writeFile(taken, 'someone else');
      try {
        Math.random = () => 0;
        await assert.rejects(db.saveFile(target), (e) => e instanceof EdgeVecError && e.code === 'IO' &&
          /EEXIST/.test(e.message));
        assert.deepEqual(await readFile(target), before);
        assert.equal(await readFile(taken, 'utf8'), 'someone else');
        // The first name is taken, the next one is free.
        let calls = 0;
        Math.random = () => (calls++ < 4 ? 0 : random());
        await db.saveFile(target);
      } finally {
        Math.random = random;
      }
      assert.equal(await readFile(taken, 'utf8'), 'someone else');
      assert.deepEqual(new Uint8Array(await readFile(target)), db.save());
      await assertOnlyKept(dir, [`index.evx.tmp-${process.pid}-0000000000000000`]);
    });
  });

  test('concurrent saveFile calls of one target in one process all succeed and leave no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgevec-tempfiles-'));
    try {
      const dbs = await Promise.all([40, 60, 80, 100].map((rows, i) => makeIndex(rows, 50 + i)));
      const target = join(dir, 'index.evx');
      for (let round = 0; round < 10; round++) await Promise.all(dbs.map((db) => db.saveFile(target)));
      assert.deepEqual(await readdir(dir), ['index.evx']);
      const bytes = new Uint8Array(await readFile(target));
      assert.ok(dbs.some((db) => Buffer.from(db.save()).equals(Buffer.from(bytes))));
      for (const db of dbs) db.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
