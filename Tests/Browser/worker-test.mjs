// Browser test of EdgeVecWorker (dist/edgevec-worker.mjs), loaded by
// Tests/Browser/worker.html and driven by Tests/Browser/run_browser_test.py.
//
// Builds 20,000 × 384 random vectors in a worker while this page counts
// requestAnimationFrame callbacks, then the same build on the main thread
// with the same counting, and asserts that the page kept drawing during the
// first (frames at least every MAX_GAP_MS, at least MIN_FPS on average) and
// not during the second (one gap of at least MAX_GAP_MS: proof that the
// thresholds tell the two apart). Both builds must save the same bytes, and
// the worker's exact searches must equal a brute-force scan.
//
// Thresholds: a frame is due every 16.7 ms; on a loaded 2-core machine the
// worker and other processes take the cores, so a page that is free to draw
// was still allowed gaps of up to MAX_GAP_MS (400 ms, 24 frames) and an
// average of MIN_FPS (10). A build on the main thread draws nothing for its
// whole length (seconds), so it fails both by far.
import { EdgeVec, EdgeVecError } from './edgevec.mjs';
import { EdgeVecWorker } from './edgevec-worker.mjs';
import { prng } from './prng.mjs';

const N = 20000;
const DIM = 384;
const OPTIONS = { dimensions: DIM, metric: 'l2', m: 16, efConstruction: 100, seed: 7 };
const MAX_GAP_MS = 400;
const MIN_FPS = 10;

const results = (window.__results = []);
window.__done = false;

function record(name, ok, detail = '') {
  results.push({ name, ok: Boolean(ok), detail: String(detail) });
  const line = document.createElement('div');
  line.textContent = `${ok ? 'ok' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`;
  document.getElementById('log').append(line);
}

async function check(name, body) {
  try {
    record(name, true, (await body()) ?? '');
  } catch (error) {
    record(name, false, error && error.stack ? error.stack : error);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));

/**
 * Runs `build` (which may block or await) while counting animation frames:
 * frames that fired during it, the longest gap between frames around it, and
 * its wall time.
 */
async function framesDuring(build) {
  const stamps = [];
  let counting = true;
  const tick = (t) => {
    stamps.push(performance.now());
    if (counting) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  await nextFrame();
  await nextFrame();
  const t0 = performance.now();
  await build();
  const t1 = performance.now();
  await nextFrame();
  await nextFrame();
  counting = false;
  let gap = 0;
  for (let i = 1; i < stamps.length; i++) gap = Math.max(gap, stamps[i] - stamps[i - 1]);
  const during = stamps.filter((s) => s > t0 && s < t1).length;
  return { ms: t1 - t0, frames: during, gap, fps: during / ((t1 - t0) / 1000) };
}

const describe = (m) => `${(m.ms / 1000).toFixed(1)} s, ${m.frames} frames (${m.fps.toFixed(1)}/s), ` +
  `longest gap ${m.gap.toFixed(0)} ms`;

const rand = prng(2024);
const data = new Float32Array(N * DIM);
for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
const queries = new Float32Array(5 * DIM);
for (let i = 0; i < queries.length; i++) queries[i] = rand() * 2 - 1;
const copy = data.slice();   // the main-thread build's rows (the worker's move there)

function bruteForce(q, k) {
  const best = [];
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < DIM; j++) {
      const d = copy[i * DIM + j] - q[j];
      s += d * d;
    }
    best.push([s, i]);
  }
  best.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return best.slice(0, k);
}

let db, inWorker, onMain, mainIndex;
try {
  await check('build 20,000 × 384 in an EdgeVecWorker: the page keeps drawing', async () => {
    db = await EdgeVecWorker.create(OPTIONS);
    inWorker = await framesDuring(async () => {
      const ids = await db.insertBatch(data, { transfer: true });
      assert(ids.length === N && ids[N - 1] === N - 1, `ids ${ids.length}`);
    });
    assert(data.length === 0, 'the rows moved to the worker');
    assert(db.size === N, `size ${db.size}`);
    assert(inWorker.gap < MAX_GAP_MS, `longest gap between frames ${inWorker.gap.toFixed(0)} ms (limit ${MAX_GAP_MS})`);
    assert(inWorker.fps >= MIN_FPS, `${inWorker.fps.toFixed(1)} frames/s (limit ${MIN_FPS})`);
    return `in a worker: ${describe(inWorker)}`;
  });

  await check('the same build on the main thread blocks the page (the thresholds tell them apart)', async () => {
    mainIndex = await EdgeVec.create(OPTIONS);
    onMain = await framesDuring(() => {
      mainIndex.insertBatch(copy);   // synchronous: nothing else runs on this thread until it returns
    });
    assert(mainIndex.size === N, `size ${mainIndex.size}`);
    assert(onMain.gap >= MAX_GAP_MS, `longest gap ${onMain.gap.toFixed(0)} ms: the main thread did not block?`);
    assert(onMain.fps < MIN_FPS, `${onMain.fps.toFixed(1)} frames/s while blocked`);
    return `on the main thread: ${describe(onMain)}; in the worker: ${describe(inWorker)}`;
  });

  await check('both builds save the same bytes', async () => {
    const fromWorker = await db.save();
    const fromMain = mainIndex.save();
    assert(fromWorker.length === fromMain.length, `${fromWorker.length} vs ${fromMain.length} bytes`);
    for (let i = 0; i < fromMain.length; i++) assert(fromWorker[i] === fromMain[i], `byte ${i} differs`);
    mainIndex.dispose();
    return `${fromMain.length} bytes`;
  });

  await check("the worker's exact searches equal brute force", async () => {
    const k = 10;
    const batch = await db.searchBatch(queries, k, { ef: N });
    for (let q = 0; q < 5; q++) {
      const truth = bruteForce(queries.subarray(q * DIM, (q + 1) * DIM), k);
      const single = await db.search(queries.subarray(q * DIM, (q + 1) * DIM), k, { ef: N });
      assert(JSON.stringify(single) === JSON.stringify(batch[q]), `query ${q}: search and searchBatch differ`);
      for (let i = 0; i < k; i++) {
        assert(batch[q][i].id === truth[i][1], `query ${q}, rank ${i}: id ${batch[q][i].id}, expected ${truth[i][1]}`);
        assert(Math.abs(batch[q][i].distance - truth[i][0]) <= 1e-4 * (1 + truth[i][0]),
          `query ${q}, rank ${i}: distance ${batch[q][i].distance} vs ${truth[i][0]}`);
      }
    }
    const error = await db.search(new Float32Array(DIM - 1), 3).catch((e) => e);
    assert(error instanceof EdgeVecError && error.code === 'DIMENSION_MISMATCH', `error ${error}`);
    return '5 queries, k 10, ef = n; errors arrive as EdgeVecError';
  });

  await check('dispose ends the worker', async () => {
    await db.dispose();
    const error = await db.search(queries.subarray(0, DIM), 1).catch((e) => e);
    assert(error instanceof EdgeVecError && error.code === 'DISPOSED', `after dispose: ${error}`);
  });
} catch (error) {
  record('unexpected exception', false, error && error.stack ? error.stack : error);
} finally {
  window.__done = true;
}
