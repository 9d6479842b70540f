// Entry point of the npm package `usertrail`.
//
// The wasm module is instantiated before this module finishes evaluating (top-level await),
// so every export is synchronous: a request issued right after `init()` returns is
// instrumented. Bundlers that understand `new URL(file, import.meta.url)` (Vite, webpack 5)
// ship the .wasm file as an asset; see the README for esbuild and plain <script type="module">.
import initWasm, { getSessionId as wasmGetSessionId } from './usertrail_wasm.js';

await initWasm({ module_or_path: new URL('./usertrail_wasm_bg.wasm', import.meta.url) });

/** The current session id (a UUID v4). */
export function getSessionId() {
  return wasmGetSessionId();
}

/** All of the SDK's functions on one object, for `import { usertrail } from 'usertrail'`. */
export const usertrail = Object.freeze({ getSessionId });
