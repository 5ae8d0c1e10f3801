// Allocation counting for the wasm module, linked only with the
// `AllocationCounter` trait (see Package.swift and docs/JAVASCRIPT.md).
#ifndef EDGEVEC_ALLOCATION_COUNTER_H
#define EDGEVEC_ALLOCATION_COUNTER_H
#endif
