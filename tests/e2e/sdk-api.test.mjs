// The SDK's JavaScript API as an app uses it: the exports, user and account state (copies,
// conversions, rejected values), init options and their warnings, and the session id across
// reloads, tabs, stopSession(), inactivity and the maximum session length.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { UUID_V4, checkTraceHeaders, startHarness } from './support/header-recorder.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});
beforeEach(() => h.clear());

const API = [
  'init',
  'setUser',
  'getUser',
  'setUserProperty',
  'removeUserProperty',
  'clearUser',
  'setAccount',
  'getAccount',
  'setAccountProperty',
  'removeAccountProperty',
  'clearAccount',
  'getSessionId',
  'stopSession',
];

/** The user.id / account.id / session.id members of a recorded baggage header. */
function identity(record) {
  const out = {};
  for (const m of (record.headers.baggage ?? '').split(',')) {
    const [k, v] = m.split('=');
    if (['session.id', 'user.id', 'account.id'].includes(k)) out[k] = decodeURIComponent(v);
  }
  return out;
}

test('every function is a named export and a member of the usertrail object, sharing one state', async (t) => {
  const page = await h.open(t);
  const shape = await page.evaluate((names) => ({
    named: names.filter((n) => typeof sdk[n] !== 'function'),
    object: names.filter((n) => typeof sdk.usertrail?.[n] !== 'function'),
  }), API);
  assert.deepEqual(shape, { named: [], object: [] }, 'missing functions');
  const shared = await page.evaluate(() => {
    sdk.usertrail.setUser({ id: 'via-object' });
    const a = sdk.getUser().id;
    sdk.setAccount({ id: 'via-named' });
    const b = sdk.usertrail.getAccount().id;
    return { a, b, session: sdk.usertrail.getSessionId() === sdk.getSessionId() };
  });
  assert.deepEqual(shared, { a: 'via-object', b: 'via-named', session: true });
});

test('getUser() and getAccount() return {} when nothing is set, and after clearUser()/clearAccount()', async (t) => {
  const page = await h.open(t);
  const seen = await page.evaluate(() => {
    const before = [sdk.getUser(), sdk.getAccount()];
    sdk.setUser({ id: 'u' });
    sdk.setAccount({ id: 'a' });
    sdk.clearUser();
    sdk.clearAccount();
    return { before, after: [sdk.getUser(), sdk.getAccount()] };
  });
  assert.deepEqual(seen, { before: [{}, {}], after: [{}, {}] });
});

test('getUser() and getAccount() return copies: changing them changes neither the SDK nor the headers', async (t) => {
  const page = await h.open(t);
  const seen = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 'user_123', name: 'Ada', email: 'ada@example.com', plan: 'pro' });
    sdk.setAccount({ id: 'account_456', name: 'Acme', tier: 3 });
    const u = sdk.getUser();
    const a = sdk.getAccount();
    u.id = 'mallory';
    u.name = 'Mallory';
    u.extra = true;
    delete u.email;
    a.id = 'evil';
    a.added = 1;
    await send(`${api}/copies`);
    return { user: sdk.getUser(), account: sdk.getAccount(), distinct: sdk.getUser() !== sdk.getUser() };
  }, { api: h.api.url });
  assert.deepEqual(seen, {
    user: { id: 'user_123', name: 'Ada', email: 'ada@example.com', plan: 'pro' },
    account: { id: 'account_456', name: 'Acme', tier: 3 },
    distinct: true,
  });
  const id = identity(h.api.records[0]);
  assert.deepEqual([id['user.id'], id['account.id']], ['user_123', 'account_456']);
});

