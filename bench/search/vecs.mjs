// .fvecs / .ivecs reading for the Node side of the search experiment.
import { readFileSync } from 'node:fs';

/** A .fvecs/.ivecs file as { rows, dim, data } with the row headers dropped. */
export function readVecs(path, Kind) {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dim = view.getInt32(0, true);
  const rowBytes = 4 + 4 * dim;
  if (dim <= 0 || buf.byteLength % rowBytes !== 0) throw new Error(`${path}: not a .vecs file of one dimension`);
  const rows = buf.byteLength / rowBytes;
  const data = new Kind(rows * dim);
  for (let r = 0; r < rows; r++) {
    if (view.getInt32(r * rowBytes, true) !== dim) throw new Error(`${path}: row ${r} has another dimension`);
    const src = new Kind(buf.buffer.slice(buf.byteOffset + r * rowBytes + 4, buf.byteOffset + (r + 1) * rowBytes));
    data.set(src, r * dim);
  }
  return { rows, dim, data };
}

/** `--key value` pairs into an object (values as strings). */
export function parsePairs(argv, defaults) {
  const args = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${argv[i]}`);
    args[argv[i].replace(/^--/, '')] = value;
  }
  return args;
}
