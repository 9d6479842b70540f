// How the package loads, and every way it can fail to: a plain <script type="module">, a server
// that answers every .wasm with an error page, a Content-Security-Policy without
// 'wasm-unsafe-eval', WebAssembly turned off, a `fetch` the app (or a test tool) replaced before
// the SDK loaded, a Web Worker, a browser that compiles only asynchronously, a fetch polyfill
// over XMLHttpRequest, two copies of the SDK on one page, and the `debug` log. In each, the
// app's own code runs and its requests go out. Real headless Chromium, real servers.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { launchChromium } from './support/browser.mjs';
import { UUID_V4, checkNoUsertrailHeaders, checkTraceHeaders, startRecorder } from './support/header-recorder.mjs';
import { serveStatic } from './support/static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = process.env.USERTRAIL_PKG_DIR ?? `${root}dist`;

/** Every export but init (the app called it), called with something; each must return without throwing. */
const CALL_EVERY_EXPORT = `
  export function callEveryExport(sdk) {
    const results = {};
    for (const name of Object.keys(sdk.usertrail).filter((n) => n !== 'init')) {
      const args = { setUser: [{ id: 'u1' }], setAccount: [{ id: 'a1' }], setUserProperty: ['plan', 'pro'],
        setAccountProperty: ['tier', 'gold'], removeUserProperty: ['plan'], removeAccountProperty: ['tier'] }[name] ?? [];
      results[name] = typeof sdk[name](...args);
    }
    return results;
  }
`;

/**
 * The app of each page: imports the SDK (from `src`), inits it for `api`, sets who is signed in
 * and sends one fetch and one XHR at once, then says what it saw in `window.app`.
 */
const APP = (src = '/pkg/index.js') => `
  import * as sdk from '${src}';
  import { callEveryExport } from '/every-export.js';
  const api = new URLSearchParams(location.search).get('api');
  sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true, debug: location.search.includes('debug') });
  sdk.setUser({ id: 'user_123' });
  const fetched = fetch(api + '/fetch', { method: 'POST', body: 'f' }).then((r) => r.text());
  const xhr = new XMLHttpRequest();
  xhr.open('GET', api + '/xhr');
  const xhred = new Promise((resolve) => { xhr.onloadend = () => resolve(xhr.responseText); });
  xhr.send();
  Promise.all([fetched, xhred]).then(([f, x]) => {
    window.app = { fetch: f, xhr: x, sessionId: sdk.getSessionId(), exports: callEveryExport(sdk) };
  }, (error) => { window.app = { error: String(error) }; });
`;

const html = (head = '') => `<!doctype html><meta charset="utf-8">${head}<title>usertrail loading</title>
<script type="module" src="/app.js"></script>`;

let browser;
let api;
let servers = [];

before(async () => {
  browser = await launchChromium();
  api = await startRecorder();
});
after(async () => {
  await browser?.close();
  await api?.close();
  await Promise.all(servers.map((s) => s.close()));
});
beforeEach(() => api.clear());

/** A site with the package at /pkg/ and the given pages; `pages` entries as serveStatic takes them. */
async function site(pages, options = {}) {
  const server = await serveStatic(
    { '/pkg/': pkg, '/pkg-copy/': pkg, '/modules/': `${root}node_modules` },
    { pages: { '/every-export.js': { body: CALL_EVERY_EXPORT }, ...pages }, ...options },
  );
  servers.push(server);
  return server;
}

/** Opens `path` of `server` in a fresh context; collects console messages and page errors. */
async function open(t, server, path = '/', { init } = {}) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  page.messages = [];
  page.errors = [];
  page.on('console', (m) => page.messages.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => page.errors.push(String(e)));
  if (init) await page.addInitScript(init);
  await page.goto(`${server.url}${path}${path.includes('?') ? '&' : '?'}api=${encodeURIComponent(api.url)}`);
  return page;
}

/** What the page's app saw, once it is done. */
async function appResult(page) {
  await page.waitForFunction(() => window.app !== undefined, null, { timeout: 10_000 });
  return page.evaluate(() => window.app);
}

const usertrailMessages = (page, type) =>
  page.messages.filter((m) => m.type === type && m.text.startsWith('usertrail:')).map((m) => m.text);

const EVERY_EXPORT_RETURNED = {
  setUser: 'undefined', getUser: 'object', setUserProperty: 'undefined',
  removeUserProperty: 'undefined', clearUser: 'undefined', setAccount: 'undefined', getAccount: 'object',
  setAccountProperty: 'undefined', removeAccountProperty: 'undefined', clearAccount: 'undefined',
  getSessionId: 'string', stopSession: 'undefined',
};

