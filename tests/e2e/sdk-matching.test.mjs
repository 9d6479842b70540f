// Which requests get usertrail's headers: each kind of `allowedTracingUrls` entry (string prefix
// ending at a URL boundary, RegExp, function, `{ match, propagatorTypes }`), matching on the
// absolute URL, and nothing at all for a URL that no entry matches.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  checkNoUsertrailHeaders,
  checkTraceHeaders,
  startHarness,
  usertrailHeaders,
} from './support/header-recorder.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});
beforeEach(() => h.clear());

/** Which of the recorded requests carried a traceparent, by path, in order. */
const traced = (recorder) => recorder.records.map((r) => [r.path, r.headers.traceparent !== undefined]);

test('a string prefix matches only at a URL boundary: /, ?, # or the end', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [`${api}/api`] });
    for (const path of ['/api', '/api/orders', '/api?x=1', '/api#top', '/apiary', '/api-v2/orders', '/ap', '/other/api']) {
      await send(`${api}${path}`);
    }
  }, { api: h.api.url });
  assert.deepEqual(traced(h.api), [
    ['/api', true],
    ['/api/orders', true],
    ['/api?x=1', true],
    ['/api', true], // '#top' is not sent to the server
    ['/apiary', false],
    ['/api-v2/orders', false],
    ['/ap', false],
    ['/other/api', false],
  ]);
  for (const r of h.api.records) {
    if (r.headers.traceparent) checkTraceHeaders(assert, r.headers);
    else checkNoUsertrailHeaders(assert, r);
  }
});

test('a string prefix without the port matches every port of that host (":" is a boundary)', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ host, api, other }) => {
    sdk.init({ allowedTracingUrls: [`http://${host}`] });
    await send(`${api}/a`);
    await send(`${other}/b`);
  }, { host: h.api.host, api: h.api.url, other: h.other.url });
  checkTraceHeaders(assert, h.api.records[0].headers);
  checkTraceHeaders(assert, h.other.records[0].headers);
});

test('a string prefix does not match a port that merely starts with its digits', async (t) => {
  // 'http://127.0.0.1:4123' must not match 'http://127.0.0.1:41234/...'.
  const page = await h.open(t);
  const truncated = `http://${h.api.host}:${String(h.api.port).slice(0, -1)}`;
  await page.evaluate(async ({ truncated, api }) => {
    sdk.init({ allowedTracingUrls: [truncated] });
    await send(`${api}/a`);
  }, { truncated, api: h.api.url });
  checkNoUsertrailHeaders(assert, h.api.records[0], `(allowed: ${truncated})`);
});

test('a string prefix does not match a host that merely starts with it (127.0.0.1 vs 127.0.0.10)', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ host, lookalike, api }) => {
    sdk.init({ allowedTracingUrls: [`http://${host}`], propagateTraceBaggage: true });
    sdk.setUser({ id: 'user_123' });
    await send(`${lookalike}/steal`);
    await xhr('GET', `${lookalike}/steal-xhr`);
    await send(`${api}/ok`);
  }, { host: h.api.host, lookalike: h.lookalike.url, api: h.api.url });
  assert.equal(h.lookalike.records.length, 2);
  for (const r of h.lookalike.records) checkNoUsertrailHeaders(assert, r, 'on the look-alike host');
  assert.deepEqual(h.lookalike.preflights, [], 'nothing even asked the look-alike host for CORS permission');
  checkTraceHeaders(assert, h.api.records[0].headers);
});

test('a RegExp entry is tested against the absolute URL', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api, port }) => {
    sdk.init({ allowedTracingUrls: [new RegExp(`^http://127\\.0\\.0\\.1:${port}/rx/\\d+$`)] });
    await send(`${api}/rx/42`);
    await send(`${api}/rx/abc`);
    await send(`${api}/rx/42/more`);
    await xhr('GET', `${api}/rx/7`);
  }, { api: h.api.url, port: h.api.port });
  assert.deepEqual(traced(h.api), [
    ['/rx/42', true],
    ['/rx/abc', false],
    ['/rx/42/more', false],
    ['/rx/7', true],
  ]);
});

test('a RegExp with the global flag matches every time (no lastIndex carried over)', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [/\/g\//g] });
    for (let i = 0; i < 4; i++) await send(`${api}/g/${i}`);
  }, { api: h.api.url });
  assert.deepEqual(traced(h.api).map(([, t]) => t), [true, true, true, true]);
});

