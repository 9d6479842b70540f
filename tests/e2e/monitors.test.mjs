// Monitors end to end: the `usertrail-explorer` binary evaluating every second, a monitor
// created on the page in a real headless Chromium, the planted fault (premium accounts
// failing) sent as OTLP/HTTP JSON, and a real webhook server on 127.0.0.1 that hears the
// ALERT and then the recovery; a webhook that fails first is retried and its failure shown;
// the monitors survive a restart of the explorer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

import { launchChromium, openPage } from './support/browser.mjs';
import { cargoBinary } from './support/binaries.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const shots = join(targetDir, 'explorer-screenshots');
const received = []; // { path, body }
let hookUrl;
let hooks;
let flakyFailed = 0;
let dataDir;
let browser;
let explorer; // { url, child, output }

function startExplorer() {
  const child = spawn(
    cargoBinary('usertrail-explorer'),
    ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--monitor-interval', '1s', '--webhook-backoff', '1s'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const run = { child, output: '' };
  child.stderr.on('data', (d) => (run.output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the explorer did not start in 60 s:\n${run.output}`)), 60_000);
    child.stdout.on('data', (d) => {
      run.output += d;
      const line = /^usertrail-explorer ready (.*)$/m.exec(run.output);
      if (line && !run.url) {
        clearTimeout(timer);
        run.url = JSON.parse(line[1]).url;
        resolve(run);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the explorer exited with ${code}:\n${run.output}`));
    });
  });
}

async function stopExplorer() {
  const { child } = explorer;
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

before(async () => {
  hooks = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      // The flaky receiver fails its first request: the explorer retries it.
      if (req.url === '/flaky' && flakyFailed === 0) {
        flakyFailed += 1;
        res.writeHead(500).end('down for a moment');
        return;
      }
      received.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${hooks.address().port}`;
  dataDir = mkdtempSync(join(tmpdir(), 'usertrail-monitors-'));
  explorer = await startExplorer();
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (explorer) await stopExplorer();
  await new Promise((r) => hooks?.close(r));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const hex = (n) => randomBytes(n).toString('hex');

/// Entry spans of checkouts, now: `failing` of premium_acme's fail with a 502, `ok` succeed.
async function sendCheckouts({ failing, ok }) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (fail, i) => ({
    traceId: hex(16),
    spanId: hex(8),
    name: 'POST /api/checkout',
    kind: 2,
    startTimeUnixNano: String(now - BigInt(i) * 1_000_000n),
    endTimeUnixNano: String(now - BigInt(i) * 1_000_000n + 40_000_000n),
    attributes: [
      { key: 'usr.id', value: { stringValue: fail ? 'vip_user_1' : `user_${i}` } },
      { key: 'account.id', value: { stringValue: 'premium_acme' } },
      { key: 'http.request.method', value: { stringValue: 'POST' } },
      { key: 'url.path', value: { stringValue: '/api/checkout' } },
      { key: 'http.response.status_code', value: { intValue: fail ? 502 : 200 } },
    ],
    status: { code: fail ? 2 : 1 },
  });
  const spans = [...Array(failing)].map((_, i) => span(true, i)).concat([...Array(ok)].map((_, i) => span(false, i)));
  const res = await fetch(`${explorer.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] }, scopeSpans: [{ spans }] }],
    }),
  });
  assert.equal(res.status, 200, await res.text());
}

