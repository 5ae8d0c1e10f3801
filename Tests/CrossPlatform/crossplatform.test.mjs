// Cross-platform persistence: an index saved by the native CLI loads in wasm
// (Node) and one saved by wasm loads in the CLI, with identical search results.
//
//   EDGEVEC_CLI=.build-cli/release/edgevec EDGEVEC_DIST=dist EDGEVEC_WORK=.build-work/crossplatform \
//       node --test Tests/CrossPlatform/
//
// (`make test-crossplatform` builds the CLI and the wasm module first.)
//
// For each data set and metric:
//   CLI → wasm: `edgevec build` writes an index file; `EdgeVec.load` opens its
//     bytes in wasm (both allocator variants); every query's ids equal, row by
//     row, the ids `edgevec search --output` wrote.
//   wasm → CLI: the same vectors inserted in wasm with the same parameters,
//     `db.save()` written to a file; `edgevec info` reads it back (kind,
//     metric, dimension, count, M, efConstruction, efSearch, seed) and
//     `edgevec search` returns, row by row, the ids wasm's own search of the
//     saved index returns (opened fresh, as the CLI opens it). Against the
//     index object that did the building, ids must agree up to the order of
//     hits at equal distance (see the tie test at the end).
//   metadata: `edgevec build --metadata` and wasm's insertBatch with the same
//     metadata write the same bytes; filtered searches agree on both files.
//
// Data: the "exact" sets use multiples of 1/4 in [-2, 2], so every l2 and dot
// distance is exact in float32 whatever the kernel (native AVX/FMA or wasm
// simd128): distances must be bit-identical and the index files built on
// either side byte-identical. The "float" sets are ordinary float data (sums
// of uniforms); distances may differ in the last bits between kernels, so
// the test requires identical ids and distances within 1e-5 and only reports
// whether the index files are byte-identical.
//
// Everything is deterministic (fixed-seed PRNG, no Math.random/log/cos).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { prng } from '../../js/test-support/prng.mjs';

const root = resolve(new URL('../..', import.meta.url).pathname);
const cli = resolve(root, process.env.EDGEVEC_CLI ?? '.build-cli/release/edgevec');
const dist = resolve(root, process.env.EDGEVEC_DIST ?? 'dist');
const work = resolve(root, process.env.EDGEVEC_WORK ?? '.build-work/crossplatform');

