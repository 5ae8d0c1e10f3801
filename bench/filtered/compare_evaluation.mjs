// Filter evaluation speed of two builds of the wasm module, paired: every
// search compiles its filter anew, so the bitmap is evaluated each time
// (20,000 slots, 16-d, seven filter kinds). Prints each build's median µs per
// search and the median of the per-pass ratios (second ÷ first) with their range.
//
//   make wasm DIST=/tmp/a   (at the old commit)    make wasm DIST=/tmp/b
//   node bench/filtered/compare_evaluation.mjs /tmp/a /tmp/b
const dists = process.argv.slice(2).map((d) => new URL(d.replace(/\/?$/, '/'), 'file://' + process.cwd() + '/').href);
if (dists.length !== 2) { console.error('usage: node compare_evaluation.mjs DIST_A DIST_B'); process.exit(2); }
const mods = [];
for (const d of dists) mods.push((await import(d + 'edgevec.mjs')).EdgeVec);
const N = 20000, D = 16;
let seed = 1; const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const rows = Array.from({ length: N }, () => Float32Array.from({ length: D }, () => rnd() - 0.5));
const sections = ['games', 'libs', 'net', 'web', 'text', 'sound', 'x11', 'devel'];
const meta = rows.map((_, i) => ({ section: sections[i % 8], size: (i * 7919) % 5000, tags: [sections[(i >> 3) % 8]], free: i % 3 === 0 }));
const filters = ['section = "games"', 'size < 2500', 'section IN ("games", "net", "web")', 'section != "games"',
  'size BETWEEN 100 AND 900 AND free = true', 'tags CONTAINS "net" OR size > 4000', 'NOT (section = "x11") AND size IS NOT NULL'];
const dbs = [];
for (const E of mods) {
  const db = await E.create({ dimensions: D, metric: 'l2' });
  for (let i = 0; i < N; i++) db.insert(rows[i], { metadata: meta[i] });
  dbs.push(db);
}
const q = rows[17];
function pass(db, f) {
  const t = process.hrtime.bigint();
  for (let r = 0; r < 40; r++) db.search(q, 10, { filter: db.compileFilter(f), ef: 16 });
  return Number(process.hrtime.bigint() - t) / 40e3;   // µs per search
}
for (const f of filters) {
  const times = dbs.map(() => []);
  for (let p = 0; p < 24; p++) dbs.forEach((db, i) => { const t = pass(db, f); if (p >= 2) times[i].push(t); });
  const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
  const ratios = times[1].map((t, i) => t / times[0][i]).sort((a, b) => a - b);
  console.log(f.padEnd(45), times.map((t) => med(t).toFixed(1).padStart(7)).join(' '), 'µs  B/A', med(ratios).toFixed(3), `(${ratios[0].toFixed(2)}–${ratios.at(-1).toFixed(2)})`);
}
