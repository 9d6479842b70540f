// What usertrail puts on the wire: each propagator's exact header format, the same ids in every
// header, sampling and injection modes, the baggage with session, user and account, and merging
// with headers the app set itself. Real headless Chromium, real cross-origin requests to a real
// HTTP server that records what arrived.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ALL_PROPAGATORS,
  UUID_V4,
  baggageMembers,
  checkNoUsertrailHeaders,
  checkTraceHeaders,
  startHarness,
} from './support/header-recorder.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});
beforeEach(() => h.clear());

test('default propagators: traceparent, tracestate and the five x-datadog-* headers, with the same ids', async (t) => {
  const page = await h.open(t);
  const reply = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api] });
    return send(`${api}/orders?page=1`);
  }, { api: h.api.url });
  assert.deepEqual(reply, { status: 200, text: 'ok' });
  const [r] = h.api.records;
  assert.equal(r.path, '/orders?page=1');
  checkTraceHeaders(assert, r.headers, { types: ['tracecontext', 'datadog'], sampled: true });
  assert.equal(r.headers.baggage, undefined, 'propagateTraceBaggage is off by default');
  assert.deepEqual(page.pageErrors, []);
});

test('baggage stays off by default even with a user and an account set', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api] });
    sdk.setUser({ id: 'user_123' });
    sdk.setAccount({ id: 'account_456' });
    await send(`${api}/a`);
  }, { api: h.api.url });
  const [r] = h.api.records;
  checkTraceHeaders(assert, r.headers);
  assert.equal(r.headers.baggage, undefined);
});

test('every request gets a fresh trace id and span id', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [{ match: api, propagatorTypes: ['tracecontext', 'datadog', 'b3', 'b3multi'] }] });
    for (let i = 0; i < 5; i++) await send(`${api}/r${i}`);
    await xhr('GET', `${api}/x`);
  }, { api: h.api.url });
  assert.equal(h.api.records.length, 6);
  const ids = h.api.records.map((r) => checkTraceHeaders(assert, r.headers, { types: ALL_PROPAGATORS }));
  assert.equal(new Set(ids.map((i) => i.traceId)).size, 6, 'six distinct trace ids');
  assert.equal(new Set(ids.map((i) => i.spanId)).size, 6, 'six distinct span ids');
});

test('all four propagators at once carry one trace id and one span id', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [{ match: api, propagatorTypes: ['tracecontext', 'datadog', 'b3', 'b3multi'] }] });
    await send(`${api}/all`, { method: 'POST', body: 'x' });
  }, { api: h.api.url });
  const [r] = h.api.records;
  const { traceId, spanId } = checkTraceHeaders(assert, r.headers, { types: ALL_PROPAGATORS });
  // Spelled out once more, independently of the helper.
  assert.equal(r.headers.traceparent, `00-${traceId}-${spanId}-03`);
  assert.equal(r.headers.b3, `${traceId}-${spanId}-1`);
  assert.equal(r.headers['x-b3-traceid'], traceId);
  assert.equal(r.headers['x-b3-spanid'], spanId);
  assert.equal(r.headers['x-datadog-trace-id'], BigInt(`0x${traceId.slice(16)}`).toString());
  assert.equal(r.headers['x-datadog-parent-id'], BigInt(`0x${spanId}`).toString());
  assert.equal(r.headers['x-datadog-tags'], `_dd.p.tid=${traceId.slice(0, 16)}`);
});

for (const type of ALL_PROPAGATORS) {
  test(`propagatorTypes ['${type}'] sends only the ${type} headers`, async (t) => {
    const page = await h.open(t);
    await page.evaluate(async ({ api, type }) => {
      sdk.init({ allowedTracingUrls: [{ match: api, propagatorTypes: [type] }] });
      await send(`${api}/only`);
    }, { api: h.api.url, type });
    checkTraceHeaders(assert, h.api.records[0].headers, { types: [type] });
    assert.deepEqual(page.usertrailWarnings(), []);
  });
}