test('setUserProperty / removeUserProperty and setAccountProperty / removeAccountProperty', async (t) => {
  const page = await h.open(t);
  const seen = await page.evaluate(() => {
    sdk.setUser({ id: 'u1', name: 'Ada' });
    sdk.setUserProperty('plan', 'pro');
    sdk.setUserProperty('name', 'Ada L.');
    const u1 = sdk.getUser();
    sdk.removeUserProperty('plan');
    const u2 = sdk.getUser();
    sdk.setAccount({ id: 'a1' });
    sdk.setAccountProperty('tier', 'gold');
    const a1 = sdk.getAccount();
    sdk.removeAccountProperty('tier');
    const a2 = sdk.getAccount();
    return { u1, u2, a1, a2 };
  });
  assert.deepEqual(seen, {
    u1: { id: 'u1', name: 'Ada L.', plan: 'pro' },
    u2: { id: 'u1', name: 'Ada L.' },
    a1: { id: 'a1', tier: 'gold' },
    a2: { id: 'a1' },
  });
});

test('setUserProperty("id", …) changes the id that the next request carries', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 'before' });
    sdk.setAccount({ id: 'acc-before' });
    await send(`${api}/1`);
    sdk.setUserProperty('id', 'after');
    sdk.setAccountProperty('id', 'acc-after');
    await send(`${api}/2`);
  }, { api: h.api.url });
  assert.deepEqual(h.api.records.map((r) => [identity(r)['user.id'], identity(r)['account.id']]), [
    ['before', 'acc-before'],
    ['after', 'acc-after'],
  ]);
});

test('a number id is converted to a string, in getUser()/getAccount() and in the baggage', async (t) => {
  const page = await h.open(t);
  const seen = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 42, name: 'Ada' });
    sdk.setAccount({ id: 7 });
    await send(`${api}/n`);
    return { user: sdk.getUser(), account: sdk.getAccount() };
  }, { api: h.api.url });
  assert.deepEqual(seen, { user: { id: '42', name: 'Ada' }, account: { id: '7' } });
  const id = identity(h.api.records[0]);
  assert.deepEqual([id['user.id'], id['account.id']], ['42', '7']);
  assert.deepEqual(page.usertrailWarnings(), []);
});

test('an id that is neither string nor number is rejected with a warning and the previous value is kept', async (t) => {
  const page = await h.open(t);
  const seen = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 'good-user', name: 'Ada' });
    sdk.setAccount({ id: 'good-account' });
    sdk.setUser({ id: { nested: 'object' }, name: 'Mallory' });
    sdk.setAccount({ id: ['an', 'array'] });
    await send(`${api}/kept`);
    return { user: sdk.getUser(), account: sdk.getAccount() };
  }, { api: h.api.url });
  assert.deepEqual(seen, { user: { id: 'good-user', name: 'Ada' }, account: { id: 'good-account' } });
  const id = identity(h.api.records[0]);
  assert.deepEqual([id['user.id'], id['account.id']], ['good-user', 'good-account']);
  assert.equal(page.usertrailWarnings().length, 2, `one warning per rejected call: ${JSON.stringify(page.consoleMessages)}`);
});

test('no export throws, whatever it is given; the SDK keeps working afterwards', async (t) => {
  const page = await h.open(t);
  const thrown = await page.evaluate(async ({ api }) => {
    const thrown = [];
    const bad = [undefined, null, 0, 'str', true, Symbol('s'), [], () => {}, { id: Symbol('x') }, { id: null },
      Object.create(null), new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } })];
    const call = (name, ...args) => {
      try {
        sdk[name](...args);
      } catch (e) {
        thrown.push(`${name}: ${e}`);
      }
    };
    for (const v of bad) {
      for (const name of ['setUser', 'setAccount']) call(name, v);
      for (const name of ['setUserProperty', 'setAccountProperty']) {
        call(name, v, v);
        call(name, 'k', v);
      }
      for (const name of ['removeUserProperty', 'removeAccountProperty']) call(name, v);
    }
    for (const name of ['getUser', 'getAccount', 'clearUser', 'clearAccount', 'getSessionId', 'stopSession']) {
      call(name, ...bad);
    }
    // init with odd options comes last: the first init wins, so give it a usable one.
    call('init', {
      allowedTracingUrls: [api, null, 42, {}, { match: 42 }, { match: api, propagatorTypes: 'b3' }],
      traceSampleRate: 'lots',
      sessionPersistence: 'cookie-jar',
      service: 12,
    });
    call('init', null);
    call('init', 'str');
    call('init');
    await send(`${api}/still-works`);
    return thrown;
  }, { api: h.api.url });
  assert.deepEqual(thrown, []);
  assert.deepEqual(page.pageErrors, []);
  assert.equal(h.api.records.length, 1);
  assert.ok(h.api.records[0].headers.traceparent, 'the SDK still instruments requests');
  assert.match(await page.evaluate(() => sdk.getSessionId()), UUID_V4);
});