for (const [what, path] of [['CLI', cli], ['JS wrapper', join(dist, 'edgevec.mjs')]]) {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path} (run make cli / make wasm)`);
}
const { EdgeVec, EdgeVecError } = await import(pathToFileURL(join(dist, 'edgevec.mjs')).href);
mkdirSync(work, { recursive: true });

// ---------------------------------------------------------------- data

/** Clustered rows; `exact`: values are multiples of 1/4 in [-2, 2]. */
function generate({ rows, dim, seed, exact, clusters = 12 }) {
  const rand = prng(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => rand() * 2 - 1));
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = centres[Math.floor(rand() * clusters)];
    for (let i = 0; i < dim; i++) {
      const noise = (rand() + rand() + rand() + rand() - 2) * 0.5; // roughly normal, σ ≈ 0.29
      const x = c[i] + noise;
      out[r * dim + i] = exact ? Math.max(-8, Math.min(8, Math.round(x * 4))) / 4 : x;
    }
  }
  return out;
}

function writeFvecs(path, data, dim) {
  const rows = data.length / dim;
  const buf = Buffer.alloc(rows * (4 + 4 * dim));
  for (let r = 0; r < rows; r++) {
    const o = r * (4 + 4 * dim);
    buf.writeInt32LE(dim, o);
    for (let i = 0; i < dim; i++) buf.writeFloatLE(data[r * dim + i], o + 4 + 4 * i);
  }
  writeFileSync(path, buf);
}

function readIvecs(path) {
  const buf = readFileSync(path);
  const rows = [];
  for (let o = 0; o < buf.length;) {
    const n = buf.readInt32LE(o);
    const row = [];
    for (let i = 0; i < n; i++) row.push(buf.readInt32LE(o + 4 + 4 * i));
    rows.push(row);
    o += 4 + 4 * n;
  }
  return rows;
}

function run(args) {
  const output = execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return output;
}

function parseInfo(text) {
  return Object.fromEntries(text.trim().split('\n').map((line) => {
    const i = line.indexOf(': ');
    return [line.slice(0, i), line.slice(i + 2)];
  }));
}

/** Ids (and distances) of every query, from a wasm index. */
function searchAll(db, queries, dim, k, ef) {
  const rows = [];
  for (let q = 0; q < queries.length / dim; q++) {
    rows.push(db.search(queries.subarray(q * dim, (q + 1) * dim), k, { ef }));
  }
  return rows;
}

function compareRows(label, expectedIds, wasmRows, { exact, expectedDistances }) {
  assert.equal(wasmRows.length, expectedIds.length, `${label}: number of result rows`);
  for (let q = 0; q < expectedIds.length; q++) {
    const ids = wasmRows[q].map((r) => r.id);
    assert.deepEqual(ids, expectedIds[q], `${label}: ids of query ${q}`);
    if (expectedDistances) {
      const got = wasmRows[q].map((r) => r.distance);
      const want = expectedDistances[q];
      for (let j = 0; j < got.length; j++) {
        if (exact) assert.ok(got[j] === want[j], `${label}: query ${q} result ${j}: distance ${got[j]} vs ${want[j]}`);
        else assert.ok(Math.abs(got[j] - want[j]) <= 1e-5 * (1 + Math.abs(want[j])),
          `${label}: query ${q} result ${j}: distance ${got[j]} vs ${want[j]}`);
      }
    }
  }
}

/** The distance from query row q to base row id, in double. */
function distanceOf(base, queries, c, q, id) {
  let s = 0, na = 0, nb = 0;
  for (let i = 0; i < c.dim; i++) {
    const a = base[id * c.dim + i];
    const b = queries[q * c.dim + i];
    if (c.metric === 'l2') s += (a - b) * (a - b);
    else { s += a * b; na += a * a; nb += b * b; }
  }
  if (c.metric === 'l2') return s;
  if (c.metric === 'dot') return -s;
  return 1 - s / Math.sqrt(na * nb);
}

/**
 * Compares the CLI's ids with wasm's hits allowing only reorderings among
 * hits at equal distance: the distance sequences agree (exactly for exact
 * data, else within 1e-5), and ids present on one side only lie at the k-th
 * distance. Returns how many rows differ at all.
 */
function compareUpToTies(label, cliIds, wasmRows, base, queries, c) {
  let differing = 0;
  const close = (x, y) => (c.exact ? x === y : Math.abs(x - y) <= 1e-5 * (1 + Math.abs(y)));
  for (let q = 0; q < cliIds.length; q++) {
    const ids = cliIds[q];
    const hits = wasmRows[q];
    assert.equal(hits.length, ids.length, `${label}: query ${q}: result count`);
    if (hits.every((h, j) => h.id === ids[j])) continue;
    differing++;
    const cliDistances = ids.map((id) => distanceOf(base, queries, c, q, id));
    for (let j = 0; j < ids.length; j++) {
      assert.ok(close(hits[j].distance, cliDistances[j]),
        `${label}: query ${q} rank ${j}: wasm ${hits[j].id} at ${hits[j].distance}, CLI ${ids[j]} at ${cliDistances[j]}`);
    }
    const last = hits[hits.length - 1].distance;
    const wasmIds = new Set(hits.map((h) => h.id));
    const cliSet = new Set(ids);
    for (const h of hits) {
      if (!cliSet.has(h.id)) assert.ok(close(h.distance, last), `${label}: query ${q}: wasm-only id ${h.id} is not a tie`);
    }
    for (const id of ids) {
      if (!wasmIds.has(id)) {
        assert.ok(close(distanceOf(base, queries, c, q, id), last), `${label}: query ${q}: CLI-only id ${id} is not a tie`);
      }
    }
  }
  return differing;
}

/** Exact data: wasm's distances equal the exact ones computed here in double. */
function checkExactDistances(rows, base, queries, c) {
  for (let q = 0; q < rows.length; q++) {
    for (const { id, distance } of rows[q]) {
      let s = 0;
      for (let i = 0; i < c.dim; i++) {
        const a = base[id * c.dim + i];
        const b = queries[q * c.dim + i];
        s += c.metric === 'l2' ? (a - b) * (a - b) : a * b;
      }
      const want = c.metric === 'l2' ? s : -s;
      assert.ok(distance === want, `query ${q}, id ${id}: wasm distance ${distance}, exact ${want}`); // 0 === -0
    }
  }
}

// ---------------------------------------------------------------- cases

const K = 10;
const EF = 48;
// efSearch is passed on both sides so the stored header field agrees.
const params = { m: 12, efConstruction: 100, efSearch: 64, seed: 7 };

const cases = [
  { name: 'l2-exact', metric: 'l2', exact: true, rows: 3000, queries: 120, dim: 32, seed: 11 },
  { name: 'dot-exact', metric: 'dot', exact: true, rows: 2000, queries: 100, dim: 24, seed: 12 },
  { name: 'cosine-float', metric: 'cosine', exact: false, rows: 3000, queries: 120, dim: 48, seed: 13 },
  { name: 'l2-float', metric: 'l2', exact: false, rows: 2000, queries: 100, dim: 20, seed: 14 },
];

let checkedRows = 0;

for (const c of cases) {
  const dir = join(work, c.name);
  mkdirSync(dir, { recursive: true });
  const base = generate({ rows: c.rows, dim: c.dim, seed: c.seed, exact: c.exact });
  const queries = generate({ rows: c.queries, dim: c.dim, seed: c.seed + 1000, exact: c.exact });
  const baseFile = join(dir, 'base.fvecs');
  const queryFile = join(dir, 'query.fvecs');
  writeFvecs(baseFile, base, c.dim);
  writeFvecs(queryFile, queries, c.dim);
  const cliIndex = join(dir, 'cli.edgevec');
  const wasmIndex = join(dir, 'wasm.edgevec');
  let cliBytes;

  test(`${c.name}: CLI build → wasm load: identical search results`, async () => {
    run(['build', '--input', baseFile, '--output', cliIndex, '--metric', c.metric, '--m', String(params.m),
      '--ef-construction', String(params.efConstruction), '--ef-search', String(params.efSearch),
      '--seed', String(params.seed), '--threads', '1', '--quiet']);
    const cliResults = join(dir, 'cli-results.ivecs');
    run(['search', '--index', cliIndex, '--queries', queryFile, '--k', String(K), '--ef', String(EF),
      '--output', cliResults, '--quiet']);
    const expected = readIvecs(cliResults);
    assert.equal(expected.length, c.queries);
    cliBytes = new Uint8Array(readFileSync(cliIndex));

    for (const allocator of ['dlmalloc', 'arena']) {
      const db = await EdgeVec.load(cliBytes, { allocator });
      try {
        assert.equal(db.size, c.rows, `${allocator}: size`);
        assert.equal(db.dimensions, c.dim, `${allocator}: dimensions`);
        assert.equal(db.metric, c.metric, `${allocator}: metric`);
        const rows = searchAll(db, queries, c.dim, K, EF);
        compareRows(`CLI index in wasm (${allocator})`, expected, rows, c);
        if (c.exact) checkExactDistances(rows, base, queries, c);
        checkedRows += c.queries;
        // wasm saves the loaded index back to the same bytes.
        assert.deepEqual(db.save(), cliBytes, `${allocator}: save() of the loaded CLI index`);
      } finally {
        db.dispose();
      }
    }
  });

  test(`${c.name}: wasm build → CLI load: identical search results`, async () => {
    const db = await EdgeVec.create({ dimensions: c.dim, metric: c.metric, ...params });
    let builtRows, wasmBytes;
    try {
      const ids = db.insertBatch(base);
      assert.equal(ids.length, c.rows);
      assert.equal(ids[0], 0);
      assert.equal(ids[c.rows - 1], c.rows - 1);
      builtRows = searchAll(db, queries, c.dim, K, EF);
      wasmBytes = db.save();
      writeFileSync(wasmIndex, wasmBytes);
    } finally {
      db.dispose();
    }
    // wasm's own search of the saved index, opened fresh as the CLI opens it.
    const reopened = await EdgeVec.load(wasmBytes);
    let wasmRows;
    try {
      wasmRows = searchAll(reopened, queries, c.dim, K, EF);
    } finally {
      reopened.dispose();
    }

    const info = parseInfo(run(['info', '--index', wasmIndex]));
    assert.equal(info.kind, 'hnsw');
    assert.equal(info.metric, c.metric);
    assert.equal(Number(info.dimension), c.dim);
    assert.equal(Number(info.count), c.rows);
    assert.equal(Number(info.M), params.m);
    assert.equal(Number(info.efConstruction), params.efConstruction);
    assert.equal(Number(info.efSearch), params.efSearch);
    assert.equal(info.seed, String(params.seed));

    const cliResults = join(dir, 'wasm-index-cli-results.ivecs');
    run(['search', '--index', wasmIndex, '--queries', queryFile, '--k', String(K), '--ef', String(EF),
      '--output', cliResults, '--quiet']);
    const cliIds = readIvecs(cliResults);
    compareRows('wasm index in the CLI', cliIds, wasmRows, { exact: c.exact });
    checkedRows += c.queries;

    // The index that built it (its scratch memory shaped by the inserts)
    // agrees up to the order of hits at equal distance (see the tie test below).
    const reordered = compareUpToTies('wasm index in the CLI vs the wasm index that built it',
      cliIds, builtRows, base, queries, c);
    if (reordered > 0) console.log(`# ${c.name}: ${reordered} rows differ only among equal-distance hits`);

    // Exact arithmetic: both sides build the very same graph, byte for byte.
    assert.ok(cliBytes, 'the CLI index of this case was built');
    const identical = Buffer.compare(Buffer.from(wasmBytes), Buffer.from(cliBytes)) === 0;
    if (c.exact) {
      assert.ok(identical, 'wasm and the CLI build byte-identical indexes from the same exact data and parameters');
    } else {
      console.log(`# ${c.name}: index files built by wasm and the CLI are ${identical ? '' : 'not '}byte-identical`);
    }
  });
}