test('an unknown propagator name is dropped with a warning; the known ones still work', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [{ match: api, propagatorTypes: ['jaeger', 'b3'] }] });
    await send(`${api}/p`);
  }, { api: h.api.url });
  checkTraceHeaders(assert, h.api.records[0].headers, { types: ['b3'] });
  const warnings = page.usertrailWarnings();
  assert.equal(warnings.length, 1, `one warning, got ${JSON.stringify(page.consoleMessages)}`);
  assert.match(warnings[0], /jaeger/);
});

test("traceSampleRate 100 with traceContextInjection 'all' sends sampled headers", async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({
      allowedTracingUrls: [{ match: api, propagatorTypes: ['tracecontext', 'datadog', 'b3', 'b3multi'] }],
      traceSampleRate: 100,
      traceContextInjection: 'all',
    });
    await send(`${api}/s`);
  }, { api: h.api.url });
  checkTraceHeaders(assert, h.api.records[0].headers, { types: ALL_PROPAGATORS, sampled: true });
});

test("traceSampleRate 0 with the default injection ('sampled') sends no header at all, baggage included", async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({
      allowedTracingUrls: [{ match: api, propagatorTypes: ['tracecontext', 'datadog', 'b3', 'b3multi'] }],
      traceSampleRate: 0,
      propagateTraceBaggage: true,
    });
    sdk.setUser({ id: 'user_123' });
    await send(`${api}/unsampled`);
    await xhr('GET', `${api}/unsampled-xhr`);
  }, { api: h.api.url });
  assert.equal(h.api.records.length, 2);
  for (const r of h.api.records) checkNoUsertrailHeaders(assert, r, 'for an unsampled session');
});

test("traceSampleRate 0 with traceContextInjection 'all' sends unsampled headers and the baggage", async (t) => {
  const page = await h.open(t);
  const sessionId = await page.evaluate(async ({ api }) => {
    sdk.init({
      allowedTracingUrls: [{ match: api, propagatorTypes: ['tracecontext', 'datadog', 'b3', 'b3multi'] }],
      traceSampleRate: 0,
      traceContextInjection: 'all',
      propagateTraceBaggage: true,
    });
    sdk.setUser({ id: 'user_123' });
    await send(`${api}/all-unsampled`);
    return sdk.getSessionId();
  }, { api: h.api.url });
  const [r] = h.api.records;
  const { traceId, spanId } = checkTraceHeaders(assert, r.headers, { types: ALL_PROPAGATORS, sampled: false });
  assert.equal(r.headers.traceparent, `00-${traceId}-${spanId}-02`);
  assert.equal(r.headers.b3, `${traceId}-${spanId}-0`);
  assert.equal(r.headers.baggage, `session.id=${sessionId},user.id=user_123`);
});

test('the sampling decision is made once per session, not per request', async (t) => {
  // At 50 %, a per-request decision would give twelve equal outcomes with probability 1/2048.
  const context = await h.browser.newContext();
  t.after(() => context.close());
  const page = await h.open(t, { context });
  for (let load = 0; load < 3; load++) {
    if (load > 0) await h.load(page);
    await page.evaluate(async ({ api }) => {
      sdk.init({ allowedTracingUrls: [api], traceSampleRate: 50, traceContextInjection: 'all' });
      for (let i = 0; i < 4; i++) await send(`${api}/s${i}`);
    }, { api: h.api.url });
  }
  const priorities = h.api.records.map((r) => r.headers['x-datadog-sampling-priority']);
  assert.equal(priorities.length, 12);
  assert.ok(priorities[0] === '0' || priorities[0] === '1', `priority 0 or 1, got ${priorities[0]}`);
  assert.deepEqual(new Set(priorities), new Set([priorities[0]]), `one decision for the session: ${priorities}`);
  const sampled = priorities[0] === '1';
  for (const r of h.api.records) checkTraceHeaders(assert, r.headers, { sampled });
});

test('baggage with no user or account carries only session.id, the id getSessionId() returns', async (t) => {
  const page = await h.open(t);
  const sessionId = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    await send(`${api}/b`);
    return sdk.getSessionId();
  }, { api: h.api.url });
  assert.match(sessionId, UUID_V4);
  assert.equal(h.api.records[0].headers.baggage, `session.id=${sessionId}`);
  checkTraceHeaders(assert, h.api.records[0].headers);
});

