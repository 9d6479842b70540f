// The demo end to end: the real `usertrail-demo` binary (shop, checkout, payments, third party,
// span store, explorer API) on free ports with a fresh data folder, driven by a real headless
// Chromium through the shop page, then checked through the explorer's JSON API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium } from './support/browser.mjs';
import { USERTRAIL_HEADERS } from './support/header-recorder.mjs';
import { cargoBinary } from './support/binaries.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const IDENTITY = ['usr.id', 'account.id', 'session.id'];
let demo; // { shop, checkout, payments, third_party }
let child;
let dataDir;
let browser;
let output = '';

/** Starts the demo binary (built first, a no-op when up to date) and waits for its ready line. */
async function startDemo() {
  dataDir = mkdtempSync(join(tmpdir(), 'usertrail-demo-'));
  child = spawn(
    cargoBinary('usertrail-demo'),
    ['--any-ports', '--data-dir', dataDir, '--pkg-dir', join(root, 'dist'), '--exit-with-stdin'],
    // stdin stays open: if this test process dies, the pipe closes and the demo exits.
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' } },
  );
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start in 30 s:\n${output}`)), 30_000);
    child.stdout.on('data', (d) => {
      output += d;
      const line = /^usertrail-demo ready (.*)$/m.exec(output);
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${output}`));
    });
  });
}

