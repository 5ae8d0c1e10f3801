// The Node side of Tests/KillSave/kill_save.py: saveFile / loadFile of one
// target, run in the current directory (the target is a relative path).
//
//   node node_child.mjs DIST loop A.evx B.evx TARGET     print "ready", then saveFile A, B, A, … until killed
//   node node_child.mjs DIST time A.evx B.evx TARGET N   N saves as in loop; print the mean ms per save
//   node node_child.mjs DIST save A.evx TARGET           one saveFile of A
//   node node_child.mjs DIST load TARGET                 one loadFile; print its size
//
// A and B are index files written by the native CLI; `save()` of each loaded
// index must give their exact bytes (so the parent can byte-compare the target).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, mode, ...args] = process.argv.slice(2);
const { EdgeVec } = await import(pathToFileURL(resolve(dist, 'edgevec.mjs')).href);

async function open(path) {
  const db = await EdgeVec.loadFile(path);
  const bytes = new Uint8Array(await readFile(path));
  const saved = db.save();
  if (!Buffer.from(saved).equals(Buffer.from(bytes))) {
    console.error(`save() of ${path} loaded in wasm differs from the file (${saved.length} vs ${bytes.length} bytes)`);
    process.exit(2);
  }
  return db;
}

if (mode === 'loop' || mode === 'time') {
  const [a, b, target, count] = args;
  const dbs = [await open(a), await open(b)];
  if (mode === 'loop') process.stdout.write('ready\n');
  const n = mode === 'time' ? Number(count) : Infinity;
  const start = performance.now();
  for (let i = 0; i < n; i++) await dbs[i % 2].saveFile(target);
  if (mode === 'time') console.log(((performance.now() - start) / n).toFixed(3));
} else if (mode === 'save') {
  const [a, target] = args;
  await (await open(a)).saveFile(target);
} else if (mode === 'load') {
  const [target] = args;
  console.log((await EdgeVec.loadFile(target)).size);
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
