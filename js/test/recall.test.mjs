// Recall@10 ≥ 0.95 on generated clustered data, every metric, both variants,
// with the default efSearch (64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOCATORS, EdgeVec, METRICS, clustered, recall } from '../test-support/helpers.mjs';

// Noise comparable to the spread of the centres: neighbours are not trivial (≈ 0.999 here).
const data = clustered({ count: 8000, queries: 100, dim: 64, clusters: 16, spread: 1.0, seed: 41 });

for (const allocator of ALLOCATORS) {
  for (const metric of METRICS) {
    test(`recall@10 ≥ 0.95 (${metric}, ${allocator})`, async (t) => {
      const db = await EdgeVec.create({ dimensions: data.dim, metric, allocator });
      db.insertBatch(data.base);
      const r = recall(db, metric, data.base, data.queries, data.dim, 10, undefined);
      t.diagnostic(`recall@10 = ${r.toFixed(4)}`);
      assert.ok(r >= 0.95, `recall@10 ${r}`);
      db.dispose();
    });
  }
}