test('baggage follows the user and the account as they are set, changed and cleared', async (t) => {
  const page = await h.open(t);
  const sessionId = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 'user_123', name: 'Ada', email: 'ada@example.com' });
    sdk.setAccount({ id: 'account_456', name: 'Acme' });
    await send(`${api}/1`);
    sdk.setUser({ id: 'user_789' });
    await xhr('GET', `${api}/2`);
    sdk.clearUser();
    await send(`${api}/3`);
    sdk.setAccount({ id: 'account_999' });
    await send(`${api}/4`);
    sdk.clearAccount();
    await xhr('POST', `${api}/5`, { body: 'x' });
    sdk.setUser({ id: 'user_again' });
    await send(`${api}/6`);
    return sdk.getSessionId();
  }, { api: h.api.url });
  const s = `session.id=${sessionId}`;
  assert.deepEqual(
    h.api.records.map((r) => [r.path, r.headers.baggage]),
    [
      ['/1', `${s},user.id=user_123,account.id=account_456`],
      ['/2', `${s},user.id=user_789,account.id=account_456`],
      ['/3', `${s},account.id=account_456`],
      ['/4', `${s},account.id=account_999`],
      ['/5', s],
      ['/6', `${s},user.id=user_again`],
    ],
  );
  for (const r of h.api.records) checkTraceHeaders(assert, r.headers);
});

test('baggage values are percent-encoded: space, comma, percent, semicolon and non-ASCII', async (t) => {
  const page = await h.open(t);
  const sessionId = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 'Ada Lovelace, 100%; ü' });
    sdk.setAccount({ id: 'Ünïcode GmbH' });
    await send(`${api}/enc`);
    return sdk.getSessionId();
  }, { api: h.api.url });
  assert.equal(
    h.api.records[0].headers.baggage,
    `session.id=${sessionId},user.id=Ada%20Lovelace%2C%20100%25%3B%20%C3%BC,account.id=%C3%9Cn%C3%AFcode%20GmbH`,
  );
});

test('any id survives the baggage round trip: only baggage-octets on the wire, decoding gives it back', async (t) => {
  const page = await h.open(t);
  const ids = ['a=b/c:d?e', 'quote"back\\slash', 'tab\there', 'emoji 😀 €', '%41 is not A', '  padded  '];
  await page.evaluate(async ({ api, ids }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    for (const id of ids) {
      sdk.setUser({ id });
      await send(`${api}/rt`);
    }
  }, { api: h.api.url, ids });
  assert.equal(h.api.records.length, ids.length);
  h.api.records.forEach((r, i) => {
    const members = baggageMembers(r.headers.baggage);
    const user = members.filter(([k]) => k === 'user.id');
    assert.equal(user.length, 1, `one user.id member in ${r.headers.baggage}`);
    // baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E, and '%' only as an escape.
    assert.match(user[0][1], /^(?:[\x21\x23-\x24\x26-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]|%[0-9A-Fa-f]{2})*$/, `value ${user[0][1]}`);
    assert.equal(decodeURIComponent(user[0][1]), ids[i]);
  });
});

test('an app baggage header on fetch is merged into one header: app members first, the app wins on a key', async (t) => {
  const page = await h.open(t);
  const sessionId = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 'user_123' });
    sdk.setAccount({ id: 'account_456' });
    await send(`${api}/obj`, { headers: { baggage: 'tenant=acme,user.id=app-user' } });
    await send(`${api}/headers`, { headers: new Headers([['baggage', 'tenant=acme']]) });
    await send(`${api}/pairs`, { headers: [['baggage', 'account.id=app-account']] });
    await send(new Request(`${api}/request`, { headers: { baggage: 'tenant=acme' } }));
    return sdk.getSessionId();
  }, { api: h.api.url });
  const s = `session.id=${sessionId}`;
  assert.deepEqual(
    h.api.records.map((r) => [r.path, r.headers.baggage]),
    [
      ['/obj', `tenant=acme,user.id=app-user,${s},account.id=account_456`],
      ['/headers', `tenant=acme,${s},user.id=user_123,account.id=account_456`],
      ['/pairs', `account.id=app-account,${s},user.id=user_123`],
      ['/request', `tenant=acme,${s},user.id=user_123,account.id=account_456`],
    ],
  );
  for (const r of h.api.records) checkTraceHeaders(assert, r.headers);
});

