// The EdgeVec WebAssembly module: `make wasm` links this target for
// wasm32-unknown-none-wasm with `--no-entry`, so this file's top-level code
// never runs there. The module is the `ev_*` exports of EdgeVecBridge (each
// marked `@_expose(wasm, …)`), the exported memory and `__wasm_call_ctors`;
// it imports nothing. See docs/JAVASCRIPT.md.
//
// Built natively (a plain `swift build`) it is a harmless program that says
// what it is for.
import EdgeVecBridge

#if !hasFeature(Embedded)
print("EdgeVecWasm is the WebAssembly module of EdgeVec; build it with `make wasm` (see docs/JAVASCRIPT.md).")
#endif
