// Entry point of the npm package `usertrail`.
//
// The logic lives in WebAssembly (sdk-wasm/src); after the first `init`, patch.js patches
// `fetch` and `XMLHttpRequest` to ask wasm for each request's headers. The module is instantiated before this file
// finishes evaluating (top-level await), so every export is synchronous and a request issued
// right after `init()` returns is instrumented. No export ever throws into the app.
import * as wasm from './usertrail_wasm.js';
import { install } from './patch.js';

let warnedInternalError = false;

/** Wraps an export so that it never throws into the app; `fallback()` answers instead. */
function guarded(fn, fallback = () => undefined) {
  return function () {
    try {
      return fn.apply(undefined, arguments);
    } catch (error) {
      if (!warnedInternalError) {
        warnedInternalError = true;
        console.warn('usertrail: internal error', error);
      }
      return fallback();
    }
  };
}

// Instantiated here rather than by wasm-bindgen's loader, which is larger than this SDK's
// JavaScript: usertrail_wasm.js is wasm-bindgen's glue linked by scripts/link-glue.mjs to the
// size-optimized module. Through an ArrayBuffer, so a server that does not send the
// `application/wasm` type still works.
const response = await fetch(new URL('./usertrail_wasm_bg.wasm', import.meta.url));
if (!response.ok) throw new Error(`usertrail: cannot load usertrail_wasm_bg.wasm: ${response.status}`);
wasm.start((await WebAssembly.instantiate(await response.arrayBuffer(), wasm.imports)).instance);

// `/* @__PURE__ */`: a bundler drops the wrappers (and their glue) that the app does not import.

/**
 * Starts the SDK. Same option names and defaults as Datadog's browser RUM SDK, except that
 * `propagateTraceBaggage` is off until you turn it on.
 */
export const init = /* @__PURE__ */ guarded((options) => {
  if (wasm.init(options)) install(wasm.headersFor, wasm.touchSession);
});
export const setUser = /* @__PURE__ */ guarded(wasm.setUser);
export const getUser = /* @__PURE__ */ guarded(wasm.getUser, () => ({}));
export const setUserProperty = /* @__PURE__ */ guarded(wasm.setUserProperty);
export const removeUserProperty = /* @__PURE__ */ guarded(wasm.removeUserProperty);
export const clearUser = /* @__PURE__ */ guarded(wasm.clearUser);
export const setAccount = /* @__PURE__ */ guarded(wasm.setAccount);
export const getAccount = /* @__PURE__ */ guarded(wasm.getAccount, () => ({}));
export const setAccountProperty = /* @__PURE__ */ guarded(wasm.setAccountProperty);
export const removeAccountProperty = /* @__PURE__ */ guarded(wasm.removeAccountProperty);
export const clearAccount = /* @__PURE__ */ guarded(wasm.clearAccount);
export const getSessionId = /* @__PURE__ */ guarded(wasm.getSessionId);
export const stopSession = /* @__PURE__ */ guarded(wasm.stopSession);

/** Every function of the SDK on one object, for `import { usertrail } from 'usertrail'`. */
export const usertrail = /* @__PURE__ */ Object.freeze({
  init,
  setUser,
  getUser,
  setUserProperty,
  removeUserProperty,
  clearUser,
  setAccount,
  getAccount,
  setAccountProperty,
  removeAccountProperty,
  clearAccount,
  getSessionId,
  stopSession,
});
