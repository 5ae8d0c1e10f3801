// Filtered search from JavaScript: the shared corpus (Tests/Fixtures/filters,
// also run by the Swift FilterTests) through the wasm module, and filtered
// results against a brute-force filter with exact distances on random data.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  EdgeVec, METRICS, distance, prng, randomRows, row, snapshot, throwsCode,
} from '../test-support/helpers.mjs';

const FIXTURES = new URL('../../Tests/Fixtures/filters/', import.meta.url);

/** The lines of a fixture after its comments (the last newline ends the last line). */
function lines(file) {
  const text = readFileSync(new URL(file, FIXTURES), 'utf8');
  return text.split('\n').slice(0, -1).filter((line) => !line.startsWith('#'));
}

/** rows.txt: NAME=T:VALUE fields separated by tabs; an empty line has no metadata. */
function rows() {
  return lines('rows.txt').map((line) => {
    if (line === '') return undefined;
    const metadata = {};
    for (const field of line.split('\t')) {
      const eq = field.indexOf('=');
      const name = field.slice(0, eq), kind = field[eq + 1], text = field.slice(eq + 3);
      metadata[name] = kind === 's' ? text
        : kind === 'i' ? Number(text)
          : kind === 'd' ? Number(text)
            : kind === 'b' ? text === 'true'
              : text === '' ? [] : text.split('|');
    }
    return metadata;
  });
}

/** FilterExpectation's case names (corpus.txt) and their descriptions (the error's `expected`). */
const EXPECTED = {
  condition: 'a condition (a field name, NOT or "(")',
  comparison: '=, !=, <, <=, >, >=, IN, NOT IN, BETWEEN, CONTAINS or IS',
  value: 'a value (a string, a number, TRUE or FALSE)',
  string: 'a string',
  openingParenthesis: '"("',
  closingParenthesis: '")"',
  commaOrClosingParenthesis: '"," or ")"',
  and: 'AND',
  null: 'NULL or NOT NULL',
  inAfterNot: 'IN',
  andOrEnd: 'AND, OR or the end of the filter',
  closingQuote: 'a closing \'"\'',
  escape: '\\" or \\\\ after a backslash',
  digit: 'a digit',
  finiteNumber: 'a number within the range of a double',
  shallowerNesting: 'at most 64 nested NOTs and parentheses',
  shorterFilter: 'a filter of at most 65536 bytes',
  fewerValues: 'at most 4096 values in an IN list',
};

/** Asserts an INVALID_FILTER error at `column` expecting `expected` (a case name). */
function invalidFilter(fn, column, expected, what) {
  const error = throwsCode(fn, 'INVALID_FILTER', -14);
  assert.equal(error.column, column, `${what}: column (${error.message})`);
  assert.equal(error.expected, EXPECTED[expected], `${what}: expected (${error.message})`);
  assert.ok(error.message.includes(`at column ${column}: expected ${EXPECTED[expected]}`), error.message);
  return error;
}

describe('the shared filter corpus (Tests/Fixtures/filters)', () => {
  test('every filter matches its rows or fails at its column, as in the Swift tests', async () => {
    const metadata = rows();
    assert.equal(metadata.length, 10);
    const db = await EdgeVec.create({ dimensions: 4, metric: 'l2' });
    db.insertBatch(randomRows(10, 4, 3), { metadata });
    const query = [0, 0, 0, 0];
    const corpus = lines('corpus.txt');
    assert.ok(corpus.length > 90);
    const seen = new Set();
    for (const line of corpus) {
      const tab = line.indexOf('\t');
      const [kind, a, b] = line.slice(0, tab).split(' ');
      const text = line.slice(tab + 1);
      if (kind === 'match') {
        const wanted = a === '-' ? [] : a.split(',').map(Number);
        const got = db.search(query, 10, { filter: text }).map((r) => r.id).sort((x, y) => x - y);
        assert.deepEqual(got, wanted, `filter ${JSON.stringify(text)}`);
        const compiled = db.compileFilter(text);
        assert.equal(compiled.text, text);
        const again = db.search(query, 10, { filter: compiled }).map((r) => r.id).sort((x, y) => x - y);
        assert.deepEqual(again, wanted, `compiled filter ${JSON.stringify(text)}`);
        compiled.dispose();
      } else {
        assert.equal(kind, 'error');
        assert.ok(b in EXPECTED, `unknown expectation ${b}`);
        seen.add(b);
        invalidFilter(() => db.search(query, 3, { filter: text }), Number(a), b, JSON.stringify(text));
        invalidFilter(() => db.compileFilter(text), Number(a), b, JSON.stringify(text));
      }
    }
    // Every error but the two size limits (below) has a corpus line.
    assert.deepEqual([...seen, 'shorterFilter', 'fewerValues'].sort(), Object.keys(EXPECTED).sort());
    db.dispose();
  });

  test('size limits: filter bytes and IN values', async () => {
    const db = await EdgeVec.create({ dimensions: 4, metric: 'l2' });
    const values = Array.from({ length: 4096 }, (_, i) => String(i)).join(',');
    db.compileFilter(`x IN (${values})`).dispose();
    const prefix = `x IN (${values},`;
    invalidFilter(() => db.compileFilter(`${prefix}1)`), prefix.length + 1, 'fewerValues', 'IN list');
    const long = `x = "${'a'.repeat(65536)}"`;
    invalidFilter(() => db.compileFilter(long), 65537, 'shorterFilter', 'long filter');
    // Columns count code points, not UTF-16 units: 𝄞 is one code point and two units.
    invalidFilter(() => db.compileFilter('x = "\u{1D11E}" AND'), 12, 'condition', 'astral character');
    db.dispose();
  });
});