/** The two requests of APP reached the api with the headers, the baggage carrying the session. */
function assertInstrumented(app) {
  assert.deepEqual(
    api.records.map((r) => r.path).sort(),
    ['/fetch', '/xhr'],
  );
  for (const r of api.records) {
    checkTraceHeaders(assert, r.headers);
    assert.equal(r.headers.baggage, `session.id=${app.sessionId},user.id=user_123`, r.path);
  }
  assert.equal(api.records.find((r) => r.path === '/fetch').body, 'f');
}

/** The two requests of APP reached the api exactly as the app made them. */
function assertUntouched() {
  assert.deepEqual(api.records.map((r) => r.path).sort(), ['/fetch', '/xhr']);
  for (const r of api.records) checkNoUsertrailHeaders(assert, r);
}

test('a plain <script type="module">: nothing is fetched but the script, and the first requests after init() carry the headers', async (t) => {
  const server = await site({ '/': { body: html() }, '/app.js': { body: APP() } });
  const page = await open(t, server);
  const app = await appResult(page);
  assert.deepEqual([app.fetch, app.xhr], ['ok', 'ok']);
  assert.match(app.sessionId, UUID_V4);
  assert.deepEqual(app.exports, EVERY_EXPORT_RETURNED);
  assertInstrumented(app);
  assert.deepEqual(
    server.requests.filter((p) => p !== '/favicon.ico').sort(),
    ['/', '/app.js', '/every-export.js', '/pkg/index.js'],
    'the SDK itself requests nothing: no .wasm file to lose',
  );
  assert.deepEqual(page.errors, []);
  assert.deepEqual(usertrailMessages(page, 'warning'), []);
});

test('a server that answers every .wasm (or any unknown path) with an HTML error page changes nothing', async (t) => {
  // A single-page app's server, a CDN or proxy error page: the classic source of a non-wasm body.
  const server = await site(
    { '/': { body: html() }, '/app.js': { body: APP() } },
    { fallback: () => ({ status: 200, type: 'text/html', body: '<!doctype html><h1>502 Bad Gateway</h1>' }) },
  );
  const page = await open(t, server);
  assertInstrumented(await appResult(page));
  assert.deepEqual(page.errors, []);
});

for (const header of [
  ["script-src 'self'", 'a CSP without wasm-unsafe-eval'],
  ["default-src 'self'; script-src 'self'; connect-src *", 'a strict default-src CSP'],
]) {
  test(`${header[1]}: the app runs, every export works, its requests go out untouched, one warning names the fix`, async (t) => {
    const server = await site({
      '/': { body: html(), headers: { 'content-security-policy': header[0] } },
      '/app.js': { body: APP() },
    });
    const page = await open(t, server);
    const app = await appResult(page);
    assert.deepEqual([app.fetch, app.xhr], ['ok', 'ok'], 'the app got its responses');
    assert.deepEqual(app.exports, EVERY_EXPORT_RETURNED);
    assertUntouched();
    const warnings = usertrailMessages(page, 'warning');
    assert.equal(warnings.length, 1, JSON.stringify(page.messages));
    assert.match(warnings[0], /Content-Security-Policy/);
    assert.match(warnings[0], /script-src 'wasm-unsafe-eval'|'wasm-unsafe-eval' to its script-src/);
    assert.deepEqual(page.errors, []);
  });
}

test("a CSP that allows 'wasm-unsafe-eval' runs the SDK", async (t) => {
  const server = await site({
    '/': { body: html(), headers: { 'content-security-policy': "script-src 'self' 'wasm-unsafe-eval'" } },
    '/app.js': { body: APP() },
  });
  const page = await open(t, server);
  assertInstrumented(await appResult(page));
  assert.deepEqual(usertrailMessages(page, 'warning'), []);
});

test('WebAssembly turned off (a browser policy): the app runs, its requests go out untouched, one warning', async (t) => {
  const server = await site({ '/': { body: html() }, '/app.js': { body: APP() } });
  const page = await open(t, server, '/', { init: () => delete globalThis.WebAssembly });
  const app = await appResult(page);
  assert.deepEqual(app.exports, EVERY_EXPORT_RETURNED);
  assertUntouched();
  const warnings = usertrailMessages(page, 'warning');
  assert.equal(warnings.length, 1, JSON.stringify(page.messages));
  assert.match(warnings[0], /WebAssembly is not available/);
});

