// Types for edgevec-worker.mjs; the declarations are in edgevec.d.ts.
export { EdgeVecWorker, WorkerCompiledFilter, WorkerSearchOptions, TransferOption, EdgeVecError } from './edgevec.js';
