// Request URLs made absolute, as `fetch` and `XMLHttpRequest` resolve them.
//
// `new URL(url, base)` is the most costly step of a request that no `allowedTracingUrls` entry
// matches, so a URL the parser would give back unchanged skips it: an absolute http(s) URL with
// a lower-case host name or dotted-quad address, no default port, a path, and only characters
// that every part keeps as they are; or a path-absolute URL (`/api/x`) of the same kind, which
// resolves to the base's origin followed by it. Everything else goes through the parser.
// url.test.js checks the shortcut against Node's WHATWG URL parser.

const PLAIN = /^(https?):\/\/((?:[a-z0-9-]+\.)*[a-z0-9-]+)(?::([1-9]\d{0,4}))?(\/[\w\-.~!$&()*+,;=:@%/?#]*)$/;
const PLAIN_PATH = /^\/(?!\/)[\w\-.~!$&()*+,;=:@%/?#]*$/;

/** Whether `path` (from its first `/` on) has nothing the parser would rewrite: no dot segment. */
const plainPath = (path) => !path.includes('/.') && !(path.includes('%2') && /%2e/i.test(path));

let lastUrl;
let lastPlain;

/**
 * `url` itself when the parser would give it back unchanged, else `undefined`. The answer for the
 * last URL is kept: an app calls the same few URLs again and again, and the checks cost more
 * than comparing two strings.
 */
export function alreadyAbsolute(url) {
  if (url !== lastUrl) {
    lastPlain = plainAbsolute(url);
    lastUrl = url;
  }
  return lastPlain;
}

function plainAbsolute(url) {
  const m = PLAIN.exec(url);
  if (!m || !plainPath(m[4])) return undefined;
  const [, scheme, host, port] = m;
  if (port && (Number(port) > 65535 || port === (scheme === 'https' ? '443' : '80'))) return undefined;
  if (host.includes('xn--')) return undefined; // labels the parser decodes and checks
  // A host ending in a number is an IPv4 address, which the parser writes as four decimals.
  const last = host.slice(host.lastIndexOf('.') + 1);
  if (!/^(\d+|0x[\da-f]*)$/.test(last)) return url;
  const labels = host.split('.');
  return labels.length === 4 && labels.every((label) => String(Number(label) & 255) === label) ? url : undefined;
}

let lastBase;
let lastOrigin;

/** `url` resolved against `base`, as `new URL(url, base).href`; throws as it does. */
export function absoluteUrl(url, base) {
  const plain = alreadyAbsolute(url);
  if (plain !== undefined) return plain;
  if (PLAIN_PATH.test(url) && plainPath(url)) {
    if (base !== lastBase) {
      const parsed = new URL(base);
      // The origin leaves out a user name and password, which the resolved URL keeps.
      lastOrigin = parsed.username || parsed.password ? 'null' : parsed.origin;
      lastBase = base;
    }
    if (lastOrigin.startsWith('http')) return lastOrigin + url;
  }
  return new URL(url, base).href;
}