test('a fetch replaced before the SDK loaded (a stub answering every request) is wrapped, never used to load the SDK', async (t) => {
  const server = await site({ '/': { body: html() }, '/app.js': { body: APP() } });
  const page = await open(t, server, '/', {
    init: () => {
      // A test tool's stub: every request gets the same body, `.wasm` files included.
      window.stubbed = [];
      window.fetch = async (input, init) => {
        const request = new Request(input, init);
        window.stubbed.push({ url: request.url, headers: Object.fromEntries(request.headers) });
        return new Response('stubbed');
      };
    },
  });
  const app = await appResult(page);
  assert.equal(app.fetch, 'stubbed');
  const stubbed = await page.evaluate(() => window.stubbed);
  assert.deepEqual(stubbed.map((s) => new URL(s.url).pathname), ['/fetch'], 'only the app called the stub');
  checkTraceHeaders(assert, stubbed[0].headers);
  assert.equal(stubbed[0].headers.baggage, `session.id=${app.sessionId},user.id=user_123`);
  assert.deepEqual(page.errors, []);
});

test('a module Web Worker imports the SDK and instruments its own fetch (session kept in memory)', async (t) => {
  const server = await site({
    '/': { body: `<!doctype html><script type="module">
      const worker = new Worker('/worker.js' + location.search, { type: 'module' });
      worker.onmessage = (e) => { window.app = e.data; };
      worker.onerror = (e) => { window.app = { error: e.message }; };
    </script>` },
    '/worker.js': { body: `
      import * as sdk from '/pkg/index.js';
      const api = new URLSearchParams(location.search).get('api');
      sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
      sdk.setAccount({ id: 'account_456' });
      fetch(api + '/from-worker').then((r) => r.text()).then((text) => postMessage({ text, sessionId: sdk.getSessionId() }));
    ` },
  });
  const page = await open(t, server);
  const app = await appResult(page);
  assert.equal(app.text, 'ok', JSON.stringify(app));
  assert.match(app.sessionId, UUID_V4);
  const [r] = api.records;
  assert.equal(r.path, '/from-worker');
  checkTraceHeaders(assert, r.headers);
  assert.equal(r.headers.baggage, `session.id=${app.sessionId},account.id=account_456`);
});

test('where only asynchronous compiling is allowed, early requests go out untouched and later ones get the headers', async (t) => {
  // Chromium before 114 refused `new WebAssembly.Module` on the main thread for modules over
  // 4 KB with this RangeError; the SDK then compiles asynchronously.
  const server = await site({
    '/': { body: `<!doctype html><script type="module">
      import * as sdk from '/pkg/index.js';
      const api = new URLSearchParams(location.search).get('api');
      sdk.init({ allowedTracingUrls: [api] });
      const early = await fetch(api + '/early').then((r) => r.text());
      let later;
      for (let i = 0; i < 100 && api; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        later = await fetch(api + '/later-' + i).then((r) => r.text());
        if (later === 'ok' && i > 0) break;
      }
      window.app = { early, later };
    </script>` },
  });
  const page = await open(t, server, '/', {
    init: () => {
      WebAssembly.Module = function () {
        throw new RangeError('WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB.');
      };
    },
  });
  await appResult(page);
  const [early, ...later] = api.records;
  assert.equal(early.path, '/early');
  checkNoUsertrailHeaders(assert, early, '(before the module compiled)');
  const last = later.at(-1);
  assert.ok(last, 'later requests were made');
  checkTraceHeaders(assert, last.headers);
  assert.deepEqual(usertrailMessages(page, 'warning'), [], 'nothing to warn about: the SDK runs');
});

