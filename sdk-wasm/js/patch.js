// The interception of `fetch` and `XMLHttpRequest`. index.js calls `install` once, after the
// first `init`, with two functions exported by the wasm module; the wasm tests
// (sdk-wasm/tests/web.rs) install it the same way with Rust closures.
//
// It lives in JavaScript because fail-open needs a `try`/`catch` around every call into wasm:
// a wasm trap surfaces as an exception in the caller, and the app must never see one. On any
// failure the request goes out untouched and the SDK warns once.

let warnedInternalError = false;

export function internalError(error) {
  if (!warnedInternalError) {
    warnedInternalError = true;
    console.warn('usertrail: internal error; requests go out without usertrail headers', error);
  }
}

// Resolved as fetch and XHR resolve it: against the document's base URL (`<base href>`).
function absoluteUrl(url) {
  return new URL(url, globalThis.document?.baseURI ?? globalThis.location?.href).href;
}

let headersFor = () => undefined;

/** Asks wasm for the request's headers; calls `set(name, value)` for each. */
function addHeaders(url, hasTraceparent, baggage, set) {
  const headers = headersFor(absoluteUrl(url), hasTraceparent, baggage ?? undefined);
  if (headers === undefined) return false;
  const parts = headers.split('\n');
  for (let i = 0; i + 1 < parts.length; i += 2) set(parts[i], parts[i + 1]);
  return true;
}

function patchFetch(global) {
  const originalFetch = global.fetch;
  if (typeof originalFetch !== 'function') return;
  global.fetch = function fetch(input, init) {
    let args = arguments;
    try {
      const isRequest = typeof Request === 'function' && input instanceof Request;
      // `init.headers` replaces a Request's own headers, as the Fetch standard does.
      const headers = new Headers(
        init && init.headers !== undefined ? init.headers : isRequest ? input.headers : undefined,
      );
      const url = isRequest ? input.url : String(input);
      if (addHeaders(url, headers.has('traceparent'), headers.get('baggage'), (n, v) => headers.set(n, v))) {
        // The Request's body is not read: fetch(request, init) takes it over as it is.
        args = [input, Object.assign({}, init, { headers })];
      }
    } catch (error) {
      internalError(error);
      args = arguments;
    }
    return originalFetch.apply(this, args);
  };
}

function patchXhr(global) {
  const Xhr = global.XMLHttpRequest;
  if (typeof Xhr !== 'function') return;
  const proto = Xhr.prototype;
  const { open, send, setRequestHeader } = proto;
  const requests = new WeakMap();

  proto.open = function (method, url) {
    try {
      requests.set(this, { url: String(url), hasTraceparent: false, baggage: undefined });
    } catch (error) {
      internalError(error);
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
        addHeaders(request.url, request.hasTraceparent, baggage, (name, value) => {
          if (name === 'baggage') baggage = value;
          else added.push(name, value);
        });
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
function trackActivity(global, touchSession) {
  if (typeof global.addEventListener !== 'function') return;
  let last = 0;
  const onActivity = () => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    try {
      touchSession();
    } catch (error) {
      internalError(error);
    }
  };
  for (const type of ['click', 'keydown', 'scroll', 'touchstart', 'visibilitychange']) {
    global.addEventListener(type, onActivity, { capture: true, passive: true });
  }
}

/**
 * Patches `fetch` and `XMLHttpRequest` and listens for user activity.
 * `headers(url, hasTraceparent, baggage)` answers `name\nvalue\n…` or undefined;
 * `touchSession()` records activity.
 */
export function install(headers, touchSession) {
  headersFor = headers;
  patchFetch(globalThis);
  patchXhr(globalThis);
  trackActivity(globalThis, touchSession);
}