test('unknown and ill-typed init options warn once each; Datadog-only options are accepted silently', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api }) => {
    sdk.init({
      // Datadog-only: silent.
      applicationId: '00000000-0000-0000-0000-000000000000',
      clientToken: 'pub0000000000000000000000000000000',
      site: 'datadoghq.eu',
      sessionSampleRate: 100,
      sessionReplaySampleRate: 0,
      trackResources: true,
      trackLongTasks: true,
      trackUserInteractions: true,
      defaultPrivacyLevel: 'mask-user-input',
      // usertrail's own, well typed: silent.
      allowedTracingUrls: [api],
      service: 'shop-web',
      env: 'test',
      version: '1.2.3',
      // unknown, then ill-typed: one warning each.
      tracingUrls: [api],
      traceSampleRate: 'all of them',
      propagateTraceBaggage: 'yes',
    });
    await send(`${api}/w`);
  }, { api: h.api.url });
  const warnings = page.usertrailWarnings();
  assert.equal(warnings.length, 3, `three warnings, got ${JSON.stringify(page.consoleMessages)}`);
  for (const option of ['tracingUrls', 'traceSampleRate', 'propagateTraceBaggage']) {
    assert.equal(warnings.filter((w) => w.includes(option)).length, 1, `one warning naming ${option}: ${JSON.stringify(warnings)}`);
  }
  // The ill-typed values fell back to the defaults: sampled at 100 %, no baggage.
  checkTraceHeaders(assert, h.api.records[0].headers, { sampled: true });
  assert.equal(h.api.records[0].headers.baggage, undefined);
});

test('a second init() warns and keeps the first configuration', async (t) => {
  const page = await h.open(t);
  await page.evaluate(async ({ api, other }) => {
    sdk.init({ allowedTracingUrls: [api] });
    sdk.init({ allowedTracingUrls: [other], propagateTraceBaggage: true });
    await send(`${api}/first`);
    await send(`${other}/second`);
  }, { api: h.api.url, other: h.other.url });
  const warnings = page.usertrailWarnings();
  assert.equal(warnings.length, 1, `one warning, got ${JSON.stringify(page.consoleMessages)}`);
  checkTraceHeaders(assert, h.api.records[0].headers);
  assert.equal(h.api.records[0].headers.baggage, undefined, 'the second init did not turn baggage on');
  assert.equal(h.other.records[0].headers.traceparent, undefined, 'the second init did not add its URL');
});

test('the session id is a UUID v4, the same across reloads and tabs of one origin, and in the baggage', async (t) => {
  const context = await h.browser.newContext();
  t.after(() => context.close());
  const page = await h.open(t, { context });
  const run = (p) => p.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    await send(`${api}/s`);
    return sdk.getSessionId();
  }, { api: h.api.url });
  const first = await run(page);
  assert.match(first, UUID_V4);
  await h.load(page);
  const reloaded = await run(page);
  const tab = await h.open(t, { context });
  const inTab = await run(tab);
  assert.deepEqual([reloaded, inTab], [first, first]);
  assert.deepEqual(h.api.records.map((r) => identity(r)['session.id']), [first, first, first]);
  // Another browser profile (context) is another session.
  const stranger = await h.open(t);
  assert.notEqual(await run(stranger), first);
});