/// Waits until `found()` is truthy, doing `meanwhile()` every second.
async function until(what, found, meanwhile = async () => {}, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const got = await found();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s\n${explorer.output}`);
    await meanwhile();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const hooksAt = (path) => received.filter((r) => r.path === path).map((r) => r.body);

test('a monitor created on the page alerts on the planted fault, then recovers, and survives a restart', async () => {
  const page = await openPage(browser);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.goto(`${explorer.url}/explorer?view=monitors`);
  await page.waitForFunction(() => window.explorer?.ready === true);
  assert.equal(await page.locator('#monitors-view').isVisible(), true);
  await page.locator('#monitors .empty').waitFor();

  // A query that does not parse is pointed at, as in the search box.
  const form = page.locator('#monitor-form');
  await form.locator('[name=name]').fill('premium accounts failing');
  await form.locator('[name=query]').fill('@account.id:premium_* trace(status:error');
  await form.locator('[name=metric]').selectOption('error_rate');
  await form.locator('[name=threshold]').fill('5');
  await form.locator('[name=window]').fill('10s');
  await form.locator('[name=webhook]').fill(`${hookUrl}/hook`);
  await page.click('#monitor-create');
  await page.locator('#monitor-form-error .form-error').waitFor();
  assert.match(await page.locator('#monitor-form-error').textContent(), /\^ .*character 23/s);

  await form.locator('[name=query]').fill('@account.id:premium_*');
  await page.click('#monitor-create');
  await page.locator('#monitors-table tr[data-monitor]').waitFor();
  assert.equal(await page.locator('#monitor-form-error').textContent(), '');
  const row = page.locator('#monitors-table tr[data-monitor]').first();
  assert.match(await row.textContent(), /premium accounts failing.*@account\.id:premium_\*.*error rate > 5 %.*over 10s/s);
  // No spans yet: NO DATA, and nothing is sent for it.
  await row.locator('[data-state="NO DATA"]').waitFor({ timeout: 20_000 });

  // The second monitor, through the API, tells a receiver that fails at first.
  const flaky = await fetch(`${explorer.url}/api/monitors`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'premium SLA (flaky receiver)',
      query: '',
      metric: 'error_rate',
      threshold: 5,
      window: '10s',
      group_by: 'account.id',
      groups: ['premium_acme'],
      webhook: `${hookUrl}/flaky`,
    }),
  });
  assert.equal(flaky.status, 201);
  const flakyId = (await flaky.json()).id;

  // The fault: premium_acme's checkouts fail.
  await sendCheckouts({ failing: 6, ok: 4 });
  const alert = await until('the webhook hears ALERT', () => hooksAt('/hook').find((b) => b.state === 'ALERT'));
  assert.equal(received.find((r) => r.path === '/hook').type, 'application/json');
  assert.equal(alert.monitor, 'premium accounts failing');
  assert.equal(alert.previous_state, 'NO DATA');
  assert.equal(alert.metric, 'error_rate');
  assert.equal(alert.threshold, 5);
  assert.equal(alert.window, '10s');
  assert.ok(alert.value > 50, `${alert.value}`);
  assert.match(alert.evaluated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(alert.link, '/explorer?q=%40account.id%3Apremium_%2A&range=10s');

  // The page shows it at a glance: a red ALERT in the list, the header's count.
  await row.locator('[data-state="ALERT"]').waitFor({ timeout: 10_000 });
  await page.locator('#alert-count:not([hidden])').waitFor();
  await page.screenshot({ path: join(shots, 'monitors.png') });

  // The flaky receiver's ALERT arrived on the retry; the failed attempt is shown.
  const slaAlert = await until('the retried delivery', () => hooksAt('/flaky').find((b) => b.state === 'ALERT'));
  assert.equal(slaAlert.group, 'premium_acme');
  assert.equal(slaAlert.group_by, 'account.id');
  assert.equal(slaAlert.link, '/explorer?q=%40account.id%3Apremium_acme&range=10s');
  const slaRow = page.locator(`#monitors-table tr[data-monitor="${flakyId}"]`);
  await slaRow.locator('.pill.err', { hasText: '1 failed' }).waitFor({ timeout: 10_000 });
  await slaRow.click();
  await page.locator('#monitor-failures').waitFor();
  assert.match(await page.locator('#monitor-failures').textContent(), /premium_acme: (NO DATA|\(new\)) → ALERT.*1.*HTTP 500.*retrying/s);
  assert.match(await page.locator('#monitor-groups').textContent(), /ALERT.*premium_acme/s);

  // Recovery: healthy checkouts while the failing ones leave the 10 s window.
  const ok = await until(
    'the webhook hears the recovery',
    () => hooksAt('/hook').find((b) => b.previous_state === 'ALERT' && b.state === 'OK'),
    () => sendCheckouts({ failing: 0, ok: 5 }),
  );
  assert.equal(ok.value, 0);
  await row.locator('[data-state="OK"]').waitFor({ timeout: 10_000 });
  // One ALERT and one recovery: no notification for the first NO DATA.
  assert.deepEqual(hooksAt('/hook').map((b) => `${b.previous_state} → ${b.state}`), ['NO DATA → ALERT', 'ALERT → OK']);

  // Muted from the page: still evaluated, nothing sent.
  await row.locator('[data-mute]').click();
  await row.locator('.pill', { hasText: 'muted' }).waitFor();
  const before = hooksAt('/hook').length;
  await sendCheckouts({ failing: 20, ok: 0 });
  await until('the muted monitor goes to ALERT', async () => (await (await fetch(`${explorer.url}/api/monitors`)).json()).monitors[0].state === 'ALERT');
  const muted = await (await fetch(`${explorer.url}/api/monitors/${alert.monitor_id}`)).json();
  assert.equal(muted.muted, true);
  assert.equal(muted.history.at(-1).notified, false);
  assert.equal(hooksAt('/hook').length, before);
  assert.deepEqual(page.pageErrors, []);

  // A restart keeps the monitors, their states and their history.
  const listed = (await (await fetch(`${explorer.url}/api/monitors`)).json()).monitors;
  await stopExplorer();
  explorer = await startExplorer();
  const again = (await (await fetch(`${explorer.url}/api/monitors`)).json()).monitors;
  assert.deepEqual(
    again.map((m) => [m.id, m.name, m.muted, m.transition_count >= 3]),
    listed.map((m) => [m.id, m.name, m.muted, true]),
  );
  const page2 = await openPage(browser);
  await page2.goto(`${explorer.url}/explorer?view=monitors&monitor=${alert.monitor_id}`);
  await page2.locator('#monitor-history').waitFor();
  assert.match(await page2.locator('#monitor-history').textContent(), /ALERT.*OK/s);

  // Deleted from the page: gone, and gone after a restart too.
  page2.on('dialog', (d) => d.accept());
  await page2.locator(`#monitors-table tr[data-monitor="${flakyId}"] [data-delete]`).click();
  await page2.waitForFunction(() => document.body.dataset.monitors === '1');
  const gone = await fetch(`${explorer.url}/api/monitors/${flakyId}`);
  assert.equal(gone.status, 404);

  // A group's link opens its spans in the explorer, over the monitor's window.
  await page2.locator('#monitor-groups a', { hasText: 'its spans' }).click();
  await page2.waitForFunction(() => window.explorer?.ready === true && document.body.dataset.shown !== undefined);
  assert.equal(await page2.locator('#explore-view').isVisible(), true);
  assert.equal(await page2.locator('#q').inputValue(), '@account.id:premium_*');
  assert.equal(await page2.locator('#range').inputValue(), '10s');
  assert.match(await page2.locator('#range option:checked').textContent(), /Past 10s/);
  assert.deepEqual(page2.pageErrors, []);
});
