// How usertrail rides on the app's requests: every form of `fetch` input and `init.headers`,
// XMLHttpRequest, responses, errors and aborts passed through unchanged, and fail-open when a
// matcher throws or the input is odd. Real headless Chromium against a real recording server.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';

import { checkNoUsertrailHeaders, checkTraceHeaders, startHarness } from './support/header-recorder.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});
beforeEach(() => h.clear());

/** Opens the fixture and runs `init({ allowedTracingUrls: [api] })` in it. */
async function openInit(t, extra = {}) {
  const page = await h.open(t);
  await page.evaluate(({ api, extra }) => sdk.init({ allowedTracingUrls: [api], ...extra }), { api: h.api.url, extra });
  return page;
}

test('fetch(string)', async (t) => {
  const page = await openInit(t);
  const reply = await page.evaluate(({ api }) => send(`${api}/string?q=1`), { api: h.api.url });
  assert.deepEqual(reply, { status: 200, text: 'ok' });
  const [r] = h.api.records;
  assert.equal(r.method, 'GET');
  assert.equal(r.path, '/string?q=1');
  checkTraceHeaders(assert, r.headers);
});

test('fetch(URL)', async (t) => {
  const page = await openInit(t);
  const reply = await page.evaluate(({ api }) => send(new URL(`${api}/url-object?q=2`)), { api: h.api.url });
  assert.deepEqual(reply, { status: 200, text: 'ok' });
  assert.equal(h.api.records[0].path, '/url-object?q=2');
  checkTraceHeaders(assert, h.api.records[0].headers);
});

