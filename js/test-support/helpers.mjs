// Shared helpers for js/test/*.test.mjs (kept outside js/test/ so that
// `node --test js/test/` does not run this file as a test).
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { prng } from './prng.mjs';

/** The dist directory under test: $EDGEVEC_DIST (set by `make test-js`) or ./dist. */
export const DIST = resolve(process.env.EDGEVEC_DIST ?? new URL('../../dist', import.meta.url).pathname);
export const MODULE_URL = pathToFileURL(`${DIST}/edgevec.mjs`).href;
export const { EdgeVec, EdgeVecError } = await import(MODULE_URL);

export const ALLOCATORS = ['dlmalloc', 'arena'];
export const METRICS = ['l2', 'cosine', 'dot'];

/** Deterministic uniform floats in [0, 1) (mulberry32). */
export { prng };

/** `rows` × `dim` uniform values in [-1, 1). */
export function randomRows(rows, dim, seed) {
  const rand = prng(seed);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = rand() * 2 - 1;
  return out;
}

/** Standard normal variates (Box–Muller). */
function gaussian(rand) {
  const u = 1 - rand(), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Clustered data: `clusters` random centres, points = centre + noise; queries
 * drawn the same way (not from the base set).
 */
export function clustered({ count, queries, dim, clusters, spread = 0.15, seed = 1 }) {
  const rand = prng(seed);
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(rand);
  const draw = (n) => {
    const out = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(rand() * clusters);
      for (let j = 0; j < dim; j++) out[i * dim + j] = centres[c * dim + j] + spread * gaussian(rand);
    }
    return out;
  };
  return { base: draw(count), queries: draw(queries), dim };
}

export const row = (data, dim, i) => data.subarray(i * dim, (i + 1) * dim);

/** The core's distance in float64: l2 squared, cosine 1 − cos, dot −inner product. */
export function distance(metric, a, b) {
  let dot = 0, na = 0, nb = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    l2 += (a[i] - b[i]) ** 2;
  }
  if (metric === 'l2') return l2;
  if (metric === 'dot') return -dot;
  return 1 - dot / Math.sqrt(na * nb);
}

/** Exact k nearest: [{ id, distance }] by ascending distance (ties by id). */
export function bruteForce(metric, base, dim, query, k) {
  const n = base.length / dim;
  const all = [];
  for (let i = 0; i < n; i++) all.push({ id: i, distance: distance(metric, row(base, dim, i), query) });
  all.sort((a, b) => a.distance - b.distance || a.id - b.id);
  return all.slice(0, k);
}

/** Mean recall@k of `db` (with `ef`) against brute force over all queries. */
export function recall(db, metric, base, queries, dim, k, ef) {
  let hits = 0;
  const q = queries.length / dim;
  for (let i = 0; i < q; i++) {
    const truth = new Set(bruteForce(metric, base, dim, row(queries, dim, i), k).map((r) => r.id));
    for (const r of db.search(row(queries, dim, i), k, { ef })) hits += truth.has(r.id) ? 1 : 0;
  }
  return hits / (q * k);
}

/** Everything observable about an index: size, bytes, and results for some queries. */
export function snapshot(db, queries) {
  const dim = db.dimensions;
  const results = [];
  for (let i = 0; i < queries.length / dim; i++) results.push(db.search(row(queries, dim, i), 5));
  return { size: db.size, bytes: Buffer.from(db.save()).toString('base64'), results };
}

/** Asserts that `fn` throws an EdgeVecError with this code (and wasmCode when given). */
export function throwsCode(fn, code, wasmCode) {
  let caught;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  checkError(caught, code, wasmCode);
  return caught;
}

/** Like `throwsCode` for a function returning a promise. */
export async function rejectsCode(fn, code, wasmCode) {
  let caught;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  checkError(caught, code, wasmCode);
  return caught;
}

function checkError(error, code, wasmCode) {
  assert.ok(error !== undefined, `expected an EdgeVecError ${code}, but nothing was thrown`);
  assert.ok(error instanceof EdgeVecError, `expected an EdgeVecError ${code}, got ${error?.stack ?? error}`);
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'EdgeVecError');
  assert.equal(error.code, code, `code (message: ${error.message})`);
  if (wasmCode !== undefined) assert.equal(error.wasmCode, wasmCode, `wasmCode of ${code}`);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as the index format uses: to craft headers with valid checksums. */
export function crc32c(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (c >>> 8) ^ CRC32C_TABLE[(c ^ bytes[i]) & 0xff];
  return (c ^ 0xffffffff) >>> 0;
}