test('stopSession() ends the session: the next request and getSessionId() have a new id', async (t) => {
  const context = await h.browser.newContext();
  t.after(() => context.close());
  const page = await h.open(t, { context });
  const ids = await page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    sdk.setUser({ id: 'user_123' });
    const before = sdk.getSessionId();
    await send(`${api}/before`);
    sdk.stopSession();
    await send(`${api}/after`);
    return { before, after: sdk.getSessionId() };
  }, { api: h.api.url });
  assert.match(ids.after, UUID_V4);
  assert.notEqual(ids.after, ids.before);
  const [a, b] = h.api.records.map(identity);
  assert.equal(a['session.id'], ids.before);
  assert.equal(b['session.id'], ids.after);
  // The new session is the one the origin shares: a reload keeps it.
  await h.load(page);
  assert.equal(await page.evaluate(() => sdk.getSessionId()), ids.after);
});

test("sessionPersistence 'memory' keeps the session to the page: a reload starts a new one", async (t) => {
  const context = await h.browser.newContext();
  t.after(() => context.close());
  const page = await h.open(t, { context });
  const run = () => page.evaluate(async ({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true, sessionPersistence: 'memory' });
    await send(`${api}/m`);
    return sdk.getSessionId();
  }, { api: h.api.url });
  const first = await run();
  await h.load(page);
  const second = await run();
  assert.match(first, UUID_V4);
  assert.match(second, UUID_V4);
  assert.notEqual(second, first);
  assert.deepEqual(h.api.records.map((r) => identity(r)['session.id']), [first, second]);
  assert.deepEqual(page.usertrailWarnings(), []);
});

test('a session is renewed after 15 minutes without activity', async (t) => {
  const page = await h.open(t, { beforeLoad: (p) => p.clock.install() });
  const request = (path) => page.evaluate(async ({ url }) => {
    await send(url);
    return sdk.getSessionId();
  }, { url: `${h.api.url}${path}` });
  await page.evaluate(({ api }) => sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true }), { api: h.api.url });
  const first = await request('/1');
  await page.clock.fastForward('14:00');
  await request('/2');
  await page.clock.fastForward('16:00');
  const third = await request('/3');
  const ids = h.api.records.map((r) => identity(r)['session.id']);
  assert.match(first, UUID_V4);
  assert.deepEqual(ids.slice(0, 2), [first, first], 'a request 14 minutes after the last one keeps the session');
  assert.notEqual(ids[2], first, 'a request 16 minutes after the last activity starts a new session');
  assert.match(ids[2], UUID_V4);
  assert.equal(third, ids[2], 'getSessionId() agrees with the header');
});

test('a session is renewed after 4 hours even when active all along', async (t) => {
  const page = await h.open(t, { beforeLoad: (p) => p.clock.install() });
  const first = await page.evaluate(({ api }) => {
    sdk.init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    return sdk.getSessionId();
  }, { api: h.api.url });
  // Activity every 10 minutes, as user input and as requests, for 4 h 10 min.
  for (let minute = 10; minute <= 250; minute += 10) {
    await page.clock.fastForward('10:00');
    await page.mouse.move(10 + (minute % 50), 10);
    await page.mouse.click(10, 10);
    await page.keyboard.press('Shift');
    await page.evaluate(({ url }) => send(url), { url: `${h.api.url}/active/${minute}` });
  }
  const ids = h.api.records.map((r) => identity(r)['session.id']);
  assert.equal(ids.length, 25);
  // Requests at 10..230 min lie inside the first 4 hours, the one at 250 min beyond them.
  assert.deepEqual(new Set(ids.slice(0, 23)), new Set([first]), 'activity every 10 minutes keeps the session for 3 h 50 min');
  assert.notEqual(ids[24], first, 'a new session 4 h 10 min after the start, despite constant activity');
  assert.match(ids[24], UUID_V4);
});