test('fetch(Request) keeps its method, its own headers and its body', async (t) => {
  const page = await openInit(t);
  const reply = await page.evaluate(async ({ api }) => {
    const req = new Request(`${api}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-app': 'from-request' },
      body: JSON.stringify({ order: 42, note: 'naïve' }),
    });
    return send(req);
  }, { api: h.api.url });
  assert.deepEqual(reply, { status: 200, text: 'ok' });
  const [r] = h.api.records;
  assert.equal(r.method, 'POST');
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['x-app'], 'from-request');
  assert.equal(r.body, JSON.stringify({ order: 42, note: 'naïve' }));
  checkTraceHeaders(assert, r.headers);
});

test('fetch(Request) with a binary body delivers every byte', async (t) => {
  const page = await openInit(t);
  const bytes = Array.from({ length: 256 }, (_, i) => (i * 37) & 0xff);
  await page.evaluate(async ({ api, bytes }) => {
    await send(new Request(`${api}/binary`, { method: 'PUT', body: new Uint8Array(bytes) }));
    await send(`${api}/blob`, { method: 'POST', body: new Blob([new Uint8Array(bytes)]) });
  }, { api: h.api.url, bytes });
  const [put, blob] = h.api.records;
  assert.equal(put.method, 'PUT');
  assert.deepEqual([...put.bodyBytes], bytes);
  assert.deepEqual([...blob.bodyBytes], bytes);
  checkTraceHeaders(assert, put.headers);
  checkTraceHeaders(assert, blob.headers);
});

test('fetch(url, init) with init.headers as Headers, as an array of pairs, and as a plain object', async (t) => {
  const page = await openInit(t);
  await page.evaluate(async ({ api }) => {
    await send(`${api}/headers`, { method: 'PUT', body: 'h', headers: new Headers({ 'x-app': 'headers' }) });
    await send(`${api}/pairs`, { method: 'POST', body: 'p', headers: [['x-app', 'pairs'], ['x-app-2', 'two']] });
    await send(`${api}/object`, { method: 'PATCH', body: 'o', headers: { 'x-app': 'object', 'content-type': 'text/csv' } });
  }, { api: h.api.url });
  const [a, b, c] = h.api.records;
  assert.deepEqual([a.method, a.body, a.headers['x-app']], ['PUT', 'h', 'headers']);
  assert.deepEqual([b.method, b.body, b.headers['x-app'], b.headers['x-app-2']], ['POST', 'p', 'pairs', 'two']);
  assert.deepEqual([c.method, c.body, c.headers['x-app'], c.headers['content-type']], ['PATCH', 'o', 'object', 'text/csv']);
  for (const r of h.api.records) checkTraceHeaders(assert, r.headers);
});

test('fetch(Request, init): init replaces the Request headers, as the Fetch standard says', async (t) => {
  const page = await openInit(t);
  await page.evaluate(async ({ api }) => {
    const req = new Request(`${api}/override`, { headers: { 'x-from-request': '1' } });
    await send(req, { method: 'POST', body: 'from-init', headers: { 'x-from-init': '2' } });
  }, { api: h.api.url });
  const [r] = h.api.records;
  assert.equal(r.method, 'POST');
  assert.equal(r.body, 'from-init');
  assert.equal(r.headers['x-from-init'], '2');
  assert.equal(r.headers['x-from-request'], undefined, 'init.headers replaced the Request headers');
  checkTraceHeaders(assert, r.headers);
});

test("the app's headers objects and Requests are not modified, so reusing them stays correct", async (t) => {
  const page = await openInit(t);
  const after = await page.evaluate(async ({ api, other }) => {
    const headers = new Headers({ 'x-app': '1' });
    const object = { 'x-app': '1' };
    const pairs = [['x-app', '1']];
    const request = new Request(`${api}/reused-request`);
    for (let i = 0; i < 2; i++) {
      await send(`${api}/reused-headers`, { headers });
      await send(`${api}/reused-object`, { headers: object });
      await send(`${api}/reused-pairs`, { headers: pairs });
      await send(request);
    }
    await send(`${other}/third-party`, { headers });
    await send(`${other}/third-party`, { headers: object });
    return {
      headers: [...headers],
      object,
      pairs,
      request: [...request.headers],
    };
  }, { api: h.api.url, other: h.other.url });
  assert.deepEqual(after, { headers: [['x-app', '1']], object: { 'x-app': '1' }, pairs: [['x-app', '1']], request: [] });
  assert.equal(h.api.records.length, 8);
  const traceIds = h.api.records.map((r) => checkTraceHeaders(assert, r.headers).traceId);
  assert.equal(new Set(traceIds).size, 8, 'a fresh trace id each time, not one left behind in a reused object');
  for (const r of h.other.records) checkNoUsertrailHeaders(assert, r, '(headers object reused for a third party)');
});

test('XMLHttpRequest: app headers kept, body delivered, response reaches the app', async (t) => {
  const page = await openInit(t);
  const replies = await page.evaluate(async ({ api }) => [
    await xhr('GET', `${api}/xhr-get?status=201&reply=created`),
    await xhr('POST', `${api}/xhr-post`, { headers: [['content-type', 'application/json'], ['x-app', 'xhr']], body: '{"a":1}' }),
  ], { api: h.api.url });
  assert.deepEqual(replies, [{ status: 201, text: 'created' }, { status: 200, text: 'ok' }]);
  const [get, post] = h.api.records;
  assert.equal(get.method, 'GET');
  assert.deepEqual([post.method, post.body, post.headers['x-app'], post.headers['content-type']], ['POST', '{"a":1}', 'xhr', 'application/json']);
  checkTraceHeaders(assert, get.headers);
  checkTraceHeaders(assert, post.headers);
});

test('XMLHttpRequest objects reused for a second request get fresh ids', async (t) => {
  const page = await openInit(t);
  await page.evaluate(async ({ api, other }) => {
    const x = new XMLHttpRequest();
    const run = (url) => new Promise((resolve) => {
      x.open('GET', url);
      x.onloadend = resolve;
      x.send();
    });
    await run(`${api}/x1`);
    await run(`${api}/x2`);
    await run(`${other}/x3`);
  }, { api: h.api.url, other: h.other.url });
  const [a, b] = h.api.records;
  assert.notEqual(checkTraceHeaders(assert, a.headers).traceId, checkTraceHeaders(assert, b.headers).traceId);
  checkNoUsertrailHeaders(assert, h.other.records[0], '(XHR reused for a third party)');
});

test('a synchronous XMLHttpRequest is instrumented too', async (t) => {
  const page = await openInit(t);
  const reply = await page.evaluate(({ api }) => {
    const x = new XMLHttpRequest();
    x.open('POST', `${api}/sync`, false);
    x.setRequestHeader('x-app', 'sync');
    x.send('s');
    return { status: x.status, text: x.responseText };
  }, { api: h.api.url });
  assert.deepEqual(reply, { status: 200, text: 'ok' });
  const [r] = h.api.records;
  assert.deepEqual([r.body, r.headers['x-app']], ['s', 'sync']);
  checkTraceHeaders(assert, r.headers);
});

test('the response reaches the app unchanged: status, body, headers, url, type', async (t) => {
  const page = await openInit(t);
  const seen = await page.evaluate(async ({ api }) => {
    const url = `${api}/teapot?status=418&reply=short%20and%20stout`;
    const r = await fetch(url, { method: 'POST', body: 'x' });
    return {
      isResponse: r instanceof Response,
      status: r.status,
      ok: r.ok,
      url: r.url,
      type: r.type,
      header: r.headers.get('x-recorder-reply'),
      text: await r.text(),
      sameUrl: r.url === url,
    };
  }, { api: h.api.url });
  assert.deepEqual(seen, {
    isResponse: true,
    status: 418,
    ok: false,
    url: `${h.api.url}/teapot?status=418&reply=short%20and%20stout`,
    type: 'cors',
    header: 'yes',
    text: 'short and stout',
    sameUrl: true,
  });
  checkTraceHeaders(assert, h.api.records[0].headers);
});

test('a network error reaches the app as the TypeError fetch rejects with, and as an XHR error', async (t) => {
  // A port that nothing listens on.
  const port = await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const dead = `http://127.0.0.1:${port}`;
  const page = await h.open(t);
  const seen = await page.evaluate(async ({ dead }) => {
    sdk.init({ allowedTracingUrls: [dead] });
    const out = {};
    let p;
    try {
      p = fetch(`${dead}/down`);
      out.returnedPromise = p instanceof Promise;
    } catch (e) {
      out.threwSynchronously = String(e);
    }
    try {
      await p;
      out.resolved = true;
    } catch (e) {
      out.rejectedWith = e.constructor.name;
    }
    out.xhr = await xhr('GET', `${dead}/down-xhr`);
    return out;
  }, { dead });
  assert.deepEqual(seen, { returnedPromise: true, rejectedWith: 'TypeError', xhr: { status: 0, text: '' } });
  assert.deepEqual(page.pageErrors, []);
});

test('an abort reaches the app as the AbortError fetch rejects with', async (t) => {
  const page = await openInit(t);
  const seen = await page.evaluate(async ({ api }) => {
    const controller = new AbortController();
    const p = fetch(`${api}/slow?delay=2000`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    try {
      await p;
      return { resolved: true };
    } catch (e) {
      return { name: e.name, isDOMException: e instanceof DOMException };
    }
  }, { api: h.api.url });
  assert.deepEqual(seen, { name: 'AbortError', isDOMException: true });
  await h.api.waitFor(1);
  checkTraceHeaders(assert, h.api.records[0].headers);
});

test('invalid fetch arguments reject with the TypeError fetch itself gives, asynchronously, and send nothing', async (t) => {
  const page = await openInit(t);
  const seen = await page.evaluate(async ({ api }) => {
    const outcome = async (f) => {
      let p;
      try {
        p = f();
      } catch (e) {
        return `threw synchronously: ${e}`;
      }
      if (!(p instanceof Promise)) return 'not a promise';
      try {
        await p;
        return 'resolved';
      } catch (e) {
        return e.constructor.name;
      }
    };
    return [
      await outcome(() => fetch(`${api}/bad`, { headers: [['only-a-name']] })),
      await outcome(() => fetch(`${api}/bad`, { method: 'GET', body: 'a GET with a body' })),
      await outcome(() => fetch('http://[not a url')),
    ];
  }, { api: h.api.url });
  assert.deepEqual(seen, ['TypeError', 'TypeError', 'TypeError']);
  assert.equal(h.api.records.length, 0);
});

test('a request issued synchronously right after init() returns carries the headers (fetch and XHR)', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api] });
    const f = fetch(`${api}/first`);
    const x = xhr('GET', `${api}/first-xhr`);
    await Promise.all([f, x]);
  }, { api: h.api.url });
  await h.api.waitFor(2);
  for (const r of h.api.records) checkTraceHeaders(assert, r.headers);
});