before(async () => {
  demo = await startDemo();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function api(path, query = {}) {
  const url = new URL(path, demo.shop);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** Retries `check` (which throws until it holds) for up to `timeout` ms: spans are written in batches. */
async function eventually(check, timeout = 5_000) {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A shop page in a fresh browser context (fresh session), ready to use. */
async function openShop(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (e) => page.pageErrors.push(e));
  await page.goto(`${demo.shop}/`);
  await page.waitForFunction(() => window.demo?.ready === true, null, { timeout: 15_000 });
  return page;
}

/** Signs in as `user`, puts `products` in the cart, pays with `card`; the checkout's outcome. */
async function checkOut(page, user, card, products) {
  await page.click(`#users button[data-user="${user}"]`);
  for (const p of products) await page.click(`[data-add="${p}"]`);
  await page.selectOption('#card', card);
  const before = await page.evaluate(() => window.demo.checkouts);
  await page.click('#checkout');
  await page.waitForFunction((n) => window.demo.checkouts > n, before, { timeout: 15_000 });
  return page.evaluate(() => window.demo.lastCheckout);
}

test('user_123 checks out: both services tag their entry spans with the identity, child spans carry none', async (t) => {
  const page = await openShop(t);
  const outcome = await checkOut(page, 'user_123', 'visa', ['beans', 'mug']);
  assert.equal(outcome.status, 200, JSON.stringify(outcome));
  const sessionId = await page.evaluate(() => document.getElementById('session-id').textContent);
  assert.match(sessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // What the browser sent to checkout (echoed back by the service).
  const [, browserTrace, browserSpan] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[13]$/.exec(outcome.received.traceparent);
  assert.equal(outcome.trace_id, browserTrace, 'checkout continued the browser trace');
  assert.equal(outcome.received.baggage, `session.id=${sessionId},user.id=user_123,account.id=account_456`);

  // The seed query finds the checkout entry span of this trace...
  const found = await eventually(async () => {
    const { status, body } = await api('/api/search', { q: '@usr.id:user_123 service:checkout' });
    assert.equal(status, 200, JSON.stringify(body));
    const span = body.spans.find((s) => s.trace_id === browserTrace);
    assert.ok(span, `no checkout span of trace ${browserTrace} in ${JSON.stringify(body)}`);
    return span;
  });
  assert.equal(found.service, 'checkout');
  assert.equal(found.kind, 'server');
  assert.equal(found.resource, 'POST /api/checkout');
  assert.equal(found.parent_id, browserSpan, 'the entry span is a child of the browser span');

  // ...and its trace holds the payments entry span, with the same identity.
  const spans = await eventually(async () => {
    const { body } = await api(`/api/trace/${browserTrace}`);
    assert.ok(body.spans.some((s) => s.service === 'payments' && s.kind === 'server'), JSON.stringify(body));
    assert.ok(body.spans.length >= 8, `all spans of the trace: ${body.spans.map((s) => s.name)}`);
    return body.spans;
  });
  const entries = spans.filter((s) => s.kind === 'server');
  assert.deepEqual(entries.map((s) => s.service).sort(), ['checkout', 'payments']);
  for (const s of entries) {
    assert.equal(s.tags['usr.id'], 'user_123', `${s.service} usr.id`);
    assert.equal(s.tags['account.id'], 'account_456', `${s.service} account.id`);
    assert.equal(s.tags['session.id'], sessionId, `${s.service} session.id`);
    assert.equal(s.error, false);
  }
  const payments = entries.find((s) => s.service === 'payments');
  assert.equal(payments.tags['usr.role'], 'customer', 'payments added usr.role with set_user');
  const client = spans.find((s) => s.kind === 'client');
  assert.equal(client.service, 'checkout');
  assert.equal(payments.parent_id, client.span_id, 'payments continues the trace from checkout\'s client span');
  assert.equal(client.parent_id, found.span_id);

  const children = spans.filter((s) => s.kind !== 'server');
  assert.deepEqual(
    [...new Set(children.map((s) => s.name))].sort(),
    ['cart.validate', 'fraud.check', 'http.client.request', 'inventory.reserve', 'order.save', 'processor.authorize'],
  );
  for (const s of children) {
    for (const key of Object.keys(s.tags)) {
      assert.ok(!IDENTITY.includes(key) && !key.startsWith('usr.') && !key.startsWith('account.'), `${s.name} has ${key}`);
    }
    assert.ok(!JSON.stringify(s.tags).includes('user_123'), `${s.name}: ${JSON.stringify(s.tags)}`);
  }
  assert.deepEqual(page.pageErrors, []);
});

test('the third party on another origin got no trace header and no identity', async (t) => {
  const page = await openShop(t);
  await page.click('#users button[data-user="user_123"]');
  const sessionId = await page.evaluate(() => document.getElementById('session-id').textContent);
  const checks = await page.evaluate(() => window.demo.thirdPartyChecked);
  await page.click('#reviews-reload');
  await page.waitForFunction((n) => window.demo.thirdPartyChecked > n, checks);
  assert.match(await page.textContent('#third-party-check'), /no traceparent, no baggage/);

  const { body } = await api('/api/third-party');
  const gets = body.requests.filter((r) => r.method === 'GET');
  assert.ok(gets.length >= 2, `the page called the third party: ${JSON.stringify(body.requests.map((r) => r.path))}`);
  assert.equal(body.with_trace_headers, 0);
  for (const r of body.requests) {
    for (const name of USERTRAIL_HEADERS) assert.equal(r.headers[name], undefined, `${r.method} ${r.path} got ${name}`);
    const all = JSON.stringify(r.headers);
    for (const secret of ['user_123', 'account_456', sessionId]) assert.ok(!all.includes(secret), `${r.path} saw ${secret}: ${all}`);
  }
  // It was a real cross-origin call with a session going on.
  assert.ok(gets.every((r) => r.headers.origin === demo.shop), JSON.stringify(gets.map((r) => r.headers.origin)));
});

test('group by usr.id over failing payments lists the premium users who paid with amex, and nobody else', async (t) => {
  const page = await openShop(t);
  const vip1 = await checkOut(page, 'vip_user_1', 'amex', ['grinder']);
  assert.equal(vip1.status, 502, JSON.stringify(vip1));
  assert.match(vip1.error, /declined/);
  await page.click('#clear-cart');
  const vip2 = await checkOut(page, 'vip_user_2', 'amex', ['kettle']);
  assert.equal(vip2.status, 502);
  await page.click('#clear-cart');
  // Controls: amex on a regular account, visa on a premium one.
  assert.equal((await checkOut(page, 'user_456', 'amex', ['scale'])).status, 200);
  await page.click('#clear-cart');
  assert.equal((await checkOut(page, 'vip_user_1', 'visa', ['mug'])).status, 200);

  const groups = await eventually(async () => {
    const { status, body } = await api('/api/groupby', { q: 'service:payments status:error', by: 'usr.id' });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.total, 2, JSON.stringify(body));
    return body.groups;
  });
  assert.deepEqual(
    groups.map((g) => [g.value, g.count, g.errors, g.error_rate]).sort(),
    [['vip_user_1', 1, 1, 1], ['vip_user_2', 1, 1, 1]],
  );
  for (const g of groups) assert.ok(g.p50_ns > 0 && g.p50_ns <= g.p95_ns && g.p95_ns <= g.p99_ns, JSON.stringify(g));

  // Impacted users of the same query, with what only the backend knew (usr.role).
  const { body: impact } = await api('/api/impact', { q: 'service:payments status:error' });
  assert.equal(impact.user_count, 2);
  assert.deepEqual(
    impact.users.map((u) => [u.usr_id, u.account_id, u.role, u.traces]).sort(),
    [['vip_user_1', 'premium_acme', 'vip', 1], ['vip_user_2', 'premium_globex', 'vip', 1]],
  );
  assert.deepEqual(impact.accounts.map((a) => a.account_id).sort(), ['premium_acme', 'premium_globex']);

  // An error in a child span (no identity there) still names its user through the trace.
  const { body: child } = await api('/api/impact', { q: 'name:processor.authorize status:error', entry: '0' });
  assert.deepEqual(child.users.map((u) => u.usr_id).sort(), ['vip_user_1', 'vip_user_2']);

  // Seed query forms.
  const premium = await api('/api/search', { q: '@account.id:premium_* service:payments' });
  assert.equal(premium.body.total, 3, JSON.stringify(premium.body));
  const checkoutErrors = await api('/api/search', { q: '@usr.id:vip_user_1 service:checkout status:error' });
  assert.equal(checkoutErrors.body.total, 1);
  assert.equal(checkoutErrors.body.spans[0].status_code, 502);
});

test('the explorer page shows who was hit, and a query that does not parse says where', async (t) => {
  const bad = await api('/api/search', { q: 'service:payments status:broken' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.position, 24);
  assert.match(bad.body.error.message, /`error` or `ok`/);

  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${demo.shop}/explorer?q=${encodeURIComponent('service:payments status:error')}`);
  await page.waitForFunction(() => window.explorer?.ready === true, null, { timeout: 15_000 });
  const headline = await page.textContent('#impact-headline');
  assert.match(headline, /2 users\s+on\s+2 accounts hit/);
  const users = await page.textContent('#impact-users');
  assert.ok(users.includes('vip_user_1') && users.includes('vip_user_2') && !users.includes('user_123'), users);
  assert.ok(await page.isVisible('#groupby-chart'));
  assert.match(await page.textContent('#endpoints-table'), /POST \/charge/);

  // Click a span: its trace opens as a waterfall over both services.
  await page.click('#spans-table tr[data-trace]');
  await page.waitForSelector('#trace-panel:not([hidden]) .row');
  const rows = await page.$$eval('#waterfall .row', (els) => els.map((e) => e.textContent));
  assert.ok(rows.some((r) => r.includes('checkout')) && rows.some((r) => r.includes('payments')), rows.join('\n'));

  await page.fill('#q', 'status:broken');
  await page.press('#q', 'Enter');
  await page.waitForSelector('.parse-error');
  assert.match(await page.textContent('.parse-error'), /\^ status is `error` or `ok`/);
  assert.deepEqual(errors, []);
});
