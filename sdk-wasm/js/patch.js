// The interception of `fetch` and `XMLHttpRequest`. index.js calls `install` once, at the first
// `init`, with the tracer (tracer.js) that decides what each request gets.
//
// Fail-open: every step runs inside a `try`/`catch`, and on any failure the request goes out
// exactly as the app made it (the original arguments), and the SDK warns once.
import { internalError } from './report.js';
import { absoluteUrl, alreadyAbsolute } from './url.js';

/** A `fetch`-style headers argument read as a record: a plain object without an iterator. */
function isRecord(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof value[Symbol.iterator] !== 'function';
}

/**
 * The app's headers (`source`: a record, a `Headers`, pairs, or `undefined`) with the tracer's
 * added; `undefined` when it adds none. Never changes `source`: an app may reuse it.
 *
 * A record stays a record, the common case (`{ 'content-type': … }`) and the cheap one: a copy
 * of a few keys instead of a `Headers` object. Each header the tracer sets replaces the app's
 * header of that name in any letter case, as `Headers.set` does, so no name is ever sent twice.
 */
function withHeaders(source, tracer, plan) {
  if (source === undefined || isRecord(source)) {
    const out = {};
    const named = {}; // lower-case name -> the app's spelling
    if (source !== undefined) {
      for (const name of Object.keys(source)) {
        out[name] = source[name];
        named[name.toLowerCase()] = name;
      }
    }
    const baggage = named.baggage;
    const added = tracer.headers(plan, named.traceparent !== undefined, baggage === undefined ? undefined : String(out[baggage]));
    if (!added) return undefined;
    for (let i = 0; i < added.length; i += 2) {
      const spelled = named[added[i]];
      if (spelled !== undefined) delete out[spelled];
      out[added[i]] = added[i + 1];
    }
    return out;
  }
  const headers = new Headers(source);
  const added = tracer.headers(plan, headers.has('traceparent'), headers.get('baggage') ?? undefined);
  if (!added) return undefined;
  for (let i = 0; i < added.length; i += 2) headers.set(added[i], added[i + 1]);
  return headers;
}

/**
 * `init` with `headers` in place of its own. Copied with `for…in`, which also reads what `init`
 * inherits, as `fetch` itself does: a `Request` passed as `init` keeps its method and body (its
 * attributes are enumerable getters on its prototype).
 */
function withInit(init, headers) {
  const copy = {};
  if (init !== null && typeof init === 'object') for (const key in init) copy[key] = init[key];
  copy.headers = headers;
  return copy;
}

function patchFetch(global, tracer, absoluteUrl) {
  const originalFetch = global.fetch;
  if (typeof originalFetch !== 'function') return;
  const RequestClass = global.Request;
  global.fetch = function fetch(input, init) {
    let args = arguments;
    try {
      const isRequest = typeof RequestClass === 'function' && input instanceof RequestClass;
      const plan = tracer.plan('fetch', isRequest ? input.url : absoluteUrl(String(input)));
      if (plan) {
        // `init.headers` replaces a Request's own headers, as the Fetch standard says.
        const source = init != null && init.headers !== undefined ? init.headers : isRequest ? input.headers : undefined;
        const headers = withHeaders(source, tracer, plan);
        // The Request's body is not read: fetch(request, init) takes it over as it is.
        if (headers) args = [input, withInit(init, headers)];
      }
    } catch (error) {
      internalError(error);
      args = arguments;
    }
    return originalFetch.apply(this, args);
  };
}

function patchXhr(global, tracer, absoluteUrl) {
  const Xhr = global.XMLHttpRequest;
  if (typeof Xhr !== 'function') return;
  const proto = Xhr.prototype;
  const { open, send, setRequestHeader } = proto;
  const requests = new WeakMap();

  proto.open = function (method, url) {
    try {
      // Resolved now, against the base URL of this moment, as `open` itself resolves it.
      requests.set(this, { url: absoluteUrl(String(url)), hasTraceparent: false, baggage: undefined });
    } catch {
      requests.delete(this); // `open` throws for this URL too
    }
    return open.apply(this, arguments);
  };

  proto.setRequestHeader = function (name, value) {
    const request = requests.get(this);
    if (request) {
      const lower = String(name).toLowerCase();
      if (lower === 'baggage') {
        // Held back until send(): XHR would comma-join ours onto it as a second value.
        request.baggage = request.baggage === undefined ? String(value) : `${request.baggage},${value}`;
        return;
      }
      if (lower === 'traceparent') request.hasTraceparent = true;
    }
    return setRequestHeader.apply(this, arguments);
  };

  proto.send = function () {
    const request = requests.get(this);
    if (request) {
      requests.delete(this);
      let baggage = request.baggage;
      const added = [];
      try {
        const plan = tracer.plan('XMLHttpRequest', request.url);
        const headers = plan && tracer.headers(plan, request.hasTraceparent, baggage);
        for (let i = 0; headers && i < headers.length; i += 2) {
          if (headers[i] === 'baggage') baggage = headers[i + 1];
          else added.push(headers[i], headers[i + 1]);
        }
      } catch (error) {
        internalError(error);
        added.length = 0;
        baggage = request.baggage;
      }
      for (let i = 0; i < added.length; i += 2) setRequestHeader.call(this, added[i], added[i + 1]);
      if (baggage !== undefined) setRequestHeader.call(this, 'baggage', baggage);
    }
    return send.apply(this, arguments);
  };
}

/** User activity keeps the session alive (RUM: it ends after 15 minutes without). */
function trackActivity(global, tracer) {
  if (typeof global.addEventListener !== 'function') return;
  let last = 0;
  const onActivity = () => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    try {
      tracer.activity();
    } catch (error) {
      internalError(error);
    }
  };
  for (const type of ['click', 'keydown', 'scroll', 'touchstart', 'visibilitychange']) {
    global.addEventListener(type, onActivity, { capture: true, passive: true });
  }
}

/**
 * Patches `global.fetch` and `global.XMLHttpRequest` and listens for user activity. `tracer`
 * (tracer.js): `plan(kind, url)`, `headers(plan, appHasTraceparent, appBaggage)`, `activity()`.
 */
export function install(global, tracer) {
  // Resolved as fetch and XHR resolve it: against the document's base URL (`<base href>`), or
  // the worker's location, read only for a URL that needs it (`baseURI` is a DOM call).
  const resolve = (url) => alreadyAbsolute(url) ?? absoluteUrl(url, global.document?.baseURI ?? global.location?.href);
  patchFetch(global, tracer, resolve);
  patchXhr(global, tracer, resolve);
  trackActivity(global, tracer);
}