test('an app baggage header set with XMLHttpRequest.setRequestHeader is merged, never duplicated', async (t) => {
  const page = await h.open(t);
  const sessionId = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 'user_123' });
    sdk.setAccount({ id: 'account_456' });
    await xhr('POST', `${api}/xhr`, { headers: [['baggage', 'tenant=acme,user.id=app-user']], body: 'b' });
    await xhr('GET', `${api}/xhr2`, { headers: [['x-app', '1'], ['baggage', 'tenant=acme']] });
    return sdk.getSessionId();
  }, { api: h.api.url });
  const s = `session.id=${sessionId}`;
  const [a, b] = h.api.records;
  assert.equal(a.headers.baggage, `tenant=acme,user.id=app-user,${s},account.id=account_456`);
  assert.equal(a.body, 'b');
  assert.equal(b.headers.baggage, `tenant=acme,${s},user.id=user_123,account.id=account_456`);
  assert.equal(b.headers['x-app'], '1');
  for (const r of h.api.records) checkTraceHeaders(assert, r.headers);
});

test('an unsampled request leaves the app baggage header exactly as the app wrote it', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true, traceSampleRate: 0 });
    sdk.setUser({ id: 'user_123' });
    await send(`${api}/f`, { headers: { baggage: 'tenant=acme' } });
    await xhr('GET', `${api}/x`, { headers: [['baggage', 'tenant=acme']] });
  }, { api: h.api.url });
  for (const r of h.api.records) {
    assert.equal(r.headers.baggage, 'tenant=acme', `${r.path}`);
    assert.equal(r.headers.traceparent, undefined);
    assert.equal(r.headers['x-datadog-trace-id'], undefined);
  }
});

test('an app traceparent on fetch: no usertrail trace header, no duplicate, baggage still merged', async (t) => {
  const page = await h.open(t);
  const appTraceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const sessionId = await page.evaluate(async ({ api, tp }) => {
    sdk.init({
      allowedTracingUrls: [{ match: api, propagatorTypes: ['tracecontext', 'datadog', 'b3', 'b3multi'] }],
      propagateTraceBaggage: true,
    });
    sdk.setUser({ id: 'user_123' });
    await send(`${api}/obj`, { headers: { traceparent: tp } });
    await send(`${api}/headers`, { headers: new Headers({ traceparent: tp, baggage: 'tenant=acme' }) });
    await send(new Request(`${api}/request`, { method: 'POST', body: 'b', headers: { traceparent: tp } }));
    return sdk.getSessionId();
  }, { api: h.api.url, tp: appTraceparent });
  const s = `session.id=${sessionId}`;
  assert.equal(h.api.records.length, 3);
  for (const r of h.api.records) {
    assert.equal(r.headers.traceparent, appTraceparent, `${r.path}: the app's traceparent, alone`);
    for (const name of ['tracestate', 'x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority',
      'x-datadog-origin', 'x-datadog-tags', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled']) {
      assert.equal(r.headers[name], undefined, `${r.path}: no ${name} next to the app's traceparent`);
    }
  }
  assert.deepEqual(
    h.api.records.map((r) => r.headers.baggage),
    [`${s},user.id=user_123`, `tenant=acme,${s},user.id=user_123`, `${s},user.id=user_123`],
  );
  assert.equal(h.api.records[2].body, 'b');
});

test('an app traceparent on XMLHttpRequest: no usertrail trace header, no duplicate, baggage still merged', async (t) => {
  const page = await h.open(t);
  const appTraceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const sessionId = await page.evaluate(async ({ api, tp }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setAccount({ id: 'account_456' });
    await xhr('GET', `${api}/xhr`, { headers: [['traceparent', tp]] });
    return sdk.getSessionId();
  }, { api: h.api.url, tp: appTraceparent });
  const [r] = h.api.records;
  assert.equal(r.headers.traceparent, appTraceparent);
  assert.equal(r.headers.tracestate, undefined);
  assert.equal(r.headers['x-datadog-trace-id'], undefined);
  assert.equal(r.headers['x-datadog-parent-id'], undefined);
  assert.equal(r.headers.baggage, `session.id=${sessionId},account.id=account_456`);
});