describe('filtered search against a brute-force filter', () => {
  const N = 2000, DIM = 16;
  const base = randomRows(N, DIM, 41);
  const queries = randomRows(12, DIM, 42);
  const rand = prng(43);
  // cat: 200 values (0.5 % each); group: 10 (10 %); half: 50 %; size: uniform 0...999;
  // every 97th row has no metadata.
  const metadata = Array.from({ length: N }, (_, i) => (i % 97 === 96 ? undefined : {
    cat: `c${i % 200}`, group: i % 10, half: i % 2 === 0, size: Math.floor(rand() * 1000),
    tags: i % 3 === 0 ? ['three', `g${i % 10}`] : [],
  }));
  const FILTERS = [
    ['cat = "c7"', (m) => m?.cat === 'c7'],
    ['cat IN ("c1", "c2") AND size < 900', (m) => (m?.cat === 'c1' || m?.cat === 'c2') && m.size < 900],
    ['group = 3', (m) => m?.group === 3],
    ['group < 3 AND NOT half = true', (m) => m !== undefined && m.group < 3 && !m.half],
    ['tags CONTAINS "three" AND size BETWEEN 100 AND 600', (m) => m?.tags.includes('three') && m.size >= 100 && m.size <= 600],
    ['half = true', (m) => m?.half === true],
    ['size >= 500 OR cat IS NULL', (m) => m === undefined || m.size >= 500],
    ['group = 11', () => false],
  ];

  for (const metric of METRICS) {
    test(`${metric}: exactly min(k, matches), all matching, exact with ef >= size, recall at ef 24`, async () => {
      const db = await EdgeVec.create({ dimensions: DIM, metric, m: 8, efConstruction: 100, seed: 7 });
      db.insertBatch(base, { metadata });
      for (const [text, holds] of FILTERS) {
        const matching = [];
        for (let i = 0; i < N; i++) if (holds(metadata[i])) matching.push(i);
        let hits = 0, wanted = 0;
        for (let q = 0; q < queries.length / DIM; q++) {
          const query = row(queries, DIM, q);
          const truth = matching.map((id) => ({ id, distance: distance(metric, row(base, DIM, id), query) }))
            .sort((a, b) => a.distance - b.distance);
          for (const k of [1, 10, 50]) {
            const want = Math.min(k, matching.length);
            const exact = db.search(query, k, { filter: text, ef: N });
            assert.equal(exact.length, want, `${text}, k ${k}, ef ${N}: min(k, ${matching.length} matches)`);
            for (let j = 0; j < want; j++) {
              assert.ok(holds(metadata[exact[j].id]), `${text}: result ${exact[j].id} matches`);
              const d = truth[j].distance;
              assert.ok(Math.abs(exact[j].distance - d) <= 1e-4 * (1 + Math.abs(d)),
                `${text}, k ${k}: distance ${j} is ${exact[j].distance}, brute force ${d}`);
            }
            // ef 24: the beam is max(24, k), so more than 24 × 2M = 384 matches (k 1, 10) or
            // 50 × 16 = 800 (k 50) take the graph walk, fewer an exact scan (docs/FILTERS.md).
            const approximate = db.search(query, k, { filter: text, ef: 24 });
            assert.equal(approximate.length, want, `${text}, k ${k}: min(k, ${matching.length} matches)`);
            const top = new Set(truth.slice(0, want).map((r) => r.id));
            for (const r of approximate) {
              assert.ok(holds(metadata[r.id]), `${text}: result ${r.id} matches`);
              if (top.has(r.id)) hits += 1;
            }
            for (let j = 1; j < approximate.length; j++) {
              assert.ok(approximate[j].distance >= approximate[j - 1].distance, 'nearest first');
            }
            wanted += want;
          }
        }
        if (process.env.EDGEVEC_PRINT_RECALL) console.log(metric, text, matching.length, hits / wanted);
        if (wanted > 0) assert.ok(hits / wanted >= 0.95, `${metric} ${text}: recall ${hits / wanted}`);
      }
      db.dispose();
    });
  }

  test('results carry their metadata with includeMetadata, and only then', async () => {
    const db = await EdgeVec.create({ dimensions: DIM, metric: 'l2' });
    db.insertBatch(base.subarray(0, 300 * DIM), { metadata: metadata.slice(0, 300) });
    const hits = db.search(row(queries, DIM, 0), 20, { filter: 'group = 4 OR cat IS NULL', includeMetadata: true });
    assert.equal(hits.length, 20);
    for (const hit of hits) assert.deepEqual(hit.metadata, metadata[hit.id] ?? {});
    assert.ok(hits.some((hit) => hit.metadata.group === 4));
    for (const hit of db.search(row(queries, DIM, 0), 5, { includeMetadata: false })) assert.equal(hit.metadata, undefined);
    const all = db.search(row(queries, DIM, 0), 5, { includeMetadata: true });
    for (const hit of all) assert.deepEqual(hit.metadata, metadata[hit.id] ?? {});
    throwsCode(() => db.search(row(queries, DIM, 0), 5, { includeMetadata: 1 }), 'INVALID_OPTION', -5);
    db.dispose();
  });
});

