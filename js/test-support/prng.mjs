// mulberry32: the deterministic data generator shared by the Node tests
// (js/test, Tests/CrossPlatform) and the browser smoke test (Tests/Browser
// serves this file beside its page). No imports, so every host can load it.

/** Deterministic uniform floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
