// Entry point of the npm package `usertrail`.
//
// The logic lives in WebAssembly (sdk-wasm/src); after the first `init`, patch.js patches
// `fetch` and `XMLHttpRequest` to ask wasm for each request's headers. The module is instantiated before this file
// finishes evaluating (top-level await), so every export is synchronous and a request issued
// right after `init()` returns is instrumented. No export ever throws into the app.
import initWasm, * as wasm from './usertrail_wasm.js';
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

await initWasm({ module_or_path: new URL('./usertrail_wasm_bg.wasm', import.meta.url) });

/**
 * Starts the SDK. Same option names and defaults as Datadog's browser RUM SDK, except that
 * `propagateTraceBaggage` is off until you turn it on.
 */
export const init = guarded((options) => {
  if (wasm.init(options)) install(wasm.headersFor, wasm.touchSession);
});
export const setUser = guarded(wasm.setUser);
export const getUser = guarded(wasm.getUser, () => ({}));
export const setUserProperty = guarded(wasm.setUserProperty);
export const removeUserProperty = guarded(wasm.removeUserProperty);
export const clearUser = guarded(wasm.clearUser);
export const setAccount = guarded(wasm.setAccount);
export const getAccount = guarded(wasm.getAccount, () => ({}));
export const setAccountProperty = guarded(wasm.setAccountProperty);
export const removeAccountProperty = guarded(wasm.removeAccountProperty);
export const clearAccount = guarded(wasm.clearAccount);
export const getSessionId = guarded(wasm.getSessionId);
export const stopSession = guarded(wasm.stopSession);

/** Every function of the SDK on one object, for `import { usertrail } from 'usertrail'`. */
export const usertrail = Object.freeze({
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