// Removals: `edgevec remove` and wasm's remove() of the same ids, in the same
// order, from the same CLI-built file; they cross several 1/64 batches, so
// both sides consolidate and both leave pending slots. Then wasm goes on:
// updates, inserts with ids of its choosing (free slots reused), and the CLI
// searches what wasm saved.
for (const c of cases) {
  const dir = join(work, c.name);
  test(`${c.name}: removals and reused slots: the same bytes and results natively and in wasm`, async () => {
    const base = generate({ rows: c.rows, dim: c.dim, seed: c.seed, exact: c.exact });
    const queries = generate({ rows: c.queries, dim: c.dim, seed: c.seed + 1000, exact: c.exact });
    const queryFile = join(dir, 'query.fvecs');
    const cliIndex = join(dir, 'cli.edgevec');
    const removedFile = join(dir, 'cli-removed.edgevec');
    const rand = prng(c.seed + 2000);
    const gone = new Set();
    while (gone.size < Math.floor(c.rows / 9)) gone.add(Math.floor(rand() * c.rows));
    const order = [...gone];
    const summary = run(['remove', '--index', cliIndex, '--output', removedFile, ...order.map(String)]);
    assert.match(summary, new RegExp(`removed ${order.length} vectors: ${c.rows - order.length} live`));
    const info = parseInfo(run(['info', '--index', removedFile]));
    assert.equal(Number(info.count), c.rows - order.length);
    assert.ok(Number(info.removed) > 0, 'pending slots are saved');
    const cliBytes = new Uint8Array(readFileSync(removedFile));

    const db = await EdgeVec.load(new Uint8Array(readFileSync(cliIndex)));
    let wasmBytes;
    try {
      for (const id of order) assert.equal(db.remove(id), true, `remove ${id}`);
      assert.equal(db.size, c.rows - order.length);
      wasmBytes = db.save();
      const identical = Buffer.compare(Buffer.from(wasmBytes), Buffer.from(cliBytes)) === 0;
      if (c.exact) assert.ok(identical, 'wasm and the CLI remove to byte-identical files');
      else console.log(`# ${c.name}: after removals the files are ${identical ? '' : 'not '}byte-identical`);

      // The CLI searches the index with removals as wasm does; no removed id comes back.
      const cliResults = join(dir, 'cli-removed-results.ivecs');
      run(['search', '--index', removedFile, '--queries', queryFile, '--k', String(K), '--ef', String(EF),
        '--output', cliResults, '--quiet']);
      const cliIds = readIvecs(cliResults);
      const reopened = await EdgeVec.load(cliBytes);
      try {
        compareRows('CLI-removed index in wasm', cliIds, searchAll(reopened, queries, c.dim, K, EF), c);
      } finally {
        reopened.dispose();
      }
      for (const row of cliIds) for (const id of row) assert.ok(!gone.has(id), `removed id ${id} returned`);
      checkedRows += c.queries;

      // wasm goes on: updates and inserts under its own ids (free slots reused); the CLI reads it.
      const live = [...Array(c.rows).keys()].filter((i) => !gone.has(i));
      for (let i = 0; i < 40; i++) db.update(live[i * 7], base.subarray(((i * 13) % c.rows) * c.dim, ((i * 13) % c.rows + 1) * c.dim));
      for (let i = 0; i < 60; i++) db.insert(base.subarray(order[i] * c.dim, (order[i] + 1) * c.dim), { id: 1_000_000 + i });
      const edited = db.save();
      const editedFile = join(dir, 'wasm-edited.edgevec');
      writeFileSync(editedFile, edited);
      assert.equal(Number(parseInfo(run(['info', '--index', editedFile])).count), c.rows - order.length + 60);
      const editedResults = join(dir, 'wasm-edited-results.ivecs');
      run(['search', '--index', editedFile, '--queries', queryFile, '--k', String(K), '--ef', String(EF),
        '--output', editedResults, '--quiet']);
      const again = await EdgeVec.load(edited);
      try {
        compareRows('wasm-edited index in the CLI', readIvecs(editedResults), searchAll(again, queries, c.dim, K, EF),
          { exact: c.exact });
        assert.deepEqual(again.save(), edited, 'the edited index saves back to its bytes');
      } finally {
        again.dispose();
      }
      checkedRows += c.queries;
    } finally {
      db.dispose();
    }
  });
}