test('a throwing function matcher: the request goes out untouched, the app sees no error, one warning', async (t) => {
  const page = await h.open(t);
  const replies = await page.evaluate(async ({ api }) => {
    sdk.init({
      allowedTracingUrls: [() => { throw new Error('matcher bug'); }],
      propagateTraceBaggage: true,
    });
    sdk.setUser({ id: 'user_123' });
    return [
      await send(`${api}/m1`, { method: 'POST', body: 'one' }),
      await xhr('POST', `${api}/m2`, { body: 'two' }),
      await send(`${api}/m3`, { method: 'POST', body: 'three' }),
    ];
  }, { api: h.api.url });
  assert.deepEqual(replies, [{ status: 200, text: 'ok' }, { status: 200, text: 'ok' }, { status: 200, text: 'ok' }]);
  assert.deepEqual(h.api.records.map((r) => r.body), ['one', 'two', 'three']);
  for (const r of h.api.records) checkNoUsertrailHeaders(assert, r, '(the only matcher threw)');
  assert.deepEqual(page.pageErrors, []);
  assert.equal(page.usertrailWarnings().length, 1, `warned once: ${JSON.stringify(page.consoleMessages)}`);
});

test('a broken Request (its headers getter throws) is still delivered, body intact', async (t) => {
  const page = await openInit(t);
  const reply = await page.evaluate(async ({ api }) => {
    const req = new Request(`${api}/broken`, { method: 'POST', body: 'still here', headers: { 'x-app': '1' } });
    Object.defineProperty(req, 'headers', { get() { throw new Error('broken getter'); } });
    return send(req);
  }, { api: h.api.url });
  assert.deepEqual(reply, { status: 200, text: 'ok' });
  const [r] = h.api.records;
  assert.deepEqual([r.method, r.path, r.body, r.headers['x-app']], ['POST', '/broken', 'still here', '1']);
  assert.deepEqual(page.pageErrors, []);
});

test('an odd fetch input (an object with toString) is delivered like fetch itself delivers it', async (t) => {
  const page = await openInit(t);
  const reply = await page.evaluate(({ api }) => send({ toString: () => `${api}/stringish` }, { method: 'POST', body: 's' }), {
    api: h.api.url,
  });
  assert.deepEqual(reply, { status: 200, text: 'ok' });
  assert.deepEqual([h.api.records[0].path, h.api.records[0].body], ['/stringish', 's']);
  assert.deepEqual(page.pageErrors, []);
});
