// A real HTTP server on loopback that answers every request, CORS included, and records what
// the browser actually sent: method, path, headers and body. The tests read the records
// in-process. Pages are served from another origin (the static server), so every request to a
// recorder is a real cross-origin request with a real CORS preflight.
//
// The reply can be steered from the URL's query string:
//   ?status=418        answer with that status
//   ?reply=text        answer with that body (default: `ok`)
//   ?delay=250         answer after that many milliseconds (for aborts)
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

import { launchChromium } from './browser.mjs';
import { serveStatic } from './static-server.mjs';

/** Header names that usertrail may add to a request (lowercase, as Node reports them). */
export const USERTRAIL_HEADERS = Object.freeze([
  'traceparent',
  'tracestate',
  'baggage',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'x-datadog-origin',
  'x-datadog-tags',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-sampled',
]);

/** The subset of a record's headers that usertrail may have added, as a plain object. */
export function usertrailHeaders(record) {
  const out = {};
  for (const name of USERTRAIL_HEADERS) {
    if (record.headers[name] !== undefined) out[name] = record.headers[name];
  }
  return out;
}

/**
 * Starts a recorder on `host` (default 127.0.0.1; any 127.x.y.z works on Linux) and an
 * ephemeral port. Resolves to the recorder object:
 *   url         'http://host:port' (no trailing slash)
 *   port, host
 *   records     array of { method, path, headers, rawHeaders, body, bodyBytes, at }
 *   preflights  array of { path, headers } for the OPTIONS requests
 *   clear()     forgets every record and preflight
 *   waitFor(n, { timeout }) resolves to `records` once at least n are there
 *   close()
 */