// Metadata and filters (issue 21): `edgevec build --metadata` and wasm's
// insertBatch with the same rows' metadata write the same bytes (exact data);
// each side loads the other's file and filtered searches (scan and walk)
// return the same ids as `edgevec search --filter`.
test('metadata and filters: the same bytes and filtered results natively and in wasm', async () => {
  const c = { metric: 'l2', exact: true, rows: 2500, queries: 60, dim: 16, seed: 31 };
  const dir = join(work, 'metadata');
  mkdirSync(dir, { recursive: true });
  const base = generate({ rows: c.rows, dim: c.dim, seed: c.seed, exact: true });
  const queries = generate({ rows: c.queries, dim: c.dim, seed: c.seed + 1000, exact: true });
  writeFvecs(join(dir, 'base.fvecs'), base, c.dim);
  writeFvecs(join(dir, 'query.fvecs'), queries, c.dim);
  // Columns the TSV typing and JS values agree on: strings (some cells empty),
  // integers, non-integral doubles, bools. Field order is the header's.
  const rand = prng(c.seed + 7);
  const metadata = [];
  const lines = ['group\tsize\tratio\tflag'];
  for (let r = 0; r < c.rows; r++) {
    const m = {};
    const cells = ['', '', '', ''];
    if (rand() < 0.9) { m.group = `g${Math.floor(rand() * rand() * 20)}`; cells[0] = m.group; }
    m.size = Math.floor(rand() * 1000) - 200; cells[1] = String(m.size);
    if (rand() < 0.5) { m.ratio = Math.floor(rand() * 100) + 0.25; cells[2] = String(m.ratio); }
    if (rand() < 0.7) { m.flag = rand() < 0.5; cells[3] = String(m.flag); }
    metadata.push(m);
    lines.push(cells.join('\t'));
  }
  writeFileSync(join(dir, 'meta.tsv'), lines.join('\n') + '\n');
  const cliIndex = join(dir, 'cli.edgevec');
  run(['build', '--input', join(dir, 'base.fvecs'), '--metadata', join(dir, 'meta.tsv'), '--output', cliIndex,
    '--metric', c.metric, '--m', String(params.m), '--ef-construction', String(params.efConstruction),
    '--ef-search', String(params.efSearch), '--seed', String(params.seed), '--threads', '1', '--quiet']);
  const cliBytes = new Uint8Array(readFileSync(cliIndex));

  const db = await EdgeVec.create({ dimensions: c.dim, metric: c.metric, ...params });
  try {
    db.insertBatch(base, { metadata });
    const wasmBytes = db.save();
    assert.equal(wasmBytes.length, cliBytes.length, 'file sizes');
    assert.ok(Buffer.from(wasmBytes).equals(Buffer.from(cliBytes)), 'wasm and the CLI write the same bytes');
    writeFileSync(join(dir, 'wasm.edgevec'), wasmBytes);
  } finally {
    db.dispose();
  }

  const filters = ['group = "g0"', 'group IN ("g1", "g2") AND size < 300', 'size >= 0',
    'flag = true OR ratio > 50', 'NOT group = "g0" AND flag IS NULL', 'group = "missing"'];
  const loaded = await EdgeVec.load(new Uint8Array(readFileSync(join(dir, 'wasm.edgevec'))));
  try {
    for (let r = 0; r < c.rows; r += 97) assert.deepEqual(loaded.getMetadata(r), metadata[r], `metadata of ${r}`);
    for (const filter of filters) {
      for (const file of ['cli.edgevec', 'wasm.edgevec']) {
        const out = join(dir, 'results.ivecs');
        run(['search', '--index', join(dir, file), '--queries', join(dir, 'query.fvecs'), '--k', String(K),
          '--ef', String(EF), '--filter', filter, '--output', out, '--quiet']);
        const expected = readIvecs(out).map((row) => row.filter((id) => id >= 0));
        const rows = [];
        for (let q = 0; q < c.queries; q++) {
          rows.push(loaded.search(queries.subarray(q * c.dim, (q + 1) * c.dim), K, { ef: EF, filter }));
        }
        compareRows(`${filter} (${file})`, expected, rows, { exact: true });
        checkedRows += c.queries;
      }
    }
  } finally {
    loaded.dispose();
  }
});

