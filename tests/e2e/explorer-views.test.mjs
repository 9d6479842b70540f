// The explorer's views in a real headless Chromium: the `usertrail-explorer` binary on a free
// port with a fresh data folder and synthetic spans shaped like the demo shop's (its planted
// faults included), then what a person sees on the page: the time range, one user's activity,
// tag analysis and error groups. Screenshots land in target/explorer-screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium, openPage } from './support/browser.mjs';
import { cargoBinary } from './support/binaries.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const shots = join(targetDir, 'explorer-screenshots');
let url;
let child;
let dataDir;
let browser;
let output = '';

async function startExplorer() {
  dataDir = mkdtempSync(join(tmpdir(), 'usertrail-explorer-'));
  child = spawn(
    cargoBinary('usertrail-explorer'),
    ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--synthetic', '60000'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the explorer did not start in 60 s:\n${output}`)), 60_000);
    child.stdout.on('data', (d) => {
      output += d;
      const line = /^usertrail-explorer ready (.*)$/m.exec(output);
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line[1]).url);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the explorer exited with ${code}:\n${output}`));
    });
  });
}

before(async () => {
  url = await startExplorer();
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  child?.kill();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function open(path) {
  const page = await openPage(browser);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${url}${path}`);
  await page.waitForFunction(() => window.explorer?.ready === true);
  return page;
}

test('the time range is shown, changeable and kept in the URL', async () => {
  const page = await open('/explorer?q=service%3Apayments&range=24h');
  assert.equal(await page.locator('#range').inputValue(), '24h');
  const day = await page.locator('#spans-summary').textContent();
  await page.selectOption('#range', '15m');
  await page.waitForFunction((before) => document.querySelector('#spans-summary').textContent !== before, day);
  assert.match(page.url(), /range=15m/);
  const quarter = await page.locator('#spans-summary').textContent();
  const count = (text) => Number(/^([\d,]+) span/.exec(text)[1].replace(/,/g, ''));
  assert.ok(count(quarter) < count(day) / 20, `${quarter} vs ${day}`);
  // A shared link opens the same view: the same relative range (whose window has moved on
  // by the time it is opened, so its count may differ), and for a from–to range, the same spans.
  const again = await open(new URL(page.url()).pathname + new URL(page.url()).search);
  assert.equal(await again.locator('#range').inputValue(), '15m');
  const now = Date.now();
  const fixed = `/explorer?q=service%3Apayments&from=${now - 3 * 3600e3}&to=${now - 3600e3}`;
  const first = await open(fixed);
  const shared = await open(fixed);
  const spans = await first.locator('#spans-summary').textContent().then(count);
  assert.ok(spans > 0, 'the fixed range has spans');
  assert.equal(await shared.locator('#spans-summary').textContent().then(count), spans);
  assert.deepEqual(page.pageErrors, []);
  await page.screenshot({ path: join(shots, 'time-range.png') });
});

test('a user in the impact table opens their activity', async () => {
  const page = await open('/explorer?q=service%3Apayments%20status%3Aerror&range=24h');
  const first = page.locator('#impact-users a.who').first();
  const user = await first.textContent();
  await first.click();
  await page.locator('#activity-headline').waitFor();
  assert.equal(await page.locator('#activity-who').textContent(), `usr.id:${user}`);
  assert.match(await page.locator('#activity-headline').textContent(), /\d+ requests?.*failed.*session/s);
  const rows = page.locator('#activity-spans tr');
  assert.ok((await rows.count()) > 1);
  assert.match(page.url(), new RegExp(`activity=usr.id%3A${user}`));
  // Their failures are listed: they were picked as hit by a payments error.
  assert.ok((await page.locator('#activity-errors tr').count()) > 1);
  assert.deepEqual(page.pageErrors, []);
  await page.locator('#activity-panel').screenshot({ path: join(shots, 'activity.png') });
});

test('tag analysis puts the premium accounts and their vip users on top for errors', async () => {
  const page = await open('/explorer?q=status%3Aerror&range=24h');
  await page.locator('#analysis-table').waitFor();
  // The vip users (all on premium accounts) stand out, beside the checkout endpoint.
  const top = await page.locator('#analysis-table tr').allTextContents();
  assert.ok(top.slice(1, 3).some((row) => /usr\.role\s*vip/.test(row)), top.join('\n'));
  const accounts = await page.locator('#analysis-table tr', { hasText: 'account.id' }).allTextContents();
  assert.ok(accounts.length > 0);
  for (const row of accounts) assert.match(row, /premium_/);
  assert.deepEqual(page.pageErrors, []);
  await page.locator('#analysis-panel').screenshot({ path: join(shots, 'tag-analysis.png') });
});

test('error groups rank by users hit and open whom a group hit', async () => {
  const page = await open('/explorer?q=&range=24h');
  await page.locator('#errors-table').waitFor();
  const rows = page.locator('#errors-table tr[data-group]');
  assert.ok((await rows.count()) >= 3);
  const users = await page.locator('#errors-table tr[data-group] td:nth-child(5)').allTextContents();
  const n = users.map((u) => Number(u.replace(/,/g, '')));
  assert.deepEqual(n, [...n].sort((a, b) => b - a));
  await page.locator('#errors-panel').screenshot({ path: join(shots, 'error-groups.png') });
  // The declined payments: open it, and the impacted users are premium accounts.
  await page.locator('#errors-table tr', { hasText: 'POST /charge' }).first().click();
  await page.waitForFunction(() => document.body.dataset.shown?.includes('resource:"POST /charge"'));
  await page.locator('#impact-accounts').waitFor();
  const accounts = await page.locator('#impact-accounts tr td:first-child').allTextContents();
  assert.ok(accounts.length > 0);
  for (const a of accounts) assert.match(a, /^premium_/);
  assert.ok((await page.locator('#spans-table tr[data-trace]').count()) > 0);
  assert.deepEqual(page.pageErrors, []);
});