describe('filter errors and compiled filters', () => {
  test('a bad filter is INVALID_FILTER with its column and leaves the index unchanged', async () => {
    const db = await EdgeVec.create({ dimensions: 4, metric: 'cosine' });
    db.insertBatch(randomRows(50, 4, 9), { metadata: Array.from({ length: 50 }, (_, i) => ({ n: i })) });
    const q = randomRows(2, 4, 10);
    const before = snapshot(db, q);
    const error = invalidFilter(() => db.search(row(q, 4, 0), 5, { filter: 'n > 3 AND (n < 9' }), 17,
      'closingParenthesis', 'unclosed');
    assert.ok(error.message.startsWith('search: invalid filter at column 17'), error.message);
    invalidFilter(() => db.compileFilter(''), 1, 'condition', 'empty');
    assert.deepEqual(snapshot(db, q), before);
    // The last string filter stays compiled; a failing one does not replace it.
    assert.equal(db.search(row(q, 4, 0), 50, { filter: 'n < 5' }).length, 5);
    invalidFilter(() => db.search(row(q, 4, 0), 50, { filter: 'n <' }), 4, 'value', 'no value');
    assert.equal(db.search(row(q, 4, 0), 50, { filter: 'n < 5' }).length, 5);
    throwsCode(() => db.search(row(q, 4, 0), 5, { filter: 42 }), 'INVALID_OPTION', -5);
    throwsCode(() => db.search(row(q, 4, 0), 5, { filter: null }), 'INVALID_OPTION', -5);
    throwsCode(() => db.compileFilter(undefined), 'INVALID_ARGUMENT', -5);
    db.dispose();
  });

  test('compiled filters belong to their index and can be disposed', async () => {
    const a = await EdgeVec.create({ dimensions: 4, metric: 'l2' });
    const b = await EdgeVec.create({ dimensions: 4, metric: 'l2' });
    const meta = Array.from({ length: 20 }, (_, i) => ({ n: i }));
    a.insertBatch(randomRows(20, 4, 1), { metadata: meta });
    b.insertBatch(randomRows(20, 4, 2), { metadata: meta });
    const f = a.compileFilter('n >= 15');
    assert.equal(a.search([0, 0, 0, 0], 10, { filter: f }).length, 5);
    throwsCode(() => b.search([0, 0, 0, 0], 10, { filter: f }), 'INVALID_ARGUMENT', -5);
    assert.equal(f.disposed, false);
    f.dispose();
    f.dispose();
    assert.equal(f.disposed, true);
    throwsCode(() => a.search([0, 0, 0, 0], 10, { filter: f }), 'DISPOSED', -20);
    const g = a.compileFilter('n < 2');
    a.dispose();
    assert.equal(g.disposed, true);
    g.dispose();
    throwsCode(() => a.compileFilter('n < 2'), 'DISPOSED', -20);
    b.dispose();
  });
});