// With equal distances at the k-th place, which ids come back must depend on
// the index and the query only, never on earlier searches (the core orders
// candidates by distance, then id, and sizes its beam from ef alone).
test('search results do not depend on earlier searches (ties at the k-th distance)',
  async () => {
    const c = cases[0];
    const bytes = new Uint8Array(readFileSync(join(work, c.name, 'cli.edgevec')));
    const queries = generate({ rows: c.queries, dim: c.dim, seed: c.seed + 1000, exact: c.exact });
    const first = await EdgeVec.load(bytes);
    const second = await EdgeVec.load(bytes);
    try {
      second.search(queries.subarray(0, c.dim), K, { ef: 400 });   // grows the scratch
      for (let q = 0; q < c.queries; q++) {
        const query = queries.subarray(q * c.dim, (q + 1) * c.dim);
        assert.deepEqual(second.search(query, K, { ef: EF }).map((h) => h.id),
          first.search(query, K, { ef: EF }).map((h) => h.id), `query ${q}`);
      }
    } finally {
      first.dispose();
      second.dispose();
    }
  });

test('wasm rejects a corrupted CLI index with EdgeVecError', async () => {
  const bytes = new Uint8Array(readFileSync(join(work, cases[0].name, 'cli.edgevec')));
  bytes[bytes.length >> 1] ^= 0x08;
  await assert.rejects(async () => EdgeVec.load(bytes), (error) => {
    assert.ok(error instanceof EdgeVecError, `an EdgeVecError, got ${error}`);
    assert.equal(error.code, 'CORRUPT');
    assert.equal(error.wasmCode, -8);
    return true;
  });
});

test('summary', () => {
  assert.ok(checkedRows > 0);
  console.log(`# compared ${checkedRows} result rows across native and wasm`);
});
