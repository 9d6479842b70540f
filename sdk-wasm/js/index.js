// Entry point of the npm package `usertrail`.
//
// Importing it does nothing but define the functions below: no request, no WebAssembly, no
// top-level await, nothing that can throw, in a browser, a worker, Node or a bundler's server
// render. The first `init()` in a browser starts the WebAssembly core (core.js, compiled
// synchronously from bytes inside the package) and patches `fetch` and `XMLHttpRequest`
// (patch.js), so a request made right after `init()` returns already carries its headers.
// Outside a browser (Node, server rendering) every function is a silent no-op.
//
// No export ever throws into the app: each one is guarded, and where the core cannot run (a
// Content-Security-Policy without 'wasm-unsafe-eval', WebAssembly turned off) the SDK says why
// once and stays out of the way: the app's requests go out exactly as the app made them.
import { Context } from './context.js';
import { startCore } from './core.js';
import { readOptions } from './options.js';
import { install } from './patch.js';
import { internalError, warn } from './report.js';
import { SessionStore } from './session.js';
import { tracer } from './tracer.js';

/** A page or a worker; not Node, not a server render. */
const inBrowser =
  typeof document === 'object' ||
  (typeof WorkerGlobalScope === 'function' && globalThis instanceof WorkerGlobalScope);

/** The SDK's state, one per copy of the package on the page. */
let sdk;

function state() {
  if (sdk === undefined) {
    sdk = {
      /** What `init` configured; `undefined` before. */
      config: undefined,
      session: new SessionStore(),
      /** The WebAssembly core once it runs; `off` says why it does not. */
      core: undefined,
      off: 'init() not called yet',
      user: new Context('user'),
      account: new Context('account'),
    };
  }
  return sdk;
}

/** Wraps an export: a no-op outside a browser, and never throws into the app; `fallback()` answers instead. */
function guarded(fn, fallback = () => undefined) {
  return function () {
    if (!inBrowser) return fallback();
    try {
      return fn.apply(state(), arguments);
    } catch (error) {
      internalError(error);
      return fallback();
    }
  };
}

function start(s, config) {
  s.config = config;
  if (config.memorySession) s.session.keepInMemory();
  const take = ({ core, problem, pending }) => {
    if (core) s.core = core;
    else if (pending) s.off = 'its WebAssembly module is still compiling';
    else {
      s.off = problem;
      warn(`${problem}; usertrail is off and requests go out untouched`);
    }
  };
  const first = startCore(take);
  take(first);
  // Without the core nothing is added: then patch only for `debug`, which says so per request.
  if (!first.problem || config.debug) install(globalThis, tracer(s));
}

// `/* @__PURE__ */`: a bundler drops the wrappers that the app does not import.

/** An export that calls `method` of the user or the account (`which`). */
const onContext = (which, method, fallback) =>
  /* @__PURE__ */ guarded(function (...args) {
    return this[which][method](...args);
  }, fallback);
const empty = () => ({});

/**
 * Starts the SDK. Same option names and defaults as Datadog's browser RUM SDK, except that
 * `propagateTraceBaggage` is off until you turn it on.
 */
export const init = /* @__PURE__ */ guarded(function (options) {
  if (this.config) warn('init() called again; the first options are kept');
  else start(this, readOptions(options));
});
export const setUser = /* @__PURE__ */ onContext('user', 'set');
export const getUser = /* @__PURE__ */ onContext('user', 'get', empty);
export const setUserProperty = /* @__PURE__ */ onContext('user', 'setProperty');
export const removeUserProperty = /* @__PURE__ */ onContext('user', 'removeProperty');
export const clearUser = /* @__PURE__ */ onContext('user', 'clear');
export const setAccount = /* @__PURE__ */ onContext('account', 'set');
export const getAccount = /* @__PURE__ */ onContext('account', 'get', empty);
export const setAccountProperty = /* @__PURE__ */ onContext('account', 'setProperty');
export const removeAccountProperty = /* @__PURE__ */ onContext('account', 'removeProperty');
export const clearAccount = /* @__PURE__ */ onContext('account', 'clear');
export const getSessionId = /* @__PURE__ */ guarded(function () {
  return this.session.touch(Date.now());
});
export const stopSession = /* @__PURE__ */ guarded(function () {
  this.session.stop();
});

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