export async function startRecorder({ host = '127.0.0.1' } = {}) {
  const records = [];
  const preflights = [];
  const waiters = new Set();

  const notify = () => {
    for (const w of waiters) {
      if (records.length >= w.n) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(records);
      }
    }
  };

  const corsHeaders = (req) => ({
    'access-control-allow-origin': '*',
    'access-control-allow-methods': req.headers['access-control-request-method']
      ? `${req.headers['access-control-request-method']}, GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS`
      : 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS',
    ...(req.headers['access-control-request-headers']
      ? { 'access-control-allow-headers': req.headers['access-control-request-headers'] }
      : {}),
    'access-control-expose-headers': '*',
    // Chromium's Private/Local Network Access preflight, should it ever ask.
    ...(req.headers['access-control-request-private-network'] ? { 'access-control-allow-private-network': 'true' } : {}),
    ...(req.headers['access-control-request-local-network'] ? { 'access-control-allow-local-network': 'true' } : {}),
  });

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => {
      const url = new URL(req.url, 'http://recorder');
      if (req.method === 'OPTIONS') {
        preflights.push({ path: req.url, headers: { ...req.headers } });
        res.writeHead(204, { ...corsHeaders(req), 'access-control-max-age': '0' });
        res.end();
        return;
      }
      const bodyBytes = Buffer.concat(chunks);
      records.push({
        method: req.method,
        path: req.url,
        headers: { ...req.headers },
        rawHeaders: [...req.rawHeaders],
        body: bodyBytes.toString('utf8'),
        bodyBytes,
        at: Date.now(),
      });
      notify();
      const reply = () => {
        if (res.destroyed) return;
        const status = Number(url.searchParams.get('status') ?? 200);
        res.writeHead(status, {
          ...corsHeaders(req),
          'content-type': 'text/plain; charset=utf-8',
          'cache-control': 'no-store',
          'x-recorder-reply': 'yes',
        });
        res.end(req.method === 'HEAD' ? undefined : (url.searchParams.get('reply') ?? 'ok'));
      };
      const delay = Number(url.searchParams.get('delay') ?? 0);
      if (delay > 0) setTimeout(reply, delay);
      else reply();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address();

  return {
    host,
    port,
    url: `http://${host}:${port}`,
    records,
    preflights,
    clear() {
      records.length = 0;
      preflights.length = 0;
    },
    waitFor(n, { timeout = 5000 } = {}) {
      if (records.length >= n) return Promise.resolve(records);
      return new Promise((resolve, reject) => {
        const w = { n, resolve };
        w.timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `recorder ${host}:${port}: waited ${timeout} ms for ${n} request(s), got ${records.length}: ` +
                JSON.stringify(records.map((r) => `${r.method} ${r.path}`)),
            ),
          );
        }, timeout);
        waiters.add(w);
      });
    },
    close() {
      for (const w of waiters) clearTimeout(w.timer);
      waiters.clear();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Checking what usertrail sent.

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ALL_PROPAGATORS = Object.freeze(['tracecontext', 'datadog', 'b3', 'b3multi']);
const HEADERS_OF = {
  tracecontext: ['traceparent', 'tracestate'],
  datadog: ['x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority', 'x-datadog-origin', 'x-datadog-tags'],
  b3: ['b3'],
  b3multi: ['x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled'],
};

/**
 * Asserts that `headers` (a record's headers) carry exactly the trace headers of `types`, in
 * the contract's exact formats, sampled or not, all with the same trace id T (128 bits, 32
 * lowercase hex) and span id S (16 hex); and none of the other types' headers.
 * Returns `{ traceId, spanId }`.
 */
export function checkTraceHeaders(assert, headers, { types = ['tracecontext', 'datadog'], sampled = true } = {}) {
  const ids = [];
  const ctx = (name) => `${name}: ${JSON.stringify(headers[name])} in ${JSON.stringify(usertrailHeaders({ headers }))}`;
  for (const type of ALL_PROPAGATORS) {
    if (types.includes(type)) continue;
    for (const name of HEADERS_OF[type]) assert.equal(headers[name], undefined, `no ${type} header expected, got ${ctx(name)}`);
  }
  if (types.includes('tracecontext')) {
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(headers.traceparent ?? '');
    assert.ok(m, `traceparent 00-<32 hex>-<16 hex>-<2 hex>, got ${ctx('traceparent')}`);
    assert.equal(m[3], sampled ? '03' : '02', `traceparent flags (sampled|random), got ${ctx('traceparent')}`);
    assert.equal(headers.tracestate, sampled ? 'dd=s:1;o:rum' : 'dd=s:0;o:rum', ctx('tracestate'));
    ids.push(['traceparent', m[1], m[2]]);
  }
  if (types.includes('datadog')) {
    const tags = /^_dd\.p\.tid=([0-9a-f]{16})$/.exec(headers['x-datadog-tags'] ?? '');
    assert.ok(tags, `x-datadog-tags _dd.p.tid=<16 hex>, got ${ctx('x-datadog-tags')}`);
    const low = headers['x-datadog-trace-id'] ?? '';
    const parent = headers['x-datadog-parent-id'] ?? '';
    assert.match(low, /^(0|[1-9][0-9]{0,19})$/, `x-datadog-trace-id is a decimal, got ${ctx('x-datadog-trace-id')}`);
    assert.match(parent, /^(0|[1-9][0-9]{0,19})$/, `x-datadog-parent-id is a decimal, got ${ctx('x-datadog-parent-id')}`);
    assert.ok(BigInt(low) < 2n ** 64n && BigInt(parent) < 2n ** 64n, 'datadog ids fit in 64 bits');
    assert.equal(headers['x-datadog-sampling-priority'], sampled ? '1' : '0', ctx('x-datadog-sampling-priority'));
    assert.equal(headers['x-datadog-origin'], 'rum', ctx('x-datadog-origin'));
    const hex = (d) => BigInt(d).toString(16).padStart(16, '0');
    ids.push(['x-datadog-*', tags[1] + hex(low), hex(parent)]);
  }
  if (types.includes('b3')) {
    const m = /^([0-9a-f]{32})-([0-9a-f]{16})-([01])$/.exec(headers.b3 ?? '');
    assert.ok(m, `b3 <32 hex>-<16 hex>-<0|1>, got ${ctx('b3')}`);
    assert.equal(m[3], sampled ? '1' : '0', ctx('b3'));
    ids.push(['b3', m[1], m[2]]);
  }
  if (types.includes('b3multi')) {
    assert.match(headers['x-b3-traceid'] ?? '', HEX32, ctx('x-b3-traceid'));
    assert.match(headers['x-b3-spanid'] ?? '', HEX16, ctx('x-b3-spanid'));
    assert.equal(headers['x-b3-sampled'], sampled ? '1' : '0', ctx('x-b3-sampled'));
    ids.push(['x-b3-*', headers['x-b3-traceid'], headers['x-b3-spanid']]);
  }
  assert.ok(ids.length > 0, 'checkTraceHeaders needs at least one type');
  const [, traceId, spanId] = ids[0];
  for (const [from, t, s] of ids) {
    assert.equal(t, traceId, `the same trace id in every header (${ids[0][0]} vs ${from})`);
    assert.equal(s, spanId, `the same span id in every header (${ids[0][0]} vs ${from})`);
  }
  assert.notEqual(traceId, '0'.repeat(32), 'an all-zero trace id is invalid');
  assert.notEqual(spanId, '0'.repeat(16), 'an all-zero span id is invalid');
  assert.notEqual(traceId.slice(0, 16), '0'.repeat(16), 'a random 128-bit trace id, not a 64-bit one padded with zeros');
  return { traceId, spanId };
}

/** Asserts that a record carries none of the headers usertrail may add. */
export function checkNoUsertrailHeaders(assert, record, why = '') {
  assert.deepEqual(usertrailHeaders(record), {}, `no usertrail header expected on ${record.method} ${record.path} ${why}`);
}

/** Splits a baggage header value into [key, value] pairs (values as sent, still encoded). */
export function baggageMembers(value) {
  return value.split(',').map((m) => {
    const i = m.indexOf('=');
    return [m.slice(0, i).trim(), m.slice(i + 1).trim()];
  });
}

// ---------------------------------------------------------------------------------------------
// The harness of the sdk*.test.mjs files: one static server for the pages and the package, an
// allowed backend (`api`), a non-allowed third party (`other`), a look-alike host on another
// loopback address (`lookalike`, 127.0.0.10), and one headless Chromium.
// USERTRAIL_PKG_DIR=/some/dir serves another build of the package instead of dist/.

export async function startHarness() {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const pkg = process.env.USERTRAIL_PKG_DIR ?? `${root}dist`;
  const site = await serveStatic({ '/pkg/': pkg, '/': `${root}tests/e2e/fixtures` });
  const api = await startRecorder();
  const other = await startRecorder();
  const lookalike = await startRecorder({ host: '127.0.0.10' });
  const browser = await launchChromium();

  const h = {
    site,
    api,
    other,
    lookalike,
    browser,
    /** Forgets every recorder's records. */
    clear() {
      api.clear();
      other.clear();
      lookalike.clear();
    },
    /**
     * Opens the fixture page in a fresh browser context (fresh localStorage) unless `context`
     * is given, waits until the package is imported, and closes the context after test `t`.
     * `page.consoleMessages` collects every console message; `page.usertrailWarnings()` the
     * warnings whose text starts with `usertrail:`.
     */
    async open(t, { context, query = '', beforeLoad } = {}) {
      const own = !context;
      const ctx = context ?? (await browser.newContext());
      if (own) t.after(() => ctx.close());
      const page = await ctx.newPage();
      if (!own) t.after(() => page.close());
      page.consoleMessages = [];
      page.pageErrors = [];
      page.on('console', (m) => page.consoleMessages.push({ type: m.type(), text: m.text() }));
      page.on('pageerror', (e) => page.pageErrors.push(e));
      page.usertrailWarnings = () =>
        page.consoleMessages.filter((m) => m.type === 'warning' && m.text.startsWith('usertrail:')).map((m) => m.text);
      if (beforeLoad) await beforeLoad(page);
      await h.load(page, query);
      return page;
    },
    /** (Re)loads the fixture into `page` and waits until the package is imported. */
    async load(page, query = '') {
      await page.goto(`${site.url}/sdk.html${query}`);
      await page.waitForFunction(() => window.sdkLoaded === true, null, { timeout: 10_000 });
      const error = await page.evaluate(() => window.sdkError);
      if (error) throw new Error(`the package failed to load in the page: ${error}`);
    },
    async close() {
      await browser.close();
      await Promise.all([site.close(), api.close(), other.close(), lookalike.close()]);
    },
  };
  return h;
}
