// `allowedTracingUrls`: which request URLs get tracing headers and identity.
//
// In JavaScript because the entries are JavaScript values (strings, RegExps, functions): a URL no
// entry matches is decided without calling into WebAssembly at all.

/**
 * Whether `url` starts with `prefix` and the prefix ends at a URL boundary.
 *
 * Datadog's plain `startsWith` lets `https://api.example.com` match
 * `https://api.example.com.evil.net/` and `https://api.example.community/`, sending user ids to
 * hosts the app never allowed. Here the character after the prefix must start the port, path,
 * query or fragment, or the prefix must itself end with one of those delimiters.
 */
export function prefixMatches(prefix, url) {
  if (prefix === '' || !url.startsWith(prefix)) return false;
  if ('/?#&'.includes(prefix[prefix.length - 1])) return true;
  const next = url[prefix.length];
  // A port can follow only the host: `https://api.example.com` allows `:8443`, but a prefix
  // that already has a path (`…/v1`) does not continue with `:`.
  return next === undefined || next === '/' || next === '?' || next === '#' || (next === ':' && !hasPath(prefix));
}

/** Whether `prefix` goes past the authority (`scheme://host[:port]`) into the path. */
function hasPath(prefix) {
  const scheme = prefix.indexOf('//');
  return prefix.indexOf('/', scheme < 0 ? 0 : scheme + 2) >= 0;
}

/**
 * A test `(url) => boolean` for one matcher value: a non-empty string (a URL prefix), a RegExp or
 * a function; `undefined` for anything else. `onThrow()` is called when a function matcher throws,
 * which counts as no match.
 */
export function urlTest(value, onThrow) {
  if (typeof value === 'string') return value === '' ? undefined : (url) => prefixMatches(value, url);
  if (value instanceof RegExp) {
    return (url) => {
      // A `g` or `y` RegExp keeps `lastIndex` between calls, so the same URL would match only
      // every other time (Datadog has this bug).
      value.lastIndex = 0;
      return value.test(url);
    };
  }
  if (typeof value === 'function') {
    return (url) => {
      try {
        return Boolean(value(url));
      } catch {
        onThrow();
        return false;
      }
    };
  }
  return undefined;
}
