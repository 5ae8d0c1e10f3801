// Every integer parameter of the C ABI at its extremes, through the raw wasm
// module: in wasm32 `Int` is 32 bits, so arithmetic on a parameter near 2³¹
// (a vector's padded stride, a count times a size) can trap there and never
// natively, where the fuzzers and the C tests run. Each call must return a
// result or one of the documented error codes; a trap (WebAssembly.RuntimeError)
// fails the test. Pointers stay valid buffers: what a C caller must get right
// (a count matching its buffer) is not what this tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { DIST } from '../test-support/helpers.mjs';

const CODES = new Set([-1, -2, -3, -4, -5, -6, -7, -8, -10, -11, -12, -13, -14, -15, -20, -21, -22]);
const I32 = [0, 1, 2, 3, 16, 1024, 1025, 65536, 65537, 0x7fffffff, -1, -0x80000000];
const U64 = [0n, 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

for (const file of ['edgevec.wasm', 'edgevec-arena.wasm']) {
  test(`integer parameters at their extremes give a result or an error code, never a trap (${file})`, async () => {
    const { instance } = await WebAssembly.instantiate(await readFile(`${DIST}/${file}`), {});
    const x = instance.exports;
    x.__wasm_call_ctors?.();
    let calls = 0;
    const call = (name, ...args) => {
      calls++;
      let r;
      try {
        r = x[name](...args);
      } catch (e) {
        assert.fail(`${name}(${args.map(String).join(', ')}): ${e}`);
      }
      if (r === undefined) return r;   // ev_free, ev_free_filter
      const n = typeof r === 'bigint' ? Number(r) : r;
      assert.ok(n >= 0 || CODES.has(n), `${name}(${args.map(String).join(', ')}) = ${r}`);
      return n;
    };
    for (const dimension of I32) for (const metric of [0, 1, 2, 3, -1]) for (const m of [0, 1, 2, 16, 128, 129, 0x7fffffff, -1]) {
      const h = call('ev_create', dimension, metric, m, 8, 1n);
      if (h > 0) call('ev_free', h);
    }
    for (const v of I32) {
      for (const h of [call('ev_create', 4, 0, 4, v, 1n), call('ev_create_with_ef_search', 4, 0, 4, 8, v, 1n)]) {
        if (h > 0) call('ev_free', h);
      }
    }
    const h = call('ev_create', 4, 1, 4, 8, 7n);
    const rows = x.ev_input(h, 8) >>> 0;
    const v = new Float32Array(x.memory.buffer, rows, 32);
    for (let i = 0; i < 32; i++) v[i] = Math.sin(i) + 1.5;
    for (let i = 0; i < 8; i++) call('ev_insert', h, rows + 16 * i);
    const ids = x.ev_output(h, 16) >>> 0;
    const distances = x.ev_output_distances(h) >>> 0;
    for (const id of U64) {
      call('ev_insert_with_id', h, rows, id);
      call('ev_contains', h, id);
      call('ev_get', h, id, distances);
      call('ev_update', h, id, rows + 16);
    }
    for (const capacity of I32) call('ev_reserve', h, capacity);
    for (const ef of I32) call('ev_set_ef_search', h, ef);
    // k beyond the 16 results the buffers hold is the caller's error, not tested.
    for (const k of I32.filter((k) => k <= 16)) for (const ef of I32) call('ev_search', h, rows, k, ef, ids, distances);
    const counts = x.ev_alloc(64) >>> 0;
    for (const count of [0, 1, 2, -1, 0x7fffffff, -0x80000000]) for (const k of [1, 8, 0, -1, 0x7fffffff]) {
      for (const threads of [0, 1, -1, 1025, 0x7fffffff]) for (const ef of [0, 64, 65537, -1]) {
        const valid = count >= 0 && k >= 1 && ef <= 65536 && threads >= 0 && threads <= 1024;
        if (valid && (count > 2 || count * k > 16)) continue;   // would read or write beyond the buffers
        call('ev_search_batch', h, rows, count, k, ef, 0, threads, ids, distances, counts);
      }
    }
    x.ev_dealloc(counts);
    for (const id of U64) call('ev_remove', h, id);
    for (const capacity of [0, 1, 16, -1, -0x80000000]) call('ev_ids', h, ids, capacity);
    call('ev_compact', h);
    const text = x.ev_input_bytes(h, 16) >>> 0;
    new Uint8Array(x.memory.buffer, text, 16).set(new TextEncoder().encode('n > 1 AND n < 9 '));
    for (const length of [-1, 0, 1, 16, -0x80000000]) {
      const f = call('ev_compile_filter', h, text, length);
      if (f > 0) call('ev_free_filter', f);
    }
    call('ev_free', h);
    assert.ok(calls > 1000, `${calls} calls`);
  });
}
