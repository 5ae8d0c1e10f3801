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
