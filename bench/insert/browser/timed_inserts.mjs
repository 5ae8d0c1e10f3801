// The timed part of an insert-matrix run, shared by node_worker.mjs and the
// Chromium page (served beside it) so that both hosts time the same calls.

/**
 * Inserts the first `n` rows of `data` (`dim` floats each) into `db`: one
 * db.insert call per vector when `rows` is 1, else db.insertBatch with `rows`
 * rows per call (the last call takes the remainder). Returns the seconds the
 * insert calls took.
 */
export function timedInserts(db, data, n, dim, rows) {
  let t;
  if (rows === 1) {
    t = performance.now();
    for (let i = 0; i < n; i++) db.insert(data.subarray(i * dim, (i + 1) * dim));
  } else {
    t = performance.now();
    for (let i = 0; i < n; i += rows) db.insertBatch(data.subarray(i * dim, Math.min(i + rows, n) * dim));
  }
  return (performance.now() - t) / 1000;
}

/**
 * Single against batched inserts of the same rows, interleaved so that both
 * see the same machine: `single` gets rows [i, i + chunk) as one db.insert
 * call each, `batch` gets the same rows in one db.insertBatch call, and which
 * goes first alternates from chunk to chunk. Both indexes start empty with
 * the same options, so they do the same work and end identical. Returns the
 * seconds each API took in total and the number of chunks.
 */
export function interleavedInserts(single, batch, data, n, dim, chunk) {
  let singleSeconds = 0, batchSeconds = 0, chunks = 0;
  for (let i = 0; i < n; i += chunk, chunks++) {
    const end = Math.min(i + chunk, n);
    for (const which of chunks % 2 ? ['batch', 'single'] : ['single', 'batch']) {
      const t = performance.now();
      if (which === 'single') {
        for (let r = i; r < end; r++) single.insert(data.subarray(r * dim, (r + 1) * dim));
        singleSeconds += performance.now() - t;
      } else {
        batch.insertBatch(data.subarray(i * dim, end * dim));
        batchSeconds += performance.now() - t;
      }
    }
  }
  return { single_seconds: singleSeconds / 1000, batch_seconds: batchSeconds / 1000, chunks };
}

/**
 * Throws unless `a` and `b` hold the same graph, as interleavedInserts
 * promises: same size and the same top 10 for `probes` rows of `data`.
 */
export function checkSameIndex(a, b, data, n, dim, probes = 5) {
  if (a.size !== n || b.size !== n) throw new Error(`sizes ${a.size} and ${b.size}, expected ${n}`);
  for (let p = 0; p < probes; p++) {
    const row = Math.floor((p * n) / probes);
    const q = data.subarray(row * dim, (row + 1) * dim);
    const x = a.search(q, 10), y = b.search(q, 10);
    if (x.length !== y.length || x.some((hit, i) => hit.id !== y[i].id)) {
      throw new Error(`single and batch indexes differ at query row ${row}`);
    }
  }
}

// interleavedInserts, then checkSameIndex; disposes both indexes whatever happens.
export function interleaveAndCheck(single, batch, data, n, dim, chunk) {
  try {
    const result = interleavedInserts(single, batch, data, n, dim, chunk);
    checkSameIndex(single, batch, data, n, dim);
    return result;
  } finally {
    single.dispose();
    batch.dispose();
  }
}
