// The published artifact as a user gets it: `npm pack`, install the tarball into a separate
// app, bundle that app with esbuild, and run the bundle in headless Chromium.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

import { launchChromium, openPage } from './support/browser.mjs';
import { serveStatic } from './support/static-server.mjs';
import { startRecorder } from './support/header-recorder.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
let work;
let app;
let server;
let browser;
let api;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'usertrail-consumer-'));
  execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  app = join(work, 'app');
  cpSync(join(root, 'tests/consumer'), app, { recursive: true, filter: (p) => !p.includes('node_modules') });
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(work, tarball)], {
    cwd: app,
  });
  await build({
    absWorkingDir: app,
    entryPoints: ['src/app.js'],
    bundle: true,
    format: 'esm',
    minify: true,
    outfile: 'out/bundle.js',
    logLevel: 'silent',
  });
  // esbuild leaves `new URL('./usertrail_wasm_bg.wasm', import.meta.url)` alone: the README
  // says to copy the .wasm next to the bundle.
  cpSync(join(app, 'node_modules/usertrail/dist/usertrail_wasm_bg.wasm'), join(app, 'out/usertrail_wasm_bg.wasm'));
  cpSync(join(app, 'index.html'), join(app, 'out/index.html'));
  server = await serveStatic({ '/': join(app, 'out') });
  browser = await launchChromium();
  api = await startRecorder();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await api?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the packed tarball ships only the built package', () => {
  const files = readdirSync(join(app, 'node_modules/usertrail/dist')).sort();
  assert.deepEqual(files, ['index.d.ts', 'index.js', 'patch.js', 'usertrail_wasm.js', 'usertrail_wasm_bg.wasm']);
  assert.ok(!existsSync(join(app, 'node_modules/usertrail/sdk-wasm')), 'no sources in the tarball');
});

test('an esbuild bundle of the installed package injects the headers in Chromium', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/index.html?api=${encodeURIComponent(api.url)}`);
  await page.waitForFunction(() => window.consumerResult !== undefined, null, { timeout: 10_000 });
  const { reply, sessionId, viaObject } = await page.evaluate(() => window.consumerResult);
  assert.equal(reply, 'ok', 'the app gets the response');
  assert.match(sessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(viaObject, sessionId);

  const [record] = await api.waitFor(1);
  assert.equal(record.method, 'POST');
  assert.equal(record.path, '/orders');
  assert.match(record.headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
  assert.equal(record.headers.tracestate, 'dd=s:1;o:rum');
  assert.equal(record.headers.baggage, `session.id=${sessionId},user.id=user_123,account.id=account_456`);
  assert.deepEqual(page.pageErrors, []);
  await page.close();
});