test('a fetch polyfill over XMLHttpRequest, installed before or after the SDK: one set of headers, never joined', async (t) => {
  for (const order of ['polyfill-first', 'sdk-first']) {
    api.clear();
    const server = await site({
      '/': { body: `<!doctype html><script type="module">
        import * as sdk from '/pkg/index.js';
        const api = new URLSearchParams(location.search).get('api');
        const polyfill = () => new Promise((resolve) => {
          delete window.fetch; // whatwg-fetch installs itself only where there is no fetch
          const s = document.createElement('script');
          s.src = '/modules/whatwg-fetch/dist/fetch.umd.js';
          s.onload = resolve;
          document.head.append(s);
        });
        if ('${order}' === 'polyfill-first') await polyfill();
        sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
        if ('${order}' === 'sdk-first') await polyfill();
        sdk.setUser({ id: 'user_123' });
        const text = await fetch(api + '/polyfilled', { headers: { baggage: 'tenant=acme' } }).then((r) => r.text());
        window.app = { text, xhrSends: window.xhrSends, sessionId: sdk.getSessionId() };
      </script>` },
    });
    const page = await open(t, server, '/', {
      init: () => {
        // Counts what reaches the browser's own XHR: the polyfill's fetch goes through it.
        window.xhrSends = 0;
        const send = XMLHttpRequest.prototype.send;
        XMLHttpRequest.prototype.send = function () {
          window.xhrSends++;
          return send.apply(this, arguments);
        };
      },
    });
    const app = await appResult(page);
    assert.equal(app.text, 'ok');
    assert.equal(app.xhrSends, 1, `${order}: the polyfill's fetch went over XMLHttpRequest`);
    const [r] = api.records;
    checkTraceHeaders(assert, r.headers);
    assert.equal(r.headers.baggage, `tenant=acme,session.id=${app.sessionId},user.id=user_123`, order);
    for (let i = 0; i < r.rawHeaders.length; i += 2) {
      const name = r.rawHeaders[i].toLowerCase();
      assert.equal(r.rawHeaders.filter((n, j) => j % 2 === 0 && n.toLowerCase() === name).length, 1, `${order}: ${name} sent once`);
    }
  }
});

test('two copies of the SDK on one page: one set of headers on fetch and XHR, one of each baggage member', async (t) => {
  const server = await site({
    '/': { body: html() },
    '/app.js': { body: `
      import * as first from '/pkg/index.js';
      ${APP('/pkg-copy/index.js').replace("import * as sdk from '/pkg-copy/index.js';", "import * as sdk from '/pkg-copy/index.js';\n      first.init({ allowedTracingUrls: [new URLSearchParams(location.search).get('api')], propagateTraceBaggage: true });\n      first.setUser({ id: 'user_123' });")}
    ` },
  });
  const page = await open(t, server);
  const app = await appResult(page);
  assertInstrumented(app);
  for (const r of api.records) {
    const names = r.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    assert.equal(new Set(names).size, names.length, `${r.path}: no header twice: ${names}`);
    assert.doesNotMatch(r.headers.traceparent, /,/);
  }
});

test('debug: true says, per request, why it got headers or not', async (t) => {
  const server = await site({
    '/': { body: html() },
    '/app.js': { body: `
      import * as sdk from '/pkg/index.js';
      const api = new URLSearchParams(location.search).get('api');
      sdk.init({ allowedTracingUrls: [api + '/traced'], propagateTraceBaggage: false, debug: true });
      await fetch(api + '/traced/a');
      await fetch(api + '/elsewhere');
      await fetch(api + '/traced/b', { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
      window.app = {};
    ` },
  });
  const page = await open(t, server);
  await appResult(page);
  const lines = usertrailMessages(page, 'info');
  assert.equal(lines.length, 3, JSON.stringify(lines));
  assert.match(lines[0], /^usertrail: fetch http:\/\/127\.0\.0\.1:\d+\/traced\/a: added traceparent, tracestate, x-datadog-trace-id/);
  assert.match(lines[1], /\/elsewhere: no headers: no allowedTracingUrls entry matches$/);
  assert.match(lines[2], /\/traced\/b: the app's own traceparent kept, nothing added$/);

  api.clear();
  const csp = await site({
    '/': { body: html(), headers: { 'content-security-policy': "script-src 'self'" } },
    '/app.js': { body: APP() },
  });
  const off = await open(t, csp, '/?debug');
  await appResult(off);
  assertUntouched();
  const offLines = usertrailMessages(off, 'info');
  assert.equal(offLines.length, 2, JSON.stringify(offLines));
  for (const line of offLines) assert.match(line, /no headers: usertrail is off \(this page's Content-Security-Policy/);
});

test('unsampled sessions in debug mode say so', async (t) => {
  const server = await site({
    '/': { body: html() },
    '/app.js': { body: `
      import * as sdk from '/pkg/index.js';
      const api = new URLSearchParams(location.search).get('api');
      sdk.init({ allowedTracingUrls: [api], traceSampleRate: 0, debug: true });
      await fetch(api + '/x');
      window.app = {};
    ` },
  });
  const page = await open(t, server);
  await appResult(page);
  assert.deepEqual(
    usertrailMessages(page, 'info').map((l) => l.replace(/http:\S+/, 'URL')),
    ['usertrail: fetch URL no headers: session not sampled (traceSampleRate 0)'],
  );
});