test('a function entry gets the absolute URL as a string, for every input form', async (t) => {
  const page = await h.open(t);
  const seen = await page.evaluate(async ({ api }) => {
    const seen = [];
    sdk.init({
      allowedTracingUrls: [
        (url) => {
          seen.push([typeof url, String(url)]);
          return String(url).includes('/fn/yes');
        },
      ],
    });
    await send(`${api}/fn/yes?a=1`);
    await send(new URL(`${api}/fn/yes-url`));
    await send(new Request(`${api}/fn/yes-request`));
    await xhr('GET', `${api}/fn/yes-xhr`);
    await send(`${api}/fn/no`);
    return seen;
  }, { api: h.api.url });
  const api = h.api.url;
  for (const u of [`${api}/fn/yes?a=1`, `${api}/fn/yes-url`, `${api}/fn/yes-request`, `${api}/fn/yes-xhr`, `${api}/fn/no`]) {
    assert.ok(
      seen.some(([type, url]) => type === 'string' && url === u),
      `the function saw ${u} as a string; it saw ${JSON.stringify(seen)}`,
    );
  }
  assert.deepEqual(traced(h.api), [
    ['/fn/yes?a=1', true],
    ['/fn/yes-url', true],
    ['/fn/yes-request', true],
    ['/fn/yes-xhr', true],
    ['/fn/no', false],
  ]);
});

test('{ match, propagatorTypes } works with a string, a RegExp and a function as match', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({
      allowedTracingUrls: [
        { match: `${api}/s`, propagatorTypes: ['b3'] },
        { match: /\/r\//, propagatorTypes: ['b3multi'] },
        { match: (url) => url.endsWith('/f/1'), propagatorTypes: ['tracecontext'] },
        { match: `${api}/d` }, // no propagatorTypes: the defaults
      ],
    });
    await send(`${api}/s/1`);
    await send(`${api}/r/1`);
    await send(`${api}/f/1`);
    await send(`${api}/d/1`);
    await send(`${api}/sx`);
  }, { api: h.api.url });
  const [s, r, f, d, sx] = h.api.records;
  checkTraceHeaders(assert, s.headers, { types: ['b3'] });
  checkTraceHeaders(assert, r.headers, { types: ['b3multi'] });
  checkTraceHeaders(assert, f.headers, { types: ['tracecontext'] });
  checkTraceHeaders(assert, d.headers, { types: ['tracecontext', 'datadog'] });
  checkNoUsertrailHeaders(assert, sx, '(string match inside an object also stops at a boundary)');
});

test('relative URLs are matched after resolving them against the document base URL', async (t) => {
  // The page lives on the static server, but its <base> points at the recorder: 'rel/x' goes to
  // the recorder, and that absolute URL is what the entries must see.
  const page = await h.open(t, { query: `?base=${encodeURIComponent(`${h.api.url}/app/`)}` });
  await page.evaluate(async ({ api, site }) => {
    sdk.init({ allowedTracingUrls: [`${api}/app/rel`, `${site}/app/nope`] });
    await send('rel/x');
    await send('/app/rel?y=1');
    await xhr('GET', 'rel/z');
    await send('nope/x'); // resolves to the recorder, not to the page's own origin
  }, { api: h.api.url, site: h.site.url });
  assert.deepEqual(traced(h.api), [
    ['/app/rel/x', true],
    ['/app/rel?y=1', true],
    ['/app/rel/z', true],
    ['/app/nope/x', false],
  ]);
});

test('a URL that no entry matches gets nothing: no trace header, no baggage, no identity, no preflight', async (t) => {
  const page = await h.open(t);
  const sessionId = await page.evaluate(async ({ api, other }) => {
    sdk.init({
      allowedTracingUrls: [{ match: api, propagatorTypes: ['tracecontext', 'datadog', 'b3', 'b3multi'] }],
      propagateTraceBaggage: true,
      traceContextInjection: 'all',
    });
    sdk.setUser({ id: 'user_123', email: 'ada@example.com' });
    sdk.setAccount({ id: 'account_456' });
    await send(`${other}/track?x=1`);
    await send(`${other}/post`, { method: 'POST', body: 'p', headers: { 'content-type': 'text/plain' } });
    await send(new Request(`${other}/request`));
    await xhr('GET', `${other}/xhr`);
    await send(`${api}/allowed`);
    return sdk.getSessionId();
  }, { api: h.api.url, other: h.other.url });
  assert.equal(h.other.records.length, 4);
  for (const r of h.other.records) {
    checkNoUsertrailHeaders(assert, r, 'on the third party');
    const all = JSON.stringify({ path: r.path, headers: r.headers, body: r.body });
    for (const secret of ['user_123', 'account_456', 'ada@example.com', sessionId]) {
      assert.ok(!all.includes(secret), `the third party saw ${secret}: ${all}`);
    }
  }
  assert.deepEqual(h.other.preflights, [], 'simple requests stay simple: no CORS preflight to the third party');
  assert.ok(Object.keys(usertrailHeaders(h.api.records[0])).length > 0, 'the allowed backend did get headers');
});
